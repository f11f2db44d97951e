//! The decision rule of a Kubernetes-style Horizontal Pod Autoscaler (HPA),
//! without any engine: given what was measured, how many replicas to run.
//!
//! It follows the algorithm documented at
//! <https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/>:
//!
//! - `desired = ceil(ready * metric / target)`, where `metric` is the
//!   average over ready replicas (the replicas still booting have no metric);
//! - no change while `|metric / target - 1| <= tolerance` (default 0.1);
//! - the result is clamped to `[min, max]`;
//! - scale-up is immediate (the default upscale stabilization window is 0);
//! - scale-down uses the *highest* recommendation made within the
//!   `scale_down_stabilization` window (default 300 s), so a brief dip does not
//!   remove replicas that will be needed again.
//!
//! The HPA's rate-limiting `policies` (e.g. "at most double every 15 s") are
//! not modelled: scale-up jumps straight to the recommendation.

use std::collections::VecDeque;

use sysdes_kernel::{SimDuration, SimTime};

/// An autoscaler's fixed parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaConfig {
    /// Target value of the metric per ready replica (utilization 0..1 or
    /// mean requests per replica).
    pub target: f64,
    /// Relative band around the target in which nothing changes.
    pub tolerance: f64,
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// How far back scale-down looks for the highest recommendation.
    pub scale_down_stabilization: SimDuration,
}

/// The raw HPA recommendation before clamping and stabilization:
/// `ceil(ready * metric / target)`, or `current` when the ratio is within
/// `tolerance` of 1 or no replica is ready to measure.
pub fn raw_recommendation(
    current: u32,
    ready: u32,
    metric: f64,
    target: f64,
    tolerance: f64,
) -> u32 {
    if ready == 0 || !(metric.is_finite() && target > 0.0) {
        return current;
    }
    let ratio = metric / target;
    if (ratio - 1.0).abs() <= tolerance {
        return current;
    }
    // A hair of slack so that e.g. 3 * 0.8 / 0.6 = 4.000000000000001 gives 4.
    let desired = (f64::from(ready) * ratio - 1e-9).ceil();
    if desired <= 0.0 {
        0
    } else if desired >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        desired as u32
    }
}

/// One autoscaler's state: its configuration and the recommendations of the
/// last stabilization window.
#[derive(Clone, Debug)]
pub struct Hpa {
    config: HpaConfig,
    /// `(time, recommendation)`, oldest first, none older than the window.
    history: VecDeque<(SimTime, u32)>,
    /// Whether the first evaluation has happened.
    started: bool,
}

