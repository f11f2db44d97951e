//! The model server's LLM mode (continuous batching of prefill and decode
//! iterations) against closed forms. Each test names its formula beside its
//! tolerance; every run has a fixed seed, so each is deterministic.
//!
//! Unless stated: prefill `10 ms + 0.05 ms per prompt token`, decode step
//! `4.5 ms + 0.5 ms per running sequence`, prompts of 100 tokens, 10 output
//! tokens. So prefill(100) = 15 ms and decode(1) = 5 ms; the first token
//! comes with the prefill, and a request alone on a slot takes
//! D = prefill(P) + (N - 1) decode(1) = 15 + 9 x 5 = 60 ms.

mod common;

use common::*;
use sysdes_kernel::SimDuration;
use sysdes_models::*;
use sysdes_theory::formulas::pk_mean_wait;

/// A token-count distribution (nanoseconds read as tokens).
fn tokens(n: u64) -> Distribution {
    constant_ns(n)
}

fn llm(max_batch: u32, prefill_base_us: u64) -> LlmServerSpec {
    LlmServerSpec {
        slots: 1,
        max_batch,
        prefill: PrefillTime {
            base: us(prefill_base_us),
            per_token: us(50),
        },
        decode_step: DecodeTime {
            base: us(4_500),
            per_sequence: us(500),
        },
        prompt_tokens: tokens(100),
        output_tokens: tokens(10),
        kv_cache_tokens: None,
        queue_capacity: None,
        cold_start: None,
        scheduler: LlmScheduler::PrefillFirst,
        prefix: None,
        role: LlmRole::Colocated,
    }
}

/// Max batch 1 with constant lengths is M/D/1 with
/// D = prefill(P) + (N - 1) decode(1) = 60 ms (the prefill gives the first
/// token). Pollaczek-Khinchine: T = D + rho D / (2 (1 - rho)); TTFT =
/// W_q + prefill(P); TPOT = decode(1) = 5 ms for every request. At rho 0.5
/// and 0.8, about 3 x 10^5 requests each. Tolerance on means: 2 % at
/// rho 0.5, 3 % at rho 0.8 (validation.md, M/D/1: 2 % with 10^6 requests;
/// the error grows like 1 / (1 - rho)). TPOT exact (1e-9).
#[test]
fn max_batch_one_is_md1() {
    let d = 0.060;
    for (rho, seconds, tol) in [(0.5, 36_000, 0.02), (0.8, 24_000, 0.03)] {
        let lambda = rho / d;
        let r = run(&llm_system(poisson(lambda), llm(1, 10_000), seconds));
        assert!(r.requests.completed > 250_000, "{}", r.requests.completed);
        let wq = rho * d / (2.0 * (1.0 - rho));
        close(
            &format!("M/D/1 mean T at rho {rho} (ms)"),
            r.latency.mean_ns() / MS,
            (wq + d) * 1e3,
            tol,
        );
        close(
            &format!("TTFT = W_q + prefill(P) at rho {rho} (ms)"),
            extra(&r, "ttft_mean_ms"),
            (wq + 0.015) * 1e3,
            tol,
        );
        close(
            "TPOT = decode(1) (ms)",
            extra(&r, "tpot_mean_ms"),
            5.0,
            1e-9,
        );
        close("TPOT p99 (ms)", extra(&r, "tpot_p99_ms"), 5.0, 1e-3);
        close(
            "slot utilization = rho",
            r.components[0].utilization,
            rho,
            0.01,
        );
    }
}

/// The moments of N = max(1, round(X)) for X exponential with mean `m`
/// (the sampler rounds to the nearest whole token, at least 1):
/// (E[N - 1], E[(N - 1)^2]).
fn rounded_exponential_moments(m: f64) -> (f64, f64) {
    let cdf = |x: f64| 1.0 - (-x / m).exp();
    let (mut e1, mut e2) = (0.0, 0.0);
    for n in 2..20_000u32 {
        let n = f64::from(n);
        let p = cdf(n + 0.5) - cdf(n - 0.5);
        e1 += p * (n - 1.0);
        e2 += p * (n - 1.0) * (n - 1.0);
    }
    (e1, e2)
}

