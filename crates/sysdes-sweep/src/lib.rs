//! Parameter sweeps for sysdes: numbered runs, parallel execution, output
//! that survives a crash, shards and merging.
//!
//! ```text
//!  scenario + sweep: block + --vary ──► SweepPlan (one ModelSpec per point)
//!        │   run_index = point × replications + replication, seed per run
//!        ▼
//!  rayon pool ──► one run ──► record (flat metrics) ──► runs.jsonl (appended per run)
//!        │
//!        ▼   at the end, or when resumed, or merged from shards
//!  runs.jsonl sorted ──► runs.csv, summary.csv (mean, Student-t 95 % CI),
//!                        runs.parquet, summary.parquet (typed, tidy names),
//!                        runs_long.csv, summary_long.csv/.parquet (tidy)
//! ```
//!
//! Every file except the wall-clock columns (names containing `wall`) is a
//! pure function of the scenario, the overrides and the sweep, so it is the
//! same byte for byte whatever the job count, sharding or resumption. Runs
//! are single-threaded; parallelism is across runs only. This crate does no
//! terminal output: progress is reported through a callback.
//!
//! See `docs/sweeps.md` for the user's view and `docs/cluster.md` for
//! running shards under Slurm or Kubernetes.

mod exec;
mod lock;
mod output;
pub mod parquet;
mod plan;
mod record;
pub mod tidy;

use std::path::{Path, PathBuf};

pub use exec::{MergeSummary, ProgressEvent, SweepOptions, SweepSummary, merge, run_sweep};
pub use output::{
    Line, MANIFEST, RUNS_CSV, RUNS_JSONL, SUMMARY_CSV, Shard, finalize, manifest, manifest_text,
    read_journal, runs_csv, sha256_hex, summary_csv,
};
pub use plan::{RunId, SweepPlan, run_seed};
pub use record::{
    CONSISTENCY_METRICS, FIXED_METRICS, TARGET_METRICS, TEXT_METRICS, add_consistency_metrics,
    bottleneck, execute, metric_names, pilot_warmup, utilizations,
};

/// The observer of every sweep run (and pilot run): the kernel's progress
/// guard, so that a run whose simulated time stops advancing ends as
/// `stopped: interrupted` instead of holding the sweep forever (see
/// `docs/limits.md`).
#[derive(Debug, Default)]
pub struct Guarded {
    guard: sysdes_kernel::ProgressGuard,
}

impl sysdes_models::Observer for Guarded {
    fn progress(&mut self, now: sysdes_kernel::SimTime, events: u64) -> bool {
        self.guard.check(now, events).is_none()
    }
}

/// Why a sweep or a merge could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory at fault.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The output directory holds something else than this sweep.
    #[error("{}: {detail}", dir.display())]
    Mismatch {
        /// The directory at fault.
        dir: PathBuf,
        /// What does not match.
        detail: String,
    },
    /// The thread pool could not be built or a worker failed.
    #[error("cannot run in parallel: {0}")]
    Threads(String),
    /// `merge` was given no directories.
    #[error("no directories to merge")]
    NoInputs,
    /// A typed table could not be encoded as Parquet.
    #[error(transparent)]
    Parquet(#[from] parquet::ParquetError),
}

impl SweepError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SweepError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
