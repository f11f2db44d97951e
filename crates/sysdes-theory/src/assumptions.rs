//! Where a prediction's assumptions fail: the reason, per server and per
//! workload, that theory has no figure to set beside the simulation.
//!
//! The formulas of [`crate::predict`] describe queues fed at known rates.
//! They leave out the network between zones, faults, reneging and priority
//! classes at a server, hedged calls (which add load and cut the tail),
//! call deadlines and circuit breakers (which cut a call short or fail it
//! at once) and balancers that read the backends' queues
//! (join-the-shortest-queue and power of two choices, which beat the
//! per-backend split the formulas assume). Where one of these touches a
//! server, or lies on a workload's path, its predicted figure would be far
//! off for a reason the formula cannot see; `sysdes run` then prints the
//! reason instead of a number. This module only reads the spec; it does not
//! change any prediction.

use sysdes_models::{ArrivalSpec, ComponentKind, Discipline, Flow, LbPolicy, ModelSpec};

use crate::Prediction;

/// The two-moment approximations (Kingman, Allen-Cunneen) are checked
/// within their documented 15 % for arrival and service SCVs up to this
/// (docs/estimation.md, `tests/against_simulation.rs`); beyond it their
/// error is unbounded.
const MAX_CHECKED_SCV: f64 = 1.0;

/// Why no prediction is shown, per component and per workload (in spec
/// order); `None` where the prediction's assumptions hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Unmodelled {
    /// Per component, indexed like [`ModelSpec::components`].
    pub stations: Vec<Option<&'static str>>,
    /// Per workload, indexed like [`ModelSpec::workloads`].
    pub workloads: Vec<Option<&'static str>>,
}

/// The components a request at `c` may go to next while its sender waits
/// ([`ComponentKind::downstream`] but for queues' and streams' consumers,
/// which the producer does not wait for).
fn next(spec: &ModelSpec, c: usize) -> Vec<usize> {
    let mut out = Vec::new();
    spec.components[c].kind.downstream(|to, flow| {
        // Nobody waits for a shadow copy either.
        if flow != Flow::Every && flow != Flow::Mirror {
            out.push(to.index());
        }
    });
    out
}

/// What the formulas leave out at component `c` itself.
fn own_reason(spec: &ModelSpec, c: usize, networked: bool) -> Option<&'static str> {
    match &spec.components[c].kind {
        // Erlang-A and the priority formulas are checked in
        // `tests/disciplines.rs`, but `predict` uses FIFO M/M/c.
        ComponentKind::Server(s) if s.patience.is_some() => Some("reneging"),
        ComponentKind::Server(s) if s.discipline != Discipline::Fifo => Some("priority classes"),
        ComponentKind::Server(s) if !s.calls.is_empty() => {
            if s.calls
                .iter()
                .any(|step| step.hedge_after.is_some() || step.hedge_percentile.is_some())
            {
                Some("hedging")
            } else if s.calls.iter().any(|step| step.timeout.is_some()) {
                // A deadline cuts the calls' time (and may fail or shorten
                // the step); the formulas wait for every answer.
                Some("call deadlines")
            } else if s.calls.iter().any(|step| step.breaker.is_some()) {
                Some("circuit breakers")
            } else if networked {
                // Its time includes the calls' round trips between zones.
                Some("zones and links")
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The reason for every server and workload whose prediction would rest on
/// assumptions the scenario breaks, or on a two-moment approximation used
/// outside the range where its error is known.
pub fn unmodelled(spec: &ModelSpec, prediction: &Prediction) -> Unmodelled {
    let n = spec.components.len();
    if !spec.faults.is_empty() {
        return Unmodelled {
            stations: vec![Some("faults"); n],
            workloads: vec![Some("faults"); spec.workloads.len()],
        };
    }
    let networked = !spec.network.zones.is_empty() || !spec.network.links.is_empty();
    let mut stations: Vec<Option<&'static str>> =
        (0..n).map(|c| own_reason(spec, c, networked)).collect();
    for (slot, p) in stations.iter_mut().zip(&prediction.stations) {
        let Some(p) = p else { continue };
        let two_moment = p.method.as_ref().is_some_and(|m| {
            !m.exact && (m.name.contains("Kingman") || m.name.contains("Allen-Cunneen"))
        });
        // Only the predicted wait is approximate: a station that almost
        // never queues (100,000 leaves) is its service time, whatever the SCV.
        let waits = p.mean_s.is_some_and(|m| m - p.service_s > 0.01 * m);
        let variable = p.arrival_scv > MAX_CHECKED_SCV || p.service_scv > MAX_CHECKED_SCV;
        if two_moment && variable && waits {
            *slot = slot.or(Some(
                "variability beyond the approximation's checked range (SCV > 1)",
            ));
        }
    }
    // Backends of a balancer that reads their queues are not fed the
    // independent split the formulas assume.
    for c in &spec.components {
        if let ComponentKind::LoadBalancer(lb) = &c.kind {
            let reason = match lb.policy {
                LbPolicy::LeastOutstanding => Some("least-outstanding balancer"),
                LbPolicy::PowerOfTwo => Some("power-of-two balancer"),
                LbPolicy::LeastKv => Some("least-KV balancer"),
                LbPolicy::PrefixAffinity => Some("prefix-affinity balancer"),
                _ if !lb.routing.phases.is_empty() => Some("routing phases"),
                _ => None,
            };
            for b in &lb.backends {
                let slot = &mut stations[b.index()];
                *slot = slot.or(reason);
            }
            // The walk that predicts each station follows the paths
            // requests are waited on; a shadow copy is on none of them, so
            // its target would read as idle.
            if let Some(shadow) = &lb.routing.shadow {
                let slot = &mut stations[shadow.to.index()];
                *slot = slot.or(Some("shadow traffic"));
            }
        }
    }
    // Time-varying arrivals break the steady rate the formulas assume, at
    // every station they reach.
    for w in &spec.workloads {
        let reason = match w.arrival {
            ArrivalSpec::Curve(_) => "a rate curve (the rate changes over the period)",
            ArrivalSpec::Mmpp(_) => "bursty (MMPP) arrivals",
            ArrivalSpec::Trace(_) => "trace replay",
            _ => continue,
        };
        let mut seen = vec![false; n];
        let mut stack = vec![w.target.index()];
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c], true) {
                continue;
            }
            stations[c] = stations[c].or(Some(reason));
            stack.extend(next(spec, c));
        }
    }
    // The first reason met on the paths from `start`.
    let first_reason = |stations: &[Option<&'static str>], start: Vec<usize>| {
        let mut seen = vec![false; n];
        let mut stack = start;
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c], true) {
                continue;
            }
            if let Some(reason) = stations[c] {
                return Some(reason);
            }
            stack.extend(next(spec, c));
        }
        None
    };
    // A server's time includes its calls: it inherits their targets' reason.
    let inherited: Vec<Option<&'static str>> = (0..n)
        .map(|c| stations[c].or_else(|| first_reason(&stations, next(spec, c))))
        .collect();
    let stations = inherited;
    let workloads = spec
        .workloads
        .iter()
        .map(|w| {
            if networked {
                return Some("zones and links");
            }
            first_reason(&stations, vec![w.target.index()])
        })
        .collect();
    Unmodelled {
        stations,
        workloads,
    }
}
