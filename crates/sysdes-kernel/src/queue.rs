//! The pending-event set.

use crate::SimTime;

/// Above this many queued events the queue moves from its heap to its radix
/// buckets (after the push that crosses it).
const TO_RADIX: usize = 64;
/// At this many queued events or fewer it moves back to the heap.
const TO_HEAP: usize = 16;
/// Radix buckets: bucket 0 holds the entries at the base time, bucket
/// `i` in 1..=62 those whose time first differs from the base at bit
/// `i - 1`, and bucket 63 those differing at bit 62 or 63 (times beyond
/// 146 years; merging them keeps the occupancy mask in one `u64`).
const BUCKETS: usize = 64;

/// A min-priority queue of events keyed by (time, insertion sequence).
///
/// Events with equal times pop in the order they were pushed (FIFO
/// tie-break), which makes a run independent of the queue's internals.
/// Buffers are reused (each radix bucket keeps the capacity of its fullest
/// moment), so once the pending count has stopped growing, and every bucket
/// has seen its largest fill (early in a run), nothing is allocated.
///
/// Two representations, chosen by size so that neither the M/M/1 case (a
/// handful of pending events) nor a deployment of 10^4 replicas (thousands
/// pending) pays for the other:
///
/// - Up to a few dozen events: a 4-ary heap on (time, sequence) with
///   hole-based sifting over `Copy` entries. (std's `BinaryHeap::pop` swaps
///   the root with the last entry and then re-reads it, which on our 40-byte
///   entries caused a store-forwarding stall that cost a fifth of an M/M/1
///   run; moving a hole avoids the swap.)
/// - Beyond that: a radix heap (Ahuja, Mehlhorn, Orlin & Tarjan 1990), which
///   exploits that a simulation never schedules before the last popped time.
///   Entries live in 64 buckets by the highest bit in which their time
///   differs from a base time (the last popped one); a push is an append
///   (and an update of the bucket's earliest time); a pop takes the next
///   entry of bucket 0 (times equal to the base) or, when that is empty,
///   makes the earliest time of the lowest non-empty bucket the new base and
///   redistributes that bucket into lower ones. An entry moves down a few
///   buckets in its life (at most 64), always by sequential appends, so the
///   cost per event grows only slowly with the pending count, where a
///   heap's grows with its depth and with cache misses along a path of
///   parents. Equal times always share a bucket, and appends and
///   redistribution keep their order, so the FIFO tie-break needs no
///   sequence number there.
///
/// The queue moves to the radix buckets when it grows past 64 events and
/// back to the heap when it shrinks to 16 (the gap keeps a queue hovering
/// around one size from switching back and forth); both moves keep the
/// (time, push order) order. At 16 events the two cost about the same.
///
/// A push earlier than the last popped time (never done by [`crate::Scheduler`])
/// is still ordered correctly: in radix mode it rebuilds the buckets against
/// the earlier base, in O(pending).
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Heap mode: the 4-ary heap. Empty in radix mode.
    heap: Vec<HeapEntry<E>>,
    /// Sequence number of the next push (heap mode's tie-break).
    next_seq: u64,
    /// Whether the radix buckets hold the events (else the heap does).
    radix: bool,
    /// Radix mode: the buckets, indexed by [`bucket`].
    buckets: [Vec<RadixEntry<E>>; BUCKETS],
    /// Radix mode: entries of bucket 0 before this index have been popped.
    head: usize,
    /// Radix mode: the base time; no queued entry is earlier.
    base: u64,
    /// Radix mode: bit `i` set if bucket `i >= 1` is non-empty (bit 0 unused).
    occupied: u64,
    /// Radix mode: the earliest time in each bucket `i >= 1` (`u64::MAX` if
    /// empty), kept on every append so a pop need not scan for it.
    mins: [u64; BUCKETS],
    /// Radix mode: number of queued events.
    radix_len: usize,
    /// Scratch for rebuilding the buckets after a push before the base, and
    /// for re-spreading the last bucket.
    spare: Vec<RadixEntry<E>>,
}

