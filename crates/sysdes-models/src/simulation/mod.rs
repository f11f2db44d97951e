//! The assembled system and its event loop.
//!
//! `mod.rs` is the engine: events, the loop, workloads and clients (timeouts,
//! retries), the network hop, and the plumbing every component kind uses:
//! [`Simulation::call`] (a child request on behalf of a parent) and
//! [`Simulation::respond`] (answer the request a component holds). Each kind's
//! behaviour lives in its own submodule as an `impl Simulation` block.

mod loop_profile;

// Each kind's handlers live in its folder under `kinds/`; these names keep
// the engine's paths short.
pub(crate) use crate::kinds::model_server::llm_sim as llm_server;
pub(crate) use crate::kinds::replica_group::sim as group;
pub(crate) use crate::kinds::server::calls;

use rustc_hash::FxHashMap;
use sysdes_kernel::{ComponentId, ProgressGuard, Scheduler, SimTime, derive_stream};
use sysdes_stats::{LatencyHistogram, RequestCounts};

use crate::arrivals::{CurveArrivals, MmppArrivals, TraceArrivals};
use crate::error::{BuildError, RunError};
use crate::kinds::{BuildCtx, Resolved};
use crate::request::{
    Hop, NO_SESSION, NewRequest, Origin, Outcome, Parent, RequestId, RequestSlab,
};
use crate::result::{ComponentResult, RunResult, StopReason, WorkloadResult};
use crate::sampler::{KeySampler, Sampler};
use crate::series::SeriesRecorder;
use crate::spec::{ArrivalSpec, Distribution, ModelSpec};
use crate::station::WAITING;
use crate::workload::{Pacing, RetryState, Workload};

pub(crate) use crate::kinds::replica_group::hosts::HostRuntime;
use calls::{CallId, LogicalCalls};

mod faults; // crashes, slowdowns, fault windows
mod network; // zones, links, partitions
pub(crate) use network::Network;

// The engine's own events; each kind's follow from its folder (see
// `kind_events!` in `kinds/mod.rs`). The registry generates from both the
// `Event` enum, `handle` and the loop profile's names.
crate::kinds::registry_events! {
    /// An open workload's next request arrives.
    OpenArrival { workload: u32 } => open_arrival,
    /// A closed workload's user finishes thinking and sends a request.
    UserReady { workload: u32, user: u32 } => new_request,
    /// A request reaches a component after a network hop.
    Deliver { to: ComponentId, req: RequestId } => deliver,
    /// A response reaches the next hop out (a balancer, a caller or the client).
    Respond { req: RequestId } => response_arrives,
    /// A client gives up waiting for an attempt.
    Timeout { req: RequestId } => timeout,
    /// A client sends a retry it prepared after a backoff.
    Retry { req: RequestId } => send_attempt,
    /// A server's call has not answered in time: send a hedge copy.
    Hedge { call: CallId } => hedge,
    /// The end of a time-series interval.
    SeriesTick => series_tick,
    /// A crash or slowdown (by index in `spec.faults`) starts or ends.
    Fault { index: u32, start: bool } => fault_event,
}

pub(crate) use crate::kinds::Components;

const _: () = assert!(std::mem::size_of::<Event>() <= 16);

/// Servers with more components than this get no per-server queue gauges,
/// so a large topology does not produce a huge series.
const MAX_GAUGED_COMPONENTS: usize = 64;

/// Limits that stop a run early.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Stop after this many events (results are then partial).
    pub max_events: Option<u64>,
    /// Requests in flight beyond which the system is declared unstable.
    pub max_in_flight: u64,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_events: None,
            max_in_flight: 1_000_000,
        }
    }
}

/// What the run loop does after a progress point.
enum Checkpoint {
    /// Go on to the next progress point, at `next` events, counting the
    /// events on the way if `count`.
    Go { next: u64, count: bool },
    /// Stop the run.
    Stop(StopReason),
}

/// Told about a run's progress every [`PROGRESS_EVERY`] events.
pub trait Observer {
    /// Called with the simulated time and events so far; return `false` to stop.
    fn progress(&mut self, now: SimTime, events: u64) -> bool;
}

/// An observer that watches nothing and never stops a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn progress(&mut self, _: SimTime, _: u64) -> bool {
        true
    }
}

