//! Exact, online accounting of consistency anomalies in a replicated store.
//!
//! A store model feeds a [`ConsistencyTracker`] with what its clients saw:
//! each acknowledged write (key, version, when it started, when it was
//! acknowledged), each successful read (the version it returned), each failed
//! request, and the fault windows of the run. At the end, [`ConsistencyTracker::finish`]
//! takes the highest version that survives on some replica of each key and
//! produces a [`ConsistencyReport`]: stale reads with their k-staleness and
//! t-visibility, violations of the four session guarantees, lost writes,
//! availability inside and outside faults and, optionally, an exact
//! linearizability verdict (see [`crate::linearizability`]).
//!
//! This module knows nothing about replicas, quorums or networks: it judges a
//! history of client-visible operations, nothing else.
//!
//! # Definitions
//!
//! Versions are `u64`, totally ordered per key (last-writer-wins timestamps or
//! leader sequence numbers); version 0 is the initial value every replica
//! holds. "Acknowledged before the read began" means an acknowledgement time
//! `<=` the read's start time (events at the same instant are sequential in
//! the simulator).
//!
//! - **Stale read**: returns a version older than the newest version
//!   acknowledged (to any client) before the read began.
//! - **k-staleness** of a read: how many acknowledged versions newer than the
//!   returned one existed at the read's start (0 for a fresh read). Its
//!   distribution is kept over *all* reads, so `P(k < K)` is the PBS
//!   probability of reading one of the last `K` versions.
//! - **t-visibility** of a stale read: how long before the read's start the
//!   newest acknowledged version was acknowledged.
//! - **Session guarantees**, per (session, key), comparing an operation only
//!   with the session's operations that *ended before it started*:
//!   read-your-writes (a read returns at least the session's latest
//!   acknowledged write), monotonic reads (a read returns at least what the
//!   session read before), monotonic writes (a write gets a higher version
//!   than the session's earlier writes), writes-follow-reads (a write gets a
//!   higher version than what the session read before).
//! - **Lost write**: an acknowledged write whose version is newer than the
//!   newest version surviving on any replica at the end, so no later read can
//!   ever return it or anything newer.
//! - **Availability**: the share of requests that succeed, overall and split
//!   by whether the request started inside a fault window.
//!
//! # Cost and memory
//!
//! Every operation is O(1) amortised: a hash lookup for the key, a hash
//! lookup for the (session, key) pair, and a scan over the acknowledgements
//! that happened while the read was in flight (plus, for a stale read, over
//! the versions it missed). Memory is bounded, never growing with run length:
//!
//! - per key, a ring of the last [`ConsistencyConfig::history_per_key`]
//!   acknowledged versions (with their acknowledgement times and a running
//!   maximum). Beyond the ring: a read whose start precedes every remembered
//!   acknowledgement is not classified (counted in
//!   [`HistoryBounds::reads_beyond_history`]); a k-staleness that reaches
//!   past the ring is a lower bound (counted in
//!   [`HistoryBounds::k_staleness_truncated`]); lost writes older than the
//!   ring are not counted (keys affected in
//!   [`HistoryBounds::lost_writes_truncated_keys`]).
//! - per (session, key) pair touched, two running maxima (read and written)
//!   with their times, for at most [`ConsistencyConfig::max_session_pairs`]
//!   pairs; operations of pairs beyond that are not checked (counted in
//!   [`HistoryBounds::session_ops_untracked`]). Keeping two maxima makes the
//!   checks exact when at most one earlier operation of the pair overlaps the
//!   one being checked; with more overlap a check may be skipped, never
//!   reported falsely.
//! - with linearizability checking on, up to
//!   [`ConsistencyConfig::linearizability_max_ops_per_key`] operations per key.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use sysdes_kernel::{SimDuration, SimTime};

use crate::LatencySummary;
use crate::histogram::LatencyHistogram;
use crate::linearizability::{self, LinOp, LinVerdict};

/// How much history the tracker keeps, and whether it checks linearizability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsistencyConfig {
    /// Acknowledged versions remembered per key (the ring bound; at least 1).
    pub history_per_key: usize,
    /// Most (session, key) pairs whose session guarantees are checked.
    pub max_session_pairs: usize,
    /// Whether to record per-key histories and check linearizability exactly
    /// at the end (off by default: it keeps every operation, up to the limit).
    pub check_linearizability: bool,
    /// Keys with more operations than this are not checked for
    /// linearizability (reported as not checked).
    pub linearizability_max_ops_per_key: usize,
}

impl Default for ConsistencyConfig {
    fn default() -> Self {
        ConsistencyConfig {
            history_per_key: 64,
            max_session_pairs: 1 << 20,
            check_linearizability: false,
            linearizability_max_ops_per_key: 200,
        }
    }
}

/// Violations of one session guarantee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuaranteeCount {
    /// Operations the guarantee applied to (the session had an earlier
    /// operation on the key that ended before this one started).
    pub checked: u64,
    /// Operations that violated it.
    pub violations: u64,
}

impl GuaranteeCount {
    /// An operation that saw or wrote `version`, after the session's earlier
    /// operation on the key saw or wrote `prior` (if any): the guarantee
    /// holds unless `version` is older.
    fn check(&mut self, prior: Option<u64>, version: u64) {
        if let Some(p) = prior {
            self.checked += 1;
            if version < p {
                self.violations += 1;
            }
        }
    }
}

/// Violations of the four session guarantees (Terry et al., 1994), checked
/// per client session and key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionViolations {
    /// A read returned less than the session's own earlier acknowledged write.
    pub read_your_writes: GuaranteeCount,
    /// A read returned less than the session read before.
    pub monotonic_reads: GuaranteeCount,
    /// A write was ordered before the session's own earlier write.
    pub monotonic_writes: GuaranteeCount,
    /// A write was ordered before a version the session had read.
    pub writes_follow_reads: GuaranteeCount,
}

