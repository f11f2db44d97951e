//! A batching model server: the state of an inference server that runs
//! requests in batches on a few parallel slots (GPUs).
//!
//! Requests wait in one FIFO queue. A batch starts when a slot is free and
//! either `max_batch` requests wait or the oldest waiting request has waited
//! `max_delay`; it takes up to `max_batch` requests from the head of the
//! queue. If the trigger fires while every slot is busy, the batch starts as
//! soon as a slot frees (the trigger is re-checked then, and it still holds
//! because the oldest request only gets older). A batch of `b` requests takes
//! `batch_time(b)` plus an optional jitter draw; every request in it is
//! answered when the batch ends.
//!
//! This module knows no events or network: [`ModelServer::next`] says what to
//! do now (start a batch on a slot, or wake up at a given time), and the
//! engine (`simulation/model_server.rs`) schedules it. It is a plain state
//! machine, unit-tested here without an engine.

pub mod disagg;
pub(crate) mod figures;
mod kv_query;
pub(crate) mod llm;
pub mod llm_roofline;
pub mod llm_sched;
pub(crate) mod llm_sim;
pub mod llm_table;
pub(crate) mod sim;

use std::cell::Cell;
use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime};
use sysdes_stats::TimeAverage;

use crate::figures::BatchFigures;
use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::Distribution;
use crate::station::{ACTIVE, BusyArea, FaultState, StationMetrics, WAITING};

/// A model server: `slots` concurrent batches over one FIFO queue.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelServerSpec {
    /// Batches that can run at once (GPUs, or model replicas); at least 1.
    pub slots: u32,
    /// When a batch starts and how large it may be.
    pub batching: BatchingSpec,
    /// How long a batch takes as a function of its size.
    pub batch_time: BatchTime,
    /// Optional random time added to every batch (drawn once per batch).
    pub jitter: Option<Distribution>,
    /// Maximum number of requests waiting (not in a running batch);
    /// arrivals beyond it are dropped. `None` is unbounded.
    pub queue_capacity: Option<u32>,
    /// Optional model load time: no batch runs before this draw (taken once
    /// per run, at time zero, for the whole server).
    pub cold_start: Option<Distribution>,
}

/// The batching policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchingSpec {
    /// Largest batch, at least 1; a batch starts at once when this many wait.
    pub max_batch: u32,
    /// Longest the oldest waiting request waits for the batch to fill
    /// (zero: start with whatever is waiting as soon as a slot is free).
    pub max_delay: SimDuration,
}

/// The time a batch takes as a function of its size `b`.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchTime {
    /// `base + per_item * b`: the fixed cost of a pass over the model plus a
    /// per-request cost.
    Affine {
        /// The fixed cost of one batch, whatever its size.
        base: SimDuration,
        /// The added cost of each request in the batch.
        per_item: SimDuration,
    },
    /// Measured points `(size, time)`, sizes strictly increasing and times
    /// non-decreasing. Between two rows the time is interpolated linearly;
    /// below the first row it is the first row's time; beyond the last row
    /// it is extrapolated along the line through the last two rows (or is
    /// the last row's time if there is only one).
    Table(Vec<(u32, SimDuration)>),
}

impl BatchTime {
    /// The time of a batch of `size` requests, in nanoseconds.
    pub fn time_ns(&self, size: u32) -> f64 {
        let b = f64::from(size);
        match self {
            BatchTime::Affine { base, per_item } => {
                base.as_nanos() as f64 + per_item.as_nanos() as f64 * b
            }
            BatchTime::Table(rows) => {
                let point = |i: usize| (f64::from(rows[i].0), rows[i].1.as_nanos() as f64);
                let line = |(s0, t0): (f64, f64), (s1, t1): (f64, f64)| {
                    t0 + (b - s0) * (t1 - t0) / (s1 - s0)
                };
                match rows.len() {
                    0 => 0.0,
                    1 => point(0).1,
                    n => {
                        if b <= point(0).0 {
                            return point(0).1;
                        }
                        // The first row at or above b; beyond the end, the last segment.
                        let upper = rows.partition_point(|&(s, _)| s < size).clamp(1, n - 1);
                        line(point(upper - 1), point(upper))
                    }
                }
            }
        }
    }

