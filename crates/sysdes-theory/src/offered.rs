//! Offered load: the long-run rate open workloads send each component, and
//! what that rate asks of the component's capacity, read from the spec
//! alone (no simulation).
//!
//! This is the one implementation of these figures: `sysdes run` (native
//! and WebAssembly) and the sweeps attach them to a run's results with
//! [`annotate_offered`], and the verdict reads them there; the simulation
//! computes none of them. Who sends to whom is
//! [`ComponentKind::downstream`], the one definition the engine's build
//! checks use too; how a balancer splits is [`balancer_shares`], which the
//! predictions' walk through the topology uses as well, so the offered
//! load and the theory column never disagree on a backend's share.
//!
//! Not here: closed workloads (their rate depends on the response time),
//! and traffic behind a cache (its misses depend on the run's hit ratio).

use sysdes_models::{
    ArrivalSpec, ComponentKind, Flow, KeySpec, LbPolicy, LoadBalancerSpec, ModelSpec, RunResult,
    WorkloadSpec, consistent_hash_shares,
};

/// The share of a balancer's traffic each backend receives, in backend
/// order, for requests whose keys follow `keys`, and whether the shares are
/// the exact ones of a consistent-hash ring.
///
/// Consistent hashing of independently drawn keys (`uniform`, `zipf`,
/// `hotspot` over at most 2,000,000 keys) gives each backend the exact
/// probability mass of the keys its ring points own; every other policy,
/// and consistent hashing of unique keys, splits evenly on average.
pub(crate) fn balancer_shares(
    spec: &ModelSpec,
    lb: &LoadBalancerSpec,
    keys: &KeySpec,
) -> (Vec<f64>, bool) {
    let n = lb.backends.len().max(1);
    let hashed = (lb.policy == LbPolicy::ConsistentHash)
        .then(|| {
            let names: Vec<&str> = lb
                .backends
                .iter()
                .map(|b| spec.components[b.index()].name.as_str())
                .collect();
            consistent_hash_shares(&names, keys)
        })
        .flatten();
    match hashed {
        Some(shares) => (shares, true),
        None => (
            weighted_shares(lb).unwrap_or_else(|| vec![1.0 / n as f64; n]),
            false,
        ),
    }
}

/// The shares fixed weights give (`weight / total`), when the balancer has
/// weights and no phases; `None` otherwise.
fn weighted_shares(lb: &LoadBalancerSpec) -> Option<Vec<f64>> {
    let w = &lb.routing.weights;
    let total: f64 = w.iter().map(|&x| f64::from(x)).sum();
    (!w.is_empty() && lb.routing.phases.is_empty() && total > 0.0)
        .then(|| w.iter().map(|&x| f64::from(x) / total).collect())
}

/// The components in an order where every component comes after all that
/// send to it; components on a cycle, or reached from one, are left out
/// (the loader refuses cycles, but a spec built in code may have one).
fn sender_first_order(spec: &ModelSpec) -> Vec<usize> {
    let n = spec.components.len();
    let targets = |i: usize, f: &mut dyn FnMut(usize)| {
        spec.components[i].kind.downstream(|to, _| {
            if to.index() < n {
                f(to.index());
            }
        });
    };
    let mut senders = vec![0usize; n];
    for i in 0..n {
        targets(i, &mut |t| senders[t] += 1);
    }
    let mut order: Vec<usize> = (0..n).filter(|&i| senders[i] == 0).collect();
    let mut next = 0;
    while let Some(&i) = order.get(next) {
        next += 1;
        targets(i, &mut |t| {
            senders[t] -= 1;
            if senders[t] == 0 {
                order.push(t);
            }
        });
    }
    order
}

