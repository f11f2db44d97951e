//! The engine side of replica groups: handing a request to a ready replica
//! (a station's service on a dedicated CPU or a shared host, or a component
//! of its own reached without a network hop, whose answer the group
//! relays), booting, placing and draining replicas, and the autoscaler's
//! periodic evaluation.

use sysdes_kernel::{ComponentId, SimDuration, SimTime};
use sysdes_stats::TimeAverage;

use crate::autoscaler::{Hpa, HpaConfig};
use crate::error::BuildError;
use crate::figures::{ComponentType, KindFigures, ScalingFigures};
use crate::kinds::replica_group::hosts::HostJob;
use crate::kinds::replica_group::hosts::{HostRuntime, pick_host, pool_range, pool_utilization};
use crate::kinds::replica_group::spec::{AutoscalerSpec, GroupSpec, ReplicaMembers, ScaleMetric};
use crate::kinds::replica_group::{
    HostPlacement, Members, NO_HOST, READY, ReplicaAdmission, ReplicaGroup, ScaleEvent, Stations,
};
use crate::kinds::{BuildCtx, Kind, ReplicaGroupId, Resolved};
use crate::request::{Op, Outcome, RequestId};
use crate::result::ComponentResult;
use crate::sampler::Sampler;
use crate::simulation::{Event, Simulation};
use crate::spec::{ComponentKind, LbPolicy, ModelSpec, ServerSpec};
use crate::station::{ACTIVE, BusyArea, StationMetrics, WAITING};

kind_events! {
    /// A replica group's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    replica_group_events {
        /// A replica group's timers (see [`DeployEvent`]).
        Deploy(ev: crate::kinds::replica_group::sim::DeployEvent) => deploy_event,
    }
}

/// A replica group's timers. Small and `Copy`, like every event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DeployEvent {
    /// A station with dedicated CPUs finishes a request.
    ServiceDone {
        group: ReplicaGroupId,
        req: RequestId,
    },
    /// A replica has booted and starts serving.
    Booted { group: ReplicaGroupId, replica: u32 },
    /// The autoscaler evaluates.
    Autoscale { group: ReplicaGroupId },
    /// The earliest job on a shared host finishes.
    HostDone { host: u32 },
    /// A spot replica is warned of its interruption (see `spot.rs`).
    SpotNotice { group: ReplicaGroupId, replica: u32 },
    /// A spot replica is interrupted.
    SpotInterrupt { group: ReplicaGroupId, replica: u32 },
    /// An interrupted spot replica's replacement starts booting.
    SpotReplace { group: ReplicaGroupId },
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

/// Replicas come and go, so no balancing policy may depend on the set.
fn check_balance(balance: LbPolicy) -> Result<(), String> {
    if balance == LbPolicy::ConsistentHash {
        return Err(
            "replicas cannot be balanced by consistent_hash (the set of replicas changes)".into(),
        );
    }
    Ok(())
}

/// Builds a group of `members` with the checks and parts both forms
/// share, and starts its first `replicas` replicas (ready at once), each
/// placed on a host of its pool when it has one.
fn build_common(
    ctx: &mut BuildCtx<'_>,
    g: &GroupSpec,
    members: Members,
) -> Result<ReplicaGroup, String> {
    check_balance(g.balance)?;
    let extra_boot = g.extra_boot.as_ref().map(Sampler::new).transpose()?;
    let mut group = ReplicaGroup::new(
        members,
        g.balance,
        ctx.stream("balance"),
        Sampler::new(&g.runs_on.boot_time)?,
        extra_boot,
        ctx.stream("boot"),
        ctx.metrics(),
        TimeAverage::new(ctx.window.0, ctx.window.1),
    );
    if let Some(a) = &g.autoscaler {
        group.hpa = Some(hpa(a)?);
    }
    let spec: &ModelSpec = ctx.spec;
    if let Some(pool) = g.host {
        if pool >= spec.hosts.len() {
            return Err(format!("host pool index {pool} does not exist"));
        }
        group.placement = Some(HostPlacement {
            pool: pool_range(&spec.hosts, pool),
            memory: g.memory,
        });
    }
    for k in 0..g.replicas {
        let host = match group.placement {
            None => NO_HOST,
            Some(place) => {
                let Some(h) = pick_host(&ctx.hosts[..], place.pool, g.memory) else {
                    let pool = &spec.hosts[g.host.unwrap_or(0)];
                    return Err(format!(
                        "replica {} of {} does not fit on host pool `{}` ({} hosts with {} bytes of memory each; each replica needs {} bytes)",
                        k + 1,
                        g.replicas,
                        pool.name,
                        pool.count,
                        pool.memory,
                        g.memory
                    ));
                };
                h
            }
        };
        if group.start(SimTime::ZERO, host, true).is_some() && host != NO_HOST {
            ctx.hosts[host as usize].take(g.memory);
        }
    }
    Ok(group)
}

