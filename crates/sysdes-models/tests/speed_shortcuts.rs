//! The hot loop's shortcuts (docs/performance.md, "Issue 11 speed") change
//! no figure: a server whose latency is provably its only workload's
//! records none and copies the workload's histogram; a workload sends
//! straight into a plain server (no hop record) and the server answers its
//! client directly; a run without series quantiles has the same series
//! means and every other figure. Each test first checks, by
//! `RunResult::shortcuts`, that the shortcut engaged on one side and not
//! on the other, so none can pass by comparing the long path with itself.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// M/M/1 at load 0.9 (service 1 ms) for 200 s: about 180,000 requests,
/// enough to fill many of a histogram's buckets.
fn mm1() -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        900.0,
        1,
        Distribution::Exponential { mean_ns: 1e6 },
        SimDuration::from_secs(200),
    );
    spec.warmup = SimDuration::from_secs(10);
    spec
}

fn run(sim: Simulation) -> RunResult {
    sim.run(RunLimits::default(), &mut NoObserver)
        .expect("the run completes")
}

/// The server of a plain M/M/1 shares its workload's histogram; a client
/// time-out far longer than any latency (which never fires) turns the
/// sharing off without changing any request, so the server then records
/// its own: every figure of both histograms must agree.
#[test]
fn a_shared_server_latency_equals_the_one_it_records_itself() {
    let shared = run(Simulation::new(&mm1()).expect("builds"));
    let mut spec = mm1();
    spec.workloads[0].timeout = Some(SimDuration::from_secs(1_000_000));
    let own = run(Simulation::new(&spec).expect("builds"));
    assert!(shared.shortcuts.shared_latency);
    assert!(!own.shortcuts.shared_latency);
    let (a, b) = (&shared.components[0].latency, &own.components[0].latency);
    assert!(b.count() > 100_000, "{} requests", b.count());
    assert_eq!(a.count(), b.count());
    assert_eq!(a.mean_ns().to_bits(), b.mean_ns().to_bits());
    assert_eq!(a.summary(), b.summary());
    assert_eq!(a.cdf_ms(), b.cdf_ms());
    // And the workload's own histogram is untouched by the sharing.
    assert_eq!(
        shared.workloads[0].latency.summary(),
        own.workloads[0].latency.summary()
    );
}

/// Without series quantiles every series point keeps its counts and its
/// exact mean; only p50 and p99 become NaN. Nothing else changes.
#[test]
fn series_without_quantiles_keeps_every_other_figure() {
    let full = run(Simulation::new(&mm1()).expect("builds"));
    let lean = run(Simulation::new(&mm1())
        .expect("builds")
        .without_series_quantiles());
    assert_eq!(full.series.points.len(), lean.series.points.len());
    assert!(full.series.points.len() >= 100);
    for (f, l) in full.series.points.iter().zip(&lean.series.points) {
        assert_eq!(f.completed, l.completed);
        assert_eq!(f.in_flight, l.in_flight);
        assert_eq!(f.gauges, l.gauges);
        assert_eq!(f.latency_mean_ms.to_bits(), l.latency_mean_ms.to_bits());
        assert!(l.latency_p50_ms.is_nan() && l.latency_p99_ms.is_nan());
        assert!(f.completed == 0 || f.latency_p99_ms > 0.0);
    }
    assert_eq!(full.latency.summary(), lean.latency.summary());
    assert_eq!(full.events, lean.events);
    assert_eq!(
        full.components[0].latency.summary(),
        lean.components[0].latency.summary()
    );
}

/// Every figure of a run, as the report would read it (the JSON's inputs),
/// `wall`-clock free: two runs that give the same string are the same run.
fn figures(r: &RunResult) -> String {
    let mut out = format!(
        "events {} end {} peak {} requests {:?} latency {:?}\n",
        r.events,
        r.end_s.to_bits(),
        r.peak_in_flight,
        r.requests,
        r.latency.summary()
    );
    for w in &r.workloads {
        out += &format!("{} {:?} {:?}\n", w.name, w.requests, w.latency.summary());
    }
    for c in &r.components {
        out += &format!(
            "{} {} {} {} {:?} {:?} {:?} {:?} {}\n",
            c.name,
            c.arrivals,
            c.completions,
            c.drops,
            c.utilization.to_bits(),
            c.mean_queue_length.to_bits(),
            c.mean_in_system.to_bits(),
            c.latency.summary(),
            c.peak_queue_length
        );
    }
    for p in &r.series.points {
        out += &format!(
            "{} {} {} {:?}\n",
            p.completed,
            p.in_flight,
            p.latency_mean_ms.to_bits(),
            p.gauges
        );
    }
    out
}