/// A heap entry: the event under its (time, sequence) key. Where a pop
/// chooses among four children the key is compared as one `u128` (time in
/// the high half), one wide comparison the compiler turns into flag
/// arithmetic and conditional moves rather than the two data-dependent
/// branches of a tuple comparison; elsewhere the tuple comparison
/// ([`HeapEntry::before`]) measured faster. The halves are stored as two
/// `u64`s, not a `u128`, whose 16-byte alignment would pad an entry of the
/// scheduler's 24-byte payload from 40 to 48 bytes.
#[derive(Clone, Copy, Debug)]
struct HeapEntry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> HeapEntry<E> {
    /// The (time, sequence) key as one number.
    #[inline(always)]
    fn key(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }

    /// Whether `self` pops before `other`, compared as a tuple (branches
    /// that predict well where the heap is small).
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        (self.time, self.seq) < (other.time, other.seq)
    }
}

#[derive(Clone, Copy, Debug)]
struct RadixEntry<E> {
    time: u64,
    event: E,
}

/// The radix bucket of `time` against `base` (`time >= base`): 0 if equal,
/// else one more than the index of the highest differing bit, at most 63.
///
/// Every time in a lower bucket is earlier than every time in a higher one
/// (they agree with the base on more high bits), which is what the radix
/// heap needs; the last bucket may take an entry back when it is spread,
/// which is harmless since the earliest always lands in bucket 0.
#[inline(always)]
fn bucket(time: u64, base: u64) -> usize {
    ((u64::BITS - (time ^ base).leading_zeros()) as usize).min(BUCKETS - 1)
}