/// Builds a group of components and starts its first `replicas` replicas
/// (ready at once). Placed on hosts, each replica must be a server, whose
/// own work then runs on its host's CPU.
fn build_components(
    ctx: &mut BuildCtx<'_>,
    g: &GroupSpec,
    members: &[ComponentId],
) -> Result<ReplicaGroup, String> {
    if members.is_empty() || g.replicas == 0 {
        return Err("a replica group needs at least one replica".into());
    }
    if g.replicas as usize > members.len() {
        return Err(format!(
            "{} replicas at start, but only {} can run",
            g.replicas,
            members.len()
        ));
    }
    let spec: &ModelSpec = ctx.spec;
    for m in members {
        let kind = spec
            .components
            .get(m.index())
            .map(|c| &c.kind)
            .ok_or_else(|| format!("replica component {} does not exist", m.0))?;
        let measurable = matches!(
            kind,
            ComponentKind::Server(_) | ComponentKind::ModelServer(_) | ComponentKind::LlmServer(_)
        );
        match kind {
            ComponentKind::Server(_)
            | ComponentKind::ModelServer(_)
            | ComponentKind::LlmServer(_)
            | ComponentKind::Cache(_) => {}
            _ => return Err("only servers, model servers and caches can be replica groups".into()),
        }
        if !measurable && g.autoscaler.as_ref().map(|a| a.metric) == Some(ScaleMetric::Utilization)
        {
            return Err(
                "a cache's replicas have no utilization to scale on: use `metric: queue_length`"
                    .into(),
            );
        }
        if g.host.is_some() {
            check_placeable(kind)?;
        }
    }
    build_common(ctx, g, Members::Components(members.to_vec()))
}

/// Whether a replica of `kind` can run on a shared host's CPU: a server
/// (with or without calls) whose work is never paused.
fn check_placeable(kind: &ComponentKind) -> Result<(), String> {
    match kind {
        ComponentKind::Server(s) if s.discipline == crate::spec::Discipline::PreemptiveResume => {
            Err("replicas on hosts cannot preempt: a host's CPU runs a request's work to its end (use `discipline: priority`, or no `host`)".into())
        }
        ComponentKind::Server(_) => Ok(()),
        _ => Err(
            "only servers' replicas can be placed on hosts (a model server's slots and a cache are not placed)"
                .into(),
        ),
    }
}

/// Builds a deployment (a group of stations) and places its initial
/// replicas (ready at time zero).
fn build_stations(
    ctx: &mut BuildCtx<'_>,
    d: &GroupSpec,
    server: &ServerSpec,
) -> Result<ReplicaGroup, String> {
    if server.workers == 0 {
        return Err("a server needs at least one worker".into());
    }
    if !server.calls.is_empty() {
        return Err(
            "a deployment's replicas are leaf servers (a server with calls and replicas is a replica group)"
                .into(),
        );
    }
    if server.discipline != crate::spec::Discipline::Fifo || server.patience.is_some() {
        return Err(
            "a deployment's replicas serve in arrival order: `discipline` and `patience` apply to a single server (without `replicas`)"
                .into(),
        );
    }
    if d.replicas == 0 {
        return Err("a deployment needs at least one replica".into());
    }
    let stations = Stations::new(
        server.workers,
        server.queue_capacity,
        Sampler::new(&server.service_time)?,
        ctx.stream("service"),
    );
    build_common(ctx, d, Members::Stations(stations))
}

