//! Crash and slowdown faults on caches, queues, streams and stores, which
//! share the servers' fault state (`station::FaultState`): counts during a
//! fault window computed by hand (docs/validation.md, "Faults on every
//! station kind").
//!
//! Every run here is deterministic by construction: arrivals evenly spaced
//! (`constant` at 100/s, one at every multiple of 10 ms from 0), constant
//! service times, zero network latency, no warm-up, and fault windows that
//! start 5 ms after an arrival, so no event ties with a window's edge.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// A 20 s run with no warm-up, zero network latency and one workload of
/// evenly spaced reads at 100/s (2,000 arrivals, at k x 10 ms for k = 0 to
/// 1,999) on `keys` into component 0.
fn evenly(keys: KeySpec, components: Vec<ComponentSpec>, faults: Vec<FaultSpec>) -> ModelSpec {
    let mut w = WorkloadSpec::new(
        "users",
        ComponentId(0),
        ArrivalSpec::Constant { per_second: 100.0 },
    );
    w.keys = keys;
    let mut spec = model_spec("station-faults", 20, vec![w], components);
    spec.warmup = SimDuration::ZERO;
    spec.network.latency = constant_ns(0);
    spec.faults = faults;
    spec
}

/// A fault on component 0 from `at_ms` for `for_ms`.
fn fault(at_ms: u64, for_ms: u64, kind: FaultKind) -> FaultSpec {
    FaultSpec {
        at: ms(at_ms),
        duration: ms(for_ms),
        kind,
    }
}

/// A one-worker server `name` with constant service `service_ms`.
fn server(name: &str, service_ms: f64) -> ComponentSpec {
    component(
        name,
        ComponentKind::Server(ServerSpec::new(1, constant_ms(service_ms))),
    )
}

/// A cache (component 0) holding one key, hits in 1 ms, in front of a
/// 5 ms database, read at 100/s; crashed from 5.005 s to 7.008 s, slowed 5x
/// from 10.005 s for 1 s.
///
/// By hand: the read at 0 misses and fills; every later read hits except
/// the 200 that arrive while the cache is down (k = 501 to 700: each
/// misses, goes to the database and fills nothing, the last answer coming
/// back at 7.005 s, still down) and the first after the restart (7.01 s:
/// the cache restarts cold). Reads 2,000, misses 202,
/// database arrivals 202, hit ratio 1,798 / 2,000 = 0.899, nothing fails.
/// The slowdown stretches the 100 hits that arrive in its window (k = 1,001
/// to 1,100) to 5 ms: the cache's mean latency is (1,698 x 1 + 100 x 5 +
/// 202 x 5) / 2,000 = 1.604 ms, its maximum 5 ms.
#[test]
fn a_crashed_cache_sends_every_read_to_its_backend_and_restarts_cold() {
    let cache = CacheSpec {
        capacity: CacheCapacity::Entries(10),
        policy: CachePolicy::Lru,
        ttl: None,
        hit_time: constant_ms(1.0),
        workers: None,
        backend: ComponentId(1),
        writes: CacheWrites::Invalidate,
    };
    let spec = evenly(
        KeySpec::Uniform { n: 1 },
        vec![
            component("cache", ComponentKind::Cache(cache.clone())),
            server("db", 5.0),
        ],
        vec![
            fault(5_005, 2_003, FaultKind::Crash(ComponentId(0))),
            fault(
                10_005,
                1_000,
                FaultKind::Slowdown {
                    target: ComponentId(0),
                    factor: 5.0,
                },
            ),
        ],
    );
    let r = run(&spec);
    let (c, db) = (&r.components[0], &r.components[1]);
    assert_eq!(extra_of(c, "reads"), 2_000.0);
    assert_eq!(extra_of(c, "crash_misses"), 200.0);
    assert_eq!(db.arrivals, 202);
    assert_eq!(extra_of(c, "hit_ratio"), 1_798.0 / 2_000.0);
    assert_eq!((r.requests.completed, r.requests.failed), (2_000, 0));
    // A cache loses contents, not requests: nothing reported lost.
    assert_eq!(c.lost_in_crash, None);
    close(
        "cache mean latency, ms",
        c.latency.mean_ns() / MS,
        1.604,
        1e-9,
    );
    // The histogram's maximum is exact to 3 significant digits.
    close(
        "cache max latency, ms",
        c.latency.max_ns() as f64 / MS,
        5.0,
        1e-3,
    );
    // Without hit workers a cache has no service capacity: no utilization.
    assert_eq!((c.workers, c.utilization), (0, 0.0));

    // With one hit worker the same faults hit the worker's state: the same
    // counts, and the cache's utilization is its busy worker time over the
    // run, (1,698 x 1 ms + 100 x 5 ms) / 20 s = 0.1099.
    let mut with_worker = spec.clone();
    with_worker.components[0].kind = ComponentKind::Cache(CacheSpec {
        workers: Some(1),
        ..cache
    });
    let r = run(&with_worker);
    let c = &r.components[0];
    assert_eq!(extra_of(c, "crash_misses"), 200.0);
    assert_eq!(r.components[1].arrivals, 202);
    close(
        "cache mean latency, ms",
        c.latency.mean_ns() / MS,
        1.604,
        1e-9,
    );
    assert_eq!(c.workers, 1);
    close("hit worker utilization", c.utilization, 0.1099, 1e-9);
    assert_eq!(c.utilization, extra_of(c, "hit_worker_utilization"));
}

