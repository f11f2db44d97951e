//! The per-workload time series: with several workloads each interval also
//! carries each workload's completions and latency, which must agree with
//! the end-to-end figures of the same interval; with one workload the
//! series is end-to-end only.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// Two workloads, `fast` (exponential service, mean 1 ms) and `slow` (mean
/// 10 ms), each on its own server with enough workers that nothing queues.
fn two_workloads() -> ModelSpec {
    let mut spec = model_spec(
        "two-workloads",
        200,
        vec![
            WorkloadSpec::new("fast", ComponentId(0), poisson(400.0)),
            WorkloadSpec::new("slow", ComponentId(1), poisson(100.0)),
        ],
        vec![
            component("a", ComponentKind::Server(ServerSpec::new(64, exp_ms(1.0)))),
            component(
                "b",
                ComponentKind::Server(ServerSpec::new(64, exp_ms(10.0))),
            ),
        ],
    );
    spec.warmup = SimDuration::ZERO;
    spec
}

#[test]
fn per_workload_series_agree_with_the_end_to_end_series() {
    let r = run(&two_workloads());
    let s = &r.series;
    assert_eq!(s.workload_names, ["fast", "slow"]);
    assert!(s.points.len() >= 100, "{} intervals", s.points.len());
    let mut both = 0;
    for (i, p) in s.points.iter().enumerate() {
        assert_eq!(p.workloads.len(), 2, "interval {i}");
        // Every completion belongs to exactly one workload.
        let sum: u64 = p.workloads.iter().map(|w| w.completed).sum();
        assert_eq!(sum, p.completed, "interval {i}: completions");
        // The end-to-end mean is the completion-weighted mean of the
        // workloads' means (each an exact sum of nanoseconds over a count):
        // equal up to f64 rounding, relative 1e-9.
        let weighted: f64 = p
            .workloads
            .iter()
            .map(|w| w.latency_mean_ms * w.completed as f64)
            .sum();
        let total = p.latency_mean_ms * p.completed as f64;
        assert!(
            (weighted - total).abs() <= 1e-9 * total.max(1.0),
            "interval {i}: weighted mean {weighted} vs {total}"
        );
        // A quantile of a mixture lies between the components' quantiles
        // (the mixture's CDF is a weighted mean of theirs); the histograms
        // share bucket boundaries, so this holds exactly for the reported
        // bucket values too.
        if p.workloads.iter().all(|w| w.completed > 0) {
            both += 1;
            let p50: fn(&WorkloadPoint) -> f64 = |w| w.latency_p50_ms;
            let p99: fn(&WorkloadPoint) -> f64 = |w| w.latency_p99_ms;
            for (q, e2e, of) in [
                ("p50", p.latency_p50_ms, p50),
                ("p99", p.latency_p99_ms, p99),
            ] {
                let lo = p.workloads.iter().map(of).fold(f64::INFINITY, f64::min);
                let hi = p.workloads.iter().map(of).fold(0.0, f64::max);
                assert!(
                    lo <= e2e && e2e <= hi,
                    "interval {i}: {q} {e2e} outside [{lo}, {hi}]"
                );
            }
        } else {
            assert!(p.workloads.iter().any(|w| w.latency_p99_ms == 0.0));
        }
    }
    assert!(both >= 100, "{both} intervals where both completed");
    // Over the run, each workload's completions are its result's (no
    // warm-up, nothing times out, the run drains).
    for (k, w) in r.workloads.iter().enumerate() {
        let sum: u64 = s.points.iter().map(|p| p.workloads[k].completed).sum();
        assert_eq!(sum, w.requests.completed, "workload {}", w.name);
    }
    // The two are told apart: exponential p99 = mean x ln(100) = 4.6 mean,
    // so the slow workload's p99 (46 ms) is far above the fast one's
    // (4.6 ms) in every interval with enough completions to have a p99.
    for p in &s.points {
        if p.workloads[1].completed >= 50 {
            assert!(p.workloads[1].latency_p99_ms > 3.0 * p.workloads[0].latency_p99_ms);
        }
    }
}

#[test]
fn a_single_workload_series_is_end_to_end_only() {
    let r = run(&single_component(
        "one",
        poisson(400.0),
        component("a", ComponentKind::Server(ServerSpec::new(64, exp_ms(1.0)))),
        20,
    ));
    assert!(r.series.workload_names.is_empty());
    assert!(r.series.points.iter().all(|p| p.workloads.is_empty()));
}
