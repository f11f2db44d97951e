//! What `sysdes estimate` adds when the scenario declares costs: the price
//! per hour of the instances it has, and of those the sizing asks for at
//! `--target-rate` (see docs/cost.md).

use std::fmt::Write as _;

use serde_json::{Value, json};
use sysdes_cost::CostSpec;
use sysdes_models::{ComponentKind, ModelSpec, ReplicaMembers};
use sysdes_theory::Prediction;

/// One priced component: instances now and, where the sizing says,
/// instances needed at the target rate.
struct Line {
    name: String,
    instances: u32,
    per_instance_usd_h: f64,
    needed: Option<u32>,
}

/// Instances a component runs at the start, and workers per instance.
fn shape(spec: &ModelSpec, kind: &ComponentKind) -> (u32, u32) {
    match kind {
        ComponentKind::Server(s) => (1, s.workers),
        ComponentKind::ReplicaGroup(g) => {
            let per = match &g.members {
                ReplicaMembers::Stations(server) => server.workers,
                ReplicaMembers::Components(ids) => ids
                    .first()
                    .and_then(|m| spec.components.get(m.index()))
                    .map_or(1, |c| shape(spec, &c.kind).1),
            };
            (g.replicas, per)
        }
        ComponentKind::ModelServer(m) => (1, m.slots),
        ComponentKind::LlmServer(m) => (1, m.slots),
        _ => (1, 1),
    }
}

fn lines(spec: &ModelSpec, cost: &CostSpec, p: &Prediction) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, c) in cost.components.iter().enumerate() {
        let (Some(c), Some(component)) = (c, spec.components.get(i)) else {
            continue;
        };
        let (instances, workers) = shape(spec, &component.kind);
        let needed = p
            .capacity
            .workers_for_target
            .iter()
            .find(|w| w.name == component.name)
            .map(|w| w.workers.div_ceil(workers.max(1)));
        out.push(Line {
            name: component.name.clone(),
            instances,
            per_instance_usd_h: c.per_hour * f64::from(c.units),
            needed,
        });
    }
    for (i, c) in cost.hosts.iter().enumerate() {
        let (Some(c), Some(pool)) = (c, spec.hosts.get(i)) else {
            continue;
        };
        out.push(Line {
            name: format!("hosts.{}", pool.name),
            instances: pool.count,
            per_instance_usd_h: c.per_hour,
            needed: None,
        });
    }
    out
}

/// The table's cost lines (empty when no cost is declared).
pub(crate) fn cost_table(spec: &ModelSpec, cost: &CostSpec, p: &Prediction) -> String {
    let mut out = String::new();
    if cost.is_empty() {
        return out;
    }
    let lines = lines(spec, cost, p);
    let _ = writeln!(out, "\ncost per hour (instances x price):");
    let (mut now, mut target, mut any_target) = (0.0, 0.0, false);
    for l in &lines {
        let usd = f64::from(l.instances) * l.per_instance_usd_h;
        now += usd;
        let sized = match l.needed {
            Some(n) => {
                any_target = true;
                let t = f64::from(n) * l.per_instance_usd_h;
                target += t;
                format!("; {n} for the target rate: {t:.4} USD/h")
            }
            None => {
                target += usd;
                String::new()
            }
        };
        let _ = writeln!(
            out,
            "  {}: {} instance(s) x {:.4} USD/h = {usd:.4} USD/h{sized}",
            l.name, l.instances, l.per_instance_usd_h
        );
    }
    let _ = write!(out, "  total: {now:.4} USD/h");
    if any_target {
        let _ = write!(out, "; at the target rate {target:.4} USD/h");
    }
    out.push('\n');
    out
}

/// The JSON `cost` object (`None` when no cost is declared).
pub(crate) fn cost_json(spec: &ModelSpec, cost: &CostSpec, p: &Prediction) -> Option<Value> {
    if cost.is_empty() {
        return None;
    }
    let lines = lines(spec, cost, p);
    let now: f64 = lines
        .iter()
        .map(|l| f64::from(l.instances) * l.per_instance_usd_h)
        .sum();
    let target: Option<f64> = lines.iter().any(|l| l.needed.is_some()).then(|| {
        lines
            .iter()
            .map(|l| f64::from(l.needed.unwrap_or(l.instances)) * l.per_instance_usd_h)
            .sum()
    });
    let by: serde_json::Map<String, Value> = lines
        .iter()
        .map(|l| {
            (
                l.name.clone(),
                json!({
                    "instances": l.instances,
                    "per_instance_usd_h": l.per_instance_usd_h,
                    "per_hour_usd": f64::from(l.instances) * l.per_instance_usd_h,
                    "instances_for_target": l.needed,
                }),
            )
        })
        .collect();
    Some(json!({
        "per_hour_usd": now,
        "per_hour_usd_at_target": target,
        "by_component": by,
    }))
}
