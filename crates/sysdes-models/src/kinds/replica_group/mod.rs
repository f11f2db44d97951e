//! A replica group's state without the engine: its replicas (booting,
//! ready, draining), the implicit balancer over the ready ones, the
//! per-interval measurements its autoscaler reads, and the gauges and
//! scaling log the report shows.
//!
//! One implementation (and one spec, `GroupSpec`, whose `ReplicaMembers`
//! say the form) serves both ways a scenario replicates something:
//!
//! - **Stations** (a *deployment*: a leaf server with `replicas`): each
//!   replica is a FIFO station like [`crate::kinds::server`]'s, kept inside
//!   the group: `workers` requests in service at once, the rest waiting.
//!   Its service runs on a dedicated CPU (a timer) or, with host placement,
//!   as a job on a shared host's CPU (`hosts.rs`). Replicas are created as
//!   they start; a gone one's slot is reused (the last freed first).
//! - **Components** (a server with `calls`, a model server, a cache with
//!   `replicas`): each replica is a component of its own (`NAME[i]`),
//!   created when the run is built, up to the most it may ever run, and
//!   idle until the autoscaler boots it (the lowest-numbered idle one). An
//!   idle replica is small (a few KB): its latency histograms allocate
//!   their buckets with the first request it answers (once per replica,
//!   never per event). A server replica placed on a host (the group tells
//!   it which) runs its own work there, by processor sharing.
//!
//! Host placement is an option of both forms: the group keeps each
//! replica's host in its slot and the pool in [`HostPlacement`].

pub(crate) mod figures;
pub(crate) mod hosts;
pub(crate) mod sim;
pub(crate) mod spec;
pub(crate) mod spot;

use std::collections::VecDeque;

use rand::RngExt;
use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime, TimerId};
use sysdes_stats::TimeAverage;

use crate::autoscaler::Hpa;
use crate::figures::ScalingFigures;
use crate::kinds::replica_group::spec::ScaleMetric;
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
    /// Removed (or never started); the slot may be reused.
    Gone,
}

/// One replica's place in its group.
#[derive(Clone, Copy, Debug)]
struct Slot {
    state: ReplicaState,
    /// Requests sent to it and not yet answered (waiting or in service).
    inside: u32,
    /// Position in [`ReplicaGroup::ready`] while ready.
    ready_pos: u32,
    /// When it was started (the newest are removed first).
    created: SimTime,
    /// The boot timer while booting.
    boot_timer: Option<TimerId>,
    /// Global index of the shared host it is placed on, or [`NO_HOST`].
    host: u32,
    /// A spot replica's interruption time ([`SimTime::MAX`] for none): an
    /// interruption event that finds another time here is stale.
    spot_at: SimTime,
    /// When a spot replica is warned of that interruption
    /// ([`SimTime::MAX`] for no warning): computed once, when its life is
    /// armed; a notice event that finds another time here is stale.
    notice_at: SimTime,
    /// A spot replica warned of its interruption (draining, replaced).
    noticed: bool,
}

impl Slot {
    const IDLE: Slot = Slot {
        state: ReplicaState::Gone,
        inside: 0,
        ready_pos: 0,
        created: SimTime::ZERO,
        boot_timer: None,
        host: NO_HOST,
        spot_at: SimTime::MAX,
        notice_at: SimTime::MAX,
        noticed: false,
    };
}

/// What a replica of [`Members::Stations`] does with an arriving request.
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

/// What a fleet of replicas did over the run: its replica counts, scale
/// decisions, boots and refusals.
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
            interruptions: None,
            lost_in_interruptions: None,
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
    /// Busy workers on ready replicas (stations only; component replicas
    /// keep their own busy time).
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

/// One FIFO replica kept inside the group.
#[derive(Debug)]
pub(crate) struct Station {
    busy: u32,
    queue: VecDeque<RequestId>,
}

/// Leaf-server replicas kept inside the group (a deployment), by replica
/// index.
#[derive(Debug)]
pub(crate) struct Stations {
    workers: u32,
    capacity: Option<u32>,
    service: Sampler,
    service_rng: RngStream,
    replicas: Vec<Station>,
}

/// Where a group's replicas are placed: a pool of shared hosts, and the
/// memory each replica takes on its host.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HostPlacement {
    /// Global index of the first host of the pool and the pool's size.
    pub(crate) pool: (u32, u32),
    /// Memory each replica needs, bytes.
    pub(crate) memory: u64,
}

