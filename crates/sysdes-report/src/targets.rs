//! Checking a scenario's `expect:` targets against what the run measured.
//!
//! A target ([`Target`]) names a figure of the run, a workload or a
//! component by its JSON result key; [`evaluate`] reads that figure from
//! the [`RunResult`] and compares it with the threshold. The JSON result
//! gains a `targets` array and the table a `targets` section, but only for
//! a scenario that sets targets, so every other result is unchanged. The
//! CLI exits with status 3 when a target is missed ([`missed`]).
//!
//! A figure that the run did not measure (no request completed, so there
//! is no p99; an optional figure absent from this run) has no value and
//! does not meet its target.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sysdes_models::expect_spec::{FigureUnit, Target, TargetSubject};
use sysdes_models::{ComponentResult, RunResult};
use sysdes_stats::{LatencyHistogram, RequestCounts};

/// One target checked: the figure's value (`None` when the run did not
/// measure it) and whether the target is met.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome<'t> {
    /// The target.
    pub target: &'t Target,
    /// The figure's value in the target's unit, if the run measured it.
    pub value: Option<f64>,
    /// Whether the value compares with the threshold as required.
    pub met: bool,
}

/// Checks every target against `result`, in the file's order.
pub fn evaluate<'t>(result: &RunResult, targets: &'t [Target]) -> Vec<TargetOutcome<'t>> {
    targets
        .iter()
        .map(|target| {
            let value =
                figure_value(result, &target.subject, &target.figure).filter(|v| v.is_finite());
            TargetOutcome {
                target,
                value,
                met: value.is_some_and(|v| target.comparison.holds(v, target.threshold)),
            }
        })
        .collect()
}

/// How many of `targets` the run missed (0 when there are none).
pub fn missed(result: &RunResult, targets: &[Target]) -> usize {
    evaluate(result, targets).iter().filter(|o| !o.met).count()
}

/// The value of figure `figure` of `subject` in `result`, in the figure's
/// unit, as the JSON result reports it.
pub fn figure_value(result: &RunResult, subject: &TargetSubject, figure: &str) -> Option<f64> {
    let window = result.window_s();
    match subject {
        TargetSubject::Run => latency(&result.latency, figure)
            .or_else(|| requests(&result.requests, figure))
            .or(match figure {
                "throughput_rps" => Some(result.throughput_rps()),
                "peak_in_flight" => Some(result.peak_in_flight as f64),
                _ => None,
            }),
        TargetSubject::Workload(name) => {
            let w = result.workloads.iter().find(|w| &w.name == name)?;
            latency(&w.latency, figure)
                .or_else(|| requests(&w.requests, figure))
                .or(match figure {
                    "throughput_rps" => Some(w.throughput_rps(window)),
                    "offered_rps" => w.offered_rps,
                    "users" => Some(f64::from(w.users)),
                    _ => None,
                })
        }
        TargetSubject::Component(name) => {
            let c = result.components.iter().find(|c| &c.name == name)?;
            latency(&c.latency, figure)
                .or_else(|| station(c, window, figure))
                .or_else(|| c.figure(figure))
        }
    }
}

/// A figure every component reports (`STATION_FIGURES`).
fn station(c: &ComponentResult, window: f64, figure: &str) -> Option<f64> {
    Some(match figure {
        "utilization" => c.utilization,
        "mean_queue_length" => c.mean_queue_length,
        "throughput_rps" => c.throughput_rps(window),
        "workers" => f64::from(c.workers),
        "arrivals" => c.arrivals as f64,
        "completions" => c.completions as f64,
        "drops" => c.drops as f64,
        "mean_in_system" => c.mean_in_system,
        "peak_queue_length" => c.peak_queue_length as f64,
        "offered_load" => return c.offered_load,
        _ => return None,
    })
}

/// A latency figure in ms (`LATENCY_FIGURES`); none when nothing was
/// measured, except the count.
fn latency(h: &LatencyHistogram, figure: &str) -> Option<f64> {
    let s = h.summary();
    if figure == "count" {
        return Some(s.count as f64);
    }
    let value = match figure {
        "mean" => s.mean_ms,
        "p50" => s.p50_ms,
        "p90" => s.p90_ms,
        "p99" => s.p99_ms,
        "p999" => s.p999_ms,
        "max" => s.max_ms,
        _ => return None,
    };
    (s.count > 0).then_some(value)
}

