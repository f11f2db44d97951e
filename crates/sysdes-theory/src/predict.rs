//! From a spec to predictions: rates through the topology, one method per
//! station, MVA for closed workloads, end-to-end figures and capacity.

use crate::portable::Portable;
use sysdes_models::{
    ArrivalSpec, CallMode, ComponentKind, Distribution, Flow, KeySpec, LbPolicy, ModelSpec,
};

use crate::calls::{Output, call_order, call_wait, expand_calls};
use crate::formulas::{
    allen_cunneen_wait, erlang_c, md1_wait_cdf, mmc_mean_sojourn, mmc_sojourn_tail, mmck, mva,
    pk_mean_wait, quantile_from_tail,
};

/// Beyond this many service times the alternating M/D/1 series loses
/// precision (at rho 0.8 it is off by 0.6 % at 30 and negative at 40).
const MD1_MAX_SERVICE_TIMES: f64 = 20.0;
/// The M/D/1 tail is used only if less than this mass lies beyond
/// [`MD1_MAX_SERVICE_TIMES`], where it is taken as zero.
const MD1_NEGLIGIBLE_TAIL: f64 = 1e-4;
/// A caller whose requests wait for a worker less often than this is taken
/// as an infinite-server station, whose output is (nearly) Poisson.
const NEGLIGIBLE_WAIT: f64 = 1e-3;
/// Utilization rule of thumb used to size workers for a target rate.
pub const SIZING_UTILIZATION: f64 = 0.8;

/// How a figure was obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    /// Short name, e.g. `M/M/4`, `M/G/1 (Pollaczek-Khinchine)`, `G/G/1 (Kingman)`.
    pub name: String,
    /// Whether the method is exact for this scenario (else an approximation).
    pub exact: bool,
}

/// Predictions for one server.
#[derive(Clone, Debug, PartialEq)]
pub struct StationPrediction {
    /// Component name.
    pub name: String,
    /// Arrival rate reaching it, requests per second.
    pub arrival_rps: f64,
    /// Squared coefficient of variation of its inter-arrival times (1 = Poisson).
    pub arrival_scv: f64,
    /// Mean service time, seconds.
    pub service_s: f64,
    /// Squared coefficient of variation of service times.
    pub service_scv: f64,
    /// Parallel workers.
    pub workers: u32,
    /// Offered load per worker: arrival rate x mean service / workers.
    pub utilization: f64,
    /// The queueing method used, or `None` if the station is overloaded.
    pub method: Option<Method>,
    /// Mean time in the station (queue + service), seconds.
    pub mean_s: Option<f64>,
    /// 99th percentile time in the station, seconds, where the tail is exact.
    pub p99_s: Option<f64>,
    /// Probability an arrival is refused (bounded queue), where known.
    pub blocking: Option<f64>,
    pub(crate) tail: Option<Tail>,
}

/// Predictions for one workload, end to end.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadPrediction {
    /// Workload name.
    pub name: String,
    /// Completions per second.
    pub throughput_rps: f64,
    /// How the end-to-end figures were obtained.
    pub method: Option<Method>,
    /// Mean end-to-end latency, seconds.
    pub mean_s: Option<f64>,
    /// 99th percentile end-to-end latency, seconds, where the tail is exact.
    pub p99_s: Option<f64>,
}

/// What an SLO constrains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SloMetric {
    /// The mean latency.
    Mean,
    /// The 99th percentile latency.
    P99,
}

/// A latency objective, e.g. p99 <= 100 ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slo {
    /// Which statistic.
    pub metric: SloMetric,
    /// Its limit, seconds.
    pub limit_s: f64,
}

/// Workers a server needs for a target rate.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkersNeeded {
    /// Component name.
    pub name: String,
    /// Its arrival rate at the target, requests per second.
    pub arrival_rps: f64,
    /// Its utilization at the target with today's workers.
    pub utilization: f64,
    /// Workers needed to stay at or below [`SIZING_UTILIZATION`](crate::SIZING_UTILIZATION) and, if an
    /// SLO was given, to meet it at this station.
    pub workers: u32,
    /// False if no number of workers meets the SLO at this station (its
    /// service time alone exceeds it).
    pub meets_slo: bool,
}

/// Capacity planning figures.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Capacity {
    /// The most utilized server and its utilization.
    pub bottleneck: Option<(String, f64)>,
    /// Total open-loop arrival rate at which the bottleneck saturates
    /// (all open workloads scaled together), requests per second.
    pub max_open_rps: Option<f64>,
    /// Highest total open rate meeting the SLO end to end, if one was given
    /// and the prediction exists.
    pub slo_open_rps: Option<f64>,
    /// Why `slo_open_rps` is missing, when an SLO was given.
    pub slo_note: Option<String>,
    /// Per server, the highest arrival rate at which its own time meets the SLO.
    pub slo_station_rps: Vec<(String, Option<f64>)>,
    /// Workers needed per server for the target rate, if one was given.
    pub workers_for_target: Vec<WorkersNeeded>,
}

/// Everything predicted for a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Per component, indexed like `spec.components`; `None` for load balancers.
    pub stations: Vec<Option<StationPrediction>>,
    /// Per workload, in file order.
    pub workloads: Vec<WorkloadPrediction>,
    /// Capacity planning.
    pub capacity: Capacity,
    /// The arithmetic, step by step, for `--explain`.
    pub steps: Vec<String>,
    /// Caveats: what the estimate ignores.
    pub notes: Vec<String>,
}

/// A station's exact sojourn-time tail, for end-to-end quantiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Tail {
    Mmc { c: u32, lambda: f64, mu: f64 },
    Md1 { lambda: f64, d: f64 },
}

impl Tail {
    fn survival(&self, t: f64) -> f64 {
        match *self {
            Tail::Mmc { c, lambda, mu } => mmc_sojourn_tail(c, lambda, mu, t),
            Tail::Md1 { lambda, d } => {
                if t > MD1_MAX_SERVICE_TIMES * d {
                    0.0
                } else {
                    1.0 - md1_wait_cdf(lambda, d, t - d)
                }
            }
        }
    }
}

/// One way a workload's request can go: the server it ends at, with what
/// probability, through how many components.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    pub(crate) server: usize,
    pub(crate) probability: f64,
    pub(crate) depth: u32,
    pub(crate) scv: f64,
    pub(crate) poisson_preserved: bool,
    /// Poisson only approximately (a caller that almost never queues).
    pub(crate) approx_poisson: bool,
}

pub(crate) fn seconds(ns: f64) -> f64 {
    ns / 1e9
}

/// Mean and squared coefficient of variation of a distribution (in seconds).
pub(crate) fn moments(d: &Distribution) -> (f64, f64) {
    let (mean, second) = raw_moments(d);
    let scv = if mean > 0.0 {
        (second / (mean * mean) - 1.0).max(0.0)
    } else {
        0.0
    };
    (seconds(mean), scv)
}

