//! The human-readable results table.

use std::fmt::Write as _;

use sysdes_models::{Figure, KindFigures, RunResult};
use sysdes_stats::LatencyHistogram;
use sysdes_theory::{Prediction, Unmodelled};

use crate::{RunInfo, verdict};

/// The default output of `sysdes run`: aligned columns with units.
pub fn to_table(result: &RunResult, info: RunInfo) -> String {
    let mut out = String::new();
    let r = &result.requests;
    let _ = writeln!(out, "scenario {}  (seed {})", result.scenario, result.seed);
    let _ = writeln!(
        out,
        "simulated {} s, measured from {} s; {} events in {:.2} s wall ({:.1} M events/s)",
        number(result.duration_s),
        number(result.warmup_s),
        thousands(result.events),
        info.wall_time_s,
        info.events_per_second(result) / 1e6
    );
    let _ = writeln!(
        out,
        "requests: {} generated, {} completed, {} failed, {} timed out, {} dropped, {} in flight",
        thousands(r.generated),
        thousands(r.completed),
        thousands(r.failed),
        thousands(r.timed_out),
        thousands(r.dropped),
        thousands(r.in_flight)
    );
    let _ = writeln!(out, "throughput: {} req/s", number(result.throughput_rps()));
    out.push('\n');

    let window = result.window_s();
    let mut rows = Vec::new();
    // A scenario without requests (a training job alone) has no end to
    // end: an all-zero row would only look like a failed run.
    if r.generated > 0 {
        rows.push(latency_row(
            "end to end",
            "",
            result.throughput_rps(),
            &result.latency,
        ));
    }
    for w in &result.workloads {
        rows.push(latency_row(
            &format!("workload {}", w.name),
            "",
            w.throughput_rps(window),
            &w.latency,
        ));
    }
    // A group's row stands for its replicas (each is in the JSON output).
    for c in result.components.iter().filter(|c| c.replica_of.is_none()) {
        let util = c
            .capacity_utilization()
            .map_or_else(|| "-".into(), |u| format!("{:.1} %", u * 100.0));
        let queue = if c.workers > 0 {
            number(c.mean_queue_length)
        } else {
            "-".into()
        };
        let mut row = latency_row(&c.name, c.kind.name(), c.throughput_rps(window), &c.latency);
        row.splice(2..2, [util, queue]);
        rows.push(row);
    }
    // Scope rows have no utilization or queue columns.
    for row in rows.iter_mut().take(1 + result.workloads.len()) {
        row.splice(2..2, [String::new(), String::new()]);
    }
    let header: Vec<String> = [
        "", "type", "util", "queue", "req/s", "mean ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
        "max ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    render_rows(&mut out, &header, &rows);
    let details: Vec<&sysdes_models::ComponentResult> = result
        .components
        .iter()
        .filter(|c| c.has_figures() && c.replica_of.is_none())
        .collect();
    if !details.is_empty() {
        out.push('\n');
        for c in details {
            let figures: Vec<String> = crate::flatten::flat_figures(c)
                .iter()
                .map(|(k, v)| figure(k, *v))
                .collect();
            let _ = writeln!(out, "{}: {}", c.name, figures.join(", "));
        }
    }
    if r.retries > 0 {
        let _ = writeln!(out, "retries sent: {}", thousands(r.retries));
    }
    if let Some(theory) = info.theory {
        theory_rows(&mut out, result, theory, info.unmodelled);
    }
    // One consistency section per store, each named (cap-cp-vs-ap has two:
    // the run's top-level report is only the first store's).
    let mut stores = 0;
    for c in &result.components {
        if let KindFigures::Store(figures) = &c.figures
            && let Some(report) = &figures.consistency
        {
            out.push('\n');
            crate::consistency::consistency_table(&mut out, &c.name, report);
            stores += 1;
        }
    }
    if stores == 0
        && let Some(c) = &result.consistency
    {
        out.push('\n');
        crate::consistency::consistency_table(&mut out, "the store", c);
    }
    if let Some(c) = info.cost {
        out.push('\n');
        crate::cost::cost_table(&mut out, c);
    }
    crate::targets::targets_table(&mut out, result, info.targets);
    out.push('\n');
    let _ = writeln!(out, "verdict: {}", verdict(result));
    out
}

/// The documented error of the two-moment approximations (Kingman,
/// Allen-Cunneen) for arrival and service SCVs up to 1 at utilization 0.8
/// (docs/estimation.md, checked by `crates/sysdes-theory/tests/against_simulation.rs`).
const APPROXIMATION_BOUND: &str = "within 15 % for SCVs up to 1";

/// The theory-vs-simulation section: for each workload and server with a
/// prediction, simulated and predicted mean and p99 and their difference.
/// `=` marks an exact method, `~` an approximation. Where the scenario
/// breaks the prediction's assumptions the row says why instead of showing
/// a number; the estimate's notes follow the table.
fn theory_rows(
    out: &mut String,
    result: &RunResult,
    theory: &Prediction,
    unmodelled: Option<&Unmodelled>,
) {
    let mut rows = Vec::new();
    let diff = |sim: f64, th: Option<f64>| match th {
        Some(t) if t > 0.0 => format!("{:+.1} %", (sim / t - 1.0) * 100.0),
        _ => "-".to_string(),
    };
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |s| number(s * 1e3));
    let mut push = |name: String,
                    method: Option<&sysdes_theory::Method>,
                    why_not: Option<&str>,
                    sim: &LatencyHistogram,
                    mean: Option<f64>,
                    p99: Option<f64>| {
        let Some(method) = method else { return };
        // "Not estimated": nothing to set beside the simulation.
        if mean.is_none() && p99.is_none() {
            return;
        }
        let s = sim.summary();
        if s.count == 0 {
            return;
        }
        let dash = || "-".to_string();
        rows.push(match why_not {
            Some(reason) => vec![
                name,
                format!("not predicted: {reason}"),
                number(s.mean_ms),
                dash(),
                dash(),
                number(s.p99_ms),
                dash(),
                dash(),
            ],
            None => vec![
                name,
                format!("{} {}", if method.exact { "=" } else { "~" }, method.name),
                number(s.mean_ms),
                ms(mean),
                diff(s.mean_ms, mean.map(|m| m * 1e3)),
                number(s.p99_ms),
                ms(p99),
                diff(s.p99_ms, p99.map(|m| m * 1e3)),
            ],
        });
    };
    let workload_reason = |i: usize| unmodelled.and_then(|u| u.workloads.get(i).copied().flatten());
    let station_reason = |i: usize| unmodelled.and_then(|u| u.stations.get(i).copied().flatten());
    for (i, (w, t)) in result.workloads.iter().zip(&theory.workloads).enumerate() {
        push(
            format!("workload {}", w.name),
            t.method.as_ref(),
            workload_reason(i),
            &w.latency,
            t.mean_s,
            t.p99_s,
        );
    }
    for (i, (c, t)) in result.components.iter().zip(&theory.stations).enumerate() {
        if let Some(t) = t {
            push(
                c.name.clone(),
                t.method.as_ref(),
                station_reason(i),
                &c.latency,
                t.mean_s,
                t.p99_s,
            );
        }
    }
    if !rows.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "theory vs simulation (= exact method, ~ approximation {APPROXIMATION_BOUND}):"
        );
        let header: Vec<String> = [
            "", "method", "mean ms", "theory", "diff", "p99 ms", "theory", "diff",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        render_rows(out, &header, &rows);
    }
    if !theory.notes.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "theory notes (as `sysdes estimate` prints them):");
        for note in &theory.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
}

