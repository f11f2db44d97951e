//! A deployment's state without the engine: its replicas (booting, ready,
//! draining), the implicit balancer over the ready ones, the per-interval
//! measurements its autoscaler reads, and the gauges the report shows.
//!
//! Each replica is a FIFO station like [`crate::kinds::server`]'s: `workers`
//! requests in service at once, the rest waiting. Where a request's service
//! runs (a dedicated timer, or a job on a shared host CPU) is the engine's
//! business (`simulation/deployment.rs`).

pub(crate) mod figures;
pub(crate) mod sim;
pub(crate) mod spec;

use std::collections::VecDeque;

use rand::RngExt;
use sysdes_kernel::{RngStream, SimDuration, SimTime, TimerId};
use sysdes_stats::TimeAverage;

use crate::autoscaler::Hpa;
use crate::figures::ScalingFigures;
use crate::kinds::deployment::spec::ScaleMetric;
use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::spec::LbPolicy;
use crate::station::{ACTIVE, StationMetrics, WAITING};

/// No host: the replica has dedicated CPUs.
pub(crate) const NO_HOST: u32 = u32::MAX;

/// Index of ready replicas in [`ScaleLog::gauges`].
pub(crate) const READY: usize = 0;
/// Index of booting replicas in [`ScaleLog::gauges`].
pub(crate) const BOOTING: usize = 1;
/// Index of replicas waiting for room on a host in [`ScaleLog::gauges`].
pub(crate) const PENDING: usize = 2;

/// Where a replica is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplicaState {
    /// Started, not serving yet.
    Booting,
    /// Serving: the balancer may send it requests.
    Ready,
    /// Being removed: takes no new requests, finishes those it holds.
    Draining,
    /// Removed; the slot may be reused.
    Gone,
}

/// One replica.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) state: ReplicaState,
    busy: u32,
    queue: VecDeque<RequestId>,
    /// Global host index, or [`NO_HOST`].
    pub(crate) host: u32,
    /// The boot timer while booting.
    pub(crate) boot_timer: Option<TimerId>,
    /// Position in [`Deployment::ready`] while ready.
    ready_pos: u32,
    /// When it was created (newest are removed first).
    created: SimTime,
}

impl Replica {
    /// Requests inside (waiting or in service).
    #[inline]
    fn inside(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }
}

/// What a replica does with an arriving request.
pub(crate) enum ReplicaAdmission {
    /// A worker was free: serve it, with this much work.
    Serve(SimDuration),
    /// All workers busy: it waits.
    Queued,
    /// All busy and the waiting room full: refused.
    Dropped,
}

/// One scale decision that changed the number of replicas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleEvent {
    /// When, seconds.
    pub at_s: f64,
    /// Replicas wanted before (ready + booting + pending).
    pub from: u32,
    /// Replicas wanted after.
    pub to: u32,
}

/// What a fleet of replicas (a deployment or a replica group) did over the
/// run: its replica counts, scale decisions, boots and refusals.
#[derive(Debug)]
pub(crate) struct ScaleLog {
    /// Levels `[READY, BOOTING, PENDING]` over the window.
    pub(crate) gauges: TimeAverage<3>,
    /// Scale decisions that changed the replica count.
    pub(crate) scale_events: Vec<ScaleEvent>,
    /// Replicas that are gone: when each started and ended (for billing).
    pub(crate) lifetimes: Vec<crate::Lifetime>,
    /// Requests refused because no replica was ready.
    pub(crate) no_replica_drops: u64,
    /// Replicas that finished booting, and their total boot time (from the
    /// decision to serving), ns.
    boots: u64,
    boot_ns: u128,
}

impl ScaleLog {
    /// An empty log whose gauges average over `gauges`' window.
    pub(crate) fn new(gauges: TimeAverage<3>) -> Self {
        ScaleLog {
            gauges,
            scale_events: Vec::new(),
            lifetimes: Vec::new(),
            no_replica_drops: 0,
            boots: 0,
            boot_ns: 0,
        }
    }

