//! A multi-server station: the c of M/M/c, with an optional bound on its
//! waiting room, FIFO or by priority class (non-preemptive or
//! preemptive-resume), and reneging: a waiting request whose patience runs
//! out leaves the queue unserved (the +M of Erlang-A, M/M/c+M).

pub(crate) mod breaker;
pub(crate) mod calls;
pub(crate) mod crash;
pub(crate) mod figures;
pub(crate) mod sim;

use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime, TimerId};

use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::{CallMode, CallStep, Discipline, HEDGE_MIN_SAMPLES};
use crate::station::{ACTIVE, BusyArea, FaultState, StationMetrics, WAITING};
use sysdes_stats::LatencyHistogram;

/// What a server does with an arriving request.
pub(crate) enum Admission {
    /// A worker was free: the request is in service until `done_after`.
    Serve { done_after: SimDuration },
    /// All workers busy: the request waits.
    Queued,
    /// All workers busy and the waiting room full: the request is refused.
    Dropped,
    /// The server is down (a `crash` fault): the request fails at once.
    Down,
}

/// A server's state.
#[derive(Debug)]
pub(crate) struct Server {
    workers: u32,
    busy: u32,
    capacity: Option<u32>,
    /// The waiting requests, one FIFO per priority level (index 0 is served
    /// first); a FIFO server has one level.
    queues: Vec<VecDeque<Waiting>>,
    /// Requests waiting, over all levels.
    waiting: usize,
    service: Sampler,
    rng: RngStream,
    /// The priority level (index into `queues`) of each request priority
    /// value, 256 entries; empty when every request has level 0.
    level_of: Vec<u8>,
    /// Preemptive-resume: an arrival of a higher level takes the worker of
    /// the lowest-level request in service, which waits at the head of its
    /// level with the rest of its work.
    preemptive: bool,
    /// Requests in service (kept only when `preemptive`).
    running: Vec<Running>,
    /// How long a request waits before its client gives up (reneging);
    /// boxed, as most servers have none.
    patience: Option<Box<(Sampler, RngStream)>>,
    /// Counted requests that left the queue unserved (reneged).
    pub(crate) abandoned: u64,
    /// Counted preemptions (a request in service put back to wait).
    pub(crate) preempted: u64,
    /// Downstream calls after the server's own work, step by step.
    pub(crate) calls: Vec<CallStep>,
    pub(crate) mode: CallMode,
    /// Counted hedge copies sent, and copies answered after their call was
    /// already resolved (work that was wasted).
    pub(crate) hedges: u64,
    pub(crate) wasted_calls: u64,
    /// Counted requests this server answered with an error because a call failed.
    pub(crate) failed_calls: u64,
    /// Deadlines, partial answers and breakers of the calls (see `calls.rs`).
    pub(crate) resilience: calls::Resilience,
    /// Per step with `hedge_percentile`: the latencies its calls have seen.
    pub(crate) hedge_stats: Vec<Option<HedgeStat>>,
    pub(crate) metrics: StationMetrics,
    /// Crash and slowdown state (see `simulation/faults.rs`).
    pub(crate) faults: FaultState,
    /// Busy workers over time, kept only for a replica whose group
    /// autoscales on utilization.
    pub(crate) busy_area: Option<BusyArea>,
    /// The shared host it runs its own work on, as a replica of a group
    /// placed on hosts (set by the group); `NO_HOST`: its own CPU.
    pub(crate) host: u32,
    /// Set when this server's latency of every request equals its client's
    /// (one workload straight into this one server, see
    /// `Simulation::new`): it records none, its result copies the
    /// workload's histogram.
    pub(crate) latency_is_client_latency: bool,
    /// A leaf FIFO server with nothing that can interrupt a request (no
    /// calls, priority, patience, host or crash): its departures take the
    /// short path (`Simulation::plain_server_done`). Decided when the run
    /// starts (`Simulation::plan_direct_routes`).
    pub(crate) plain: bool,
}

impl Server {
    pub(crate) fn new(
        workers: u32,
        capacity: Option<u32>,
        service: Sampler,
        rng: RngStream,
        metrics: StationMetrics,
    ) -> Self {
        Server {
            workers,
            busy: 0,
            capacity,
            queues: vec![VecDeque::new()],
            waiting: 0,
            service,
            rng,
            level_of: Vec::new(),
            preemptive: false,
            running: Vec::new(),
            patience: None,
            abandoned: 0,
            preempted: 0,
            calls: Vec::new(),
            mode: CallMode::Thread,
            hedges: 0,
            wasted_calls: 0,
            failed_calls: 0,
            resilience: calls::Resilience::default(),
            hedge_stats: Vec::new(),
            metrics,
            faults: FaultState::new(None),
            busy_area: None,
            host: crate::kinds::replica_group::NO_HOST,
            latency_is_client_latency: false,
            plain: false,
        }
    }

