//! A replica group's state without the engine: which of its replicas (each
//! a component of its own) boot, serve or drain, the implicit balancer over
//! the ready ones, what each holds, and the measurements its autoscaler and
//! the report read.
//!
//! A group replicates any kind a [`crate::Deployment`](crate::DeploymentSpec)
//! cannot (a model server, a cache, a server that makes calls). Its replicas
//! are created when the run is built, up to the most it may ever run, and
//! sit idle until the autoscaler boots them. An idle replica is small (a
//! few KB): its latency histograms allocate their buckets with the first
//! request it answers (once per replica, never per event), so a group with
//! a large autoscaler `max` costs memory for the replicas that start.

pub(crate) mod sim;

use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime, TimerId};
use sysdes_stats::TimeAverage;

use crate::autoscaler::Hpa;
use crate::kinds::deployment::spec::ScaleMetric;
use crate::kinds::deployment::{
    BOOTING, READY, ReplicaState, ScaleLog, pick_ready, scale_down_victim,
};
use crate::sampler::Sampler;
use crate::spec::LbPolicy;
use crate::station::{ACTIVE, StationMetrics};

/// One replica's place in its group.
#[derive(Clone, Copy, Debug)]
struct Slot {
    state: ReplicaState,
    /// Requests sent to it and not yet answered.
    inside: u32,
    /// Position in [`ReplicaGroup::ready`] while ready.
    ready_pos: u32,
    /// When it was started (the newest are removed first).
    created: SimTime,
    boot_timer: Option<TimerId>,
}

/// Areas under the ready-replica curves since the last autoscaler tick.
#[derive(Debug, Default)]
struct Meter {
    last: SimTime,
    ready_area: u128,
    inside_area: u128,
    ready: u64,
    /// Requests inside ready replicas.
    inside: u64,
}

impl Meter {
    #[inline]
    fn touch(&mut self, now: SimTime) {
        let dt = u128::from(now.as_nanos().saturating_sub(self.last.as_nanos()));
        if dt > 0 {
            self.ready_area += dt * u128::from(self.ready);
            self.inside_area += dt * u128::from(self.inside);
            self.last = now;
        }
    }
}

/// A replica group's state.
#[derive(Debug)]
pub(crate) struct ReplicaGroup {
    /// The replicas' component ids, by replica index.
    members: Vec<ComponentId>,
    slots: Vec<Slot>,
    /// Indices of ready replicas: the balancer's candidates.
    ready: Vec<u32>,
    cursor: usize,
    policy: LbPolicy,
    balance_rng: RngStream,
    boot: Sampler,
    extra_boot: Option<Sampler>,
    boot_rng: RngStream,
    /// The autoscaler, its metric and its interval.
    pub(crate) hpa: Option<(Hpa, ScaleMetric, SimDuration)>,
    meter: Meter,
    /// Requests through the group: `ACTIVE` counts those outstanding.
    pub(crate) metrics: StationMetrics,
    /// Replica counts (nothing is ever pending: a group has no hosts),
    /// scale decisions, boots.
    pub(crate) log: ScaleLog,
}

