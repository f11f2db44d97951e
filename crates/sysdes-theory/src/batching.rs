//! Batching model servers: the capacity a batch buys, and the exact mean of
//! the M/D/c queue that an unbatched model server with `slots` GPUs is.
//!
//! A batch of `b` requests takes `a + c b` (a fixed pass over the model plus
//! a per-request cost). Run full, batches of `B` complete `B / (a + c B)`
//! requests per second per slot, which grows with `B` towards `1 / c`: the
//! fixed cost is shared. With `max_batch: 1` the server is an ordinary
//! queue with deterministic service `D = a + c`: M/D/1 for one slot, M/D/c
//! for `c` slots.

use crate::portable::Portable;
/// Requests per second one slot completes running full batches of `b`
/// requests, each taking `base + per_item * b` seconds: `b / (base + per_item b)`.
///
/// With `base` 5 ms and `per_item` 1 ms: 166.7/s at `b` = 1, 864.9/s at 32.
pub fn batch_capacity(base_s: f64, per_item_s: f64, b: u32) -> f64 {
    let b = f64::from(b);
    b / (base_s + per_item_s * b)
}

/// Exact mean number in an M/D/c system with offered load `a = lambda D`
/// (requires `a < c`).
///
/// Observed every `D`, the number present is a Markov chain: everyone in
/// service at `t` has left by `t + D`, everyone waiting at `t` is still there
/// (they start after `t`, so finish after `t + D`), and arrivals in between
/// are added: `N(t + D) = max(N(t) - c, 0) + A`, with `A ~ Poisson(a)`
/// (Crommelin, 1932). Since `t` is arbitrary, the chain's stationary law is
/// the time-stationary law of `N`. It is solved here by power iteration on a
/// state space truncated far beyond the mass (the remaining tail below
/// `1e-15`), to a change in the mean below `1e-12`.
pub fn mdc_mean_number(c: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    let cu = c as usize;
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    // Poisson(a) probabilities, up to far beyond the mass.
    let mut arrivals = Vec::new();
    let mut p = (-a).libm_exp();
    let mut j = 0.0;
    while arrivals.len() < 10 || (j < a + 1.0 || p > 1e-18) {
        arrivals.push(p);
        j += 1.0;
        p *= a / j;
    }
    // The queue's tail decays geometrically, about like e^{-2 (1 - rho) n}
    // per waiting request; 60 / (1 - rho) states leave far below 1e-15.
    let states = 2 * cu + arrivals.len() + (60.0 / (1.0 - rho)).min(1e6) as usize;
    let mut dist = vec![0.0; states];
    dist[0] = 1.0;
    let mut next = vec![0.0; states];
    let mut mean = 0.0;
    for _ in 0..1_000_000 {
        next.iter_mut().for_each(|x| *x = 0.0);
        for (n, &pn) in dist.iter().enumerate() {
            if pn < 1e-300 {
                continue;
            }
            let base = n.saturating_sub(cu);
            for (k, &pa) in arrivals.iter().enumerate() {
                let to = (base + k).min(states - 1);
                next[to] += pn * pa;
            }
        }
        std::mem::swap(&mut dist, &mut next);
        let total: f64 = dist.iter().sum();
        let m: f64 = dist
            .iter()
            .enumerate()
            .map(|(n, p)| n as f64 * p)
            .sum::<f64>()
            / total;
        if (m - mean).abs() < 1e-12 * m.max(1.0) {
            return m;
        }
        mean = m;
    }
    mean
}

/// Exact mean time in an M/D/c system (wait + service), by Little's law on
/// [`mdc_mean_number`]: `L / lambda`.
pub fn mdc_mean_sojourn(c: u32, lambda: f64, d: f64) -> f64 {
    mdc_mean_number(c, lambda * d) / lambda
}

