//! State of a replicated key-value store: replicas (each a FIFO server with
//! its own copy of the data), in-flight operations and messages, hints, and
//! the replication log of a leader. The engine glue (which schedules the
//! messages and answers clients) is in `simulation/store.rs`; this module
//! does no scheduling.
//!
//! Versions are `u64`, totally ordered per key: the writer's clock in
//! nanoseconds shifted left by 8 bits, plus the index of the replica that
//! assigned it (last-writer-wins timestamps; a leader makes its own strictly
//! increasing). `version >> 8` is thus the time the value was written, as the
//! writer's clock saw it, which gives the age of a value read.

pub(crate) mod figures;
pub(crate) mod sim;
pub(crate) mod spec;

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use sysdes_kernel::{RngStream, SimDuration, SimTime};
use sysdes_stats::{ConsistencyConfig, ConsistencyReport, ConsistencyTracker, LatencyHistogram};

use crate::figures::{AgeFigures, LagFigures, ProbeFigures, StoreFigures};
use crate::kinds::store::spec::{
    MAX_REPLICAS, PartitionPolicy, ReadFrom, Replication, Routing, StoreMode, StoreSpec,
};
use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::Distribution;
use crate::station::{FaultState, StationMetrics};

/// No request: an internal operation (a probe read).
pub(crate) const NO_REQUEST: RequestId = RequestId::MAX;

/// Bits of a version below the clock: the index of the replica that assigned it.
pub(crate) const VERSION_SHIFT: u32 = 8;

/// A message class, for its delay (`delays:` of the spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    WriteRequest = 0,
    WriteAck = 1,
    ReadRequest = 2,
    ReadResponse = 3,
}

/// What a message does when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MsgKind {
    /// Coordinator to replica: apply this write (assign a version first if
    /// the replica is the leader), then acknowledge.
    WriteReq,
    /// Replica to coordinator.
    WriteAck,
    /// Coordinator to replica: read the key.
    ReadReq,
    /// Replica to coordinator, with the version read.
    ReadResp,
    /// Leader to follower (or background copy, repair, hint): apply this
    /// version; acknowledge to the op only if `op` is set.
    Apply,
}

/// A message in flight or queued at a replica. Lives in [`Slab`] and is
/// reused from request to reply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Msg {
    pub(crate) kind: MsgKind,
    /// The operation awaiting a reply, or `NO_OP`.
    pub(crate) op: u32,
    pub(crate) replica: u16,
    /// Zone the message left from (checked against the destination on arrival).
    pub(crate) from_zone: u16,
    pub(crate) key: u64,
    pub(crate) version: u64,
    /// The replica's epoch when it was queued there (a crash bumps it).
    pub(crate) epoch: u32,
    /// Leader term it was sent in (replication from a deposed leader is ignored).
    pub(crate) term: u32,
}

/// Operation id meaning "no operation waits for this message".
pub(crate) const NO_OP: u32 = u32::MAX;

/// What an operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    Read,
    Write,
    /// An internal read that measures t-visibility.
    Probe,
}

/// One client read or write (or probe) being coordinated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpState {
    pub(crate) req: RequestId,
    pub(crate) kind: OpKind,
    pub(crate) key: u64,
    /// Write: the version written. Read: the newest version seen so far.
    pub(crate) version: u64,
    /// Coordinator: its replica index and zone.
    pub(crate) coord: u16,
    pub(crate) zone: u16,
    /// Successful replies needed, received, and reply chains outstanding.
    pub(crate) needed: u16,
    pub(crate) got: u16,
    pub(crate) pending: u16,
    /// The client has been answered (or the op has failed).
    pub(crate) done: bool,
    /// A leader wrote it, then a failover discarded it before its ack.
    pub(crate) lost: bool,
    pub(crate) started: SimTime,
    pub(crate) session: u32,
    /// Read: the newest version acknowledged to any client before it began.
    pub(crate) required: u64,
    /// Probe: the last three committed versions of the key at the write's commit.
    pub(crate) history: [u64; 3],
    /// Read: replicas that answered, and those that answered with `version`.
    pub(crate) answered: u64,
    pub(crate) holders: u64,
    /// Unique number of this op (slots are reused).
    pub(crate) serial: u64,
}

/// A reusable slab with a free list.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    #[inline]
    pub(crate) fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = value;
                id
            }
            None => {
                self.slots.push(value);
                (self.slots.len() - 1) as u32
            }
        }
    }

    #[inline]
    pub(crate) fn remove(&mut self, id: u32) {
        self.free.push(id);
    }
}

