//! `type: stream` in the engine: a producer's message is appended to its
//! key's partition and acknowledged at once; for each consumer group and
//! partition, one consumer takes the partition's messages in order and sends
//! each to the group's target with [`Simulation::call`]. The log itself is
//! in [`crate::kinds::stream`].
//!
//! A delivery is an internal request created from the log entry when the
//! consumer takes it and freed when its call returns, so the slab holds at
//! most one message per (group, partition); the log holds the rest.
//!
//! A `crash` fault takes the broker down: every append while it is down
//! fails at once (counted in `lost_in_crash`) and consumers take nothing
//! new; the log is durable, deliveries already out finish, and after the
//! restart every group's consumers resume where they were. It has no
//! service time of its own, so a `slowdown` does not apply (the loader
//! says so).

use sysdes_kernel::{ComponentId, SimTime};

use crate::kinds::StreamId;

use crate::error::RunError;
use crate::figures::{GroupFigures, StreamFigures};
use crate::kinds::stream::{Entry, StreamLog};
use crate::request::Outcome;
use crate::request::{NewRequest, Op, Origin, RequestId};
use crate::simulation::{Event, Simulation};
use crate::spec::StreamSpec;
use crate::station::{FaultState, StationMetrics};

kind_events! {
    /// A stream's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    stream_events {
        /// A stream's consumer group that starts late starts (replays the log).
        StreamStart { stream: crate::kinds::StreamId, group: u32 } => stream_group_start @ stream,
    }
}

/// What a log entry keeps of its producer's request to re-create it for
/// each delivery.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Payload {
    workload: u32,
    key: u64,
    op: Op,
    session: u32,
    version: u64,
    priority: u8,
}

/// A stream component: the log, each group's target, and measurements.
#[derive(Debug)]
pub(crate) struct StreamComponent {
    log: StreamLog<Payload>,
    targets: Vec<ComponentId>,
    group_names: Vec<String>,
    /// Each group's start, if it starts late.
    starts: Vec<Option<SimTime>>,
    /// Consumers busy with a message, over all groups and partitions.
    busy: u64,
    /// `arrivals` counts messages appended, `completions` deliveries
    /// consumed (one per group per message), `latency` append to consumer
    /// done over all groups; levels `[ACTIVE, WAITING]` = consumers busy,
    /// unconsumed messages not yet taken summed over groups.
    pub(crate) metrics: StationMetrics,
    /// Crash state (see the module's doc).
    faults: FaultState,
}

impl StreamComponent {
    /// A stream as `spec` describes, measuring over `[window_start, window_end)`.
    pub(crate) fn new(spec: &StreamSpec, window_start: SimTime, window_end: SimTime) -> Self {
        let mut log = StreamLog::new(
            spec.partitions,
            spec.groups.len(),
            spec.retention,
            window_start,
            window_end,
        );
        let starts: Vec<Option<SimTime>> = spec
            .groups
            .iter()
            .map(|g| g.start.map(|s| SimTime::ZERO + s))
            .collect();
        for (g, at) in starts.iter().enumerate() {
            if let Some(at) = *at {
                log.set_start(g, at);
            }
        }
        StreamComponent {
            log,
            starts,
            targets: spec.groups.iter().map(|g| g.target).collect(),
            group_names: spec.groups.iter().map(|g| g.name.clone()).collect(),
            busy: 0,
            metrics: StationMetrics::new(window_start, window_end),
            faults: FaultState::new(None),
        }
    }

    /// Parallel consumers: one per group and partition.
    pub(crate) fn consumers(&self) -> u32 {
        self.log.partitions() * self.targets.len() as u32
    }

    /// Entries the log holds: what this stream keeps in memory.
    pub(crate) fn backlog(&self) -> u64 {
        self.log.held() as u64
    }

    fn record_levels(&mut self, now: SimTime) {
        let lag: u64 = self.log.groups.iter().map(|g| g.lag()).sum();
        self.metrics
            .levels
            .set(now, [self.busy, lag.saturating_sub(self.busy)]);
    }

