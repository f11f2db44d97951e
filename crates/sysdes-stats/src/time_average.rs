//! Time-weighted averages of a level (queue length, busy workers).

use sysdes_kernel::SimTime;

/// The time average of a piecewise-constant level over a measurement window.
///
/// Call [`TimeAverage::set`] whenever the level changes; only the part of
/// each constant stretch that falls inside `[window_start, window_end)`
/// counts. O(1) per change, no allocation.
#[derive(Clone, Debug)]
pub struct TimeAverage {
    window_start: SimTime,
    window_end: SimTime,
    level: u64,
    since: SimTime,
    /// Integral of the level over the window so far, in level x nanoseconds.
    area: u128,
    peak: u64,
}

impl TimeAverage {
    /// A level of zero from time zero, averaged over `[window_start, window_end)`.
    pub fn new(window_start: SimTime, window_end: SimTime) -> Self {
        TimeAverage {
            window_start,
            window_end,
            level: 0,
            since: SimTime::ZERO,
            area: 0,
            peak: 0,
        }
    }

    /// The current level.
    #[inline]
    pub fn level(&self) -> u64 {
        self.level
    }

    /// The highest level seen at any time.
    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// Records that the level becomes `level` at `now`.
    #[inline]
    pub fn set(&mut self, now: SimTime, level: u64) {
        self.accumulate(now);
        self.level = level;
        self.peak = self.peak.max(level);
    }

    /// Adds `delta` (which may be negative) to the level at `now`.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: i64) {
        let level = self.level.saturating_add_signed(delta);
        self.set(now, level);
    }

    #[inline]
    fn accumulate(&mut self, now: SimTime) {
        let from = self.since.max(self.window_start);
        let to = now.min(self.window_end);
        if to > from {
            self.area += u128::from(self.level) * u128::from((to - from).as_nanos());
        }
        self.since = now;
    }

    /// The time average over the window, treating the level as constant from
    /// the last change until the end of the window.
    pub fn mean(&self) -> f64 {
        let mut this = self.clone();
        this.accumulate(this.window_end.max(this.since));
        let length = (self.window_end - self.window_start).as_nanos();
        if length == 0 {
            0.0
        } else {
            this.area as f64 / length as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    #[test]
    fn only_the_window_counts() {
        // Window [10, 20). Level 4 on [0, 15), 2 on [15, 30).
        let mut a = TimeAverage::new(t(10), t(20));
        a.set(t(0), 4);
        a.set(t(15), 2);
        a.set(t(30), 0);
        // (4 * 5 + 2 * 5) / 10 = 3
        assert_eq!(a.mean(), 3.0);
        assert_eq!(a.peak(), 4);
    }

    #[test]
    fn open_stretch_runs_to_window_end() {
        let mut a = TimeAverage::new(t(0), t(100));
        a.add(t(50), 1);
        assert_eq!(a.mean(), 0.5);
        a.add(t(75), -1);
        assert_eq!(a.mean(), 0.25);
    }
}
