//! The network model against exact figures: zone latency adds exactly the
//! matrix delay, loss with retransmission adds a geometric number of
//! retransmit delays, and bandwidth adds size / bandwidth.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// `users` (Poisson, `rate`/s) into server `s` (constant `service_ms`, enough
/// workers that nobody queues), optionally behind balancer `lb`.
fn system(rate: f64, service_ms: u64, with_lb: bool, secs: u64) -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        rate,
        10_000,
        constant_ms(service_ms as f64),
        SimDuration::from_secs(secs),
    );
    spec.seed = 11;
    if with_lb {
        spec.components.push(ComponentSpec {
            name: "lb".into(),
            kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
                policy: LbPolicy::RoundRobin,
                backends: vec![ComponentId(0)],
                routing: Default::default(),
            }),
        });
        spec.workloads[0].target = ComponentId(1);
    }
    spec
}

fn three_zones(spec: &mut ModelSpec) {
    let n = &mut spec.network;
    n.latency = constant_ms(1.0);
    n.zones = vec!["us".into(), "eu".into(), "ap".into()];
    n.zone_latency = vec![
        (1, 2, constant_ms(40.0)),
        (1, 3, constant_ms(70.0)),
        (2, 3, constant_ms(90.0)),
    ];
}

/// Constant delays: end-to-end = service + 2 x (sum of one-way path
/// latencies), exactly, for every request (the mean is exact in the
/// histogram; p99 is within its 3-significant-digit resolution).
#[test]
fn zone_latency_adds_exactly_the_matrix_delay() {
    // Client in us, server in eu: 5 + 2 x 40 = 85 ms.
    let mut spec = system(200.0, 5, false, 50);
    three_zones(&mut spec);
    spec.network.workload_zones = vec![1];
    spec.network.component_zones = vec![2];
    let r = run(&spec);
    assert!(r.requests.completed > 9_000);
    assert!(
        (r.latency.mean_ns() / MS - 85.0).abs() < 1e-9,
        "{}",
        r.latency.mean_ns()
    );
    assert!((r.latency.quantile_ns(0.99) as f64 / MS - 85.0).abs() < 0.1);

    // Client and balancer in us, server in ap: 5 + 2 x (1 + 70) = 147 ms.
    let mut spec = system(200.0, 5, true, 50);
    three_zones(&mut spec);
    spec.network.workload_zones = vec![1];
    spec.network.component_zones = vec![3, 1];
    let r = run(&spec);
    assert!(
        (r.latency.mean_ns() / MS - 147.0).abs() < 1e-9,
        "{}",
        r.latency.mean_ns()
    );

    // Nothing placed in a zone: the default latency on both hops, 5 + 2 x (1 + 1) = 9 ms.
    let mut spec = system(200.0, 5, true, 50);
    three_zones(&mut spec);
    let r = run(&spec);
    assert!(
        (r.latency.mean_ns() / MS - 9.0).abs() < 1e-9,
        "{}",
        r.latency.mean_ns()
    );
}

/// Loss p with retransmission after R: the number of lost transmissions is
/// geometric, so each one-way trip gains R p / (1 - p) on average. Request
/// and response both cross the lossy link: end-to-end mean = service +
/// 2 R p / (1 - p). p = 0.1, R = 10 ms: 1 + 2 x 1.1111 = 3.2222 ms; 300,000
/// requests, tolerance 2 % of the extra delay (about 5 standard errors).
#[test]
fn loss_with_retransmit_adds_geometric_delay() {
    let mut spec = system(3_000.0, 1, false, 100);
    spec.network.links = vec![LinkSpec {
        from: NetTarget::Workload(0),
        to: NetTarget::Component(ComponentId(0)),
        latency: None,
        loss: 0.1,
        retransmit: Some(SimDuration::from_millis(10)),
        bandwidth: None,
    }];
    let r = run(&spec);
    let extra = r.latency.mean_ns() / MS - 1.0;
    let expected = 2.0 * 10.0 * 0.1 / 0.9;
    println!("loss: extra {extra:.4} ms, expected {expected:.4} ms");
    assert!(
        (extra / expected - 1.0).abs() < 0.02,
        "extra {extra} ms vs {expected} ms"
    );
}