impl Simulation {
    /// Before the run: every deployment's autoscaler gets its first tick;
    /// then, for groups of components, model-server replicas have their
    /// model loaded (a new replica's load is part of its boot), server
    /// replicas learn the host they were placed on, replicas of groups that
    /// scale on utilization keep their busy time, and every autoscaler gets
    /// its first tick.
    pub(crate) fn groups_start(&mut self) {
        self.groups_spot_start();
        let n = self.components.replica_group.items.len();
        for i in 0..n {
            let group = ReplicaGroupId(i as u32);
            let g = &self.components[group];
            let interval = g.hpa.as_ref().map(|(_, _, interval)| *interval);
            if let (Some(_), Some(interval)) = (g.stations(), interval) {
                self.schedule_autoscale(group, SimTime::ZERO + interval);
            }
        }
        for i in 0..n {
            let group = ReplicaGroupId(i as u32);
            let g = &self.components[group];
            if g.stations().is_some() {
                continue;
            }
            let hpa = g
                .hpa
                .as_ref()
                .map(|(_, metric, interval)| (*metric, *interval));
            let measure = hpa.is_some_and(|(metric, _)| metric == ScaleMetric::Utilization);
            for j in 0..g.members().len() {
                let member = self.components[group].members()[j];
                let host = self.components[group].host(j as u32);
                let c = &mut self.components;
                match c.resolve(member) {
                    Resolved::ModelServer(s) => c[s].preloaded(),
                    Resolved::Server(s) => c[s].host = host,
                    _ => {}
                }
                if let (true, Some((area, _))) = (measure, c.busy_area_mut(member.index())) {
                    *area = Some(BusyArea::default());
                }
            }
            if let Some((_, interval)) = hpa {
                self.schedule_autoscale(group, SimTime::ZERO + interval);
            }
        }
    }

    /// Schedules `group`'s next autoscaler evaluation at `at`, if within the
    /// window.
    fn schedule_autoscale(&mut self, group: ReplicaGroupId, at: SimTime) {
        if at < self.window_end {
            self.sched
                .schedule_at(at, Event::Deploy(DeployEvent::Autoscale { group }));
        }
    }

    pub(crate) fn deploy_event(&mut self, event: DeployEvent) {
        match event {
            DeployEvent::ServiceDone { group, req } => self.station_done(group, req),
            DeployEvent::Booted { group, replica } => {
                let now = self.sched.now();
                self.components[group].make_ready(now, replica);
            }
            DeployEvent::Autoscale { group } => self.autoscale(group),
            DeployEvent::HostDone { host } => match self.host_done(host) {
                Some(HostJob::Station { group, req }) => self.station_done(group, req),
                Some(HostJob::Server { server, req }) => self.service_done(server, req),
                None => {}
            },
            DeployEvent::SpotNotice { group, replica } => self.spot_notice(group, replica),
            DeployEvent::SpotInterrupt { group, replica } => self.spot_interrupt(group, replica),
            DeployEvent::SpotReplace { group } => self.spot_replace(group),
        }
    }

    /// A request reaches a group (its hop is pushed): the implicit balancer
    /// picks a ready replica, or the request is dropped if none is ready.
    /// A station serves, queues or drops it; a component replica gets it at
    /// once. The hop's `choice` remembers the replica.
    pub(crate) fn group_arrive(&mut self, to: ReplicaGroupId, req: RequestId) {
        let now = self.sched.now();
        let r = &mut self.requests[req];
        let counted = r.counted;
        let g = &mut self.components[to];
        let Some(replica) = g.choose() else {
            // Nothing is ready (only possible while every replica boots).
            g.refuse(counted);
            r.outcome = Outcome::Dropped;
            self.respond(req);
            return;
        };
        if let Some(hop) = r.hops.last_mut() {
            hop.choice = replica;
        }
        if let Members::Components(members) = &g.members {
            let member = members[replica as usize];
            g.forward(now, replica, counted);
            self.deliver(member, req);
            return;
        }
        match g.arrive(now, replica, req, counted) {
            ReplicaAdmission::Serve(work) => self.start_work(to, replica, req, work),
            ReplicaAdmission::Queued => {}
            ReplicaAdmission::Dropped => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
        }
    }

