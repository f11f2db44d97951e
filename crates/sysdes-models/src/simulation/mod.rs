//! The assembled system and its event loop.
//!
//! `mod.rs` is the engine: events, the loop, workloads and clients (timeouts,
//! retries), the network hop, and the plumbing every component kind uses:
//! [`Simulation::call`] (a child request on behalf of a parent) and
//! [`Simulation::respond`] (answer the request a component holds). Each kind's
//! behaviour lives in its own submodule as an `impl Simulation` block.

mod cache;
mod calls;

mod deployment;
mod group;
mod queue;
mod store;
mod stream;

use rustc_hash::FxHashMap;
use sysdes_kernel::{ComponentId, Scheduler, SimTime, derive_stream};
use sysdes_stats::{LatencyHistogram, RequestCounts};

use crate::arrivals::{CurveArrivals, MmppArrivals, TraceArrivals};
use crate::cache::Cache;
use crate::capacity::offered_loads;
use crate::error::{BuildError, RunError};
use crate::figures::{CallFigures, ComponentType, KindFigures, StoreFigures};
use crate::load_balancer::LoadBalancer;
use crate::model_server::ModelServer;
use crate::request::{
    Hop, NO_SESSION, NewRequest, Op, Origin, Outcome, Parent, RequestId, RequestSlab,
};
use crate::result::{ComponentResult, RunResult, StopReason, WorkloadResult};
use crate::sampler::{KeySampler, Sampler};
use crate::series::SeriesRecorder;
use crate::server::{Admission, HedgeStat, Server};
use crate::spec::{ArrivalSpec, ComponentKind, Distribution, ModelSpec};
use crate::station::{ACTIVE, StationMetrics, WAITING};
use crate::workload::{Pacing, RetryState, Workload};

use calls::{CallId, LogicalCalls};
use deployment::{DeployEvent, HostRuntime};
use queue::QueueComponent;
use stream::StreamComponent;

mod llm_server;
mod model_server;

mod faults; // crashes, slowdowns, fault windows
mod network; // zones, links, partitions
pub(crate) use network::Network;

/// Everything that happens in a run. Small and `Copy`: it names a request by
/// id, never carries its data.
///
/// `repr(u32)`: with the default one-byte tag the compiler built events in
/// narrow, unaligned stores and the queue re-read them wide, a
/// store-forwarding stall that cost a quarter of an M/M/1 run (13 vs 18 M
/// events/s). Events must stay at most 16 bytes (a 32-byte queue entry).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub(crate) enum Event {
    /// An open workload's next request arrives.
    OpenArrival { workload: u32 },
    /// A closed workload's user finishes thinking and sends a request.
    UserReady { workload: u32, user: u32 },
    /// A request reaches a component after a network hop.
    Deliver { to: ComponentId, req: RequestId },
    /// A server's worker finishes its own work on a request.
    ServiceDone { server: ComponentId, req: RequestId },
    /// A response reaches the next hop out (a balancer, a caller or the client).
    Respond { req: RequestId },
    /// A client gives up waiting for an attempt.
    Timeout { req: RequestId },
    /// A client sends a retry it prepared after a backoff.
    Retry { req: RequestId },
    /// A server's call has not answered in time: send a hedge copy.
    Hedge { call: CallId },
    /// A cache has served a hit.
    CacheHitDone { cache: ComponentId, req: RequestId },
    /// The end of a time-series interval.
    SeriesTick,
    /// A deployment's timers (see `deployment.rs`).
    Deploy(DeployEvent),
    /// A model server's batch on `slot` ends.
    BatchDone { server: ComponentId, slot: u32 },
    /// A model server's batching deadline (or model load) comes.
    BatchWake { server: ComponentId },
    /// An LLM model server's timers (see `llm_server.rs`).
    Llm(llm_server::LlmEvent),
    /// A crash or slowdown (by index in `spec.faults`) starts or ends.
    Fault { index: u32, start: bool },
    /// A replicated store's own event (a message, a replica's service, a fault).
    Store {
        store: ComponentId,
        ev: store::StoreEvent,
    },
}

