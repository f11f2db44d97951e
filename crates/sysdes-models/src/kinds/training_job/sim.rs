//! `type: training_job` in the engine: the job's timers (a phase ends, a
//! worker fails) and its random draws (each worker's compute time per
//! step, the time to the next failure). The phase machine and its
//! accounting are in [`crate::kinds::training_job`].
//!
//! A step draws one compute time per worker and lasts the largest plus the
//! all-reduce. Failures of `N` workers, each exponential with mean
//! `worker_mtbf`, are one exponential process of mean `worker_mtbf / N`
//! (the minimum of independent exponentials); it runs in every phase, so a
//! failure can hit a checkpoint or a restart too. A crash from the fault
//! schedule is a failure that keeps the job down until the fault ends; the
//! restart time follows.

use sysdes_kernel::{RngStream, SimDuration, SimTime};

use crate::error::BuildError;
use crate::figures::{ComponentType, KindFigures};
use crate::kinds::training_job::spec::TrainingJobSpec;
use crate::kinds::training_job::{Next, Phase, TrainingState};
use crate::kinds::{BuildCtx, Kind, TrainingJobId};
use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::simulation::{Event, Simulation, misrouted};
use crate::spec::Distribution;
use crate::station::StationMetrics;

kind_events! {
    /// A training job's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    training_job_events {
        /// A training job's timer.
        Training {
            job: crate::kinds::TrainingJobId,
            epoch: u32,
            timer: crate::kinds::training_job::sim::TrainingTimer,
        } => training_event @ job,
    }
}

/// A training job's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrainingTimer {
    /// The phase in progress ends (stale if the epoch has moved on).
    PhaseDone,
    /// A worker fails.
    Failure,
}

/// A training job: its phase machine, its random draws and measurements.
#[derive(Debug)]
pub(crate) struct TrainingJob {
    state: TrainingState,
    workers: u32,
    compute: Sampler,
    compute_rng: RngStream,
    /// Time to the next job failure, if it can fail.
    failure_gap: Option<Sampler>,
    failure_rng: RngStream,
    restart: SimDuration,
    /// Held down by a crash from the fault schedule.
    down: bool,
    /// `completions` counts steps ended in the window and `latency` their
    /// times; level `ACTIVE` is the workers while a step runs.
    metrics: StationMetrics,
}

impl Kind for TrainingJob {
    type Spec = TrainingJobSpec;

    fn build(ctx: &mut BuildCtx<'_>, spec: &Self::Spec) -> Result<Self, BuildError> {
        if spec.workers == 0 {
            return Err(ctx.invalid("a training job needs at least one worker".into()));
        }
        let compute = Sampler::new(&spec.compute_time).map_err(|e| ctx.invalid(e))?;
        let failure_gap = match spec.failures {
            Some(f) if f.worker_mtbf > SimDuration::ZERO => Some(
                Sampler::new(&Distribution::Exponential {
                    mean_ns: f.worker_mtbf.as_nanos() as f64 / f64::from(spec.workers),
                })
                .map_err(|e| ctx.invalid(e))?,
            ),
            _ => None,
        };
        let all_reduce = spec
            .all_reduce
            .map_or(SimDuration::ZERO, |a| a.time(spec.workers));
        Ok(TrainingJob {
            state: TrainingState::new(ctx.window, spec.checkpoint, all_reduce),
            workers: spec.workers,
            compute,
            compute_rng: ctx.stream("compute"),
            failure_gap,
            failure_rng: ctx.stream("failures"),
            restart: spec.failures.map_or(SimDuration::ZERO, |f| f.restart),
            down: false,
            metrics: ctx.metrics(),
        })
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (ComponentType, u32) {
        (ComponentType::TrainingJob, self.workers)
    }

    fn kind_figures(&self) -> KindFigures {
        KindFigures::Training(self.state.figures())
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.steps_kept"));
    }

    fn gauges(&self, _now: SimTime, out: &mut Vec<f64>) {
        out.push(self.state.progress as f64);
    }

    fn arrive(sim: &mut Simulation, _at: TrainingJobId, req: RequestId) {
        // The loader lets nothing send to a training job.
        misrouted();
        sim.respond(req);
    }

    fn crash(sim: &mut Simulation, at: TrainingJobId) {
        let now = sim.sched.now();
        let job = &mut sim.components[at];
        job.down = true;
        job.state.fail(now);
        job.metrics.levels.set(now, [0, 0]);
    }

    fn restart(sim: &mut Simulation, at: TrainingJobId) {
        let now = sim.sched.now();
        let job = &mut sim.components[at];
        job.down = false;
        if job.state.phase == Phase::Restart {
            let epoch = job.state.epoch;
            let end = now + job.restart;
            sim.schedule_training(at, end, epoch, TrainingTimer::PhaseDone);
        }
    }
}

impl Simulation {
    fn schedule_training(
        &mut self,
        job: TrainingJobId,
        at: SimTime,
        epoch: u32,
        timer: TrainingTimer,
    ) {
        self.sched
            .schedule_at(at, Event::Training { job, epoch, timer });
    }

