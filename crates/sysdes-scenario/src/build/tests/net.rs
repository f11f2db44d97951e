//! Loader tests for the network (zones, links, sizes) and `faults:`.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{Distribution, FaultKind, NetTarget};

use crate::test_support::{has, load, problem_texts};

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
