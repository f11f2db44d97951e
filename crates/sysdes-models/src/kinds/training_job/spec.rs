//! The description of a training job (`type: training_job`).
//!
//! Plain data, like the rest of [`crate::spec`]: durations are nanoseconds,
//! sizes bytes, bandwidths bytes per second.

use sysdes_kernel::SimDuration;

use crate::spec::Distribution;

/// A data-parallel training job: `workers` compute one step each in
/// lockstep; a step ends when the slowest worker is done and the gradients
/// are all-reduced. It runs on its own timers and receives no requests.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingJobSpec {
    /// Workers (GPUs) in the synchronous group, at least 1.
    pub workers: u32,
    /// One worker's compute time for one step, drawn independently per
    /// worker and step.
    pub compute_time: Distribution,
    /// The gradient all-reduce after each step; `None` is free.
    pub all_reduce: Option<AllReduceSpec>,
    /// Checkpoints; `None` never checkpoints (a failure loses everything).
    pub checkpoint: Option<CheckpointSpec>,
    /// Random worker failures; `None` never fails.
    pub failures: Option<FailureSpec>,
}

/// A ring all-reduce of the gradients over a link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AllReduceSpec {
    /// Gradient size, bytes.
    pub gradient_bytes: u64,
    /// Each worker's link bandwidth, bytes per second (greater than zero).
    pub bandwidth_bytes_per_s: f64,
    /// One hop's latency.
    pub latency: SimDuration,
}

impl AllReduceSpec {
    /// The ring all-reduce time for `workers`:
    /// `2 (N-1)/N * size/bandwidth + 2 (N-1) * latency` (a reduce-scatter
    /// then an all-gather, each `N-1` rounds moving `size/N` per worker;
    /// Patarasuk and Yuan, 2009). Zero for one worker.
    pub fn time(&self, workers: u32) -> SimDuration {
        if workers <= 1 || self.bandwidth_bytes_per_s <= 0.0 {
            return SimDuration::ZERO;
        }
        let n = f64::from(workers);
        let transfer_s =
            2.0 * (n - 1.0) / n * self.gradient_bytes as f64 / self.bandwidth_bytes_per_s;
        let hops = 2 * u64::from(workers - 1);
        SimDuration::from_nanos((transfer_s * 1e9).round() as u64 + hops * self.latency.as_nanos())
    }
}

/// Checkpointing: after every `every_steps` steps the job stops for `cost`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointSpec {
    /// Steps between checkpoints, at least 1.
    pub every_steps: u32,
    /// Time one checkpoint takes (the job makes no progress meanwhile).
    pub cost: SimDuration,
}

/// Worker failures: each worker fails after an exponential time of mean
/// `worker_mtbf`, so the job fails at rate `workers / worker_mtbf`; the
/// job then restarts (taking `restart`) from its last checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailureSpec {
    /// One worker's mean time between failures.
    pub worker_mtbf: SimDuration,
    /// Time from a failure until the job computes again (a failure during
    /// a restart starts the restart over).
    pub restart: SimDuration,
}