/// A queue (component 0, one consumer slot) in front of a 20 ms consumer,
/// fed 100 messages/s: the consumer does 50/s, so a backlog builds from
/// the start and the consumer is never idle except while the broker is
/// down. Broker crashed from 5.005 s for 2 s.
///
/// By hand: the 200 sends in the window (k = 501 to 700) fail at once
/// (`lost_in_crash` 200); 1,800 messages are enqueued. The consumer
/// finishes at 20 ms, 40 ms, ..., 5.00 s (250 messages), then finishes the
/// one it holds at 5.02 s (251) and takes nothing until the restart; from
/// 7.005 s it takes the other 1,549, one every 20 ms, so the last is
/// consumed at 7.005 + 1,549 x 0.02 = 37.985 s (without the crash: 2,000
/// x 0.02 = 40 s), and its consumer slot was busy 20 - 1.985 = 18.015 s
/// of the 20 s window.
#[test]
fn a_crashed_queue_fails_sends_and_stops_its_consumers() {
    let queue = component(
        "jobs",
        ComponentKind::Queue(QueueSpec {
            capacity: None,
            overflow: QueueOverflow::DropTail,
            consumer: ComponentId(1),
            concurrency: 1,
        }),
    );
    let spec = evenly(
        KeySpec::Unique,
        vec![queue, server("worker", 20.0)],
        vec![fault(5_005, 2_000, FaultKind::Crash(ComponentId(0)))],
    );
    let r = run(&spec);
    let q = &r.components[0];
    assert_eq!((r.requests.completed, r.requests.failed), (1_800, 200));
    assert_eq!(q.lost_in_crash, Some(200));
    assert_eq!(extra_of(q, "messages_enqueued"), 1_800.0);
    assert_eq!(extra_of(q, "messages_consumed"), 1_800.0);
    assert_eq!(r.components[1].completions, 1_800);
    close("last message consumed, s", r.end_s, 37.985, 1e-12);
    // Its utilization is the consumer slot's busy meter.
    close(
        "consumer slot utilization",
        q.utilization,
        18.015 / 20.0,
        1e-9,
    );

    // Back-pressure: producers held at the crash fail too. Capacity 10:
    // the queue is full from the 11th message's arrival on, so every later
    // producer is held; at the crash all those held fail with it.
    let mut bp = spec.clone();
    bp.components[0].kind = ComponentKind::Queue(QueueSpec {
        capacity: Some(10),
        overflow: QueueOverflow::BackPressure,
        consumer: ComponentId(1),
        concurrency: 1,
    });
    let r = run(&bp);
    let q = &r.components[0];
    // Held producers enter only as room frees (one per consumed message),
    // so by 5.005 s, of the 501 producers that arrived, 10 + 250 entered
    // (the 10 places, and one per message consumed by 5.00 s): 241 held
    // fail at the crash, plus the 200 sent while down.
    assert_eq!(q.lost_in_crash, Some(441));
    assert_eq!(r.requests.failed, 441);
}