/// Mean and second moment, nanoseconds.
fn raw_moments(d: &Distribution) -> (f64, f64) {
    match d {
        Distribution::Constant(x) => {
            let x = x.as_nanos() as f64;
            (x, x * x)
        }
        Distribution::Exponential { mean_ns } => (*mean_ns, 2.0 * mean_ns * mean_ns),
        Distribution::Uniform { low_ns, high_ns } => {
            let m = (low_ns + high_ns) / 2.0;
            (m, m * m + (high_ns - low_ns).powi(2) / 12.0)
        }
        Distribution::LogNormal { median_ns, sigma } => {
            let s2 = sigma * sigma;
            (
                median_ns * (s2 / 2.0).libm_exp(),
                median_ns * median_ns * (2.0 * s2).libm_exp(),
            )
        }
        Distribution::Pareto { scale_ns, shape } => {
            let mean = if *shape > 1.0 {
                shape * scale_ns / (shape - 1.0)
            } else {
                f64::INFINITY
            };
            let second = if *shape > 2.0 {
                shape * scale_ns * scale_ns / (shape - 2.0)
            } else {
                f64::INFINITY
            };
            (mean, second)
        }
        Distribution::Erlang { k, mean_ns } => {
            let k = f64::from(*k);
            (*mean_ns, mean_ns * mean_ns * (1.0 + 1.0 / k))
        }
        Distribution::Mixture(parts) => {
            let total: f64 = parts.iter().map(|(w, _)| w).sum();
            parts.iter().fold((0.0, 0.0), |(m, s), (w, d)| {
                let (dm, ds) = raw_moments(d);
                (m + w / total * dm, s + w / total * ds)
            })
        }
    }
}

pub(crate) fn fmt_s(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.3} us", s * 1e6)
    }
}

/// A number with four significant digits and no trailing zeros: 200, 0.8, 1.745.
pub(crate) fn g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().libm_log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn policy_name(p: LbPolicy) -> &'static str {
    match p {
        LbPolicy::RoundRobin => "round_robin",
        LbPolicy::Random => "random",
        LbPolicy::LeastOutstanding => "least_outstanding",
        LbPolicy::PowerOfTwo => "power_of_two",
        LbPolicy::ConsistentHash => "consistent_hash",
        LbPolicy::LeastKv => "least_kv",
        LbPolicy::PrefixAffinity => "prefix_affinity",
    }
}

/// Follows a workload's requests from `component` to the servers, splitting
/// at balancers. Round robin splits deterministically (inter-arrival SCV
/// divided by n). Random routing, and consistent hashing of independently
/// drawn keys (with each backend's exact share of the key mass), are random
/// splits that keep Poisson arrivals Poisson (SCV p c^2 + 1 - p); the other
/// policies are treated as even random splits, an upper bound on latency.
pub(crate) fn walk(
    spec: &ModelSpec,
    keys: &KeySpec,
    component: usize,
    leaf: Leaf,
    out: &mut Vec<Leaf>,
    steps: &mut Vec<String>,
    guard: u32,
) {
    let Some(c) = spec.components.get(component) else {
        return;
    };
    if guard > 64 {
        return;
    }
    match &c.kind {
        ComponentKind::Server(_)
        | ComponentKind::ModelServer(_)
        | ComponentKind::LlmServer(_)
        | ComponentKind::ReplicaGroup(_) => out.push(Leaf {
            server: component,
            ..leaf
        }),
        ComponentKind::Cache(cache) => {
            // Only misses go on; hits end at the cache (counted as taking
            // no time end to end). The miss stream is a key-dependent
            // thinning: close to Poisson, but not exactly.
            let Some((hit, method)) = crate::cache::predicted_hit_ratio(cache, keys) else {
                steps.push(format!(
                    "{}: no hit-ratio estimate for these keys; every request treated as a miss",
                    c.name
                ));
                let next = Leaf {
                    depth: leaf.depth + 1,
                    ..leaf
                };
                walk(
                    spec,
                    keys,
                    cache.backend.index(),
                    next,
                    out,
                    steps,
                    guard + 1,
                );
                return;
            };
            steps.push(format!(
                "{}: predicted hit ratio {} ({method}); misses go to {} (hits count as no time end to end)",
                c.name,
                g(hit),
                spec.components[cache.backend.index()].name
            ));
            let p = 1.0 - hit;
            walk(
                spec,
                keys,
                cache.backend.index(),
                Leaf {
                    server: component,
                    probability: leaf.probability * p,
                    depth: leaf.depth + 1,
                    scv: p * leaf.scv + 1.0 - p,
                    poisson_preserved: false,
                    approx_poisson: false,
                },
                out,
                steps,
                guard + 1,
            );
        }
        // Asynchronous: the producer's request ends here (a leaf with no
        // prediction), and what consumers see is not estimated.
        ComponentKind::Queue(_) | ComponentKind::Stream(_) => {
            steps.push(format!(
                "{}: asynchronous {}; queues and streams are not estimated",
                c.name,
                if matches!(c.kind, ComponentKind::Queue(_)) {
                    "queue"
                } else {
                    "stream"
                }
            ));
            out.push(Leaf {
                server: component,
                ..leaf
            });
        }
        // A replicated store has no queueing-theory prediction (yet); a
        // training job receives no requests (its theory is the expected
        // maximum of its workers' step times and Daly's goodput, checked in
        // `sysdes-models/tests/training_job.rs`).
        // A function's cold starts depend on the run's gaps between requests.
        // A DNS name's split between its records depends on the run (client
        // caches and health checks); its failover theory is
        // `sysdes_theory::dns` (checked in `sysdes-models/tests/dns.rs`).
        // A batch job answers at once; its run time and view age
        // (`every + startup + records / throughput`) are checked in
        // `sysdes-models/tests/lambda_kappa.rs`.
        // A storage tier's gate wait (M/D/1) and shared lanes are checked
        // in `sysdes-models/tests/storage.rs`, not walked here.
        ComponentKind::Store(_)
        | ComponentKind::TrainingJob(_)
        | ComponentKind::Function(_)
        | ComponentKind::Dns(_)
        | ComponentKind::BatchJob(_)
        | ComponentKind::Storage(_) => {}
        // Asynchronous like a queue: the request ends here at once; the
        // reviews' M/M/c wait is checked in `sysdes-models/tests/review_queue.rs`.
        ComponentKind::ReviewQueue(_) => {
            steps.push(format!(
                "{}: asynchronous review queue; the reviews are not estimated",
                c.name
            ));
            out.push(Leaf {
                server: component,
                ..leaf
            });
        }
        ComponentKind::LoadBalancer(lb) => {
            let n = lb.backends.len().max(1);
            let (shares, hashed) = crate::offered::balancer_shares(spec, lb, keys);
            let how = if hashed {
                "the ring owns an exact share of the keys; independent keys keep Poisson arrivals Poisson"
            } else {
                match lb.policy {
                    LbPolicy::Random => "random thinning keeps Poisson arrivals Poisson",
                    LbPolicy::RoundRobin => "round robin makes arrivals more regular",
                    _ => "treated as an even random split",
                }
            };
            steps.push(format!(
                "{} ({}): {} backends, shares {} ({how})",
                c.name,
                policy_name(lb.policy),
                n,
                shares.iter().map(|p| g(*p)).collect::<Vec<_>>().join(", ")
            ));
            for (b, p) in lb.backends.iter().zip(shares) {
                let (scv, preserved) = match lb.policy {
                    LbPolicy::RoundRobin => (leaf.scv / n as f64, false),
                    LbPolicy::Random => (p * leaf.scv + 1.0 - p, leaf.poisson_preserved),
                    LbPolicy::ConsistentHash if hashed => {
                        (p * leaf.scv + 1.0 - p, leaf.poisson_preserved)
                    }
                    _ => (p * leaf.scv + 1.0 - p, false),
                };
                walk(
                    spec,
                    keys,
                    b.index(),
                    Leaf {
                        server: component,
                        probability: leaf.probability * p,
                        depth: leaf.depth + 1,
                        scv,
                        poisson_preserved: preserved,
                        approx_poisson: leaf.approx_poisson,
                    },
                    out,
                    steps,
                    guard + 1,
                );
            }
        }
    }
}

