//! Tests of the whole loader: good inputs to `ModelSpec`, bad inputs to
//! located problems, overrides, the schema, and no panics on any input.

use proptest::prelude::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{ArrivalSpec, ComponentKind, Distribution, KeySpec, LbPolicy, ModelSpec};

use crate::test_support::{load, load_with, problems};
use crate::{LoadOptions, Problem, json_schema, load_str};

/// A small valid scenario; line numbers matter to the tests below.
const BASE: &str = "\
name: t
duration: 10s
workloads:
  - name: users
    target: server
    arrival: { poisson: 100/s }
components:
  server:
    type: server
    workers: 2
    service_time: 5ms
";

/// The M/M/1 example of the contract, verbatim.
const MM1: &str = "\
name: mm1                      # required
description: The textbook M/M/1 queue.
seed: 7                        # default 1
duration: 2000s                # workloads generate arrivals during [0, duration)
warmup: 100s                   # requests that *arrive* before this are not counted

workloads:
  - name: users
    target: server             # a component name
    arrival: { poisson: 0.9/s }

components:
  server:
    type: server
    workers: 1                 # parallel servers (the c of M/M/c); default 1
    service_time: { exponential: 1s }

network:
  latency: 0ms                 # default one-way delay between components
";

fn ok(text: &str) -> ModelSpec {
    match load(text) {
        Ok(spec) => spec,
        Err(problems) => panic!("expected a valid scenario, got {problems:#?}"),
    }
}

fn sets(overrides: &[&str]) -> LoadOptions {
    LoadOptions {
        overrides: overrides.iter().map(|s| (*s).to_owned()).collect(),
        seed: None,
        max_memory: None,
        prices: None,
    }
}

fn replace(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no `{from}`");
    BASE.replacen(from, to, 1)
}

fn with_lb(policy_line: &str, backends: &str) -> String {
    format!(
        "{}  lb:\n    type: load_balancer\n    {policy_line}\n    backends: {backends}\n  s2:\n    type: server\n    service_time: 1ms\n",
        BASE
    )
}

#[test]
fn contract_mm1_example_parses_to_the_expected_spec() {
    let spec = ok(MM1);
    assert_eq!(spec.name, "mm1");
    assert_eq!(spec.seed, 7);
    assert_eq!(spec.duration, SimDuration::from_nanos(2_000_000_000_000));
    assert_eq!(spec.warmup, SimDuration::from_nanos(100_000_000_000));
    assert_eq!(
        spec.network.latency,
        Distribution::Constant(SimDuration::ZERO)
    );
    assert_eq!(spec.workloads.len(), 1);
    let w = &spec.workloads[0];
    assert_eq!(w.name, "users");
    assert_eq!(w.target, ComponentId(0));
    assert_eq!(w.arrival, ArrivalSpec::Poisson { per_second: 0.9 });
    assert_eq!(w.keys, KeySpec::Unique);
    assert_eq!(w.timeout, None);
    assert_eq!(spec.components.len(), 1);
    assert_eq!(spec.components[0].name, "server");
    let ComponentKind::Server(server) = &spec.components[0].kind else {
        panic!("server expected");
    };
    assert_eq!(server.workers, 1);
    assert_eq!(server.queue_capacity, None);
    assert_eq!(
        server.service_time,
        Distribution::Exponential { mean_ns: 1e9 }
    );
}

#[test]
fn defaults_apply() {
    let spec = ok(BASE);
    assert_eq!(spec.seed, 1);
    assert_eq!(spec.warmup, SimDuration::ZERO);
    assert_eq!(
        spec.network.latency,
        Distribution::Constant(SimDuration::ZERO)
    );
}

fn service_time(value: &str) -> Result<Distribution, Vec<Problem>> {
    let spec = load(&replace(
        "service_time: 5ms",
        &format!("service_time: {value}"),
    ))?;
    match spec.components.into_iter().next().map(|c| c.kind) {
        Some(ComponentKind::Server(s)) => Ok(s.service_time),
        other => panic!("server expected, got {other:?}"),
    }
}

