//! One run of a sweep: simulate, then reduce the result to a flat record of
//! named metrics (one `runs.jsonl` line, one `runs.csv` row).

use std::time::Instant;

use serde_json::{Map, Value, json};
use sysdes_kernel::SimDuration;
use sysdes_models::{ComponentResult, ModelSpec, RunLimits, RunResult, Simulation, StopReason};
use sysdes_report::flatten::{figure_json, group_sweep_figures, sweep_figures};
use sysdes_stats::{ConsistencyReport, batch_means_ci, mser5};

use crate::plan::RunId;

/// Metrics every run has, in column order; `wall_time_s` follows (see
/// [`metric_names`]). Between them, each run adds `utilization:NAME` for
/// every component with a utilization (see [`utilizations`]), one column
/// per figure its components report (`FIGURE:COMPONENT`, see
/// `figure_metrics`) and, with a replicated store, the
/// [`CONSISTENCY_METRICS`].
pub const FIXED_METRICS: &[&str] = &[
    "offered_rps",
    "throughput_rps",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "generated",
    "completed",
    "dropped",
    "timed_out",
    "failed",
    "max_utilization",
    "bottleneck",
    "steady",
    "stopped",
    "warmup_s",
    "warmup_mser_s",
    "latency_mean_bm_ci95_low",
    "latency_mean_bm_ci95_high",
    "events",
    "unstable",
];

/// Metrics of a scenario with `expect:` targets: how many of its targets
/// the run met and missed (counts; see `docs/scenario-format.md`,
/// "Targets"). The fraction of runs meeting every target of a point is
/// `targets_missed` = 0 over its replications.
pub const TARGET_METRICS: &[&str] = &["targets_met", "targets_missed"];

/// Metrics that are not numbers, so have no mean in `summary.csv`.
pub const TEXT_METRICS: &[&str] = &["bottleneck", "steady", "stopped", "linearizable"];

/// Metrics of runs whose result carries a consistency report (a scenario
/// with a replicated store), placed just before `wall_time_s`; see
/// `docs/consistency.md` for their meaning. They appear in `runs.csv` and
/// `summary.csv` only when some run of the sweep has them.
pub const CONSISTENCY_METRICS: &[&str] = &[
    "store_reads",
    "store_writes",
    "stale_reads",
    "stale_read_rate",
    "stale_read_ratio",
    "k_staleness_mean",
    "k_staleness_p99",
    "t_visibility_p50_ms",
    "t_visibility_p99_ms",
    "session_violations",
    "read_your_writes_violations",
    "monotonic_reads_violations",
    "monotonic_writes_violations",
    "writes_follow_reads_violations",
    "lost_writes",
    "availability",
    "availability_during_faults",
    "availability_outside_faults",
    "linearizable",
];

/// Adds the [`CONSISTENCY_METRICS`] (all, or only the numeric ones) to a
/// column list, before `wall_time_s`, unless they are already there.
pub fn add_consistency_metrics(names: &mut Vec<String>, numeric_only: bool) {
    if names.iter().any(|n| n == CONSISTENCY_METRICS[0]) {
        return;
    }
    let at = names
        .iter()
        .position(|n| n == "wall_time_s")
        .unwrap_or(names.len());
    let extra = CONSISTENCY_METRICS
        .iter()
        .filter(|m| !numeric_only || !TEXT_METRICS.contains(m))
        .map(|m| (*m).to_owned());
    names.splice(at..at, extra);
}

/// The component figures of a run as sweep metrics: `FIGURE:COMPONENT` (or
/// `FIGURE:COMPONENT/GROUP` for a stream's consumer group), in component
/// and report order. A replica (`NAME[i]`) is left out: its group reports
/// for it (its replicas' figures summed or averaged, see
/// [`group_sweep_figures`]), and the number of replicas may vary between
/// points.
pub fn figure_metrics(result: &RunResult) -> Vec<(String, Value)> {
    result
        .components
        .iter()
        .filter(|c| c.replica_of.is_none())
        .flat_map(|c| {
            let replicas: Vec<&ComponentResult> = result
                .components
                .iter()
                .filter(|r| r.replica_of.as_ref() == Some(&c.name))
                .collect();
            let mut columns = sweep_figures(c);
            columns.extend(group_sweep_figures(c, &replicas));
            columns
        })
        .map(|(name, value)| (name, figure_json(value)))
        .collect()
}