/// Predicts every station and workload of `spec`; optionally sizes for an
/// SLO and a target total open-loop rate (requests per second).
pub fn predict(spec: &ModelSpec, slo: Option<Slo>, target_rps: Option<f64>) -> Prediction {
    let mut prediction = predict_at(spec, true);
    prediction.capacity = capacity(spec, &prediction, slo, target_rps);
    prediction
}

/// Predicts with every caller's output first taken as Poisson, then demoted
/// where the caller's own prediction says otherwise, until stable.
fn predict_at(spec: &ModelSpec, explain: bool) -> Prediction {
    let (order, cyclic) = call_order(spec);
    let rank = |o: Output| match o {
        Output::Exact => 2,
        Output::Approx => 1,
        Output::No => 0,
    };
    let mut output = vec![Output::Exact; spec.components.len()];
    loop {
        let (prediction, actual) = predict_with(spec, explain, &order, &cyclic, &output);
        let mut changed = false;
        for (assumed, actual) in output.iter_mut().zip(actual) {
            if rank(actual) < rank(*assumed) {
                *assumed = actual;
                changed = true;
            }
        }
        if !changed {
            return prediction;
        }
    }
}

fn predict_with(
    spec: &ModelSpec,
    explain: bool,
    order: &[usize],
    cyclic: &[bool],
    output: &[Output],
) -> (Prediction, Vec<Output>) {
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let n = spec.components.len();
    let latency_s = seconds(spec.network.latency.mean_ns());

    // Open traffic per server: (rate, rate x scv, all contributions Poisson-preserving).
    let mut open_rate = vec![0.0; n];
    let mut open_scv_weighted = vec![0.0; n];
    let mut open_poisson = vec![true; n];
    let mut open_approx = vec![false; n];
    let mut leaves_by_workload = Vec::with_capacity(spec.workloads.len());
    let mut calls_by_workload = Vec::with_capacity(spec.workloads.len());
    for w in &spec.workloads {
        let (scv, poisson) = match &w.arrival {
            ArrivalSpec::Poisson { .. } => (1.0, true),
            ArrivalSpec::Constant { .. } => (0.0, false),
            ArrivalSpec::Interarrival(d) => (moments(d).1, false),
            ArrivalSpec::Closed { .. } => (1.0, false),
            // Judged at the peak phase's rate, as if it lasted.
            ArrivalSpec::Phases(_) => (1.0, true),
            // Poisson at every instant: judged at the peak rate, as if it lasted.
            ArrivalSpec::Curve(_) | ArrivalSpec::Mmpp(_) => (1.0, true),
            // A trace at its mean rate, its gaps taken as exponential (an estimate).
            ArrivalSpec::Trace(_) => (1.0, false),
        };
        if let Some(rate) = w.arrival.open_rate_per_second() {
            steps.push(format!(
                "{}: {} req/s arrive at {}",
                w.name,
                g(rate),
                spec.components[w.target.index()].name
            ));
        }
        let mut leaves = Vec::new();
        walk(
            spec,
            &w.keys,
            w.target.index(),
            Leaf {
                server: w.target.index(),
                probability: 1.0,
                depth: 1,
                scv,
                poisson_preserved: poisson,
                approx_poisson: false,
            },
            &mut leaves,
            &mut steps,
            0,
        );
        // Servers reached through downstream calls.
        let mut called = Vec::new();
        expand_calls(
            spec,
            &w.keys,
            &leaves,
            output,
            cyclic,
            &mut called,
            &mut steps,
            0,
        );
        if let Some(rate) = w.arrival.open_rate_per_second() {
            for l in leaves.iter().chain(&called) {
                let r = rate * l.probability;
                open_rate[l.server] += r;
                open_scv_weighted[l.server] += r * l.scv;
                open_poisson[l.server] &= l.poisson_preserved;
                open_approx[l.server] |= l.approx_poisson;
            }
        }
        leaves_by_workload.push(leaves);
        calls_by_workload.push(called);
    }
    if spec
        .components
        .iter()
        .any(|c| matches!(&c.kind, ComponentKind::ReplicaGroup(g) if g.members.station().is_some()))
    {
        notes.push(
            "servers with replicas, hosts or an autoscaler are not estimated (simulate them)"
                .into(),
        );
    }
    if spec
        .components
        .iter()
        .any(|c| matches!(&c.kind, ComponentKind::ReplicaGroup(g) if g.members.station().is_none()))
    {
        notes.push(
            "replicated model servers, caches and servers with calls are not estimated (simulate them)"
                .into(),
        );
    }
    if spec
        .components
        .iter()
        .any(|c| matches!(c.kind, ComponentKind::LlmServer(_)))
    {
        notes.push(
            "model servers in LLM mode are not estimated (simulate them; docs/llm-serving.md has the closed forms)"
                .into(),
        );
    }
    for w in &spec.workloads {
        let (what, which) = match &w.arrival {
            ArrivalSpec::Curve(_) => ("a rate curve", "peak"),
            ArrivalSpec::Mmpp(_) => ("bursty (MMPP) arrivals", "peak"),
            ArrivalSpec::Trace(_) => ("a trace", "mean"),
            _ => continue,
        };
        if let Some(rate) = w.arrival.open_rate_per_second() {
            notes.push(format!(
                "{}: {what}, estimated at its {which} rate ({} req/s) as if it were steady Poisson",
                w.name,
                g(rate)
            ));
        }
    }
    if spec.workloads.iter().any(|w| w.timeout.is_some()) {
        notes.push(
            "client timeouts are ignored by the estimate (they only cut the client's wait)".into(),
        );
    }

    // Closed workloads: MVA per workload, other traffic as background.
    let mut closed_rate = vec![0.0; n];
    // Per server reached only by closed traffic: MVA's time per visit, exactness.
    let mut closed_station: Vec<Option<(f64, bool)>> = vec![None; n];
    let mut workloads = Vec::with_capacity(spec.workloads.len());
    let closed_count = spec
        .workloads
        .iter()
        .filter(|w| w.arrival.open_rate_per_second().is_none())
        .count();
    let mut closed_results = vec![None; spec.workloads.len()];
    for (i, w) in spec.workloads.iter().enumerate() {
        let ArrivalSpec::Closed { users, think_time } = &w.arrival else {
            continue;
        };
        let leaves = &leaves_by_workload[i];
        let called = &calls_by_workload[i];
        // Deployments (replicas, hosts, autoscaling) are not estimated, nor
        // a workload that reaches no server (e.g. a replicated store).
        if leaves.is_empty()
            || leaves.iter().any(|l| {
                matches!(
                    spec.components[l.server].kind,
                    ComponentKind::ReplicaGroup(_)
                )
            })
        {
            continue;
        }
        let mut stations: Vec<(usize, f64, u32)> = Vec::new();
        // Calls are taken as further visits in sequence: parallel calls
        // are overestimated and the MVA is an approximation.
        let mut exact = closed_count == 1 && called.is_empty();
        let mut network = 0.0;
        for l in leaves.iter().chain(called) {
            network += l.probability * 2.0 * f64::from(l.depth) * latency_s;
            if let ComponentKind::Server(s) = &spec.components[l.server].kind {
                let (service, _) = moments(&s.service_time);
                let background = open_rate[l.server] * service / f64::from(s.workers);
                exact &= matches!(s.service_time, Distribution::Exponential { .. })
                    && background == 0.0
                    && s.queue_capacity.is_none();
                let demand = l.probability * service / (1.0 - background).max(1e-9);
                match stations.iter_mut().find(|(k, _, _)| *k == l.server) {
                    Some(entry) => entry.1 += demand,
                    None => stations.push((l.server, demand, s.workers)),
                }
            }
        }
        // Exact (BCMP product form) for one closed class through random
        // routing to single-worker exponential stations with no other load.
        exact &= w.timeout.is_none() && leaves_all_random(spec, w.target.index());
        let think = seconds(think_time.mean_ns());
        let demands: Vec<(f64, u32)> = stations.iter().map(|&(_, d, c)| (d, c)).collect();
        let (x, r, residence) = mva(&demands, think + network, *users);
        if explain {
            steps.push(format!(
                "{}: closed loop, {} users, think {} + network {} per cycle; MVA over {} station(s): X = {} req/s, R = {}",
                w.name,
                users,
                fmt_s(think),
                fmt_s(network),
                demands.len(),
                g(x),
                fmt_s(r + network)
            ));
            let d_max = demands
                .iter()
                .map(|(d, c)| d / f64::from(*c))
                .fold(0.0, f64::max);
            let d_sum: f64 = demands.iter().map(|(d, _)| d).sum();
            steps.push(format!(
                "{}: asymptotic bounds: X <= min(N/(D+Z), 1/D_max) = {} req/s; R >= max(D, N D_max - Z) = {}",
                w.name,
                g((f64::from(*users) / (d_sum + think + network)).min(if d_max > 0.0 { 1.0 / d_max } else { f64::INFINITY })),
                fmt_s(d_sum.max(f64::from(*users) * d_max - think - network))
            ));
        }
        for (k, &(server, demand, _)) in stations.iter().enumerate() {
            let service = match &spec.components[server].kind {
                ComponentKind::Server(s) => moments(&s.service_time).0,
                _ => 0.0,
            };
            let background = open_rate[server] * service;
            // Visits per cycle, undoing the background inflation of the demand.
            let visits = if service > 0.0 {
                demand * (1.0 - background).max(1e-9) / service
            } else {
                0.0
            };
            closed_rate[server] += x * visits;
            if visits > 0.0 {
                closed_station[server] = Some((residence[k] / visits, exact));
            }
        }
        closed_results[i] = Some((
            x,
            r + network,
            Method {
                name: "MVA".into(),
                exact,
            },
        ));
    }

    // Stations.
    // Callees come before their callers, whose time includes theirs.
    let mut stations: Vec<Option<StationPrediction>> = vec![None; n];
    let mut actual_output = vec![Output::No; n];
    let constant_network = matches!(spec.network.latency, Distribution::Constant(_));
    let default_keys = KeySpec::Unique;
    // Consumers of queues and streams see bursts the formulas cannot follow.
    let fed_by_queues = async_consumers(spec);
    for &k in order {
        let c = &spec.components[k];
        let ComponentKind::Server(s) = &c.kind else {
            continue;
        };
        if fed_by_queues[k] {
            continue;
        }
        let (own, own_cs2) = moments(&s.service_time);
        let lambda = open_rate[k] + closed_rate[k];
        let has_calls = !s.calls.is_empty();
        let thread = has_calls && s.mode == CallMode::Thread;
        let down = if !has_calls || lambda == 0.0 {
            None
        } else if cyclic[k] {
            steps.push(format!(
                "{}: its calls form a cycle: each request calls without end; not predicted",
                c.name
            ));
            None
        } else {
            // Balancers on call paths split like the first workload's keys.
            let keys = spec.workloads.first().map_or(&default_keys, |w| &w.keys);
            let d = call_wait(
                spec,
                keys,
                k,
                lambda,
                &stations,
                latency_s,
                constant_network,
                &mut steps,
            );
            if d.is_none() {
                steps.push(format!(
                    "{}: a call target is overloaded or unpredicted, so this server's time is unbounded",
                    c.name
                ));
            }
            d
        };
        // Thread mode: a worker is held for its own work plus the calls, so
        // the station is a multi-server with that longer service time.
        let (service, cs2) = match (&down, thread) {
            (Some(d), true) => {
                let total = own + d.mean;
                let second = own * own * (1.0 + own_cs2) + 2.0 * own * d.mean + d.second;
                (total, (second / (total * total) - 1.0).max(0.0))
            }
            _ => (own, own_cs2),
        };
        let ca2 = if open_rate[k] > 0.0 {
            open_scv_weighted[k] / open_rate[k]
        } else {
            1.0
        };
        let workers = s.workers.max(1);
        let mu = if service > 0.0 {
            1.0 / service
        } else {
            f64::INFINITY
        };
        let rho = lambda * service / f64::from(workers);
        let poisson = open_poisson[k] && closed_rate[k] == 0.0 && open_rate[k] > 0.0;
        let exponential = !thread
            && (cs2 - 1.0).abs() < 1e-9
            && matches!(s.service_time, Distribution::Exponential { .. });
        let constant = !thread && matches!(s.service_time, Distribution::Constant(_));
        if explain && lambda > 0.0 {
            steps.push(format!(
                "{}: {} req/s x {} / {} worker(s) = {} utilization",
                c.name,
                g(lambda),
                fmt_s(service),
                workers,
                g(rho)
            ));
        }
        let mut st = StationPrediction {
            name: c.name.clone(),
            arrival_rps: lambda,
            arrival_scv: ca2,
            service_s: service,
            service_scv: cs2,
            workers,
            utilization: rho,
            method: None,
            mean_s: None,
            p99_s: None,
            blocking: None,
            tail: None,
        };
        if lambda == 0.0 && has_calls {
            // Traffic that arrives through `calls` is not followed yet: the
            // station may well be busy, so claim nothing.
            steps.push(format!(
                "{}: reached through `calls`, which the estimate does not follow: not predicted",
                c.name
            ));
        } else if lambda == 0.0 && is_shadow_target(spec, k) {
            // Shadow copies are on no path the walk follows (nobody waits
            // for them): the station is busy, not idle.
            steps.push(format!(
                "{}: fed by a balancer's shadow copies, which the estimate does not follow: not predicted",
                c.name
            ));
        } else if lambda == 0.0 {
            st.method = Some(Method {
                name: "idle".into(),
                exact: true,
            });
        } else if let Some(cap) = s.queue_capacity.filter(|_| poisson && exponential) {
            let k_total = workers + cap;
            let (blocking, mean) = mmck(workers, k_total, lambda, mu);
            st.method = Some(Method {
                name: format!("M/M/{workers}/{k_total}"),
                exact: true,
            });
            st.mean_s = Some(mean);
            st.blocking = Some(blocking);
            steps.push(format!(
                "{}: M/M/{workers}/{k_total} birth-death chain: blocking {}, mean {}",
                c.name,
                g(blocking),
                fmt_s(mean)
            ));
        } else if !rho.is_finite() {
            // Outside every formula's domain: a time with no finite mean
            // (a heavy tail such as pareto with shape <= 1, or a NaN).
            steps.push(format!(
                "{}: its time per request has no finite mean (a heavy tail such as pareto with shape <= 1): not predicted",
                c.name
            ));
            st.utilization = f64::NAN;
            st.method = Some(Method {
                name: "not predicted (no finite mean)".into(),
                exact: false,
            });
        } else if rho >= 1.0 {
            steps.push(format!(
                "{}: utilization {} >= 1: the queue grows without bound",
                c.name,
                g(rho)
            ));
        } else if let Some((per_visit, exact)) = closed_station[k].filter(|_| open_rate[k] == 0.0) {
            st.method = Some(Method {
                name: "MVA".into(),
                exact,
            });
            st.mean_s = Some(per_visit);
        } else if poisson && exponential {
            let mean = mmc_mean_sojourn(workers, lambda, mu);
            let tail = Tail::Mmc {
                c: workers,
                lambda,
                mu,
            };
            st.method = Some(Method {
                name: format!("M/M/{workers}"),
                exact: true,
            });
            st.mean_s = Some(mean);
            st.p99_s = Some(quantile_from_tail(0.99, |t| tail.survival(t)));
            st.tail = Some(tail);
            if workers == 1 {
                steps.push(format!(
                    "{}: M/M/1 mean = {} / (1 - {}) = {}",
                    c.name,
                    fmt_s(service),
                    g(rho),
                    fmt_s(mean)
                ));
            } else {
                steps.push(format!(
                    "{}: M/M/{workers}: Erlang C = {}; mean = C/(c mu - lambda) + 1/mu = {}",
                    c.name,
                    g(erlang_c(workers, lambda / mu)),
                    fmt_s(mean)
                ));
            }
        } else if poisson && workers == 1 {
            let second = service * service * (1.0 + cs2);
            let mean = pk_mean_wait(lambda, service, second) + service;
            st.mean_s = Some(mean);
            if constant {
                st.method = Some(Method {
                    name: "M/D/1".into(),
                    exact: true,
                });
                let tail = Tail::Md1 { lambda, d: service };
                let beyond =
                    1.0 - md1_wait_cdf(lambda, service, (MD1_MAX_SERVICE_TIMES - 1.0) * service);
                if beyond < MD1_NEGLIGIBLE_TAIL {
                    st.p99_s = Some(quantile_from_tail(0.99, |t| tail.survival(t)));
                    st.tail = Some(tail);
                }
            } else {
                st.method = Some(Method {
                    name: "M/G/1 (Pollaczek-Khinchine)".into(),
                    exact: true,
                });
            }
            steps.push(format!(
                "{}: Pollaczek-Khinchine: W_q = rho (1 + c_s^2) / (2 mu (1 - rho)) = {} x {} / (2 x {}) x {} = {}; mean = {}",
                c.name,
                g(rho),
                g(1.0 + cs2),
                g(1.0 - rho),
                fmt_s(service),
                fmt_s(mean - service),
                fmt_s(mean)
            ));
        } else {
            let wait = allen_cunneen_wait(workers, lambda, mu, ca2, cs2);
            let arrivals = if poisson { "M" } else { "G" };
            let name = if workers == 1 {
                format!("{arrivals}/G/1 (Kingman, c_a^2 {ca2:.2}, c_s^2 {cs2:.2})")
            } else {
                format!("{arrivals}/G/{workers} (Allen-Cunneen, c_a^2 {ca2:.2}, c_s^2 {cs2:.2})")
            };
            st.method = Some(Method { name, exact: false });
            st.mean_s = Some(wait + service);
            steps.push(format!(
                "{}: approximation: W_q = C(c, a)/(c mu - lambda) x (c_a^2 + c_s^2)/2 = {}; mean = {}",
                c.name,
                fmt_s(wait),
                fmt_s(wait + service)
            ));
        }
        if s.queue_capacity.is_some() && st.blocking.is_none() {
            notes.push(format!("{}: its queue limit is ignored by the estimate (exact only for Poisson arrivals and exponential service)", c.name));
        }
        if poisson && open_approx[k] {
            if let Some(m) = &mut st.method {
                m.exact = false;
                m.name.push_str(", arrivals nearly Poisson");
            }
        }
        if has_calls {
            with_calls(&mut st, c.name.as_str(), thread, down.as_ref(), &mut steps);
            // What the calls this server sends look like to its targets.
            let input_poisson = poisson && !open_approx[k];
            let wait_probability = if rho < 1.0 {
                erlang_c(workers, lambda * service)
            } else {
                1.0
            };
            actual_output[k] = if !poisson {
                Output::No
            } else if input_poisson && !thread && exponential && s.queue_capacity.is_none() {
                Output::Exact
            } else if wait_probability < NEGLIGIBLE_WAIT {
                Output::Approx
            } else {
                Output::No
            };
        }
        stations[k] = Some(st);
    }

    // Workloads end to end.
    for (i, w) in spec.workloads.iter().enumerate() {
        if let Some((x, r, method)) = closed_results[i].clone() {
            workloads.push(WorkloadPrediction {
                name: w.name.clone(),
                throughput_rps: x,
                method: Some(method),
                mean_s: Some(r),
                p99_s: None,
            });
            continue;
        }
        let leaves = &leaves_by_workload[i];
        let rate = w.arrival.open_rate_per_second().unwrap_or(0.0);
        // A workload that reaches no server (a replicated store) gets no prediction.
        let mut mean = (!leaves.is_empty()).then_some(0.0);
        let mut exact = true;
        let mut blocked = 0.0;
        let mut names = Vec::new();
        for l in leaves {
            let st = stations.get(l.server).and_then(|s| s.as_ref());
            let station_mean = st.and_then(|s| s.mean_s);
            mean = match (mean, station_mean) {
                (Some(m), Some(s)) => {
                    Some(m + l.probability * (s + 2.0 * f64::from(l.depth) * latency_s))
                }
                _ => None,
            };
            if let Some(st) = st {
                exact &= st.method.as_ref().is_some_and(|m| m.exact);
                blocked += l.probability * st.blocking.unwrap_or(0.0);
                if let Some(m) = &st.method {
                    if !names.contains(&m.name) {
                        names.push(m.name.clone());
                    }
                }
            }
        }
        // End-to-end p99: a mixture of exact station tails shifted by a
        // constant network delay.
        let constant_network = matches!(spec.network.latency, Distribution::Constant(_));
        let tails: Option<Vec<(f64, f64, Tail)>> = leaves
            .iter()
            .map(|l| {
                stations
                    .get(l.server)
                    .and_then(|s| s.as_ref())
                    .and_then(|s| s.tail)
                    .map(|t| (l.probability, 2.0 * f64::from(l.depth) * latency_s, t))
            })
            .collect();
        let p99 = match tails {
            Some(tails) if constant_network && !tails.is_empty() => {
                Some(quantile_from_tail(0.99, |t| {
                    tails
                        .iter()
                        .map(|(p, shift, tail)| {
                            p * if t < *shift {
                                1.0
                            } else {
                                tail.survival(t - shift)
                            }
                        })
                        .sum()
                }))
            }
            _ => None,
        };
        if let (true, Some(m)) = (explain, mean) {
            if latency_s > 0.0 {
                steps.push(format!(
                    "{}: end to end = time at the server + 2 x {} hop(s) x {} network latency = {}",
                    w.name,
                    leaves.first().map_or(1, |l| l.depth),
                    fmt_s(latency_s),
                    fmt_s(m)
                ));
            } else {
                steps.push(format!(
                    "{}: end to end = time at the server = {}",
                    w.name,
                    fmt_s(m)
                ));
            }
        }
        workloads.push(WorkloadPrediction {
            name: w.name.clone(),
            throughput_rps: rate * (1.0 - blocked),
            method: if leaves.iter().any(|l| {
                matches!(
                    spec.components[l.server].kind,
                    ComponentKind::Queue(_)
                        | ComponentKind::Stream(_)
                        | ComponentKind::ReviewQueue(_)
                )
            }) {
                // Answered on enqueue: not overloaded, just not estimated.
                Some(Method {
                    name: "asynchronous, not estimated".into(),
                    exact: false,
                })
            } else if leaves.iter().any(|l| {
                matches!(
                    &spec.components[l.server].kind,
                    ComponentKind::ReplicaGroup(g) if g.members.station().is_none()
                )
            }) {
                // Not overloaded, just not estimated.
                Some(Method {
                    name: "replicated, not estimated".into(),
                    exact: false,
                })
            } else if leaves.iter().chain(&calls_by_workload[i]).any(|l| {
                matches!(
                    spec.components[l.server].kind,
                    ComponentKind::ModelServer(_)
                )
            }) {
                // Not overloaded, just not estimated.
                Some(Method {
                    name: "batching model server, not estimated".into(),
                    exact: false,
                })
            } else if leaves
                .iter()
                .any(|l| matches!(spec.components[l.server].kind, ComponentKind::LlmServer(_)))
            {
                // Not overloaded, just not estimated.
                Some(Method {
                    name: "LLM model server, not estimated".into(),
                    exact: false,
                })
            } else if leaves.iter().chain(&calls_by_workload[i]).any(|l| {
                stations
                    .get(l.server)
                    .and_then(|s| s.as_ref())
                    .is_some_and(|s| s.utilization.is_nan())
            }) || (mean.is_none() && !latency_s.is_finite())
            {
                // A time on its path has no finite mean: outside every
                // formula's domain, not overloaded.
                Some(Method {
                    name: "not predicted (no finite mean)".into(),
                    exact: false,
                })
            } else {
                mean.map(|_| Method {
                    name: names.join(" + "),
                    exact,
                })
            },
            mean_s: mean,
            p99_s: p99,
        });
    }

    // Zones, links and faults are outside these formulas, so no
    // method is exact for such a scenario.
    if !spec.faults.is_empty() || !spec.network.zones.is_empty() || !spec.network.links.is_empty() {
        let methods = stations
            .iter_mut()
            .flatten()
            .filter_map(|s| s.method.as_mut())
            .chain(workloads.iter_mut().filter_map(|w| w.method.as_mut()));
        for m in methods {
            m.exact = false;
        }
        notes.push("zones, links and faults are not modelled by the estimate: it describes the system without them".into());
    }

    call_notes(spec, &stations, &mut notes);
    (
        Prediction {
            stations,
            workloads,
            capacity: Capacity::default(),
            steps,
            notes,
        },
        actual_output,
    )
}