#[test]
fn every_distribution_form() {
    use Distribution::*;
    let cases: Vec<(&str, Distribution)> = vec![
        ("5ms", Constant(SimDuration::from_millis(5))),
        ("{ constant: 5ms }", Constant(SimDuration::from_millis(5))),
        ("{ exponential: 5ms }", Exponential { mean_ns: 5e6 }),
        (
            "{ uniform: [1ms, 3ms] }",
            Uniform {
                low_ns: 1e6,
                high_ns: 3e6,
            },
        ),
        (
            "{ lognormal: { median: 4ms, sigma: 0.5 } }",
            LogNormal {
                median_ns: 4e6,
                sigma: 0.5,
            },
        ),
        (
            "{ pareto: { scale: 1ms, shape: 2.5 } }",
            Pareto {
                scale_ns: 1e6,
                shape: 2.5,
            },
        ),
        (
            "{ erlang: { k: 3, mean: 3ms } }",
            Erlang { k: 3, mean_ns: 3e6 },
        ),
        (
            "{ mixture: [ { weight: 0.99, dist: 1ms }, { weight: 0.01, dist: { exponential: 100ms } } ] }",
            Mixture(vec![
                (0.99, Constant(SimDuration::from_millis(1))),
                (0.01, Exponential { mean_ns: 1e8 }),
            ]),
        ),
        (
            "{ lognormal: { median: 4ms, sigma: 1 } }",
            LogNormal {
                median_ns: 4e6,
                sigma: 1.0,
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(service_time(text), Ok(expected), "{text}");
    }
}

#[test]
fn distribution_parameters_are_range_checked() {
    let cases = [
        (
            "{ exponential: 0ms }",
            11,
            34,
            "mean of `exponential` must be greater than zero",
        ),
        ("{ uniform: [3ms, 1ms] }", 11, 30, "lower bound first"),
        (
            "{ lognormal: { median: 4ms, sigma: -1 } }",
            11,
            54,
            "`sigma` of `lognormal` must be zero or more",
        ),
        (
            "{ lognormal: { median: 0ms, sigma: 1 } }",
            11,
            42,
            "`median` of `lognormal` must be greater than zero",
        ),
        (
            "{ pareto: { scale: 1ms, shape: 0 } }",
            11,
            50,
            "`shape` of `pareto` must be greater than zero",
        ),
        (
            "{ pareto: { scale: 0s, shape: 2 } }",
            11,
            38,
            "`scale` of `pareto` must be greater than zero",
        ),
        (
            "{ erlang: { k: 0, mean: 3ms } }",
            11,
            34,
            "`k` must be at least 1, found 0",
        ),
        (
            "{ erlang: { k: 2, mean: 0ms } }",
            11,
            43,
            "`mean` of `erlang` must be greater than zero",
        ),
        ("{ mixture: [] }", 11, 30, "at least one part"),
        (
            "{ mixture: [ { weight: 0, dist: 1ms } ] }",
            11,
            42,
            "`weight` of a mixture part must be greater than zero",
        ),
        (
            "{ uniform: [1ms] }",
            11,
            30,
            "expected a list of 2 values, found 1",
        ),
        ("{ exponental: 5ms }", 11, 21, "unknown value `exponental`"),
        ("exponential", 11, 19, "`exponential` needs a value"),
        (
            "{ exponential: 5ms, constant: 1ms }",
            11,
            19,
            "expected exactly one of",
        ),
    ];
    for (text, line, column, phrase) in cases {
        let problems = service_time(text).err().unwrap_or_default();
        assert_eq!(problems.len(), 1, "{text}: {problems:#?}");
        let p = &problems[0];
        assert!(p.message.contains(phrase), "{text}: {}", p.message);
        assert_eq!((p.line, p.column), (line, column), "{text}: {}", p.message);
    }
}

fn arrival(value: &str) -> Result<ArrivalSpec, Vec<Problem>> {
    let spec = load(&replace(
        "arrival: { poisson: 100/s }",
        &format!("arrival: {value}"),
    ))?;
    Ok(spec.workloads[0].arrival.clone())
}

#[test]
fn every_arrival_form() {
    assert_eq!(
        arrival("{ poisson: 900/s }"),
        Ok(ArrivalSpec::Poisson { per_second: 900.0 })
    );
    assert_eq!(
        arrival("{ poisson: 12/ms }"),
        Ok(ArrivalSpec::Poisson {
            per_second: 12_000.0
        })
    );
    assert_eq!(
        arrival("{ constant: 3000/min }"),
        Ok(ArrivalSpec::Constant { per_second: 50.0 })
    );
    assert_eq!(
        arrival("{ interarrival: { uniform: [1ms, 3ms] } }"),
        Ok(ArrivalSpec::Interarrival(Distribution::Uniform {
            low_ns: 1e6,
            high_ns: 3e6
        }))
    );
    assert_eq!(
        arrival("{ closed: { users: 50, think_time: { exponential: 1s } } }"),
        Ok(ArrivalSpec::Closed {
            users: 50,
            think_time: Distribution::Exponential { mean_ns: 1e9 }
        })
    );
    assert_eq!(
        arrival("{ closed: { users: 3 } }"),
        Ok(ArrivalSpec::Closed {
            users: 3,
            think_time: Distribution::Constant(SimDuration::ZERO)
        })
    );
    // Block style works the same.
    assert_eq!(
        arrival("\n      closed:\n        users: 2\n        think_time: 1s"),
        Ok(ArrivalSpec::Closed {
            users: 2,
            think_time: Distribution::Constant(SimDuration::from_secs(1))
        })
    );
}

#[test]
fn bad_arrivals_are_located() {
    let cases = [
        (
            "{ poison: 100/s }",
            6,
            16,
            "unknown value `poison`",
            Some("did you mean `poisson`?"),
        ),
        (
            "{ poisson: 100 }",
            6,
            25,
            "expected a rate with a unit",
            Some("write `100/s` for 100 per second"),
        ),
        (
            "{ closed: { users: 0 } }",
            6,
            33,
            "`users` must be at least 1, found 0",
            None,
        ),
        (
            "{ interarrival: 0ms }",
            6,
            30,
            "mean time between arrivals must be greater than zero",
            None,
        ),
        (
            "poisson",
            6,
            14,
            "`poisson` needs a value",
            Some("write it as a map: `{ poisson: ... }`"),
        ),
    ];
    for (text, line, column, phrase, help) in cases {
        let problems = arrival(text).err().unwrap_or_default();
        assert_eq!(problems.len(), 1, "{text}: {problems:#?}");
        let p = &problems[0];
        assert!(p.message.contains(phrase), "{text}: {}", p.message);
        assert_eq!((p.line, p.column), (line, column), "{text}: {}", p.message);
        if help.is_some() {
            assert_eq!(p.help.as_deref(), help, "{text}");
        }
    }
}

#[test]
fn workload_keys_and_timeout() {
    let text = replace(
        "arrival: { poisson: 100/s }",
        "arrival: { poisson: 100/s }\n    keys: { zipf: { n: 1000, s: 0.99 } }\n    timeout: 250ms",
    );
    let spec = ok(&text);
    assert_eq!(spec.workloads[0].keys, KeySpec::Zipf { n: 1000, s: 0.99 });
    assert_eq!(
        spec.workloads[0].timeout,
        Some(SimDuration::from_millis(250))
    );
    let text = replace(
        "arrival: { poisson: 100/s }",
        "arrival: { poisson: 100/s }\n    keys: { uniform: 10 }",
    );
    assert_eq!(ok(&text).workloads[0].keys, KeySpec::Uniform { n: 10 });

    let text = replace(
        "arrival: { poisson: 100/s }",
        "arrival: { poisson: 100/s }\n    keys: { uniform: 0 }\n    timeout: 0s",
    );
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].message.contains("`uniform` must be at least 1"));
    assert_eq!((found[0].line, found[0].column), (7, 22));
    assert!(
        found[1]
            .message
            .contains("`timeout` must be greater than zero")
    );
    assert_eq!((found[1].line, found[1].column), (8, 14));
}

