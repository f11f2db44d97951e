//! Realistic arrivals through a whole simulation: a trace is replayed event
//! for event (its arrival times and keys reach the components exactly), a
//! rate curve generates the integral of its rate, and an MMPP's burstiness
//! shows at a server. Closed forms: docs/validation.md, "Arrival processes".

mod common;

use std::sync::Arc;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration, SimTime};
use sysdes_models::*;

fn trace(records: Vec<TraceRecord>, speed: f64) -> ArrivalSpec {
    ArrivalSpec::Trace(TraceSpec {
        source: "test".into(),
        records: Arc::from(records),
        speed,
    })
}

fn at(ns: u64) -> TraceRecord {
    TraceRecord {
        at: SimDuration::from_nanos(ns),
        ..TraceRecord::default()
    }
}

/// A trace into one worker with a constant 1 ms service: each request's
/// time in system follows Lindley's recursion over the trace's gaps,
/// W_{k+1} = max(0, W_k + S - gap_k), so the mean latency is known to the
/// nanosecond. At speed 2 every gap halves. Any arrival off by a
/// nanosecond would move the mean.
#[test]
fn a_trace_is_replayed_event_for_event() {
    // Gaps in ns, irregular, some shorter than the service (queueing).
    let gaps: [u64; 12] = [
        0, 400_000, 1_700_000, 250_000, 250_000, 3_000_000, 999_999, 1, 5_000_000, 10, 700_000,
        2_300_001,
    ];
    let mut t = 0;
    let records: Vec<TraceRecord> = gaps
        .iter()
        .map(|g| {
            t += g;
            at(t)
        })
        .collect();
    for speed in [1.0, 2.0] {
        let mut spec = ModelSpec::single_server(1.0, 1, constant_ms(1.0), secs(1));
        spec.workloads[0].arrival = trace(records.clone(), speed);
        let r = run(&spec);
        let service = 1_000_000u64;
        let mut wait = 0u64;
        let mut sum = 0u64;
        let mut prev = 0u64;
        for rec in &records {
            let arrival = (rec.at.as_nanos() as f64 / speed).round() as u64;
            // The first request finds the server idle (sum == 0).
            wait = (wait + if sum == 0 { 0 } else { service }).saturating_sub(arrival - prev);
            prev = arrival;
            sum += wait + service;
        }
        let expected = sum as f64 / records.len() as f64;
        let w = &r.workloads[0];
        println!(
            "trace at speed {speed}: {} requests, mean latency {} ns (Lindley {expected} ns)",
            w.requests.generated,
            w.latency.mean_ns()
        );
        assert_eq!(w.requests.generated, records.len() as u64);
        assert_eq!(w.latency.count(), records.len() as u64);
        assert!(
            (w.latency.mean_ns() - expected).abs() < 1e-6,
            "speed {speed}"
        );
    }
}

/// Records at or after the end of the run are not replayed; the rest are.
#[test]
fn a_trace_longer_than_the_run_is_cut_at_its_end() {
    let records: Vec<TraceRecord> = (0..100).map(|i| at(i * 100_000_000)).collect();
    let mut spec = ModelSpec::single_server(1.0, 1, constant_ms(1.0), secs(5));
    spec.workloads[0].arrival = trace(records.clone(), 1.0);
    assert_eq!(run(&spec).workloads[0].requests.generated, 50);
    // Twice as fast: all 100 within 5 s.
    spec.workloads[0].arrival = trace(records, 2.0);
    assert_eq!(run(&spec).workloads[0].requests.generated, 100);
}

/// A trace's keys and operations reach the components: through an LRU
/// cache of ample size, the keys 1, 2, 1, 3, 2, 1 (reads) miss exactly on
/// each first sight (3 misses, 3 hits), whatever the workload's own `keys`
/// say; a trace read of a key marked `write` is counted as a write.
#[test]
fn a_traces_keys_and_operations_reach_the_components() {
    let keys = [1u64, 2, 1, 3, 2, 1];
    let records: Vec<TraceRecord> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| TraceRecord {
            key: Some(k),
            write: Some(false),
            ..at(i as u64 * 10_000_000)
        })
        .collect();
    let cache = CacheSpec {
        capacity: CacheCapacity::Entries(100),
        policy: CachePolicy::Lru,
        ttl: None,
        hit_time: constant_ns(0),
        workers: None,
        backend: ComponentId(1),
        writes: CacheWrites::Invalidate,
    };
    let mut spec = ModelSpec::single_server(1.0, 1, constant_ms(1.0), secs(1));
    spec.components = vec![
        component("cache", ComponentKind::Cache(cache)),
        component(
            "db",
            ComponentKind::Server(ServerSpec::new(1, constant_ms(1.0))),
        ),
    ];
    spec.workloads[0].keys = KeySpec::Uniform { n: 1_000_000 };
    spec.workloads[0].arrival = trace(records.clone(), 1.0);
    let r = run(&spec);
    assert_eq!(extra_named(&r, "cache", "reads"), 6.0);
    assert_eq!(extra_named(&r, "cache", "hit_ratio"), 0.5);
    assert_eq!(r.components[1].arrivals, 3);
    // Marked writes: no reads at the cache.
    let writes: Vec<TraceRecord> = records
        .into_iter()
        .map(|r| TraceRecord {
            write: Some(true),
            ..r
        })
        .collect();
    spec.workloads[0].arrival = trace(writes, 1.0);
    let r = run(&spec);
    assert_eq!(extra_named(&r, "cache", "reads"), 0.0);
}

/// A rate curve through a whole run: the number of requests generated over
/// a 24-minute "day" (1 minute per hour, 600/s at the trough, 3,000/s at
/// the peak) is Poisson with mean the integral of the rate, 2,196,000;
/// within 5 standard deviations (sqrt of the mean: 0.33 %).
#[test]
fn a_rate_curve_generates_the_integral_of_its_rate() {
    let curve = RateCurveSpec {
        period: SimDuration::from_secs(24 * 60),
        points: vec![
            (SimDuration::ZERO, 600.0),
            (SimDuration::from_secs(4 * 60), 600.0),
            (SimDuration::from_secs(14 * 60), 3000.0),
            (SimDuration::from_secs(20 * 60), 1200.0),
        ],
        shape: CurveShape::Linear,
        start: SimDuration::ZERO,
    };
    // Trapezoids, in arrivals: 4 min at 600/s, 10 min 600 -> 3000, 6 min
    // 3000 -> 1200, 4 min 1200 -> 600: (2400 + 18000 + 12600 + 3600) * 60.
    let integral = (2_400.0 + 18_000.0 + 12_600.0 + 3_600.0) * 60.0;
    assert!((curve.per_period() - integral).abs() < 1e-6);
    let day = SimDuration::from_secs(24 * 60);
    let mut spec = ModelSpec::single_server(1.0, 64, exp_ms(1.0), day);
    spec.workloads[0].arrival = ArrivalSpec::Curve(curve.clone());
    let r = run(&spec);
    let n = r.workloads[0].requests.generated as f64;
    let z = (n - integral) / integral.sqrt();
    println!(
        "curve: {n} generated, integral {integral}, error {:.3} %, z {z:.2}",
        (n / integral - 1.0) * 100.0
    );
    assert!(z.abs() < 5.0);
    assert!((curve.expected_arrivals(SimTime::ZERO, SimTime::ZERO + day) - integral).abs() < 1e-6);
}
