//! A FIFO multi-server station: the c of M/M/c, with an optional bound on
//! its waiting room.

pub(crate) mod breaker;
pub(crate) mod calls;
pub(crate) mod figures;
pub(crate) mod sim;

use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime};

use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::{CallMode, CallStep, HEDGE_MIN_SAMPLES};
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
    queue: VecDeque<RequestId>,
    service: Sampler,
    rng: RngStream,
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
            queue: VecDeque::new(),
            service,
            rng,
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
        }
    }

    /// One service time, stretched by an active slowdown.
    #[inline]
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
        m.levels.add(now, WAITING, -(self.queue.len() as i64));
        self.busy = 0;
        if let Some(a) = &mut self.busy_area {
            a.set(now, 0);
        }
        std::mem::take(&mut self.queue)
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
        self.queue.len()
    }

    /// A request arrives at `now`.
    #[inline]
    pub(crate) fn arrive(&mut self, now: SimTime, req: RequestId, counted: bool) -> Admission {
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
            .is_some_and(|cap| self.queue.len() >= cap as usize)
        {
            if counted {
                m.drops += 1;
            }
            return Admission::Dropped;
        }
        self.queue.push_back(req);
        m.levels.add(now, WAITING, 1);
        Admission::Queued
    }

    /// A request that entered at `entered` leaves at `now`, answered.
    #[inline]
    pub(crate) fn record_departure(&mut self, now: SimTime, entered: SimTime, counted: bool) {
        if counted {
            self.metrics.completions += 1;
            self.metrics.latency.record(now - entered);
        }
    }

    /// A worker becomes free at `now`. Returns the next request to start,
    /// with its service time, if one was waiting.
    #[inline]
    pub(crate) fn release_worker(&mut self, now: SimTime) -> Option<(RequestId, SimDuration)> {
        match self.queue.pop_front() {
            Some(next) => {
                self.metrics.levels.add(now, WAITING, -1);
                Some((next, self.draw()))
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
