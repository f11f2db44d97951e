//! The hot loop's shortcuts (docs/performance.md, "Issue 11 speed") change
//! no figure: a server whose latency is provably its only workload's
//! records none and copies the workload's histogram; a run without series
//! quantiles has the same series means and every other figure.

use sysdes_kernel::SimDuration;
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
