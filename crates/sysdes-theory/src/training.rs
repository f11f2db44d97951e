//! Theory for `type: training_job`: the expected synchronous step time
//! (the expected maximum of the workers' compute times, plus the ring
//! all-reduce) and checkpointing under failures (Young's and Daly's
//! optimal interval, Daly's expected goodput).
//!
//! Checked against the simulator in `sysdes-models/tests/training_job.rs`;
//! the measured errors are in `docs/validation.md`.

use sysdes_models::{Distribution, TrainingJobSpec};

use crate::calls::cdf;
use crate::portable::Portable;

/// The expected largest of `n` independent draws from `d`, seconds:
/// `E[max] = integral over t >= 0 of 1 - F(t)^n` (draws are nonnegative),
/// by Simpson's rule up to where `1 - F(t)^n` is below 1e-12. For
/// exponential draws of mean `m` this is `m * H_n` (see
/// [`crate::harmonic`]); for `uniform [a, b]`, `a + (b - a) n / (n + 1)`.
pub fn expected_max_s(n: u32, d: &Distribution) -> f64 {
    let tail = |t: f64| 1.0 - cdf(d, t).powi(n as i32);
    // Far enough out: double until the tail is negligible.
    let mut upper = (d.mean_ns() / 1e9).max(1e-9);
    while tail(upper) > 1e-12 && upper < 1e9 {
        upper *= 2.0;
    }
    let pieces = 200_000u32;
    let h = upper / f64::from(pieces);
    let mut sum = tail(0.0) + tail(upper);
    for i in 1..pieces {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * tail(f64::from(i) * h);
    }
    sum * h / 3.0
}

/// The expected step time of `job`, seconds: the expected slowest worker
/// plus the all-reduce (exact for i.i.d. compute times).
pub fn expected_step_s(job: &TrainingJobSpec) -> f64 {
    let all_reduce = job
        .all_reduce
        .map_or(0.0, |a| a.time(job.workers).as_secs_f64());
    expected_max_s(job.workers, &job.compute_time) + all_reduce
}

/// Expected goodput (useful time over wall time) with `tau_s` of work
/// between checkpoints costing `delta_s`, exponential job failures of mean
/// `mtbf_s` (every phase can fail) and restarts of `restart_s` (a failure
/// during a restart starts it over):
/// `tau / (M e^{R/M} (e^{(tau + delta)/M} - 1))`, Daly's model (Future Generation Computer Systems 22(3), 2006),
/// exact for this failure process when `tau` is fixed.
pub fn daly_goodput(tau_s: f64, delta_s: f64, mtbf_s: f64, restart_s: f64) -> f64 {
    let m = mtbf_s;
    tau_s / (m * (restart_s / m).libm_exp() * ((tau_s + delta_s) / m).libm_exp_m1())
}

/// Young's optimal work between checkpoints, `sqrt(2 * cost * MTBF)`, with
/// the job-level MTBF (Young, CACM 17(9), 1974).
pub fn young_interval_s(cost_s: f64, job_mtbf_s: f64) -> f64 {
    (2.0 * cost_s * job_mtbf_s).sqrt()
}

/// Daly's higher-order optimum, `sqrt(2 d M) (1 + sqrt(d / 2M) / 3 + d /
/// 18M) - d` for `d < 2M`, else `M`.
pub fn daly_interval_s(cost_s: f64, job_mtbf_s: f64) -> f64 {
    let (d, m) = (cost_s, job_mtbf_s);
    if d >= 2.0 * m {
        return m;
    }
    (2.0 * d * m).sqrt() * (1.0 + (d / (2.0 * m)).sqrt() / 3.0 + d / (18.0 * m)) - d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonic;

    #[test]
    fn expected_max_matches_closed_forms() {
        let exp = Distribution::Exponential { mean_ns: 1e8 };
        let e = expected_max_s(8, &exp);
        assert!((e / (0.1 * harmonic(8)) - 1.0).abs() < 1e-6, "{e}");
        let uni = Distribution::Uniform {
            low_ns: 5e7,
            high_ns: 1.5e8,
        };
        let u = expected_max_s(4, &uni);
        assert!((u - (0.05 + 0.1 * 4.0 / 5.0)).abs() < 1e-6, "{u}");
        assert!((expected_max_s(1, &exp) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn daly_goodput_limits_and_optimum() {
        // No failures: tau / (tau + delta).
        let g = daly_goodput(90.0, 10.0, 1e12, 5.0);
        assert!((g - 0.9).abs() < 1e-6, "{g}");
        assert!((young_interval_s(50.0, 3600.0) - 600.0).abs() < 1e-9);
        // Daly's interval is near the goodput's maximum.
        let (d, m, r) = (30.0, 3600.0, 60.0);
        let best = daly_interval_s(d, m);
        let g_best = daly_goodput(best, d, m, r);
        for tau in [0.5 * best, 0.8 * best, 1.25 * best, 2.0 * best] {
            assert!(daly_goodput(tau, d, m, r) < g_best + 1e-4, "{tau}");
        }
    }
}