/// Max batch 1 with exponential output lengths (mean 20 tokens) is M/G/1
/// with S = prefill(P) + (N - 1) decode(1). Pollaczek-Khinchine:
/// W_q = lambda E[S^2] / (2 (1 - rho)), with E[S] = a + d E[N - 1] and
/// E[S^2] = a^2 + 2 a d E[N - 1] + d^2 E[(N - 1)^2] (a = 15 ms, d = 5 ms;
/// c_s^2 about 0.7). rho 0.7, about 5 x 10^5 requests. Tolerance 4 % on the
/// mean (validation.md, M/G/1: 6 % at rho 0.8 with c_s^2 = 4), same on the
/// TTFT = W_q + a; the measured mean output length within 0.5 %.
#[test]
fn max_batch_one_exponential_output_is_mg1() {
    let (a, d) = (0.015, 0.005);
    let (e1, e2) = rounded_exponential_moments(20.0);
    let es = a + d * e1;
    let es2 = a * a + 2.0 * a * d * e1 + d * d * e2;
    let lambda = 0.7 / es;
    let mut m = llm(1, 10_000);
    m.output_tokens = Distribution::Exponential { mean_ns: 20.0 };
    let r = run(&llm_system(poisson(lambda), m, 90_000));
    assert!(r.requests.completed > 400_000);
    let wq = pk_mean_wait(lambda, es, es2);
    close(
        "mean output tokens",
        extra(&r, "mean_output_tokens"),
        1.0 + e1,
        0.005,
    );
    close(
        "M/G/1 mean T (ms)",
        r.latency.mean_ns() / MS,
        (wq + es) * 1e3,
        0.04,
    );
    close(
        "TTFT = W_q + prefill (ms)",
        extra(&r, "ttft_mean_ms"),
        (wq + a) * 1e3,
        0.04,
    );
    close(
        "TPOT = decode(1) (ms)",
        extra(&r, "tpot_mean_ms"),
        5.0,
        1e-9,
    );
}

/// Saturation, constant lengths, one cohort: a cold start lets all 4 B
/// users of a closed loop (no think time) queue before the first
/// iteration, so B start together, finish together after one prefill and
/// N - 1 full decode steps, and B more take their place. Output tokens per
/// second = B N / (prefill(B P) + (N - 1) decode(B)): B = 16, N = 10:
/// 160 / (10 + 80 + 9 x 12.5 ms) = 790.1/s. Tolerance 1 % (the window cuts
/// cycles at its ends).
#[test]
fn saturation_throughput_closed_form() {
    let b = 16;
    let mut m = llm(b, 10_000);
    m.cold_start = Some(Distribution::Constant(SimDuration::from_secs(1)));
    let spec = llm_system(closed(4 * b), m.clone(), 500);
    let r = run(&spec);
    let cycle: f64 = 0.010 + 0.000_05 * 16.0 * 100.0 + 9.0 * (0.0045 + 0.0005 * 16.0);
    let expected = 16.0 * 10.0 / cycle;
    assert!((expected - 790.12).abs() < 0.01, "{expected}");
    close(
        "saturated output tokens/s",
        extra(&r, "output_tokens_per_s"),
        expected,
        0.01,
    );
    close(
        "saturated requests/s",
        r.throughput_rps(),
        expected / 10.0,
        0.01,
    );
    close(
        "capacity_tokens_per_s is the closed form",
        extra(&r, "capacity_tokens_per_s"),
        expected,
        1e-9,
    );
    close(
        "mean running batch",
        extra(&r, "mean_running_batch"),
        16.0,
        1e-9,
    );
    close(
        "mean prefill batch",
        extra(&r, "mean_prefill_batch"),
        16.0,
        1e-9,
    );
}