impl<T> std::ops::Index<u32> for Slab<T> {
    type Output = T;
    #[inline]
    fn index(&self, id: u32) -> &T {
        &self.slots[id as usize]
    }
}

impl<T> std::ops::IndexMut<u32> for Slab<T> {
    #[inline]
    fn index_mut(&mut self, id: u32) -> &mut T {
        &mut self.slots[id as usize]
    }
}

/// One replica: a FIFO server with `workers` and its copy of the data.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) zone: u16,
    /// Down while a `crash: STORE.rI` or `crash: STORE` fault lasts (the
    /// shared crash state; what a replica crash does is the store's own, in
    /// `sim.rs`).
    pub(crate) faults: FaultState,
    /// Bumped by every crash and recovery: work started before is void.
    pub(crate) epoch: u32,
    pub(crate) busy: u32,
    pub(crate) queue: VecDeque<u32>,
    /// Key to newest version held.
    pub(crate) data: FxHashMap<u64, u64>,
    /// The newest version this replica ever applied (leader election).
    pub(crate) newest: u64,
    /// Clock offset for the timestamps it assigns, ns.
    pub(crate) skew: u64,
    /// Arrival time of the last replication message sent to it (keeps the
    /// leader-to-follower channel FIFO).
    pub(crate) log_arrival: SimTime,
}

impl Replica {
    /// Whether the replica is up.
    #[inline]
    pub(crate) fn alive(&self) -> bool {
        !self.faults.crashed
    }

    /// Applies `version` of `key` if newer (last writer wins).
    #[inline]
    pub(crate) fn apply(&mut self, key: u64, version: u64) {
        let v = self.data.entry(key).or_insert(0);
        if version > *v {
            *v = version;
        }
        self.newest = self.newest.max(version);
    }

    /// The version held for `key` (0 if never written).
    #[inline]
    pub(crate) fn get(&self, key: u64) -> u64 {
        self.data.get(&key).copied().unwrap_or(0)
    }
}

/// A write kept for a replica that could not be reached.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hint {
    pub(crate) replica: u16,
    pub(crate) from_zone: u16,
    pub(crate) key: u64,
    pub(crate) version: u64,
    pub(crate) term: u32,
}

/// A write the leader applied that not every follower holds yet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogEntry {
    pub(crate) key: u64,
    pub(crate) version: u64,
    /// Replicas holding it.
    pub(crate) holders: u64,
    pub(crate) op: u32,
    pub(crate) serial: u64,
    pub(crate) acked: bool,
    /// The write counts in the results (started in the window).
    pub(crate) counted: bool,
}

/// Per key: the three newest versions acknowledged to a client.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeyInfo {
    pub(crate) acked: [u64; 3],
}

impl KeyInfo {
    /// Records an acknowledged version, keeping the three newest.
    pub(crate) fn ack(&mut self, version: u64) {
        let a = &mut self.acked;
        if version > a[0] {
            *a = [version, a[0], a[1]];
        } else if version > a[1] && version != a[0] {
            *a = [a[0], version, a[1]];
        } else if version > a[2] && version != a[0] && version != a[1] {
            a[2] = version;
        }
    }
}

/// Counters reported as the store's extra figures.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoreStats {
    pub(crate) reads: u64,
    pub(crate) writes: u64,
    pub(crate) stale_reads: u64,
    pub(crate) failed_reads: u64,
    pub(crate) failed_writes: u64,
    pub(crate) lost_writes: u64,
    pub(crate) repairs: u64,
    pub(crate) hints_delivered: u64,
    pub(crate) failovers: u64,
    pub(crate) probes: u64,
    pub(crate) probe_fresh: u64,
    pub(crate) probe_within2: u64,
    pub(crate) probe_within3: u64,
    /// Age of the value a successful read returned (now minus its write time).
    pub(crate) read_age: LatencyHistogram,
    /// Replication lag: from a leader's write to a follower applying it.
    pub(crate) lag: LatencyHistogram,
}