/// Serialisation: a 1 MiB request over 1 Gbit/s takes 2^20 x 8 / 10^9 s =
/// 8.388608 ms; the response has no size. End-to-end = 2 + 8.388608 ms.
#[test]
fn bandwidth_adds_size_over_bandwidth() {
    let mut spec = system(100.0, 2, false, 20);
    spec.network.links = vec![LinkSpec {
        from: NetTarget::Workload(0),
        to: NetTarget::Component(ComponentId(0)),
        latency: None,
        loss: 0.0,
        retransmit: None,
        bandwidth: Some(1e9 / 8.0),
    }];
    spec.network.workload_sizes = vec![PayloadSizes {
        request: Some(1 << 20),
        response: None,
    }];
    let r = run(&spec);
    assert!(
        (r.latency.mean_ns() / MS - 10.388608).abs() < 1e-6,
        "{}",
        r.latency.mean_ns()
    );
    // A response size on the server adds the same again on the way back.
    spec.network.component_sizes = vec![PayloadSizes {
        request: None,
        response: Some(1 << 20),
    }];
    let r = run(&spec);
    assert!(
        (r.latency.mean_ns() / MS - 18.777216).abs() < 1e-6,
        "{}",
        r.latency.mean_ns()
    );
}

/// The same seed gives the same result with zones, links and loss.
#[test]
fn network_runs_are_deterministic() {
    let mut spec = system(500.0, 1, true, 20);
    three_zones(&mut spec);
    spec.network.workload_zones = vec![1];
    spec.network.component_zones = vec![2, 1];
    spec.network.links = vec![LinkSpec {
        from: NetTarget::Zone(1),
        to: NetTarget::Zone(2),
        latency: Some(Distribution::Exponential { mean_ns: 40.0 * MS }),
        loss: 0.05,
        retransmit: None,
        bandwidth: None,
    }];
    assert_deterministic(&spec);
}

/// A trace record's `request_bytes` and `response_bytes` are that
/// request's payload sizes, over the workload's `request_size` and
/// `response_size` (a component's own sizes still win for what it sends).
/// 1 byte per µs on the link; the workload sends 1000-byte requests and
/// gets 2000-byte responses; service 2 ms. Records at 1, 2, 3 s: (5000,
/// none) takes 5 + 2 + 2 = 9 ms, (none, 500) 1 + 2 + 0.5 = 3.5 ms, (none,
/// none) 1 + 2 + 2 = 5 ms. With the server's own 3000-byte responses:
/// 10, 6 and 6 ms. Means exact.
#[test]
fn a_traces_sizes_are_its_requests_payload_sizes() {
    use std::sync::Arc;
    let rec = |s: u64, request: Option<u64>, response: Option<u64>| TraceRecord {
        at: SimDuration::from_secs(s),
        request_bytes: request,
        response_bytes: response,
        ..TraceRecord::default()
    };
    let mut spec = system(1.0, 2, false, 5);
    spec.workloads[0].arrival = ArrivalSpec::Trace(TraceSpec {
        source: "test".into(),
        records: Arc::from(vec![
            rec(1, Some(5000), None),
            rec(2, None, Some(500)),
            rec(3, None, None),
        ]),
        speed: 1.0,
    });
    spec.network.links = vec![LinkSpec {
        from: NetTarget::Workload(0),
        to: NetTarget::Component(ComponentId(0)),
        latency: None,
        loss: 0.0,
        retransmit: None,
        bandwidth: Some(1e6),
    }];
    spec.network.workload_sizes = vec![PayloadSizes {
        request: Some(1000),
        response: Some(2000),
    }];
    let r = run(&spec);
    assert_eq!(r.latency.count(), 3);
    assert!(
        (r.latency.mean_ns() / MS - 17.5 / 3.0).abs() < 1e-9,
        "{}",
        r.latency.mean_ns()
    );
    spec.network.component_sizes = vec![PayloadSizes {
        request: None,
        response: Some(3000),
    }];
    let r = run(&spec);
    assert!(
        (r.latency.mean_ns() / MS - 22.0 / 3.0).abs() < 1e-9,
        "{}",
        r.latency.mean_ns()
    );
}
