//! Loader tests for the network (zones, links, sizes) and `faults:`.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{Distribution, FaultKind, NetTarget};

use crate::test_support::{has, load, located, problem_texts};

const GEO: &str = "\
name: geo
duration: 60s
workloads:
  - name: users
    target: lb
    zone: us
    request_size: 1KiB
    arrival: { poisson: 100/s }
components:
  lb:
    type: load_balancer
    backends: [a, b]
    zone: us
  a:
    type: server
    service_time: 5ms
    zone: us
  b:
    type: server
    service_time: 5ms
    zone: eu
    response_size: 64KiB
network:
  latency: 1ms
  zones: { us: { eu: 40ms, ap: 70ms }, eu: { ap: 90ms }, ap: {} }
  links: [ { from: lb, to: eu, loss: 0.01, retransmit: 100ms, bandwidth: 1Gbit/s } ]
faults:
  - { crash: a, at: 10s, for: 5s }
  - { slowdown: b, factor: 4, at: 20s, for: 5s }
  - { partition: [[us], [eu, ap]], at: 30s, for: 10s }
  - { latency: { from: users, to: lb, add: 100ms }, at: 40s, for: 5s }
  - { loss: { from: us, to: eu, rate: 0.2 }, at: 50s }
";

#[test]
fn zones_links_sizes_and_faults_load() {
    let spec = load(GEO).unwrap_or_else(|p| panic!("{p:#?}"));
    let net = &spec.network;
    assert_eq!(net.zones, ["us", "eu", "ap"]);
    let ms = |n| Distribution::Constant(SimDuration::from_millis(n));
    assert_eq!(
        net.zone_latency,
        vec![(1, 2, ms(40)), (1, 3, ms(70)), (2, 3, ms(90))]
    );
    assert_eq!(net.component_zones, [1, 1, 2]);
    assert_eq!(net.workload_zones, [1]);
    assert_eq!(net.workload_sizes[0].request, Some(1024));
    assert_eq!(net.component_sizes[2].response, Some(65536));
    assert_eq!(net.links.len(), 1);
    assert_eq!(net.links[0].from, NetTarget::Component(ComponentId(0)));
    assert_eq!(net.links[0].to, NetTarget::Zone(2));
    assert_eq!(net.links[0].bandwidth, Some(125e6));
    assert_eq!(spec.faults.len(), 5);
    assert_eq!(spec.faults[0].kind, FaultKind::Crash(ComponentId(1)));
    assert_eq!(
        spec.faults[2].kind,
        FaultKind::Partition(vec![
            vec![NetTarget::Zone(1)],
            vec![NetTarget::Zone(2), NetTarget::Zone(3)]
        ])
    );
    assert_eq!(
        spec.faults[3].kind,
        FaultKind::Latency {
            from: NetTarget::Workload(0),
            to: NetTarget::Component(ComponentId(0)),
            add: ms(100)
        }
    );
    // `for` left out: to the end of the run.
    assert_eq!(spec.faults[4].duration, SimDuration::from_secs(10));
}

#[test]
fn unknown_names_get_suggestions_with_positions() {
    let p = problem_texts(&GEO.replace("zone: eu\n", "zone: euu\n"));
    has(
        &p,
        "t.yaml:21:11: there is no zone named `euu` (help: did you mean `eu`?)",
    );
    let p = problem_texts(&GEO.replace("crash: a,", "crash: aa,"));
    has(&p, "there is no component, workload or zone named `aa`");
    let p = problem_texts(&GEO.replace("to: lb, add", "to: lbb, add"));
    has(&p, "did you mean `lb`?");
    let p = problem_texts(&GEO.replace("[[us], [eu, ap]]", "[[us], [eu, apx]]"));
    has(&p, "did you mean `ap`?");
    let p = problem_texts(&GEO.replace("{ crash: a,", "{ crsh: a,"));
    has(&p, "unknown key `crsh`");
}

#[test]
fn bad_windows_and_overlaps_are_errors() {
    let p = problem_texts(&GEO.replace("at: 10s, for: 5s", "at: 70s, for: 5s"));
    has(&p, "not before the end of the run");
    let p = problem_texts(&GEO.replace("at: 10s, for: 5s", "at: 58s, for: 5s"));
    has(&p, "after the end of the run");
    let two = GEO.replace(
        "  - { crash: a, at: 10s, for: 5s }\n",
        "  - { crash: a, at: 10s, for: 5s }\n  - { crash: a, at: 12s, for: 5s }\n",
    );
    has(&problem_texts(&two), "overlaps another crash");
    let p = problem_texts(&GEO.replace("crash: a,", "crash: lb,"));
    has(&p, "`crash` needs a single server, and `lb` is not one");
    let p = problem_texts(&GEO.replace("factor: 4", "factor: 0"));
    has(&p, "`factor` must be greater than zero");
    let p = problem_texts(&GEO.replace("rate: 0.2", "rate: 1.5"));
    has(&p, "`rate` must be at least 0 and below 1");
    let p = problem_texts(&GEO.replace("[[us], [eu, ap]]", "[[us, eu], [eu, ap]]"));
    has(&p, "`eu` is in two groups");
    let p = problem_texts(&GEO.replace("[[us], [eu, ap]]", "[[us]]"));
    has(&p, "at least two groups");
    let p = problem_texts(&GEO.replace(
        "{ crash: a, at: 10s, for: 5s }",
        "{ crash: a, slowdown: b, at: 10s, for: 5s }",
    ));
    has(&p, "a fault has exactly one kind");
}

