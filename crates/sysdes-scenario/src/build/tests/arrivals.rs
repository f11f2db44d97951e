//! Loader tests for the realistic arrival processes (`curve`, `mmpp`,
//! `trace`): good inputs, and bad ones located.

use sysdes_kernel::SimDuration;
use sysdes_models::{ArrivalSpec, CurveShape, ModelSpec};

use crate::{LoadOptions, Problem, load_str, test_support};

fn scenario(arrival: &str) -> String {
    format!(
        "name: t\nduration: 10s\nworkloads:\n  - name: users\n    target: api\n    arrival: {arrival}\ncomponents:\n  api:\n    type: server\n    service_time: 1ms\n"
    )
}

fn load(arrival: &str) -> Result<ModelSpec, Vec<Problem>> {
    test_support::load(&scenario(arrival))
}

fn texts(arrival: &str) -> Vec<String> {
    test_support::problem_texts(&scenario(arrival))
}

#[test]
fn a_curve_parses_with_its_defaults() {
    let spec =
        load("{ curve: { points: [ { at: 0h, poisson: 100/s }, { at: 12h, poisson: 900/s } ] } }")
            .expect("valid");
    let ArrivalSpec::Curve(c) = &spec.workloads[0].arrival else {
        panic!("a curve expected");
    };
    assert_eq!(c.period, SimDuration::from_secs(86_400));
    assert_eq!(c.shape, CurveShape::Linear);
    assert_eq!(c.start, SimDuration::ZERO);
    assert_eq!(c.points[1], (SimDuration::from_secs(43_200), 900.0));
    // 24 h of a triangle 100 -> 900 -> 100: the mean rate is 500/s.
    assert!((c.per_period() - 500.0 * 86_400.0).abs() < 1e-3);
    let spec = load(
        "{ curve: { period: 1h, shape: step, start: 30m, points: [ { at: 0s, poisson: 1/s } ] } }",
    )
    .expect("valid");
    let ArrivalSpec::Curve(c) = &spec.workloads[0].arrival else {
        panic!("a curve expected");
    };
    assert_eq!(
        (c.shape, c.start),
        (CurveShape::Step, SimDuration::from_secs(1800))
    );
}

#[test]
fn bad_curves_are_located() {
    let p = texts(
        "{ curve: { period: 1h, points: [ { at: 5m, poisson: 1/s }, { at: 2h, poisson: 2/s } ], start: 2h } }",
    );
    test_support::has(&p, "t.yaml:6:53: the first point must be at `0s`");
    test_support::has(&p, "`at` must be within the period (3600 s), found 7200 s");
    test_support::has(&p, "`start` must be within the period");
    let p = texts("{ curve: { points: [ { at: 0s, poisson: 0/s } ] } }");
    test_support::has(&p, "every point's rate is zero");
    let p = texts("{ curve: { points: [ { at: 0s, poisson: 1/s }, { at: 0s, poisson: 2/s } ] } }");
    test_support::has(&p, "increasing order of `at`");
    let p = texts("{ curve: { points: [ { at: 0s, rate: 1/s } ] } }");
    test_support::has(&p, "rate");
}

#[test]
fn an_mmpp_parses_and_needs_two_states() {
    let spec = load("{ mmpp: { states: [ { poisson: 100/s, mean_stay: 20s }, { poisson: 0/s, mean_stay: 2s } ] } }")
        .expect("valid");
    let ArrivalSpec::Mmpp(m) = &spec.workloads[0].arrival else {
        panic!("an mmpp expected");
    };
    assert_eq!(m.states.len(), 2);
    assert_eq!(m.states[1].mean_stay, SimDuration::from_secs(2));
    assert!((m.mean_per_second() - 100.0 * 20.0 / 22.0).abs() < 1e-9);
    let p = texts("{ mmpp: { states: [ { poisson: 100/s, mean_stay: 20s } ] } }");
    test_support::has(&p, "an MMPP needs at least two `states`, found 1");
    let p = texts(
        "{ mmpp: { states: [ { poisson: 100/s, mean_stay: 0s }, { poisson: 1/s, mean_stay: 1s } ] } }",
    );
    test_support::has(&p, "`mean_stay` must be greater than zero");
}