/// A request count (`REQUEST_FIGURES`).
fn requests(r: &RequestCounts, figure: &str) -> Option<f64> {
    Some(match figure {
        "generated" => r.generated,
        "completed" => r.completed,
        "failed" => r.failed,
        "timed_out" => r.timed_out,
        "dropped" => r.dropped,
        "in_flight" => r.in_flight,
        "retries" => r.retries,
        _ => return None,
    } as f64)
}

/// The `targets` array of the JSON result.
pub(crate) fn targets_json(result: &RunResult, targets: &[Target]) -> Value {
    Value::Array(
        evaluate(result, targets)
            .iter()
            .map(|o| {
                let t = o.target;
                json!({
                    "target": t.text,
                    "scope": t.subject.scope(),
                    "subject": t.subject.name(),
                    "figure": t.figure,
                    "op": t.comparison.symbol(),
                    "threshold": t.threshold,
                    "unit": t.unit.symbol(),
                    "value": o.value,
                    "met": o.met,
                })
            })
            .collect(),
    )
}

/// The table's `targets` section: a count, then one line per target.
pub(crate) fn targets_table(out: &mut String, result: &RunResult, targets: &[Target]) {
    if targets.is_empty() {
        return;
    }
    let outcomes = evaluate(result, targets);
    let met = outcomes.iter().filter(|o| o.met).count();
    out.push('\n');
    let _ = writeln!(out, "targets: {met} of {} met", outcomes.len());
    let width = outcomes
        .iter()
        .map(|o| o.target.text.chars().count())
        .max()
        .unwrap_or(0);
    for o in &outcomes {
        let value = match o.value {
            Some(v) => format_value(v, o.target.unit),
            None => "not measured".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:<6}  {:<width$}  {value}",
            if o.met { "met" } else { "MISSED" },
            o.target.text,
        );
    }
}

