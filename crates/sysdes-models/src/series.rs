//! Per-interval figures over simulated time: what a time-series plot, an
//! automatic warm-up detector or a fault timeline needs.

use sysdes_kernel::{SimDuration, SimTime};
use sysdes_stats::LatencyHistogram;

/// Fewest intervals a run is divided into (short runs get shorter intervals).
const MIN_INTERVALS: u64 = 100;
/// Most intervals a run is divided into, so memory never grows with run length.
const MAX_INTERVALS: u64 = 2_000;

/// End-to-end figures for one interval of simulated time, over every request
/// that ended in it (warm-up included, so transients are visible).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPoint {
    /// Start of the interval, seconds.
    pub start_s: f64,
    /// End of the interval, seconds (the last one ends when the run drained).
    pub end_s: f64,
    /// Requests that completed successfully in the interval.
    pub completed: u64,
    /// Requests dropped at full queues in the interval.
    pub dropped: u64,
    /// Requests whose client timed out in the interval.
    pub timed_out: u64,
    /// Requests answered with an error in the interval.
    pub failed: u64,
    /// Mean end-to-end latency of the completions, milliseconds (0 if none).
    pub latency_mean_ms: f64,
    /// Median end-to-end latency, milliseconds (NaN for a run built with
    /// [`crate::Simulation::without_series_quantiles`]).
    pub latency_p50_ms: f64,
    /// 99th percentile end-to-end latency, milliseconds (NaN for a run
    /// built with [`crate::Simulation::without_series_quantiles`]).
    pub latency_p99_ms: f64,
    /// Requests in flight at the end of the interval.
    pub in_flight: u64,
    /// The components' gauges at the end of the interval, in the order of
    /// [`Series::gauge_names`].
    pub gauges: Vec<f64>,
    /// Each workload's completions and latency in the interval, in the order
    /// of [`Series::workload_names`]; empty when the scenario has a single
    /// workload (its figures are the end-to-end ones above).
    pub workloads: Vec<WorkloadPoint>,
}

/// One workload's figures for one interval: the same definitions as the
/// end-to-end ones of [`SeriesPoint`], over that workload's requests only.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WorkloadPoint {
    /// Requests of the workload that completed successfully in the interval.
    pub completed: u64,
    /// Mean latency of those completions, milliseconds (0 if none).
    pub latency_mean_ms: f64,
    /// Median latency, milliseconds.
    pub latency_p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub latency_p99_ms: f64,
}

impl WorkloadPoint {
    /// The figures of `latency` (a histogram of one interval's completions).
    fn of(latency: &LatencyHistogram) -> Self {
        let [p50, p99] = latency.quantiles_ns([0.50, 0.99]);
        WorkloadPoint {
            completed: latency.count(),
            latency_mean_ms: latency.mean_ns() / 1e6,
            latency_p50_ms: p50 as f64 / 1e6,
            latency_p99_ms: p99 as f64 / 1e6,
        }
    }
}

impl SeriesPoint {
    /// Completions per second over the interval.
    pub fn throughput_rps(&self) -> f64 {
        let length = self.end_s - self.start_s;
        if length > 0.0 {
            self.completed as f64 / length
        } else {
            0.0
        }
    }
}

/// The time series of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Length of each interval (but the last), seconds.
    pub interval_s: f64,
    /// One point per interval, in time order.
    pub points: Vec<SeriesPoint>,
    /// Names of the gauge columns, `component.gauge` (e.g. `db.queue`).
    pub gauge_names: Vec<String>,
    /// Names of the workloads whose figures each point carries in
    /// [`SeriesPoint::workloads`]; empty when the scenario has one workload.
    pub workload_names: Vec<String>,
}

/// Collects the series as the run goes: counters and a histogram that are
/// summarised and reset at each interval boundary (one event per interval).
/// With several workloads, each also has a small histogram of its own,
/// allocated once and reset at the same boundaries.
#[derive(Debug)]
pub(crate) struct SeriesRecorder {
    pub(crate) interval: SimDuration,
    started: SimTime,
    completed: u64,
    dropped: u64,
    timed_out: u64,
    failed: u64,
    latency: LatencyHistogram,
    /// Whether `latency` records each completion (for the per-interval
    /// p50 and p99); when off, only `sum_ns` is kept (the mean).
    quantiles: bool,
    /// Sum of this interval's completion latencies, kept when `quantiles`
    /// is off.
    sum_ns: u128,
    /// One histogram per workload, indexed by workload; empty for a single
    /// workload, so such a run records nothing more than before.
    per_workload: Vec<LatencyHistogram>,
    workload_names: Vec<String>,
    points: Vec<SeriesPoint>,
    gauge_names: Vec<String>,
    last_gauges: Vec<f64>,
}

