//! Lambda's batch layer and kappa's reprocessing against their closed
//! forms (docs/validation.md, "Lambda and kappa").
//!
//! - Kappa: a consumer group that starts late replays the log's backlog
//!   `B` while messages keep arriving at `lambda`; one consumer per
//!   partition serving `mu` a second drains it in `B / (mu - lambda)`.
//! - Lambda: a batch job started every `I` reads all `n(t) = lambda t`
//!   records at `theta` a second after a start-up `s`, so a run takes
//!   `R(t) = s + lambda t / theta`, and the batch view is at most `I + R`
//!   old (just before a run ends, the view still covers the data up to the
//!   previous run's start).
//!
//! Tolerances come from the Poisson count of arrivals over the interval
//! in question (4 standard deviations), divided by the rate that turns
//! a count into time.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn server(name: &str, service_time: Distribution) -> ComponentSpec {
    component(
        name,
        ComponentKind::Server(ServerSpec::new(1, service_time)),
    )
}

/// Stream `s` (component 0), one partition, group `live` into component 1
/// from the start and group `replay` into component 2 from `start`.
fn stream(start: SimDuration, retention: Option<SimDuration>) -> ComponentSpec {
    ComponentSpec {
        name: "s".into(),
        kind: ComponentKind::Stream(StreamSpec {
            partitions: 1,
            groups: vec![
                ConsumerGroupSpec {
                    name: "live".into(),
                    target: ComponentId(1),
                    start: None,
                },
                ConsumerGroupSpec {
                    name: "replay".into(),
                    target: ComponentId(2),
                    start: Some(start),
                },
            ],
            retention,
        }),
    }
}

fn kappa(lambda: f64, start_s: u64, retention: Option<SimDuration>) -> RunResult {
    let producer = WorkloadSpec::new("events", ComponentId(0), poisson(lambda));
    run(&model_spec(
        "kappa",
        300,
        vec![producer],
        vec![
            stream(secs(start_s), retention),
            server("v1", constant_ms(1.0)),
            server("v2", constant_ms(1.0)),
        ],
    ))
}

/// Catch-up time of a replay: `B / (mu - lambda)` with `B` the backlog at
/// the start (reported), mu = 1000/s (1 ms constant), lambda = 500/s.
/// Tolerance: 4 sd of the Poisson arrivals during the catch-up, over
/// `mu - lambda`, plus 10 service times for the last busy period.
#[test]
fn replay_catches_up_in_backlog_over_spare_throughput() {
    let (lambda, mu, start) = (500.0, 1000.0, 100.0);
    let r = kappa(lambda, 100, None);
    let s = &r.components[0];
    let backlog = extra_of(s, "replay.backlog_at_start");
    // Without retention the replay starts from offset 0: B ~ lambda * start.
    close(
        "backlog = lambda * start",
        backlog,
        lambda * start,
        4.0 * (lambda * start).sqrt() / (lambda * start),
    );
    let predicted = backlog / (mu - lambda);
    let tol_s = 4.0 * (lambda * predicted).sqrt() / (mu - lambda) + 10.0 / mu;
    let got = extra_of(s, "replay.caught_up_s");
    println!("catch-up: got {got:.4} s, B/(mu - lambda) {predicted:.4} s, tolerance {tol_s:.4} s");
    assert!(
        (got - predicted).abs() <= tol_s,
        "catch-up {got:.3} s, predicted B/(mu - lambda) = {predicted:.3} s +- {tol_s:.3}"
    );
    assert_eq!(extra_of(s, "replay.start_s"), start);
    // The live group never started late: no catch-up figures.
    assert!(s.figure("live.caught_up_s").is_none());
    // Both groups end with every counted message consumed (lag ~ 0).
    let (live, replay) = (extra_of(s, "live.consumed"), extra_of(s, "replay.consumed"));
    assert!(
        (live - replay).abs() <= 2.0,
        "after catching up the replay consumed what the live group did: {live} vs {replay}"
    );
}

