//! Faults against exact or statistical expectations: crashes fail what is
//! inside and what arrives while down (and every request still ends exactly
//! once), slowdowns stretch service by their factor, partitions fail only
//! the requests that try to cross them.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// M/M/1 at rho 0.5 (lambda 1000/s, mean service 0.5 ms), crashed from 40 s
/// for 10 s. Every arrival in the window fails: lambda x window = 10,000,
/// Poisson, so sigma = 100; the requests inside at the crash add about
/// rho / (1 - rho) = 1. Tolerance 3 sigma + 5.
#[test]
fn crash_fails_arrivals_in_its_window() {
    let mut spec = ModelSpec::single_server(
        1000.0,
        1,
        Distribution::Exponential { mean_ns: 0.5 * MS },
        secs(100),
    );
    spec.faults = vec![FaultSpec {
        at: secs(40),
        duration: secs(10),
        kind: FaultKind::Crash(ComponentId(0)),
    }];
    let r = run(&spec);
    let failed = r.requests.failed as f64;
    println!("crash: {failed} failed, expected 10,000 +- 300");
    assert!(
        (failed - 10_000.0).abs() < 3.0 * 100.0 + 5.0,
        "failed {failed}"
    );
    assert_eq!(extra(&r, "lost_in_crash"), failed);
    // Failures only in series intervals that overlap the window.
    for p in &r.series.points {
        if p.end_s <= 40.0 || p.start_s >= 50.0 {
            assert_eq!(p.failed, 0, "failure outside the window at {}", p.start_s);
        }
    }
    assert_eq!(r.faults.len(), 1);
    assert_eq!(
        r.faults[0],
        FaultWindow {
            kind: "crash",
            target: "server".into(),
            start_s: 40.0,
            end_s: 50.0,
            spot: false
        }
    );
}

/// A replica with long constant service (200 ms, 50 workers) crashes with
/// work in service, behind a balancer, with network delay: the crash fails
/// the in-service work at once, the stale completions are ignored, and every
/// request ends exactly once (checked in `run`). Failures: half the arrivals
/// in the 5 s window (lambda/2 x 5 = 500, sigma 22) plus those inside at the
/// crash (about lambda/2 x 0.2 = 20). Tolerance 3 sigma + 20.
#[test]
fn crash_mid_service_conserves_requests() {
    let mut spec = ModelSpec::single_server(200.0, 50, constant_ms(200.0), secs(30));
    spec.network.latency = constant_ms(1.0);
    spec.components.push(spec.components[0].clone());
    spec.components[1].name = "replica-2".into();
    spec.components.push(ComponentSpec {
        name: "lb".into(),
        kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
            policy: LbPolicy::RoundRobin,
            backends: vec![ComponentId(0), ComponentId(1)],
            routing: Default::default(),
        }),
    });
    spec.workloads[0].target = ComponentId(2);
    spec.faults = vec![FaultSpec {
        at: secs(10),
        duration: secs(5),
        kind: FaultKind::Crash(ComponentId(0)),
    }];
    let r = run(&spec);
    let failed = r.requests.failed as f64;
    println!("crash mid-service: {failed} failed, expected 520 +- 67");
    assert!(
        (failed - 520.0).abs() < 3.0 * 22.4 + 20.0,
        "failed {failed}"
    );
    assert_eq!(extra(&r, "lost_in_crash"), failed);
    // After the restart the replica serves again, at the constant 200 ms
    // plus 2 x 2 ms of network: no successful request took longer.
    // (The histogram's max is exact to 3 significant digits.)
    assert!((r.latency.max_ns() as f64 / MS / 204.0 - 1.0).abs() < 1e-3);
}

/// Crashes inside a call graph: a front server (thread mode) calls a db;
/// the db crashes (the front's calls fail, so it answers with errors), then
/// the front crashes while its requests wait on calls. Conservation holds
/// across many seeds, with client timeouts and retries in play.
#[test]
fn crashes_in_a_call_graph_conserve_requests() {
    for seed in 0..20 {
        let mut spec = ModelSpec::single_server(
            300.0,
            8,
            Distribution::Exponential { mean_ns: 2.0 * MS },
            secs(20),
        );
        spec.seed = seed;
        spec.network.latency = Distribution::Exponential { mean_ns: 0.5 * MS };
        spec.components.push(ComponentSpec {
            name: "db".into(),
            kind: ComponentKind::Server(ServerSpec::new(
                4,
                Distribution::Exponential { mean_ns: 5.0 * MS },
            )),
        });
        if let ComponentKind::Server(s) = &mut spec.components[0].kind {
            s.calls = vec![CallStep {
                targets: vec![ComponentId(1)],
                wait_for: WaitFor::All,
                hedge_after: Some(SimDuration::from_millis(20)),
                hedge_percentile: None,
                timeout: None,
                partial: false,
                breaker: None,
            }];
        }
        spec.workloads[0].timeout = Some(SimDuration::from_millis(100));
        spec.workloads[0].retries = Some(RetrySpec {
            max: 2,
            backoff: constant_ms(10.0),
            multiplier: 2.0,
            max_backoff: None,
            jitter: Jitter::None,
            budget: None,
        });
        spec.faults = vec![
            FaultSpec {
                at: secs(5),
                duration: secs(2),
                kind: FaultKind::Crash(ComponentId(1)),
            },
            FaultSpec {
                at: SimDuration::from_millis(12_345),
                duration: secs(2),
                kind: FaultKind::Crash(ComponentId(0)),
            },
        ];
        let r = run(&spec);
        assert!(r.requests.failed > 0, "seed {seed}: {:?}", r.requests);
        assert!(extra(&r, "lost_in_crash") > 0.0);
    }
}