    /// A replica started at `created` is gone at `now`.
    pub(crate) fn ended(&mut self, created: SimTime, now: SimTime) {
        self.lifetimes.push(crate::Lifetime {
            start_ns: created.as_nanos(),
            end_ns: now.as_nanos(),
        });
    }

    /// Every replica's lifetime: those gone, then those started at
    /// `created` still alive at `end`.
    pub(crate) fn lifetimes(
        &self,
        alive: impl Iterator<Item = SimTime>,
        end: SimTime,
    ) -> Vec<crate::Lifetime> {
        let mut out = self.lifetimes.clone();
        out.extend(alive.map(|c| crate::Lifetime {
            start_ns: c.as_nanos(),
            end_ns: end.as_nanos(),
        }));
        out
    }

    /// A replica started at `created` has booted at `now`.
    pub(crate) fn booted(&mut self, now: SimTime, created: SimTime) {
        self.boots += 1;
        self.boot_ns += u128::from(now.saturating_since(created).as_nanos());
    }

    /// The report's figures: replica counts (with the pending maximum when
    /// `pending`), scale-ups and -downs, mean boot time, refusals.
    pub(crate) fn figures(&self, pending: bool) -> ScalingFigures {
        let g = &self.gauges;
        let ups = self.scale_events.iter().filter(|e| e.to > e.from).count() as u64;
        ScalingFigures {
            replicas_ready_mean: g.mean(READY),
            replicas_ready_max: g.peak(READY),
            replicas_booting_max: g.peak(BOOTING),
            replicas_pending_max: pending.then(|| g.peak(PENDING)),
            scale_ups: ups,
            scale_downs: self.scale_events.len() as u64 - ups,
            boot_time_mean_s: (self.boots > 0)
                .then(|| self.boot_ns as f64 / self.boots as f64 / 1e9),
            no_replica_drops: self.no_replica_drops,
            host_pool_utilization: None,
        }
    }
}

/// Areas under the ready-replica curves since the last autoscaler tick.
#[derive(Debug, Default)]
struct Meter {
    last: SimTime,
    ready_area: u128,
    busy_area: u128,
    inside_area: u128,
    /// Busy workers on ready replicas.
    busy: u64,
    /// Requests inside ready replicas.
    inside: u64,
    ready: u64,
}

impl Meter {
    #[inline]
    fn touch(&mut self, now: SimTime) {
        let dt = u128::from(now.as_nanos().saturating_sub(self.last.as_nanos()));
        if dt > 0 {
            self.ready_area += dt * u128::from(self.ready);
            self.busy_area += dt * u128::from(self.busy);
            self.inside_area += dt * u128::from(self.inside);
            self.last = now;
        }
    }
}

/// A deployment's state.
#[derive(Debug)]
pub(crate) struct Deployment {
    workers: u32,
    capacity: Option<u32>,
    service: Sampler,
    service_rng: RngStream,
    boot: Sampler,
    boot_rng: RngStream,
    policy: LbPolicy,
    balance_rng: RngStream,
    cursor: usize,
    replicas: Vec<Replica>,
    free: Vec<u32>,
    /// Indices of ready replicas: the balancer's candidates.
    ready: Vec<u32>,
    /// Replicas wanted that found no room on a host yet.
    pub(crate) pending: u32,
    /// Global index of the first host of the pool and the pool's size.
    pub(crate) pool: Option<(u32, u32)>,
    /// Memory each replica needs.
    pub(crate) memory: u64,
    /// Cores each replica requests.
    pub(crate) cpu: f64,
    /// The autoscaler, its metric and its interval.
    pub(crate) hpa: Option<(Hpa, ScaleMetric, SimDuration)>,
    meter: Meter,
    /// Aggregate station metrics: busy workers and waiting requests over all
    /// replicas.
    pub(crate) metrics: StationMetrics,
    /// Replica counts, scale decisions, boots.
    pub(crate) log: ScaleLog,
}

