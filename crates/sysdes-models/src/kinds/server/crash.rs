//! What a crash does inside a server (the fault timeline itself, and the
//! state every kind a fault can hit shares, are in `simulation/faults.rs`
//! and [`crate::station::FaultState`]).

use crate::kinds::ServerId;
use crate::request::Outcome;
use crate::simulation::Simulation;

impl Simulation {
    /// Server `server` crashes now: everything inside it fails.
    pub(crate) fn crash_server(&mut self, server: ServerId) {
        let now = self.sched.now();
        let c = self.components.id(server);
        let s = &mut self.components[server];
        let queued = s.crash(now);
        let leaf = s.calls.is_empty();
        // Everything whose innermost hop is this server, queued or not.
        let inside = self.requests.inside(c);
        let mut lost = 0;
        for &req in &inside {
            let r = &mut self.requests[req];
            if r.counted {
                lost += 1;
            }
            let in_own_work = !queued.contains(&req) && (leaf || r.calls.epoch == 0);
            // Its ServiceDone is still pending: keep the slot until it passes.
            r.pinned = in_own_work;
            // Answers to calls still out no longer matter.
            r.calls.epoch = r.calls.epoch.wrapping_add(1);
            r.outcome = Outcome::Failed;
        }
        self.components[server].faults.lost_in_crash += lost;
        for req in inside {
            self.respond(req);
        }
    }
}