impl SessionViolations {
    /// Violations of all four guarantees together.
    pub fn total(&self) -> u64 {
        self.read_your_writes.violations
            + self.monotonic_reads.violations
            + self.monotonic_writes.violations
            + self.writes_follow_reads.violations
    }
}

/// The share of requests that succeeded; `None` where no request was made.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Availability {
    /// Over every counted request.
    pub overall: Option<f64>,
    /// Over requests that started inside a fault window.
    pub during_faults: Option<f64>,
    /// Over requests that started outside every fault window.
    pub outside_faults: Option<f64>,
    /// Counted requests (successes and failures).
    pub requests: u64,
    /// Counted requests that started inside a fault window.
    pub requests_during_faults: u64,
    /// Counted requests that failed.
    pub failed: u64,
    /// Counted requests that started inside a fault window and failed.
    pub failed_during_faults: u64,
}

/// The distribution of k-staleness over all counted reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KStaleness {
    /// Mean k (0 for a fresh read).
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest k seen.
    pub max: u64,
    /// `counts[k]` = reads with k-staleness `k`; the last entry counts every
    /// read with k at least `counts.len() - 1` (the ring bound).
    pub counts: Vec<u64>,
}

/// The outcome of the optional linearizability check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinearizabilitySummary {
    /// Whether the check was asked for.
    pub enabled: bool,
    /// Keys whose whole history was checked.
    pub keys_checked: u64,
    /// Keys not checked (too many operations, or the search gave up).
    pub keys_not_checked: u64,
    /// Checked keys whose history is not linearizable.
    pub keys_violating: u64,
    /// The smallest violating key, for reproducing.
    pub first_violating_key: Option<u64>,
}

/// What the history bounds cost in exactness (all zero: every figure exact).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryBounds {
    /// Acknowledged versions remembered per key.
    pub history_per_key: u64,
    /// Reads that began before every remembered acknowledgement of their key
    /// (not classified as fresh or stale).
    pub reads_beyond_history: u64,
    /// Stale reads whose k-staleness reached past the ring (a lower bound).
    pub k_staleness_truncated: u64,
    /// Keys where lost writes may reach past the ring (a lower bound).
    pub lost_writes_truncated_keys: u64,
    /// Operations whose session guarantees were not checked because the
    /// (session, key) table was full.
    pub session_ops_untracked: u64,
}

/// Consistency anomalies measured in one run: what the JSON `consistency`
/// object reports. Plain data; the report crate formats it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsistencyReport {
    /// Successful counted reads.
    pub reads: u64,
    /// Acknowledged counted writes.
    pub writes: u64,
    /// Counted reads that failed.
    pub failed_reads: u64,
    /// Counted writes that failed.
    pub failed_writes: u64,
    /// Reads classified as stale.
    pub stale_reads: u64,
    /// `stale_reads / reads` (0 when no reads).
    pub stale_read_rate: f64,
    /// k-staleness over all counted reads.
    pub k_staleness: KStaleness,
    /// t-visibility of stale reads, milliseconds.
    pub t_visibility: LatencySummary,
    /// Session guarantee checks and violations.
    pub sessions: SessionViolations,
    /// Acknowledged counted writes lost for good.
    pub lost_writes: u64,
    /// Success shares inside and outside fault windows.
    pub availability: Availability,
    /// `Some(true)` if every key's history was checked and is linearizable,
    /// `Some(false)` if some key's is not, `None` if not (fully) checked.
    pub linearizable: Option<bool>,
    /// Details of the linearizability check.
    pub linearizability: LinearizabilitySummary,
    /// Where the bounded memory made figures inexact.
    pub bounds: HistoryBounds,
}

/// One remembered acknowledgement of a key.
#[derive(Clone, Copy, Debug)]
struct Ack {
    version: u64,
    at: SimTime,
    /// Highest version acknowledged up to and including this one.
    prefix_max: u64,
    /// When `prefix_max` was acknowledged.
    prefix_max_at: SimTime,
    /// Whether the write started in the measurement window.
    counted: bool,
}

#[derive(Debug, Default)]
struct KeyState {
    /// Acknowledgements in time order, at most `history_per_key`.
    ring: VecDeque<Ack>,
    /// A copy of the ring's newest entry, so a fresh read after the last
    /// ack (the common case) is judged without touching the ring's buffer.
    newest: Option<Ack>,
    /// Running maximum of the acknowledgements pushed out of the ring.
    evicted_max: u64,
    /// When `evicted_max` was acknowledged.
    evicted_max_at: SimTime,
    /// Whether any acknowledgement was pushed out.
    evicted: bool,
    /// Operations for the linearizability check (when enabled).
    history: Vec<LinOp>,
    /// The history outgrew the limit; the key is not checked.
    history_overflow: bool,
}

/// A running maximum remembered with the time it was reached, plus the one
/// before it, so a check can look back past one overlapping operation.
#[derive(Clone, Copy, Debug, Default)]
struct Max2 {
    latest: Option<(u64, SimTime)>,
    prev: Option<(u64, SimTime)>,
}

impl Max2 {
    /// The maximum over values recorded at or before `t`, if known.
    fn at_or_before(&self, t: SimTime) -> Option<u64> {
        match (self.latest, self.prev) {
            (Some((v, at)), _) if at <= t => Some(v),
            (_, Some((v, at))) if at <= t => Some(v),
            _ => None,
        }
    }

