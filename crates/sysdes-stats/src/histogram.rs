//! Latency histograms with bounded relative error.

use hdrhistogram::Histogram;
use sysdes_kernel::SimDuration;

/// Significant decimal digits kept by every histogram: values are exact to
/// within 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of durations in nanoseconds, with 3 significant digits.
///
/// Backed by an HDR histogram: memory depends on the range of values seen
/// (it grows in powers of two up to at most a few hundred kilobytes), never
/// on how many values are recorded. The exact mean is kept alongside, since
/// the HDR mean is only as precise as its buckets.
///
/// The buckets are allocated by the first value recorded or merged, not by
/// [`Self::new`]: an empty histogram (an idle replica's, or its clone in a
/// result) takes a few dozen bytes instead of the 16 KiB of a fresh HDR
/// histogram. Every figure of an empty one is what a fresh HDR histogram
/// gives, so results are the same bytes either way.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    /// `None` until the first value arrives.
    hist: Option<Histogram<u64>>,
    /// The precision the buckets get when they are allocated.
    digits: u8,
    sum_ns: u128,
}

/// The figures users read off a latency distribution, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    /// Number of values recorded.
    pub count: u64,
    /// Arithmetic mean (exact).
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest value.
    pub max_ms: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram that resizes itself to the values it sees.
    pub fn new() -> Self {
        LatencyHistogram {
            hist: None,
            digits: SIGNIFICANT_DIGITS,
            sum_ns: 0,
        }
    }

    /// An empty histogram with 2 significant digits (quantiles within 1 %):
    /// eight times fewer buckets, so summarising and resetting it is eight
    /// times cheaper. For per-interval series, where it is done thousands of
    /// times per run.
    pub fn coarse() -> Self {
        LatencyHistogram {
            hist: None,
            digits: 2,
            sum_ns: 0,
        }
    }

    /// The buckets, allocated on first use (once per histogram, not per value).
    #[inline]
    fn buckets(&mut self) -> &mut Histogram<u64> {
        let digits = self.digits;
        self.hist.get_or_insert_with(|| fresh(digits))
    }

    /// Bytes this histogram holds on the heap: 0 until a value arrives.
    pub fn heap_bytes(&self) -> usize {
        self.hist
            .as_ref()
            .map_or(0, |h| h.distinct_values() * std::mem::size_of::<u64>())
    }

    /// Records one duration.
    #[inline(always)]
    pub fn record(&mut self, value: SimDuration) {
        let ns = value.as_nanos();
        self.sum_ns += u128::from(ns);
        // With auto-resize on, recording grows the range as needed; it fails
        // only for values beyond 2^63 ns (292 years), which are clamped.
        let hist = self.buckets();
        if hist.record(ns).is_err() {
            hist.saturating_record(ns);
        }
    }

    /// Adds every value of `other` to this histogram.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.sum_ns += other.sum_ns;
        // An empty `other` adds nothing (a fresh HDR histogram neither).
        if let Some(theirs) = &other.hist {
            // Both auto-resize, so adding cannot run out of range.
            let _ = self.buckets().add(theirs);
        }
    }

    /// Forgets every value, keeping the allocated buckets.
    pub fn reset(&mut self) {
        if let Some(hist) = &mut self.hist {
            hist.reset();
        }
        self.sum_ns = 0;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.hist.as_ref().map_or(0, Histogram::len)
    }

    /// Exact mean in nanoseconds (0 when empty).
    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The value at quantile `q` (in `[0, 1]`) in nanoseconds, within 0.1 %.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        match &self.hist {
            Some(hist) if !hist.is_empty() => hist.value_at_quantile(q),
            _ => 0,
        }
    }

    /// Several quantiles (each in `[0, 1]`): what a per-interval summary
    /// needs. Each is [`Histogram::value_at_quantile`]'s scan of the raw
    /// bucket counts (a few instructions per bucket), which measured several
    /// times cheaper than one pass of the recorded-value iterator (tens of
    /// instructions per bucket) even for two quantiles. Matches
    /// [`Self::quantile_ns`] for each `q > 0`; for `q = 0` it is the highest
    /// value equivalent to the smallest recorded one, as it always was here.
    pub fn quantiles_ns<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        let Some(hist) = self.hist.as_ref().filter(|h| !h.is_empty()) else {
            return out;
        };
        for (o, q) in out.iter_mut().zip(qs) {
            *o = hist.highest_equivalent(hist.value_at_quantile(q.clamp(0.0, 1.0)));
        }
        out
    }

    /// The fraction of recorded values at or below `value_ns`.
    pub fn fraction_at_or_below(&self, value_ns: u64) -> f64 {
        match &self.hist {
            Some(hist) if !hist.is_empty() => {
                hist.count_between(0, value_ns) as f64 / hist.len() as f64
            }
            _ => 0.0,
        }
    }

    /// Largest value recorded, in nanoseconds.
    pub fn max_ns(&self) -> u64 {
        self.hist.as_ref().map_or(0, Histogram::max)
    }

    /// The empirical CDF: `(value in ms, fraction of values at or below it)`
    /// for every non-empty bucket, in increasing order. Bounded by the
    /// number of buckets (a few thousand), not by the number of values.
    pub fn cdf_ms(&self) -> Vec<(f64, f64)> {
        let total = self.count().max(1) as f64;
        let mut seen = 0u64;
        let Some(hist) = &self.hist else {
            return Vec::new();
        };
        hist.iter_recorded()
            .map(|v| {
                seen += v.count_since_last_iteration();
                (v.value_iterated_to() as f64 / 1e6, seen as f64 / total)
            })
            .collect()
    }

    /// Mean and the usual percentiles, in milliseconds.
    pub fn summary(&self) -> LatencySummary {
        let ms = |ns: u64| ns as f64 / 1e6;
        LatencySummary {
            count: self.count(),
            mean_ms: self.mean_ns() / 1e6,
            p50_ms: ms(self.quantile_ns(0.50)),
            p90_ms: ms(self.quantile_ns(0.90)),
            p99_ms: ms(self.quantile_ns(0.99)),
            p999_ms: ms(self.quantile_ns(0.999)),
            max_ms: ms(self.max_ns()),
        }
    }
}