/// M/D/1 waiting-time tail `P(W_q > t)` for large `t`, by the Cramer-Lundberg
/// asymptote of the M/G/1 queue: `P(W_q > t) ~ K e^{-theta t}`, where
/// `theta > 0` solves `lambda (E[e^{theta S}] - 1) = theta`, here
/// `lambda (e^{theta D} - 1) = theta`, and
/// `K = (1 - rho) / (lambda D e^{theta D} - 1)`.
///
/// Erlang's exact series ([`crate::formulas::md1_wait_cdf`]) loses precision
/// beyond about 20 service times, which is where a p99 lies at rho 0.9; this
/// asymptote agrees with the series to 1e-4 relative from about 5 service
/// times on (see the tests), so it takes over in the far tail.
pub fn md1_wait_tail_asymptotic(lambda: f64, d: f64, t: f64) -> f64 {
    let rho = lambda * d;
    if rho >= 1.0 {
        return 1.0;
    }
    let f = |theta: f64| lambda * ((theta * d).libm_exp() - 1.0) - theta;
    let mut hi = 1.0 / d;
    while f(hi) <= 0.0 {
        hi *= 2.0;
    }
    let mut lo = hi / 2.0;
    while f(lo) > 0.0 {
        lo /= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let theta = 0.5 * (lo + hi);
    let k = (1.0 - rho) / (lambda * d * (theta * d).libm_exp() - 1.0);
    (k * (-theta * t).libm_exp()).min(1.0)
}

/// M/D/1 quantile `q` of the time in system `T = D + W_q`: Erlang's exact
/// series where it is precise (within 20 service times), the Cramer-Lundberg
/// asymptote beyond.
pub fn md1_sojourn_quantile(lambda: f64, d: f64, q: f64) -> f64 {
    use crate::formulas::{md1_wait_cdf, quantile_from_tail};
    d + quantile_from_tail(q, |t| {
        if t <= 20.0 * d {
            1.0 - md1_wait_cdf(lambda, d, t)
        } else {
            md1_wait_tail_asymptotic(lambda, d, t)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formulas::pk_mean_wait;

    /// shared/validation.md: 166.7/s unbatched, 864.9/s at B = 32.
    #[test]
    fn capacity_of_batches() {
        assert!((batch_capacity(0.005, 0.001, 1) - 166.666_666_7).abs() < 1e-6);
        assert!((batch_capacity(0.005, 0.001, 32) - 864.864_864_9).abs() < 1e-6);
        // Tends to 1 / per_item.
        assert!(batch_capacity(0.005, 0.001, 1_000_000) < 1000.0);
        assert!(batch_capacity(0.005, 0.001, 1_000_000) > 999.0);
    }

    /// With one slot, the chain reproduces Pollaczek-Khinchine for M/D/1:
    /// T = D + rho D / (2 (1 - rho)). 150/s x 6 ms: T = 33 ms.
    #[test]
    fn one_slot_is_md1() {
        for (lambda, d) in [(150.0, 0.006), (0.8, 1.0), (0.5, 1.0), (0.95, 1.0)] {
            let expected = d + pk_mean_wait(lambda, d, d * d);
            let got = mdc_mean_sojourn(1, lambda, d);
            assert!(
                ((got - expected) / expected).abs() < 1e-9,
                "lambda {lambda}: {got} vs {expected}"
            );
        }
        assert!((mdc_mean_sojourn(1, 150.0, 0.006) - 0.033).abs() < 1e-9);
    }

    /// M/D/c waits about half the M/M/c wait (Allen-Cunneen with c_s^2 = 0),
    /// slightly more for c > 1 (Cosmetatos 1976: the correction factor
    /// 1 + (1 - rho)(c - 1)(sqrt(4 + 5c) - 2) / (16 rho c) is 1.0157 for
    /// c = 4, rho = 0.8); the exact chain lands within 1 % of that.
    #[test]
    fn several_slots_against_cosmetatos() {
        let (c, rho, d) = (4u32, 0.8, 1.0);
        let lambda = rho * f64::from(c) / d;
        let mu = 1.0 / d;
        let wq_mmc = crate::formulas::mmc_mean_sojourn(c, lambda, mu) - d;
        let cf = f64::from(c);
        let correction =
            1.0 + (1.0 - rho) * (cf - 1.0) * ((4.0 + 5.0 * cf).sqrt() - 2.0) / (16.0 * rho * cf);
        let cosmetatos = 0.5 * wq_mmc * correction;
        let exact = mdc_mean_sojourn(c, lambda, d) - d;
        assert!(
            ((exact - cosmetatos) / cosmetatos).abs() < 0.01,
            "exact W_q {exact} vs Cosmetatos {cosmetatos}"
        );
    }

    /// The asymptote meets Erlang's exact series where both are precise.
    #[test]
    fn md1_asymptote_meets_the_series() {
        for rho in [0.5, 0.8, 0.9] {
            for k in [5.0, 10.0, 15.0] {
                let exact = 1.0 - crate::formulas::md1_wait_cdf(rho, 1.0, k);
                if exact < 1e-6 {
                    continue; // 1 - cdf has lost its digits by then
                }
                let asym = md1_wait_tail_asymptotic(rho, 1.0, k);
                assert!(
                    ((asym - exact) / exact).abs() < 1e-4,
                    "rho {rho}, t {k}: {asym} vs {exact}"
                );
            }
        }
        // validation.md: rho 0.8, p99 of T = 11.356 service times.
        assert!((md1_sojourn_quantile(0.8, 1.0, 0.99) - 11.356).abs() < 1e-3);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(mdc_mean_number(2, 0.0), 0.0);
        assert!(mdc_mean_number(2, 2.0).is_infinite());
    }
}
