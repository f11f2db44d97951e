//! The engine side of replica groups: forwarding a request to a ready
//! replica (a component of its own, reached without a network hop), relaying
//! its answer, booting and draining replicas, and the autoscaler's periodic
//! evaluation over the replicas' own measurements.

use sysdes_kernel::{SimTime, derive_stream};
use sysdes_stats::TimeAverage;

use crate::figures::{ComponentType, KindFigures};
use crate::kinds::deployment::ScaleEvent;
use crate::kinds::deployment::spec::{GroupSpec, ScaleMetric};
use crate::kinds::replica_group::ReplicaGroup;
use crate::kinds::{ReplicaGroupId, Resolved};
use crate::request::{Outcome, RequestId};
use crate::result::ComponentResult;
use crate::sampler::Sampler;
use crate::simulation::deployment::{DeployEvent, hpa};
use crate::simulation::{Event, Simulation};
use crate::spec::{ComponentKind, LbPolicy, ModelSpec};
use crate::station::{BusyArea, StationMetrics};

/// Builds a group and starts its first `replicas` replicas (ready at once).
pub(crate) fn build_group(
    spec: &ModelSpec,
    name: &str,
    g: &GroupSpec,
    start: SimTime,
    end: SimTime,
) -> Result<ReplicaGroup, String> {
    if g.members.is_empty() || g.replicas == 0 {
        return Err("a replica group needs at least one replica".into());
    }
    if g.replicas as usize > g.members.len() {
        return Err(format!(
            "{} replicas at start, but only {} can run",
            g.replicas,
            g.members.len()
        ));
    }
    if g.balance == LbPolicy::ConsistentHash {
        return Err(
            "replicas cannot be balanced by consistent_hash (the set of replicas changes)".into(),
        );
    }
    for m in &g.members {
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
    }
    let stream = |purpose: &str| derive_stream(spec.seed, name, purpose);
    let mut group = ReplicaGroup::new(
        g.members.clone(),
        g.balance,
        stream("balance"),
        Sampler::new(&g.runs_on.boot_time)?,
        g.extra_boot.as_ref().map(Sampler::new).transpose()?,
        stream("boot"),
        StationMetrics::new(start, end),
        TimeAverage::new(start, end),
    );
    if let Some(a) = &g.autoscaler {
        group.hpa = Some(hpa(a)?);
    }
    for _ in 0..g.replicas {
        group.start(SimTime::ZERO, true);
    }
    Ok(group)
}

impl Simulation {
    /// Before the run: model-server replicas have their model loaded (a new
    /// replica's load is part of its boot), replicas of groups that scale
    /// on utilization keep their busy time, and every group's autoscaler
    /// gets its first tick.
    pub(crate) fn groups_start(&mut self) {
        for i in 0..self.components.replica_group.items.len() {
            let group = ReplicaGroupId(i as u32);
            let g = &self.components[group];
            let members = g.members().len() as u32;
            let hpa = g
                .hpa
                .as_ref()
                .map(|(_, metric, interval)| (*metric, *interval));
            let measure = hpa.is_some_and(|(metric, _)| metric == ScaleMetric::Utilization);
            for j in 0..members {
                let member = self.components[group].member(j);
                let c = &mut self.components;
                if let Resolved::ModelServer(s) = c.resolve(member) {
                    c[s].preloaded();
                }
                if let (true, Some((area, _))) = (measure, c.busy_area_mut(member.index())) {
                    *area = Some(BusyArea::default());
                }
            }
            let Some((_, interval)) = hpa else {
                continue;
            };
            let at = SimTime::ZERO + interval;
            if at < self.window_end {
                self.sched
                    .schedule_at(at, Event::Deploy(DeployEvent::GroupAutoscale { group }));
            }
        }
    }

    /// A request reaches a group (its hop is pushed): the implicit balancer
    /// hands it to a ready replica at once, or drops it if none is ready.
    pub(crate) fn group_arrive(&mut self, to: ReplicaGroupId, req: RequestId) {
        let now = self.sched.now();
        let r = &mut self.requests[req];
        let g = &mut self.components[to];
        match g.forward(now, r.counted) {
            Some(i) => {
                if let Some(hop) = r.hops.last_mut() {
                    hop.choice = i;
                }
                let member = g.member(i);
                self.deliver(member, req);
            }
            None => {
                r.outcome = Outcome::Dropped;
                self.respond(req);
            }
        }
    }

    /// A replica's answer reaches its group, which relays it on.
    pub(crate) fn group_answered(&mut self, group: ReplicaGroupId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        // Refusals and failures are relayed but not counted as served.
        let served = r.counted && r.outcome == Outcome::Ok;
        let Some(hop) = r.hops.last() else {
            return;
        };
        let (choice, entered) = (hop.choice, hop.entered);
        self.components[group].answered(now, choice, entered, served);
    }