/// Events between two calls to [`Observer::progress`] (a power of two).
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// An assembled system, ready to run once.
///
/// ```
/// use sysdes_kernel::SimDuration;
/// use sysdes_models::*;
///
/// // M/M/1 at load 0.5: mean time in system 2 s.
/// let mut spec = ModelSpec::single_server(
///     0.5,
///     1,
///     Distribution::Exponential { mean_ns: 1e9 },
///     SimDuration::from_secs(20_000),
/// );
/// spec.warmup = SimDuration::from_secs(100);
/// let result = Simulation::new(&spec)?.run(RunLimits::default(), &mut NoObserver)?;
/// let mean_s = result.latency.mean_ns() / 1e9;
/// assert!((mean_s - 2.0).abs() < 0.15, "mean {mean_s}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Simulation {
    pub(crate) spec: ModelSpec,
    pub(crate) sched: Scheduler<Event>,
    pub(crate) requests: RequestSlab,
    /// Every component's state, in one arena per kind.
    pub(crate) components: Components,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) network: Network,
    /// Servers' downstream calls in progress (one entry per logical call,
    /// shared by its hedge copies).
    pub(crate) calls: LogicalCalls,
    /// The newest version of every key written so far: the "truth" a cache
    /// or replica compares against. Only kept when some workload writes.
    pub(crate) versions: KeyVersions,
    pub(crate) window_start: SimTime,
    pub(crate) window_end: SimTime,
    /// Offered load per component, only for an unstable run's error
    /// (see [`Simulation::with_offered_loads`]); empty unless given.
    pub(crate) offered: Vec<Option<f64>>,
    pub(crate) unstable: Option<RunError>,
    pub(crate) max_in_flight: u64,
    pub(crate) series: SeriesRecorder,
    /// Every host of every pool (see `kinds/replica_group/hosts.rs`).
    pub(crate) hosts: Vec<HostRuntime>,
    /// Reused buffer for the gauges sampled at each series tick.
    pub(crate) gauge_buf: Vec<f64>,
    pub(crate) gauged: bool,
    /// Which components are replicas of a group (empty if there is no group).
    pub(crate) replica: Vec<bool>,
    /// Requests a prefill server has handed to a decode pool, on their way
    /// to the decode server that takes them (`kinds/model_server/disagg.rs`).
    pub(crate) llm_handoffs: crate::kinds::model_server::disagg::Handoffs,
    /// Events counted while the progress guard suspects a loop.
    loop_counts: loop_profile::LoopCounts,
    /// Whether the only component (a server) records no latency of its own
    /// because it equals its only workload's (see `Simulation::new`).
    latency_shared: bool,
}

/// The newest version of each key written so far (versions count from 1).
#[derive(Debug, Default)]
pub(crate) struct KeyVersions {
    enabled: bool,
    newest: FxHashMap<u64, u64>,
}

impl KeyVersions {
    /// Records a new write of `key` and returns its version.
    #[inline]
    pub(crate) fn bump(&mut self, key: u64) -> u64 {
        if !self.enabled {
            return 0;
        }
        let v = self.newest.entry(key).or_insert(0);
        *v += 1;
        *v
    }

    /// The newest version of `key` (0 if never written).
    #[inline]
    pub(crate) fn current(&self, key: u64) -> u64 {
        if !self.enabled {
            return 0;
        }
        self.newest.get(&key).copied().unwrap_or(0)
    }
}

fn invalid(component: &str) -> impl Fn(String) -> BuildError + '_ {
    move |reason| BuildError::InvalidParameter {
        component: component.to_string(),
        reason,
    }
}

/// An event or call reached a component of another kind than its handler
/// serves: an engine bug (ids are resolved and checked at build time), never
/// a user mistake. Debug builds and the test suite stop here; a release
/// build drops the event, as the handlers did before they said so.
#[cold]
#[inline(never)]
pub(crate) fn misrouted() {
    if cfg!(debug_assertions) {
        panic!("an event reached a component of another kind than its handler's");
    }
}

fn positive_rate(per_second: f64) -> Result<f64, String> {
    if per_second.is_nan() || per_second <= 0.0 {
        Err("the arrival rate must be positive".into())
    } else {
        Ok(per_second)
    }
}

