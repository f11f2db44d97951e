//! The cache component in full simulations, against closed forms
//! (`shared/validation.md`, "Caches") and its own invariants.
//!
//! Each test names its formula beside its tolerance. Runs have 10^5-10^6
//! requests and a fixed seed, so each is deterministic.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn cache_spec(capacity: CacheCapacity, backend: u32) -> CacheSpec {
    CacheSpec {
        capacity,
        policy: CachePolicy::Lru,
        ttl: None,
        hit_time: constant_ns(0),
        workers: None,
        backend: ComponentId(backend),
        writes: CacheWrites::Invalidate,
    }
}

/// `cache` (id 0) in front of `db` (id 1, one worker, `db_service`).
fn system(
    cache: CacheSpec,
    db_service: Distribution,
    workloads: Vec<WorkloadSpec>,
    seconds: u64,
) -> ModelSpec {
    ModelSpec {
        name: "cache".into(),
        seed: 42,
        duration: SimDuration::from_secs(seconds),
        warmup: SimDuration::from_secs(seconds / 10),
        network: NetworkSpec {
            latency: constant_ns(0),
            ..NetworkSpec::default()
        },
        workloads,
        hosts: Vec::new(),
        faults: Vec::new(),
        components: vec![
            ComponentSpec {
                name: "cache".into(),
                kind: ComponentKind::Cache(cache),
            },
            ComponentSpec {
                name: "db".into(),
                kind: ComponentKind::Server(ServerSpec::new(1, db_service)),
            },
        ],
    }
}

fn reader(per_second: f64, keys: KeySpec) -> WorkloadSpec {
    let mut w = WorkloadSpec::new(
        "readers",
        ComponentId(0),
        ArrivalSpec::Poisson { per_second },
    );
    w.keys = keys;
    w
}

fn writer(target: u32, per_second: f64, keys: KeySpec) -> WorkloadSpec {
    let mut w = WorkloadSpec::new(
        "writers",
        ComponentId(target),
        ArrivalSpec::Poisson { per_second },
    );
    w.keys = keys;
    w.write_share = 1.0;
    w
}

/// Che's approximation, LRU, 1,000 keys Zipf s = 1, C = 100: hit ratio
/// 0.5765; validation.md: simulation within 0.005 absolute. A full run:
/// 10^6 reads through the cache to a database (the fill takes 1 us, so
/// concurrent misses of one key are negligible).
#[test]
fn lru_cache_matches_che_in_a_full_simulation() {
    let spec = system(
        cache_spec(CacheCapacity::Entries(100), 1),
        constant_ns(1_000),
        vec![reader(10_000.0, KeySpec::Zipf { n: 1000, s: 1.0 })],
        110,
    );
    let r = run(&spec);
    let hit = extra_named(&r, "cache", "hit_ratio");
    eprintln!(
        "LRU full simulation: hit ratio {hit:.4} over {} reads, Che 0.5765",
        extra_named(&r, "cache", "reads")
    );
    assert!((hit - 0.5765).abs() < 0.005, "hit ratio {hit}");
    // The database sees exactly the misses.
    let db = &r.components[1];
    let reads = extra_named(&r, "cache", "reads");
    assert!((db.arrivals as f64 - reads * (1.0 - hit)).abs() < 2.0);
}