/// An empty HDR histogram of `digits` significant digits that resizes
/// itself to the values it sees.
#[cold]
fn fresh(digits: u8) -> Histogram<u64> {
    let mut hist = Histogram::new(digits).expect("2 or 3 significant digits is a valid precision");
    hist.auto(true);
    hist
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_tenth_of_a_percent() {
        let mut h = LatencyHistogram::new();
        for ns in 1..=100_000u64 {
            h.record(SimDuration::from_nanos(ns * 1000));
        }
        let p99 = h.quantile_ns(0.99) as f64;
        assert!((p99 / 99_000_000.0 - 1.0).abs() < 1e-3, "p99 {p99}");
        assert!(
            (h.mean_ns() - 50_000_500.0).abs() < 1e-6,
            "the mean is exact"
        );
        assert_eq!(h.count(), 100_000);
        let s = h.summary();
        assert!((s.p50_ms - 50.0).abs() / 50.0 < 1e-3);
        assert!((s.max_ms - 100.0).abs() / 100.0 < 1e-3);
    }

    /// The one-pass quantiles are exactly the one-at-a-time ones, on a
    /// skewed sample with ties and on tiny samples.
    #[test]
    fn one_pass_quantiles_equal_single_quantiles() {
        let qs = [0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0];
        for n in [1u64, 2, 3, 10, 1_000, 54_321] {
            let mut h = LatencyHistogram::new();
            let mut x = 12_345u64;
            for _ in 0..n {
                // A cheap LCG with a long tail: values from 1 us to ~10 s.
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                h.record(SimDuration::from_nanos(
                    (1_000.0 / (1.0 - u).max(1e-7)) as u64,
                ));
            }
            let many = h.quantiles_ns(qs);
            for (q, got) in qs.iter().zip(many) {
                assert_eq!(got, h.quantile_ns(*q), "n {n}, q {q}");
            }
        }
        assert_eq!(LatencyHistogram::new().quantiles_ns([0.5, 0.99]), [0, 0]);
    }

    #[test]
    fn cdf_ends_at_one_and_is_monotone() {
        let mut h = LatencyHistogram::new();
        for ns in [1_000_000u64, 2_000_000, 2_000_000, 9_000_000] {
            h.record(SimDuration::from_nanos(ns));
        }
        let cdf = h.cdf_ms();
        assert_eq!(cdf.len(), 3);
        assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
        assert!((cdf[0].1 - 0.25).abs() < 1e-12 && (cdf[1].1 - 0.75).abs() < 1e-12);
        assert_eq!(cdf.last().map(|p| p.1), Some(1.0));
    }

    #[test]
    fn empty_histogram_summarises_to_zeros() {
        assert_eq!(LatencyHistogram::new().summary(), LatencySummary::default());
    }

    /// An idle histogram (and its clone, and an empty merge into it) holds
    /// no buckets; the first value allocates those of a fresh HDR
    /// histogram, so every figure equals the eagerly allocated one's.
    #[test]
    fn buckets_are_allocated_by_the_first_value_only() {
        let mut idle = LatencyHistogram::new();
        idle.merge(&LatencyHistogram::new());
        idle.reset();
        assert_eq!(idle.clone().heap_bytes(), 0);
        assert_eq!(idle.summary(), LatencySummary::default());
        assert!(idle.cdf_ms().is_empty());
        assert_eq!(idle.fraction_at_or_below(5), 0.0);

        let mut eager = fresh(SIGNIFICANT_DIGITS);
        let mut lazy = LatencyHistogram::new();
        let mut merged = LatencyHistogram::new();
        for ns in [7u64, 1_000, 1_001, 250_000, 9_000_000_000] {
            eager.record(ns).expect("auto-resizing");
            lazy.record(SimDuration::from_nanos(ns));
        }
        merged.merge(&lazy);
        // A fresh 3-digit HDR histogram starts with 2,048 buckets of 8 B.
        assert!(lazy.heap_bytes() >= 2048 * 8, "{}", lazy.heap_bytes());
        for h in [&lazy, &merged] {
            assert_eq!(h.heap_bytes(), eager.distinct_values() * 8);
            assert_eq!(h.count(), eager.len());
            assert_eq!(h.max_ns(), eager.max());
            for q in [0.0, 0.5, 0.9, 0.999, 1.0] {
                assert_eq!(h.quantile_ns(q), eager.value_at_quantile(q), "q {q}");
            }
        }
    }

    #[test]
    fn merge_adds_counts_and_sums() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(SimDuration::from_nanos(10));
        b.record(SimDuration::from_nanos(30));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.mean_ns(), 20.0);
    }
}
