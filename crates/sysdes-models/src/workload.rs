//! Workloads: where requests come from.

use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, RequestCounts};

use crate::arrivals::{CurveArrivals, MmppArrivals, TraceArrivals};
use crate::request::{NO_SESSION, Op};
use crate::sampler::{KeySampler, Sampler};
use crate::spec::{Jitter, RetrySpec};

/// How the next request of a workload is timed.
#[derive(Debug)]
pub(crate) enum Pacing {
    /// Open loop with random gaps (Poisson is exponential gaps).
    RandomGaps { gaps: Sampler, rng: RngStream },
    /// Open loop, the k-th arrival at `round(k * period)`: exact, no drift.
    Periodic { period_ns: f64, sent: u64 },
    /// Poisson with a piecewise-constant rate: `(end, gaps)` per phase, the
    /// gaps `None` for a silent phase. Memorylessness makes restarting the
    /// draw at a phase boundary exact.
    Phases {
        phases: Vec<(SimTime, Option<Sampler>)>,
        current: usize,
        rng: RngStream,
    },
    /// A periodic rate curve (see `arrivals.rs`).
    Curve(Box<CurveArrivals>),
    /// A Markov-modulated Poisson process.
    Mmpp(Box<MmppArrivals>),
    /// Trace replay.
    Trace(TraceArrivals),
    /// Closed loop: each user thinks, sends, waits for the response.
    Closed {
        users: u32,
        think: Sampler,
        rng: RngStream,
    },
}

/// A workload's state and the client-side measurements of its requests.
#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) target: ComponentId,
    pub(crate) pacing: Pacing,
    pub(crate) keys: KeySampler,
    pub(crate) key_rng: RngStream,
    pub(crate) timeout: Option<SimDuration>,
    /// Share of writes, and the stream that draws each request's operation.
    pub(crate) write_share: f64,
    pub(crate) op_rng: RngStream,
    /// Sessions of an open workload, and the stream that picks one per request.
    pub(crate) sessions: Option<u32>,
    pub(crate) session_rng: RngStream,
    pub(crate) retry: Option<RetryState>,
    /// The workload's `priority` (a trace record's `class` overrides it).
    pub(crate) priority: u8,
    pub(crate) counts: RequestCounts,
    /// End-to-end latency of successful counted requests.
    pub(crate) latency: LatencyHistogram,
    /// The plain server this workload's requests go straight into (no
    /// network, time-out or retry between them), if any: see
    /// `Simulation::plan_direct_routes`.
    pub(crate) direct: Option<crate::kinds::ServerId>,
}

impl Workload {
    /// When the first open-loop arrival happens, if this workload is open.
    pub(crate) fn first_arrival(&mut self) -> Option<SimTime> {
        match &mut self.pacing {
            Pacing::RandomGaps { gaps, rng } => Some(SimTime::ZERO + gaps.sample(rng)),
            Pacing::Periodic { sent, .. } => {
                *sent = 0;
                Some(SimTime::ZERO)
            }
            Pacing::Phases { current, .. } => {
                *current = 0;
                Some(self.next_arrival(SimTime::ZERO))
            }
            Pacing::Curve(c) => Some(c.first()),
            Pacing::Mmpp(m) => Some(m.first()),
            Pacing::Trace(t) => Some(t.first()),
            Pacing::Closed { .. } => None,
        }
    }

    /// When the open-loop arrival after the one at `now` happens. Random
    /// gaps (Poisson) are inlined into the caller, the rest is not.
    #[inline(always)]
    pub(crate) fn next_arrival(&mut self, now: SimTime) -> SimTime {
        match &mut self.pacing {
            Pacing::RandomGaps { gaps, rng } => now + gaps.sample(rng),
            _ => self.next_arrival_other(now),
        }
    }

    #[inline(never)]
    fn next_arrival_other(&mut self, now: SimTime) -> SimTime {
        match &mut self.pacing {
            Pacing::RandomGaps { gaps, rng } => now + gaps.sample(rng),
            Pacing::Periodic { period_ns, sent } => {
                *sent += 1;
                SimTime::from_nanos((*sent as f64 * *period_ns).round() as u64)
            }
            Pacing::Phases {
                phases,
                current,
                rng,
            } => {
                let mut from = now;
                while let Some((end, gaps)) = phases.get(*current) {
                    if let Some(gaps) = gaps {
                        let at = from + gaps.sample(rng);
                        if at < *end {
                            return at;
                        }
                    }
                    from = *end;
                    *current += 1;
                }
                SimTime::MAX
            }
            Pacing::Curve(c) => c.next(),
            Pacing::Mmpp(m) => m.next(now),
            Pacing::Trace(t) => t.next(),
            // Closed workloads are paced by responses, not by arrivals.
            Pacing::Closed { .. } => SimTime::MAX,
        }
    }

    /// For a closed workload, a think time before the user's next request.
    #[inline(always)]
    pub(crate) fn think(&mut self) -> Option<SimDuration> {
        match &mut self.pacing {
            Pacing::Closed { think, rng, .. } => Some(think.sample(rng)),
            _ => None,
        }
    }

    /// Number of users of a closed workload (0 for an open one).
    pub(crate) fn users(&self) -> u32 {
        match self.pacing {
            Pacing::Closed { users, .. } => users,
            _ => 0,
        }
    }
}

impl Workload {
    /// The key and operation of the next request: a trace record's own, if
    /// it gives them, else drawn from `keys` and `ops`.
    #[inline]
    pub(crate) fn next_key_op(&mut self) -> (u64, Op) {
        let (key, write) = match &self.pacing {
            Pacing::Trace(t) => t.current().map_or((None, None), |r| (r.key, r.write)),
            _ => (None, None),
        };
        let key = match key {
            Some(k) => k,
            None => self.keys.sample(&mut self.key_rng),
        };
        let op = match write {
            Some(true) => Op::Write,
            Some(false) => Op::Read,
            None => self.next_op(),
        };
        (key, op)
    }

