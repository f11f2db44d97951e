//! The chunked (vLLM-style) scheduler of a model server in LLM mode, with a
//! paged KV cache and recompute preemption. Engine-free: it knows no events,
//! only a waiting queue, a slot's running sequences and the composition of
//! the iteration it forms; `llm.rs` runs it per slot, and the replay test
//! (`tests/llm_vllm_replay.rs`) drives it directly.
//!
//! ```text
//!   waiting (FIFO, preempted at the front) ──► running (<= max_num_seqs)
//!   one iteration = a token budget (max_num_batched_tokens), filled with
//!     1. one decode token per running sequence whose prompt is computed,
//!     2. the next chunk of each partially prefilled running sequence,
//!     3. chunks of waiting sequences, admitted FCFS while seats, budget and
//!        KV blocks last (none after a preemption in the same iteration).
//! ```
//!
//! KV cache: a sequence holds `ceil(computed / block_size)` blocks of
//! `block_size` tokens, allocated as it grows. When a running sequence needs
//! a block and none is free, the most recently admitted running sequence is
//! preempted by recompute: it frees its blocks, forgets its computed tokens
//! and goes back to the front of the waiting queue, keeping the tokens it
//! has generated (they are prefilled again with its prompt).
//!
//! Iteration time (see [`IterationCost`] and `docs/llm-serving.md`):
//! `floor + per_token * T + per_context_token * D + per_prefill_pair * P`,
//! `T` tokens in the batch, `D` the sum of the decode sequences' context
//! lengths, `P` the sum over prefill chunks of `chunk * (cached + chunk)`.
//!
//! Prefix caching (vLLM's automatic prefix caching, block-granular): a
//! request may carry a shared prefix (a group id and a length). The full
//! KV blocks of a group's prefix, once computed by one sequence, stay
//! cached; a later sequence of the same group admits with them referenced
//! and their prefill skipped. A cached block no running sequence references
//! is evictable, in LRU order, when the free blocks run out. See
//! [`ChunkedBatch::enable_prefix_cache`].
//!
//! Swap preemption (vLLM V0's `preemption_mode="swap"`, see [`SwapSpec`]):
//! a victim's computed KV blocks are copied to CPU memory over the host
//! link, the copy's time added to the iteration that preempts (the engine
//! stalls for it), and copied back, again on the iteration's time, when it
//! is readmitted, resuming with its tokens computed; when the CPU swap space
//! is full the victim is recomputed instead. A watermark keeps a share of
//! the blocks free at admission ([`ChunkedSpec::watermark_blocks`]).
//!
//! Not modelled here: priority.

use std::collections::VecDeque;
use std::sync::Arc;

use sysdes_kernel::{SimDuration, SimTime};

use crate::kinds::model_server::llm_table::IterationTable;

/// A request waiting for (re)admission, with its lengths and its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The request (a dense id; the engine's request slab index).
    pub req: u32,
    /// When it arrived.
    pub arrived: SimTime,
    /// Prompt length in tokens, at least 1.
    pub prompt: u32,
    /// Output length in tokens, at least 1.
    pub output: u32,
    /// Output tokens already generated (non-zero after a preemption).
    pub generated: u32,
    /// When its first token came (meaningful once `generated > 0`).
    pub first_token: SimTime,
    /// When it was first admitted (meaningful once `admitted_once`).
    pub admitted: SimTime,
    /// Whether it has been admitted before.
    pub admitted_once: bool,
    /// Whether its measurements count (arrived in the window).
    pub counted: bool,
    /// Its shared-prefix group ([`NO_PREFIX`] for none).
    pub prefix_group: u32,
    /// Tokens of its prompt that are the group's shared prefix (its first
    /// `prefix_len` tokens); 0 for none.
    pub prefix_len: u32,
    /// Tokens whose KV blocks are swapped out to CPU memory (0: none; a
    /// swapped sequence resumes with them computed after a swap-in).
    pub swapped: u32,
    /// Tokens whose KV arrived from a prefill instance (prefill/decode
    /// disaggregation; 0: none): it is admitted with them computed, no
    /// prefill and no swap-in, holding their blocks from admission.
    pub received: u32,
}

/// The `prefix_group` of a request without a shared prefix.
pub const NO_PREFIX: u32 = u32::MAX;

/// Shared prompt prefixes of an LLM workload (a system prompt, RAG
/// documents): every request draws a group, and its prompt is the group's
/// `tokens` shared tokens followed by its own drawn prompt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrefixWorkload {
    /// Shared prefix tokens of every group, at least 1.
    pub tokens: u32,
    /// Distinct prefixes, at least 1 (1: one system prompt shared by all).
    pub groups: u32,
    /// Popularity skew: group `k` (from 1) is drawn with probability
    /// proportional to `1 / k^zipf`; 0 is uniform.
    pub zipf: f64,
    /// Whether a request's group is its key modulo `groups` (the workload's
    /// `keys` give the popularity, `zipf` is unused) instead of a draw, so
    /// a balancer can route by it (`prefix_affinity`).
    pub from_key: bool,
}

impl PrefixWorkload {
    /// The cumulative probabilities of the groups, for [`Self::draw`].
    pub fn cdf(&self) -> Vec<f64> {
        let w: Vec<f64> = (1..=self.groups)
            .map(|k| f64::from(k).powf(-self.zipf))
            .collect();
        let total: f64 = w.iter().sum();
        let mut acc = 0.0;
        w.iter()
            .map(|x| {
                acc += x / total;
                acc
            })
            .collect()
    }

    /// The group of a uniform draw `u` in [0, 1), from [`Self::cdf`].
    pub fn draw(cdf: &[f64], u: f64) -> u32 {
        (cdf.partition_point(|&c| c <= u)).min(cdf.len().saturating_sub(1)) as u32
    }
}

impl Pending {
    /// A fresh request that arrived at `arrived`.
    pub fn new(req: u32, arrived: SimTime, prompt: u32, output: u32, counted: bool) -> Pending {
        Pending {
            req,
            arrived,
            prompt,
            output,
            generated: 0,
            first_token: arrived,
            admitted: arrived,
            admitted_once: false,
            counted,
            prefix_group: NO_PREFIX,
            prefix_len: 0,
            swapped: 0,
            received: 0,
        }
    }

    /// A request prefilled on another instance whose first token came at
    /// `first_token` and whose prompt's KV has just arrived (`now`): it
    /// waits for a seat to decode its remaining `output - 1` tokens.
    pub fn handed_off(
        req: u32,
        now: SimTime,
        prompt: u32,
        output: u32,
        first_token: SimTime,
        counted: bool,
    ) -> Pending {
        let mut p = Pending::new(req, now, prompt, output, counted);
        p.generated = 1;
        p.first_token = first_token;
        p.received = prompt;
        p
    }

    /// The same request with the first `len` tokens of its prompt shared by
    /// every request of prefix group `group` (`len` is capped at the prompt).
    pub fn with_prefix(mut self, group: u32, len: u32) -> Pending {
        self.prefix_group = group;
        self.prefix_len = len.min(self.prompt);
        self
    }

    /// Tokens known: the prompt and the generated tokens.
    fn len(&self) -> u32 {
        self.prompt + self.generated
    }
}

