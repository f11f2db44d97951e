//! Rendering `sysdes estimate`: predictions without simulation.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sysdes_theory::{Method, Prediction};

use crate::table::{number, render_rows};

fn ms(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |s| number(s * 1e3))
}

/// The method column. No method means overloaded only where some station
/// is at or over 100 %; otherwise the figure is simply not predicted (a
/// kind or a path the estimate does not follow).
fn method(m: Option<&Method>, overloaded: bool) -> String {
    let none = if overloaded {
        "overloaded"
    } else {
        "not predicted"
    };
    m.map_or(none.to_string(), |m| {
        if m.name.starts_with("not predicted") {
            // Neither exact nor approximate: there is no figure.
            m.name.clone()
        } else {
            format!("{} {}", if m.exact { "=" } else { "~" }, m.name)
        }
    })
}

/// A utilization as a percentage; `-` where it has no finite value (a time
/// per request with no finite mean).
fn percent(u: f64) -> String {
    if u.is_finite() {
        format!("{:.1} %", u * 100.0)
    } else {
        "-".to_string()
    }
}

/// The estimate as an aligned table, with the arithmetic if `explain`.
pub fn estimate_table(scenario: &str, p: &Prediction, explain: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "estimate for {scenario} (no simulation; = exact method, ~ approximation)\n"
    );
    if explain {
        let _ = writeln!(out, "how:");
        for step in &p.steps {
            let _ = writeln!(out, "  {step}");
        }
        out.push('\n');
    }
    let header: Vec<String> = [
        "server", "method", "req/s", "util", "mean ms", "p99 ms", "blocking",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = p
        .stations
        .iter()
        .flatten()
        .map(|s| {
            vec![
                s.name.clone(),
                method(
                    s.method.as_ref(),
                    s.utilization >= 1.0 || s.utilization.is_nan(),
                ),
                number(s.arrival_rps),
                percent(s.utilization),
                ms(s.mean_s),
                ms(s.p99_s),
                s.blocking
                    .map_or("-".into(), |b| format!("{:.4} %", b * 100.0)),
            ]
        })
        .collect();
    render_rows(&mut out, &header, &rows);
    out.push('\n');
    let header: Vec<String> = ["workload", "method", "req/s", "mean ms", "p99 ms"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let any_overloaded = p
        .stations
        .iter()
        .flatten()
        .any(|s| s.utilization >= 1.0 || s.utilization.is_nan());
    let rows: Vec<Vec<String>> = p
        .workloads
        .iter()
        .map(|w| {
            vec![
                w.name.clone(),
                method(w.method.as_ref(), any_overloaded),
                number(w.throughput_rps),
                ms(w.mean_s),
                ms(w.p99_s),
            ]
        })
        .collect();
    render_rows(&mut out, &header, &rows);
    out.push('\n');
    let c = &p.capacity;
    if let Some((name, u)) = &c.bottleneck {
        let _ = writeln!(out, "bottleneck: {name} at {:.1} % utilization", u * 100.0);
    }
    if let Some(s) = p.stations.iter().flatten().find(|s| s.utilization.is_nan()) {
        let _ = writeln!(
            out,
            "capacity: not predicted (no finite mean): `{}` has no finite mean time per request",
            s.name
        );
    }
    if let Some(max) = c.max_open_rps {
        let _ = writeln!(
            out,
            "maximum sustainable open-loop rate: {} req/s (the bottleneck reaches 100 %)",
            number(max)
        );
    }
    if let Some(rate) = c.slo_open_rps {
        let _ = writeln!(
            out,
            "highest open-loop rate meeting the SLO end to end: {} req/s",
            number(rate)
        );
    } else if let Some(note) = &c.slo_note {
        let _ = writeln!(
            out,
            "highest open-loop rate meeting the SLO end to end: none: {note}"
        );
    }
    for (name, rate) in &c.slo_station_rps {
        let _ = match rate {
            Some(rate) => writeln!(
                out,
                "  {name}: meets the SLO on its own up to {} req/s",
                number(*rate)
            ),
            None => writeln!(
                out,
                "  {name}: meets the SLO at no rate the estimate can predict"
            ),
        };
    }
    if !c.workers_for_target.is_empty() {
        let _ = writeln!(
            out,
            "sizing for the target rate (at most 80 % utilization, and the SLO if given):"
        );
        for w in &c.workers_for_target {
            let _ = writeln!(
                out,
                "  {}: {} req/s, {:.1} % utilization with today's workers; needs {} worker(s) or replicas{}",
                w.name,
                number(w.arrival_rps),
                w.utilization * 100.0,
                w.workers,
                if w.meets_slo {
                    ""
                } else {
                    " (the SLO is out of reach here: its service time alone exceeds it)"
                }
            );
        }
    }
    for note in &p.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The estimate as one JSON document.
pub fn estimate_json(scenario: &str, p: &Prediction) -> Value {
    let m = |m: Option<&Method>| json!({ "name": m.map(|m| m.name.clone()), "exact": m.is_some_and(|m| m.exact) });
    let ms = |v: Option<f64>| v.map(|s| s * 1e3);
    json!({
        "scenario": scenario,
        "components": p.stations.iter().flatten().map(|s| (s.name.clone(), json!({
            "method": m(s.method.as_ref()),
            "arrival_rps": s.arrival_rps,
            "arrival_scv": s.arrival_scv,
            "service_ms": s.service_s * 1e3,
            "service_scv": s.service_scv,
            "workers": s.workers,
            "utilization": s.utilization,
            "mean_ms": ms(s.mean_s),
            "p99_ms": ms(s.p99_s),
            "blocking": s.blocking,
        }))).collect::<serde_json::Map<String, Value>>(),
        "workloads": p.workloads.iter().map(|w| (w.name.clone(), json!({
            "method": m(w.method.as_ref()),
            "throughput_rps": w.throughput_rps,
            "mean_ms": ms(w.mean_s),
            "p99_ms": ms(w.p99_s),
        }))).collect::<serde_json::Map<String, Value>>(),
        "capacity": {
            "bottleneck": p.capacity.bottleneck.as_ref().map(|(n, u)| json!({ "component": n, "utilization": u })),
            "max_open_rps": p.capacity.max_open_rps,
            "slo_open_rps": p.capacity.slo_open_rps,
            "slo_note": p.capacity.slo_note,
            "slo_component_rps": p.capacity.slo_station_rps.iter().map(|(n, r)| (n.clone(), json!(r))).collect::<serde_json::Map<String, Value>>(),
            "workers_for_target": p.capacity.workers_for_target.iter().map(|w| (w.name.clone(), json!({
                "arrival_rps": w.arrival_rps, "utilization": w.utilization, "workers": w.workers, "meets_slo": w.meets_slo,
            }))).collect::<serde_json::Map<String, Value>>(),
        },
        "steps": p.steps,
        "notes": p.notes,
    })
}
