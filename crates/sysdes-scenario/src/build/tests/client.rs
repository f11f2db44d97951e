//! Loader tests for client behaviour (ops, sessions, retries, phases,
//! hotspot keys) and server calls: good inputs, and bad ones located.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    ArrivalSpec, BreakerSpec, CallMode, ComponentKind, Jitter, KeySpec, ModelSpec, WaitFor,
};

use crate::{LoadOptions, Problem, load_str, test_support};

const BASE: &str = "\
name: t
duration: 10s
workloads:
  - name: users
    target: api
    arrival: { poisson: 100/s }
components:
  api:
    type: server
    service_time: 1ms
  a:
    type: server
    service_time: 1ms
  b:
    type: server
    service_time: 1ms
";

fn load(extra_workload: &str, extra_api: &str) -> Result<ModelSpec, Vec<Problem>> {
    let text = BASE
        .replacen(
            "    arrival: { poisson: 100/s }\n",
            &format!("    arrival: {{ poisson: 100/s }}\n{extra_workload}"),
            1,
        )
        .replacen(
            "  api:\n    type: server\n    service_time: 1ms\n",
            &format!("  api:\n    type: server\n    service_time: 1ms\n{extra_api}"),
            1,
        );
    test_support::load(&text)
}

fn problem(extra_workload: &str, extra_api: &str) -> Problem {
    match load(extra_workload, extra_api) {
        Ok(spec) => panic!("expected a problem, got {spec:#?}"),
        Err(mut p) => {
            assert_eq!(p.len(), 1, "{p:#?}");
            p.remove(0)
        }
    }
}

#[test]
fn client_behaviour_parses() {
    let spec = load(
        "    ops: { read: 0.8 }\n    sessions: 50\n    timeout: 1s\n    retries: { max: 2, backoff: 10ms, jitter: full, budget: 0.1 }\n    keys: { hotspot: { n: 100, hot_fraction: 0.2, hot_share: 0.8 } }\n",
        "",
    )
    .expect("valid");
    let w = &spec.workloads[0];
    assert!((w.write_share - 0.2).abs() < 1e-12);
    assert_eq!(w.sessions, Some(50));
    let r = w.retries.as_ref().expect("retries");
    assert_eq!((r.max, r.jitter, r.budget), (2, Jitter::Full, Some(0.1)));
    assert_eq!(r.multiplier, 2.0);
    assert!(matches!(w.keys, KeySpec::Hotspot { n: 100, .. }));
}

#[test]
fn phases_parse_and_only_the_last_may_be_open_ended() {
    let text = BASE.replacen(
        "arrival: { poisson: 100/s }",
        "arrival: { phases: [ { poisson: 10/s, for: 5s }, { poisson: 0/s, for: 1s }, { poisson: 50/s } ] }",
        1,
    );
    let spec = load_str("t.yaml", &text, &LoadOptions::default())
        .expect("valid")
        .spec;
    let ArrivalSpec::Phases(p) = &spec.workloads[0].arrival else {
        panic!("phases expected");
    };
    assert_eq!(p.len(), 3);
    assert_eq!(p[0].length, Some(SimDuration::from_secs(5)));
    assert_eq!(p[2].length, None);

    let text = BASE.replacen(
        "arrival: { poisson: 100/s }",
        "arrival: { phases: [ { poisson: 10/s }, { poisson: 50/s } ] }",
        1,
    );
    let err = load_str("t.yaml", &text, &LoadOptions::default()).expect_err("invalid");
    let p = &err.problems()[0];
    assert_eq!(p.line, 6);
    assert!(
        p.message.contains("only the last phase may omit `for`"),
        "{p:?}"
    );
}

#[test]
fn calls_parse_with_every_step_form() {
    let spec = load(
        "",
        "    mode: async\n    calls:\n      - a\n      - { to: b }\n      - { parallel: [a, b], wait_for: any, hedge_after: 5ms }\n      - { to: a, fan_out: 3, wait_for: 2 }\n",
    )
    .expect("valid");
    let ComponentKind::Server(s) = &spec.components[0].kind else {
        panic!("server");
    };
    assert_eq!(s.mode, CallMode::Async);
    assert_eq!(s.calls.len(), 4);
    assert_eq!(s.calls[0].targets, vec![ComponentId(1)]);
    assert_eq!(s.calls[1].targets, vec![ComponentId(2)]);
    assert_eq!(s.calls[2].wait_for, WaitFor::Any);
    assert_eq!(s.calls[2].hedge_after, Some(SimDuration::from_millis(5)));
    assert_eq!(s.calls[3].targets, vec![ComponentId(1); 3]);
    assert_eq!(s.calls[3].wait_for, WaitFor::Count(2));
    let spec = load("", "    calls: [ { to: a, hedge_after: p95 } ]\n").expect("valid");
    let ComponentKind::Server(s) = &spec.components[0].kind else {
        panic!("server");
    };
    assert_eq!(s.calls[0].hedge_percentile, Some(0.95));
    assert_eq!(s.calls[0].hedge_after, None);
}