/// Caveats about downstream calls.
fn call_notes(spec: &ModelSpec, stations: &[Option<StationPrediction>], notes: &mut Vec<String>) {
    let servers = || {
        spec.components.iter().filter_map(|c| match &c.kind {
            ComponentKind::Server(s) => Some(s),
            _ => None,
        })
    };
    if !servers().any(|s| !s.calls.is_empty()) {
        return;
    }
    notes.push(
        "calls: every target of every step receives its caller's full request rate (all of a step's calls go out, whatever wait_for); a server's time includes its calls and their network round trips".into(),
    );
    if servers().any(|s| {
        s.calls
            .iter()
            .any(|c| c.hedge_after.is_some() || c.hedge_percentile.is_some())
    }) {
        notes.push(
            "calls: hedged copies add at most the share of calls slower than hedge_after to their targets' load, and shorten the tail; neither is in the estimate".into(),
        );
    }
    let name_has = |text: &str| {
        stations
            .iter()
            .flatten()
            .filter_map(|s| s.method.as_ref())
            .any(|m| m.name.contains(text))
    };
    if name_has("exponentials") {
        notes.push(
            "calls: `max/min/n-th of K exponentials` treats the targets' times as independent exponentials with their predicted means (plus network): an approximation".into(),
        );
    }
    if name_has("service times") {
        notes.push(
            "calls: `... of K service times` takes targets that almost never queue (probability of waiting below 0.1 %) as independent draws of their service-time distribution: an approximation".into(),
        );
    }
    if name_has("worker held") {
        notes.push(
            "calls: thread mode holds a worker while the calls are out, so the caller is a multi-server queue with service = own work + calls (approximation)".into(),
        );
    }
    if spec
        .workloads
        .iter()
        .any(|w| w.arrival.open_rate_per_second().is_none())
    {
        notes.push(
            "calls: for closed workloads MVA takes the called servers as further visits in sequence (approximation)".into(),
        );
    }
}

