//! Closed forms of queueing theory, as plain functions of rates and times.
//!
//! Rates and times are in any consistent unit (the callers use seconds).
//! Every function names its source; each is tested against the figures in
//! `shared/validation.md`.

use crate::portable::Portable;
/// Erlang C: the probability that an arrival waits in an M/M/c queue with
/// offered load `a = lambda / mu` (requires `a < c`).
///
/// C(c, a) = [a^c/c! * c/(c-a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c-a)],
/// computed through Erlang B for numerical stability:
/// C = c B / (c - a (1 - B)).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// Erlang B: the blocking probability of an M/M/c/c loss system, by the
/// recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
///
/// Past k > a each step shrinks B, so the loop stops once B underflows:
/// its cost is O(min(c, a + a few hundred)), not O(c).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
        if b < f64::MIN_POSITIVE || !b.is_finite() {
            return if b.is_finite() { 0.0 } else { f64::NAN };
        }
    }
    b
}

/// M/M/c mean time in system: C/(c mu - lambda) + 1/mu.
pub fn mmc_mean_sojourn(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu
}

/// M/M/c: P(T > t) for the time in system T = W_q + S, where W_q is 0 with
/// probability 1 - C and Exp(c mu - lambda) otherwise, and S ~ Exp(mu).
/// For X ~ Exp(a), Y ~ Exp(b): P(X + Y > t) = (b e^{-at} - a e^{-bt})/(b - a).
pub fn mmc_sojourn_tail(c: u32, lambda: f64, mu: f64, t: f64) -> f64 {
    let wait = erlang_c(c, lambda / mu);
    let r = f64::from(c) * mu - lambda;
    let both = if (r - mu).abs() < 1e-12 * mu {
        // Equal rates: the sum is Erlang-2.
        (1.0 + mu * t) * (-mu * t).libm_exp()
    } else {
        (mu * (-r * t).libm_exp() - r * (-mu * t).libm_exp()) / (mu - r)
    };
    (1.0 - wait) * (-mu * t).libm_exp() + wait * both
}

/// Solves `tail(t) = 1 - q` for a non-increasing tail function by bisection
/// (to a relative precision of 1e-12).
pub fn quantile_from_tail(q: f64, tail: impl Fn(f64) -> f64) -> f64 {
    let target = 1.0 - q;
    let mut hi = 1.0;
    while tail(hi) > target && hi < 1e300 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// M/M/c quantile `q` of the time in system.
pub fn mmc_sojourn_quantile(c: u32, lambda: f64, mu: f64, q: f64) -> f64 {
    quantile_from_tail(q, |t| mmc_sojourn_tail(c, lambda, mu, t))
}

/// M/M/c/K (c servers, at most K in the system): stationary probabilities
/// p_0..p_K of the birth-death chain with birth rate lambda and death rate
/// min(n, c) mu.
pub fn mmck_probabilities(c: u32, k: u32, lambda: f64, mu: f64) -> Vec<f64> {
    let mut p = Vec::with_capacity(k as usize + 1);
    let mut term = 1.0;
    p.push(term);
    for n in 1..=k {
        term *= lambda / (f64::from(n.min(c)) * mu);
        p.push(term);
    }
    let total: f64 = p.iter().sum();
    p.iter().map(|x| x / total).collect()
}

/// The most states [`mmck`] sums over (its iteration and memory budget).
pub const MMCK_MAX_STATES: u32 = 100_000;

/// M/M/c/K blocking probability and mean time in system of admitted
/// requests (Little's law on the admitted rate).
///
/// A capacity beyond [`MMCK_MAX_STATES`] is computed at that capacity (the
/// probabilities past it are below 1e-300 whenever lambda < 0.993 c mu), so
/// the cost and memory stay bounded whatever `k` is.
pub fn mmck(c: u32, k: u32, lambda: f64, mu: f64) -> (f64, f64) {
    let k = k.min(MMCK_MAX_STATES);
    let p = mmck_probabilities(c, k, lambda, mu);
    let blocking = p[k as usize];
    let in_system: f64 = p.iter().enumerate().map(|(n, pn)| n as f64 * pn).sum();
    (blocking, in_system / (lambda * (1.0 - blocking)))
}

/// M/M/1/K blocking: (1 - rho) rho^K / (1 - rho^{K+1}).
pub fn mm1k_blocking(k: u32, rho: f64) -> f64 {
    (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1))
}

/// Pollaczek-Khinchine: M/G/1 mean wait W_q = lambda E[S^2] / (2 (1 - rho)).
pub fn pk_mean_wait(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    lambda * second_moment_s / (2.0 * (1.0 - lambda * mean_s))
}

