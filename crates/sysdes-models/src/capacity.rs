//! Back-of-envelope load figures computed from a spec, without simulating.

use crate::spec::{ComponentKind, ModelSpec};

/// The long-run arrival rate (requests per second) that open workloads offer
/// each component, following load balancers' even splits.
///
/// Closed workloads are left out: their rate depends on the response time.
/// Consistent hashing is treated as an even split, which it is on average
/// over keys. The topology is acyclic (the loader checks), so propagation in
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
            if let ComponentKind::LoadBalancer(lb) = &c.kind {
                let share = rates[i] / lb.backends.len().max(1) as f64;
                for b in &lb.backends {
                    if let Some(slot) = next.get_mut(b.index()) {
                        *slot += share;
                    }
                }
            }
        }
        if next == rates {
            break;
        }
        rates = next;
    }
    rates
}

/// Offered load of each server (arrival rate x mean service time / workers),
/// `None` for components that are not servers. Above 1 the queue grows
/// without bound.
pub fn offered_loads(spec: &ModelSpec) -> Vec<Option<f64>> {
    let rates = offered_rates(spec);
    spec.components
        .iter()
        .zip(rates)
        .map(|(c, rate)| match &c.kind {
            ComponentKind::Server(s) => {
                Some(rate * s.service_time.mean_ns() / 1e9 / f64::from(s.workers.max(1)))
            }
            ComponentKind::LoadBalancer(_) | ComponentKind::Store(_) => None,
        })
        .collect()
}