    /// One service time, stretched by an active slowdown.
    #[inline(always)]
    fn draw(&mut self) -> SimDuration {
        let d = self.service.sample(&mut self.rng);
        self.faults.stretch(d)
    }

    /// The server crashes at `now`: the workers are freed and the waiting
    /// requests handed back (the caller fails them). Requests in service are
    /// found and failed by the caller.
    pub(crate) fn crash(&mut self, now: SimTime) -> VecDeque<RequestId> {
        self.faults.crashed = true;
        let m = &mut self.metrics;
        m.levels.add(now, ACTIVE, -i64::from(self.busy));
        m.levels.add(now, WAITING, -(self.waiting as i64));
        self.busy = 0;
        self.waiting = 0;
        self.running.clear();
        if let Some(a) = &mut self.busy_area {
            a.set(now, 0);
        }
        // Pending patience timers find their request gone and do nothing.
        self.queues
            .iter_mut()
            .flat_map(|q| q.drain(..))
            .map(|w| w.req)
            .collect()
    }

    /// Whether the worker is held while the request waits for its calls.
    #[inline]
    pub(crate) fn holds_worker_during_calls(&self) -> bool {
        self.mode == CallMode::Thread
    }

    /// Number of parallel workers.
    pub(crate) fn workers(&self) -> u32 {
        self.workers
    }

    /// Requests waiting for a worker.
    pub(crate) fn queue_len(&self) -> usize {
        self.waiting
    }

    /// A request arrives at `now` (priority level 0).
    #[inline]
    pub(crate) fn arrive(&mut self, now: SimTime, req: RequestId, counted: bool) -> Admission {
        self.arrive_at_level(now, req, counted, 0)
    }

    /// The priority level of a request of priority `priority` (level 0 is
    /// served first).
    #[inline]
    pub(crate) fn level(&self, priority: u8) -> u8 {
        self.level_of
            .get(usize::from(priority))
            .copied()
            .unwrap_or(0)
    }

    /// Sets the discipline: the level of each priority that occurs in
    /// `priorities` (the workloads' and their traces' classes; see
    /// [`Discipline`]) and the patience of waiting requests.
    pub(crate) fn set_discipline(
        &mut self,
        discipline: Discipline,
        priorities: &[u8],
        patience: Option<(Sampler, RngStream)>,
    ) {
        self.patience = patience.map(Box::new);
        if discipline == Discipline::Fifo {
            return;
        }
        self.preemptive = discipline == Discipline::PreemptiveResume;
        // Distinct priorities, highest first, become levels 0, 1, ...
        let mut distinct: Vec<u8> = priorities.to_vec();
        distinct.sort_unstable_by(|a, b| b.cmp(a));
        distinct.dedup();
        // Indexed by priority value (256 entries; unused values level 0).
        self.level_of = (0..=u8::MAX)
            .map(|p| distinct.iter().position(|&d| d == p).unwrap_or(0) as u8)
            .collect();
        self.queues = (0..distinct.len().max(1))
            .map(|_| VecDeque::new())
            .collect();
    }

    /// Whether a request's patience is drawn when it starts waiting.
    #[inline]
    pub(crate) fn reneges(&self) -> bool {
        self.patience.is_some()
    }

    /// Whether a request's service may be cut short by a higher level.
    #[inline]
    pub(crate) fn is_preemptive(&self) -> bool {
        self.preemptive
    }

    /// Whether the server reports `abandoned` and `preempted`.
    /// Whether this server can take the short path (see [`Server::plain`]):
    /// a leaf FIFO server on no host that no crash can reach.
    pub(crate) fn can_be_plain(&self) -> bool {
        self.calls.is_empty()
            && !self.has_discipline()
            && self.host == crate::kinds::replica_group::NO_HOST
            && !self.faults.crashable
    }

    pub(crate) fn has_discipline(&self) -> bool {
        self.patience.is_some() || self.queues.len() > 1 || self.preemptive
    }