#[test]
fn load_balancer_policies_and_backends() {
    for (word, policy) in [
        ("round_robin", LbPolicy::RoundRobin),
        ("random", LbPolicy::Random),
        ("least_outstanding", LbPolicy::LeastOutstanding),
        ("power_of_two", LbPolicy::PowerOfTwo),
        ("consistent_hash", LbPolicy::ConsistentHash),
    ] {
        let spec = ok(&with_lb(&format!("policy: {word}"), "[server, s2]"));
        // File order: server, lb, s2.
        let names: Vec<&str> = spec.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["server", "lb", "s2"]);
        let ComponentKind::LoadBalancer(lb) = &spec.components[1].kind else {
            panic!("load balancer expected");
        };
        assert_eq!(lb.policy, policy);
        assert_eq!(lb.backends, [ComponentId(0), ComponentId(2)]);
    }
    let spec = ok(&with_lb("# default policy", "[s2]"));
    let ComponentKind::LoadBalancer(lb) = &spec.components[1].kind else {
        panic!("load balancer expected");
    };
    assert_eq!(lb.policy, LbPolicy::RoundRobin);
}

#[test]
fn load_balancer_mistakes() {
    // Lines: 12 lb, 13 type, 14 policy, 15 backends.
    let found = problems(&with_lb("policy: round_robbin", "[s2, s2, lb, s3]"));
    let summary: Vec<(usize, usize, &str)> = found
        .iter()
        .map(|p| (p.line, p.column, p.message.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                14,
                13,
                "unknown value `round_robbin`, expected `round_robin`, `random`, `least_outstanding`, `power_of_two`, `consistent_hash`, `least_kv` or `prefix_affinity`"
            ),
            (15, 20, "backend `s2` is listed twice"),
            (15, 24, "load balancer `lb` cannot be its own backend"),
            (15, 28, "there is no component named `s3`"),
        ]
    );
    assert_eq!(
        found[0].help.as_deref(),
        Some("did you mean `round_robin`?")
    );
    assert_eq!(
        found[3].help.as_deref(),
        Some("the components are `server`, `lb` or `s2`")
    );

    let found = problems(&with_lb("policy: random", "[]"));
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("at least one component"));
}