    /// Checks the table's order (the loader reports it with a position
    /// first; this is the models' own line of defence).
    pub fn check(&self) -> Result<(), String> {
        let BatchTime::Table(rows) = self else {
            return Ok(());
        };
        if rows.is_empty() {
            return Err("`batch_time` table has no rows".into());
        }
        if rows[0].0 == 0 {
            return Err("`batch_time` table sizes must be at least 1".into());
        }
        for w in rows.windows(2) {
            if w[1].0 <= w[0].0 {
                return Err("`batch_time` table sizes must be strictly increasing".into());
            }
            if w[1].1 < w[0].1 {
                return Err("`batch_time` table times must not decrease as sizes grow".into());
            }
        }
        Ok(())
    }
}

impl ModelServerSpec {
    /// Mean time of a batch of `size`, nanoseconds, jitter included.
    pub fn mean_batch_time_ns(&self, size: u32) -> f64 {
        self.batch_time.time_ns(size) + self.jitter.as_ref().map_or(0.0, Distribution::mean_ns)
    }

    /// Requests per second the server completes when it is saturated (every
    /// batch full): `slots * B / t(B)`, the batching capacity `B / (a + c B)`
    /// per slot for an affine time.
    pub fn saturated_rps(&self) -> f64 {
        let b = self.batching.max_batch;
        let t = self.mean_batch_time_ns(b);
        if t > 0.0 {
            f64::from(self.slots) * f64::from(b) * 1e9 / t
        } else {
            f64::INFINITY
        }
    }
}

/// A request waiting in the queue or riding in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Waiting {
    pub(crate) req: RequestId,
    pub(crate) arrived: SimTime,
    pub(crate) counted: bool,
}

/// What the server does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A batch started on `slot` and ends after `after`.
    Start { slot: u32, after: SimDuration },
    /// Nothing can start before this time: call [`ModelServer::woke`] and
    /// [`ModelServer::next`] then.
    WakeAt(SimTime),
    /// Nothing to do until a request arrives or a batch ends.
    Idle,
}

/// What happened to an arriving request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// It waits for a batch.
    Queued,
    /// The queue was full: it is refused.
    Dropped,
    /// The server is down (a `crash` fault): it fails at once.
    Down,
}

/// A model server's state and measurements.
#[derive(Debug)]
pub(crate) struct ModelServer {
    max_batch: u32,
    max_delay: SimDuration,
    capacity: Option<u32>,
    /// Batch time by size, index `size - 1`, precomputed for `1..=max_batch`.
    times: Box<[SimDuration]>,
    jitter: Option<Sampler>,
    rng: RngStream,
    queue: VecDeque<Waiting>,
    free: Vec<u32>,
    /// The requests of the batch running on each slot (empty when free).
    running: Vec<Vec<Waiting>>,
    /// When the batch on each slot started, for the per-request metrics.
    started: Vec<SimTime>,
    ready_at: SimTime,
    wake_pending: bool,
    /// Requests per second with every batch full (`slots * B / t(B)`).
    capacity_rps: f64,
    /// Requests (`ACTIVE` = in a running batch) and waiting, plus latency.
    pub(crate) metrics: StationMetrics,
    busy_slots: TimeAverage<1>,
    window_start: SimTime,
    window_end: SimTime,
    /// Batches started in the window, and the requests they held.
    batches: u64,
    batched: u64,
    /// Over counted requests that completed: summed queue delay and batch time.
    wait_ns: u128,
    compute_ns: u128,
    /// Batches and their requests started since time zero, and their counts
    /// at the last series tick (a `Cell` so the gauge can be sampled through
    /// a shared reference).
    all_batches: u64,
    all_batched: u64,
    at_last_tick: Cell<(u64, u64)>,
    /// Busy slots over time, kept only for a replica whose group autoscales
    /// on utilization.
    pub(crate) busy_area: Option<BusyArea>,
    /// Faults (`simulation/faults.rs`) and their effects.
    pub(crate) faults: FaultState,
    /// When the model was first loaded (the report's `cold_start_ms`).
    first_ready: SimTime,
}

