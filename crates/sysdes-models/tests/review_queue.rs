//! `type: review_queue` against theory: with a constant staff it is M/M/c
//! (Erlang C), fed by a Poisson stream thinned by `share`; with shifts,
//! the backlog at the end of a phase without reviewers is what arrived in
//! it (an exact identity per run, Poisson in expectation).
//!
//! Tolerances are named beside each check; the measured errors are in
//! `docs/validation.md` ("Review queues").

use sysdes_kernel::SimDuration;
use sysdes_models::*;
use sysdes_theory::formulas::{mmc_mean_sojourn, mmc_sojourn_quantile};

/// A workload of `per_second` Poisson requests straight to review queue
/// `review`.
fn spec(per_second: f64, queue: ReviewQueueSpec, seconds: u64) -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        per_second,
        1,
        Distribution::Constant(SimDuration::ZERO),
        SimDuration::from_secs(seconds),
    );
    spec.name = "review".into();
    spec.components[0] = ComponentSpec {
        name: "review".into(),
        kind: ComponentKind::ReviewQueue(queue),
    };
    spec
}

fn run(spec: &ModelSpec) -> ReviewFigures {
    let result = Simulation::new(spec)
        .expect("builds")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("runs");
    match &result.components[0].figures {
        KindFigures::Review(f) => f.clone(),
        other => panic!("not a review queue's figures: {other:?}"),
    }
}

fn constant(reviewers: u32) -> Vec<ReviewShift> {
    vec![ReviewShift {
        reviewers,
        length: SimDuration::ZERO,
    }]
}

/// c = 4 reviewers of mean 1 s, 6.4 requests/s of which half are
/// reviewed: M/M/4 at lambda 3.2 (a thinned Poisson stream is Poisson):
/// mean age 1.7455 s, p99 6.893 s. Tolerances 2.5 % / 4 % for about 10^6
/// reviews (docs/validation.md, M/M/c row).
#[test]
fn constant_reviewers_are_erlang_c() {
    let q = ReviewQueueSpec {
        share: 0.5,
        review_time: Distribution::Exponential { mean_ns: 1e9 },
        shifts: constant(4),
    };
    let mut s = spec(6.4, q, 320_000);
    s.warmup = SimDuration::from_secs(1_000);
    let f = run(&s);
    let mean = mmc_mean_sojourn(4, 3.2, 1.0);
    let p99 = mmc_sojourn_quantile(4, 3.2, 1.0, 0.99);
    assert!((mean - 1.7455).abs() < 1e-3);
    eprintln!(
        "M/M/4: {} reviews, age mean {:.4} s vs {mean:.4}, p99 {:.4} s vs {p99:.4}",
        f.reviewed, f.review_age_mean_s, f.review_age_p99_s
    );
    assert!(f.reviewed > 900_000, "{}", f.reviewed);
    assert!((f.review_age_mean_s / mean - 1.0).abs() < 0.025);
    assert!((f.review_age_p99_s / p99 - 1.0).abs() < 0.04);
    // The share: binomial, 5 standard deviations.
    let n = f.received as f64;
    let sd = (n * 0.25).sqrt();
    assert!((f.enqueued as f64 - n / 2.0).abs() < 5.0 * sd, "{f:?}");
    // Little's law on the backlog: L = lambda W (1 %, as in validation.md).
    let little = 3.2 * f.review_age_mean_s;
    assert!((f.backlog_mean / little - 1.0).abs() < 0.01, "{f:?}");
}

/// Nobody reviews in the first hour, then 50 reviewers of mean 30 s for an
/// hour, repeating; 0.5 items/s are kept (1 request/s, share 0.5).
fn shifts() -> ReviewQueueSpec {
    ReviewQueueSpec {
        share: 0.5,
        review_time: Distribution::Exponential { mean_ns: 30e9 },
        shifts: vec![
            ReviewShift {
                reviewers: 0,
                length: SimDuration::from_secs(3_600),
            },
            ReviewShift {
                reviewers: 50,
                length: SimDuration::from_secs(3_600),
            },
        ],
    }
}

/// At the end of the first phase (no reviewers), the backlog is exactly
/// every item enqueued so far, and that is Poisson of mean 0.5/s x 3,600 s
/// = 1,800: tolerance 4 standard deviations (4 x sqrt(1,800) = 170).
#[test]
fn the_backlog_after_a_phase_without_reviewers_is_what_arrived() {
    let f = run(&spec(1.0, shifts(), 3_600));
    eprintln!("one phase: backlog {} vs 1800", f.backlog_end);
    assert_eq!(f.backlog_end, f.enqueued, "the identity, exact per run");
    assert_eq!(f.reviewed, 0);
    assert!((f.backlog_end as f64 - 1_800.0).abs() < 4.0 * 1_800f64.sqrt());
}

/// The same after the third hour (the second phase without reviewers):
/// the staffed hour between cleared the first backlog (capacity 100 a
/// minute against 1,800 waiting and 30 a minute arriving), so the backlog
/// is again the hour's arrivals, Poisson of mean 1,800 (4 sd).
#[test]
fn shifts_repeat_and_each_empty_phase_refills_the_backlog() {
    let f = run(&spec(1.0, shifts(), 3 * 3_600));
    eprintln!("three phases: backlog {} vs 1800", f.backlog_end);
    assert!((f.backlog_end as f64 - 1_800.0).abs() < 4.0 * 1_800f64.sqrt());
    // Everything enqueued before the last hour was reviewed.
    assert_eq!(f.reviewed + f.backlog_end, f.enqueued);
}

#[test]
fn review_runs_are_deterministic() {
    let s = spec(1.0, shifts(), 3 * 3_600);
    assert_eq!(run(&s), run(&s));
}

/// Utilization is busy reviewer-time over staffed reviewer-time, not over
/// the largest shift around the clock. Two hours of shifts 0 / 50: 25
/// reviewers on average, so utilization x 25 is exactly the mean number in
/// review. Expected: every item of the two hours, 0.5/s x 7,200 s = 3,600
/// of mean 30 s, is worked on in the staffed hour (it clears the first
/// hour's backlog in about 26 minutes), less about 15 reviews cut at the
/// window's end (0.5/s x 30 s in review, half done: about 225 s):
/// (108,000 - 225) s / 180,000 s = 0.599. The work is compound Poisson:
/// sd sqrt(3,600 x 2 x 30^2) = 2,546 s, 1.4 % of the staffed time; 4 sd.
/// Over the peak staff (50 around the clock) it would read half of that.
#[test]
fn utilization_is_over_staffed_reviewer_time() {
    let result = Simulation::new(&spec(1.0, shifts(), 2 * 3_600))
        .expect("builds")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("runs");
    let c = &result.components[0];
    let in_review = c.mean_in_system - c.mean_queue_length;
    eprintln!(
        "shifts 0/50: utilization {:.4} vs 0.599, {in_review:.3} in review",
        c.utilization
    );
    assert!((c.utilization * 25.0 - in_review).abs() < 1e-9, "{c:?}");
    assert!((c.utilization - 0.599).abs() < 4.0 * 2_546.0 / 180_000.0);
}