/// The long-run arrival rate (requests per second) that open workloads
/// offer each component, indexed like [`ModelSpec::components`].
///
/// Requests follow [`ComponentKind::downstream`]: a balancer gives each
/// backend its share (the exact ring share under consistent hashing of
/// independently drawn keys, the same as the theory column's; an even
/// share otherwise); a replica group splits evenly over every replica it
/// may run (judged at its largest size, like a deployment); every message a
/// queue accepts reaches its consumer and every stream group sees every
/// message (upper bounds when they drop); every target of every call step
/// receives its caller's full rate (all of a step's calls go out, whatever
/// `wait_for`; hedges and retries add to it). `None` where the rate depends
/// on the run: behind a cache (only its misses and writes go on), and on or
/// after a cycle. Closed workloads are left out: their rate depends on the
/// response time, so a component only they reach gets `Some(0.0)`.
pub fn offered_rates(spec: &ModelSpec) -> Vec<Option<f64>> {
    rates_of(spec, |_| 1.0)
}

/// The share of a workload's requests that write: its `ops` mix, or for a
/// trace the records' own operations (a record without one drawn from the
/// mix). Every hop keeps its request's operation (a call, a balancer, a
/// queue's consumer), so this share travels with the rate.
fn write_share(w: &WorkloadSpec) -> f64 {
    let drawn = w.write_share.clamp(0.0, 1.0);
    match &w.arrival {
        ArrivalSpec::Trace(t) if !t.records.is_empty() => {
            let writes: f64 = t
                .records
                .iter()
                .map(|r| match r.write {
                    Some(true) => 1.0,
                    Some(false) => 0.0,
                    None => drawn,
                })
                .sum();
            writes / t.records.len() as f64
        }
        _ => drawn,
    }
}

/// The long-run write rate (writes per second) open workloads offer each
/// component, like [`offered_rates`]: each workload's rate times its
/// [`write_share`].
fn offered_write_rates(spec: &ModelSpec) -> Vec<Option<f64>> {
    rates_of(spec, write_share)
}

/// [`offered_rates`] with each workload's rate weighted by `weight`.
fn rates_of(spec: &ModelSpec, weight: impl Fn(&WorkloadSpec) -> f64) -> Vec<Option<f64>> {
    let n = spec.components.len();
    let order = sender_first_order(spec);
    let mut total: Vec<Option<f64>> = vec![None; n];
    for &i in &order {
        total[i] = Some(0.0);
    }
    // Rates add up over workloads; only consistent hashing depends on the
    // keys, so workloads with the same keys travel together.
    let mut groups: Vec<(&KeySpec, Vec<f64>)> = Vec::new();
    for w in &spec.workloads {
        let Some(rate) = w
            .arrival
            .open_rate_per_second()
            .filter(|_| w.target.index() < n)
            .map(|rate| rate * weight(w))
        else {
            continue;
        };
        let at = match groups.iter().position(|(keys, _)| *keys == &w.keys) {
            Some(at) => at,
            None => {
                groups.push((&w.keys, vec![0.0; n]));
                groups.len() - 1
            }
        };
        groups[at].1[w.target.index()] += rate;
    }
    // A cache's backend, and all downstream of it, depends on the run.
    let mut unknown = vec![false; n];
    for &i in &order {
        let from_unknown = unknown[i];
        spec.components[i].kind.downstream(|to, flow| {
            if let Some(slot) = unknown.get_mut(to.index()) {
                *slot |= from_unknown || flow == Flow::Misses || flow == Flow::Failover;
            }
        });
    }
    for (keys, mut rates) in groups {
        for &i in &order {
            let rate = rates[i];
            let shares = match &spec.components[i].kind {
                ComponentKind::LoadBalancer(lb) => Some(balancer_shares(spec, lb, keys).0),
                _ => None,
            };
            let mut backend = 0;
            spec.components[i].kind.downstream(|to, flow| {
                let sent = match flow {
                    Flow::Split { n } => {
                        let share = shares
                            .as_ref()
                            .and_then(|s| s.get(backend).copied())
                            .unwrap_or(1.0 / n.max(1) as f64);
                        backend += 1;
                        rate * share
                    }
                    Flow::Every | Flow::Call { .. } => rate,
                    Flow::Misses | Flow::Failover => 0.0,
                    Flow::Mirror => match &spec.components[i].kind {
                        ComponentKind::LoadBalancer(lb) => {
                            rate * lb.routing.shadow.as_ref().map_or(0.0, |s| s.share)
                        }
                        _ => 0.0,
                    },
                };
                if let Some(slot) = rates.get_mut(to.index()) {
                    *slot += sent;
                }
            });
        }
        for (t, r) in total.iter_mut().zip(rates) {
            if let Some(t) = t {
                *t += r;
            }
        }
    }
    total
        .into_iter()
        .zip(unknown)
        .map(|(rate, unknown)| rate.filter(|_| !unknown))
        .collect()
}

