//! Validation of the replicated store against the closed forms of
//! `shared/validation.md` ("Replication and consistency").
//!
//! Reads at a controlled time `t` after a write's commit come from the
//! store's `probe_after` option: every committed write is followed, exactly
//! `t` after its commit, by an internal read from a random coordinator that
//! records whether it returns that write (or something newer) and how many
//! acknowledged versions it is behind. This is the PBS measurement
//! ("t-visibility"): the probes add load to the replicas like any read.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// A store of `store` fed by one open Poisson workload `clients` at `rate`
/// per second, all writes (`write_share` 1) or a mix, on `keys`.
fn scenario(store: StoreSpec, rate: f64, write_share: f64, keys: KeySpec, secs: u64) -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        rate,
        1,
        Distribution::Constant(SimDuration::ZERO),
        SimDuration::from_secs(secs),
    );
    spec.name = "store-test".into();
    spec.components[0] = ComponentSpec {
        name: "kv".into(),
        kind: ComponentKind::Store(store),
    };
    spec.workloads[0].keys = keys;
    spec.workloads[0].write_share = write_share;
    spec
}

fn binomial(n: u64, k: u64) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Quorums without propagation (PBS, Bailis et al. 2012, eq. 1):
/// p_s = C(N-W, R) / C(N, R) is the chance that a read misses the last write,
/// and a read returns one of the last k versions with probability 1 - p_s^k.
/// N 3, R = W = 1: p_s = 2/3, so 1/3, 5/9, 19/27 for k = 1, 2, 3.
/// "No propagation": the replicas outside the write quorum would get the
/// write only after 10^7 s, i.e. never during the run. One key, one write per
/// second, each probed at its commit (t = 0). Tolerance 0.01 absolute
/// (120,000 probes: standard error <= 0.0015).
#[test]
fn quorums_without_propagation_match_the_pbs_closed_form() {
    let mut store = StoreSpec::leaderless(3, 1, 1);
    store.replication_delay = Some(Distribution::Constant(SimDuration::from_secs(10_000_000)));
    store.probe_after = Some(SimDuration::ZERO);
    let mut spec = scenario(store, 1.0, 1.0, KeySpec::Uniform { n: 1 }, 120_000);
    spec.workloads[0].arrival = ArrivalSpec::Constant { per_second: 1.0 };
    let result = run(&spec);
    let p_s = binomial(2, 1) / binomial(3, 1);
    assert!((p_s - 2.0 / 3.0).abs() < 1e-12);
    for (k, name) in [
        (1, "probe_consistent"),
        (2, "probe_within_2_versions"),
        (3, "probe_within_3_versions"),
    ] {
        let expected = 1.0 - p_s.powi(k);
        let got = extra(&result, name);
        eprintln!("no propagation k = {k}: {got:.4} (theory {expected:.4})");
        assert!(
            (got - expected).abs() < 0.01,
            "k = {k}: P(one of the last k) = {got}, theory {expected}"
        );
    }
    assert!(extra(&result, "probe_reads") > 100_000.0);
}

/// Asynchronous replication with exponential delay of rate mu, read at t
/// after commit (validation.md): P(stale) = C(N-W, R)/C(N, R) * e^{-R mu t};
/// N 3, R = W = 1, mu t = 0.5: (2/3) e^{-0.5} = 0.4044. The write reaches
/// one random replica at once, the other two after independent Exp(1 s)
/// delays; probes at t = 0.5 s. Tolerance 0.01 absolute (100,000 probes on
/// distinct keys: standard error 0.0016).
#[test]
fn async_replication_staleness_decays_exponentially() {
    let mut store = StoreSpec::leaderless(3, 1, 1);
    store.replication_delay = Some(exp_ms(1000.0));
    store.probe_after = Some(SimDuration::from_millis(500));
    let spec = scenario(store, 1000.0, 1.0, KeySpec::Uniform { n: 1 << 40 }, 100);
    let result = run(&spec);
    let expected = 2.0 / 3.0 * (-0.5f64).exp();
    assert!((expected - 0.4044).abs() < 1e-4);
    let stale = 1.0 - extra(&result, "probe_consistent");
    eprintln!("async: P(stale) {stale:.4} (theory {expected:.4})");
    assert!(
        (stale - expected).abs() < 0.01,
        "P(stale) {stale}, theory {expected}"
    );
}