#[test]
fn bad_network_is_located() {
    let p = problem_texts(&GEO.replace("eu: { ap: 90ms }", "eu: {}"));
    has(&p, "no latency between zones `eu` and `ap`");
    let p = problem_texts(&GEO.replace("loss: 0.01", "loss: 1.0"));
    has(&p, "`loss` must be at least 0 and below 1");
    let p = problem_texts(&GEO.replace("bandwidth: 1Gbit/s", "bandwidth: 1Gbit"));
    has(&p, "bandwidth");
    let p = problem_texts(&GEO.replace("request_size: 1KiB", "request_size: 1024"));
    has(&p, "size");
    let p = problem_texts(&GEO.replace(
        "us: { eu: 40ms, ap: 70ms }",
        "us: { eu: 40ms, ap: 70ms, us: 1ms }",
    ));
    has(&p, "zone `us` lists itself");
    let p = problem_texts(&GEO.replace("retransmit: 100ms", "retransmt: 100ms"));
    has(&p, "retransmit");
}

#[test]
fn a_name_that_is_both_a_workload_and_a_zone_is_refused_where_it_is_used() {
    // The workload `ap` and the zone `ap`: a partition naming `ap` used to cut
    // off the workload instead of the zone, silently.
    let text = GEO.replace("- name: users", "- name: ap").replace(
        "{ latency: { from: users, to: lb",
        "{ latency: { from: ap, to: lb",
    );
    let problems = problem_texts(&text);
    has(&problems, "`ap` names both a workload and a zone");
}

/// Every station kind shares one fault state: caches take crashes and
/// slowdowns, queues and streams crashes, stores slowdowns and crashes (the
/// whole store, or one replica as `STORE.rI`); a fault that does not apply
/// to a kind is a located error saying what does.
#[test]
fn faults_reach_caches_queues_streams_and_stores() {
    const STATIONS: &str = "\
name: stations
duration: 60s
workloads:
  - { name: users, target: cache, arrival: { poisson: 100/s } }
  - { name: producer, target: jobs, arrival: { poisson: 10/s } }
  - { name: events, target: log, arrival: { poisson: 10/s } }
  - { name: kv-users, target: kv, arrival: { poisson: 10/s } }
components:
  cache: { type: cache, capacity: 100, backend: db }
  db: { type: server, service_time: 5ms }
  jobs: { type: queue, consumers: { target: db } }
  log: { type: stream, consumer_groups: [ { name: g, target: db } ] }
  kv: { type: store, replicas: 3 }
faults:
  - { crash: cache, at: 1s, for: 1s }
  - { slowdown: cache, factor: 3, at: 3s, for: 1s }
  - { crash: jobs, at: 5s, for: 1s }
  - { crash: log, at: 7s, for: 1s }
  - { slowdown: kv, factor: 2, at: 9s, for: 1s }
  - { crash: kv.r1, at: 11s, for: 1s }
";
    let spec = load(STATIONS).unwrap_or_else(|p| panic!("{p:#?}"));
    let kinds: Vec<_> = spec.faults.iter().map(|f| f.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            FaultKind::Crash(ComponentId(0)),
            FaultKind::Slowdown {
                target: ComponentId(0),
                factor: 3.0
            },
            FaultKind::Crash(ComponentId(2)),
            FaultKind::Crash(ComponentId(3)),
            FaultKind::Slowdown {
                target: ComponentId(4),
                factor: 2.0
            },
            FaultKind::CrashReplica {
                store: ComponentId(4),
                replica: 1
            },
        ]
    );
    // A queue or stream has no service time to stretch.
    let p = located(&STATIONS.replace("crash: jobs,", "slowdown: jobs, factor: 2,"));
    assert_eq!(
        p,
        [
            "17:17: `slowdown` does not apply to `jobs`: a queue has no service time of its own to stretch (slow down its consumer instead, or `crash: jobs` to take the broker down)"
        ]
    );
    let p = located(&STATIONS.replace("crash: log,", "slowdown: log, factor: 2,"));
    has(
        &p,
        "18:17: `slowdown` does not apply to `log`: a stream has",
    );
    // `crash: STORE` takes the whole store down; it may overlap a crash of
    // one of its replicas (that replica is down for the union), not another
    // crash of the whole store.
    let whole = STATIONS.replace("slowdown: kv, factor: 2, at: 9s", "crash: kv, at: 11s");
    let spec = load(&whole).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(spec.faults[4].kind, FaultKind::CrashStore(ComponentId(4)));
    assert_eq!(
        (spec.faults[4].at, spec.faults[4].duration),
        (SimDuration::from_secs(11), SimDuration::from_secs(1))
    );
    let twice = whole.replace(
        "  - { crash: kv.r1,",
        "  - { crash: kv, at: 11500ms, for: 2s }\n  - { crash: kv.r1,",
    );
    let p = located(&twice);
    assert_eq!(
        p,
        [
            "20:5: this crash overlaps another crash of the same component (from 11s for 1s) (merge them into one window)"
        ]
    );
}

/// A training job takes a crash (a failure held down until the fault ends,
/// then its restart), not a slowdown: its steps take their `compute_time`.
#[test]
fn a_training_job_crashes_and_a_slowdown_of_it_is_located() {
    const JOB: &str = "\
name: train
duration: 60s
components:
  trainer:
    type: training_job
    workers: 8
    compute_time: 1s
faults:
  - { crash: trainer, at: 10s, for: 5s }
";
    let spec = load(JOB).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(spec.faults[0].kind, FaultKind::Crash(ComponentId(0)));
    let p = located(&JOB.replace("crash: trainer,", "slowdown: trainer, factor: 2,"));
    assert_eq!(
        p,
        [
            "9:17: `slowdown` does not apply to `trainer`: a training job's steps take their `compute_time` (give it a slower `compute_time`, or `crash: trainer` to fail the job)"
        ]
    );
}