impl Simulation {
    /// Assembles the system described by `spec`. Every component gets its own
    /// random streams, derived from the seed and the component's name.
    pub fn new(spec: &ModelSpec) -> Result<Simulation, BuildError> {
        let window_start = SimTime::ZERO + spec.warmup;
        let window_end = SimTime::ZERO + spec.duration;
        let stream = |name: &str, purpose: &str| derive_stream(spec.seed, name, purpose);
        let n = spec.components.len() as u32;
        let check = |from: &str, id: ComponentId| {
            if id.0 < n {
                Ok(())
            } else {
                Err(BuildError::DanglingReference {
                    from: from.to_string(),
                    index: id.0,
                })
            }
        };

        let mut hosts =
            crate::kinds::replica_group::hosts::build_hosts(spec, window_start, window_end);
        // Stores bin their stale reads by the series' intervals.
        let series_interval = SeriesRecorder::new(spec.duration, Vec::new()).interval;
        let mut components = Components::default();
        for c in &spec.components {
            // Every reference to another component, of every kind, is
            // checked here once (`ComponentKind::downstream`).
            let mut dangling = None;
            c.kind.downstream(|to, _| {
                if dangling.is_none() {
                    dangling = check(&c.name, to).err();
                }
            });
            if let Some(e) = dangling {
                return Err(e);
            }
            let mut ctx = BuildCtx {
                spec,
                name: &c.name,
                id: ComponentId(components.len() as u32),
                window: (window_start, window_end),
                hosts: &mut hosts,
                series_interval,
            };
            components.push(&mut ctx, &c.kind)?;
        }

        let mut workloads = Vec::with_capacity(spec.workloads.len());
        for w in &spec.workloads {
            check(&w.name, w.target)?;
            let bad = invalid(&w.name);
            let pacing = match &w.arrival {
                ArrivalSpec::Poisson { per_second } => Pacing::RandomGaps {
                    gaps: Sampler::new(&Distribution::Exponential {
                        mean_ns: 1e9 / positive_rate(*per_second).map_err(&bad)?,
                    })
                    .map_err(&bad)?,
                    rng: stream(&w.name, "arrivals"),
                },
                ArrivalSpec::Constant { per_second } => Pacing::Periodic {
                    period_ns: 1e9 / positive_rate(*per_second).map_err(&bad)?,
                    sent: 0,
                },
                ArrivalSpec::Interarrival(d) => Pacing::RandomGaps {
                    gaps: Sampler::new(d).map_err(&bad)?,
                    rng: stream(&w.name, "arrivals"),
                },
                ArrivalSpec::Phases(phases) => {
                    if phases.is_empty() {
                        return Err(bad("phased arrivals need at least one phase".into()));
                    }
                    let mut end = SimTime::ZERO;
                    let mut built = Vec::with_capacity(phases.len());
                    for phase in phases {
                        end = match phase.length {
                            Some(l) => end + l,
                            None => SimTime::MAX,
                        };
                        let gaps = if phase.per_second > 0.0 {
                            Some(
                                Sampler::new(&Distribution::Exponential {
                                    mean_ns: 1e9 / phase.per_second,
                                })
                                .map_err(&bad)?,
                            )
                        } else if phase.per_second == 0.0 {
                            None
                        } else {
                            return Err(bad("a phase's rate cannot be negative".into()));
                        };
                        built.push((end, gaps));
                    }
                    Pacing::Phases {
                        phases: built,
                        current: 0,
                        rng: stream(&w.name, "arrivals"),
                    }
                }
                ArrivalSpec::Curve(c) => Pacing::Curve(Box::new(
                    CurveArrivals::new(c, stream(&w.name, "arrivals")).map_err(&bad)?,
                )),
                ArrivalSpec::Mmpp(m) => Pacing::Mmpp(Box::new(
                    MmppArrivals::new(m, stream(&w.name, "arrivals")).map_err(&bad)?,
                )),
                ArrivalSpec::Trace(t) => Pacing::Trace(TraceArrivals::new(t).map_err(&bad)?),
                ArrivalSpec::Closed { users, think_time } => Pacing::Closed {
                    users: *users,
                    think: Sampler::new(think_time).map_err(&bad)?,
                    rng: stream(&w.name, "think"),
                },
            };
            if !(0.0..=1.0).contains(&w.write_share) {
                return Err(bad("the write share must be in [0, 1]".into()));
            }
            let retry = match &w.retries {
                Some(r) => Some(RetryState::new(r, stream(&w.name, "retries")).map_err(&bad)?),
                None => None,
            };
            workloads.push(Workload {
                target: w.target,
                pacing,
                keys: KeySampler::new(&w.keys).map_err(&bad)?,
                key_rng: stream(&w.name, "keys"),
                timeout: w.timeout,
                write_share: w.write_share,
                op_rng: stream(&w.name, "ops"),
                sessions: w.sessions.filter(|&n| n > 0),
                session_rng: stream(&w.name, "sessions"),
                retry,
                priority: w.priority,
                counts: RequestCounts::default(),
                latency: LatencyHistogram::new(),
                direct: None,
            });
        }

        let network = Network::new(spec).map_err(invalid("network"))?;

        // One workload straight into one leaf server (M/M/c, M/G/1, ...):
        // with no network delay, no faults, no client time-outs or retries
        // and no priority discipline, the server's latency of each request
        // (answer - arrival) is its client's (receipt - birth), recorded for
        // the same counted requests. The server then records none, and its
        // result takes a copy of the workload's histogram.
        let mut latency_shared = false;
        if let ([w], [_]) = (spec.workloads.as_slice(), spec.components.as_slice()) {
            if let Resolved::Server(id) = components.resolve(ComponentId(0)) {
                let server = &mut components[id];
                if network.zero
                    && spec.faults.is_empty()
                    && w.timeout.is_none()
                    && w.retries.is_none()
                    && server.calls.is_empty()
                    && !server.has_discipline()
                    && server.host == crate::kinds::replica_group::NO_HOST
                {
                    server.latency_is_client_latency = true;
                    latency_shared = true;
                }
            }
        }

        // A group's replicas answer it without crossing the network and
        // have no gauges of their own (the group has).
        let mut replica = Vec::new();
        for (_, g) in components.replica_group.iter() {
            replica.resize(components.len(), false);
            for m in g.members() {
                replica[m.index()] = true;
            }
        }
        let is_replica = |i: usize| replica.get(i) == Some(&true);
        let gauged =
            (0..components.len()).filter(|&i| !is_replica(i)).count() <= MAX_GAUGED_COMPONENTS;
        let mut gauge_names = Vec::new();
        if gauged {
            for (i, cs) in spec.components.iter().enumerate() {
                if !is_replica(i) {
                    components.gauge_names(i, &cs.name, &mut gauge_names);
                }
            }
        }
        Ok(Simulation {
            offered: Vec::new(),
            spec: spec.clone(),
            sched: Scheduler::new(),
            requests: RequestSlab::default(),
            components,
            workloads,
            network,
            calls: LogicalCalls::default(),
            versions: KeyVersions {
                enabled: spec.workloads.iter().any(|w| w.write_share > 0.0),
                newest: FxHashMap::default(),
            },
            window_start,
            window_end,
            unstable: None,
            max_in_flight: 0,
            series: SeriesRecorder::new(spec.duration, gauge_names)
                .per_workload(spec.workloads.iter().map(|w| w.name.clone()).collect()),
            gauge_buf: Vec::new(),
            gauged,
            replica,
            llm_handoffs: Default::default(),
            hosts,
            loop_counts: loop_profile::LoopCounts::default(),
            latency_shared,
        })
    }

