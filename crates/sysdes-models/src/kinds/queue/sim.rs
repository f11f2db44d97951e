//! `type: queue` in the engine: a producer's request is acknowledged as soon
//! as its message is enqueued; the message lives on as an internal request
//! owned by the queue, and consumer slots send each message to the consumer
//! with [`Simulation::call`]. The buffer logic is in
//! [`crate::kinds::queue`].
//!
//! A `crash` fault takes the broker down: producers held by back-pressure
//! fail at the crash, every message sent while it is down fails at once
//! (both counted in `lost_in_crash`), and consumers take nothing new;
//! messages it holds are durable and go out after the restart, and
//! deliveries already out finish. It has no service time of its own, so a
//! `slowdown` does not apply (the loader says so).

use sysdes_kernel::{ComponentId, SimTime};

use crate::error::RunError;
use crate::figures::QueueFigures;
use crate::kinds::queue::{Message, MessageQueue, Offer};
use crate::kinds::{QueueId, Resolved};
use crate::request::{NewRequest, Origin, Outcome, RequestId};
use crate::simulation::Simulation;
use crate::spec::{QueueOverflow, QueueSpec};
use crate::station::FaultState;

/// A queue component: the buffer and where its messages go.
#[derive(Debug)]
pub(crate) struct QueueComponent {
    pub(crate) queue: MessageQueue,
    consumer: ComponentId,
    overflow: QueueOverflow,
    /// Consumer calls that came back dropped or failed (counted messages).
    consumer_errors: u64,
    /// Crash state (see the module's doc).
    faults: FaultState,
}

impl QueueComponent {
    /// A queue as `spec` describes, measuring over `[window_start, window_end)`.
    pub(crate) fn new(spec: &QueueSpec, window_start: SimTime, window_end: SimTime) -> Self {
        QueueComponent {
            queue: MessageQueue::new(
                spec.capacity,
                spec.overflow,
                spec.concurrency.max(1),
                window_start,
                window_end,
            ),
            consumer: spec.consumer,
            overflow: spec.overflow,
            consumer_errors: 0,
            faults: FaultState::new(None),
        }
    }

    /// Figures reported beside the common ones.
    pub(crate) fn figures(&self) -> QueueFigures {
        let q = &self.queue;
        let m = &q.metrics;
        let back_pressure = self.overflow == QueueOverflow::BackPressure;
        QueueFigures {
            messages_enqueued: q.enqueued,
            messages_dropped: m.drops,
            messages_consumed: m.completions,
            message_latency_mean_ms: m.latency.mean_ns() / 1e6,
            message_latency_p99_ms: m.latency.quantile_ns(0.99) as f64 / 1e6,
            message_wait_mean_ms: q.wait.mean_ns() / 1e6,
            mean_depth: q.mean_depth(),
            max_depth: q.max_depth(),
            blocked_producers: back_pressure.then_some(q.blocked_producers),
            mean_blocked: back_pressure.then(|| q.mean_blocked()),
            consumer_errors: (self.consumer_errors > 0).then_some(self.consumer_errors),
        }
    }

    /// Appends the gauge names `NAME.depth` and `NAME.oldest_age_s`.
    pub(crate) fn gauge_names(name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.depth"));
        out.push(format!("{name}.oldest_age_s"));
    }

    /// Appends the gauges' values at `now`.
    pub(crate) fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        out.push(self.queue.depth() as f64);
        out.push(self.queue.oldest_age(now).as_secs_f64());
    }
}

impl Simulation {
    /// A producer's request `req` reaches queue `q`.
    pub(crate) fn queue_arrive(&mut self, q: QueueId, req: RequestId) {
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        let c = &mut self.components[q];
        if c.faults.crashed {
            if counted {
                c.queue.metrics.arrivals += 1;
                c.faults.lost_in_crash += 1;
            }
            self.requests[req].outcome = Outcome::Failed;
            self.respond(req);
            return;
        }
        match c.queue.offer(now, counted, req) {
            Offer::Accepted => self.enqueue_and_ack(q, req),
            Offer::AcceptedEvicting(old) => {
                self.requests.remove(old.id);
                self.enqueue_and_ack(q, req);
            }
            Offer::Refused => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
            Offer::Blocked => {}
        }
    }

    /// Creates the message for producer `req` (room was made), enqueues it,
    /// acknowledges the producer and lets a free consumer take it.
    fn enqueue_and_ack(&mut self, q: QueueId, req: RequestId) {
        let now = self.sched.now();
        let p = &self.requests[req];
        let (counted, version) = (p.counted, p.version);
        let msg = self.requests.insert(NewRequest {
            workload: p.workload,
            born: now,
            key: p.key,
            op: p.op,
            session: p.session,
            counted,
            origin: Origin::Internal,
            priority: p.priority,
        });
        self.requests[msg].version = version;
        self.components[q].queue.push(
            now,
            Message {
                id: msg,
                enqueued: now,
                counted,
            },
        );
        self.respond(req);
        self.queue_pump(q);
    }