#[test]
fn an_inline_trace_parses_and_its_problems_name_line_and_field() {
    let spec = load("{ trace: { speed: 2, csv: \"time_ms,key,op\\n0,1,read\\n2.5,x,write\\n\" } }")
        .expect("valid");
    let ArrivalSpec::Trace(t) = &spec.workloads[0].arrival else {
        panic!("a trace expected");
    };
    assert_eq!(t.speed, 2.0);
    assert_eq!(t.records.len(), 2);
    assert_eq!(t.records[1].at, SimDuration::from_nanos(2_500_000));
    assert_eq!(t.records[1].write, Some(true));
    let p = texts("{ trace: { csv: \"time_ms,kye\\n0,1\\n\" } }");
    test_support::has(&p, "t.yaml:6:");
    test_support::has(
        &p,
        "trace inline csv:1: field `kye`: unknown field `kye` (did you mean `key`?",
    );
    let p = texts("{ trace: { jsonl: \"{\\\"time_s\\\": 1}\\n{\\\"time_s\\\": -1}\\n\" } }");
    test_support::has(
        &p,
        "trace inline jsonl:2: field `time_s`: expected a time of zero or more",
    );
    let p = texts("{ trace: { speed: 0, csv: \"time_s\\n0\\n\" } }");
    test_support::has(&p, "`speed` must be greater than zero");
    let p = texts("{ trace: { speed: 2 } }");
    test_support::has(&p, "a trace needs `file`");
}

#[test]
fn a_trace_file_is_read_relative_to_the_scenario() {
    let dir = std::env::temp_dir().join(format!("sysdes-trace-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("traces")).expect("temp dir");
    std::fs::write(
        dir.join("traces/a.jsonl"),
        "{\"time_s\": 0.5, \"key\": 9, \"user\": \"u1\"}\n{\"time_s\": 1.25}\n",
    )
    .expect("write trace");
    let yaml = dir.join("s.yaml");
    let text = scenario("{ trace: { file: traces/a.jsonl, ignore_columns: [user] } }");
    let loaded = load_str(
        yaml.to_str().expect("utf-8"),
        &text,
        &LoadOptions::default(),
    )
    .expect("valid");
    let ArrivalSpec::Trace(t) = &loaded.spec.workloads[0].arrival else {
        panic!("a trace expected");
    };
    assert_eq!(t.source, "traces/a.jsonl");
    assert_eq!(t.records[0].key, Some(9));
    assert_eq!(t.records[1].at, SimDuration::from_millis(1250));
    let text = scenario("{ trace: { file: traces/missing.csv } }");
    let err = load_str(
        yaml.to_str().expect("utf-8"),
        &text,
        &LoadOptions::default(),
    )
    .expect_err("missing");
    assert!(
        err.to_string()
            .contains("cannot read the trace `traces/missing.csv`"),
        "{err}"
    );
    let text = scenario("{ trace: { file: traces/a.txt } }");
    let err = load_str(
        yaml.to_str().expect("utf-8"),
        &text,
        &LoadOptions::default(),
    )
    .expect_err("not a trace");
    assert!(
        err.to_string()
            .contains("must name a `.csv` or `.jsonl` trace"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A phase that starts at or after the end of the run (10 s) never sends
/// a request: a located warning at that phase (not an error: a shortened
/// run, `--set duration=10s`, cuts a schedule short on purpose). The phase
/// that starts before the end and lasts past it is cut at the end, as is
/// a last phase without `for`: no warning.
#[test]
fn an_arrival_phase_after_the_run_is_a_located_warning() {
    let warnings = |arrival: &str| -> Vec<String> {
        load_str("t.yaml", &scenario(arrival), &LoadOptions::default())
            .expect("loads")
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let found = warnings(
        "\n      phases:\n        - { poisson: 10/s, for: 4s }\n        - { poisson: 90/s, for: 6s }\n        - { poisson: 10/s }",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("t.yaml:10:11: this phase of workload `users` starts at 10s, not before the end of the run (10s)"),
        "{found:#?}"
    );
    assert_eq!(warnings("{ phases: [ { poisson: 10/s, for: 4s }, { poisson: 90/s, for: 60s }, { poisson: 10/s } ] }").len(), 1);
    assert!(
        warnings("{ phases: [ { poisson: 10/s, for: 4s }, { poisson: 90/s, for: 60s } ] }")
            .is_empty()
    );
    assert!(warnings("{ phases: [ { poisson: 10/s, for: 4s }, { poisson: 90/s } ] }").is_empty());
}