/// Adds a caller's downstream time to its station prediction: async, the
/// time waiting for calls follows its own queue; thread, the queue was
/// already computed with a worker held for own work plus calls.
fn with_calls(
    st: &mut StationPrediction,
    name: &str,
    thread: bool,
    down: Option<&crate::calls::CallWait>,
    steps: &mut Vec<String>,
) {
    st.p99_s = None;
    st.tail = None;
    let Some(down) = down else {
        st.method = None;
        st.mean_s = None;
        return;
    };
    if st.utilization.is_nan() {
        // Not predicted (no finite mean): nothing to add calls to.
        st.mean_s = None;
        return;
    }
    let Some(method) = &mut st.method else {
        return;
    };
    if thread {
        method.name = format!("{}, worker held through {}", method.name, down.label);
        // Downstream times are neither independent of the queue nor of
        // the modelled shape, so this is an approximation.
        method.exact = false;
        if let Some(mean) = st.mean_s {
            steps.push(format!(
                "{name}: thread mode: a worker is held for own work + calls = {} (approximation); time here = {}",
                fmt_s(st.service_s),
                fmt_s(mean)
            ));
        }
    } else {
        method.name = format!("{} + {}", method.name, down.label);
        method.exact &= down.exact;
        if let Some(mean) = &mut st.mean_s {
            steps.push(format!(
                "{name}: async mode: own time {} + calls {} = {}",
                fmt_s(*mean),
                fmt_s(down.mean),
                fmt_s(*mean + down.mean)
            ));
            *mean += down.mean;
        }
    }
}

