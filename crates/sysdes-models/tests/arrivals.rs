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

/// A trace record's `class` is its request's priority at a `priority`
/// server, overriding its workload's `priority`. One worker, a constant
/// 10 ms service. Trace workload A: at 0 ms (class 1, served at once),
/// 1 ms (class 0), 2 ms (class 9); workload B (priority 5, no trace
/// class): at 1.5 ms. At 10 ms the queue holds A@1 (0), B@1.5 (5), A@2 (9):
/// served highest first, A@2 ends at 20 ms (18 ms), B at 30 ms (28.5 ms),
/// A@1 at 40 ms (39 ms). A's mean is (10 + 18 + 39) / 3 ms. If the classes
/// were ignored (A at its workload's priority 0), B would go first and A's
/// mean would be (10 + 29 + 38) / 3 ms, B's 18.5 ms. Preemptive: B (5)
/// takes the worker from A@0 (1) at 1.5 ms, A@2 (9) takes it from B at
/// 2 ms and ends at 12 ms (10 ms); B resumes and ends at 21.5 ms (20 ms),
/// A@0 at 30 ms (30 ms), A@1 at 40 ms (39 ms).
#[test]
fn a_traces_classes_are_its_requests_priorities() {
    let a = vec![
        TraceRecord {
            class: Some(1),
            ..at(0)
        },
        TraceRecord {
            class: Some(0),
            ..at(1_000_000)
        },
        TraceRecord {
            class: Some(9),
            ..at(2_000_000)
        },
    ];
    let mut spec = ModelSpec::single_server(1.0, 1, constant_ms(10.0), secs(1));
    spec.workloads[0].arrival = trace(a, 1.0);
    let mut b = spec.workloads[0].clone();
    b.name = "b".into();
    b.priority = 5;
    b.arrival = trace(vec![at(1_500_000)], 1.0);
    spec.workloads.push(b);
    for (discipline, mean_a, mean_b) in [
        (Discipline::Priority, 67e6 / 3.0, 28.5e6),
        (Discipline::PreemptiveResume, 79e6 / 3.0, 20e6),
    ] {
        let ComponentKind::Server(s) = &mut spec.components[0].kind else {
            unreachable!()
        };
        s.discipline = discipline;
        let r = run(&spec);
        let (wa, wb) = (&r.workloads[0], &r.workloads[1]);
        println!(
            "{discipline:?}: A mean {} ns, B mean {} ns",
            wa.latency.mean_ns(),
            wb.latency.mean_ns()
        );
        assert_eq!((wa.latency.count(), wb.latency.count()), (3, 1));
        assert!((wa.latency.mean_ns() - mean_a).abs() < 1e-3);
        assert!((wb.latency.mean_ns() - mean_b).abs() < 1e-3);
    }
    // FIFO ignores classes: A@1, B, A@2 in arrival order.
    let ComponentKind::Server(s) = &mut spec.components[0].kind else {
        unreachable!()
    };
    s.discipline = Discipline::Fifo;
    let r = run(&spec);
    assert!((r.workloads[0].latency.mean_ns() - (10e6 + 19e6 + 38e6) / 3.0).abs() < 1e-3);
    assert!((r.workloads[1].latency.mean_ns() - 28.5e6).abs() < 1e-3);
}