    /// Gives the offered load of each component (spec order; computed by
    /// `sysdes_theory::offered_loads`), used only to say how far over its
    /// capacity the saturated component is when the run proves unstable.
    /// The engine computes no offered load itself: without this the error
    /// names the queue length alone.
    pub fn with_offered_loads(mut self, loads: Vec<Option<f64>>) -> Self {
        self.offered = loads;
        self
    }

    /// Keeps only the mean of each series interval's end-to-end latency:
    /// every [`crate::SeriesPoint::latency_p50_ms`] and `latency_p99_ms` is
    /// then NaN. For a caller that reads no series quantile (the CLI's
    /// JSON or table on stdout): it saves one histogram record per request
    /// and a histogram scan and reset per interval. Every other figure is
    /// the same bytes.
    pub fn without_series_quantiles(mut self) -> Self {
        self.series.without_quantiles();
        self
    }

    /// Runs to the end: arrivals during `[0, duration)`, then every request
    /// in flight drains. Returns the measurements, or an error if the system
    /// proved unstable.
    pub fn run(
        mut self,
        limits: RunLimits,
        observer: &mut dyn Observer,
    ) -> Result<RunResult, RunError> {
        self.max_in_flight = limits.max_in_flight;
        self.start();
        let mut stop = StopReason::Drained;
        let max_events = limits.max_events.unwrap_or(u64::MAX);
        let mut next_check = PROGRESS_EVERY.min(max_events);
        // The engine's own copy of the progress guard decides when to count
        // events (the observer's decides whether to stop). While it counts,
        // every event takes the progress-point branch below (the branch the
        // loop has anyway), so the normal path pays nothing for it.
        let mut watch = ProgressGuard::new();
        // While counting: the next real progress point.
        let mut counting_to = 0;
        while let Some(event) = self.sched.pop() {
            self.handle(event);
            if self.unstable.is_some() {
                break;
            }
            let events = self.sched.events_delivered();
            if events >= next_check {
                if counting_to != 0 {
                    self.count_event(&event);
                    if events < counting_to {
                        next_check = events + 1;
                        continue;
                    }
                }
                match self.progress_point(
                    events,
                    max_events,
                    &mut watch,
                    observer,
                    counting_to != 0,
                ) {
                    Checkpoint::Go { next, count } => {
                        counting_to = if count { next } else { 0 };
                        next_check = if count { events + 1 } else { next };
                    }
                    Checkpoint::Stop(reason) => {
                        stop = reason;
                        break;
                    }
                }
            }
        }
        match self.unstable.take() {
            Some(err) => Err(err),
            None => Ok(self.finish(stop)),
        }
    }

