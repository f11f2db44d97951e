//! Prefix caching under the chunked scheduler through the engine: a request
//! alone reusing its group's cached prefix against the iteration-cost
//! formula, the hit rate with a cache that keeps every prefix (only a
//! group's first request can miss) against one that must evict, and caching
//! off. Every run has a fixed seed, so each is deterministic.

mod common;

use common::*;
use sysdes_kernel::SimDuration;
use sysdes_models::*;

/// Floor 10 ms, 10 us per token, 0.1 us per decode context token, 1 ns per
/// prefill (query, key) pair.
const COST: IterationCost =
    IterationCost::affine(SimDuration::from_millis(10), 10_000_000, 100_000, 1_000);

/// A chunked server (budget 2048, blocks of 16, `blocks` of them) whose
/// prompts are a 1000-token prefix of one of `groups` groups followed by
/// 100 tokens of their own, with 5 output tokens.
fn server(groups: u32, blocks: Option<u32>, caching: bool) -> LlmServerSpec {
    let scheduler = ChunkedSpec {
        prefix_caching: caching,
        ..chunked_scheduler(2048, blocks, COST)
    };
    LlmServerSpec {
        prefix: Some(PrefixWorkload {
            tokens: 1000,
            groups,
            zipf: 0.0,
            from_key: false,
        }),
        ..chunked_llm(scheduler, constant_ns(100), constant_ns(5))
    }
}

/// One closed-loop user into the server (`llm_system`).
fn system(m: LlmServerSpec, duration_s: u64) -> ModelSpec {
    llm_system(closed(1), m, duration_s)
}

/// One user, one group: every request after the first (in the warm-up)
/// finds the prefix's full blocks cached, floor(1000 / 16) = 62 blocks =
/// 992 tokens, and prefills the other 1100 - 992 = 108 tokens attending to
/// all 1100: TTFT = 10 ms + 108 x 10 us + 108 x 1100 x 1 ns = 11.1988 ms
/// (without the cache: 10 ms + 11 ms + 1.21 ms = 22.21 ms). Decode step k
/// (k = 1..4) has context 1100 + k: TPOT = 10.01 ms + 0.1 us x 1102.5 =
/// 10.12025 ms. Hit rate 992 / 1100 exactly; 992 tokens saved per
/// admission.
#[test]
fn a_cached_prefix_skips_its_prefill_by_the_formula() {
    let r = run(&system(server(1, None, true), 60));
    let done = r.requests.completed as f64;
    assert!(done > 900.0, "{done}");
    close("TTFT (ms)", extra(&r, "ttft_mean_ms"), 11.1988, 1e-9);
    close("TPOT (ms)", extra(&r, "tpot_mean_ms"), 10.120_25, 1e-9);
    close(
        "hit rate",
        extra(&r, "prefix_hit_rate"),
        992.0 / 1100.0,
        1e-12,
    );
    let saved = extra(&r, "prefill_tokens_saved");
    assert_eq!(saved % 992.0, 0.0, "{saved}");
    // One admission per request; the window cuts at most one on each side.
    assert!((saved / 992.0 - done).abs() <= 1.0, "{saved} for {done}");
    let off = run(&system(server(1, None, false), 60));
    close("TTFT off (ms)", extra(&off, "ttft_mean_ms"), 22.21, 1e-9);
    let figures = &off.components[0];
    assert!(figures.figure("prefix_hit_rate").is_none());
    assert!(figures.figure("prefill_tokens_saved").is_none());
}

/// Twenty groups drawn uniformly, one request at a time. With a cache
/// large enough for every prefix only a group's first request misses, so
/// the hit rate lies in [992/1100 (1 - 20 / admissions), 992/1100]. With
/// 200 blocks (one request holds 70) about two prefixes fit beside it:
/// least-recently-used eviction keeps the hit rate far lower, and TTFT
/// higher.
#[test]
fn eviction_lowers_the_hit_rate_below_the_cold_miss_bound() {
    let big = run(&system(server(20, Some(100_000), true), 120));
    let small = run(&system(server(20, Some(200), true), 120));
    let top = 992.0 / 1100.0;
    let admissions = extra(&big, "prefill_tokens_saved") / 992.0 + 20.0;
    let (hb, hs) = (
        extra(&big, "prefix_hit_rate"),
        extra(&small, "prefix_hit_rate"),
    );
    println!("hit rate: every prefix cached {hb:.4}, 200 blocks {hs:.4} (ceiling {top:.4})");
    assert!(
        hb <= top + 1e-12 && hb >= top * (1.0 - 20.0 / admissions),
        "{hb}"
    );
    assert!(hs < 0.5 * hb, "{hs} vs {hb}");
    assert!(extra(&small, "ttft_mean_ms") > extra(&big, "ttft_mean_ms"));
    assert_eq!(extra(&small, "preemptions"), 0.0);
}
