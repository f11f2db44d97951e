//! Spot replicas (`cost: { spot: ... }` on a deployment or a replica
//! group, see `docs/cost.md`): each replica is its own interruptible
//! instance.
//!
//! When a replica starts (booting, or ready at time zero) its interruption
//! is drawn: an exponential time of mean `1 / rate` later, from the group's
//! own stream (`spot`), so the same seed gives the same times and adding a
//! spot group changes no other draw. With a `notice`, the replica is warned
//! that long before (from its start at the earliest): it leaves the
//! balancer and finishes what it holds, as a replica drains on a scale-down.
//! At the interruption whatever it still holds fails at once (a crash:
//! queued, in service, waiting for its calls) and the replica is gone; its
//! lifetime, billed, ends there (or earlier, when a warned replica drained
//! first). `replace` after the interruption a replacement starts booting
//! through the group's ordinary boot (`runs_on.boot_time`, plus a model's
//! load): the replacement gap is not billed, its boot is. While it waits,
//! the replacement counts as wanted, so an autoscaler neither adds a
//! second one nor sees the gap as a scale-down; a scale-down takes a
//! waiting replacement first.
//!
//! A replica of a group of components is interrupted by crashing its
//! component (the crash machinery of its kind fails what it holds) and
//! restarting it at once, empty, for its next life.

use sysdes_kernel::{RngStream, SimDuration, SimTime, derive_stream};

use super::sim::DeployEvent;
use super::{Members, ReplicaGroup, ReplicaState};
use crate::figures::ScalingFigures;
use crate::kinds::{ReplicaGroupId, Resolved};
use crate::request::{Outcome, RequestId};
use crate::result::FaultWindow;
use crate::sampler::Sampler;
use crate::simulation::{Event, Simulation};
use crate::spec::{Distribution, FaultKind};

/// How a group's spot replicas are interrupted, and what happened.
#[derive(Debug)]
pub(crate) struct GroupSpot {
    /// Time from a replica's start to its interruption.
    gap: Sampler,
    rng: RngStream,
    /// From an interruption to its replacement starting to boot.
    replace: SimDuration,
    /// The warning before an interruption (zero: none).
    notice: SimDuration,
    /// Interruptions over the run.
    pub(crate) interruptions: u64,
    /// Counted requests failed by interruptions.
    pub(crate) lost: u64,
    /// Each interruption: the replica, when, and when its replacement was
    /// due (cut at the end of the run), for the run's fault windows.
    windows: Vec<(u32, SimTime, SimTime)>,
}

impl ReplicaGroup {
    /// `figures` with a spot group's interruptions and the counted
    /// requests they failed.
    pub(crate) fn spot_figures(&self, mut figures: ScalingFigures) -> ScalingFigures {
        if let Some(s) = &self.spot {
            figures.interruptions = Some(s.interruptions);
            figures.lost_in_interruptions = Some(s.lost);
        }
        figures
    }

    /// Draws the interruption of spot replica `i`, started `now`: returns
    /// when to warn it (`None` without a notice) and when to interrupt it.
    /// Both are kept in its slot, for [`ReplicaGroup::notice_due`] and the
    /// interruption's own check.
    fn arm(&mut self, now: SimTime, i: u32) -> Option<(Option<SimTime>, SimTime)> {
        let spot = self.spot.as_mut()?;
        let at = now + spot.gap.sample(&mut spot.rng);
        let notice = (spot.notice > SimDuration::ZERO).then(|| {
            SimTime::from_nanos(at.as_nanos().saturating_sub(spot.notice.as_nanos())).max(now)
        });
        let slot = &mut self.slots[i as usize];
        slot.spot_at = at;
        slot.notice_at = notice.unwrap_or(SimTime::MAX);
        slot.noticed = false;
        Some((notice, at))
    }

    /// Whether a notice event at `now` is for the life replica slot `i`
    /// holds. It is not when the replica it was armed for was scaled down
    /// and the slot reused by a replica started since (its own warning
    /// comes at its own time): that event is stale. A replica scaled down
    /// and gone, its slot not reused, still matches; [`ReplicaGroup::warn`]
    /// does nothing to it.
    fn notice_due(&self, i: u32, now: SimTime) -> bool {
        self.slots[i as usize].notice_at == now
    }

    /// Replica `i` is warned: a ready one leaves the balancer and drains,
    /// a booting one stops at once. Returns whether it is to be replaced
    /// (not when it was already draining on a scale-down).
    fn warn(&mut self, now: SimTime, i: u32) -> bool {
        match self.slots[i as usize].state {
            ReplicaState::Ready => {
                self.unready(now, i);
                let s = &mut self.slots[i as usize];
                s.noticed = true;
                if s.inside == 0 {
                    self.gone(now, i);
                } else {
                    s.state = ReplicaState::Draining;
                }
                true
            }
            ReplicaState::Booting => {
                self.slots[i as usize].noticed = true;
                self.retire(now, i);
                true
            }
            ReplicaState::Draining | ReplicaState::Gone => false,
        }
    }