    /// Starts every training job at time zero: its first step and its
    /// failure clock.
    pub(crate) fn training_start(&mut self) {
        for i in 0..self.components.training_job.items.len() {
            let job = TrainingJobId(i as u32);
            self.training_step(job);
            self.training_next_failure(job);
        }
    }

    /// Schedules the job's next failure, if it can fail and it comes
    /// before the window ends.
    fn training_next_failure(&mut self, at: TrainingJobId) {
        let now = self.sched.now();
        let end = self.window_end;
        let job = &mut self.components[at];
        let Some(gap) = &job.failure_gap else {
            return;
        };
        let next = now + gap.sample(&mut job.failure_rng);
        if next < end {
            self.schedule_training(at, next, 0, TrainingTimer::Failure);
        }
    }

    /// Starts a step: one compute time per worker, the slowest decides.
    fn training_step(&mut self, at: TrainingJobId) {
        let now = self.sched.now();
        let job = &mut self.components[at];
        let mut max = SimDuration::ZERO;
        let mut sum = 0u64;
        for _ in 0..job.workers {
            let x = job.compute.sample(&mut job.compute_rng);
            max = max.max(x);
            sum += x.as_nanos();
        }
        let mean_ns = sum as f64 / f64::from(job.workers);
        let end = job.state.start_step(now, max, mean_ns);
        let workers = u64::from(job.workers);
        job.metrics.levels.set(now, [workers, 0]);
        let epoch = job.state.epoch;
        self.schedule_training(at, end, epoch, TrainingTimer::PhaseDone);
    }

    /// A training job's timer fires.
    pub(crate) fn training_event(&mut self, at: TrainingJobId, epoch: u32, timer: TrainingTimer) {
        let now = self.sched.now();
        let (window_start, window_end) = (self.window_start, self.window_end);
        let restart = self.components[at].restart;
        match timer {
            TrainingTimer::Failure => {
                let job = &mut self.components[at];
                if job.state.phase == Phase::Done {
                    return;
                }
                let epoch = job.state.fail(now);
                job.metrics.levels.set(now, [0, 0]);
                if !job.down {
                    self.schedule_training(at, now + restart, epoch, TrainingTimer::PhaseDone);
                }
                self.training_next_failure(at);
            }
            TrainingTimer::PhaseDone => {
                let job = &mut self.components[at];
                if epoch != job.state.epoch {
                    return;
                }
                let started = job.state.start_time();
                let next = match job.state.phase {
                    Phase::Step => {
                        if now >= window_start && now < window_end {
                            job.metrics.completions += 1;
                            job.metrics.latency.record(now.saturating_since(started));
                        }
                        job.metrics.levels.set(now, [0, 0]);
                        job.state.step_done(now)
                    }
                    Phase::Checkpoint => job.state.checkpoint_done(now),
                    Phase::Restart => job.state.restart_done(now),
                    Phase::Done => Next::Stop,
                };
                match next {
                    Next::Step => self.training_step(at),
                    Next::Checkpoint(cost) => {
                        self.schedule_training(at, now + cost, epoch, TrainingTimer::PhaseDone);
                    }
                    Next::Stop => {}
                }
            }
        }
    }
}