#[test]
fn load_balancer_cycles_are_rejected() {
    let text = format!(
        "{BASE}  a:\n    type: load_balancer\n    backends: [b]\n  b:\n    type: load_balancer\n    backends: [c, server]\n  c:\n    type: load_balancer\n    backends: [a]\n"
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].message,
        "load balancers form a cycle: a -> b -> c -> a"
    );
    assert_eq!((found[0].line, found[0].column), (12, 3));
}

/// The cycle check follows `ComponentKind::downstream()` of the built
/// specs: every kind of edge (a stream's consumer group, a queue's consumer,
/// a cache's backend, a server's calls) closes a cycle, reported once, at
/// the name of the component the chain starts and ends with.
#[test]
fn cycles_through_every_kind_of_edge_are_located_at_a_name() {
    let text = "name: t\nduration: 1s\nworkloads: [ { name: u, target: s, arrival: { poisson: 1/s } } ]\ncomponents:\n  s:\n    type: stream\n    consumer_groups: [ { name: g, target: w } ]\n  w:\n    type: server\n    service_time: 1ms\n    calls: [c]\n  c:\n    type: cache\n    capacity: 10\n    hit_time: 1ms\n    backend: q\n  q:\n    type: queue\n    consumers: { target: s }\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].message,
        "components form a cycle (calls, backends or consumers): s -> w -> c -> q -> s"
    );
    assert_eq!((found[0].line, found[0].column), (5, 3));
}