    pub(crate) fn group_booted(&mut self, group: ReplicaGroupId, replica: u32) {
        let now = self.sched.now();
        self.components[group].make_ready(now, replica);
    }

    /// One autoscaler evaluation, then the next is scheduled.
    pub(crate) fn group_autoscale(&mut self, group: ReplicaGroupId) {
        let now = self.sched.now();
        let value = self.group_metric(group, now);
        let g = &mut self.components[group];
        let (current, ready) = (g.wanted(), g.ready_count());
        let Some((hpa, _, interval)) = g.hpa.as_mut() else {
            return;
        };
        let interval = *interval;
        let desired = hpa.decide(now, current, ready, value);
        if desired != current {
            g.log.scale_events.push(ScaleEvent {
                at_s: now.as_secs_f64(),
                from: current,
                to: desired,
            });
        }
        for _ in current..desired {
            let Some(replica) = g.start(now, false) else {
                break;
            };
            let boot = g.boot_time();
            let timer = self.sched.schedule_timer_in(
                boot,
                Event::Deploy(DeployEvent::GroupBooted { group, replica }),
            );
            g.set_boot_timer(replica, timer);
        }
        for _ in desired..current {
            let Some(victim) = g.victim() else {
                break;
            };
            if let Some(timer) = g.boot_timer(victim) {
                self.sched.cancel(timer);
            }
            g.retire(now, victim);
        }
        let next = now + interval;
        if next < self.window_end {
            self.sched
                .schedule_at(next, Event::Deploy(DeployEvent::GroupAutoscale { group }));
        }
    }

    /// The autoscaler's metric over the last interval, per ready replica
    /// (NaN if none was ready): busy workers or slots over capacity, or
    /// requests inside.
    fn group_metric(&mut self, group: ReplicaGroupId, now: SimTime) -> f64 {
        let g = &mut self.components[group];
        let Some(metric) = g.hpa.as_ref().map(|(_, m, _)| *m) else {
            return f64::NAN;
        };
        let (ready_area, inside_area) = g.take_areas(now);
        // Every replica's busy area restarts; only ready ones count.
        let mut busy = 0.0;
        let mut capacity = 1.0;
        let members = g.members().len() as u32;
        for i in 0..members {
            let g = &self.components[group];
            let (member, ready) = (g.member(i), g.is_ready(i));
            if let Some((Some(area), cap)) = self.components.busy_area_mut(member.index()) {
                capacity = f64::from(cap.max(1));
                let area = area.take(now);
                if ready {
                    busy += area as f64;
                }
            }
        }
        if ready_area == 0 {
            return f64::NAN;
        }
        match metric {
            ScaleMetric::Utilization => busy / (ready_area as f64 * capacity),
            ScaleMetric::QueueLength => inside_area as f64 / ready_area as f64,
        }
    }
}

/// Names of a group's time-series gauges: replicas ready and booting.
pub(crate) fn gauge_names(name: &str, out: &mut Vec<String>) {
    out.push(format!("{name}.replicas_ready"));
    out.push(format!("{name}.replicas_booting"));
}

/// The current value of each gauge named by [`gauge_names`].
pub(crate) fn gauges(g: &ReplicaGroup, out: &mut Vec<f64>) {
    let [ready, booting, _] = g.log.gauges.levels();
    out.push(ready as f64);
    out.push(booting as f64);
}

/// The result of group `g` called `name`, from its replicas' results
/// (`members`, in replica order): throughput and latency through the group,
/// utilization as busy time over ready replica-time, and its scaling.
pub(crate) fn group_result(
    g: &ReplicaGroup,
    name: &str,
    members: &[&ComponentResult],
) -> ComponentResult {
    let m = &g.metrics;
    let first = members.first();
    let ready_mean = g.ready_mean();
    // Each replica's utilization is busy time over the window: summed, it is
    // busy replica-time, which ready replica-time divides.
    let busy: f64 = members.iter().map(|r| r.utilization).sum();
    ComponentResult {
        name: name.to_string(),
        kind: first.map_or(ComponentType::Server, |r| r.kind),
        workers: first.map_or(0, |r| r.workers),
        arrivals: m.arrivals,
        completions: m.completions,
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
        latency: m.latency.clone(),
        offered_load: None,
        figures: KindFigures::None,
        lost_in_crash: None,
        scaling: Some(g.log.figures(false)),
        replica_of: None,
    }
}

impl crate::kinds::Kind for ReplicaGroup {
    type Spec = GroupSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        g: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        build_group(ctx.spec, ctx.name, g, ctx.window.0, ctx.window.1).map_err(|e| ctx.invalid(e))
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    /// Replaced by [`group_result`], which sums up the replicas.
    fn result_type(&self) -> (ComponentType, u32) {
        (ComponentType::LoadBalancer, 0)
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        gauge_names(name, out);
    }

    fn gauges(&self, _: SimTime, out: &mut Vec<f64>) {
        gauges(self, out);
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