/// A stream (component 0, one partition, one consumer group) in front of
/// the same 20 ms consumer: the broker crash fails the 200 appends in its
/// window and stops the group's consumer exactly as the queue's: 1,800
/// appended and consumed, the last at 37.985 s, the consumer busy 18.015 s
/// of the 20 s window.
#[test]
fn a_crashed_stream_fails_appends_and_pauses_its_groups() {
    let stream = component(
        "log",
        ComponentKind::Stream(StreamSpec {
            partitions: 1,
            groups: vec![ConsumerGroupSpec {
                name: "g".into(),
                target: ComponentId(1),
                start: None,
            }],
            retention: None,
        }),
    );
    let spec = evenly(
        KeySpec::Unique,
        vec![stream, server("worker", 20.0)],
        vec![fault(5_005, 2_000, FaultKind::Crash(ComponentId(0)))],
    );
    let r = run(&spec);
    let s = &r.components[0];
    assert_eq!((r.requests.completed, r.requests.failed), (1_800, 200));
    assert_eq!(s.lost_in_crash, Some(200));
    assert_eq!(extra_of(s, "messages_appended"), 1_800.0);
    assert_eq!(s.completions, 1_800);
    assert_eq!(r.components[1].completions, 1_800);
    close("last message consumed, s", r.end_s, 37.985, 1e-12);
    close("consumer utilization", s.utilization, 18.015 / 20.0, 1e-9);
}

/// A one-replica store (reads in 1 ms, one worker) read at 100/s, slowed
/// 5x from 5.005 s for 1 s: the 100 reads that arrive in the window
/// (k = 501 to 600) take 5 ms, the other 1,900 take 1 ms: mean latency
/// (1,900 x 1 + 100 x 5) / 2,000 = 1.2 ms, maximum 5 ms; utilization
/// (1,900 x 1 + 100 x 5) ms / 20 s = 0.12. A replica crash (its own
/// `STORE.rI` fault) keeps the store's semantics: the same store with its
/// replica down from 10.005 s for 1 s fails the 100 reads in that window.
#[test]
fn a_slowed_store_stretches_every_replicas_service() {
    let mut store = StoreSpec::leaderless(1, 1, 1);
    store.read_time = constant_ms(1.0);
    store.workers = 1;
    let store = component("kv", ComponentKind::Store(store));
    let spec = evenly(
        KeySpec::Unique,
        vec![store],
        vec![fault(
            5_005,
            1_000,
            FaultKind::Slowdown {
                target: ComponentId(0),
                factor: 5.0,
            },
        )],
    );
    let r = run(&spec);
    let s = &r.components[0];
    assert_eq!((r.requests.completed, r.requests.failed), (2_000, 0));
    close(
        "store mean latency, ms",
        s.latency.mean_ns() / MS,
        1.2,
        1e-9,
    );
    close(
        "store max latency, ms",
        s.latency.max_ns() as f64 / MS,
        5.0,
        1e-3,
    );
    close("store utilization", s.utilization, 0.12, 1e-9);

    let mut crashed = spec.clone();
    crashed.faults.push(fault(
        10_005,
        1_000,
        FaultKind::CrashReplica {
            store: ComponentId(0),
            replica: 0,
        },
    ));
    let r = run(&crashed);
    assert_eq!((r.requests.completed, r.requests.failed), (1_900, 100));
}