impl Deployment {
    /// A deployment with no replicas yet; the engine adds them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        workers: u32,
        capacity: Option<u32>,
        service: Sampler,
        service_rng: RngStream,
        boot: Sampler,
        boot_rng: RngStream,
        policy: LbPolicy,
        balance_rng: RngStream,
        metrics: StationMetrics,
        gauges: TimeAverage<3>,
    ) -> Self {
        Deployment {
            workers,
            capacity,
            service,
            service_rng,
            boot,
            boot_rng,
            policy,
            balance_rng,
            cursor: 0,
            replicas: Vec::new(),
            free: Vec::new(),
            ready: Vec::new(),
            pending: 0,
            pool: None,
            memory: 0,
            cpu: 0.0,
            hpa: None,
            meter: Meter::default(),
            metrics,
            log: ScaleLog::new(gauges),
        }
    }

    /// Workers per replica.
    pub(crate) fn workers(&self) -> u32 {
        self.workers
    }

    /// Ready replicas.
    pub(crate) fn ready_count(&self) -> u32 {
        self.ready.len() as u32
    }

    /// Booting replicas.
    pub(crate) fn booting_count(&self) -> u32 {
        self.log.gauges.levels()[BOOTING] as u32
    }

    /// Replicas wanted: ready, booting and pending (draining ones excluded).
    pub(crate) fn wanted(&self) -> u32 {
        self.ready_count() + self.booting_count() + self.pending
    }

    /// The replica `i`.
    pub(crate) fn replica(&self, i: u32) -> &Replica {
        &self.replicas[i as usize]
    }

    /// Remembers the boot timer of booting replica `i`.
    pub(crate) fn set_boot_timer(&mut self, i: u32, timer: TimerId) {
        self.replicas[i as usize].boot_timer = Some(timer);
    }

    /// Draws a boot time.
    pub(crate) fn boot_time(&mut self) -> SimDuration {
        self.boot.sample(&mut self.boot_rng)
    }

    fn set_gauges(&mut self, now: SimTime) {
        let booting = self.log.gauges.levels()[BOOTING];
        self.log.gauges.set(
            now,
            [self.ready.len() as u64, booting, u64::from(self.pending)],
        );
    }

    /// Adds a replica on `host` (or [`NO_HOST`]) in state `Booting`, or
    /// `Ready` at once when `ready`. Returns its index.
    pub(crate) fn add_replica(&mut self, now: SimTime, host: u32, ready: bool) -> u32 {
        let replica = Replica {
            state: ReplicaState::Booting,
            busy: 0,
            queue: VecDeque::new(),
            host,
            boot_timer: None,
            ready_pos: 0,
            created: now,
        };
        let i = match self.free.pop() {
            Some(i) => {
                let old = &mut self.replicas[i as usize];
                // Keep the queue's buffer.
                let queue = std::mem::take(&mut old.queue);
                *old = Replica { queue, ..replica };
                i
            }
            None => {
                self.replicas.push(replica);
                (self.replicas.len() - 1) as u32
            }
        };
        if ready {
            self.join(now, i);
        } else {
            self.log.gauges.add(now, BOOTING, 1);
        }
        i
    }

    /// A booting replica has booted: it joins the balancer.
    pub(crate) fn make_ready(&mut self, now: SimTime, i: u32) {
        debug_assert_eq!(self.replicas[i as usize].state, ReplicaState::Booting);
        self.log.gauges.add(now, BOOTING, -1);
        self.join(now, i);
    }

    /// Replica `i` joins the balancer (booted, or ready from the start).
    fn join(&mut self, now: SimTime, i: u32) {
        let r = &mut self.replicas[i as usize];
        r.state = ReplicaState::Ready;
        if r.boot_timer.take().is_some() {
            self.log.booted(now, r.created);
        }
        r.ready_pos = self.ready.len() as u32;
        self.ready.push(i);
        self.meter.touch(now);
        self.meter.ready += 1;
        self.set_gauges(now);
    }

    /// Removes replica `i` from service. A booting one is gone at once; a
    /// ready one drains (returns `false` while it still holds requests).
    /// Returns whether it is gone now.
    pub(crate) fn retire(&mut self, now: SimTime, i: u32) -> bool {
        let state = self.replicas[i as usize].state;
        match state {
            ReplicaState::Booting => {
                self.log.gauges.add(now, BOOTING, -1);
                self.gone(now, i);
                true
            }
            ReplicaState::Ready => {
                self.meter.touch(now);
                let r = &self.replicas[i as usize];
                self.meter.ready -= 1;
                self.meter.busy -= u64::from(r.busy);
                self.meter.inside -= u64::from(r.inside());
                let pos = r.ready_pos as usize;
                self.ready.swap_remove(pos);
                if let Some(&moved) = self.ready.get(pos) {
                    self.replicas[moved as usize].ready_pos = pos as u32;
                }
                self.set_gauges(now);
                if self.replicas[i as usize].inside() == 0 {
                    self.gone(now, i);
                    true
                } else {
                    self.replicas[i as usize].state = ReplicaState::Draining;
                    false
                }
            }
            ReplicaState::Draining | ReplicaState::Gone => false,
        }
    }

    fn gone(&mut self, now: SimTime, i: u32) {
        let r = &mut self.replicas[i as usize];
        self.log.ended(r.created, now);
        r.state = ReplicaState::Gone;
        r.boot_timer = None;
        self.free.push(i);
    }

    /// Every replica's lifetime, those alive ending at `end` (billing).
    pub(crate) fn lifetimes(&self, end: SimTime) -> Vec<crate::Lifetime> {
        let alive = self
            .replicas
            .iter()
            .filter(|r| r.state != ReplicaState::Gone);
        self.log.lifetimes(alive.map(|r| r.created), end)
    }

    /// The replica to remove next on a scale-down: the newest booting one,
    /// else the newest ready one (as Kubernetes deletes not-ready pods first,
    /// then the most recently started). `None` if only one ready replica is
    /// left and nothing boots.
    pub(crate) fn victim(&self) -> Option<u32> {
        scale_down_victim(
            self.replicas.iter().map(|r| (r.state, r.created)),
            self.ready.len(),
        )
    }

    /// Picks a ready replica for a request, or `None` if none is ready.
    #[inline]
    pub(crate) fn choose(&mut self) -> Option<u32> {
        let replicas = &self.replicas;
        pick_ready(
            self.policy,
            &self.ready,
            &mut self.cursor,
            &mut self.balance_rng,
            |i| replicas[i as usize].inside(),
        )
    }

    /// A request arrives at replica `i`.
    #[inline]
    pub(crate) fn arrive(
        &mut self,
        now: SimTime,
        i: u32,
        req: RequestId,
        counted: bool,
    ) -> ReplicaAdmission {
        if counted {
            self.metrics.arrivals += 1;
        }
        let r = &mut self.replicas[i as usize];
        let measured = r.state == ReplicaState::Ready;
        if r.busy < self.workers {
            r.busy += 1;
            self.metrics.levels.add(now, ACTIVE, 1);
            if measured {
                self.meter.touch(now);
                self.meter.busy += 1;
                self.meter.inside += 1;
            }
            return ReplicaAdmission::Serve(self.service.sample(&mut self.service_rng));
        }
        if self
            .capacity
            .is_some_and(|cap| r.queue.len() >= cap as usize)
        {
            if counted {
                self.metrics.drops += 1;
            }
            return ReplicaAdmission::Dropped;
        }
        r.queue.push_back(req);
        self.metrics.levels.add(now, WAITING, 1);
        if measured {
            self.meter.touch(now);
            self.meter.inside += 1;
        }
        ReplicaAdmission::Queued
    }

    /// Replica `i` finishes a request that entered at `entered`. Returns the
    /// next request to start there with its work, and whether the replica,
    /// draining, is now empty and gone.
    #[inline]
    pub(crate) fn finish(
        &mut self,
        now: SimTime,
        i: u32,
        entered: SimTime,
        counted: bool,
    ) -> (Option<(RequestId, SimDuration)>, bool) {
        if counted {
            self.metrics.completions += 1;
            self.metrics.latency.record(now - entered);
        }
        let r = &mut self.replicas[i as usize];
        let measured = r.state == ReplicaState::Ready;
        if measured {
            self.meter.touch(now);
            self.meter.inside -= 1;
        }
        match r.queue.pop_front() {
            Some(next) => {
                self.metrics.levels.add(now, WAITING, -1);
                let work = self.service.sample(&mut self.service_rng);
                (Some((next, work)), false)
            }
            None => {
                r.busy -= 1;
                self.metrics.levels.add(now, ACTIVE, -1);
                if measured {
                    self.meter.busy -= 1;
                }
                let gone = r.state == ReplicaState::Draining && r.busy == 0;
                if gone {
                    self.gone(now, i);
                }
                (None, gone)
            }
        }
    }

    /// The autoscaler's metric over the interval since the last call, averaged
    /// over ready replicas (NaN if none was ready), and resets the meter.
    pub(crate) fn take_metric(&mut self, now: SimTime, metric: ScaleMetric) -> f64 {
        self.meter.touch(now);
        let m = &mut self.meter;
        let value = if m.ready_area == 0 {
            f64::NAN
        } else {
            match metric {
                ScaleMetric::Utilization => {
                    m.busy_area as f64 / (m.ready_area as f64 * f64::from(self.workers))
                }
                ScaleMetric::QueueLength => m.inside_area as f64 / m.ready_area as f64,
            }
        };
        m.ready_area = 0;
        m.busy_area = 0;
        m.inside_area = 0;
        m.last = now;
        value
    }

    /// Records a pending change at `now` (placement failed or succeeded).
    pub(crate) fn pending_changed(&mut self, now: SimTime) {
        self.set_gauges(now);
    }
}