/// Saturation without a common start (an overloaded open loop, 3x the
/// capacity, bounded queue): batches stay full, but arrivals split the
/// sequences into cohorts that each pay the prefill's base. Per request
/// the slot spends prefill.base / k + per_token P + (N - 1) decode(B) / B,
/// k the mean prefill batch (measured), so requests/s is the inverse.
/// Tolerance 1 %. It lies between the one-cohort closed form (k = B) and
/// k = 1.
#[test]
fn overloaded_open_loop_with_bounded_queue() {
    let b = 16;
    let mut m = llm(b, 10_000);
    m.queue_capacity = Some(200);
    let r = run(&llm_system(poisson(240.0), m, 500));
    assert!(r.requests.dropped > 0);
    let k = extra(&r, "mean_prefill_batch");
    let per_request = |k: f64| 0.010 / k + 0.000_05 * 100.0 + 9.0 * 0.0125 / 16.0;
    close(
        "overloaded requests/s",
        r.throughput_rps(),
        1.0 / per_request(k),
        0.01,
    );
    close(
        "mean running batch",
        extra(&r, "mean_running_batch"),
        16.0,
        1e-9,
    );
    let x = r.throughput_rps();
    assert!(
        x <= 1.0 / per_request(16.0) * 1.01 && x >= 1.0 / per_request(1.0) * 0.99,
        "{x}"
    );
}

/// Two cohorts of B: 2 B users, max_batch B, no think time, constant
/// lengths, and a cold start so the first B start together. The batch
/// always holds one cohort of exactly B; while it runs the other cohort
/// waits in the queue, and it is admitted whole at the iteration boundary
/// where the first finishes. One cohort's service is
/// C = prefill(B P) + (N - 1) decode(B) = 50 + 9 x 8.5 = 126.5 ms, so
/// TPOT = decode(B) = 8.5 ms, TTFT = C + prefill(B P) = 176.5 ms and
/// T = 2 C = 253 ms, all exact (1e-6); Little's law L = lambda W = 2 B = 16
/// with lambda = B / C (0.5 %: the window cuts cycles at its ends).
#[test]
fn constant_batch_gives_exact_tpot_and_littles_law() {
    let b = 8;
    let mut m = llm(b, 10_000);
    m.cold_start = Some(Distribution::Constant(SimDuration::from_secs(1)));
    let r = run(&llm_system(closed(2 * b), m, 200));
    close(
        "TPOT = decode(B) (ms)",
        extra(&r, "tpot_mean_ms"),
        8.5,
        1e-6,
    );
    close(
        "TTFT = C + prefill(B P) (ms)",
        extra(&r, "ttft_mean_ms"),
        176.5,
        1e-6,
    );
    close("T = 2 C (ms)", r.latency.mean_ns() / MS, 253.0, 1e-6);
    close(
        "mean running batch",
        extra(&r, "mean_running_batch"),
        8.0,
        1e-9,
    );
    let c = &r.components[0];
    close(
        "lambda = B / C",
        c.throughput_rps(r.window_s()),
        8.0 / 0.1265,
        0.005,
    );
    let lambda_w = c.throughput_rps(r.window_s()) * c.latency.mean_ns() / 1e9;
    close("Little's law: lambda W = 2 B", lambda_w, 16.0, 0.005);
    close("Little's law: L = 2 B", c.mean_in_system, 16.0, 0.005);
}

/// Little's law at the server with real continuous batching (Poisson
/// arrivals at 60 % of the saturated capacity, exponential output lengths,
/// B = 8): time-average number inside = throughput x mean time inside.
/// Tolerance 0.5 % (validation.md). TTFT is at most the latency, TPOT at
/// least decode(1) and at most a full-batch step plus prefills.
#[test]
fn littles_law_with_continuous_batching() {
    let mut m = llm(8, 10_000);
    m.output_tokens = Distribution::Exponential { mean_ns: 20.0 };
    let lambda = 0.6 * m.saturated_rps();
    let r = run(&llm_system(poisson(lambda), m, 2_000));
    let c = &r.components[0];
    let lambda_w = c.throughput_rps(r.window_s()) * c.latency.mean_ns() / 1e9;
    close(
        "Little's law L vs lambda W",
        c.mean_in_system,
        lambda_w,
        0.005,
    );
    let b = extra(&r, "mean_running_batch");
    assert!(b > 1.5 && b < 8.0, "mean running batch {b}");
    let tpot = extra(&r, "tpot_mean_ms");
    assert!(tpot > 5.0 && tpot < 30.0, "TPOT {tpot}");
    assert!(extra(&r, "ttft_mean_ms") < c.latency.mean_ns() / MS);
}

