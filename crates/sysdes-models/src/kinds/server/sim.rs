//! The engine side of a server: admission (serve, queue, drop, or fail
//! while down), the end of a worker's own work, and the answer that frees
//! the worker. A server's `calls` are in `calls.rs`.

use sysdes_kernel::ComponentId;

use crate::kinds::server::Admission;
use crate::request::{Op, Outcome, RequestId};
use crate::simulation::{Component, Event, Simulation};

impl Simulation {
    pub(crate) fn server_arrive(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        let Component::Server(server) = &mut self.components[to.index()] else {
            crate::simulation::misrouted();
            return;
        };
        match server.arrive(now, req, counted) {
            Admission::Serve { done_after } => {
                self.sched
                    .schedule_in(done_after, Event::ServiceDone { server: to, req });
            }
            Admission::Queued => {}
            Admission::Dropped => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
            Admission::Down => {
                self.requests[req].outcome = Outcome::Failed;
                self.respond(req);
            }
        }
    }

    /// A server's worker finished its own work on `req`: a leaf server
    /// answers; a server with calls starts them.
    pub(crate) fn service_done(&mut self, server: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let Component::Server(s) = &mut self.components[server.index()] else {
            crate::simulation::misrouted();
            return;
        };
        // netfault: a request failed by a crash while in service.
        if s.faults.crashable && self.requests[req].pinned {
            self.requests.unpin(req);
            return;
        }
        if s.calls.is_empty() {
            let r = &mut self.requests[req];
            r.version = match r.op {
                Op::Write => self.versions.bump(r.key),
                Op::Read => self.versions.current(r.key),
            };
            self.server_answers(server, req);
            return;
        }
        if !s.holds_worker_during_calls() {
            if let Some((next, after)) = s.release_worker(now) {
                self.sched
                    .schedule_in(after, Event::ServiceDone { server, req: next });
            }
        }
        self.start_step(server, req, 0);
    }

    /// A server answers `req` (successfully or not): it frees the worker if
    /// one is still held, records the departure and responds.
    pub(crate) fn server_answers(&mut self, server: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let Component::Server(s) = &mut self.components[server.index()] else {
            crate::simulation::misrouted();
            return;
        };
        if s.calls.is_empty() || s.holds_worker_during_calls() {
            if let Some((next, after)) = s.release_worker(now) {
                self.sched
                    .schedule_in(after, Event::ServiceDone { server, req: next });
            }
        }
        s.record_departure(now, entered, counted);
        self.respond(req);
    }
}
