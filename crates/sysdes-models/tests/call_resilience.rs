//! Resilience on a server's calls: per-call deadlines, answering at the
//! deadline with what has arrived (partial fan-out answers), and circuit
//! breakers, each against a closed form or an exact hand computation
//! (docs/validation.md, "Deadlines, partial answers and circuit breakers").

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn server(name: &str, spec: ServerSpec) -> ComponentSpec {
    component(name, ComponentKind::Server(spec))
}

/// The front server (`async_front`) making one call step.
fn front(step: CallStep) -> ComponentSpec {
    async_front(vec![step])
}

/// A step of `fan_out` calls to component 1.
fn step(fan_out: u32, wait_for: WaitFor) -> CallStep {
    call_step(vec![ComponentId(1); fan_out as usize], wait_for)
}

/// A leaf with so many workers that nothing queues.
fn leaf(service: Distribution) -> ComponentSpec {
    server("leaf", ServerSpec::new(1_000_000, service))
}

fn spec(
    arrival: ArrivalSpec,
    duration_s: u64,
    warmup_s: u64,
    components: Vec<ComponentSpec>,
) -> ModelSpec {
    let mut spec = model_spec("resilience", duration_s, vec![users(arrival)], components);
    spec.warmup = SimDuration::from_secs(warmup_s);
    spec
}

/// A per-call deadline: the leaf answers in 1 ms except with probability
/// p = 0.01 (100 ms); with `timeout: 10ms` exactly the slow calls fail, at
/// 10 ms, and each of their answers comes late. The failed share is p
/// (binomial: 2 x 10^5 requests, standard error 0.00022; tolerance 0.001
/// absolute, 4.5 sigma); the identities failed = timed out = late = wasted
/// hold, and the successful requests all took the fast 1 ms.
#[test]
fn a_call_deadline_fails_exactly_the_calls_slower_than_it() {
    let mut s = step(1, WaitFor::All);
    s.timeout = Some(ms(10));
    let slow_leaf = leaf(Distribution::Mixture(vec![
        (0.99, constant_ms(1.0)),
        (0.01, constant_ms(100.0)),
    ]));
    let r = run(&spec(poisson(1_000.0), 210, 10, vec![front(s), slow_leaf]));
    let front = &r.components[0];
    let timeouts = extra_of(front, "call_timeouts");
    let late = extra_of(front, "late_calls");
    let failed = extra_of(front, "failed_calls");
    let wasted = extra_of(front, "wasted_calls");
    assert_eq!(timeouts, failed, "every timed-out call failed its request");
    assert_eq!(late, timeouts, "every timed-out call answered late");
    assert_eq!(wasted, late, "the late answers are the only wasted ones");
    let n = r.requests.completed as f64 + r.requests.failed as f64;
    let share = failed / n;
    println!("failed share: got {share:.5}, theory 0.01 ({n} requests)");
    assert!((share - 0.01).abs() < 0.001, "failed share {share}");
    close(
        "mean latency of the successes (ms)",
        r.latency.mean_ns() / MS,
        1.0,
        0.001,
    );
}

