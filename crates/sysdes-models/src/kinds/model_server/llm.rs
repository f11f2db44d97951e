//! An LLM inference server: the state of a model server in LLM mode, which
//! serves requests by iteration-level scheduling (continuous batching).
//!
//! Each request brings a prompt of `P` tokens and asks for `N >= 1` output
//! tokens (both drawn at arrival). Each slot (GPU) runs one loop of
//! iterations over its own running batch, as in Orca (Yu et al., OSDI 2022)
//! and vLLM (Kwon et al., SOSP 2023):
//!
//! ```text
//!   queue (FIFO) ──admit at an iteration boundary──► running batch (<= max_batch)
//!                                                     │
//!   iteration = prefill of the newly admitted prompts  (first token of each)
//!             | decode step of every running sequence  (one token each)
//! ```
//!
//! At every iteration boundary the slot admits waiting requests in FIFO
//! order while its batch is below `max_batch` and the KV cache can hold the
//! request's `P + N` tokens (reserved whole at admission, released at
//! completion; admission stops at the first request that does not fit). If
//! it admitted any, the iteration is a *prefill* of their prompts together,
//! taking `prefill.base + prefill.per_token * (sum of their P)`, and it ends
//! with each one's first token; the sequences already running wait (vLLM's
//! default, prefill-first schedule without chunking). Otherwise it is a
//! *decode step* of all `b` running sequences, taking
//! `decode.base + decode.per_sequence * b`, and each gets one token. A
//! sequence that has its `N` tokens is finished and its request is answered
//! at the end of that iteration. With `max_batch: 1` a request takes exactly
//! `prefill(P) + (N - 1) * decode(1)`.
//!
//! Measured per request: time to first token (arrival to the end of its
//! prefill) and time per output token (`(completion - first token) / (N - 1)`
//! for `N >= 2`).
//!
//! With `scheduler: chunked` (see `llm_sched.rs` and `docs/llm-serving.md`)
//! each slot instead runs vLLM's chunked-prefill scheduler over a paged KV
//! cache: a token budget per iteration shared by decode tokens and prefill
//! chunks, blocks allocated as sequences grow, recompute preemption; the
//! iteration time comes from the batch's composition.
//!
//! This module knows no events or network: [`LlmServer::next`] says what to
//! start now, and the engine (`llm_sim.rs` beside it) schedules it.

use rand::RngExt;
use std::cell::Cell;
use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, TimeAverage};

use crate::figures::LlmFigures;
use crate::kinds::model_server::disagg::{LinkState, LlmRole};
use crate::kinds::model_server::llm_sched::{
    ChunkedBatch, ChunkedSpec, Outcome, Pending, PrefixWorkload,
};
use crate::kinds::model_server::{
    Arrival, Step, add_busy_slots, loaded_faults, take_interval_mean,
};
use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::Distribution;
use crate::station::{ACTIVE, BusyArea, FaultState, StationMetrics, WAITING};

/// A model server in LLM mode: `slots` continuous batches over one FIFO queue.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmServerSpec {
    /// Slots (GPUs), each running its own continuous batch; at least 1.
    pub slots: u32,
    /// Most sequences running together on one slot; at least 1.
    pub max_batch: u32,
    /// Time of a prefill iteration as a function of its prompt tokens.
    pub prefill: PrefillTime,
    /// Time of a decode step as a function of the running sequences.
    pub decode_step: DecodeTime,
    /// Prompt length per request, in tokens: the distribution's nanosecond
    /// value is read as a token count (rounded, at least 1).
    pub prompt_tokens: Distribution,
    /// Output length per request, in tokens, read like `prompt_tokens`
    /// (rounded, at least 1).
    pub output_tokens: Distribution,
    /// Per-slot KV-cache capacity in tokens: a request needs `P + N` of them
    /// from admission to completion. `None` is unlimited.
    pub kv_cache_tokens: Option<u64>,
    /// Maximum number of requests waiting (not admitted); arrivals beyond it
    /// are dropped. `None` is unbounded.
    pub queue_capacity: Option<u32>,
    /// Optional model load time: no iteration runs before this draw (taken
    /// once per run, at time zero, for the whole server).
    pub cold_start: Option<Distribution>,
    /// How each slot forms its iterations.
    pub scheduler: LlmScheduler,
    /// Shared prompt prefixes (each request's prompt is a group's prefix
    /// followed by its drawn `prompt_tokens`); `None` for none. Cached and
    /// reused by the chunked scheduler with `prefix_caching`.
    pub prefix: Option<PrefixWorkload>,
    /// Prefill/decode disaggregation: colocated (the default), a prefill
    /// instance handing its requests to a decode pool, or a decode instance
    /// (chunked scheduler only; see `disagg.rs`).
    pub role: LlmRole,
}

/// How a slot forms its iterations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LlmScheduler {
    /// Admitted prompts are prefilled whole in an iteration of their own,
    /// running sequences wait (the default; `prefill`, `decode_step`,
    /// `max_batch` and `kv_cache_tokens` apply).
    #[default]
    PrefillFirst,
    /// vLLM's chunked prefill over a paged KV cache; its settings replace
    /// `max_batch`, `kv_cache_tokens` and the two affine times.
    Chunked(ChunkedSpec),
}

/// Prefill time: `base + per_token * tokens`, tokens summed over the prompts
/// prefilled together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefillTime {
    /// The fixed cost of one prefill iteration.
    pub base: SimDuration,
    /// The added cost of each prompt token.
    pub per_token: SimDuration,
}

/// Decode-step time: `base + per_sequence * b` for `b` running sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeTime {
    /// The fixed cost of one step (reading the weights once).
    pub base: SimDuration,
    /// The added cost of each sequence in the batch.
    pub per_sequence: SimDuration,
}

impl PrefillTime {
    /// The time to prefill `tokens` prompt tokens in one iteration.
    pub fn time(&self, tokens: u64) -> SimDuration {
        self.base + SimDuration::from_nanos(self.per_token.as_nanos().saturating_mul(tokens))
    }
}

impl DecodeTime {
    /// The time of one decode step over `b` sequences.
    pub fn time(&self, b: u32) -> SimDuration {
        self.base + SimDuration::from_nanos(self.per_sequence.as_nanos() * u64::from(b))
    }
}

impl LlmServerSpec {
    /// Output tokens per second the server produces when saturated, from
    /// the mean lengths: every slot runs full batches of `B` that start and
    /// finish together, `slots * B * N / (prefill(B P) + (N - 1) decode(B))`.
    /// Exact for constant lengths with one prefill per batch; an estimate
    /// otherwise. A prefill server (`role: prefill`) makes one token per
    /// request, `slots * B / prefill(B P)`; a decode server the other
    /// `N - 1`, `slots * B / decode(B)`.
    pub fn saturated_tokens_per_s(&self) -> f64 {
        let b = f64::from(self.max_batch);
        let ns = |d: SimDuration| d.as_nanos() as f64;
        // Disaggregated: a prefill server's cycle is the batch's prefill
        // (one token each), a decode server's its N - 1 decode steps.
        let per_s = |tokens: f64, cycle: f64| {
            if cycle > 0.0 {
                f64::from(self.slots) * tokens * 1e9 / cycle
            } else {
                f64::INFINITY
            }
        };
        let p = self.prompt_tokens.mean_ns().max(1.0)
            + self.prefix.map_or(0.0, |x| f64::from(x.tokens));
        let n = self.output_tokens.mean_ns().max(1.0);
        match self.role {
            LlmRole::Colocated => {}
            LlmRole::Prefill(_) => {
                return per_s(
                    b,
                    ns(self.prefill.base) + ns(self.prefill.per_token) * b * p,
                );
            }
            LlmRole::Decode => {
                return per_s(
                    b * (n - 1.0),
                    (n - 1.0) * ns(self.decode_step.time(self.max_batch)),
                );
            }
        }
        let cycle = ns(self.prefill.base)
            + ns(self.prefill.per_token) * b * p
            + (n - 1.0) * ns(self.decode_step.time(self.max_batch));
        if cycle > 0.0 {
            f64::from(self.slots) * b * n * 1e9 / cycle
        } else {
            f64::INFINITY
        }
    }