/// A TTL cache in front of a key rewritten as a Poisson process of rate
/// lambda, entries kept T: P(hit is stale) = 1 - (1 - e^{-lambda T}) /
/// (lambda T). Readers read key 0 through the cache at 50,000/s; writers
/// write key 0 directly at the database (bypassing the cache). T = 1 ms;
/// 2 x 10^4 TTL periods give a standard error of about 0.003, so the 0.01
/// tolerance is over 3 standard errors.
#[test]
fn ttl_stale_hit_probability_matches_the_closed_form() {
    for (lambda, expected) in [
        (1_000.0, 1.0 - (1.0 - (-1f64).exp()) / 1.0),
        (2_000.0, 1.0 - (1.0 - (-2f64).exp()) / 2.0),
    ] {
        let mut cache = cache_spec(CacheCapacity::Entries(10), 1);
        cache.ttl = Some(SimDuration::from_millis(1));
        let spec = system(
            cache,
            constant_ns(100),
            vec![
                reader(50_000.0, KeySpec::Uniform { n: 1 }),
                writer(1, lambda, KeySpec::Uniform { n: 1 }),
            ],
            22,
        );
        let r = run(&spec);
        let stale = extra_named(&r, "cache", "stale_hit_ratio");
        let hit = extra_named(&r, "cache", "hit_ratio");
        eprintln!(
            "TTL lambda T = {}: stale hits {stale:.4}, closed form {expected:.4} (hit ratio {hit:.4})",
            lambda / 1000.0
        );
        assert!(
            (stale - expected).abs() < 0.01,
            "stale {stale} vs {expected}"
        );
        // One miss per TTL period of 1 ms among 50 reads: hit ratio 0.98.
        assert!((hit - 0.98).abs() < 0.002, "hit ratio {hit}");
        assert!(extra_named(&r, "cache", "expirations") > 15_000.0);
    }
}

/// Writes that bypass the cache leave it stale; writes through it with
/// `invalidate` or `write_through` keep it fresh (stale hits only from the
/// rare race of a fill overtaken by a write), and write-through keeps the
/// hit ratio higher because a write refreshes the entry instead of deleting
/// it.
#[test]
fn writes_through_the_cache_keep_it_fresh() {
    let keys = || KeySpec::Zipf { n: 1000, s: 1.0 };
    let measure = |writes: CacheWrites, write_target: u32| {
        let mut cache = cache_spec(CacheCapacity::Entries(200), 1);
        cache.writes = writes;
        let spec = system(
            cache,
            Distribution::Exponential { mean_ns: 0.05 * MS },
            vec![reader(5_000.0, keys()), writer(write_target, 500.0, keys())],
            60,
        );
        let r = run(&spec);
        (
            extra_named(&r, "cache", "hit_ratio"),
            extra_named(&r, "cache", "stale_hit_ratio"),
        )
    };
    let (bypass_hit, bypass_stale) = measure(CacheWrites::Invalidate, 1);
    let (inval_hit, inval_stale) = measure(CacheWrites::Invalidate, 0);
    let (through_hit, through_stale) = measure(CacheWrites::WriteThrough, 0);
    eprintln!(
        "bypass: hit {bypass_hit:.4} stale {bypass_stale:.4}; invalidate: hit {inval_hit:.4} stale {inval_stale:.4}; write-through: hit {through_hit:.4} stale {through_stale:.4}"
    );
    assert!(bypass_stale > 0.3, "bypassing writes: {bypass_stale}");
    assert!(inval_stale < 0.01, "invalidate: {inval_stale}");
    assert!(through_stale < 0.01, "write-through: {through_stale}");
    assert!(
        through_hit > inval_hit + 0.02,
        "{through_hit} vs {inval_hit}"
    );
}

/// A capacity of 100 KiB with every value 1 KiB holds exactly the entries a
/// capacity of 100 entries does: the two runs hit and evict identically.
#[test]
fn byte_capacity_with_fixed_sizes_equals_entry_capacity() {
    let keys = KeySpec::Zipf { n: 1000, s: 0.9 };
    let measure = |capacity| {
        let spec = system(
            cache_spec(capacity, 1),
            constant_ns(1_000),
            vec![reader(5_000.0, keys.clone())],
            20,
        );
        let r = run(&spec);
        (
            extra_named(&r, "cache", "hit_ratio"),
            extra_named(&r, "cache", "evictions"),
        )
    };
    let entries = measure(CacheCapacity::Entries(100));
    let bytes = measure(CacheCapacity::Bytes {
        bytes: 100 * 1024,
        value_size: constant_ns(1024),
    });
    assert_eq!(entries, bytes);
    // Half the room in bytes (values of 2 KiB) is a cache of 50 entries.
    let half = measure(CacheCapacity::Bytes {
        bytes: 100 * 1024,
        value_size: constant_ns(2048),
    });
    assert_eq!(half, measure(CacheCapacity::Entries(50)));
    assert!(half.0 < entries.0);
}