/// With retention `R` shorter than the start, the replay sees only the
/// last `R` of the log: B ~ lambda R, and the `lambda (start - R)` counted
/// messages before are expired for it. Tolerance 4 sd of each count.
#[test]
fn retention_bounds_what_a_replay_can_reprocess() {
    let (lambda, start, retention) = (500.0, 100.0, 40.0);
    let r = kappa(lambda, 100, Some(secs(40)));
    let s = &r.components[0];
    let backlog = extra_of(s, "replay.backlog_at_start");
    close(
        "backlog = lambda * retention",
        backlog,
        lambda * retention,
        4.0 / (lambda * retention).sqrt(),
    );
    // Counted messages begin after the warm-up (6 s of this 300 s run).
    let expired = extra_of(s, "replay.expired");
    let older = lambda * (start - retention - 6.0);
    close(
        "expired = lambda (start - R - warmup)",
        expired,
        older,
        4.0 / older.sqrt(),
    );
    let predicted = backlog / (1000.0 - lambda);
    let got = extra_of(s, "replay.caught_up_s");
    let tol_s = 4.0 * (lambda * predicted).sqrt() / (1000.0 - lambda) + 0.01;
    println!(
        "catch-up with retention: got {got:.4} s, predicted {predicted:.4} s, tolerance {tol_s:.4} s"
    );
    assert!(
        (got - predicted).abs() <= tol_s,
        "{got} vs {predicted} +- {tol_s}"
    );
}

/// A batch job every I = 60 s, theta = 10,000 records/s, start-up 5 s,
/// lambda = 200 records/s, 600 s (warm-up 12 s): runs start at 60, ...,
/// 540 s and take R_k = 5 + lambda 60 k / theta; the view is at most
/// I + R_9 old. Tolerance: 4 sd of the Poisson count read by the run,
/// over theta.
#[test]
fn batch_view_staleness_is_interval_plus_run_time() {
    let (lambda, theta, every, startup) = (200.0, 10_000.0, 60.0, 5.0);
    let producer = WorkloadSpec::new("records", ComponentId(0), poisson(lambda));
    let spec = model_spec(
        "lambda",
        600,
        vec![producer],
        vec![component(
            "batch",
            ComponentKind::BatchJob(BatchJobSpec {
                every: secs(60),
                throughput_per_s: theta,
                startup: secs(5),
            }),
        )],
    );
    let r = run(&spec);
    let b = &r.components[0];
    let run_time = |t: f64| startup + lambda * t / theta;
    let sd = |t: f64| 4.0 * (lambda * t).sqrt() / theta;
    assert_eq!(extra_of(b, "runs"), 9.0, "runs at 60, 120, ..., 540 s");
    let last = 540.0;
    let got = extra_of(b, "run_time_max_s");
    println!(
        "last run: got {got:.4} s, s + lambda t / theta {:.4} s, tolerance {:.4} s",
        run_time(last),
        sd(last)
    );
    assert!(
        (got - run_time(last)).abs() <= sd(last),
        "last run {got} s, predicted s + lambda t / theta = {}",
        run_time(last)
    );
    let got = extra_of(b, "view_age_max_s");
    let predicted = every + run_time(last);
    println!(
        "view age max: got {got:.4} s, I + R {predicted:.4} s, tolerance {:.4} s",
        2.0 * sd(last)
    );
    assert!(
        (got - predicted).abs() <= 2.0 * sd(last),
        "view age max {got} s, predicted I + R = {predicted} s"
    );
    // The mean age: integrate the fluid sawtooth over the window [12, 600).
    // Before the first run ends the view is empty and its age is t.
    let (w0, w1) = (12.0, 600.0);
    let mut cutoff = 0.0;
    let mut from = w0;
    let mut area = 0.0;
    let age_area = |a: f64, b: f64, c: f64| ((b - c).powi(2) - (a - c).powi(2)) / 2.0;
    for k in 1..=9 {
        let started = every * f64::from(k);
        let ended = started + run_time(started);
        area += age_area(from, ended, cutoff);
        cutoff = started;
        from = ended;
    }
    area += age_area(from, w1, cutoff);
    let predicted_mean = area / (w1 - w0);
    // Each run end can move by 4 sd; the age then jumps by about I.
    let tol = 9.0 * every * sd(last) / (w1 - w0);
    close(
        "view age mean",
        extra_of(b, "view_age_mean_s"),
        predicted_mean,
        tol / predicted_mean,
    );
    // Utilization is the fraction of the window spent running.
    let busy: f64 = (1..=9).map(|k| run_time(every * f64::from(k))).sum();
    close(
        "batch busy fraction",
        b.utilization,
        busy / (w1 - w0),
        9.0 * sd(last) / busy,
    );
}