    /// Requests per second at saturation: [`Self::saturated_tokens_per_s`]
    /// over the tokens a request makes here (`N`; 1 on a prefill server,
    /// `N - 1` on a decode server).
    pub fn saturated_rps(&self) -> f64 {
        let per_request = match self.role {
            LlmRole::Colocated => self.output_tokens.mean_ns().max(1.0),
            LlmRole::Prefill(_) => 1.0,
            LlmRole::Decode => (self.output_tokens.mean_ns() - 1.0).max(1.0),
        };
        self.saturated_tokens_per_s() / per_request
    }

    /// A prefill server's KV links' offered load at `rate` requests per
    /// second: each request sends its prompt's KV (the mean prompt, shared
    /// prefix included, times `kv_bytes_per_token`) over the link of the
    /// slot that prefilled it, so the links carry
    /// `rate * P * kv_bytes_per_token / (slots * gbps * 10^9)` of their
    /// capacity, requests spread evenly over the slots. Above 1 the
    /// transfers queue without bound however idle the slots are. A
    /// one-token answer never crosses, so this is exact when none is one
    /// token and otherwise high by their share; `None` unless `role:
    /// prefill`.
    pub fn kv_link_load(&self, rate: f64) -> Option<f64> {
        let LlmRole::Prefill(r) = self.role else {
            return None;
        };
        if self.output_tokens.mean_ns() <= 1.0 {
            // Every answer is one token: nothing crosses.
            return Some(0.0);
        }
        let p = self.prompt_tokens.mean_ns().max(1.0)
            + self.prefix.map_or(0.0, |x| f64::from(x.tokens));
        let bytes_per_s = f64::from(self.slots.max(1)) * r.link.gbps * 1e9;
        Some(rate * p * r.link.kv_bytes_per_token as f64 / bytes_per_s)
    }
}

/// A request waiting for admission, with its drawn lengths.
type Queued = Pending;

/// A running sequence.
#[derive(Clone, Copy, Debug)]
struct Seq {
    req: RequestId,
    arrived: SimTime,
    admitted: SimTime,
    first_token: SimTime,
    prompt: u32,
    output: u32,
    /// Output tokens still to produce.
    remaining: u32,
    counted: bool,
}

/// What a slot's current iteration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No iteration runs.
    Idle,
    /// Prefill of `running[from..]`.
    Prefill { from: usize },
    /// Decode step of every running sequence.
    Decode,
    /// An iteration formed by the slot's chunked scheduler.
    Chunked,
}

/// One slot: its running batch and its KV use.
#[derive(Debug)]
struct Slot {
    running: Vec<Seq>,
    phase: Phase,
    kv_used: u64,
}

/// A model server's LLM state and measurements.
#[derive(Debug)]
pub(crate) struct LlmServer {
    /// The token counts of the arrival being admitted, from its trace
    /// record (see [`LlmServer::set_trace_tokens`]); taken by `arrive`.
    trace_tokens: (Option<u32>, Option<u32>),
    /// The key of the arrival being admitted (see
    /// [`LlmServer::set_arriving_key`]); its prefix group under
    /// `prefix.from_key`.
    arriving_key: u64,
    max_batch: usize,
    prefill: PrefillTime,
    decode: DecodeTime,
    kv_capacity: Option<u64>,
    capacity: Option<u32>,
    prompt: Sampler,
    output: Sampler,
    prompt_rng: RngStream,
    output_rng: RngStream,
    /// Shared prefixes: the workload, its groups' cumulative probabilities
    /// and the stream the groups are drawn from.
    prefix: Option<PrefixWorkload>,
    prefix_cdf: Vec<f64>,
    prefix_rng: RngStream,
    /// Prefix caching, in the window: tokens looked up and found cached at
    /// admissions.
    cache_queries: u64,
    cache_hits: u64,
    queue: VecDeque<Queued>,
    slots: Vec<Slot>,
    /// The chunked scheduler's state, one per slot (empty when prefill-first).
    chunked: Vec<ChunkedBatch>,
    /// Chunked: KV blocks per slot (`None` unlimited), preemptions in the
    /// window, and the blocks used over all slots (time average).
    kv_blocks: Option<u32>,
    preemptions: u64,
    /// Requests dropped in the window because they can never fit the KV
    /// cache (prompt + output longer than it holds), also counted in drops.
    too_long_drops: u64,
    kv_used: TimeAverage<1>,
    /// Swap preemption: the CPU swap space the slots share (blocks left,
    /// all of it), and in the window the swaps out and in and the blocks
    /// they copied.
    swap_free: u64,
    swap_total: u64,
    swaps_out: u64,
    swaps_in: u64,
    swap_blocks_moved: u64,
    /// Requests finished by the last iteration, to answer (reused).
    done: Vec<RequestId>,
    /// Disaggregation: this server's role; a prefill server's links (one
    /// per slot), the landing times of the transfers the last iteration
    /// started (to schedule; reused), and over counted requests the
    /// transfers, their bytes and their times (prefill end to landing).
    role: LlmRole,
    links: Vec<LinkState>,
    sent: Vec<SimTime>,
    kv_transfers: u64,
    kv_transfer_bytes: u64,
    kv_transfer_time: LatencyHistogram,
    ready_at: SimTime,
    /// When the model was first loaded (the report's `cold_start_ms`).
    first_ready: SimTime,
    /// Faults (`simulation/faults.rs`) and their effects.
    pub(crate) faults: FaultState,
    wake_pending: bool,
    capacity_rps: f64,
    capacity_tokens: f64,
    /// Requests (`ACTIVE` = running, prefilling included) and waiting.
    pub(crate) metrics: StationMetrics,
    busy_slots: TimeAverage<1>,
    /// Busy slots over time, kept only for a replica whose group autoscales
    /// on utilization.
    pub(crate) busy_area: Option<BusyArea>,
    window_start: SimTime,
    window_end: SimTime,
    ttft: LatencyHistogram,
    tpot: LatencyHistogram,
    /// Iterations started in the window and the sequences they held.
    prefills: u64,
    prefilled: u64,
    decodes: u64,
    decoded: u64,
    /// Output tokens produced by iterations ending in the window.
    tokens: u64,
    /// Over counted requests that completed: queue delay and lengths.
    wait_ns: u128,
    prompt_sum: u64,
    output_sum: u64,
    /// Decode steps and their sequences since time zero, and their values
    /// at the last series tick (a `Cell`: gauges read a shared reference).
    all_decodes: u64,
    all_decoded: u64,
    at_last_tick: Cell<(u64, u64)>,
}

/// Rounds a drawn "duration" to a token count of at least 1.
fn tokens(d: SimDuration) -> u32 {
    d.as_nanos().clamp(1, u64::from(u32::MAX)) as u32
}

impl LlmServer {
    /// The next arrival's token counts (prompt, output) from its trace
    /// record, each `None` where the record gives none (drawn then).
    #[inline]
    pub(crate) fn set_trace_tokens(&mut self, tokens: (Option<u32>, Option<u32>)) {
        self.trace_tokens = tokens;
    }

