//! The state of a `batch_job` component, without the engine: the batch
//! layer of a lambda architecture. Every record sent to it joins its master
//! dataset (acknowledged at once); every `every` a run starts that reads
//! the whole dataset as it was at the run's start, at `throughput` records
//! a second after a fixed `startup`, so a run takes
//! `startup + records / throughput` and grows with the data. When a run
//! ends, the batch view covers every record that arrived before that run
//! started: the view's age at time `t` is `t` minus the start of the last
//! run that ended (`t` itself before the first run ends). Runs never
//! overlap: a start that finds a run going waits for it to end.
//!
//! With records arriving at rate `λ` and runs ending before the next start
//! (`R < every`), the age just before a run ends is `every + R`, its
//! largest value: the batch view's staleness is the interval plus the run
//! time, and the run time grows as `λ t / throughput`.

pub(crate) mod figures;
pub(crate) mod sim;

use sysdes_kernel::{SimDuration, SimTime};

use crate::kinds::stream::AgeAverage;
use crate::station::StationMetrics;

/// `type: batch_job`: a periodic batch recomputation over all the data
/// received so far.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchJobSpec {
    /// Time between run starts; the first run starts at `every`.
    pub every: SimDuration,
    /// Records a run reads per second (after `startup`).
    pub throughput_per_s: f64,
    /// Fixed time every run takes before reading (scheduling, start-up).
    pub startup: SimDuration,
}

/// How long a run over `records` takes: `startup + records / throughput`,
/// rounded to whole nanoseconds.
pub(crate) fn run_time(spec: &BatchJobSpec, records: u64) -> SimDuration {
    let read = if spec.throughput_per_s > 0.0 {
        (records as f64 / spec.throughput_per_s * 1e9).round() as u64
    } else {
        0
    };
    spec.startup + SimDuration::from_nanos(read)
}

/// A batch job: its dataset, the run in progress and measurements.
#[derive(Debug)]
pub(crate) struct BatchJob {
    pub(crate) spec: BatchJobSpec,
    /// Records received so far (the dataset the next run reads).
    records: u64,
    /// The start of the run in progress, if one is going.
    running: Option<SimTime>,
    /// A scheduled start came while a run was going.
    pending: bool,
    /// The age of the batch view (time since the data cutoff of the last
    /// run that ended).
    view_age: AgeAverage,
    window: (SimTime, SimTime),
    /// Runs that ended inside the window.
    runs: u64,
    /// Sum and largest of those runs' durations, nanoseconds.
    run_ns_sum: u64,
    run_ns_max: u64,
    /// Records the last run that ended read.
    last_run_records: u64,
    /// `arrivals`/`completions` count records; level `ACTIVE` is 1 while a
    /// run is going (utilization is the fraction of time running).
    pub(crate) metrics: StationMetrics,
}

impl BatchJob {
    /// A job with an empty dataset and no view yet.
    pub(crate) fn new(
        spec: &BatchJobSpec,
        metrics: StationMetrics,
        window: (SimTime, SimTime),
    ) -> Self {
        let mut view_age = AgeAverage::new(window.0, window.1);
        view_age.set(SimTime::ZERO, Some(SimTime::ZERO));
        BatchJob {
            spec: spec.clone(),
            records: 0,
            running: None,
            pending: false,
            view_age,
            window,
            runs: 0,
            run_ns_sum: 0,
            run_ns_max: 0,
            last_run_records: 0,
            metrics,
        }
    }

    /// A record arrives at `now`: it joins the dataset.
    pub(crate) fn record(&mut self, counted: bool) {
        self.records += 1;
        if counted {
            self.metrics.arrivals += 1;
            self.metrics.completions += 1;
        }
    }