    /// Replica `i` is interrupted: it leaves the balancer; a station is
    /// emptied and gone (its waiting requests are returned, to fail; those
    /// in service are found by the caller), a component replica drains
    /// until its crash has answered what it holds. Returns whether it is
    /// to be replaced (not when warned already, or draining on a
    /// scale-down), and the requests that were waiting at a station.
    fn interrupt(&mut self, now: SimTime, i: u32) -> (bool, Vec<RequestId>) {
        let s = self.slots[i as usize];
        let replace = match s.state {
            ReplicaState::Gone => return (false, Vec::new()),
            ReplicaState::Booting => {
                self.retire(now, i);
                return (true, Vec::new());
            }
            ReplicaState::Ready => {
                self.unready(now, i);
                self.slots[i as usize].state = ReplicaState::Draining;
                true
            }
            ReplicaState::Draining => false,
        };
        let mut waiting = Vec::new();
        match &mut self.members {
            Members::Stations(st) => {
                let r = &mut st.replicas[i as usize];
                waiting.extend(r.queue.drain(..));
                let busy = r.busy;
                r.busy = 0;
                self.metrics
                    .levels
                    .add(now, crate::station::WAITING, -(waiting.len() as i64));
                self.metrics
                    .levels
                    .add(now, crate::station::ACTIVE, -i64::from(busy));
                self.slots[i as usize].inside = 0;
                self.gone(now, i);
            }
            Members::Components(_) => {
                if self.slots[i as usize].inside == 0 {
                    self.gone(now, i);
                }
            }
        }
        (replace, waiting)
    }
}

impl Simulation {
    /// Before the run: each replica group with a
    /// [`FaultKind::Interruptions`] gets its spot state (its stream named
    /// `spot`), its component replicas become crashable, and the replicas
    /// started at time zero draw their interruptions.
    pub(crate) fn groups_spot_start(&mut self) {
        let spots: Vec<_> = self
            .spec
            .faults
            .iter()
            .filter_map(|f| match f.kind {
                FaultKind::Interruptions {
                    target,
                    per_s,
                    replace,
                    notice,
                } if self.spec.is_replica_group(target) => Some((target, per_s, replace, notice)),
                _ => None,
            })
            .collect();
        for (target, per_s, replace, notice) in spots {
            // Its arena index (the registry is built from the spec: a
            // replica group there is one here).
            let Resolved::ReplicaGroup(group) = self.components.resolve(target) else {
                continue;
            };
            let Ok(gap) = Sampler::new(&Distribution::Exponential {
                mean_ns: 1e9 / per_s,
            }) else {
                continue;
            };
            let name = &self.spec.components[target.index()].name;
            let g = &mut self.components[group];
            // Replicas on a shared host's CPU are not interrupted (the
            // loader refuses spot there: the hosts are the instances).
            if g.placement.is_some() {
                continue;
            }
            g.spot = Some(GroupSpot {
                gap,
                rng: derive_stream(self.spec.seed, name, "spot"),
                replace,
                notice,
                interruptions: 0,
                lost: 0,
                windows: Vec::new(),
            });
            for j in 0..self.components[group].members().len() {
                let member = self.components[group].members()[j];
                if let Some(faults) = self.components.fault_state(member.index()) {
                    faults.crashable = true;
                }
            }
            let started: Vec<u32> = (0..self.components[group].slots.len() as u32)
                .filter(|&i| self.components[group].state(i) != ReplicaState::Gone)
                .collect();
            for i in started {
                self.arm_spot(group, i);
            }
        }
    }

    /// Spot replica `replica` of `group` has just started: schedules its
    /// warning (if any) and its interruption.
    pub(crate) fn arm_spot(&mut self, group: ReplicaGroupId, replica: u32) {
        let now = self.sched.now();
        let Some((notice, at)) = self.components[group].arm(now, replica) else {
            return;
        };
        // Nothing is interrupted after the run's duration (the run only
        // drains what is in flight then).
        if at >= self.window_end {
            return;
        }
        if let Some(notice) = notice {
            self.sched.schedule_at(
                notice,
                Event::Deploy(DeployEvent::SpotNotice { group, replica }),
            );
        }
        self.sched.schedule_at(
            at,
            Event::Deploy(DeployEvent::SpotInterrupt { group, replica }),
        );
    }

