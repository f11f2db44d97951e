//! Reading a `type: model_server` component in LLM mode (with an `llm:`
//! block): continuous batching of prefill and per-token decode iterations.
//!
//! ```yaml
//! chat:
//!   type: model_server
//!   slots: 1                                   # GPUs, each with its own batch; default 1
//!   llm:
//!     max_batch: 32                            # sequences decoding together per slot
//!     prefill: { affine: { base: 20ms, per_token: 0.1ms } }
//!     decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }
//!     prompt_tokens: { constant: 512 }         # or a bare number, or any distribution
//!     output_tokens: { exponential: 200 }      # rounded, at least 1
//!     kv_cache_tokens: 100000                  # optional, per slot
//!   queue_capacity: 1000                       # optional; default unbounded
//!   cold_start: 20s                            # optional model load time
//! ```
//!
//! With `scheduler: chunked` (vLLM's chunked prefill over a paged KV cache)
//! `prefill`, `decode_step` and `kv_cache_tokens` give way to:
//!
//! ```yaml
//!   llm:
//!     scheduler: chunked
//!     max_batch: 128                           # vLLM's max_num_seqs
//!     max_num_batched_tokens: 2048             # token budget per iteration; default 2048
//!     kv_block_size: 16                        # tokens per KV block; default 16
//!     kv_blocks: 2588                          # KV blocks per slot; default unlimited
//!     iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }
//!     prefix_caching: true                     # reuse cached prefix blocks; default true
//! ```
//!
//! Or measured iteration times, interpolated (a grid over the batch's
//! tokens and the decode context; path relative to the scenario file; the
//! affine keys, optional here, are added to it):
//!
//! ```yaml
//!     iteration: { table: ../data/llm/a100-llama-3-8b-linear.csv, floor: 2ms, per_context_token_ps: 66000 }
//! ```
//!
//! Or, instead of `iteration` (and `kv_blocks`, then derived), the roofline
//! mode from the shipped data (`data/llm/{gpus,models}.yaml`):
//!
//! ```yaml
//!     hardware: { gpu: rtx-pro-6000, tp: 2, link_gbps: 64, link_latency: 20us }
//!     model: qwen3-32b
//!     efficiency: { compute: 1.0, memory: 0.7, floor: 3.43724ms }   # optional; default fitted
//! ```
//!
//! Memory policy of the chunked scheduler (see `docs/llm-serving.md`):
//!
//! ```yaml
//!     preemption: swap                         # or recompute (default)
//!     swap_gbps: 32                            # host link, GB/s; default 32 (PCIe 4.0 x16)
//!     swap_blocks: 2048                        # CPU blocks per slot; default 4 GiB's worth
//!     kv_bytes_per_token: 131072               # default from `model`; needed for swap otherwise
//!     watermark: 1%                            # share of blocks kept free at admission (or 0.01); default 0
//! ```
//!
//! Prefill/decode disaggregation (`chunked` only; see `docs/llm-serving.md`):
//!
//! ```yaml
//! prefill:
//!   type: model_server
//!   llm:
//!     role: prefill                            # prefill only; TTFT ends here
//!     decode_to: decode                        # a `role: decode` server, or a balancer of them
//!     kv_link: { gbps: 50, latency: 10us }     # per slot; KV = prompt tokens x kv_bytes_per_token
//!     kv_bytes_per_token: 131072               # default from `model`
//! decode:
//!   type: model_server
//!   llm: { role: decode, ... }                 # decode-only iterations; prompt/output_tokens optional
//! ```
//!
//! Shared prompt prefixes (either scheduler; only `chunked` caches them):
//!
//! ```yaml
//!   llm:
//!     prefix: { tokens: 2000, groups: 20, zipf: 1.0 }   # prompt = a group's 2000 tokens + prompt_tokens
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{
    ChunkedSpec, ComponentKind, DecodeTime, Distribution, Efficiency, GpuSpec, IterationCost,
    IterationTable, KvLink, LlmRole, LlmScheduler, LlmServerSpec, ModelShape, PrefillRole,
    PrefillTime, PrefixWorkload, Roofline, SwapSpec,
};

use super::{Ctx, Kind, content, count, optional_count, optional_distribution};
use crate::node::{Node, SNode};
use crate::raw::schema_keys;
use crate::units::{Duration, Share};

/// Model-server keys that belong to dynamic batching and have no meaning
/// in LLM mode.
const BATCHING_ONLY: &[&str] = &["batching", "batch_time", "jitter"];

/// LLM mode: iteration-level (continuous) batching of prefill and decode; see `docs/llm-serving.md`.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(deny_unknown_fields)]
#[schemars(rename = "Llm")]
pub(crate) struct LlmDoc {
    /// Most sequences running (prefilling or decoding) together on one slot, at least 1 (vLLM's `max_num_seqs` under `scheduler: chunked`).
    #[schemars(range(min = 1))]
    max_batch: i64,
    /// Time of a prefill iteration for the prompts admitted together: `{ affine: { base, per_token } }`, tokens summed over the prompts. `prefill_first` only, required there.
    prefill: Option<PrefillRaw>,
    /// Time of one decode step producing one token for each of `b` running sequences: `{ affine: { base, per_sequence } }`. `prefill_first` only, required there.
    decode_step: Option<DecodeRaw>,
    /// Prompt length per request in tokens: a number, or a distribution such as `{ lognormal: { median: 400, sigma: 1 } }`; rounded, at least 1.
    prompt_tokens: TokensDoc,
    /// Output length per request in tokens (the first comes with the prefill), like `prompt_tokens`; rounded, at least 1.
    output_tokens: TokensDoc,
    /// KV-cache capacity per slot in tokens: a request holds `prompt + output` tokens from admission to completion; one that can never fit is dropped. Default unlimited.
    #[schemars(range(min = 1))]
    kv_cache_tokens: Option<i64>,
    /// How each slot forms its iterations: `prefill_first` (default: admitted prompts are prefilled whole, running sequences wait) or `chunked` (vLLM: a token budget per iteration shared by decode tokens and prefill chunks, a paged KV cache with recompute preemption).
    scheduler: Option<SchedulerRaw>,
    /// `chunked` only: token budget of one iteration (vLLM's `max_num_batched_tokens`), at least 1. Default 2048.
    #[schemars(range(min = 1))]
    max_num_batched_tokens: Option<i64>,
    /// `chunked` only: tokens per KV block, at least 1. Default 16.
    #[schemars(range(min = 1))]
    kv_block_size: Option<i64>,
    /// `chunked` only: KV blocks per slot, at least 1; a sequence holds `ceil(tokens / kv_block_size)`; when a running one needs a block and none is free, the most recently admitted is preempted (recompute, or swap with `preemption: swap`). Default unlimited.
    #[schemars(range(min = 1))]
    kv_blocks: Option<i64>,
    /// `chunked` only, required there: iteration time `floor + per_token * T + per_context_token_ps * D + per_prefill_pair_ps * P` (see `docs/llm-serving.md`).
    iteration: Option<IterationRaw>,
    /// `chunked` only: whether the full KV blocks of shared prefixes (`prefix`) are cached and reused, their prefill skipped (vLLM's automatic prefix caching; LRU eviction of unreferenced cached blocks). Default true.
    prefix_caching: Option<bool>,
    /// `chunked` only, with `model`, instead of `iteration`: the GPU (a name from `data/llm/gpus.yaml`), the tensor-parallel degree and the all-reduce link; the iteration cost is then a roofline derived from the data sheet and the model's shape, and `kv_blocks` defaults to what the GPU's memory holds beside the weights (see `docs/llm-serving.md`).
    hardware: Option<HardwareRaw>,
    /// `chunked` only, with `hardware`: the model, a name from `data/llm/models.yaml` (`llama-3.1-8b`, `llama-3.1-70b`, `qwen3-32b`, `qwen3-30b-a3b`).
    model: Option<String>,
    /// `chunked` only, with `hardware`: the roofline's efficiency factors. Default: fitted on the RTX PRO 6000 Llama-3.1-8B vLLM capture (compute 1.0, memory 0.7, floor 3.43724ms).
    efficiency: Option<EfficiencyRaw>,
    /// `chunked` only: how a running sequence is preempted when the KV blocks run out: `recompute` (default; vLLM V1's only mode: its blocks are freed and its tokens prefilled again) or `swap` (vLLM V0's `preemption_mode: swap`: its blocks are copied to CPU memory over the host link at `swap_gbps`, the copy stalling the iteration, and copied back before it resumes; recompute when `swap_blocks` is full).
    preemption: Option<PreemptionRaw>,
    /// `chunked` with `preemption: swap`: host link bandwidth for the KV copies, GB/s. Default 32 (PCIe 4.0 x16, one direction).
    swap_gbps: Option<f64>,
    /// `chunked` with `preemption: swap`: CPU swap space per slot in KV blocks (the slots share the total). Default: vLLM's `swap_space` of 4 GiB over the bytes of a block.
    #[schemars(range(min = 1))]
    swap_blocks: Option<i64>,
    /// `chunked`: KV-cache bytes per token (all layers, keys and values, per GPU), for the swap copies and, with `role: prefill`, the KV hand-off's size. Default: derived from `model` (e.g. 131072 for Llama-3.1-8B); required with `preemption: swap` or `role: prefill` when there is no `model`.
    #[schemars(range(min = 1))]
    kv_bytes_per_token: Option<i64>,
    /// `chunked` only, with a finite KV cache: share of the KV blocks kept free at admission (vLLM V0's `watermark`, `floor(watermark * kv_blocks)` blocks): a waiting sequence is admitted only if the free blocks after its first chunk stay at least that many. A number in [0, 1) or a percentage (`0.01` or `1%`); default 0 (vLLM V1 has none; V0's default was 0.01).
    watermark: Option<Share>,
    /// Prefill/decode disaggregation (`chunked` only): `colocated` (default: prefill and decode on the same slots), `prefill` (prefill only: after its first token a request's prompt KV goes over `kv_link` to `decode_to`) or `decode` (decode only: takes the requests prefill servers hand off, admitted with their prompt computed).
    role: Option<RoleRaw>,
    /// `role: prefill`, required there: where prefilled requests decode, a `role: decode` model server or a load balancer whose backends all are.
    decode_to: Option<String>,
    /// `role: prefill`, required there: the link each prefill slot sends a prompt's KV cache over, one transfer at a time: `{ gbps, latency }`; a transfer takes `prompt_tokens * kv_bytes_per_token / gbps + latency`.
    kv_link: Option<KvLinkRaw>,
    /// Shared prompt prefixes: each request draws one of `groups` prefixes (a system prompt, a RAG document) and its prompt is that prefix's `tokens` followed by its drawn `prompt_tokens`. Default none.
    prefix: Option<PrefixRaw>,
}

/// The GPUs of the roofline mode.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `gpu` and optionally `tp`, `link_gbps`, `link_latency`"
)]
#[schemars(rename = "LlmHardware")]
pub(crate) struct HardwareRaw {
    /// A GPU from `data/llm/gpus.yaml`: `a100`, `h100`, `h200`, `l4`, `rtx-4090`, `rtx-pro-6000`.
    gpu: String,
    /// Tensor-parallel degree (GPUs per slot, weights and FLOPs split between them), at least 1. Default 1.
    #[schemars(range(min = 1))]
    tp: Option<i64>,
    /// All-reduce link bandwidth per GPU in GB/s (two all-reduces per layer, as Megatron). Default 64 (PCIe 5.0 x16).
    link_gbps: Option<f64>,
    /// Latency of one all-reduce. Default 20us.
    link_latency: Option<Duration>,
}

