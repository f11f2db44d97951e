//! Time-weighted averages of levels (busy workers, queue length).

use sysdes_kernel::SimTime;

/// Time averages of `N` piecewise-constant levels over a measurement window.
///
/// Call [`TimeAverage::set`] or [`TimeAverage::add`] whenever a level
/// changes; only the part of each constant stretch inside
/// `[window_start, window_end)` counts. Each change adds its step times
/// what is left of the window after it (a level held to the window's end
/// counts to the end), so a change costs one multiplication for the level
/// that changed and nothing for the others; the integral is the same
/// integer as summing each stretch. O(1), no allocation.
#[derive(Clone, Debug)]
pub struct TimeAverage<const N: usize = 1> {
    window_start: SimTime,
    window_end: SimTime,
    levels: [u64; N],
    /// Integral of each level over the window, in level x nanoseconds, with
    /// the current levels counted to the window's end.
    areas: [i128; N],
    peaks: [u64; N],
}

impl<const N: usize> TimeAverage<N> {
    /// Levels of zero from time zero, averaged over `[window_start, window_end)`.
    pub fn new(window_start: SimTime, window_end: SimTime) -> Self {
        TimeAverage {
            window_start,
            window_end,
            levels: [0; N],
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
        let left = self.left_after(now);
        let olds = self.levels.iter().zip(&mut self.areas).zip(&mut self.peaks);
        for (((&old, area), peak), level) in olds.zip(levels) {
            *area += step(old, level) * left;
            *peak = (*peak).max(level);
        }
        self.levels = levels;
    }

    /// Adds `delta` (which may be negative) to level `i` at `now`.
    #[inline(always)]
    pub fn add(&mut self, now: SimTime, i: usize, delta: i64) {
        let old = self.levels[i];
        let level = old.saturating_add_signed(delta);
        self.areas[i] += step(old, level) * self.left_after(now);
        self.levels[i] = level;
        // Every other level is unchanged and already at most its peak.
        self.peaks[i] = self.peaks[i].max(level);
    }

    /// Nanoseconds of the window after `now` (all of it before the window,
    /// none after).
    #[inline(always)]
    fn left_after(&self, now: SimTime) -> i128 {
        let at = now.max(self.window_start).min(self.window_end);
        i128::from(self.window_end.as_nanos().saturating_sub(at.as_nanos()))
    }

    /// The time average of level `i` over the window, the current level
    /// counted to the window's end.
    pub fn mean(&self, i: usize) -> f64 {
        let length = (self.window_end - self.window_start).as_nanos();
        if length == 0 {
            0.0
        } else {
            self.areas[i] as f64 / length as f64
        }
    }
}

/// The change from level `from` to level `to`.
#[inline(always)]
fn step(from: u64, to: u64) -> i128 {
    i128::from(to) - i128::from(from)
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

    /// The same mean, to the bit, as summing level x overlap over each
    /// constant stretch (the integral it replaces), for random changes
    /// before, inside and after the window, by `add` and by `set`.
    #[test]
    fn equals_the_sum_over_stretches() {
        use proptest::prelude::*;
        let change = (0u64..50, 0usize..2, -3i64..4, any::<bool>());
        proptest!(|(start in 0u64..100, len in 0u64..300, changes in proptest::collection::vec(change, 0..40))| {
            let (start, end) = (t(start), t(start + len));
            let mut a = TimeAverage::<2>::new(start, end);
            let (mut now, mut levels, mut since) = (0u64, [0u64; 2], 0u64);
            let mut areas = [0u128; 2];
            for (gap, i, delta, absolute) in changes {
                now += gap;
                // The reference: the stretch [since, now) clipped to the window.
                let (from, to) = (since.max(start.as_nanos()), now.min(end.as_nanos()));
                for (area, level) in areas.iter_mut().zip(levels) {
                    *area += u128::from(level) * u128::from(to.saturating_sub(from));
                }
                since = now;
                if absolute {
                    levels[i] = delta.unsigned_abs();
                    a.set(t(now), levels);
                } else {
                    levels[i] = levels[i].saturating_add_signed(delta);
                    a.add(t(now), i, delta);
                }
            }
            let from = since.max(start.as_nanos());
            for i in 0..2 {
                let area = areas[i] + u128::from(levels[i]) * u128::from(end.as_nanos().saturating_sub(from));
                let expected = if len == 0 { 0.0 } else { area as f64 / len as f64 };
                prop_assert_eq!(a.mean(i).to_bits(), expected.to_bits());
                prop_assert_eq!(a.levels()[i], levels[i]);
            }
        });
    }
}
