//! The batching model server against theory (`shared/validation.md`,
//! "Batching model servers") and against the plain server it reduces to.
//!
//! Batch time `a + c b` with a = 5 ms, c = 1 ms unless stated. Each test
//! names its formula beside its tolerance; runs have 10^5 to 10^6 measured
//! requests and a fixed seed, so each is deterministic.

mod common;

use common::*;
use sysdes_kernel::SimDuration;
use sysdes_models::*;
use sysdes_theory::batching::{batch_capacity, md1_sojourn_quantile, mdc_mean_sojourn};
use sysdes_theory::formulas::mmc_mean_sojourn;

fn affine(base_ms: u64, per_item_ms: u64) -> BatchTime {
    BatchTime::Affine {
        base: ms(base_ms),
        per_item: ms(per_item_ms),
    }
}

fn model(slots: u32, max_batch: u32, max_delay: SimDuration, time: BatchTime) -> ModelServerSpec {
    ModelServerSpec {
        slots,
        batching: BatchingSpec {
            max_batch,
            max_delay,
        },
        batch_time: time,
        jitter: None,
        queue_capacity: None,
        cold_start: None,
    }
}

/// One workload into one model server `gpu`, seed 42, warm-up 2 % of the run.
fn system(arrival: ArrivalSpec, m: ModelServerSpec, duration_s: u64) -> ModelSpec {
    single_component(
        "model-server",
        arrival,
        component("gpu", ComponentKind::ModelServer(m)),
        duration_s,
    )
}

/// Saturated, every batch is full: throughput B / (a + c B), 864.9/s at
/// B = 32 and 166.7/s at B = 1 (validation.md). Closed loop with 4 B users and
/// no think time keeps at least 3 B waiting. Tolerance 1 %.
#[test]
fn saturated_closed_loop_reaches_batch_capacity() {
    for (b, expected) in [(32, 864.9), (1, 166.7)] {
        assert!((batch_capacity(0.005, 0.001, b) - expected).abs() < 0.05);
        let r = run(&system(
            closed(4 * b),
            model(1, b, ms(5), affine(5, 1)),
            200,
        ));
        close(
            &format!("saturated throughput B = {b}"),
            r.throughput_rps(),
            batch_capacity(0.005, 0.001, b),
            0.01,
        );
        close(
            &format!("mean batch size B = {b}"),
            extra(&r, "mean_batch_size"),
            f64::from(b),
            1e-9,
        );
        close("slot utilization", r.components[0].utilization, 1.0, 0.001);
    }
}

/// Open loop far above capacity (2,000/s against 864.9/s) with a bounded
/// queue: the server completes B / (a + c B) and drops the rest.
/// Tolerance 1 %.
#[test]
fn overloaded_open_loop_with_bounded_queue() {
    let mut m = model(1, 32, ms(5), affine(5, 1));
    m.queue_capacity = Some(256);
    let r = run(&system(poisson(2_000.0), m, 500));
    close(
        "overloaded throughput",
        r.throughput_rps(),
        batch_capacity(0.005, 0.001, 32),
        0.01,
    );
    assert!(r.requests.dropped > 0);
    close("mean batch size", extra(&r, "mean_batch_size"), 32.0, 0.001);
}

/// A table that matches the affine law at its two rows gives the same
/// capacity (linear interpolation between, extrapolation beyond).
#[test]
fn table_batch_time_matches_affine() {
    let table = BatchTime::Table(vec![(1, ms(6)), (8, ms(13))]);
    // 32 is beyond the last row: 13 + 24 x 1 = 37 ms.
    let r = run(&system(closed(128), model(1, 32, ms(5), table), 200));
    close(
        "table saturated throughput",
        r.throughput_rps(),
        batch_capacity(0.005, 0.001, 32),
        0.01,
    );
}

/// Max batch 1 is M/D/1 with D = a + c = 6 ms. At 150/s (rho 0.9),
/// Pollaczek-Khinchine: T = D + rho D / (2 (1 - rho)) = 33.0 ms exactly.
/// Tolerance 2 % on the mean; 3 % on the p99 against the M/D/1
/// waiting-time distribution (Erlang's series, and its Cramer-Lundberg
/// asymptote beyond 20 D where the p99 of rho 0.9 lies: 137.4 ms;
/// validation.md, M/D/1 row; rho 0.9 is noisier than rho 0.8, hence
/// 2 x 10^6 requests).
#[test]
fn unbatched_is_md1() {
    let r = run(&system(
        poisson(150.0),
        model(1, 1, ms(5), affine(5, 1)),
        13_500,
    ));
    assert!(r.requests.completed > 1_900_000);
    let (lambda, d) = (150.0, 0.006);
    close("M/D/1 mean T (ms)", r.latency.mean_ns() / MS, 33.0, 0.02);
    let p99 = md1_sojourn_quantile(lambda, d, 0.99);
    close(
        "M/D/1 p99 T (ms)",
        r.latency.quantile_ns(0.99) as f64 / MS,
        p99 * 1e3,
        0.03,
    );
    close("mean compute (ms)", extra(&r, "mean_compute_ms"), 6.0, 1e-9);
    close(
        "mean queue delay (ms)",
        extra(&r, "mean_queue_delay_ms"),
        27.0,
        0.025,
    );
}