    /// Figures reported beside the common ones.
    pub(crate) fn figures(&self) -> StreamFigures {
        StreamFigures {
            messages_appended: self.log.appended,
            peak_retained: self.log.peak_held() as u64,
            groups: self
                .log
                .groups
                .iter()
                .zip(&self.group_names)
                .zip(&self.starts)
                .map(|((g, name), &start)| GroupFigures {
                    group: name.clone(),
                    consumed: g.consumed,
                    expired: g.expired,
                    lag_mean: g.lag_level.mean(0),
                    lag_max: g.lag_level.peak(0),
                    lag_s_mean: g.lag_age.mean_s(),
                    lag_s_max: g.lag_age.max_s(),
                    latency_mean_ms: g.latency.mean_ns() / 1e6,
                    latency_p99_ms: g.latency.quantile_ns(0.99) as f64 / 1e6,
                    start_s: start.map(|s| s.as_secs_f64()),
                    backlog_at_start: g.backlog_at_start,
                    caught_up_s: start
                        .zip(g.caught_up_at)
                        .map(|(s, c)| c.saturating_since(s).as_secs_f64()),
                })
                .collect(),
        }
    }

    /// Appends `NAME.GROUP.lag` and `NAME.GROUP.lag_s` for each group.
    pub(crate) fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        for g in &self.group_names {
            out.push(format!("{name}.{g}.lag"));
            out.push(format!("{name}.{g}.lag_s"));
        }
    }

    /// Appends the gauges' values at `now`.
    pub(crate) fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        for g in &self.log.groups {
            out.push(g.lag() as f64);
            out.push(g.lag_age.age(now).as_secs_f64());
        }
    }
}

impl Simulation {
    /// Schedules the start of every consumer group that starts late (and
    /// within the run).
    pub(crate) fn stream_start(&mut self) {
        for i in 0..self.components.stream.items.len() {
            let stream = StreamId(i as u32);
            for g in 0..self.components[stream].starts.len() {
                if let Some(at) = self.components[stream].starts[g] {
                    if at < self.window_end {
                        self.sched.schedule_at(
                            at,
                            Event::StreamStart {
                                stream,
                                group: g as u32,
                            },
                        );
                    }
                }
            }
        }
    }

    /// Consumer group `group` of stream `s` starts: it replays the log from
    /// the oldest message it still holds, on every partition.
    pub(crate) fn stream_group_start(&mut self, s: StreamId, group: u32) {
        let now = self.sched.now();
        let c = &mut self.components[s];
        c.log.start_group(now, group as usize);
        c.record_levels(now);
        for p in 0..c.log.partitions() {
            self.stream_pump(s, group as usize, p);
        }
    }

    /// A producer's request `req` reaches stream `s`: append, acknowledge,
    /// and wake every group's consumer on that partition.
    pub(crate) fn stream_arrive(&mut self, s: StreamId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (key, counted) = (r.key, r.counted);
        let entry = Entry {
            appended: now,
            counted,
            payload: Payload {
                workload: r.workload,
                key,
                op: r.op,
                session: r.session,
                version: r.version,
                priority: r.priority,
            },
        };
        let max_in_flight = self.max_in_flight;
        let c = &mut self.components[s];
        if counted {
            c.metrics.arrivals += 1;
        }
        if c.faults.crashed {
            c.faults.lost_in_crash += u64::from(counted);
            self.requests[req].outcome = Outcome::Failed;
            self.respond(req);
            return;
        }
        let partition = c.log.append(now, key, entry);
        c.record_levels(now);
        let groups = c.targets.len();
        if c.backlog() > max_in_flight {
            let detail = format!(
                "{} messages unconsumed in the log; consumers cannot keep up",
                c.backlog()
            );
            self.unstable = Some(RunError::Unstable {
                component: self.spec.components[self.components.id(s).index()]
                    .name
                    .clone(),
                detail,
                in_flight: self.requests.live() as u64,
                limit: max_in_flight,
                at_s: now.as_secs_f64(),
            });
        }
        self.respond(req);
        for g in 0..groups {
            self.stream_pump(s, g, partition);
        }
    }

