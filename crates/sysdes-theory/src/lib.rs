//! Back-of-envelope estimates and queueing-theory predictions for a
//! [`ModelSpec`](sysdes_models::ModelSpec), computed without simulating.
//!
//! ```text
//!  ModelSpec ──► rates through balancers (splits, variability) ──► per server:
//!                  M/M/c, M/M/c/K, M/G/1, M/D/1 (exact) | G/G/c Allen-Cunneen (approx.)
//!            ──► closed workloads: Mean Value Analysis
//!            ──► per workload: end-to-end mean (and p99 where the tail is exact)
//!            ──► bottleneck, maximum throughput, capacity at an SLO, workers needed
//! ```
//!
//! Every figure says which method produced it and whether that method is
//! exact for the scenario, so a student can see where theory ends and
//! simulation must take over. `sysdes estimate` prints this; `sysdes run`
//! shows it beside the simulated figures.

mod assumptions;
pub mod batching;
pub mod cache;
mod calls;
pub mod dns;
pub mod erlang_a;
pub mod formulas;
mod offered;
mod portable;
mod predict;
pub mod priority;
pub mod replication;
pub mod training;

pub use assumptions::{Unmodelled, unmodelled};
pub use calls::{fork_join_mm1, harmonic};
pub use offered::{annotate_offered, offered_loads, offered_rates};
pub use predict::{
    Capacity, Method, Prediction, SIZING_UTILIZATION, Slo, SloMetric, StationPrediction,
    WorkersNeeded, WorkloadPrediction, predict,
};