/// The roofline's efficiency factors.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `compute`, `memory` and `floor`"
)]
#[schemars(rename = "LlmEfficiency")]
pub(crate) struct EfficiencyRaw {
    /// Share of the peak dense FLOP/s reached, in (0, 1].
    compute: f64,
    /// Share of the memory bandwidth reached, in (0, 1].
    memory: f64,
    /// Fixed time per iteration.
    floor: Duration,
}

/// A row of `data/llm/gpus.yaml`.
#[derive(Debug, Deserialize)]
struct GpuRow {
    dense_tflops: f64,
    memory_gbps: f64,
    memory_gib: f64,
}

/// A row of `data/llm/models.yaml`.
#[derive(Debug, Deserialize)]
struct ModelRow {
    params_b: f64,
    active_params_b: f64,
    layers: u32,
    hidden: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    dtype_bytes: u32,
    vocab: u32,
}

/// The shipped GPU and model tables (sources in the files).
const GPUS_YAML: &str = include_str!("../../../../data/llm/gpus.yaml");
const MODELS_YAML: &str = include_str!("../../../../data/llm/models.yaml");

/// vLLM's default share of GPU memory, and the memory kept beside weights
/// and KV (activations, CUDA graphs, the context), for the derived
/// `kv_blocks` (see `docs/llm-serving.md`).
const GPU_MEMORY_UTILIZATION: f64 = 0.9;
const RESERVE_BYTES: f64 = 1.5e9;

/// The shipped GPUs by name.
pub fn gpus() -> BTreeMap<String, GpuSpec> {
    let rows: BTreeMap<String, GpuRow> =
        serde_saphyr::from_str(GPUS_YAML).expect("data/llm/gpus.yaml is valid (tested)");
    rows.into_iter()
        .map(|(k, r)| {
            (
                k,
                GpuSpec {
                    dense_flops: r.dense_tflops * 1e12,
                    memory_bandwidth: r.memory_gbps * 1e9,
                    memory_bytes: r.memory_gib * 1024.0 * 1024.0 * 1024.0,
                },
            )
        })
        .collect()
}

/// The shipped model shapes by name.
pub fn models() -> BTreeMap<String, ModelShape> {
    let rows: BTreeMap<String, ModelRow> =
        serde_saphyr::from_str(MODELS_YAML).expect("data/llm/models.yaml is valid (tested)");
    rows.into_iter()
        .map(|(k, r)| {
            (
                k,
                ModelShape {
                    params: r.params_b * 1e9,
                    active_params: r.active_params_b * 1e9,
                    layers: r.layers,
                    hidden: r.hidden,
                    heads: r.heads,
                    kv_heads: r.kv_heads,
                    head_dim: r.head_dim,
                    dtype_bytes: r.dtype_bytes,
                    vocab: r.vocab,
                },
            )
        })
        .collect()
}

/// Shared prompt prefixes of an LLM workload.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `tokens` and optionally `groups`, `zipf`, `from_key`"
)]
#[schemars(rename = "LlmPrefix")]
pub(crate) struct PrefixRaw {
    /// Shared tokens at the front of every prompt of a group (system prompt plus context), at least 1.
    #[schemars(range(min = 1))]
    tokens: i64,
    /// Distinct prefixes, at least 1: 1 is one system prompt shared by every request; more are RAG documents or tenants. Default 1.
    #[schemars(range(min = 1))]
    groups: Option<i64>,
    /// Popularity skew of the groups: group `k` (from 1) drawn with probability proportional to `1 / k^zipf`; 0 is uniform. Default 0.
    #[schemars(range(min = 0))]
    zipf: Option<f64>,
    /// Take a request's group from its key (key modulo `groups`; the workload's `keys:` set the popularity, not `zipf`) instead of drawing it, so a `prefix_affinity` balancer in front can route by it. Default false.
    from_key: Option<bool>,
}

/// A model server's part in prefill/decode disaggregation.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "LlmRole")]
pub(crate) enum RoleRaw {
    /// Prefill and decode on the same slots (the default).
    Colocated,
    /// Prefill only; hands requests to `decode_to` after their first token.
    Prefill,
    /// Decode only; takes the requests prefill servers hand off.
    Decode,
}

/// The KV link from a prefill server's slots to its decode pool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `gbps` and optionally `latency`"
)]
#[schemars(rename = "LlmKvLink")]
pub(crate) struct KvLinkRaw {
    /// Bandwidth per prefill slot in GB/s (10^9 bytes per second): 50 is 400 Gb/s InfiniBand NDR, 25 is 200 Gb/s, 450 NVLink 4 one way.
    gbps: f64,
    /// One-way latency added to every transfer. Default 0.
    latency: Option<Duration>,
}

/// The scheduler of a model server in LLM mode.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "LlmScheduler")]
pub(crate) enum SchedulerRaw {
    /// Prefill the admitted prompts whole, then decode (the default).
    PrefillFirst,
    /// vLLM's chunked prefill with a paged KV cache.
    Chunked,
}

/// How the chunked scheduler preempts.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "LlmPreemption")]
pub(crate) enum PreemptionRaw {
    /// Free the victim's blocks and prefill its tokens again (the default).
    Recompute,
    /// Copy the victim's blocks to CPU memory and back.
    Swap,
}

/// The iteration time of the chunked scheduler.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `floor`, `per_token` and optionally `per_context_token_ps`, `per_prefill_pair_ps`; or with `table` and optionally those four"
)]
#[schemars(rename = "LlmIterationTime")]
pub(crate) struct IterationRaw {
    /// Measured iteration times: a CSV file (path relative to the scenario file) with columns `tokens`, optionally `context_tokens`, and one of `time_s`, `time_ms`, `time_us`, `time_ns`, rows a full grid sorted by context then tokens; interpolated bilinearly, the other keys (then optional, default 0) added to it (see `docs/llm-serving.md`).
    #[serde(default)]
    table: Option<String>,
    /// The fixed cost of one iteration (launch, reading the weights). Required without `table`.
    #[serde(default)]
    floor: Option<Duration>,
    /// Added per token in the batch (decode tokens and prefill chunk tokens). Required without `table`.
    #[serde(default)]
    per_token: Option<Duration>,
    /// Added per context token of each decode sequence (reading its KV cache), in picoseconds. Default 0.
    #[serde(default)]
    per_context_token_ps: u64,
    /// Added per (query, key) pair of each prefill chunk, `chunk * (cached + chunk)`, in picoseconds. Default 0.
    #[serde(default)]
    per_prefill_pair_ps: u64,
}

/// Keys that apply under one scheduler only.
const PREFILL_FIRST_ONLY: &[&str] = &["prefill", "decode_step", "kv_cache_tokens"];
const CHUNKED_ONLY: &[&str] = &[
    "decode_to",
    "kv_link",
    "max_num_batched_tokens",
    "kv_block_size",
    "kv_blocks",
    "iteration",
    "prefix_caching",
    "hardware",
    "model",
    "efficiency",
    "preemption",
    "swap_gbps",
    "swap_blocks",
    "kv_bytes_per_token",
    "watermark",
];

/// A prefill time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "PrefillTime")]
pub(crate) enum PrefillRaw {
    /// `base + per_token * tokens`, e.g. `{ affine: { base: 20ms, per_token: 0.1ms } }`.
    Affine(PrefillAffineRaw),
}

/// An affine prefill time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `base` and `per_token`")]
#[schemars(rename = "AffinePrefillTime")]
pub(crate) struct PrefillAffineRaw {
    /// The fixed cost of one prefill iteration.
    base: Duration,
    /// The added cost of each prompt token.
    per_token: Duration,
}

/// A decode-step time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "DecodeStepTime")]
pub(crate) enum DecodeRaw {
    /// `base + per_sequence * b`, e.g. `{ affine: { base: 10ms, per_sequence: 0.2ms } }`.
    Affine(DecodeAffineRaw),
}

/// An affine decode-step time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `base` and `per_sequence`"
)]
#[schemars(rename = "AffineDecodeStepTime")]
pub(crate) struct DecodeAffineRaw {
    /// The fixed cost of one step (reading the weights once).
    base: Duration,
    /// The added cost of each running sequence.
    per_sequence: Duration,
}

/// A token count: a number, or a distribution of numbers.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
pub(crate) enum TokensDoc {
    /// Always this many tokens.
    Fixed(f64),
    /// A distribution of token counts.
    Drawn(TokenDistRaw),
}

/// A distribution of token counts (each draw rounded, at least 1).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "TokenDistribution")]
pub(crate) enum TokenDistRaw {
    /// Always this many.
    Constant(f64),
    /// Exponential with this mean.
    Exponential(f64),
    /// Uniform between the two bounds, e.g. `[100, 2000]`.
    Uniform((f64, f64)),
    /// Log-normal, e.g. `{ median: 400, sigma: 1 }`.
    Lognormal(TokenLognormalRaw),
    /// Erlang-k with overall mean `mean`, e.g. `{ k: 4, mean: 200 }`.
    Erlang(TokenErlangRaw),
}

/// Log-normal token counts.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `median` and `sigma`")]
#[schemars(rename = "TokenLognormal")]
pub(crate) struct TokenLognormalRaw {
    /// The median, greater than zero.
    median: f64,
    /// Shape, zero or more.
    sigma: f64,
}

/// Erlang token counts.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `k` and `mean`")]
#[schemars(rename = "TokenErlang")]
pub(crate) struct TokenErlangRaw {
    /// Number of phases, at least 1.
    k: i64,
    /// The mean, greater than zero.
    mean: f64,
}

