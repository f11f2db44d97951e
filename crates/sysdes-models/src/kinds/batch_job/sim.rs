//! The engine side of a batch job: records join its dataset, and its run
//! timers (`Event::BatchRun`).

use sysdes_kernel::SimTime;

use crate::kinds::BatchJobId;
use crate::kinds::batch_job::BatchJob;
use crate::request::RequestId;
use crate::simulation::{Event, Simulation};

kind_events! {
    /// A batch job's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    batch_job_events {
        /// A batch job's run starts (`start`) or ends.
        BatchRun { job: crate::kinds::BatchJobId, start: bool } => batch_run @ job,
    }
}

impl Simulation {
    /// Schedules every batch job's first run, at its `every`.
    pub(crate) fn batch_jobs_start(&mut self) {
        for i in 0..self.components.batch_job.items.len() {
            let job = BatchJobId(i as u32);
            let first = SimTime::ZERO + self.components[job].spec.every;
            if first < self.window_end {
                self.sched
                    .schedule_at(first, Event::BatchRun { job, start: true });
            }
        }
    }

    /// A batch job's run starts (and the next start is scheduled) or ends.
    pub(crate) fn batch_run(&mut self, job: BatchJobId, start: bool) {
        let now = self.sched.now();
        let end = self.window_end;
        let j = &mut self.components[job];
        let duration = if start {
            let next = now + j.spec.every;
            if next < end {
                self.sched
                    .schedule_at(next, Event::BatchRun { job, start: true });
            }
            self.components[job].start(now)
        } else {
            j.end(now)
        };
        if let Some(d) = duration {
            self.sched
                .schedule_in(d, Event::BatchRun { job, start: false });
        }
    }

    fn batch_job_arrive(&mut self, job: BatchJobId, req: RequestId) {
        let counted = self.requests[req].counted;
        self.components[job].record(counted);
        self.respond(req);
    }
}

impl crate::kinds::Kind for BatchJob {
    type Spec = crate::kinds::batch_job::BatchJobSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        s: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        if s.every.as_nanos() == 0 {
            return Err(ctx.invalid("a batch job needs `every` above zero".into()));
        }
        if !(s.throughput_per_s.is_finite() && s.throughput_per_s > 0.0) {
            return Err(ctx.invalid("a batch job needs a `throughput` above zero".into()));
        }
        Ok(BatchJob::new(s, ctx.metrics(), ctx.window))
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::BatchJob, 1)
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::BatchJob(self.figures())
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.view_age_s"));
    }

    fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        out.push(self.view_age(now).as_secs_f64());
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: BatchJobId, req: RequestId) {
        sim.batch_job_arrive(at, req);
    }
}
