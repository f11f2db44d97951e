//! The `cache` component's description and its state outside the engine.
//!
//! A cache sits in front of a `backend` component. A read that hits is
//! answered by the cache after `hit_time` (by one of `workers` if set, with
//! a FIFO queue, else at once with no queue); a read that misses is sent on
//! to the backend, and when the answer returns the key is inserted with the
//! version the backend read (cache-aside fill). A write is always forwarded
//! to the backend: `invalidate` deletes the key first, `write_through`
//! stores the written version when the backend acknowledges it.
//!
//! Every entry remembers the version it was filled with; a hit is *stale*
//! when the key's current version in the system (bumped by writes served at
//! leaf servers) is newer. The engine glue lives in `simulation/cache.rs`;
//! the eviction structures in [`crate::CacheStore`].

pub(crate) mod figures;
pub(crate) mod sim;
pub(crate) mod store;

use std::cell::Cell;

use rand::SeedableRng;
use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime};

use crate::figures::CacheFigures;
use crate::kinds::cache::store::{CachePolicy, CacheStore, Lookup};
use crate::kinds::server::Server;
use crate::sampler::Sampler;
use crate::spec::Distribution;
use crate::station::{ACTIVE, FaultState, StationMetrics};

/// A cache in front of a backend component.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheSpec {
    /// How much the cache holds.
    pub capacity: CacheCapacity,
    /// Which entry a full cache evicts.
    pub policy: CachePolicy,
    /// Entries expire this long after they are filled; `None` keeps them
    /// until evicted.
    pub ttl: Option<SimDuration>,
    /// Time to answer a hit.
    pub hit_time: Distribution,
    /// If set, hits are served by this many workers with a FIFO queue;
    /// otherwise every hit is served at once, with no queue.
    pub workers: Option<u32>,
    /// Where misses and writes go.
    pub backend: ComponentId,
    /// What a write does to the cached entry.
    pub writes: CacheWrites,
}

/// A cache's capacity.
#[derive(Clone, Debug, PartialEq)]
pub enum CacheCapacity {
    /// At most this many entries, whatever their size.
    Entries(u64),
    /// At most this many bytes of values.
    Bytes {
        /// Capacity in bytes.
        bytes: u64,
        /// Size of each key's value, drawn once per key (the same key always
        /// has the same size). The distribution's "nanosecond" fields hold
        /// bytes.
        value_size: Distribution,
    },
}

/// What a write does to the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheWrites {
    /// Delete the entry, then forward the write to the backend.
    Invalidate,
    /// Forward the write; when it succeeds, store the written version
    /// (inserting the key if absent).
    WriteThrough,
}

impl CacheWrites {
    /// The mode's name in the scenario format.
    pub fn name(self) -> &'static str {
        match self {
            CacheWrites::Invalidate => "invalidate",
            CacheWrites::WriteThrough => "write_through",
        }
    }
}

/// Per-key value sizes.
#[derive(Debug)]
enum Sizes {
    /// Capacity counts entries: every value has size 1.
    Unit,
    /// Sizes in bytes, drawn from `sampler` with a generator seeded by the
    /// key (so a key's size never changes).
    Drawn { sampler: Sampler, seed: u64 },
}

/// Counters over the measurement window (`counted` requests only).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CacheCounts {
    pub(crate) reads: u64,
    pub(crate) hits: u64,
    pub(crate) stale_hits: u64,
    pub(crate) writes: u64,
    /// Reads that arrived while the cache was down (each missed and went
    /// to the backend).
    pub(crate) crash_misses: u64,
}

/// A cache component's state.
#[derive(Debug)]
pub(crate) struct Cache {
    pub(crate) store: CacheStore,
    pub(crate) backend: ComponentId,
    pub(crate) writes: CacheWrites,
    ttl: Option<SimDuration>,
    hit_time: Sampler,
    hit_rng: RngStream,
    sizes: Sizes,
    /// Hit service with workers and a queue, when `workers` is set.
    pub(crate) server: Option<Server>,
    /// The whole component: arrivals, completions, time inside (hits and
    /// misses), requests inside.
    pub(crate) metrics: StationMetrics,
    /// Window counts.
    pub(crate) counts: CacheCounts,
    /// Crash and slowdown state when hits take no worker (with `workers`,
    /// the hit server's own, so one state stretches its service times).
    faults: FaultState,
    /// Reads and hits over the whole run, for the series gauge.
    all_reads: u64,
    all_hits: u64,
    /// `(all_reads, all_hits)` when the gauge was last sampled.
    sampled: Cell<(u64, u64)>,
}

