//! Back-of-envelope load figures computed from a spec, without simulating.

use crate::spec::{ComponentKind, Flow, ModelSpec};

/// The long-run arrival rate (requests per second) that open workloads offer
/// each component, following load balancers' even splits.
///
/// Closed workloads are left out: their rate depends on the response time.
/// Consistent hashing is treated as an even split, which it is on average
/// over keys. A cache passes on only its misses, which depend on the run, so
/// nothing is propagated through it. The topology is acyclic (the loader checks), so propagation in
/// file order repeated `components.len()` times reaches a fixed point.
pub fn offered_rates(spec: &ModelSpec) -> Vec<f64> {
    let n = spec.components.len();
    let mut external = vec![0.0; n];
    for w in &spec.workloads {
        if let (Some(rate), Some(slot)) = (
            w.arrival.open_rate_per_second(),
            external.get_mut(w.target.index()),
        ) {
            *slot += rate;
        }
    }
    let mut rates = external.clone();
    for _ in 0..n {
        let mut next = external.clone();
        for (i, c) in spec.components.iter().enumerate() {
            // A balancer or group splits evenly (a group judged at its
            // largest size, like a deployment; consistent hashing is even on
            // average over keys). Every message a queue accepts reaches its
            // consumer (an upper bound when it drops); every stream group
            // sees every message. A cache forwards only its misses and
            // writes, which depend on the run: its backend's rate is left
            // unknown (see `behind_a_cache`). Server calls are not followed.
            c.kind.downstream(|to, flow| {
                let share = match flow {
                    Flow::Split { n } => rates[i] / n.max(1) as f64,
                    Flow::Every => rates[i],
                    Flow::Misses | Flow::Call { .. } => return,
                };
                if let Some(slot) = next.get_mut(to.index()) {
                    *slot += share;
                }
            });
        }
        if next == rates {
            break;
        }
        rates = next;
    }
    rates
}

/// Which components receive traffic through a cache (directly or through
/// balancers): their offered load depends on the cache's hit ratio.
fn behind_a_cache(spec: &ModelSpec) -> Vec<bool> {
    let n = spec.components.len();
    let mut behind = vec![false; n];
    for _ in 0..n {
        let mut changed = false;
        for (i, c) in spec.components.iter().enumerate() {
            let from_behind = behind[i];
            c.kind.downstream(|to, flow| {
                let passes = match flow {
                    Flow::Misses => true,
                    Flow::Split { .. } => from_behind,
                    Flow::Every | Flow::Call { .. } => false,
                };
                if let Some(slot) = behind.get_mut(to.index()).filter(|_| passes) {
                    changed |= !*slot;
                    *slot = true;
                }
            });
        }
        if !changed {
            break;
        }
    }
    behind
}

/// Offered load of each server (arrival rate x mean service time / workers),
/// `None` for components that are not servers and for servers behind a
/// cache (their load depends on its hit ratio). Above 1 the queue grows
/// without bound.
pub fn offered_loads(spec: &ModelSpec) -> Vec<Option<f64>> {
    let rates = offered_rates(spec);
    let behind = behind_a_cache(spec);
    spec.components
        .iter()
        .zip(rates)
        .zip(behind)
        .map(|((c, rate), behind)| match &c.kind {
            ComponentKind::Server(_) if behind => None,
            ComponentKind::Server(s) => {
                Some(rate * s.service_time.mean_ns() / 1e9 / f64::from(s.workers.max(1)))
            }
            ComponentKind::LoadBalancer(_)
            | ComponentKind::Cache(_)
            | ComponentKind::Queue(_)
            | ComponentKind::Stream(_)
            | ComponentKind::Store(_)
            | ComponentKind::ReplicaGroup(_) => None,
            ComponentKind::ModelServer(m) => Some(rate / m.saturated_rps()),
            ComponentKind::LlmServer(m) => Some(rate / m.saturated_rps()),
            // An autoscaled deployment is judged at its largest size.
            ComponentKind::Deployment(d) => {
                let replicas = d.autoscaler.as_ref().map_or(d.replicas, |a| a.max);
                Some(
                    rate * d.server.service_time.mean_ns()
                        / 1e9
                        / (f64::from(d.server.workers.max(1)) * f64::from(replicas.max(1))),
                )
            }
        })
        .collect()
}
