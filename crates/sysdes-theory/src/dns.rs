//! Theory for `type: dns`: how many requests fail when the first record's
//! target crashes and the answer fails over while clients cache the old
//! answer for a TTL.
//!
//! The model (`sysdes-models`' `kinds/dns`): `N` clients, each a Poisson
//! stream of `mu = rate / N`; a client looks the name up at its first
//! request at or after its cached answer expires, and caches the answer
//! for `T` (the TTL). The run starts warm: each client's first answer
//! expires at a uniform time in `[0, T)`, i.e. it was looked up at a
//! uniform time `s0` in `[-T, 0)`. A client's lookups are then a delayed
//! renewal process whose cycle is `T + Exp(mu)`: the `k`-th lookup after
//! the warm one is at `s0 + k T + Gamma(k, mu)`, so the density of
//! lookups at time `s` is
//!
//! ```text
//! h(s) = 1/T on [-T, 0)   (the warm answer)
//!      + sum over k >= 1 of (G_k(s - (k-1) T) - G_k(s - k T)) / T
//! ```
//!
//! with `G_k` the CDF of `Gamma(k, mu)`. After the answer moves at `t1`, a
//! client sends to the old target while the answer it looked up before
//! `t1` is fresh: a lookup at `s` in `(t1 - T, t1]` covers `(t1, s + T)`,
//! so the expected stale requests per client are
//! `mu x integral over (t1 - T, t1] of h(s) (s + T - t1) ds`, cut at the
//! end of the crash. In the steady state (`h = 1 / (T + 1/mu)`) that is
//! `mu T^2 / (2 (T + 1/mu))`: all clients together send `rate x T/2 x
//! rho / (1 + rho)` requests to the dead target, `rho = mu T`, which is
//! `rate x T/2` when every client sends many requests per TTL.
//!
//! Failures during a crash at `t0` lasting `C` then add up as: every
//! request between `t0` and the answer's move `t1` (detection: the first
//! health check after `t0`, plus `failures - 1` intervals), the stale
//! requests above, and every request of a client that ignores the TTL from
//! `t1` to the end of the crash (those keep the first record for ever).
//!
//! Checked against the simulator in `sysdes-models/tests/dns.rs`.

use crate::portable::Portable;

/// A DNS failover: the name's clients, TTL and health checks, and the
/// crash of its first record's target.
#[derive(Clone, Copy, Debug)]
pub struct DnsFailover {
    /// Requests per second to the name (Poisson).
    pub rate_per_s: f64,
    /// Client resolvers, each `rate / clients`.
    pub clients: u32,
    /// The TTL, seconds.
    pub ttl_s: f64,
    /// Share of the clients that ignore the TTL (rounded to whole clients
    /// as the model does).
    pub ignore_ttl: f64,
    /// Time between health checks, seconds (checks at every multiple).
    pub interval_s: f64,
    /// Failed checks in a row that move the answer.
    pub failures: u32,
    /// When the first record's target crashes, seconds since the start (not
    /// on a multiple of `interval_s`).
    pub crash_at_s: f64,
    /// How long it stays down, seconds.
    pub crash_for_s: f64,
}

/// The expected failed requests of a [`DnsFailover`], by cause, and a
/// their standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailoverFailures {
    /// When the answer moves, seconds since the start (`None` if the crash
    /// ends first).
    pub switch_at_s: Option<f64>,
    /// Requests sent between the crash and the move.
    pub detection: f64,
    /// Requests sent on a cached answer after the move, crash not yet over.
    pub stale: f64,
    /// Requests of the clients that ignore the TTL, after the move.
    pub pinned: f64,
    /// The standard deviation of the total, treating its three parts as
    /// independent (clients are; the detection window's count is Poisson,
    /// and each client's stale count a Poisson of random mean `mu Y`).
    pub sd: f64,
}

impl FailoverFailures {
    /// The expected total.
    pub fn total(&self) -> f64 {
        self.detection + self.stale + self.pinned
    }
}

impl DnsFailover {
    /// When the answer moves: the `failures`-th check after the crash,
    /// checks at every multiple of `interval_s` (`None` if the crash is
    /// over by then).
    pub fn switch_at_s(&self) -> Option<f64> {
        let first = (self.crash_at_s / self.interval_s).floor() + 1.0;
        let at = (first + f64::from(self.failures.max(1) - 1)) * self.interval_s;
        (at < self.crash_at_s + self.crash_for_s).then_some(at)
    }

    /// One client's rate, per second.
    fn mu(&self) -> f64 {
        self.rate_per_s / f64::from(self.clients.max(1))
    }

    /// The density of one client's lookups at time `s` (per second); see
    /// the module docs.
    pub fn lookup_density(&self, s: f64) -> f64 {
        let t = self.ttl_s;
        if t <= 0.0 {
            return self.mu();
        }
        if s < -t {
            return 0.0;
        }
        if s < 0.0 {
            return 1.0 / t;
        }
        let mu = self.mu();
        let mut h = 0.0;
        let mut k = 1u32;
        // The k-th lookup is at least (k - 1) T after 0.
        while f64::from(k - 1) * t <= s {
            h += (gamma_cdf(k, mu, s - f64::from(k - 1) * t)
                - gamma_cdf(k, mu, s - f64::from(k) * t))
                / t;
            k += 1;
        }
        h
    }