    /// Gives group `g`'s consumer on `partition` its next message if it is
    /// idle (nothing while the broker is down).
    fn stream_pump(&mut self, s: StreamId, g: usize, partition: u32) {
        let now = self.sched.now();
        let c = &mut self.components[s];
        if c.faults.crashed {
            return;
        }
        let Some(entry) = c.log.next(now, g, partition) else {
            c.record_levels(now);
            return;
        };
        c.busy += 1;
        c.record_levels(now);
        let target = c.targets[g];
        let tag = g as u32 * c.log.partitions() + partition;
        let p = entry.payload;
        let msg = self.requests.insert(NewRequest {
            workload: p.workload,
            born: entry.appended,
            key: p.key,
            op: p.op,
            session: p.session,
            counted: entry.counted,
            origin: Origin::Internal,
            priority: p.priority,
        });
        self.requests[msg].version = p.version;
        let from = self.components.id(s);
        self.call(from, target, msg, tag);
    }

    /// A consumer call returned: the group's consumer on that partition is
    /// done with the message and takes the next one.
    pub(crate) fn stream_call_returned(
        &mut self,
        s: StreamId,
        parent: Option<RequestId>,
        _child: RequestId,
        tag: u32,
    ) {
        let now = self.sched.now();
        // The stream never frees a delivery while its call is out.
        let Some(msg) = parent else {
            return;
        };
        let m = &self.requests[msg];
        let (appended, counted) = (m.born, m.counted);
        self.requests.remove(msg);
        let c = &mut self.components[s];
        let partitions = c.log.partitions();
        let (g, partition) = ((tag / partitions) as usize, tag % partitions);
        c.log.done(now, g, partition, appended, counted);
        c.busy -= 1;
        if counted {
            c.metrics.completions += 1;
            c.metrics.latency.record(now.saturating_since(appended));
        }
        c.record_levels(now);
        self.stream_pump(s, g, partition);
    }
}

impl Simulation {
    /// Stream `s`'s broker is back: every group's consumers resume.
    fn stream_restart(&mut self, s: StreamId) {
        let now = self.sched.now();
        let c = &mut self.components[s];
        c.faults.restart(now);
        let (groups, partitions) = (c.targets.len(), c.log.partitions());
        for g in 0..groups {
            for p in 0..partitions {
                self.stream_pump(s, g, p);
            }
        }
    }
}

impl crate::kinds::Kind for StreamComponent {
    type Spec = StreamSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        st: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        if st.groups.is_empty() {
            return Err(ctx.invalid("a stream needs a consumer group".into()));
        }
        Ok(StreamComponent::new(st, ctx.window.0, ctx.window.1))
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::Stream, self.consumers())
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Stream(self.figures())
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        StreamComponent::gauge_names(self, name, out);
    }

    fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        StreamComponent::gauges(self, now, out);
    }

    fn fault_state(&mut self) -> Option<&mut FaultState> {
        Some(&mut self.faults)
    }

    fn lost_in_crash(&self) -> Option<u64> {
        self.faults.crashable.then_some(self.faults.lost_in_crash)
    }

    /// Consumers stop taking messages; nothing inside fails.
    fn crash(sim: &mut Simulation, at: Self::Id) {
        sim.components[at].faults.crashed = true;
    }

    fn restart(sim: &mut Simulation, at: Self::Id) {
        sim.stream_restart(at);
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId) {
        sim.stream_arrive(at, req);
    }

    fn call_returned(
        sim: &mut Simulation,
        caller: Self::Id,
        parent: Option<RequestId>,
        child: RequestId,
        tag: u32,
    ) {
        sim.stream_call_returned(caller, parent, child, tag);
    }
}
