//! Turning a [`RunResult`] into what people and scripts read: an aligned
//! table, the JSON result contract, and tidy CSV.
//!
//! The JSON keys are a user-facing contract (`shared/scenario-format.md`):
//! scripts depend on them, so they only ever grow. Everything here is a pure
//! function of the result (and the wall time, which only appears in fields
//! whose names contain `wall`), so output is reproducible byte for byte.

mod consistency;
mod cost;
mod csv;
mod estimate;
pub mod flatten;
mod json;
mod table;
pub mod targets;
mod verdict;

pub use cost::cost_csv;
pub use csv::{latency_cdf_csv, series_csv, to_csv};
pub use estimate::{estimate_json, estimate_table};
pub use json::to_json;
pub use table::to_table;
pub use verdict::{Finding, LOSS_SHARE, Severity, Verdict, assess, verdict};

use sysdes_models::RunResult;
use sysdes_theory::{Prediction, Unmodelled};

/// What a report knows besides the simulation results: the run's wall time
/// and, if computed, the theory to show beside the simulated figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunInfo<'a> {
    /// Wall-clock seconds the simulation took.
    pub wall_time_s: f64,
    /// Queueing-theory predictions for the same scenario.
    pub theory: Option<&'a Prediction>,
    /// Where those predictions' assumptions fail: such rows say why instead
    /// of showing a number.
    pub unmodelled: Option<&'a Unmodelled>,
    /// What the run cost, when the scenario declares costs (`sysdes_cost::cost`).
    pub cost: Option<&'a sysdes_cost::CostResult>,
    /// The scenario's `expect:` targets: a `targets` section and JSON array
    /// when there are any (see [`targets`]).
    pub targets: &'a [sysdes_models::expect_spec::Target],
}

impl RunInfo<'_> {
    /// Kernel events per wall-clock second.
    pub fn events_per_second(&self, result: &RunResult) -> f64 {
        if self.wall_time_s > 0.0 {
            result.events as f64 / self.wall_time_s
        } else {
            0.0
        }
    }
}
