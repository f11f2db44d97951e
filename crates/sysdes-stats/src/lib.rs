//! Measurement for sysdes runs.
//!
//! Everything here records into storage sized up front or bounded by the
//! value range (HDR histograms), so recording allocates nothing per event and
//! memory does not grow with the length of a run. This crate knows nothing
//! about what is being measured; the models decide what to record.

mod confidence;
pub mod consistency;
mod counts;
mod histogram;
pub mod linearizability;
mod mser;
mod time_average;

pub use confidence::{MeanCi, batch_means_ci, mean_ci, t_quantile_975};
pub use consistency::{
    Availability, ConsistencyConfig, ConsistencyReport, ConsistencyTracker, GuaranteeCount,
    HistoryBounds, KStaleness, LinearizabilitySummary, SessionViolations,
};
pub use counts::RequestCounts;
pub use histogram::{LatencyHistogram, LatencySummary};
pub use mser::{MSER_BATCH, Mser, mser5};
pub use time_average::TimeAverage;
