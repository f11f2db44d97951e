//! The chunked scheduler's iteration cost derived from a model's shape and
//! a GPU's data sheet, as a roofline (`hardware:` / `model:` mode, see
//! `docs/llm-serving.md`), so that a new GPU or model needs no profiling.
//!
//! Per GPU of a tensor-parallel group of `tp` (weights, KV heads and FLOPs
//! split `tp` ways):
//!
//! ```text
//!   memory  = (params - vocab * hidden) * dtype bytes / (bandwidth * memory_eff)
//!           + D * KV bytes per token / (bandwidth * memory_eff)
//!   compute = T * 2 * (active params - 2 vocab * hidden) / (peak FLOP/s * compute_eff)
//!           + S * 2 * vocab * hidden / (peak FLOP/s * compute_eff)
//!           + P * 2 * 2 * heads * head_dim * layers / 2 / (peak FLOP/s * compute_eff)
//!   comm    = T * 2 * layers * 2 (tp - 1) / tp * hidden * dtype bytes / link bandwidth
//!   t       = floor + max(memory, compute) + comm
//!             (+ 2 layers * 2 (tp - 1) * link latency in the floor)
//! ```
//!
//! The input embedding (`vocab x hidden`) is a row lookup: no FLOPs, and
//! only the batch's rows are read, so it is left out of the streamed
//! weights. The LM head (another `vocab x hidden`, untied in every shipped
//! model) runs once per sequence of the batch (`S`: vLLM computes logits
//! at each sequence's last scheduled position), not per token. Each ring
//! all-reduce is `2 (tp - 1)` steps (reduce-scatter, all-gather), each
//! paying the link latency.
//!
//! `T` tokens in the iteration, `D` the decode sequences' summed context,
//! `P` the prefill chunks' (query, key) pairs, counted per chunk as
//! `chunk * (cached + chunk)`: each new token against every key up to the
//! chunk's end. Causal masking removes only the `chunk^2` part's upper
//! triangle (`chunk (chunk - 1) / 2` pairs), so the true count is
//! `chunk * cached + chunk (chunk + 1) / 2`; the `/ 2` halves all of `P`,
//! which matches that for a whole prompt in one chunk (`cached` = 0) and
//! undercounts by about `chunk * cached / 2` for a later chunk. The fitted
//! `compute_eff` absorbs the difference (it was fitted with this `/ 2`:
//! do not change one without refitting the other). The all-reduces follow Megatron: two per layer
//! (after attention and after the MLP), each a ring moving `2 (tp - 1) / tp`
//! times the activations of every token. The three efficiency factors
//! (`compute_eff`, `memory_eff`, `floor`) are fitted once, on the RTX PRO
//! 6000 Llama-3.1-8B capture ([`Efficiency::FITTED`]).
//!
//! KV blocks: vLLM's `gpu_memory_utilization` share of the GPU's memory,
//! less the weights and a reserve for activations and the CUDA context,
//! over the bytes of one block.

use sysdes_kernel::SimDuration;

use crate::kinds::model_server::llm_sched::IterationCost;

/// A model's shape (from its `config.json`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelShape {
    /// All parameters (every expert of a mixture of experts).
    pub params: f64,
    /// Parameters used per token (the active experts of a MoE; `params` otherwise).
    pub active_params: f64,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden size (the activations all-reduced per token and layer).
    pub hidden: u32,
    /// Query heads.
    pub heads: u32,
    /// Key-value heads (grouped-query attention).
    pub kv_heads: u32,
    /// Dimension of one head.
    pub head_dim: u32,
    /// Bytes per weight and per KV element (2 for BF16).
    pub dtype_bytes: u32,
    /// Vocabulary size: the input embedding and the (untied) LM head are
    /// each `vocab x hidden` of `params`. The embedding is a row lookup (no
    /// FLOPs, and only the batch's rows are read) and the LM head runs once
    /// per sequence of the batch, not per token. 0 treats every parameter
    /// as a per-token matrix multiplication.
    pub vocab: u32,
}

