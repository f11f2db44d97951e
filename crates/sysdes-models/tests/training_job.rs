//! `type: training_job` against theory: the mean step time is the expected
//! maximum of the workers' compute times plus the ring all-reduce, and,
//! with failures, the goodput is Daly's and the best checkpoint interval of
//! a sweep is the one next to Young's `sqrt(2 C M)`.
//!
//! Each tolerance is derived from the run's length and named beside it; the
//! measured errors are in `docs/validation.md` ("Training jobs").

use sysdes_kernel::SimDuration;
use sysdes_models::*;
use sysdes_theory::harmonic;
use sysdes_theory::training::{daly_goodput, expected_max_s, young_interval_s};

/// A scenario holding only `job` (no workload: it runs on its timers).
fn spec(job: TrainingJobSpec, seconds: u64) -> ModelSpec {
    ModelSpec {
        name: "training".into(),
        seed: 7,
        duration: SimDuration::from_secs(seconds),
        warmup: SimDuration::ZERO,
        network: NetworkSpec::default(),
        workloads: Vec::new(),
        components: vec![ComponentSpec {
            name: "trainer".into(),
            kind: ComponentKind::TrainingJob(job),
        }],
        hosts: Vec::new(),
        faults: Vec::new(),
    }
}

fn run(spec: &ModelSpec) -> TrainingFigures {
    let result = Simulation::new(spec)
        .expect("builds")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("runs");
    match &result.components[0].figures {
        KindFigures::Training(f) => f.clone(),
        other => panic!("not a training job's figures: {other:?}"),
    }
}

fn job(workers: u32, compute_time: Distribution) -> TrainingJobSpec {
    TrainingJobSpec {
        workers,
        compute_time,
        all_reduce: None,
        checkpoint: None,
        failures: None,
    }
}

/// Exponential compute times: E[max of N] = m H_N exactly; the step adds
/// the ring all-reduce. Var(max) = m^2 sum_{k<=N} 1/k^2 (Renyi), so the
/// mean of n steps has standard error m sqrt(sum 1/k^2) / sqrt(n);
/// tolerance 5 standard errors.
#[test]
fn step_time_is_the_expected_slowest_worker_plus_the_all_reduce() {
    let (n, m) = (16u32, 0.1);
    let mut j = job(n, Distribution::Exponential { mean_ns: m * 1e9 });
    j.all_reduce = Some(AllReduceSpec {
        gradient_bytes: 1_000_000_000,
        bandwidth_bytes_per_s: 12.5e9,
        latency: SimDuration::from_micros(10),
    });
    let f = run(&spec(j, 100_000));
    // 2 * 15/16 * 1 GB / 12.5 GB/s + 30 * 10 us = 150.3 ms.
    assert!(
        (f.all_reduce_ms - 150.3).abs() < 1e-9,
        "{}",
        f.all_reduce_ms
    );
    let expected_ms = m * harmonic(n) * 1e3 + 150.3;
    let var_sum: f64 = (1..=n).map(|k| 1.0 / f64::from(k * k)).sum();
    let se_ms = m * 1e3 * var_sum.sqrt() / (f.steps_completed as f64).sqrt();
    let err = f.step_time_mean_ms - expected_ms;
    eprintln!(
        "exponential N=16: {} steps, mean {:.4} ms vs {expected_ms:.4} ms, stragglers {:.5}",
        f.steps_completed, f.step_time_mean_ms, f.stragglers_share
    );
    assert!(
        err.abs() < 5.0 * se_ms,
        "mean step {} ms, expected {expected_ms} ms (se {se_ms})",
        f.step_time_mean_ms
    );
    // Stragglers: E[max - mean] = m (H_N - 1) of each step.
    let share = m * (harmonic(n) - 1.0) * 1e3 / expected_ms;
    assert!(
        (f.stragglers_share - share).abs() < 5.0 * se_ms / expected_ms,
        "stragglers {} vs {share}",
        f.stragglers_share
    );
    // No failures, no checkpoints: all of the time is useful.
    assert_eq!((f.failures, f.steps_lost, f.checkpoints), (0, 0, 0));
    assert!((f.goodput_ratio - 1.0).abs() < 1e-12);
}