/// With `workers: 1` and exponential hit times of mean 1 ms, one hot key
/// read at 500/s makes the cache an M/M/1 queue at rho 0.5: mean time
/// 1/(mu - lambda) = 2 ms (validation.md: 1 % at rho 0.5; 2 % here for a
/// shorter run), utilization 0.5.
#[test]
fn hit_workers_queue_like_an_mmc_station() {
    let mut cache = cache_spec(CacheCapacity::Entries(10), 1);
    cache.workers = Some(1);
    cache.hit_time = Distribution::Exponential { mean_ns: MS };
    let spec = system(
        cache,
        constant_ns(1_000),
        vec![reader(500.0, KeySpec::Uniform { n: 1 })],
        1_000,
    );
    let r = run(&spec);
    let mean_ms = r.latency.mean_ns() / MS;
    let util = extra_named(&r, "cache", "hit_worker_utilization");
    eprintln!("hit workers: mean {mean_ms:.4} ms (M/M/1: 2), utilization {util:.4}");
    assert!((mean_ms - 2.0).abs() / 2.0 < 0.02, "mean {mean_ms}");
    assert!((util - 0.5).abs() < 0.01, "utilization {util}");
    assert!(
        r.components[0].mean_queue_length > 0.4,
        "queue {}",
        r.components[0].mean_queue_length
    );
}

/// Every request ends exactly once, whatever the mix: reads and writes,
/// both write modes, every policy, byte capacities, TTLs, hit workers,
/// network delay, a slow backend with a bounded queue (drops travel back
/// through the cache), client timeouts; and the same seed gives the same
/// result.
#[test]
fn every_request_ends_exactly_once_and_runs_repeat() {
    for (i, policy) in [
        CachePolicy::Lru,
        CachePolicy::Lfu,
        CachePolicy::Fifo,
        CachePolicy::Random,
    ]
    .into_iter()
    .enumerate()
    {
        let mut cache = cache_spec(
            if i % 2 == 0 {
                CacheCapacity::Entries(50)
            } else {
                CacheCapacity::Bytes {
                    bytes: 64 * 1024,
                    value_size: Distribution::LogNormal {
                        median_ns: 1024.0,
                        sigma: 1.0,
                    },
                }
            },
            1,
        );
        cache.policy = policy;
        cache.ttl = Some(SimDuration::from_millis(50));
        cache.workers = (i >= 2).then_some(2);
        cache.hit_time = Distribution::Exponential { mean_ns: 0.2 * MS };
        cache.writes = if i % 2 == 0 {
            CacheWrites::Invalidate
        } else {
            CacheWrites::WriteThrough
        };
        let keys = KeySpec::Zipf { n: 500, s: 0.8 };
        let mut r = reader(3_000.0, keys.clone());
        r.timeout = Some(SimDuration::from_millis(5));
        let mut w = writer(0, 300.0, keys);
        w.write_share = 0.5;
        let mut spec = system(
            cache,
            Distribution::Exponential { mean_ns: 1.0 * MS },
            vec![r, w],
            20,
        );
        spec.network.latency = Distribution::Exponential { mean_ns: 0.1 * MS };
        if let ComponentKind::Server(db) = &mut spec.components[1].kind {
            db.queue_capacity = Some(2);
        }
        let a = run(&spec);
        let b = run(&spec);
        let t = a.requests;
        assert!(
            t.completed > 0 && t.dropped > 0 && t.timed_out > 0,
            "{policy:?}: {t:?}"
        );
        assert_eq!(t.in_flight, 0, "{policy:?}: drained");
        assert_eq!(a.events, b.events, "{policy:?}: deterministic");
        assert_eq!(a.components[0].figures, b.components[0].figures);
        assert_eq!(a.latency.mean_ns(), b.latency.mean_ns());
    }
}
