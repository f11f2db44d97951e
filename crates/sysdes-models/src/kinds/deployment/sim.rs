//! The engine side of deployments: routing a request to a replica, running
//! its service on a dedicated CPU or on a shared host (processor sharing),
//! booting and draining replicas, placing them on hosts, and the
//! autoscaler's periodic evaluation.

use sysdes_kernel::{SimDuration, SimTime, TimerId, derive_stream};
use sysdes_stats::TimeAverage;

use crate::autoscaler::{Hpa, HpaConfig};
use crate::error::BuildError;
use crate::figures::{ComponentType, KindFigures};
use crate::host::ProcessorSharing;
use crate::kinds::deployment::spec::{
    AutoscalerSpec, DeploymentSpec, HostPoolSpec, Placement, ScaleMetric,
};
use crate::kinds::deployment::{
    Deployment, NO_HOST, READY, ReplicaAdmission, ReplicaState, ScaleEvent,
};
use crate::kinds::{DeploymentId, ReplicaGroupId};
use crate::request::{Op, Outcome, RequestId};
use crate::result::ComponentResult;
use crate::sampler::Sampler;
use crate::simulation::{Event, Simulation};
use crate::spec::{LbPolicy, ModelSpec};
use crate::station::{ACTIVE, StationMetrics, WAITING};

/// A deployment's timers. Small and `Copy`, like every event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DeployEvent {
    /// A replica with dedicated CPUs finishes a request.
    ServiceDone { dep: DeploymentId, req: RequestId },
    /// A replica has booted and starts serving.
    Booted { dep: DeploymentId, replica: u32 },
    /// The autoscaler evaluates.
    Autoscale { dep: DeploymentId },
    /// The earliest job on a shared host finishes.
    HostDone { host: u32 },
    /// A replica of a group has booted (`group.rs`).
    GroupBooted { group: ReplicaGroupId, replica: u32 },
    /// A group's autoscaler evaluates.
    GroupAutoscale { group: ReplicaGroupId },
}

/// A request in service on a shared host.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HostJob {
    dep: DeploymentId,
    req: RequestId,
}

/// One host of a pool: its CPU (processor sharing over its cores) and its
/// memory.
#[derive(Debug)]
pub(crate) struct HostRuntime {
    ps: ProcessorSharing<HostJob>,
    /// The timer of the earliest completion, and when it is due.
    timer: Option<(TimerId, SimTime)>,
    memory_free: u64,
    replicas: u32,
    placement: Placement,
    /// Busy cores over the window.
    busy: TimeAverage<1>,
}

/// Builds the hosts of every pool, pools in order, hosts of a pool adjacent.
pub(crate) fn build_hosts(spec: &ModelSpec, start: SimTime, end: SimTime) -> Vec<HostRuntime> {
    let mut hosts = Vec::new();
    for pool in &spec.hosts {
        for _ in 0..pool.count {
            hosts.push(HostRuntime {
                ps: ProcessorSharing::new(pool.cores),
                timer: None,
                memory_free: pool.memory,
                replicas: 0,
                placement: pool.placement,
                busy: TimeAverage::new(start, end),
            });
        }
    }
    hosts
}

/// The global index of the first host of pool `pool`.
fn pool_range(pools: &[HostPoolSpec], pool: usize) -> (u32, u32) {
    let first: u32 = pools[..pool].iter().map(|p| p.count).sum();
    (first, pools[pool].count)
}

/// A host of `pool` with `memory` free, by the pool's placement rule.
fn pick_host(hosts: &[HostRuntime], (first, count): (u32, u32), memory: u64) -> Option<u32> {
    let range = first as usize..(first + count) as usize;
    let fits = |h: &&HostRuntime| h.memory_free >= memory;
    match hosts.get(first as usize).map(|h| h.placement) {
        Some(Placement::FirstFit) => hosts[range.clone()].iter().position(|h| fits(&h)),
        Some(Placement::Spread) => hosts[range.clone()]
            .iter()
            .enumerate()
            .filter(|(_, h)| fits(h))
            .min_by_key(|(i, h)| (h.replicas, std::cmp::Reverse(h.memory_free), *i))
            .map(|(i, _)| i),
        None => None,
    }
    .map(|i| first + i as u32)
}