    /// A spot replica's warning: it drains, and its replacement is due
    /// `replace` after the interruption.
    #[cold]
    #[inline(never)]
    pub(crate) fn spot_notice(&mut self, group: ReplicaGroupId, replica: u32) {
        let now = self.sched.now();
        let g = &mut self.components[group];
        if !g.notice_due(replica, now) {
            return;
        }
        let at = g.slots[replica as usize].spot_at;
        if let Some(timer) = g.boot_timer(replica) {
            self.sched.cancel(timer);
        }
        let g = &mut self.components[group];
        if g.warn(now, replica) {
            self.replace_later(group, at);
        }
    }

    /// A spot replica is interrupted: what it holds fails, it is gone, and
    /// (unless warned already) a replacement is due `replace` later.
    #[cold]
    #[inline(never)]
    pub(crate) fn spot_interrupt(&mut self, group: ReplicaGroupId, replica: u32) {
        let now = self.sched.now();
        let g = &mut self.components[group];
        let slot = g.slots[replica as usize];
        // A stale event (the slot started another life), or a replica
        // scaled down and gone: no instance to interrupt. A warned one that
        // drained already is still counted.
        let gone = slot.state == ReplicaState::Gone;
        if slot.spot_at != now || (gone && !slot.noticed) {
            return;
        }
        if let Some(timer) = g.boot_timer(replica) {
            self.sched.cancel(timer);
        }
        let gid = self.components.id(group);
        let g = &mut self.components[group];
        let member = g.members().get(replica as usize).copied();
        let (replace, waiting) = g.interrupt(now, replica);
        let mut lost = 0;
        match member {
            _ if gone => {}
            None => {
                // A station: the requests in service there still have their
                // ServiceDone pending (pinned until it passes).
                let inside: Vec<RequestId> = self
                    .requests
                    .inside(gid)
                    .into_iter()
                    .filter(|&r| {
                        self.requests[r]
                            .hops
                            .last()
                            .is_some_and(|h| h.choice == replica)
                    })
                    .collect();
                for &req in &inside {
                    let r = &mut self.requests[req];
                    lost += u64::from(r.counted);
                    r.pinned = !waiting.contains(&req);
                    r.outcome = Outcome::Failed;
                }
                for req in inside {
                    self.respond(req);
                }
            }
            Some(member) => {
                lost = self
                    .requests
                    .inside(member)
                    .into_iter()
                    .filter(|&r| self.requests[r].counted)
                    .count() as u64;
                self.crash_at(member);
                self.restart_at(member);
            }
        }
        let end = self.window_end;
        let g = &mut self.components[group];
        let noticed = g.slots[replica as usize].noticed;
        if noticed {
            // Its slot waited for the interruption: free now (what it held
            // has failed, synchronously).
            g.slots[replica as usize].noticed = false;
            if g.stations().is_some() {
                g.free.push(replica);
            }
        }
        if let Some(s) = g.spot.as_mut() {
            s.interruptions += 1;
            s.lost += lost;
            let back = (now + s.replace).min(end);
            s.windows.push((replica, now, back));
        }
        if replace && !noticed {
            self.replace_later(group, now);
        }
    }

    /// A replacement for a replica interrupted at `at` is due `replace`
    /// later (if within the run).
    fn replace_later(&mut self, group: ReplicaGroupId, at: SimTime) {
        let g = &mut self.components[group];
        let Some(replace) = g.spot.as_ref().map(|s| s.replace) else {
            return;
        };
        g.replacing += 1;
        let due = at + replace;
        if due < self.window_end {
            self.sched
                .schedule_at(due, Event::Deploy(DeployEvent::SpotReplace { group }));
        }
    }

    /// A replacement is due: it starts booting, unless a scale-down has
    /// taken it meanwhile.
    #[cold]
    #[inline(never)]
    pub(crate) fn spot_replace(&mut self, group: ReplicaGroupId) {
        let g = &mut self.components[group];
        if g.replacing == 0 {
            return;
        }
        g.replacing -= 1;
        self.boot_replica(group, super::NO_HOST);
    }

