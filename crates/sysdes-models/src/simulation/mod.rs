//! The assembled system and its event loop.

mod store;

use sysdes_kernel::{ComponentId, Scheduler, SimTime, derive_stream};
use sysdes_stats::{LatencyHistogram, RequestCounts};

use crate::capacity::offered_loads;
use crate::error::{BuildError, RunError};
use crate::load_balancer::LoadBalancer;
use crate::request::{Hop, Outcome, RequestId, RequestSlab};
use crate::result::{ComponentResult, RunResult, StopReason, WorkloadResult};
use crate::sampler::{KeySampler, Sampler};
use crate::series::SeriesRecorder;
use crate::server::{Admission, Server};
use crate::spec::{ArrivalSpec, ComponentKind, Distribution, ModelSpec};
use crate::station::{ACTIVE, StationMetrics, WAITING};
use crate::workload::{Pacing, Workload};

mod network; // netfault: zones, links, partitions
pub(crate) use network::Network;

/// Everything that happens in a run. Small and `Copy`: it names a request by
/// id, never carries its data.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// An open workload's next request arrives.
    OpenArrival { workload: u32 },
    /// A closed workload's user finishes thinking and sends a request.
    UserReady { workload: u32 },
    /// A request reaches a component after a network hop.
    Deliver { to: ComponentId, req: RequestId },
    /// A server's worker finishes a request.
    ServiceDone { server: ComponentId, req: RequestId },
    /// A response reaches the next hop out (a balancer or the client).
    Respond { req: RequestId },
    /// A client gives up waiting.
    Timeout { req: RequestId },
    /// The end of a time-series interval.
    SeriesTick,
    /// A replicated store's own event.
    Store {
        store: ComponentId,
        ev: store::StoreEvent,
    },
}

/// A component's state, matched exhaustively in the loop (no dynamic dispatch).
#[derive(Debug)]
enum Component {
    Server(Server),
    LoadBalancer(LoadBalancer),
    Store(Box<crate::store::Store>),
}

impl Component {
    fn metrics(&self) -> &StationMetrics {
        match self {
            Component::Server(s) => &s.metrics,
            Component::LoadBalancer(lb) => &lb.metrics,
            Component::Store(s) => &s.metrics,
        }
    }
}

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
    window_start: SimTime,
    window_end: SimTime,
    offered: Vec<Option<f64>>,
    unstable: Option<RunError>,
    max_in_flight: u64,
    series: SeriesRecorder,
}