/// A value with its unit, to four significant figures or so.
fn format_value(v: f64, unit: FigureUnit) -> String {
    let number = if unit == FigureUnit::Ratio {
        format!("{v:.4}")
    } else if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    match unit {
        FigureUnit::Milliseconds => format!("{number} ms"),
        FigureUnit::Seconds => format!("{number} s"),
        FigureUnit::PerSecond => format!("{number}/s"),
        FigureUnit::Ratio => format!("{number} ({:.2} %)", v * 100.0),
        FigureUnit::Plain => number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_models::expect_spec::{
        Comparison, LATENCY_FIGURES, REQUEST_FIGURES, RUN_FIGURES, STATION_FIGURES,
        WORKLOAD_FIGURES,
    };
    use sysdes_models::{CacheFigures, ComponentType, KindFigures, WorkloadResult};

    fn result() -> RunResult {
        let mut latency = LatencyHistogram::default();
        for ms in 1..=100u64 {
            latency.record(sysdes_kernel::SimDuration::from_nanos(ms * 1_000_000));
        }
        let requests = RequestCounts {
            generated: 100,
            completed: 100,
            ..RequestCounts::default()
        };
        RunResult {
            scenario: "t".into(),
            seed: 1,
            duration_s: 11.0,
            warmup_s: 1.0,
            end_s: 11.0,
            events: 0,
            stop: sysdes_models::StopReason::Drained,
            peak_in_flight: 3,
            latency: latency.clone(),
            requests,
            workloads: vec![WorkloadResult {
                name: "users".into(),
                latency: latency.clone(),
                requests,
                offered_rps: Some(10.0),
                users: 0,
            }],
            components: vec![ComponentResult {
                name: "cache".into(),
                kind: ComponentType::Cache,
                workers: 0,
                arrivals: 100,
                completions: 100,
                drops: 0,
                utilization: 0.25,
                mean_queue_length: 0.0,
                mean_in_system: 0.0,
                peak_queue_length: 0,
                latency,
                offered_load: Some(0.5),
                figures: KindFigures::Cache(CacheFigures {
                    hit_ratio: 0.8,
                    ..CacheFigures::default()
                }),
                lost_in_crash: None,
                scaling: None,
                replica_of: None,
            }],
            series: sysdes_models::Series::default(),
            consistency: None,
            faults: Vec::new(),
            lifetimes: Default::default(),
            hot_loop: None,
            shortcuts: Default::default(),
        }
    }

    fn target(subject: TargetSubject, figure: &str, comparison: Comparison, t: f64) -> Target {
        Target {
            subject,
            figure: figure.into(),
            comparison,
            threshold: t,
            unit: FigureUnit::of(figure),
            text: format!("{figure} {} {t}", comparison.symbol()),
        }
    }

    /// Every figure name the loader accepts for a subject has a value here,
    /// so the two lists cannot drift apart.
    #[test]
    fn every_named_figure_has_a_value() {
        let r = result();
        let users = TargetSubject::Workload("users".into());
        let cache = TargetSubject::Component("cache".into());
        for f in LATENCY_FIGURES
            .iter()
            .chain(REQUEST_FIGURES)
            .chain(RUN_FIGURES)
        {
            assert!(
                figure_value(&r, &TargetSubject::Run, f).is_some(),
                "run {f}"
            );
        }
        for f in LATENCY_FIGURES
            .iter()
            .chain(REQUEST_FIGURES)
            .chain(WORKLOAD_FIGURES)
        {
            assert!(figure_value(&r, &users, f).is_some(), "workload {f}");
        }
        for f in LATENCY_FIGURES.iter().chain(STATION_FIGURES) {
            assert!(figure_value(&r, &cache, f).is_some(), "component {f}");
        }
        assert_eq!(figure_value(&r, &cache, "hit_ratio"), Some(0.8));
        assert_eq!(figure_value(&r, &cache, "no_such"), None);
        assert_eq!(
            figure_value(&r, &TargetSubject::Component("x".into()), "p99"),
            None
        );
    }

    #[test]
    fn met_and_missed_as_the_comparison_says() {
        let r = result();
        let users = TargetSubject::Workload("users".into());
        let p99 = figure_value(&r, &users, "p99").expect("p99");
        // The histogram's p99 of 1..=100 ms is 99 ms (3 significant digits).
        assert!((p99 - 99.0).abs() < 0.1, "{p99}");
        let targets = vec![
            target(users.clone(), "p99", Comparison::Less, 100.0),
            target(users.clone(), "p99", Comparison::Less, 50.0),
            target(
                TargetSubject::Component("cache".into()),
                "hit_ratio",
                Comparison::GreaterOrEqual,
                0.8,
            ),
            target(
                TargetSubject::Run,
                "throughput_rps",
                Comparison::GreaterOrEqual,
                10.0,
            ),
            target(TargetSubject::Run, "dropped", Comparison::Equal, 0.0),
        ];
        let met: Vec<bool> = evaluate(&r, &targets).iter().map(|o| o.met).collect();
        assert_eq!(met, [true, false, true, true, true]);
        assert_eq!(missed(&r, &targets), 1);
        let json = targets_json(&r, &targets);
        assert_eq!(json[1]["met"], json!(false));
        assert_eq!(json[1]["scope"], json!("workload"));
        assert_eq!(json[1]["subject"], json!("users"));
        assert_eq!(json[3]["subject"], Value::Null);
        let mut table = String::new();
        targets_table(&mut table, &r, &targets);
        assert!(table.contains("targets: 4 of 5 met"), "{table}");
        assert!(table.contains("MISSED  p99 < 50"), "{table}");
        assert!(
            table.contains("met     hit_ratio >= 0.8      0.8000 (80.00 %)"),
            "{table}"
        );
    }

    #[test]
    fn an_unmeasured_figure_meets_no_target() {
        let mut r = result();
        r.workloads[0].latency = LatencyHistogram::default();
        let users = TargetSubject::Workload("users".into());
        let targets = vec![target(users, "p99", Comparison::Less, 100.0)];
        let outcomes = evaluate(&r, &targets);
        assert_eq!(outcomes[0].value, None);
        assert!(!outcomes[0].met);
        let mut table = String::new();
        targets_table(&mut table, &r, &targets);
        assert!(table.contains("not measured"), "{table}");
    }
}
