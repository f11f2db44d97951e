//! Balancer routing against exact identities and queueing theory:
//! weighted random routing of a Poisson stream is independent Poisson
//! streams at the split rates (each backend an M/M/1), and round robin
//! with weight phases routes exactly the counts the weights give.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn server(name: &str, mean_ms: f64) -> ComponentSpec {
    component(
        name,
        ComponentKind::Server(ServerSpec::new(1, exp_ms(mean_ms))),
    )
}

fn balancer(policy: LbPolicy, n: u32, routing: LbRouting) -> ComponentSpec {
    component(
        "lb",
        ComponentKind::LoadBalancer(LoadBalancerSpec {
            policy,
            backends: (1..=n).map(ComponentId).collect(),
            routing,
        }),
    )
}

/// Weights 6:3:1 over a Poisson stream of 1000/s split it into Poisson
/// streams of 600, 300 and 100/s (thinning). Each count is binomial given
/// the total: within 4 standard deviations sqrt(N p (1 - p)). Each backend
/// (mean service 1, 2 and 6 ms: rho 0.6 each) is then an M/M/1 with mean
/// time 1/(mu - lambda_i) = 2.5, 5 and 15 ms; the tolerance is 4 standard
/// errors of a mean over n_i requests, sqrt(2(1 + rho)/((1 - rho)^2 n_i))
/// (Whitt's asymptotic variance of the M/M/1 mean).
#[test]
fn weighted_random_is_split_poisson() {
    let routing = LbRouting {
        weights: vec![6, 3, 1],
        ..LbRouting::default()
    };
    let spec = model_spec(
        "weighted",
        1_000,
        vec![users(poisson(1_000.0))],
        vec![
            balancer(LbPolicy::Random, 3, routing),
            server("a", 1.0),
            server("b", 2.0),
            server("c", 6.0),
        ],
    );
    let r = run(&spec);
    let total = r.components[0].arrivals as f64;
    let rho: f64 = 0.6;
    for (i, (p, mean_ms)) in [(0.6, 2.5), (0.3, 5.0), (0.1, 15.0)]
        .into_iter()
        .enumerate()
    {
        let c = &r.components[i + 1];
        let n = c.arrivals as f64;
        let sd = (total * p * (1.0 - p)).sqrt();
        let err = (n - total * p).abs();
        println!(
            "{}: {n} arrivals, expected {:.0}, {:.2} sd",
            c.name,
            total * p,
            err / sd
        );
        assert!(err <= 4.0 * sd, "{}: {n} arrivals vs {}", c.name, total * p);
        let tol = 4.0 * (2.0 * (1.0 + rho) / ((1.0 - rho).powi(2) * n)).sqrt();
        close(
            &format!("{} M/M/1 mean at {:.0}/s", c.name, 1000.0 * p),
            c.latency.mean_ns() / MS,
            mean_ms,
            tol,
        );
        close(&format!("{} utilization", c.name), c.utilization, rho, tol);
    }
}

/// Round robin with phases [3, 1] from 0 s, [1, 1] from 9.995 s and
/// [0, 1] from 19.995 s over constant arrivals every 10 ms (at 0, 10 ms,
/// ...; the run ends at 29.995 s): 1000 arrivals per phase, routed
/// exactly 750/250, 500/500 and 0/1000, so a gets 1250 and b 1750.
#[test]
fn round_robin_phases_route_exact_counts() {
    let at = |ns: u64| SimDuration::from_nanos(ns);
    let routing = LbRouting {
        weights: vec![3, 1],
        phases: vec![
            WeightPhase {
                at: at(9_995_000_000),
                weights: vec![1, 1],
            },
            WeightPhase {
                at: at(19_995_000_000),
                weights: vec![0, 1],
            },
        ],
        ..LbRouting::default()
    };
    let mut spec = model_spec(
        "phases",
        30,
        vec![users(ArrivalSpec::Constant { per_second: 100.0 })],
        vec![
            balancer(LbPolicy::RoundRobin, 2, routing),
            component(
                "a",
                ComponentKind::Server(ServerSpec::new(1, constant_ms(1.0))),
            ),
            component(
                "b",
                ComponentKind::Server(ServerSpec::new(1, constant_ms(1.0))),
            ),
        ],
    );
    spec.duration = at(29_995_000_000);
    spec.warmup = SimDuration::ZERO;
    let r = run(&spec);
    assert_eq!(r.components[0].arrivals, 3000);
    assert_eq!(r.components[1].arrivals, 1250);
    assert_eq!(r.components[2].arrivals, 1750);
}

/// Count, exact mean, quantiles and maximum of a latency histogram.
fn fingerprint(h: &sysdes_stats::LatencyHistogram) -> (u64, u64, [u64; 4], u64) {
    (
        h.count(),
        h.mean_ns().to_bits(),
        h.quantiles_ns([0.5, 0.9, 0.99, 0.999]),
        h.max_ns(),
    )
}

/// A balancer (random over two M/M/1 servers) with and without a shadow
/// that copies 30 % of 1000/s to an independent server `s` (mean 2 ms).
fn shadow_spec(shadow: bool) -> ModelSpec {
    let routing = LbRouting {
        shadow: shadow.then_some(ShadowSpec {
            to: ComponentId(3),
            share: 0.3,
        }),
        ..LbRouting::default()
    };
    model_spec(
        "shadow",
        1_000,
        vec![users(poisson(1_000.0))],
        vec![
            balancer(LbPolicy::Random, 2, routing),
            server("a", 1.0),
            server("b", 1.0),
            server("s", 2.0),
        ],
    )
}

