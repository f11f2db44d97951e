//! The state of a `queue` component, without the engine: a bounded FIFO
//! buffer of messages, an overflow policy, a consumer concurrency limit and
//! the queue's own measurements.
//!
//! A message here is an opaque id (the engine's internal request that carries
//! it) with its enqueue time; this module never touches the request slab,
//! the scheduler or the network. The engine calls [`MessageQueue::offer`]
//! when a producer's message arrives, [`MessageQueue::next`] to pull a
//! message for a free consumer slot, and [`MessageQueue::done`] when a
//! consumer call returns.
//!
//! Capacity counts every message the queue holds: those waiting in the
//! buffer *and* those delivered to a consumer but not yet acknowledged
//! (a message leaves the queue only when its consumer call returns, as with
//! SQS in-flight messages). With one consumer slot in front of a
//! single-worker server, `capacity: K` is therefore exactly M/M/1/K.

use std::collections::VecDeque;

use sysdes_kernel::{SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, TimeAverage};

use crate::spec::QueueOverflow;

/// A message held by the queue: the id of the internal request carrying it
/// and when it was enqueued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    /// The internal request that carries the message.
    pub(crate) id: u32,
    /// When the message entered the queue.
    pub(crate) enqueued: SimTime,
    /// Whether its producer's request is counted in the results.
    pub(crate) counted: bool,
}

/// What happened to an offered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Enqueued; acknowledge the producer.
    Accepted,
    /// Enqueued, and the oldest waiting message was evicted to make room
    /// (`drop_head`): acknowledge the producer and discard the evicted one.
    AcceptedEvicting(Message),
    /// Refused (`drop_tail`, or `drop_head` with nothing waiting to evict):
    /// answer the producer with `dropped`.
    Refused,
    /// Full under `back_pressure`: hold the producer un-acknowledged; its id
    /// comes back from [`MessageQueue::unblock`] when there is room.
    Blocked,
}

/// Level index of messages waiting in the buffer.
const WAITING: usize = 0;
/// Level index of messages delivered to a consumer and not yet acknowledged.
const IN_FLIGHT: usize = 1;
/// Level index of producers held by back-pressure.
const BLOCKED: usize = 2;

/// A bounded FIFO message buffer with consumers and measurements.
#[derive(Debug)]
pub(crate) struct MessageQueue {
    /// Most messages held (waiting + in flight); `u32::MAX` if unbounded.
    capacity: u32,
    overflow: QueueOverflow,
    /// Most messages in flight to consumers at once.
    concurrency: u32,
    buffer: VecDeque<Message>,
    in_flight: u32,
    /// Producer requests held by back-pressure, oldest first.
    blocked: VecDeque<u32>,
    /// Counted messages offered by producers (accepted or not).
    pub(crate) offered: u64,
    /// Counted messages accepted into the queue.
    pub(crate) enqueued: u64,
    /// Counted messages refused or evicted.
    pub(crate) dropped: u64,
    /// Counted messages whose consumer call returned.
    pub(crate) consumed: u64,
    /// Counted producer requests that had to wait under back-pressure.
    pub(crate) blocked_producers: u64,
    /// Enqueue to consumer done, counted messages.
    pub(crate) latency: LatencyHistogram,
    /// Enqueue to delivery to a consumer, counted messages.
    pub(crate) wait: LatencyHistogram,
    /// Levels `[WAITING, IN_FLIGHT, BLOCKED]` over the window.
    pub(crate) levels: TimeAverage<3>,
}

impl MessageQueue {
    /// An empty queue; `capacity` `None` is unbounded. `concurrency` and a
    /// given `capacity` must be at least 1 (the builder checks).
    pub(crate) fn new(
        capacity: Option<u32>,
        overflow: QueueOverflow,
        concurrency: u32,
        window_start: SimTime,
        window_end: SimTime,
    ) -> Self {
        MessageQueue {
            capacity: capacity.unwrap_or(u32::MAX),
            overflow,
            concurrency,
            buffer: VecDeque::with_capacity(capacity.map_or(64, |c| c.min(1 << 16) as usize)),
            in_flight: 0,
            blocked: VecDeque::new(),
            offered: 0,
            enqueued: 0,
            dropped: 0,
            consumed: 0,
            blocked_producers: 0,
            latency: LatencyHistogram::new(),
            wait: LatencyHistogram::new(),
            levels: TimeAverage::new(window_start, window_end),
        }
    }

    /// Messages held: waiting plus in flight to consumers.
    #[inline]
    fn held(&self) -> u32 {
        self.buffer.len() as u32 + self.in_flight
    }

    /// Messages waiting in the buffer (the queue's depth).
    #[inline]
    pub(crate) fn depth(&self) -> usize {
        self.buffer.len()
    }

    /// Messages delivered to consumers and not yet acknowledged.
    #[inline]
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The consumer concurrency limit.
    pub(crate) fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// Producers currently held by back-pressure.
    #[inline]
    pub(crate) fn blocked(&self) -> usize {
        self.blocked.len()
    }

