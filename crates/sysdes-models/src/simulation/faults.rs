//! The fault timeline: crashes and slowdowns of servers (network faults,
//! partitions, latency and loss, act inside [`super::Network`] by time), and
//! the fault windows a run reports. Nothing here is per kind: a fault
//! reaches a kind through the registry (`Kind::fault_state` for the one
//! shared [`crate::station::FaultState`], `Kind::crash` and `Kind::restart`
//! for what a crash does inside it: a server's in `kinds/server/crash.rs`,
//! a model server's in its policy's state).
//!
//! A crash at `at` fails every request inside the server at once, like a
//! connection reset: those waiting in its queue, those in service and those
//! waiting for its downstream calls. Each is answered with
//! `Outcome::Failed` at the crash instant. While the server is down every
//! arrival fails at once; it restarts empty after `for`. A request failed in
//! service still has its `ServiceDone` event pending: its slot is pinned
//! (not reused) until that event has passed, so a stale event can never touch
//! a later request.

use sysdes_kernel::{ComponentId, SimTime, derive_stream};

use super::{Event, Simulation};
use crate::Lifetime;
use crate::request::Outcome;
use crate::result::FaultWindow;
use crate::sampler::Sampler;
use crate::spec::{Distribution, FaultKind, FaultSpec, ModelSpec, NetTarget};

impl Simulation {
    /// Schedules the start and end of every crash and slowdown, and marks
    /// the servers that can crash.
    pub(super) fn schedule_faults(&mut self) {
        self.draw_interruptions();
        for (i, f) in self.spec.faults.iter().enumerate() {
            let target = match f.kind {
                FaultKind::Crash(c) | FaultKind::Slowdown { target: c, .. } => c,
                _ => continue,
            };
            if let FaultKind::Crash(_) = f.kind {
                if let Some(faults) = (target.index() < self.components.len())
                    .then(|| self.components.fault_state(target.index()))
                    .flatten()
                {
                    faults.crashable = true;
                }
            }
            let start = SimTime::ZERO + f.at;
            let index = i as u32;
            self.sched
                .schedule_at(start, Event::Fault { index, start: true });
            self.sched.schedule_at(
                start + f.duration,
                Event::Fault {
                    index,
                    start: false,
                },
            );
        }
    }

    /// Turns each [`FaultKind::Interruptions`] into the crashes of one
    /// run, appended to `spec.faults` (so events name them by index like any
    /// other crash). From time zero, the next interruption comes an
    /// exponential time of mean `1 / per_s` after the instance started;
    /// the instance is down for `replace` (cut at the end of `duration`),
    /// then a new one starts. One stream per component (`spot`): adding a
    /// spot instance leaves every other draw as it was.
    fn draw_interruptions(&mut self) {
        let end = SimTime::ZERO + self.spec.duration;
        let mut drawn = Vec::new();
        for f in &self.spec.faults {
            let FaultKind::Interruptions {
                target,
                per_s,
                replace,
                ..
            } = f.kind
            else {
                continue;
            };
            // A group's replicas draw their own (`replica_group/spot.rs`).
            if self.spec.is_replica_group(target) {
                continue;
            }
            let Some(name) = self.spec.components.get(target.index()).map(|c| &c.name) else {
                continue;
            };
            let Ok(gap) = Sampler::new(&Distribution::Exponential {
                mean_ns: 1e9 / per_s,
            }) else {
                continue;
            };
            let mut rng = derive_stream(self.spec.seed, name, "spot");
            let mut alive_from = SimTime::ZERO;
            loop {
                let at = alive_from + gap.sample(&mut rng);
                if at >= end {
                    break;
                }
                let back = (at + replace).min(end);
                drawn.push(FaultSpec {
                    at: at - SimTime::ZERO,
                    duration: back - at,
                    kind: FaultKind::Crash(target),
                });
                alive_from = at + replace;
            }
        }
        self.spec.faults.extend(drawn);
    }