/// A three-replica leaderless store with quorum reads and writes (R = W =
/// 2), reads and writes in 1 ms, half the requests writes, at 100/s for
/// 20 s (2,000 arrivals at k x 10 ms), its replicas crashed by `faults`.
fn quorum_store(faults: Vec<FaultSpec>, r: u32, w: u32) -> ModelSpec {
    let mut store = StoreSpec::leaderless(3, r, w);
    store.read_time = constant_ms(1.0);
    store.write_time = constant_ms(1.0);
    let mut spec = evenly(
        KeySpec::Uniform { n: 10 },
        vec![component("kv", ComponentKind::Store(store))],
        faults,
    );
    spec.workloads[0].write_share = 0.5;
    spec
}

/// The whole store down (`crash: kv`) from `at_ms` for `for_ms`.
fn store_down(at_ms: u64, for_ms: u64) -> FaultSpec {
    fault(at_ms, for_ms, FaultKind::CrashStore(ComponentId(0)))
}

/// Replica `replica` of the store down from `at_ms` for `for_ms`.
fn replica_down(replica: u32, at_ms: u64, for_ms: u64) -> FaultSpec {
    fault(
        at_ms,
        for_ms,
        FaultKind::CrashReplica {
            store: ComponentId(0),
            replica,
        },
    )
}

/// A whole-store crash from 5.005 s for 2 s (T = 20 s): by hand, the 200
/// operations that arrive in the window (k = 501 to 700) find no replica
/// alive and fail at once; nothing is in service at either edge (each
/// operation takes 1 ms, 10 ms apart). Every other one is answered: 1,800,
/// availability 1,800 / 2,000 = (T - 2) / T = 0.9 exactly, and the
/// replicas served 1,800 operations each. The same run with the three
/// replicas crashed one by one over the same window gives the same result
/// in every figure but the fault list.
#[test]
fn a_whole_store_crash_fails_every_operation_in_its_window() {
    let r = run(&quorum_store(vec![store_down(5_005, 2_000)], 2, 2));
    assert_eq!((r.requests.completed, r.requests.failed), (1_800, 200));
    let s = &r.components[0];
    assert_eq!(s.arrivals, 2_000);
    let failed = extra_of(s, "failed_reads") + extra_of(s, "failed_writes");
    let served = extra_of(s, "reads") + extra_of(s, "writes");
    assert_eq!((served, failed), (1_800.0, 200.0));
    close("availability", extra_of(s, "availability"), 0.9, 1e-12);
    // Every replica serves every operation answered (W = R = 2 of 3 are
    // waited for, all three are sent to): 1,800 x 3 ms over 20 s.
    close(
        "utilization",
        s.utilization,
        1_800.0 * 3.0 / 1e3 / 20.0 / 3.0,
        1e-9,
    );
    assert_eq!(r.faults.len(), 1);
    assert_eq!(
        (r.faults[0].kind, r.faults[0].target.as_str()),
        ("crash", "kv")
    );
    close("fault start, s", r.faults[0].start_s, 5.005, 1e-12);
    close("fault end, s", r.faults[0].end_s, 7.005, 1e-12);

    let one_by_one: Vec<FaultSpec> = (0..3).map(|i| replica_down(i, 5_005, 2_000)).collect();
    let mut each = run(&quorum_store(one_by_one, 2, 2));
    assert_eq!(each.faults.len(), 3);
    each.faults = r.faults.clone();
    assert_eq!(format!("{each:?}"), format!("{r:?}"));
}

/// A replica crashed on its own and the whole store crashed, overlapping:
/// the replica is down for the union of the two windows.
///
/// R = W = 1: replica 0 down 4.005-6.005 s, the store 5.005-7.005 s. While
/// only replica 0 is down the others answer; the store's window fails its
/// 200 arrivals, including the 100 after replica 0's own window has ended
/// (replica 0 stays down until 7.005 s): 200 failures (100 if replica 0
/// came back at 6.005 s).
///
/// R = W = 3: the store 5.005-7.005 s, replica 0 6.005-8.005 s. Every
/// operation needs all three, so every arrival from 5.005 to 8.005 s fails:
/// 300 (200 if the store's restart brought replica 0 back at 7.005 s).
#[test]
fn a_replica_crash_inside_a_store_crash_lasts_for_the_union() {
    let r = run(&quorum_store(
        vec![replica_down(0, 4_005, 2_000), store_down(5_005, 2_000)],
        1,
        1,
    ));
    assert_eq!((r.requests.completed, r.requests.failed), (1_800, 200));
    let r = run(&quorum_store(
        vec![store_down(5_005, 2_000), replica_down(0, 6_005, 2_000)],
        3,
        3,
    ));
    assert_eq!((r.requests.completed, r.requests.failed), (1_700, 300));
    close(
        "availability",
        extra_of(&r.components[0], "availability"),
        0.85,
        1e-12,
    );
}