/// Bigger batches trade TPOT for throughput: at the same load, max_batch 16
/// has a higher TPOT than max_batch 1 ... and a far higher capacity.
#[test]
fn batching_raises_capacity_and_tpot() {
    let one = llm(1, 10_000);
    let many = llm(16, 10_000);
    assert!(many.saturated_rps() > 4.0 * one.saturated_rps());
    let r1 = run(&llm_system(poisson(12.0), one, 2_000));
    let r16 = run(&llm_system(poisson(12.0), many, 2_000));
    assert!(extra(&r16, "tpot_mean_ms") > extra(&r1, "tpot_mean_ms"));
    assert!(r16.latency.mean_ns() < r1.latency.mean_ns());
}

/// Same seed, same result; another seed, another.
#[test]
fn deterministic() {
    let mut m = llm(8, 10_000);
    m.slots = 2;
    m.output_tokens = Distribution::Exponential { mean_ns: 50.0 };
    m.prompt_tokens = Distribution::Uniform {
        low_ns: 10.0,
        high_ns: 500.0,
    };
    m.kv_cache_tokens = Some(2_000);
    let spec = llm_system(poisson(40.0), m, 200);
    assert_deterministic(&spec);
}

/// Conservation: every request ends exactly once, also when the client
/// times out (the server still finishes the work and its late answer is
/// dropped), and the server's own books balance: every counted arrival
/// completes or is dropped. A KV cache too small for the longest requests
/// drops them at arrival.
#[test]
fn conservation_with_timeouts_and_kv_drops() {
    let mut m = llm(8, 10_000);
    m.output_tokens = Distribution::Exponential { mean_ns: 50.0 };
    m.kv_cache_tokens = Some(400);
    let mut spec = llm_system(poisson(5.0), m, 2_000);
    spec.workloads[0].timeout = Some(SimDuration::from_millis(300));
    let r = run(&spec);
    assert!(r.requests.timed_out > 0, "{:?}", r.requests);
    assert!(r.requests.dropped > 0, "{:?}", r.requests);
    let c = &r.components[0];
    assert_eq!(c.arrivals, c.completions + c.drops);
    assert_eq!(r.requests.in_flight, 0);
}

/// A trace record's `prompt_tokens` and `output_tokens` replace the
/// server's draws for that request. Three requests 1 s apart (each alone
/// on the server): (200, 5), (40, 1), and a record with neither (the
/// server draws its own: 100 prompt, 3 output tokens). Alone, TTFT = prefill(P) = 10 ms + 0.05 ms x P and the latency
/// is TTFT + (N - 1) x decode(1) = TTFT + (N - 1) x 5 ms: TTFTs 20, 12,
/// 15 ms; latencies 40, 12, 25 ms; decode steps 4 + 0 + 2; mean output
/// tokens (5 + 1 + 3) / 3 = 3. All exact.
#[test]
fn a_traces_token_counts_replace_the_servers_draws() {
    use std::sync::Arc;
    let rec = |s: u64, prompt: Option<u32>, output: Option<u32>| TraceRecord {
        at: SimDuration::from_secs(s),
        prompt_tokens: prompt,
        output_tokens: output,
        ..TraceRecord::default()
    };
    let records = vec![
        rec(1, Some(200), Some(5)),
        rec(2, Some(40), Some(1)),
        rec(3, None, None),
    ];
    let arrival = ArrivalSpec::Trace(TraceSpec {
        source: "test".into(),
        records: Arc::from(records),
        speed: 1.0,
    });
    let mut m = llm(1, 10_000);
    m.output_tokens = tokens(3);
    let r = run(&llm_system(arrival, m, 5));
    println!(
        "trace tokens: {} completed, latency {} ns, TTFT {} ms, mean output {} tokens, {} decode steps",
        r.requests.completed,
        r.latency.mean_ns(),
        extra(&r, "ttft_mean_ms"),
        extra(&r, "mean_output_tokens"),
        extra(&r, "decode_steps")
    );
    assert_eq!(r.requests.completed, 3);
    assert!((r.latency.mean_ns() - 77e6 / 3.0).abs() < 1e-3);
    assert!((extra(&r, "ttft_mean_ms") - 47.0 / 3.0).abs() < 1e-9);
    assert_eq!(extra(&r, "mean_output_tokens"), 3.0);
    assert_eq!(extra(&r, "decode_steps"), 6.0);
}
