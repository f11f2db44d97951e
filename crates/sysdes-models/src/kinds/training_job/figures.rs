//! What a training job reports (see `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    training_job_figures {
        /// A training job.
        Training(TrainingFigures),
    }
}

figures! {
    /// A training job's progress and where its time went over the
    /// measurement window. `goodput_ratio + checkpoint_ratio + lost_ratio +
    /// restart_ratio = 1`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct TrainingFigures {
        /// Steps that ended in the window (rolled-back ones included).
        pub steps_completed: u64,
        /// Of those, steps a failure rolled back (done again later).
        pub steps_lost: u64,
        /// Failures in the window.
        pub failures: u64,
        /// Checkpoints completed in the window.
        pub checkpoints: u64,
        /// Mean step time (slowest worker plus all-reduce).
        pub step_time_mean_ms: f64,
        /// The all-reduce time of every step.
        pub all_reduce_ms: f64,
        /// Share of step time spent waiting for the slowest worker rather
        /// than the mean one: sum(max - mean) / sum(step time).
        pub stragglers_share: f64,
        /// Share of the window spent on steps that were kept (not rolled back).
        pub goodput_ratio: f64,
        /// Share of the window spent checkpointing.
        pub checkpoint_ratio: f64,
        /// Share of the window spent on work a failure threw away.
        pub lost_ratio: f64,
        /// Share of the window spent restarting.
        pub restart_ratio: f64,
        /// Work thrown away by failures, seconds.
        pub lost_work_s: f64,
    }
}
