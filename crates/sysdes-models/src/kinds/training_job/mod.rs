//! The state of a `training_job` component, without the engine: a
//! data-parallel job whose workers run synchronous steps, checkpoint every
//! K steps, and roll back to the last checkpoint when a worker fails.
//!
//! The job is always in one phase: computing a step, writing a checkpoint,
//! restarting after a failure, or done (the window has ended). Every moment
//! of the measurement window is charged to exactly one bucket (useful step
//! time, checkpoint, lost work, restart), so the four shares add up to one.
//! Step time is useful only once a checkpoint keeps it (or the run ends
//! with it in hand); a failure turns the steps since the last checkpoint,
//! and the interrupted phase, into lost work.
//!
//! The engine side (timers, random draws) is in `sim.rs`; this module never
//! touches the scheduler.

pub(crate) mod figures;
pub(crate) mod sim;
pub(crate) mod spec;

use sysdes_kernel::{SimDuration, SimTime};

use crate::kinds::training_job::figures::TrainingFigures;

/// What the job is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Computing a step since `start`.
    Step,
    /// Writing a checkpoint since `start`.
    Checkpoint,
    /// Restarting after a failure since `start`.
    Restart,
    /// The window has ended: no new phase starts.
    Done,
}

/// The job's phase machine and its measurements.
#[derive(Debug)]
pub(crate) struct TrainingState {
    window: (SimTime, SimTime),
    checkpoint: Option<spec::CheckpointSpec>,
    pub(crate) phase: Phase,
    start: SimTime,
    /// Increases at each failure; timers of an older epoch are stale.
    pub(crate) epoch: u32,
    /// The current step's slowest and mean worker compute times.
    step_max: SimDuration,
    step_mean_ns: f64,
    all_reduce: SimDuration,
    steps_since_checkpoint: u32,
    /// The job's step counter: steps done and not rolled back (falls back
    /// to the last checkpoint at a failure).
    pub(crate) progress: u64,
    /// Window time of the steps since the last checkpoint (lost if a
    /// failure comes before the next one).
    uncommitted_ns: u64,
    /// Steps since the last checkpoint that ended in the window.
    uncommitted_steps: u64,
    steps_completed: u64,
    steps_lost: u64,
    failures: u64,
    checkpoints: u64,
    step_ns_sum: f64,
    straggler_ns_sum: f64,
    useful_ns: u64,
    checkpoint_ns: u64,
    lost_ns: u64,
    restart_ns: u64,
}

/// What the engine does after a phase ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Start a new step.
    Step,
    /// Write a checkpoint, ending after this long.
    Checkpoint(SimDuration),
    /// Nothing: the window has ended.
    Stop,
}

impl TrainingState {
    /// A job measured over `window`, checkpointing as `checkpoint` says
    /// if set, whose steps end with an all-reduce of `all_reduce`.
    pub(crate) fn new(
        window: (SimTime, SimTime),
        checkpoint: Option<spec::CheckpointSpec>,
        all_reduce: SimDuration,
    ) -> Self {
        TrainingState {
            window,
            checkpoint,
            phase: Phase::Done,
            start: SimTime::ZERO,
            epoch: 0,
            step_max: SimDuration::ZERO,
            step_mean_ns: 0.0,
            all_reduce,
            steps_since_checkpoint: 0,
            progress: 0,
            uncommitted_ns: 0,
            uncommitted_steps: 0,
            steps_completed: 0,
            steps_lost: 0,
            failures: 0,
            checkpoints: 0,
            step_ns_sum: 0.0,
            straggler_ns_sum: 0.0,
            useful_ns: 0,
            checkpoint_ns: 0,
            lost_ns: 0,
            restart_ns: 0,
        }
    }

    /// Nanoseconds of `[from, to)` inside the window.
    fn clip(&self, from: SimTime, to: SimTime) -> u64 {
        let a = from.max(self.window.0);
        let b = to.min(self.window.1);
        if b > a { (b - a).as_nanos() } else { 0 }
    }

    fn in_window(&self, t: SimTime) -> bool {
        t >= self.window.0 && t < self.window.1
    }