    /// Draws the patience of a request that has just started waiting.
    pub(crate) fn draw_patience(&mut self) -> Option<SimDuration> {
        self.patience.as_deref_mut().map(|(s, rng)| s.sample(rng))
    }

    /// Records the patience timer of the request that joined level `level` last.
    pub(crate) fn set_patience_timer(&mut self, level: u8, timer: TimerId) {
        if let Some(w) = self.queues[usize::from(level)].back_mut() {
            w.timer = Some(timer);
        }
    }

    /// `req`, which started waiting at `since`, gives up waiting at `now`: it
    /// leaves the queue unserved. Returns false if it is no longer waiting
    /// here (it started, or a crash took it).
    ///
    /// Each level is sorted by `since` (arrivals join the back at `now`,
    /// preempted requests the front at [`SimTime::ZERO`]), so the search is a
    /// binary search plus a scan over the requests that started waiting at
    /// the same instant: not a walk of the whole queue per renege, which made
    /// an overloaded queue quadratic.
    pub(crate) fn renege(
        &mut self,
        now: SimTime,
        req: RequestId,
        since: SimTime,
        counted: bool,
    ) -> bool {
        for q in &mut self.queues {
            let from = q.partition_point(|w| w.since < since);
            let found = q
                .range(from..)
                .take_while(|w| w.since == since)
                .position(|w| w.req == req && w.timer.is_some());
            if let Some(i) = found {
                q.remove(from + i);
                self.waiting -= 1;
                self.metrics.levels.add(now, WAITING, -1);
                if counted {
                    self.abandoned += 1;
                }
                return true;
            }
        }
        false
    }

    /// Preemptive-resume: a request of `level` arrives at `now` with every
    /// worker busy. If one serves a lower level, that request (the lowest
    /// level, the latest started among them) goes back to the head of its
    /// level's queue with its remaining work, and its worker is freed.
    /// Returns its service timer, for the caller to cancel.
    pub(crate) fn preempt(&mut self, now: SimTime, level: u8, counted: bool) -> Option<TimerId> {
        if !self.preemptive || self.busy < self.workers || self.faults.crashed {
            return None;
        }
        let (i, _) = self
            .running
            .iter()
            .enumerate()
            .filter(|(_, r)| r.level > level)
            .max_by_key(|(_, r)| (r.level, r.started))?;
        let victim = self.running.swap_remove(i);
        let remaining = victim.done_at.as_nanos().saturating_sub(now.as_nanos());
        self.queues[usize::from(victim.level)].push_front(Waiting {
            req: victim.req,
            // It has no patience timer (it never reneges); the earliest
            // time keeps the level sorted by `since`.
            since: SimTime::ZERO,
            timer: None,
            remaining_ns: remaining,
        });
        self.waiting += 1;
        self.busy -= 1;
        let m = &mut self.metrics;
        m.levels.add(now, ACTIVE, -1);
        m.levels.add(now, WAITING, 1);
        if let Some(a) = &mut self.busy_area {
            a.add(now, -1);
        }
        if counted {
            self.preempted += 1;
        }
        Some(victim.timer)
    }

    /// A preemptive server started `req` (of `level`) at `now` until `done_at`,
    /// its end timed by `timer`.
    pub(crate) fn started(
        &mut self,
        req: RequestId,
        level: u8,
        now: SimTime,
        done_at: SimTime,
        timer: TimerId,
    ) {
        self.running.push(Running {
            req,
            level,
            started: now,
            done_at,
            timer,
        });
    }

    /// A preemptive server's `req` finished its service.
    pub(crate) fn finished(&mut self, req: RequestId) {
        if let Some(i) = self.running.iter().position(|r| r.req == req) {
            self.running.swap_remove(i);
        }
    }

    /// A request of priority `level` arrives at `now`.
    #[inline(always)]
    pub(crate) fn arrive_at_level(
        &mut self,
        now: SimTime,
        req: RequestId,
        counted: bool,
        level: u8,
    ) -> Admission {
        if counted {
            self.metrics.arrivals += 1;
        }
        if self.faults.crashed {
            if counted {
                self.faults.lost_in_crash += 1;
            }
            return Admission::Down;
        }
        if self.busy < self.workers {
            self.busy += 1;
            self.metrics.levels.add(now, ACTIVE, 1);
            if let Some(a) = &mut self.busy_area {
                a.add(now, 1);
            }
            return Admission::Serve {
                done_after: self.draw(),
            };
        }
        let m = &mut self.metrics;
        if self
            .capacity
            .is_some_and(|cap| self.waiting >= cap as usize)
        {
            if counted {
                m.drops += 1;
            }
            return Admission::Dropped;
        }
        self.queues[usize::from(level)].push_back(Waiting {
            req,
            since: now,
            timer: None,
            remaining_ns: FRESH,
        });
        self.waiting += 1;
        m.levels.add(now, WAITING, 1);
        Admission::Queued
    }

