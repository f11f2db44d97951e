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
        // A request failed by a crash while in service.
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

impl crate::kinds::Kind for crate::kinds::server::Server {
    type Spec = crate::spec::ServerSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        s: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        if s.workers == 0 {
            return Err(ctx.invalid("a server needs at least one worker".into()));
        }
        if s.calls.iter().any(|step| step.targets.is_empty()) {
            return Err(ctx.invalid("a call step needs a target".into()));
        }
        let mut server = crate::kinds::server::Server::new(
            s.workers,
            s.queue_capacity,
            crate::sampler::Sampler::new(&s.service_time).map_err(|e| ctx.invalid(e))?,
            ctx.stream("service"),
            ctx.metrics(),
        );
        server.hedge_stats = s
            .calls
            .iter()
            .map(|step| {
                step.hedge_percentile
                    .map(crate::kinds::server::HedgeStat::new)
            })
            .collect();
        server.resilience = crate::kinds::server::calls::Resilience::new(&s.calls);
        server.calls = s.calls.clone();
        server.mode = s.mode;
        Ok(server)
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::Server, self.workers())
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        if self.calls.is_empty() {
            return crate::figures::KindFigures::None;
        }
        let mut figures = crate::figures::CallFigures {
            hedges_sent: self.hedges,
            wasted_calls: self.wasted_calls,
            failed_calls: self.failed_calls,
            ..Default::default()
        };
        self.resilience.figures(&self.calls, &mut figures);
        crate::figures::KindFigures::Calls(figures)
    }

    fn fault_state(&mut self) -> Option<&mut crate::station::FaultState> {
        Some(&mut self.faults)
    }

    fn lost_in_crash(&self) -> Option<u64> {
        self.faults.crashable.then_some(self.faults.lost_in_crash)
    }

    fn busy_area_mut(&mut self) -> Option<(&mut Option<crate::station::BusyArea>, u32)> {
        let workers = self.workers();
        Some((&mut self.busy_area, workers))
    }

    fn backlog(&self) -> Option<(usize, u32, &'static str)> {
        Some((self.queue_len(), self.workers(), "worker"))
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.queue"));
    }

    fn gauges(&self, _: sysdes_kernel::SimTime, out: &mut Vec<f64>) {
        out.push(self.queue_len() as f64);
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: ComponentId, req: RequestId) {
        sim.server_arrive(at, req);
    }

    fn call_returned(
        sim: &mut Simulation,
        caller: ComponentId,
        parent: Option<RequestId>,
        child: RequestId,
        tag: u32,
    ) {
        sim.server_call_returned(caller, parent, child, tag);
    }

    fn crash(sim: &mut Simulation, at: ComponentId) {
        sim.crash_server(at);
    }

    fn restart(sim: &mut Simulation, at: ComponentId) {
        let now = sim.sched.now();
        if let Some(f) = sim.components[at.index()].fault_state() {
            f.restart(now);
        }
    }
}
