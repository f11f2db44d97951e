//! The models against queueing theory (`shared/validation.md`).
//!
//! Units: mean service time 1 ms (mu = 1000/s) unless stated; results are
//! compared in mean service times. Each test names its formula beside its
//! tolerance. Runs have about 10^6 measured requests and a fixed seed, so
//! each is deterministic; the tolerances are those validation.md gives for
//! runs of that size, and a broken model misses them by far more.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn server(
    name: &str,
    workers: u32,
    service_time: Distribution,
    queue_capacity: Option<u32>,
) -> ComponentSpec {
    let spec = ServerSpec {
        queue_capacity,
        ..ServerSpec::new(workers, service_time)
    };
    component(name, ComponentKind::Server(spec))
}

/// Workload `users`, Poisson at `per_second`, into component 0.
fn open(per_second: f64) -> WorkloadSpec {
    users(poisson(per_second))
}

/// Seed 42, warm-up 2 % of the run.
fn spec(
    duration_s: u64,
    workloads: Vec<WorkloadSpec>,
    components: Vec<ComponentSpec>,
) -> ModelSpec {
    model_spec("theory", duration_s, workloads, components)
}

/// Mean and p99 of end-to-end latency, in mean service times (ms here).
fn mean_p99(r: &RunResult) -> (f64, f64) {
    (
        r.latency.mean_ns() / MS,
        r.latency.quantile_ns(0.99) as f64 / MS,
    )
}

/// M/M/1: sojourn T ~ Exp(mu - lambda), so E[T] = 1/(mu - lambda) and
/// t_q = -ln(1 - q)/(mu - lambda).
#[test]
fn mm1_mean_and_p99() {
    // rho 0.5: mean 2, p99 9.210; tolerance 1 % / 2 %.
    let r = run(&spec(
        2_000,
        vec![open(500.0)],
        vec![server("s", 1, exp_ms(1.0), None)],
    ));
    let (mean, p99) = mean_p99(&r);
    close("M/M/1 rho 0.5 mean", mean, 2.0, 0.01);
    close("M/M/1 rho 0.5 p99", p99, -(0.01f64.ln()) / 0.5, 0.02);

    // rho 0.9: mean 10, p99 46.05; tolerance 6 % / 12 %.
    let r = run(&spec(
        1_200,
        vec![open(900.0)],
        vec![server("s", 1, exp_ms(1.0), None)],
    ));
    let (mean, p99) = mean_p99(&r);
    close("M/M/1 rho 0.9 mean", mean, 10.0, 0.06);
    close("M/M/1 rho 0.9 p99", p99, -(0.01f64.ln()) / 0.1, 0.12);
    // Utilization law: U = lambda / mu.
    close(
        "M/M/1 rho 0.9 utilization",
        r.components[0].utilization,
        0.9,
        0.01,
    );
}

/// Erlang C probability of waiting for c servers at offered load a.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
    last / (sum + last)
}

/// M/M/c (Erlang C): mean T = C/(c mu - lambda) + 1/mu; P(T > t) has no
/// simple closed form but P(W_q > t) = C e^{-(c mu - lambda) t}, and the
/// p99 of T for c = 4, lambda = 3.2 is 6.893 (validation.md).
#[test]
fn mmc_erlang_c() {
    let c = erlang_c(4, 3.2);
    assert!((c - 0.59643).abs() < 1e-5, "Erlang C formula itself: {c}");
    let r = run(&spec(
        300,
        vec![open(3200.0)],
        vec![server("s", 4, exp_ms(1.0), None)],
    ));
    let (mean, p99) = mean_p99(&r);
    // Tolerance 2.5 % / 4 %.
    close("M/M/4 mean T", mean, c / (4.0 - 3.2) + 1.0, 0.025);
    close("M/M/4 p99 T", p99, 6.893, 0.04);
    // Lq = lambda Wq = lambda C / (c mu - lambda) (per ms: 3.2 * C / 0.8).
    close(
        "M/M/4 mean queue length",
        r.components[0].mean_queue_length,
        3.2 * c / 0.8,
        0.04,
    );
}

/// M/D/1, Pollaczek-Khinchine: W_q = rho / (2 mu (1 - rho)); rho 0.8 gives
/// W_q 2.0, T 3.0, p99 11.356. Tolerance 2 % / 3 %.
#[test]
fn md1_pollaczek_khinchine() {
    let constant = Distribution::Constant(SimDuration::from_millis(1));
    let r = run(&spec(
        1_300,
        vec![open(800.0)],
        vec![server("s", 1, constant, None)],
    ));
    let (mean, p99) = mean_p99(&r);
    close("M/D/1 mean T", mean, 3.0, 0.02);
    close("M/D/1 p99 T", p99, 11.356, 0.03);
}

