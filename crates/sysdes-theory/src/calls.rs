//! Downstream calls: the time a server waits for its call steps.
//!
//! A step's calls run in parallel and end when `wait_for` of them have
//! answered; steps run one after another. For K identical M/M/1 targets fed
//! by the same Poisson stream and waiting for all, fork-join theory applies
//! (Nelson and Tantawi 1988: exact for K = 2, an approximation for K >= 3).
//! Every other combination is approximated by order statistics of
//! independent shifted exponentials with the targets' means.

/// The time one call takes: a constant network round trip plus the
/// target's time, taken as exponential with mean `mean` (seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TargetTime {
    /// Network round trip, seconds.
    pub shift: f64,
    /// Mean time at the target, seconds.
    pub mean: f64,
}

/// The n-th harmonic number 1 + 1/2 + ... + 1/n.
pub fn harmonic(n: u32) -> f64 {
    (1..=n).map(|i| 1.0 / f64::from(i)).sum()
}

/// Mean response time of a fork-join over `k` identical M/M/1 servers with
/// arrival rate `lambda` and service rate `mu`, and whether it is exact.
///
/// K = 2: R_2 = (12 - rho)/8 x 1/(mu - lambda), exact (Flatto and Hahn 1984;
/// Nelson and Tantawi 1988). K >= 3: the Nelson-Tantawi approximation
/// R_K = [H_K/H_2 + (4/11)(1 - H_K/H_2) rho] R_2, which runs 1-3 % low.
/// K = 1 is the M/M/1 mean 1/(mu - lambda).
pub fn fork_join_mm1(k: u32, lambda: f64, mu: f64) -> (f64, bool) {
    let rho = lambda / mu;
    let single = 1.0 / (mu - lambda);
    match k {
        0 => (0.0, true),
        1 => (single, true),
        2 => ((12.0 - rho) / 8.0 * single, true),
        _ => {
            let ratio = harmonic(k) / harmonic(2);
            (
                (ratio + 4.0 / 11.0 * (1.0 - ratio) * rho) * (12.0 - rho) / 8.0 * single,
                false,
            )
        }
    }
}

/// Probability that fewer than `n` of the calls have answered by time `t`.
fn fewer_than(targets: &[TargetTime], n: usize, t: f64, dp: &mut Vec<f64>) -> f64 {
    let done = |x: &TargetTime| {
        if t <= x.shift {
            0.0
        } else if x.mean <= 0.0 {
            1.0
        } else {
            -(-(t - x.shift) / x.mean).exp_m1()
        }
    };
    if n == 1 {
        return targets.iter().map(|x| 1.0 - done(x)).product();
    }
    if n == targets.len() {
        return 1.0 - targets.iter().map(done).product::<f64>();
    }
    // Poisson-binomial counts, truncated at n - 1.
    dp.clear();
    dp.resize(n, 0.0);
    dp[0] = 1.0;
    for x in targets {
        let p = done(x);
        for j in (0..n).rev() {
            let from_below = if j > 0 { dp[j - 1] * p } else { 0.0 };
            dp[j] = dp[j] * (1.0 - p) + from_below;
        }
    }
    dp.iter().sum::<f64>().min(1.0)
}