    fn record(&mut self, v: u64, at: SimTime) {
        match self.latest {
            Some((cur, _)) if v <= cur => {}
            _ => {
                self.prev = self.latest;
                self.latest = Some((v, at));
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct SessionKey {
    read: Max2,
    wrote: Max2,
}

/// A small, fast, deterministic hasher for integer keys (the Fx hash of
/// rustc). The maps are never iterated where order reaches output.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Online consistency accounting for one store; see the module docs for the
/// definitions, the cost and the memory bound.
///
/// Feed it in simulated-time order of the `at` arguments (the order the
/// simulator produces naturally).
#[derive(Debug)]
pub struct ConsistencyTracker {
    config: ConsistencyConfig,
    window_start: SimTime,
    window_end: SimTime,
    /// Disjoint fault windows `[start, end)` sorted by start.
    faults: Vec<(SimTime, SimTime)>,
    keys: FxMap<u64, KeyState>,
    sessions: FxMap<(u32, u64), SessionKey>,
    reads: u64,
    writes: u64,
    failed_reads: u64,
    failed_writes: u64,
    stale_reads: u64,
    k_counts: Vec<u64>,
    k_sum: u64,
    t_visibility: LatencyHistogram,
    sessions_report: SessionViolations,
    requests_during_faults: u64,
    failed_during_faults: u64,
    bounds: HistoryBounds,
    interval_reads: u64,
    interval_stale: u64,
    /// Length of a time-series bin in ns (0: no binning).
    bin_len: u64,
    /// Index of the current bin and its (reads, stale reads).
    bin: u64,
    bin_counts: (u64, u64),
    /// The bin before the current one.
    prev_bin_counts: (u64, u64),
}

impl Default for ConsistencyTracker {
    fn default() -> Self {
        Self::new(ConsistencyConfig::default())
    }
}

impl ConsistencyTracker {
    /// An empty tracker counting every operation (no warm-up window).
    pub fn new(config: ConsistencyConfig) -> Self {
        let history = config.history_per_key.max(1);
        let config = ConsistencyConfig {
            history_per_key: history,
            ..config
        };
        ConsistencyTracker {
            config,
            window_start: SimTime::ZERO,
            window_end: SimTime::MAX,
            faults: Vec::new(),
            keys: FxMap::default(),
            sessions: FxMap::default(),
            reads: 0,
            writes: 0,
            failed_reads: 0,
            failed_writes: 0,
            stale_reads: 0,
            k_counts: vec![0; history + 1],
            k_sum: 0,
            t_visibility: LatencyHistogram::new(),
            sessions_report: SessionViolations::default(),
            requests_during_faults: 0,
            failed_during_faults: 0,
            bounds: HistoryBounds {
                history_per_key: history as u64,
                ..HistoryBounds::default()
            },
            interval_reads: 0,
            interval_stale: 0,
            bin_len: 0,
            bin: 0,
            bin_counts: (0, 0),
            prev_bin_counts: (0, 0),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ConsistencyConfig {
        &self.config
    }

    /// Counts only operations that *started* in `[start, end)` (the
    /// measurement window). Every operation still updates the state, so acks
    /// during warm-up make later reads stale as they should.
    pub fn set_window(&mut self, start: SimTime, end: SimTime) {
        self.window_start = start;
        self.window_end = end;
    }

    /// Declares a fault window `[start, end)`: requests that start inside it
    /// count towards `availability.during_faults`. Windows may overlap and
    /// be declared in any order, but before the operations they classify.
    pub fn add_fault_window(&mut self, start: SimTime, end: SimTime) {
        if end <= start {
            return;
        }
        self.faults.push((start, end));
        self.faults.sort_unstable();
        let mut merged: Vec<(SimTime, SimTime)> = Vec::with_capacity(self.faults.len());
        for &(s, e) in &self.faults {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.faults = merged;
    }

    /// Whether `t` lies inside a declared fault window.
    pub fn in_fault_window(&self, t: SimTime) -> bool {
        // Index of the first window starting after t; the one before may hold t.
        let i = self.faults.partition_point(|&(s, _)| s <= t);
        i > 0 && t < self.faults[i - 1].1
    }

    #[inline]
    fn counted(&self, started: SimTime) -> bool {
        started >= self.window_start && started < self.window_end
    }

    #[inline]
    fn count_request(&mut self, started: SimTime, ok: bool) {
        if self.in_fault_window(started) {
            self.requests_during_faults += 1;
            if !ok {
                self.failed_during_faults += 1;
            }
        }
    }

    /// A write of `version` to `key` by `session`, started at `started`, was
    /// acknowledged to its client at `at`.
    pub fn write_acked(
        &mut self,
        session: u32,
        key: u64,
        version: u64,
        started: SimTime,
        at: SimTime,
    ) {
        let counted = self.counted(started);
        if counted {
            self.writes += 1;
            self.count_request(started, true);
        }
        let cap = self.config.history_per_key;
        let lin = self.config.check_linearizability;
        let lin_limit = self.config.linearizability_max_ops_per_key;
        let state = self.keys.entry(key).or_default();
        push_ack(state, cap, version, at, counted);
        if lin {
            record_lin(
                state,
                lin_limit,
                LinOp::write(version, started.as_nanos(), at.as_nanos()),
            );
        }
        if let Some(pair) = self.session_pair(session, key, counted) {
            let prior_write = pair.wrote.at_or_before(started);
            let prior_read = pair.read.at_or_before(started);
            pair.wrote.record(version, at);
            if counted {
                let s = &mut self.sessions_report;
                s.monotonic_writes.check(prior_write, version);
                s.writes_follow_reads.check(prior_read, version);
            }
        }
    }

    /// A write started at `started` failed (error, drop or client timeout):
    /// it counts against availability, in or out of the fault windows by
    /// its start.
    pub fn write_failed(&mut self, started: SimTime) {
        if self.counted(started) {
            self.failed_writes += 1;
            self.count_request(started, false);
        }
    }

    /// A write whose outcome its client never learned (a timeout) but whose
    /// version the store assigned: it may or may not take effect. Only the
    /// linearizability check uses it (as a write pending forever); call
    /// [`write_failed`](Self::write_failed) as well for availability.
    pub fn write_unknown(&mut self, key: u64, version: u64, started: SimTime) {
        if self.config.check_linearizability {
            let limit = self.config.linearizability_max_ops_per_key;
            let state = self.keys.entry(key).or_default();
            record_lin(
                state,
                limit,
                LinOp::write(version, started.as_nanos(), u64::MAX),
            );
        }
    }

    /// A read of `key` by `session`, started at `started`, returned
    /// `version` (0 for the initial value) to its client at `at`.
    pub fn read_done(
        &mut self,
        session: u32,
        key: u64,
        version: u64,
        started: SimTime,
        at: SimTime,
    ) {
        let counted = self.counted(started);
        let lin = self.config.check_linearizability;
        let lin_limit = self.config.linearizability_max_ops_per_key;
        let verdict = match self.keys.get_mut(&key) {
            Some(state) => {
                if lin {
                    record_lin(
                        state,
                        lin_limit,
                        LinOp::read(version, started.as_nanos(), at.as_nanos()),
                    );
                }
                classify(state, version, started)
            }
            None => {
                if lin {
                    let state = self.keys.entry(key).or_default();
                    record_lin(
                        state,
                        lin_limit,
                        LinOp::read(version, started.as_nanos(), at.as_nanos()),
                    );
                }
                Staleness::Fresh
            }
        };
        let stale = matches!(verdict, Staleness::Stale { .. });
        self.bin_read(at, stale);
        if counted {
            self.reads += 1;
            self.count_request(started, true);
            let cap = self.config.history_per_key;
            match verdict {
                Staleness::Fresh => self.k_counts[0] += 1,
                Staleness::Stale {
                    k,
                    since,
                    truncated,
                } => {
                    self.stale_reads += 1;
                    self.k_sum += k;
                    self.k_counts[(k as usize).min(cap)] += 1;
                    self.t_visibility.record(since);
                    if truncated {
                        self.bounds.k_staleness_truncated += 1;
                    }
                }
                Staleness::Unknown => self.bounds.reads_beyond_history += 1,
            }
        }
        if let Some(pair) = self.session_pair(session, key, counted) {
            let prior_write = pair.wrote.at_or_before(started);
            let prior_read = pair.read.at_or_before(started);
            pair.read.record(version, at);
            if counted {
                let s = &mut self.sessions_report;
                s.read_your_writes.check(prior_write, version);
                s.monotonic_reads.check(prior_read, version);
            }
        }
    }

    /// A read started at `started` failed; see
    /// [`write_failed`](Self::write_failed).
    pub fn read_failed(&mut self, started: SimTime) {
        if self.counted(started) {
            self.failed_reads += 1;
            self.count_request(started, false);
        }
    }

    /// Bins reads by completion time into intervals of `interval` starting
    /// at time 0 (the run's time-series intervals), for
    /// [`interval_stale_rate`](Self::interval_stale_rate).
    pub fn set_interval(&mut self, interval: SimDuration) {
        self.bin_len = interval.as_nanos();
    }

    /// The stale-read rate among reads (warm-up included) that completed in
    /// the interval ending at `now`, `[now - interval, now)`; 0 when there
    /// were none or no interval was set. A gauge for the time series,
    /// sampled at each interval boundary.
    pub fn interval_stale_rate(&self, now: SimTime) -> f64 {
        if self.bin_len == 0 {
            return 0.0;
        }
        let Some(closed) = (now.as_nanos() / self.bin_len).checked_sub(1) else {
            return 0.0;
        };
        let (reads, stale) = if closed == self.bin {
            self.bin_counts
        } else if closed + 1 == self.bin {
            self.prev_bin_counts
        } else {
            (0, 0)
        };
        if reads == 0 {
            0.0
        } else {
            stale as f64 / reads as f64
        }
    }

    #[inline]
    fn bin_read(&mut self, at: SimTime, stale: bool) {
        self.interval_reads += 1;
        self.interval_stale += u64::from(stale);
        if self.bin_len == 0 {
            return;
        }
        let bin = at.as_nanos() / self.bin_len;
        if bin > self.bin {
            self.prev_bin_counts = if bin == self.bin + 1 {
                self.bin_counts
            } else {
                (0, 0)
            };
            self.bin = bin;
            self.bin_counts = (0, 0);
        }
        // A completion reported late (before the current bin) is dropped
        // from the gauge; the totals still count it.
        if bin == self.bin {
            self.bin_counts.0 += 1;
            self.bin_counts.1 += u64::from(stale);
        }
    }

    /// Reads and stale reads (warm-up included) since the previous call,
    /// then resets them: another way to feed a per-interval gauge.
    pub fn take_interval(&mut self) -> (u64, u64) {
        let out = (self.interval_reads, self.interval_stale);
        self.interval_reads = 0;
        self.interval_stale = 0;
        out
    }

    /// Stale reads over reads since the previous call (0 when there were no
    /// reads), then resets the interval counters.
    pub fn take_interval_stale_rate(&mut self) -> f64 {
        match self.take_interval() {
            (0, _) => 0.0,
            (reads, stale) => stale as f64 / reads as f64,
        }
    }

    /// The session's state for `key`, creating it while the table has room.
    fn session_pair(&mut self, session: u32, key: u64, counted: bool) -> Option<&mut SessionKey> {
        let full = self.sessions.len() >= self.config.max_session_pairs;
        if full && !self.sessions.contains_key(&(session, key)) {
            if counted {
                self.bounds.session_ops_untracked += 1;
            }
            return None;
        }
        Some(self.sessions.entry((session, key)).or_default())
    }

    /// The report, given the highest version that survives on any live
    /// replica of each key at the end (0 if none). Called once per key that
    /// saw an acknowledged write, in no particular order.
    pub fn finish(&self, mut surviving_max_version: impl FnMut(u64) -> u64) -> ConsistencyReport {
        let mut lost_writes = 0;
        let mut bounds = self.bounds;
        for (&key, state) in &self.keys {
            let Some(last) = state.ring.back() else {
                continue;
            };
            let surviving = surviving_max_version(key);
            if last.prefix_max <= surviving && !(state.evicted && state.evicted_max > surviving) {
                continue;
            }
            lost_writes += state
                .ring
                .iter()
                .filter(|a| a.counted && a.version > surviving)
                .count() as u64;
            if state.evicted && state.evicted_max > surviving {
                bounds.lost_writes_truncated_keys += 1;
            }
        }

        let linearizability = self.check_linearizability();
        let linearizable = if !linearizability.enabled {
            None
        } else if linearizability.keys_violating > 0 {
            Some(false)
        } else if linearizability.keys_not_checked == 0 {
            Some(true)
        } else {
            None
        };

        let requests = self.reads + self.writes + self.failed_reads + self.failed_writes;
        let failed = self.failed_reads + self.failed_writes;
        let share = |ok: u64, total: u64| (total > 0).then(|| ok as f64 / total as f64);
        let outside = requests - self.requests_during_faults;
        let failed_outside = failed - self.failed_during_faults;
        let availability = Availability {
            overall: share(requests - failed, requests),
            during_faults: share(
                self.requests_during_faults - self.failed_during_faults,
                self.requests_during_faults,
            ),
            outside_faults: share(outside - failed_outside, outside),
            requests,
            requests_during_faults: self.requests_during_faults,
            failed,
            failed_during_faults: self.failed_during_faults,
        };

        ConsistencyReport {
            reads: self.reads,
            writes: self.writes,
            failed_reads: self.failed_reads,
            failed_writes: self.failed_writes,
            stale_reads: self.stale_reads,
            stale_read_rate: if self.reads > 0 {
                self.stale_reads as f64 / self.reads as f64
            } else {
                0.0
            },
            k_staleness: self.k_staleness(),
            t_visibility: self.t_visibility.summary(),
            sessions: self.sessions_report,
            lost_writes,
            availability,
            linearizable,
            linearizability,
            bounds,
        }
    }

    fn k_staleness(&self) -> KStaleness {
        let total: u64 = self.k_counts.iter().sum();
        let quantile = |q: f64| -> u64 {
            if total == 0 {
                return 0;
            }
            // Smallest k with at least ceil(q * total) reads at or below it.
            let rank = ((q * total as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for (k, &c) in self.k_counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return k as u64;
                }
            }
            (self.k_counts.len() - 1) as u64
        };
        KStaleness {
            mean: if total > 0 {
                self.k_sum as f64 / total as f64
            } else {
                0.0
            },
            p50: quantile(0.50),
            p90: quantile(0.90),
            p99: quantile(0.99),
            p999: quantile(0.999),
            max: self
                .k_counts
                .iter()
                .rposition(|&c| c > 0)
                .map_or(0, |k| k as u64),
            counts: self.k_counts.clone(),
        }
    }

    fn check_linearizability(&self) -> LinearizabilitySummary {
        let mut summary = LinearizabilitySummary {
            enabled: self.config.check_linearizability,
            ..LinearizabilitySummary::default()
        };
        if !summary.enabled {
            return summary;
        }
        for (&key, state) in &self.keys {
            if state.history_overflow {
                summary.keys_not_checked += 1;
                continue;
            }
            match linearizability::check_register(
                &state.history,
                linearizability::DEFAULT_STEP_LIMIT,
            ) {
                LinVerdict::Linearizable => summary.keys_checked += 1,
                LinVerdict::NotLinearizable => {
                    summary.keys_checked += 1;
                    summary.keys_violating += 1;
                    summary.first_violating_key =
                        Some(summary.first_violating_key.map_or(key, |k| k.min(key)));
                }
                LinVerdict::GaveUp => summary.keys_not_checked += 1,
            }
        }
        summary
    }
}

enum Staleness {
    Fresh,
    Stale {
        k: u64,
        since: SimDuration,
        truncated: bool,
    },
    Unknown,
}

/// Remembers an acknowledgement, keeping the ring in time order.
fn push_ack(state: &mut KeyState, cap: usize, version: u64, at: SimTime, counted: bool) {
    if state.ring.len() == cap {
        if let Some(old) = state.ring.pop_front() {
            state.evicted = true;
            state.evicted_max = old.prefix_max;
            state.evicted_max_at = old.prefix_max_at;
        }
    }
    // Acks normally arrive in time order (one comparison); an out-of-order
    // one is inserted in place and the running maxima after it recomputed.
    let pos = state
        .ring
        .iter()
        .rposition(|a| a.at <= at)
        .map_or(0, |i| i + 1);
    state.ring.insert(
        pos,
        Ack {
            version,
            at,
            prefix_max: 0,
            prefix_max_at: SimTime::ZERO,
            counted,
        },
    );
    let (mut max, mut max_at) = match pos {
        0 => (state.evicted_max, state.evicted_max_at),
        _ => {
            let p = state.ring[pos - 1];
            (p.prefix_max, p.prefix_max_at)
        }
    };
    for a in state.ring.range_mut(pos..) {
        if a.version > max {
            max = a.version;
            max_at = a.at;
        }
        a.prefix_max = max;
        a.prefix_max_at = max_at;
    }
    state.newest = state.ring.back().copied();
}

/// Classifies a read of `version` that started at `started`.
fn classify(state: &KeyState, version: u64, started: SimTime) -> Staleness {
    if let Some(newest) = state.newest {
        if newest.at <= started && version >= newest.prefix_max {
            return Staleness::Fresh;
        }
    }
    let ring = &state.ring;
    // The last acknowledgement at or before the read's start.
    let Some(i) = ring.iter().rposition(|a| a.at <= started) else {
        // Every remembered ack came after the read began: only forgotten
        // ones could make it stale, and only if it returned less than them.
        return if state.evicted && version < state.evicted_max {
            Staleness::Unknown
        } else {
            Staleness::Fresh
        };
    };
    let newest = ring[i];
    if version >= newest.prefix_max {
        return Staleness::Fresh;
    }
    let since = started.saturating_since(newest.prefix_max_at);
    let mut k = 0;
    let mut j = i;
    loop {
        let a = ring[j];
        if a.prefix_max <= version {
            return Staleness::Stale {
                k,
                since,
                truncated: false,
            };
        }
        if a.version > version {
            k += 1;
        }
        if j == 0 {
            return Staleness::Stale {
                k,
                since,
                truncated: state.evicted && state.evicted_max > version,
            };
        }
        j -= 1;
    }
}

fn record_lin(state: &mut KeyState, limit: usize, op: LinOp) {
    if state.history_overflow {
        return;
    }
    if state.history.len() >= limit {
        state.history_overflow = true;
        state.history = Vec::new();
        return;
    }
    state.history.push(op);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    fn tracker() -> ConsistencyTracker {
        ConsistencyTracker::default()
    }

    #[test]
    fn a_clean_history_has_no_anomalies() {
        let mut c = tracker();
        c.write_acked(1, 7, 1, t(0), t(10));
        c.read_done(1, 7, 1, t(20), t(30));
        c.write_acked(2, 7, 2, t(40), t(50));
        c.read_done(1, 7, 2, t(60), t(70));
        c.read_done(2, 7, 2, t(60), t(70));
        c.write_acked(1, 7, 3, t(80), t(90));
        c.read_done(3, 8, 0, t(80), t(90)); // a key never written
        let r = c.finish(|k| if k == 7 { 3 } else { 0 });
        assert_eq!((r.reads, r.writes, r.stale_reads), (4, 3, 0));
        assert_eq!(r.stale_read_rate, 0.0);
        assert_eq!(r.sessions.total(), 0);
        assert!(r.sessions.read_your_writes.checked >= 2);
        assert!(r.sessions.monotonic_reads.checked >= 1);
        assert_eq!(r.sessions.monotonic_writes.checked, 1);
        assert_eq!(r.sessions.writes_follow_reads.checked, 1);
        assert_eq!(r.lost_writes, 0);
        assert_eq!(r.availability.overall, Some(1.0));
        assert_eq!(r.availability.during_faults, None);
        assert_eq!(r.linearizable, None);
        assert_eq!(r.k_staleness.max, 0);
        assert_eq!(r.t_visibility.count, 0);
        assert_eq!(
            r.bounds,
            HistoryBounds {
                history_per_key: 64,
                ..HistoryBounds::default()
            }
        );
    }

    #[test]
    fn stale_reads_measure_k_and_t() {
        let mut c = tracker();
        c.write_acked(1, 1, 1, t(0), t(10));
        c.write_acked(1, 1, 2, t(12), t(20));
        // Started at 30, after both acks: two versions newer than 0.
        c.read_done(2, 1, 0, t(30), t(35));
        // Returned 1: one newer version (2), acked 10 ns before the read began.
        c.read_done(3, 1, 1, t(30), t(36));
        // Fresh.
        c.read_done(4, 1, 2, t(30), t(37));
        let r = c.finish(|_| 2);
        assert_eq!((r.reads, r.stale_reads), (3, 2));
        assert!((r.stale_read_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(&r.k_staleness.counts[..4], &[1, 1, 1, 0]);
        assert_eq!((r.k_staleness.p50, r.k_staleness.max), (1, 2));
        assert!((r.k_staleness.mean - 1.0).abs() < 1e-12);
        assert_eq!(r.t_visibility.count, 2);
        assert!(
            (r.t_visibility.max_ms - 10e-6).abs() < 1e-9,
            "{:?}",
            r.t_visibility
        );
    }

    #[test]
    fn an_ack_during_the_read_does_not_make_it_stale() {
        let mut c = tracker();
        c.write_acked(1, 1, 1, t(0), t(25));
        c.read_done(2, 1, 0, t(20), t(30));
        // An ack at the very instant the read begins counts as before it.
        c.read_done(2, 1, 0, t(25), t(30));
        let r = c.finish(|_| 1);
        assert_eq!(r.stale_reads, 1);
    }

    #[test]
    fn versions_acknowledged_out_of_order_use_the_newest_version() {
        // Last-writer-wins: version 5 acked before version 4.
        let mut c = tracker();
        c.write_acked(1, 1, 5, t(0), t(10));
        c.write_acked(2, 1, 4, t(0), t(15));
        c.read_done(3, 1, 4, t(20), t(25));
        c.read_done(3, 1, 5, t(30), t(35));
        let r = c.finish(|_| 5);
        assert_eq!(r.stale_reads, 1);
        assert_eq!(r.k_staleness.counts[1], 1);
        // The newest version (5) was acked at 10, 10 ns before the read.
        assert!((r.t_visibility.max_ms - 10e-6).abs() < 1e-9);
        // Ack times reported out of order are placed in time order.
        let mut c = tracker();
        c.write_acked(1, 1, 2, t(0), t(20));
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(3, 1, 0, t(15), t(16));
        c.read_done(3, 1, 1, t(25), t(26));
        let r = c.finish(|_| 2);
        assert_eq!(r.stale_reads, 2);
        assert_eq!(&r.k_staleness.counts[..3], &[0, 2, 0]);
    }

    #[test]
    fn read_your_writes_violation() {
        let mut c = tracker();
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(1, 1, 0, t(20), t(30)); // own write not seen
        c.read_done(2, 1, 0, t(20), t(30)); // stale, but not its own write
        let r = c.finish(|_| 1);
        assert_eq!(
            r.sessions.read_your_writes,
            GuaranteeCount {
                checked: 1,
                violations: 1
            }
        );
        assert_eq!(r.stale_reads, 2);
        // A read that overlaps the write is not checked against it.
        let mut c = tracker();
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(1, 1, 0, t(5), t(30));
        let r = c.finish(|_| 1);
        assert_eq!(r.sessions.read_your_writes, GuaranteeCount::default());
        // Other keys are other registers.
        let mut c = tracker();
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(1, 2, 0, t(20), t(30));
        assert_eq!(c.finish(|_| 1).sessions.total(), 0);
    }

    #[test]
    fn monotonic_reads_violation() {
        let mut c = tracker();
        c.write_acked(9, 1, 1, t(0), t(1));
        c.write_acked(9, 1, 2, t(2), t(3));
        c.read_done(1, 1, 2, t(4), t(10));
        c.read_done(1, 1, 1, t(5), t(12)); // overlaps the first: not compared
        c.read_done(1, 1, 1, t(20), t(30)); // went back in time
        c.read_done(1, 1, 2, t(40), t(50));
        let r = c.finish(|_| 2);
        assert_eq!(
            r.sessions.monotonic_reads,
            GuaranteeCount {
                checked: 2,
                violations: 1
            }
        );
    }

    #[test]
    fn monotonic_writes_and_writes_follow_reads_violations() {
        let mut c = tracker();
        c.write_acked(1, 1, 5, t(0), t(10));
        // A later write of the same session ordered before the first (a
        // last-writer-wins clock that went backwards).
        c.write_acked(1, 1, 3, t(20), t(30));
        c.read_done(2, 1, 5, t(40), t(50));
        c.write_acked(2, 1, 4, t(60), t(70)); // ordered before what it read
        c.write_acked(2, 1, 6, t(80), t(90)); // fine
        let r = c.finish(|_| 6);
        assert_eq!(
            r.sessions.monotonic_writes,
            GuaranteeCount {
                checked: 2,
                violations: 1
            }
        );
        assert_eq!(
            r.sessions.writes_follow_reads,
            GuaranteeCount {
                checked: 2,
                violations: 1
            }
        );
        assert_eq!(r.sessions.total(), 2);
    }

    #[test]
    fn lost_writes_are_acked_versions_above_what_survives() {
        let mut c = tracker();
        for v in 1..=3 {
            c.write_acked(1, 1, v, t(v * 10), t(v * 10 + 5));
        }
        c.write_acked(1, 2, 1, t(0), t(5));
        let r = c.finish(|k| if k == 1 { 1 } else { 0 });
        assert_eq!(
            r.lost_writes, 3,
            "versions 2 and 3 of key 1, version 1 of key 2"
        );
        let r = c.finish(|_| 3);
        assert_eq!(r.lost_writes, 0);
    }

    #[test]
    fn availability_inside_and_outside_fault_windows() {
        let mut c = tracker();
        c.add_fault_window(t(150), t(200));
        c.add_fault_window(t(100), t(160)); // overlaps: merged into [100, 200)
        assert!(c.in_fault_window(t(100)) && c.in_fault_window(t(199)));
        assert!(!c.in_fault_window(t(99)) && !c.in_fault_window(t(200)));
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(1, 1, 1, t(20), t(30));
        c.read_failed(t(40));
        c.read_done(1, 1, 1, t(120), t(130));
        c.write_failed(t(150));
        c.read_failed(t(170));
        let r = c.finish(|_| 1);
        let a = r.availability;
        assert_eq!((a.requests, a.failed), (6, 3));
        assert_eq!((a.requests_during_faults, a.failed_during_faults), (3, 2));
        assert_eq!(a.overall, Some(3.0 / 6.0));
        assert_eq!(a.during_faults, Some(1.0 / 3.0));
        assert_eq!(a.outside_faults, Some(2.0 / 3.0));
        assert_eq!((r.failed_reads, r.failed_writes), (2, 1));
    }

    #[test]
    fn the_window_limits_counting_but_not_state() {
        let mut c = tracker();
        c.set_window(t(100), t(1_000));
        c.write_acked(1, 1, 1, t(0), t(10)); // warm-up: not counted
        c.read_done(2, 1, 0, t(50), t(60)); // warm-up: not counted
        c.read_done(2, 1, 0, t(100), t(110)); // counted, stale because of the warm-up ack
        c.read_done(2, 1, 1, t(1_000), t(1_010)); // after the window
        let r = c.finish(|_| 0);
        assert_eq!((r.reads, r.writes, r.stale_reads), (1, 0, 1));
        assert_eq!(r.lost_writes, 0, "the lost write was not counted");
        assert_eq!(r.availability.requests, 1);
    }

    #[test]
    fn the_ring_bound_is_reported_not_hidden() {
        let config = ConsistencyConfig {
            history_per_key: 4,
            ..ConsistencyConfig::default()
        };
        let mut c = ConsistencyTracker::new(config);
        for v in 1..=10 {
            c.write_acked(1, 1, v, t(v * 10), t(v * 10));
        }
        // Remembered: versions 7..=10. A read of 2 that began at 100 missed
        // 8 versions; the tracker sees 4 of them and says so.
        c.read_done(2, 1, 2, t(100), t(105));
        // A read of 8 that began at 95 missed only version 9: exact.
        c.read_done(2, 1, 8, t(95), t(105));
        // A read that began before every remembered ack and returned less
        // than a forgotten version cannot be classified.
        c.read_done(3, 1, 1, t(15), t(105));
        // ...but one that returned at least every forgotten version is fresh.
        c.read_done(3, 1, 6, t(15), t(105));
        let r = c.finish(|_| 4);
        assert_eq!(r.stale_reads, 2);
        assert_eq!(r.k_staleness.counts, vec![1, 1, 0, 0, 1]);
        assert_eq!(r.bounds.k_staleness_truncated, 1);
        assert_eq!(r.bounds.reads_beyond_history, 1);
        // Versions 5..=10 are lost; the ring remembers 7..=10.
        assert_eq!(r.lost_writes, 4);
        assert_eq!(r.bounds.lost_writes_truncated_keys, 1);
        // The newest version (10) was acked at 100: t-visibility 0 for the
        // read that began at 100, 5 ns for the one at 95 (version 9 at 90).
        assert!((r.t_visibility.max_ms - 5e-6).abs() < 1e-9);
    }

    #[test]
    fn the_session_table_bound_is_reported() {
        let config = ConsistencyConfig {
            max_session_pairs: 1,
            ..ConsistencyConfig::default()
        };
        let mut c = ConsistencyTracker::new(config);
        c.write_acked(1, 1, 1, t(0), t(1));
        c.write_acked(2, 1, 2, t(0), t(1));
        c.read_done(2, 1, 0, t(5), t(6));
        let r = c.finish(|_| 2);
        assert_eq!(r.bounds.session_ops_untracked, 2);
        assert_eq!(r.sessions.total(), 0);
    }

    #[test]
    fn linearizability_through_the_tracker() {
        let config = ConsistencyConfig {
            check_linearizability: true,
            linearizability_max_ops_per_key: 3,
            ..ConsistencyConfig::default()
        };
        let mut c = ConsistencyTracker::new(config);
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(2, 1, 1, t(20), t(30));
        c.write_acked(1, 2, 1, t(0), t(10));
        c.read_done(2, 2, 1, t(20), t(30));
        let r = c.finish(|_| 1);
        assert_eq!(r.linearizable, Some(true));
        assert_eq!(r.linearizability.keys_checked, 2);

        c.read_done(2, 2, 0, t(40), t(50)); // key 2: stale, not linearizable
        c.write_unknown(3, 4, t(0)); // key 3: a write whose client timed out...
        c.read_done(2, 3, 4, t(40), t(50)); // ...seen later: linearizable
        let r = c.finish(|_| 1);
        assert_eq!(r.linearizable, Some(false));
        assert_eq!(r.linearizability.keys_violating, 1);
        assert_eq!(r.linearizability.first_violating_key, Some(2));

        c.read_done(2, 1, 1, t(40), t(50));
        c.read_done(2, 1, 1, t(60), t(70)); // key 1 now has 4 operations > 3
        let r = c.finish(|_| 1);
        assert_eq!(r.linearizability.keys_not_checked, 1);
        assert_eq!(r.linearizable, Some(false));
    }

    #[test]
    fn linearizable_is_null_when_some_key_was_not_checked() {
        let config = ConsistencyConfig {
            check_linearizability: true,
            linearizability_max_ops_per_key: 1,
            ..ConsistencyConfig::default()
        };
        let mut c = ConsistencyTracker::new(config);
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(2, 1, 1, t(20), t(30));
        let r = c.finish(|_| 1);
        assert_eq!(r.linearizable, None);
        assert!(r.linearizability.enabled);
    }

    #[test]
    fn interval_gauge_bins_by_completion_time() {
        let mut c = tracker();
        c.set_interval(SimDuration::from_nanos(100));
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(2, 1, 0, t(20), t(30)); // bin 0: stale
        c.read_done(2, 1, 1, t(20), t(40)); // bin 0: fresh
        assert_eq!(c.interval_stale_rate(t(100)), 0.5);
        c.read_done(2, 1, 1, t(120), t(130)); // bin 1: fresh
        assert_eq!(c.interval_stale_rate(t(100)), 0.5, "bin 0 is still known");
        assert_eq!(c.interval_stale_rate(t(200)), 0.0);
        c.read_done(2, 1, 0, t(420), t(430)); // bin 4: stale
        assert_eq!(c.interval_stale_rate(t(400)), 0.0, "bin 3 had no reads");
        assert_eq!(c.interval_stale_rate(t(500)), 1.0);
        assert_eq!(c.interval_stale_rate(t(50)), 0.0);
        assert_eq!(
            tracker().interval_stale_rate(t(500)),
            0.0,
            "no interval set"
        );
    }

    #[test]
    fn interval_gauge_resets() {
        let mut c = tracker();
        c.write_acked(1, 1, 1, t(0), t(10));
        c.read_done(2, 1, 0, t(20), t(30));
        c.read_done(2, 1, 1, t(20), t(30));
        assert_eq!(c.take_interval_stale_rate(), 0.5);
        assert_eq!(c.take_interval(), (0, 0));
        assert_eq!(c.take_interval_stale_rate(), 0.0);
    }

    /// Quorum reads of W = R = 1 out of N = 3 with no propagation: each read
    /// misses the last write with p_s = C(2,1)/C(3,1) = 2/3, so
    /// P(k-staleness < k) = 1 - p_s^k (Bailis et al., PBS, VLDB 2012):
    /// 1/3, 5/9, 19/27 for k = 1, 2, 3. Within 0.01 over 10^5 reads.
    #[test]
    fn k_staleness_matches_the_quorum_formula() {
        let mut c = tracker();
        let mut replicas = [0u64; 3];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        let mut now = 0;
        for v in 1..=100_000u64 {
            replicas[rnd(3) as usize] = v;
            now += 10;
            c.write_acked(0, 1, v, t(now - 5), t(now));
            now += 10;
            c.read_done(1, 1, replicas[rnd(3) as usize], t(now), t(now + 1));
        }
        let r = c.finish(|_| 100_000);
        let total = r.reads as f64;
        let mut below = 0.0;
        for (k, expected) in [(1, 1.0 / 3.0), (2, 5.0 / 9.0), (3, 19.0 / 27.0)] {
            below += r.k_staleness.counts[k - 1] as f64;
            let got = below / total;
            assert!((got - expected).abs() < 0.01, "k {k}: {got} vs {expected}");
        }
    }
}