/// Reads a model server with an `llm:` block, recording every problem.
pub(super) fn llm_server(ctx: &mut Ctx, body: &SNode, names: &[&str]) -> Option<LlmServerSpec> {
    let before = ctx.issues.len();
    for key in BATCHING_ONLY {
        if let Some((k, _)) = body.entry(key) {
            ctx.push(
                k,
                format!("`{key}` does not apply to a model server in LLM mode (with `llm:`)"),
                Some(
                    "batches form at every iteration: set their size with `llm.max_batch`, and times with `llm.prefill` and `llm.decode_step`".into(),
                ),
            );
        }
    }
    // The batching-only keys were reported above, not a second time here.
    ctx.unknown_keys(body, Kind::ModelServer.keys());
    let slots = optional_count(ctx, body, "slots", 1).map(|s| s.unwrap_or(1));
    let cold_start = optional_distribution(ctx, body, "cold_start");
    let queue_capacity = optional_count(ctx, body, "queue_capacity", 0);
    let llm = body.get("llm")?;
    if !matches!(llm.node, Node::Map(_)) {
        ctx.push(
            llm,
            format!("`llm`: expected a map, found {}", llm.describe()),
            Some("e.g. `llm: { max_batch: 32, prefill: ..., decode_step: ..., prompt_tokens: 512, output_tokens: 200 }`".into()),
        );
        return None;
    }
    ctx.unknown_keys(llm, schema_keys!(LlmDoc));
    let scheduler = ctx
        .optional::<SchedulerRaw>(llm, "scheduler")
        .map(|s| s.unwrap_or(SchedulerRaw::PrefillFirst));
    // A bad `scheduler` is reported once: the other keys are then read as
    // the scheduler their `iteration` key suggests.
    let chunked = match scheduler {
        Ok(s) => s == SchedulerRaw::Chunked,
        Err(()) => llm.get("iteration").is_some(),
    };
    let (other, wrong) = if chunked {
        ("prefill_first", PREFILL_FIRST_ONLY)
    } else {
        ("chunked", CHUNKED_ONLY)
    };
    if scheduler.is_ok() {
        for key in wrong {
            if let Some((k, _)) = llm.entry(key) {
                ctx.push(
                    k,
                    format!("`{key}` applies only with `scheduler: {other}`"),
                    Some(if chunked {
                        "the chunked scheduler times iterations with `iteration: { floor, per_token, per_context_token_ps, per_prefill_pair_ps }` and sizes the KV cache with `kv_blocks` and `kv_block_size`".into()
                    } else {
                        "add `scheduler: chunked`, or remove the key".into()
                    }),
                );
            }
        }
    }
    let max_batch = ctx
        .required::<i64>(
            llm,
            "max_batch",
            Some("add e.g. `max_batch: 32` (sequences decoding together per slot)".into()),
        )
        .and_then(|b| count(ctx, b, 1, llm.at_or_near(&["max_batch"]), "max_batch"));
    let chunk = if chunked {
        chunked_spec(ctx, llm).map(Some)
    } else {
        Some(None)
    };
    let role_raw = ctx
        .optional::<RoleRaw>(llm, "role")
        .map(|r| r.unwrap_or(RoleRaw::Colocated));
    if role_raw.is_ok_and(|r| r != RoleRaw::Colocated) && !chunked && scheduler.is_ok() {
        ctx.push(
            llm.at_or_near(&["role"]),
            "`role: prefill` and `role: decode` need `scheduler: chunked`",
            Some(
                "add `scheduler: chunked` (and its `iteration`, or `hardware` and `model`)".into(),
            ),
        );
    }
    let kv_bytes = chunk.as_ref().and_then(|c| c.as_ref().map(|(_, kv)| *kv));
    let role = match (role_raw, chunked) {
        (Ok(r), true) => role(ctx, llm, r, kv_bytes.flatten(), names),
        _ => None,
    };
    let chunk = chunk.map(|c| c.map(|(spec, _)| spec));
    let decode_only = role_raw == Ok(RoleRaw::Decode);
    let prefill = if chunked {
        Some(PrefillTime {
            base: SimDuration::ZERO,
            per_token: SimDuration::ZERO,
        })
    } else {
        ctx.required::<PrefillRaw>(
            llm,
            "prefill",
            Some("add e.g. `prefill: { affine: { base: 20ms, per_token: 0.1ms } }`".into()),
        )
        .map(|PrefillRaw::Affine(a)| PrefillTime {
            base: a.base.to_sim(),
            per_token: a.per_token.to_sim(),
        })
    };
    let decode_step = if chunked {
        Some(DecodeTime {
            base: SimDuration::ZERO,
            per_sequence: SimDuration::ZERO,
        })
    } else {
        ctx.required::<DecodeRaw>(
            llm,
            "decode_step",
            Some("add e.g. `decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }`".into()),
        )
        .map(|DecodeRaw::Affine(a)| DecodeTime {
            base: a.base.to_sim(),
            per_sequence: a.per_sequence.to_sim(),
        })
    };
    // A decode server's requests bring their lengths from the prefill server.
    let one = || Some(Distribution::Constant(SimDuration::from_nanos(1)));
    let prompt_tokens = if decode_only && llm.get("prompt_tokens").is_none() {
        one()
    } else {
        token_distribution(ctx, llm, "prompt_tokens", "512")
    };
    let output_tokens = if decode_only && llm.get("output_tokens").is_none() {
        one()
    } else {
        token_distribution(ctx, llm, "output_tokens", "{ exponential: 200 }")
    };
    let kv_cache_tokens = match ctx.optional::<i64>(llm, "kv_cache_tokens") {
        Ok(Some(k)) if k >= 1 => Some(Some(k as u64)),
        Ok(Some(k)) => {
            ctx.push(
                llm.at_or_near(&["kv_cache_tokens"]),
                format!("`kv_cache_tokens` must be at least 1, found {k}"),
                Some("leave it out for an unlimited KV cache".into()),
            );
            None
        }
        Ok(None) => Some(None),
        Err(()) => None,
    };
    let prefix = prefix_workload(ctx, llm);
    if ctx.issues.len() != before {
        return None;
    }
    let scheduler = match chunk? {
        Some(mut c) => {
            c.max_num_seqs = max_batch?;
            LlmScheduler::Chunked(c)
        }
        None => LlmScheduler::PrefillFirst,
    };
    if let Some(Some(x)) = prefix {
        // The shortest request is the prefix, one prompt token and one
        // output token: if even that cannot fit, every request is dropped.
        let shortest = u64::from(x.tokens) + 2;
        let capacity = match &scheduler {
            LlmScheduler::Chunked(c) => c.num_blocks.map(|n| {
                (
                    u64::from(n) * u64::from(c.block_size),
                    format!("{n} KV blocks of {} tokens", c.block_size),
                )
            }),
            LlmScheduler::PrefillFirst => kv_cache_tokens
                .flatten()
                .map(|k| (k, format!("`kv_cache_tokens: {k}`"))),
        };
        if let Some((tokens, what)) = capacity.filter(|(t, _)| shortest > *t) {
            ctx.push(
                llm.at_or_near(&["prefix", "tokens"]),
                format!(
                    "`prefix.tokens` ({}) plus the shortest prompt and output is more than the KV cache holds ({what}, {tokens} tokens): every request would be dropped",
                    x.tokens
                ),
                Some("use a shorter prefix or a larger KV cache".into()),
            );
            return None;
        }
    }
    let (prefill, decode_step) = match &scheduler {
        // The affine view of the chunked cost (attention left out), for
        // the capacity estimate: a pure prefill or decode iteration; a
        // table's is its chord from 1 token to the budget (no context).
        LlmScheduler::Chunked(c) if c.cost.table.is_some() => {
            let at = |tokens: u32| {
                c.cost.time(&sysdes_models::Composition {
                    tokens: u64::from(tokens),
                    ..Default::default()
                })
            };
            let budget = c.max_num_batched_tokens.max(2);
            let base = at(1);
            let per_token = SimDuration::from_nanos(
                at(budget).as_nanos().saturating_sub(base.as_nanos()) / u64::from(budget - 1),
            );
            (
                PrefillTime { base, per_token },
                DecodeTime {
                    base,
                    per_sequence: per_token,
                },
            )
        }
        LlmScheduler::Chunked(c) => (
            PrefillTime {
                base: c.cost.floor,
                per_token: SimDuration::from_nanos(c.cost.per_token_ps / 1000),
            },
            DecodeTime {
                base: c.cost.floor,
                per_sequence: SimDuration::from_nanos(c.cost.per_token_ps / 1000),
            },
        ),
        LlmScheduler::PrefillFirst => (prefill?, decode_step?),
    };
    Some(LlmServerSpec {
        slots: slots?,
        max_batch: max_batch?,
        prefill,
        decode_step,
        prompt_tokens: prompt_tokens?,
        output_tokens: output_tokens?,
        kv_cache_tokens: kv_cache_tokens?,
        queue_capacity: queue_capacity?,
        cold_start: cold_start?,
        scheduler,
        prefix: prefix?,
        role: if chunked { role? } else { LlmRole::Colocated },
    })
}

/// `role`, `decode_to` and `kv_link` (chunked only): `None` when a problem
/// was recorded. `kv_bytes` is `kv_bytes_per_token`, given or derived from
/// `model`.
fn role(
    ctx: &mut Ctx,
    llm: &SNode,
    raw: RoleRaw,
    kv_bytes: Option<f64>,
    names: &[&str],
) -> Option<LlmRole> {
    let decode_to = ctx.optional::<String>(llm, "decode_to").ok()?;
    let link = ctx.optional::<KvLinkRaw>(llm, "kv_link").ok()?;
    if raw != RoleRaw::Prefill {
        let which = if raw == RoleRaw::Decode {
            "decode"
        } else {
            "colocated"
        };
        let mut bad = false;
        for key in ["decode_to", "kv_link"] {
            if llm.get(key).is_some() {
                bad = true;
                ctx.push(
                    llm.at_or_near(&[key]),
                    format!(
                        "`{key}` applies only with `role: prefill` (this server is `role: {which}`)"
                    ),
                    Some(
                        "set `role: prefill` on the server that prefills, or remove the key".into(),
                    ),
                );
            }
        }
        return (!bad).then_some(if raw == RoleRaw::Decode {
            LlmRole::Decode
        } else {
            LlmRole::Colocated
        });
    }
    let Some(name) = decode_to else {
        ctx.push(
            llm.at_or_near(&["role"]),
            "`role: prefill` needs `decode_to`: the decode server (or balancer of them) that takes its requests",
            Some("add e.g. `decode_to: decode` naming a model server with `llm.role: decode`".into()),
        );
        return None;
    };
    let to = super::resolve(ctx, names, &name, llm.at_or_near(&["decode_to"]));
    let Some(link) = link else {
        ctx.push(
            llm.at_or_near(&["role"]),
            "`role: prefill` needs `kv_link`: the link its prompts' KV caches cross to the decode pool",
            Some("add e.g. `kv_link: { gbps: 50, latency: 10us }` (400 Gb/s InfiniBand)".into()),
        );
        return None;
    };
    if !(link.gbps > 0.0 && link.gbps.is_finite()) {
        ctx.push(
            llm.at_or_near(&["kv_link", "gbps"]),
            format!(
                "`kv_link.gbps` must be greater than zero, found {}",
                link.gbps
            ),
            Some("e.g. `gbps: 50` (400 Gb/s InfiniBand NDR, in GB/s)".into()),
        );
        return None;
    }
    let Some(kv) = kv_bytes else {
        ctx.push(
            llm.at_or_near(&["kv_link"]),
            "`role: prefill` needs the KV bytes per token to time the transfers",
            Some(
                "add e.g. `kv_bytes_per_token: 131072` (Llama-3.1-8B in BF16), or use `hardware` and `model`"
                    .into(),
            ),
        );
        return None;
    };
    Some(LlmRole::Prefill(PrefillRole {
        decode_to: to?,
        link: KvLink {
            gbps: link.gbps,
            latency: link.latency.map_or(SimDuration::ZERO, Duration::to_sim),
            kv_bytes_per_token: kv.round() as u64,
        },
    }))
}