/// A checked autoscaler with its metric and interval.
pub(crate) fn hpa(a: &AutoscalerSpec) -> Result<(Hpa, ScaleMetric, SimDuration), String> {
    if a.min == 0 || a.max < a.min || a.target.is_nan() || a.target <= 0.0 {
        return Err("an autoscaler needs 1 <= min <= max and a positive target".into());
    }
    if a.interval == SimDuration::ZERO {
        return Err("the autoscaler's interval must be positive".into());
    }
    Ok((
        Hpa::new(HpaConfig {
            target: a.target,
            tolerance: a.tolerance,
            min: a.min,
            max: a.max,
            scale_down_stabilization: a.scale_down_stabilization,
        }),
        a.metric,
        a.interval,
    ))
}

/// Builds a deployment and places its initial replicas (ready at time zero).
pub(crate) fn build_deployment(
    spec: &ModelSpec,
    name: &str,
    d: &DeploymentSpec,
    hosts: &mut [HostRuntime],
    start: SimTime,
    end: SimTime,
) -> Result<Deployment, BuildError> {
    let invalid = |reason: String| BuildError::InvalidParameter {
        component: name.to_string(),
        reason,
    };
    if d.server.workers == 0 {
        return Err(invalid("a server needs at least one worker".into()));
    }
    if !d.server.calls.is_empty() {
        return Err(invalid(
            "a deployment's replicas are leaf servers (a server with calls and replicas is a replica group)"
                .into(),
        ));
    }
    if d.server.discipline != crate::spec::Discipline::Fifo || d.server.patience.is_some() {
        return Err(invalid(
            "a deployment's replicas serve in arrival order: `discipline` and `patience` apply to a single server (without `replicas`)"
                .into(),
        ));
    }
    if d.replicas == 0 {
        return Err(invalid("a deployment needs at least one replica".into()));
    }
    if d.balance == LbPolicy::ConsistentHash {
        return Err(invalid(
            "replicas cannot be balanced by consistent_hash (the set of replicas changes)".into(),
        ));
    }
    let stream = |purpose: &str| derive_stream(spec.seed, name, purpose);
    let mut dep = Deployment::new(
        d.server.workers,
        d.server.queue_capacity,
        Sampler::new(&d.server.service_time).map_err(invalid)?,
        stream("service"),
        Sampler::new(&d.runs_on.boot_time).map_err(invalid)?,
        stream("boot"),
        d.balance,
        stream("balance"),
        StationMetrics::new(start, end),
        TimeAverage::new(start, end),
    );
    dep.memory = d.memory;
    dep.cpu = d.cpu;
    if let Some(pool) = d.host {
        if pool >= spec.hosts.len() {
            return Err(invalid(format!("host pool index {pool} does not exist")));
        }
        dep.pool = Some(pool_range(&spec.hosts, pool));
    }
    if let Some(a) = &d.autoscaler {
        dep.hpa = Some(hpa(a).map_err(invalid)?);
    }
    for k in 0..d.replicas {
        let host = match dep.pool {
            None => NO_HOST,
            Some(range) => {
                let Some(h) = pick_host(hosts, range, d.memory) else {
                    let pool = &spec.hosts[d.host.unwrap_or(0)];
                    return Err(invalid(format!(
                        "replica {} of {} does not fit on host pool `{}` ({} hosts with {} bytes of memory each; each replica needs {} bytes)",
                        k + 1,
                        d.replicas,
                        pool.name,
                        pool.count,
                        pool.memory,
                        d.memory
                    )));
                };
                let host = &mut hosts[h as usize];
                host.memory_free -= d.memory;
                host.replicas += 1;
                h
            }
        };
        dep.add_replica(SimTime::ZERO, host, true);
    }
    Ok(dep)
}