/// The index and key of the smaller of two keyed entries, written as two
/// selects on one comparison so that the compiler emits conditional moves.
#[inline(always)]
fn select_min(i: usize, ki: u128, j: usize, kj: u128) -> (usize, u128) {
    let j_first = kj < ki;
    (if j_first { j } else { i }, if j_first { kj } else { ki })
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `capacity` events in its heap before it
    /// reallocates (past 64 events the radix buckets take over; they grow on
    /// demand and keep their capacity).
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(capacity.min(TO_RADIX + 1)),
            next_seq: 0,
            radix: false,
            buckets: std::array::from_fn(|_| Vec::new()),
            head: 0,
            base: 0,
            occupied: 0,
            mins: [u64::MAX; BUCKETS],
            radix_len: 0,
            spare: Vec::new(),
        }
    }

    /// Adds `event` at `time`, after every event already queued at that time.
    ///
    /// Always inlined: called out of line, the event is passed through memory
    /// written in narrow stores and re-read wide, a stall that cost a fifth
    /// of an M/M/1 run.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, event: E) {
        let time = time.as_nanos();
        if self.radix {
            if time < self.base {
                self.rebase(time);
            }
            let i = bucket(time, self.base);
            self.buckets[i].push(RadixEntry { time, event });
            self.mins[i] = self.mins[i].min(time);
            self.occupied |= 1 << i;
            self.radix_len += 1;
            return;
        }
        let entry = HeapEntry {
            time,
            seq: self.next_seq,
            event,
        };
        self.next_seq += 1;
        // Sift up: move parents down into the hole until `entry` fits.
        let mut hole = self.heap.len();
        self.heap.push(entry);
        while hole > 0 {
            let parent = (hole - 1) / 4;
            if !entry.before(&self.heap[parent]) {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = entry;
        if self.heap.len() > TO_RADIX {
            self.switch_to_radix();
        }
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.radix {
            let entry = self.radix_pop()?;
            if self.radix_len <= TO_HEAP {
                self.switch_to_heap();
            }
            return Some((SimTime::from_nanos(entry.time), entry.event));
        }
        let last = self.heap.pop()?;
        let Some(&top) = self.heap.first() else {
            return Some((SimTime::from_nanos(last.time), last.event));
        };
        // Move the hole from the root down along the smallest children
        // while they pop before `last`, then put `last` in it. Keys are
        // distinct (the sequence differs), so which of two children is
        // smaller never depends on how the comparison is written, and the
        // pop order is (time, push order) whatever the heap's shape.
        let heap = &mut self.heap[..];
        let n = heap.len();
        let mut hole = 0;
        loop {
            let first = 4 * hole + 1;
            let best = if first + 3 < n {
                // All four children: a two-round tournament of selects (no
                // data-dependent branch; the profile's hot spot when this
                // was a loop of tuple comparisons).
                let k0 = heap[first].key();
                let k1 = heap[first + 1].key();
                let k2 = heap[first + 2].key();
                let k3 = heap[first + 3].key();
                let (a, ka) = select_min(first, k0, first + 1, k1);
                let (b, kb) = select_min(first + 2, k2, first + 3, k3);
                select_min(a, ka, b, kb).0
            } else if first < n {
                // One to three children (the heap's last parent, and the
                // whole heap of an M/M/1 run): a plain loop, whose branches
                // predict well at that size and measured faster there.
                let mut best = first;
                for child in first + 1..n {
                    if heap[child].before(&heap[best]) {
                        best = child;
                    }
                }
                best
            } else {
                break;
            };
            if !heap[best].before(&last) {
                break;
            }
            heap[hole] = heap[best];
            hole = best;
        }
        heap[hole] = last;
        Some((SimTime::from_nanos(top.time), top.event))
    }

    /// Radix mode: removes the earliest entry, without switching modes.
    #[inline]
    fn radix_pop(&mut self) -> Option<RadixEntry<E>> {
        if self.head < self.buckets[0].len() {
            let entry = self.buckets[0][self.head];
            self.head += 1;
            self.radix_len -= 1;
            return Some(entry);
        }
        self.buckets[0].clear();
        self.head = 0;
        let occupied = self.occupied & !1;
        if occupied == 0 {
            return None;
        }
        self.radix_len -= 1;
        // The lowest non-empty bucket holds the earliest entries: make the
        // earliest the new base and spread the bucket over lower buckets.
        let i = occupied.trailing_zeros() as usize;
        let base = std::mem::replace(&mut self.mins[i], u64::MAX);
        self.base = base;
        let mut occupied = occupied & !(1 << i);
        self.occupied = occupied;
        if let [only] = self.buckets[i][..] {
            self.buckets[i].clear();
            return Some(only);
        }
        if i == BUCKETS - 1 {
            self.spread_last();
        } else {
            let (lower, upper) = self.buckets.split_at_mut(i);
            let from = &mut upper[0];
            let mins = &mut self.mins;
            for &entry in from.iter() {
                let j = bucket(entry.time, base);
                lower[j].push(entry);
                mins[j] = mins[j].min(entry.time);
                occupied |= 1 << j;
            }
            from.clear();
            self.occupied = occupied;
        }
        // Bucket 0 now holds every entry at `base`, in push order.
        self.head = 1;
        Some(self.buckets[0][0])
    }

    /// Radix mode: spreads the last bucket against the new base, for which
    /// some of its entries may belong to it again (times beyond 146 years).
    #[cold]
    #[inline(never)]
    fn spread_last(&mut self) {
        self.spare.clear();
        self.spare.append(&mut self.buckets[BUCKETS - 1]);
        for &entry in &self.spare {
            let j = bucket(entry.time, self.base);
            self.buckets[j].push(entry);
            self.mins[j] = self.mins[j].min(entry.time);
            self.occupied |= 1 << j;
        }
        self.spare.clear();
    }

    /// Moves the heap's events into the radix buckets (the heap outgrew
    /// [`TO_RADIX`]).
    #[cold]
    #[inline(never)]
    fn switch_to_radix(&mut self) {
        // Sorting by (time, seq) makes equal times land in push order.
        self.heap.sort_unstable_by_key(HeapEntry::key);
        let base = self.heap[0].time;
        self.base = base;
        self.head = 0;
        self.occupied = 0;
        self.mins = [u64::MAX; BUCKETS];
        for entry in &self.heap {
            let time = entry.time;
            let i = bucket(time, base);
            self.buckets[i].push(RadixEntry {
                time,
                event: entry.event,
            });
            self.mins[i] = self.mins[i].min(time);
            self.occupied |= 1 << i;
        }
        self.radix_len = self.heap.len();
        self.heap.clear();
        self.radix = true;
    }

    /// Moves the radix buckets' events back into the heap (the queue shrank
    /// to [`TO_HEAP`]).
    #[cold]
    #[inline(never)]
    fn switch_to_heap(&mut self) {
        // Popped in order with fresh increasing sequence numbers, they form
        // a sorted array, which is a valid heap, and later pushes still sort
        // after them at equal times.
        while let Some(entry) = self.radix_pop() {
            self.heap.push(HeapEntry {
                time: entry.time,
                seq: self.next_seq,
                event: entry.event,
            });
            self.next_seq += 1;
        }
        self.buckets[0].clear();
        self.head = 0;
        self.occupied = 0;
        self.radix = false;
    }

    /// Radix mode: rebuilds the buckets against `base`, earlier than the
    /// current base (a push before the last popped time).
    #[cold]
    #[inline(never)]
    fn rebase(&mut self, base: u64) {
        // Entries with equal times share a bucket, so gathering bucket by
        // bucket, each in order, keeps their push order.
        self.spare.clear();
        self.spare.extend_from_slice(&self.buckets[0][self.head..]);
        self.buckets[0].clear();
        self.head = 0;
        for bucket in &mut self.buckets[1..] {
            self.spare.extend_from_slice(bucket);
            bucket.clear();
        }
        self.base = base;
        self.occupied = 0;
        self.mins = [u64::MAX; BUCKETS];
        for &entry in &self.spare {
            let i = bucket(entry.time, base);
            self.buckets[i].push(entry);
            self.mins[i] = self.mins[i].min(entry.time);
            self.occupied |= 1 << i;
        }
        self.spare.clear();
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.radix {
            return self.heap.first().map(|e| SimTime::from_nanos(e.time));
        }
        if self.head < self.buckets[0].len() {
            return Some(SimTime::from_nanos(self.base));
        }
        let occupied = self.occupied & !1;
        if occupied == 0 {
            return None;
        }
        Some(SimTime::from_nanos(
            self.mins[occupied.trailing_zeros() as usize],
        ))
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        if self.radix {
            self.radix_len
        } else {
            self.heap.len()
        }
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_times_pop_in_push_order() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.push(SimTime::from_nanos(7), i);
        }
        q.push(SimTime::from_nanos(3), -1);
        assert_eq!(q.pop(), Some((SimTime::from_nanos(3), -1)));
        for i in 0..100 {
            assert_eq!(q.pop(), Some((SimTime::from_nanos(7), i)));
        }
        assert!(q.pop().is_none());
    }

    /// What an interleaving does: push `count` events at the last popped
    /// time plus an increment drawn from `gap`, or pop `count` events.
    #[derive(Clone, Debug)]
    enum Step {
        Push { count: usize, gaps: Vec<u64> },
        Pop { count: usize },
    }

    /// Runs `steps` on an [`EventQueue`] and on a reference (a `BTreeMap`
    /// keyed by (time, push number)), comparing every pop, then drains both.
    /// Pushes are never earlier than the last popped time unless `anywhere`,
    /// in which case a push's increment is taken from time zero.
    fn check_against_reference(steps: &[Step], anywhere: bool) -> Result<(), TestCaseError> {
        let mut q = EventQueue::new();
        let mut reference = std::collections::BTreeMap::new();
        let mut now = 0u64;
        let mut pushed = 0u64;
        let pop_both = |q: &mut EventQueue<u64>,
                        reference: &mut std::collections::BTreeMap<(u64, u64), u64>,
                        now: &mut u64|
         -> Result<bool, TestCaseError> {
            let got = q.pop().map(|(t, e)| (t.as_nanos(), e));
            let want = reference.pop_first().map(|((t, _), e)| (t, e));
            prop_assert_eq!(got, want);
            prop_assert_eq!(q.len(), reference.len());
            if let Some((t, _)) = got {
                *now = t;
            }
            Ok(got.is_some())
        };
        for step in steps {
            match step {
                Step::Push { count, gaps } => {
                    for k in 0..*count {
                        let gap = gaps[k % gaps.len()];
                        let time = if anywhere {
                            gap
                        } else {
                            now.saturating_add(gap)
                        };
                        q.push(SimTime::from_nanos(time), pushed);
                        reference.insert((time, pushed), pushed);
                        pushed += 1;
                    }
                    prop_assert_eq!(
                        q.peek_time().map(SimTime::as_nanos),
                        reference.first_key_value().map(|(k, _)| k.0)
                    );
                }
                Step::Pop { count } => {
                    for _ in 0..*count {
                        if !pop_both(&mut q, &mut reference, &mut now)? {
                            break;
                        }
                    }
                }
            }
        }
        while pop_both(&mut q, &mut reference, &mut now)? {}
        prop_assert!(q.is_empty());
        Ok(())
    }

    /// Increments of the adversarial kinds: zero (all equal times), small,
    /// a simulation's mix, huge gaps, and times far in the future (beyond
    /// 2^62 and 2^63 ns, the merged last radix bucket; pushes saturate at
    /// `u64::MAX`).
    fn gap() -> impl Strategy<Value = u64> {
        prop_oneof![
            3 => Just(0u64),
            3 => 0u64..10_000,
            2 => 0u64..5_000_000,
            1 => 0u64..(1 << 40),
            1 => (u64::MAX / 4)..(u64::MAX / 2),
            1 => (u64::MAX / 2)..=u64::MAX,
        ]
    }

    /// Pushes of one to a few thousand events (bursts, and growth past the
    /// radix threshold) and pops of one to a few thousand (shrinking back).
    fn step() -> impl Strategy<Value = Step> {
        let count = prop_oneof![4 => 1usize..4, 2 => 1usize..100, 1 => 100usize..3_000];
        prop_oneof![
            (count.clone(), proptest::collection::vec(gap(), 1..8))
                .prop_map(|(count, gaps)| Step::Push { count, gaps }),
            count.prop_map(|count| Step::Pop { count }),
        ]
    }

    #[test]
    fn growing_and_shrinking_across_both_modes_keeps_order() {
        let mut q = EventQueue::new();
        let mut expected = std::collections::VecDeque::new();
        let mut now = 0;
        for round in 0..4u64 {
            // Grow to 1,000 (radix mode) with many equal times, then shrink
            // to 3 (heap mode) while pushing a little.
            for i in 0..1_000u64 {
                let time = now + (i * 7919 + round) % 97;
                q.push(SimTime::from_nanos(time), (time, i + round * 10_000));
                expected.push_back((time, i + round * 10_000));
            }
            expected.make_contiguous().sort();
            while q.len() > 3 {
                let (t, e) = q.pop().expect("not empty");
                assert_eq!(Some(e), expected.pop_front());
                assert_eq!(t.as_nanos(), e.0);
                now = t.as_nanos();
            }
        }
        while let Some((_, e)) = q.pop() {
            assert_eq!(Some(e), expected.pop_front());
        }
        assert!(expected.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The simulation pattern: pushes never earlier than the last popped
        /// time, interleaved with pops, at sizes from 0 to tens of thousands
        /// and adversarial increments; every pop matches the reference.
        #[test]
        fn monotone_interleaving_matches_reference(steps in proptest::collection::vec(step(), 1..40)) {
            check_against_reference(&steps, false)?;
        }

        /// Pushes anywhere, earlier than the last pop included (rebuilds the
        /// radix buckets): order is still (time, push order).
        #[test]
        fn arbitrary_interleaving_matches_reference(steps in proptest::collection::vec(step(), 1..40)) {
            check_against_reference(&steps, true)?;
        }
    }

    proptest! {
        /// Pops come out sorted by (time, push order), whatever the push order.
        #[test]
        fn pops_are_sorted_by_time_then_sequence(times in proptest::collection::vec(0u64..50, 0..300)) {
            let mut q = EventQueue::new();
            for (i, &t) in times.iter().enumerate() {
                q.push(SimTime::from_nanos(t), i);
            }
            let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort();
            let popped: Vec<(u64, usize)> =
                std::iter::from_fn(|| q.pop()).map(|(t, i)| (t.as_nanos(), i)).collect();
            prop_assert_eq!(popped, expected);
        }
    }
}