/// Checks the disaggregation wiring once every component is read: a
/// prefill server's `decode_to` must be a `role: decode` LLM model server
/// or a load balancer whose backends all are.
pub(super) fn check_disaggregation(
    ctx: &mut Ctx,
    components: &mut [Option<sysdes_models::ComponentSpec>],
    bodies: &[&SNode],
) {
    check_decode_pools(ctx, components, bodies);
    // A decode server without its own lengths takes its first prefill
    // server's, for its capacity figures (each request brings its own).
    let mut lengths = Vec::new();
    for c in components.iter().flatten() {
        if let ComponentKind::LlmServer(m) = &c.kind
            && let LlmRole::Prefill(r) = m.role
        {
            lengths.push((
                r.decode_to.index(),
                m.prompt_tokens.clone(),
                m.output_tokens.clone(),
            ));
        }
    }
    for (to, p, n) in lengths {
        let targets: Vec<usize> = match components.get(to) {
            Some(Some(sysdes_models::ComponentSpec {
                kind: ComponentKind::LoadBalancer(lb),
                ..
            })) => lb.backends.iter().map(|b| b.index()).collect(),
            _ => vec![to],
        };
        for t in targets {
            let given = |key: &str| {
                bodies
                    .get(t)
                    .and_then(|b| b.get("llm"))
                    .is_some_and(|l| l.get(key).is_some())
            };
            let (has_p, has_n) = (given("prompt_tokens"), given("output_tokens"));
            if let Some(Some(sysdes_models::ComponentSpec {
                kind: ComponentKind::LlmServer(m),
                ..
            })) = components.get_mut(t)
                && m.role == LlmRole::Decode
            {
                if !has_p {
                    m.prompt_tokens = p.clone();
                }
                if !has_n {
                    m.output_tokens = n.clone();
                }
            }
        }
    }
}

/// The wiring half of [`check_disaggregation`]: a `decode_to` that names
/// anything but a decode server or a balancer of them is an error that says
/// what the named component is and which names would do.
fn check_decode_pools(
    ctx: &mut Ctx,
    components: &[Option<sysdes_models::ComponentSpec>],
    bodies: &[&SNode],
) {
    let spec = |i: usize| components.get(i).and_then(Option::as_ref);
    // Why component `i` cannot decode, or `None` when it can (or failed to
    // read, which was reported already).
    let not_decode = |i: usize| -> Option<String> {
        let c = spec(i)?;
        let n = &c.name;
        match &c.kind {
            ComponentKind::LlmServer(m) => match m.role {
                LlmRole::Decode => None,
                LlmRole::Colocated => Some(format!("`{n}` is `role: colocated` (the default)")),
                LlmRole::Prefill(_) => Some(format!("`{n}` is `role: prefill`")),
            },
            ComponentKind::ModelServer(_) => {
                Some(format!("`{n}` is a model server without an `llm` block"))
            }
            _ => Some(
                match bodies
                    .get(i)
                    .and_then(|b| b.get("type"))
                    .and_then(SNode::as_str)
                {
                    Some(t) => format!("`{n}` is a `{t}`"),
                    None => format!("`{n}` is not a model server"),
                },
            ),
        }
    };
    // The names `decode_to` could take, in file order: decode servers and
    // balancers whose backends all are.
    let mut pools = Vec::new();
    for c in components.iter().flatten() {
        let fits = match &c.kind {
            ComponentKind::LlmServer(m) => m.role == LlmRole::Decode,
            ComponentKind::LoadBalancer(lb) => {
                !lb.backends.is_empty()
                    && lb
                        .backends
                        .iter()
                        .all(|b| spec(b.index()).is_some() && not_decode(b.index()).is_none())
            }
            _ => false,
        };
        if fits {
            pools.push(format!("`{}`", c.name));
        }
    }
    let instead = if pools.is_empty() {
        "add a model server with `llm: { role: decode, scheduler: chunked }` and point `decode_to` at it (there is none yet)".to_owned()
    } else {
        format!("point `decode_to` at {}", pools.join(" or "))
    };
    for (c, body) in components.iter().zip(bodies) {
        let Some(Some(ComponentKind::LlmServer(m))) = c.as_ref().map(|c| Some(&c.kind)) else {
            continue;
        };
        let LlmRole::Prefill(r) = m.role else {
            continue;
        };
        let to = r.decode_to.index();
        let Some(target) = spec(to) else {
            continue;
        };
        let name = &target.name;
        let (message, help) = if let ComponentKind::LoadBalancer(lb) = &target.kind {
            let bad: Vec<String> = lb
                .backends
                .iter()
                .filter_map(|b| not_decode(b.index()))
                .collect();
            if bad.is_empty() {
                continue;
            }
            (
                format!(
                    "`decode_to: {name}` names a load balancer, so its backends must all be model servers with `llm.role: decode`, but {}",
                    bad.join(" and ")
                ),
                format!(
                    "give those backends `llm.role: decode` (and `scheduler: chunked`), list only decode servers in `{name}`'s `backends`, or {instead}"
                ),
            )
        } else {
            let Some(why) = not_decode(to) else {
                continue;
            };
            let help = if matches!(target.kind, ComponentKind::LlmServer(_)) {
                format!("add `role: decode` to `{name}`'s `llm` block, or {instead}")
            } else {
                instead.clone()
            };
            (
                format!(
                    "`decode_to: {name}` must name a model server with `llm.role: decode` (or a load balancer whose backends all are), but {why}"
                ),
                help,
            )
        };
        ctx.push(body.at_or_near(&["llm", "decode_to"]), message, Some(help));
    }
}

/// Most prefix tokens over all groups (the prefix cache is preallocated,
/// one entry per block of every group per slot).
const MAX_PREFIX_TOKENS: u64 = 1 << 27;

/// The `prefix` block: outer `None` when a problem was recorded.
fn prefix_workload(ctx: &mut Ctx, llm: &SNode) -> Option<Option<PrefixWorkload>> {
    let raw = ctx.optional::<PrefixRaw>(llm, "prefix").ok()?;
    let Some(raw) = raw else {
        return Some(None);
    };
    let at = |k: &str| llm.at_or_near(&["prefix", k]);
    let tokens = count(ctx, raw.tokens, 1, at("tokens"), "prefix.tokens");
    let groups = match raw.groups {
        Some(g) => count(ctx, g, 1, at("groups"), "prefix.groups"),
        None => Some(1),
    };
    let zipf = raw.zipf.unwrap_or(0.0);
    if !(zipf >= 0.0 && zipf.is_finite()) {
        ctx.push(
            at("zipf"),
            format!("`prefix.zipf` must be zero or more, found {zipf}"),
            Some("0 draws the groups uniformly; 1 is the classic Zipf popularity".into()),
        );
        return None;
    }
    let from_key = raw.from_key.unwrap_or(false);
    if from_key && raw.zipf.is_some() {
        ctx.push(
            at("zipf"),
            "`prefix.zipf` cannot be used with `from_key: true`: the group is the request's key modulo `groups`",
            Some("give the workload `keys: { zipf: { n: <groups>, s: <zipf> } }` instead".into()),
        );
        return None;
    }
    let (tokens, groups) = (tokens?, groups?);
    if u64::from(groups) * u64::from(tokens) > MAX_PREFIX_TOKENS {
        ctx.push(
            at("groups"),
            format!(
                "`prefix`: {groups} groups of {tokens} tokens is more than {MAX_PREFIX_TOKENS} prefix tokens to cache (the cache keeps an entry per block of every group)"
            ),
            Some("use fewer groups or shorter prefixes".into()),
        );
        return None;
    }
    Some(Some(PrefixWorkload {
        tokens,
        groups,
        zipf,
        from_key,
    }))
}

/// The chunked scheduler's keys (`max_num_seqs` is set from `max_batch` by
/// the caller).
fn chunked_spec(ctx: &mut Ctx, llm: &SNode) -> Option<(ChunkedSpec, Option<f64>)> {
    // Outer `None`: a problem was recorded; inner `None`: absent.
    let at_least_one = |ctx: &mut Ctx, key: &str| -> Option<Option<u32>> {
        match ctx.optional::<i64>(llm, key) {
            Ok(None) => Some(None),
            Ok(Some(v)) => count(ctx, v, 1, llm.at_or_near(&[key]), key).map(Some),
            Err(()) => None,
        }
    };
    let budget = at_least_one(ctx, "max_num_batched_tokens").map(|b| b.unwrap_or(2048));
    let block_size = at_least_one(ctx, "kv_block_size").map(|b| b.unwrap_or(16));
    let mut num_blocks = at_least_one(ctx, "kv_blocks");
    let kv_bytes = at_least_one(ctx, "kv_bytes_per_token");
    let mut model_kv_bytes = None;
    let cost = if llm.get("hardware").is_some() || llm.get("model").is_some() {
        match (roofline(ctx, llm), block_size, num_blocks) {
            (Some(r), Some(bs), Some(None)) => {
                let n = r.kv_blocks(bs, GPU_MEMORY_UTILIZATION, RESERVE_BYTES);
                if n == 0 {
                    ctx.push(
                        llm.at_or_near(&["model"]),
                        format!(
                            "the model's {:.1} GB of weights per GPU leave no KV cache in {:.0} GiB x {GPU_MEMORY_UTILIZATION} less {:.1} GB of reserve",
                            r.weight_bytes() / 1e9,
                            r.gpu.memory_bytes / (1024.0 * 1024.0 * 1024.0),
                            RESERVE_BYTES / 1e9
                        ),
                        Some("raise `hardware.tp` or pick a GPU with more memory".into()),
                    );
                    None
                } else {
                    num_blocks = Some(Some(n));
                    model_kv_bytes = Some(r.kv_bytes_per_token());
                    Some(r.cost())
                }
            }
            (Some(r), ..) => {
                model_kv_bytes = Some(r.kv_bytes_per_token());
                Some(r.cost())
            }
            _ => None,
        }
    } else {
        ctx.required::<IterationRaw>(
            llm,
            "iteration",
            Some("add e.g. `iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }`, or `hardware` and `model`".into()),
        )
        .and_then(|i| iteration_cost(ctx, llm, &i))
    };
    let prefix_caching = ctx
        .optional::<bool>(llm, "prefix_caching")
        .map(|b| b.unwrap_or(true));
    let (block_size, num_blocks) = (block_size?, num_blocks?);
    let kv_bytes = kv_bytes?.map(f64::from).or(model_kv_bytes);
    let swap = swap_spec(ctx, llm, block_size, kv_bytes);
    let watermark_blocks = watermark_blocks(ctx, llm, num_blocks);
    let spec = ChunkedSpec {
        max_num_batched_tokens: budget?,
        max_num_seqs: 1,
        block_size,
        num_blocks,
        cost: cost?,
        prefix_caching: prefix_caching.ok()?,
        swap: swap?,
        watermark_blocks: watermark_blocks?,
    };
    Some((spec, kv_bytes))
}

/// Most bytes an iteration table file may have (see `docs/limits.md`).
pub const MAX_TABLE_FILE_BYTES: u64 = 4 << 20;

