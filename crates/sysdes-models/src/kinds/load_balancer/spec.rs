//! What a load balancer's routing adds to its policy: weights, weights
//! that change at given times, shadow traffic and health checks.

use sysdes_kernel::{ComponentId, SimDuration};

/// The routing options of a balancer beyond its policy. The default (no
/// weights, no phases, no shadow, no health checks) is plain routing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LbRouting {
    /// One weight per backend, in `backends` order; empty means all equal.
    /// A weight may be 0 (the backend gets nothing) but not all of them.
    pub weights: Vec<u32>,
    /// Weights that take over at given times since the start of the run,
    /// in increasing order of `at` (canary ramps, a blue-green switch).
    pub phases: Vec<WeightPhase>,
    /// Mirror a share of the requests to another component (responses
    /// discarded).
    pub shadow: Option<ShadowSpec>,
    /// Stop sending to a backend after consecutive failures, probe it back.
    pub health: Option<HealthCheckSpec>,
    /// `prefix_affinity` only: a group leaves its replica when that replica
    /// has more than this many requests waiting (and another has fewer);
    /// `None` is 8 (`llm_route::DEFAULT_AFFINITY_MAX_WAITING`).
    pub affinity_max_waiting: Option<u32>,
}

impl LbRouting {
    /// Whether any option asks for the weighted choice (otherwise the
    /// balancer routes exactly as its plain policy does).
    pub fn weighted(&self) -> bool {
        !self.weights.is_empty() || !self.phases.is_empty() || self.health.is_some()
    }
}

/// Weights that apply from time `at` on.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightPhase {
    /// When the phase starts, since the start of the run (warm-up included).
    pub at: SimDuration,
    /// One weight per backend, in `backends` order.
    pub weights: Vec<u32>,
}

/// Shadow traffic: a copy of a share of the requests goes to `to`; its
/// answers are dropped when they come back, so the client never waits for
/// them, but `to` does the work (it shows in its figures).
#[derive(Clone, Debug, PartialEq)]
pub struct ShadowSpec {
    /// The component that receives the copies.
    pub to: ComponentId,
    /// The probability that a request is copied, in (0, 1].
    pub share: f64,
}

/// Passive health checking with active probes back: after `failures`
/// consecutive failed answers from a backend, the balancer ejects it (sends
/// it nothing) and probes it every `interval`; the first probe answered
/// without error puts it back.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheckSpec {
    /// Consecutive failed answers that eject a backend, at least 1.
    pub failures: u32,
    /// Time from an ejection (or a failed probe) to the next probe.
    pub interval: SimDuration,
}