/// M/G/1, Pollaczek-Khinchine: W_q = rho (1 + c_s^2) / (2 mu (1 - rho)).
/// Log-normal service with c_s^2 = 4 (sigma^2 = ln 5) at rho 0.8: T = 11.
/// Tolerance 6 % (validation.md).
#[test]
fn mg1_lognormal_service() {
    let sigma = 5f64.ln().sqrt();
    let service = Distribution::LogNormal {
        median_ns: MS / 5f64.sqrt(),
        sigma,
    };
    assert!((service.mean_ns() / MS - 1.0).abs() < 1e-12);
    let r = run(&spec(
        1_300,
        vec![open(800.0)],
        vec![server("s", 1, service, None)],
    ));
    close(
        "M/G/1 mean T",
        mean_p99(&r).0,
        1.0 + 0.8 * 5.0 / (2.0 * 0.2),
        0.06,
    );
}

/// Erlang B (M/M/c/c): B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1));
/// c 10, a 7: 0.078741. Tolerance 3 % relative.
#[test]
fn erlang_b_loss_system() {
    let b = (1..=10).fold(1.0, |b, k| 7.0 * b / (f64::from(k) + 7.0 * b));
    assert!((b - 0.078741).abs() < 1e-6);
    let r = run(&spec(
        150,
        vec![open(7000.0)],
        vec![server("s", 10, exp_ms(1.0), Some(0))],
    ));
    let s = &r.components[0];
    close(
        "Erlang B blocking",
        s.drops as f64 / s.arrivals as f64,
        b,
        0.03,
    );
    assert_eq!(
        r.requests.dropped, s.drops,
        "drops reach the client as dropped"
    );
}

/// M/M/1/K: P_block = (1 - rho) rho^K / (1 - rho^{K+1}); K 10 (one in
/// service, nine waiting), rho 0.9: 0.050814. Tolerance 3 % relative.
#[test]
fn mm1k_blocking() {
    let rho: f64 = 0.9;
    let p = (1.0 - rho) * rho.powi(10) / (1.0 - rho.powi(11));
    let r = run(&spec(
        1_200,
        vec![open(900.0)],
        vec![server("s", 1, exp_ms(1.0), Some(9))],
    ));
    let s = &r.components[0];
    close(
        "M/M/1/10 blocking",
        s.drops as f64 / s.arrivals as f64,
        p,
        0.03,
    );
}

/// Little's law, L = lambda W, per component and end to end, on one run:
/// time-average number inside vs throughput x mean time inside. Tolerance
/// 0.5 %.
#[test]
fn littles_law_per_component_and_end_to_end() {
    let lb = ComponentSpec {
        name: "lb".into(),
        kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
            policy: LbPolicy::PowerOfTwo,
            backends: vec![ComponentId(1), ComponentId(2), ComponentId(3)],
            routing: Default::default(),
        }),
    };
    let mut s = spec(
        500,
        vec![open(2400.0)],
        vec![
            lb,
            server("a", 1, exp_ms(1.0), None),
            server(
                "b",
                2,
                Distribution::Uniform {
                    low_ns: 0.5 * MS,
                    high_ns: 2.5 * MS,
                },
                None,
            ),
            server(
                "c",
                1,
                Distribution::Erlang {
                    k: 2,
                    mean_ns: 0.8 * MS,
                },
                None,
            ),
        ],
    );
    s.network.latency = Distribution::Exponential { mean_ns: 0.2 * MS };
    let r = run(&s);
    let window = r.window_s();
    for c in &r.components {
        let lambda = c.throughput_rps(window);
        let w = c.latency.mean_ns() / 1e9;
        close(
            &format!("Little's law at {}", c.name),
            c.mean_in_system,
            lambda * w,
            0.005,
        );
    }
    // End to end: the balancer's round trip excludes only the first and last
    // network hop; the client sees both, each 0.2 ms on average.
    let e2e = r.latency.mean_ns() / MS;
    close(
        "end-to-end = balancer round trip + 2 hops",
        e2e,
        r.components[0].latency.mean_ns() / MS + 0.4,
        0.005,
    );
}