    /// A component replica's answer reaches its group, which relays it on.
    pub(crate) fn group_answered(&mut self, group: ReplicaGroupId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        // Refusals and failures are relayed but not counted as served.
        let served = r.counted && r.outcome == Outcome::Ok;
        let Some(hop) = r.hops.last() else {
            return;
        };
        let (choice, entered) = (hop.choice, hop.entered);
        if self.components[group].answered(now, choice, entered, served) {
            self.release_host(group, choice);
        }
    }

    /// Starts `work` for `req` on station `replica`: a timer on a dedicated
    /// CPU, or a job on the replica's host.
    fn start_work(
        &mut self,
        group: ReplicaGroupId,
        replica: u32,
        req: RequestId,
        work: SimDuration,
    ) {
        let host = self.components[group].host(replica);
        if host == NO_HOST {
            self.sched
                .schedule_in(work, Event::Deploy(DeployEvent::ServiceDone { group, req }));
        } else {
            self.host_add(host, HostJob::Station { group, req }, work);
        }
    }

    /// A station finished `req`: start the next waiting request, retire a
    /// drained replica, answer.
    fn station_done(&mut self, group: ReplicaGroupId, req: RequestId) {
        let now = self.sched.now();
        // A request failed by a spot interruption while in service.
        if self.requests[req].pinned {
            self.requests.unpin(req);
            return;
        }
        let r = &self.requests[req];
        let counted = r.counted;
        let Some(&hop) = r.hops.last() else {
            return;
        };
        let g = &mut self.components[group];
        let replica = hop.choice;
        let (next, gone) = g.finish(now, replica, hop.entered, counted);
        if let Some((next, work)) = next {
            self.start_work(group, replica, next, work);
        }
        if gone {
            self.release_host(group, replica);
        }
        // A station is a leaf server: a write makes a new version of its key.
        let r = &mut self.requests[req];
        r.version = match r.op {
            Op::Write => self.versions.bump(r.key),
            Op::Read => self.versions.current(r.key),
        };
        self.respond(req);
    }

    /// Frees the host memory of a replica that is gone, and lets pending
    /// replicas of any group take the room.
    fn release_host(&mut self, group: ReplicaGroupId, replica: u32) {
        let g = &self.components[group];
        let (host, Some(place)) = (g.host(replica), g.placement) else {
            return;
        };
        if host == NO_HOST {
            return;
        }
        self.hosts[host as usize].release(place.memory);
        for i in 0..self.components.replica_group.items.len() {
            let group = ReplicaGroupId(i as u32);
            if self.components[group].pending > 0 {
                self.place_pending(group);
            }
        }
    }

    /// Starts as many of `group`'s pending replicas as fit on its pool.
    fn place_pending(&mut self, group: ReplicaGroupId) {
        let now = self.sched.now();
        loop {
            let g = &mut self.components[group];
            if g.pending == 0 {
                return;
            }
            let Some(place) = g.placement else {
                return;
            };
            let Some(host) = pick_host(&self.hosts, place.pool, place.memory) else {
                return;
            };
            g.pending -= 1;
            g.pending_changed(now);
            self.boot_replica(group, host);
        }
    }

    /// Starts a booting replica on `host` (already chosen, or [`NO_HOST`])
    /// and schedules the end of its boot; `false` if no replica is idle. A
    /// component replica on a host runs its work there.
    pub(crate) fn boot_replica(&mut self, group: ReplicaGroupId, host: u32) -> bool {
        let now = self.sched.now();
        let g = &mut self.components[group];
        let Some(replica) = g.start(now, host, false) else {
            return false;
        };
        if let Some(place) = g.placement {
            self.hosts[host as usize].take(place.memory);
            let member = g.members().get(replica as usize).copied();
            if let Some(Resolved::Server(s)) = member.map(|m| self.components.resolve(m)) {
                self.components[s].host = host;
            }
        }
        let g = &mut self.components[group];
        let boot = g.boot_time();
        let timer = self
            .sched
            .schedule_timer_in(boot, Event::Deploy(DeployEvent::Booted { group, replica }));
        g.set_boot_timer(replica, timer);
        self.arm_spot(group, replica);
        true
    }

