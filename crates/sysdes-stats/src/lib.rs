//! Measurement for sysdes runs.
//!
//! Everything here records into storage sized up front or bounded by the
//! value range (HDR histograms), so recording allocates nothing per event and
//! memory does not grow with the length of a run. This crate knows nothing
//! about what is being measured; the models decide what to record.

mod counts;
mod histogram;
mod time_average;

pub use counts::RequestCounts;
pub use histogram::{LatencyHistogram, LatencySummary};
pub use time_average::TimeAverage;