/// A component's state, matched exhaustively in the loop (no dynamic dispatch).
#[derive(Debug)]
pub(crate) enum Component {
    Server(Server),
    LoadBalancer(LoadBalancer),
    Cache(Box<Cache>),
    Queue(QueueComponent),
    Stream(StreamComponent),
    Deployment(Box<crate::deployment::Deployment>),
    /// Boxed: its batch buffers make it the largest kind by far.
    ModelServer(Box<ModelServer>),
    Store(Box<crate::store::Store>),
    /// A model server in LLM mode (boxed like the batching one).
    LlmServer(Box<crate::llm_server::LlmServer>),
    ReplicaGroup(Box<crate::replica_group::ReplicaGroup>),
}

impl Component {
    fn metrics(&self) -> &StationMetrics {
        match self {
            Component::Server(s) => &s.metrics,
            Component::LoadBalancer(lb) => &lb.metrics,
            Component::Cache(c) => &c.metrics,
            Component::Queue(q) => &q.queue.metrics,
            Component::Stream(s) => &s.metrics,
            Component::Deployment(d) => &d.metrics,
            Component::ModelServer(m) => &m.metrics,
            Component::Store(s) => &s.metrics,
            Component::LlmServer(m) => &m.metrics,
            Component::ReplicaGroup(g) => &g.metrics,
        }
    }

    /// A replica's busy-time meter (kept while its group autoscales on
    /// utilization) and the capacity it measures (workers or slots); `None`
    /// for kinds without one.
    fn busy_area_mut(&mut self) -> Option<(&mut Option<crate::station::BusyArea>, u32)> {
        match self {
            Component::Server(s) => {
                let workers = s.workers();
                Some((&mut s.busy_area, workers))
            }
            Component::ModelServer(m) => {
                let slots = m.slots();
                Some((&mut m.busy_area, slots))
            }
            Component::LlmServer(m) => {
                let slots = m.slots();
                Some((&mut m.busy_area, slots))
            }
            _ => None,
        }
    }

    /// Figures specific to the kind, reported beside the common ones.
    /// Deployments and groups report theirs in `deployment::deployment_result`
    /// and `group::group_result`; a store's consistency report is added by
    /// the caller.
    fn figures(&self) -> KindFigures {
        match self {
            Component::Server(s) if !s.calls.is_empty() => KindFigures::Calls(CallFigures {
                hedges_sent: s.hedges,
                wasted_calls: s.wasted_calls,
                failed_calls: s.failed_calls,
            }),
            Component::Server(_)
            | Component::LoadBalancer(_)
            | Component::Deployment(_)
            | Component::ReplicaGroup(_) => KindFigures::None,
            Component::Store(s) => KindFigures::Store(Box::new(StoreFigures {
                consistency: Some(s.consistency()),
                ..s.figures()
            })),
            Component::Cache(c) => KindFigures::Cache(c.figures()),
            Component::Queue(q) => KindFigures::Queue(q.figures()),
            Component::Stream(s) => KindFigures::Stream(s.figures()),
            Component::ModelServer(m) => KindFigures::Batching(m.figures()),
            Component::LlmServer(m) => KindFigures::Llm(m.figures()),
        }
    }

    /// Requests failed by crashes of this component, for a kind a crash
    /// fault can hit.
    fn lost_in_crash(&self) -> Option<u64> {
        let faults = match self {
            Component::Server(s) => &s.faults,
            Component::ModelServer(m) => &m.faults,
            Component::LlmServer(m) => &m.faults,
            _ => return None,
        };
        faults.crashable.then_some(faults.lost_in_crash)
    }

