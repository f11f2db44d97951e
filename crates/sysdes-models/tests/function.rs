//! Serverless functions against exact renewal arguments (docs/validation.md,
//! "Serverless functions").
//!
//! With concurrency 1 and no queue, every admitted request starts a cycle:
//! the instance is busy for `b` (the service time, plus the cold start if
//! the instance was reclaimed), then idle until the next arrival. Arrivals
//! during `b` are throttled, and by memorylessness the gap from the end of
//! `b` to the next arrival is exponential with rate lambda whatever came
//! before. So, exactly:
//!
//! - P(cold start) = P(gap >= T) = exp(-lambda T), T the idle timeout;
//! - E[b] = s + c exp(-lambda T) (s service, c cold start, both constant);
//! - throttled fraction of arrivals = lambda E[b] / (1 + lambda E[b])
//!   (a cycle has one admitted arrival and lambda E[b] throttled ones);
//! - mean instances alive = (E[b] + (1 - exp(-lambda T)) / lambda) /
//!   (E[b] + 1 / lambda) (alive while busy and until min(gap, T)).
//!
//! Tolerances are four standard errors of a proportion (or of a renewal
//! ratio) over the run's cycles.

mod common;

use common::*;
use sysdes_models::*;

fn function(concurrency: u32, cold_ms: f64, service_ms: f64, idle_ms: u64) -> ComponentSpec {
    component(
        "fn",
        ComponentKind::Function(FunctionSpec {
            concurrency,
            service_time: constant_ms(service_ms),
            cold_start: constant_ms(cold_ms),
            idle_timeout: ms(idle_ms),
            memory_bytes: 1 << 30,
            queue_capacity: 0,
            billing_increment: ms(1),
        }),
    )
}

#[test]
fn cold_start_probability_is_exp_minus_lambda_t_with_one_instance() {
    let (lambda, t_s, s_ms, c_ms) = (2.0, 0.5, 20.0, 100.0);
    let spec = single_component(
        "fn-cold",
        poisson(lambda),
        function(1, c_ms, s_ms, 500),
        20_000,
    );
    let r = run(&spec);
    let started = extra(&r, "invocations");
    let cold = extra(&r, "cold_starts") / started;
    let p = (-lambda * t_s).exp();
    let tol = 4.0 * (p * (1.0 - p) / started).sqrt();
    println!("cold-start fraction {cold:.5} vs exp(-lambda T) {p:.5} (+-{tol:.5}, n {started})");
    assert!((cold - p).abs() <= tol, "cold {cold} vs {p} +- {tol}");

    let b_s = (s_ms + c_ms * p) / 1000.0;
    let throttled = extra(&r, "throttled") / r.components[0].arrivals as f64;
    let q = lambda * b_s / (1.0 + lambda * b_s);
    let tol_q = 4.0 * (q * (1.0 - q) / r.components[0].arrivals as f64).sqrt();
    println!("throttled fraction {throttled:.5} vs {q:.5} (+-{tol_q:.5})");
    assert!((throttled - q).abs() <= tol_q);

    let alive = (b_s + (1.0 - p) / lambda) / (b_s + 1.0 / lambda);
    close(
        "mean instances alive",
        extra(&r, "instances_mean"),
        alive,
        4.0 / started.sqrt(),
    );
    assert_eq!(extra(&r, "instances_peak"), 1.0);
    // Every counted invocation is answered or still counted as started.
    assert_eq!(
        r.components[0].completions as f64, started,
        "completions vs invocations"
    );
}

/// Without a limit that binds, nothing is throttled and every instance
/// started is a cold start; the billed duration is the exact sum of the
/// constant durations rounded up to the increment.
#[test]
fn billed_duration_is_the_exact_sum_of_rounded_invocations() {
    let spec = single_component(
        "fn-bill",
        poisson(50.0),
        function(1000, 250.4, 12.3, 60_000),
        600,
    );
    let r = run(&spec);
    let (n, cold) = (extra(&r, "invocations"), extra(&r, "cold_starts"));
    assert_eq!(extra(&r, "throttled"), 0.0);
    assert!(cold >= 1.0 && cold < n);
    // Warm: ceil(12.3 ms) = 13 ms; cold: ceil(262.7 ms) = 263 ms.
    assert_eq!(extra(&r, "billed_ms"), 13.0 * (n - cold) + 263.0 * cold);
    assert_eq!(
        extra(&r, "billed_gb_seconds"),
        extra(&r, "billed_ms") / 1000.0
    );
}