    /// A scheduled start at `now`: starts a run and returns how long it
    /// takes, or `None` if a run is going (the start waits for its end).
    pub(crate) fn start(&mut self, now: SimTime) -> Option<SimDuration> {
        if self.running.is_some() {
            self.pending = true;
            return None;
        }
        self.running = Some(now);
        self.last_run_records = self.records;
        self.metrics.levels.set(now, [1, 0]);
        Some(run_time(&self.spec, self.records))
    }

    /// The run in progress ends at `now`: the view now covers the data up
    /// to the run's start. Returns the next run's duration if a start was
    /// waiting (it starts at once).
    pub(crate) fn end(&mut self, now: SimTime) -> Option<SimDuration> {
        let started = self.running.take()?;
        self.view_age.set(now, Some(started));
        self.metrics.levels.set(now, [0, 0]);
        if now > self.window.0 && now <= self.window.1 {
            let ns = now.saturating_since(started).as_nanos();
            self.runs += 1;
            self.run_ns_sum += ns;
            self.run_ns_max = self.run_ns_max.max(ns);
        }
        if std::mem::take(&mut self.pending) {
            self.start(now)
        } else {
            None
        }
    }

    /// The batch view's age at `now`.
    pub(crate) fn view_age(&self, now: SimTime) -> SimDuration {
        self.view_age.age(now)
    }

    /// Figures reported beside the common ones.
    pub(crate) fn figures(&self) -> figures::BatchJobFigures {
        figures::BatchJobFigures {
            runs: self.runs,
            records: self.records,
            last_run_records: self.last_run_records,
            run_time_mean_s: if self.runs > 0 {
                self.run_ns_sum as f64 / self.runs as f64 / 1e9
            } else {
                0.0
            },
            run_time_max_s: self.run_ns_max as f64 / 1e9,
            view_age_mean_s: self.view_age.mean_s(),
            view_age_max_s: self.view_age.max_s(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// A job measured over `[0, end)` seconds.
    fn job(end: u64) -> BatchJob {
        let spec = BatchJobSpec {
            every: SimDuration::from_secs(10),
            throughput_per_s: 10.0,
            startup: SimDuration::from_secs(1),
        };
        BatchJob::new(&spec, StationMetrics::new(t(0), t(end)), (t(0), t(end)))
    }

    #[test]
    fn a_run_reads_the_whole_dataset_and_the_view_lags_by_interval_plus_run() {
        // The window ends when the second run ends, so the peak age is the
        // one just before it (after it the age would grow again).
        let mut j = job(29);
        for _ in 0..40 {
            j.record(true);
        }
        // 40 records at 10/s after 1 s of start-up: 5 s.
        assert_eq!(j.start(t(10)), Some(SimDuration::from_secs(5)));
        assert_eq!(j.view_age(t(15)), SimDuration::from_secs(15), "no view yet");
        assert_eq!(j.end(t(15)), None);
        assert_eq!(j.view_age(t(15)), SimDuration::from_secs(5));
        for _ in 0..40 {
            j.record(true);
        }
        assert_eq!(j.start(t(20)), Some(SimDuration::from_secs(9)));
        j.end(t(29));
        // Just before 29 the view was 29 - 10 = 19 s old: every + run time.
        let f = j.figures();
        assert_eq!((f.runs, f.records, f.last_run_records), (2, 80, 80));
        assert!((f.run_time_max_s - 9.0).abs() < 1e-12);
        assert!((f.run_time_mean_s - 7.0).abs() < 1e-12);
        assert!(
            (f.view_age_max_s - 19.0).abs() < 1e-12,
            "{}",
            f.view_age_max_s
        );
    }

    #[test]
    fn runs_never_overlap() {
        let mut j = job(100);
        for _ in 0..200 {
            j.record(true);
        }
        assert_eq!(j.start(t(10)), Some(SimDuration::from_secs(21)));
        assert_eq!(j.start(t(20)), None, "a run is going");
        assert_eq!(
            j.end(t(31)),
            Some(SimDuration::from_secs(21)),
            "the waiting start runs at once"
        );
    }
}
