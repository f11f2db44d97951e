//! What a scenario declares it pays: a rate per component and per host pool.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{FaultKind, FaultSpec};

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
    /// A spot instance's interruptions (`cost: { spot: ... }`); `None`: on demand.
    pub spot: Option<Spot>,
    /// USD per GB (10^9 bytes) the component sends to another zone
    /// (`egress_per_gb`, or an `egress:` row priced per GB); `None`: egress
    /// not priced (and not reported).
    pub egress_per_gb: Option<f64>,
    /// USD per GB (10^9 bytes) stored for a month of 730 hours
    /// (`per_gb_month`, or a `storage:` row priced per gb_month), billed on
    /// [`ComponentCost::stored_bytes`] over the instances' lives, else on the
    /// component's time-average stored GB (`stored_gb_mean`) over the whole
    /// run; `None`: storage not priced (and not reported).
    pub per_gb_month: Option<f64>,
    /// Bytes each instance holds for its whole life, where the scenario
    /// gives them (a store's `size` x its replicas, a cache's `size` or
    /// capacity in bytes): stored GB-months are these bytes over the
    /// instances' lifetimes. `None`: the component's `stored_gb_mean`
    /// figure over the run (a `type: storage`).
    pub stored_bytes: Option<u64>,
}

/// How a spot instance is interrupted: at Poisson times while it runs,
/// each interruption a crash until a replacement serves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spot {
    /// Interruptions per second of instance time, positive.
    pub per_s: f64,
    /// From an interruption to the replacement serving (not billed), ns.
    pub replace_ns: u64,
    /// The warning before each interruption (`notice`), ns; 0: none. Only
    /// a replica group's replicas take it (they drain).
    pub notice_ns: u64,
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
    /// One [`FaultKind::Interruptions`] per spot component, for the
    /// model's fault list (the run draws their times from its seed).
    pub fn interruption_faults(&self, duration: SimDuration) -> Vec<FaultSpec> {
        self.components
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let spot = c.as_ref()?.spot?;
                Some(FaultSpec {
                    at: SimDuration::ZERO,
                    duration,
                    kind: FaultKind::Interruptions {
                        target: ComponentId(i as u32),
                        per_s: spot.per_s,
                        replace: SimDuration::from_nanos(spot.replace_ns),
                        notice: SimDuration::from_nanos(spot.notice_ns),
                    },
                })
            })
            .collect()
    }

    /// Whether the scenario declares any cost (otherwise no cost is reported,
    /// and results stay as they were before costs existed).
    pub fn is_empty(&self) -> bool {
        self.components
            .iter()
            .chain(&self.hosts)
            .all(Option::is_none)
    }
}