    /// A progress point, every [`PROGRESS_EVERY`] events: the event limit,
    /// the observer, and the engine's copy of the progress guard, which
    /// says whether to count the events up to the next point (by kind and
    /// place, so the message that stops the run can name the loop).
    #[inline(never)]
    fn progress_point(
        &mut self,
        events: u64,
        max_events: u64,
        watch: &mut ProgressGuard,
        observer: &mut dyn Observer,
        counting: bool,
    ) -> Checkpoint {
        if events >= max_events {
            return Checkpoint::Stop(StopReason::EventLimit);
        }
        let now = self.sched.now();
        // The observer's guard, if any, sees the same figures and trips
        // later than this one turns suspicious.
        let _ = watch.check(now, events);
        let count = watch.suspicious();
        if count && !counting {
            self.loop_counts
                .restart(self.components.len() + self.workloads.len());
        }
        if !observer.progress(now, events) {
            return Checkpoint::Stop(StopReason::Interrupted);
        }
        Checkpoint::Go {
            next: (events + PROGRESS_EVERY).min(max_events),
            count,
        }
    }

    fn start(&mut self) {
        self.groups_start();
        self.training_start();
        self.review_start();
        self.dns_start();
        self.stream_start();
        self.batch_jobs_start();
        self.sched
            .schedule_at(SimTime::ZERO + self.series.interval, Event::SeriesTick);
        self.schedule_faults();
        self.store_schedule_faults();
        self.plan_direct_routes();
        for w in 0..self.workloads.len() {
            let workload = &mut self.workloads[w];
            if let Some(first) = workload.first_arrival() {
                if first < self.window_end {
                    self.sched
                        .schedule_at(first, Event::OpenArrival { workload: w as u32 });
                }
            }
            // Closed users start staggered by one think time, not all at once.
            for user in 0..self.workloads[w].users() {
                self.user_thinks(w as u32, user);
            }
        }
    }

    /// An open workload's next request arrives; the next is scheduled.
    fn open_arrival(&mut self, workload: u32) {
        self.new_request(workload, NO_SESSION);
        let next = self.workloads[workload as usize].next_arrival(self.sched.now());
        if next < self.window_end {
            self.sched
                .schedule_at(next, Event::OpenArrival { workload });
        }
    }

    fn series_tick(&mut self) {
        let now = self.sched.now();
        let mut gauges = std::mem::take(&mut self.gauge_buf);
        gauges.clear();
        if self.gauged {
            for i in 0..self.components.len() {
                if self.replica.get(i) != Some(&true) {
                    self.components.gauges(i, now, &mut gauges);
                }
            }
        }
        self.series.close(now, self.requests.live() as u64, &gauges);
        self.gauge_buf = gauges;
        let next = now + self.series.interval;
        if next < self.window_end {
            self.sched.schedule_at(next, Event::SeriesTick);
        }
    }

    /// A workload's client sends a new request (`user` is a closed
    /// workload's user, [`NO_SESSION`] for an open one).
    #[inline(always)]
    fn new_request(&mut self, workload: u32, user: u32) {
        let now = self.sched.now();
        let counted = now >= self.window_start && now < self.window_end;
        let w = &mut self.workloads[workload as usize];
        let (key, op, priority, trace) = w.next_request();
        let session = if user == NO_SESSION {
            w.next_session()
        } else {
            user
        };
        if counted {
            w.counts.generated += 1;
        }
        if let Some(retry) = &mut w.retry {
            retry.first_attempt();
        }
        let req = self.requests.insert(NewRequest {
            workload,
            born: now,
            key,
            op,
            session,
            counted,
            origin: Origin::Client,
            priority,
        });
        self.requests[req].trace = trace;
        match self.workloads[workload as usize].direct {
            Some(server) => self.direct_arrive(server, req),
            None => self.send_attempt(req),
        }
    }

    /// Finds the workloads whose requests can go straight into their
    /// target: a plain server ([`crate::kinds::server::Server::can_be_plain`],
    /// not a group's replica) with no network between them and no client
    /// time-out or retry. Such a request crosses no hop, so it carries no
    /// hop record: the server answers its client directly
    /// (`Simulation::plain_server_done`). Every figure is the same, and
    /// every event at the same time in the same order: the long path
    /// crosses zero-delay hops in the same instant and draws nothing on
    /// the way. Called once every fault is armed (a crash makes a server
    /// not plain).
    fn plan_direct_routes(&mut self) {
        for i in 0..self.components.len() {
            if let Resolved::Server(id) = self.components.resolve(ComponentId(i as u32)) {
                let replica = self.replica.get(i) == Some(&true);
                let server = &mut self.components[id];
                server.plain = !replica && server.can_be_plain();
            }
        }
        for w in 0..self.workloads.len() {
            let workload = &self.workloads[w];
            if !self.network.zero || workload.timeout.is_some() || workload.retry.is_some() {
                continue;
            }
            if let Resolved::Server(id) = self.components.resolve(workload.target) {
                if self.components[id].plain {
                    self.workloads[w].direct = Some(id);
                }
            }
        }
    }