/// N slots with max batch 1 and a constant batch time are M/D/N. Mean
/// against the exact M/D/c mean (Crommelin's embedded chain, Little's law):
/// c = 4, D = 6 ms, rho 0.8. Tolerance 2 %.
#[test]
fn slots_are_mdc() {
    let lambda = 0.8 * 4.0 / 0.006;
    let r = run(&system(
        poisson(lambda),
        model(4, 1, SimDuration::ZERO, affine(5, 1)),
        2_000,
    ));
    close(
        "M/D/4 mean T (ms)",
        r.latency.mean_ns() / MS,
        mdc_mean_sojourn(4, lambda, 0.006) * 1e3,
        0.02,
    );
    close(
        "M/D/4 slot utilization",
        r.components[0].utilization,
        0.8,
        0.01,
    );
}

/// The same M/D/4 system built as a plain `server` with 4 workers and a
/// constant 6 ms service time sees the very same arrivals (same seed, same
/// workload name) and serves them FIFO the same way: identical latencies,
/// request for request.
#[test]
fn unbatched_model_server_equals_a_server() {
    let lambda = 0.8 * 4.0 / 0.006;
    let model_spec = system(
        poisson(lambda),
        model(4, 1, SimDuration::ZERO, affine(5, 1)),
        200,
    );
    let mut server_spec = model_spec.clone();
    server_spec.components[0].kind =
        ComponentKind::Server(ServerSpec::new(4, Distribution::Constant(ms(6))));
    let a = run(&model_spec);
    let b = run(&server_spec);
    assert_eq!(a.requests, b.requests);
    assert_eq!(a.latency.count(), b.latency.count());
    assert_eq!(a.latency.mean_ns(), b.latency.mean_ns());
    for q in [0.5, 0.9, 0.99, 0.999] {
        assert_eq!(a.latency.quantile_ns(q), b.latency.quantile_ns(q));
    }
    assert_eq!(a.latency.max_ns(), b.latency.max_ns());
}

/// With no fixed or per-item cost and an exponential jitter, each "batch"
/// of one is an exponential service: M/M/c, Erlang C. c = 4, mean 6 ms,
/// rho 0.8: tolerance 2.5 % (validation.md, M/M/c row).
#[test]
fn exponential_jitter_slots_are_mmc() {
    let mut m = model(4, 1, SimDuration::ZERO, affine(0, 0));
    m.jitter = Some(Distribution::Exponential { mean_ns: 6.0 * MS });
    let lambda = 0.8 * 4.0 / 0.006;
    let r = run(&system(poisson(lambda), m, 1_000));
    close(
        "M/M/4 mean T (ms)",
        r.latency.mean_ns() / MS,
        mmc_mean_sojourn(4, lambda, 1.0 / 0.006) * 1e3,
        0.025,
    );
}

/// Little's law at the component, with real batching (B = 32, max delay
/// 5 ms, 600/s): time-average number inside = throughput x mean time inside.
/// Tolerance 0.5 % (validation.md).
#[test]
fn littles_law_with_batching() {
    let r = run(&system(
        poisson(600.0),
        model(1, 32, ms(5), affine(5, 1)),
        1_000,
    ));
    let c = &r.components[0];
    let l = c.mean_in_system;
    let lambda_w = c.throughput_rps(r.window_s()) * c.latency.mean_ns() / 1e9;
    close("Little's law L vs lambda W", l, lambda_w, 0.005);
    // Queue delay + compute = time inside.
    close(
        "queue delay + compute = latency (ms)",
        extra(&r, "mean_queue_delay_ms") + extra(&r, "mean_compute_ms"),
        c.latency.mean_ns() / MS,
        1e-6,
    );
    let b = extra(&r, "mean_batch_size");
    assert!(b > 2.0 && b < 32.0, "mean batch size {b}");
}

/// Waiting longer fills batches: at the same load, the mean batch grows
/// with `max_delay` and so does the time spent queueing.
#[test]
fn longer_delay_larger_batches() {
    let at = |delay_ms| {
        run(&system(
            poisson(400.0),
            model(1, 32, ms(delay_ms), affine(5, 1)),
            200,
        ))
    };
    let (short, long) = (at(0), at(20));
    assert!(
        extra(&long, "mean_batch_size") > extra(&short, "mean_batch_size") + 1.0,
        "{} vs {}",
        extra(&long, "mean_batch_size"),
        extra(&short, "mean_batch_size")
    );
    assert!(extra(&long, "mean_queue_delay_ms") > extra(&short, "mean_queue_delay_ms"));
}

/// A cold start holds every batch back: with a 1 s model load and light
/// constant traffic, the first request waits the whole load, then each
/// takes D = 6 ms.
#[test]
fn cold_start_delays_the_first_batch() {
    let mut m = model(1, 1, SimDuration::ZERO, affine(5, 1));
    m.cold_start = Some(Distribution::Constant(SimDuration::from_secs(1)));
    let mut spec = system(ArrivalSpec::Constant { per_second: 10.0 }, m, 3);
    spec.warmup = SimDuration::ZERO;
    let r = run(&spec);
    let max_ms = r.latency.max_ns() as f64 / MS;
    assert!(
        (1_000.0..=1_006.5).contains(&max_ms),
        "max latency {max_ms} ms"
    );
    // HDR histogram: 3 significant digits.
    close(
        "median (ms)",
        r.latency.quantile_ns(0.5) as f64 / MS,
        6.0,
        0.001,
    );
    close(
        "cold start (ms)",
        extra(&r, "cold_start_ms"),
        1_000.0,
        1e-12,
    );
}

/// Same seed, same result; another seed, another.
#[test]
fn deterministic() {
    let mut m = model(2, 16, ms(3), affine(5, 1));
    m.jitter = Some(Distribution::Exponential { mean_ns: MS });
    let spec = system(poisson(900.0), m, 50);
    assert_deterministic(&spec);
}