/// Components reachable from a queue's or stream's consumers: their traffic
/// is shaped by the buffer, so they get no station prediction.
fn async_consumers(spec: &ModelSpec) -> Vec<bool> {
    let mut marked = vec![false; spec.components.len()];
    let mut stack: Vec<usize> = Vec::new();
    // Every message reaches a queue's consumer and each stream group's
    // target ([`ComponentKind::downstream`]'s `Flow::Every`).
    for c in &spec.components {
        c.kind.downstream(|to, flow| {
            if flow == Flow::Every {
                stack.push(to.index());
            }
        });
    }
    while let Some(i) = stack.pop() {
        if i >= marked.len() || marked[i] {
            continue;
        }
        marked[i] = true;
        let kind = &spec.components[i].kind;
        if matches!(kind, ComponentKind::LoadBalancer(_)) {
            kind.downstream(|b, _| stack.push(b.index()));
        }
    }
    marked
}

/// Whether every balancer reachable from `component` routes at random.
fn leaves_all_random(spec: &ModelSpec, component: usize) -> bool {
    match spec.components.get(component).map(|c| &c.kind) {
        Some(ComponentKind::LoadBalancer(lb)) => {
            lb.policy == LbPolicy::Random
                && lb
                    .backends
                    .iter()
                    .all(|b| leaves_all_random(spec, b.index()))
        }
        _ => true,
    }
}