/// A direct workload's requests skip the hop record and the kind
/// resolution, and a plain server answers them straight to the client. The
/// same M/M/1 with a time-out that never fires takes the long path (a
/// time-out rules the direct route out): every figure must agree, the
/// server's own latency histogram (recorded on the long path) included.
#[test]
fn a_direct_workload_gives_the_long_paths_figures() {
    let direct = run(Simulation::new(&mm1()).expect("builds"));
    let mut spec = mm1();
    spec.workloads[0].timeout = Some(SimDuration::from_secs(1_000_000));
    let long = run(Simulation::new(&spec).expect("builds"));
    assert_eq!(direct.shortcuts.direct_workloads, 1);
    assert_eq!(long.shortcuts.direct_workloads, 0);
    // 900/s over a 190 s window: about 171,000 requests (sd 413).
    assert!(direct.requests.completed > 100_000);
    assert_eq!(figures(&direct), figures(&long));
}

/// A plain server that some requests reach directly and others through a
/// balancer (with a hop record), with a bounded queue that drops: both
/// kinds of request and both answers (served, refused) agree with the run
/// where no workload is direct (each given a time-out that never fires).
#[test]
fn a_plain_server_fed_directly_and_through_a_balancer_agrees_with_the_long_path() {
    let build = |direct: bool| {
        let mut spec = mm1();
        if let ComponentKind::Server(s) = &mut spec.components[0].kind {
            s.queue_capacity = Some(3);
        }
        spec.components.push(ComponentSpec {
            name: "lb".into(),
            kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
                policy: LbPolicy::RoundRobin,
                backends: vec![ComponentId(0)],
                routing: Default::default(),
            }),
        });
        let mut via_lb = WorkloadSpec::new(
            "via-lb",
            ComponentId(1),
            ArrivalSpec::Poisson { per_second: 150.0 },
        );
        via_lb.write_share = 0.3;
        spec.workloads.push(via_lb);
        spec.workloads[0].write_share = 0.5;
        if !direct {
            for w in &mut spec.workloads {
                w.timeout = Some(SimDuration::from_secs(1_000_000));
            }
        }
        run(Simulation::new(&spec).expect("builds"))
    };
    let (direct, long) = (build(true), build(false));
    assert_eq!(direct.shortcuts.direct_workloads, 1);
    assert_eq!(direct.shortcuts.plain_servers, 1);
    assert_eq!(long.shortcuts.direct_workloads, 0);
    // M/M/1/4 at rho = 1,050/1,000: the blocking probability
    // rho^4 (1 - rho) / (1 - rho^5) = 0.22, so about 44,000 of the 200,000
    // arrivals are dropped; 1,000 only proves the drop path ran.
    assert!(direct.requests.dropped > 1_000, "{:?}", direct.requests);
    assert_eq!(figures(&direct), figures(&long));
}

/// A crash fault on the server rules its short paths out (a crash finds a
/// server's requests by their hop records): no workload is direct, no
/// server plain.
#[test]
fn a_server_that_can_crash_takes_the_long_path() {
    let mut spec = mm1();
    spec.faults = vec![FaultSpec {
        at: SimDuration::from_secs(50),
        duration: SimDuration::from_secs(5),
        kind: FaultKind::Crash(ComponentId(0)),
    }];
    let r = run(Simulation::new(&spec).expect("builds"));
    assert_eq!(r.shortcuts.direct_workloads, 0);
    assert_eq!(r.shortcuts.plain_servers, 0);
    assert!(r.requests.failed > 0, "{:?}", r.requests);
}
