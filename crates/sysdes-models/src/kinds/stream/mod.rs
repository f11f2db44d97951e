//! The state of a `stream` component, without the engine: a partitioned
//! append-only log with consumer groups, per-partition in-order consumption,
//! optional time-based retention, and per-group lag measurements.
//!
//! A producer's message is appended to partition `hash(key) mod P` and
//! acknowledged at once. Each consumer group has one consumer per partition
//! that takes messages in offset order, one at a time. A group's lag is the
//! number of messages appended but not yet consumed by it (the one being
//! processed included, as Kafka counts lag from the committed offset), and
//! its lag in seconds is the age of its oldest unconsumed message.
//!
//! A group may start late (`start`): until then it is paused at offset 0,
//! so the log keeps everything it has not taken (up to retention), and at
//! its start it replays that backlog while new messages arrive (kappa
//! reprocessing). It has caught up when each of its consumers has once
//! found nothing left to take on its partition.
//!
//! The log keeps only entries that some group has yet to take: memory is
//! bounded by what is unconsumed (and by retention, if set). The payload is
//! opaque (`T: Copy`): the engine stores what it needs to re-create a
//! request for each delivery.

pub(crate) mod figures;
pub(crate) mod sim;

use std::collections::VecDeque;

use sysdes_kernel::{SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, TimeAverage};

/// The partition for `key` among `partitions`: a stable 64-bit mix of the key
/// (SplitMix64's finaliser), so consecutive keys spread evenly and the same
/// key always lands on the same partition, on every machine.
pub(crate) fn partition_of(key: u64, partitions: u32) -> u32 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % u64::from(partitions.max(1))) as u32
}

/// One appended message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Entry<T> {
    /// When it was appended.
    pub(crate) appended: SimTime,
    /// Whether its producer's request is counted in the results.
    pub(crate) counted: bool,
    /// What the engine needs to deliver it.
    pub(crate) payload: T,
}

#[derive(Debug)]
struct Partition<T> {
    /// Entries from offset `base` to the log end.
    log: VecDeque<Entry<T>>,
    base: u64,
}

impl<T> Partition<T> {
    fn end(&self) -> u64 {
        self.base + self.log.len() as u64
    }
}

/// One group's consumer on one partition.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    /// The next offset to deliver.
    next: u64,
    /// Append time of the message being processed, if any.
    busy: Option<SimTime>,
    /// Whether this consumer has once found its partition drained since the
    /// group started (always true for a group that starts with the run).
    caught_up: bool,
}

/// A time average of the age `now - oldest` of a group's oldest unconsumed
/// message (zero when there is none), computed exactly: the age grows at
/// slope one between changes of `oldest`.
#[derive(Clone, Debug)]
pub(crate) struct AgeAverage {
    window_start: SimTime,
    window_end: SimTime,
    oldest: Option<SimTime>,
    since: SimTime,
    /// Integral of the age over the window so far, seconds squared.
    area: f64,
    /// Largest age seen in the window, nanoseconds.
    max: u64,
}

impl AgeAverage {
    /// Nothing unconsumed, averaged over `[window_start, window_end)`.
    pub(crate) fn new(window_start: SimTime, window_end: SimTime) -> Self {
        AgeAverage {
            window_start,
            window_end,
            oldest: None,
            since: SimTime::ZERO,
            area: 0.0,
            max: 0,
        }
    }

    fn accumulate(&mut self, now: SimTime) {
        if let Some(oldest) = self.oldest {
            let from = self.since.max(self.window_start);
            let to = now.min(self.window_end);
            if to > from {
                let a = from.saturating_since(oldest).as_secs_f64();
                let b = to.saturating_since(oldest).as_secs_f64();
                self.area += (b - a) * (a + b) / 2.0;
                self.max = self.max.max(to.saturating_since(oldest).as_nanos());
            }
        }
        self.since = now;
    }

    /// The oldest unconsumed message becomes `oldest` at `now`.
    pub(crate) fn set(&mut self, now: SimTime, oldest: Option<SimTime>) {
        self.accumulate(now);
        self.oldest = oldest;
    }

    /// The current age at `now`.
    pub(crate) fn age(&self, now: SimTime) -> SimDuration {
        self.oldest
            .map_or(SimDuration::ZERO, |o| now.saturating_since(o))
    }