/// Iteration time from the batch's composition, integer picoseconds per
/// unit so that sub-nanosecond coefficients stay exact:
/// `floor + (per_token_ps * T + per_sequence_ps * S + per_context_token_ps * D + per_prefill_pair_ps * P) / 1000`
/// (`S` the sequences in the batch; `per_sequence_ps` is 0 but in the roofline form)
/// nanoseconds, rounded down.
///
/// Today's affine costs are the special case with the attention terms at
/// zero: a pure decode step of `b` sequences takes `floor + per_token * b`
/// (`decode.base`, `decode.per_sequence`), a pure prefill of `p` tokens
/// `floor + per_token * p` (`prefill.base`, `prefill.per_token`).
///
/// Table form: a measured grid of times over `T` and `D`
/// ([`IterationTable`]), added to the affine terms (which then default to
/// zero). The table is shared (`Arc`), so the cost is `Clone` but not
/// `Copy`; a lookup allocates nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IterationCost {
    /// The fixed cost of one iteration (launch, reading the weights).
    pub floor: SimDuration,
    /// Added per token in the batch (decode tokens and prefill chunk tokens), in picoseconds.
    pub per_token_ps: u64,
    /// Added per sequence in the batch (decode or prefill chunk: the LM
    /// head runs on its last position), in picoseconds; compute side.
    pub per_sequence_ps: u64,
    /// Added per context token of each decode sequence (reading its KV cache), in picoseconds.
    pub per_context_token_ps: u64,
    /// Added per (query, key) pair of each prefill chunk, `chunk * (cached + chunk)`, in picoseconds.
    pub per_prefill_pair_ps: u64,
    /// Reading the weights once per iteration, in picoseconds (the memory
    /// side of the roofline; 0 in the affine form, where `floor` holds it).
    pub weights_ps: u64,
    /// Tensor-parallel all-reduce traffic per token, in picoseconds
    /// (added, never overlapped).
    pub comm_per_token_ps: u64,
    /// Roofline form: compute and memory overlap, so an iteration takes
    /// `floor + max(weights + per_context_token * D, per_token * T + per_sequence * S + per_prefill_pair * P) + comm * T`
    /// instead of the sum of every term.
    pub roofline: bool,
    /// Measured times interpolated over (`T`, `D`), added to the affine
    /// terms; `None` for none (never with `roofline`).
    pub table: Option<Arc<IterationTable>>,
}

/// What one iteration holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Composition {
    /// Tokens computed: one per decode sequence plus every prefill chunk's tokens (`T`).
    pub tokens: u64,
    /// Decode sequences (one token each).
    pub decode_seqs: u32,
    /// Sequences with a prefill chunk.
    pub prefill_seqs: u32,
    /// Sum of the decode sequences' context lengths, the new token included (`D`).
    pub decode_context: u64,
    /// Sum over prefill chunks of `chunk * (cached + chunk)` (`P`).
    pub prefill_pairs: u64,
    /// Sequences admitted from the waiting queue by this iteration.
    pub admitted: u32,
    /// Sequences preempted while forming it.
    pub preempted: u32,
    /// Prefix caching: tokens of the admitted sequences looked up in the
    /// cache (their whole known length, as vLLM counts its queries).
    pub cache_query_tokens: u64,
    /// Prefix caching: tokens of the admitted sequences found cached (their
    /// prefill skipped).
    pub cache_hit_tokens: u64,
    /// Swap preemption: sequences swapped out to CPU memory while forming
    /// this iteration (counted in `preempted` too).
    pub swaps_out: u32,
    /// Swap preemption: sequences swapped back in by this iteration.
    pub swaps_in: u32,
    /// KV blocks copied to CPU memory (swap-out) by this iteration.
    pub swap_out_blocks: u64,
    /// KV blocks copied back to the GPU (swap-in) by this iteration.
    pub swap_in_blocks: u64,
}

impl IterationCost {
    /// The affine form: `floor + per_token * T + per_context_token * D +
    /// per_prefill_pair * P`, the three coefficients in picoseconds.
    pub const fn affine(
        floor: SimDuration,
        per_token_ps: u64,
        per_context_token_ps: u64,
        per_prefill_pair_ps: u64,
    ) -> IterationCost {
        IterationCost {
            floor,
            per_token_ps,
            per_sequence_ps: 0,
            per_context_token_ps,
            per_prefill_pair_ps,
            weights_ps: 0,
            comm_per_token_ps: 0,
            roofline: false,
            table: None,
        }
    }

    /// The table form: `table` interpolated at (`T`, `D`) plus the affine
    /// terms of `affine` (see [`IterationTable`]).
    pub fn with_table(self, table: Arc<IterationTable>) -> IterationCost {
        IterationCost {
            table: Some(table),
            roofline: false,
            ..self
        }
    }

    /// The time of an iteration of composition `c`.
    pub fn time(&self, c: &Composition) -> SimDuration {
        let memory = u128::from(self.weights_ps)
            + u128::from(self.per_context_token_ps) * u128::from(c.decode_context);
        let compute = u128::from(self.per_token_ps) * u128::from(c.tokens)
            + u128::from(self.per_sequence_ps)
                * u128::from(u64::from(c.decode_seqs) + u64::from(c.prefill_seqs))
            + u128::from(self.per_prefill_pair_ps) * u128::from(c.prefill_pairs);
        let comm = u128::from(self.comm_per_token_ps) * u128::from(c.tokens);
        let ps = if self.roofline {
            memory.max(compute) + comm
        } else {
            memory + compute + comm
        };
        let table = self
            .table
            .as_ref()
            .map_or(0, |t| u128::from(t.time_ns(c.tokens, c.decode_context)));
        let ns = (ps / 1000 + table).min(u128::from(u64::MAX / 2)) as u64;
        self.floor + SimDuration::from_nanos(ns)
    }
}

/// The chunked scheduler's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkedSpec {
    /// Token budget of one iteration (vLLM's `max_num_batched_tokens`), at least 1.
    pub max_num_batched_tokens: u32,
    /// Most running sequences per slot (vLLM's `max_num_seqs`), at least 1.
    pub max_num_seqs: u32,
    /// Tokens per KV block, at least 1.
    pub block_size: u32,
    /// KV blocks per slot; `None` is unlimited.
    pub num_blocks: Option<u32>,
    /// Iteration time.
    pub cost: IterationCost,
    /// Whether full KV blocks of shared prefixes are cached and reused
    /// (vLLM's `enable_prefix_caching`; it takes effect once
    /// [`ChunkedBatch::enable_prefix_cache`] sizes the cache).
    pub prefix_caching: bool,
    /// Swap preemption and its cost; `None` preempts by recompute.
    pub swap: Option<SwapSpec>,
    /// Blocks kept free at admission (vLLM's `watermark` times the blocks,
    /// rounded down): a waiting sequence is admitted only if the free
    /// blocks after its first chunk stay at least this many; 0 for none.
    pub watermark_blocks: u32,
}