/// A replicated store's whole state.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) mode: StoreMode,
    pub(crate) replication: Replication,
    pub(crate) reads: ReadFrom,
    pub(crate) on_partition: PartitionPolicy,
    pub(crate) routing: Routing,
    pub(crate) read_quorum: u16,
    pub(crate) write_quorum: u16,
    pub(crate) read_repair: bool,
    pub(crate) hinted_handoff: bool,
    pub(crate) failover_timeout: SimDuration,
    pub(crate) probe_after: Option<SimDuration>,
    pub(crate) workers: u32,
    pub(crate) read_time: Sampler,
    pub(crate) write_time: Sampler,
    pub(crate) replication_delay: Option<Sampler>,
    /// Per [`Class`], a delay overriding the network's.
    pub(crate) delays: [Option<Sampler>; 4],
    pub(crate) replicas: Vec<Replica>,
    pub(crate) ops: Slab<OpState>,
    pub(crate) msgs: Slab<Msg>,
    pub(crate) hints: Vec<Hint>,
    pub(crate) handoff_scheduled: bool,
    pub(crate) log: VecDeque<LogEntry>,
    pub(crate) leader: Option<u16>,
    pub(crate) term: u32,
    pub(crate) failover_pending: bool,
    /// The newest version a leader assigned (versions never repeat).
    pub(crate) last_version: u64,
    pub(crate) next_serial: u64,
    pub(crate) keys: FxHashMap<u64, KeyInfo>,
    /// Routing and replica choices.
    pub(crate) rng: RngStream,
    /// Service times.
    pub(crate) service_rng: RngStream,
    /// Message delays.
    pub(crate) net_rng: RngStream,
    pub(crate) stats: StoreStats,
    pub(crate) metrics: StationMetrics,
    /// The store's slowdown (its `speed` stretches every replica's read and
    /// write times); its replicas crash each by its own state (a whole-store
    /// crash crashes every one of them), and its `crashed` says every
    /// replica is down (for a DNS health check).
    pub(crate) faults: FaultState,
    /// What the clients saw, judged for consistency.
    pub(crate) tracker: ConsistencyTracker,
    /// Acknowledged counted writes a failover discarded: `(key, version)`.
    pub(crate) failover_lost: Vec<(u64, u64)>,
}

impl Store {
    /// Number of replicas.
    #[inline]
    pub(crate) fn n(&self) -> usize {
        self.replicas.len()
    }