/// (what, text, line, column, phrase of the message, phrase of the help)
fn malformed_cases() -> Vec<(
    &'static str,
    String,
    usize,
    usize,
    &'static str,
    &'static str,
)> {
    let lb = |policy: &str| with_lb(&format!("policy: {policy}"), "[s2]");
    vec![
        (
            "YAML syntax error",
            replace("arrival: { poisson: 100/s }", "arrival: { poisson: 100/s"),
            7,
            11,
            "invalid YAML",
            "",
        ),
        (
            "unknown field",
            replace("service_time: 5ms", "service_tme: 5ms"),
            11,
            5,
            "unknown key `service_tme`",
            "did you mean `service_time`?",
        ),
        (
            "bad unit",
            replace("service_time: 5ms", "service_time: 5 parsecs"),
            11,
            19,
            "unknown duration unit `parsecs` in `5 parsecs`",
            "use one of",
        ),
        (
            "bare number duration",
            replace("duration: 10s", "duration: 5"),
            2,
            11,
            "expected a duration with a unit, such as `5ms`",
            "write `5s` or `5ms`",
        ),
        (
            "bare number service time",
            replace("service_time: 5ms", "service_time: 5"),
            11,
            19,
            "expected a duration such as `5ms`",
            "write `5s` or `5ms`",
        ),
        (
            "dangling reference",
            replace("target: server", "target: sever"),
            5,
            13,
            "there is no component named `sever`",
            "did you mean `server`?",
        ),
        (
            "zero workers",
            replace("workers: 2", "workers: 0"),
            10,
            14,
            "`workers` must be at least 1, found 0",
            "",
        ),
        (
            "negative workers",
            replace("workers: 2", "workers: -3"),
            10,
            14,
            "`workers` must be at least 1, found -3",
            "",
        ),
        (
            "zero rate",
            replace("poisson: 100/s", "poisson: 0/s"),
            6,
            25,
            "a rate must be greater than zero",
            "",
        ),
        (
            "negative duration",
            replace("duration: 10s", "duration: -5s"),
            2,
            11,
            "`duration`: a duration cannot be negative",
            "",
        ),
        (
            "zero duration",
            replace("duration: 10s", "duration: 0s"),
            2,
            11,
            "`duration` must be greater than zero",
            "",
        ),
        (
            "wrong type",
            replace("workers: 2", "workers: \"many\""),
            10,
            14,
            "`workers`: expected a whole number, found the string `many`",
            "",
        ),
        (
            "unknown component type",
            replace("type: server", "type: sever"),
            9,
            11,
            "unknown component type `sever`",
            "did you mean `server`?",
        ),
        (
            "unknown policy",
            lb("least_outstandng"),
            14,
            13,
            "unknown value `least_outstandng`",
            "did you mean `least_outstanding`?",
        ),
        (
            "empty file",
            "  \n# nothing here\n".to_owned(),
            1,
            1,
            "the file is empty; a scenario needs at least `name`, `duration`, `workloads` and `components`",
            "",
        ),
        (
            "missing name",
            replace("name: t\n", ""),
            1,
            1,
            "missing required key `name`",
            "add e.g.",
        ),
        (
            "unknown top-level key",
            replace("duration: 10s", "duration: 10s\ndescripton: x"),
            3,
            1,
            "unknown key `descripton`",
            "did you mean `description`?",
        ),
        (
            "warmup not before duration",
            replace("duration: 10s", "duration: 10s\nwarmup: 10s"),
            3,
            9,
            "`warmup` (10s) must be less than `duration` (10s)",
            "[warmup, duration)",
        ),
        (
            "duplicate workload",
            replace(
                "components:",
                "  - name: users\n    target: server\n    arrival: { constant: 1/s }\ncomponents:",
            ),
            7,
            11,
            "there are two workloads named `users`",
            "unique",
        ),
        (
            "duplicate YAML key",
            replace("workers: 2", "workers: 2\n    workers: 3"),
            11,
            5,
            "duplicate mapping key",
            "",
        ),
        (
            "component without type",
            replace("    type: server\n", ""),
            8,
            3,
            "component `server` has no `type`",
            "add `type: server`",
        ),
        (
            "float where a count is expected",
            replace("workers: 2", "workers: 1.5"),
            10,
            14,
            "expected a whole number, found the number 1.5",
            "",
        ),
        (
            "workloads as a map",
            replace("  - name: users", "  users:\n    name: users"),
            4,
            3,
            "expected a list of workloads, found a map",
            "- name",
        ),
        (
            "scalar at top level",
            "just a string\n".to_owned(),
            1,
            1,
            "a scenario must be a map",
            "",
        ),
    ]
}

