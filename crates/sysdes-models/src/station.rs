//! Measurements every component keeps, whatever its kind.

use sysdes_kernel::{RngStream, SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, TimeAverage};

use crate::sampler::Sampler;

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

/// The integral of one level since the last [`BusyArea::take`], over all
/// time (no window): what an autoscaler reads each interval from a replica
/// (busy workers, busy slots).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BusyArea {
    level: u64,
    since: SimTime,
    area: u128,
}

impl BusyArea {
    /// Adds `delta` to the level at `now`.
    #[inline]
    pub(crate) fn add(&mut self, now: SimTime, delta: i64) {
        self.touch(now);
        self.level = self.level.saturating_add_signed(delta);
    }

    /// Sets the level to `level` at `now`.
    pub(crate) fn set(&mut self, now: SimTime, level: u64) {
        self.touch(now);
        self.level = level;
    }

    #[inline]
    fn touch(&mut self, now: SimTime) {
        let dt = now.as_nanos().saturating_sub(self.since.as_nanos());
        self.area += u128::from(dt) * u128::from(self.level);
        self.since = now;
    }

    /// The area (level x ns) since the last call, and restarts it.
    pub(crate) fn take(&mut self, now: SimTime) -> u128 {
        self.touch(now);
        std::mem::take(&mut self.area)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_area_integrates_the_level_between_takes() {
        let t = SimTime::from_nanos;
        let mut a = BusyArea::default();
        a.add(t(10), 2); // 2 from 10
        a.add(t(20), -1); // 1 from 20
        assert_eq!(a.take(t(30)), 2 * 10 + 10);
        a.set(t(40), 0);
        assert_eq!(a.take(t(50)), 10);
        assert_eq!(a.take(t(60)), 0);
    }
}

/// A station's crash and slowdown state: one shape for every kind a fault
/// can hit (servers, and model servers in both modes).
#[derive(Debug)]
pub(crate) struct FaultState {
    /// Down because of a `crash` fault: arrivals fail at once.
    pub(crate) crashed: bool,
    /// Batch or iteration time multiplier of an active `slowdown` (1 normally).
    pub(crate) speed: f64,
    /// Some fault crashes this server (it then reports `lost_in_crash`).
    pub(crate) crashable: bool,
    /// Counted requests failed by crashes: waiting, running or arriving while down.
    pub(crate) lost_in_crash: u64,
    /// A model server's load time, drawn again when it restarts (`None`
    /// for a server, which is back at once).
    reload: Option<(Sampler, RngStream)>,
}

impl FaultState {
    /// No fault yet; `reload` (with its stream) is a model's load time.
    pub(crate) fn new(reload: Option<(Sampler, RngStream)>) -> Self {
        FaultState {
            crashed: false,
            speed: 1.0,
            crashable: false,
            lost_in_crash: 0,
            reload,
        }
    }

    /// A request arrives at the station: counted in `metrics` when
    /// `counted`; `true` when the station is down, and then the request is
    /// lost to the crash (in `lost_in_crash` when counted).
    #[inline]
    pub(crate) fn arrives_down(&mut self, metrics: &mut StationMetrics, counted: bool) -> bool {
        if counted {
            metrics.arrivals += 1;
            if self.crashed {
                self.lost_in_crash += 1;
            }
        }
        self.crashed
    }

    /// `d` stretched by an active slowdown.
    #[inline]
    pub(crate) fn stretch(&self, d: SimDuration) -> SimDuration {
        if self.speed == 1.0 {
            d
        } else {
            SimDuration::from_nanos((d.as_nanos() as f64 * self.speed + 0.5) as u64)
        }
    }

    /// The station restarts at `now`; returns when it is ready again (its
    /// model loaded).
    pub(crate) fn restart(&mut self, now: SimTime) -> SimTime {
        self.crashed = false;
        match &mut self.reload {
            Some((load, rng)) => now + load.sample(rng),
            None => now,
        }
    }
}