impl Cache {
    /// Builds the state for `spec`; `stream` derives this cache's random
    /// streams by purpose. Errors name the parameter at fault.
    pub(crate) fn new(
        spec: &CacheSpec,
        seed: u64,
        stream: impl Fn(&str) -> RngStream,
        window: (SimTime, SimTime),
    ) -> Result<Cache, String> {
        let (capacity, sizes) = match &spec.capacity {
            CacheCapacity::Entries(n) => (*n, Sizes::Unit),
            CacheCapacity::Bytes { bytes, value_size } => (
                *bytes,
                Sizes::Drawn {
                    sampler: Sampler::new(value_size)?,
                    seed: rand::Rng::next_u64(&mut stream("value_size")) ^ seed,
                },
            ),
        };
        if capacity == 0 {
            return Err("a cache needs a capacity greater than zero".into());
        }
        let server = match spec.workers {
            Some(0) => return Err("a cache with `workers` needs at least one".into()),
            Some(w) => Some(Server::new(
                w,
                None,
                Sampler::new(&spec.hit_time)?,
                stream("hit_time"),
                StationMetrics::new(window.0, window.1),
            )),
            None => None,
        };
        Ok(Cache {
            store: CacheStore::new(spec.policy, capacity, stream("evict")),
            backend: spec.backend,
            writes: spec.writes,
            ttl: spec.ttl,
            hit_time: Sampler::new(&spec.hit_time)?,
            hit_rng: stream("hit_time"),
            sizes,
            server,
            metrics: StationMetrics::new(window.0, window.1),
            counts: CacheCounts::default(),
            faults: FaultState::new(None),
            all_reads: 0,
            all_hits: 0,
            sampled: Cell::new((0, 0)),
        })
    }