/// The replica to remove next on a scale-down, from each replica's state and
/// start time (by index) and the number ready: the newest booting one, else
/// the newest ready one while more than one is ready (as Kubernetes deletes
/// not-ready pods first, then the youngest). Ties go to the higher index.
pub(crate) fn scale_down_victim(
    replicas: impl Iterator<Item = (ReplicaState, SimTime)> + Clone,
    ready: usize,
) -> Option<u32> {
    let newest = |state: ReplicaState| {
        replicas
            .clone()
            .enumerate()
            .filter(|(_, (s, _))| *s == state)
            .max_by_key(|(i, (_, created))| (*created, *i))
            .map(|(i, _)| i as u32)
    };
    newest(ReplicaState::Booting).or_else(|| {
        if ready > 1 {
            newest(ReplicaState::Ready)
        } else {
            None
        }
    })
}

/// The implicit balancer of replicas: picks one of `ready` (replica
/// indices) by `policy`; `inside(i)` is what replica `i` holds. `cursor` is
/// the round-robin position. Shared by deployments and replica groups.
#[inline]
pub(crate) fn pick_ready(
    policy: LbPolicy,
    ready: &[u32],
    cursor: &mut usize,
    balance_rng: &mut RngStream,
    inside: impl Fn(u32) -> u32,
) -> Option<u32> {
    let n = ready.len();
    if n == 0 {
        return None;
    }
    let pos = match policy {
        // A deployment's `balance` never takes the LLM-aware policies (the
        // loader's `balance` values do not include them).
        LbPolicy::RoundRobin
        | LbPolicy::ConsistentHash
        | LbPolicy::LeastKv
        | LbPolicy::PrefixAffinity => {
            let i = if *cursor >= n { 0 } else { *cursor };
            *cursor = i + 1;
            i
        }
        LbPolicy::Random => balance_rng.random_range(0..n),
        LbPolicy::LeastOutstanding => {
            let mut best = 0;
            let mut best_inside = u32::MAX;
            let mut ties = 0u32;
            for (pos, &i) in ready.iter().enumerate() {
                let inside = inside(i);
                if inside < best_inside {
                    best = pos;
                    best_inside = inside;
                    ties = 1;
                } else if inside == best_inside {
                    ties += 1;
                    if balance_rng.random_range(0..ties) == 0 {
                        best = pos;
                    }
                }
            }
            best
        }
        LbPolicy::PowerOfTwo => {
            if n == 1 {
                0
            } else {
                let a = balance_rng.random_range(0..n);
                let mut b = balance_rng.random_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                let inside = |p: usize| inside(ready[p]);
                if inside(b) < inside(a) { b } else { a }
            }
        }
    };
    Some(ready[pos])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Distribution;
    use sysdes_kernel::derive_stream;

    fn deployment(policy: LbPolicy, workers: u32) -> Deployment {
        let end = SimTime::from_nanos(1_000_000_000);
        Deployment::new(
            workers,
            None,
            Sampler::new(&Distribution::Constant(SimDuration::from_nanos(10))).unwrap(),
            derive_stream(1, "d", "service"),
            Sampler::new(&Distribution::Constant(SimDuration::from_nanos(100))).unwrap(),
            derive_stream(1, "d", "boot"),
            policy,
            derive_stream(1, "d", "balance"),
            StationMetrics::new(SimTime::ZERO, end),
            TimeAverage::new(SimTime::ZERO, end),
        )
    }

    #[test]
    fn round_robin_visits_ready_replicas_in_turn() {
        let mut d = deployment(LbPolicy::RoundRobin, 1);
        for _ in 0..3 {
            d.add_replica(SimTime::ZERO, NO_HOST, true);
        }
        let picks: Vec<u32> = (0..6).map(|_| d.choose().unwrap()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
        let booting = d.add_replica(SimTime::ZERO, NO_HOST, false);
        assert_eq!(d.wanted(), 4);
        assert!((0..8).all(|_| d.choose() != Some(booting)));
        d.make_ready(SimTime::ZERO, booting);
        assert!((0..4).any(|_| d.choose() == Some(booting)));
    }

    /// A retired replica with work drains: no new requests, finishes what it
    /// holds, then is gone and its slot reused.
    #[test]
    fn retired_replicas_drain_then_go() {
        let mut d = deployment(LbPolicy::RoundRobin, 1);
        let a = d.add_replica(SimTime::ZERO, NO_HOST, true);
        let b = d.add_replica(SimTime::ZERO, NO_HOST, true);
        assert!(matches!(
            d.arrive(SimTime::ZERO, b, 7, true),
            ReplicaAdmission::Serve(_)
        ));
        assert!(matches!(
            d.arrive(SimTime::ZERO, b, 8, true),
            ReplicaAdmission::Queued
        ));
        assert_eq!(d.victim(), Some(b));
        assert!(!d.retire(SimTime::ZERO, b));
        assert_eq!(d.replica(b).state, ReplicaState::Draining);
        assert!((0..4).all(|_| d.choose() == Some(a)));
        let t = SimTime::from_nanos(10);
        let (next, gone) = d.finish(t, b, SimTime::ZERO, true);
        assert_eq!(next.map(|(r, _)| r), Some(8));
        assert!(!gone);
        let (next, gone) = d.finish(t, b, SimTime::ZERO, true);
        assert!(next.is_none() && gone);
        assert_eq!(d.add_replica(t, NO_HOST, false), b, "slot reused");
        // The last ready replica is never the victim; a booting one is.
        assert_eq!(d.victim(), Some(b));
        assert!(d.retire(t, b));
        assert_eq!(d.victim(), None);
    }

    /// The utilization metric is busy time over ready replica time.
    #[test]
    fn metric_averages_over_ready_replicas() {
        let mut d = deployment(LbPolicy::RoundRobin, 2);
        let a = d.add_replica(SimTime::ZERO, NO_HOST, true);
        d.add_replica(SimTime::ZERO, NO_HOST, true);
        // One of four workers busy for the whole interval: 0.25.
        let _ = d.arrive(SimTime::ZERO, a, 1, false);
        let m = d.take_metric(SimTime::from_nanos(1000), ScaleMetric::Utilization);
        assert!((m - 0.25).abs() < 1e-12, "{m}");
        let q = d.take_metric(SimTime::from_nanos(2000), ScaleMetric::QueueLength);
        assert!((q - 0.5).abs() < 1e-12, "{q}");
    }
}