    /// A server for `spec`; one random stream per length, one for the cold start.
    pub(crate) fn new(
        spec: &LlmServerSpec,
        prompt_rng: RngStream,
        output_rng: RngStream,
        cold_rng: RngStream,
        window_start: SimTime,
        window_end: SimTime,
    ) -> Result<LlmServer, String> {
        if spec.slots == 0 {
            return Err("`slots` must be at least 1".into());
        }
        if spec.max_batch == 0 {
            return Err("`max_batch` must be at least 1".into());
        }
        if spec.kv_cache_tokens == Some(0) {
            return Err("`kv_cache_tokens` must be at least 1".into());
        }
        if let LlmScheduler::Chunked(c) = &spec.scheduler {
            if c.max_num_batched_tokens == 0 || c.max_num_seqs == 0 || c.block_size == 0 {
                return Err(
                    "`max_num_batched_tokens`, `max_batch` and `kv_block_size` must be at least 1"
                        .into(),
                );
            }
            if c.num_blocks == Some(0) {
                return Err("`kv_blocks` must be at least 1".into());
            }
        }
        if let Some(x) = spec.prefix {
            if x.tokens == 0 || x.groups == 0 || !(x.zipf >= 0.0 && x.zipf.is_finite()) {
                return Err(
                    "`prefix.tokens` and `prefix.groups` must be at least 1 and `prefix.zipf` zero or more"
                        .into(),
                );
            }
        }
        // The prefix groups' stream: derived from the prompt stream's state
        // with its own increment, so that adding `prefix` leaves the drawn
        // prompt and output lengths unchanged.
        let prefix_rng = {
            let mut r = prompt_rng.clone();
            RngStream::new(r.random::<u128>(), 0x7072_6566_6978_u128)
        };
        let (faults, ready_at) = loaded_faults(spec.cold_start.as_ref(), cold_rng)?;
        if spec.role != LlmRole::Colocated && spec.scheduler == LlmScheduler::PrefillFirst {
            return Err("`role: prefill` and `role: decode` need `scheduler: chunked`".into());
        }
        if let LlmRole::Prefill(r) = spec.role {
            if !(r.link.gbps > 0.0 && r.link.gbps.is_finite()) || r.link.kv_bytes_per_token == 0 {
                return Err(
                    "`kv_link.gbps` and `kv_bytes_per_token` must be greater than zero".into(),
                );
            }
        }
        let per_slot = (spec.max_batch as usize).min(1024);
        let swap_total = match &spec.scheduler {
            LlmScheduler::Chunked(c) => c
                .swap
                .map_or(0, |s| s.cpu_blocks.saturating_mul(u64::from(spec.slots))),
            LlmScheduler::PrefillFirst => 0,
        };
        Ok(LlmServer {
            trace_tokens: (None, None),
            arriving_key: 0,
            max_batch: spec.max_batch as usize,
            prefill: spec.prefill,
            decode: spec.decode_step,
            kv_capacity: spec.kv_cache_tokens,
            capacity: spec.queue_capacity,
            prompt: Sampler::new(&spec.prompt_tokens)?,
            output: Sampler::new(&spec.output_tokens)?,
            prompt_rng,
            output_rng,
            prefix: spec.prefix,
            prefix_cdf: spec.prefix.map_or_else(Vec::new, |x| x.cdf()),
            prefix_rng,
            cache_queries: 0,
            cache_hits: 0,
            queue: VecDeque::new(),
            slots: (0..spec.slots)
                .map(|_| Slot {
                    running: Vec::with_capacity(per_slot),
                    phase: Phase::Idle,
                    kv_used: 0,
                })
                .collect(),
            chunked: match &spec.scheduler {
                LlmScheduler::Chunked(c) => (0..spec.slots)
                    .map(|_| {
                        let mut b = ChunkedBatch::new(c.clone());
                        if let Some(x) = spec.prefix {
                            b.enable_prefix_cache(x.groups, x.tokens);
                        }
                        if matches!(spec.role, LlmRole::Prefill(_)) {
                            b.set_hand_off();
                        }
                        b
                    })
                    .collect(),
                LlmScheduler::PrefillFirst => Vec::new(),
            },
            kv_blocks: match &spec.scheduler {
                LlmScheduler::Chunked(c) => c.num_blocks,
                LlmScheduler::PrefillFirst => None,
            },
            preemptions: 0,
            too_long_drops: 0,
            kv_used: TimeAverage::new(window_start, window_end),
            swap_free: swap_total,
            swap_total,
            swaps_out: 0,
            swaps_in: 0,
            swap_blocks_moved: 0,
            done: Vec::with_capacity(per_slot),
            role: spec.role,
            links: match spec.role {
                LlmRole::Prefill(_) => (0..spec.slots).map(|_| LinkState::default()).collect(),
                _ => Vec::new(),
            },
            sent: Vec::with_capacity(match spec.role {
                LlmRole::Prefill(_) => per_slot,
                _ => 0,
            }),
            kv_transfers: 0,
            kv_transfer_bytes: 0,
            kv_transfer_time: LatencyHistogram::new(),
            ready_at,
            first_ready: ready_at,
            faults,
            wake_pending: false,
            capacity_rps: spec.saturated_rps(),
            capacity_tokens: spec.saturated_tokens_per_s(),
            metrics: StationMetrics::new(window_start, window_end),
            busy_slots: TimeAverage::new(window_start, window_end),
            busy_area: None,
            window_start,
            window_end,
            ttft: LatencyHistogram::new(),
            tpot: LatencyHistogram::new(),
            prefills: 0,
            prefilled: 0,
            decodes: 0,
            decoded: 0,
            tokens: 0,
            wait_ns: 0,
            prompt_sum: 0,
            output_sum: 0,
            all_decodes: 0,
            all_decoded: 0,
            at_last_tick: Cell::new((0, 0)),
        })
    }