/// The same store under Poisson arrivals (1,000/s for T = 100 s, reads and
/// writes in 0.1 ms), the whole store down 50-52 s: failures are the
/// arrivals in the window, Poisson with mean 2,000 (sd 44.7), plus the
/// operations in service at the crash (about 0.1 each replica); the
/// availability is (T - 2) / T = 0.98 within 4 sd of a binomial fraction
/// over 100,000 operations (sd sqrt(0.02 x 0.98 / 100,000) = 0.00044).
#[test]
fn a_whole_store_crash_costs_its_window_in_availability() {
    let mut spec = quorum_store(
        vec![fault(50_000, 2_000, FaultKind::CrashStore(ComponentId(0)))],
        2,
        2,
    );
    spec.duration = secs(100);
    spec.workloads[0].arrival = poisson(1_000.0);
    if let ComponentKind::Store(s) = &mut spec.components[0].kind {
        s.read_time = constant_ms(0.1);
        s.write_time = constant_ms(0.1);
    }
    let r = run(&spec);
    let failed = r.requests.failed as f64;
    eprintln!(
        "whole-store crash, Poisson: {failed} failed of {}",
        r.requests.completed + r.requests.failed
    );
    assert!((failed - 2_000.0).abs() < 4.0 * 44.7, "{failed} failed");
    let availability = extra_of(&r.components[0], "availability");
    eprintln!("availability {availability:.5} (theory 0.98)");
    assert!(
        (availability - 0.98).abs() < 4.0 * 0.00044,
        "availability {availability}"
    );
}

/// A leader-mode store (3 replicas, asynchronous replication, reads from
/// the leader) down whole from 5.005 s for 2 s. No leader can be elected
/// while every replica is down, and every operation needs the leader:
///
/// - `failover_timeout` 1 s: the failover the leader's crash started fires
///   at 6.005 s with nobody to elect; the first replica back (7.005 s)
///   starts another, which elects at 8.005 s. Failures: the arrivals from
///   5.005 to 8.005 s, 300.
/// - `failover_timeout` 5 s: the first failover is still pending at the
///   restart and elects at 10.005 s: 500 failures.
#[test]
fn a_whole_leader_store_crash_waits_for_a_failover_after_the_restart() {
    for (timeout_s, failed) in [(1, 300), (5, 500)] {
        let mut store = StoreSpec::leaderless(3, 1, 1);
        store.mode = StoreMode::Leader;
        store.read_time = constant_ms(1.0);
        store.write_time = constant_ms(1.0);
        store.failover_timeout = secs(timeout_s);
        let mut spec = evenly(
            KeySpec::Uniform { n: 10 },
            vec![component("kv", ComponentKind::Store(store))],
            vec![store_down(5_005, 2_000)],
        );
        spec.workloads[0].write_share = 0.5;
        let r = run(&spec);
        assert_eq!(
            (r.requests.completed, r.requests.failed),
            (2_000 - failed, failed),
            "failover_timeout {timeout_s} s"
        );
        assert_eq!(
            extra(&r, "failovers"),
            1.0,
            "failover_timeout {timeout_s} s"
        );
    }
}

