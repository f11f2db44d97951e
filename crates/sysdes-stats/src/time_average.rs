//! Time-weighted averages of levels (busy workers, queue length).

use sysdes_kernel::SimTime;

/// Time averages of `N` piecewise-constant levels over a measurement window.
///
/// Call [`TimeAverage::set`] whenever a level changes; only the part of each
/// constant stretch inside `[window_start, window_end)` counts. Levels that
/// change together share one accumulation step, so a component that tracks
/// both busy workers and waiting requests pays once per event. O(1), no
/// allocation.
#[derive(Clone, Debug)]
pub struct TimeAverage<const N: usize = 1> {
    window_start: SimTime,
    window_end: SimTime,
    levels: [u64; N],
    since: SimTime,
    /// Integral of each level over the window so far, in level x nanoseconds.
    areas: [u128; N],
    peaks: [u64; N],
}

impl<const N: usize> TimeAverage<N> {
    /// Levels of zero from time zero, averaged over `[window_start, window_end)`.
    pub fn new(window_start: SimTime, window_end: SimTime) -> Self {
        TimeAverage {
            window_start,
            window_end,
            levels: [0; N],
            since: SimTime::ZERO,
            areas: [0; N],
            peaks: [0; N],
        }
    }

    /// The current levels.
    #[inline]
    pub fn levels(&self) -> [u64; N] {
        self.levels
    }

    /// The highest value level `i` has taken.
    pub fn peak(&self, i: usize) -> u64 {
        self.peaks[i]
    }

    /// Records that the levels become `levels` at `now`.
    #[inline]
    pub fn set(&mut self, now: SimTime, levels: [u64; N]) {
        self.accumulate(now);
        self.levels = levels;
        for (peak, level) in self.peaks.iter_mut().zip(levels) {
            *peak = (*peak).max(level);
        }
    }

    /// Adds `delta` (which may be negative) to level `i` at `now`.
    #[inline(always)]
    pub fn add(&mut self, now: SimTime, i: usize, delta: i64) {
        self.accumulate(now);
        let level = self.levels[i].saturating_add_signed(delta);
        self.levels[i] = level;
        // Every other level is unchanged and already at most its peak.
        self.peaks[i] = self.peaks[i].max(level);
    }

    #[inline]
    fn accumulate(&mut self, now: SimTime) {
        let from = self.since.max(self.window_start);
        let to = now.min(self.window_end);
        if to > from {
            let span = u128::from((to - from).as_nanos());
            for (area, level) in self.areas.iter_mut().zip(self.levels) {
                *area += u128::from(level) * span;
            }
        }
        self.since = now;
    }

    /// The time average of level `i` over the window, treating the levels as
    /// constant from the last change until the end of the window.
    pub fn mean(&self, i: usize) -> f64 {
        let mut this = self.clone();
        this.accumulate(this.window_end.max(this.since));
        let length = (self.window_end - self.window_start).as_nanos();
        if length == 0 {
            0.0
        } else {
            this.areas[i] as f64 / length as f64
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
        let mut a = TimeAverage::<1>::new(t(10), t(20));
        a.set(t(0), [4]);
        a.set(t(15), [2]);
        a.set(t(30), [0]);
        // (4 * 5 + 2 * 5) / 10 = 3
        assert_eq!(a.mean(0), 3.0);
        assert_eq!(a.peak(0), 4);
    }

    #[test]
    fn open_stretch_runs_to_window_end_and_levels_are_independent() {
        let mut a = TimeAverage::<2>::new(t(0), t(100));
        a.add(t(50), 0, 1);
        assert_eq!(a.mean(0), 0.5);
        a.add(t(75), 0, -1);
        a.add(t(75), 1, 3);
        assert_eq!(a.mean(0), 0.25);
        assert_eq!(a.mean(1), 0.75);
        assert_eq!(a.levels(), [0, 3]);
    }
}