impl ReplicaGroup {
    /// A group over `members`, none started yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        members: Vec<ComponentId>,
        policy: LbPolicy,
        balance_rng: RngStream,
        boot: Sampler,
        extra_boot: Option<Sampler>,
        boot_rng: RngStream,
        metrics: StationMetrics,
        gauges: TimeAverage<3>,
    ) -> Self {
        let idle = Slot {
            state: ReplicaState::Gone,
            inside: 0,
            ready_pos: 0,
            created: SimTime::ZERO,
            boot_timer: None,
        };
        ReplicaGroup {
            slots: vec![idle; members.len()],
            members,
            ready: Vec::new(),
            cursor: 0,
            policy,
            balance_rng,
            boot,
            extra_boot,
            boot_rng,
            hpa: None,
            meter: Meter::default(),
            metrics,
            log: ScaleLog::new(gauges),
        }
    }

    /// The component of replica `i`.
    #[inline]
    pub(crate) fn member(&self, i: u32) -> ComponentId {
        self.members[i as usize]
    }

    /// Every replica's component, by replica index.
    pub(crate) fn members(&self) -> &[ComponentId] {
        &self.members
    }

    /// Whether replica `i` is ready.
    pub(crate) fn is_ready(&self, i: u32) -> bool {
        self.slots[i as usize].state == ReplicaState::Ready
    }

    /// Ready replicas.
    pub(crate) fn ready_count(&self) -> u32 {
        self.ready.len() as u32
    }

    /// Replicas wanted: ready and booting (draining ones excluded).
    pub(crate) fn wanted(&self) -> u32 {
        self.ready_count() + self.log.gauges.levels()[BOOTING] as u32
    }

    /// Draws a boot time (the runtime's, plus any extra such as a model load).
    pub(crate) fn boot_time(&mut self) -> SimDuration {
        let boot = self.boot.sample(&mut self.boot_rng);
        match &self.extra_boot {
            Some(extra) => boot + extra.sample(&mut self.boot_rng),
            None => boot,
        }
    }

    fn set_ready_gauge(&mut self, now: SimTime) {
        let [_, booting, pending] = self.log.gauges.levels();
        self.log
            .gauges
            .set(now, [self.ready.len() as u64, booting, pending]);
    }

    /// Starts an idle replica (the lowest-numbered), booting, or ready at
    /// once when `ready`. `None` if every replica is in use (draining ones
    /// included).
    pub(crate) fn start(&mut self, now: SimTime, ready: bool) -> Option<u32> {
        let i = self
            .slots
            .iter()
            .position(|s| s.state == ReplicaState::Gone)? as u32;
        self.slots[i as usize] = Slot {
            state: ReplicaState::Booting,
            inside: 0,
            ready_pos: 0,
            created: now,
            boot_timer: None,
        };
        if ready {
            self.join(now, i);
        } else {
            self.log.gauges.add(now, BOOTING, 1);
        }
        Some(i)
    }

    /// Remembers the boot timer of booting replica `i`.
    pub(crate) fn set_boot_timer(&mut self, i: u32, timer: TimerId) {
        self.slots[i as usize].boot_timer = Some(timer);
    }

    /// The boot timer of replica `i`, if it is booting.
    pub(crate) fn boot_timer(&self, i: u32) -> Option<TimerId> {
        self.slots[i as usize].boot_timer
    }

    /// Booting replica `i` has booted: it joins the balancer.
    pub(crate) fn make_ready(&mut self, now: SimTime, i: u32) {
        if self.slots[i as usize].state != ReplicaState::Booting {
            return;
        }
        self.log.gauges.add(now, BOOTING, -1);
        self.join(now, i);
    }

    /// Replica `i` joins the balancer (booted, or ready from the start).
    fn join(&mut self, now: SimTime, i: u32) {
        let s = &mut self.slots[i as usize];
        s.state = ReplicaState::Ready;
        if s.boot_timer.take().is_some() {
            self.log.booted(now, s.created);
        }
        s.ready_pos = self.ready.len() as u32;
        self.ready.push(i);
        self.meter.touch(now);
        self.meter.ready += 1;
        self.set_ready_gauge(now);
    }

    /// Takes replica `i` out of service: a booting one stops at once, a
    /// ready one drains (keeps answering what it holds, takes nothing new).
    pub(crate) fn retire(&mut self, now: SimTime, i: u32) {
        match self.slots[i as usize].state {
            ReplicaState::Booting => {
                self.log.gauges.add(now, BOOTING, -1);
                self.slots[i as usize].state = ReplicaState::Gone;
                self.slots[i as usize].boot_timer = None;
                self.log.ended(self.slots[i as usize].created, now);
            }
            ReplicaState::Ready => {
                self.meter.touch(now);
                let s = self.slots[i as usize];
                self.meter.ready -= 1;
                self.meter.inside -= u64::from(s.inside);
                let pos = s.ready_pos as usize;
                self.ready.swap_remove(pos);
                if let Some(&moved) = self.ready.get(pos) {
                    self.slots[moved as usize].ready_pos = pos as u32;
                }
                self.set_ready_gauge(now);
                self.slots[i as usize].state = if s.inside == 0 {
                    self.log.ended(s.created, now);
                    ReplicaState::Gone
                } else {
                    ReplicaState::Draining
                };
            }
            ReplicaState::Draining | ReplicaState::Gone => {}
        }
    }

    /// Every replica's lifetime, those alive ending at `end` (billing).
    pub(crate) fn lifetimes(&self, end: SimTime) -> Vec<crate::Lifetime> {
        let alive = self.slots.iter().filter(|s| s.state != ReplicaState::Gone);
        self.log.lifetimes(alive.map(|s| s.created), end)
    }

    /// The replica to remove next on a scale-down: the newest booting one,
    /// else the newest ready one while more than one is ready (as
    /// Kubernetes deletes not-ready pods first, then the youngest).
    pub(crate) fn victim(&self) -> Option<u32> {
        scale_down_victim(
            self.slots.iter().map(|s| (s.state, s.created)),
            self.ready.len(),
        )
    }

    /// A request arrives: picks a ready replica and counts the request
    /// inside it, or `None` if none is ready.
    #[inline]
    pub(crate) fn forward(&mut self, now: SimTime, counted: bool) -> Option<u32> {
        if counted {
            self.metrics.arrivals += 1;
        }
        let slots = &self.slots;
        let Some(i) = pick_ready(
            self.policy,
            &self.ready,
            &mut self.cursor,
            &mut self.balance_rng,
            |i| slots[i as usize].inside,
        ) else {
            if counted {
                self.metrics.drops += 1;
            }
            self.log.no_replica_drops += 1;
            return None;
        };
        self.slots[i as usize].inside += 1;
        self.metrics.levels.add(now, ACTIVE, 1);
        self.meter.touch(now);
        self.meter.inside += 1;
        Some(i)
    }

    /// Replica `i` answers a request that entered the group at `entered`;
    /// `served` counts it as a completion (a counted request answered Ok).
    #[inline]
    pub(crate) fn answered(&mut self, now: SimTime, i: u32, entered: SimTime, served: bool) {
        if served {
            self.metrics.completions += 1;
            self.metrics.latency.record(now - entered);
        }
        self.metrics.levels.add(now, ACTIVE, -1);
        let s = &mut self.slots[i as usize];
        s.inside -= 1;
        match s.state {
            ReplicaState::Ready => {
                self.meter.touch(now);
                self.meter.inside -= 1;
            }
            ReplicaState::Draining if s.inside == 0 => {
                s.state = ReplicaState::Gone;
                let created = s.created;
                self.log.ended(created, now);
            }
            _ => {}
        }
    }

    /// Ready replica-time over the interval since the last call, ns, and
    /// requests-inside time; restarts the meter.
    pub(crate) fn take_areas(&mut self, now: SimTime) -> (u128, u128) {
        self.meter.touch(now);
        let m = &mut self.meter;
        let areas = (m.ready_area, m.inside_area);
        m.ready_area = 0;
        m.inside_area = 0;
        m.last = now;
        areas
    }

    /// Ready replicas, by index.
    #[cfg(test)]
    pub(crate) fn ready(&self) -> &[u32] {
        &self.ready
    }

    /// Mean ready replicas over the window.
    pub(crate) fn ready_mean(&self) -> f64 {
        self.log.gauges.mean(READY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Distribution;
    use sysdes_kernel::derive_stream;

    fn group(n: u32, policy: LbPolicy) -> ReplicaGroup {
        let end = SimTime::from_nanos(1_000_000);
        ReplicaGroup::new(
            (0..n).map(|i| ComponentId(10 + i)).collect(),
            policy,
            derive_stream(1, "g", "balance"),
            Sampler::new(&Distribution::Constant(SimDuration::from_nanos(5))).unwrap(),
            None,
            derive_stream(1, "g", "boot"),
            StationMetrics::new(SimTime::ZERO, end),
            TimeAverage::new(SimTime::ZERO, end),
        )
    }

    #[test]
    fn round_robin_over_ready_replicas_only() {
        let t = SimTime::from_nanos;
        let mut g = group(4, LbPolicy::RoundRobin);
        assert_eq!(g.start(t(0), true), Some(0));
        assert_eq!(g.start(t(0), true), Some(1));
        assert_eq!(g.start(t(0), false), Some(2)); // booting
        let picks: Vec<u32> = (0..4).map(|_| g.forward(t(1), true).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 1]);
        g.make_ready(t(2), 2);
        let picks: Vec<u32> = (0..3).map(|_| g.forward(t(3), true).unwrap()).collect();
        assert_eq!(picks, [2, 0, 1]);
        assert_eq!(g.wanted(), 3);
    }

    #[test]
    fn a_draining_replica_finishes_its_work_and_is_then_reused() {
        let t = SimTime::from_nanos;
        let mut g = group(2, LbPolicy::RoundRobin);
        g.start(t(0), true);
        g.start(t(0), true);
        assert_eq!(g.forward(t(1), false), Some(0));
        assert_eq!(g.victim(), Some(1)); // newest ready, by index on ties
        g.retire(t(2), 0); // holds one request: drains
        assert_eq!(g.ready(), &[1]);
        assert_eq!(g.start(t(3), false), None, "0 drains, 1 serves: none idle");
        g.answered(t(4), 0, t(1), false);
        assert_eq!(g.start(t(5), false), Some(0));
    }

    #[test]
    fn no_ready_replica_drops_and_counts() {
        let t = SimTime::from_nanos;
        let mut g = group(1, LbPolicy::PowerOfTwo);
        g.start(t(0), false);
        assert_eq!(g.forward(t(1), true), None);
        assert_eq!((g.metrics.drops, g.log.no_replica_drops), (1, 1));
    }

    #[test]
    fn meter_integrates_ready_replicas_and_requests_inside() {
        let t = SimTime::from_nanos;
        let mut g = group(2, LbPolicy::RoundRobin);
        g.start(t(0), true);
        g.forward(t(10), false); // 1 inside from 10
        g.start(t(20), true); // 2 ready from 20
        assert_eq!(g.take_areas(t(30)), (20 + 2 * 10, 20));
        g.answered(t(40), 0, t(10), false);
        assert_eq!(g.take_areas(t(50)), (2 * 20, 10));
    }
}