    /// One autoscaler evaluation, then the next one is scheduled.
    fn autoscale(&mut self, group: ReplicaGroupId) {
        let now = self.sched.now();
        let Some(interval) = self.components[group].hpa.as_ref().map(|h| h.2) else {
            return;
        };
        let value = self.autoscale_metric(group, now);
        let g = &mut self.components[group];
        let (current, ready) = (g.wanted(), g.ready_count());
        let desired = g.hpa.as_mut().map_or(current, |(hpa, _, _)| {
            hpa.decide(now, current, ready, value)
        });
        self.scale_to(group, desired);
        self.schedule_autoscale(group, now + interval);
    }

    /// Starts or retires replicas until `desired` are wanted (a pending
    /// replica, waiting for room on a host, is the first to go).
    fn scale_to(&mut self, group: ReplicaGroupId, desired: u32) {
        let now = self.sched.now();
        let g = &mut self.components[group];
        let current = g.wanted();
        if desired == current {
            return;
        }
        g.log.scale_events.push(ScaleEvent {
            at_s: now.as_secs_f64(),
            from: current,
            to: desired,
        });
        for _ in current..desired {
            let g = &mut self.components[group];
            let host = match g.placement {
                None => NO_HOST,
                Some(place) => match pick_host(&self.hosts, place.pool, place.memory) {
                    Some(host) => host,
                    None => {
                        g.pending += 1;
                        g.pending_changed(now);
                        continue;
                    }
                },
            };
            if !self.boot_replica(group, host) {
                break;
            }
        }
        for _ in desired..current {
            let g = &mut self.components[group];
            if g.pending > 0 {
                g.pending -= 1;
                g.pending_changed(now);
                continue;
            }
            if g.replacing > 0 {
                // A spot replacement not started yet goes first.
                g.replacing -= 1;
                continue;
            }
            let Some(victim) = g.victim() else {
                return;
            };
            if let Some(timer) = g.boot_timer(victim) {
                self.sched.cancel(timer);
            }
            if g.retire(now, victim) {
                self.release_host(group, victim);
            }
        }
    }

    /// The autoscaler's metric over the last interval, per ready replica
    /// (NaN if none was ready): busy workers or slots over capacity, or
    /// requests inside. Stations measure their own busy workers; component
    /// replicas keep their own busy time, which restarts every interval
    /// (only ready ones count).
    fn autoscale_metric(&mut self, group: ReplicaGroupId, now: SimTime) -> f64 {
        let g = &mut self.components[group];
        let Some(metric) = g.hpa.as_ref().map(|(_, m, _)| *m) else {
            return f64::NAN;
        };
        let (ready_area, busy_area, inside_area) = g.take_areas(now);
        let (busy, capacity) = match g.stations() {
            Some(s) => (busy_area as f64, f64::from(s.workers())),
            None => {
                let mut busy = 0.0;
                let mut capacity = 1.0;
                for i in 0..g.members().len() as u32 {
                    let g = &self.components[group];
                    let (member, ready) = (g.members()[i as usize], g.is_ready(i));
                    if let Some((Some(area), cap)) = self.components.busy_area_mut(member.index()) {
                        capacity = f64::from(cap.max(1));
                        let area = area.take(now);
                        if ready {
                            busy += area as f64;
                        }
                    }
                }
                (busy, capacity)
            }
        };
        if ready_area == 0 {
            return f64::NAN;
        }
        match metric {
            ScaleMetric::Utilization => busy / (ready_area as f64 * capacity),
            ScaleMetric::QueueLength => inside_area as f64 / ready_area as f64,
        }
    }
}