#[test]
fn malformed_scenarios_are_located_exactly() {
    for (what, text, line, column, phrase, help) in malformed_cases() {
        let found = match load(&text) {
            Ok(_) => panic!("{what}: expected a problem"),
            Err(p) => p,
        };
        assert_eq!(found.len(), 1, "{what}: {found:#?}");
        let p = &found[0];
        assert_eq!(p.file, "t.yaml", "{what}");
        assert!(
            p.message.contains(phrase),
            "{what}: message was {:?}",
            p.message
        );
        assert_eq!((p.line, p.column), (line, column), "{what}: {}", p.message);
        if !help.is_empty() {
            let got = p.help.as_deref().unwrap_or("");
            assert!(got.contains(help), "{what}: help was {got:?}");
        }
    }
}

#[test]
fn three_independent_mistakes_are_all_reported() {
    let text = BASE
        .replace("duration: 10s", "duration: 5")
        .replace("target: server", "target: sever")
        .replace("service_time: 5ms", "service_tme: 5ms");
    let found = problems(&text);
    let at: Vec<(usize, usize)> = found.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(at, [(2, 11), (5, 13), (11, 5)], "{found:#?}");
    assert!(found[0].message.contains("duration with a unit"));
    assert!(found[1].message.contains("`sever`"));
    assert!(found[2].message.contains("`service_tme`"));
}

#[test]
fn display_names_file_line_and_column() {
    let text = replace("target: server", "target: sever");
    let Err(err) = load_str("scenarios/t.yaml", &text, &LoadOptions::default()) else {
        panic!("expected an error");
    };
    assert_eq!(
        err.to_string(),
        "scenarios/t.yaml:5:13: there is no component named `sever` (help: did you mean `server`?)"
    );
}

#[test]
fn miette_renders_each_problem_with_a_snippet() {
    use miette::Diagnostic;
    let text = BASE
        .replace("target: server", "target: sever")
        .replace("service_time: 5ms", "service_tme: 5ms");
    let Err(err) = load_str(
        "scenarios/t.yaml",
        &text,
        &sets(&["workloads.users.arrival.poisson=0/s"]),
    ) else {
        panic!("expected an error");
    };
    let related: Vec<&dyn Diagnostic> = err.related().map(|r| r.collect()).unwrap_or_default();
    assert_eq!(related.len(), 3);
    for diagnostic in &related {
        assert!(diagnostic.source_code().is_some());
        assert_eq!(diagnostic.labels().map(|l| l.count()), Some(1));
    }
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    handler.render_report(&mut out, &err).ok();
    assert!(out.contains("[scenarios/t.yaml:5:13]"), "{out}");
    assert!(out.contains("did you mean `server`?"), "{out}");
    assert!(out.contains("[--set:1:33]"), "{out}");
    println!("{out}");
}

#[test]
fn overrides_change_existing_values_add_keys_and_address_workloads_by_name() {
    let options = sets(&[
        "components.server.workers=16",
        "components.server.queue_capacity=0",
        "workloads.users.arrival.poisson=800/s",
        "network.latency={ exponential: 2ms }",
        "seed=99",
    ]);
    let spec = match load_with(BASE, &options) {
        Ok(spec) => spec,
        Err(p) => panic!("{p:#?}"),
    };
    let ComponentKind::Server(server) = &spec.components[0].kind else {
        panic!("server expected");
    };
    assert_eq!(server.workers, 16);
    assert_eq!(server.queue_capacity, Some(0));
    assert_eq!(
        spec.workloads[0].arrival,
        ArrivalSpec::Poisson { per_second: 800.0 }
    );
    assert_eq!(
        spec.network.latency,
        Distribution::Exponential { mean_ns: 2e6 }
    );
    assert_eq!(spec.seed, 99);

    // Replacing a whole subtree, a list value, and addressing by index.
    let options = sets(&[
        "workloads.users.arrival={ closed: { users: 5, think_time: 1s } }",
        "components.lb={ type: load_balancer, backends: [server] }",
        "workloads.0.target=lb",
    ]);
    let spec = match load_with(BASE, &options) {
        Ok(spec) => spec,
        Err(p) => panic!("{p:#?}"),
    };
    assert!(matches!(
        spec.workloads[0].arrival,
        ArrivalSpec::Closed { users: 5, .. }
    ));
    assert_eq!(spec.workloads[0].target, ComponentId(1));
}