    /// Time-average age over the window, seconds.
    pub(crate) fn mean_s(&self) -> f64 {
        let mut this = self.clone();
        this.accumulate(this.window_end.max(this.since));
        let length = (self.window_end - self.window_start).as_secs_f64();
        if length > 0.0 {
            this.area / length
        } else {
            0.0
        }
    }

    /// Largest age in the window, seconds.
    pub(crate) fn max_s(&self) -> f64 {
        let mut this = self.clone();
        this.accumulate(this.window_end.max(this.since));
        this.max as f64 / 1e9
    }
}

/// One consumer group's progress and measurements.
#[derive(Debug)]
pub(crate) struct Group {
    cursors: Vec<Cursor>,
    /// Messages appended and not yet consumed (or expired) by this group.
    lag: u64,
    /// Time average of `lag` over the window.
    pub(crate) lag_level: TimeAverage<1>,
    /// Age of the oldest unconsumed message.
    pub(crate) lag_age: AgeAverage,
    /// Counted messages this group consumed.
    pub(crate) consumed: u64,
    /// Counted messages retention removed before this group took them.
    pub(crate) expired: u64,
    /// Append to consumer done, counted messages.
    pub(crate) latency: LatencyHistogram,
    /// When a late group starts consuming (`None`: with the run).
    start: Option<SimTime>,
    /// A late group's lag when it started: the backlog it replays.
    pub(crate) backlog_at_start: Option<u64>,
    /// When a late group's consumers had all caught up once.
    pub(crate) caught_up_at: Option<SimTime>,
    /// Consumers of a late group that have not yet caught up.
    behind: u32,
}

impl Group {
    /// Messages not yet consumed by this group.
    pub(crate) fn lag(&self) -> u64 {
        self.lag
    }

    fn oldest(&self, partitions: &[Partition<impl Copy>]) -> Option<SimTime> {
        self.cursors
            .iter()
            .zip(partitions)
            .filter_map(|(c, p)| {
                c.busy.or_else(|| {
                    (c.next < p.end()).then(|| p.log[(c.next - p.base) as usize].appended)
                })
            })
            .min()
    }
}

/// A partitioned log with consumer groups.
#[derive(Debug)]
pub(crate) struct StreamLog<T> {
    partitions: Vec<Partition<T>>,
    /// Consumer groups, in file order.
    pub(crate) groups: Vec<Group>,
    retention: Option<SimDuration>,
    /// Counted messages appended.
    pub(crate) appended: u64,
    /// Entries held (what memory scales with), and its peak.
    held: usize,
    peak_held: usize,
}

impl<T: Copy> StreamLog<T> {
    /// An empty log of `partitions` (at least 1) with `groups` consumer
    /// groups, keeping messages at most `retention` if set.
    pub(crate) fn new(
        partitions: u32,
        groups: usize,
        retention: Option<SimDuration>,
        window_start: SimTime,
        window_end: SimTime,
    ) -> Self {
        let p = partitions.max(1) as usize;
        StreamLog {
            partitions: (0..p)
                .map(|_| Partition {
                    log: VecDeque::new(),
                    base: 0,
                })
                .collect(),
            groups: (0..groups)
                .map(|_| Group {
                    cursors: vec![
                        Cursor {
                            next: 0,
                            busy: None,
                            caught_up: true,
                        };
                        p
                    ],
                    lag: 0,
                    lag_level: TimeAverage::new(window_start, window_end),
                    lag_age: AgeAverage::new(window_start, window_end),
                    consumed: 0,
                    expired: 0,
                    latency: LatencyHistogram::new(),
                    start: None,
                    backlog_at_start: None,
                    caught_up_at: None,
                    behind: 0,
                })
                .collect(),
            retention,
            appended: 0,
            held: 0,
            peak_held: 0,
        }
    }

    /// Pauses `group` until `at`: it takes nothing before, then replays
    /// from the oldest message the log still holds (call before any append).
    pub(crate) fn set_start(&mut self, group: usize, at: SimTime) {
        let g = &mut self.groups[group];
        g.start = Some(at);
        g.behind = g.cursors.len() as u32;
        for c in &mut g.cursors {
            c.caught_up = false;
        }
    }

    /// `group` starts at `now`: applies retention to every partition and
    /// records its backlog. The caller then calls [`Self::next`] for each
    /// of its partitions.
    pub(crate) fn start_group(&mut self, now: SimTime, group: usize) {
        for p in 0..self.partitions() {
            self.expire(now, p);
        }
        let g = &mut self.groups[group];
        g.backlog_at_start = Some(g.lag);
    }