fn latency_row(name: &str, kind: &str, rps: f64, h: &LatencyHistogram) -> Vec<String> {
    let s = h.summary();
    let mut row = vec![name.to_string(), kind.to_string(), number(rps)];
    row.extend([s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms].map(number));
    row
}

/// Left-aligns the first two columns and right-aligns the rest.
pub(crate) fn render_rows(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(header)
                .chain(rows.iter().map(Vec::as_slice))
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
                // `format!` widths stop at 65,535; a longer cell just overflows its column.
                .min(1024)
        })
        .collect();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i < 2 {
                let _ = write!(line, "{cell:<width$}  ");
            } else {
                let _ = write!(line, "{cell:>width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// A component's kind-specific figure as `label value unit`: counts as
/// integers with separators, ratios as percentages, and the unit that ends
/// the key (`_ms`, `_s`, `_rps`, `_per_s`) after the value, e.g.
/// `boot_time_mean_s` 61.48 as `boot time mean 61.48 s`. A
/// [`Figure::Count`] always prints as an integer, whatever its name says.
fn figure(key: &str, value: Figure) -> String {
    let v = value.as_f64();
    // A key whose words do not read as a label (the JSON key stays; no
    // comma, which separates the figures on a line).
    if key == "no_replica_drops" {
        return format!(
            "dropped (no replica ready) {}",
            thousands(v.max(0.0).round() as u64)
        );
    }
    let mut unit = "";
    let mut words: Vec<&str> = Vec::new();
    let mut tokens = key.split('_').peekable();
    while let Some(t) = tokens.next() {
        match t {
            "ms" => unit = " ms",
            "s" => unit = " s",
            "rps" => unit = " req/s",
            "per" if tokens.peek() == Some(&"s") => {
                tokens.next();
                unit = "/s";
            }
            _ => words.push(t),
        }
    }
    let label = words.join(" ");
    let is = |part: &str| words.iter().any(|w| w.contains(part));
    // `ratio` as a word's end: `operations` and `expirations` are counts.
    let ratio = words.iter().any(|w| w.ends_with("ratio"));
    let value = if ratio || is("availability") || is("utilization") {
        format!("{:.2} %", v * 100.0)
    } else if let Figure::Count(n) = value {
        format!("{}{unit}", thousands(n))
    } else if !unit.is_empty() || is("mean") || is("batch") || v.fract() != 0.0 {
        format!("{}{unit}", number(v))
    } else {
        thousands(v.max(0.0).round() as u64)
    };
    format!("{label} {value}")
}

/// A number with about four significant digits and no exponent.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        format!("{sign}{}", thousands(a.round() as u64))
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.5}")
    }
}

