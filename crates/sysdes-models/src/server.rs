//! A FIFO multi-server station: the c of M/M/c, with an optional bound on
//! its waiting room.

use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime};

use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::{CallMode, CallStep};
use crate::station::{ACTIVE, StationMetrics, WAITING};

/// What a server does with an arriving request.
pub(crate) enum Admission {
    /// A worker was free: the request is in service until `done_after`.
    Serve { done_after: SimDuration },
    /// All workers busy: the request waits.
    Queued,
    /// All workers busy and the waiting room full: the request is refused.
    Dropped,
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
    pub(crate) metrics: StationMetrics,
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
            metrics,
        }
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
        let m = &mut self.metrics;
        if counted {
            m.arrivals += 1;
        }
        if self.busy < self.workers {
            self.busy += 1;
            m.levels.add(now, ACTIVE, 1);
            return Admission::Serve {
                done_after: self.service.sample(&mut self.rng),
            };
        }
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
        let m = &mut self.metrics;
        match self.queue.pop_front() {
            Some(next) => {
                m.levels.add(now, WAITING, -1);
                Some((next, self.service.sample(&mut self.rng)))
            }
            None => {
                self.busy -= 1;
                m.levels.add(now, ACTIVE, -1);
                None
            }
        }
    }
}
