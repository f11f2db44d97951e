//! The pending-event set.

use crate::SimTime;

/// A min-priority queue of events keyed by (time, insertion sequence).
///
/// Events with equal times pop in the order they were pushed (FIFO
/// tie-break), which makes a run independent of heap internals. The type
/// hides its representation so it can be swapped for a calendar queue or a
/// radix heap without touching callers. Pushing reuses the buffer, so a
/// queue whose size has stopped growing allocates nothing.
///
/// Today it is a binary heap with hole-based sifting over `Copy` entries.
/// std's `BinaryHeap::pop` swaps the root with the last entry and then
/// re-reads it, which on our 40-byte entries caused a store-forwarding stall
/// that cost a fifth of an M/M/1 run; moving a hole avoids the swap.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// Whether `self` pops before `other`.
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        (self.time, self.seq) < (other.time, other.seq)
    }
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

    /// An empty queue with room for `capacity` events before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Adds `event` at `time`, after every event already queued at that time.
    ///
    /// Always inlined: called out of line, the event is passed through memory
    /// written in narrow stores and re-read wide, a stall that cost a fifth
    /// of an M/M/1 run.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, event: E) {
        let entry = Entry {
            time: time.as_nanos(),
            seq: self.next_seq,
            event,
        };
        self.next_seq += 1;
        // Sift up: move parents down into the hole until `entry` fits.
        let mut hole = self.heap.len();
        self.heap.push(entry);
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if !entry.before(&self.heap[parent]) {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = entry;
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.heap.pop()?;
        let Some(&top) = self.heap.first() else {
            return Some((SimTime::from_nanos(last.time), last.event));
        };
        // Floyd's bottom-up deletion: move the hole from the root to a leaf
        // along the smaller children, then sift `last` up from there.
        let n = self.heap.len();
        let mut hole = 0;
        let mut child = 1;
        while child < n {
            if child + 1 < n && self.heap[child + 1].before(&self.heap[child]) {
                child += 1;
            }
            self.heap[hole] = self.heap[child];
            hole = child;
            child = 2 * hole + 1;
        }
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if !last.before(&self.heap[parent]) {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = last;
        Some((SimTime::from_nanos(top.time), top.event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| SimTime::from_nanos(e.time))
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