/// A GPU's data-sheet figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpuSpec {
    /// Peak dense BF16 tensor FLOP/s (no sparsity).
    pub dense_flops: f64,
    /// Memory bandwidth, bytes per second.
    pub memory_bandwidth: f64,
    /// Memory, bytes.
    pub memory_bytes: f64,
}

/// The fitted efficiency factors of the roofline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Efficiency {
    /// Share of the peak FLOP/s the matrix multiplications reach.
    pub compute: f64,
    /// Share of the memory bandwidth reading weights and KV reaches.
    pub memory: f64,
    /// Fixed time per iteration (scheduling, kernel launches, sampling).
    pub floor: SimDuration,
}

impl Efficiency {
    /// Fitted once on the RTX PRO 6000 Blackwell, Llama-3.1-8B, TP1 vLLM
    /// 0.19 capture (`tests/llm_vllm_replay.rs`, `roofline_predicts_...`;
    /// refitted when the vocabulary terms came in: the floor went from
    /// 2.111 to 3.437 ms, compute and memory stayed at 1.0 and 0.7).
    pub const FITTED: Efficiency = Efficiency {
        compute: 1.0,
        memory: 0.7,
        floor: SimDuration::from_nanos(3_437_239),
    };
}

/// A model on `tp` GPUs linked at `link_bandwidth` bytes per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Roofline {
    /// The model.
    pub model: ModelShape,
    /// Each GPU of the group.
    pub gpu: GpuSpec,
    /// Tensor-parallel degree, at least 1.
    pub tp: u32,
    /// All-reduce link bandwidth per GPU, bytes per second (unused at `tp: 1`).
    pub link_bandwidth: f64,
    /// Latency of one all-reduce (unused at `tp: 1`).
    pub link_latency: SimDuration,
    /// The efficiency factors.
    pub efficiency: Efficiency,
}

/// Picoseconds of `x` seconds, rounded.
fn ps(x: f64) -> u64 {
    (x * 1e12).round().clamp(0.0, u64::MAX as f64 / 4.0) as u64
}

impl Roofline {
    fn tp(&self) -> f64 {
        f64::from(self.tp.max(1))
    }

    /// Weight bytes on each GPU.
    pub fn weight_bytes(&self) -> f64 {
        self.model.params * f64::from(self.model.dtype_bytes) / self.tp()
    }

    /// Parameters of one `vocab x hidden` matrix (the embedding, and the
    /// LM head again).
    fn vocab_params(&self) -> f64 {
        f64::from(self.model.vocab) * f64::from(self.model.hidden)
    }

    /// Weight bytes each GPU streams per iteration: all but the input
    /// embedding, of which only the batch's rows are gathered.
    pub fn weight_read_bytes(&self) -> f64 {
        (self.model.params - self.vocab_params()).max(0.0) * f64::from(self.model.dtype_bytes)
            / self.tp()
    }

    /// KV-cache bytes per token on each GPU: keys and values of every layer
    /// for its share of the KV heads (at least one head: fewer heads than
    /// GPUs are replicated).
    pub fn kv_bytes_per_token(&self) -> f64 {
        let m = &self.model;
        let heads = (f64::from(m.kv_heads) / self.tp()).max(1.0);
        2.0 * f64::from(m.layers) * heads * f64::from(m.head_dim) * f64::from(m.dtype_bytes)
    }