impl Simulation {
    /// Schedules every autoscaler's first evaluation.
    pub(crate) fn deployments_start(&mut self) {
        for (i, d) in self.components.deployment.items.iter().enumerate() {
            if let Some((_, _, interval)) = &d.hpa {
                let at = SimTime::ZERO + *interval;
                if at < self.window_end {
                    let dep = DeploymentId(i as u32);
                    self.sched
                        .schedule_at(at, Event::Deploy(DeployEvent::Autoscale { dep }));
                }
            }
        }
    }

    pub(crate) fn deploy_event(&mut self, event: DeployEvent) {
        match event {
            DeployEvent::ServiceDone { dep, req } => self.replica_done(dep, req),
            DeployEvent::Booted { dep, replica } => {
                let now = self.sched.now();
                let d = &mut self.components[dep];
                if d.replica(replica).state == ReplicaState::Booting {
                    d.make_ready(now, replica);
                }
            }
            DeployEvent::Autoscale { dep } => self.autoscale(dep),
            DeployEvent::GroupBooted { group, replica } => self.group_booted(group, replica),
            DeployEvent::GroupAutoscale { group } => self.group_autoscale(group),
            DeployEvent::HostDone { host } => {
                let now = self.sched.now();
                let h = &mut self.hosts[host as usize];
                h.timer = None;
                let job = h.ps.complete(now);
                h.busy.set(now, [u64::from(h.ps.busy_cores())]);
                self.host_reschedule(host);
                if let Some(job) = job {
                    self.replica_done(job.dep, job.req);
                }
            }
        }
    }

    /// A request reaches a deployment (the engine has pushed its hop): the
    /// implicit balancer picks a ready replica, which serves, queues or drops
    /// it. The hop's `choice` remembers the replica.
    pub(crate) fn deployment_arrive(&mut self, to: DeploymentId, req: RequestId) {
        let now = self.sched.now();
        let r = &mut self.requests[req];
        let counted = r.counted;
        let d = &mut self.components[to];
        let Some(replica) = d.choose() else {
            // Nothing is ready (only possible while every replica boots).
            if counted {
                d.metrics.arrivals += 1;
                d.metrics.drops += 1;
            }
            d.log.no_replica_drops += 1;
            r.outcome = Outcome::Dropped;
            self.respond(req);
            return;
        };
        if let Some(hop) = r.hops.last_mut() {
            hop.choice = replica;
        }
        match d.arrive(now, replica, req, counted) {
            ReplicaAdmission::Serve(work) => self.start_work(to, replica, req, work),
            ReplicaAdmission::Queued => {}
            ReplicaAdmission::Dropped => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
        }
    }

    /// Starts `work` for `req` on `replica`: a timer on a dedicated CPU, or a
    /// job on the replica's host.
    fn start_work(&mut self, dep: DeploymentId, replica: u32, req: RequestId, work: SimDuration) {
        let d = &self.components[dep];
        let host = d.replica(replica).host;
        if host == NO_HOST {
            self.sched
                .schedule_in(work, Event::Deploy(DeployEvent::ServiceDone { dep, req }));
        } else {
            let now = self.sched.now();
            let h = &mut self.hosts[host as usize];
            h.ps.add(now, work, HostJob { dep, req });
            h.busy.set(now, [u64::from(h.ps.busy_cores())]);
            self.host_reschedule(host);
        }
    }

    /// Moves host `host`'s completion timer to its earliest completion.
    fn host_reschedule(&mut self, host: u32) {
        let now = self.sched.now();
        let h = &mut self.hosts[host as usize];
        let next = h.ps.next_completion(now);
        match (h.timer, next) {
            (Some((_, due)), Some(at)) if due == at => {}
            (old, next) => {
                if let Some((timer, _)) = old {
                    self.sched.cancel(timer);
                }
                h.timer = next.map(|at| {
                    (
                        self.sched
                            .schedule_timer_at(at, Event::Deploy(DeployEvent::HostDone { host })),
                        at,
                    )
                });
            }
        }
    }

