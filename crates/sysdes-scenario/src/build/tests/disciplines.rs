//! Loader tests for queue disciplines: a workload's `priority`, a server's
//! `discipline` and `patience` (reneging); good inputs, and bad ones located.

use sysdes_models::{ComponentKind, Discipline, ModelSpec};

use crate::{Problem, test_support};

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
  db:
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

fn api(spec: &ModelSpec) -> &sysdes_models::ServerSpec {
    match &spec.components[0].kind {
        ComponentKind::Server(s) => s,
        other => panic!("api is a server, got {other:?}"),
    }
}

#[test]
fn defaults_are_fifo_without_patience_and_priority_zero() {
    let spec = load("", "").expect("valid");
    assert_eq!(api(&spec).discipline, Discipline::Fifo);
    assert_eq!(api(&spec).patience, None);
    assert_eq!(spec.workloads[0].priority, 0);
}

#[test]
fn discipline_patience_and_priority_parse() {
    let spec = load(
        "    priority: 3\n",
        "    discipline: priority\n    patience: { exponential: 2s }\n",
    )
    .expect("valid");
    assert_eq!(spec.workloads[0].priority, 3);
    assert_eq!(api(&spec).discipline, Discipline::Priority);
    assert_eq!(api(&spec).patience.as_ref().map(|d| d.mean_ns()), Some(2e9));
    let spec = load("", "    discipline: preemptive_priority\n").expect("valid");
    assert_eq!(api(&spec).discipline, Discipline::PreemptiveResume);
    let spec = load("", "    discipline: fifo\n").expect("valid");
    assert_eq!(api(&spec).discipline, Discipline::Fifo);
}

#[test]
fn bad_disciplines_are_located() {
    let p = problem("    priority: 300\n", "");
    assert_eq!((p.line, p.column), (7, 15), "{p:?}");
    assert!(p.message.contains("from 0 to 255"), "{p:?}");

    let p = problem("", "    discipline: lifo\n");
    assert_eq!((p.line, p.column), (11, 17), "{p:?}");
    assert!(p.message.contains("`preemptive_priority`"), "{p:?}");

    let p = problem(
        "",
        "    discipline: preemptive_priority\n    calls: [ db ]\n",
    );
    assert_eq!((p.line, p.column), (11, 17), "{p:?}");
    assert!(p.message.contains("without `calls`"), "{p:?}");

    let p = problem("", "    patience: 0s\n");
    assert_eq!(p.line, 11, "{p:?}");
    assert!(p.message.contains("mean above zero"), "{p:?}");

    let p = problem("", "    patiense: 1s\n");
    assert_eq!(p.help.as_deref(), Some("did you mean `patience`?"), "{p:?}");
}