/// PBS t-visibility under the WARS model (Bailis et al., VLDB 2012): every
/// message delay exponential, write requests mean 10 ms, acks, read
/// requests and responses mean 1 ms; N 3, R = W = 1. Published:
/// P(consistent read) = 0.419 at t = 0 and 0.787 at t = 10 ms. Tolerance
/// 0.015 absolute (100,000 probes: standard error 0.0016).
#[test]
fn pbs_wars_t_visibility_matches_the_paper() {
    for (t_ms, expected) in [(0, 0.419), (10, 0.787)] {
        let mut store = StoreSpec::leaderless(3, 1, 1);
        store.delays = MessageDelays {
            write_request: Some(exp_ms(10.0)),
            write_ack: Some(exp_ms(1.0)),
            read_request: Some(exp_ms(1.0)),
            read_response: Some(exp_ms(1.0)),
        };
        store.routing = Routing::Random;
        store.probe_after = Some(SimDuration::from_millis(t_ms));
        let spec = scenario(store, 1000.0, 1.0, KeySpec::Uniform { n: 1 << 40 }, 100);
        let got = extra(&run(&spec), "probe_consistent");
        eprintln!("WARS t = {t_ms} ms: {got:.4} (published {expected})");
        assert!(
            (got - expected).abs() < 0.015,
            "t = {t_ms} ms: P(consistent) {got}, published {expected}"
        );
    }
}

/// Strict quorums (R + W > N) never return a stale read without faults: any
/// read quorum intersects the write quorum of every write acknowledged
/// before the read began. Exactly 0 stale reads (tracker and store agree),
/// with random delays, queueing and concurrent clients on a few hot keys.
#[test]
fn strict_quorums_are_never_stale() {
    for (r, w) in [(2, 2), (1, 3), (3, 1)] {
        let mut store = StoreSpec::leaderless(3, r, w);
        store.read_time = exp_ms(0.2);
        store.write_time = exp_ms(0.3);
        store.workers = 2;
        store.routing = Routing::Random;
        store.delays = MessageDelays {
            write_request: Some(exp_ms(5.0)),
            write_ack: Some(exp_ms(1.0)),
            read_request: Some(exp_ms(1.0)),
            read_response: Some(exp_ms(2.0)),
        };
        let mut spec = scenario(store, 2000.0, 0.3, KeySpec::Uniform { n: 10 }, 50);
        spec.workloads[0].sessions = Some(50);
        let result = run(&spec);
        let report = result
            .consistency
            .as_ref()
            .expect("a store reports consistency");
        assert!(report.reads > 50_000, "reads {}", report.reads);
        assert_eq!(report.stale_reads, 0, "R {r} W {w}");
        assert_eq!(extra(&result, "stale_reads"), 0.0, "R {r} W {w}");
    }
    // The same load with R + W <= N does go stale: the test can fail.
    let mut store = StoreSpec::leaderless(3, 1, 1);
    store.delays.write_request = Some(exp_ms(5.0));
    store.routing = Routing::Random;
    let spec = scenario(store, 2000.0, 0.3, KeySpec::Uniform { n: 10 }, 20);
    let report = run(&spec).consistency.expect("report");
    eprintln!(
        "R = W = 1: {} stale of {} reads",
        report.stale_reads, report.reads
    );
    assert!(report.stale_reads > 100, "stale {}", report.stale_reads);
}

/// Same seed, same result, bit for bit.
#[test]
fn store_runs_are_deterministic() {
    let mut store = StoreSpec::leaderless(5, 2, 2);
    store.read_repair = true;
    store.delays.write_request = Some(exp_ms(3.0));
    store.clock_skew = Some(exp_ms(1.0));
    store.routing = Routing::Random;
    let mut spec = scenario(store, 500.0, 0.5, KeySpec::Zipf { n: 100, s: 1.0 }, 20);
    spec.workloads[0].sessions = Some(20);
    let a = run(&spec);
    let b = run(&spec);
    assert_eq!(a.events, b.events);
    assert_eq!(
        format!("{:?}", a.components[0].figures),
        format!("{:?}", b.components[0].figures)
    );
    assert_eq!(
        format!("{:?}", a.consistency),
        format!("{:?}", b.consistency)
    );
}