    /// A replica finished `req`: start the next waiting request, retire a
    /// drained replica, answer.
    fn replica_done(&mut self, dep: DeploymentId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let counted = r.counted;
        let Some(&hop) = r.hops.last() else {
            return;
        };
        let d = &mut self.components[dep];
        let replica = hop.choice;
        let (next, gone) = d.finish(now, replica, hop.entered, counted);
        if let Some((next, work)) = next {
            self.start_work(dep, replica, next, work);
        }
        if gone {
            self.release_host(dep, replica);
        }
        // A replica is a leaf server: a write makes a new version of its key.
        let r = &mut self.requests[req];
        r.version = match r.op {
            Op::Write => self.versions.bump(r.key),
            Op::Read => self.versions.current(r.key),
        };
        self.respond(req);
    }

    /// Frees the host memory of a replica that is gone, and lets pending
    /// replicas of any deployment take the room.
    fn release_host(&mut self, dep: DeploymentId, replica: u32) {
        let d = &self.components[dep];
        let host = d.replica(replica).host;
        if host == NO_HOST {
            return;
        }
        let h = &mut self.hosts[host as usize];
        h.memory_free += d.memory;
        h.replicas -= 1;
        for i in 0..self.components.deployment.items.len() {
            let dep = DeploymentId(i as u32);
            if self.components[dep].pending > 0 {
                self.place_pending(dep);
            }
        }
    }

    /// Starts as many of `dep`'s pending replicas as fit on its pool.
    fn place_pending(&mut self, dep: DeploymentId) {
        let now = self.sched.now();
        loop {
            let d = &mut self.components[dep];
            if d.pending == 0 {
                return;
            }
            let Some(pool) = d.pool else { return };
            let Some(host) = pick_host(&self.hosts, pool, d.memory) else {
                return;
            };
            d.pending -= 1;
            d.pending_changed(now);
            self.boot_replica(dep, host);
        }
    }

    /// Creates a booting replica on `host` (already chosen, or [`NO_HOST`])
    /// and schedules the end of its boot.
    fn boot_replica(&mut self, dep: DeploymentId, host: u32) {
        let now = self.sched.now();
        let d = &mut self.components[dep];
        if host != NO_HOST {
            let h = &mut self.hosts[host as usize];
            h.memory_free -= d.memory;
            h.replicas += 1;
        }
        let replica = d.add_replica(now, host, false);
        let boot = d.boot_time();
        let timer = self
            .sched
            .schedule_timer_in(boot, Event::Deploy(DeployEvent::Booted { dep, replica }));
        d.set_boot_timer(replica, timer);
    }

    /// One autoscaler evaluation, then the next one is scheduled.
    fn autoscale(&mut self, dep: DeploymentId) {
        let now = self.sched.now();
        let d = &mut self.components[dep];
        let Some((metric, interval)) = d.hpa.as_ref().map(|(_, m, i)| (*m, *i)) else {
            return;
        };
        let value = d.take_metric(now, metric);
        let current = d.wanted();
        let ready = d.ready_count();
        let desired = d.hpa.as_mut().map_or(current, |(hpa, _, _)| {
            hpa.decide(now, current, ready, value)
        });
        self.scale_to(dep, desired);
        let next = now + interval;
        if next < self.window_end {
            self.sched
                .schedule_at(next, Event::Deploy(DeployEvent::Autoscale { dep }));
        }
    }