    /// The iteration cost (roofline form).
    pub fn cost(&self) -> IterationCost {
        let m = &self.model;
        let e = &self.efficiency;
        let bw = self.gpu.memory_bandwidth * e.memory;
        let flops = self.gpu.dense_flops * e.compute;
        let tp = self.tp();
        let vocab = self.vocab_params();
        let per_token_flops = 2.0 * (m.active_params - 2.0 * vocab).max(0.0) / tp;
        let per_sequence_flops = 2.0 * vocab / tp;
        // QK^T and AV, 2 FLOPs per multiply-add, per pair of P; the / 2
        // is exact for a whole prompt in one chunk (half its pairs masked)
        // but only the chunk^2 part of a later chunk's P is masked: the
        // fitted compute efficiency absorbs the difference (module doc).
        let per_pair_flops =
            2.0 * 2.0 * f64::from(m.heads) * f64::from(m.head_dim) * f64::from(m.layers) / tp / 2.0;
        let (comm, latency) = if self.tp > 1 {
            let bytes = 2.0 * f64::from(m.layers) * 2.0 * (tp - 1.0) / tp
                * f64::from(m.hidden)
                * f64::from(m.dtype_bytes);
            (
                ps(bytes / self.link_bandwidth),
                SimDuration::from_nanos(
                    self.link_latency.as_nanos()
                        * 2
                        * u64::from(m.layers)
                        * 2
                        * u64::from(self.tp - 1),
                ),
            )
        } else {
            (0, SimDuration::ZERO)
        };
        IterationCost {
            floor: e.floor + latency,
            per_token_ps: ps(per_token_flops / flops),
            per_sequence_ps: ps(per_sequence_flops / flops),
            per_context_token_ps: ps(self.kv_bytes_per_token() / bw),
            per_prefill_pair_ps: ps(per_pair_flops / flops),
            weights_ps: ps(self.weight_read_bytes() / bw),
            comm_per_token_ps: comm,
            roofline: true,
            table: None,
        }
    }

