//! Tidy CSV: one row per scope (system, workload, component).

use std::fmt::Write as _;

use sysdes_models::RunResult;
use sysdes_stats::{LatencyHistogram, RequestCounts};

const HEADER: &str = "scope,name,type,generated,completed,failed,timed_out,dropped,throughput_rps,utilization,mean_queue_length,latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p999_ms,latency_max_ms";

/// The result as CSV with a header row; columns that do not apply to a row
/// are empty. After the fixed columns come the components' kind-specific
/// figures (hit ratio, TTFT, consumer lag, ...), one column per JSON key
/// ([`crate::flatten::figure_columns`]), filled on the rows of the
/// components that report them.
pub fn to_csv(result: &RunResult) -> String {
    let window = result.window_s();
    let columns = crate::flatten::figure_columns(result);
    let mut out = String::from(HEADER);
    for column in &columns {
        out.push(',');
        out.push_str(&quote(column));
    }
    out.push('\n');
    let blank = ",".repeat(columns.len());
    row(
        &mut out,
        "system",
        &result.scenario,
        "",
        Some(&result.requests),
        result.throughput_rps(),
        None,
        &result.latency,
    );
    out.push_str(&blank);
    out.push('\n');
    for w in &result.workloads {
        row(
            &mut out,
            "workload",
            &w.name,
            "",
            Some(&w.requests),
            w.throughput_rps(window),
            None,
            &w.latency,
        );
        out.push_str(&blank);
        out.push('\n');
    }
    for c in &result.components {
        let station = c.capacity_utilization().map(|u| (u, c.mean_queue_length));
        row(
            &mut out,
            "component",
            &c.name,
            c.kind.name(),
            None,
            c.throughput_rps(window),
            station,
            &c.latency,
        );
        let mut cells = vec![String::new(); columns.len()];
        for (key, value) in crate::flatten::flat_figures(c) {
            if let Some(at) = columns.iter().position(|k| *k == key) {
                cells[at] = crate::flatten::figure_cell(value);
            }
        }
        for cell in cells {
            out.push(',');
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn row(
    out: &mut String,
    scope: &str,
    name: &str,
    kind: &str,
    requests: Option<&RequestCounts>,
    rps: f64,
    station: Option<(f64, f64)>,
    latency: &LatencyHistogram,
) {
    let _ = write!(out, "{scope},{},{kind},", quote(name));
    match requests {
        Some(r) => {
            let _ = write!(
                out,
                "{},{},{},{},{},",
                r.generated, r.completed, r.failed, r.timed_out, r.dropped
            );
        }
        None => out.push_str(",,,,,"),
    }
    let _ = write!(out, "{rps},");
    match station {
        Some((u, q)) => {
            let _ = write!(out, "{u},{q},");
        }
        None => out.push_str(",,"),
    }
    let s = latency.summary();
    let _ = write!(
        out,
        "{},{},{},{},{},{}",
        s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms
    );
}

/// The per-workload columns of `series.csv`, each prefixed `WORKLOAD.`, in
/// the order [`series_csv`] writes a workload's figures.
const WORKLOAD_COLUMNS: [&str; 4] = [
    "completed",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p99_ms",
];

/// The run's time series: one row per interval of simulated time.
pub fn series_csv(result: &RunResult) -> String {
    let mut out = String::from(
        "start_s,end_s,completed,throughput_rps,dropped,timed_out,latency_mean_ms,latency_p50_ms,latency_p99_ms,in_flight,failed",
    );
    for name in &result.series.gauge_names {
        out.push(',');
        out.push_str(&quote(name));
    }
    // With faults, a last column names those active in the interval.
    if !result.faults.is_empty() {
        out.push_str(",fault");
    }
    // With several workloads, each one's completions and latency follow
    // (appended last, so no earlier column moves).
    for name in &result.series.workload_names {
        for column in WORKLOAD_COLUMNS {
            out.push(',');
            out.push_str(&quote(&format!("{name}.{column}")));
        }
    }
    out.push('\n');
    for p in &result.series.points {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            p.start_s,
            p.end_s,
            p.completed,
            p.throughput_rps(),
            p.dropped,
            p.timed_out,
            p.latency_mean_ms,
            p.latency_p50_ms,
            p.latency_p99_ms,
            p.in_flight,
            p.failed
        );
        for g in &p.gauges {
            let _ = write!(out, ",{g}");
        }
        if !result.faults.is_empty() {
            out.push(',');
            let active: Vec<&str> = result
                .faults
                .iter()
                .filter(|f| f.overlaps(p.start_s, p.end_s))
                .map(|f| f.kind)
                .collect();
            out.push_str(&active.join("+"));
        }
        for w in &p.workloads {
            let _ = write!(
                out,
                ",{},{},{},{}",
                w.completed, w.latency_mean_ms, w.latency_p50_ms, w.latency_p99_ms
            );
        }
        out.push('\n');
    }
    out
}

/// The end-to-end latency CDF of counted requests: `latency_ms,fraction`.
pub fn latency_cdf_csv(result: &RunResult) -> String {
    let mut out = String::from("latency_ms,fraction\n");
    for (ms, fraction) in result.latency.cdf_ms() {
        let _ = writeln!(out, "{ms},{fraction}");
    }
    out
}

/// Quotes a field if it holds a comma, quote or newline (RFC 4180).
pub(crate) fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting_follows_rfc_4180() {
        assert_eq!(super::quote("plain"), "plain");
        assert_eq!(super::quote("a,b"), "\"a,b\"");
        assert_eq!(super::quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