impl Stations {
    /// FIFO replicas of `workers` workers, `capacity` waiting places each
    /// (unbounded if `None`), with service times drawn from `service`.
    pub(crate) fn new(
        workers: u32,
        capacity: Option<u32>,
        service: Sampler,
        service_rng: RngStream,
    ) -> Self {
        Stations {
            workers,
            capacity,
            service,
            service_rng,
            replicas: Vec::new(),
        }
    }

    /// Workers per replica.
    pub(crate) fn workers(&self) -> u32 {
        self.workers
    }

    /// Replica `i` starts afresh (its queue's buffer is kept).
    fn place(&mut self, i: u32) {
        match self.replicas.get_mut(i as usize) {
            Some(s) => {
                s.busy = 0;
                s.queue.clear();
            }
            None => self.replicas.push(Station {
                busy: 0,
                queue: VecDeque::new(),
            }),
        }
    }
}

/// What a group's replicas are.
#[derive(Debug)]
pub(crate) enum Members {
    /// Leaf FIFO replicas kept inside the group (a deployment).
    Stations(Stations),
    /// Each replica a component of its own, by replica index.
    Components(Vec<ComponentId>),
}

/// A replica group's state.
#[derive(Debug)]
pub(crate) struct ReplicaGroup {
    slots: Vec<Slot>,
    /// Freed slots, the last freed reused first (stations only).
    free: Vec<u32>,
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
    /// Replicas wanted that found no room on a host yet.
    pub(crate) pending: u32,
    /// The host pool replicas are placed on; `None`: dedicated CPUs.
    pub(crate) placement: Option<HostPlacement>,
    /// Requests through the group. For stations: busy workers (`ACTIVE`)
    /// and waiting requests over all replicas; for components: requests
    /// outstanding (`ACTIVE`).
    pub(crate) metrics: StationMetrics,
    /// Replica counts, scale decisions, boots.
    pub(crate) log: ScaleLog,
    /// What the replicas are.
    pub(crate) members: Members,
    /// Spot replicas: how they are interrupted and what that did.
    pub(crate) spot: Option<spot::GroupSpot>,
    /// Replacements of interrupted spot replicas not started yet (counted
    /// as wanted, like pending ones).
    pub(crate) replacing: u32,
}