/// E[min(d, max of n exponentials of mean m)] = integral over [0, d] of
/// 1 - (1 - e^{-t/m})^n dt (Simpson's rule, 10^4 intervals).
fn expected_step_ms(n: i32, m: f64, d: f64) -> f64 {
    let f = |t: f64| 1.0 - (1.0 - (-t / m).exp()).powi(n);
    let k = 10_000;
    let h = d / f64::from(k);
    let mut sum = f(0.0) + f(d);
    for i in 1..k {
        sum += f(f64::from(i) * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

/// Answering at the deadline with what has arrived: N = 8 calls to
/// unqueued exponential leaves of mean m = 50 ms, `wait_for: all`,
/// `timeout: 100ms`, `partial: true`. The answers that make the deadline
/// are Binomial(N, F(d)) with F(d) = 1 - e^{-2} = 0.8647: their mean is
/// N F(d) = 6.917 (standard deviation 0.97 per request, so 2 x 10^5
/// requests give a standard error of 0.03 %; tolerance 0.2 %). A request
/// is partial unless all N made it: share 1 - F(d)^N = 0.6879 (standard
/// error 0.001; tolerance 0.005 absolute). The step lasts min(d, max of N):
/// its mean is the integral in [`expected_step_ms`], 92.54 ms (standard
/// deviation under 25 ms, standard error under 0.07 %; tolerance 0.5 %,
/// which also covers the latency histogram's resolution). Every request
/// succeeds, and every call that missed the deadline answers late.
#[test]
fn a_partial_fan_out_answers_with_the_binomial_share_at_the_deadline() {
    let (n, m, d) = (8, 50.0, 100.0);
    let mut s = step(n, WaitFor::All);
    s.timeout = Some(ms(100));
    s.partial = true;
    let r = run(&spec(
        poisson(1_000.0),
        210,
        10,
        vec![front(s), leaf(exp_ms(m))],
    ));
    let front = &r.components[0];
    let requests = r.requests.completed as f64;
    assert_eq!(r.requests.failed, 0, "a partial step never fails");
    let partial = extra_of(front, "partial_answers");
    let in_partial = extra_of(front, "partial_answer_calls");
    let late = extra_of(front, "late_calls");
    let f = 1.0 - (-d / m).exp();
    let answers = (in_partial + f64::from(n) * (requests - partial)) / requests;
    close("answers by the deadline", answers, f64::from(n) * f, 0.002);
    let share = partial / requests;
    let expected_share = 1.0 - f.powi(n as i32);
    println!("partial share: got {share:.5}, theory {expected_share:.5}");
    assert!(
        (share - expected_share).abs() < 0.005,
        "partial share {share}"
    );
    // Each call either answered in time or answered late (all answers
    // arrive before the run drains).
    assert_eq!(
        late,
        f64::from(n) * requests - (in_partial + f64::from(n) * (requests - partial)),
        "late answers = calls sent - answers in time"
    );
    close(
        "step time E[min(d, max of N)] (ms)",
        r.latency.mean_ns() / MS,
        expected_step_ms(n as i32, m, d),
        0.005,
    );
}

/// A circuit breaker in a deterministic failure window: one call per
/// request, arrivals every 10 ms from t = 0 for 10 s, the leaf answers in
/// 1 ms and is down from 2,005 ms to 5,005 ms (a crash: calls fail at
/// once). Breaker: window 10, min_calls 10, failure_rate 50 %, open_for
/// 1 s, one probe. By hand: the calls at 2,010..2,050 ms fail; the fifth
/// failure (2,050 ms) makes 5 of the last 10 and opens it until 3,050 ms;
/// the 99 calls at 2,060..3,040 ms are short-circuited; the probe at
/// 3,050 ms fails (still down) and opens it until 4,050 ms (99 more); the
/// probe at 4,050 ms fails again (99 more, 4,060..5,040 ms); the probe at
/// 5,050 ms succeeds and closes it. So 297 short-circuited calls, 3
/// openings, 1 closing, and 5 + 2 + 297 = 304 failed requests (7 of them
/// reached the dead leaf): exact.
#[test]
fn a_breaker_short_circuits_the_hand_computed_calls_in_a_failure_window() {
    let mut s = step(1, WaitFor::All);
    s.breaker = Some(BreakerSpec {
        failure_rate: 0.5,
        min_calls: 10,
        window: 10,
        open_for: SimDuration::from_secs(1),
        probes: 1,
    });
    let mut spec = spec(
        ArrivalSpec::Constant { per_second: 100.0 },
        10,
        0,
        vec![front(s), leaf(constant_ms(1.0))],
    );
    spec.faults = vec![FaultSpec {
        at: ms(2_005),
        duration: secs(3),
        kind: FaultKind::Crash(ComponentId(1)),
    }];
    let r = run(&spec);
    let front = &r.components[0];
    assert_eq!(extra_of(front, "short_circuited"), 297.0);
    assert_eq!(extra_of(front, "breaker_opened"), 3.0);
    assert_eq!(extra_of(front, "breaker_closed"), 1.0);
    assert_eq!(extra_of(front, "failed_calls"), 304.0);
    assert_eq!(extra_of(&r.components[1], "lost_in_crash"), 7.0);
    assert_eq!(r.requests.failed, 304);
    assert_eq!(r.requests.completed, 1_000 - 304);
}

/// Without the breaker the same window fails every call while the leaf is
/// down (2,010..5,000 ms: 300 calls), and none is short-circuited: the
/// breaker's 297 replace all but the 3 probes and the 5 that opened it.
#[test]
fn without_a_breaker_every_call_in_the_window_reaches_the_dead_leaf() {
    let mut spec = spec(
        ArrivalSpec::Constant { per_second: 100.0 },
        10,
        0,
        vec![front(step(1, WaitFor::All)), leaf(constant_ms(1.0))],
    );
    spec.faults = vec![FaultSpec {
        at: ms(2_005),
        duration: secs(3),
        kind: FaultKind::Crash(ComponentId(1)),
    }];
    let r = run(&spec);
    assert_eq!(r.requests.failed, 300);
    assert!(r.components[0].figure("short_circuited").is_none());
}