    /// The mask of every replica.
    pub(crate) fn all_replicas(&self) -> u64 {
        if self.n() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.n()) - 1
        }
    }

    /// The replica a session prefers: `session % n` (sticky) or random.
    pub(crate) fn route(&mut self, session: u32) -> u16 {
        use rand::RngExt;
        let n = self.n() as u32;
        match self.routing {
            Routing::Sticky if session != u32::MAX => (session % n) as u16,
            _ => self.rng.random_range(0..n) as u16,
        }
    }

    /// A uniformly random order of the replicas in `mask`, written to
    /// `order`; returns how many.
    pub(crate) fn shuffle(&mut self, mask: u64, order: &mut [u16; 64]) -> usize {
        use rand::RngExt;
        let mut k = 0;
        for r in 0..self.n() {
            if mask & (1 << r) != 0 {
                order[k] = r as u16;
                k += 1;
            }
        }
        for i in (1..k).rev() {
            let j = self.rng.random_range(0..=i);
            order.swap(i, j);
        }
        k
    }

    /// A fresh operation's state.
    pub(crate) fn new_op(&mut self, req: RequestId, kind: OpKind, key: u64, now: SimTime) -> u32 {
        self.next_serial += 1;
        let required = self.keys.get(&key).map_or(0, |k| k.acked[0]);
        self.ops.insert(OpState {
            req,
            kind,
            key,
            version: 0,
            coord: 0,
            zone: 0,
            needed: 1,
            got: 0,
            pending: 0,
            done: false,
            lost: false,
            started: now,
            session: u32::MAX,
            required,
            history: [0; 3],
            answered: 0,
            holders: 0,
            serial: self.next_serial,
        })
    }

    /// A last-writer-wins version for a write coordinated by `replica` at `now`.
    pub(crate) fn timestamp(&self, replica: u16, now: SimTime) -> u64 {
        let clock = now.as_nanos() + self.replicas[replica as usize].skew;
        (clock << VERSION_SHIFT) | u64::from(replica)
    }

    /// A leader's next version: its timestamp, kept strictly increasing.
    pub(crate) fn leader_version(&mut self, leader: u16, now: SimTime) -> u64 {
        let v = self.timestamp(leader, now).max(self.last_version + 1);
        self.last_version = v;
        v
    }

    /// Picks a new leader: the live replica holding the newest write (lowest
    /// index on ties). The writes the old leader acknowledged that the new
    /// one lacks are lost: counted now, or, for those whose acknowledgement
    /// is still on its way, marked `lost` and counted when it arrives.
    pub(crate) fn elect(&mut self) -> Option<u16> {
        let best = (0..self.n())
            .filter(|&r| self.replicas[r].alive())
            .max_by_key(|&r| (self.replicas[r].newest, std::cmp::Reverse(r)))?;
        for e in std::mem::take(&mut self.log) {
            if e.holders & (1 << best) != 0 {
                continue;
            }
            if e.acked {
                if e.counted {
                    self.stats.lost_writes += 1;
                    self.failover_lost.push((e.key, e.version));
                }
            } else if e.op != NO_OP {
                let op = &mut self.ops[e.op];
                if op.serial == e.serial && !op.done {
                    op.lost = true;
                }
            }
        }
        self.leader = Some(best as u16);
        self.term += 1;
        self.hints.retain(|h| h.term == u32::MAX);
        // Every live follower resynchronises from the new leader (a snapshot).
        let snapshot = self.replicas[best].data.clone();
        let newest = self.replicas[best].newest;
        for r in 0..self.n() {
            if r != best && self.replicas[r].alive() {
                self.replicas[r].data.clone_from(&snapshot);
                self.replicas[r].newest = newest;
            }
        }
        Some(best as u16)
    }

    /// Records that `replica` holds the leader's write `version`; drops log
    /// entries every replica holds.
    pub(crate) fn log_replicated(&mut self, version: u64, replica: u16) {
        let all = self.all_replicas();
        if let Ok(i) = self.log.binary_search_by_key(&version, |e| e.version) {
            self.log[i].holders |= 1 << replica;
        }
        self.trim_log(all);
    }

    fn trim_log(&mut self, all: u64) {
        while self
            .log
            .front()
            .is_some_and(|e| e.holders == all && e.acked)
        {
            self.log.pop_front();
        }
    }

    /// Marks the leader's write `version` acknowledged to its client.
    pub(crate) fn log_acked(&mut self, version: u64) {
        if let Ok(i) = self.log.binary_search_by_key(&version, |e| e.version) {
            self.log[i].acked = true;
        }
        self.trim_log(self.all_replicas());
    }

    /// The store's result figures (its consistency report is added by the
    /// caller, which owns the tracker).
    pub(crate) fn figures(&self) -> StoreFigures {
        let s = &self.stats;
        let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        StoreFigures {
            reads: s.reads,
            writes: s.writes,
            stale_reads: s.stale_reads,
            stale_read_ratio: ratio(s.stale_reads, s.reads),
            failed_reads: s.failed_reads,
            failed_writes: s.failed_writes,
            availability: 1.0
                - ratio(
                    s.failed_reads + s.failed_writes,
                    s.reads + s.writes + s.failed_reads + s.failed_writes,
                ),
            lost_writes: s.lost_writes,
            read_repairs: s.repairs,
            hints_delivered: s.hints_delivered,
            failovers: s.failovers,
            read_age: (s.read_age.count() > 0).then(|| AgeFigures {
                read_age_mean_ms: s.read_age.mean_ns() / 1e6,
                read_age_p50_ms: s.read_age.quantile_ns(0.5) as f64 / 1e6,
                read_age_p99_ms: s.read_age.quantile_ns(0.99) as f64 / 1e6,
            }),
            replication_lag: (s.lag.count() > 0).then(|| LagFigures {
                replication_lag_mean_ms: s.lag.mean_ns() / 1e6,
                replication_lag_p99_ms: s.lag.quantile_ns(0.99) as f64 / 1e6,
            }),
            probes: self.probe_after.map(|_| ProbeFigures {
                probe_reads: s.probes,
                probe_consistent: ratio(s.probe_fresh, s.probes),
                probe_within_2_versions: ratio(s.probe_within2, s.probes),
                probe_within_3_versions: ratio(s.probe_within3, s.probes),
            }),
            consistency: None,
        }
    }
}