    /// Sends a client's attempt to its workload's target, with its timeout.
    #[inline(always)]
    fn send_attempt(&mut self, req: RequestId) {
        let workload = self.requests[req].workload;
        let w = &self.workloads[workload as usize];
        let target = w.target;
        if let Some(after) = w.timeout {
            self.requests[req].timeout =
                Some(self.sched.schedule_timer_in(after, Event::Timeout { req }));
        }
        if self.requests.live() as u64 > self.max_in_flight {
            self.declare_unstable();
        }
        let sender = self.components.len() + workload as usize;
        self.send(sender, target, req);
    }

    /// Sends a request from `sender` (a component index, or components.len()
    /// + a workload index) to `to`, across the network.
    #[inline]
    pub(crate) fn send(&mut self, sender: usize, to: ComponentId, req: RequestId) {
        if self.network.zero {
            self.deliver(to, req);
        } else if self.network.simple {
            let delay = self.network.latency.sample(&mut self.network.rngs[sender]);
            self.sched.schedule_in(delay, Event::Deliver { to, req });
        } else {
            self.send_over_network(sender, to, req);
        }
    }

    /// Component `from` calls `to` on behalf of `parent`: a child request
    /// (same key, operation, session and workload) crosses the network. When
    /// its answer is back at `from`, the engine calls `from`'s kind's
    /// `call_returned` hook with `tag`, then frees the child.
    ///
    /// The child is always delivered through an event, even with no network
    /// delay, so a caller never sees an answer while it is still sending.
    pub(crate) fn call(
        &mut self,
        from: ComponentId,
        to: ComponentId,
        parent: RequestId,
        tag: u32,
    ) -> RequestId {
        let p = &self.requests[parent];
        let new = NewRequest {
            workload: p.workload,
            born: self.sched.now(),
            key: p.key,
            op: p.op,
            session: p.session,
            counted: p.counted,
            origin: Origin::Child,
            priority: p.priority,
        };
        let (version, trace) = (p.version, p.trace);
        let generation = self.requests.generation(parent);
        let child = self.requests.insert(new);
        let c = &mut self.requests[child];
        c.version = version;
        c.trace = trace;
        c.parent = Some(Parent {
            req: parent,
            generation,
            caller: from,
            tag,
        });
        match self.call_delay(from, to, child) {
            Some(delay) => self
                .sched
                .schedule_in(delay, Event::Deliver { to, req: child }),
            None => self.unreachable(child),
        }
        child
    }

    #[inline]
    pub(crate) fn deliver(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        self.requests[req].hops.push(Hop {
            component: to,
            entered: now,
            choice: 0,
        });
        self.arrive_at(to, req);
    }

    /// The innermost component holding `req` answers it: the response goes
    /// one hop back out. Set `outcome` first to answer with an error.
    pub(crate) fn respond(&mut self, req: RequestId) {
        let Some(hop) = self.requests[req].hops.pop() else {
            return;
        };
        if self.network.zero || self.replica.get(hop.component.index()) == Some(&true) {
            // A replica answers its group in the same place: no network.
            self.response_arrives(req);
        } else if self.network.simple {
            let delay = self
                .network
                .latency
                .sample(&mut self.network.rngs[hop.component.index()]);
            self.sched.schedule_in(delay, Event::Respond { req });
        } else {
            self.respond_over_network(hop.component, req);
        }
    }

    /// A response reaches the next hop out: a proxy (which relays it), the
    /// caller of a child request, or the client.
    fn response_arrives(&mut self, req: RequestId) {
        let r = &self.requests[req];
        let Some(&hop) = r.hops.last() else {
            match r.origin {
                Origin::Client => self.client_receives(req),
                Origin::Child => self.child_returns(req),
                Origin::Internal | Origin::Freed => {}
            }
            return;
        };
        self.answered_at(hop.component, req);
        self.respond(req);
    }

    /// A child request's answer is back at its caller: the caller's kind
    /// decides what it means, then the child is freed. The hook gets the
    /// parent's id, or `None` if the parent has ended meanwhile.
    fn child_returns(&mut self, child: RequestId) {
        let Some(link) = self.requests[child].parent else {
            self.requests.remove(child);
            return;
        };
        let parent = self
            .requests
            .is_live(link.req, link.generation)
            .then_some(link.req);
        self.call_returned_at(link.caller, parent, child, link.tag);
        self.requests.remove(child);
    }