    /// Each interruption of a spot group's replicas as a `crash` window of
    /// the replica (`NAME[i]`; a component replica's own name), from the
    /// interruption to its replacement's start.
    pub(crate) fn spot_windows(&self, out: &mut Vec<FaultWindow>) {
        for i in 0..self.components.replica_group.items.len() {
            let group = ReplicaGroupId(i as u32);
            let g = &self.components[group];
            let Some(spot) = &g.spot else { continue };
            let name = &self.spec.components[self.components.id(group).index()].name;
            for &(replica, at, back) in &spot.windows {
                let target = match g.members().get(replica as usize) {
                    Some(m) => self.spec.components[m.index()].name.clone(),
                    None => format!("{name}[{replica}]"),
                };
                out.push(FaultWindow {
                    kind: "crash",
                    target,
                    start_s: at.as_secs_f64(),
                    end_s: back.as_secs_f64(),
                    spot: true,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::{ComponentId, SimDuration, SimTime};

    use super::super::sim::DeployEvent;
    use crate::kinds::ReplicaGroupId;
    use crate::kinds::replica_group::spec::{GroupSpec, ReplicaMembers, RunsOn, RuntimeKind};
    use crate::simulation::Event;
    use crate::spec::{ComponentKind, Distribution, FaultKind, FaultSpec, LbPolicy, ModelSpec};
    use crate::{NoObserver, RunLimits, RunResult, Simulation};

    /// A deployment of two one-worker replicas (constant 50 ms service)
    /// behind 10 Poisson arrivals a second for an hour, each replica a spot
    /// instance at 4 interruptions an hour, warned 2 min before and
    /// replaced 2 min after.
    fn spec() -> ModelSpec {
        let mut spec = ModelSpec::single_server(
            10.0,
            1,
            Distribution::Constant(SimDuration::from_millis(50)),
            SimDuration::from_secs(3600),
        );
        let ComponentKind::Server(server) = spec.components[0].kind.clone() else {
            panic!("single_server builds a server");
        };
        spec.components[0].kind = ComponentKind::ReplicaGroup(GroupSpec {
            members: ReplicaMembers::Stations(server),
            replicas: 2,
            balance: LbPolicy::RoundRobin,
            runs_on: RunsOn {
                kind: RuntimeKind::Vm,
                boot_time: Distribution::Constant(SimDuration::from_secs(10)),
            },
            extra_boot: None,
            autoscaler: None,
            cpu: 1.0,
            memory: 0,
            host: None,
        });
        spec.faults.push(FaultSpec {
            at: SimDuration::ZERO,
            duration: spec.duration,
            kind: FaultKind::Interruptions {
                target: ComponentId(0),
                per_s: 4.0 / 3600.0,
                replace: SimDuration::from_secs(120),
                notice: SimDuration::from_secs(120),
            },
        });
        spec
    }

    /// Runs `spec`, first queueing `extra` (events for replica 0 of the
    /// group at the given times).
    fn run(spec: &ModelSpec, extra: &[(u64, Event)]) -> RunResult {
        let mut sim = Simulation::new(spec).expect("builds");
        for &(at_s, event) in extra {
            sim.sched
                .schedule_at(SimTime::ZERO + SimDuration::from_secs(at_s), event);
        }
        sim.run(RunLimits::default(), &mut NoObserver)
            .expect("runs")
    }

    /// Regression (review: the check that a notice is for the replica's
    /// current life could never fail as written). A replica scaled down
    /// leaves its warning and interruption queued; when its slot is reused
    /// by a replica started later, they reach that replica at times that
    /// are not its own. Such stale events for replica 0, at 300 s and
    /// 310 s (it is ready and serving then, in its second life; its own
    /// times are drawn from a continuous distribution), must change
    /// nothing: every interruption window, replica life and request count
    /// is that of the run without them. Without the checks the stale
    /// notice drains replica 0 at 300 s and books a replacement, and the
    /// stale interruption fails what it holds.
    #[test]
    fn stale_spot_events_for_a_reused_slot_change_nothing() {
        let spec = spec();
        let plain = run(&spec, &[]);
        let group = ReplicaGroupId(0);
        let stale = run(
            &spec,
            &[
                (
                    300,
                    Event::Deploy(DeployEvent::SpotNotice { group, replica: 0 }),
                ),
                (
                    310,
                    Event::Deploy(DeployEvent::SpotInterrupt { group, replica: 0 }),
                ),
            ],
        );
        // Replica 0 is ready from 10 s (its boot) after one interruption's
        // replacement starts until 2 min (its notice) before the next: the
        // stale events fall inside such a span, so they would act.
        let zero: Vec<_> = plain
            .faults
            .iter()
            .filter(|f| f.target == "server[0]")
            .collect();
        assert!(
            zero.windows(2)
                .any(|w| w[0].end_s + 10.0 <= 300.0 && w[1].start_s - 120.0 >= 310.0),
            "{zero:?}"
        );
        assert_eq!(stale.faults, plain.faults);
        assert_eq!(stale.lifetimes, plain.lifetimes);
        assert_eq!(stale.requests.completed, plain.requests.completed);
        assert_eq!(stale.requests.failed, plain.requests.failed);
    }
}
