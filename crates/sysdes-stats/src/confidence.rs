//! Confidence intervals for a mean: Student t across independent
//! replications, and batch means within one long run.
//!
//! Pure functions over slices; nothing here knows what was measured.

/// Two-sided 95 % quantiles of Student's t (`t(0.975, df)`) for df = 1..=30,
/// from the standard table (e.g. NIST/SEMATECH e-Handbook of Statistical
/// Methods, section 1.3.6.7.2).
const T975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The standard normal 0.975 quantile.
const Z975: f64 = 1.959_963_984_540_054;

/// The 0.975 quantile of Student's t with `df` degrees of freedom, so that
/// mean ± t · s/√n is a two-sided 95 % interval.
///
/// Exact table values for df ≤ 30; beyond, the Cornish–Fisher expansion of
/// t in powers of 1/df around the normal quantile (Abramowitz & Stegun,
/// *Handbook of Mathematical Functions*, 26.7.5), whose error is below 1e-6
/// for df > 30. `df = 0` has no interval and returns infinity.
pub fn t_quantile_975(df: u64) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    if let Some(&t) = usize::try_from(df - 1).ok().and_then(|i| T975.get(i)) {
        return t;
    }
    let z = Z975;
    let n = df as f64;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    let z9 = z.powi(9);
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92_160.0 * n.powi(4))
}

/// A sample mean with its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// Number of observations.
    pub n: usize,
    /// Sample mean (NaN when `n` is 0).
    pub mean: f64,
    /// Sample standard deviation (n - 1 divisor; 0 when `n` < 2).
    pub std_dev: f64,
    /// Half-width of the interval: t(0.975, n-1) · s/√n (0 when `n` < 2).
    pub half_width: f64,
    /// Whether every observation was at least 0 (a latency, a rate, a
    /// count): the interval then stops at 0 instead of claiming values the
    /// metric cannot take.
    pub nonnegative: bool,
}

impl MeanCi {
    /// Lower bound of the interval (the mean itself when `n` < 2), never
    /// below 0 for a metric whose observations are all non-negative.
    pub fn low(&self) -> f64 {
        let low = self.mean - self.half_width;
        if self.nonnegative { low.max(0.0) } else { low }
    }

    /// Upper bound of the interval (the mean itself when `n` < 2).
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// Mean and Student-t 95 % interval of independent observations.
///
/// With one observation the bounds equal the mean (there is no spread to
/// estimate); with none the mean is NaN.
pub fn mean_ci(samples: &[f64]) -> MeanCi {
    let n = samples.len();
    if n == 0 {
        return MeanCi {
            n,
            mean: f64::NAN,
            std_dev: 0.0,
            half_width: 0.0,
            nonnegative: samples.iter().all(|&x| x >= 0.0),
        };
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return MeanCi {
            n,
            mean,
            std_dev: 0.0,
            half_width: 0.0,
            nonnegative: samples.iter().all(|&x| x >= 0.0),
        };
    }
    let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
    let std_dev = (ss / (n - 1) as f64).sqrt();
    let half_width = t_quantile_975(n as u64 - 1) * std_dev / (n as f64).sqrt();
    MeanCi {
        n,
        mean,
        std_dev,
        half_width,
        nonnegative: samples.iter().all(|&x| x >= 0.0),
    }
}

/// Batch-means 95 % interval for the mean of one (correlated) series: the
/// series is cut into `batches` equal consecutive batches (the remainder is
/// dropped from the start, where any transient is), and the batch means are
/// treated as independent observations (t with `batches - 1` df).
///
/// Returns `None` when there are fewer than two batches or fewer values than
/// batches. Batches should be long compared with the series' correlation
/// time; 10 to 30 batches is the usual advice (Law, *Simulation Modeling and
/// Analysis*, 5th ed., section 9.5.3).
pub fn batch_means_ci(series: &[f64], batches: usize) -> Option<MeanCi> {
    if batches < 2 || series.len() < batches {
        return None;
    }
    let size = series.len() / batches;
    let skip = series.len() - size * batches;
    let means: Vec<f64> = series[skip..]
        .chunks(size)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    Some(mean_ci(&means))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_approximation_agree_at_the_seam() {
        // Published values: t(0.975, 30) = 2.042272, 40 -> 2.021075, 60 -> 2.000298, 120 -> 1.979930.
        assert!((t_quantile_975(30) - 2.042_272).abs() < 1e-6);
        assert!((t_quantile_975(40) - 2.021_075).abs() < 1e-5);
        assert!((t_quantile_975(60) - 2.000_298).abs() < 1e-5);
        assert!((t_quantile_975(120) - 1.979_930).abs() < 1e-5);
        assert!((t_quantile_975(1_000_000) - Z975).abs() < 1e-5);
        assert!(t_quantile_975(0).is_infinite());
        // The expansion at df = 30 is already close to the table.
        let z = Z975;
        let n = 30.0;
        let approx = z + (z.powi(3) + z) / (4.0 * n);
        assert!((approx - 2.042).abs() < 0.01);
    }

    #[test]
    fn known_interval() {
        // 1..=5: mean 3, s = sqrt(2.5), t(4) = 2.776445; half = 2.776445 * 1.581139 / 2.236068.
        let ci = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ci.mean, 3.0);
        assert!((ci.half_width - 1.963_243).abs() < 1e-5, "{ci:?}");
        let one = mean_ci(&[7.0]);
        assert_eq!((one.low(), one.high()), (7.0, 7.0));
        assert!(mean_ci(&[]).mean.is_nan());
    }