/// `iteration`: the affine cost, or a table plus the affine terms given;
/// `None` when a problem was recorded.
fn iteration_cost(ctx: &mut Ctx, llm: &SNode, i: &IterationRaw) -> Option<IterationCost> {
    let ps = |d: Option<Duration>| d.map_or(0, |d| d.as_nanos().saturating_mul(1000));
    let Some(name) = &i.table else {
        for (key, given) in [
            ("floor", i.floor.is_some()),
            ("per_token", i.per_token.is_some()),
        ] {
            if !given {
                ctx.push(
                    llm.at_or_near(&["iteration"]),
                    format!("`iteration` needs `{key}` (or a measured `table`)"),
                    Some("e.g. `iteration: { floor: 14ms, per_token: 10us }`, or `iteration: { table: times.csv }`".into()),
                );
                return None;
            }
        }
        return Some(IterationCost::affine(
            i.floor.map_or(SimDuration::ZERO, |d| d.to_sim()),
            ps(i.per_token),
            i.per_context_token_ps,
            i.per_prefill_pair_ps,
        ));
    };
    let at = llm.at_or_near(&["iteration", "table"]);
    let text = match crate::read_bounded(&ctx.dir.join(name), MAX_TABLE_FILE_BYTES) {
        Ok(text) => text,
        Err(e) => {
            ctx.push(
                at,
                format!(
                    "cannot read the iteration table `{name}` (looked for {}): {e}",
                    ctx.dir.join(name).display()
                ),
                Some("a table's path is relative to the scenario file".into()),
            );
            return None;
        }
    };
    match IterationTable::parse_csv(&text) {
        Ok(table) => Some(
            IterationCost::affine(
                i.floor.map_or(SimDuration::ZERO, |d| d.to_sim()),
                ps(i.per_token),
                i.per_context_token_ps,
                i.per_prefill_pair_ps,
            )
            .with_table(Arc::new(table)),
        ),
        Err(problems) => {
            for p in problems {
                let place = match (p.line, p.column) {
                    (0, _) => String::new(),
                    (l, 0) => format!(":{l}"),
                    (l, c) => format!(":{l}:{c}"),
                };
                ctx.push(
                    at,
                    format!("iteration table {name}{place}: {}", p.message),
                    Some(
                        "see the table format in docs/llm-serving.md (`tokens,context_tokens,time_ms`, a full grid)"
                            .into(),
                    ),
                );
            }
            None
        }
    }
}

/// vLLM's default CPU swap space per GPU (`swap_space`, 4 GiB).
const SWAP_SPACE_BYTES: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;
/// Default host link for the swap copies: PCIe 4.0 x16, one direction, GB/s.
const SWAP_GBPS: f64 = 32.0;

/// `preemption`, `swap_gbps` and `swap_blocks`: the swap settings, `None`
/// inside for recompute; outer `None` when a problem was recorded.
fn swap_spec(
    ctx: &mut Ctx,
    llm: &SNode,
    block_size: u32,
    kv_bytes_per_token: Option<f64>,
) -> Option<Option<SwapSpec>> {
    let mode = ctx.optional::<PreemptionRaw>(llm, "preemption").ok()?;
    let swap = mode == Some(PreemptionRaw::Swap);
    if !swap {
        for key in ["swap_gbps", "swap_blocks"] {
            if let Some((k, _)) = llm.entry(key) {
                ctx.push(
                    k,
                    format!("`{key}` applies only with `preemption: swap`"),
                    Some("add `preemption: swap`, or remove the key".into()),
                );
                return None;
            }
        }
        return Some(None);
    }
    let gbps = ctx
        .optional::<f64>(llm, "swap_gbps")
        .ok()?
        .unwrap_or(SWAP_GBPS);
    if !(gbps > 0.0 && gbps.is_finite()) {
        ctx.push(
            llm.at_or_near(&["swap_gbps"]),
            format!("`swap_gbps` must be greater than zero, found {gbps}"),
            Some("PCIe 4.0 x16 is 32, PCIe 5.0 x16 is 64".into()),
        );
        return None;
    }
    let Some(kv) = kv_bytes_per_token else {
        ctx.push(
            llm.at_or_near(&["preemption"]),
            "`preemption: swap` needs the KV bytes per token to time the copies",
            Some(
                "add e.g. `kv_bytes_per_token: 131072` (Llama-3.1-8B in BF16), or use `hardware` and `model`"
                    .into(),
            ),
        );
        return None;
    };
    let block_bytes = kv * f64::from(block_size);
    let cpu_blocks = match ctx.optional::<i64>(llm, "swap_blocks").ok()? {
        Some(v) => u64::from(count(
            ctx,
            v,
            1,
            llm.at_or_near(&["swap_blocks"]),
            "swap_blocks",
        )?),
        None => ((SWAP_SPACE_BYTES / block_bytes).floor() as u64).max(1),
    };
    Some(Some(SwapSpec {
        // bytes / (GB/s) in picoseconds: bytes / gbps * 1000.
        ps_per_block: (block_bytes / gbps * 1000.0).round() as u64,
        bytes_per_block: block_bytes.round() as u64,
        cpu_blocks,
    }))
}

/// `watermark` as blocks, `floor(watermark * kv_blocks)`; outer `None` when
/// a problem was recorded.
fn watermark_blocks(ctx: &mut Ctx, llm: &SNode, num_blocks: Option<u32>) -> Option<u32> {
    let w = ctx.optional::<Share>(llm, "watermark").ok()?;
    let Some(w) = w.map(Share::fraction) else {
        return Some(0);
    };
    if !(0.0..1.0).contains(&w) {
        ctx.push(
            llm.at_or_near(&["watermark"]),
            format!("`watermark` must be in [0, 1), found {w}"),
            Some("a share of the KV blocks, e.g. 0.01 (vLLM V0's default)".into()),
        );
        return None;
    }
    let Some(n) = num_blocks else {
        ctx.push(
            llm.at_or_near(&["watermark"]),
            "`watermark` needs a finite KV cache",
            Some("add `kv_blocks`, or `hardware` and `model` to derive it".into()),
        );
        return None;
    };
    Some((w * f64::from(n)).floor() as u32)
}

/// The roofline mode's `hardware`, `model` and `efficiency`; `None` when a
/// problem was recorded.
fn roofline(ctx: &mut Ctx, llm: &SNode) -> Option<Roofline> {
    if let Some((k, _)) = llm.entry("iteration") {
        ctx.push(
            k,
            "`iteration` and `hardware`/`model` both set the iteration cost",
            Some(
                "keep `iteration` (measured coefficients) or `hardware` and `model` (derived)"
                    .into(),
            ),
        );
        return None;
    }
    let hw = ctx.required::<HardwareRaw>(
        llm,
        "hardware",
        Some("add e.g. `hardware: { gpu: h100, tp: 1 }`".into()),
    );
    let model = ctx.required::<String>(llm, "model", Some("add e.g. `model: llama-3.1-8b`".into()));
    let eff = ctx.optional::<EfficiencyRaw>(llm, "efficiency");
    let (hw, model, eff) = (hw?, model?, eff.ok()?);
    let lookup = |ctx: &mut Ctx, what: &str, name: &str, names: Vec<String>, at: &SNode| {
        let help = match crate::de::suggest(name, names.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the shipped ones are {}", names.join(", ")),
        };
        ctx.push(
            at,
            format!("unknown {what} `{name}` (data/llm/{what}s.yaml)"),
            Some(help),
        );
    };
    let gpus = gpus();
    let gpu = gpus.get(&hw.gpu).copied();
    if gpu.is_none() {
        lookup(
            ctx,
            "gpu",
            &hw.gpu,
            gpus.keys().cloned().collect(),
            llm.at_or_near(&["hardware", "gpu"]),
        );
    }
    let models = models();
    let shape = models.get(&model).copied();
    if shape.is_none() {
        lookup(
            ctx,
            "model",
            &model,
            models.keys().cloned().collect(),
            llm.at_or_near(&["model"]),
        );
    }
    let tp = count(
        ctx,
        hw.tp.unwrap_or(1),
        1,
        llm.at_or_near(&["hardware", "tp"]),
        "hardware.tp",
    );
    let link = hw.link_gbps.unwrap_or(64.0);
    if !(link > 0.0 && link.is_finite()) {
        ctx.push(
            llm.at_or_near(&["hardware", "link_gbps"]),
            format!("`hardware.link_gbps` must be greater than zero, found {link}"),
            Some("PCIe 5.0 x16 is 64; NVLink 4 is 450 per direction".into()),
        );
        return None;
    }
    let efficiency = match eff {
        None => Efficiency::FITTED,
        Some(e) => {
            for (v, k) in [(e.compute, "compute"), (e.memory, "memory")] {
                if !(v > 0.0 && v <= 1.0) {
                    ctx.push(
                        llm.at_or_near(&["efficiency", k]),
                        format!("`efficiency.{k}` must be in (0, 1], found {v}"),
                        Some("a share of the data sheet's peak".into()),
                    );
                    return None;
                }
            }
            Efficiency {
                compute: e.compute,
                memory: e.memory,
                floor: e.floor.to_sim(),
            }
        }
    };
    Some(Roofline {
        model: shape?,
        gpu: gpu?,
        tp: tp?,
        link_bandwidth: link * 1e9,
        link_latency: hw
            .link_latency
            .map_or(SimDuration::from_micros(20), Duration::to_sim),
        efficiency,
    })
}