/// The offered load of each component that does work: its arrival rate
/// from [`offered_rates`] times its mean service time, over its workers
/// (for a deployment, over every worker of its largest size); for a model
/// server, its rate over its full-batch rate (for a prefill server, or that
/// of its KV links when they are busier: `LlmServerSpec::kv_link_load`).
/// Above 1 the queue grows without bound. `None` for components that do no
/// such work (balancers, caches, queues, streams, stores, replica groups,
/// whose replicas have their own figure) and where the rate depends on the
/// run.
pub fn offered_loads(spec: &ModelSpec) -> Vec<Option<f64>> {
    let writes = offered_write_rates(spec);
    spec.components
        .iter()
        .zip(offered_rates(spec))
        .zip(writes)
        .map(|((c, rate), writes)| {
            let rate = rate?;
            match &c.kind {
                ComponentKind::Server(s) => {
                    Some(rate * s.service_time.mean_ns() / 1e9 / f64::from(s.workers.max(1)))
                }
                ComponentKind::ModelServer(m) => Some(rate / m.saturated_rps()),
                // A prefill server: the busier of its slots and the links
                // its prompts' KV caches cross to the decode pool.
                ComponentKind::LlmServer(m) => {
                    Some((rate / m.saturated_rps()).max(m.kv_link_load(rate).unwrap_or(0.0)))
                }
                ComponentKind::ReplicaGroup(d) => {
                    // A deployment over all the replicas it may run; a
                    // group of components has none (its replicas do).
                    let server = d.members.station()?;
                    let replicas = d.autoscaler.as_ref().map_or(d.replicas, |a| a.max);
                    Some(
                        rate * server.service_time.mean_ns()
                            / 1e9
                            / (f64::from(server.workers.max(1)) * f64::from(replicas.max(1))),
                    )
                }
                // Over its concurrency limit, cold starts not counted.
                ComponentKind::Function(f) => {
                    Some(rate * f.service_time.mean_ns() / 1e9 / f64::from(f.concurrency.max(1)))
                }
                // The busier of its IOPS gates and its shared bandwidth
                // (with a fixed object size). With separate read and write
                // limits, reads go to `iops` and writes to `write_iops`, in
                // the workloads' mix.
                ComponentKind::Storage(s) => {
                    let writes = writes.unwrap_or(0.0).clamp(0.0, rate);
                    let over = |n: u32, ops: f64| ops / f64::from(n);
                    let gate = match (s.iops, s.write_iops) {
                        (Some(r), Some(w)) => over(r, rate - writes).max(over(w, writes)),
                        (Some(r), None) => over(r, rate),
                        (None, Some(w)) => over(w, writes),
                        (None, None) => 0.0,
                    };
                    let pipe = match (s.bandwidth, s.object_size) {
                        (Some(b), Some(bytes)) => rate * bytes as f64 / b,
                        _ => 0.0,
                    };
                    Some(gate.max(pipe))
                }
                ComponentKind::LoadBalancer(_)
                | ComponentKind::Cache(_)
                | ComponentKind::Queue(_)
                | ComponentKind::Stream(_)
                | ComponentKind::Store(_)
                | ComponentKind::TrainingJob(_)
                | ComponentKind::ReviewQueue(_)
                | ComponentKind::Dns(_)
                | ComponentKind::BatchJob(_) => None,
            }
        })
        .collect()
}

/// Sets every component's `offered_load` in `result` from `loads`, the
/// [`offered_loads`] of the spec that produced it (components in spec
/// order). Every place that writes a run's results calls this, so that the
/// command line, the browser and the sweeps print the same figure.
pub fn annotate_offered(loads: &[Option<f64>], result: &mut RunResult) {
    for (c, load) in result.components.iter_mut().zip(loads) {
        c.offered_load = *load;
    }
}