impl ModelServer {
    /// A server for `spec`. `rng` draws jitter; `cold_rng` draws the cold start.
    pub(crate) fn new(
        spec: &ModelServerSpec,
        rng: RngStream,
        cold_rng: RngStream,
        window_start: SimTime,
        window_end: SimTime,
    ) -> Result<ModelServer, String> {
        if spec.slots == 0 {
            return Err("`slots` must be at least 1".into());
        }
        if spec.batching.max_batch == 0 {
            return Err("`max_batch` must be at least 1".into());
        }
        spec.batch_time.check()?;
        let times = (1..=spec.batching.max_batch)
            .map(|b| SimDuration::from_nanos((spec.batch_time.time_ns(b).max(0.0) + 0.5) as u64))
            .collect();
        let jitter = spec.jitter.as_ref().map(Sampler::new).transpose()?;
        let (faults, ready_at) = loaded_faults(spec.cold_start.as_ref(), cold_rng)?;
        let slots = spec.slots as usize;
        let max_batch = spec.batching.max_batch as usize;
        Ok(ModelServer {
            max_batch: spec.batching.max_batch,
            max_delay: spec.batching.max_delay,
            capacity: spec.queue_capacity,
            times,
            jitter,
            rng,
            queue: VecDeque::new(),
            free: (0..spec.slots).rev().collect(),
            running: (0..slots)
                .map(|_| Vec::with_capacity(max_batch.min(1024)))
                .collect(),
            started: vec![SimTime::ZERO; slots],
            ready_at,
            wake_pending: false,
            capacity_rps: spec.saturated_rps(),
            metrics: StationMetrics::new(window_start, window_end),
            busy_slots: TimeAverage::new(window_start, window_end),
            window_start,
            window_end,
            batches: 0,
            batched: 0,
            wait_ns: 0,
            compute_ns: 0,
            all_batches: 0,
            all_batched: 0,
            at_last_tick: Cell::new((0, 0)),
            busy_area: None,
            faults,
            first_ready: ready_at,
        })
    }

    /// Number of slots.
    pub(crate) fn slots(&self) -> u32 {
        self.running.len() as u32
    }

    /// Requests waiting for a batch.
    pub(crate) fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// A request arrives at `now`; call [`ModelServer::next`] afterwards.
    pub(crate) fn arrive(&mut self, now: SimTime, req: RequestId, counted: bool) -> Arrival {
        let m = &mut self.metrics;
        if self.faults.arrives_down(m, counted) {
            return Arrival::Down;
        }
        if self
            .capacity
            .is_some_and(|cap| self.queue.len() >= cap as usize)
        {
            if counted {
                m.drops += 1;
            }
            return Arrival::Dropped;
        }
        self.queue.push_back(Waiting {
            req,
            arrived: now,
            counted,
        });
        m.levels.add(now, WAITING, 1);
        Arrival::Queued
    }

    /// The wake-up asked for by [`Step::WakeAt`] has come.
    pub(crate) fn woke(&mut self) {
        self.wake_pending = false;
    }

    /// What to do at `now`. Call it until it returns something other than
    /// [`Step::Start`] (several slots may start at once).
    pub(crate) fn next(&mut self, now: SimTime) -> Step {
        let Some(oldest) = self.queue.front() else {
            return Step::Idle;
        };
        let wake = |pending: &mut bool, at: SimTime| {
            if *pending {
                // A pending wake-up is never later than this one: the ready
                // time comes first, and deadlines only move forward (FIFO).
                Step::Idle
            } else {
                *pending = true;
                Step::WakeAt(at)
            }
        };
        if now < self.ready_at {
            return wake(&mut self.wake_pending, self.ready_at);
        }
        let Some(&slot) = self.free.last() else {
            return Step::Idle;
        };
        let deadline = oldest.arrived + self.max_delay;
        if self.queue.len() < self.max_batch as usize && now < deadline {
            return wake(&mut self.wake_pending, deadline);
        }
        self.free.pop();
        let size = self.queue.len().min(self.max_batch as usize);
        let mut after = self.times[size - 1];
        if let Some(j) = &self.jitter {
            after = after + j.sample(&mut self.rng);
        }
        let after = self.faults.stretch(after);
        let batch = &mut self.running[slot as usize];
        batch.extend(self.queue.drain(..size));
        self.started[slot as usize] = now;
        let size = size as u64;
        let m = &mut self.metrics;
        m.levels.add(now, WAITING, -(size as i64));
        m.levels.add(now, ACTIVE, size as i64);
        add_busy_slots(&mut self.busy_slots, &mut self.busy_area, now, 1);
        if now >= self.window_start && now < self.window_end {
            self.batches += 1;
            self.batched += size;
        }
        self.all_batches += 1;
        self.all_batched += size;
        Step::Start { slot, after }
    }

