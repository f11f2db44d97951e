//! Measurements every component keeps, whatever its kind.

use sysdes_kernel::SimTime;
use sysdes_stats::{LatencyHistogram, TimeAverage};

/// Counters, a latency histogram and time averages for one component.
///
/// "Counted" means the request arrived in the system during the measurement
/// window; time averages are over the window whatever the request.
#[derive(Clone, Debug)]
pub(crate) struct StationMetrics {
    pub(crate) arrivals: u64,
    pub(crate) completions: u64,
    pub(crate) drops: u64,
    /// Time from entering the component to leaving it (queue + service,
    /// or, for a load balancer, the round trip through it).
    pub(crate) latency: LatencyHistogram,
    /// Levels `[ACTIVE, WAITING]`: requests being served (busy workers; for a
    /// load balancer, requests outstanding through it) and requests waiting.
    /// The number inside is their sum.
    pub(crate) levels: TimeAverage<2>,
}

/// Index of the level of requests in service (or outstanding) in [`StationMetrics::levels`].
pub(crate) const ACTIVE: usize = 0;
/// Index of the level of waiting requests in [`StationMetrics::levels`].
pub(crate) const WAITING: usize = 1;

impl StationMetrics {
    pub(crate) fn new(window_start: SimTime, window_end: SimTime) -> Self {
        StationMetrics {
            arrivals: 0,
            completions: 0,
            drops: 0,
            latency: LatencyHistogram::new(),
            levels: TimeAverage::new(window_start, window_end),
        }
    }

    /// Time-average number inside (waiting or active) over the window.
    pub(crate) fn mean_in_system(&self) -> f64 {
        self.levels.mean(ACTIVE) + self.levels.mean(WAITING)
    }
}