    /// Age of the oldest waiting message at `now` (zero if none waits).
    pub(crate) fn oldest_age(&self, now: SimTime) -> SimDuration {
        self.buffer
            .front()
            .map_or(SimDuration::ZERO, |m| now.saturating_since(m.enqueued))
    }

    #[inline]
    fn record_levels(&mut self, now: SimTime) {
        self.levels.set(
            now,
            [
                self.buffer.len() as u64,
                u64::from(self.in_flight),
                self.blocked.len() as u64,
            ],
        );
    }

    /// A producer's message `msg` arrives; `producer` is the producer's
    /// request id, kept if back-pressure holds it.
    ///
    /// Under `back_pressure` the caller creates the message only once it is
    /// accepted, so `msg.id` is ignored when the answer is
    /// [`Offer::Blocked`].
    pub(crate) fn offer(&mut self, now: SimTime, msg: Message, producer: u32) -> Offer {
        if msg.counted {
            self.offered += 1;
        }
        let full = self.held() >= self.capacity;
        let answer = if !full && self.blocked.is_empty() {
            self.push(msg);
            Offer::Accepted
        } else {
            match self.overflow {
                QueueOverflow::DropTail => Offer::Refused,
                QueueOverflow::DropHead => match self.buffer.pop_front() {
                    Some(old) => {
                        if old.counted {
                            self.dropped += 1;
                        }
                        self.push(msg);
                        Offer::AcceptedEvicting(old)
                    }
                    None => Offer::Refused,
                },
                QueueOverflow::BackPressure => {
                    if msg.counted {
                        self.blocked_producers += 1;
                    }
                    self.blocked.push_back(producer);
                    Offer::Blocked
                }
            }
        };
        if answer == Offer::Refused && msg.counted {
            self.dropped += 1;
        }
        self.record_levels(now);
        answer
    }

    fn push(&mut self, msg: Message) {
        if msg.counted {
            self.enqueued += 1;
        }
        self.buffer.push_back(msg);
    }

    /// Under back-pressure, the oldest held producer if there is now room
    /// for its message. The caller creates the message and offers it (it is
    /// then accepted) and acknowledges the producer.
    pub(crate) fn unblock(&mut self, now: SimTime) -> Option<u32> {
        if self.held() >= self.capacity {
            return None;
        }
        let producer = self.blocked.pop_front()?;
        self.record_levels(now);
        Some(producer)
    }

    /// Accepts a message from a producer released by [`Self::unblock`]
    /// (there is room by construction); counted in `enqueued` but not again
    /// in `offered`.
    pub(crate) fn admit_unblocked(&mut self, now: SimTime, msg: Message) {
        debug_assert!(self.held() < self.capacity);
        self.push(msg);
        self.record_levels(now);
    }

    /// The next message for a consumer if a consumer slot is free.
    pub(crate) fn next(&mut self, now: SimTime) -> Option<Message> {
        if self.in_flight >= self.concurrency {
            return None;
        }
        let msg = self.buffer.pop_front()?;
        self.in_flight += 1;
        if msg.counted {
            self.wait.record(now - msg.enqueued);
        }
        self.record_levels(now);
        Some(msg)
    }

    /// A consumer call for a message enqueued at `enqueued` returned: its
    /// slot frees. The caller then calls [`Self::unblock`] and [`Self::next`].
    pub(crate) fn done(&mut self, now: SimTime, enqueued: SimTime, counted: bool) {
        debug_assert!(self.in_flight > 0);
        self.in_flight -= 1;
        if counted {
            self.consumed += 1;
            self.latency.record(now - enqueued);
        }
        self.record_levels(now);
    }

    /// Time-average depth (messages waiting) over the window.
    pub(crate) fn mean_depth(&self) -> f64 {
        self.levels.mean(WAITING)
    }

    /// Largest depth ever reached.
    pub(crate) fn max_depth(&self) -> u64 {
        self.levels.peak(WAITING)
    }

    /// Time-average number held (waiting + in flight) over the window.
    pub(crate) fn mean_held(&self) -> f64 {
        self.levels.mean(WAITING) + self.levels.mean(IN_FLIGHT)
    }

    /// Time-average number of messages in flight to consumers.
    pub(crate) fn mean_in_flight(&self) -> f64 {
        self.levels.mean(IN_FLIGHT)
    }

