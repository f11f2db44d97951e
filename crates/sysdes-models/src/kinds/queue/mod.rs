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

pub(crate) mod figures;
pub(crate) mod sim;

use std::collections::VecDeque;

use sysdes_kernel::{SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, TimeAverage};

use crate::spec::QueueOverflow;
use crate::station::{StationMetrics, WAITING};

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

/// What happens to an offered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// There is room: create the message, [`MessageQueue::push`] it and
    /// acknowledge the producer.
    Accepted,
    /// The oldest waiting message was evicted to make room (`drop_head`):
    /// discard it, then as for [`Offer::Accepted`].
    AcceptedEvicting(Message),
    /// Refused (`drop_tail`, or `drop_head` with nothing waiting to evict):
    /// answer the producer with `dropped`.
    Refused,
    /// Full under `back_pressure`: hold the producer un-acknowledged; its id
    /// comes back from [`MessageQueue::unblock`] when there is room.
    Blocked,
}

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
    /// Counted messages accepted into the queue.
    pub(crate) enqueued: u64,
    /// Counted producer requests that had to wait under back-pressure.
    pub(crate) blocked_producers: u64,
    /// Enqueue to delivery to a consumer, counted messages.
    pub(crate) wait: LatencyHistogram,
    /// `arrivals` counts messages offered, `completions` messages consumed,
    /// `drops` messages refused or evicted; `latency` is enqueue to consumer
    /// done; levels are `[ACTIVE, WAITING]` = messages in flight to
    /// consumers, messages waiting (the depth).
    pub(crate) metrics: StationMetrics,
    /// Producers held by back-pressure, over the window.
    blocked_level: TimeAverage<1>,
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
            enqueued: 0,
            blocked_producers: 0,
            wait: LatencyHistogram::new(),
            metrics: StationMetrics::new(window_start, window_end),
            blocked_level: TimeAverage::new(window_start, window_end),
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

    /// The broker crashed: the producers held by back-pressure are handed
    /// back (the caller fails them); the messages it holds are kept.
    pub(crate) fn crash(&mut self, now: SimTime) -> Vec<u32> {
        let held: Vec<u32> = self.blocked.drain(..).collect();
        self.blocked_level.set(now, [0]);
        held
    }

    /// Messages delivered to consumers and not yet acknowledged.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The consumer concurrency limit.
    pub(crate) fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// Producers currently held by back-pressure.
    #[cfg(test)]
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
        self.metrics
            .levels
            .set(now, [u64::from(self.in_flight), self.buffer.len() as u64]);
    }

    /// A producer's message arrives (`counted` if its producer's request is);
    /// `producer` is the producer's request id, kept if back-pressure holds
    /// it. On [`Offer::Accepted`] and [`Offer::AcceptedEvicting`] room is
    /// made and the caller must [`Self::push`] the message at once.
    pub(crate) fn offer(&mut self, now: SimTime, counted: bool, producer: u32) -> Offer {
        if counted {
            self.metrics.arrivals += 1;
        }
        let full = self.held() >= self.capacity;
        if !full && self.blocked.is_empty() {
            return Offer::Accepted;
        }
        let answer = match self.overflow {
            QueueOverflow::DropTail => Offer::Refused,
            QueueOverflow::DropHead => match self.buffer.pop_front() {
                Some(old) => {
                    if old.counted {
                        self.metrics.drops += 1;
                    }
                    Offer::AcceptedEvicting(old)
                }
                None => Offer::Refused,
            },
            QueueOverflow::BackPressure => {
                if counted {
                    self.blocked_producers += 1;
                }
                self.blocked.push_back(producer);
                self.blocked_level.set(now, [self.blocked.len() as u64]);
                Offer::Blocked
            }
        };
        if answer == Offer::Refused && counted {
            self.metrics.drops += 1;
        }
        self.record_levels(now);
        answer
    }

    /// Enqueues `msg`: after an accepting [`Self::offer`], or for a producer
    /// released by [`Self::unblock`].
    pub(crate) fn push(&mut self, now: SimTime, msg: Message) {
        debug_assert!(self.held() < self.capacity);
        if msg.counted {
            self.enqueued += 1;
        }
        self.buffer.push_back(msg);
        self.record_levels(now);
    }

    /// Under back-pressure, the oldest held producer if there is now room
    /// for its message. The caller creates the message, [`Self::push`]es it
    /// and acknowledges the producer.
    pub(crate) fn unblock(&mut self, now: SimTime) -> Option<u32> {
        if self.held() >= self.capacity {
            return None;
        }
        let producer = self.blocked.pop_front()?;
        self.blocked_level.set(now, [self.blocked.len() as u64]);
        Some(producer)
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
            self.metrics.completions += 1;
            self.metrics.latency.record(now - enqueued);
        }
        self.record_levels(now);
    }

    /// Time-average depth (messages waiting) over the window.
    pub(crate) fn mean_depth(&self) -> f64 {
        self.metrics.levels.mean(WAITING)
    }

    /// Largest depth ever reached.
    pub(crate) fn max_depth(&self) -> u64 {
        self.metrics.levels.peak(WAITING)
    }

    /// Time-average number held (waiting + in flight) over the window.
    #[cfg(test)]
    pub(crate) fn mean_held(&self) -> f64 {
        self.metrics.mean_in_system()
    }

    /// Time-average number of producers held by back-pressure.
    pub(crate) fn mean_blocked(&self) -> f64 {
        self.blocked_level.mean(0)
    }

    /// Messages held plus producers held: what this queue keeps in memory.
    pub(crate) fn backlog(&self) -> u64 {
        u64::from(self.held()) + self.blocked.len() as u64
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

    /// Offers message `id` at `at` from producer `100 + id`, pushing it if accepted.
    fn offer(q: &mut MessageQueue, id: u32, at: u64) -> Offer {
        let answer = q.offer(t(at), true, 100 + id);
        if matches!(answer, Offer::Accepted | Offer::AcceptedEvicting(_)) {
            q.push(t(at), msg(id, at));
        }
        answer
    }

    #[test]
    fn fifo_with_a_concurrency_limit() {
        let mut q = queue(None, QueueOverflow::DropTail, 2);
        for i in 0..4 {
            assert_eq!(offer(&mut q, i, u64::from(i)), Offer::Accepted);
        }
        assert_eq!(q.next(t(5)).map(|m| m.id), Some(0));
        assert_eq!(q.next(t(5)).map(|m| m.id), Some(1));
        assert_eq!(q.next(t(5)), None, "both slots busy");
        q.done(t(10), t(0), true);
        assert_eq!(q.next(t(10)).map(|m| m.id), Some(2));
        assert_eq!((q.depth(), q.in_flight()), (1, 2));
        assert_eq!(
            (q.enqueued, q.metrics.completions, q.metrics.drops),
            (4, 1, 0)
        );
        assert_eq!(q.metrics.latency.max_ns(), 10);
    }

    #[test]
    fn capacity_counts_messages_in_flight() {
        let mut q = queue(Some(2), QueueOverflow::DropTail, 1);
        assert_eq!(offer(&mut q, 0, 0), Offer::Accepted);
        assert_eq!(q.next(t(0)).map(|m| m.id), Some(0));
        assert_eq!(offer(&mut q, 1, 1), Offer::Accepted);
        // One in flight and one waiting: full.
        assert_eq!(offer(&mut q, 2, 2), Offer::Refused);
        assert_eq!((q.metrics.arrivals, q.enqueued, q.metrics.drops), (3, 2, 1));
        q.done(t(3), t(0), true);
        assert_eq!(offer(&mut q, 3, 4), Offer::Accepted);
    }

    #[test]
    fn drop_head_evicts_the_oldest_waiting_message() {
        let mut q = queue(Some(3), QueueOverflow::DropHead, 1);
        for i in 0..3 {
            offer(&mut q, i, u64::from(i));
        }
        assert_eq!(q.next(t(3)).map(|m| m.id), Some(0));
        // Full (1 in flight + 2 waiting): the oldest waiting (1) goes.
        assert_eq!(offer(&mut q, 3, 4), Offer::AcceptedEvicting(msg(1, 1)));
        assert_eq!(q.next(t(4)), None);
        q.done(t(5), t(0), true);
        assert_eq!(q.next(t(5)).map(|m| m.id), Some(2));
        assert_eq!((q.enqueued, q.metrics.drops), (4, 1));
    }

    #[test]
    fn drop_head_with_nothing_waiting_refuses() {
        let mut q = queue(Some(1), QueueOverflow::DropHead, 1);
        offer(&mut q, 0, 0);
        q.next(t(0));
        assert_eq!(offer(&mut q, 1, 1), Offer::Refused);
        assert_eq!(q.metrics.drops, 1);
    }

    #[test]
    fn back_pressure_holds_producers_in_order() {
        let mut q = queue(Some(1), QueueOverflow::BackPressure, 1);
        assert_eq!(offer(&mut q, 0, 0), Offer::Accepted);
        assert_eq!(offer(&mut q, 1, 1), Offer::Blocked);
        assert_eq!(offer(&mut q, 2, 2), Offer::Blocked);
        assert_eq!(q.unblock(t(2)), None, "still full");
        assert_eq!(q.next(t(3)).map(|m| m.id), Some(0));
        assert_eq!(q.unblock(t(3)), None, "the message in flight still counts");
        q.done(t(4), t(0), true);
        assert_eq!(q.unblock(t(4)), Some(101));
        q.push(t(4), msg(1, 4));
        assert_eq!(q.unblock(t(4)), None);
        assert_eq!(q.blocked(), 1);
        assert_eq!(
            (q.metrics.arrivals, q.enqueued, q.blocked_producers),
            (3, 2, 2)
        );
        assert_eq!(q.backlog(), 2);
    }

    #[test]
    fn back_pressure_keeps_order_while_producers_wait() {
        // Room appears, but a held producer is first in line.
        let mut q = queue(Some(1), QueueOverflow::BackPressure, 1);
        offer(&mut q, 0, 0);
        assert_eq!(offer(&mut q, 1, 1), Offer::Blocked);
        q.next(t(2));
        q.done(t(3), t(0), true);
        assert_eq!(offer(&mut q, 2, 3), Offer::Blocked);
        assert_eq!(q.unblock(t(3)), Some(101));
    }

    #[test]
    fn depth_time_average_and_oldest_age() {
        let mut q = queue(None, QueueOverflow::DropTail, 1);
        offer(&mut q, 0, 0);
        offer(&mut q, 1, 0);
        q.next(t(500)); // depth 2 for 500 ns, then 1
        assert_eq!(q.oldest_age(t(600)).as_nanos(), 600);
        assert_eq!(q.max_depth(), 2);
        // Depth 1 from 500 to the end of the window at 1000.
        assert!((q.mean_depth() - 1.5).abs() < 1e-12);
        assert!((q.mean_held() - 2.0).abs() < 1e-12);
    }
}