/// M/D/1 waiting-time CDF (Erlang, 1909):
/// P(W_q <= t) = (1 - rho) sum_{k=0}^{floor(t/D)} (lambda (kD - t))^k / k! e^{-lambda (kD - t)}.
/// The alternating sum loses precision beyond about 25 service times (at
/// rho 0.8), so callers use it only below 20.
pub fn md1_wait_cdf(lambda: f64, d: f64, t: f64) -> f64 {
    if t < 0.0 {
        return 0.0;
    }
    let rho = lambda * d;
    let mut sum = 0.0;
    let mut factorial = 1.0;
    for k in 0..=((t / d).floor() as u32) {
        if k > 0 {
            factorial *= f64::from(k);
        }
        let x = lambda * (f64::from(k) * d - t);
        sum += x.powi(k as i32) / factorial * (-x).libm_exp();
    }
    ((1.0 - rho) * sum).clamp(0.0, 1.0)
}

/// Allen-Cunneen approximation of the G/G/c mean wait:
/// W_q ~ C(c, a) / (c mu - lambda) * (c_a^2 + c_s^2) / 2. For c = 1 this is
/// Kingman's formula; for Poisson arrivals and exponential service it is
/// exact (M/M/c).
pub fn allen_cunneen_wait(c: u32, lambda: f64, mu: f64, ca2: f64, cs2: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) * (ca2 + cs2) / 2.0
}

/// Exact Mean Value Analysis of a closed single-class network with
/// load-dependent stations (Reiser and Lavenberg; the multi-server form as in
/// Menasce and Almeida, "Capacity Planning for Web Services", ch. 12).
///
/// `stations` are `(demand, servers)`: demand D_k = visits x mean service
/// time, and a station with c servers serves at rate min(j, c)/S with j
/// present (exponential service). `delay` is the pure delay per cycle (think
/// time plus network). For each population n = 1..N:
/// R_k(n) = sum_{j=1..n} j D_k / min(j, c_k) p_k(j-1 | n-1),
/// X(n) = n / (delay + sum_k R_k(n)),
/// p_k(j | n) = X(n) D_k / min(j, c_k) p_k(j-1 | n-1), p_k(0 | n) = 1 - sum_{j>=1}.
/// With c = 1 this is the textbook R_k = D_k (1 + Q_k(n-1)). Cost O(N^2 K),
/// so beyond [`MVA_EXACT_USERS`] users the approximate [`schweitzer_mva`]
/// (O(K) per iteration, at most 10,000 iterations) is used instead.
/// Returns (throughput, response time excluding `delay`, per-station
/// residence times).
pub fn mva(stations: &[(f64, u32)], delay: f64, users: u32) -> (f64, f64, Vec<f64>) {
    if users > MVA_EXACT_USERS {
        return schweitzer_mva(stations, delay, users);
    }
    let mut marginals: Vec<Vec<f64>> = stations.iter().map(|_| vec![1.0]).collect();
    let mut residence = vec![0.0; stations.len()];
    let mut x = 0.0;
    for n in 1..=users as usize {
        for (k, &(d, c)) in stations.iter().enumerate() {
            let p = &marginals[k];
            residence[k] = (1..=n)
                .map(|j| j as f64 * d / (j.min(c.max(1) as usize)) as f64 * p[j - 1])
                .sum();
        }
        x = n as f64 / (delay + residence.iter().sum::<f64>());
        for (k, &(d, c)) in stations.iter().enumerate() {
            let old = &marginals[k];
            let mut next = vec![0.0; n + 1];
            for j in 1..=n {
                next[j] = x * d / (j.min(c.max(1) as usize)) as f64 * old[j - 1];
            }
            next[0] = (1.0 - next[1..].iter().sum::<f64>()).max(0.0);
            marginals[k] = next;
        }
    }
    let r = residence.iter().sum();
    (x, r, residence)
}

/// The largest population [`mva`] solves exactly (its O(N^2 K) budget).
pub const MVA_EXACT_USERS: u32 = 2_000;