fn invalid(component: &str) -> impl Fn(String) -> BuildError + '_ {
    move |reason| BuildError::InvalidParameter {
        component: component.to_string(),
        reason,
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

        let mut components = Vec::with_capacity(spec.components.len());
        for c in &spec.components {
            let metrics = StationMetrics::new(window_start, window_end);
            components.push(match &c.kind {
                ComponentKind::Server(s) => {
                    if s.workers == 0 {
                        return Err(invalid(&c.name)(
                            "a server needs at least one worker".into(),
                        ));
                    }
                    Component::Server(Server::new(
                        s.workers,
                        s.queue_capacity,
                        Sampler::new(&s.service_time).map_err(invalid(&c.name))?,
                        stream(&c.name, "service"),
                        metrics,
                    ))
                }
                ComponentKind::LoadBalancer(lb) => {
                    if lb.backends.is_empty() {
                        return Err(invalid(&c.name)("a load balancer needs a backend".into()));
                    }
                    for &b in &lb.backends {
                        check(&c.name, b)?;
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
                ArrivalSpec::Poisson { per_second } => {
                    if per_second.is_nan() || *per_second <= 0.0 {
                        return Err(bad("the arrival rate must be positive".into()));
                    }
                    Pacing::RandomGaps {
                        gaps: Sampler::new(&Distribution::Exponential {
                            mean_ns: 1e9 / per_second,
                        })
                        .map_err(&bad)?,
                        rng: stream(&w.name, "arrivals"),
                    }
                }
                ArrivalSpec::Constant { per_second } => {
                    if per_second.is_nan() || *per_second <= 0.0 {
                        return Err(bad("the arrival rate must be positive".into()));
                    }
                    Pacing::Periodic {
                        period_ns: 1e9 / per_second,
                        sent: 0,
                    }
                }
                ArrivalSpec::Interarrival(d) => Pacing::RandomGaps {
                    gaps: Sampler::new(d).map_err(&bad)?,
                    rng: stream(&w.name, "arrivals"),
                },
                ArrivalSpec::Closed { users, think_time } => Pacing::Closed {
                    users: *users,
                    think: Sampler::new(think_time).map_err(&bad)?,
                    rng: stream(&w.name, "think"),
                },
            };
            workloads.push(Workload {
                target: w.target,
                pacing,
                keys: KeySampler::new(&w.keys).map_err(&bad)?,
                key_rng: stream(&w.name, "keys"),
                timeout: w.timeout,
                counts: RequestCounts::default(),
                latency: LatencyHistogram::new(),
            });
        }

        let network = Network::new(spec).map_err(invalid("network"))?;

        Ok(Simulation {
            offered: offered_loads(spec),
            spec: spec.clone(),
            sched: Scheduler::new(),
            requests: RequestSlab::default(),
            components,
            workloads,
            network,
            window_start,
            window_end,
            unstable: None,
            max_in_flight: 0,
            series: SeriesRecorder::new(spec.duration),
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
        self.sched
            .schedule_at(SimTime::ZERO + self.series.interval, Event::SeriesTick);
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
            for _ in 0..self.workloads[w].users() {
                self.user_thinks(w as u32);
            }
        }
    }

    #[inline]
    fn handle(&mut self, event: Event) {
        match event {
            Event::OpenArrival { workload } => {
                self.new_request(workload);
                let next = self.workloads[workload as usize].next_arrival(self.sched.now());
                if next < self.window_end {
                    self.sched
                        .schedule_at(next, Event::OpenArrival { workload });
                }
            }
            Event::UserReady { workload } => self.new_request(workload),
            Event::Deliver { to, req } => self.deliver(to, req),
            Event::ServiceDone { server, req } => self.service_done(server, req),
            Event::Respond { req } => self.response_arrives(req),
            Event::Timeout { req } => self.timeout(req),
            Event::Store { store, ev } => self.store_event(store, ev),
            Event::SeriesTick => {
                let now = self.sched.now();
                self.series.close(now, self.requests.live() as u64);
                let next = now + self.series.interval;
                if next < self.window_end {
                    self.sched.schedule_at(next, Event::SeriesTick);
                }
            }
        }
    }

    fn new_request(&mut self, workload: u32) {
        let now = self.sched.now();
        let counted = now >= self.window_start && now < self.window_end;
        let w = &mut self.workloads[workload as usize];
        let key = w.keys.sample(&mut w.key_rng);
        let target = w.target;
        if counted {
            w.counts.generated += 1;
        }
        let timeout = w.timeout;
        let req = self.requests.insert(workload, now, key, counted);
        {
            use rand::RngExt;
            let ws = self.spec.workloads[workload as usize].write_share;
            let sessions = self.spec.workloads[workload as usize].sessions;
            let w = &mut self.workloads[workload as usize];
            let u: f64 = w.key_rng.random();
            let r = &mut self.requests[req];
            r.op = if u < ws { crate::request::Op::Write } else { crate::request::Op::Read };
            r.session = sessions.map_or(u32::MAX, |n| w.key_rng.random_range(0..n));
        }
        if let Some(after) = timeout {
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
        } else {
            let delay = self.network.latency.sample(&mut self.network.rngs[sender]);
            self.sched.schedule_in(delay, Event::Deliver { to, req });
        }
    }

    fn deliver(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let r = &mut self.requests[req];
        let counted = r.counted;
        match &mut self.components[to.index()] {
            Component::Server(server) => {
                r.hops.push(Hop {
                    component: to,
                    entered: now,
                    choice: 0,
                });
                match server.arrive(now, req, counted) {
                    Admission::Serve { done_after } => {
                        self.sched
                            .schedule_in(done_after, Event::ServiceDone { server: to, req });
                    }
                    Admission::Queued => {}
                    Admission::Dropped => {
                        r.outcome = Outcome::Dropped;
                        self.respond(req);
                    }
                }
            }
            Component::Store(_) => {
                r.hops.push(Hop {
                    component: to,
                    entered: now,
                    choice: 0,
                });
                self.store_arrive(to, req);
            }
            Component::LoadBalancer(lb) => {
                if counted {
                    lb.metrics.arrivals += 1;
                }
                lb.metrics.levels.add(now, ACTIVE, 1);
                let (choice, backend) = lb.choose(r.key);
                r.hops.push(Hop {
                    component: to,
                    entered: now,
                    choice,
                });
                self.send(to.index(), backend, req);
            }
        }
    }

    fn service_done(&mut self, server: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        if let Component::Server(s) = &mut self.components[server.index()] {
            if let Some((next, after)) = s.finish(now, entered, counted) {
                self.sched
                    .schedule_in(after, Event::ServiceDone { server, req: next });
            }
        }
        self.respond(req);
    }

    /// The innermost component holding `req` answers it: the response goes
    /// one hop back out.
    fn respond(&mut self, req: RequestId) {
        let Some(hop) = self.requests[req].hops.pop() else {
            return;
        };
        if self.network.zero {
            self.response_arrives(req);
        } else {
            let delay = self
                .network
                .latency
                .sample(&mut self.network.rngs[hop.component.index()]);
            self.sched.schedule_in(delay, Event::Respond { req });
        }
    }

    fn response_arrives(&mut self, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let Some(&hop) = r.hops.last() else {
            self.client_receives(req);
            return;
        };
        let counted = r.counted;
        if let Component::LoadBalancer(lb) = &mut self.components[hop.component.index()] {
            lb.responded(hop.choice);
            let m = &mut lb.metrics;
            if counted {
                m.completions += 1;
                m.latency.record(now - hop.entered);
            }
            m.levels.add(now, ACTIVE, -1);
        }
        self.respond(req);
    }

    fn client_receives(&mut self, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let workload = r.workload;
        if r.abandoned {
            // The client already gave up and moved on.
            self.requests.remove(req);
            return;
        }
        if let Some(timer) = r.timeout {
            self.sched.cancel(timer);
        }
        let w = &mut self.workloads[workload as usize];
        let latency = now - r.born;
        match r.outcome {
            Outcome::Ok => self.series.completed(latency),
            Outcome::Dropped | Outcome::Failed => self.series.dropped(),
        }
        if r.counted {
            match r.outcome {
                Outcome::Ok => {
                    w.counts.completed += 1;
                    w.latency.record(latency);
                }
                Outcome::Dropped | Outcome::Failed => w.counts.dropped += 1,
            }
        }
        self.requests.remove(req);
        self.user_thinks(workload);
    }

    fn timeout(&mut self, req: RequestId) {
        let r = &mut self.requests[req];
        r.abandoned = true;
        r.timeout = None;
        let workload = r.workload;
        self.series.timed_out();
        if r.counted {
            self.workloads[workload as usize].counts.timed_out += 1;
        }
        self.user_thinks(workload);
    }

    /// A closed workload's user thinks, then sends again if before the end.
    fn user_thinks(&mut self, workload: u32) {
        if let Some(think) = self.workloads[workload as usize].think() {
            let at = self.sched.now() + think;
            if at < self.window_end {
                self.sched.schedule_at(at, Event::UserReady { workload });
            }
        }
    }

    /// Names the component most likely at fault: the longest queue, with its
    /// offered load when the spec determines it.
    fn declare_unstable(&mut self) {
        let now = self.sched.now();
        let worst = self
            .components
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Component::Server(s) => Some((i, s)),
                Component::LoadBalancer(_) | Component::Store(_) => None,
            })
            .max_by_key(|(_, s)| s.queue_len());
        let (component, detail) = match worst {
            Some((i, s)) => {
                let name = self.spec.components[i].name.clone();
                let detail = match self.offered[i] {
                    Some(load) if load.is_finite() => format!(
                        "offered load {:.2} times its capacity of {} worker{}; {} requests queued",
                        load,
                        s.workers(),
                        if s.workers() == 1 { "" } else { "s" },
                        s.queue_len()
                    ),
                    _ => format!("{} requests queued", s.queue_len()),
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
        let components = self
            .components
            .iter()
            .zip(&self.spec.components)
            .zip(&self.offered)
            .map(|((c, spec), offered)| {
                let m = c.metrics();
                let (kind, workers) = match c {
                    Component::Server(s) => ("server", s.workers()),
                    Component::LoadBalancer(_) => ("load_balancer", 0),
                    Component::Store(s) => ("store", s.workers * s.n() as u32),
                };
                ComponentResult {
                    name: spec.name.clone(),
                    kind,
                    workers,
                    arrivals: m.arrivals,
                    completions: m.completions,
                    drops: m.drops,
                    utilization: if workers > 0 {
                        m.levels.mean(ACTIVE) / f64::from(workers)
                    } else {
                        0.0
                    },
                    mean_queue_length: m.levels.mean(WAITING),
                    mean_in_system: m.mean_in_system(),
                    peak_queue_length: m.levels.peak(WAITING),
                    latency: m.latency.clone(),
                    offered_load: *offered,
                    extras: match c {
                        Component::Store(s) => s.extras(),
                        _ => Vec::new(),
                    },
                }
            })
            .collect();
        let series = self
            .series
            .finish(self.sched.now(), self.requests.live() as u64);
        RunResult {
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
            consistency: self.components.iter().find_map(|c| match c {
                Component::Store(s) => Some(s.consistency()),
                _ => None,
            }),
        }
    }
}
