//! A serverless function (AWS Lambda-like): up to `concurrency` instances,
//! each started on demand with a cold start, serving one request at a time,
//! kept warm for `idle_timeout` after its last request, then reclaimed.
//!
//! An arrival takes the most recently freed warm instance (so the oldest
//! idle ones are the first to time out); without one it starts a new
//! instance (the request waits for its cold start) while fewer than
//! `concurrency` are alive; at the limit it waits in a queue of
//! `queue_capacity` places, or is throttled (Lambda's HTTP 429, ending
//! `dropped`) when the queue is full or absent.
//!
//! Idle instances are reclaimed lazily: an arrival first removes those idle
//! for `idle_timeout` or longer, recording the exact time each one ended,
//! so no timer event is needed. Instance-time over the window is kept as
//! the sum of clipped end times minus the sum of clipped start times.
//!
//! Billing (read by `sysdes-cost`): each invocation's duration, cold start
//! included (AWS bills the INIT phase since 2025-08-01), rounded up to the
//! billing increment (1 ms for Lambda), times the configured memory.

pub(crate) mod figures;
pub(crate) mod sim;

use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime};

use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::Distribution;
use crate::station::{ACTIVE, StationMetrics, WAITING};

/// A serverless function (`type: function`).
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSpec {
    /// Most instances alive at once (busy or warm); at least 1.
    pub concurrency: u32,
    /// Time one instance spends on one request (the handler's duration).
    pub service_time: Distribution,
    /// Time a new instance takes before it can serve (the INIT phase).
    pub cold_start: Distribution,
    /// An instance idle this long is reclaimed.
    pub idle_timeout: SimDuration,
    /// Configured memory, in bytes (GB-seconds use GiB: Lambda's `MB` are MiB).
    pub memory_bytes: u64,
    /// Requests that may wait for an instance at the limit; 0 throttles at once.
    pub queue_capacity: u32,
    /// Each invocation's billed duration is rounded up to a multiple of this
    /// (1 ms for Lambda).
    pub billing_increment: SimDuration,
}

/// What a function does with an arriving request.
#[derive(Debug, PartialEq)]
pub(crate) enum Admission {
    /// An instance serves it; the answer comes after `done_after`.
    Serve { done_after: SimDuration },
    /// At the concurrency limit: the request waits for an instance.
    Queued,
    /// At the limit with the queue full: throttled.
    Throttled,
}

/// A function's state.
#[derive(Debug)]
pub(crate) struct Function {
    concurrency: u32,
    queue_capacity: u32,
    idle_timeout: SimDuration,
    increment_ns: u64,
    memory_bytes: u64,
    service: Sampler,
    cold: Sampler,
    rng: RngStream,
    cold_rng: RngStream,
    /// Instances serving a request.
    busy: u32,
    /// Warm idle instances by the time they became idle, oldest first.
    idle: VecDeque<SimTime>,
    /// Requests waiting for an instance (at the limit).
    waiting: VecDeque<RequestId>,
    pub(crate) metrics: StationMetrics,
    window: (SimTime, SimTime),
    invocations: u64,
    cold_starts: u64,
    billed_ms_x_increment: u64,
    peak: u32,
    /// Sum over instances of their start clipped to the window (ns).
    born_clipped: u128,
    /// Sum over reclaimed instances of their end clipped to the window (ns).
    ended_clipped: u128,
}

impl Function {
    pub(crate) fn new(
        spec: &FunctionSpec,
        service: Sampler,
        cold: Sampler,
        (rng, cold_rng): (RngStream, RngStream),
        metrics: StationMetrics,
        window: (SimTime, SimTime),
    ) -> Self {
        Function {
            concurrency: spec.concurrency,
            queue_capacity: spec.queue_capacity,
            idle_timeout: spec.idle_timeout,
            increment_ns: spec.billing_increment.as_nanos().max(1),
            memory_bytes: spec.memory_bytes,
            service,
            cold,
            rng,
            cold_rng,
            busy: 0,
            idle: VecDeque::new(),
            waiting: VecDeque::new(),
            metrics,
            window,
            invocations: 0,
            cold_starts: 0,
            billed_ms_x_increment: 0,
            peak: 0,
            born_clipped: 0,
            ended_clipped: 0,
        }
    }

    /// The concurrency limit.
    pub(crate) fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// Requests waiting for an instance.
    pub(crate) fn queue_len(&self) -> usize {
        self.waiting.len()
    }