/// The spec with every open workload's rate multiplied by `factor`.
fn scaled(spec: &ModelSpec, factor: f64) -> ModelSpec {
    let mut spec = spec.clone();
    for w in &mut spec.workloads {
        w.arrival = match &w.arrival {
            ArrivalSpec::Poisson { per_second } => ArrivalSpec::Poisson {
                per_second: per_second * factor,
            },
            ArrivalSpec::Constant { per_second } => ArrivalSpec::Constant {
                per_second: per_second * factor,
            },
            ArrivalSpec::Interarrival(d) => ArrivalSpec::Interarrival(stretch(d, 1.0 / factor)),
            ArrivalSpec::Phases(phases) => ArrivalSpec::Phases(
                phases
                    .iter()
                    .map(|p| sysdes_models::PhaseSpec {
                        per_second: p.per_second * factor,
                        length: p.length,
                    })
                    .collect(),
            ),
            ArrivalSpec::Curve(c) => ArrivalSpec::Curve(sysdes_models::RateCurveSpec {
                points: c.points.iter().map(|&(at, r)| (at, r * factor)).collect(),
                ..c.clone()
            }),
            ArrivalSpec::Mmpp(m) => ArrivalSpec::Mmpp(sysdes_models::MmppSpec {
                states: m
                    .states
                    .iter()
                    .map(|s| sysdes_models::MmppState {
                        per_second: s.per_second * factor,
                        mean_stay: s.mean_stay,
                    })
                    .collect(),
            }),
            ArrivalSpec::Trace(t) => ArrivalSpec::Trace(sysdes_models::TraceSpec {
                speed: t.speed * factor,
                ..t.clone()
            }),
            closed @ ArrivalSpec::Closed { .. } => closed.clone(),
        };
    }
    spec
}

/// A distribution with every time multiplied by `f`.
fn stretch(d: &Distribution, f: f64) -> Distribution {
    match d {
        Distribution::Constant(x) => {
            Distribution::Constant(duration_from_ns(x.as_nanos() as f64 * f))
        }
        Distribution::Exponential { mean_ns } => Distribution::Exponential {
            mean_ns: mean_ns * f,
        },
        Distribution::Uniform { low_ns, high_ns } => Distribution::Uniform {
            low_ns: low_ns * f,
            high_ns: high_ns * f,
        },
        Distribution::LogNormal { median_ns, sigma } => Distribution::LogNormal {
            median_ns: median_ns * f,
            sigma: *sigma,
        },
        Distribution::Pareto { scale_ns, shape } => Distribution::Pareto {
            scale_ns: scale_ns * f,
            shape: *shape,
        },
        Distribution::Erlang { k, mean_ns } => Distribution::Erlang {
            k: *k,
            mean_ns: mean_ns * f,
        },
        Distribution::Mixture(parts) => {
            Distribution::Mixture(parts.iter().map(|(w, d)| (*w, stretch(d, f))).collect())
        }
    }
}