impl ReplicaGroup {
    /// A group of `members` with no replica started yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        members: Members,
        policy: LbPolicy,
        balance_rng: RngStream,
        boot: Sampler,
        extra_boot: Option<Sampler>,
        boot_rng: RngStream,
        metrics: StationMetrics,
        gauges: TimeAverage<3>,
    ) -> Self {
        let slots = match &members {
            Members::Stations(_) => Vec::new(),
            Members::Components(c) => vec![Slot::IDLE; c.len()],
        };
        ReplicaGroup {
            slots,
            free: Vec::new(),
            ready: Vec::new(),
            cursor: 0,
            policy,
            balance_rng,
            boot,
            extra_boot,
            boot_rng,
            hpa: None,
            meter: Meter::default(),
            pending: 0,
            placement: None,
            metrics,
            log: ScaleLog::new(gauges),
            members,
            spot: None,
            replacing: 0,
        }
    }

    /// The replicas' components, by replica index (none for stations).
    pub(crate) fn members(&self) -> &[ComponentId] {
        match &self.members {
            Members::Components(c) => c,
            Members::Stations(_) => &[],
        }
    }

    /// The stations, when the replicas are kept inside the group.
    #[inline]
    pub(crate) fn stations(&self) -> Option<&Stations> {
        match &self.members {
            Members::Stations(s) => Some(s),
            Members::Components(_) => None,
        }
    }

    /// The host of replica `i` ([`NO_HOST`] for dedicated CPUs).
    #[inline]
    pub(crate) fn host(&self, i: u32) -> u32 {
        self.slots[i as usize].host
    }

    /// Whether its replicas can wait for room on a host (a deployment's
    /// always report it, for compatibility; a group of components only
    /// when placed on hosts).
    pub(crate) fn shows_pending(&self) -> bool {
        self.stations().is_some() || self.placement.is_some()
    }

    /// The state of replica `i`.
    pub(crate) fn state(&self, i: u32) -> ReplicaState {
        self.slots[i as usize].state
    }

    /// Whether replica `i` is ready.
    pub(crate) fn is_ready(&self, i: u32) -> bool {
        self.state(i) == ReplicaState::Ready
    }

    /// Ready replicas.
    pub(crate) fn ready_count(&self) -> u32 {
        self.ready.len() as u32
    }

    /// Replicas wanted: ready, booting and pending (draining ones excluded).
    pub(crate) fn wanted(&self) -> u32 {
        self.ready_count()
            + self.log.gauges.levels()[BOOTING] as u32
            + self.pending
            + self.replacing
    }

    /// Draws a boot time (the runtime's, plus any extra such as a model load).
    pub(crate) fn boot_time(&mut self) -> SimDuration {
        let boot = self.boot.sample(&mut self.boot_rng);
        match &self.extra_boot {
            Some(extra) => boot + extra.sample(&mut self.boot_rng),
            None => boot,
        }
    }

    fn set_gauges(&mut self, now: SimTime) {
        let booting = self.log.gauges.levels()[BOOTING];
        self.log.gauges.set(
            now,
            [self.ready.len() as u64, booting, u64::from(self.pending)],
        );
    }

    /// Records a pending change at `now` (placement failed or succeeded).
    pub(crate) fn pending_changed(&mut self, now: SimTime) {
        self.set_gauges(now);
    }

    /// Starts a replica on `host` (or [`NO_HOST`]), booting, or ready at
    /// once when `ready`. Stations reuse the last freed slot or add one;
    /// components take the lowest-numbered idle one, `None` if every one is
    /// in use (draining ones included).
    pub(crate) fn start(&mut self, now: SimTime, host: u32, ready: bool) -> Option<u32> {
        let slot = Slot {
            state: ReplicaState::Booting,
            created: now,
            host,
            ..Slot::IDLE
        };
        let i = match &mut self.members {
            Members::Stations(s) => {
                let i = match self.free.pop() {
                    Some(i) => {
                        self.slots[i as usize] = slot;
                        i
                    }
                    None => {
                        self.slots.push(slot);
                        (self.slots.len() - 1) as u32
                    }
                };
                s.place(i);
                i
            }
            Members::Components(_) => {
                let i = self
                    .slots
                    .iter()
                    .position(|s| s.state == ReplicaState::Gone && !s.noticed)?
                    as u32;
                self.slots[i as usize] = slot;
                i
            }
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
        self.set_gauges(now);
    }

    /// Takes replica `i` out of service: a booting one stops at once, a
    /// ready one drains (keeps answering what it holds, takes nothing new).
    /// Returns whether it is gone now.
    pub(crate) fn retire(&mut self, now: SimTime, i: u32) -> bool {
        match self.slots[i as usize].state {
            ReplicaState::Booting => {
                self.log.gauges.add(now, BOOTING, -1);
                self.gone(now, i);
                true
            }
            ReplicaState::Ready => {
                let s = self.slots[i as usize];
                self.unready(now, i);
                if s.inside == 0 {
                    self.gone(now, i);
                    true
                } else {
                    self.slots[i as usize].state = ReplicaState::Draining;
                    false
                }
            }
            ReplicaState::Draining | ReplicaState::Gone => false,
        }
    }

    /// Ready replica `i` leaves the balancer (its state is the caller's).
    fn unready(&mut self, now: SimTime, i: u32) {
        self.meter.touch(now);
        let s = self.slots[i as usize];
        self.meter.ready -= 1;
        if let Members::Stations(st) = &self.members {
            self.meter.busy -= u64::from(st.replicas[i as usize].busy);
        }
        self.meter.inside -= u64::from(s.inside);
        let pos = s.ready_pos as usize;
        self.ready.swap_remove(pos);
        if let Some(&moved) = self.ready.get(pos) {
            self.slots[moved as usize].ready_pos = pos as u32;
        }
        self.set_gauges(now);
    }

    /// Replica `i` is gone: its lifetime ends, its slot may be reused.
    fn gone(&mut self, now: SimTime, i: u32) {
        let s = &mut self.slots[i as usize];
        self.log.ended(s.created, now);
        s.state = ReplicaState::Gone;
        s.boot_timer = None;
        // A warned spot replica's slot waits for its interruption
        // (`spot.rs` frees it then).
        if matches!(self.members, Members::Stations(_)) && !s.noticed {
            self.free.push(i);
        }
    }

    /// Every replica's lifetime: those gone, then those alive, ending at
    /// `end` (billing).
    pub(crate) fn lifetimes(&self, end: SimTime) -> Vec<crate::Lifetime> {
        let mut out = self.log.lifetimes.clone();
        let alive = self.slots.iter().filter(|s| s.state != ReplicaState::Gone);
        out.extend(alive.map(|s| crate::Lifetime {
            start_ns: s.created.as_nanos(),
            end_ns: end.as_nanos(),
        }));
        out
    }

    /// The replica to remove next on a scale-down: the newest booting one,
    /// else the newest ready one while more than one is ready (as
    /// Kubernetes deletes not-ready pods first, then the youngest). Ties go
    /// to the higher index.
    pub(crate) fn victim(&self) -> Option<u32> {
        let newest = |state: ReplicaState| {
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.state == state)
                .max_by_key(|(i, s)| (s.created, *i))
                .map(|(i, _)| i as u32)
        };
        newest(ReplicaState::Booting).or_else(|| {
            if self.ready.len() > 1 {
                newest(ReplicaState::Ready)
            } else {
                None
            }
        })
    }

    /// Picks a ready replica for a request by the balancing policy, or
    /// `None` if none is ready.
    #[inline]
    pub(crate) fn choose(&mut self) -> Option<u32> {
        let n = self.ready.len();
        if n == 0 {
            return None;
        }
        let inside = |i: u32| self.slots[i as usize].inside;
        let rng = &mut self.balance_rng;
        let pos = match self.policy {
            // A group's `balance` never takes the LLM-aware policies (the
            // loader's `balance` values do not include them).
            LbPolicy::RoundRobin
            | LbPolicy::ConsistentHash
            | LbPolicy::LeastKv
            | LbPolicy::PrefixAffinity => {
                let i = if self.cursor >= n { 0 } else { self.cursor };
                self.cursor = i + 1;
                i
            }
            LbPolicy::Random => rng.random_range(0..n),
            LbPolicy::LeastOutstanding => {
                let mut best = 0;
                let mut best_inside = u32::MAX;
                let mut ties = 0u32;
                for (pos, &i) in self.ready.iter().enumerate() {
                    let inside = inside(i);
                    if inside < best_inside {
                        best = pos;
                        best_inside = inside;
                        ties = 1;
                    } else if inside == best_inside {
                        ties += 1;
                        if rng.random_range(0..ties) == 0 {
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
                    let a = rng.random_range(0..n);
                    let mut b = rng.random_range(0..n - 1);
                    if b >= a {
                        b += 1;
                    }
                    let inside = |p: usize| inside(self.ready[p]);
                    if inside(b) < inside(a) { b } else { a }
                }
            }
        };
        Some(self.ready[pos])
    }

    /// A request reaches the group and finds no ready replica: refused.
    pub(crate) fn refuse(&mut self, counted: bool) {
        if counted {
            self.metrics.arrivals += 1;
            self.metrics.drops += 1;
        }
        self.log.no_replica_drops += 1;
    }

    /// A request is handed to component replica `i` (chosen by
    /// [`ReplicaGroup::choose`]): counted inside it until it answers.
    #[inline]
    pub(crate) fn forward(&mut self, now: SimTime, i: u32, counted: bool) {
        if counted {
            self.metrics.arrivals += 1;
        }
        self.slots[i as usize].inside += 1;
        self.metrics.levels.add(now, ACTIVE, 1);
        self.meter.touch(now);
        self.meter.inside += 1;
    }

    /// Component replica `i` answers a request that entered the group at
    /// `entered`; `served` counts it as a completion (a counted request
    /// answered Ok). Returns whether the replica, draining, is now empty
    /// and gone.
    #[inline]
    pub(crate) fn answered(
        &mut self,
        now: SimTime,
        i: u32,
        entered: SimTime,
        served: bool,
    ) -> bool {
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
                false
            }
            ReplicaState::Draining if s.inside == 0 => {
                s.state = ReplicaState::Gone;
                let created = s.created;
                self.log.ended(created, now);
                true
            }
            _ => false,
        }
    }

    /// A request arrives at station replica `i` (chosen by
    /// [`ReplicaGroup::choose`]).
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
        let Members::Stations(st) = &mut self.members else {
            return ReplicaAdmission::Dropped;
        };
        let slot = &mut self.slots[i as usize];
        let r = &mut st.replicas[i as usize];
        let measured = slot.state == ReplicaState::Ready;
        if r.busy < st.workers {
            r.busy += 1;
            slot.inside += 1;
            self.metrics.levels.add(now, ACTIVE, 1);
            if measured {
                self.meter.touch(now);
                self.meter.busy += 1;
                self.meter.inside += 1;
            }
            return ReplicaAdmission::Serve(st.service.sample(&mut st.service_rng));
        }
        if st.capacity.is_some_and(|cap| r.queue.len() >= cap as usize) {
            if counted {
                self.metrics.drops += 1;
            }
            return ReplicaAdmission::Dropped;
        }
        r.queue.push_back(req);
        slot.inside += 1;
        self.metrics.levels.add(now, WAITING, 1);
        if measured {
            self.meter.touch(now);
            self.meter.inside += 1;
        }
        ReplicaAdmission::Queued
    }

    /// Station replica `i` finishes a request that entered at `entered`.
    /// Returns the next request to start there with its work, and whether
    /// the replica, draining, is now empty and gone.
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
        let Members::Stations(st) = &mut self.members else {
            return (None, false);
        };
        let slot = &mut self.slots[i as usize];
        let r = &mut st.replicas[i as usize];
        slot.inside -= 1;
        let measured = slot.state == ReplicaState::Ready;
        if measured {
            self.meter.touch(now);
            self.meter.inside -= 1;
        }
        match r.queue.pop_front() {
            Some(next) => {
                self.metrics.levels.add(now, WAITING, -1);
                let work = st.service.sample(&mut st.service_rng);
                (Some((next, work)), false)
            }
            None => {
                r.busy -= 1;
                self.metrics.levels.add(now, ACTIVE, -1);
                if measured {
                    self.meter.busy -= 1;
                }
                let gone = slot.state == ReplicaState::Draining && r.busy == 0;
                if gone {
                    self.gone(now, i);
                }
                (None, gone)
            }
        }
    }

    /// Ready replica-time, busy worker-time (stations) and requests-inside
    /// time over the interval since the last call, ns; restarts the meter.
    pub(crate) fn take_areas(&mut self, now: SimTime) -> (u128, u128, u128) {
        self.meter.touch(now);
        let m = &mut self.meter;
        let areas = (m.ready_area, m.busy_area, m.inside_area);
        m.ready_area = 0;
        m.busy_area = 0;
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

    fn sampler(ns: u64) -> Sampler {
        Sampler::new(&Distribution::Constant(SimDuration::from_nanos(ns))).unwrap()
    }

    fn fleet(members: Members, policy: LbPolicy) -> ReplicaGroup {
        let end = SimTime::from_nanos(1_000_000_000);
        ReplicaGroup::new(
            members,
            policy,
            derive_stream(1, "g", "balance"),
            sampler(100),
            None,
            derive_stream(1, "g", "boot"),
            StationMetrics::new(SimTime::ZERO, end),
            TimeAverage::new(SimTime::ZERO, end),
        )
    }

    fn group(n: u32, policy: LbPolicy) -> ReplicaGroup {
        fleet(
            Members::Components((0..n).map(|i| ComponentId(10 + i)).collect()),
            policy,
        )
    }

    fn deployment(policy: LbPolicy, workers: u32) -> ReplicaGroup {
        let stations = Stations::new(workers, None, sampler(10), derive_stream(1, "d", "service"));
        fleet(Members::Stations(stations), policy)
    }

    #[test]
    fn round_robin_over_ready_replicas_only() {
        let t = SimTime::from_nanos;
        let mut g = group(4, LbPolicy::RoundRobin);
        assert_eq!(g.start(t(0), NO_HOST, true), Some(0));
        assert_eq!(g.start(t(0), NO_HOST, true), Some(1));
        assert_eq!(g.start(t(0), NO_HOST, false), Some(2)); // booting
        let pick = |g: &mut ReplicaGroup, at| {
            let i = g.choose().unwrap();
            g.forward(t(at), i, true);
            i
        };
        let picks: Vec<u32> = (0..4).map(|_| pick(&mut g, 1)).collect();
        assert_eq!(picks, [0, 1, 0, 1]);
        g.make_ready(t(2), 2);
        let picks: Vec<u32> = (0..3).map(|_| pick(&mut g, 3)).collect();
        assert_eq!(picks, [2, 0, 1]);
        assert_eq!(g.wanted(), 3);
    }

    #[test]
    fn a_draining_replica_finishes_its_work_and_is_then_reused() {
        let t = SimTime::from_nanos;
        let mut g = group(2, LbPolicy::RoundRobin);
        g.start(t(0), NO_HOST, true);
        g.start(t(0), NO_HOST, true);
        assert_eq!(g.choose(), Some(0));
        g.forward(t(1), 0, false);
        assert_eq!(g.victim(), Some(1)); // newest ready, by index on ties
        assert!(!g.retire(t(2), 0)); // holds one request: drains
        assert_eq!(g.ready(), &[1]);
        assert_eq!(
            g.start(t(3), NO_HOST, false),
            None,
            "0 drains, 1 serves: none idle"
        );
        g.answered(t(4), 0, t(1), false);
        assert_eq!(g.start(t(5), NO_HOST, false), Some(0));
    }

    #[test]
    fn no_ready_replica_drops_and_counts() {
        let mut g = group(1, LbPolicy::PowerOfTwo);
        g.start(SimTime::ZERO, NO_HOST, false);
        assert_eq!(g.choose(), None);
        g.refuse(true);
        assert_eq!((g.metrics.drops, g.log.no_replica_drops), (1, 1));
    }

    #[test]
    fn meter_integrates_ready_replicas_and_requests_inside() {
        let t = SimTime::from_nanos;
        let mut g = group(2, LbPolicy::RoundRobin);
        g.start(t(0), NO_HOST, true);
        g.forward(t(10), 0, false); // 1 inside from 10
        g.start(t(20), NO_HOST, true); // 2 ready from 20
        assert_eq!(g.take_areas(t(30)), (20 + 2 * 10, 0, 20));
        g.answered(t(40), 0, t(10), false);
        assert_eq!(g.take_areas(t(50)), (2 * 20, 0, 10));
    }

    #[test]
    fn round_robin_visits_ready_stations_in_turn() {
        let mut d = deployment(LbPolicy::RoundRobin, 1);
        for _ in 0..3 {
            d.start(SimTime::ZERO, NO_HOST, true);
        }
        let picks: Vec<u32> = (0..6).map(|_| d.choose().unwrap()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
        let booting = d.start(SimTime::ZERO, NO_HOST, false).unwrap();
        assert_eq!(d.wanted(), 4);
        assert!((0..8).all(|_| d.choose() != Some(booting)));
        d.make_ready(SimTime::ZERO, booting);
        assert!((0..4).any(|_| d.choose() == Some(booting)));
    }

    /// A retired station with work drains: no new requests, finishes what
    /// it holds, then is gone and its slot reused.
    #[test]
    fn retired_stations_drain_then_go() {
        let mut d = deployment(LbPolicy::RoundRobin, 1);
        let a = d.start(SimTime::ZERO, NO_HOST, true).unwrap();
        let b = d.start(SimTime::ZERO, NO_HOST, true).unwrap();
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
        assert_eq!(d.state(b), ReplicaState::Draining);
        assert!((0..4).all(|_| d.choose() == Some(a)));
        let t = SimTime::from_nanos(10);
        let (next, gone) = d.finish(t, b, SimTime::ZERO, true);
        assert_eq!(next.map(|(r, _)| r), Some(8));
        assert!(!gone);
        let (next, gone) = d.finish(t, b, SimTime::ZERO, true);
        assert!(next.is_none() && gone);
        assert_eq!(d.start(t, NO_HOST, false), Some(b), "slot reused");
        // The last ready replica is never the victim; a booting one is.
        assert_eq!(d.victim(), Some(b));
        assert!(d.retire(t, b));
        assert_eq!(d.victim(), None);
    }

    /// The stations' busy area is busy worker-time over ready replicas.
    #[test]
    fn station_meter_counts_busy_workers_of_ready_replicas() {
        let mut d = deployment(LbPolicy::RoundRobin, 2);
        let a = d.start(SimTime::ZERO, NO_HOST, true).unwrap();
        d.start(SimTime::ZERO, NO_HOST, true);
        // One of four workers busy for the whole interval.
        let _ = d.arrive(SimTime::ZERO, a, 1, false);
        assert_eq!(d.take_areas(SimTime::from_nanos(1000)), (2000, 1000, 1000));
    }
}