    /// The size of `key`'s value in the capacity's unit.
    #[inline]
    pub(crate) fn value_size(&self, key: u64) -> u64 {
        match &self.sizes {
            Sizes::Unit => 1,
            Sizes::Drawn { sampler, seed } => {
                let mut rng =
                    RngStream::seed_from_u64(seed ^ key.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                sampler.sample(&mut rng).as_nanos().max(1)
            }
        }
    }

    /// A hit's service time (for a cache without workers), stretched by
    /// an active slowdown.
    #[inline]
    pub(crate) fn hit_time(&mut self) -> SimDuration {
        let d = self.hit_time.sample(&mut self.hit_rng);
        self.faults.stretch(d)
    }

    /// The cache's one crash and slowdown state: the hit server's when
    /// hits take a worker, else its own.
    #[inline]
    pub(crate) fn faults(&self) -> &FaultState {
        match &self.server {
            Some(s) => &s.faults,
            None => &self.faults,
        }
    }

    /// See [`Cache::faults`].
    pub(crate) fn faults_mut(&mut self) -> &mut FaultState {
        match &mut self.server {
            Some(s) => &mut s.faults,
            None => &mut self.faults,
        }
    }

    /// The cache crashes: its contents are lost. Requests already inside
    /// finish as they would (a hit in service is answered, a miss waits for
    /// its backend); while it is down every read misses (see
    /// [`Cache::read`]) and no answer fills it.
    pub(crate) fn crash(&mut self) {
        self.faults_mut().crashed = true;
        self.store.clear();
    }

    /// The cache is back, empty (a cold start).
    pub(crate) fn restart(&mut self, now: SimTime) {
        self.faults_mut().restart(now);
    }

    /// Whether the cache is down.
    #[inline]
    pub(crate) fn down(&self) -> bool {
        self.faults().crashed
    }

    /// Looks a read of `key` up at `now` and counts it; `current` is the
    /// key's current version in the system. Returns the cached version on a
    /// hit.
    #[inline]
    pub(crate) fn read(
        &mut self,
        key: u64,
        now: SimTime,
        current: u64,
        counted: bool,
    ) -> Option<u64> {
        let down = self.down();
        let hit = match self.store.lookup(key, now) {
            Lookup::Hit { version } if !down => Some(version),
            _ => None,
        };
        self.all_reads += 1;
        self.all_hits += u64::from(hit.is_some());
        if counted {
            let c = &mut self.counts;
            c.reads += 1;
            c.crash_misses += u64::from(down);
            if let Some(version) = hit {
                c.hits += 1;
                c.stale_hits += u64::from(version < current);
            }
        }
        hit
    }

    /// Stores `key` at `version` (a fill after a miss, or a write-through),
    /// expiring `ttl` after `now`; nothing while the cache is down.
    #[inline]
    pub(crate) fn fill(&mut self, key: u64, version: u64, now: SimTime) {
        if self.down() {
            return;
        }
        let expires = self.ttl.map_or(SimTime::MAX, |t| now + t);
        let size = self.value_size(key);
        self.store.insert(key, size, version, expires);
    }

    /// The hit ratio since the previous call (over every read, warm-up
    /// included; 0 with no reads): the per-interval series gauge.
    pub(crate) fn interval_hit_ratio(&self) -> f64 {
        let (reads, hits) = (self.all_reads, self.all_hits);
        let (last_reads, last_hits) = self.sampled.replace((reads, hits));
        ratio(hits - last_hits, reads - last_reads)
    }

    /// The result figures: hit and stale-hit ratios over the window,
    /// evictions and expirations over the run.
    pub(crate) fn figures(&self) -> CacheFigures {
        CacheFigures {
            hit_ratio: ratio(self.counts.hits, self.counts.reads),
            stale_hit_ratio: ratio(self.counts.stale_hits, self.counts.hits),
            reads: self.counts.reads,
            writes: self.counts.writes,
            evictions: self.store.evictions(),
            expirations: self.store.expirations(),
            hit_worker_utilization: self.hit_worker_utilization(),
            crash_misses: self.faults().crashable.then_some(self.counts.crash_misses),
        }
    }

    /// Busy hit workers / hit workers over the window, from the hit
    /// server's busy meter (its `ACTIVE` level); `None` when hits take no
    /// worker (no service capacity to be busy).
    pub(crate) fn hit_worker_utilization(&self) -> Option<f64> {
        self.server
            .as_ref()
            .map(|s| s.metrics.levels.mean(ACTIVE) / f64::from(s.workers()))
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_kernel::derive_stream;

    fn cache(capacity: CacheCapacity) -> Cache {
        let spec = CacheSpec {
            capacity,
            policy: CachePolicy::Lru,
            ttl: Some(SimDuration::from_secs(1)),
            hit_time: Distribution::Constant(SimDuration::from_micros(100)),
            workers: None,
            backend: ComponentId(1),
            writes: CacheWrites::Invalidate,
        };
        Cache::new(
            &spec,
            1,
            |p| derive_stream(1, "cache", p),
            (SimTime::ZERO, SimTime::MAX),
        )
        .unwrap()
    }

    #[test]
    fn value_sizes_are_a_deterministic_function_of_the_key() {
        let c = cache(CacheCapacity::Bytes {
            bytes: 1 << 20,
            value_size: Distribution::Uniform {
                low_ns: 100.0,
                high_ns: 10_000.0,
            },
        });
        let sizes: Vec<u64> = (0..1000).map(|k| c.value_size(k)).collect();
        assert_eq!(
            sizes,
            (0..1000).map(|k| c.value_size(k)).collect::<Vec<_>>()
        );
        assert!(sizes.iter().all(|&s| (100..=10_000).contains(&s)));
        let mean = sizes.iter().sum::<u64>() as f64 / 1000.0;
        // Uniform on [100, 10000]: mean 5050, sd of the mean 2858/sqrt(1000) = 90.
        assert!((mean - 5050.0).abs() < 450.0, "mean {mean}");
        assert_eq!(cache(CacheCapacity::Entries(10)).value_size(5), 1);
    }

    #[test]
    fn reads_count_hits_stale_hits_and_expiry() {
        let mut c = cache(CacheCapacity::Entries(10));
        let t = |ms: u64| SimTime::from_nanos(ms * 1_000_000);
        assert_eq!(c.read(7, t(0), 0, true), None);
        c.fill(7, 3, t(0));
        assert_eq!(c.read(7, t(10), 3, true), Some(3)); // fresh
        assert_eq!(c.read(7, t(20), 4, true), Some(3)); // a newer version exists: stale
        assert_eq!(c.read(7, t(1000), 4, true), None); // expired after the 1 s ttl
        assert_eq!(
            (c.counts.reads, c.counts.hits, c.counts.stale_hits),
            (4, 2, 1)
        );
        assert_eq!(c.interval_hit_ratio(), 0.5);
        assert_eq!(c.interval_hit_ratio(), 0.0);
        let f = c.figures();
        assert_eq!(f.hit_ratio, 0.5);
        assert_eq!(f.stale_hit_ratio, 0.5);
        assert_eq!(f.expirations, 1);
    }
}