    #[inline(always)]
    pub(crate) fn client_receives(&mut self, req: RequestId) {
        let r = &self.requests[req];
        if r.abandoned {
            // The client already gave up on this attempt and moved on.
            self.requests.remove(req);
            return;
        }
        if let Some(timer) = r.timeout {
            self.sched.cancel(timer);
        }
        let outcome = r.outcome;
        if outcome != Outcome::Ok && self.try_retry(req) {
            self.requests.remove(req);
            return;
        }
        self.client_done(req, outcome);
        self.requests.remove(req);
    }

    /// Records the final outcome of a client's request (time-outs are
    /// recorded by [`Self::timeout`]); then its user, if closed-loop, thinks.
    #[inline(always)]
    pub(crate) fn client_done(&mut self, req: RequestId, outcome: Outcome) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (workload, counted, session) = (r.workload, r.counted, r.session);
        let latency = now - r.born;
        let w = &mut self.workloads[workload as usize];
        match outcome {
            Outcome::Ok => self.series.completed(workload, latency),
            Outcome::Dropped => self.series.dropped(),
            Outcome::Failed => self.series.failed(),
            Outcome::Abandoned => self.series.timed_out(),
        }
        if counted {
            match outcome {
                Outcome::Ok => {
                    w.counts.completed += 1;
                    w.latency.record(latency);
                }
                Outcome::Dropped => w.counts.dropped += 1,
                Outcome::Failed => w.counts.failed += 1,
                // The client gave up: a time-out, which a queue saw leave.
                Outcome::Abandoned => {
                    w.counts.timed_out += 1;
                    w.counts.abandoned += 1;
                }
            }
        }
        self.user_thinks(workload, session);
    }

    /// If the client of attempt `req` may retry it, prepares the next attempt
    /// (sent after the backoff) and returns true. `req` itself is left to the
    /// caller (freed, or left abandoned until its late answer arrives).
    fn try_retry(&mut self, req: RequestId) -> bool {
        let r = &self.requests[req];
        let (workload, attempt) = (r.workload, r.attempt);
        let w = &mut self.workloads[workload as usize];
        let Some(wait) = w.retry.as_mut().and_then(|rs| rs.retry_after(attempt)) else {
            return false;
        };
        let r = &self.requests[req];
        let new = NewRequest {
            workload,
            born: r.born,
            key: r.key,
            op: r.op,
            session: r.session,
            counted: r.counted,
            origin: Origin::Client,
            priority: r.priority,
        };
        if r.counted {
            w.counts.retries += 1;
        }
        let trace = self.requests[req].trace;
        let next = self.requests.insert(new);
        self.requests[next].attempt = attempt.saturating_add(1);
        self.requests[next].trace = trace;
        self.sched.schedule_in(wait, Event::Retry { req: next });
        true
    }

    fn timeout(&mut self, req: RequestId) {
        let r = &mut self.requests[req];
        r.abandoned = true;
        r.timeout = None;
        if self.try_retry(req) {
            return;
        }
        let r = &self.requests[req];
        let (workload, counted, session) = (r.workload, r.counted, r.session);
        self.series.timed_out();
        if counted {
            self.workloads[workload as usize].counts.timed_out += 1;
        }
        self.user_thinks(workload, session);
    }

    /// A closed workload's user thinks, then sends again if before the end.
    #[inline(always)]
    fn user_thinks(&mut self, workload: u32, user: u32) {
        if let Some(think) = self.workloads[workload as usize].think() {
            let at = self.sched.now() + think;
            if at < self.window_end {
                self.sched
                    .schedule_at(at, Event::UserReady { workload, user });
            }
        }
    }

    /// Names the component most likely at fault: the longest queue, with its
    /// offered load when the spec determines it.
    pub(crate) fn declare_unstable(&mut self) {
        let now = self.sched.now();
        if let Some(err) = self.backlog_unstable() {
            self.unstable = Some(err);
            return;
        }
        let worst = (0..self.components.len())
            .filter_map(|i| {
                self.components
                    .backlog(i)
                    .map(|(queued, workers, unit)| (i, queued, workers, unit))
            })
            .max_by_key(|&(_, queued, _, _)| queued);
        let (component, detail) = match worst {
            Some((i, queued, workers, unit)) => {
                let name = self.spec.components[i].name.clone();
                let detail = match self.offered.get(i).copied().flatten() {
                    Some(load) if load.is_finite() => format!(
                        "offered load {:.2} times its capacity of {} {unit}{}; {} requests queued",
                        load,
                        workers,
                        if workers == 1 { "" } else { "s" },
                        queued
                    ),
                    _ => format!("{queued} requests queued"),
                };
                (name, detail)
            }
            None => ("the system".to_string(), "no server found".to_string()),
        };
        self.unstable = Some(RunError::Unstable {
            component,
            detail,
            in_flight: self.requests.live() as u64,
            limit: self.max_in_flight,
            at_s: now.as_secs_f64(),
        });
    }

    fn finish(self, stop: StopReason) -> RunResult {
        let faults = self.fault_windows();
        let hot_loop = self.loop_profile();
        let shortcuts = crate::Shortcuts {
            direct_workloads: self.workloads.iter().filter(|w| w.direct.is_some()).count() as u32,
            plain_servers: self
                .components
                .server
                .items
                .iter()
                .filter(|s| s.plain)
                .count() as u32,
            shared_latency: self.latency_shared,
        };
        let in_flight = self.requests.live_counted_by_workload(self.workloads.len());
        // The server whose latency is its workload's (see `Simulation::new`).
        let shared_latency = self
            .latency_shared
            .then(|| self.workloads[0].latency.clone());
        let mut requests = RequestCounts::default();
        let mut latency = LatencyHistogram::new();
        let workloads = self
            .workloads
            .into_iter()
            .zip(&self.spec.workloads)
            .zip(in_flight)
            .map(|((w, spec), in_flight)| {
                let mut counts = w.counts;
                counts.in_flight = in_flight;
                requests.add(&counts);
                latency.merge(&w.latency);
                WorkloadResult {
                    name: spec.name.clone(),
                    requests: counts,
                    users: w.users(),
                    latency: w.latency,
                    offered_rps: spec.arrival.open_rate_per_second(),
                }
            })
            .collect();
        let c = &self.components;
        let mut components: Vec<ComponentResult> = self
            .spec
            .components
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                if let Some(own) = c.own_result(i, &self.hosts, &spec.name) {
                    return own;
                }
                let m = c.metrics(i);
                let (kind, workers) = c.result_type(i);
                ComponentResult {
                    name: spec.name.clone(),
                    kind,
                    workers,
                    arrivals: m.arrivals,
                    completions: m.completions,
                    drops: m.drops,
                    utilization: c.utilization(i, workers),
                    mean_queue_length: m.levels.mean(WAITING),
                    mean_in_system: m.mean_in_system(),
                    peak_queue_length: m.levels.peak(WAITING),
                    latency: match (&shared_latency, i) {
                        (Some(latency), 0) => latency.clone(),
                        _ => m.latency.clone(),
                    },
                    offered_load: None,
                    figures: c.figures(i),
                    lost_in_crash: c.lost_in_crash(i),
                    scaling: None,
                    replica_of: None,
                }
            })
            .collect();
        // Groups sum up their replicas, which say whose they are.
        for (id, g) in self.components.replica_group.iter() {
            if g.stations().is_some() {
                continue; // A deployment's line is its own.
            }
            let i = id.index();
            let name = &self.spec.components[i].name;
            for m in g.members() {
                components[m.index()].replica_of = Some(name.clone());
            }
            let members: Vec<&ComponentResult> =
                g.members().iter().map(|m| &components[m.index()]).collect();
            components[i] = group::group_result(g, name, &members, &self.hosts);
        }
        let series = self
            .series
            .finish(self.sched.now(), self.requests.live() as u64);
        // Billing runs to the end of the window at least (a fleet is paid
        // for until `duration` even when its last request ended sooner).
        let end = self.sched.now().max(SimTime::ZERO + self.spec.duration);
        let mut lifetimes = crate::Lifetimes {
            end_ns: end.as_nanos(),
            by_component: (0..self.components.len())
                .map(|i| match self.components.resolve(ComponentId(i as u32)) {
                    Resolved::ReplicaGroup(g) => self.components[g].lifetimes(end),
                    _ => Vec::new(),
                })
                .collect(),
            zone_bytes: Vec::new(),
            zone_bytes_window: Vec::new(),
        };
        let n = self.components.len();
        if self.network.zone_bytes.iter().any(|&b| b > 0) {
            lifetimes.zone_bytes = self.network.zone_bytes[..n].to_vec();
            lifetimes.zone_bytes_window = self.network.zone_bytes_window[..n].to_vec();
        }
        Simulation::interruption_lifetimes(&self.spec, end, &mut lifetimes.by_component);
        // The first store's (in spec order: arenas keep build order).
        let consistency = self.components.store.items.first().map(|s| s.consistency());
        RunResult {
            consistency,
            series,
            scenario: self.spec.name.clone(),
            seed: self.spec.seed,
            duration_s: self.spec.duration.as_secs_f64(),
            warmup_s: self.spec.warmup.as_secs_f64(),
            end_s: self.sched.now().as_secs_f64(),
            events: self.sched.events_delivered(),
            stop,
            peak_in_flight: self.requests.peak() as u64,
            requests,
            latency,
            workloads,
            components,
            faults,
            lifetimes,
            hot_loop,
            shortcuts,
        }
    }
}