/// Inserts metric names `extra` (those not already there) before the
/// consistency metrics, or before `wall_time_s` when there are none.
pub fn add_figure_metrics<'a>(names: &mut Vec<String>, extra: impl IntoIterator<Item = &'a str>) {
    let at = names
        .iter()
        .position(|n| n == CONSISTENCY_METRICS[0] || n == "wall_time_s")
        .unwrap_or(names.len());
    let new: Vec<String> = extra
        .into_iter()
        .filter(|e| !names.iter().any(|n| n == e))
        .map(str::to_owned)
        .collect();
    names.splice(at..at, new);
}

/// Batches for the within-run batch-means interval.
const BATCHES: usize = 20;

/// Every metric name, in column order, with a `utilization:NAME` column
/// for each of `stations` (the components [`utilizations`] gives).
pub fn metric_names(stations: &[String]) -> Vec<String> {
    let mut names: Vec<String> = FIXED_METRICS.iter().map(|s| (*s).to_owned()).collect();
    names.extend(stations.iter().map(|s| format!("utilization:{s}")));
    names.push("wall_time_s".to_owned());
    names
}

/// The components of a run that have a utilization, with it, in file
/// order: every station kind with a capacity to divide by (servers,
/// deployments and replica groups, model servers, caches with `workers`,
/// queue and stream consumers, store replicas, functions, review queues,
/// training and batch jobs, storage tiers with a limit), as
/// [`ComponentResult::capacity_utilization`] decides (the one place that
/// does: the JSON result asks it too). A group's replicas (`NAME[i]`) are
/// left out: the group reports for them, and their number may vary
/// between points. Each gives a `utilization:NAME` column.
///
/// [`ComponentResult::capacity_utilization`]: sysdes_models::ComponentResult::capacity_utilization
pub fn utilizations(result: &RunResult) -> Vec<(&str, f64)> {
    result
        .components
        .iter()
        .filter(|c| c.replica_of.is_none())
        .filter_map(|c| Some((c.name.as_str(), c.capacity_utilization()?)))
        .collect()
}

/// The busiest component of a run and its utilization: the first of the
/// highest among every component with a utilization, a group's replicas
/// included (one hot replica is the bottleneck, whatever its group's
/// mean). `None` when no component has a utilization.
pub fn bottleneck(result: &RunResult) -> Option<(&str, f64)> {
    result
        .components
        .iter()
        .filter_map(|c| Some((c.name.as_str(), c.capacity_utilization()?)))
        .fold(None, |best: Option<(&str, f64)>, (name, u)| match best {
            Some((_, b)) if u <= b => best,
            _ => Some((name, u)),
        })
}

/// What MSER-5 says about a run's series of requests in flight.
struct Steadiness {
    steady: Option<bool>,
    /// Start of the retained part, seconds.
    warmup_s: Option<f64>,
}

/// MSER-5 over the mean end-to-end latency per interval (intervals with
/// completions, ending before the end of arrivals: the drain afterwards is
/// not part of the steady state). Latency rather than requests in flight,
/// because at low load the number in flight is mostly 0 and its long runs
/// of zeros fool MSER; a growing queue shows in both.
fn steadiness(result: &RunResult) -> Steadiness {
    let points: Vec<_> = result
        .series
        .points
        .iter()
        .filter(|p| p.end_s <= result.duration_s + 1e-9 && p.completed > 0)
        .collect();
    let level: Vec<f64> = points.iter().map(|p| p.latency_mean_ms).collect();
    match mser5(&level) {
        Some(m) => Steadiness {
            steady: Some(m.steady),
            warmup_s: points.get(m.truncation).map(|p| p.start_s),
        },
        None => Steadiness {
            steady: None,
            warmup_s: None,
        },
    }
}