    /// The lives of the instances of each interrupted component (one
    /// between each replacement and the next interruption, the last to
    /// `end`), into `by_component`: billing follows them (see
    /// [`crate::Lifetimes`]).
    pub(super) fn interruption_lifetimes(
        spec: &ModelSpec,
        end: SimTime,
        by_component: &mut [Vec<Lifetime>],
    ) {
        for f in &spec.faults {
            let FaultKind::Interruptions { target, .. } = f.kind else {
                continue;
            };
            // A group's replicas have their own lifetimes.
            if spec.is_replica_group(target) {
                continue;
            }
            let Some(lives) = by_component.get_mut(target.index()) else {
                continue;
            };
            lives.clear();
            let mut start = 0;
            // The drawn crashes of `target`, in time order (as drawn).
            for c in &spec.faults {
                if c.kind == FaultKind::Crash(target) {
                    let at = c.at.as_nanos();
                    lives.push(Lifetime {
                        start_ns: start,
                        end_ns: at,
                    });
                    start = at + c.duration.as_nanos();
                }
            }
            if start < end.as_nanos() {
                lives.push(Lifetime {
                    start_ns: start,
                    end_ns: end.as_nanos(),
                });
            }
        }
    }

    /// Whether `c` is a spot instance: its crashes are the interruptions
    /// drawn for it (the loader refuses a crash fault of a spot component).
    fn is_spot(&self, c: ComponentId) -> bool {
        self.spec
            .faults
            .iter()
            .any(|f| matches!(f.kind, FaultKind::Interruptions { target, .. } if target == c))
    }

    /// A crash or slowdown starts or ends.
    #[cold]
    #[inline(never)]
    pub(super) fn fault_event(&mut self, index: u32, start: bool) {
        match self.spec.faults[index as usize].kind {
            FaultKind::Crash(c) => {
                if start {
                    self.crash_at(c);
                } else {
                    self.restart_at(c);
                }
            }
            FaultKind::Slowdown { target, factor } => {
                let speed = if start { factor } else { 1.0 };
                if let Some(faults) = self.components.fault_state(target.index()) {
                    faults.speed = speed;
                }
            }
            _ => {}
        }
    }

    /// Answers every request in `lost` with a failure (a crash).
    pub(crate) fn fail_all(&mut self, lost: Vec<crate::request::RequestId>) {
        for req in lost {
            self.requests[req].outcome = Outcome::Failed;
            self.respond(req);
        }
    }

    /// The fault windows of the run, for results, series and plots.
    pub(super) fn fault_windows(&self) -> Vec<FaultWindow> {
        let name = |t: &NetTarget| match *t {
            NetTarget::Component(c) => self.spec.components[c.index()].name.clone(),
            NetTarget::Workload(w) => self.spec.workloads[w as usize].name.clone(),
            NetTarget::Zone(z) => self
                .spec
                .network
                .zones
                .get(usize::from(z).wrapping_sub(1))
                .cloned()
                .unwrap_or_default(),
        };
        let mut out: Vec<FaultWindow> = self
            .spec
            .faults
            .iter()
            .filter(|f| !matches!(f.kind, FaultKind::Interruptions { .. }))
            .map(|f| {
                let target = match &f.kind {
                    // Drawn into crashes when the run starts (filtered above).
                    FaultKind::Interruptions { .. } => String::new(),
                    FaultKind::Crash(c)
                    | FaultKind::Slowdown { target: c, .. }
                    | FaultKind::CrashStore(c) => self.spec.components[c.index()].name.clone(),
                    FaultKind::CrashReplica { store, replica } => {
                        format!("{}.r{replica}", self.spec.components[store.index()].name)
                    }
                    FaultKind::Latency { from, to, .. } | FaultKind::Loss { from, to, .. } => {
                        format!("{}<->{}", name(from), name(to))
                    }
                    FaultKind::Partition(groups) => groups
                        .iter()
                        .map(|g| g.iter().map(name).collect::<Vec<_>>().join(","))
                        .collect::<Vec<_>>()
                        .join(" | "),
                };
                let start = f.at.as_secs_f64();
                FaultWindow {
                    kind: f.kind.name(),
                    target,
                    start_s: start,
                    end_s: start + f.duration.as_secs_f64(),
                    spot: match f.kind {
                        FaultKind::Crash(c) => self.is_spot(c),
                        _ => false,
                    },
                }
            })
            .collect();
        self.spot_windows(&mut out);
        out
    }
}
