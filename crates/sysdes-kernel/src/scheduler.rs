//! The clock, the pending-event set and cancellable timers, together.

use std::num::NonZeroU32;

use crate::{EventQueue, SimDuration, SimTime};

/// A handle to a cancellable event, returned by [`Scheduler::schedule_timer_at`].
///
/// A handle stays valid until its event fires or is cancelled; after that,
/// [`Scheduler::cancel`] on it is a harmless no-op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId {
    slot: u32,
    /// Never zero, so `Option<TimerId>` is as small as `TimerId`.
    generation: NonZeroU32,
}

/// What the queue stores: the event and, for timers, the handle that must
/// still be live when it pops.
#[derive(Clone, Copy, Debug)]
struct Pending<E> {
    timer: Option<TimerId>,
    event: E,
}

/// The simulation clock and the events waiting to happen.
///
/// [`Scheduler::pop`] advances the clock to the next event and never moves it
/// backwards. Timers are cancelled lazily: a cancelled timer's entry stays in
/// the queue until its time comes and is then skipped, which keeps
/// cancellation O(1). Timer slots are recycled through a free list, so steady
/// state allocates nothing.
#[derive(Debug)]
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<Pending<E>>,
    /// Current generation of each timer slot; an entry is live only if its
    /// generation matches.
    generations: Vec<NonZeroU32>,
    free_slots: Vec<u32>,
    delivered: u64,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    /// A scheduler at time zero with nothing pending.
    pub fn new() -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::with_capacity(1024),
            generations: Vec::new(),
            free_slots: Vec::new(),
            delivered: 0,
        }
    }

    /// The current simulated time: the time of the last event popped.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events delivered so far (cancelled timers not included).
    #[inline]
    pub fn events_delivered(&self) -> u64 {
        self.delivered
    }

    /// Number of queued entries, including cancelled timers not yet skipped.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The time of the next queued entry, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Schedules `event` at `time`. A time in the past is treated as now: the
    /// clock never runs backwards.
    #[inline(always)]
    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        debug_assert!(time >= self.now, "event scheduled in the past");
        self.queue
            .push(time.max(self.now), Pending { timer: None, event });
    }

    /// Schedules `event` after `delay`.
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue
            .push(self.now + delay, Pending { timer: None, event });
    }

    /// Schedules `event` at `time` and returns a handle that can cancel it.
    pub fn schedule_timer_at(&mut self, time: SimTime, event: E) -> TimerId {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.generations.push(NonZeroU32::MIN);
                u32::try_from(self.generations.len() - 1).expect("more than 2^32 live timers")
            }
        };
        let timer = TimerId {
            slot,
            generation: self.generations[slot as usize],
        };
        self.queue.push(
            time.max(self.now),
            Pending {
                timer: Some(timer),
                event,
            },
        );
        timer
    }

    /// Schedules `event` after `delay` and returns a handle that can cancel it.
    pub fn schedule_timer_in(&mut self, delay: SimDuration, event: E) -> TimerId {
        self.schedule_timer_at(self.now + delay, event)
    }

    /// Cancels a timer. Returns whether it was still pending.
    pub fn cancel(&mut self, timer: TimerId) -> bool {
        self.release(timer)
    }

    /// Ends a timer's life: bumps its slot's generation so that any queued
    /// entry for it is stale, and frees the slot. Returns whether it was live.
    fn release(&mut self, timer: TimerId) -> bool {
        let generation = &mut self.generations[timer.slot as usize];
        if *generation != timer.generation {
            return false;
        }
        // Wraps after 2^32 - 1 reuses of one slot, skipping zero.
        *generation = generation.checked_add(1).unwrap_or(NonZeroU32::MIN);
        self.free_slots.push(timer.slot);
        true
    }

    /// Removes the next live event, advances the clock to its time and
    /// returns it. Returns `None` when nothing is pending.
    #[inline]
    pub fn pop(&mut self) -> Option<E> {
        loop {
            let (time, pending) = self.queue.pop()?;
            if let Some(timer) = pending.timer {
                if !self.release(timer) {
                    continue;
                }
            }
            debug_assert!(time >= self.now);
            self.now = time;
            self.delivered += 1;
            return Some(pending.event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cancelled_timers_never_fire_and_slots_are_reused() {
        let mut s = Scheduler::new();
        let a = s.schedule_timer_in(SimDuration::from_nanos(10), 'a');
        let b = s.schedule_timer_in(SimDuration::from_nanos(20), 'b');
        assert!(s.cancel(a));
        assert!(!s.cancel(a), "second cancel is a no-op");
        // The freed slot is reused; the stale entry for `a` must not match it.
        let c = s.schedule_timer_in(SimDuration::from_nanos(30), 'c');
        assert_eq!(c.slot, a.slot);
        assert_eq!(s.pop(), Some('b'));
        assert!(!s.cancel(b), "a fired timer cannot be cancelled");
        assert_eq!(s.pop(), Some('c'));
        assert_eq!(s.now(), SimTime::from_nanos(30));
        assert_eq!(s.pop(), None);
        assert_eq!(s.events_delivered(), 2);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Schedule(u64),
        Timer(u64),
        Cancel(usize),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..1000).prop_map(Op::Schedule),
            (0u64..1000).prop_map(Op::Timer),
            (0usize..64).prop_map(Op::Cancel),
            Just(Op::Pop),
        ]
    }

    proptest! {
        /// The clock never goes back; every live event is delivered exactly
        /// once and no cancelled one is.
        #[test]
        fn time_is_monotone_and_cancellation_is_exact(ops in proptest::collection::vec(op(), 0..400)) {
            let mut s = Scheduler::new();
            let mut timers = Vec::new();
            let mut live = std::collections::BTreeSet::new();
            let mut delivered = Vec::new();
            let mut next = 0u32;
            let mut last = SimTime::ZERO;
            let mut check_pop = |s: &mut Scheduler<u32>, live: &mut std::collections::BTreeSet<u32>, delivered: &mut Vec<u32>| {
                if let Some(e) = s.pop() {
                    prop_assert!(s.now() >= last);
                    last = s.now();
                    prop_assert!(live.remove(&e), "event {} delivered but not live", e);
                    delivered.push(e);
                }
                Ok(())
            };
            for op in ops {
                match op {
                    Op::Schedule(d) => { s.schedule_in(SimDuration::from_nanos(d), next); live.insert(next); next += 1; }
                    Op::Timer(d) => { timers.push((s.schedule_timer_in(SimDuration::from_nanos(d), next), next)); live.insert(next); next += 1; }
                    Op::Cancel(i) => if let Some(&(t, e)) = timers.get(i) {
                        if s.cancel(t) { prop_assert!(live.remove(&e)); }
                    },
                    Op::Pop => check_pop(&mut s, &mut live, &mut delivered)?,
                }
            }
            while s.peek_time().is_some() { check_pop(&mut s, &mut live, &mut delivered)?; }
            prop_assert!(live.is_empty(), "live events never delivered: {:?}", live);
        }
    }
}