/// Slowdown: one closed-loop user with no think time against a server of
/// constant 1 ms service: each request takes exactly its service time, so
/// intervals inside the slowdown window show factor x 1 ms = 4 ms and the
/// others 1 ms (exact up to one request straddling a boundary).
#[test]
fn slowdown_multiplies_service_time_in_its_window() {
    let mut spec = ModelSpec::single_server(1.0, 1, constant_ms(1.0), secs(30));
    spec.workloads[0].arrival = ArrivalSpec::Closed {
        users: 1,
        think_time: constant_ms(0.0),
    };
    spec.faults = vec![FaultSpec {
        at: secs(10),
        duration: secs(10),
        kind: FaultKind::Slowdown {
            target: ComponentId(0),
            factor: 4.0,
        },
    }];
    let r = run(&spec);
    let (mut inside, mut outside) = (0, 0);
    for p in r.series.points.iter().filter(|p| p.completed > 0) {
        if p.start_s >= 10.0 && p.end_s <= 20.0 {
            assert!((p.latency_mean_ms - 4.0).abs() < 1e-6, "{p:?}");
            inside += 1;
        } else if p.end_s <= 10.0 || p.start_s >= 20.01 {
            assert!((p.latency_mean_ms - 1.0).abs() < 1e-6, "{p:?}");
            outside += 1;
        }
    }
    assert!(inside > 20 && outside > 40, "{inside} {outside}");
    // Mean service time of the whole run: 20 s at 1 ms and 10 s at 4 ms
    // (by time), so 20,000 + 2,500 requests: (20,000 + 10,000) / 22,500 ms.
    let mean = r.latency.mean_ns() / MS;
    assert!((mean - 30_000.0 / 22_500.0).abs() < 0.001, "mean {mean}");
}

/// Partition: the client (zone us) is cut off from its server (zone eu)
/// from 10 s for 5 s. Requests sent in the window fail after
/// `unreachable_after` (1 s): lambda x 5 = 500 (sigma 22), plus the few in
/// flight at the cut whose responses cannot return (lambda x 85 ms = 8.5).
/// No failure is seen outside [10 s, 16 s + one interval).
#[test]
fn partition_fails_only_requests_that_cross_it_in_its_window() {
    let mut spec = ModelSpec::single_server(100.0, 100, constant_ms(5.0), secs(30));
    spec.network.latency = constant_ms(1.0);
    spec.network.zones = vec!["us".into(), "eu".into()];
    spec.network.zone_latency = vec![(1, 2, constant_ms(40.0))];
    spec.network.workload_zones = vec![1];
    spec.network.component_zones = vec![2];
    spec.faults = vec![FaultSpec {
        at: secs(10),
        duration: secs(5),
        kind: FaultKind::Partition(vec![vec![NetTarget::Zone(1)], vec![NetTarget::Zone(2)]]),
    }];
    let r = run(&spec);
    let failed = r.requests.failed as f64;
    println!("partition: {failed} failed, expected 508.5 +- 67");
    assert!((failed - 508.5).abs() < 3.0 * 22.4 + 5.0, "failed {failed}");
    for p in &r.series.points {
        if p.end_s <= 10.0 || p.start_s >= 16.5 {
            assert_eq!(p.failed, 0, "failure outside the window at {}", p.start_s);
        }
    }
    // Successful requests took exactly 5 + 2 x 40 ms.
    assert!((r.latency.max_ns() as f64 / MS / 85.0 - 1.0).abs() < 1e-3);
}

/// Latency injection and a loss burst between the client and the server,
/// each in its own window: exact extra delay for the injection; the loss
/// burst's mean extra is retransmit x p / (1 - p) per direction.
#[test]
fn latency_and_loss_faults_act_only_in_their_windows() {
    let mut spec = ModelSpec::single_server(1.0, 1, constant_ms(1.0), secs(30));
    spec.workloads[0].arrival = ArrivalSpec::Closed {
        users: 1,
        think_time: constant_ms(0.0),
    };
    let ends = (NetTarget::Workload(0), NetTarget::Component(ComponentId(0)));
    spec.faults = vec![
        FaultSpec {
            at: secs(5),
            duration: secs(5),
            kind: FaultKind::Latency {
                from: ends.0,
                to: ends.1,
                add: constant_ms(10.0),
            },
        },
        FaultSpec {
            at: secs(20),
            duration: secs(5),
            kind: FaultKind::Loss {
                from: ends.1,
                to: ends.0,
                rate: 0.5,
            },
        },
    ];
    let r = run(&spec);
    for p in r.series.points.iter().filter(|p| p.completed > 0) {
        let inside_latency = p.start_s >= 5.0 && p.end_s <= 10.0;
        let near = |t: f64| (p.start_s - 0.5..p.end_s + 0.5).contains(&t);
        if inside_latency {
            assert!((p.latency_mean_ms - 21.0).abs() < 1e-6, "{p:?}");
        } else if !(near(5.0) || near(10.0) || (19.5..25.5).contains(&p.start_s)) {
            assert!((p.latency_mean_ms - 1.0).abs() < 1e-6, "{p:?}");
        }
    }
    // Inside the loss burst: 1 ms + 2 x 200 ms x 0.5 / 0.5 = 401 ms on
    // average; a few dozen requests, so only the order of magnitude.
    let burst: Vec<&SeriesPoint> = r
        .series
        .points
        .iter()
        .filter(|p| p.start_s >= 20.0 && p.end_s <= 25.0 && p.completed > 0)
        .collect();
    let mean = burst
        .iter()
        .map(|p| p.latency_mean_ms * p.completed as f64)
        .sum::<f64>()
        / burst.iter().map(|p| p.completed as f64).sum::<f64>();
    assert!((100.0..1000.0).contains(&mean), "mean in burst {mean}");
}