/// Lognormal compute times: E[max of N] by numerical integration of
/// 1 - F(t)^N. Var(max) <= N Var(X) (Efron-Stein, since the max moves by at
/// most what one draw moves), so the standard error of the mean of n steps
/// is at most sqrt(N Var(X) / n); tolerance 4 of those.
#[test]
fn lognormal_step_time_is_the_integrated_expected_maximum() {
    let (n, median, sigma) = (8u32, 0.1f64, 0.5f64);
    let d = Distribution::LogNormal {
        median_ns: median * 1e9,
        sigma,
    };
    let expected = expected_max_s(n, &d);
    let f = run(&spec(job(n, d), 50_000));
    let var = ((sigma * sigma).exp() - 1.0) * (2.0 * median.ln() + sigma * sigma).exp();
    let se = (f64::from(n) * var / f.steps_completed as f64).sqrt();
    let err = f.step_time_mean_ms / 1e3 - expected;
    eprintln!(
        "lognormal N=8: {} steps, mean {:.4} ms vs {:.4} ms",
        f.steps_completed,
        f.step_time_mean_ms,
        expected * 1e3
    );
    assert!(
        err.abs() < 4.0 * se,
        "mean step {} ms, expected {} ms (se {} ms)",
        f.step_time_mean_ms,
        expected * 1e3,
        se * 1e3
    );
}

/// Constant 1 s steps (so the work between checkpoints is a fixed
/// `tau = every` seconds, as Daly's model assumes), checkpoints of 5 s,
/// job MTBF 200 s (4 workers of 800 s), restarts of 10 s.
fn checkpointed(every: u32, seconds: u64) -> ModelSpec {
    let mut j = job(4, Distribution::Constant(SimDuration::from_secs(1)));
    j.checkpoint = Some(CheckpointSpec {
        every_steps: every,
        cost: SimDuration::from_secs(5),
    });
    j.failures = Some(FailureSpec {
        worker_mtbf: SimDuration::from_secs(800),
        restart: SimDuration::from_secs(10),
    });
    spec(j, seconds)
}

/// The goodput's standard error, bounded: a run of W seconds sees F
/// failures (Poisson), each costing at most tau + delta + R (plus a
/// restart's own failures, rare at R/M = 0.05), so the lost time has
/// variance at most F (tau + delta + R)^2 and the goodput a standard error
/// of at most sqrt(F) (tau + delta + R) / W.
fn goodput_se(f: &TrainingFigures, tau: f64, seconds: u64) -> f64 {
    (f.failures as f64).sqrt() * (tau + 5.0 + 10.0) / seconds as f64
}

#[test]
fn goodput_with_failures_is_dalys() {
    let seconds = 2_000_000;
    let f = run(&checkpointed(20, seconds));
    let predicted = daly_goodput(20.0, 5.0, 200.0, 10.0);
    let se = goodput_se(&f, 20.0, seconds);
    eprintln!(
        "every 20: {} failures, goodput {:.5} vs Daly {predicted:.5} (se {se:.5})",
        f.failures, f.goodput_ratio
    );
    assert!(
        (f.goodput_ratio - predicted).abs() < 4.0 * se,
        "goodput {} vs Daly {predicted} (se {se})",
        f.goodput_ratio
    );
    // Every moment is charged once.
    let total = f.goodput_ratio + f.checkpoint_ratio + f.lost_ratio + f.restart_ratio;
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    // About W / M failures: Poisson, 5 sigma.
    let mean = seconds as f64 / 200.0;
    assert!(
        (f.failures as f64 - mean).abs() < 5.0 * mean.sqrt(),
        "{}",
        f.failures
    );
}

/// A sweep of the checkpoint interval: every point matches Daly within its
/// tolerance, and the best measured interval is one of the two grid points
/// around Young's sqrt(2 C M) = sqrt(2 * 5 * 200) = 44.7 s. The runs share
/// their failure times (the same seed and stream), so their differences are
/// much less noisy than each point.
#[test]
fn the_best_checkpoint_interval_is_youngs() {
    let seconds = 1_000_000;
    let young = young_interval_s(5.0, 200.0);
    assert!((young - 44.72).abs() < 0.01);
    let mut best = (0, 0.0);
    for every in [10u32, 20, 30, 40, 50, 60, 80] {
        let f = run(&checkpointed(every, seconds));
        let tau = f64::from(every);
        let predicted = daly_goodput(tau, 5.0, 200.0, 10.0);
        let se = goodput_se(&f, tau, seconds);
        eprintln!(
            "sweep every {every}: goodput {:.5} vs Daly {predicted:.5} (se {se:.5})",
            f.goodput_ratio
        );
        assert!(
            (f.goodput_ratio - predicted).abs() < 4.0 * se,
            "every {every}: goodput {} vs Daly {predicted} (se {se})",
            f.goodput_ratio
        );
        if f.goodput_ratio > best.1 {
            best = (every, f.goodput_ratio);
        }
    }
    assert!(
        best.0 == 40 || best.0 == 50,
        "best interval {} s, Young {young} s",
        best.0
    );
}

/// Same seed, same figures.
#[test]
fn training_runs_are_deterministic() {
    let s = checkpointed(20, 20_000);
    assert_eq!(run(&s), run(&s));
}
