//! The LLM mode's chunked scheduler through the engine: a request alone
//! against the iteration-cost formula, the TPOT tail of chunked vs
//! prefill-first at the same cost and load, and KV pressure (preemptions).
//! Every run has a fixed seed, so each is deterministic.

mod common;

use common::*;
use sysdes_models::*;

fn tokens(n: u64) -> Distribution {
    constant_ns(n)
}

/// A chunked server: `budget` tokens per iteration, 128 sequences, blocks
/// of 16, `blocks` of them, the given cost.
fn chunked(
    budget: u32,
    blocks: Option<u32>,
    cost: IterationCost,
    p: Distribution,
    n: Distribution,
) -> LlmServerSpec {
    chunked_llm(chunked_scheduler(budget, blocks, cost), p, n)
}

/// One user in a closed loop: one request at a time. Prompt P = 1000
/// (within the budget of 2048: one prefill iteration), N = 5 tokens.
/// TTFT = floor + per_token P + pair P^2 = 10 ms + 10 ms + 1 ms = 21 ms;
/// decode step k (k = 1..4) has context P + k: floor + per_token +
/// ctx (P + k) = 10 ms + 10 us + 0.1 us (1000 + k), so
/// TPOT = 10.01 ms + 0.1 us (1000 + 2.5) = 10.11025 ms, exactly (integer ns
/// per step, no rounding: every term is whole nanoseconds).
#[test]
fn a_request_alone_follows_the_cost_formula() {
    let cost = IterationCost::affine(ms(10), 10_000_000, 100_000, 1_000);
    let r = run(&llm_system(
        closed(1),
        chunked(2048, None, cost, tokens(1000), tokens(5)),
        60,
    ));
    assert!(r.requests.completed > 900, "{}", r.requests.completed);
    close("TTFT (ms)", extra(&r, "ttft_mean_ms"), 21.0, 1e-9);
    close("TPOT (ms)", extra(&r, "tpot_mean_ms"), 10.110_25, 1e-9);
    close(
        "end to end (ms)",
        r.latency.mean_ns() / 1e6,
        21.0 + 4.0 * 10.110_25,
        1e-9,
    );
    assert_eq!(extra(&r, "preemptions"), 0.0);
}

/// The scenario `llm-chunked-vs-prefill.yaml` in code: the same affine
/// cost (10 ms + 30 us per token, no attention terms) and load (6/s,
/// prompts lognormal median 1000, sigma 0.8, outputs exponential 250).
/// Under chunked with a budget of 512 no iteration lasts longer than
/// 10 ms + 512 x 30 us = 25.36 ms, so no request's TPOT (a mean of its
/// iterations) can exceed it (bound exact up to the histogram's bucket,
/// 0.1 %); prefill-first has no such bound and its p99 is well above it.
#[test]
fn chunked_bounds_the_tpot_tail_that_prefill_first_does_not() {
    let cost = IterationCost::affine(ms(10), 30_000_000, 0, 0);
    let p = Distribution::LogNormal {
        median_ns: 1000.0,
        sigma: 0.8,
    };
    let n = Distribution::Exponential { mean_ns: 250.0 };
    let c = run(&llm_system(
        poisson(6.0),
        chunked(512, None, cost.clone(), p.clone(), n.clone()),
        600,
    ));
    let mut pf = chunked(512, None, cost, p, n);
    pf.scheduler = LlmScheduler::PrefillFirst;
    let f = run(&llm_system(poisson(6.0), pf, 600));
    let bound = 10.0 + 512.0 * 0.030;
    let (c99, f99) = (extra(&c, "tpot_p99_ms"), extra(&f, "tpot_p99_ms"));
    println!("TPOT p99: chunked {c99:.2} ms, prefill-first {f99:.2} ms, bound {bound:.2} ms");
    assert!(c99 <= bound * 1.001, "chunked TPOT p99 {c99} above {bound}");
    assert!(
        f99 > bound * 1.1,
        "prefill-first TPOT p99 {f99} should exceed {bound} by 10 %"
    );
    // Both serve the offered load (same seed, same draws): output tokens
    // per second agree within 1 %.
    close(
        "output tokens/s",
        extra(&c, "output_tokens_per_s"),
        extra(&f, "output_tokens_per_s"),
        0.01,
    );
}