/// Shadow copies never reach the client: end-to-end latency and every
/// backend's figures are bit-for-bit those of the run without the shadow
/// (the copies draw from their own stream). The shadow target sees a
/// thinned Poisson stream: its arrivals equal the balancer's `shadowed`
/// count exactly, which is binomial (share 0.3 of N) within 4 sd, and it
/// is an M/M/1 at 300/s with mean 2 ms (rho 0.6): mean time 1/(mu -
/// lambda) = 5 ms within 4 standard errors.
#[test]
fn shadow_is_invisible_to_clients_and_loads_its_target() {
    let with = run(&shadow_spec(true));
    let without = run(&shadow_spec(false));
    assert_eq!(
        fingerprint(&with.latency),
        fingerprint(&without.latency),
        "client latency changed"
    );
    assert_eq!(with.requests, without.requests);
    for i in 1..=2 {
        let (a, b) = (&with.components[i], &without.components[i]);
        assert_eq!(a.arrivals, b.arrivals, "{}", a.name);
        assert_eq!(
            fingerprint(&a.latency),
            fingerprint(&b.latency),
            "{}",
            a.name
        );
    }
    assert_eq!(without.components[3].arrivals, 0);
    assert_eq!(without.components[0].figure("shadowed"), None);

    let lb = &with.components[0];
    let s = &with.components[3];
    let shadowed = lb.figure("shadowed").expect("a shadowed count");
    assert_eq!(shadowed, s.arrivals as f64);
    let (n, p) = (lb.arrivals as f64, 0.3);
    let sd = (n * p * (1.0 - p)).sqrt();
    println!(
        "shadowed {shadowed} of {n}: expected {:.0}, {:.2} sd",
        n * p,
        (shadowed - n * p).abs() / sd
    );
    assert!((shadowed - n * p).abs() <= 4.0 * sd);
    let rho: f64 = 0.6;
    let tol = 4.0 * (2.0 * (1.0 + rho) / ((1.0 - rho).powi(2) * shadowed)).sqrt();
    close(
        "shadow target M/M/1 mean at 300/s",
        s.latency.mean_ns() / MS,
        5.0,
        tol,
    );
    close("shadow target utilization", s.utilization, rho, tol);
}

/// Round robin over a and b (constant 1 ms service) with constant
/// arrivals every 10 ms (k = 0, 1, ...: even k to a, odd to b), b crashed
/// from 10.005 s to 20.005 s; optionally health checks (3 failures,
/// probes every 1 s).
fn crash_spec(health: bool) -> ModelSpec {
    let at = |ns: u64| SimDuration::from_nanos(ns);
    let routing = LbRouting {
        health: health.then_some(HealthCheckSpec {
            failures: 3,
            interval: SimDuration::from_secs(1),
        }),
        ..LbRouting::default()
    };
    let fixed = |name: &str| {
        component(
            name,
            ComponentKind::Server(ServerSpec::new(1, constant_ms(1.0))),
        )
    };
    let mut spec = model_spec(
        "health",
        30,
        vec![users(ArrivalSpec::Constant { per_second: 100.0 })],
        vec![
            balancer(LbPolicy::RoundRobin, 2, routing),
            fixed("a"),
            fixed("b"),
        ],
    );
    spec.duration = at(29_995_000_000);
    spec.warmup = SimDuration::ZERO;
    spec.faults = vec![FaultSpec {
        at: at(10_005_000_000),
        duration: SimDuration::from_secs(10),
        kind: FaultKind::Crash(ComponentId(2)),
    }];
    spec
}

/// Health checks against a crash window, by hand. Without them b fails
/// every request it gets while down: odd k from 1001 to 1999, 500. With
/// them, b fails k = 1001, 1003, 1005 (detection within N = 3 failures)
/// and is ejected at 10.05 s: nothing more is sent to it while it is down.
/// Probes at 11.05, 12.05, ..., 20.05 s (10 probes): the first nine fail,
/// the tenth (after the restart at 20.005 s) succeeds at 20.051 s, within
/// one interval of the recovery. The round robin restarts there (k = 2006
/// to a, 2007 to b), so b gets odd k from 1 to 999 (500), the 3 failures,
/// and odd k from 2007 to 2999 (497): 1000; a gets the other 2000.
#[test]
fn health_checks_eject_a_crashed_backend_and_probe_it_back() {
    let without = run(&crash_spec(false));
    assert_eq!(without.requests.failed, 500);
    assert_eq!(without.components[0].figure("ejections"), None);

    let r = run(&crash_spec(true));
    assert_eq!(r.requests.failed, 3, "{:?}", r.requests);
    let lb = &r.components[0];
    assert_eq!(lb.figure("ejections"), Some(1.0));
    assert_eq!(lb.figure("probes"), Some(10.0));
    assert_eq!(r.components[2].arrivals, 1000);
    assert_eq!(r.components[1].arrivals, 2000);
    assert_eq!(r.requests.completed, 2997);
}