/// A training job (one worker, 1 s steps, a checkpoint after every 10
/// steps costing 1 s, 5 s to restart, no failures of its own) crashed
/// (`crash: trainer`) from 25.5 s for 10 s of a 100 s run, no warm-up.
///
/// By hand: steps 1-10 end at 1-10 s, a checkpoint to 11 s, steps 11-20 to
/// 21 s, a checkpoint to 22 s, steps 21-23 end at 23-25 s; the crash at
/// 25.5 s rolls steps 21-23 back (3 lost; lost work 3.5 s with the half
/// step in hand). Down to 35.5 s, restarting to 40.5 s, then from step 21
/// again: 11 s per 10 steps and a checkpoint, 5 of them to 95.5 s (step
/// 70), steps 71-74 end at 96.5-99.5 s. Steps completed 23 + 54 = 77,
/// checkpoints 2 + 5 = 7, one failure. This is the engine's crash of a
/// training job (`training_job/sim.rs`: a failure held down until the
/// fault ends, then the restart time), which `crash: JOB` now reaches.
#[test]
fn a_crashed_training_job_rolls_back_to_its_checkpoint_and_restarts_after_the_fault() {
    let job = TrainingJobSpec {
        workers: 1,
        compute_time: constant_ms(1_000.0),
        all_reduce: None,
        checkpoint: Some(CheckpointSpec {
            every_steps: 10,
            cost: secs(1),
        }),
        failures: Some(FailureSpec {
            worker_mtbf: SimDuration::ZERO,
            restart: secs(5),
        }),
    };
    let mut spec = model_spec(
        "training-crash",
        100,
        Vec::new(),
        vec![component("trainer", ComponentKind::TrainingJob(job))],
    );
    spec.warmup = SimDuration::ZERO;
    spec.faults = vec![fault(25_500, 10_000, FaultKind::Crash(ComponentId(0)))];
    let r = run(&spec);
    let KindFigures::Training(f) = &r.components[0].figures else {
        panic!("not a training job: {:?}", r.components[0].figures);
    };
    assert_eq!(
        (f.failures, f.steps_completed, f.steps_lost, f.checkpoints),
        (1, 77, 3, 7)
    );
    close("lost work, s", f.lost_work_s, 3.5, 1e-9);
    // Kept steps 20 + 54 and the half of step 75 in hand at the end: 74.5 s;
    // checkpoints 7 s; down and restarting 10 + 5 s.
    close("goodput", f.goodput_ratio, 0.745, 1e-9);
    close("checkpoint share", f.checkpoint_ratio, 0.07, 1e-9);
    close("lost share", f.lost_ratio, 0.035, 1e-9);
    close("restart share", f.restart_ratio, 0.15, 1e-9);
}

/// A DNS name over two stores (3 replicas, R = W = 1, answering at once),
/// the first down whole (`crash: a`) from 65 s for 180 s; TTL 0, health
/// checks every 10 s, 3 in a row; 10 requests a second, evenly spaced, for
/// 330 s. A whole store is down to a health check while every replica is,
/// exactly like a crashed server: the checks at 70, 80 and 90 s see it, the
/// answer moves to `b` at 90 s, and exactly the 250 requests from 65 s to
/// 90 s fail (the server case of `tests/dns.rs`).
#[test]
fn a_dns_health_check_sees_a_whole_store_down() {
    let store = || {
        let mut s = StoreSpec::leaderless(3, 1, 1);
        s.workers = 1;
        ComponentKind::Store(s)
    };
    let dns = DnsSpec {
        records: vec![ComponentId(1), ComponentId(2)],
        ttl: SimDuration::ZERO,
        clients: 50,
        ignore_ttl: 0.0,
        failures: 3,
        interval: secs(10),
    };
    let mut w = WorkloadSpec::new(
        "users",
        ComponentId(0),
        ArrivalSpec::Constant { per_second: 10.0 },
    );
    w.write_share = 0.5;
    let mut spec = model_spec(
        "dns-store",
        330,
        vec![w],
        vec![
            component("dns", ComponentKind::Dns(dns)),
            component("a", store()),
            component("b", store()),
        ],
    );
    spec.faults = vec![FaultSpec {
        at: secs(65),
        duration: secs(180),
        kind: FaultKind::CrashStore(ComponentId(1)),
    }];
    let r = run(&spec);
    assert_eq!(r.requests.failed, 250);
}
