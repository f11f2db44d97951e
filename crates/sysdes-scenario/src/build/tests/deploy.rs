//! Loader tests for the deployment keys and the `hosts` block.

use sysdes_kernel::SimDuration;
use sysdes_models::{ComponentKind, Distribution, LbPolicy, Placement, RuntimeKind, ScaleMetric};

use crate::Problem;
use crate::test_support::{load, problems};

const BASE: &str = "\
name: t
duration: 10s
hosts:
  pool-a: { count: 4, cores: 16, memory: 64GiB }
workloads:
  - name: users
    target: api
    arrival: { poisson: 100/s }
components:
  api:
    type: server
    service_time: 5ms
    replicas: 3
";

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[track_caller]
fn one_problem(text: &str, message: &str) -> Problem {
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].message.contains(message), "{:#?}", p[0]);
    p[0].clone()
}

#[test]
fn defaults() {
    let spec = load(BASE).expect("valid");
    assert_eq!(spec.hosts.len(), 1);
    let pool = &spec.hosts[0];
    assert_eq!((pool.count, pool.cores, pool.memory), (4, 16, 64 << 30));
    assert_eq!(pool.placement, Placement::Spread);
    let ComponentKind::ReplicaGroup(d) = &spec.components[0].kind else {
        panic!("a deployment");
    };
    assert!(d.members.station().is_some(), "a group of stations");
    assert_eq!(d.replicas, 3);
    assert_eq!(d.balance, LbPolicy::RoundRobin);
    assert_eq!(d.runs_on.kind, RuntimeKind::Container);
    assert_eq!(
        d.runs_on.boot_time,
        RuntimeKind::Container.default_boot_time()
    );
    assert_eq!((d.cpu, d.memory, d.host), (1.0, 0, None));
    assert!(d.autoscaler.is_none());
}

#[test]
fn a_plain_server_stays_a_server() {
    let text = BASE.replace("    replicas: 3\n", "");
    let spec = load(&text).expect("valid");
    assert!(matches!(spec.components[0].kind, ComponentKind::Server(_)));
}

#[test]
fn every_key() {
    let spec = load(&with(
        "    balance: least_outstanding
    runs_on: { kind: vm, boot_time: 90s }
    cpu: 2
    memory: 8GiB
    host: pool-a
    autoscaler: { metric: queue_length, target: 4, interval: 30s, min: 2, max: 50, scale_down_stabilization: 60s, tolerance: 0.2 }
",
    ))
    .expect("valid");
    let ComponentKind::ReplicaGroup(d) = &spec.components[0].kind else {
        panic!("a deployment");
    };
    assert!(d.members.station().is_some(), "a group of stations");
    assert_eq!(d.balance, LbPolicy::LeastOutstanding);
    assert_eq!(d.runs_on.kind, RuntimeKind::Vm);
    assert_eq!(
        d.runs_on.boot_time,
        Distribution::Constant(SimDuration::from_secs(90))
    );
    assert_eq!((d.cpu, d.memory, d.host), (2.0, 8 << 30, Some(0)));
    let a = d.autoscaler.as_ref().expect("autoscaler");
    assert_eq!(a.metric, ScaleMetric::QueueLength);
    assert_eq!(a.target, 4.0);
    assert_eq!(a.interval, SimDuration::from_secs(30));
    assert_eq!((a.min, a.max), (2, 50));
    assert_eq!(a.scale_down_stabilization, SimDuration::from_secs(60));
    assert_eq!(a.tolerance, 0.2);
    let vm = load(&with("    runs_on: { kind: vm }\n")).expect("valid");
    let ComponentKind::ReplicaGroup(d) = &vm.components[0].kind else {
        panic!("a deployment");
    };
    assert_eq!(d.runs_on.boot_time, RuntimeKind::Vm.default_boot_time());
}

#[test]
fn unknown_host_pool_suggests() {
    let p = one_problem(
        &with("    host: pool-b\n"),
        "there is no host pool named `pool-b`",
    );
    assert_eq!(p.help.as_deref(), Some("did you mean `pool-a`?"));
    assert_eq!((p.line, p.column), (14, 11));
}

#[test]
fn typos_in_deployment_keys_suggest() {
    let p = one_problem(&with("    replcas: 2\n"), "unknown key `replcas`");
    assert_eq!(p.help.as_deref(), Some("did you mean `replicas`?"));
    let p = one_problem(
        &with("    autoscaler: { target: 0.6, max: 5, intervall: 10s }\n"),
        "unknown key `intervall`",
    );
    assert_eq!(p.help.as_deref(), Some("did you mean `interval`?"));
    let p = one_problem(
        &BASE.replace("cores: 16", "corse: 16"),
        "unknown key `corse`",
    );
    assert_eq!(p.help.as_deref(), Some("did you mean `cores`?"));
    let p = one_problem(&with("    runs_on: { kind: lambda }\n"), "lambda");
    assert!(
        p.message.contains("vm") && p.message.contains("container"),
        "{p:#?}"
    );
}

#[test]
fn values_are_range_checked() {
    one_problem(
        &BASE.replace("replicas: 3", "replicas: 0"),
        "`replicas` must be at least 1",
    );
    one_problem(&with("    cpu: -1\n"), "`cpu` must be a positive number");
    one_problem(&with("    memory: 8\n"), "size");
    one_problem(
        &with("    autoscaler: { target: 60, max: 5 }\n"),
        "a utilization `target` is a fraction",
    );
    one_problem(
        &with("    autoscaler: { target: 0.6, min: 4, max: 2 }\n"),
        "`max` (2) must be at least `min` (4)",
    );
    one_problem(
        &with("    autoscaler: { target: 0.6, min: 4, max: 8 }\n"),
        "`replicas` (3) must lie between",
    );
    one_problem(&with("    autoscaler: { target: 0.6 }\n"), "max");
    one_problem(
        &with("    autoscaler: { target: 0.6, max: 5, interval: 0s }\n"),
        "`interval` must be greater than zero",
    );
    one_problem(
        &with("    host: pool-a\n    memory: 128GiB\n"),
        "more memory (128GiB) than a host of pool `pool-a` has (64GiB)",
    );
    one_problem(
        &BASE.replace("memory: 64GiB", "memory: 0B"),
        "`memory` of a host must be greater than zero",
    );
    one_problem(
        &BASE.replace("count: 4", "count: 0"),
        "`count` must be at least 1",
    );
    one_problem(&with("    balance: consistent_hash\n"), "consistent_hash");
}