    /// The expected failures by cause (see the module docs).
    pub fn failures(&self) -> FailoverFailures {
        let rate = self.rate_per_s;
        let end = self.crash_at_s + self.crash_for_s;
        let Some(t1) = self.switch_at_s() else {
            let detection = rate * self.crash_for_s;
            return FailoverFailures {
                switch_at_s: None,
                detection,
                stale: 0.0,
                pinned: 0.0,
                sd: detection.sqrt(),
            };
        };
        let n = self.clients.max(1);
        let pinned_clients = (self.ignore_ttl * f64::from(n)).round().min(f64::from(n));
        let free = f64::from(n) - pinned_clients;
        let mu = self.mu();
        let t = self.ttl_s;
        let detection = rate * (t1 - self.crash_at_s);
        let pinned = pinned_clients * mu * (end - t1);
        // Per free client: the time Y its answer looked up in (t1 - T, t1]
        // (at most one lookup falls there) stays fresh after t1, cut at the
        // end of the crash; its stale requests are Poisson(mu Y), of mean
        // mu E[Y] and variance mu E[Y] + mu^2 Var(Y).
        let (m1, m2) = if t > 0.0 {
            let steps = 20_000u32;
            let ds = t / f64::from(steps);
            let w = end - t1;
            let (mut m1, mut m2) = (0.0, 0.0);
            for i in 0..steps {
                let s = t1 - t + (f64::from(i) + 0.5) * ds;
                let y = (s + t - t1).min(w);
                let p = self.lookup_density(s) * ds;
                m1 += p * y;
                m2 += p * y * y;
            }
            (m1, m2)
        } else {
            (0.0, 0.0)
        };
        let per_client = mu * m1;
        let stale = free * per_client;
        let var = detection + pinned + free * (per_client + mu * mu * (m2 - m1 * m1));
        FailoverFailures {
            switch_at_s: Some(t1),
            detection,
            stale,
            pinned,
            sd: var.sqrt(),
        }
    }

    /// Lookups per second of all clients in the steady state:
    /// `rate / (1 + rho)`, `rho = mu T` (a client's cycle is `T + 1/mu`).
    pub fn steady_lookups_per_s(&self) -> f64 {
        let free = f64::from(self.clients.max(1))
            - (self.ignore_ttl * f64::from(self.clients.max(1))).round();
        free / (self.ttl_s + 1.0 / self.mu())
    }
}

/// The CDF of `Gamma(k, mu)` (an Erlang) at `x`: the chance of at least
/// `k` Poisson events of rate `mu` by `x`.
fn gamma_cdf(k: u32, mu: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let m = mu * x;
    // P(Poisson(m) < k), summed term by term in logs (e^-m underflows
    // for long runs).
    let ln_m = m.libm_ln();
    let mut below = 0.0;
    let mut ln_factorial = 0.0;
    for j in 0..k {
        if j > 0 {
            ln_factorial += f64::from(j).libm_ln();
        }
        below += (f64::from(j) * ln_m - m - ln_factorial).libm_exp();
    }
    (1.0 - below).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> DnsFailover {
        DnsFailover {
            rate_per_s: 500.0,
            clients: 500,
            ttl_s: 60.0,
            ignore_ttl: 0.0,
            interval_s: 10.0,
            failures: 3,
            crash_at_s: 65.0,
            crash_for_s: 300.0,
        }
    }

    /// The first check after 65 s is at 70 s; the third in a row at 90 s.
    #[test]
    fn the_answer_moves_at_the_failures_th_check_after_the_crash() {
        assert_eq!(base().switch_at_s(), Some(90.0));
        let short = DnsFailover {
            crash_for_s: 20.0,
            ..base()
        };
        assert_eq!(short.switch_at_s(), None);
        assert_eq!(short.failures().detection, 500.0 * 20.0);
    }

    /// Long after the start the lookup density is the steady
    /// `1 / (T + 1/mu)`, and the stale requests approach `rate x T/2 x
    /// rho / (1 + rho)`. (With 5000 clients a cycle is 60 s + Exp(10 s):
    /// after 40 cycles the phases have spread over more than a cycle.)
    #[test]
    fn far_from_the_start_the_renewal_is_steady() {
        let late = DnsFailover {
            clients: 5000,
            crash_at_s: 3005.0,
            ..base()
        };
        let steady = 1.0 / (60.0 + 10.0);
        for s in [2950.0, 2990.0, 3010.0] {
            let h = late.lookup_density(s);
            assert!((h / steady - 1.0).abs() < 0.01, "{s}: {h} vs {steady}");
        }
        let f = late.failures();
        let rho: f64 = 6.0;
        let expected = 500.0 * 30.0 * rho / (1.0 + rho);
        assert!(
            (f.stale / expected - 1.0).abs() < 0.01,
            "{} vs {expected}",
            f.stale
        );
        assert_eq!(f.detection, 500.0 * 25.0);
    }

    /// The Erlang CDF: `1 - e^-x` for one event, `1 - e^-x (1 + x)` for two.
    #[test]
    fn erlang_cdf_matches_closed_forms() {
        let x: f64 = 1.7;
        assert!((gamma_cdf(1, 1.0, x) - (1.0 - (-x).exp())).abs() < 1e-12);
        assert!((gamma_cdf(2, 1.0, x) - (1.0 - (-x).exp() * (1.0 + x))).abs() < 1e-12);
        assert_eq!(gamma_cdf(3, 1.0, 0.0), 0.0);
    }

    /// With every client ignoring the TTL, nothing is stale and every
    /// request after the move fails until the crash ends.
    #[test]
    fn clients_ignoring_the_ttl_fail_until_the_end_of_the_crash() {
        let f = DnsFailover {
            ignore_ttl: 1.0,
            ..base()
        }
        .failures();
        assert_eq!(f.stale, 0.0);
        assert!((f.pinned - 500.0 * (365.0 - 90.0)).abs() < 1e-6);
    }
}