    /// When the phase in progress started.
    pub(crate) fn start_time(&self) -> SimTime {
        self.start
    }

    /// A step starts at `now` whose workers take `max` (the slowest) and
    /// `mean_ns` on average; returns when it ends.
    pub(crate) fn start_step(&mut self, now: SimTime, max: SimDuration, mean_ns: f64) -> SimTime {
        self.phase = Phase::Step;
        self.start = now;
        self.step_max = max;
        self.step_mean_ns = mean_ns;
        now + max + self.all_reduce
    }

    /// The current step ends at `now`.
    pub(crate) fn step_done(&mut self, now: SimTime) -> Next {
        let clipped = self.clip(self.start, now);
        self.uncommitted_ns += clipped;
        if self.in_window(now) {
            self.steps_completed += 1;
            self.uncommitted_steps += 1;
            let step = (now - self.start).as_nanos() as f64;
            self.step_ns_sum += step;
            self.straggler_ns_sum += self.step_max.as_nanos() as f64 - self.step_mean_ns;
        }
        self.steps_since_checkpoint += 1;
        self.progress += 1;
        if now >= self.window.1 {
            self.phase = Phase::Done;
            return Next::Stop;
        }
        match self.checkpoint {
            Some(c) if self.steps_since_checkpoint >= c.every_steps => {
                self.phase = Phase::Checkpoint;
                self.start = now;
                Next::Checkpoint(c.cost)
            }
            _ => Next::Step,
        }
    }

    /// The checkpoint in progress ends at `now`: the steps since the last
    /// one are kept.
    pub(crate) fn checkpoint_done(&mut self, now: SimTime) -> Next {
        self.checkpoint_ns += self.clip(self.start, now);
        if self.in_window(now) {
            self.checkpoints += 1;
        }
        self.useful_ns += self.uncommitted_ns;
        self.uncommitted_ns = 0;
        self.uncommitted_steps = 0;
        self.steps_since_checkpoint = 0;
        if now >= self.window.1 {
            self.phase = Phase::Done;
            Next::Stop
        } else {
            Next::Step
        }
    }

    /// A worker fails at `now`: the steps since the last checkpoint and the
    /// phase in progress are lost, and the job starts restarting (a
    /// failure during a restart starts it over). Returns the new epoch.
    pub(crate) fn fail(&mut self, now: SimTime) -> u32 {
        let interrupted = self.clip(self.start, now);
        match self.phase {
            Phase::Step | Phase::Checkpoint => {
                self.lost_ns += self.uncommitted_ns + interrupted;
                self.progress -= u64::from(self.steps_since_checkpoint);
                self.steps_lost += self.uncommitted_steps;
                self.uncommitted_ns = 0;
                self.uncommitted_steps = 0;
                self.steps_since_checkpoint = 0;
            }
            Phase::Restart => self.restart_ns += interrupted,
            Phase::Done => return self.epoch,
        }
        if self.in_window(now) {
            self.failures += 1;
        }
        self.phase = Phase::Restart;
        self.start = now;
        self.epoch = self.epoch.wrapping_add(1);
        self.epoch
    }

    /// The restart in progress ends at `now`.
    pub(crate) fn restart_done(&mut self, now: SimTime) -> Next {
        self.restart_ns += self.clip(self.start, now);
        if now >= self.window.1 {
            self.phase = Phase::Done;
            Next::Stop
        } else {
            Next::Step
        }
    }