/// Adaptive Simpson integration of `f` over [a, b].
fn integrate(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> f64 {
    fn step(
        f: &mut impl FnMut(f64) -> f64,
        a: f64,
        b: f64,
        fa: f64,
        fm: f64,
        fb: f64,
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let m = 0.5 * (a + b);
        let (lm, rm) = (0.5 * (a + m), 0.5 * (m + b));
        let (flm, frm) = (f(lm), f(rm));
        let left = (m - a) / 6.0 * (fa + 4.0 * flm + fm);
        let right = (b - m) / 6.0 * (fm + 4.0 * frm + fb);
        let delta = left + right - whole;
        if depth == 0 || delta.abs() <= 15.0 * tol {
            left + right + delta / 15.0
        } else {
            step(f, a, m, fa, flm, fm, left, tol / 2.0, depth - 1)
                + step(f, m, b, fm, frm, fb, right, tol / 2.0, depth - 1)
        }
    }
    if b <= a {
        return 0.0;
    }
    let (fa, fm, fb) = (f(a), f(0.5 * (a + b)), f(b));
    let whole = (b - a) / 6.0 * (fa + 4.0 * fm + fb);
    let tol = 1e-10 * (b - a).max(1e-12) * fa.abs().max(fb.abs()).max(fm.abs()).max(1e-12);
    step(f, a, b, fa, fm, fb, whole, tol, 40)
}

/// Mean and second moment (seconds, seconds squared) of the time until `n`
/// of `targets` have answered, the targets' times independent shifted
/// exponentials: an approximation for any real step.
pub(crate) fn order_statistic(targets: &[TargetTime], n: usize) -> (f64, f64) {
    let n = n.clamp(1, targets.len().max(1));
    if targets.is_empty() {
        return (0.0, 0.0);
    }
    let mut dp = Vec::with_capacity(n);
    // Integrate piecewise between the shifts, where the survival has kinks,
    // then far enough into the tail that 50 of the largest means remain.
    let mut points: Vec<f64> = targets.iter().map(|x| x.shift).collect();
    points.push(0.0);
    points.sort_by(f64::total_cmp);
    points.dedup();
    let largest = targets.iter().map(|x| x.mean).fold(0.0, f64::max);
    let last = *points.last().unwrap_or(&0.0);
    // Split the tail at a few scales so small means are resolved too.
    for scale in [0.5, 2.0, 8.0, 50.0] {
        points.push(last + scale * largest);
    }
    let (mut mean, mut second) = (0.0, 0.0);
    for w in points.windows(2) {
        mean += integrate(&mut |t| fewer_than(targets, n, t, &mut dp), w[0], w[1]);
        second += integrate(
            &mut |t| 2.0 * t * fewer_than(targets, n, t, &mut dp),
            w[0],
            w[1],
        );
    }
    (mean, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(mean: f64) -> TargetTime {
        TargetTime { shift: 0.0, mean }
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn order_statistics_of_exponentials_match_closed_forms() {
        // Max of two Exp(1): 1 + 1/2; variance 1 + 1/4.
        let (m, s) = order_statistic(&[exp(1.0), exp(1.0)], 2);
        close(m, 1.5, 1e-6);
        close(s - m * m, 1.25, 1e-6);
        // Min of three Exp(1): 1/3.
        close(order_statistic(&[exp(1.0); 3], 1).0, 1.0 / 3.0, 1e-6);
        // Second of three: 1/3 + 1/2.
        close(order_statistic(&[exp(1.0); 3], 2).0, 1.0 / 3.0 + 0.5, 1e-6);
        // Max of Exp(1) and Exp(2) (rates 1 and 1/2): 1 + 2 - 1/(1 + 1/2).
        close(order_statistic(&[exp(1.0), exp(2.0)], 2).0, 3.0 - 2.0 / 3.0, 1e-6);
        // Max of K = 10 identical: H_10.
        close(order_statistic(&[exp(1.0); 10], 10).0, harmonic(10), 1e-6);
        // A shift adds; a single target is its own mean.
        let shifted = TargetTime {
            shift: 0.5,
            mean: 2.0,
        };
        close(order_statistic(&[shifted], 1).0, 2.5, 1e-6);
        // Widely different scales are resolved.
        close(order_statistic(&[exp(1e-3), exp(1.0)], 1).0, 1.0 / 1001.0, 1e-5);
    }

    #[test]
    fn fork_join_formulas() {
        // rho 0.8, mu 1: K = 2 is exactly 7.0 service times.
        let (r2, exact) = fork_join_mm1(2, 0.8, 1.0);
        close(r2, 7.0, 1e-12);
        assert!(exact);
        // K = 10: 11.73 (validation.md), an approximation.
        let (r10, exact) = fork_join_mm1(10, 0.8, 1.0);
        close(r10, 11.7286, 1e-4);
        assert!(!exact);
        close(fork_join_mm1(1, 0.8, 1.0).0, 5.0, 1e-12);
    }
}