    /// Fills free consumer slots with waiting messages (none while down).
    fn queue_pump(&mut self, q: QueueId) {
        let now = self.sched.now();
        let from = self.components.id(q);
        loop {
            let c = &mut self.components[q];
            if c.faults.crashed {
                return;
            }
            let consumer = c.consumer;
            let Some(msg) = c.queue.next(now) else {
                return;
            };
            self.call(from, consumer, msg.id, 0);
        }
    }

    /// A consumer call for the message `parent` returned: the message is
    /// consumed, its slot frees, a held producer may enter and the next
    /// message goes out.
    pub(crate) fn queue_call_returned(
        &mut self,
        q: QueueId,
        parent: Option<RequestId>,
        child: RequestId,
    ) {
        let now = self.sched.now();
        let failed = self.requests[child].outcome != Outcome::Ok;
        // The queue never frees a message while its consumer call is out.
        let Some(msg) = parent else {
            return;
        };
        let m = &self.requests[msg];
        let (enqueued, counted) = (m.born, m.counted);
        self.requests.remove(msg);
        let c = &mut self.components[q];
        c.queue.done(now, enqueued, counted);
        if failed && counted {
            c.consumer_errors += 1;
        }
        // None are held while the broker is down (a crash fails them).
        while let Some(producer) = self.components[q].queue.unblock(now) {
            self.enqueue_and_ack(q, producer);
        }
        self.queue_pump(q);
    }

    /// If a queue or stream holds most of what is in memory, the error
    /// naming it (an unbounded buffer whose consumers cannot keep up).
    pub(crate) fn backlog_unstable(&self) -> Option<RunError> {
        let c = &self.components;
        let (i, backlog, what) = (0..c.len())
            .filter_map(|i| match c.resolve(ComponentId(i as u32)) {
                Resolved::Queue(q) => Some((i, c[q].queue.backlog(), "messages held")),
                Resolved::Stream(s) => Some((i, c[s].backlog(), "messages unconsumed")),
                _ => None,
            })
            .max_by_key(|&(_, backlog, _)| backlog)?;
        let live = self.requests.live() as u64;
        (backlog * 2 > live).then(|| RunError::Unstable {
            component: self.spec.components[i].name.clone(),
            detail: format!("{backlog} {what}: its consumers cannot keep up"),
            in_flight: live,
            limit: self.max_in_flight,
            at_s: self.sched.now().as_secs_f64(),
        })
    }
}

impl Simulation {
    /// Queue `q`'s broker crashes: its back-pressured producers fail.
    fn queue_crash(&mut self, q: QueueId) {
        let now = self.sched.now();
        let c = &mut self.components[q];
        c.faults.crashed = true;
        let held = c.queue.crash(now);
        for &p in &held {
            if self.requests[p].counted {
                self.components[q].faults.lost_in_crash += 1;
            }
            self.requests[p].outcome = Outcome::Failed;
        }
        for p in held {
            self.respond(p);
        }
    }

    /// Queue `q`'s broker is back: consumers take what it kept.
    fn queue_restart(&mut self, q: QueueId) {
        let now = self.sched.now();
        self.components[q].faults.restart(now);
        self.queue_pump(q);
    }
}

impl crate::kinds::Kind for QueueComponent {
    type Spec = QueueSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        q: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        Ok(QueueComponent::new(q, ctx.window.0, ctx.window.1))
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.queue.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (
            crate::figures::ComponentType::Queue,
            self.queue.concurrency(),
        )
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Queue(self.figures())
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        QueueComponent::gauge_names(name, out);
    }

    fn fault_state(&mut self) -> Option<&mut FaultState> {
        Some(&mut self.faults)
    }

    fn lost_in_crash(&self) -> Option<u64> {
        self.faults.crashable.then_some(self.faults.lost_in_crash)
    }

    fn crash(sim: &mut Simulation, at: Self::Id) {
        sim.queue_crash(at);
    }

    fn restart(sim: &mut Simulation, at: Self::Id) {
        sim.queue_restart(at);
    }

    fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        QueueComponent::gauges(self, now, out);
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId) {
        sim.queue_arrive(at, req);
    }

    fn call_returned(
        sim: &mut Simulation,
        caller: Self::Id,
        parent: Option<RequestId>,
        child: RequestId,
        _: u32,
    ) {
        sim.queue_call_returned(caller, parent, child);
    }
}
