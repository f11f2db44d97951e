//! The engine side of a server: admission (serve, queue, drop, or fail
//! while down), the end of a worker's own work, and the answer that frees
//! the worker. A server's `calls` are in `calls.rs`. Priority levels,
//! preemption and reneging (patience) are here too.

use sysdes_kernel::SimDuration;

use crate::kinds::ServerId;
use crate::kinds::replica_group::NO_HOST;
use crate::kinds::replica_group::hosts::HostJob;
use crate::kinds::server::{Admission, Start};
use crate::request::{Op, Outcome, RequestId};
use crate::simulation::{Event, Simulation};

kind_events! {
    /// A server's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    server_events {
        /// A server's worker finishes its own work on a request.
        ServiceDone { server: crate::kinds::ServerId, req: crate::request::RequestId }
            => service_done @ server,
        /// The patience of a request waiting at a server runs out (reneging);
        /// `generation` is its slot's, so a reused slot is not mistaken for it.
        Renege {
            server: crate::kinds::ServerId,
            req: crate::request::RequestId,
            generation: u32,
        } => server_renege @ server,
    }
}

impl Simulation {
    #[inline]
    pub(crate) fn server_arrive(&mut self, to: ServerId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, priority) = (r.counted, r.priority);
        let server = &mut self.components[to];
        let level = server.level(priority);
        if server.is_preemptive() {
            if let Some(timer) = server.preempt(now, level, counted) {
                self.sched.cancel(timer);
            }
        }
        let server = &mut self.components[to];
        match server.arrive_at_level(now, req, counted, level) {
            Admission::Serve { done_after } => {
                self.server_start(to, req, level, done_after);
            }
            Admission::Queued => {
                if let Some(patience) = server.draw_patience() {
                    let generation = self.requests.generation(req);
                    let timer = self.sched.schedule_timer_in(
                        patience,
                        Event::Renege {
                            server: to,
                            req,
                            generation,
                        },
                    );
                    {
                        let server = &mut self.components[to];
                        server.set_patience_timer(level, timer);
                    }
                }
            }
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

    /// A request of a direct workload (`Simulation::plan_direct_routes`)
    /// reaches its plain server: admission as in [`Self::server_arrive`]
    /// with no level, preemption or patience, and a refusal answers the
    /// client at once (the long path's zero-delay response hop).
    #[inline(always)]
    pub(crate) fn direct_arrive(&mut self, to: ServerId, req: RequestId) {
        if self.requests.live() as u64 > self.max_in_flight {
            self.declare_unstable();
        }
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        match self.components[to].arrive_at_level(now, req, counted, 0) {
            Admission::Serve { done_after } => self
                .sched
                .schedule_in(done_after, Event::ServiceDone { server: to, req }),
            Admission::Queued => {}
            Admission::Dropped => {
                self.requests[req].outcome = Outcome::Dropped;
                self.client_receives(req);
            }
            Admission::Down => {
                self.requests[req].outcome = Outcome::Failed;
                self.client_receives(req);
            }
        }
    }

    /// A plain server's worker finished `req` ([`Self::server_answers`]
    /// without the checks the server's build ruled out): the worker takes
    /// the next waiting request, and the answer goes back a hop, or to the
    /// client of a direct workload, whose request holds no hop.
    #[inline(always)]
    fn plain_server_done(&mut self, server: ServerId, req: RequestId) {
        let now = self.sched.now();
        let r = &mut self.requests[req];
        r.version = match r.op {
            Op::Write => self.versions.bump(r.key),
            Op::Read => self.versions.current(r.key),
        };
        let (counted, hop) = (r.counted, r.hops.last());
        // A direct request arrived the instant it was born.
        let entered = hop.map_or(r.born, |h| h.entered);
        let direct = hop.is_none();
        let s = &mut self.components[server];
        let next = s.next_to_serve(now);
        s.record_departure(now, entered, counted);
        if let Some(next) = next {
            self.sched.schedule_in(
                next.after,
                Event::ServiceDone {
                    server,
                    req: next.req,
                },
            );
        }
        if direct {
            // No time-out or retry can be pending (`plan_direct_routes`).
            self.client_done(req, Outcome::Ok);
            self.requests.remove(req);
        } else {
            self.respond(req);
        }
    }

    /// A server's worker finished its own work on `req`: a leaf server
    /// answers; a server with calls starts them. A plain server's short
    /// path is inlined into the event loop, the rest is out of line.
    #[inline(always)]
    pub(crate) fn service_done(&mut self, server: ServerId, req: RequestId) {
        if self.components[server].plain {
            self.plain_server_done(server, req);
        } else {
            self.service_done_checked(server, req);
        }
    }

    /// [`Self::service_done`] of a server that is not plain.
    #[inline(never)]
    fn service_done_checked(&mut self, server: ServerId, req: RequestId) {
        let now = self.sched.now();
        let s = &mut self.components[server];
        // A request failed by a crash while in service.
        if s.faults.crashable && self.requests[req].pinned {
            self.requests.unpin(req);
            return;
        }
        if s.is_preemptive() {
            s.finished(req);
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
            if let Some(next) = s.next_to_serve(now) {
                self.server_start_waiting(server, next);
            }
        }
        self.start_step(server, req, 0);
    }

    /// A server answers `req` (successfully or not): it frees the worker if
    /// one is still held, records the departure and responds.
    #[inline(always)]
    pub(crate) fn server_answers(&mut self, server: ServerId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let s = &mut self.components[server];
        let next = if s.calls.is_empty() || s.holds_worker_during_calls() {
            s.next_to_serve(now)
        } else {
            None
        };
        s.record_departure(now, entered, counted);
        if let Some(next) = next {
            self.server_start_waiting(server, next);
        }
        self.respond(req);
    }

    /// A freed worker of `server` starts the waiting request `next`: its
    /// patience no longer matters.
    #[inline]
    fn server_start_waiting(&mut self, server: ServerId, next: Start) {
        if let Some(timer) = next.patience {
            self.sched.cancel(timer);
        }
        self.server_start(server, next.req, next.level, next.after);
    }

    /// `server` starts serving `req` (of priority `level`) for `after`. A
    /// preemptive server times the end with a timer it can cancel; a
    /// replica placed on a shared host runs the work on the host's CPU.
    #[inline]
    fn server_start(&mut self, server: ServerId, req: RequestId, level: u8, after: SimDuration) {
        let s = &mut self.components[server];
        if s.is_preemptive() {
            let now = self.sched.now();
            let timer = self
                .sched
                .schedule_timer_in(after, Event::ServiceDone { server, req });
            s.started(req, level, now, now + after, timer);
        } else if s.host != NO_HOST {
            let host = s.host;
            self.host_add(host, HostJob::Server { server, req }, after);
        } else {
            self.sched
                .schedule_in(after, Event::ServiceDone { server, req });
        }
    }

    /// The patience of `req` (slot `generation`) waiting at `server` runs
    /// out: if it is still waiting, it leaves unserved and its client sees
    /// it abandoned.
    pub(crate) fn server_renege(&mut self, server: ServerId, req: RequestId, generation: u32) {
        if !self.requests.is_live(req, generation) {
            return;
        }
        let now = self.sched.now();
        let r = &self.requests[req];
        // Its hop here was pushed when it was delivered, the instant it
        // arrived and joined the queue (`deliver` -> `server_arrive`).
        let (counted, since) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let s = &mut self.components[server];
        if s.renege(now, req, since, counted) {
            self.requests[req].outcome = Outcome::Abandoned;
            self.respond(req);
        }
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
        if s.discipline == crate::spec::Discipline::PreemptiveResume && !s.calls.is_empty() {
            return Err(ctx.invalid(
                "preemptive priority needs a server without calls (a request's calls cannot be paused)"
                    .into(),
            ));
        }
        let patience = match &s.patience {
            Some(d) => Some((
                crate::sampler::Sampler::new(d).map_err(|e| ctx.invalid(e))?,
                ctx.stream("patience"),
            )),
            None => None,
        };
        // Every priority a request can carry: the workloads' own and the
        // classes in their traces.
        let mut occurs = [false; 256];
        for w in &ctx.spec.workloads {
            occurs[usize::from(w.priority)] = true;
            if let crate::spec::ArrivalSpec::Trace(t) = &w.arrival {
                for class in t.records.iter().filter_map(|r| r.class) {
                    occurs[usize::from(class)] = true;
                }
            }
        }
        let priorities: Vec<u8> = (0..=u8::MAX).filter(|&p| occurs[usize::from(p)]).collect();
        server.set_discipline(s.discipline, &priorities, patience);
        Ok(server)
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::Server, self.workers())
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        let calls = (!self.calls.is_empty()).then(|| {
            let mut figures = crate::figures::CallFigures {
                hedges_sent: self.hedges,
                wasted_calls: self.wasted_calls,
                failed_calls: self.failed_calls,
                ..Default::default()
            };
            self.resilience.figures(&self.calls, &mut figures);
            figures
        });
        if self.has_discipline() {
            return crate::figures::KindFigures::Server(crate::figures::ServerFigures {
                calls,
                abandoned: self.reneges().then_some(self.abandoned),
                preempted: self.is_preemptive().then_some(self.preempted),
            });
        }
        match calls {
            Some(c) => crate::figures::KindFigures::Calls(c),
            None => crate::figures::KindFigures::None,
        }
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
    fn arrive(sim: &mut Simulation, at: ServerId, req: RequestId) {
        sim.server_arrive(at, req);
    }

    fn call_returned(
        sim: &mut Simulation,
        caller: ServerId,
        parent: Option<RequestId>,
        child: RequestId,
        tag: u32,
    ) {
        sim.server_call_returned(caller, parent, child, tag);
    }

    fn crash(sim: &mut Simulation, at: ServerId) {
        sim.crash_server(at);
    }

    fn restart(sim: &mut Simulation, at: ServerId) {
        let now = sim.sched.now();
        sim.components[at].faults.restart(now);
    }
}