/// An integer with thousands separators: 1,234,567.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(number(46.0517), "46.05");
        assert_eq!(number(2.0), "2.000");
        assert_eq!(number(900.0), "900.0");
        assert_eq!(number(12_345.6), "12,346");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-12_345.6), "-12,346");
    }

    #[test]
    fn figures_carry_their_units_and_counts_are_integers() {
        assert_eq!(figure("scale_ups", Figure::Value(15.0)), "scale ups 15");
        assert_eq!(
            figure("failed_writes", Figure::Value(818.0)),
            "failed writes 818"
        );
        assert_eq!(
            figure("messages_appended", Figure::Value(109_912.0)),
            "messages appended 109,912"
        );
        assert_eq!(
            figure("boot_time_mean_s", Figure::Value(61.48)),
            "boot time mean 61.48 s"
        );
        assert_eq!(
            figure("read_age_p99_ms", Figure::Value(37_313.2)),
            "read age p99 37,313 ms"
        );
        assert_eq!(
            figure("billing.lag_s_max", Figure::Value(0.013)),
            "billing.lag max 0.013 s"
        );
        assert_eq!(
            figure("operations", Figure::Value(42_271.0)),
            "operations 42,271"
        );
        assert_eq!(figure("expirations", Figure::Value(12.0)), "expirations 12");
        assert_eq!(
            figure("hit_ratio", Figure::Value(0.932)),
            "hit ratio 93.20 %"
        );
        assert_eq!(
            figure("no_replica_drops", Figure::Value(1234.0)),
            "dropped (no replica ready) 1,234"
        );
        assert_eq!(
            figure("availability", Figure::Value(1.0)),
            "availability 100.00 %"
        );
        assert_eq!(
            figure("capacity_rps", Figure::Value(2000.0)),
            "capacity 2,000 req/s"
        );
        assert_eq!(
            figure("output_tokens_per_s", Figure::Value(512.0)),
            "output tokens 512.0/s"
        );
        assert_eq!(figure("batches", Figure::Count(313)), "batches 313");
        assert_eq!(figure("billed_ms", Figure::Count(1_234)), "billed 1,234 ms");
        assert_eq!(figure("batches", Figure::Count(12_345)), "batches 12,345");
        assert_eq!(
            figure("replicas_ready_mean", Figure::Value(53.0)),
            "replicas ready mean 53.00"
        );
    }
}
