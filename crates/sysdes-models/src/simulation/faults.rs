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

use sysdes_kernel::SimTime;

use super::{Event, Simulation};
use crate::request::Outcome;
use crate::result::FaultWindow;
use crate::spec::{FaultKind, NetTarget};

impl Simulation {
    /// Schedules the start and end of every crash and slowdown, and marks
    /// the servers that can crash.
    pub(super) fn schedule_faults(&mut self) {
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
        self.spec
            .faults
            .iter()
            .map(|f| {
                let target = match &f.kind {
                    FaultKind::Crash(c) | FaultKind::Slowdown { target: c, .. } => {
                        self.spec.components[c.index()].name.clone()
                    }
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
                }
            })
            .collect()
    }
}