/// Rounds nanoseconds to a duration, half up.
fn duration_from_ns(ns: f64) -> sysdes_kernel::SimDuration {
    sysdes_kernel::SimDuration::from_nanos((ns + 0.5) as u64)
}

fn metric(slo: Slo, mean: Option<f64>, p99: Option<f64>) -> Option<f64> {
    match slo.metric {
        SloMetric::Mean => mean,
        SloMetric::P99 => p99,
    }
}

/// Largest `s` in (0, hi) with `ok(s)`, assuming `ok` holds below a
/// threshold; `None` if it does not hold even at a millionth of `hi`.
fn largest_ok(hi: f64, ok: impl Fn(f64) -> bool) -> Option<f64> {
    if !ok(hi * 1e-6) {
        return None;
    }
    let (mut lo, mut hi) = (hi * 1e-6, hi);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

fn capacity(
    spec: &ModelSpec,
    p: &Prediction,
    slo: Option<Slo>,
    target_rps: Option<f64>,
) -> Capacity {
    let mut cap = Capacity {
        bottleneck: p
            .stations
            .iter()
            .flatten()
            .max_by(|a, b| a.utilization.total_cmp(&b.utilization))
            .map(|s| (s.name.clone(), s.utilization)),
        ..Capacity::default()
    };
    // A station outside every formula's domain leaves the capacity unknown.
    // (The SLO line is only for an SLO that was asked for.)
    if let Some(unknown) = p.stations.iter().flatten().find(|s| s.utilization.is_nan()) {
        cap.bottleneck = None;
        if slo.is_some() {
            cap.slo_note = Some(format!(
                "not predicted: `{}` has no finite mean time per request",
                unknown.name
            ));
        }
        return cap;
    }
    let open_total: f64 = spec
        .workloads
        .iter()
        .filter_map(|w| w.arrival.open_rate_per_second())
        .sum();
    if open_total <= 0.0 {
        if slo.is_some() {
            cap.slo_note = Some(
                "the SLO search scales open-loop workloads and this scenario has none; for closed users, vary `users` and compare the predicted response time".into(),
            );
        }
        return cap;
    }
    // Utilization grows linearly with the open rate (closed traffic held fixed).
    let open_only = predict_at(&scaled(spec, 0.0), false);
    let s_max = p
        .stations
        .iter()
        .zip(&open_only.stations)
        .filter_map(|(s, base)| {
            let (s, base) = (s.as_ref()?, base.as_ref()?);
            let open_util = s.utilization - base.utilization;
            (open_util > 0.0).then(|| (1.0 - base.utilization) / open_util)
        })
        .fold(f64::INFINITY, f64::min);
    if s_max.is_finite() {
        cap.max_open_rps = Some(open_total * s_max);
    }
    let hi = if s_max.is_finite() { s_max } else { 1e6 };
    if let Some(slo) = slo {
        let meets = |s: f64| {
            let q = predict_at(&scaled(spec, s), false);
            q.workloads.iter().zip(&spec.workloads).all(|(w, ws)| {
                ws.arrival.open_rate_per_second().is_none()
                    || metric(slo, w.mean_s, w.p99_s).is_some_and(|m| m <= slo.limit_s)
            })
        };
        cap.slo_open_rps = largest_ok(hi * (1.0 - 1e-9), meets).map(|s| s * open_total);
        if cap.slo_open_rps.is_none() {
            let idle = predict_at(&scaled(spec, hi * 1e-6), false);
            let predictable = idle.workloads.iter().zip(&spec.workloads).all(|(w, ws)| {
                ws.arrival.open_rate_per_second().is_none()
                    || metric(slo, w.mean_s, w.p99_s).is_some()
            });
            cap.slo_note = Some(if predictable {
                "the SLO cannot be met at any rate: even an almost idle system exceeds it (service and network time alone)".into()
            } else {
                "this statistic is not predicted for this topology (no exact tail); try an SLO on the mean".into()
            });
        }
        for (k, st) in p.stations.iter().enumerate() {
            let Some(st) = st else { continue };
            let rate = largest_ok(hi * (1.0 - 1e-9), |s| {
                let q = predict_at(&scaled(spec, s), false);
                q.stations[k]
                    .as_ref()
                    .and_then(|x| metric(slo, x.mean_s, x.p99_s))
                    .is_some_and(|m| m <= slo.limit_s)
            })
            .map(|s| st.arrival_rps * s);
            cap.slo_station_rps.push((st.name.clone(), rate));
        }
    }
    if let Some(target) = target_rps {
        let factor = target / open_total;
        let q = predict_at(&scaled(spec, factor), false);
        for (k, st) in q.stations.iter().enumerate() {
            let Some(st) = st else { continue };
            let load = st.arrival_rps * st.service_s;
            let mut workers = ((load / SIZING_UTILIZATION).ceil() as u32).max(1);
            // Add workers until the station meets the SLO; stop once the
            // station is nearly idle, where more workers cannot help.
            let idle_workers = ((load / 0.05).ceil() as u32).max(workers);
            let mut meets_slo = true;
            if let Some(slo) = slo {
                let meets = |workers: u32| {
                    let mut one = scaled(spec, factor);
                    if let ComponentKind::Server(server) = &mut one.components[k].kind {
                        server.workers = workers;
                    }
                    let r = predict_at(&one, false);
                    r.stations[k]
                        .as_ref()
                        .and_then(|x| metric(slo, x.mean_s, x.p99_s))
                        .is_some_and(|m| m <= slo.limit_s)
                };
                // Latency only falls as workers are added: double until the
                // SLO holds, then bisect for the fewest that meet it
                // (O(log n) predictions, not n).
                if !meets(workers) {
                    let (mut fails, mut holds) = (workers, workers);
                    while holds < idle_workers && !meets(holds) {
                        fails = holds;
                        holds = (holds * 2).min(idle_workers);
                    }
                    if meets(holds) {
                        while holds - fails > 1 {
                            let mid = fails + (holds - fails) / 2;
                            if meets(mid) {
                                holds = mid;
                            } else {
                                fails = mid;
                            }
                        }
                        workers = holds;
                    } else {
                        // Out of reach at any size: report the utilization rule's count.
                        meets_slo = false;
                    }
                }
            }
            cap.workers_for_target.push(WorkersNeeded {
                name: st.name.clone(),
                arrival_rps: st.arrival_rps,
                utilization: st.utilization,
                workers,
                meets_slo,
            });
        }
    }
    cap
}

/// Whether component `k` receives a balancer's shadow (mirrored) copies.
fn is_shadow_target(spec: &ModelSpec, k: usize) -> bool {
    spec.components.iter().any(|c| match &c.kind {
        ComponentKind::LoadBalancer(lb) => lb
            .routing
            .shadow
            .as_ref()
            .is_some_and(|s| s.to.index() == k),
        _ => false,
    })
}
