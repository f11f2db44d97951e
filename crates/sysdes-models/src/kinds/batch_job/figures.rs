//! What a batch job reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    batch_job_figures {
        /// A batch job's runs and view age.
        BatchJob(BatchJobFigures),
    }
}

figures! {
    /// A batch job's runs and the age of its batch view.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct BatchJobFigures {
        /// Runs that ended inside the window.
        pub runs: u64,
        /// Records in the dataset at the end of the run (all received).
        pub records: u64,
        /// Records the last run that started read.
        pub last_run_records: u64,
        /// Mean duration of the runs that ended inside the window, seconds.
        pub run_time_mean_s: f64,
        /// Longest of those runs, seconds.
        pub run_time_max_s: f64,
        /// Time-average age of the batch view over the window, seconds (the
        /// time since the start of the last run that ended).
        pub view_age_mean_s: f64,
        /// Largest age of the batch view in the window, seconds.
        pub view_age_max_s: f64,
    }
}