impl Store {
    /// Builds a store from its spec. `zones` gives each replica's zone id;
    /// `stream(purpose)` derives the store's random streams.
    pub(crate) fn new(
        spec: &StoreSpec,
        zones: &[u16],
        mut stream: impl FnMut(&str) -> RngStream,
        metrics: StationMetrics,
        window: (SimTime, SimTime),
    ) -> Result<Store, String> {
        if spec.replicas == 0 || spec.replicas > MAX_REPLICAS {
            return Err(format!(
                "a store needs 1 to {MAX_REPLICAS} replicas, found {}",
                spec.replicas
            ));
        }
        if spec.workers == 0 {
            return Err("a store's replicas need at least one worker".into());
        }
        for (what, q) in [
            ("read_quorum", spec.read_quorum),
            ("write_quorum", spec.write_quorum),
        ] {
            if q == 0 || q > spec.replicas {
                return Err(format!(
                    "`{what}` must be between 1 and the {} replicas, found {q}",
                    spec.replicas
                ));
            }
        }
        let opt = |d: &Option<Distribution>| d.as_ref().map(Sampler::new).transpose();
        let mut skew_rng = stream("clock_skew");
        let skew = opt(&spec.clock_skew)?;
        let replicas = (0..spec.replicas as usize)
            .map(|i| Replica {
                zone: if zones.is_empty() {
                    0
                } else {
                    zones[i % zones.len()]
                },
                faults: FaultState::new(None),
                epoch: 0,
                busy: 0,
                queue: VecDeque::new(),
                data: FxHashMap::default(),
                newest: 0,
                skew: skew
                    .as_ref()
                    .map_or(0, |s| s.sample(&mut skew_rng).as_nanos()),
                log_arrival: SimTime::ZERO,
            })
            .collect();
        let mut tracker = ConsistencyTracker::new(ConsistencyConfig {
            check_linearizability: spec.check_linearizability,
            ..ConsistencyConfig::default()
        });
        tracker.set_window(window.0, window.1);
        Ok(Store {
            mode: spec.mode,
            replication: spec.replication,
            reads: spec.reads,
            on_partition: spec.on_partition,
            routing: spec.routing,
            read_quorum: spec.read_quorum as u16,
            write_quorum: spec.write_quorum as u16,
            read_repair: spec.read_repair && spec.mode == StoreMode::Leaderless,
            hinted_handoff: spec.hinted_handoff,
            failover_timeout: spec.failover_timeout,
            probe_after: spec.probe_after,
            workers: spec.workers,
            read_time: Sampler::new(&spec.read_time)?,
            write_time: Sampler::new(&spec.write_time)?,
            replication_delay: opt(&spec.replication_delay)?,
            delays: [
                opt(&spec.delays.write_request)?,
                opt(&spec.delays.write_ack)?,
                opt(&spec.delays.read_request)?,
                opt(&spec.delays.read_response)?,
            ],
            replicas,
            ops: Slab::default(),
            msgs: Slab::default(),
            hints: Vec::new(),
            handoff_scheduled: false,
            log: VecDeque::new(),
            leader: (spec.mode == StoreMode::Leader).then_some(0),
            term: 0,
            failover_pending: false,
            last_version: 0,
            next_serial: 0,
            keys: FxHashMap::default(),
            rng: stream("routing"),
            service_rng: stream("service"),
            net_rng: stream("messages"),
            stats: StoreStats::default(),
            metrics,
            faults: FaultState::new(None),
            tracker,
            failover_lost: Vec::new(),
        })
    }

    /// The consistency report: lost writes are those newer than every
    /// surviving copy (the tracker's rule) plus those a failover discarded
    /// that a newer write then hid.
    pub(crate) fn consistency(&self) -> ConsistencyReport {
        let surviving = |key: u64| {
            self.replicas
                .iter()
                .filter(|r| r.alive())
                .map(|r| r.get(key))
                .max()
                .unwrap_or(0)
        };
        let mut report = self.tracker.finish(surviving);
        report.lost_writes += self
            .failover_lost
            .iter()
            .filter(|&&(key, version)| version <= surviving(key))
            .count() as u64;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_info_keeps_the_three_newest_distinct_versions() {
        let mut k = KeyInfo::default();
        for v in [5, 3, 9, 9, 7, 1, 8] {
            k.ack(v);
        }
        assert_eq!(k.acked, [9, 8, 7]);
    }

    #[test]
    fn replicas_apply_last_writer_wins() {
        let mut r = Replica {
            zone: 0,
            faults: FaultState::new(None),
            epoch: 0,
            busy: 0,
            queue: VecDeque::new(),
            data: FxHashMap::default(),
            newest: 0,
            skew: 0,
            log_arrival: SimTime::ZERO,
        };
        r.apply(1, 10);
        r.apply(1, 4);
        assert_eq!(r.get(1), 10);
        assert_eq!(r.get(2), 0);
        r.apply(1, 11);
        assert_eq!(r.get(1), 11);
    }

    #[test]
    fn slab_reuses_freed_slots() {
        let mut s: Slab<u8> = Slab::default();
        let a = s.insert(1);
        let b = s.insert(2);
        s.remove(a);
        assert_eq!(s.insert(3), a);
        assert_eq!(s[b], 2);
        assert_eq!(s.insert(4), 2);
    }
}