fn number(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// The warm-up MSER-5 picks from a pilot run of `spec`, capped at half the
/// duration; `None` if the pilot failed, was too short or never settled.
pub fn pilot_warmup(spec: &ModelSpec, limits: RunLimits) -> Option<SimDuration> {
    let pilot = Simulation::new(spec)
        .ok()?
        .run(limits, &mut crate::Guarded::default())
        .ok()?;
    let s = steadiness(&pilot);
    if s.steady != Some(true) {
        return None;
    }
    let nanos = (s.warmup_s? * 1e9).round();
    let cap = spec.duration.as_nanos() / 2;
    Some(SimDuration::from_nanos((nanos as u64).min(cap)))
}

/// Runs one sweep run and returns its `runs.jsonl` record.
///
/// With `auto_warmup`, a pilot run of the same model and seed first finds
/// the MSER-5 truncation point and the measured run uses it as its warm-up
/// (the scenario's own warm-up is kept when the pilot finds none). A
/// scenario that declares costs (`cost`) adds cost columns; one with
/// `expect:` targets adds [`TARGET_METRICS`], the number of targets the
/// run met and missed (both null for a run that failed).
#[allow(clippy::too_many_arguments)]
pub fn execute(
    spec: &ModelSpec,
    cost: &sysdes_cost::CostSpec,
    targets: &[sysdes_models::expect_spec::Target],
    run: &RunId,
    params: &[(String, String)],
    auto_warmup: bool,
    limits: RunLimits,
) -> Value {
    let started = Instant::now();
    let mut spec = spec.clone();
    if auto_warmup {
        if let Some(w) = pilot_warmup(&spec, limits) {
            spec.warmup = w;
        }
    }
    // Offered load is the theory's figure, as in `sysdes run`.
    let offered = sysdes_theory::offered_loads(&spec);
    let outcome = Simulation::new(&spec)
        .map_err(|e| e.to_string())
        .and_then(|sim| {
            sim.with_offered_loads(offered.clone())
                .run(limits, &mut crate::Guarded::default())
                .map_err(|e| e.to_string())
        })
        .map(|mut result| {
            sysdes_theory::annotate_offered(&offered, &mut result);
            result
        });
    let mut metrics = Map::new();
    let offered: f64 = spec
        .workloads
        .iter()
        .filter_map(|w| w.arrival.open_rate_per_second())
        .sum();
    metrics.insert("offered_rps".into(), number(offered));
    let mut error = None;
    let mut names = metric_names(&[]);
    match &outcome {
        Ok(result) => {
            fill(&mut metrics, result);
            let stations: Vec<String> = utilizations(result)
                .iter()
                .map(|(name, _)| format!("utilization:{name}"))
                .collect();
            add_figure_metrics(&mut names, stations.iter().map(String::as_str));
            let figures = figure_metrics(result);
            add_figure_metrics(&mut names, figures.iter().map(|(n, _)| n.as_str()));
            for (name, value) in figures {
                metrics.insert(name, value);
            }
            if let Some(c) = &result.consistency {
                fill_consistency(&mut metrics, c);
                add_consistency_metrics(&mut names, false);
            }
            if !cost.is_empty() {
                let columns =
                    sysdes_report::flatten::cost_columns(&sysdes_cost::cost(&spec, cost, result));
                add_figure_metrics(&mut names, columns.iter().map(|(n, _)| n.as_str()));
                for (name, value) in columns {
                    let cell = value.map_or(Value::Null, sysdes_report::flatten::figure_json);
                    metrics.insert(name, cell);
                }
            }
            if !targets.is_empty() {
                let missed = sysdes_report::targets::missed(result, targets);
                metrics.insert(TARGET_METRICS[0].into(), json!(targets.len() - missed));
                metrics.insert(TARGET_METRICS[1].into(), json!(missed));
            }
        }
        Err(e) => error = Some(e.clone()),
    }
    if !targets.is_empty() {
        add_figure_metrics(&mut names, TARGET_METRICS.iter().copied());
    }
    for name in &names {
        metrics.entry(name.clone()).or_insert(Value::Null);
    }
    if error.is_some() {
        metrics.insert("stopped".into(), json!("failed"));
        metrics.insert("steady".into(), json!(false));
        metrics.insert(
            "warmup_s".into(),
            number(spec.warmup.as_nanos() as f64 / 1e9),
        );
    }
    metrics.insert("wall_time_s".into(), json!(started.elapsed().as_secs_f64()));
    // Re-order to the column order so every line reads the same way.
    let mut ordered = Map::new();
    for name in names {
        let v = metrics.remove(&name).unwrap_or(Value::Null);
        ordered.insert(name, v);
    }
    let params: Map<String, Value> = params
        .iter()
        .map(|(p, v)| (p.clone(), Value::from(v.as_str())))
        .collect();
    let mut record = Map::new();
    record.insert("run_index".into(), json!(run.run_index));
    record.insert("point".into(), json!(run.point));
    record.insert("replication".into(), json!(run.replication));
    record.insert("seed".into(), json!(run.seed));
    record.insert("params".into(), Value::Object(params));
    record.insert("metrics".into(), Value::Object(ordered));
    if let Some(e) = error {
        record.insert("error".into(), json!(e));
    }
    Value::Object(record)
}

/// Whether a run's figures cannot be read as a steady state: the verdict
/// calls it unstable (the backlog grows over the window), or it did not
/// drain (the progress guard or the event limit stopped it). A sweep
/// marks such points (`unstable` = 1) and names them after the sweep.
pub fn unstable(result: &RunResult) -> bool {
    result.stop != StopReason::Drained || sysdes_report::assess(result).unstable()
}

/// The metrics of a finished run.
fn fill(metrics: &mut Map<String, Value>, result: &RunResult) {
    let s = result.latency.summary();
    let r = &result.requests;
    let busiest = bottleneck(result);
    let steady = steadiness(result);
    let window: Vec<f64> = result
        .series
        .points
        .iter()
        .filter(|p| {
            p.start_s + 1e-9 >= result.warmup_s.max(steady.warmup_s.unwrap_or(0.0))
                && p.end_s <= result.duration_s + 1e-9
                && p.completed > 0
        })
        .map(|p| p.latency_mean_ms)
        .collect();
    let bm = batch_means_ci(&window, BATCHES);
    let entries: Vec<(&str, Value)> = vec![
        ("throughput_rps", number(result.throughput_rps())),
        ("latency_mean_ms", number(s.mean_ms)),
        ("latency_p50_ms", number(s.p50_ms)),
        ("latency_p90_ms", number(s.p90_ms)),
        ("latency_p99_ms", number(s.p99_ms)),
        ("latency_p999_ms", number(s.p999_ms)),
        ("latency_max_ms", number(s.max_ms)),
        ("generated", json!(r.generated)),
        ("completed", json!(r.completed)),
        ("dropped", json!(r.dropped)),
        ("timed_out", json!(r.timed_out)),
        ("failed", json!(r.failed)),
        (
            "max_utilization",
            busiest.map_or(Value::Null, |(_, u)| number(u)),
        ),
        (
            "bottleneck",
            busiest.map_or(Value::Null, |(n, _)| Value::from(n)),
        ),
        ("steady", steady.steady.map_or(Value::Null, Value::from)),
        (
            "stopped",
            json!(match result.stop {
                StopReason::Drained => "drained",
                StopReason::EventLimit => "event_limit",
                StopReason::Interrupted => "interrupted",
            }),
        ),
        ("warmup_s", number(result.warmup_s)),
        ("warmup_mser_s", steady.warmup_s.map_or(Value::Null, number)),
        (
            "latency_mean_bm_ci95_low",
            bm.map_or(Value::Null, |c| number(c.low())),
        ),
        (
            "latency_mean_bm_ci95_high",
            bm.map_or(Value::Null, |c| number(c.high())),
        ),
        ("unstable", json!(u8::from(unstable(result)))),
        ("events", json!(result.events)),
    ];
    for (k, v) in entries {
        metrics.insert(k.to_owned(), v);
    }
    for (name, u) in utilizations(result) {
        metrics.insert(format!("utilization:{name}"), number(u));
    }
}

/// The consistency metrics of a run with a replicated store.
fn fill_consistency(metrics: &mut Map<String, Value>, c: &ConsistencyReport) {
    let share = |x: Option<f64>| x.map_or(Value::Null, number);
    let s = &c.sessions;
    let entries: Vec<(&str, Value)> = vec![
        ("store_reads", json!(c.reads)),
        ("store_writes", json!(c.writes)),
        ("stale_reads", json!(c.stale_reads)),
        ("stale_read_rate", number(c.stale_read_rate)),
        ("stale_read_ratio", number(c.stale_read_rate)),
        ("k_staleness_mean", number(c.k_staleness.mean)),
        ("k_staleness_p99", json!(c.k_staleness.p99)),
        ("t_visibility_p50_ms", number(c.t_visibility.p50_ms)),
        ("t_visibility_p99_ms", number(c.t_visibility.p99_ms)),
        ("session_violations", json!(s.total())),
        (
            "read_your_writes_violations",
            json!(s.read_your_writes.violations),
        ),
        (
            "monotonic_reads_violations",
            json!(s.monotonic_reads.violations),
        ),
        (
            "monotonic_writes_violations",
            json!(s.monotonic_writes.violations),
        ),
        (
            "writes_follow_reads_violations",
            json!(s.writes_follow_reads.violations),
        ),
        ("lost_writes", json!(c.lost_writes)),
        ("availability", share(c.availability.overall)),
        (
            "availability_during_faults",
            share(c.availability.during_faults),
        ),
        (
            "availability_outside_faults",
            share(c.availability.outside_faults),
        ),
        (
            "linearizable",
            c.linearizable.map_or(Value::Null, Value::from),
        ),
    ];
    for (k, v) in entries {
        metrics.insert(k.to_owned(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistency_columns_go_before_the_wall_time_once() {
        let mut names = metric_names(&["api".to_owned()]);
        add_consistency_metrics(&mut names, true);
        add_consistency_metrics(&mut names, true);
        assert_eq!(names.last().map(String::as_str), Some("wall_time_s"));
        let stale = names.iter().position(|n| n == "stale_read_rate").unwrap();
        assert!(stale > names.iter().position(|n| n == "utilization:api").unwrap());
        assert_eq!(names.iter().filter(|n| *n == "stale_read_rate").count(), 1);
        assert!(
            !names.iter().any(|n| n == "linearizable"),
            "text metrics have no mean"
        );
        let mut all = metric_names(&[]);
        add_consistency_metrics(&mut all, false);
        assert!(all.iter().any(|n| n == "linearizable"));
        assert_eq!(
            all.len(),
            metric_names(&[]).len() + CONSISTENCY_METRICS.len()
        );
    }

    #[test]
    fn finalize_adds_consistency_columns_only_when_runs_have_them() {
        use crate::output::{Line, finalize};
        let dir = std::env::temp_dir().join(format!("sysdes-sweep-cons-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let metrics = metric_names(&[]);
        let summary: Vec<&String> = metrics
            .iter()
            .filter(|m| !TEXT_METRICS.contains(&m.as_str()))
            .collect();
        let manifest = json!({ "parameters": [], "metrics": metrics, "summary_metrics": summary });
        let line = |i: u64, with: bool| {
            let mut m = Map::new();
            m.insert("wall_time_s".into(), json!(0.1));
            if with {
                m.insert("stale_read_rate".into(), json!(0.25));
                m.insert("linearizable".into(), json!(true));
            }
            let record = json!({ "run_index": i, "point": 0, "replication": i, "seed": i, "params": {}, "metrics": m });
            Line {
                run_index: i,
                text: record.to_string(),
                record,
            }
        };
        finalize(&dir, &manifest, vec![line(0, false)]).unwrap();
        let runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
        assert!(!runs.contains("stale_read_rate"), "{runs}");
        finalize(&dir, &manifest, vec![line(0, true), line(1, true)]).unwrap();
        let runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
        let header = runs.lines().next().unwrap();
        assert!(
            header.contains(",stale_read_rate,") && header.ends_with(",linearizable,wall_time_s"),
            "{header}"
        );
        assert!(runs.lines().nth(1).unwrap().contains(",0.25,"), "{runs}");
        let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
        let header = summary.lines().next().unwrap();
        assert!(
            header.contains("stale_read_rate_mean,stale_read_rate_ci95_low"),
            "{header}"
        );
        assert!(!header.contains("linearizable"), "{header}");
        assert!(
            summary.lines().nth(1).unwrap().contains(",0.25,0.25,0.25,"),
            "{summary}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn consistency_metrics_fill_every_column() {
        use sysdes_kernel::SimTime;
        let t = SimTime::from_nanos;
        let mut tracker = sysdes_stats::ConsistencyTracker::default();
        tracker.write_acked(1, 1, 1, t(0), t(10));
        tracker.read_done(2, 1, 0, t(20), t(30));
        let mut m = Map::new();
        fill_consistency(&mut m, &tracker.finish(|_| 1));
        for name in CONSISTENCY_METRICS {
            assert!(m.contains_key(*name), "{name}");
        }
        assert_eq!(m["stale_read_rate"], json!(1.0));
        assert_eq!(m["availability_during_faults"], Value::Null);
        assert_eq!(m["linearizable"], Value::Null);
    }
}