/// The result of a group of components `g` called `name`, from its
/// replicas' results (`members`, in replica order): throughput and latency
/// through the group, utilization as busy time over ready replica-time,
/// and its scaling (with its host pool's utilization when placed on
/// `all_hosts`). The result's type is the replicas'.
pub(crate) fn group_result(
    g: &ReplicaGroup,
    name: &str,
    members: &[&ComponentResult],
    all_hosts: &[HostRuntime],
) -> ComponentResult {
    let m = &g.metrics;
    let first = members.first();
    let ready_mean = g.ready_mean();
    // Each replica's utilization is busy time over the window: summed, it is
    // busy replica-time, which ready replica-time divides.
    let busy: f64 = members.iter().map(|r| r.utilization).sum();
    ComponentResult {
        kind: first.map_or(ComponentType::Server, |r| r.kind),
        workers: first.map_or(0, |r| r.workers),
        drops: m.drops + members.iter().map(|r| r.drops).sum::<u64>(),
        utilization: if ready_mean > 0.0 {
            busy / ready_mean
        } else {
            0.0
        },
        mean_queue_length: members.iter().map(|r| r.mean_queue_length).sum(),
        mean_in_system: members.iter().map(|r| r.mean_in_system).sum(),
        peak_queue_length: members
            .iter()
            .map(|r| r.peak_queue_length)
            .max()
            .unwrap_or(0),
        ..group_line(g, name, all_hosts)
    }
}

/// The figures of a group's line that come from the group itself, whatever
/// its members: its name, the requests through it and their latency, and
/// its scaling. The per-member figures are left at zero for the caller.
fn group_line(g: &ReplicaGroup, name: &str, all_hosts: &[HostRuntime]) -> ComponentResult {
    let m = &g.metrics;
    ComponentResult {
        name: name.to_string(),
        kind: ComponentType::Server,
        workers: 0,
        arrivals: m.arrivals,
        completions: m.completions,
        drops: m.drops,
        utilization: 0.0,
        mean_queue_length: 0.0,
        mean_in_system: 0.0,
        peak_queue_length: 0,
        latency: m.latency.clone(),
        offered_load: None,
        figures: KindFigures::None,
        lost_in_crash: None,
        scaling: Some(scaling(g, all_hosts)),
        replica_of: None,
    }
}

/// A group's scaling figures: its replica counts (pending ones when it
/// shows them), and its host pool's utilization when placed on hosts.
fn scaling(g: &ReplicaGroup, all_hosts: &[HostRuntime]) -> ScalingFigures {
    let mut scaling = g.spot_figures(g.log.figures(g.shows_pending()));
    if let Some(HostPlacement {
        pool: (first, count),
        ..
    }) = g.placement
    {
        let hosts = &all_hosts[first as usize..(first + count) as usize];
        scaling.host_pool_utilization = Some(pool_utilization(hosts));
    }
    scaling
}

/// The result of a deployment (a group of stations `s`) called `name`: a
/// server's line (type `server`) over all its replicas, with its scaling
/// and its host pool's utilization.
fn stations_result(
    g: &ReplicaGroup,
    s: &Stations,
    all_hosts: &[HostRuntime],
    name: &str,
) -> ComponentResult {
    let m = &g.metrics;
    let ready_mean = g.log.gauges.mean(READY);
    let capacity = ready_mean * f64::from(s.workers());
    ComponentResult {
        workers: s.workers(),
        utilization: if capacity > 0.0 {
            m.levels.mean(ACTIVE) / capacity
        } else {
            0.0
        },
        mean_queue_length: m.levels.mean(WAITING),
        mean_in_system: m.mean_in_system(),
        peak_queue_length: m.levels.peak(WAITING),
        ..group_line(g, name, all_hosts)
    }
}

impl Kind for ReplicaGroup {
    type Spec = GroupSpec;

    fn build(ctx: &mut BuildCtx<'_>, g: &Self::Spec) -> Result<Self, BuildError> {
        match &g.members {
            ReplicaMembers::Stations(server) => build_stations(ctx, g, server),
            ReplicaMembers::Components(members) => build_components(ctx, g, members),
        }
        .map_err(|e| ctx.invalid(e))
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    /// Not used: a deployment builds its own result line
    /// ([`Kind::own_result`]), a group of components sums up its replicas'
    /// ([`group_result`]).
    fn result_type(&self) -> (ComponentType, u32) {
        (ComponentType::LoadBalancer, 0)
    }

    fn own_result(&self, hosts: &[HostRuntime], name: &str) -> Option<ComponentResult> {
        self.stations()
            .map(|s| stations_result(self, s, hosts, name))
    }

    /// Replicas ready and booting, and for a deployment or a group on hosts
    /// pending (waiting for room on a host).
    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.replicas_ready"));
        out.push(format!("{name}.replicas_booting"));
        if self.shows_pending() {
            out.push(format!("{name}.replicas_pending"));
        }
    }