impl Hpa {
    /// An autoscaler with no history.
    pub fn new(config: HpaConfig) -> Self {
        Hpa {
            config,
            history: VecDeque::with_capacity(64),
            started: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HpaConfig {
        &self.config
    }

    /// One evaluation at `now`: `current` replicas are wanted today (ready,
    /// booting and pending), `ready` of them serve, and their average metric
    /// is `metric`. Returns the new number of replicas.
    pub fn decide(&mut self, now: SimTime, current: u32, ready: u32, metric: f64) -> u32 {
        let c = &self.config;
        let raw = raw_recommendation(current, ready, metric, c.target, c.tolerance);
        let recommendation = raw.clamp(c.min, c.max.max(c.min));
        // Like Kubernetes, the first evaluation seeds the window with the
        // replicas that exist, so a new autoscaler never scales down at once.
        if !self.started {
            self.started = true;
            self.history.push_back((now, current));
        }
        // Forget recommendations older than the window, then remember this one.
        let window = c.scale_down_stabilization;
        while let Some(&(at, _)) = self.history.front() {
            if now.saturating_since(at) > window {
                self.history.pop_front();
            } else {
                break;
            }
        }
        self.history.push_back((now, recommendation));
        // Kubernetes' stabilizeRecommendation with an upscale window of 0:
        // go up at once to the recommendation; go down only to the highest
        // recommendation within the downscale window.
        let highest = self
            .history
            .iter()
            .map(|&(_, r)| r)
            .max()
            .unwrap_or(recommendation);
        let mut desired = current;
        if desired < recommendation {
            desired = recommendation;
        }
        if desired > highest {
            desired = highest;
        }
        desired.clamp(c.min, c.max.max(c.min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(target: f64) -> Hpa {
        Hpa::new(HpaConfig {
            target,
            tolerance: 0.1,
            min: 1,
            max: 10,
            scale_down_stabilization: SimDuration::from_secs(300),
        })
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// Kubernetes docs, "Algorithm details": current 200m, desired 100m
    /// doubles the replicas; current 50m halves them.
    #[test]
    fn docs_example_doubles_and_halves() {
        assert_eq!(raw_recommendation(4, 4, 200.0, 100.0, 0.1), 8);
        assert_eq!(raw_recommendation(4, 4, 50.0, 100.0, 0.1), 2);
    }

    /// Kubernetes HPA walkthrough (php-apache): one replica at 305 % CPU
    /// against a 50 % target becomes ceil(305 / 50) = 7 replicas.
    #[test]
    fn walkthrough_php_apache_scales_to_seven() {
        let mut h = hpa(0.5);
        assert_eq!(h.decide(at(0), 1, 1, 3.05), 7);
    }

    /// Within the tolerance (default 0.1) nothing changes, just outside it does.
    #[test]
    fn tolerance_band_skips_scaling() {
        assert_eq!(raw_recommendation(10, 10, 0.65, 0.6, 0.1), 10); // ratio 1.083
        assert_eq!(raw_recommendation(10, 10, 0.55, 0.6, 0.1), 10); // ratio 0.917
        assert_eq!(raw_recommendation(10, 10, 0.70, 0.6, 0.1), 12); // ratio 1.167
        assert_eq!(raw_recommendation(3, 3, 0.8, 0.6, 0.1), 4); // exactly 4, not 5
    }

    /// The metric averages over ready replicas only; booting replicas count
    /// in `current` and are kept when the ready ones suffice.
    #[test]
    fn booting_replicas_are_not_measured() {
        let mut h = hpa(0.5);
        // 2 ready at 100 % want 4; 2 more are already booting: stay at 4.
        assert_eq!(h.decide(at(0), 4, 2, 1.0), 4);
        // Nothing ready yet: no metric, no change.
        assert_eq!(h.decide(at(15), 4, 0, f64::NAN), 4);
    }

    /// Scale-up is immediate; scale-down waits until every recommendation in
    /// the last 300 s is lower (the highest one within the window wins).
    #[test]
    fn scale_down_is_stabilized_over_the_window() {
        let mut h = hpa(0.5);
        assert_eq!(h.decide(at(0), 1, 1, 4.0), 8); // up at once
        // Load falls: the raw recommendation is 2, but 8 was recommended at
        // t = 0, within the window.
        assert_eq!(h.decide(at(15), 8, 8, 0.125), 8);
        assert_eq!(h.decide(at(300), 8, 8, 0.125), 8);
        // At t = 315 the recommendation of t = 0 has left the window; the
        // highest left is 2.
        assert_eq!(h.decide(at(315), 8, 8, 0.125), 2);
    }

    /// A recommendation between the old and the new value is honoured: the
    /// highest within the window, not the oldest.
    #[test]
    fn scale_down_goes_to_the_highest_recent_recommendation() {
        let mut h = hpa(0.5);
        assert_eq!(h.decide(at(0), 6, 6, 0.5 * 6.0 / 6.0 * 1.5), 9); // 6 * 1.5 = 9
        assert_eq!(h.decide(at(100), 9, 9, 0.5 * 5.0 / 9.0), 9); // wants 5
        assert_eq!(h.decide(at(200), 9, 9, 0.5 * 3.0 / 9.0), 9); // wants 3
        // t = 0 (9) expired; the highest left is 5 (t = 100).
        assert_eq!(h.decide(at(301), 9, 9, 0.5 * 3.0 / 9.0), 5);
        // t = 100 expired too: now 3.
        assert_eq!(h.decide(at(401), 5, 5, 0.5 * 3.0 / 5.0), 3);
    }

    #[test]
    fn clamped_to_min_and_max() {
        let mut h = hpa(0.5);
        assert_eq!(h.decide(at(0), 1, 1, 100.0), 10);
        let mut h = hpa(0.5);
        assert_eq!(h.decide(at(0), 3, 3, 0.0), 3); // stabilized
        assert_eq!(h.decide(at(400), 3, 3, 0.0), 1); // then the minimum
    }
}