/// Swap preemption: a victim's KV blocks are copied to CPU memory and
/// back over the host link, each copy taking `blocks * ps_per_block`
/// on the iteration that does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapSpec {
    /// Time to copy one KV block over the host link, in picoseconds
    /// (`block_size * kv_bytes_per_token / bandwidth`).
    pub ps_per_block: u64,
    /// Bytes of one KV block (for the `swapped_bytes` figure).
    pub bytes_per_block: u64,
    /// CPU swap space in blocks (shared by the server's slots); a victim
    /// that does not fit in what is left is recomputed instead.
    pub cpu_blocks: u64,
}

impl ChunkedSpec {
    /// The time of an iteration of composition `c`: [`IterationCost::time`]
    /// plus the swap copies it does (out and in), which stall the engine.
    pub fn iteration_time(&self, c: &Composition) -> SimDuration {
        let t = self.cost.time(c);
        match self.swap {
            Some(s) if c.swap_out_blocks + c.swap_in_blocks > 0 => {
                let ps =
                    u128::from(s.ps_per_block) * u128::from(c.swap_out_blocks + c.swap_in_blocks);
                t + SimDuration::from_nanos((ps / 1000).min(u128::from(u64::MAX / 2)) as u64)
            }
            _ => t,
        }
    }

    /// Whether a request of these lengths can ever fit the KV cache alone,
    /// the watermark's blocks kept free beside it.
    pub fn fits(&self, prompt: u32, output: u32) -> bool {
        let need = (u64::from(prompt) + u64::from(output)).div_ceil(u64::from(self.block_size))
            + u64::from(self.watermark_blocks);
        self.num_blocks.is_none_or(|n| need <= u64::from(n))
    }
}

/// A running sequence.
#[derive(Clone, Copy, Debug)]
struct Run {
    p: Pending,
    /// Tokens whose KV is computed.
    computed: u32,
    /// KV blocks held.
    blocks: u32,
    /// Tokens scheduled in the current iteration.
    sched: u32,
    /// Its leading blocks that are shared cached prefix blocks (the rest of
    /// `blocks` are its own).
    shared: u32,
}

/// No entry (the LRU list's end).
const NIL: u32 = u32::MAX;

/// The cached prefix blocks of one slot: one entry per (group, block of the
/// group's prefix), preallocated, with a reference count and an intrusive
/// doubly linked LRU list of the evictable ones (cached, unreferenced), so
/// that caching, reuse and eviction allocate nothing.
#[derive(Clone, Debug)]
struct PrefixCache {
    /// Full prefix blocks per group (the longest prefix's).
    per_group: u32,
    groups: u32,
    cached: Vec<bool>,
    refs: Vec<u32>,
    prev: Vec<u32>,
    next: Vec<u32>,
    /// Least recently freed first.
    head: u32,
    tail: u32,
    evictable: u64,
}

impl PrefixCache {
    fn new(groups: u32, per_group: u32) -> PrefixCache {
        let n = groups as usize * per_group as usize;
        PrefixCache {
            per_group,
            groups,
            cached: vec![false; n],
            refs: vec![0; n],
            prev: vec![NIL; n],
            next: vec![NIL; n],
            head: NIL,
            tail: NIL,
            evictable: 0,
        }
    }

    /// The entry of block `i` of group `g`, if the cache has one.
    fn entry(&self, g: u32, i: u32) -> Option<usize> {
        (g < self.groups && i < self.per_group)
            .then(|| g as usize * self.per_group as usize + i as usize)
    }

    fn push_tail(&mut self, e: usize) {
        self.prev[e] = self.tail;
        self.next[e] = NIL;
        if self.tail == NIL {
            self.head = e as u32;
        } else {
            self.next[self.tail as usize] = e as u32;
        }
        self.tail = e as u32;
        self.evictable += 1;
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
        self.prev[e] = NIL;
        self.next[e] = NIL;
        self.evictable -= 1;
    }

    /// Evicts the least recently freed unreferenced block.
    fn evict(&mut self) {
        let e = self.head as usize;
        self.unlink(e);
        self.cached[e] = false;
    }

    /// Takes a reference on cached entry `e`.
    fn take_ref(&mut self, e: usize) {
        if self.refs[e] == 0 {
            self.unlink(e);
        }
        self.refs[e] += 1;
    }

    /// Drops a reference on cached entry `e`; at zero it becomes evictable.
    fn drop_ref(&mut self, e: usize) {
        self.refs[e] -= 1;
        if self.refs[e] == 0 {
            self.push_tail(e);
        }
    }

    /// The cache is lost (a crash).
    fn reset(&mut self) {
        self.cached.fill(false);
        self.refs.fill(0);
        self.prev.fill(NIL);
        self.next.fill(NIL);
        self.head = NIL;
        self.tail = NIL;
        self.evictable = 0;
    }
}

/// What an iteration's end did to one sequence (see [`ChunkedBatch::complete`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It got its first output token.
    FirstToken(Pending),
    /// It has all its output tokens: its blocks are free and it left.
    Finished(Pending),
}

/// One slot's running sequences and KV blocks under the chunked scheduler.
#[derive(Clone, Debug)]
pub struct ChunkedBatch {
    spec: ChunkedSpec,
    running: Vec<Run>,
    free_blocks: u64,
    total_blocks: u64,
    preemptions: u64,
    cache: Option<PrefixCache>,
    /// CPU swap space left, in blocks (set by the server before each
    /// [`Self::schedule`] when slots share it; see [`Self::set_swap_free`]).
    swap_free: u64,
    /// A prefill instance's batch (disaggregation): a sequence leaves, its
    /// blocks freed, as soon as it has its first token (see
    /// [`Self::set_hand_off`]).
    hand_off: bool,
}

impl ChunkedBatch {
    /// An empty slot.
    pub fn new(spec: ChunkedSpec) -> ChunkedBatch {
        let total = spec.num_blocks.map_or(u64::MAX / 4, u64::from);
        ChunkedBatch {
            running: Vec::with_capacity((spec.max_num_seqs as usize).min(4096)),
            free_blocks: total,
            total_blocks: total,
            preemptions: 0,
            cache: None,
            swap_free: spec.swap.map_or(0, |s| s.cpu_blocks),
            hand_off: false,
            spec,
        }
    }

    /// Makes this a prefill instance's batch (prefill/decode
    /// disaggregation): a sequence that gets its first token and wants
    /// more leaves the batch then, its blocks freed; [`Self::complete`]
    /// reports it as [`Outcome::FirstToken`] and never as finished (the
    /// caller hands it to a decode instance).
    pub fn set_hand_off(&mut self) {
        self.hand_off = true;
    }

    /// Sizes the prefix cache for `groups` shared prefixes of at most
    /// `prefix_tokens` tokens (their full blocks are cached), if the spec
    /// has `prefix_caching`; without this call nothing is cached.
    pub fn enable_prefix_cache(&mut self, groups: u32, prefix_tokens: u32) {
        if self.spec.prefix_caching {
            self.cache = Some(PrefixCache::new(
                groups,
                prefix_tokens / self.spec.block_size,
            ));
        }
    }

    /// Whether prefix caching is on (see [`Self::enable_prefix_cache`]).
    pub fn caches_prefixes(&self) -> bool {
        self.cache.is_some()
    }