/// The scenario `llm-kv-pressure.yaml` in code: 2600 blocks of 16 tokens
/// are too few for the batch at 3/s (prompts median 800, outputs mean 500):
/// sequences are preempted and the cache stays nearly full; 100,000 blocks
/// never preempt and are mostly free.
#[test]
fn kv_pressure_preempts_and_a_big_cache_does_not() {
    let cost = IterationCost::affine(ms(14), 9_900_000, 131_000, 1);
    let p = Distribution::LogNormal {
        median_ns: 800.0,
        sigma: 0.7,
    };
    let n = Distribution::Exponential { mean_ns: 500.0 };
    let small = run(&llm_system(
        poisson(3.0),
        chunked(2048, Some(2600), cost.clone(), p.clone(), n.clone()),
        300,
    ));
    let big = run(&llm_system(
        poisson(3.0),
        chunked(2048, Some(100_000), cost, p, n),
        300,
    ));
    assert!(extra(&small, "preemptions") > 100.0);
    assert!(extra(&small, "kv_utilization") > 0.9);
    assert_eq!(extra(&big, "preemptions"), 0.0);
    assert!(extra(&big, "kv_utilization") < 0.1);
    assert!(extra(&small, "tpot_p99_ms") > extra(&big, "tpot_p99_ms"));
}

/// The same KV pressure (2600 blocks) with the memory policies of
/// `docs/llm-serving.md`: the `gpu.kv_utilization` series samples the
/// blocks in use at each tick and averages to the time-average figure;
/// swap preemption (128 KiB per token at 32 GB/s, 4 GiB of swap) swaps
/// every victim out and back in (no recompute while the space lasts) and
/// reports the bytes; a watermark of 5 % (130 blocks) admits less and so
/// preempts far less (the scenario's run: 943 without, 35 with).
#[test]
fn kv_series_swap_and_watermark_under_pressure() {
    let cost = IterationCost::affine(ms(14), 9_900_000, 131_000, 1);
    let p = Distribution::LogNormal {
        median_ns: 800.0,
        sigma: 0.7,
    };
    let n = Distribution::Exponential { mean_ns: 500.0 };
    let with = |f: &dyn Fn(&mut ChunkedSpec)| {
        let mut m = chunked(2048, Some(2600), cost.clone(), p.clone(), n.clone());
        if let LlmScheduler::Chunked(c) = &mut m.scheduler {
            f(c);
        }
        run(&llm_system(poisson(3.0), m, 300))
    };
    let plain = with(&|_| {});
    let series = &plain.series;
    let column = series
        .gauge_names
        .iter()
        .position(|n| n == "gpu.kv_utilization")
        .expect("a kv_utilization gauge");
    let samples: Vec<f64> = series.points.iter().map(|p| p.gauges[column]).collect();
    assert!(samples.iter().all(|&u| (0.0..=1.0).contains(&u)));
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    // Instant samples against the exact time average (warmup included in
    // the series, so a looser band than the sampling error alone).
    close(
        "mean sampled kv_utilization",
        mean,
        extra(&plain, "kv_utilization"),
        0.05,
    );
    let swap = with(&|c| {
        c.swap = Some(SwapSpec {
            ps_per_block: 65_536_000,
            bytes_per_block: 2_097_152,
            cpu_blocks: 2048,
        });
    });
    let (out, back) = (extra(&swap, "swaps_out"), extra(&swap, "swaps_in"));
    assert!(out > 100.0, "{out}");
    assert_eq!(extra(&swap, "preemptions"), out, "every victim swapped");
    // Those swapped out near the window's end may still be out.
    assert!(back <= out && back >= out - 5.0, "{back} of {out}");
    let bytes = extra(&swap, "swapped_bytes");
    assert_eq!(bytes % 2_097_152.0, 0.0, "whole blocks");
    assert!(
        bytes >= (out + back) * 2_097_152.0,
        "at least a block a copy"
    );
    let wm = with(&|c| c.watermark_blocks = 130);
    assert!(
        extra(&wm, "preemptions") * 4.0 < extra(&plain, "preemptions"),
        "{} vs {}",
        extra(&wm, "preemptions"),
        extra(&plain, "preemptions")
    );
    assert!(plain.series.gauge_names.len() == swap.series.gauge_names.len());
}