    fn gauges(&self, _: SimTime, out: &mut Vec<f64>) {
        let [ready, booting, pending] = self.log.gauges.levels();
        out.push(ready as f64);
        out.push(booting as f64);
        if self.shows_pending() {
            out.push(pending as f64);
        }
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId) {
        sim.group_arrive(at, req);
    }

    #[inline]
    fn answered(sim: &mut Simulation, at: Self::Id, req: RequestId) {
        sim.group_answered(at, req);
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;

    use super::*;
    use crate::kinds::replica_group::spec::{RunsOn, RuntimeKind};
    use crate::spec::{ComponentSpec, Distribution};
    use crate::{NoObserver, RunLimits, RunResult};

    /// Two replicas of a one-worker server, in either spec form, behind
    /// Poisson arrivals at 200/s (1 ms mean service).
    fn spec(deployment: bool) -> ModelSpec {
        let mut spec = ModelSpec::single_server(
            200.0,
            1,
            Distribution::Exponential { mean_ns: 1e6 },
            SimDuration::from_secs(20),
        );
        let ComponentKind::Server(server) = spec.components[0].kind.clone() else {
            panic!("single_server builds a server");
        };
        let runs_on = RunsOn {
            kind: RuntimeKind::Container,
            boot_time: RuntimeKind::Container.default_boot_time(),
        };
        let members = if deployment {
            ReplicaMembers::Stations(server)
        } else {
            for r in 0..2 {
                spec.components.push(ComponentSpec {
                    name: format!("server[{r}]"),
                    kind: ComponentKind::Server(server.clone()),
                });
            }
            ReplicaMembers::Components(vec![ComponentId(1), ComponentId(2)])
        };
        spec.components[0].kind = ComponentKind::ReplicaGroup(GroupSpec {
            members,
            replicas: 2,
            balance: LbPolicy::RoundRobin,
            runs_on,
            extra_boot: None,
            autoscaler: None,
            cpu: 1.0,
            memory: 0,
            host: None,
        });
        spec
    }

    fn run(spec: &ModelSpec) -> (Simulation, RunResult) {
        let sim = Simulation::new(spec).expect("builds");
        let result = Simulation::new(spec)
            .expect("builds")
            .run(RunLimits::default(), &mut NoObserver)
            .expect("runs");
        (sim, result)
    }

    /// Both spec forms build the one kind; each keeps its result line: a
    /// deployment's is a server's with the pending replicas, a group's sums
    /// its replicas, whose arrivals it conserves.
    #[test]
    fn both_spec_forms_build_the_one_kind_and_keep_their_result_lines() {
        for deployment in [true, false] {
            let (sim, result) = run(&spec(deployment));
            assert!(matches!(
                sim.components.resolve(ComponentId(0)),
                Resolved::ReplicaGroup(_)
            ));
            let line = &result.components[0];
            let scaling = line.scaling.expect("a group reports its scaling");
            assert_eq!(line.kind, ComponentType::Server, "{deployment}");
            assert_eq!(scaling.replicas_ready_max, 2);
            assert_eq!(scaling.replicas_pending_max.is_some(), deployment);
            assert!(line.arrivals > 3_000, "{}", line.arrivals);
            if !deployment {
                let members: u64 = result.components[1..].iter().map(|c| c.arrivals).sum();
                assert_eq!(members, line.arrivals);
                // Round robin over two: the split differs by at most one.
                let (a, b) = (result.components[1].arrivals, result.components[2].arrivals);
                assert!(a.abs_diff(b) <= 1, "{a} {b}");
            }
        }
    }
}