/// A token count or distribution, as a [`Distribution`] whose nanosecond
/// values are tokens.
fn token_distribution(
    ctx: &mut Ctx,
    llm: &SNode,
    key: &str,
    example: &str,
) -> Option<Distribution> {
    let help = Some(format!("add e.g. `{key}: {example}`"));
    let node = llm.at_or_near(&[key]);
    if llm
        .get(key)
        .is_some_and(|n| !matches!(n.node, Node::Map(_)))
    {
        let n: f64 = ctx.required(llm, key, help)?;
        if !(n >= 1.0 && n.is_finite()) {
            ctx.push(
                node,
                format!("`{key}` must be at least 1 token, found {n}"),
                None,
            );
            return None;
        }
        return Some(Distribution::Constant(SimDuration::from_nanos(
            (n + 0.5) as u64,
        )));
    }
    let raw: TokenDistRaw = ctx.required(llm, key, help)?;
    let inner = content(node);
    let before = ctx.issues.len();
    let positive = |ctx: &mut Ctx, x: f64, at: &SNode, what: &str| {
        if !(x > 0.0 && x.is_finite()) {
            ctx.push(
                at,
                format!("`{what}` of `{key}` must be greater than zero, found {x}"),
                None,
            );
        }
    };
    let dist = match raw {
        TokenDistRaw::Constant(n) => {
            if !(n >= 1.0 && n.is_finite()) {
                ctx.push(
                    inner,
                    format!("`{key}` must be at least 1 token, found {n}"),
                    None,
                );
            }
            Distribution::Constant(SimDuration::from_nanos((n.max(0.0) + 0.5) as u64))
        }
        TokenDistRaw::Exponential(mean) => {
            positive(ctx, mean, inner, "exponential");
            Distribution::Exponential { mean_ns: mean }
        }
        TokenDistRaw::Uniform((low, high)) => {
            if !(low >= 0.0 && low <= high && high.is_finite()) {
                ctx.push(
                    inner,
                    format!(
                        "`uniform` of `{key}` needs two bounds, zero or more, the lower first; found [{low}, {high}]"
                    ),
                    None,
                );
            }
            Distribution::Uniform {
                low_ns: low,
                high_ns: high,
            }
        }
        TokenDistRaw::Lognormal(l) => {
            positive(ctx, l.median, inner.at_or_near(&["median"]), "median");
            if !(l.sigma >= 0.0 && l.sigma.is_finite()) {
                ctx.push(
                    inner.at_or_near(&["sigma"]),
                    format!("`sigma` must be zero or more, found {}", l.sigma),
                    None,
                );
            }
            Distribution::LogNormal {
                median_ns: l.median,
                sigma: l.sigma,
            }
        }
        TokenDistRaw::Erlang(e) => {
            positive(ctx, e.mean, inner.at_or_near(&["mean"]), "mean");
            let k = count(ctx, e.k, 1, inner.at_or_near(&["k"]), "k");
            Distribution::Erlang {
                k: k.unwrap_or(1),
                mean_ns: e.mean,
            }
        }
    };
    (ctx.issues.len() == before).then_some(dist)
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{
        ComponentKind, DecodeTime, Distribution, LlmScheduler, LlmServerSpec, PrefillTime,
    };

    use crate::test_support::{first_kind, model_server_scenario, only_problem};
    use crate::{LoadOptions, Problem, load_str};

    const LLM: &str = "    llm:\n      max_batch: 32\n      prefill: { affine: { base: 20ms, per_token: 0.1ms } }\n      decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }\n      prompt_tokens: { constant: 512 }\n      output_tokens: { exponential: 200 }\n";

    fn load(body: &str) -> Result<LlmServerSpec, Vec<Problem>> {
        match first_kind(&model_server_scenario(body))? {
            ComponentKind::LlmServer(m) => Ok(m),
            other => panic!("LlmServer expected, got {other:?}"),
        }
    }

    /// The one problem of a bad body: (line, column, message, help).
    fn problem(body: &str) -> (usize, usize, String, Option<String>) {
        only_problem(&model_server_scenario(body))
    }

    fn us(x: u64) -> SimDuration {
        SimDuration::from_micros(x)
    }

    #[test]
    fn every_key() {
        let m = load(&format!(
            "    slots: 2\n    queue_capacity: 100\n    cold_start: 20s\n{LLM}      kv_cache_tokens: 100000\n"
        ))
        .unwrap();
        assert_eq!(m.slots, 2);
        assert_eq!(m.max_batch, 32);
        assert_eq!(
            m.prefill,
            PrefillTime {
                base: us(20_000),
                per_token: us(100)
            }
        );
        assert_eq!(
            m.decode_step,
            DecodeTime {
                base: us(10_000),
                per_sequence: us(200)
            }
        );
        assert_eq!(
            m.prompt_tokens,
            Distribution::Constant(SimDuration::from_nanos(512))
        );
        assert_eq!(
            m.output_tokens,
            Distribution::Exponential { mean_ns: 200.0 }
        );
        assert_eq!(m.kv_cache_tokens, Some(100_000));
        assert_eq!(m.queue_capacity, Some(100));
        assert_eq!(
            m.cold_start,
            Some(Distribution::Constant(SimDuration::from_secs(20)))
        );
    }

    const CHUNKED: &str = "    llm:\n      scheduler: chunked\n      max_batch: 128\n      iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }\n      prompt_tokens: 512\n      output_tokens: 200\n";

    #[test]
    fn chunked_keys_and_defaults() {
        use sysdes_models::{ChunkedSpec, IterationCost};
        let cost = IterationCost::affine(us(14_000), 10_000_000, 131_000, 1);
        let m = load(CHUNKED).unwrap();
        assert_eq!(
            m.scheduler,
            LlmScheduler::Chunked(ChunkedSpec {
                max_num_batched_tokens: 2048,
                max_num_seqs: 128,
                block_size: 16,
                num_blocks: None,
                prefix_caching: true,
                swap: None,
                watermark_blocks: 0,
                cost,
            })
        );
        // The affine view for the capacity estimate.
        assert_eq!(m.prefill.base, us(14_000));
        assert_eq!(m.decode_step.per_sequence, us(10));
        let m = load(&format!(
            "{CHUNKED}      max_num_batched_tokens: 512\n      kv_block_size: 32\n      kv_blocks: 100\n"
        ))
        .unwrap();
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert_eq!(
            (c.max_num_batched_tokens, c.block_size, c.num_blocks),
            (512, 32, Some(100))
        );
        assert_eq!(load(LLM).unwrap().scheduler, LlmScheduler::PrefillFirst);
    }

    #[test]
    fn keys_of_the_other_scheduler_are_located_errors() {
        let (line, _, msg, help) = problem(&format!("{CHUNKED}      kv_cache_tokens: 1000\n"));
        assert!(
            msg.contains("`kv_cache_tokens` applies only with `scheduler: prefill_first`"),
            "{msg}"
        );
        assert!(help.unwrap().contains("kv_blocks"));
        assert!(line > 0);
        let (_, _, msg, _) = problem(&format!("{LLM}      kv_blocks: 10\n"));
        assert!(
            msg.contains("`kv_blocks` applies only with `scheduler: chunked`"),
            "{msg}"
        );
        let (_, _, msg, _) = problem(&CHUNKED.replace("      iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }\n", ""));
        assert!(msg.contains("iteration"), "{msg}");
        let (_, _, msg, _) = problem(&format!("{CHUNKED}      kv_blocks: 0\n"));
        assert!(msg.contains("kv_blocks"), "{msg}");
        let (_, _, msg, _) = problem(&CHUNKED.replace("chunked", "fifo"));
        assert!(
            msg.contains("scheduler") || msg.contains("prefill_first"),
            "{msg}"
        );
    }

    #[test]
    fn prefix_keys() {
        let m = load(&format!(
            "{CHUNKED}      prefix: {{ tokens: 2000, groups: 20, zipf: 1.0 }}\n      prefix_caching: false\n"
        ))
        .unwrap();
        assert_eq!(
            m.prefix,
            Some(sysdes_models::PrefixWorkload {
                tokens: 2000,
                groups: 20,
                zipf: 1.0,
                from_key: false
            })
        );
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert!(!c.prefix_caching);
        // Defaults: one group, uniform, caching on; prefill-first takes a prefix too.
        let m = load(&format!("{CHUNKED}      prefix: {{ tokens: 300 }}\n")).unwrap();
        assert_eq!(m.prefix.map(|x| (x.groups, x.zipf)), Some((1, 0.0)));
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert!(c.prefix_caching);
        assert!(load(&format!("{LLM}      prefix: {{ tokens: 300 }}\n")).is_ok());
    }

    /// `CHUNKED` with `hardware`/`model` instead of `iteration`.
    fn roofline_body(extra: &str) -> String {
        CHUNKED.replace(
            "      iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }\n",
            extra,
        )
    }

    #[test]
    fn shipped_gpus_and_models_parse() {
        let gpus = super::gpus();
        assert_eq!(
            gpus.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a100", "h100", "h200", "l4", "rtx-4090", "rtx-pro-6000"]
        );
        assert_eq!(gpus["h100"].memory_bandwidth, 3350e9);
        let models = super::models();
        assert_eq!(
            models.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "llama-3.1-70b",
                "llama-3.1-8b",
                "qwen3-30b-a3b",
                "qwen3-32b"
            ]
        );
        assert_eq!(models["qwen3-30b-a3b"].active_params, 3.3e9);
    }

    /// Qwen3-32B on two RTX PRO 6000: the cost is the roofline's, and the
    /// KV blocks what 96 GiB x 0.9 holds beside 32.8 GB of weights split
    /// two ways and 1.5 GB of reserve, at 2 x 64 x 4 x 128 x 2 bytes per
    /// token: 27,881 blocks of 16.
    #[test]
    fn hardware_and_model_derive_the_cost_and_the_kv_blocks() {
        let m = load(&roofline_body(
            "      hardware: { gpu: rtx-pro-6000, tp: 2, link_gbps: 64, link_latency: 20us }\n      model: qwen3-32b\n",
        ))
        .unwrap();
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        let r = sysdes_models::Roofline {
            model: super::models()["qwen3-32b"],
            gpu: super::gpus()["rtx-pro-6000"],
            tp: 2,
            link_bandwidth: 64e9,
            link_latency: SimDuration::from_micros(20),
            efficiency: sysdes_models::Efficiency::FITTED,
        };
        assert_eq!(c.cost, r.cost());
        assert!(c.cost.roofline);
        assert_eq!(c.num_blocks, Some(27_881));
        // Given kv_blocks and efficiency win.
        let m = load(&roofline_body(
            "      hardware: { gpu: h100 }\n      model: llama-3.1-8b\n      kv_blocks: 100\n      efficiency: { compute: 0.5, memory: 0.5, floor: 1ms }\n",
        ))
        .unwrap();
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert_eq!(c.num_blocks, Some(100));
        assert_eq!(c.cost.floor, SimDuration::from_millis(1));
        // 16.06 GB less the 1.05 GB embedding (gathered, not streamed),
        // 15,009,326,848 bytes at 1675 GB/s.
        assert_eq!(c.cost.weights_ps, 8_960_792_148);
    }

    #[test]
    fn bad_roofline_keys_are_located_errors() {
        let (_, _, msg, help) = problem(&roofline_body(
            "      hardware: { gpu: h10 }\n      model: llama-3.1-8b\n",
        ));
        assert!(msg.contains("unknown gpu `h10`"), "{msg}");
        assert_eq!(help.as_deref(), Some("did you mean `h100`?"));
        let (_, _, msg, _) = problem(&roofline_body("      hardware: { gpu: h100 }\n"));
        assert!(msg.contains("missing required key `model`"), "{msg}");
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      hardware: {{ gpu: h100 }}\n      model: llama-3.1-8b\n"
        ));
        assert!(msg.contains("both set the iteration cost"), "{msg}");
        let (_, _, msg, help) = problem(&roofline_body(
            "      hardware: { gpu: l4 }\n      model: llama-3.1-70b\n",
        ));
        assert!(msg.contains("leave no KV cache"), "{msg}");
        assert!(help.unwrap().contains("tp"));
        let (_, _, msg, _) = problem(&roofline_body(
            "      hardware: { gpu: h100 }\n      model: llama-3.1-8b\n      efficiency: { compute: 2, memory: 0.5, floor: 1ms }\n",
        ));
        assert!(
            msg.contains("`efficiency.compute` must be in (0, 1]"),
            "{msg}"
        );
        let (_, _, msg, _) = problem(&format!("{LLM}      model: llama-3.1-8b\n"));
        assert!(
            msg.contains("applies only with `scheduler: chunked`"),
            "{msg}"
        );
    }

    /// Swap: 131072 bytes per token x 16 = 2 MiB per block, at 32 GB/s
    /// 65.536 us per block; 4 GiB of swap space holds 2048 blocks.
    #[test]
    fn swap_and_watermark_keys() {
        use sysdes_models::SwapSpec;
        let chunked = |extra: &str| {
            let LlmScheduler::Chunked(c) = load(&format!("{CHUNKED}{extra}")).unwrap().scheduler
            else {
                panic!("chunked expected");
            };
            c
        };
        let c = chunked(
            "      preemption: swap
      kv_bytes_per_token: 131072
",
        );
        assert_eq!(
            c.swap,
            Some(SwapSpec {
                ps_per_block: 65_536_000,
                bytes_per_block: 2_097_152,
                cpu_blocks: 2048,
            })
        );
        let c = chunked(
            "      preemption: swap
      kv_bytes_per_token: 1000
      swap_gbps: 64
      swap_blocks: 10
      kv_blocks: 1000
      watermark: 0.015
",
        );
        // 16,000 bytes at 64 GB/s: 250 ns = 250,000 ps; floor(0.015 x 1000) = 15.
        assert_eq!(
            c.swap,
            Some(SwapSpec {
                ps_per_block: 250_000,
                bytes_per_block: 16_000,
                cpu_blocks: 10,
            })
        );
        assert_eq!(c.watermark_blocks, 15);
        assert_eq!(
            chunked(
                "      preemption: recompute
"
            )
            .swap,
            None
        );
        // The roofline mode gives the bytes per token (Llama-3.1-8B: 128 KiB).
        let m = load(&roofline_body(
            "      hardware: { gpu: h100 }
      model: llama-3.1-8b
      preemption: swap
      watermark: 0.01
",
        ))
        .unwrap();
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert_eq!(c.swap.map(|s| s.bytes_per_block), Some(2_097_152));
        assert_eq!(c.watermark_blocks, c.num_blocks.unwrap() / 100);
    }

    /// A prefill server `p` handing off to a decode server `d`.
    const DISAGG: &str = "name: t\nduration: 10s\nworkloads:\n  - name: users\n    target: p\n    arrival: { poisson: 10/s }\ncomponents:\n  p:\n    type: model_server\n    llm:\n      role: prefill\n      decode_to: d\n      kv_link: { gbps: 50, latency: 10us }\n      kv_bytes_per_token: 131072\n      scheduler: chunked\n      max_batch: 8\n      iteration: { floor: 10ms, per_token: 10us }\n      prompt_tokens: 100\n      output_tokens: 10\n  d:\n    type: model_server\n    llm:\n      role: decode\n      scheduler: chunked\n      max_batch: 8\n      iteration: { floor: 10ms, per_token: 10us }\n";

    #[test]
    fn disaggregation_keys() {
        use sysdes_kernel::ComponentId;
        use sysdes_models::{KvLink, LlmRole, PrefillRole};
        let spec = crate::test_support::load(DISAGG).unwrap();
        let role = |i: usize| match &spec.components[i].kind {
            ComponentKind::LlmServer(m) => m.role,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            role(0),
            LlmRole::Prefill(PrefillRole {
                decode_to: ComponentId(1),
                link: KvLink {
                    gbps: 50.0,
                    latency: us(10),
                    kv_bytes_per_token: 131_072,
                },
            })
        );
        assert_eq!(role(1), LlmRole::Decode);
        // A balancer of decode servers is a decode pool too.
        let pool = DISAGG.replace("decode_to: d", "decode_to: lb")
            + "  lb:\n    type: load_balancer\n    policy: least_kv\n    backends: [d]\n";
        assert!(crate::test_support::load(&pool).is_ok());
    }

    #[test]
    fn bad_disaggregation_wiring_is_a_located_error() {
        use crate::test_support::{has, located};
        let check = |text: String, line: &str, needle: &str| {
            let p = located(&text);
            assert_eq!(p.len(), 1, "{p:#?}");
            assert!(p[0].starts_with(line), "{p:#?}");
            has(&p, needle);
        };
        // decode_to names a plain server: the message says what it is and
        // the help names the decode server, not "add `role: decode` to the
        // server's `llm` block" (it has none).
        let server = "  s:\n    type: server\n    service_time: 10ms\n";
        let p = located(&(DISAGG.replace("decode_to: d\n", "decode_to: s\n") + server));
        assert_eq!(
            p,
            [
                "12:18: `decode_to: s` must name a model server with `llm.role: decode` (or a load balancer whose backends all are), but `s` is a `server` (point `decode_to` at `d`)"
            ]
        );
        // decode_to names a balancer with a backend that cannot decode: the
        // message names that backend, the help the balancer's backends.
        let lb = "  lb:\n    type: load_balancer\n    backends: [d, s]\n";
        let p = located(&(DISAGG.replace("decode_to: d\n", "decode_to: lb\n") + server + lb));
        assert_eq!(
            p,
            [
                "12:18: `decode_to: lb` names a load balancer, so its backends must all be model servers with `llm.role: decode`, but `s` is a `server` (give those backends `llm.role: decode` (and `scheduler: chunked`), list only decode servers in `lb`'s `backends`, or point `decode_to` at `d`)"
            ]
        );
        // ... and with no decode server anywhere, the help says to add one.
        let colocated = DISAGG.replace(
            "      role: decode\n",
            "      prompt_tokens: 100\n      output_tokens: 10\n",
        );
        let p = located(&(colocated.replace("decode_to: d\n", "decode_to: lb\n") + server + lb));
        assert_eq!(
            p,
            [
                "12:18: `decode_to: lb` names a load balancer, so its backends must all be model servers with `llm.role: decode`, but `d` is `role: colocated` (the default) and `s` is a `server` (give those backends `llm.role: decode` (and `scheduler: chunked`), list only decode servers in `lb`'s `backends`, or add a model server with `llm: { role: decode, scheduler: chunked }` and point `decode_to` at it (there is none yet))"
            ]
        );
        // decode_to names a colocated server, or a prefill one.
        check(
            DISAGG.replace(
                "      role: decode\n",
                "      prompt_tokens: 100\n      output_tokens: 10\n",
            ),
            "12:18:",
            "`decode_to: d` must name a model server with `llm.role: decode`",
        );
        check(
            DISAGG.replace("decode_to: d\n", "decode_to: p\n"),
            "12:18:",
            "`decode_to: p` must name a model server with `llm.role: decode`",
        );
        check(
            DISAGG.replace("decode_to: d\n", "decode_to: dd\n"),
            "12:18:",
            "did you mean `d`?",
        );
        check(
            DISAGG.replace("      decode_to: d\n", ""),
            "11:13:",
            "`role: prefill` needs `decode_to`",
        );
        check(
            DISAGG.replace("      kv_link: { gbps: 50, latency: 10us }\n", ""),
            "11:13:",
            "`role: prefill` needs `kv_link`",
        );
        check(
            DISAGG.replace("      kv_bytes_per_token: 131072\n", ""),
            "13:16:",
            "needs the KV bytes per token",
        );
        check(
            DISAGG.replace("gbps: 50", "gbps: 0"),
            "13:",
            "`kv_link.gbps` must be greater than zero",
        );
        check(
            DISAGG.replace(
                "      role: decode\n",
                "      role: decode\n      decode_to: p\n",
            ),
            "24:18:",
            "`decode_to` applies only with `role: prefill` (this server is `role: decode`)",
        );
        let (_, _, msg, help) = problem(&format!("{LLM}      role: decode\n"));
        assert_eq!(
            msg,
            "`role: prefill` and `role: decode` need `scheduler: chunked`"
        );
        assert!(help.unwrap().contains("scheduler: chunked"));
    }

    #[test]
    fn bad_swap_and_watermark_keys_are_located_errors() {
        let (line, col, msg, help) = problem(&format!(
            "{CHUNKED}      preemption: swap
"
        ));
        assert_eq!(
            msg,
            "`preemption: swap` needs the KV bytes per token to time the copies"
        );
        assert!(help.unwrap().contains("kv_bytes_per_token"));
        assert!(line > 0 && col > 0);
        let (_, _, msg, help) = problem(&format!(
            "{CHUNKED}      swap_gbps: 10
"
        ));
        assert_eq!(msg, "`swap_gbps` applies only with `preemption: swap`");
        assert!(help.unwrap().contains("preemption: swap"));
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      preemption: swap
      kv_bytes_per_token: 10
      swap_gbps: 0
"
        ));
        assert!(
            msg.contains("`swap_gbps` must be greater than zero"),
            "{msg}"
        );
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      preemption: swap
      kv_bytes_per_token: 10
      swap_blocks: 0