    /// A request that entered at `entered` leaves at `now`, answered.
    #[inline]
    pub(crate) fn record_departure(&mut self, now: SimTime, entered: SimTime, counted: bool) {
        if counted {
            self.metrics.completions += 1;
            if !self.latency_is_client_latency {
                self.metrics.latency.record(now - entered);
            }
        }
    }

    /// A worker becomes free at `now`. Returns the next request to start,
    /// with its service time, if one was waiting.
    #[inline]
    pub(crate) fn release_worker(&mut self, now: SimTime) -> Option<(RequestId, SimDuration)> {
        self.next_to_serve(now).map(|s| (s.req, s.after))
    }

    /// A worker becomes free at `now`: the request it starts next (the
    /// head of the first non-empty level), if one was waiting.
    #[inline(always)]
    pub(crate) fn next_to_serve(&mut self, now: SimTime) -> Option<Start> {
        let next = self
            .queues
            .iter_mut()
            .enumerate()
            .find_map(|(level, q)| q.pop_front().map(|w| (level as u8, w)));
        match next {
            Some((level, w)) => {
                self.waiting -= 1;
                self.metrics.levels.add(now, WAITING, -1);
                let after = if w.remaining_ns == FRESH {
                    self.draw()
                } else {
                    SimDuration::from_nanos(w.remaining_ns)
                };
                Some(Start {
                    req: w.req,
                    level,
                    after,
                    patience: w.timer,
                })
            }
            None => {
                self.busy -= 1;
                self.metrics.levels.add(now, ACTIVE, -1);
                if let Some(a) = &mut self.busy_area {
                    a.add(now, -1);
                }
                None
            }
        }
    }
}

/// `Waiting::remaining_ns` of a request that has not been served yet.
const FRESH: u64 = u64::MAX;

/// A request in a server's queue.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    req: RequestId,
    /// When it joined the queue ([`SimTime::ZERO`] if it was preempted):
    /// each level is sorted by it, which lets `renege` binary-search.
    since: SimTime,
    /// Its patience timer (reneging), if it may still give up.
    timer: Option<TimerId>,
    /// Work left after a preemption; [`FRESH`] if it was never served.
    remaining_ns: u64,
}

/// A request in service at a preemptive server.
#[derive(Clone, Copy, Debug)]
struct Running {
    req: RequestId,
    level: u8,
    started: SimTime,
    done_at: SimTime,
    timer: TimerId,
}

/// A waiting request a freed worker starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Start {
    pub(crate) req: RequestId,
    pub(crate) level: u8,
    /// Its service time (what is left of it, if it was preempted).
    pub(crate) after: SimDuration,
    /// Its patience timer, to cancel.
    pub(crate) patience: Option<TimerId>,
}

/// The observed call latencies of one step hedged at a percentile, and the
/// current hedging delay (recomputed every [`HEDGE_REFRESH`] answers).
#[derive(Debug)]
pub(crate) struct HedgeStat {
    quantile: f64,
    latencies: LatencyHistogram,
    since_refresh: u32,
    delay: Option<SimDuration>,
}

/// Answers between two recomputations of a percentile hedge's delay.
const HEDGE_REFRESH: u32 = 256;

impl HedgeStat {
    pub(crate) fn new(quantile: f64) -> Self {
        HedgeStat {
            quantile,
            latencies: LatencyHistogram::new(),
            since_refresh: HEDGE_REFRESH,
            delay: None,
        }
    }

    /// A call of the step answered after `latency`.
    pub(crate) fn observe(&mut self, latency: SimDuration) {
        self.latencies.record(latency);
        self.since_refresh += 1;
        if self.since_refresh >= HEDGE_REFRESH && self.latencies.count() >= HEDGE_MIN_SAMPLES {
            self.since_refresh = 0;
            self.delay = Some(SimDuration::from_nanos(
                self.latencies.quantile_ns(self.quantile),
            ));
        }
    }

    /// The current hedging delay; `None` until enough calls have answered.
    pub(crate) fn delay(&self) -> Option<SimDuration> {
        self.delay
    }
}