/// Exact Mean Value Analysis for a closed network of single-server FIFO
/// stations (service demands `d`, in seconds) and a delay station (think
/// time `z`): R_k(n) = D_k (1 + Q_k(n-1)), X(n) = n / (Z + sum R_k), Q_k = X R_k.
fn mva(demands: &[f64], z: f64, users: u32) -> (f64, f64) {
    let mut q = vec![0.0; demands.len()];
    let (mut x, mut r) = (0.0, 0.0);
    for n in 1..=users {
        let rk: Vec<f64> = demands.iter().zip(&q).map(|(d, q)| d * (1.0 + q)).collect();
        r = rk.iter().sum();
        x = f64::from(n) / (z + r);
        q = rk.iter().map(|rk| x * rk).collect();
    }
    (x, r)
}

/// Closed loop, one exponential server: throughput and response time equal
/// exact MVA (product form; think-time distribution does not matter).
/// Tolerance 2 %.
#[test]
fn closed_loop_matches_mva() {
    let users = 20;
    let workload = WorkloadSpec {
        arrival: ArrivalSpec::Closed {
            users,
            think_time: exp_ms(10.0),
        },
        ..open(1.0)
    };
    let r = run(&spec(
        1_000,
        vec![workload],
        vec![server("s", 1, exp_ms(1.0), None)],
    ));
    let (x, resp) = mva(&[0.001], 0.010, users);
    close("closed loop throughput", r.throughput_rps(), x, 0.02);
    close(
        "closed loop response time",
        r.latency.mean_ns() / 1e9,
        resp,
        0.02,
    );
    // Response time law: R = N/X - Z, on the measured figures.
    let law = f64::from(users) / r.throughput_rps() - 0.010;
    close("response time law", r.latency.mean_ns() / 1e9, law, 0.02);
}

/// Closed loop through a random balancer over a fast and a slow server: a
/// BCMP network (probabilistic routing), so MVA with visit ratio 1/2 each
/// is exact. Tolerance 2 %.
#[test]
fn closed_loop_with_random_routing_matches_mva() {
    let users = 15;
    let lb = ComponentSpec {
        name: "lb".into(),
        kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
            policy: LbPolicy::Random,
            backends: vec![ComponentId(1), ComponentId(2)],
            routing: Default::default(),
        }),
    };
    let workload = WorkloadSpec {
        arrival: ArrivalSpec::Closed {
            users,
            think_time: Distribution::Constant(SimDuration::from_millis(5)),
        },
        ..open(1.0)
    };
    let r = run(&spec(
        1_000,
        vec![workload],
        vec![
            lb,
            server("fast", 1, exp_ms(1.0), None),
            server("slow", 1, exp_ms(2.0), None),
        ],
    ));
    let (x, resp) = mva(&[0.5 * 0.001, 0.5 * 0.002], 0.005, users);
    close(
        "closed random-routing throughput",
        r.throughput_rps(),
        x,
        0.02,
    );
    close(
        "closed random-routing response",
        r.latency.mean_ns() / 1e9,
        resp,
        0.02,
    );
}

/// Load balancing over n = 100 M/M/1 servers at rho 0.9 (validation.md):
/// random 10.0 (exact: each server is M/M/1), round robin 5.227 (exact),
/// power of two 2.673 (simulation), JSQ 1.068 (simulation), and the order
/// random > round robin > power of two > JSQ > M/M/100 (1.0217) always.
#[test]
fn load_balancer_policy_order() {
    let mean_for = |policy: LbPolicy| {
        let mut components = vec![ComponentSpec {
            name: "lb".into(),
            kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
                policy,
                backends: (1..=100).map(ComponentId).collect(),
                routing: Default::default(),
            }),
        }];
        components.extend((1..=100).map(|i| server(&format!("s{i}"), 1, exp_ms(1.0), None)));
        let r = run(&spec(12, vec![open(90_000.0)], components));
        r.latency.mean_ns() / MS
    };
    let random = mean_for(LbPolicy::Random);
    let round_robin = mean_for(LbPolicy::RoundRobin);
    let p2c = mean_for(LbPolicy::PowerOfTwo);
    let jsq = mean_for(LbPolicy::LeastOutstanding);
    close(
        "random (each server M/M/1 at rho 0.9, 6 %)",
        random,
        10.0,
        0.06,
    );
    close("round robin", round_robin, 5.227, 0.04);
    close("power of two", p2c, 2.673, 0.04);
    close("least outstanding (JSQ)", jsq, 1.068, 0.03);
    assert!(random > round_robin && round_robin > p2c && p2c > jsq && jsq > 1.0217);
}