/// Three zones, one replica and one client population (1000/s) in each;
/// a partition cuts `ap` off from `us` and `eu` for the whole run.
fn partitioned(policy: PartitionPolicy) -> RunResult {
    let mut store = StoreSpec::leaderless(3, 2, 2);
    store.zones = vec!["us".into(), "eu".into(), "ap".into()];
    store.on_partition = policy;
    let mut spec = scenario(store, 1000.0, 0.5, KeySpec::Uniform { n: 10 }, 20);
    spec.network.zones = vec!["us".into(), "eu".into(), "ap".into()];
    let base = spec.workloads[0].clone();
    spec.workloads = (0..3)
        .map(|i| WorkloadSpec {
            name: format!("clients-{i}"),
            sessions: Some(10),
            ..base.clone()
        })
        .collect();
    spec.network.workload_zones = vec![1, 2, 3];
    spec.faults = vec![FaultSpec {
        at: SimDuration::ZERO,
        duration: SimDuration::from_secs(20),
        kind: FaultKind::Partition(vec![
            vec![NetTarget::Zone(1), NetTarget::Zone(2)],
            vec![NetTarget::Zone(3)],
        ]),
    }];
    run(&spec)
}

/// CAP with majority quorums (validation.md, "Partition"): in a 2|1 split a
/// CP store serves only the clients on the majority side, availability 2/3
/// for clients spread evenly over three zones (tolerance 0.01; 60,000
/// requests: standard error 0.002); an AP store serves everyone (exactly
/// 1.0) and pays with stale reads.
#[test]
fn majority_quorums_in_a_two_one_partition() {
    let cp = partitioned(PartitionPolicy::Refuse);
    let availability = extra(&cp, "availability");
    eprintln!("CP availability {availability:.4}");
    assert!(
        (availability - 2.0 / 3.0).abs() < 0.01,
        "CP availability {availability}"
    );
    let report = cp.consistency.as_ref().expect("report");
    let tracked = report.availability.overall.expect("requests");
    assert!((tracked - availability).abs() < 1e-9);
    assert_eq!(report.stale_reads, 0);

    let ap = partitioned(PartitionPolicy::Serve);
    assert_eq!(extra(&ap, "availability"), 1.0);
    let report = ap.consistency.as_ref().expect("report");
    eprintln!("AP stale reads {} of {}", report.stale_reads, report.reads);
    assert!(
        report.stale_reads > 100,
        "AP stale reads {}",
        report.stale_reads
    );
}

/// A leader crash with asynchronous replication loses the writes the
/// leader acknowledged but had not replicated to the follower that takes
/// over; with synchronous replication to a majority (leader + 1 follower,
/// in-order replication log) none is lost: the most up-to-date follower
/// holds every acknowledged write. Writes during the failover gap (2 s at
/// 800 writes/s, so about 1,600) fail, as do sync writes still waiting for
/// a follower when the leader died.
#[test]
fn leader_failover_loses_unreplicated_async_writes() {
    let mut lost = Vec::new();
    for replication in [Replication::Async, Replication::Sync] {
        let mut store = StoreSpec::leaderless(3, 1, 2);
        store.mode = StoreMode::Leader;
        store.replication = replication;
        store.replication_delay = Some(exp_ms(50.0));
        store.failover_timeout = SimDuration::from_secs(2);
        let mut spec = scenario(store, 1000.0, 0.8, KeySpec::Uniform { n: 1000 }, 30);
        spec.faults = vec![FaultSpec {
            at: SimDuration::from_secs(10),
            duration: SimDuration::from_secs(10),
            kind: FaultKind::CrashReplica {
                store: ComponentId(0),
                replica: 0,
            },
        }];
        let result = run(&spec);
        assert_eq!(extra(&result, "failovers"), 1.0);
        let failed = extra(&result, "failed_writes");
        // The gap's writes (Poisson, 1,600 +- 40), plus, for sync, those
        // whose follower acknowledgements died with the leader's term.
        assert!(
            (1450.0..2000.0).contains(&failed),
            "{replication:?}: {failed} writes failed in a 2 s gap"
        );
        lost.push(extra(&result, "lost_writes"));
        let report = result.consistency.as_ref().expect("report");
        assert_eq!(report.lost_writes as f64, extra(&result, "lost_writes"));
    }
    eprintln!("lost writes: async {}, sync {}", lost[0], lost[1]);
    assert!(lost[0] > 5.0, "async lost {}", lost[0]);
    assert_eq!(lost[1], 0.0);
}