    fn clip(&self, t: SimTime) -> u128 {
        u128::from(t.max(self.window.0).min(self.window.1).as_nanos())
    }

    /// Reclaims the instances idle for `idle_timeout` or longer at `now`.
    fn reclaim(&mut self, now: SimTime) {
        while let Some(&since) = self.idle.front() {
            let end = since + self.idle_timeout;
            if end > now {
                break;
            }
            self.idle.pop_front();
            self.ended_clipped += self.clip(end);
        }
    }

    /// One invocation of `total` (cold start included) starts; counted ones
    /// are billed.
    fn bill(&mut self, total: SimDuration, counted: bool) {
        if counted {
            self.invocations += 1;
            self.billed_ms_x_increment += total.as_nanos().div_ceil(self.increment_ns);
        }
    }

    /// A request arrives at `now`.
    pub(crate) fn arrive(&mut self, now: SimTime, req: RequestId, counted: bool) -> Admission {
        if counted {
            self.metrics.arrivals += 1;
        }
        self.reclaim(now);
        if self.idle.pop_back().is_some() {
            self.busy += 1;
            self.metrics.levels.add(now, ACTIVE, 1);
            let d = self.service.sample(&mut self.rng);
            self.bill(d, counted);
            return Admission::Serve { done_after: d };
        }
        if self.busy < self.concurrency {
            self.busy += 1;
            self.peak = self.peak.max(self.busy);
            self.born_clipped += self.clip(now);
            self.metrics.levels.add(now, ACTIVE, 1);
            let cold = self.cold.sample(&mut self.cold_rng);
            let d = cold + self.service.sample(&mut self.rng);
            if counted {
                self.cold_starts += 1;
            }
            self.bill(d, counted);
            return Admission::Serve { done_after: d };
        }
        if self.waiting.len() < self.queue_capacity as usize {
            self.waiting.push_back(req);
            self.metrics.levels.add(now, WAITING, 1);
            return Admission::Queued;
        }
        if counted {
            self.metrics.drops += 1;
        }
        Admission::Throttled
    }

    /// An instance finishes a request at `now`. Returns the next waiting
    /// request it serves (warm), with its duration; `counted` says whether
    /// the next request is billed (the caller reads it first).
    pub(crate) fn done(
        &mut self,
        now: SimTime,
        next_counted: impl Fn(RequestId) -> bool,
    ) -> Option<(RequestId, SimDuration)> {
        if let Some(next) = self.waiting.pop_front() {
            self.metrics.levels.add(now, WAITING, -1);
            let d = self.service.sample(&mut self.rng);
            self.bill(d, next_counted(next));
            return Some((next, d));
        }
        self.busy -= 1;
        self.metrics.levels.add(now, ACTIVE, -1);
        self.idle.push_back(now);
        None
    }

    /// A request that entered at `entered` leaves at `now`, answered.
    pub(crate) fn record_departure(&mut self, now: SimTime, entered: SimTime, counted: bool) {
        if counted {
            self.metrics.completions += 1;
            self.metrics.latency.record(now - entered);
        }
    }

    /// Time-average instances alive (busy or warm) over the window:
    /// instance-time counts every idle instance to its reclaim time and a
    /// busy one to the end of the window.
    fn instances_mean(&self) -> f64 {
        let (from, to) = self.window;
        let mut ended = self.ended_clipped;
        for &since in &self.idle {
            ended += self.clip(since + self.idle_timeout);
        }
        ended += u128::from(self.busy) * self.clip(to);
        let span = to.as_nanos().saturating_sub(from.as_nanos());
        let area = ended.saturating_sub(self.born_clipped);
        if span > 0 {
            area as f64 / span as f64
        } else {
            0.0
        }
    }

    /// Busy instance-time over alive instance-time in the window (cold
    /// starts count as busy): how much of what was kept alive did work. Not
    /// over `concurrency`, a limit that may never be reached; 0 when no
    /// instance was alive.
    pub(crate) fn utilization(&self) -> f64 {
        let alive = self.instances_mean();
        if alive > 0.0 {
            self.metrics.levels.mean(ACTIVE) / alive
        } else {
            0.0
        }
    }