    /// KV blocks of `block_size` tokens on each GPU: `utilization` of its
    /// memory less the weights and `reserve_bytes`, over a block's bytes
    /// (0 if the weights do not fit).
    pub fn kv_blocks(&self, block_size: u32, utilization: f64, reserve_bytes: f64) -> u32 {
        let left = self.gpu.memory_bytes * utilization - self.weight_bytes() - reserve_bytes;
        let block = self.kv_bytes_per_token() * f64::from(block_size);
        (left / block).floor().clamp(0.0, f64::from(u32::MAX)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::model_server::llm_sched::Composition;

    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

    fn llama8b() -> ModelShape {
        ModelShape {
            params: 8.03e9,
            active_params: 8.03e9,
            layers: 32,
            hidden: 4096,
            heads: 32,
            kv_heads: 8,
            head_dim: 128,
            dtype_bytes: 2,
            vocab: 0,
        }
    }

    /// One iteration prefilling a 2048-token prompt in one chunk: 2048
    /// tokens and 2048^2 attention pairs.
    fn prefill_2048() -> Composition {
        Composition {
            tokens: 2048,
            prefill_seqs: 1,
            prefill_pairs: 2048 * 2048,
            ..Composition::default()
        }
    }

    fn roofline(tp: u32) -> Roofline {
        Roofline {
            model: llama8b(),
            gpu: GpuSpec {
                dense_flops: 1e15,
                memory_bandwidth: 2e12,
                memory_bytes: 80.0 * GIB,
            },
            tp,
            link_bandwidth: 100e9,
            link_latency: SimDuration::from_micros(5),
            efficiency: Efficiency {
                compute: 0.5,
                memory: 0.5,
                floor: SimDuration::from_millis(1),
            },
        }
    }

    /// Llama-3.1-8B: 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 128 KiB
    /// per token; 16.06 GB of weights. At 1 TB/s effective: 16.06 ms per
    /// iteration for the weights, 131.072 ns per context token; at
    /// 500 TFLOP/s effective, 16.06 GFLOP per token = 32.12 us, and
    /// 4 x 32 x 128 x 32 / 2 = 262,144 FLOP per pair = 0.524288 ns.
    #[test]
    fn coefficients_by_hand() {
        let r = roofline(1);
        assert_eq!(r.kv_bytes_per_token(), 131_072.0);
        let c = r.cost();
        assert_eq!(c.weights_ps, 16_060_000_000);
        assert_eq!(c.per_context_token_ps, 131_072);
        assert_eq!(c.per_token_ps, 32_120_000);
        assert_eq!(c.per_prefill_pair_ps, 524);
        assert_eq!((c.comm_per_token_ps, c.roofline), (0, true));
        // TP 2: everything halves; 2 x 32 all-reduces of 4096 x 2 bytes,
        // ring share 2 (2 - 1) / 2 = 1: 524,288 bytes per token at 100 GB/s
        // = 5.24288 us; each all-reduce a ring of 2 (2 - 1) = 2 steps:
        // 64 x 2 x 5 us of latency in the floor.
        let c2 = roofline(2).cost();
        assert_eq!(c2.weights_ps, 8_030_000_000);
        assert_eq!(c2.per_context_token_ps, 65_536);
        assert_eq!(c2.comm_per_token_ps, 5_242_880);
        assert_eq!(c2.floor, SimDuration::from_micros(1_000 + 640));
        // TP 4: 2 (4 - 1) = 6 steps per all-reduce.
        assert_eq!(
            roofline(4).cost().floor,
            SimDuration::from_micros(1_000 + 64 * 6 * 5)
        );
    }

    /// With the vocabulary (128,256 x 4096 = 525,336,576 parameters per
    /// matrix): 15,009,326,848 weight bytes streamed (the embedding is
    /// gathered, not streamed) = 15.009 ms at 1 TB/s; 2 x (8.03 G - 2 x
    /// 525.3 M) = 13.959 GFLOP per token = 27.917 us at 500 TFLOP/s; the
    /// LM head's 1.051 GFLOP once per sequence = 2.101 us. The KV blocks
    /// still count every weight resident.
    #[test]
    fn embedding_and_lm_head_by_hand() {
        let mut r = roofline(1);
        r.model.vocab = 128_256;
        let c = r.cost();
        assert_eq!(c.weights_ps, 15_009_326_848);
        assert_eq!(c.per_token_ps, 27_917_307);
        assert_eq!(c.per_sequence_ps, 2_101_346);
        assert_eq!(r.kv_blocks(16, 0.9, 1.5e9), 28_490);
        // A prefill chunk of 2048 tokens of one sequence: 2048 x 27.917 us
        // + 2.101 us + the attention pairs.
        let prefill = prefill_2048();
        assert_eq!(
            c.time(&prefill).as_nanos(),
            1_000_000 + (2048 * 27_917_307 + 2_101_346 + 2048 * 2048 * 524) / 1000
        );
    }

    /// The roofline takes the larger side: a decode of 8 sequences with
    /// 1000 context tokens each is memory-bound (16.06 ms + 8000 x 131 ns),
    /// a prefill of 2048 tokens compute-bound (2048 x 32.12 us +
    /// 2048^2 x 0.524 ns).
    #[test]
    fn max_of_memory_and_compute() {
        let c = roofline(1).cost();
        let decode = Composition {
            tokens: 8,
            decode_seqs: 8,
            decode_context: 8000,
            ..Composition::default()
        };
        assert_eq!(
            c.time(&decode).as_nanos(),
            1_000_000 + (16_060_000_000 + 8000 * 131_072) / 1000
        );
        let prefill = prefill_2048();
        assert_eq!(
            c.time(&prefill).as_nanos(),
            1_000_000 + (2048 * 32_120_000 + 2048 * 2048 * 524) / 1000
        );
    }

    /// 80 GiB x 0.9 = 77.31 GB, less 16.06 GB of weights and 1.5 GB of
    /// reserve, over 2 MiB blocks: 28,490 blocks.
    #[test]
    fn kv_blocks_by_hand() {
        let r = roofline(1);
        let n = r.kv_blocks(16, 0.9, 1.5e9);
        let expected = ((80.0 * GIB * 0.9 - 16.06e9 - 1.5e9) / (131_072.0 * 16.0)).floor();
        assert_eq!(f64::from(n), expected);
        assert_eq!(n, 28_490);
    }
}