#[test]
fn seed_option_wins() {
    let options = LoadOptions {
        overrides: vec!["seed=5".to_owned()],
        seed: Some(123),
        max_memory: None,
        prices: None,
    };
    assert_eq!(load_with(MM1, &options).map(|s| s.seed), Ok(123));
}

#[test]
fn override_problems_name_the_set_argument() {
    let cases = [
        (
            "workloads.usrs.arrival.poisson=800/s",
            "there is no workload named `usrs`",
            Some("did you mean `users`?"),
        ),
        (
            "components.sever.workers=4",
            "there is no component named `sever`",
            Some("did you mean `server`?"),
        ),
        (
            "components.server.workers=many",
            "`workers`: expected a whole number, found the string `many`",
            None,
        ),
        (
            "components.server.wrkers=4",
            "unknown key `wrkers`",
            Some("did you mean `workers`?"),
        ),
        (
            "components.server.workers=0",
            "`workers` must be at least 1, found 0",
            None,
        ),
        (
            "workloads.users.arrival.poisson=800",
            "expected a rate with a unit",
            None,
        ),
        ("duration", "expected `PATH=VALUE`", None),
        ("a..b=1", "is not a valid path", None),
        ("duration.x=1", "cannot set `x` inside `duration`", None),
        ("name=[1, ", "invalid YAML value", None),
    ];
    for (arg, phrase, help) in cases {
        let found = match load_with(BASE, &sets(&[arg])) {
            Ok(_) => panic!("{arg}: expected a problem"),
            Err(p) => p,
        };
        assert_eq!(found.len(), 1, "{arg}: {found:#?}");
        let p = &found[0];
        assert_eq!(p.file, format!("--set {arg}"));
        assert_eq!((p.line, p.column), (0, 0));
        assert!(p.message.contains(phrase), "{arg}: {}", p.message);
        if help.is_some() {
            assert_eq!(p.help.as_deref(), help, "{arg}");
        }
    }
    // And the display line says which argument.
    let Err(err) = load_str("t.yaml", BASE, &sets(&["components.server.workers=0"])) else {
        panic!("expected an error");
    };
    assert_eq!(
        err.to_string(),
        "--set components.server.workers=0: `workers` must be at least 1, found 0"
    );
}

#[test]
fn io_errors_are_scenario_errors() {
    let Err(err) = crate::load_file(
        std::path::Path::new("/nonexistent/x.yaml"),
        &LoadOptions::default(),
    ) else {
        panic!("expected an error");
    };
    assert_eq!(err.problems().len(), 1);
    assert_eq!(err.problems()[0].line, 0);
    assert!(
        err.to_string()
            .starts_with("/nonexistent/x.yaml: cannot read the scenario file")
    );
}

