//! Automatic warm-up detection with MSER-5, and a "not steady" flag.
//!
//! MSER (Marginal Standard Error Rule; White, 1997; MSER-5 as in White,
//! Cobb & Spratt, WSC 2000) picks the truncation point `d` of an output
//! series that minimises the squared standard error of the mean of what
//! remains, `Σ_{j>d} (z_j − z̄_d)² / (m − d)²`, where `z` are means of
//! consecutive batches of 5 observations. Removing the initial transient
//! lowers the spread faster than it shortens the series; removing more does
//! not. Candidates keep at least a quarter of the batches. When the minimum
//! falls in the second half of the series, or what is left still trends, the run never settled: the result is flagged, since
//! no truncation makes its mean meaningful (a queue growing to the end).
//!
//! Pure functions over slices; the caller decides which series to feed
//! (sysdes feeds the mean latency per interval).

/// Observations per MSER batch.
pub const MSER_BATCH: usize = 5;
/// Fewest batches for which a truncation point is computed.
const MIN_BATCHES: usize = 4;

/// What MSER-5 found on a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mser {
    /// Observations to discard from the start (a multiple of 5).
    pub truncation: usize,
    /// The minimum of the MSER statistic.
    pub statistic: f64,
    /// Batches of 5 the series formed (a trailing partial batch is ignored).
    pub batches: usize,
    /// False when the optimum lies in the second half of the series or the
    /// retained part still trends: the run did not reach a steady state.
    pub steady: bool,
}

/// Runs MSER-5 on `series`; `None` if it has fewer than 20 observations.
pub fn mser5(series: &[f64]) -> Option<Mser> {
    let z: Vec<f64> = series
        .chunks_exact(MSER_BATCH)
        .map(|c| c.iter().sum::<f64>() / MSER_BATCH as f64)
        .collect();
    let m = z.len();
    if m < MIN_BATCHES {
        return None;
    }
    // Suffix sums of z and z² give each candidate's statistic in O(1).
    let mut sum = vec![0.0; m + 1];
    let mut sum_sq = vec![0.0; m + 1];
    for j in (0..m).rev() {
        sum[j] = sum[j + 1] + z[j];
        sum_sq[j] = sum_sq[j + 1] + z[j] * z[j];
    }
    let mut best = (0, f64::INFINITY);
    // Keep at least a quarter of the batches (and two): with only a few
    // left the statistic is dominated by chance, and its spurious minima
    // at the very end would flag stationary series as unsteady. A series
    // still moving at the end keeps its minimum past the half, and is flagged.
    let last = m - (m / 4).max(2);
    for d in 0..=last {
        let k = (m - d) as f64;
        let mean = sum[d] / k;
        let ss = (sum_sq[d] - k * mean * mean).max(0.0);
        let stat = ss / (k * k);
        if stat < best.1 {
            best = (d, stat);
        }
    }
    let (d, statistic) = best;
    let steady = d <= m / 2 && !trends(&z[d..]);
    Some(Mser {
        truncation: d * MSER_BATCH,
        statistic,
        batches: m,
        steady,
    })
}

/// Whether the second half of `z` differs from the first by more than
/// three standard errors and by more than 10 % of the first half's level.
fn trends(z: &[f64]) -> bool {
    let half = z.len() / 2;
    if half < 2 {
        return false;
    }
    let (a, b) = z.split_at(z.len() - half);
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        (mean, var / n)
    };
    let (ma, va) = stats(a);
    let (mb, vb) = stats(b);
    let diff = (mb - ma).abs();
    let se = (va + vb).sqrt();
    diff > 3.0 * se && diff > 0.1 * ma.abs().max(mb.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixed-seed uniform(-1, 1) noise from a SplitMix64 stream.
    fn noise(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    #[test]
    fn finds_a_known_transient() {
        // 200 observations at level 20, then 1800 at level 5, noise ±1:
        // the truncation must be 200 within one batch (±5).
        let series: Vec<f64> = noise(1, 2000)
            .iter()
            .enumerate()
            .map(|(i, e)| if i < 200 { 20.0 } else { 5.0 } + e)
            .collect();
        let Some(m) = mser5(&series) else {
            panic!("long enough");
        };
        assert!(m.truncation.abs_diff(200) <= 5, "{m:?}");
        assert!(m.steady);
    }

    #[test]
    fn finds_an_exponential_warm_up() {
        // Level 5 + 30 e^{-t/40}: the excess falls below the noise (±1) after
        // about 40 ln 30 ≈ 136 observations; accept 60..=250.
        let series: Vec<f64> = noise(2, 3000)
            .iter()
            .enumerate()
            .map(|(i, e)| 5.0 + 30.0 * (-(i as f64) / 40.0).exp() + e)
            .collect();
        let Some(m) = mser5(&series) else {
            panic!("long enough");
        };
        assert!((60..=250).contains(&m.truncation), "{m:?}");
        assert!(m.steady);
    }

    #[test]
    fn stationary_series_keeps_almost_everything() {
        let series: Vec<f64> = noise(3, 1000).iter().map(|e| 7.0 + e).collect();
        let Some(m) = mser5(&series) else {
            panic!("long enough");
        };
        assert!(m.truncation < 250, "{m:?}");
        assert!(m.steady);
    }

    #[test]
    fn a_growing_queue_is_not_steady() {
        let series: Vec<f64> = noise(4, 1000)
            .iter()
            .enumerate()
            .map(|(i, e)| i as f64 * 0.5 + e)
            .collect();
        let Some(m) = mser5(&series) else {
            panic!("long enough");
        };
        assert!(!m.steady, "{m:?}");
        assert!(mser5(&series[..10]).is_none());
        let flat = vec![3.0; 100];
        assert_eq!(
            mser5(&flat).map(|m| (m.truncation, m.steady)),
            Some((0, true))
        );
    }
}
