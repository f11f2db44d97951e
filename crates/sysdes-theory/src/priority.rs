//! M/M/1 with priority classes: per-class mean response times for the
//! non-preemptive discipline (Cobham, 1954) and for preemptive-resume
//! (Kleinrock, *Queueing Systems* vol. 2, 1976, section 3.7).
//!
//! Classes are given highest priority first; class `k` has arrival rate
//! `lambda_k` and exponential service at rate `mu_k`, so `E[S_k^2] =
//! 2 / mu_k^2`. With `sigma_k = rho_1 + ... + rho_k` and `R_k = sum_{i<=k}
//! lambda_i E[S_i^2] / 2`:
//!
//! - non-preemptive: `T_k = R_K / ((1 - sigma_{k-1})(1 - sigma_k)) + 1/mu_k`
//!   (every class waits for the residual work of any class in service);
//! - preemptive-resume: `T_k = (1/mu_k) / (1 - sigma_{k-1}) + R_k / ((1 -
//!   sigma_{k-1})(1 - sigma_k))` (lower classes are invisible to class `k`).
//!
//! Not covered: several workers (no closed form), or general service.

/// One priority class: its arrival rate and service rate, per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriorityClass {
    /// Arrival rate, per second.
    pub lambda: f64,
    /// Service rate, per second (mean service `1 / mu`).
    pub mu: f64,
}

/// Mean response time (wait + service), in seconds, of each class of an
/// M/M/1 non-preemptive priority queue; classes highest first. `None` for a
/// class with `sigma_k >= 1` (its queue grows without bound).
pub fn mm1_nonpreemptive(classes: &[PriorityClass]) -> Vec<Option<f64>> {
    let r_all: f64 = classes.iter().map(|c| c.lambda / (c.mu * c.mu)).sum();
    let mut sigma = 0.0;
    classes
        .iter()
        .map(|c| {
            let before = sigma;
            sigma += c.lambda / c.mu;
            (sigma < 1.0).then(|| r_all / ((1.0 - before) * (1.0 - sigma)) + 1.0 / c.mu)
        })
        .collect()
}

/// Mean response time (wait + service), in seconds, of each class of an
/// M/M/1 preemptive-resume priority queue; classes highest first. `None`
/// for a class with `sigma_k >= 1`.
pub fn mm1_preemptive_resume(classes: &[PriorityClass]) -> Vec<Option<f64>> {
    let (mut sigma, mut r) = (0.0, 0.0);
    classes
        .iter()
        .map(|c| {
            let before = sigma;
            sigma += c.lambda / c.mu;
            r += c.lambda / (c.mu * c.mu);
            (sigma < 1.0)
                .then(|| (1.0 / c.mu) / (1.0 - before) + r / ((1.0 - before) * (1.0 - sigma)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> [PriorityClass; 2] {
        [
            PriorityClass {
                lambda: 300.0,
                mu: 1000.0,
            },
            PriorityClass {
                lambda: 500.0,
                mu: 1000.0,
            },
        ]
    }

    /// One class is plain M/M/1: T = 1 / (mu - lambda).
    #[test]
    fn one_class_is_mm1() {
        let one = [PriorityClass {
            lambda: 800.0,
            mu: 1000.0,
        }];
        for t in [mm1_nonpreemptive(&one)[0], mm1_preemptive_resume(&one)[0]] {
            assert!((t.unwrap() - 1.0 / 200.0).abs() < 1e-15);
        }
    }

    /// Kleinrock's conservation law: with equal exponential service, the
    /// rate-weighted mean response over classes is the FIFO M/M/1 mean,
    /// 1 / (mu - lambda) = 5 ms here, under either discipline.
    #[test]
    fn conservation_law() {
        let c = classes();
        for t in [mm1_nonpreemptive(&c), mm1_preemptive_resume(&c)] {
            let mean = (300.0 * t[0].unwrap() + 500.0 * t[1].unwrap()) / 800.0;
            assert!((mean - 0.005).abs() < 1e-15, "{mean}");
        }
    }

    /// Preemptive: the top class does not see the others (M/M/1 at 300/s,
    /// 1/700 s); non-preemptive by hand: W0 = 0.8 ms, T1 = 0.8/0.7 + 1 =
    /// 2.142857 ms, T2 = 0.8/(0.7 x 0.2) + 1 = 6.714286 ms.
    #[test]
    fn two_classes_by_hand() {
        let c = classes();
        let p = mm1_preemptive_resume(&c);
        assert!((p[0].unwrap() - 1.0 / 700.0).abs() < 1e-15);
        let n = mm1_nonpreemptive(&c);
        assert!((n[0].unwrap() * 1e3 - (0.8 / 0.7 + 1.0)).abs() < 1e-12);
        assert!((n[1].unwrap() * 1e3 - (0.8 / 0.14 + 1.0)).abs() < 1e-12);
    }

    /// A class beyond the remaining capacity has no finite mean.
    #[test]
    fn overloaded_class_is_none() {
        let c = [
            PriorityClass {
                lambda: 600.0,
                mu: 1000.0,
            },
            PriorityClass {
                lambda: 500.0,
                mu: 1000.0,
            },
        ];
        assert!(mm1_nonpreemptive(&c)[1].is_none());
        assert!(mm1_preemptive_resume(&c)[0].is_some());
    }
}