    /// Time-average number of producers held by back-pressure.
    pub(crate) fn mean_blocked(&self) -> f64 {
        self.levels.mean(BLOCKED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    fn msg(id: u32, at: u64) -> Message {
        Message {
            id,
            enqueued: t(at),
            counted: true,
        }
    }

    fn queue(capacity: Option<u32>, overflow: QueueOverflow, concurrency: u32) -> MessageQueue {
        MessageQueue::new(capacity, overflow, concurrency, t(0), t(1_000))
    }

    #[test]
    fn fifo_with_a_concurrency_limit() {
        let mut q = queue(None, QueueOverflow::DropTail, 2);
        for i in 0..4 {
            assert_eq!(q.offer(t(i), msg(i as u32, i), 100), Offer::Accepted);
        }
        assert_eq!(q.next(t(5)).map(|m| m.id), Some(0));
        assert_eq!(q.next(t(5)).map(|m| m.id), Some(1));
        assert_eq!(q.next(t(5)), None, "both slots busy");
        q.done(t(10), t(0), true);
        assert_eq!(q.next(t(10)).map(|m| m.id), Some(2));
        assert_eq!((q.depth(), q.in_flight()), (1, 2));
        assert_eq!((q.enqueued, q.consumed, q.dropped), (4, 1, 0));
        assert_eq!(q.latency.max_ns(), 10);
    }

    #[test]
    fn capacity_counts_messages_in_flight() {
        let mut q = queue(Some(2), QueueOverflow::DropTail, 1);
        assert_eq!(q.offer(t(0), msg(0, 0), 100), Offer::Accepted);
        assert_eq!(q.next(t(0)).map(|m| m.id), Some(0));
        assert_eq!(q.offer(t(1), msg(1, 1), 101), Offer::Accepted);
        // One in flight and one waiting: full.
        assert_eq!(q.offer(t(2), msg(2, 2), 102), Offer::Refused);
        assert_eq!((q.offered, q.enqueued, q.dropped), (3, 2, 1));
        q.done(t(3), t(0), true);
        assert_eq!(q.offer(t(4), msg(3, 4), 103), Offer::Accepted);
    }

    #[test]
    fn drop_head_evicts_the_oldest_waiting_message() {
        let mut q = queue(Some(3), QueueOverflow::DropHead, 1);
        for i in 0..3 {
            q.offer(t(i), msg(i as u32, i), 100);
        }
        assert_eq!(q.next(t(3)).map(|m| m.id), Some(0));
        // Full (1 in flight + 2 waiting): the oldest waiting (1) goes.
        assert_eq!(
            q.offer(t(4), msg(3, 4), 103),
            Offer::AcceptedEvicting(msg(1, 1))
        );
        assert_eq!(q.next(t(4)), None);
        q.done(t(5), t(0), true);
        assert_eq!(q.next(t(5)).map(|m| m.id), Some(2));
        assert_eq!((q.enqueued, q.dropped), (4, 1));
    }

    #[test]
    fn drop_head_with_nothing_waiting_refuses() {
        let mut q = queue(Some(1), QueueOverflow::DropHead, 1);
        q.offer(t(0), msg(0, 0), 100);
        q.next(t(0));
        assert_eq!(q.offer(t(1), msg(1, 1), 101), Offer::Refused);
        assert_eq!(q.dropped, 1);
    }

    #[test]
    fn back_pressure_holds_producers_in_order() {
        let mut q = queue(Some(1), QueueOverflow::BackPressure, 1);
        assert_eq!(q.offer(t(0), msg(0, 0), 100), Offer::Accepted);
        assert_eq!(q.offer(t(1), msg(9, 1), 101), Offer::Blocked);
        assert_eq!(q.offer(t(2), msg(9, 2), 102), Offer::Blocked);
        assert_eq!(q.unblock(t(2)), None, "still full");
        assert_eq!(q.next(t(3)).map(|m| m.id), Some(0));
        assert_eq!(q.unblock(t(3)), None, "the message in flight still counts");
        q.done(t(4), t(0), true);
        assert_eq!(q.unblock(t(4)), Some(101));
        q.admit_unblocked(t(4), msg(1, 4));
        assert_eq!(q.unblock(t(4)), None);
        assert_eq!(q.blocked(), 1);
        assert_eq!((q.offered, q.enqueued, q.blocked_producers), (3, 2, 2));
    }

    #[test]
    fn back_pressure_keeps_order_while_producers_wait() {
        // Room appears, but a held producer is first in line.
        let mut q = queue(Some(1), QueueOverflow::BackPressure, 1);
        q.offer(t(0), msg(0, 0), 100);
        assert_eq!(q.offer(t(1), msg(9, 1), 101), Offer::Blocked);
        q.next(t(2));
        q.done(t(3), t(0), true);
        assert_eq!(q.offer(t(3), msg(9, 3), 102), Offer::Blocked);
        assert_eq!(q.unblock(t(3)), Some(101));
    }

    #[test]
    fn depth_time_average_and_oldest_age() {
        let mut q = queue(None, QueueOverflow::DropTail, 1);
        q.offer(t(0), msg(0, 0), 100);
        q.offer(t(0), msg(1, 0), 101);
        q.next(t(500)); // depth 2 for 500 ns, then 1
        assert_eq!(q.oldest_age(t(600)).as_nanos(), 600);
        assert_eq!(q.max_depth(), 2);
        // Depth 1 from 500 to the end of the window at 1000.
        assert!((q.mean_depth() - 1.5).abs() < 1e-12);
        assert!((q.mean_held() - 2.0).abs() < 1e-12);
    }
}
