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
