//! Loader tests for `type: store` and replica crash faults.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    ComponentKind, FaultKind, PartitionPolicy, ReadFrom, Replication, Routing, StoreMode,
};

use crate::test_support::{has, load, problem_texts};

const KV: &str = "\
name: kv
duration: 60s
network:
  zones: { us: { eu: 40ms, ap: 70ms }, eu: { ap: 90ms }, ap: {} }
workloads:
  - { name: app, target: kv, zone: eu, arrival: { poisson: 100/s }, ops: { read: 0.9, write: 0.1 }, sessions: 10, keys: { uniform: 100 } }
components:
  kv:
    type: store
    replicas: 3
    zones: [us, eu, ap]
    mode: leaderless
    read_quorum: 1
    write_quorum: 3
    read_repair: true
    hinted_handoff: true
    on_partition: serve
    routing: random
    probe_after: 5ms
    read_time: { exponential: 1ms }
    delays: { write_request: { exponential: 10ms }, read_response: 1ms }
faults:
  - { crash: kv.r2, at: 10s, for: 5s }
  - { partition: [[us, eu], [ap]], at: 20s, for: 10s }
";

#[test]
fn a_store_loads_with_every_key() {
    let spec = load(KV).unwrap_or_else(|p| panic!("{p:#?}"));
    let ComponentKind::Store(s) = &spec.components[0].kind else {
        panic!("not a store");
    };
    assert_eq!(s.replicas, 3);
    assert_eq!(s.zones, ["us", "eu", "ap"]);
    assert_eq!(s.mode, StoreMode::Leaderless);
    assert_eq!((s.read_quorum, s.write_quorum), (1, 3));
    assert!(s.read_repair && s.hinted_handoff);
    assert_eq!(s.on_partition, PartitionPolicy::Serve);
    assert_eq!(s.routing, Routing::Random);
    assert_eq!(s.probe_after, Some(SimDuration::from_millis(5)));
    assert!(s.delays.write_request.is_some() && s.delays.write_ack.is_none());
    assert_eq!(spec.faults.len(), 2);
    assert!(spec.faults.iter().any(|f| f.kind
        == FaultKind::CrashReplica {
            store: ComponentId(0),
            replica: 2
        }
        && f.at == SimDuration::from_secs(10)));
}

#[test]
fn defaults_are_a_majority_and_a_leader() {
    let text = KV.replace(
        "    mode: leaderless\n    read_quorum: 1\n    write_quorum: 3\n    read_repair: true\n    hinted_handoff: true\n",
        "",
    );
    let spec = load(&text).unwrap_or_else(|p| panic!("{p:#?}"));
    let ComponentKind::Store(s) = &spec.components[0].kind else {
        panic!("not a store");
    };
    assert_eq!(s.mode, StoreMode::Leader);
    assert_eq!(s.replication, Replication::Async);
    assert_eq!(s.reads, ReadFrom::Leader);
    assert_eq!(
        s.write_quorum, 3,
        "leader mode: sync waits for all by default"
    );
    assert_eq!(s.read_quorum, 2);
}

#[test]
fn typos_and_bad_values_are_located_with_suggestions() {
    let p = problem_texts(&KV.replace("read_quorum: 1", "read_qorum: 1"));
    has(&p, "t.yaml:13:5: unknown key `read_qorum`");
    has(&p, "did you mean `read_quorum`?");
    let p = problem_texts(&KV.replace("write_quorum: 3", "write_quorum: 4"));
    has(&p, "`write_quorum` (4) cannot exceed `replicas` (3)");
    let p = problem_texts(&KV.replace("replicas: 3", "replicas: 65"));
    has(&p, "`replicas` must be at most 64");
    let p = problem_texts(&KV.replace("mode: leaderless", "mode: leaderles"));
    has(&p, "t.yaml:12:11");
    let p = problem_texts(&KV.replace("write_request:", "write_requets:"));
    has(&p, "did you mean `write_request`?");
    let p = problem_texts(&KV.replace("on_partition: serve", "on_partition: maybe"));
    has(
        &p,
        "t.yaml:17:19: unknown value `maybe`, expected `refuse` or `serve`",
    );
    assert_eq!(p.len(), 1, "{p:#?}");
    let p = problem_texts(&KV.replace("type: store", "type: stor"));
    has(&p, "did you mean `store`?");
}

#[test]
fn keys_of_the_other_mode_are_errors() {
    let p = problem_texts(&KV.replace("routing: random", "routing: random\n    reads: any"));
    has(&p, "`reads` applies only to `mode: leader`");
    let text = KV.replace("mode: leaderless", "mode: leader");
    let p = problem_texts(&text);
    has(&p, "`read_repair` applies only to `mode: leaderless`");
}

#[test]
fn replica_crashes_name_a_replica_that_exists() {
    let p = problem_texts(&KV.replace("crash: kv.r2", "crash: kv.r3"));
    has(&p, "store `kv` has no replica `r3`");
    has(&p, "its replicas are `kv.r0` to `kv.r2`");
    let p = problem_texts(&KV.replace("crash: kv.r2, at: 10s", "crash: kv.r2, at: 70s"));
    has(&p, "not before the end of the run");
    let p = problem_texts(&KV.replace(
        "  - { partition:",
        "  - { crash: kv.r2, at: 12s, for: 1s }\n  - { partition:",
    ));
    has(&p, "overlaps another crash of the same replica");
}

/// A store zone the network does not define is reported where it is
/// written, with the closest zone name suggested.
#[test]
fn an_unknown_store_zone_is_located_with_a_suggestion() {
    let text = KV.replacen("zones: [us, eu, ap]", "zones: [us, eu, app]", 1);
    let p = load(&text).expect_err("unknown zone");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (11, 21), "{p:#?}");
    assert!(p[0].message.contains("store zone `app`"), "{p:#?}");
    assert_eq!(p[0].help.as_deref(), Some("did you mean `ap`?"));
}