    /// Number of slots.
    pub(crate) fn slots(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Requests waiting for admission.
    pub(crate) fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// KV blocks in use over the chunked slots and requests waiting: what
    /// an LLM-aware balancer reads (`kv_query.rs`).
    #[inline]
    pub(crate) fn kv_state(&self) -> (u64, usize) {
        let used = self.chunked.iter().map(ChunkedBatch::used_blocks).sum();
        (used, self.queue.len())
    }

    /// The key of the request about to arrive (call before
    /// [`LlmServer::arrive`]): its prefix group when `prefix.from_key`.
    pub(crate) fn set_arriving_key(&mut self, key: u64) {
        self.arriving_key = key;
    }

    fn in_window(&self, t: SimTime) -> bool {
        t >= self.window_start && t < self.window_end
    }

    /// A request arrives at `now`: its lengths are drawn and it queues, or
    /// it is dropped (queue full, or it can never fit the KV cache). Call
    /// [`LlmServer::next`] afterwards.
    pub(crate) fn arrive(&mut self, now: SimTime, req: RequestId, counted: bool) -> Arrival {
        // Drawn even when a trace gives the counts, so every stream stays
        // where it would be without the trace's values.
        let mut prompt = tokens(self.prompt.sample(&mut self.prompt_rng));
        let mut output = tokens(self.output.sample(&mut self.output_rng));
        let (trace_prompt, trace_output) = std::mem::take(&mut self.trace_tokens);
        if let Some(p) = trace_prompt {
            prompt = p.max(1);
        }
        if let Some(o) = trace_output {
            output = o.max(1);
        }
        let mut group = None;
        if let Some(x) = self.prefix {
            let g = if x.from_key {
                (self.arriving_key % u64::from(x.groups)) as u32
            } else {
                PrefixWorkload::draw(&self.prefix_cdf, self.prefix_rng.random::<f64>())
            };
            prompt = prompt.saturating_add(x.tokens);
            group = Some((g, x.tokens));
        }
        let p = Pending::new(req, now, prompt, output, counted);
        self.admit(
            now,
            match group {
                Some((g, len)) => p.with_prefix(g, len),
                None => p,
            },
        )
    }

    /// Admission shared by [`LlmServer::arrive`] and
    /// [`LlmServer::arrive_handed_off`]: `p` queues, or is refused because
    /// the server is down, the queue is full or it can never fit the KV
    /// cache (a prefill instance holds the prompt and the first token only).
    fn admit(&mut self, now: SimTime, p: Pending) -> Arrival {
        let m = &mut self.metrics;
        if self.faults.arrives_down(m, p.counted) {
            return Arrival::Down;
        }
        let full = self
            .capacity
            .is_some_and(|cap| self.queue.len() >= cap as usize);
        let kept = if matches!(self.role, LlmRole::Prefill(_)) {
            1
        } else {
            p.output
        };
        let too_long = match self.chunked.first() {
            Some(c) => !c.spec().fits(p.prompt, kept),
            None => self
                .kv_capacity
                .is_some_and(|kv| u64::from(p.prompt) + u64::from(p.output) > kv),
        };
        if full || too_long {
            if p.counted {
                m.drops += 1;
                if too_long && !full {
                    self.too_long_drops += 1;
                }
            }
            return Arrival::Dropped;
        }
        self.queue.push_back(p);
        m.levels.add(now, WAITING, 1);
        Arrival::Queued
    }

    /// The wake-up asked for by [`Step::WakeAt`] has come.
    pub(crate) fn woke(&mut self) {
        self.wake_pending = false;
    }

    /// What to start at `now`: an iteration on an idle slot that has work
    /// (admissions first, then a decode step). Call it until it returns
    /// something other than [`Step::Start`].
    pub(crate) fn next(&mut self, now: SimTime) -> Step {
        if now < self.ready_at {
            if self.queue.is_empty() || self.wake_pending {
                return Step::Idle;
            }
            self.wake_pending = true;
            return Step::WakeAt(self.ready_at);
        }
        if !self.chunked.is_empty() {
            return self.next_chunked(now);
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.phase != Phase::Idle {
                continue;
            }
            // Admit FIFO while the batch has room and the KV cache fits.
            let from = slot.running.len();
            let mut prompt_tokens = 0u64;
            while slot.running.len() < self.max_batch {
                let Some(q) = self.queue.front() else {
                    break;
                };
                let need = u64::from(q.prompt) + u64::from(q.output);
                if self.kv_capacity.is_some_and(|kv| slot.kv_used + need > kv) {
                    break;
                }
                let q = *q;
                self.queue.pop_front();
                slot.kv_used += need;
                prompt_tokens += u64::from(q.prompt);
                slot.running.push(Seq {
                    req: q.req,
                    arrived: q.arrived,
                    admitted: now,
                    first_token: now,
                    prompt: q.prompt,
                    output: q.output,
                    remaining: q.output,
                    counted: q.counted,
                });
            }
            let admitted = slot.running.len() - from;
            let in_window = now >= self.window_start && now < self.window_end;
            let after = if admitted > 0 {
                let m = &mut self.metrics;
                m.levels.add(now, WAITING, -(admitted as i64));
                m.levels.add(now, ACTIVE, admitted as i64);
                slot.phase = Phase::Prefill { from };
                if in_window {
                    self.prefills += 1;
                    self.prefilled += admitted as u64;
                }
                self.faults.stretch(self.prefill.time(prompt_tokens))
            } else if !slot.running.is_empty() {
                let b = slot.running.len();
                slot.phase = Phase::Decode;
                if in_window {
                    self.decodes += 1;
                    self.decoded += b as u64;
                }
                self.all_decodes += 1;
                self.all_decoded += b as u64;
                self.faults.stretch(self.decode.time(b as u32))
            } else {
                continue;
            };
            add_busy_slots(&mut self.busy_slots, &mut self.busy_area, now, 1);
            return Step::Start {
                slot: i as u32,
                after,
            };
        }
        Step::Idle
    }

    /// The iteration on `slot` ended at `now`: every sequence in it gets a
    /// token, and the finished ones leave the batch; their requests are in
    /// [`LlmServer::done`], to answer before [`LlmServer::release`].
    pub(crate) fn iteration_done(&mut self, now: SimTime, slot: u32) {
        self.sent.clear();
        if !self.chunked.is_empty() {
            self.chunked_done(now, slot);
            return;
        }
        let in_window = self.in_window(now);
        let s = &mut self.slots[slot as usize];
        let (from, prefill) = match s.phase {
            Phase::Prefill { from } => (from, true),
            Phase::Decode => (0, false),
            Phase::Idle | Phase::Chunked => return,
        };
        if in_window {
            self.tokens += (s.running.len() - from) as u64;
        }
        self.done.clear();
        // Only the sequences in this iteration get a token, so only they
        // can finish; the batch is compacted only when one does.
        let mut finished = false;
        for q in &mut s.running[from..] {
            q.remaining -= 1;
            finished |= q.remaining == 0;
            if prefill {
                q.first_token = now;
                if q.counted {
                    self.ttft.record(now - q.arrived);
                }
            }
        }
        if finished {
            let mut keep = from;
            for i in from..s.running.len() {
                let q = s.running[i];
                if q.remaining > 0 {
                    s.running[keep] = q;
                    keep += 1;
                    continue;
                }
                s.kv_used -= u64::from(q.prompt) + u64::from(q.output);
                self.done.push(q.req);
                if q.counted {
                    let m = &mut self.metrics;
                    m.completions += 1;
                    m.latency.record(now - q.arrived);
                    self.wait_ns += u128::from((q.admitted - q.arrived).as_nanos());
                    self.prompt_sum += u64::from(q.prompt);
                    self.output_sum += u64::from(q.output);
                    if q.output >= 2 {
                        let per = (now - q.first_token).as_nanos() / u64::from(q.output - 1);
                        self.tpot.record(SimDuration::from_nanos(per));
                    }
                }
            }
            s.running.truncate(keep);
        }
        self.metrics
            .levels
            .add(now, ACTIVE, -(self.done.len() as i64));
    }

    /// [`LlmServer::next`] under the chunked scheduler: the first idle
    /// slot with work forms an iteration (preempted sequences go back to
    /// the queue's front).
    fn next_chunked(&mut self, now: SimTime) -> Step {
        let in_window = self.in_window(now);
        for i in 0..self.slots.len() {
            if self.slots[i].phase != Phase::Idle {
                continue;
            }
            let batch = &mut self.chunked[i];
            let before = batch.used_blocks();
            // The slots share one CPU swap space.
            batch.set_swap_free(self.swap_free);
            let scheduled = batch.schedule(now, &mut self.queue);
            self.swap_free = batch.swap_free();
            let Some(c) = scheduled else {
                continue;
            };
            let used = batch.used_blocks();
            let after = self.faults.stretch(batch.spec().iteration_time(&c));
            if self.kv_blocks.is_some() {
                self.kv_used.add(now, 0, used as i64 - before as i64);
            }
            let moved = i64::from(c.admitted) - i64::from(c.preempted);
            let m = &mut self.metrics;
            m.levels.add(now, WAITING, -moved);
            m.levels.add(now, ACTIVE, moved);
            self.slots[i].phase = Phase::Chunked;
            if in_window {
                self.preemptions += u64::from(c.preempted);
                self.swaps_out += u64::from(c.swaps_out);
                self.swaps_in += u64::from(c.swaps_in);
                self.swap_blocks_moved += c.swap_out_blocks + c.swap_in_blocks;
                self.cache_queries += c.cache_query_tokens;
                self.cache_hits += c.cache_hit_tokens;
                if c.prefill_seqs > 0 {
                    self.prefills += 1;
                    self.prefilled += u64::from(c.prefill_seqs);
                }
                if c.decode_seqs > 0 {
                    self.decodes += 1;
                    self.decoded += u64::from(c.decode_seqs);
                }
            }
            if c.decode_seqs > 0 {
                self.all_decodes += 1;
                self.all_decoded += u64::from(c.decode_seqs);
            }
            add_busy_slots(&mut self.busy_slots, &mut self.busy_area, now, 1);
            return Step::Start {
                slot: i as u32,
                after,
            };
        }
        Step::Idle
    }

    /// [`LlmServer::iteration_done`] under the chunked scheduler.
    fn chunked_done(&mut self, now: SimTime, slot: u32) {
        let in_window = self.in_window(now);
        if self.slots[slot as usize].phase == Phase::Idle {
            return;
        }
        self.done.clear();
        let batch = &mut self.chunked[slot as usize];
        let before = batch.used_blocks();
        let (ttft, tpot, done, metrics) = (
            &mut self.ttft,
            &mut self.tpot,
            &mut self.done,
            &mut self.metrics,
        );
        let (wait_ns, prompt_sum, output_sum) = (
            &mut self.wait_ns,
            &mut self.prompt_sum,
            &mut self.output_sum,
        );
        let (sent, role, mut link) = (&mut self.sent, self.role, self.links.get_mut(slot as usize));
        let (kv_transfers, kv_transfer_bytes, kv_transfer_time) = (
            &mut self.kv_transfers,
            &mut self.kv_transfer_bytes,
            &mut self.kv_transfer_time,
        );
        let mut handed = 0i64;
        let produced = batch.complete(now, |o| match o {
            Outcome::FirstToken(p) => {
                if p.counted {
                    ttft.record(now - p.arrived);
                }
                // A prefill server's part ends with the first token: the
                // request leaves (its stay recorded here) and its prompt's
                // KV goes over the slot's link to the decode pool.
                if let (LlmRole::Prefill(r), Some(link), true) =
                    (role, link.as_deref_mut(), p.output > 1)
                {
                    handed += 1;
                    let bytes = r.link.bytes(p.prompt);
                    let lands = link.send(&r.link, now, bytes, p);
                    sent.push(lands);
                    if p.counted {
                        metrics.completions += 1;
                        metrics.latency.record(now - p.arrived);
                        *wait_ns += u128::from((p.admitted - p.arrived).as_nanos());
                        *prompt_sum += u64::from(p.prompt);
                        *output_sum += 1;
                        *kv_transfers += 1;
                        *kv_transfer_bytes += bytes;
                        kv_transfer_time.record(lands - now);
                    }
                }
            }
            Outcome::Finished(q) => {
                done.push(q.req);
                if q.counted {
                    metrics.completions += 1;
                    metrics.latency.record(now - q.arrived);
                    *wait_ns += u128::from((q.admitted - q.arrived).as_nanos());
                    *prompt_sum += u64::from(q.prompt);
                    *output_sum += u64::from(q.output);
                    if q.output >= 2 {
                        let per = (now - q.first_token).as_nanos() / u64::from(q.output - 1);
                        tpot.record(SimDuration::from_nanos(per));
                    }
                }
            }
        });
        if in_window {
            self.tokens += u64::from(produced);
        }
        if self.kv_blocks.is_some() {
            let used = batch.used_blocks();
            self.kv_used.add(now, 0, used as i64 - before as i64);
        }
        self.metrics
            .levels
            .add(now, ACTIVE, -(self.done.len() as i64) - handed);
    }

    /// Landing times of the KV transfers the last iteration started (a
    /// prefill server's), one `LlmEvent::KvLanded` each.
    pub(crate) fn sent(&self) -> &[SimTime] {
        &self.sent
    }

    /// The transfer that lands first on `slot`'s link has landed: the
    /// request (with its lengths and first-token time) and where it goes.
    pub(crate) fn kv_landed(&mut self, slot: u32) -> Option<(Pending, sysdes_kernel::ComponentId)> {
        let LlmRole::Prefill(r) = self.role else {
            return None;
        };
        let p = self.links.get_mut(slot as usize)?.land()?;
        Some((p, r.decode_to))
    }

    /// Whether this is a decode instance (it takes handed-off requests).
    pub(crate) fn is_decode(&self) -> bool {
        self.role == LlmRole::Decode
    }

    /// A request prefilled elsewhere arrives at `now` with its prompt's KV
    /// (`p`, as the prefill server held it): it queues to decode its
    /// remaining tokens, or is dropped (queue full, or it can never fit the
    /// KV cache). Call [`LlmServer::next`] afterwards.
    pub(crate) fn arrive_handed_off(
        &mut self,
        now: SimTime,
        req: RequestId,
        p: Pending,
    ) -> Arrival {
        let p = Pending::handed_off(req, now, p.prompt, p.output, p.first_token, p.counted);
        self.admit(now, p)
    }

    /// The server crashes at `now`: waiting and running requests are
    /// appended to `lost` (the caller fails them) and their KV cache freed;
    /// a busy slot stays busy until its iteration's end, which then finishes
    /// nothing.
    pub(crate) fn crash(&mut self, now: SimTime, lost: &mut Vec<RequestId>) {
        self.faults.crashed = true;
        let mut counted = 0;
        let waiting = self.queue.len();
        let mut running = 0;
        for q in self.queue.drain(..) {
            lost.push(q.req);
            counted += u64::from(q.counted);
        }
        for slot in &mut self.slots {
            for q in slot.running.drain(..) {
                lost.push(q.req);
                counted += u64::from(q.counted);
                running += 1;
            }
            slot.kv_used = 0;
            if slot.phase != Phase::Idle {
                // An empty decode step: its end frees the slot.
                slot.phase = Phase::Decode;
            }
        }
        for c in &mut self.chunked {
            c.clear(|p| {
                lost.push(p.req);
                counted += u64::from(p.counted);
                running += 1;
            });
        }
        if self.kv_blocks.is_some() {
            self.kv_used.set(now, [0]);
        }
        self.swap_free = self.swap_total;
        let m = &mut self.metrics;
        m.levels.add(now, WAITING, -(waiting as i64));
        m.levels.add(now, ACTIVE, -(running as i64));
        self.faults.lost_in_crash += counted;
    }

    /// The model is loaded at time zero (a group's replica: its load is
    /// part of its boot).
    pub(crate) fn preloaded(&mut self) {
        self.ready_at = SimTime::ZERO;
        self.first_ready = SimTime::ZERO;
    }

    /// The server restarts at `now` after a crash, and loads its model again.
    pub(crate) fn restart(&mut self, now: SimTime) {
        self.ready_at = self.faults.restart(now);
    }

    /// The requests finished by the last [`LlmServer::iteration_done`].
    pub(crate) fn done(&self) -> &[RequestId] {
        &self.done
    }

    /// The finished requests were answered: the slot is free for its next
    /// iteration. Call [`LlmServer::next`] afterwards.
    pub(crate) fn release(&mut self, now: SimTime, slot: u32) {
        let s = &mut self.slots[slot as usize];
        if s.phase != Phase::Idle {
            s.phase = Phase::Idle;
            add_busy_slots(&mut self.busy_slots, &mut self.busy_area, now, -1);
        }
    }

    /// Whether the chunked scheduler caches shared prefixes.
    fn caches_prefixes(&self) -> bool {
        self.chunked
            .first()
            .is_some_and(ChunkedBatch::caches_prefixes)
    }

    /// Time-average busy slots / slots over the window.
    pub(crate) fn utilization(&self) -> f64 {
        self.busy_slots.mean(0) / f64::from(self.slots())
    }

    /// Whether a request can be too long for the KV cache (a block count or
    /// a token capacity is set).
    fn limits_kv(&self) -> bool {
        self.kv_capacity.is_some() || self.chunked.iter().any(|c| c.spec().num_blocks.is_some())
    }

    /// Named figures for the report: TTFT, TPOT, tokens, batches, slots.
    pub(crate) fn figures(&self) -> LlmFigures {
        let ms = |ns: f64| ns / 1e6;
        let q = |h: &LatencyHistogram, p: f64| {
            if h.count() > 0 {
                ms(h.quantile_ns(p) as f64)
            } else {
                0.0
            }
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let done = self.metrics.completions as f64;
        let window = (self.window_end - self.window_start).as_secs_f64();
        let swap = self.chunked.first().and_then(|c| c.spec().swap);
        let prefill = matches!(self.role, LlmRole::Prefill(_));
        // Which tokens this server produces: first ones, later ones.
        let (first, next) = (self.role != LlmRole::Decode, !prefill);
        LlmFigures {
            ttft_mean_ms: first.then(|| ms(self.ttft.mean_ns())),
            ttft_p50_ms: first.then(|| q(&self.ttft, 0.5)),
            ttft_p99_ms: first.then(|| q(&self.ttft, 0.99)),
            tpot_mean_ms: next.then(|| ms(self.tpot.mean_ns())),
            tpot_p50_ms: next.then(|| q(&self.tpot, 0.5)),
            tpot_p99_ms: next.then(|| q(&self.tpot, 0.99)),
            output_tokens_per_s: ratio(self.tokens as f64, window),
            mean_running_batch: ratio(self.decoded as f64, self.decodes as f64),
            mean_prefill_batch: ratio(self.prefilled as f64, self.prefills as f64),
            prefills: self.prefills,
            decode_steps: self.decodes,
            mean_prompt_tokens: ratio(self.prompt_sum as f64, done),
            mean_output_tokens: ratio(self.output_sum as f64, done),
            mean_queue_delay_ms: ms(ratio(self.wait_ns as f64, done)),
            slot_utilization: self.utilization(),
            cold_start_ms: self.first_ready.as_secs_f64() * 1e3,
            capacity_rps: self.capacity_rps,
            capacity_tokens_per_s: self.capacity_tokens,
            preemptions: (!self.chunked.is_empty()).then_some(self.preemptions),
            too_long_drops: self.limits_kv().then_some(self.too_long_drops),
            kv_utilization: self
                .kv_blocks
                .map(|n| self.kv_used.mean(0) / (f64::from(n) * f64::from(self.slots()))),
            prefix_hit_rate: self
                .caches_prefixes()
                .then(|| ratio(self.cache_hits as f64, self.cache_queries as f64)),
            prefill_tokens_saved: self.caches_prefixes().then_some(self.cache_hits),
            swaps_out: swap.map(|_| self.swaps_out),
            swaps_in: swap.map(|_| self.swaps_in),
            swapped_bytes: swap.map(|s| self.swap_blocks_moved.saturating_mul(s.bytes_per_block)),
            kv_transfers: prefill.then_some(self.kv_transfers),
            kv_transfer_bytes: prefill.then_some(self.kv_transfer_bytes),
            kv_transfer_mean_ms: prefill.then(|| ms(self.kv_transfer_time.mean_ns())),
            kv_transfer_p99_ms: prefill.then(|| q(&self.kv_transfer_time, 0.99)),
        }
    }

    /// Chunked scheduler with `kv_blocks`: KV blocks in use now over all
    /// the slots' blocks (the time series' `NAME.kv_utilization`, sampled
    /// at each tick); `None` without a finite paged cache.
    pub(crate) fn kv_utilization_now(&self) -> Option<f64> {
        let n = self.kv_blocks?;
        let used: u64 = self.chunked.iter().map(ChunkedBatch::used_blocks).sum();
        Some(used as f64 / (f64::from(n) * f64::from(self.slots())))
    }

    /// Mean running sequences per decode step since the last call (0 if
    /// none), for the per-interval time series.
    pub(crate) fn take_interval_batch_size(&self) -> f64 {
        take_interval_mean(&self.at_last_tick, self.all_decodes, self.all_decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::model_server::tests::{at, ms};
    use sysdes_kernel::derive_stream;

    fn tokens_const(n: u64) -> Distribution {
        Distribution::Constant(SimDuration::from_nanos(n))
    }

    /// Prefill 10 ms + 1 ms per prompt token, decode 5 ms + 1 ms per
    /// sequence, prompts of 2 tokens, 3 output tokens.
    fn spec(slots: u32, max_batch: u32) -> LlmServerSpec {
        LlmServerSpec {
            slots,
            max_batch,
            prefill: PrefillTime {
                base: ms(10),
                per_token: ms(1),
            },
            decode_step: DecodeTime {
                base: ms(5),
                per_sequence: ms(1),
            },
            prompt_tokens: tokens_const(2),
            output_tokens: tokens_const(3),
            kv_cache_tokens: None,
            queue_capacity: None,
            cold_start: None,
            scheduler: LlmScheduler::PrefillFirst,
            prefix: None,
            role: LlmRole::Colocated,
        }
    }

    fn server(spec: &LlmServerSpec) -> LlmServer {
        LlmServer::new(
            spec,
            derive_stream(1, "m", "prompt_tokens"),
            derive_stream(1, "m", "output_tokens"),
            derive_stream(1, "m", "cold_start"),
            SimTime::ZERO,
            at(1_000_000),
        )
        .unwrap()
    }

    fn start(slot: u32, after_ms: u64) -> Step {
        Step::Start {
            slot,
            after: ms(after_ms),
        }
    }

    fn extra(m: &LlmServer, key: &str) -> f64 {
        crate::figures::KindFigures::Llm(Box::new(m.figures()))
            .get(key)
            .unwrap()
    }

    #[test]
    fn times_and_capacity() {
        let s = spec(1, 4);
        assert_eq!(s.prefill.time(8), ms(18));
        assert_eq!(s.decode_step.time(4), ms(9));
        // 4 * 3 tokens per cycle of prefill(8) + 2 * decode(4) = 18 + 18 ms.
        assert!((s.saturated_tokens_per_s() - 12.0 / 0.036).abs() < 1e-9);
        assert!((s.saturated_rps() - 4.0 / 0.036).abs() < 1e-9);
    }

    #[test]
    fn one_request_prefills_then_decodes() {
        let mut m = server(&spec(1, 4));
        assert_eq!(m.kv_utilization_now(), None, "no paged cache, no series");
        assert_eq!(m.arrive(at(0), 7, true), Arrival::Queued);
        // Prefill of 2 tokens: 10 + 2 ms; the first token comes with it.
        assert_eq!(m.next(at(0)), start(0, 12));
        assert_eq!(m.next(at(0)), Step::Idle);
        m.iteration_done(at(12), 0);
        assert!(m.done().is_empty());
        m.release(at(12), 0);
        // Two decode steps of one sequence, 6 ms each.
        assert_eq!(m.next(at(12)), start(0, 6));
        m.iteration_done(at(18), 0);
        m.release(at(18), 0);
        assert_eq!(m.next(at(18)), start(0, 6));
        m.iteration_done(at(24), 0);
        assert_eq!(m.done(), &[7]);
        m.release(at(24), 0);
        assert_eq!(m.next(at(24)), Step::Idle);
        assert_eq!(extra(&m, "ttft_mean_ms"), 12.0);
        // (24 - 12) / (3 - 1) = 6 ms per output token.
        assert_eq!(extra(&m, "tpot_mean_ms"), 6.0);
        assert_eq!(m.metrics.completions, 1);
        assert_eq!(extra(&m, "mean_output_tokens"), 3.0);
        assert_eq!(extra(&m, "decode_steps"), 2.0);
    }

    #[test]
    fn arrivals_join_at_the_next_boundary_and_prefill_first() {
        let mut m = server(&spec(1, 4));
        m.arrive(at(0), 1, true);
        assert_eq!(m.next(at(0)), start(0, 12));
        // Two arrive during the first prefill: they wait for the boundary.
        m.arrive(at(1), 2, true);
        m.arrive(at(2), 3, true);
        assert_eq!(m.next(at(2)), Step::Idle);
        m.iteration_done(at(12), 0);
        m.release(at(12), 0);
        // Both prefilled together (4 tokens), request 1 waits.
        assert_eq!(m.next(at(12)), start(0, 14));
        m.iteration_done(at(26), 0);
        m.release(at(26), 0);
        // Then one decode step of all three: 5 + 3 ms.
        assert_eq!(m.next(at(26)), start(0, 8));
        assert_eq!(m.queue_len(), 0);
        m.iteration_done(at(34), 0);
        // Every sequence has its second token (request 1 waited through
        // the others' prefill).
        assert!(m.done().is_empty());
        m.release(at(34), 0);
        assert_eq!(m.next(at(34)), start(0, 8));
        m.iteration_done(at(42), 0);
        assert_eq!(m.done(), &[1, 2, 3]);
        // TTFT 12, 25 and 24 ms; TPOT (42 - 12) / 2 = 15 and (42 - 26) / 2 = 8 ms.
        assert!((extra(&m, "ttft_mean_ms") - 61.0 / 3.0).abs() < 1e-9);
        assert!((extra(&m, "tpot_mean_ms") - 31.0 / 3.0).abs() < 1e-9);
        assert_eq!(extra(&m, "mean_prefill_batch"), 1.5);
        assert_eq!(extra(&m, "mean_running_batch"), 3.0);
    }

    #[test]
    fn max_batch_caps_admission() {
        let mut m = server(&spec(1, 2));
        for r in 0..5 {
            m.arrive(at(0), r, true);
        }
        // The first arrival alone would start at once in the engine; here
        // all five wait and two are admitted: prefill of 4 tokens.
        assert_eq!(m.next(at(0)), start(0, 14));
        assert_eq!(m.queue_len(), 3);
        m.iteration_done(at(14), 0);
        m.release(at(14), 0);
        // The batch is full: a decode step, not a prefill.
        assert_eq!(m.next(at(14)), start(0, 7));
    }

    #[test]
    fn kv_cache_limits_admission_and_drops_what_never_fits() {
        let mut s = spec(1, 8);
        // Each request needs 2 + 3 = 5 tokens: two fit in 12.
        s.kv_cache_tokens = Some(12);
        let mut m = server(&s);
        for r in 0..3 {
            m.arrive(at(0), r, true);
        }
        assert_eq!(m.next(at(0)), start(0, 14));
        assert_eq!(m.queue_len(), 1);
        s.kv_cache_tokens = Some(4);
        let mut small = server(&s);
        assert_eq!(small.arrive(at(0), 1, true), Arrival::Dropped);
        assert_eq!(small.metrics.drops, 1);
    }

    #[test]
    fn finished_sequences_free_their_kv() {
        let mut s = spec(1, 8);
        s.kv_cache_tokens = Some(5);
        s.output_tokens = tokens_const(1);
        s.prompt_tokens = tokens_const(4);
        let mut m = server(&s);
        m.arrive(at(0), 1, true);
        m.arrive(at(0), 2, true);
        assert_eq!(m.next(at(0)), start(0, 14));
        m.iteration_done(at(14), 0);
        // One output token: done at its prefill, no TPOT.
        assert_eq!(m.done(), &[1]);
        m.release(at(14), 0);
        assert_eq!(m.next(at(14)), start(0, 14));
        assert_eq!(m.tpot.count(), 0);
    }

    #[test]
    fn slots_run_their_own_batches() {
        let mut m = server(&spec(2, 4));
        m.arrive(at(0), 1, true);
        assert_eq!(m.next(at(0)), start(0, 12));
        m.arrive(at(1), 2, true);
        assert_eq!(m.next(at(1)), start(1, 12));
        m.arrive(at(2), 3, true);
        assert_eq!(m.next(at(2)), Step::Idle);
        assert_eq!(m.queue_len(), 1);
        m.iteration_done(at(12), 0);
        m.release(at(12), 0);
        // Slot 0 admits the waiting request with a prefill.
        assert_eq!(m.next(at(12)), start(0, 12));
    }

    #[test]
    fn cold_start_holds_iterations_back() {
        let mut s = spec(1, 4);
        s.cold_start = Some(Distribution::Constant(ms(30)));
        let mut m = server(&s);
        assert_eq!(m.next(at(0)), Step::Idle);
        m.arrive(at(1), 1, true);
        assert_eq!(m.next(at(1)), Step::WakeAt(at(30)));
        m.arrive(at(2), 2, true);
        assert_eq!(m.next(at(2)), Step::Idle);
        m.woke();
        assert_eq!(m.next(at(30)), start(0, 14));
    }

    #[test]
    fn full_queue_drops_and_lengths_are_at_least_one() {
        let mut s = spec(1, 4);
        s.queue_capacity = Some(1);
        s.output_tokens = Distribution::Exponential { mean_ns: 0.01 };
        let mut m = server(&s);
        assert_eq!(m.arrive(at(0), 1, true), Arrival::Queued);
        assert_eq!(m.arrive(at(0), 2, true), Arrival::Dropped);
        assert_eq!(m.next(at(0)), start(0, 12));
        m.iteration_done(at(12), 0);
        assert_eq!(m.done(), &[1], "an output of 0 tokens rounds up to 1");
    }

    /// Chunked, budget 8, blocks of 4 tokens, 4 blocks, 1 ms + 1 ms per
    /// token: two requests (prompt 2, output 3) prefill together (4 tokens,
    /// 5 ms), then decode twice (2 tokens, 3 ms each) and finish at 11 ms;
    /// each holds one block throughout (at most 4 tokens computed).
    /// A decode server admits a handed-off request through the same
    /// admission as an arrival: one that can never fit its KV blocks is a
    /// too-long drop, one past a full queue a drop, and one admitted keeps
    /// its prompt as received and its first-token time.
    #[test]
    fn handed_off_requests_share_the_admission() {
        use crate::kinds::model_server::llm_sched::IterationCost;
        let mut s = spec(1, 8);
        s.role = LlmRole::Decode;
        s.queue_capacity = Some(1);
        s.scheduler = LlmScheduler::Chunked(ChunkedSpec {
            max_num_batched_tokens: 8,
            max_num_seqs: 8,
            block_size: 4,
            num_blocks: Some(4),
            prefix_caching: true,
            swap: None,
            watermark_blocks: 0,
            cost: IterationCost::affine(ms(1), 1_000_000_000, 0, 0),
        });
        let mut m = server(&s);
        let prefilled = |prompt| Pending::handed_off(9, at(0), prompt, 3, at(2), true);
        // 20 + 3 tokens need 6 blocks of the 4.
        assert_eq!(
            m.arrive_handed_off(at(3), 1, prefilled(20)),
            Arrival::Dropped
        );
        assert_eq!((m.metrics.drops, m.too_long_drops), (1, 1));
        assert_eq!(m.arrive_handed_off(at(3), 2, prefilled(4)), Arrival::Queued);
        assert_eq!(
            m.arrive_handed_off(at(3), 3, prefilled(4)),
            Arrival::Dropped
        );
        assert_eq!((m.metrics.drops, m.too_long_drops), (2, 1), "queue full");
        let q = m.queue[0];
        assert_eq!((q.req, q.arrived, q.first_token), (2, at(3), at(2)));
        assert_eq!((q.prompt, q.received, q.generated), (4, 4, 1));
        m.faults.crashed = true;
        assert_eq!(m.arrive_handed_off(at(4), 4, prefilled(4)), Arrival::Down);
    }

    #[test]
    fn chunked_iterations_figures_and_crash_by_hand() {
        use crate::kinds::model_server::llm_sched::IterationCost;
        let mut s = spec(1, 8);
        s.scheduler = LlmScheduler::Chunked(ChunkedSpec {
            max_num_batched_tokens: 8,
            max_num_seqs: 8,
            block_size: 4,
            num_blocks: Some(4),
            prefix_caching: true,
            swap: None,
            watermark_blocks: 0,
            cost: IterationCost::affine(ms(1), 1_000_000_000, 0, 0),
        });
        let mut m = server(&s);
        m.arrive(at(0), 1, true);
        m.arrive(at(0), 2, true);
        assert_eq!(m.kv_utilization_now(), Some(0.0));
        assert_eq!(m.next(at(0)), start(0, 5));
        // Two of the four blocks are taken by the iteration.
        assert_eq!(m.kv_utilization_now(), Some(0.5));
        assert_eq!(m.next(at(0)), Step::Idle);
        m.iteration_done(at(5), 0);
        m.release(at(5), 0);
        assert_eq!(m.next(at(5)), start(0, 3));
        m.iteration_done(at(8), 0);
        m.release(at(8), 0);
        assert_eq!(m.next(at(8)), start(0, 3));
        m.iteration_done(at(11), 0);
        assert_eq!(m.done(), &[1, 2]);
        m.release(at(11), 0);
        assert_eq!(extra(&m, "ttft_mean_ms"), 5.0);
        assert_eq!(extra(&m, "tpot_mean_ms"), 3.0);
        assert_eq!(extra(&m, "preemptions"), 0.0);
        assert_eq!(extra(&m, "prefills"), 1.0);
        assert_eq!(extra(&m, "decode_steps"), 2.0);
        // 2 of 4 blocks for 11 ms of a 10^6 ms window.
        assert!((extra(&m, "kv_utilization") - 22.0 / 4e6).abs() < 1e-15);
        // A prompt of 17 tokens needs 5 blocks: it can never fit.
        let mut big = s.clone();
        big.prompt_tokens = tokens_const(17);
        assert_eq!(server(&big).arrive(at(0), 9, true), Arrival::Dropped);
        // A crash loses the running and the waiting, and frees the blocks.
        m.arrive(at(20), 3, true);
        assert_eq!(m.next(at(20)), start(0, 3));
        m.arrive(at(21), 4, true);
        let mut lost = Vec::new();
        m.crash(at(21), &mut lost);
        assert_eq!(lost, vec![4, 3]);
        assert_eq!(m.chunked[0].used_blocks(), 0);
        assert_eq!(m.queue_len(), 0);
    }

    /// One victim, by hand, through the server: six blocks of 2 tokens,
    /// two requests of prompt 4 and output 4, 1 ms + 10 us per token + 1 us
    /// per context token + 1 ns per prefill pair, swap at 1 us per block of
    /// 4096 bytes. Iterations: prefill 8 tokens (P = 32) 1.080032 ms;
    /// decodes of contexts 5 + 5 and 6 + 6, 1.030 and 1.032 ms; request 2
    /// (6 tokens, 3 blocks) swapped out while request 1 decodes context 7:
    /// 1.017 + 0.003 ms; swapped in, a decode of context 7: 1.020 ms (by
    /// recompute that last one would be a prefill of 7 tokens, P = 49:
    /// 1.070049 ms).
    #[test]
    fn swap_preemption_timings_by_hand() {
        use crate::kinds::model_server::llm_sched::{IterationCost, SwapSpec};
        let run = |swap: Option<SwapSpec>| {
            let mut s = spec(1, 8);
            s.prompt_tokens = tokens_const(4);
            s.output_tokens = tokens_const(4);
            s.scheduler = LlmScheduler::Chunked(ChunkedSpec {
                max_num_batched_tokens: 64,
                max_num_seqs: 8,
                block_size: 2,
                num_blocks: Some(6),
                prefix_caching: true,
                swap,
                watermark_blocks: 0,
                cost: IterationCost::affine(ms(1), 10_000_000, 1_000_000, 1_000),
            });
            let mut m = server(&s);
            m.arrive(at(0), 1, true);
            m.arrive(at(0), 2, true);
            let mut now = at(0);
            let mut times = Vec::new();
            while let Step::Start { after, .. } = m.next(now) {
                times.push(after.as_nanos());
                now += after;
                m.iteration_done(now, 0);
                m.release(now, 0);
            }
            (m, times)
        };
        let (m, times) = run(Some(SwapSpec {
            ps_per_block: 1_000_000,
            bytes_per_block: 4096,
            cpu_blocks: 16,
        }));
        assert_eq!(
            times,
            vec![1_080_032, 1_030_000, 1_032_000, 1_020_000, 1_020_000]
        );
        assert_eq!(extra(&m, "preemptions"), 1.0);
        assert_eq!(extra(&m, "swaps_out"), 1.0);
        assert_eq!(extra(&m, "swaps_in"), 1.0);
        assert_eq!(extra(&m, "swapped_bytes"), 6.0 * 4096.0);
        // TPOT: request 1 (4.162032 - 1.080032) / 3, request 2
        // (5.182032 - 1.080032) / 3 ms, whole nanoseconds.
        let tpot = (3_082_000 / 3 + 4_102_000 / 3) as f64 / 2.0 / 1e6;
        assert!((extra(&m, "tpot_mean_ms") - tpot).abs() < 1e-9);
        assert_eq!(m.swap_free, 16);
        let (m, times) = run(None);
        assert_eq!(
            times,
            vec![1_080_032, 1_030_000, 1_032_000, 1_017_000, 1_070_049]
        );
        assert_eq!(extra(&m, "preemptions"), 1.0);
        assert!(m.figures().swaps_out.is_none());
    }

    #[test]
    fn interval_batch_size_resets() {
        let mut m = server(&spec(1, 4));
        m.arrive(at(0), 1, true);
        m.arrive(at(0), 2, true);
        m.next(at(0));
        m.iteration_done(at(14), 0);
        m.release(at(14), 0);
        assert!(matches!(m.next(at(14)), Step::Start { .. }));
        assert_eq!(m.take_interval_batch_size(), 2.0);
        assert_eq!(m.take_interval_batch_size(), 0.0);
    }
}