/// The one bounded reader (scenario, trace, iteration table): a file of
/// exactly the limit is read, one byte more is refused, bytes that are not
/// UTF-8 are refused; the scenario file keeps its own wording.
#[test]
fn bounded_reading_refuses_past_the_limit() {
    let dir = std::env::temp_dir().join(format!("sysdes-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.txt");
    std::fs::write(&path, vec![b'a'; 3 << 20]).unwrap();
    assert_eq!(crate::read_bounded(&path, 3 << 20).unwrap().len(), 3 << 20);
    let err = crate::read_bounded(&path, (3 << 20) - 1).unwrap_err();
    assert!(matches!(err, crate::ReadError::TooLarge(_)), "{err:?}");
    assert_eq!(
        crate::read_bounded(&path, 2 << 20).unwrap_err().to_string(),
        "it is larger than the limit of 2 MiB (see docs/limits.md)"
    );
    std::fs::write(&path, b"a\xffb").unwrap();
    let err = crate::read_bounded(&path, 10).unwrap_err().to_string();
    assert!(err.starts_with("it is not UTF-8 text ("), "{err}");
    let Err(err) = crate::load_file(&path, &LoadOptions::default()) else {
        panic!("expected an error");
    };
    assert!(
        err.to_string()
            .contains(": cannot read the scenario file: it is not UTF-8 text ("),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn schema_describes_the_format() {
    let schema = json_schema();
    assert!(schema.is_object());
    let text = schema.to_string();
    for word in [
        "service_time",
        "workloads",
        "components",
        "load_balancer",
        "poisson",
        "pattern",
        "description",
    ] {
        assert!(text.contains(word), "schema lacks {word}");
    }
    let Ok(pretty) = serde_json::to_string_pretty(&schema) else {
        panic!("schema serializes");
    };
    assert!(pretty.len() > 1000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        let _ = load(&text);
    }

    #[test]
    fn yamlish_text_never_panics(text in "[a-z_:{}\\[\\], \\n\\-0-9./\"'&*!|>#]{0,200}") {
        let _ = load(&text);
    }

    #[test]
    fn mutations_of_a_valid_scenario_never_panic(
        edits in proptest::collection::vec((0usize..400, 0usize..8, "[a-z0-9:{}\\[\\], \\n\\-./]{0,6}"), 1..5),
    ) {
        let mut text = MM1.to_owned();
        for (at, delete, insert) in edits {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + delete).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(at..end, &insert);
        }
        if let Err(err) = load_str("m.yaml", &text, &LoadOptions::default()) {
            // Every problem from the file has a position.
            for p in err.problems() {
                prop_assert!(p.line >= 1 && p.column >= 1, "{p:?}");
            }
            let mut out = String::new();
            let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
            prop_assert!(handler.render_report(&mut out, &err).is_ok());
        }
    }

    #[test]
    fn random_overrides_never_panic(path in "[a-z_.0-9]{0,30}", value in "\\PC{0,30}") {
        let _ = load_with(BASE, &sets(&[&format!("{path}={value}")]));
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    for depth in [100, 1_000, 100_000] {
        let flow = format!("name: {}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(load(&flow).is_err());
        let mixture = format!(
            "{}{}{}",
            BASE.replace("service_time: 5ms", "service_time: "),
            "{ mixture: [ { weight: 1, dist: ".repeat(depth.min(2_000)),
            " 1ms } ] }".repeat(depth.min(2_000))
        );
        assert!(load(&mixture).is_err() || depth < 1_000);
    }
}

#[test]
fn bare_number_duration_display_line() {
    let text = replace("duration: 10s", "duration: 5");
    let Err(err) = load_str("t.yaml", &text, &LoadOptions::default()) else {
        panic!("expected an error");
    };
    assert_eq!(
        err.to_string(),
        "t.yaml:2:11: `duration`: expected a duration with a unit, such as `5ms`, found the number 5 (help: write `5s` or `5ms`)"
    );
}

#[test]
fn load_file_reads_a_file() {
    let path =
        std::env::temp_dir().join(format!("sysdes-scenario-test-{}.yaml", std::process::id()));
    std::fs::write(&path, MM1).expect("temp dir is writable");
    let loaded = crate::load_file(&path, &LoadOptions::default());
    std::fs::remove_file(&path).ok();
    let loaded = loaded.map_err(|e| e.to_string()).expect("MM1 loads");
    assert_eq!(loaded.spec.name, "mm1");
    assert_eq!(loaded.source, MM1);
    assert_eq!(loaded.file, path.display().to_string());
}
