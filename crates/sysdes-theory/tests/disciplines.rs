//! Queue disciplines against their closed forms (docs/validation.md,
//! "Reneging and priority classes"): reneging against Erlang-A (M/M/c+M),
//! and two priority classes at an M/M/1 against Cobham's non-preemptive
//! formula and the preemptive-resume formula.
//!
//! Each figure is averaged over independent replications (seeds 1..=R), and
//! the tolerance is 4 standard errors of that average, measured from the
//! replications themselves (so it shrinks with the run length). Each test
//! also checks that the standard error is small against the figure (below
//! 1.5 %), so the comparison has teeth: a model off by a few percent fails.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;
use sysdes_theory::erlang_a::erlang_a;
use sysdes_theory::priority::{PriorityClass, mm1_nonpreemptive, mm1_preemptive_resume};

const MS: f64 = 1e6;

fn simulate(spec: &ModelSpec) -> RunResult {
    let r = Simulation::new(spec)
        .expect("valid")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("stable");
    assert!(r.requests.balances(), "{:?}", r.requests);
    r
}

/// Mean and standard error of the mean of `xs`.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Asserts the replication mean of `xs` is within 4 standard errors of
/// `theory`, and that the standard error is below 1.5 % of it.
#[track_caller]
fn within(what: &str, xs: &[f64], theory: f64) {
    let (mean, se) = mean_se(xs);
    println!(
        "{what}: simulated {mean:.6} (se {se:.6}), theory {theory:.6}, error {:.3} %, tolerance {:.3} %",
        (mean / theory - 1.0) * 100.0,
        4.0 * se / theory * 100.0
    );
    assert!(se < 0.015 * theory, "{what}: too noisy to test (se {se})");
    assert!(
        (mean - theory).abs() <= 4.0 * se,
        "{what}: simulated {mean} vs theory {theory} (4 se = {})",
        4.0 * se
    );
}

fn server(workers: u32, discipline: Discipline, patience: Option<Distribution>) -> ComponentSpec {
    ComponentSpec {
        name: "s".into(),
        kind: ComponentKind::Server(ServerSpec {
            discipline,
            patience,
            ..ServerSpec::new(workers, Distribution::Exponential { mean_ns: MS })
        }),
    }
}

fn spec(seed: u64, secs: u64, workloads: Vec<WorkloadSpec>, s: ComponentSpec) -> ModelSpec {
    ModelSpec {
        name: "disciplines".into(),
        seed,
        duration: SimDuration::from_secs(secs),
        warmup: SimDuration::from_secs(1),
        network: NetworkSpec::default(),
        workloads,
        components: vec![s],
        hosts: Vec::new(),
        faults: Vec::new(),
    }
}

fn poisson(name: &str, per_second: f64, priority: u8) -> WorkloadSpec {
    WorkloadSpec {
        priority,
        ..WorkloadSpec::new(name, ComponentId(0), ArrivalSpec::Poisson { per_second })
    }
}

/// M/M/10+M above capacity (lambda 11/ms, mu 1/ms, mean patience 2 ms):
/// abandonment keeps it stable. P(abandon) = theta Lq / lambda, Lq and the
/// mean wait Lq / lambda from the exact birth-death chain.
#[test]
fn reneging_matches_erlang_a() {
    let (lambda, mu, c, theta) = (11_000.0, 1_000.0, 10, 500.0);
    let theory = erlang_a(lambda, mu, c, theta);
    let (mut p_ab, mut lq, mut wait, mut busy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=8 {
        let r = simulate(&spec(
            seed,
            21,
            vec![poisson("users", lambda, 0)],
            server(
                c,
                Discipline::Fifo,
                Some(Distribution::Exponential { mean_ns: 2.0 * MS }),
            ),
        ));
        let s = &r.components[0];
        let abandoned = s
            .figure("abandoned")
            .expect("a server with patience reports abandoned");
        p_ab.push(abandoned / s.arrivals as f64);
        lq.push(s.mean_queue_length);
        // Little: the mean wait of all arrivals, served or not, in ms.
        wait.push(s.mean_queue_length / (s.arrivals as f64 / 20.0) * 1e3);
        busy.push(s.utilization * f64::from(c));
        // The workload sees them as timed out, and counts them abandoned.
        assert_eq!(r.workloads[0].requests.abandoned as f64, abandoned);
        assert!(r.workloads[0].requests.timed_out >= r.workloads[0].requests.abandoned);
    }
    within("Erlang-A P(abandon)", &p_ab, theory.p_abandon);
    within("Erlang-A Lq", &lq, theory.mean_queue);
    within("Erlang-A mean wait ms", &wait, theory.mean_wait_s * 1e3);
    within("Erlang-A busy workers", &busy, theory.mean_busy);
}

/// Two classes at an M/M/1 at load 0.8 (300/s high, 500/s low, mean
/// service 1 ms): each workload's mean latency is its class's response
/// time (no network delay).
fn two_classes(discipline: Discipline) -> (Vec<f64>, Vec<f64>) {
    let (mut high, mut low) = (Vec::new(), Vec::new());
    for seed in 1..=16 {
        let r = simulate(&spec(
            seed,
            201,
            vec![poisson("high", 300.0, 1), poisson("low", 500.0, 0)],
            server(1, discipline, None),
        ));
        high.push(r.workloads[0].latency.mean_ns() / MS);
        low.push(r.workloads[1].latency.mean_ns() / MS);
    }
    (high, low)
}

const CLASSES: [PriorityClass; 2] = [
    PriorityClass {
        lambda: 300.0,
        mu: 1000.0,
    },
    PriorityClass {
        lambda: 500.0,
        mu: 1000.0,
    },
];

/// Cobham: T1 = 2.142857 ms, T2 = 6.714286 ms.
#[test]
fn non_preemptive_priority_matches_cobham() {
    let t = mm1_nonpreemptive(&CLASSES);
    let (high, low) = two_classes(Discipline::Priority);
    within(
        "non-preemptive high class mean ms",
        &high,
        t[0].unwrap() * 1e3,
    );
    within(
        "non-preemptive low class mean ms",
        &low,
        t[1].unwrap() * 1e3,
    );
}

/// Preemptive-resume: T1 = 1/(mu - lambda1) = 1.428571 ms, T2 =
/// 7.142857 ms.
#[test]
fn preemptive_resume_priority_matches_theory() {
    let t = mm1_preemptive_resume(&CLASSES);
    let (high, low) = two_classes(Discipline::PreemptiveResume);
    within("preemptive high class mean ms", &high, t[0].unwrap() * 1e3);
    within("preemptive low class mean ms", &low, t[1].unwrap() * 1e3);
}