    /// The server crashes at `now`: the waiting requests and those in
    /// running batches are appended to `lost` (the caller fails them); the
    /// busy slots stay busy until their batches' ends, which answer nothing.
    pub(crate) fn crash(&mut self, now: SimTime, lost: &mut Vec<RequestId>) {
        self.faults.crashed = true;
        let before = lost.len();
        let mut counted = 0;
        let waiting = self.queue.len();
        for w in self
            .queue
            .drain(..)
            .chain(self.running.iter_mut().flat_map(|b| b.drain(..)))
        {
            lost.push(w.req);
            counted += u64::from(w.counted);
        }
        let m = &mut self.metrics;
        m.levels.add(now, WAITING, -(waiting as i64));
        m.levels
            .add(now, ACTIVE, -((lost.len() - before - waiting) as i64));
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

    /// The requests of the batch on `slot`, to answer when it ends.
    pub(crate) fn batch(&self, slot: u32) -> &[Waiting] {
        &self.running[slot as usize]
    }

    /// The batch on `slot` ended at `now` and its requests were answered:
    /// records them and frees the slot. Call [`ModelServer::next`] afterwards.
    pub(crate) fn release(&mut self, now: SimTime, slot: u32) {
        let started = self.started[slot as usize];
        let compute = now - started;
        let batch = &mut self.running[slot as usize];
        let m = &mut self.metrics;
        for w in batch.iter().filter(|w| w.counted) {
            m.completions += 1;
            m.latency.record(now - w.arrived);
            self.wait_ns += u128::from((started - w.arrived).as_nanos());
            self.compute_ns += u128::from(compute.as_nanos());
        }
        m.levels.add(now, ACTIVE, -(batch.len() as i64));
        batch.clear();
        add_busy_slots(&mut self.busy_slots, &mut self.busy_area, now, -1);
        self.free.push(slot);
    }

    /// Time-average busy slots / slots over the window.
    pub(crate) fn utilization(&self) -> f64 {
        self.busy_slots.mean(0) / f64::from(self.slots())
    }

    /// Named figures for the report: batch sizes, where time goes, slots.
    pub(crate) fn figures(&self) -> BatchFigures {
        let per_request = |ns: u128| {
            if self.metrics.completions > 0 {
                ns as f64 / self.metrics.completions as f64 / 1e6
            } else {
                0.0
            }
        };
        BatchFigures {
            mean_batch_size: self.mean_batch_size(),
            batches: self.batches,
            mean_queue_delay_ms: per_request(self.wait_ns),
            mean_compute_ms: per_request(self.compute_ns),
            slot_utilization: self.utilization(),
            cold_start_ms: self.first_ready.as_secs_f64() * 1e3,
            capacity_rps: self.capacity_rps,
        }
    }

    /// Mean size of the batches started in the window (0 if none).
    pub(crate) fn mean_batch_size(&self) -> f64 {
        if self.batches > 0 {
            self.batched as f64 / self.batches as f64
        } else {
            0.0
        }
    }

    /// Mean size of the batches started since the last call (0 if none),
    /// for the per-interval time series.
    pub(crate) fn take_interval_batch_size(&self) -> f64 {
        take_interval_mean(&self.at_last_tick, self.all_batches, self.all_batched)
    }
}

/// A model's fault state, whose restarts load the model again in a time
/// drawn from `cold_start` with `cold_rng` (at once without one), and the
/// end of the first load at time zero. Both kinds of model server use it.
fn loaded_faults(
    cold_start: Option<&Distribution>,
    cold_rng: RngStream,
) -> Result<(FaultState, SimTime), String> {
    let reload = cold_start
        .map(Sampler::new)
        .transpose()?
        .map(|s| (s, cold_rng));
    let mut faults = FaultState::new(reload);
    let ready_at = faults.restart(SimTime::ZERO);
    Ok((faults, ready_at))
}

/// `delta` slots become busy (or free, when negative) at `now`: in the
/// window's average and, when kept, the autoscaler's area.
#[inline]
fn add_busy_slots(
    busy_slots: &mut TimeAverage<1>,
    busy_area: &mut Option<BusyArea>,
    now: SimTime,
    delta: i64,
) {
    busy_slots.add(now, 0, delta);
    if let Some(a) = busy_area {
        a.add(now, delta);
    }
}

/// The mean of `sum / count` over what both counters (kept since time
/// zero) grew by since the last call, 0 if `count` did not grow, for the
/// per-interval time series; `last` holds their values at the last call (a
/// `Cell`, as gauges read through a shared reference).
fn take_interval_mean(last: &Cell<(u64, u64)>, count: u64, sum: u64) -> f64 {
    let (count_then, sum_then) = last.replace((count, sum));
    let n = count - count_then;
    if n > 0 {
        (sum - sum_then) as f64 / n as f64
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_kernel::derive_stream;

    /// `x` milliseconds (also the LLM server's tests' unit).
    pub(super) fn ms(x: u64) -> SimDuration {
        SimDuration::from_millis(x)
    }

    /// The instant `x_ms` milliseconds after time zero.
    pub(super) fn at(x_ms: u64) -> SimTime {
        SimTime::ZERO + ms(x_ms)
    }

    fn spec(slots: u32, max_batch: u32, max_delay_ms: u64) -> ModelServerSpec {
        ModelServerSpec {
            slots,
            batching: BatchingSpec {
                max_batch,
                max_delay: ms(max_delay_ms),
            },
            batch_time: BatchTime::Affine {
                base: ms(5),
                per_item: ms(1),
            },
            jitter: None,
            queue_capacity: None,
            cold_start: None,
        }
    }

    fn server(spec: &ModelServerSpec) -> ModelServer {
        ModelServer::new(
            spec,
            derive_stream(1, "m", "batch_time"),
            derive_stream(1, "m", "cold_start"),
            SimTime::ZERO,
            at(1_000_000),
        )
        .unwrap()
    }

    #[test]
    fn affine_time_and_capacity() {
        let s = spec(1, 32, 5);
        assert_eq!(s.batch_time.time_ns(32), 37e6);
        // B / (a + c B) = 32 / 37 ms = 864.86/s; unbatched 1 / 6 ms = 166.7/s.
        assert!((s.saturated_rps() - 864.864_864_9).abs() < 1e-6);
        assert!((spec(1, 1, 0).saturated_rps() - 166.666_666_7).abs() < 1e-6);
        assert!((spec(4, 1, 0).saturated_rps() - 666.666_666_7).abs() < 1e-6);
    }

    #[test]
    fn table_interpolates_and_extrapolates() {
        let t = BatchTime::Table(vec![(1, ms(6)), (8, ms(12)), (32, ms(30))]);
        t.check().unwrap();
        assert_eq!(t.time_ns(1), 6e6);
        assert_eq!(t.time_ns(8), 12e6);
        // Between 8 and 32: 12 + (20 - 8) * 18/24 = 21 ms.
        assert!((t.time_ns(20) - 21e6).abs() < 1e-6);
        // Between 1 and 8: 6 + 3 * 6/7 ms.
        assert!((t.time_ns(4) - (6e6 + 3.0 * 6e6 / 7.0)).abs() < 1e-3);
        // Beyond the last row, along the last segment (0.75 ms per item).
        assert!((t.time_ns(64) - 54e6).abs() < 1e-6);
        let one = BatchTime::Table(vec![(4, ms(10))]);
        assert_eq!(one.time_ns(1), 10e6);
        assert_eq!(one.time_ns(100), 10e6);
        // Below the first row: the first row's time.
        let t2 = BatchTime::Table(vec![(4, ms(10)), (8, ms(14))]);
        assert_eq!(t2.time_ns(2), 10e6);
    }

    #[test]
    fn table_checks() {
        assert!(BatchTime::Table(vec![]).check().is_err());
        assert!(BatchTime::Table(vec![(0, ms(1))]).check().is_err());
        assert!(
            BatchTime::Table(vec![(4, ms(1)), (4, ms(2))])
                .check()
                .is_err()
        );
        assert!(
            BatchTime::Table(vec![(4, ms(3)), (8, ms(2))])
                .check()
                .is_err()
        );
    }

    #[test]
    fn full_batch_starts_at_once() {
        let mut m = server(&spec(1, 3, 100));
        assert_eq!(m.next(at(0)), Step::Idle);
        m.arrive(at(0), 1, true);
        assert_eq!(m.next(at(0)), Step::WakeAt(at(100)));
        m.arrive(at(1), 2, true);
        assert_eq!(m.next(at(1)), Step::Idle, "a wake-up is already pending");
        m.arrive(at(2), 3, true);
        // 5 + 3 * 1 = 8 ms.
        assert_eq!(
            m.next(at(2)),
            Step::Start {
                slot: 0,
                after: ms(8)
            }
        );
        let ids: Vec<_> = m.batch(0).iter().map(|w| w.req).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(m.queue_len(), 0);
        m.release(at(10), 0);
        assert!(m.batch(0).is_empty());
        assert_eq!(m.mean_batch_size(), 3.0);
        // Waits 2, 1 and 0 ms; compute 8 ms each.
        let f = m.figures();
        assert!((f.mean_queue_delay_ms - 1.0).abs() < 1e-9);
        assert!((f.mean_compute_ms - 8.0).abs() < 1e-9);
    }

    #[test]
    fn deadline_starts_a_partial_batch() {
        let mut m = server(&spec(1, 32, 5));
        m.arrive(at(0), 1, true);
        assert_eq!(m.next(at(0)), Step::WakeAt(at(5)));
        m.arrive(at(3), 2, true);
        assert_eq!(m.next(at(3)), Step::Idle);
        m.woke();
        assert_eq!(
            m.next(at(5)),
            Step::Start {
                slot: 0,
                after: ms(7)
            }
        );
        assert_eq!(m.next(at(5)), Step::Idle);
    }

    #[test]
    fn busy_slots_defer_and_take_up_to_max_batch() {
        let mut m = server(&spec(1, 2, 0));
        m.arrive(at(0), 1, true);
        assert!(matches!(m.next(at(0)), Step::Start { slot: 0, .. }));
        for r in 2..=6 {
            m.arrive(at(1), r, true);
            assert_eq!(m.next(at(1)), Step::Idle, "no slot free");
        }
        m.release(at(6), 0);
        assert!(matches!(m.next(at(6)), Step::Start { slot: 0, .. }));
        let ids: Vec<_> = m.batch(0).iter().map(|w| w.req).collect();
        assert_eq!(ids, vec![2, 3]);
        assert_eq!(m.queue_len(), 3);
    }

    #[test]
    fn several_slots_start_together() {
        let mut m = server(&spec(3, 2, 50));
        for r in 0..5 {
            m.arrive(at(0), r, true);
        }
        assert!(matches!(m.next(at(0)), Step::Start { .. }));
        assert!(matches!(m.next(at(0)), Step::Start { .. }));
        // One left, below max_batch and before its deadline.
        assert_eq!(m.next(at(0)), Step::WakeAt(at(50)));
        m.woke();
        assert!(matches!(m.next(at(50)), Step::Start { .. }));
        assert_eq!(m.next(at(50)), Step::Idle);
    }

    #[test]
    fn cold_start_holds_batches_back() {
        let mut s = spec(1, 4, 0);
        s.cold_start = Some(Distribution::Constant(ms(30)));
        let mut m = server(&s);
        assert_eq!(m.ready_at, at(30));
        m.arrive(at(1), 1, true);
        assert_eq!(m.next(at(1)), Step::WakeAt(at(30)));
        m.arrive(at(2), 2, true);
        assert_eq!(m.next(at(2)), Step::Idle);
        m.woke();
        assert_eq!(
            m.next(at(30)),
            Step::Start {
                slot: 0,
                after: ms(7)
            }
        );
    }

    #[test]
    fn full_queue_drops() {
        let mut s = spec(1, 4, 10);
        s.queue_capacity = Some(2);
        let mut m = server(&s);
        assert_eq!(m.arrive(at(0), 1, true), Arrival::Queued);
        assert_eq!(m.arrive(at(0), 2, true), Arrival::Queued);
        assert_eq!(m.arrive(at(0), 3, true), Arrival::Dropped);
        assert_eq!(m.metrics.drops, 1);
    }

    #[test]
    fn interval_batch_size_resets() {
        let mut m = server(&spec(2, 4, 0));
        for r in 0..6 {
            m.arrive(at(0), r, true);
        }
        while matches!(m.next(at(0)), Step::Start { .. }) {}
        assert_eq!(m.take_interval_batch_size(), 3.0);
        assert_eq!(m.take_interval_batch_size(), 0.0);
    }
}
