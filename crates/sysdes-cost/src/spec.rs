//! What a scenario declares it pays: a rate per component and per host pool.

use crate::billing::Billing;

/// The price of one component (or host pool), resolved from the scenario's
/// `cost:` (a `per_hour` rate or an `instance:` of the price table).
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentCost {
    /// USD per unit per hour.
    pub per_hour: f64,
    /// Units per instance: a model server's slots (one GPU each), a store's
    /// replicas, a host pool's hosts; 1 otherwise.
    pub units: u32,
    /// How each instance's lifetime is billed.
    pub billing: Billing,
    /// USD per request that arrives (a hosted API priced per call, a
    /// serverless function's request charge).
    pub per_request: f64,
    /// USD per GB-second (GiB x s) of a serverless function's billed
    /// duration (its `billed_gb_seconds` figure); 0 for other kinds.
    pub per_gb_second: f64,
    /// The price-table row the rate came from, if any.
    pub instance: Option<String>,
}

/// Every declared cost of a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostSpec {
    /// By component index (as `ModelSpec::components`); `None`: free.
    pub components: Vec<Option<ComponentCost>>,
    /// By host pool index (as `ModelSpec::hosts`); `None`: free.
    pub hosts: Vec<Option<ComponentCost>>,
    /// By workload index (as `ModelSpec::workloads`): the latency SLO of
    /// the workload's `slo: { latency: ... }` in nanoseconds, a per-request
    /// threshold; `None` (or an empty list): no SLO. Goodput per dollar is
    /// reported when any workload has one.
    pub slo_ns: Vec<Option<u64>>,
}

impl CostSpec {
    /// Whether the scenario declares any cost (otherwise no cost is reported,
    /// and results stay as they were before costs existed).
    pub fn is_empty(&self) -> bool {
        self.components
            .iter()
            .chain(&self.hosts)
            .all(Option::is_none)
    }
}