/// Approximate MVA (Schweitzer-Bard: Q_k(N-1) ~ (N-1)/N Q_k(N)), with a
/// c-server station split as in Seidmann et al. into a single server of
/// demand D/c plus a pure delay D (c-1)/c. A fixed point found in at most
/// 10,000 iterations (each O(K)); returns what [`mva`] returns.
pub fn schweitzer_mva(stations: &[(f64, u32)], delay: f64, users: u32) -> (f64, f64, Vec<f64>) {
    let n = f64::from(users);
    let split: Vec<(f64, f64)> = stations
        .iter()
        .map(|&(d, c)| {
            let c = f64::from(c.max(1));
            (d / c, d * (c - 1.0) / c)
        })
        .collect();
    let k = stations.len().max(1) as f64;
    let mut queue: Vec<f64> = vec![n / k; stations.len()];
    let mut residence = vec![0.0; stations.len()];
    let mut x = 0.0;
    for _ in 0..10_000 {
        for (r, (&(d, fixed), q)) in residence.iter_mut().zip(split.iter().zip(&queue)) {
            *r = d * (1.0 + q * (n - 1.0) / n) + fixed;
        }
        x = n / (delay + residence.iter().sum::<f64>());
        let mut change: f64 = 0.0;
        for (q, &(d, _)) in queue.iter_mut().zip(&split) {
            // Little's law on the queueing part of the residence time.
            let queued = x * d * (1.0 + *q * (n - 1.0) / n);
            change = change.max((queued - *q).abs() / n);
            *q = queued;
        }
        if !x.is_finite() || change < 1e-10 {
            break;
        }
    }
    let r = residence.iter().sum();
    (x, r, residence)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Figures from shared/validation.md, to their printed precision.
    #[test]
    fn reproduces_the_validation_figures() {
        assert!((erlang_c(4, 3.2) - 0.59643).abs() < 5e-6);
        assert!((mmc_mean_sojourn(4, 3.2, 1.0) - 1.7455).abs() < 5e-5);
        assert!((mmc_sojourn_quantile(4, 3.2, 1.0, 0.99) - 6.893).abs() < 5e-4);
        assert!((erlang_b(10, 7.0) - 0.078741).abs() < 5e-7);
        assert!((mm1k_blocking(10, 0.9) - 0.050814).abs() < 5e-7);
        let (blocking, _) = mmck(1, 10, 0.9, 1.0);
        assert!((blocking - mm1k_blocking(10, 0.9)).abs() < 1e-12);
        // M/M/1: p99 = -ln(0.01)/(mu - lambda).
        assert!((mmc_sojourn_quantile(1, 0.9, 1.0, 0.99) - 46.0517).abs() < 5e-4);
        assert!((mmc_sojourn_quantile(1, 0.5, 1.0, 0.99) - 9.2103).abs() < 5e-4);
        // M/D/1 at rho 0.8: W_q = 2.0; p99 of T = 11.356.
        assert!((pk_mean_wait(0.8, 1.0, 1.0) - 2.0).abs() < 1e-12);
        let p99 = quantile_from_tail(0.99, |t| 1.0 - md1_wait_cdf(0.8, 1.0, t - 1.0));
        assert!((p99 - 11.356).abs() < 5e-3, "{p99}");
        // M/G/1 with c_s^2 = 4 at rho 0.8: T = 11.
        assert!((pk_mean_wait(0.8, 1.0, 5.0) + 1.0 - 11.0).abs() < 1e-12);
        // Allen-Cunneen is exact for M/M/c.
        let ac = allen_cunneen_wait(4, 3.2, 1.0, 1.0, 1.0) + 1.0;
        assert!((ac - mmc_mean_sojourn(4, 3.2, 1.0)).abs() < 1e-12);
    }

    /// Schweitzer's approximation is within a few percent of exact MVA
    /// (Bard 1979; the error peaks near the knee N* = (D + Z) / D_max):
    /// 3 % here, below, at and above the knee (N* = 101).
    #[test]
    fn schweitzer_mva_is_close_to_exact_mva() {
        for (stations, users) in [
            (vec![(0.01, 1)], 20),
            (vec![(0.01, 1)], 101),
            (vec![(0.01, 1)], 1_500),
            (vec![(0.02, 2), (0.005, 1)], 400),
        ] {
            let (exact, _, _) = mva(&stations, 1.0, users);
            let (approx, _, _) = schweitzer_mva(&stations, 1.0, users);
            assert!(
                (approx - exact).abs() <= 0.03 * exact,
                "{stations:?} N={users}: exact {exact}, Schweitzer {approx}"
            );
        }
        // Beyond the exact budget the approximation is used, in O(K).
        let (x, _, _) = mva(&[(0.01, 1)], 1.0, 1_000_000);
        assert!(
            (x - 100.0).abs() < 1e-6,
            "saturated throughput 1/D, got {x}"
        );
    }

    #[test]
    fn mva_matches_hand_computation() {
        // One station, D = 1, Z = 0, N = 2: R(1) = 1, X(1) = 1, Q(1) = 1;
        // R(2) = 2, X(2) = 1.
        let (x, r, _) = mva(&[(1.0, 1)], 0.0, 2);
        assert!((x - 1.0).abs() < 1e-12 && (r - 2.0).abs() < 1e-12);
        // Asymptotic bound: X <= 1/D_max and R >= N D_max - Z.
        let (x, r, _) = mva(&[(0.002, 1), (0.001, 1)], 0.01, 100);
        assert!(x <= 500.0 + 1e-9 && r >= 100.0 * 0.002 - 0.01 - 1e-9);
    }

    /// One M/M/c station with no think time and N <= c users never queues:
    /// R = D exactly; with N >> c the station saturates at X = c/D.
    #[test]
    fn multi_server_mva_is_exact_at_the_limits() {
        let (x, r, _) = mva(&[(0.02, 4)], 0.0, 3);
        assert!((r - 0.02).abs() < 1e-12 && (x - 150.0).abs() < 1e-9);
        let (x, _, _) = mva(&[(0.02, 4)], 1.0, 2_000);
        assert!((x - 200.0).abs() < 1e-6, "{x}");
    }

    #[test]
    fn md1_cdf_is_a_distribution() {
        assert!(
            (md1_wait_cdf(0.8, 1.0, 0.0) - 0.2).abs() < 1e-12,
            "P(W = 0) = 1 - rho"
        );
        assert!(md1_wait_cdf(0.8, 1.0, 19.0) > 0.9997 && md1_wait_cdf(0.8, 1.0, 19.0) <= 1.0);
    }
}