    /// The figures.
    pub(crate) fn figures(&self) -> figures::FunctionFigures {
        let billed_ms = self.billed_ms_x_increment * self.increment_ns / 1_000_000;
        // Exact in ns before the division: increments of whole nanoseconds.
        let billed_ns = u128::from(self.billed_ms_x_increment) * u128::from(self.increment_ns);
        let gib = self.memory_bytes as f64 / f64::from(1u32 << 30);
        figures::FunctionFigures {
            invocations: self.invocations,
            cold_starts: self.cold_starts,
            throttled: self.metrics.drops,
            instances_mean: self.instances_mean(),
            instances_peak: u64::from(self.peak),
            billed_ms,
            billed_gb_seconds: billed_ns as f64 / 1e9 * gib,
        }
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::derive_stream;

    use super::*;

    fn function(concurrency: u32, queue: u32) -> Function {
        let spec = FunctionSpec {
            concurrency,
            service_time: Distribution::Constant(SimDuration::from_micros(10_500)),
            cold_start: Distribution::Constant(SimDuration::from_millis(100)),
            idle_timeout: SimDuration::from_secs(1),
            memory_bytes: 512 << 20,
            queue_capacity: queue,
            billing_increment: SimDuration::from_millis(1),
        };
        Function::new(
            &spec,
            Sampler::new(&spec.service_time).unwrap(),
            Sampler::new(&spec.cold_start).unwrap(),
            (derive_stream(1, "f", "s"), derive_stream(1, "f", "c")),
            StationMetrics::new(SimTime::ZERO, SimTime::from_nanos(10_000_000_000)),
            (SimTime::ZERO, SimTime::from_nanos(10_000_000_000)),
        )
    }

    fn at_ms(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * 1_000_000)
    }

    /// A cold start, a warm reuse within the idle timeout, a reclaim after
    /// it, and a throttle at the limit; every figure by hand.
    #[test]
    fn cold_warm_reclaimed_and_throttled_by_hand() {
        let mut f = function(1, 0);
        let cold = SimDuration::from_micros(110_500);
        let warm = SimDuration::from_micros(10_500);
        assert_eq!(
            f.arrive(at_ms(0), 1, true),
            Admission::Serve { done_after: cold }
        );
        // At the limit, no queue: throttled.
        assert_eq!(f.arrive(at_ms(50), 2, true), Admission::Throttled);
        assert_eq!(f.done(SimTime::ZERO + cold, |_| true), None);
        // 0.5 s later: still warm.
        assert_eq!(
            f.arrive(at_ms(610), 3, true),
            Admission::Serve { done_after: warm }
        );
        assert_eq!(f.done(at_ms(610) + warm, |_| true), None);
        // Idle from 620.5 ms; reclaimed at 1620.5 ms; the next is cold.
        assert_eq!(
            f.arrive(at_ms(2000), 4, true),
            Admission::Serve { done_after: cold }
        );
        assert_eq!(f.done(at_ms(2000) + cold, |_| true), None);
        let fig = f.figures();
        assert_eq!(fig.invocations, 3);
        assert_eq!(fig.cold_starts, 2);
        assert_eq!(fig.throttled, 1);
        assert_eq!(fig.instances_peak, 1);
        // 111 + 11 + 111 ms billed, at 0.5 GiB.
        assert_eq!(fig.billed_ms, 233);
        assert_eq!(fig.billed_gb_seconds, 0.233 * 0.5);
        // Alive [0, 1620.5 ms) and [2000 ms, 2000 + 110.5 + 1000 ms) of 10 s.
        let alive_ms = 1620.5 + 1110.5;
        assert!((fig.instances_mean - alive_ms / 10_000.0).abs() < 1e-12);
        // Busy 110.5 + 10.5 + 110.5 ms of those alive.
        let busy_ms = 110.5 + 10.5 + 110.5;
        assert!((f.utilization() - busy_ms / alive_ms).abs() < 1e-12);
    }

    /// With a queue, a request at the limit waits and is served warm by the
    /// instance that frees first.
    #[test]
    fn a_queued_request_is_served_warm_by_the_freed_instance() {
        let mut f = function(1, 1);
        let cold = SimDuration::from_micros(110_500);
        assert_eq!(
            f.arrive(at_ms(0), 1, true),
            Admission::Serve { done_after: cold }
        );
        assert_eq!(f.arrive(at_ms(1), 2, true), Admission::Queued);
        assert_eq!(f.arrive(at_ms(2), 3, true), Admission::Throttled);
        let next = f.done(SimTime::ZERO + cold, |_| true);
        assert_eq!(next, Some((2, SimDuration::from_micros(10_500))));
        let fig = f.figures();
        assert_eq!((fig.invocations, fig.cold_starts, fig.throttled), (2, 1, 1));
        assert_eq!(fig.billed_ms, 111 + 11);
    }
}