    /// A fixed-seed standard normal sequence (Box–Muller over a SplitMix64
    /// stream), so the test needs no random-number crate.
    fn normals(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let u1 = next().max(1e-300);
                let u2 = next();
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    #[test]
    fn half_width_shrinks_like_one_over_sqrt_k() {
        // Averaged over many experiments, E[half(4)] / E[half(16)] =
        // (t(3) c4(4) / 2) / (t(15) c4(16) / 4) = 2 * 3.182/2.131 * 0.9213/0.9835 ≈ 2.80;
        // the t quantile shrinks too, so the ratio of t-free half widths
        // (s/√K) must be ≈ 2 within 10 %.
        let experiments = 400;
        let (mut h4, mut h16, mut s4, mut s16) = (0.0, 0.0, 0.0, 0.0);
        for e in 0..experiments {
            let x = normals(1000 + e, 16);
            let a = mean_ci(&x[..4]);
            let b = mean_ci(&x);
            h4 += a.half_width;
            h16 += b.half_width;
            s4 += a.std_dev / 2.0;
            s16 += b.std_dev / 4.0;
        }
        let se_ratio = s4 / s16;
        assert!((se_ratio - 2.0).abs() < 0.2, "s/sqrt(K) ratio {se_ratio}");
        let expected = 2.0 * (3.182_446 / 2.131_450) * (0.921_318 / 0.983_475);
        let ratio = h4 / h16;
        assert!(
            (ratio / expected - 1.0).abs() < 0.1,
            "half-width ratio {ratio} vs {expected}"
        );
    }

    #[test]
    fn batch_means_cover_an_iid_mean() {
        let x: Vec<f64> = normals(9, 10_000).iter().map(|v| 5.0 + v).collect();
        let Some(ci) = batch_means_ci(&x, 20) else {
            panic!("enough data");
        };
        assert!(ci.low() < 5.0 && 5.0 < ci.high(), "{ci:?}");
        assert!(ci.half_width < 0.05);
        assert!(batch_means_ci(&x[..3], 20).is_none());
    }

    /// Regression: a sweep printed a p99 interval of [-144, 2239] ms. Three
    /// latencies 0, 0, 100: mean 33.3, s = 57.7, t(0.975, 2) = 4.303, so the
    /// raw interval is 33.3 -/+ 143.4; a latency's stops at 0.
    #[test]
    fn an_interval_of_non_negative_values_stops_at_zero() {
        let ci = mean_ci(&[0.0, 0.0, 100.0]);
        assert!(ci.mean - ci.half_width < -100.0);
        assert_eq!(ci.low(), 0.0);
        assert!((ci.high() - (100.0 / 3.0 + ci.half_width)).abs() < 1e-9);
        // A metric that can be negative keeps its interval.
        let signed = mean_ci(&[-1.0, 0.0, 100.0]);
        assert!(signed.low() < 0.0);
    }
}