    /// Names of this component's time-series gauges (see [`Self::gauges`]).
    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        match self {
            Component::Server(_) => out.push(format!("{name}.queue")),
            Component::LoadBalancer(_) => {}
            Component::Store(_) => out.push(format!("{name}.stale_read_rate")),
            Component::Cache(_) => out.push(format!("{name}.hit_ratio")),
            Component::Queue(_) => QueueComponent::gauge_names(name, out),
            Component::Stream(s) => s.gauge_names(name, out),
            Component::Deployment(_) => deployment::gauge_names(name, out),
            Component::ReplicaGroup(_) => group::gauge_names(name, out),
            Component::ModelServer(_) | Component::LlmServer(_) => {
                out.push(format!("{name}.queue"));
                out.push(format!("{name}.batch_size"));
            }
        }
    }

    /// Appends the current value of each gauge named by [`Self::gauge_names`].
    fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        match self {
            Component::Server(s) => out.push(s.queue_len() as f64),
            Component::LoadBalancer(_) => {}
            Component::Store(s) => out.push(s.tracker.interval_stale_rate(now)),
            Component::Cache(c) => out.push(c.interval_hit_ratio()),
            Component::Queue(q) => q.gauges(now, out),
            Component::Stream(s) => s.gauges(now, out),
            Component::Deployment(d) => deployment::gauges(d, out),
            Component::ReplicaGroup(g) => group::gauges(g, out),
            Component::ModelServer(m) => {
                out.push(m.queue_len() as f64);
                out.push(m.take_interval_batch_size());
            }
            Component::LlmServer(m) => {
                out.push(m.queue_len() as f64);
                out.push(m.take_interval_batch_size());
            }
        }
    }
}

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
    spec: ModelSpec,
    sched: Scheduler<Event>,
    requests: RequestSlab,
    components: Vec<Component>,
    workloads: Vec<Workload>,
    network: Network,
    /// Servers' downstream calls in progress (one entry per logical call,
    /// shared by its hedge copies).
    calls: LogicalCalls,
    /// The newest version of every key written so far: the "truth" a cache
    /// or replica compares against. Only kept when some workload writes.
    versions: KeyVersions,
    window_start: SimTime,
    window_end: SimTime,
    offered: Vec<Option<f64>>,
    unstable: Option<RunError>,
    max_in_flight: u64,
    series: SeriesRecorder,
    /// Every host of every pool (see `deployment.rs`).
    hosts: Vec<HostRuntime>,
    /// Reused buffer for the gauges sampled at each series tick.
    gauge_buf: Vec<f64>,
    gauged: bool,
    /// Which components are replicas of a group (empty if there is no group).
    replica: Vec<bool>,
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
fn misrouted() {
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

        let mut hosts = deployment::build_hosts(spec, window_start, window_end);
        let mut components = Vec::with_capacity(spec.components.len());
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
            let metrics = StationMetrics::new(window_start, window_end);
            components.push(match &c.kind {
                ComponentKind::Server(s) => {
                    if s.workers == 0 {
                        return Err(invalid(&c.name)(
                            "a server needs at least one worker".into(),
                        ));
                    }
                    if s.calls.iter().any(|step| step.targets.is_empty()) {
                        return Err(invalid(&c.name)("a call step needs a target".into()));
                    }
                    let mut server = Server::new(
                        s.workers,
                        s.queue_capacity,
                        Sampler::new(&s.service_time).map_err(invalid(&c.name))?,
                        stream(&c.name, "service"),
                        metrics,
                    );
                    server.hedge_stats = s
                        .calls
                        .iter()
                        .map(|step| step.hedge_percentile.map(HedgeStat::new))
                        .collect();
                    server.calls = s.calls.clone();
                    server.mode = s.mode;
                    Component::Server(server)
                }
                ComponentKind::Deployment(d) => {
                    Component::Deployment(Box::new(deployment::build_deployment(
                        spec,
                        &c.name,
                        d,
                        &mut hosts,
                        window_start,
                        window_end,
                    )?))
                }
                ComponentKind::LoadBalancer(lb) => {
                    if lb.backends.is_empty() {
                        return Err(invalid(&c.name)("a load balancer needs a backend".into()));
                    }
                    let names: Vec<&str> = lb
                        .backends
                        .iter()
                        .map(|b| spec.components[b.index()].name.as_str())
                        .collect();
                    Component::LoadBalancer(LoadBalancer::new(
                        lb.policy,
                        lb.backends.clone(),
                        &names,
                        stream(&c.name, "balance"),
                        metrics,
                    ))
                }
                ComponentKind::Cache(cache) => Component::Cache(Box::new(
                    Cache::new(
                        cache,
                        spec.seed,
                        |purpose| stream(&c.name, purpose),
                        (window_start, window_end),
                    )
                    .map_err(invalid(&c.name))?,
                )),
                ComponentKind::Queue(q) => {
                    Component::Queue(QueueComponent::new(q, window_start, window_end))
                }
                ComponentKind::Stream(st) => {
                    if st.groups.is_empty() {
                        return Err(invalid(&c.name)("a stream needs a consumer group".into()));
                    }
                    Component::Stream(StreamComponent::new(st, window_start, window_end))
                }
                ComponentKind::ModelServer(m) => Component::ModelServer(Box::new(
                    ModelServer::new(
                        m,
                        stream(&c.name, "batch_time"),
                        stream(&c.name, "cold_start"),
                        window_start,
                        window_end,
                    )
                    .map_err(invalid(&c.name))?,
                )),
                ComponentKind::LlmServer(m) => Component::LlmServer(Box::new(
                    crate::llm_server::LlmServer::new(
                        m,
                        stream(&c.name, "prompt_tokens"),
                        stream(&c.name, "output_tokens"),
                        stream(&c.name, "cold_start"),
                        window_start,
                        window_end,
                    )
                    .map_err(invalid(&c.name))?,
                )),
                ComponentKind::ReplicaGroup(g) => Component::ReplicaGroup(Box::new(
                    group::build_group(spec, &c.name, g, window_start, window_end)
                        .map_err(invalid(&c.name))?,
                )),
                ComponentKind::Store(st) => Component::Store(Box::new(
                    store::build(spec, ComponentId(components.len() as u32), st, metrics)
                        .map_err(invalid(&c.name))?,
                )),
            });
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
                counts: RequestCounts::default(),
                latency: LatencyHistogram::new(),
            });
        }

        let network = Network::new(spec).map_err(invalid("network"))?;

        // Stores bin their stale reads by the series' intervals.
        let interval = SeriesRecorder::new(spec.duration, Vec::new()).interval;
        for c in &mut components {
            if let Component::Store(s) = c {
                s.tracker.set_interval(interval);
            }
        }
        // A group's replicas answer it without crossing the network and
        // have no gauges of their own (the group has).
        let mut replica = Vec::new();
        for c in &components {
            if let Component::ReplicaGroup(g) = c {
                replica.resize(components.len(), false);
                for m in g.members() {
                    replica[m.index()] = true;
                }
            }
        }
        let is_replica = |i: usize| replica.get(i) == Some(&true);
        let gauged =
            (0..components.len()).filter(|&i| !is_replica(i)).count() <= MAX_GAUGED_COMPONENTS;
        let mut gauge_names = Vec::new();
        if gauged {
            for (i, (c, cs)) in components.iter().zip(&spec.components).enumerate() {
                if !is_replica(i) {
                    c.gauge_names(&cs.name, &mut gauge_names);
                }
            }
        }
        Ok(Simulation {
            offered: offered_loads(spec),
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
            hosts,
        })
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
        while let Some(event) = self.sched.pop() {
            self.handle(event);
            if self.unstable.is_some() {
                break;
            }
            let events = self.sched.events_delivered();
            if events >= next_check {
                if events >= max_events {
                    stop = StopReason::EventLimit;
                    break;
                }
                if !observer.progress(self.sched.now(), events) {
                    stop = StopReason::Interrupted;
                    break;
                }
                next_check = (events + PROGRESS_EVERY).min(max_events);
            }
        }
        match self.unstable.take() {
            Some(err) => Err(err),
            None => Ok(self.finish(stop)),
        }
    }

    fn start(&mut self) {
        self.deployments_start();
        self.groups_start();
        self.sched
            .schedule_at(SimTime::ZERO + self.series.interval, Event::SeriesTick);
        self.schedule_faults();
        self.store_schedule_faults();
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

    #[inline]
    fn handle(&mut self, event: Event) {
        match event {
            Event::OpenArrival { workload } => {
                self.new_request(workload, NO_SESSION);
                let next = self.workloads[workload as usize].next_arrival(self.sched.now());
                if next < self.window_end {
                    self.sched
                        .schedule_at(next, Event::OpenArrival { workload });
                }
            }
            Event::UserReady { workload, user } => self.new_request(workload, user),
            Event::Deliver { to, req } => self.deliver(to, req),
            Event::ServiceDone { server, req } => self.service_done(server, req),
            Event::Respond { req } => self.response_arrives(req),
            Event::Timeout { req } => self.timeout(req),
            Event::BatchDone { server, slot } => self.model_batch_done(server, slot),
            Event::BatchWake { server } => self.model_wake(server),
            Event::Llm(ev) => self.llm_event(ev),
            Event::Retry { req } => self.send_attempt(req),
            Event::Hedge { call } => self.hedge(call),
            Event::CacheHitDone { cache, req } => self.cache_hit_done(cache, req),
            Event::SeriesTick => self.series_tick(),
            Event::Deploy(e) => self.deploy_event(e),
            Event::Fault { index, start } => self.fault_event(index, start),
            Event::Store { store, ev } => self.store_event(store, ev),
        }
    }

    fn series_tick(&mut self) {
        let now = self.sched.now();
        let mut gauges = std::mem::take(&mut self.gauge_buf);
        gauges.clear();
        if self.gauged {
            for (i, c) in self.components.iter().enumerate() {
                if self.replica.get(i) != Some(&true) {
                    c.gauges(now, &mut gauges);
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
    fn new_request(&mut self, workload: u32, user: u32) {
        let now = self.sched.now();
        let counted = now >= self.window_start && now < self.window_end;
        let w = &mut self.workloads[workload as usize];
        let (key, op) = w.next_key_op();
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
        });
        self.send_attempt(req);
    }

    /// Sends a client's attempt to its workload's target, with its timeout.
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
    fn send(&mut self, sender: usize, to: ComponentId, req: RequestId) {
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
        };
        let version = p.version;
        let generation = self.requests.generation(parent);
        let child = self.requests.insert(new);
        let c = &mut self.requests[child];
        c.version = version;
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

    fn deliver(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        self.requests[req].hops.push(Hop {
            component: to,
            entered: now,
            choice: 0,
        });
        match &self.components[to.index()] {
            Component::Server(_) => self.server_arrive(to, req),
            Component::LoadBalancer(_) => self.balance(to, req),
            Component::Cache(_) => self.cache_arrive(to, req),
            Component::Queue(_) => self.queue_arrive(to, req),
            Component::Stream(_) => self.stream_arrive(to, req),
            Component::Deployment(_) => self.deployment_arrive(to, req),
            Component::ModelServer(_) | Component::LlmServer(_) => self.model_arrive(to, req),
            Component::Store(_) => self.store_arrive(to, req),
            Component::ReplicaGroup(_) => self.group_arrive(to, req),
        }
    }

    fn balance(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let Component::LoadBalancer(lb) = &mut self.components[to.index()] else {
            misrouted();
            return;
        };
        let r = &mut self.requests[req];
        if r.counted {
            lb.metrics.arrivals += 1;
        }
        lb.metrics.levels.add(now, ACTIVE, 1);
        let (choice, backend) = lb.choose(r.key);
        if let Some(hop) = r.hops.last_mut() {
            hop.choice = choice;
        }
        self.send(to.index(), backend, req);
    }

    fn server_arrive(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        let Component::Server(server) = &mut self.components[to.index()] else {
            misrouted();
            return;
        };
        match server.arrive(now, req, counted) {
            Admission::Serve { done_after } => {
                self.sched
                    .schedule_in(done_after, Event::ServiceDone { server: to, req });
            }
            Admission::Queued => {}
            Admission::Dropped => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
            Admission::Down => {
                self.requests[req].outcome = Outcome::Failed;
                self.respond(req);
            }
        }
    }

    /// A server's worker finished its own work on `req`: a leaf server
    /// answers; a server with calls starts them.
    fn service_done(&mut self, server: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let Component::Server(s) = &mut self.components[server.index()] else {
            misrouted();
            return;
        };
        // A request failed by a crash while in service.
        if s.faults.crashable && self.requests[req].pinned {
            self.requests.unpin(req);
            return;
        }
        if s.calls.is_empty() {
            let r = &mut self.requests[req];
            r.version = match r.op {
                Op::Write => self.versions.bump(r.key),
                Op::Read => self.versions.current(r.key),
            };
            self.server_answers(server, req);
            return;
        }
        if !s.holds_worker_during_calls() {
            if let Some((next, after)) = s.release_worker(now) {
                self.sched
                    .schedule_in(after, Event::ServiceDone { server, req: next });
            }
        }
        self.start_step(server, req, 0);
    }

    /// A server answers `req` (successfully or not): it frees the worker if
    /// one is still held, records the departure and responds.
    fn server_answers(&mut self, server: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let Component::Server(s) = &mut self.components[server.index()] else {
            misrouted();
            return;
        };
        if s.calls.is_empty() || s.holds_worker_during_calls() {
            if let Some((next, after)) = s.release_worker(now) {
                self.sched
                    .schedule_in(after, Event::ServiceDone { server, req: next });
            }
        }
        s.record_departure(now, entered, counted);
        self.respond(req);
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
        let now = self.sched.now();
        let r = &self.requests[req];
        let Some(&hop) = r.hops.last() else {
            match r.origin {
                Origin::Client => self.client_receives(req),
                Origin::Child => self.child_returns(req),
                Origin::Internal | Origin::Freed => {}
            }
            return;
        };
        let counted = r.counted;
        match &mut self.components[hop.component.index()] {
            Component::LoadBalancer(lb) => {
                lb.responded(hop.choice);
                let m = &mut lb.metrics;
                if counted {
                    m.completions += 1;
                    m.latency.record(now - hop.entered);
                }
                m.levels.add(now, ACTIVE, -1);
            }
            Component::ReplicaGroup(_) => self.group_answered(hop.component, req),
            Component::Server(_)
            | Component::Cache(_)
            | Component::Queue(_)
            | Component::Stream(_)
            | Component::Deployment(_)
            | Component::ModelServer(_)
            | Component::LlmServer(_)
            | Component::Store(_) => {}
        }
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
        match &self.components[link.caller.index()] {
            Component::Server(_) => self.server_call_returned(link.caller, parent, child, link.tag),
            Component::LoadBalancer(_)
            | Component::Deployment(_)
            | Component::ModelServer(_)
            | Component::LlmServer(_)
            | Component::Store(_)
            | Component::ReplicaGroup(_) => {}
            Component::Cache(_) => self.cache_call_returned(link.caller, parent, child, link.tag),
            Component::Queue(_) => self.queue_call_returned(link.caller, parent, child),
            Component::Stream(_) => self.stream_call_returned(link.caller, parent, child, link.tag),
        }
        self.requests.remove(child);
    }

    fn client_receives(&mut self, req: RequestId) {
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
    fn client_done(&mut self, req: RequestId, outcome: Outcome) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (workload, counted, session) = (r.workload, r.counted, r.session);
        let latency = now - r.born;
        let w = &mut self.workloads[workload as usize];
        match outcome {
            Outcome::Ok => self.series.completed(workload, latency),
            Outcome::Dropped => self.series.dropped(),
            Outcome::Failed => self.series.failed(),
        }
        if counted {
            match outcome {
                Outcome::Ok => {
                    w.counts.completed += 1;
                    w.latency.record(latency);
                }
                Outcome::Dropped => w.counts.dropped += 1,
                Outcome::Failed => w.counts.failed += 1,
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
        };
        if r.counted {
            w.counts.retries += 1;
        }
        let next = self.requests.insert(new);
        self.requests[next].attempt = attempt.saturating_add(1);
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
    fn declare_unstable(&mut self) {
        let now = self.sched.now();
        if let Some(err) = self.backlog_unstable() {
            self.unstable = Some(err);
            return;
        }
        let worst = self
            .components
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Component::Server(s) => Some((i, s.queue_len(), s.workers(), "worker")),
                Component::ModelServer(m) => Some((i, m.queue_len(), m.slots(), "slot")),
                Component::LlmServer(m) => Some((i, m.queue_len(), m.slots(), "slot")),
                Component::LoadBalancer(_)
                | Component::Cache(_)
                | Component::Queue(_)
                | Component::Stream(_)
                | Component::Deployment(_)
                | Component::Store(_)
                | Component::ReplicaGroup(_) => None,
            })
            .max_by_key(|&(_, queued, _, _)| queued);
        let (component, detail) = match worst {
            Some((i, queued, workers, unit)) => {
                let name = self.spec.components[i].name.clone();
                let detail = match self.offered[i] {
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
        let in_flight = self.requests.live_counted_by_workload(self.workloads.len());
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
        let mut components: Vec<ComponentResult> = self
            .components
            .iter()
            .zip(&self.spec.components)
            .zip(&self.offered)
            .map(|((c, spec), offered)| {
                if let Component::Deployment(d) = c {
                    return deployment::deployment_result(d, &self.hosts, &spec.name, *offered);
                }
                let m = c.metrics();
                let (kind, workers) = match c {
                    Component::Server(s) => (ComponentType::Server, s.workers()),
                    Component::LoadBalancer(_)
                    | Component::Deployment(_)
                    | Component::ReplicaGroup(_) => (ComponentType::LoadBalancer, 0),
                    Component::Cache(_) => (ComponentType::Cache, 0),
                    Component::Queue(q) => (ComponentType::Queue, q.queue.concurrency()),
                    Component::Stream(s) => (ComponentType::Stream, s.consumers()),
                    Component::ModelServer(m) => (ComponentType::ModelServer, m.slots()),
                    Component::LlmServer(m) => (ComponentType::ModelServer, m.slots()),
                    Component::Store(s) => (ComponentType::Store, s.workers * s.n() as u32),
                };
                ComponentResult {
                    name: spec.name.clone(),
                    kind,
                    workers,
                    arrivals: m.arrivals,
                    completions: m.completions,
                    drops: m.drops,
                    utilization: match c {
                        Component::ModelServer(ms) => ms.utilization(),
                        Component::LlmServer(ms) => ms.utilization(),
                        _ if workers > 0 => m.levels.mean(ACTIVE) / f64::from(workers),
                        _ => 0.0,
                    },
                    mean_queue_length: m.levels.mean(WAITING),
                    mean_in_system: m.mean_in_system(),
                    peak_queue_length: m.levels.peak(WAITING),
                    latency: m.latency.clone(),
                    offered_load: *offered,
                    figures: c.figures(),
                    lost_in_crash: c.lost_in_crash(),
                    scaling: None,
                    replica_of: None,
                }
            })
            .collect();
        // Groups sum up their replicas, which say whose they are.
        for (i, c) in self.components.iter().enumerate() {
            if let Component::ReplicaGroup(g) = c {
                let name = &self.spec.components[i].name;
                for m in g.members() {
                    components[m.index()].replica_of = Some(name.clone());
                }
                let members: Vec<&ComponentResult> =
                    g.members().iter().map(|m| &components[m.index()]).collect();
                components[i] = group::group_result(g, name, &members);
            }
        }
        let series = self
            .series
            .finish(self.sched.now(), self.requests.live() as u64);
        let consistency = self.components.iter().find_map(|c| match c {
            Component::Store(s) => Some(s.consistency()),
            _ => None,
        });
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
        }
    }
}