    /// Number of partitions.
    pub(crate) fn partitions(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// The most entries the log ever held at once.
    pub(crate) fn peak_held(&self) -> usize {
        self.peak_held
    }

    /// Entries held now.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Appends `entry` for `key` and returns its partition. The caller then
    /// calls [`Self::next`] for every group on that partition.
    pub(crate) fn append(&mut self, now: SimTime, key: u64, entry: Entry<T>) -> u32 {
        let p = partition_of(key, self.partitions());
        self.expire(now, p);
        if entry.counted {
            self.appended += 1;
        }
        let part = &mut self.partitions[p as usize];
        part.log.push_back(entry);
        self.held += 1;
        self.peak_held = self.peak_held.max(self.held);
        for g in &mut self.groups {
            g.lag += 1;
            g.lag_level.set(now, [g.lag]);
            if g.lag_age.oldest.is_none() {
                g.lag_age.set(now, Some(entry.appended));
            }
        }
        p
    }

    /// The next message for `group`'s consumer on `partition`, if that
    /// consumer is idle and the group has something left to take there.
    pub(crate) fn next(&mut self, now: SimTime, group: usize, partition: u32) -> Option<Entry<T>> {
        self.expire(now, partition);
        let part = &self.partitions[partition as usize];
        let g = &mut self.groups[group];
        if g.start.is_some_and(|s| now < s) {
            return None;
        }
        let cursor = &mut g.cursors[partition as usize];
        if cursor.busy.is_some() {
            return None;
        }
        if cursor.next >= part.end() {
            if !cursor.caught_up {
                cursor.caught_up = true;
                g.behind -= 1;
                if g.behind == 0 {
                    g.caught_up_at = Some(now);
                }
            }
            return None;
        }
        let entry = part.log[(cursor.next - part.base) as usize];
        cursor.next += 1;
        cursor.busy = Some(entry.appended);
        self.trim(partition);
        Some(entry)
    }

    /// `group`'s consumer on `partition` finished the message appended at
    /// `appended`. The caller then calls [`Self::next`] for it again.
    pub(crate) fn done(
        &mut self,
        now: SimTime,
        group: usize,
        partition: u32,
        appended: SimTime,
        counted: bool,
    ) {
        let g = &mut self.groups[group];
        g.cursors[partition as usize].busy = None;
        g.lag -= 1;
        g.lag_level.set(now, [g.lag]);
        if counted {
            g.consumed += 1;
            g.latency.record(now.saturating_since(appended));
        }
        let oldest = g.oldest(&self.partitions);
        g.lag_age.set(now, oldest);
    }

    /// Drops entries every group has taken from the front of `partition`.
    fn trim(&mut self, partition: u32) {
        let part = &mut self.partitions[partition as usize];
        let min_next = self
            .groups
            .iter()
            .map(|g| g.cursors[partition as usize].next)
            .min()
            .unwrap_or(part.end());
        while part.base < min_next {
            part.log.pop_front();
            part.base += 1;
            self.held -= 1;
        }
    }

    /// Applies retention to `partition` at `now`: entries older than the
    /// retention period leave the log, and groups that had not taken them
    /// skip them (counted as expired for that group).
    fn expire(&mut self, now: SimTime, partition: u32) {
        let Some(retention) = self.retention else {
            return;
        };
        let part = &mut self.partitions[partition as usize];
        let mut removed = false;
        while let Some(front) = part.log.front() {
            if now.saturating_since(front.appended) <= retention {
                break;
            }
            let offset = part.base;
            let counted = front.counted;
            part.log.pop_front();
            part.base += 1;
            self.held -= 1;
            removed = true;
            for g in &mut self.groups {
                let c = &mut g.cursors[partition as usize];
                if c.next <= offset {
                    c.next = offset + 1;
                    g.lag -= 1;
                    if counted {
                        g.expired += 1;
                    }
                }
            }
        }
        if removed {
            for g in &mut self.groups {
                g.lag_level.set(now, [g.lag]);
                let oldest = g.oldest(&self.partitions);
                g.lag_age.set(now, oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    fn entry(at: u64) -> Entry<u32> {
        Entry {
            appended: t(at),
            counted: true,
            payload: at as u32,
        }
    }

    #[test]
    fn partitioning_is_stable_and_spread() {
        assert_eq!(partition_of(42, 8), partition_of(42, 8));
        let mut counts = [0u32; 8];
        for k in 0..8_000 {
            counts[partition_of(k, 8) as usize] += 1;
        }
        for c in counts {
            assert!((900..1100).contains(&c), "{counts:?}");
        }
        assert_eq!(partition_of(7, 1), 0);
    }

    #[test]
    fn each_group_consumes_in_order_one_at_a_time() {
        let mut s = StreamLog::new(1, 2, None, t(0), t(1_000));
        for i in 0..3 {
            s.append(t(i), 5, entry(i));
        }
        assert_eq!(s.groups[0].lag(), 3);
        assert_eq!(s.next(t(3), 0, 0).map(|e| e.payload), Some(0));
        assert_eq!(s.next(t(3), 0, 0), None, "one at a time");
        assert_eq!(s.next(t(3), 1, 0).map(|e| e.payload), Some(0));
        assert_eq!(s.held(), 2, "offset 0 was taken by every group");
        s.done(t(10), 0, 0, t(0), true);
        assert_eq!(s.groups[0].lag(), 2);
        assert_eq!(s.groups[1].lag(), 3, "the in-flight message counts as lag");
        assert_eq!(s.next(t(10), 0, 0).map(|e| e.payload), Some(1));
        assert_eq!(s.groups[0].latency.max_ns(), 10);
    }

    #[test]
    fn memory_is_bounded_by_the_slowest_group() {
        let mut s = StreamLog::new(2, 2, None, t(0), t(1_000));
        for i in 0..100 {
            let p = s.append(t(i), i, entry(i));
            // Group 0 keeps up; group 1 never consumes.
            let e = s.next(t(i), 0, p).unwrap();
            s.done(t(i), 0, p, e.appended, true);
        }
        assert_eq!(s.held(), 100);
        assert_eq!(s.groups[0].lag(), 0);
        assert_eq!(s.groups[1].lag(), 100);
        for p in 0..2 {
            while let Some(e) = s.next(t(200), 1, p) {
                s.done(t(200), 1, p, e.appended, true);
            }
        }
        assert_eq!(
            (s.held(), s.groups[1].lag(), s.groups[1].consumed),
            (0, 0, 100)
        );
    }

    #[test]
    fn retention_expires_what_a_lagging_group_had_not_taken() {
        let mut s = StreamLog::new(1, 1, Some(SimDuration::from_nanos(10)), t(0), t(1_000));
        for i in 0..5 {
            s.append(t(i), 0, entry(i));
        }
        let first = s.next(t(5), 0, 0).unwrap();
        assert_eq!(first.payload, 0);
        // At 13, messages appended at 0..=2 are older than 10 ns.
        assert_eq!(s.next(t(13), 0, 0), None, "still busy");
        assert_eq!(s.groups[0].expired, 2, "offsets 1 and 2 expired");
        s.done(t(13), 0, 0, first.appended, true);
        assert_eq!(s.next(t(13), 0, 0).map(|e| e.payload), Some(3));
        assert_eq!(s.groups[0].lag(), 2);
        assert_eq!(
            s.groups[0].consumed + s.groups[0].expired + s.groups[0].lag(),
            5
        );
    }

    #[test]
    fn a_late_group_replays_the_log_and_catches_up() {
        let mut s = StreamLog::new(2, 2, None, t(0), t(1_000));
        s.set_start(1, t(50));
        for i in 0..10 {
            s.append(t(i), i, entry(i));
        }
        assert_eq!(s.next(t(20), 1, 0), None, "paused before its start");
        assert_eq!(
            s.held(),
            10,
            "the log keeps what the late group has not taken"
        );
        s.start_group(t(50), 1);
        assert_eq!(s.groups[1].backlog_at_start, Some(10));
        let mut taken = 0;
        for p in 0..2 {
            while let Some(e) = s.next(t(60), 1, p) {
                s.done(t(60), 1, p, e.appended, true);
                taken += 1;
            }
        }
        assert_eq!(taken, 10, "replayed from offset 0");
        assert_eq!(s.groups[1].caught_up_at, Some(t(60)));
        assert_eq!(s.groups[0].caught_up_at, None, "no start, no catch-up");
    }

    #[test]
    fn lag_age_average_is_exact() {
        let mut a = AgeAverage::new(t(0), t(1_000_000_000));
        a.set(t(0), Some(t(0)));
        a.set(t(500_000_000), None);
        // Age rises 0 -> 0.5 s over half the window: area 0.125, mean 0.125.
        assert!((a.mean_s() - 0.125).abs() < 1e-12);
        assert!((a.max_s() - 0.5).abs() < 1e-12);
    }
}
