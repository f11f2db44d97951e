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
    /// Requests inside the component (waiting or being served).
    pub(crate) in_system: TimeAverage,
    /// Requests waiting, not yet in service.
    pub(crate) queued: TimeAverage,
    /// Busy workers.
    pub(crate) busy: TimeAverage,
}

impl StationMetrics {
    pub(crate) fn new(window_start: SimTime, window_end: SimTime) -> Self {
        StationMetrics {
            arrivals: 0,
            completions: 0,
            drops: 0,
            latency: LatencyHistogram::new(),
            in_system: TimeAverage::new(window_start, window_end),
            queued: TimeAverage::new(window_start, window_end),
            busy: TimeAverage::new(window_start, window_end),
        }
    }
}