    /// Starts or retires replicas until `desired` are wanted.
    fn scale_to(&mut self, dep: DeploymentId, desired: u32) {
        let now = self.sched.now();
        let d = &mut self.components[dep];
        let current = d.wanted();
        if desired == current {
            return;
        }
        d.log.scale_events.push(ScaleEvent {
            at_s: now.as_secs_f64(),
            from: current,
            to: desired,
        });
        if desired > current {
            for _ in current..desired {
                let d = &mut self.components[dep];
                match d.pool {
                    None => self.boot_replica(dep, NO_HOST),
                    Some(pool) => match pick_host(&self.hosts, pool, d.memory) {
                        Some(host) => self.boot_replica(dep, host),
                        None => {
                            d.pending += 1;
                            d.pending_changed(now);
                        }
                    },
                }
            }
            return;
        }
        for _ in desired..current {
            let d = &mut self.components[dep];
            if d.pending > 0 {
                d.pending -= 1;
                d.pending_changed(now);
                continue;
            }
            let Some(victim) = d.victim() else {
                return;
            };
            if let Some(timer) = d.replica(victim).boot_timer {
                self.sched.cancel(timer);
            }
            if d.retire(now, victim) {
                self.release_host(dep, victim);
            }
        }
    }
}

/// Names of a deployment's time-series gauges: replicas ready, booting and
/// pending (waiting for room on a host).
pub(crate) fn gauge_names(name: &str, out: &mut Vec<String>) {
    out.push(format!("{name}.replicas_ready"));
    out.push(format!("{name}.replicas_booting"));
    out.push(format!("{name}.replicas_pending"));
}

/// The current value of each gauge named by [`gauge_names`].
pub(crate) fn gauges(d: &Deployment, out: &mut Vec<f64>) {
    let [ready, booting, pending] = d.log.gauges.levels();
    out.push(ready as f64);
    out.push(booting as f64);
    out.push(pending as f64);
}

/// The results of deployment `d` called `name`.
pub(crate) fn deployment_result(
    d: &Deployment,
    all_hosts: &[HostRuntime],
    name: &str,
) -> ComponentResult {
    let m = &d.metrics;
    let ready_mean = d.log.gauges.mean(READY);
    let capacity = ready_mean * f64::from(d.workers());
    let mut result = ComponentResult {
        name: name.to_string(),
        kind: ComponentType::Server,
        workers: d.workers(),
        arrivals: m.arrivals,
        completions: m.completions,
        drops: m.drops,
        utilization: if capacity > 0.0 {
            m.levels.mean(ACTIVE) / capacity
        } else {
            0.0
        },
        mean_queue_length: m.levels.mean(WAITING),
        mean_in_system: m.mean_in_system(),
        peak_queue_length: m.levels.peak(WAITING),
        latency: m.latency.clone(),
        offered_load: None,
        figures: KindFigures::None,
        lost_in_crash: None,
        scaling: None,
        replica_of: None,
    };
    let mut scaling = d.log.figures(true);
    if let Some((first, count)) = d.pool {
        let hosts = &all_hosts[first as usize..(first + count) as usize];
        let cores: f64 = hosts.iter().map(|h| f64::from(h.ps.cores())).sum();
        let busy: f64 = hosts.iter().map(|h| h.busy.mean(0)).sum();
        scaling.host_pool_utilization = Some(busy / cores);
    }
    result.scaling = Some(scaling);
    result
}

impl crate::kinds::Kind for Deployment {
    type Spec = DeploymentSpec;

    fn build(ctx: &mut crate::kinds::BuildCtx<'_>, d: &Self::Spec) -> Result<Self, BuildError> {
        build_deployment(ctx.spec, ctx.name, d, ctx.hosts, ctx.window.0, ctx.window.1)
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    /// Not used: a deployment builds its own result line.
    fn result_type(&self) -> (ComponentType, u32) {
        (ComponentType::LoadBalancer, 0)
    }

    fn own_result(&self, hosts: &[HostRuntime], name: &str) -> Option<ComponentResult> {
        Some(deployment_result(self, hosts, name))
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        gauge_names(name, out);
    }

    fn gauges(&self, _: SimTime, out: &mut Vec<f64>) {
        gauges(self, out);
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId) {
        sim.deployment_arrive(at, req);
    }
}
