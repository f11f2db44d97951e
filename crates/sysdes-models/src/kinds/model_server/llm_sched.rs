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
//! Not modelled here: prefix caching, swap preemption, a watermark, priority.

use std::collections::VecDeque;

use sysdes_kernel::{SimDuration, SimTime};

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
        }
    }

    /// Tokens known: the prompt and the generated tokens.
    fn len(&self) -> u32 {
        self.prompt + self.generated
    }
}

/// Iteration time from the batch's composition, integer picoseconds per
/// unit so that sub-nanosecond coefficients stay exact:
/// `floor + (per_token_ps * T + per_context_token_ps * D + per_prefill_pair_ps * P) / 1000`
/// nanoseconds, rounded down.
///
/// Today's affine costs are the special case with the attention terms at
/// zero: a pure decode step of `b` sequences takes `floor + per_token * b`
/// (`decode.base`, `decode.per_sequence`), a pure prefill of `p` tokens
/// `floor + per_token * p` (`prefill.base`, `prefill.per_token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IterationCost {
    /// The fixed cost of one iteration (launch, reading the weights).
    pub floor: SimDuration,
    /// Added per token in the batch (decode tokens and prefill chunk tokens), in picoseconds.
    pub per_token_ps: u64,
    /// Added per context token of each decode sequence (reading its KV cache), in picoseconds.
    pub per_context_token_ps: u64,
    /// Added per (query, key) pair of each prefill chunk, `chunk * (cached + chunk)`, in picoseconds.
    pub per_prefill_pair_ps: u64,
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
}

impl IterationCost {
    /// The time of an iteration of composition `c`.
    pub fn time(&self, c: &Composition) -> SimDuration {
        let ps = u128::from(self.per_token_ps) * u128::from(c.tokens)
            + u128::from(self.per_context_token_ps) * u128::from(c.decode_context)
            + u128::from(self.per_prefill_pair_ps) * u128::from(c.prefill_pairs);
        let ns = (ps / 1000).min(u128::from(u64::MAX / 2)) as u64;
        self.floor + SimDuration::from_nanos(ns)
    }
}

/// The chunked scheduler's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

impl ChunkedSpec {
    /// Whether a request of these lengths can ever fit the KV cache alone.
    pub fn fits(&self, prompt: u32, output: u32) -> bool {
        let need = (u64::from(prompt) + u64::from(output)).div_ceil(u64::from(self.block_size));
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
}

impl ChunkedBatch {
    /// An empty slot.
    pub fn new(spec: ChunkedSpec) -> ChunkedBatch {
        let total = spec.num_blocks.map_or(u64::MAX / 4, u64::from);
        ChunkedBatch {
            spec,
            running: Vec::with_capacity((spec.max_num_seqs as usize).min(4096)),
            free_blocks: total,
            total_blocks: total,
            preemptions: 0,
        }
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

    /// KV blocks in use.
    pub fn used_blocks(&self) -> u64 {
        self.total_blocks - self.free_blocks
    }

    /// Sum over running sequences of `ceil(computed / block_size)`: equals
    /// [`Self::used_blocks`] between iterations (the accounting invariant).
    pub fn blocks_needed(&self) -> u64 {
        let bs = u64::from(self.spec.block_size);
        self.running
            .iter()
            .map(|r| u64::from(r.computed).div_ceil(bs))
            .sum()
    }

    /// Preemptions since the start.
    pub fn preemptions(&self) -> u64 {
        self.preemptions
    }

    /// Drops every running sequence (a crash), calling `lost` for each.
    pub fn clear(&mut self, mut lost: impl FnMut(Pending)) {
        for r in self.running.drain(..) {
            lost(r.p);
        }
        self.free_blocks = self.total_blocks;
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
            if extra <= self.free_blocks {
                self.free_blocks -= extra;
                let r = &mut self.running[i];
                r.blocks += extra as u32;
                r.sched += n;
                *budget -= n;
                return true;
            }
            // Preempt the most recently admitted (recompute).
            let last = self.running.len() - 1;
            let Some(v) = self.running.pop() else {
                return false;
            };
            self.free_blocks += u64::from(v.blocks);
            *budget += v.sched;
            self.preemptions += 1;
            c.preempted += 1;
            waiting.push_front(v.p);
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
            let n = q.len().min(budget);
            let blocks = u64::from(n).div_ceil(bs);
            if blocks > self.free_blocks {
                break;
            }
            let mut p = *q;
            waiting.pop_front();
            if !p.admitted_once {
                p.admitted_once = true;
                p.admitted = now;
            }
            self.free_blocks -= blocks;
            budget -= n;
            c.admitted += 1;
            self.running.push(Run {
                p,
                computed: 0,
                blocks: blocks as u32,
                sched: n,
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
        for i in 0..self.running.len() {
            let mut r = self.running[i];
            if r.sched > 0 {
                r.computed += r.sched;
                r.sched = 0;
                if r.computed == r.p.len() {
                    r.p.generated += 1;
                    produced += 1;
                    if r.p.generated == 1 {
                        r.p.first_token = now;
                        on(Outcome::FirstToken(r.p));
                    }
                    if r.p.generated >= r.p.output {
                        self.free_blocks += u64::from(r.blocks);
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
            cost: IterationCost {
                floor: SimDuration::from_millis(1),
                per_token_ps: 10_000_000,
                per_context_token_ps: 1_000_000,
                per_prefill_pair_ps: 1_000,
            },
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

    proptest! {
        /// Between iterations the used blocks are exactly the sum over
        /// running sequences of ceil(computed / block_size), never above the
        /// total, and every request finishes once.
        #[test]
        fn block_accounting(
            reqs in proptest::collection::vec((1u32..40, 1u32..20), 1..30),
            budget in 1u32..64, seqs in 1u32..8, bs in 1u32..8, extra in 0u32..20,
        ) {
            let biggest = reqs.iter().map(|&(p, o)| (p + o).div_ceil(bs)).max().unwrap();
            let s = spec(budget, seqs, bs, Some(biggest + extra));
            let mut b = ChunkedBatch::new(s);
            let mut w: VecDeque<Pending> = reqs.iter().enumerate()
                .map(|(i, &(p, o))| Pending::new(i as u32, t(0), p, o, true)).collect();
            let mut finished = vec![0u32; reqs.len()];
            let mut now = t(0);
            let mut guard = 0;
            while let Some(c) = b.schedule(now, &mut w) {
                prop_assert!(c.tokens <= u64::from(budget));
                now += s.cost.time(&c);
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
