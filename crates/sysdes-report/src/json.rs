//! The JSON result document.

use serde_json::{Value, json};
use sysdes_models::{RunResult, StopReason};
use sysdes_stats::{LatencyHistogram, RequestCounts};

use crate::{RunInfo, verdict};

/// The JSON result of one run: every key of the contract, plus extras.
pub fn to_json(result: &RunResult, info: RunInfo) -> Value {
    let window = result.window_s();
    let workloads: serde_json::Map<String, Value> = result
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let why_not = info.unmodelled.and_then(|u| u.workloads.get(i).copied().flatten());
            (
                w.name.clone(),
                json!({
                    "requests": requests(&w.requests),
                    "throughput_rps": w.throughput_rps(window),
                    "latency_ms": latency(&w.latency),
                    "offered_rps": w.offered_rps,
                    "users": w.users,
                    "theory": info.theory.and_then(|t| t.workloads.iter().find(|p| p.name == w.name)).map(|p| {
                        theory(p.method.as_ref(), why_not, p.mean_s, p.p99_s, &w.latency, None)
                    }),
                }),
            )
        })
        .collect();
    let components: serde_json::Map<String, Value> = result
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let why_not = info.unmodelled.and_then(|u| u.stations.get(i).copied().flatten());
            let mut object = json!({
                    "type": c.kind.name(),
                    // `null` where the component has no capacity to
                    // divide by (a cache without workers): not "0 % busy".
                    "utilization": c.capacity_utilization(),
                    "mean_queue_length": c.mean_queue_length,
                    "throughput_rps": c.throughput_rps(window),
                    "latency_ms": latency(&c.latency),
                    "workers": c.workers,
                    "arrivals": c.arrivals,
                    "completions": c.completions,
                    "drops": c.drops,
                    "mean_in_system": c.mean_in_system,
                    "peak_queue_length": c.peak_queue_length,
                    "offered_load": c.offered_load,
                    "theory": info.theory.and_then(|t| t.stations.iter().flatten().find(|p| p.name == c.name)).map(|p| {
                        theory(p.method.as_ref(), why_not, p.mean_s, p.p99_s, &c.latency, Some(p.utilization))
                    }),
                });
            if let Value::Object(map) = &mut object {
                crate::flatten::json_figures(c, map);
                if let Some(group) = &c.replica_of {
                    map.insert("replica_of".into(), json!(group));
                }
                if let Some(cost) = info.cost.and_then(|k| k.component(&c.name)) {
                    map.insert("cost_usd".into(), json!(cost.total_usd));
                }
            }
            (c.name.clone(), object)
        })
        .collect();
    let mut doc = json!({
        "scenario": result.scenario,
        "seed": result.seed,
        "sim_time_s": result.duration_s,
        "wall_time_s": info.wall_time_s,
        "events": result.events,
        "requests": requests(&result.requests),
        "throughput_rps": result.throughput_rps(),
        "latency_ms": latency(&result.latency),
        "workloads": workloads,
        "components": components,
        "warmup_s": result.warmup_s,
        "drained_at_s": result.end_s,
        "peak_in_flight": result.peak_in_flight,
        "stopped": match result.stop {
            StopReason::Drained => "drained",
            StopReason::EventLimit => "event_limit",
            StopReason::Interrupted => "interrupted",
        },
        "verdict": verdict(result),
        "faults": result.faults.iter().map(|f| json!({
            "kind": f.kind,
            "target": f.target,
            "start_s": f.start_s,
            "end_s": f.end_s,
        })).collect::<Vec<_>>(),
    });
    if let Some(c) = &result.consistency {
        doc["consistency"] = crate::consistency::consistency_json(c);
    }
    if let Some(c) = info.cost {
        doc["cost"] = crate::cost::cost_json(c);
    }
    if !info.targets.is_empty() {
        doc["targets"] = crate::targets::targets_json(result, info.targets);
    }
    doc
}

/// A `theory` object: the method, whether it is exact, the predicted mean
/// and p99 (ms) and their relative difference from the simulated figures.
///
/// Where the prediction's assumptions fail (`why_not`, the reason the
/// table prints as `not predicted: REASON`), the object carries
/// `not_predicted` and the method instead, and no predicted figure: a
/// number far outside its assumptions would mislead a script as much as a
/// reader.
fn theory(
    method: Option<&sysdes_theory::Method>,
    why_not: Option<&str>,
    mean_s: Option<f64>,
    p99_s: Option<f64>,
    simulated: &LatencyHistogram,
    utilization: Option<f64>,
) -> Value {
    if let Some(reason) = why_not {
        return json!({
            "method": method.map(|m| m.name.clone()),
            "not_predicted": reason,
        });
    }
    let s = simulated.summary();
    let diff = |sim: f64, th: Option<f64>| {
        th.filter(|t| *t > 0.0 && s.count > 0)
            .map(|t| sim / (t * 1e3) - 1.0)
    };
    json!({
        "method": method.map(|m| m.name.clone()),
        "exact": method.is_some_and(|m| m.exact),
        "utilization": utilization,
        "mean_ms": mean_s.map(|m| m * 1e3),
        "p99_ms": p99_s.map(|m| m * 1e3),
        "mean_diff": diff(s.mean_ms, mean_s),
        "p99_diff": diff(s.p99_ms, p99_s),
    })
}

fn requests(c: &RequestCounts) -> Value {
    let mut v = json!({
        "generated": c.generated,
        "completed": c.completed,
        "failed": c.failed,
        "timed_out": c.timed_out,
        "dropped": c.dropped,
        "in_flight": c.in_flight,
        "retries": c.retries,
    });
    // Only where some server reneges, so other results keep their keys.
    if c.abandoned > 0 {
        v["abandoned"] = json!(c.abandoned);
    }
    v
}

fn latency(h: &LatencyHistogram) -> Value {
    let s = h.summary();
    json!({
        "mean": s.mean_ms,
        "p50": s.p50_ms,
        "p90": s.p90_ms,
        "p99": s.p99_ms,
        "p999": s.p999_ms,
        "max": s.max_ms,
        "count": s.count,
    })
}