    /// Cached prefix blocks that no running sequence references (free for
    /// allocation, evicted least recently used first).
    pub fn evictable_blocks(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.evictable)
    }

    /// Cached prefix blocks (referenced or not).
    pub fn cached_blocks(&self) -> u64 {
        self.cache
            .as_ref()
            .map_or(0, |c| c.cached.iter().filter(|&&x| x).count() as u64)
    }

    /// Whether block `i` of prefix group `group` is cached.
    pub fn is_cached(&self, group: u32, i: u32) -> bool {
        self.cache
            .as_ref()
            .and_then(|c| c.entry(group, i).map(|e| c.cached[e]))
            .unwrap_or(false)
    }

    /// Blocks that can be given out: the free ones and the evictable ones.
    fn available(&self) -> u64 {
        self.free_blocks + self.evictable_blocks()
    }

    /// Hands out `n <= available()` blocks: free ones first, then evicting
    /// cached unreferenced ones, least recently used first.
    fn take(&mut self, n: u64) {
        let from_free = n.min(self.free_blocks);
        self.free_blocks -= from_free;
        if let Some(c) = &mut self.cache {
            for _ in from_free..n {
                c.evict();
            }
        }
    }

    /// Full prefix blocks of `p` that may be shared (its prefix's full
    /// blocks, leaving at least one token to compute), 0 without a cache.
    fn shareable(&self, p: &Pending) -> u32 {
        match &self.cache {
            Some(c) if p.prefix_group != NO_PREFIX => (p.prefix_len / self.spec.block_size)
                .min(c.per_group)
                .min((p.len() - 1) / self.spec.block_size),
            _ => 0,
        }
    }

    /// A leaving sequence's blocks: its own go back to the free pool, its
    /// shared ones lose a reference (the last block first, so that a
    /// prefix's tail is evicted before its head, as vLLM frees them).
    fn release(&mut self, r: &Run) {
        self.free_blocks += u64::from(r.blocks - r.shared);
        if let Some(c) = &mut self.cache {
            for i in (0..r.shared).rev() {
                if let Some(e) = c.entry(r.p.prefix_group, i) {
                    c.drop_ref(e);
                }
            }
        }
    }

    /// Checks the block accounting: every running sequence holds
    /// `ceil(computed / block_size)` blocks, its shared ones are cached and
    /// counted in their references, the evictable list holds exactly the
    /// cached unreferenced blocks, and the used, evictable and free blocks
    /// add up to the total. For tests; walks everything.
    pub fn check_accounting(&self) -> Result<(), String> {
        let bs = u64::from(self.spec.block_size);
        let mut own = 0u64;
        let mut refs = self.cache.as_ref().map(|c| vec![0u32; c.refs.len()]);
        for r in &self.running {
            if u64::from(r.blocks) != u64::from(r.computed).div_ceil(bs) {
                return Err(format!(
                    "request {} holds {} blocks for {} tokens",
                    r.p.req, r.blocks, r.computed
                ));
            }
            own += u64::from(r.blocks - r.shared);
            for i in 0..r.shared {
                let c = self.cache.as_ref().ok_or("shared blocks without a cache")?;
                let e = c
                    .entry(r.p.prefix_group, i)
                    .ok_or("shared block outside the cache")?;
                if !c.cached[e] {
                    return Err(format!("request {} shares an uncached block", r.p.req));
                }
                if let Some(v) = &mut refs {
                    v[e] += 1;
                }
            }
        }
        let mut referenced = 0u64;
        if let (Some(c), Some(v)) = (&self.cache, &refs) {
            if *v != c.refs {
                return Err("reference counts differ from the running sequences".into());
            }
            referenced = c.refs.iter().filter(|&&n| n > 0).count() as u64;
            let idle = (0..c.refs.len())
                .filter(|&e| c.cached[e] && c.refs[e] == 0)
                .count() as u64;
            let mut listed = 0u64;
            let mut e = c.head;
            while e != NIL {
                if !c.cached[e as usize] || c.refs[e as usize] != 0 {
                    return Err("a listed block is uncached or referenced".into());
                }
                listed += 1;
                e = c.next[e as usize];
            }
            if idle != c.evictable || listed != c.evictable {
                return Err(format!(
                    "evictable {} but {idle} idle cached blocks and {listed} listed",
                    c.evictable
                ));
            }
        }
        if own + referenced != self.used_blocks() {
            return Err(format!(
                "used {} but {own} own and {referenced} referenced shared blocks",
                self.used_blocks()
            ));
        }
        if self.used_blocks() + self.evictable_blocks() + self.free_blocks != self.total_blocks {
            return Err("used, evictable and free blocks do not add up".into());
        }
        Ok(())
    }

    /// The settings.
    pub fn spec(&self) -> &ChunkedSpec {
        &self.spec
    }

    /// Running sequences.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// The running batch's buffer capacity: it never grows past
    /// `max_num_seqs` (up to 4096, preallocated), so forming and completing
    /// iterations allocates nothing.
    pub fn running_capacity(&self) -> usize {
        self.running.capacity()
    }

    /// KV blocks in use: held by running sequences (a shared prefix block
    /// once); cached blocks nobody references are not in use.
    pub fn used_blocks(&self) -> u64 {
        self.total_blocks - self.free_blocks - self.evictable_blocks()
    }

    /// Sum over running sequences of `ceil(computed / block_size)`: equals
    /// [`Self::used_blocks`] between iterations when no block is shared
    /// (see [`Self::check_accounting`] for the general invariant).
    pub fn blocks_needed(&self) -> u64 {
        let bs = u64::from(self.spec.block_size);
        self.running
            .iter()
            .map(|r| u64::from(r.computed).div_ceil(bs))
            .sum()
    }

    /// Preemptions since the start (recompute and swap).
    pub fn preemptions(&self) -> u64 {
        self.preemptions
    }

    /// CPU swap space left, in blocks.
    pub fn swap_free(&self) -> u64 {
        self.swap_free
    }

    /// Sets the CPU swap space left (a server whose slots share one pool
    /// hands it to the slot that schedules next).
    pub fn set_swap_free(&mut self, blocks: u64) {
        self.swap_free = blocks;
    }

    /// Drops every running sequence (a crash), calling `lost` for each.
    pub fn clear(&mut self, mut lost: impl FnMut(Pending)) {
        for r in self.running.drain(..) {
            lost(r.p);
        }
        self.free_blocks = self.total_blocks;
        self.swap_free = self.spec.swap.map_or(0, |s| s.cpu_blocks);
        if let Some(c) = &mut self.cache {
            c.reset();
        }
    }

    /// Blocks to add for sequence `i` to hold `computed + sched + n` tokens.
    fn extra_blocks(&self, i: usize, n: u32) -> u64 {
        let r = &self.running[i];
        let want = u64::from(r.computed + r.sched + n).div_ceil(u64::from(self.spec.block_size));
        want.saturating_sub(u64::from(r.blocks))
    }

    /// Gives `n` more tokens of this iteration to running sequence `i`,
    /// preempting from the back until its blocks fit. Returns false if `i`
    /// itself was preempted.
    fn grow(
        &mut self,
        i: usize,
        n: u32,
        budget: &mut u32,
        c: &mut Composition,
        waiting: &mut VecDeque<Pending>,
    ) -> bool {
        loop {
            let extra = self.extra_blocks(i, n);
            if extra <= self.available() {
                self.take(extra);
                let r = &mut self.running[i];
                r.blocks += extra as u32;
                r.sched += n;
                *budget -= n;
                return true;
            }
            // Preempt the most recently admitted: swap its computed blocks
            // out if there is CPU space for them, else recompute.
            let last = self.running.len() - 1;
            let Some(v) = self.running.pop() else {
                return false;
            };
            self.release(&v);
            *budget += v.sched;
            self.preemptions += 1;
            c.preempted += 1;
            let mut p = v.p;
            let held = u64::from(v.computed).div_ceil(u64::from(self.spec.block_size));
            if self.spec.swap.is_some() && held > 0 && held <= self.swap_free {
                self.swap_free -= held;
                p.swapped = v.computed;
                c.swaps_out += 1;
                c.swap_out_blocks += held;
            }
            waiting.push_front(p);
            if last == i {
                return false;
            }
        }
    }

    /// Forms the next iteration from the running sequences and `waiting`
    /// (admitting from its front), or `None` if there is nothing to compute.
    pub fn schedule(
        &mut self,
        now: SimTime,
        waiting: &mut VecDeque<Pending>,
    ) -> Option<Composition> {
        let mut budget = self.spec.max_num_batched_tokens;
        let mut c = Composition::default();
        for r in &mut self.running {
            r.sched = 0;
        }
        // 1. Decode tokens of the sequences whose prompt is computed.
        let mut i = 0;
        while i < self.running.len() && budget > 0 {
            let r = &self.running[i];
            if r.p.generated > 0
                && r.computed + 1 == r.p.len()
                && !self.grow(i, 1, &mut budget, &mut c, waiting)
            {
                break;
            }
            i += 1;
        }
        // 2. Next chunks of the partially prefilled ones.
        let mut i = 0;
        while i < self.running.len() && budget > 0 {
            let r = &self.running[i];
            let left = r.p.len() - r.computed - r.sched;
            if r.sched == 0 && left > 0 {
                let n = left.min(budget);
                if !self.grow(i, n, &mut budget, &mut c, waiting) {
                    break;
                }
            }
            i += 1;
        }
        // 3. Admissions, FCFS, none after a preemption.
        let bs = u64::from(self.spec.block_size);
        while c.preempted == 0 && budget > 0 && self.running.len() < self.spec.max_num_seqs as usize
        {
            let Some(q) = waiting.front() else {
                break;
            };
            // Its leading prefix blocks already cached, and how many of
            // them nobody references (they stop being evictable).
            let mut hit = 0;
            let mut revived = 0;
            // A swapped-out sequence comes back with its own copy of its
            // blocks (no cache lookup) and its tokens computed.
            let swapped_in = u64::from(q.swapped).div_ceil(bs);
            // A handed-off sequence brings its prompt's KV (no lookup either).
            if let (Some(cache), 0) = (&self.cache, q.swapped + q.received) {
                for i in 0..self.shareable(q) {
                    match cache.entry(q.prefix_group, i) {
                        Some(e) if cache.cached[e] => {
                            hit += 1;
                            revived += u64::from(cache.refs[e] == 0);
                        }
                        _ => break,
                    }
                }
            }
            let computed = hit * self.spec.block_size + q.swapped + q.received;
            let n = (q.len() - computed).min(budget);
            let blocks = u64::from(computed + n).div_ceil(bs) - u64::from(hit);
            if blocks + revived + u64::from(self.spec.watermark_blocks) > self.available() {
                break;
            }
            let mut p = *q;
            waiting.pop_front();
            let received = p.received;
            p.received = 0;
            if p.swapped > 0 {
                self.swap_free += swapped_in;
                p.swapped = 0;
                c.swaps_in += 1;
                c.swap_in_blocks += swapped_in;
            }
            if !p.admitted_once {
                p.admitted_once = true;
                p.admitted = now;
            }
            if let (Some(cache), 0, 0) = (&mut self.cache, swapped_in, received) {
                for i in 0..hit {
                    if let Some(e) = cache.entry(p.prefix_group, i) {
                        cache.take_ref(e);
                    }
                }
                c.cache_query_tokens += u64::from(p.len());
                c.cache_hit_tokens += u64::from(computed);
            }
            self.take(blocks);
            budget -= n;
            c.admitted += 1;
            self.running.push(Run {
                p,
                computed,
                blocks: blocks as u32 + hit,
                sched: n,
                shared: hit,
            });
        }
        for r in &self.running {
            if r.sched == 0 {
                continue;
            }
            c.tokens += u64::from(r.sched);
            if r.p.generated > 0 && r.computed + 1 == r.p.len() {
                c.decode_seqs += 1;
                c.decode_context += u64::from(r.computed + 1);
            } else {
                c.prefill_seqs += 1;
                c.prefill_pairs += u64::from(r.sched) * u64::from(r.computed + r.sched);
            }
        }
        (c.tokens > 0).then_some(c)
    }

    /// The iteration formed by [`Self::schedule`] ends at `now`: every
    /// scheduled sequence's tokens are computed; one whose known tokens are
    /// all computed gets a new token, and one with all its output leaves.
    /// `on` hears of first tokens and finished sequences, in batch order.
    /// Returns the output tokens produced.
    pub fn complete(&mut self, now: SimTime, mut on: impl FnMut(Outcome)) -> u32 {
        let mut keep = 0;
        let mut produced = 0;
        let bs = self.spec.block_size;
        for i in 0..self.running.len() {
            let mut r = self.running[i];
            if r.sched > 0 {
                r.computed += r.sched;
                r.sched = 0;
                // Prefix blocks this sequence has just filled are cached
                // (its own block becomes the shared one), in order, until
                // one is already cached by another sequence (then it keeps
                // its duplicate, as vLLM does).
                if let (Some(cache), true) = (&mut self.cache, r.p.prefix_group != NO_PREFIX) {
                    let full = (r.p.prefix_len / bs).min(r.computed / bs);
                    while r.shared < full {
                        let Some(e) = cache.entry(r.p.prefix_group, r.shared) else {
                            break;
                        };
                        if cache.cached[e] {
                            break;
                        }
                        cache.cached[e] = true;
                        cache.refs[e] = 1;
                        r.shared += 1;
                    }
                }
                if r.computed == r.p.len() {
                    r.p.generated += 1;
                    produced += 1;
                    if r.p.generated == 1 {
                        r.p.first_token = now;
                        on(Outcome::FirstToken(r.p));
                        if self.hand_off && r.p.output > 1 {
                            self.release(&r);
                            continue;
                        }
                    }
                    if r.p.generated >= r.p.output {
                        self.release(&r);
                        on(Outcome::Finished(r.p));
                        continue;
                    }
                }
            }
            self.running[keep] = r;
            keep += 1;
        }
        self.running.truncate(keep);
        produced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(budget: u32, seqs: u32, bs: u32, blocks: Option<u32>) -> ChunkedSpec {
        ChunkedSpec {
            max_num_batched_tokens: budget,
            max_num_seqs: seqs,
            block_size: bs,
            num_blocks: blocks,
            prefix_caching: true,
            swap: None,
            watermark_blocks: 0,
            cost: IterationCost::affine(SimDuration::from_millis(1), 10_000_000, 1_000_000, 1_000),
        }
    }

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    /// Runs one iteration; returns (composition, first tokens, finished).
    fn step(
        b: &mut ChunkedBatch,
        w: &mut VecDeque<Pending>,
        now: SimTime,
    ) -> (Composition, Vec<u32>, Vec<u32>) {
        let c = b.schedule(now, w).expect("work");
        let end = now + b.spec.cost.time(&c);
        let (mut first, mut done) = (Vec::new(), Vec::new());
        b.complete(end, |o| match o {
            Outcome::FirstToken(p) => first.push(p.req),
            Outcome::Finished(p) => done.push(p.req),
        });
        (c, first, done)
    }

    #[test]
    fn cost_formula() {
        let s = spec(8, 4, 4, None);
        let c = Composition {
            tokens: 5,
            decode_context: 7,
            prefill_pairs: 12,
            ..Composition::default()
        };
        // 1 ms + 5 * 10 us + 7 * 1 us + 12 * 1 ns.
        assert_eq!(
            s.cost.time(&c),
            SimDuration::from_nanos(1_000_000 + 50_000 + 7_000 + 12)
        );
    }

    /// Budget 8: a prompt of 10 is prefilled in chunks of 8 then 2, the
    /// second sharing its iteration with a newcomer's prompt of 6 (8 - 2 = 6
    /// tokens of budget); then decodes come first and the budget's rest goes
    /// to prefill.
    #[test]
    fn chunks_and_decodes_share_the_budget_by_hand() {
        let mut b = ChunkedBatch::new(spec(8, 4, 4, None));
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 10, 3, true));
        w.push_back(Pending::new(2, t(0), 6, 2, true));
        // Iteration 1: request 1's first chunk of 8 (cached 0): P = 8 * 8.
        let (c, first, _) = step(&mut b, &mut w, t(0));
        assert_eq!(
            (
                c.tokens,
                c.prefill_seqs,
                c.decode_seqs,
                c.prefill_pairs,
                c.admitted
            ),
            (8, 1, 0, 64, 1)
        );
        assert!(first.is_empty());
        assert_eq!(b.used_blocks(), 2);
        // Iteration 2: request 1's last 2 (P = 2 * 10), request 2's 6 (P = 36).
        let (c, first, _) = step(&mut b, &mut w, t(10));
        assert_eq!(
            (c.tokens, c.prefill_seqs, c.prefill_pairs, c.admitted),
            (8, 2, 56, 1)
        );
        assert_eq!(first, vec![1, 2]);
        // 10 tokens -> 3 blocks, 6 -> 2.
        assert_eq!(b.used_blocks(), 5);
        // Iteration 3: two decodes, contexts 11 and 7.
        let (c, _, done) = step(&mut b, &mut w, t(20));
        assert_eq!((c.tokens, c.decode_seqs, c.decode_context), (2, 2, 18));
        assert_eq!(done, vec![2]);
        assert_eq!(
            c,
            Composition {
                tokens: 2,
                decode_seqs: 2,
                decode_context: 18,
                ..Composition::default()
            }
        );
        // 1 ms + 2 * 10 us + 18 * 1 us.
        assert_eq!(b.spec.cost.time(&c), SimDuration::from_nanos(1_038_000));
        // Iteration 4: request 1 alone, context 12; it finishes.
        let (c, _, done) = step(&mut b, &mut w, t(30));
        assert_eq!((c.tokens, c.decode_context), (1, 12));
        assert_eq!(done, vec![1]);
        assert_eq!(b.used_blocks(), 0);
        assert!(b.schedule(t(40), &mut w).is_none());
    }

    /// Six blocks of 2 tokens; two requests of prompt 4, output 4 take two
    /// blocks each at admission and a third on their third token
    /// (5 computed). After that, each needs a fourth block at 7 computed:
    /// 8 blocks for 6, so the later one (request 2) is preempted, then
    /// recomputes its prompt and its 3 generated tokens.
    #[test]
    fn preemption_by_recompute_by_hand() {
        let mut b = ChunkedBatch::new(spec(64, 8, 2, Some(6)));
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 4, 4, true));
        w.push_back(Pending::new(2, t(0), 4, 4, true));
        // Prefill both: 4 computed each, 2 blocks each; first tokens.
        let (_, first, _) = step(&mut b, &mut w, t(0));
        assert_eq!(first, vec![1, 2]);
        assert_eq!(b.used_blocks(), 4);
        // Decode: computed 5 each -> 3 blocks each = 6.
        let (c, _, _) = step(&mut b, &mut w, t(10));
        assert_eq!((c.decode_seqs, c.preempted), (2, 0));
        assert_eq!(b.used_blocks(), 6);
        // Decode: computed 6 each, still 3 blocks each.
        step(&mut b, &mut w, t(20));
        // Next decode needs a 4th block for each: request 1 gets it by
        // preempting request 2, which goes back to the queue.
        let (c, _, done) = step(&mut b, &mut w, t(30));
        assert_eq!((c.decode_seqs, c.preempted, c.admitted), (1, 1, 0));
        assert_eq!(done, vec![1]);
        assert_eq!(b.preemptions(), 1);
        assert_eq!(w.front().map(|p| (p.req, p.generated)), Some((2, 3)));
        // Request 1 finished and freed 4 blocks; request 2 is re-admitted
        // in the next iteration with 4 + 3 = 7 tokens to recompute.
        assert_eq!(b.running(), 0);
        let (c, first, done) = step(&mut b, &mut w, t(40));
        assert_eq!((c.admitted, c.tokens, c.prefill_pairs), (1, 7, 49));
        assert!(first.is_empty(), "its first token came before");
        assert_eq!(done, vec![2]);
    }

    /// The same six blocks of 2 tokens and two requests as
    /// [`preemption_by_recompute_by_hand`], with swap preemption at 1 us per
    /// block: request 2 (6 tokens computed, 3 blocks) is swapped out by the
    /// fourth iteration, which takes 3 us more, and swapped back in by the
    /// fifth (3 us more), resuming as a decode of context 7 instead of
    /// recomputing 7 tokens.
    #[test]
    fn preemption_by_swap_by_hand() {
        let mut s = spec(64, 8, 2, Some(6));
        s.swap = Some(SwapSpec {
            ps_per_block: 1_000_000,
            bytes_per_block: 4096,
            cpu_blocks: 10,
        });
        let mut b = ChunkedBatch::new(s.clone());
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 4, 4, true));
        w.push_back(Pending::new(2, t(0), 4, 4, true));
        step(&mut b, &mut w, t(0));
        step(&mut b, &mut w, t(10));
        step(&mut b, &mut w, t(20));
        let c = b.schedule(t(30), &mut w).unwrap();
        assert_eq!(
            (c.decode_seqs, c.preempted, c.swaps_out, c.swap_out_blocks),
            (1, 1, 1, 3)
        );
        // 1 ms + 1 token * 10 us + context 7 * 1 us + 3 blocks * 1 us.
        assert_eq!(
            b.spec.iteration_time(&c),
            SimDuration::from_nanos(1_020_000)
        );
        assert_eq!(b.spec.cost.time(&c), SimDuration::from_nanos(1_017_000));
        assert_eq!(b.swap_free(), 7);
        assert_eq!(w.front().map(|p| (p.req, p.swapped)), Some((2, 6)));
        let mut done = Vec::new();
        b.complete(t(31), |o| {
            if let Outcome::Finished(p) = o {
                done.push(p.req);
            }
        });
        assert_eq!(done, vec![1]);
        // Swapped back in: its 6 tokens computed, a decode of context 7
        // (4 blocks), plus 3 blocks copied in.
        let c = b.schedule(t(40), &mut w).unwrap();
        assert_eq!(
            (
                c.admitted,
                c.tokens,
                c.decode_seqs,
                c.decode_context,
                c.prefill_pairs
            ),
            (1, 1, 1, 7, 0)
        );
        assert_eq!((c.swaps_in, c.swap_in_blocks), (1, 3));
        assert_eq!(
            b.spec.iteration_time(&c),
            SimDuration::from_nanos(1_020_000)
        );
        assert_eq!((b.swap_free(), b.used_blocks()), (10, 4));
        let (_, first, done) = {
            let mut first = Vec::new();
            let mut done = Vec::new();
            b.complete(t(41), |o| match o {
                Outcome::FirstToken(p) => first.push(p.req),
                Outcome::Finished(p) => done.push(p.req),
            });
            (c, first, done)
        };
        assert!(first.is_empty());
        assert_eq!(done, vec![2]);
        assert_eq!(b.used_blocks(), 0);
        b.check_accounting().unwrap();
    }

    /// With 2 blocks of CPU swap space the victim's 3 blocks do not fit: it
    /// is recomputed (7 tokens, `P = 49`) as without swap.
    #[test]
    fn swap_space_full_falls_back_to_recompute() {
        let mut s = spec(64, 8, 2, Some(6));
        s.swap = Some(SwapSpec {
            ps_per_block: 1_000_000,
            bytes_per_block: 4096,
            cpu_blocks: 2,
        });
        let mut b = ChunkedBatch::new(s.clone());
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 4, 4, true));
        w.push_back(Pending::new(2, t(0), 4, 4, true));
        for ms in [0, 10, 20] {
            step(&mut b, &mut w, t(ms));
        }
        let (c, _, _) = step(&mut b, &mut w, t(30));
        assert_eq!((c.preempted, c.swaps_out, c.swap_out_blocks), (1, 0, 0));
        assert_eq!(b.spec.iteration_time(&c), b.spec.cost.time(&c));
        assert_eq!(w.front().map(|p| p.swapped), Some(0));
        let (c, _, done) = step(&mut b, &mut w, t(40));
        assert_eq!((c.tokens, c.prefill_pairs, c.swaps_in), (7, 49, 0));
        assert_eq!(done, vec![2]);
        assert_eq!(b.swap_free(), 2);
    }

    /// Six blocks of 2 and a watermark of 3 blocks: request 1 (prompt 4,
    /// 2 blocks) is admitted with 4 free after it, request 2 is not (2 free
    /// after it, below 3), so nothing is ever preempted: request 2 waits
    /// until request 1 has finished (4 iterations) and its 4 blocks are free.
    #[test]
    fn watermark_holds_admission_back_by_hand() {
        let mut s = spec(64, 8, 2, Some(6));
        s.watermark_blocks = 3;
        let mut b = ChunkedBatch::new(s.clone());
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 4, 4, true));
        w.push_back(Pending::new(2, t(0), 4, 4, true));
        let mut admitted = Vec::new();
        let mut finished = Vec::new();
        for k in 0..8 {
            let (c, _, done) = step(&mut b, &mut w, t(10 * k));
            assert_eq!(c.preempted, 0);
            admitted.push(c.admitted);
            finished.push(done);
        }
        assert_eq!(admitted, vec![1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(finished[3], vec![1]);
        assert_eq!(finished[7], vec![2]);
        assert_eq!(b.preemptions(), 0);
        // Without the watermark both are admitted at once and one is preempted.
        let mut b = ChunkedBatch::new(spec(64, 8, 2, Some(6)));
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 4, 4, true));
        w.push_back(Pending::new(2, t(0), 4, 4, true));
        let (c, _, _) = step(&mut b, &mut w, t(0));
        assert_eq!(c.admitted, 2);
    }

    fn cached(b: &ChunkedBatch, g: u32) -> Vec<bool> {
        (0..2).map(|i| b.is_cached(g, i)).collect()
    }

    /// Blocks of 4 tokens; request 1 (prompt 10, the first 8 shared by
    /// group 0: two full blocks) computes and caches the prefix; request 2
    /// of the same group (prompt 8 + 3) finds both blocks cached and
    /// prefills only its 3 own tokens, attending to the 8 cached ones.
    #[test]
    fn prefix_blocks_are_reused_by_hand() {
        let mut b = ChunkedBatch::new(spec(64, 4, 4, Some(100)));
        b.enable_prefix_cache(1, 8);
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 10, 2, true).with_prefix(0, 8));
        let (c, first, _) = step(&mut b, &mut w, t(0));
        assert_eq!(
            (c.tokens, c.cache_query_tokens, c.cache_hit_tokens),
            (10, 10, 0)
        );
        assert_eq!(first, vec![1]);
        // Its two full prefix blocks are now cached (shared, one reference).
        assert_eq!(cached(&b, 0), vec![true, true]);
        assert_eq!((b.used_blocks(), b.cached_blocks()), (3, 2));
        b.check_accounting().unwrap();
        w.push_back(Pending::new(2, t(10), 11, 1, true).with_prefix(0, 8));
        let (c, first, done) = step(&mut b, &mut w, t(10));
        // Request 1's decode (context 11) and request 2's 3 new tokens:
        // T = 4, P = 3 * (8 + 3), D = 11; 11 tokens looked up, 8 found.
        assert_eq!(
            c,
            Composition {
                tokens: 4,
                decode_seqs: 1,
                prefill_seqs: 1,
                decode_context: 11,
                prefill_pairs: 33,
                admitted: 1,
                preempted: 0,
                cache_query_tokens: 11,
                cache_hit_tokens: 8,
                ..Composition::default()
            }
        );
        assert_eq!(first, vec![2]);
        assert_eq!(done, vec![1, 2]);
        // Both left: the prefix stays cached, unreferenced, evictable.
        assert_eq!(
            (b.used_blocks(), b.evictable_blocks(), b.cached_blocks()),
            (0, 2, 2)
        );
        b.check_accounting().unwrap();
    }

    /// Six blocks of 4: groups 0 and 1 each leave two cached blocks; a
    /// request without a prefix needing 3 blocks takes the 2 free ones and
    /// evicts the least recently freed cached block, group 0's second (a
    /// leaving sequence frees its last block first); a later request of
    /// group 0 then hits its first block only.
    #[test]
    fn lru_eviction_by_hand() {
        let mut b = ChunkedBatch::new(spec(64, 4, 4, Some(6)));
        b.enable_prefix_cache(2, 8);
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 9, 1, true).with_prefix(0, 8));
        step(&mut b, &mut w, t(0));
        w.push_back(Pending::new(2, t(10), 9, 1, true).with_prefix(1, 8));
        step(&mut b, &mut w, t(10));
        assert_eq!(
            (cached(&b, 0), cached(&b, 1)),
            (vec![true, true], vec![true, true])
        );
        assert_eq!((b.used_blocks(), b.evictable_blocks()), (0, 4));
        w.push_back(Pending::new(3, t(20), 12, 1, true));
        let (c, _, _) = step(&mut b, &mut w, t(20));
        assert_eq!((c.tokens, c.cache_hit_tokens), (12, 0));
        assert_eq!(
            (cached(&b, 0), cached(&b, 1)),
            (vec![true, false], vec![true, true])
        );
        b.check_accounting().unwrap();
        w.push_back(Pending::new(4, t(30), 9, 1, true).with_prefix(0, 8));
        let (c, _, _) = step(&mut b, &mut w, t(30));
        // One block (4 tokens) found: 5 to prefill, P = 5 * 9.
        assert_eq!((c.tokens, c.cache_hit_tokens, c.prefill_pairs), (5, 4, 45));
        // It computed its second prefix block again and cached it.
        assert_eq!(cached(&b, 0), vec![true, true]);
        b.check_accounting().unwrap();
    }

    /// With `prefix_caching: false` nothing is cached or reused.
    #[test]
    fn prefix_caching_off_reuses_nothing() {
        let mut s = spec(64, 4, 4, Some(100));
        s.prefix_caching = false;
        let mut b = ChunkedBatch::new(s.clone());
        b.enable_prefix_cache(1, 8);
        assert!(!b.caches_prefixes());
        let mut w = VecDeque::new();
        w.push_back(Pending::new(1, t(0), 10, 1, true).with_prefix(0, 8));
        w.push_back(Pending::new(2, t(0), 10, 1, true).with_prefix(0, 8));
        let (c, _, _) = step(&mut b, &mut w, t(0));
        assert_eq!(
            (c.tokens, c.cache_hit_tokens, c.cache_query_tokens),
            (20, 0, 0)
        );
        let (c, _, _) = {
            w.push_back(Pending::new(3, t(10), 10, 1, true).with_prefix(0, 8));
            step(&mut b, &mut w, t(10))
        };
        assert_eq!(c.tokens, 10);
    }

    /// Zipf over 3 groups with exponent 1: weights 1, 1/2, 1/3 of 11/6.
    #[test]
    fn prefix_groups_follow_zipf() {
        let x = PrefixWorkload {
            tokens: 100,
            groups: 3,
            zipf: 1.0,
            from_key: false,
        };
        let cdf = x.cdf();
        assert!((cdf[0] - 6.0 / 11.0).abs() < 1e-12 && (cdf[1] - 9.0 / 11.0).abs() < 1e-12);
        let g: Vec<u32> = [0.0, 0.5, 0.6, 0.9, 0.999_999]
            .iter()
            .map(|&u| PrefixWorkload::draw(&cdf, u))
            .collect();
        assert_eq!(g, vec![0, 0, 1, 2, 2]);
    }

    proptest! {
        /// With shared prefixes, cached blocks and evictions (and swap
        /// preemption with a random CPU space, and a watermark), the block
        /// accounting holds after every iteration, every request finishes
        /// once and the swap space is whole again at the end.
        #[test]
        fn block_accounting_with_prefix_cache(
            reqs in proptest::collection::vec((1u32..40, 1u32..20, 0u32..4), 1..30),
            prefix in 1u32..24, budget in 1u32..64, seqs in 1u32..8, bs in 1u32..8,
            extra in 0u32..20, swap in proptest::option::of(0u64..12), wm in 0u32..3,
        ) {
            let biggest = reqs.iter().map(|&(p, o, _)| (p + prefix + o).div_ceil(bs)).max().unwrap();
            let mut s = spec(budget, seqs, bs, Some(biggest + extra + wm));
            s.watermark_blocks = wm;
            s.swap = swap.map(|n| SwapSpec { ps_per_block: 1000, bytes_per_block: 1, cpu_blocks: n });
            let mut b = ChunkedBatch::new(s.clone());
            b.enable_prefix_cache(3, prefix);
            let mut w: VecDeque<Pending> = reqs.iter().enumerate()
                .map(|(i, &(p, o, g))| {
                    let q = Pending::new(i as u32, t(0), p + prefix, o, true);
                    if g < 3 { q.with_prefix(g, prefix) } else { q }
                })
                .collect();
            let mut finished = vec![0u32; reqs.len()];
            let mut now = t(0);
            let mut guard = 0;
            while let Some(c) = b.schedule(now, &mut w) {
                prop_assert!(c.tokens <= u64::from(budget));
                prop_assert!(c.cache_hit_tokens <= c.cache_query_tokens);
                prop_assert!(c.swaps_out <= c.preempted);
                prop_assert!(b.swap_free() <= swap.unwrap_or(0));
                now += s.iteration_time(&c);
                b.complete(now, |o| if let Outcome::Finished(p) = o { finished[p.req as usize] += 1 });
                if let Err(e) = b.check_accounting() {
                    prop_assert!(false, "{}", e);
                }
                guard += 1;
                prop_assert!(guard < 100_000);
            }
            prop_assert!(w.is_empty());
            prop_assert!(finished.iter().all(|&n| n == 1));
            prop_assert_eq!(b.swap_free(), swap.unwrap_or(0));
        }


        /// Between iterations the used blocks are exactly the sum over
        /// running sequences of ceil(computed / block_size), never above the
        /// total, and every request finishes once (with or without swap
        /// preemption and a watermark).
        #[test]
        fn block_accounting(
            reqs in proptest::collection::vec((1u32..40, 1u32..20), 1..30),
            budget in 1u32..64, seqs in 1u32..8, bs in 1u32..8, extra in 0u32..20,
            swap in proptest::option::of(0u64..12), wm in 0u32..3,
        ) {
            let biggest = reqs.iter().map(|&(p, o)| (p + o).div_ceil(bs)).max().unwrap();
            let mut s = spec(budget, seqs, bs, Some(biggest + extra + wm));
            s.watermark_blocks = wm;
            s.swap = swap.map(|n| SwapSpec { ps_per_block: 1000, bytes_per_block: 1, cpu_blocks: n });
            let mut b = ChunkedBatch::new(s.clone());
            let mut w: VecDeque<Pending> = reqs.iter().enumerate()
                .map(|(i, &(p, o))| Pending::new(i as u32, t(0), p, o, true)).collect();
            let mut finished = vec![0u32; reqs.len()];
            let mut now = t(0);
            let mut guard = 0;
            while let Some(c) = b.schedule(now, &mut w) {
                prop_assert!(c.tokens <= u64::from(budget));
                prop_assert!(c.swaps_out <= c.preempted);
                now += s.iteration_time(&c);
                b.complete(now, |o| if let Outcome::Finished(p) = o { finished[p.req as usize] += 1 });
                prop_assert_eq!(b.used_blocks(), b.blocks_needed());
                prop_assert!(b.used_blocks() <= u64::from(s.num_blocks.unwrap()));
                guard += 1;
                prop_assert!(guard < 100_000);
            }
            prop_assert!(w.is_empty());
            prop_assert!(finished.iter().all(|&n| n == 1));
        }
    }
}