#[test]
fn bad_calls_are_located_with_suggestions() {
    let p = problem("", "    calls: [ db ]\n");
    assert_eq!((p.line, p.column), (11, 14));
    assert!(p.message.contains("no component named `db`"), "{p:?}");

    let p = problem("", "    calls: [ { to: a, wait_fr: all } ]\n");
    assert!(p.message.contains("unknown key `wait_fr`"), "{p:?}");
    assert_eq!(p.help.as_deref(), Some("did you mean `wait_for`?"));

    let p = problem("", "    calls: [ { parallel: [a, b], wait_for: 3 } ]\n");
    assert!(p.message.contains("a number from 1 to 2"), "{p:?}");

    let p = problem("", "    calls: [ api ]\n");
    assert!(p.message.contains("cannot call itself"), "{p:?}");

    let p = problem("", "    calls: [ { to: a, parallel: [b] } ]\n");
    assert!(p.message.contains("not both"), "{p:?}");

    let p = problem("", "    calls: [ { to: a, hedge_after: p100 } ]\n");
    assert!(p.message.contains("a percentile such as `p95`"), "{p:?}");

    let p = problem("", "    mode: threads\n");
    assert!(p.message.contains("threads"), "{p:?}");
}

#[test]
fn bad_client_settings_are_located() {
    let p = problem("    ops: { read: 0.9, write: 0.2 }\n", "");
    assert_eq!(p.line, 7);
    assert!(p.message.contains("must sum to 1"), "{p:?}");

    let p = problem("    retries: { max: 2, multiplier: 0.5 }\n", "");
    assert!(
        p.message.contains("`multiplier` must be at least 1"),
        "{p:?}"
    );

    let p = problem("    retries: { max: 2, jitter: fulll }\n", "");
    assert!(p.message.contains("fulll"), "{p:?}");

    let p = problem("    sessions: 0\n", "");
    assert!(p.message.contains("`sessions` must be at least 1"), "{p:?}");

    let p = problem("    retry: { max: 2 }\n", "");
    assert_eq!(p.help.as_deref(), Some("did you mean `retries`?"));

    let p = problem(
        "    keys: { hotspot: { n: 100, hot_fraction: 1.5, hot_share: 0.9 } }\n",
        "",
    );
    assert!(p.message.contains("hot_fraction"), "{p:?}");
}

#[test]
fn call_deadlines_partial_answers_and_breakers_parse() {
    let spec = load(
        "",
        "    calls:\n      - { to: a, timeout: 50ms }\n      - { to: b, fan_out: 8, timeout: 100ms, partial: true }\n      - { to: a, breaker: { failure_rate: 25%, min_calls: 5, window: 10, open_for: 2s, probes: 2 } }\n      - { to: b, breaker: {} }\n",
    )
    .expect("valid");
    let ComponentKind::Server(s) = &spec.components[0].kind else {
        panic!("server");
    };
    assert_eq!(s.calls[0].timeout, Some(SimDuration::from_millis(50)));
    assert!(!s.calls[0].partial);
    assert_eq!(s.calls[1].timeout, Some(SimDuration::from_millis(100)));
    assert!(s.calls[1].partial);
    assert_eq!(
        s.calls[2].breaker,
        Some(BreakerSpec {
            failure_rate: 0.25,
            min_calls: 5,
            window: 10,
            open_for: SimDuration::from_secs(2),
            probes: 2,
        })
    );
    // The defaults: 50 % over the last 100 calls, open 5 s, one probe.
    assert_eq!(
        s.calls[3].breaker,
        Some(BreakerSpec {
            failure_rate: 0.5,
            min_calls: 100,
            window: 100,
            open_for: SimDuration::from_secs(5),
            probes: 1,
        })
    );
    assert_eq!(s.calls[3].timeout, None);
}

#[test]
fn bad_call_deadlines_and_breakers_are_located_with_suggestions() {
    let p = problem("", "    calls: [ { to: a, timeout: 0ms } ]\n");
    assert!(
        p.message.contains("`timeout` must be greater than zero"),
        "{p:?}"
    );
    assert_eq!(p.line, 11);

    let p = problem("", "    calls: [ { to: a, partial: true } ]\n");
    assert!(p.message.contains("has no `timeout`"), "{p:?}");
    assert_eq!(
        p.help.as_deref(),
        Some("add e.g. `timeout: 100ms` to the step")
    );

    let p = problem(
        "",
        "    calls: [ { to: a, timeout: 10ms, partial: yes please } ]\n",
    );
    assert!(p.message.contains("partial"), "{p:?}");

    let p = problem(
        "",
        "    calls: [ { to: a, breaker: { failure_rate: 150% } } ]\n",
    );
    assert!(p.message.contains("`failure_rate`"), "{p:?}");
    assert!(p.message.contains("from 0 to 1"), "{p:?}");
    assert!(
        p.help.as_deref().is_some_and(|h| h.contains("`25%`")),
        "{p:?}"
    );

    let p = problem(
        "",
        "    calls: [ { to: a, breaker: { window: 5, min_calls: 10 } } ]\n",
    );
    assert!(p.message.contains("cannot exceed `window`"), "{p:?}");

    let p = problem("", "    calls: [ { to: a, breaker: { open_fr: 1s } } ]\n");
    assert!(p.message.contains("unknown key `open_fr`"), "{p:?}");
    assert_eq!(p.help.as_deref(), Some("did you mean `open_for`?"));

    let p = problem("", "    calls: [ { to: a, breaker: 3 } ]\n");
    assert!(p.message.contains("`breaker`: expected a map"), "{p:?}");

    let p = problem("", "    calls: [ { to: a, timout: 10ms } ]\n");
    assert_eq!(p.help.as_deref(), Some("did you mean `timeout`?"));
}