impl SeriesRecorder {
    /// A recorder with 1 s intervals, adjusted so `duration` spans between
    /// 100 and 2,000 of them.
    pub(crate) fn new(duration: SimDuration, gauge_names: Vec<String>) -> Self {
        let d = duration.as_nanos().max(1);
        let one_second = 1_000_000_000;
        let interval = if d / one_second < MIN_INTERVALS {
            d.div_ceil(MIN_INTERVALS)
        } else if d / one_second > MAX_INTERVALS {
            d.div_ceil(MAX_INTERVALS)
        } else {
            one_second
        };
        SeriesRecorder {
            interval: SimDuration::from_nanos(interval.max(1)),
            started: SimTime::ZERO,
            completed: 0,
            dropped: 0,
            timed_out: 0,
            failed: 0,
            latency: LatencyHistogram::coarse(),
            quantiles: true,
            sum_ns: 0,
            per_workload: Vec::new(),
            workload_names: Vec::new(),
            points: Vec::with_capacity((d / interval.max(1) + 2) as usize),
            last_gauges: vec![0.0; gauge_names.len()],
            gauge_names,
        }
    }

    /// Records each workload's latency too when there are two or more
    /// (`names` in workload order); with one, the series stays end-to-end.
    pub(crate) fn per_workload(mut self, names: Vec<String>) -> Self {
        if names.len() > 1 {
            self.per_workload = names.iter().map(|_| LatencyHistogram::coarse()).collect();
            self.workload_names = names;
        }
        self
    }

    /// Keeps only the mean of each interval's end-to-end latency, not its
    /// p50 and p99 (which are then NaN): one histogram record less per
    /// request, for a run whose series nobody reads.
    pub(crate) fn without_quantiles(&mut self) {
        self.quantiles = false;
    }

    #[inline(always)]
    pub(crate) fn completed(&mut self, workload: u32, latency: SimDuration) {
        self.completed += 1;
        if self.quantiles {
            self.latency.record(latency);
        } else {
            self.sum_ns += u128::from(latency.as_nanos());
        }
        if let Some(h) = self.per_workload.get_mut(workload as usize) {
            h.record(latency);
        }
    }

    #[inline]
    pub(crate) fn dropped(&mut self) {
        self.dropped += 1;
    }

    #[inline]
    pub(crate) fn timed_out(&mut self) {
        self.timed_out += 1;
    }

    #[inline]
    pub(crate) fn failed(&mut self) {
        self.failed += 1;
    }

    /// Closes the interval ending at `now` with the gauges' values and
    /// starts the next.
    pub(crate) fn close(&mut self, now: SimTime, in_flight: u64, gauges: &[f64]) {
        if gauges.len() == self.last_gauges.len() {
            self.last_gauges.copy_from_slice(gauges);
        }
        let (mean_ms, p50_ms, p99_ms) = if self.quantiles {
            let [p50, p99] = self.latency.quantiles_ns([0.50, 0.99]);
            (
                self.latency.mean_ns() / 1e6,
                p50 as f64 / 1e6,
                p99 as f64 / 1e6,
            )
        } else {
            // The histogram's own mean, from the same sum and count.
            let mean_ns = match self.completed {
                0 => 0.0,
                n => self.sum_ns as f64 / n as f64,
            };
            (mean_ns / 1e6, f64::NAN, f64::NAN)
        };
        self.points.push(SeriesPoint {
            start_s: self.started.as_secs_f64(),
            end_s: now.as_secs_f64(),
            completed: self.completed,
            dropped: self.dropped,
            timed_out: self.timed_out,
            failed: self.failed,
            latency_mean_ms: mean_ms,
            latency_p50_ms: p50_ms,
            latency_p99_ms: p99_ms,
            in_flight,
            gauges: self.last_gauges.clone(),
            workloads: self.per_workload.iter().map(WorkloadPoint::of).collect(),
        });
        for h in &mut self.per_workload {
            h.reset();
        }
        self.started = now;
        self.completed = 0;
        self.dropped = 0;
        self.timed_out = 0;
        self.failed = 0;
        self.sum_ns = 0;
        if self.quantiles {
            self.latency.reset();
        }
    }

    /// The finished series, closing the last interval at `now` if anything
    /// happened in it.
    pub(crate) fn finish(mut self, now: SimTime, in_flight: u64) -> Series {
        if now > self.started || self.points.is_empty() {
            let last = self.last_gauges.clone();
            self.close(now, in_flight, &last);
        }
        Series {
            interval_s: self.interval.as_secs_f64(),
            points: self.points,
            gauge_names: self.gauge_names,
            workload_names: self.workload_names,
        }
    }
}