"
        ));
        assert!(msg.contains("swap_blocks"), "{msg}");
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      preemption: swapp
"
        ));
        assert!(msg.contains("swap"), "{msg}");
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      kv_blocks: 10
      watermark: 1
"
        ));
        assert_eq!(msg, "`watermark` must be in [0, 1), found 1");
        let (_, _, msg, help) = problem(&format!(
            "{CHUNKED}      watermark: 0.01
"
        ));
        assert_eq!(msg, "`watermark` needs a finite KV cache");
        assert!(help.unwrap().contains("kv_blocks"));
        let (_, _, msg, _) = problem(&format!(
            "{LLM}      preemption: swap
"
        ));
        assert!(
            msg.contains("`preemption` applies only with `scheduler: chunked`"),
            "{msg}"
        );
    }

    #[test]
    fn bad_prefix_keys_are_located_errors() {
        let (line, _, msg, _) = problem(&format!("{LLM}      prefix_caching: true\n"));
        assert!(line > 0);
        assert!(
            msg.contains("`prefix_caching` applies only with `scheduler: chunked`"),
            "{msg}"
        );
        let (_, _, msg, _) = problem(&format!("{CHUNKED}      prefix: {{ tokens: 0 }}\n"));
        assert_eq!(msg, "`prefix.tokens` must be at least 1, found 0");
        let (_, _, msg, help) = problem(&format!(
            "{CHUNKED}      kv_blocks: 100\n      prefix: {{ tokens: 1600 }}\n"
        ));
        assert!(
            msg.contains("`prefix.tokens` (1600) plus the shortest prompt and output is more than the KV cache holds (100 KV blocks of 16 tokens, 1600 tokens)"),
            "{msg}"
        );
        assert_eq!(
            help.as_deref(),
            Some("use a shorter prefix or a larger KV cache")
        );
        assert!(
            load(&format!(
                "{CHUNKED}      kv_blocks: 100\n      prefix: {{ tokens: 1598 }}\n"
            ))
            .is_ok()
        );
        let (_, _, msg, help) = problem(&format!(
            "{CHUNKED}      prefix: {{ tokens: 10, zipf: -1 }}\n"
        ));
        assert!(msg.contains("`prefix.zipf` must be zero or more"), "{msg}");
        assert!(help.unwrap().contains("uniform"));
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      prefix: {{ tokens: 10, grups: 2 }}\n"
        ));
        assert!(msg.contains("grups"), "{msg}");
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      prefix: {{ tokens: 100000, groups: 100000 }}\n"
        ));
        assert!(msg.contains("prefix tokens to cache"), "{msg}");
    }

    #[test]
    fn defaults_and_bare_numbers() {
        let body = LLM.replace("{ constant: 512 }", "300").replace(
            "{ exponential: 200 }",
            "{ lognormal: { median: 150, sigma: 0.8 } }",
        );
        let m = load(&body).unwrap();
        assert_eq!(m.slots, 1);
        assert_eq!(
            (m.kv_cache_tokens, m.queue_capacity, m.cold_start),
            (None, None, None)
        );
        assert_eq!(
            m.prompt_tokens,
            Distribution::Constant(SimDuration::from_nanos(300))
        );
        assert_eq!(
            m.output_tokens,
            Distribution::LogNormal {
                median_ns: 150.0,
                sigma: 0.8
            }
        );
        let m = load(&LLM.replace("{ exponential: 200 }", "{ uniform: [10, 400] }")).unwrap();
        assert_eq!(
            m.output_tokens,
            Distribution::Uniform {
                low_ns: 10.0,
                high_ns: 400.0
            }
        );
    }

    #[test]
    fn typos_suggest_the_right_key() {
        let (line, column, message, help) = problem(&LLM.replace("max_batch", "max_btch"));
        assert_eq!((line, column), (11, 7));
        assert_eq!(message, "unknown key `max_btch`");
        assert_eq!(help.as_deref(), Some("did you mean `max_batch`?"));
        let (line, _, message, help) = problem(&LLM.replace("per_sequence", "per_seq"));
        assert_eq!(line, 13);
        assert!(message.contains("per_seq"), "{message}");
        assert!(help.unwrap().contains("per_sequence"));
        let (line, column, message, help) = problem(&format!("    cold_strt: 1s\n{LLM}"));
        assert_eq!((line, column), (10, 5));
        assert_eq!(message, "unknown key `cold_strt`");
        assert_eq!(help.as_deref(), Some("did you mean `cold_start`?"));
    }

    #[test]
    fn batching_keys_do_not_mix_with_llm() {
        let (line, column, message, help) =
            problem(&format!("    batching: {{ max_batch: 8 }}\n{LLM}"));
        assert_eq!((line, column), (10, 5));
        assert!(message.contains("LLM mode"), "{message}");
        assert!(help.unwrap().contains("llm.max_batch"));
    }

    #[test]
    fn missing_and_out_of_range_values() {
        let (line, _, message, help) = problem(&LLM.replace(
            "      decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }\n",
            "",
        ));
        assert_eq!(line, 11);
        assert_eq!(message, "missing required key `decode_step`");
        assert!(help.unwrap().contains("per_sequence"));
        let (line, column, message, _) = problem(&LLM.replace("max_batch: 32", "max_batch: 0"));
        assert_eq!((line, column), (11, 18));
        assert_eq!(message, "`max_batch` must be at least 1, found 0");
        let (line, _, message, _) = problem(&LLM.replace("{ constant: 512 }", "0"));
        assert_eq!(line, 14);
        assert!(message.contains("at least 1 token"), "{message}");
        let (line, _, message, _) =
            problem(&LLM.replace("{ exponential: 200 }", "{ exponential: -3 }"));
        assert_eq!(line, 15);
        assert!(message.contains("greater than zero"), "{message}");
        let (_, _, message, _) = problem(&LLM.replace("base: 20ms", "base: 20"));
        assert!(message.contains("unit"), "{message}");
        let (line, _, message, _) = problem(&format!("{LLM}      kv_cache_tokens: 0\n"));
        assert_eq!(line, 16);
        assert!(message.contains("kv_cache_tokens"), "{message}");
        let (_, _, message, _) = problem("    llm: 5\n");
        assert!(message.contains("expected a map"), "{message}");
    }

    #[test]
    fn a_crash_fault_can_target_a_model_server_in_llm_mode() {
        let text = format!(
            "{}{LLM}faults:\n  - {{ crash: gpu, at: 1s, for: 1s }}\n",
            model_server_scenario("")
        );
        let loaded = load_str("t.yaml", &text, &LoadOptions::default()).expect("accepted");
        assert_eq!(loaded.spec.faults.len(), 1);
    }

    #[test]
    fn schema_describes_llm_mode() {
        let text = crate::json_schema().to_string();
        for word in [
            "decode_step",
            "per_sequence",
            "prompt_tokens",
            "kv_cache_tokens",
            "decode_to",
            "kv_link",
            "LlmRole",
            "LlmKvLink",
        ] {
            assert!(text.contains(word), "schema lacks {word}");
        }
    }

    #[test]
    fn set_overrides_reach_llm_keys() {
        let options = LoadOptions {
            overrides: vec!["components.gpu.llm.max_batch=4".into()],
            seed: None,
            max_memory: None,
            prices: None,
        };
        let spec = load_str("t.yaml", &model_server_scenario(LLM), &options)
            .unwrap()
            .spec;
        let ComponentKind::LlmServer(m) = &spec.components[0].kind else {
            panic!("LLM model server expected");
        };
        assert_eq!(m.max_batch, 4);
    }

    /// `watermark` takes a share: `1.5%` is 0.015, the same 15 of 1000
    /// blocks as `0.015`; `100%` is outside [0, 1) like `1`.
    #[test]
    fn watermark_takes_a_percentage() {
        let blocks = |w: &str| {
            let m = load(&format!(
                "{CHUNKED}      kv_blocks: 1000\n      watermark: {w}\n"
            ))
            .unwrap();
            let LlmScheduler::Chunked(c) = m.scheduler else {
                panic!("chunked expected");
            };
            c.watermark_blocks
        };
        assert_eq!(blocks("1.5%"), 15);
        assert_eq!(blocks("0.015"), 15);
        assert_eq!(blocks("\"0%\""), 0);
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      kv_blocks: 1000\n      watermark: 100%\n"
        ));
        assert_eq!(msg, "`watermark` must be in [0, 1), found 1");
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      kv_blocks: 1000\n      watermark: 150%\n"
        ));
        assert!(msg.contains("a share must be from 0 to 1"), "{msg}");
    }

    /// Loads `body` as a scenario file in `dir` (tables are relative to it).
    fn load_in(dir: &std::path::Path, body: &str) -> Result<LlmServerSpec, Vec<Problem>> {
        let file = dir.join("t.yaml").display().to_string();
        match load_str(&file, &model_server_scenario(body), &LoadOptions::default()) {
            Ok(l) => match l.spec.components.into_iter().next().unwrap().kind {
                ComponentKind::LlmServer(m) => Ok(m),
                other => panic!("LlmServer expected, got {other:?}"),
            },
            Err(e) => Err(e.problems().to_vec()),
        }
    }

    fn table_body(iteration: &str) -> String {
        CHUNKED.replace(
            "      iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }\n",
            &format!("      iteration: {iteration}\n"),
        )
    }

    /// The shipped Vidur table (A100, Llama-3-8B linear layers) through a
    /// scenario at the repository root: its grid points exactly (1 token
    /// 8.832 ms, 2048 tokens 132.088 ms), the floor and the decode
    /// attention added, and the capacity view its chord.
    #[test]
    fn the_shipped_table_loads_relative_to_the_scenario() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let m = load_in(
            &root,
            &table_body("{ table: data/llm/a100-llama-3-8b-linear.csv, floor: 2ms, per_context_token_ps: 66000 }"),
        )
        .unwrap();
        let LlmScheduler::Chunked(c) = &m.scheduler else {
            panic!("chunked expected");
        };
        let table = c.cost.table.as_ref().expect("a table");
        assert_eq!((table.rows(), table.has_context()), (451, false));
        let at = |tokens: u64, decode_context: u64| {
            c.cost
                .time(&sysdes_models::Composition {
                    tokens,
                    decode_context,
                    ..Default::default()
                })
                .as_nanos()
        };
        assert_eq!(at(1, 0), 2_000_000 + 8_832_000);
        assert_eq!(at(2048, 0), 2_000_000 + 132_088_000);
        // 1000 context tokens at 66 ns each.
        assert_eq!(at(1, 1000), 2_000_000 + 8_832_000 + 66_000);
        assert_eq!(m.prefill.base.as_nanos(), 10_832_000);
        assert_eq!(
            m.prefill.per_token.as_nanos(),
            (132_088_000 - 8_832_000) / 2047
        );
    }

    #[test]
    fn bad_tables_are_located_errors() {
        let dir = std::env::temp_dir().join(format!("sysdes-llm-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("unsorted.csv"),
            "tokens,time_ms\n1,10\n300,20\n200,30\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("negative.csv"),
            "# times\ntokens,time_ms\n1,10\n2,-3\n",
        )
        .unwrap();
        std::fs::write(dir.join("columns.csv"), "tokens,seconds\n1,10\n").unwrap();
        std::fs::write(dir.join("empty.csv"), "# nothing\n").unwrap();
        let one = |iteration: &str| {
            let p = load_in(&dir, &table_body(iteration)).unwrap_err();
            assert_eq!(p.len(), 1, "{p:#?}");
            (p[0].line, p[0].column, p[0].message.clone())
        };
        // At the `table` value (line 13 of the scenario, column 27), naming file:line:column.
        let (line, col, msg) = one("{ table: unsorted.csv }");
        assert_eq!((line, col), (13, 27));
        assert_eq!(
            msg,
            "iteration table unsorted.csv:4: rows must be sorted by `tokens`, each value once: tokens=200 comes after tokens=300"
        );
        let (_, _, msg) = one("{ table: negative.csv }");
        assert_eq!(
            msg,
            "iteration table negative.csv:4:3: `time_ms`: a time cannot be negative, found `-3`"
        );
        let p = load_in(&dir, &table_body("{ table: columns.csv }")).unwrap_err();
        assert!(
            p[0].message
                .starts_with("iteration table columns.csv:1:8: unknown column `seconds`"),
            "{p:#?}"
        );
        assert!(p[1].message.contains("missing time column"), "{p:#?}");
        let (_, _, msg) = one("{ table: empty.csv }");
        assert!(
            msg.starts_with("iteration table empty.csv: the table is empty"),
            "{msg}"
        );
        let (line, col, msg) = one("{ table: missing.csv }");
        assert_eq!((line, col), (13, 27));
        assert!(
            msg.starts_with("cannot read the iteration table `missing.csv`"),
            "{msg}"
        );
        // The shared bounded reader's refusals, in the table's words.
        std::fs::write(dir.join("latin1.csv"), b"tokens,time_ms\n1,\xe9\n").unwrap();
        let (_, _, msg) = one("{ table: latin1.csv }");
        assert!(
            msg.starts_with("cannot read the iteration table `latin1.csv` (looked for ")
                && msg.contains(": it is not UTF-8 text (invalid utf-8"),
            "{msg}"
        );
        let big = vec![b'#'; super::MAX_TABLE_FILE_BYTES as usize + 1];
        std::fs::write(dir.join("big.csv"), big).unwrap();
        let (_, _, msg) = one("{ table: big.csv }");
        assert!(
            msg.ends_with(": it is larger than the limit of 4 MiB (see docs/limits.md)"),
            "{msg}"
        );
        // Many bad rows: the first ten, then a count (regression: one
        // error per row).
        let rows: String = (0..25).map(|k| format!("x{k},1\n")).collect();
        std::fs::write(dir.join("rows.csv"), format!("tokens,time_ms\n{rows}")).unwrap();
        let p = load_in(&dir, &table_body("{ table: rows.csv }")).unwrap_err();
        assert_eq!(p.len(), 11, "{p:#?}");
        assert_eq!(
            p[0].message,
            "iteration table rows.csv:2:1: `tokens` must be a whole number of zero or more, found `x0`"
        );
        assert_eq!(
            p[10].message,
            "iteration table rows.csv: and 15 more problems"
        );
        // Without a table, `floor` and `per_token` stay required.
        let (_, _, msg) = one("{ per_token: 10us }");
        assert_eq!(msg, "`iteration` needs `floor` (or a measured `table`)");
        let (_, _, msg) = one("{ floor: 1ms }");
        assert_eq!(msg, "`iteration` needs `per_token` (or a measured `table`)");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