    /// The key, operation, priority and trace record of the next request.
    /// Without a trace, one check of the pacing: the key is drawn, then
    /// the operation (the order the traced path draws them in too).
    #[inline(always)]
    pub(crate) fn next_request(&mut self) -> (u64, Op, u8, u32) {
        if let Pacing::Trace(_) = self.pacing {
            return self.next_traced_request();
        }
        let key = self.keys.sample(&mut self.key_rng);
        (key, self.next_op(), self.priority, 0)
    }

    /// [`Self::next_request`] of a trace workload: its record gives what
    /// it has, the rest is drawn.
    #[inline(never)]
    fn next_traced_request(&mut self) -> (u64, Op, u8, u32) {
        let (key, op) = self.next_key_op();
        (key, op, self.next_priority(), self.next_trace())
    }

    /// The priority of the next request: its trace record's `class`, if
    /// it gives one, else the workload's `priority`.
    #[inline]
    pub(crate) fn next_priority(&self) -> u8 {
        match &self.pacing {
            Pacing::Trace(t) => t.current().and_then(|r| r.class),
            _ => None,
        }
        .unwrap_or(self.priority)
    }

    /// The trace record of the next request, as [`crate::request::Request::trace`]
    /// holds it (0: no trace token counts or sizes).
    #[inline]
    pub(crate) fn next_trace(&self) -> u32 {
        match &self.pacing {
            Pacing::Trace(t) => t.attribute_index(),
            _ => 0,
        }
    }

    /// The trace token counts (prompt, output) of a request whose `trace`
    /// is `trace` (see [`Workload::next_trace`]).
    #[inline]
    pub(crate) fn trace_tokens(&self, trace: u32) -> (Option<u32>, Option<u32>) {
        match &self.pacing {
            Pacing::Trace(t) if trace > 0 => t
                .record(trace as usize - 1)
                .map_or((None, None), |r| (r.prompt_tokens, r.output_tokens)),
            _ => (None, None),
        }
    }

    /// The trace payload sizes (request, response) of a request whose
    /// `trace` is `trace` (see [`Workload::next_trace`]).
    #[inline]
    pub(crate) fn trace_bytes(&self, trace: u32) -> (Option<u64>, Option<u64>) {
        match &self.pacing {
            Pacing::Trace(t) if trace > 0 => t
                .record(trace as usize - 1)
                .map_or((None, None), |r| (r.request_bytes, r.response_bytes)),
            _ => (None, None),
        }
    }

    /// The operation of the next request.
    #[inline]
    pub(crate) fn next_op(&mut self) -> Op {
        if self.write_share <= 0.0 {
            Op::Read
        } else if self.write_share >= 1.0
            || rand::RngExt::random::<f64>(&mut self.op_rng) < self.write_share
        {
            Op::Write
        } else {
            Op::Read
        }
    }

    /// The session of the next open-loop request.
    #[inline]
    pub(crate) fn next_session(&mut self) -> u32 {
        match self.sessions {
            Some(n) => rand::RngExt::random_range(&mut self.session_rng, 0..n),
            None => NO_SESSION,
        }
    }
}

/// A client's retry policy and its budget.
#[derive(Debug)]
pub(crate) struct RetryState {
    max: u32,
    backoff: Sampler,
    multiplier: f64,
    max_backoff_ns: f64,
    jitter: Jitter,
    budget: Option<f64>,
    /// Retry tokens: each first attempt deposits `budget`, each retry
    /// withdraws one; starts full at [`RETRY_TOKENS_MAX`].
    tokens: f64,
    rng: RngStream,
}

/// The most retry tokens a budget holds (and its starting balance): a short
/// burst of failures may be retried even before traffic has earned tokens.
pub(crate) const RETRY_TOKENS_MAX: f64 = 10.0;

impl RetryState {
    pub(crate) fn new(spec: &RetrySpec, rng: RngStream) -> Result<RetryState, String> {
        Ok(RetryState {
            max: spec.max,
            backoff: Sampler::new(&spec.backoff)?,
            multiplier: spec.multiplier,
            max_backoff_ns: spec
                .max_backoff
                .map_or(f64::INFINITY, |d| d.as_nanos() as f64),
            jitter: spec.jitter,
            budget: spec.budget,
            tokens: RETRY_TOKENS_MAX,
            rng,
        })
    }

    /// A first attempt was sent: it earns retry tokens.
    #[inline]
    pub(crate) fn first_attempt(&mut self) {
        if let Some(b) = self.budget {
            self.tokens = (self.tokens + b).min(RETRY_TOKENS_MAX);
        }
    }

    /// Whether attempt number `attempt` (0 = the first) may be retried; if so
    /// the wait before the retry. Spends a token when a budget is set.
    pub(crate) fn retry_after(&mut self, attempt: u8) -> Option<SimDuration> {
        if u32::from(attempt) >= self.max {
            return None;
        }
        if self.budget.is_some() {
            if self.tokens < 1.0 {
                return None;
            }
            self.tokens -= 1.0;
        }
        let base = self.backoff.sample(&mut self.rng).as_nanos() as f64;
        let wait = (base * self.multiplier.powi(i32::from(attempt))).min(self.max_backoff_ns);
        let wait = match self.jitter {
            Jitter::None => wait,
            Jitter::Full => wait * rand::RngExt::random::<f64>(&mut self.rng),
            Jitter::Equal => wait / 2.0 + wait / 2.0 * rand::RngExt::random::<f64>(&mut self.rng),
        };
        Some(SimDuration::from_nanos((wait + 0.5) as u64))
    }
}
