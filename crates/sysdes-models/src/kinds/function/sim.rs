//! The engine side of a function: admission (serve on a warm or a new
//! instance, queue, or throttle) and the end of an invocation.

use crate::kinds::FunctionId;

use crate::kinds::function::{Admission, Function};
use crate::request::{Outcome, RequestId};
use crate::simulation::{Event, Simulation};

kind_events! {
    /// A serverless function's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    function_events {
        /// A serverless function's invocation of `req` ends.
        FunctionDone { function: crate::kinds::FunctionId, req: crate::request::RequestId }
            => function_done @ function,
    }
}

impl Simulation {
    fn function_arrive(&mut self, to: FunctionId, req: RequestId) {
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        let f = &mut self.components[to];
        match f.arrive(now, req, counted) {
            Admission::Serve { done_after } => {
                self.sched
                    .schedule_in(done_after, Event::FunctionDone { function: to, req });
            }
            Admission::Queued => {}
            Admission::Throttled => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
        }
    }

    /// An invocation of `req` on `function` ends: the answer goes back and
    /// the instance serves the next waiting request or turns idle.
    pub(crate) fn function_done(&mut self, function: FunctionId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let requests = &self.requests;
        let f = &mut self.components[function];
        f.record_departure(now, entered, counted);
        if let Some((next, after)) = f.done(now, |n| requests[n].counted) {
            self.sched.schedule_in(
                after,
                Event::FunctionDone {
                    function,
                    req: next,
                },
            );
        }
        self.respond(req);
    }
}

impl crate::kinds::Kind for Function {
    type Spec = crate::kinds::function::FunctionSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        s: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        if s.concurrency == 0 {
            return Err(ctx.invalid("a function needs a concurrency of at least 1".into()));
        }
        let sampler = |d| crate::sampler::Sampler::new(d).map_err(|e| ctx.invalid(e));
        let service = sampler(&s.service_time)?;
        let cold = sampler(&s.cold_start)?;
        Ok(Function::new(
            s,
            service,
            cold,
            (ctx.stream("service"), ctx.stream("cold_start")),
            ctx.metrics(),
            ctx.window,
        ))
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::Function, self.concurrency())
    }

    /// Busy time over instance time, not over the concurrency limit (see
    /// [`Function::utilization`]).
    fn utilization(&self, _capacity: u32) -> f64 {
        Function::utilization(self)
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Function(self.figures())
    }

    fn backlog(&self) -> Option<(usize, u32, &'static str)> {
        Some((self.queue_len(), self.concurrency(), "instance"))
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.queue"));
    }

    fn gauges(&self, _: sysdes_kernel::SimTime, out: &mut Vec<f64>) {
        out.push(self.queue_len() as f64);
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: FunctionId, req: RequestId) {
        sim.function_arrive(at, req);
    }
}