    /// The figures over the window (steps not yet checkpointed when the
    /// run ended count as kept).
    pub(crate) fn figures(&self) -> TrainingFigures {
        let window_ns = (self.window.1 - self.window.0).as_nanos() as f64;
        let share = |ns: u64| {
            if window_ns > 0.0 {
                ns as f64 / window_ns
            } else {
                0.0
            }
        };
        let steps = self.steps_completed as f64;
        TrainingFigures {
            steps_completed: self.steps_completed,
            steps_lost: self.steps_lost,
            failures: self.failures,
            checkpoints: self.checkpoints,
            step_time_mean_ms: if steps > 0.0 {
                self.step_ns_sum / steps / 1e6
            } else {
                0.0
            },
            all_reduce_ms: self.all_reduce.as_nanos() as f64 / 1e6,
            stragglers_share: if self.step_ns_sum > 0.0 {
                self.straggler_ns_sum / self.step_ns_sum
            } else {
                0.0
            },
            goodput_ratio: share(self.useful_ns + self.uncommitted_ns),
            checkpoint_ratio: share(self.checkpoint_ns),
            lost_ratio: share(self.lost_ns),
            restart_ratio: share(self.restart_ns),
            lost_work_s: self.lost_ns as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn shares_add_up_and_a_failure_loses_the_uncheckpointed_steps() {
        let every = spec::CheckpointSpec {
            every_steps: 2,
            cost: SimDuration::from_secs(5),
        };
        let mut j = TrainingState::new((t(0), t(100)), Some(every), SimDuration::ZERO);
        // Steps of 10 s; checkpoint of 5 s after two steps.
        let end = j.start_step(t(0), SimDuration::from_secs(10), 8e9);
        assert_eq!(end, t(10));
        assert_eq!(j.step_done(t(10)), Next::Step);
        j.start_step(t(10), SimDuration::from_secs(10), 8e9);
        assert_eq!(
            j.step_done(t(20)),
            Next::Checkpoint(SimDuration::from_secs(5))
        );
        assert_eq!(j.checkpoint_done(t(25)), Next::Step);
        j.start_step(t(25), SimDuration::from_secs(10), 8e9);
        assert_eq!(j.step_done(t(35)), Next::Step);
        j.start_step(t(35), SimDuration::from_secs(10), 8e9);
        // Fails 3 s into the fourth step: 10 + 3 s lost.
        assert_eq!(j.progress, 3);
        assert_eq!(j.fail(t(38)), 1);
        assert_eq!(j.progress, 2, "back to the checkpoint");
        assert_eq!(j.restart_done(t(48)), Next::Step);
        j.start_step(t(48), SimDuration::from_secs(10), 8e9);
        assert_eq!(j.step_done(t(58)), Next::Step);
        j.start_step(t(58), SimDuration::from_secs(50), 8e9);
        assert_eq!(j.step_done(t(108)), Next::Stop);
        let f = j.figures();
        assert_eq!(
            (f.steps_completed, f.steps_lost, f.failures, f.checkpoints),
            (4, 1, 1, 1)
        );
        assert!((f.lost_work_s - 13.0).abs() < 1e-9);
        // Kept: 20 s before the checkpoint, 10 s + the 42 s in the window of
        // the last step after the restart.
        assert!((f.goodput_ratio - 0.72).abs() < 1e-12, "{f:?}");
        assert!((f.checkpoint_ratio - 0.05).abs() < 1e-12);
        assert!((f.restart_ratio - 0.10).abs() < 1e-12);
        let total = f.goodput_ratio + f.checkpoint_ratio + f.lost_ratio + f.restart_ratio;
        assert!((total - 1.0).abs() < 1e-12);
        // Stragglers: each step waited 2 s for its slowest worker.
        assert!((f.stragglers_share - 8.0 / 40.0).abs() < 1e-12);
    }

    #[test]
    fn a_failure_during_a_restart_starts_it_over() {
        let mut j = TrainingState::new((t(0), t(100)), None, SimDuration::ZERO);
        j.start_step(t(0), SimDuration::from_secs(10), 10e9);
        j.fail(t(5));
        assert_eq!(j.fail(t(8)), 2);
        assert_eq!(j.restart_done(t(18)), Next::Step);
        let f = j.figures();
        assert!((f.restart_ratio - 0.13).abs() < 1e-12);
        assert!((f.lost_ratio - 0.05).abs() < 1e-12);
        assert_eq!(f.failures, 2);
    }

    #[test]
    fn ring_all_reduce_time() {
        let a = spec::AllReduceSpec {
            gradient_bytes: 1_000_000_000,
            bandwidth_bytes_per_s: 1e10,
            latency: SimDuration::from_micros(10),
        };
        // 2 * 3/4 * 0.1 s + 6 * 10 us.
        assert_eq!(a.time(4), SimDuration::from_nanos(150_000_000 + 60_000));
        assert_eq!(a.time(1), SimDuration::ZERO);
    }
}
