//! Erlang-A (M/M/c+M): `c` workers, Poisson arrivals, exponential service,
//! and exponential patience: a waiting request leaves unserved when its
//! patience runs out (reneging). Palm (1943); Garnett, Mandelbaum and
//! Reiman, "Designing a call center with impatient customers" (2002).
//!
//! The number present is a birth-death chain: births at `lambda`, deaths
//! at `min(n, c) mu + max(n - c, 0) theta`. Abandonment makes it stable at
//! any load, so its stationary law always exists; it is computed here
//! exactly, term by term, over states up to where the remaining tail is
//! below `1e-16` of the mass. Only sums and products are used, so the
//! result is the same on every platform.
//!
//! What it does not cover: patience that is not exponential (M/M/c+G), or
//! priorities; the simulator handles both, the formula does not.

/// The stationary figures of an M/M/c+M queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErlangA {
    /// Probability that an arrival waits (all workers busy when it comes).
    pub p_wait: f64,
    /// Probability that an arrival abandons (leaves unserved):
    /// `theta Lq / lambda`.
    pub p_abandon: f64,
    /// Time-average number waiting, `Lq`.
    pub mean_queue: f64,
    /// Mean time an arrival waits, served or not (`Lq / lambda`, Little), s.
    pub mean_wait_s: f64,
    /// Time-average number of busy workers (`lambda (1 - P(ab)) / mu`).
    pub mean_busy: f64,
}

/// The exact stationary figures of M/M/c+M with arrival rate `lambda`,
/// service rate `mu` per worker, `c` workers and patience rate `theta`
/// (mean patience `1 / theta`), all per second. `theta` must be above zero
/// (with no abandonment it is M/M/c).
pub fn erlang_a(lambda: f64, mu: f64, c: u32, theta: f64) -> ErlangA {
    assert!(
        lambda >= 0.0 && mu > 0.0 && theta > 0.0 && c > 0,
        "erlang_a needs lambda >= 0, mu > 0, theta > 0 and c >= 1"
    );
    // Unnormalised weights p_n / p_0, accumulated while they matter.
    let (mut total, mut waiting, mut queue, mut busy) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut term = 1.0f64;
    let mut n: u64 = 0;
    loop {
        n += 1;
        let k = n.min(u64::from(c)) as f64;
        let death = k * mu + n.saturating_sub(u64::from(c)) as f64 * theta;
        term *= lambda / death;
        total += term;
        busy += k * term;
        if n >= u64::from(c) {
            waiting += term;
            queue += (n - u64::from(c)) as f64 * term;
        }
        // Past the mode the terms fall geometrically at least as fast as
        // the current ratio: stop when what is left is negligible.
        let ratio = lambda / (death + mu.min(theta));
        if n > u64::from(c) && ratio < 1.0 && term / (1.0 - ratio) < 1e-16 * total {
            break;
        }
        if n > 10_000_000 {
            break;
        }
    }
    // P(wait) is the chance all c are busy when an arrival comes (PASTA):
    // states n >= c, where `waiting` began with the n = c term.
    let p_wait = waiting / total;
    let mean_queue = queue / total;
    let (p_abandon, mean_wait_s) = if lambda > 0.0 {
        (theta * mean_queue / lambda, mean_queue / lambda)
    } else {
        (0.0, 0.0)
    };
    ErlangA {
        p_wait,
        p_abandon,
        mean_queue,
        mean_wait_s,
        mean_busy: busy / total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With theta = mu every request leaves at rate mu whether waiting or
    /// served, so the number present is that of M/M/inf: Poisson(lambda/mu).
    /// Then Lq = E[(N - c)+] with N ~ Poisson(a), computed independently.
    #[test]
    fn theta_equal_to_mu_is_the_infinite_server_queue() {
        let (lambda, mu, c) = (12.0f64, 1.0f64, 10u32);
        let a = lambda / mu;
        let mut p = (-a).exp();
        let (mut lq, mut tail) = (0.0, 0.0);
        for n in 0..400u32 {
            if n > 0 {
                p *= a / f64::from(n);
            }
            if n >= c {
                lq += f64::from(n - c) * p;
                tail += p;
            }
        }
        let e = erlang_a(lambda, mu, c, mu);
        assert!(
            (e.mean_queue - lq).abs() < 1e-12,
            "{} vs {lq}",
            e.mean_queue
        );
        assert!((e.p_wait - tail).abs() < 1e-12, "{} vs {tail}", e.p_wait);
        assert!((e.p_abandon - mu * lq / lambda).abs() < 1e-12);
    }

    /// Patience far longer than the wait: M/M/c, whose Erlang C for c = 4,
    /// a = 3.2 is 0.59643 and Lq = C a / (c - a) = 2.3857.
    #[test]
    fn very_patient_customers_give_erlang_c() {
        let e = erlang_a(3.2, 1.0, 4, 1e-9);
        assert!((e.p_wait - 0.59643).abs() < 1e-5, "{}", e.p_wait);
        assert!((e.mean_queue - 0.59643 * 3.2 / 0.8).abs() < 1e-4);
        assert!(e.p_abandon < 1e-8);
    }

    /// Flow balance: what is not abandoned is served, lambda (1 - P(ab)) =
    /// mu x mean busy workers; and it holds above capacity too (load 1.5).
    #[test]
    fn served_plus_abandoned_is_the_arrival_rate() {
        for (lambda, c, theta) in [(90.0, 100u32, 0.5), (150.0, 100, 2.0), (1.5, 1, 1.0)] {
            let e = erlang_a(lambda, 1.0, c, theta);
            let served = lambda * (1.0 - e.p_abandon);
            assert!((served - e.mean_busy).abs() < 1e-9 * lambda, "{e:?}");
        }
    }

    /// M/M/1+M at lambda = mu = theta: N ~ Poisson(1), Lq = E[(N-1)+] =
    /// 1/e, P(ab) = 1/e = 0.367879 (by hand).
    #[test]
    fn single_worker_by_hand() {
        let e = erlang_a(1.0, 1.0, 1, 1.0);
        let inv_e = (-1.0f64).exp();
        assert!((e.p_abandon - inv_e).abs() < 1e-12, "{}", e.p_abandon);
        assert!((e.mean_wait_s - inv_e).abs() < 1e-12);
        assert!((e.p_wait - (1.0 - inv_e)).abs() < 1e-12);
    }
}
