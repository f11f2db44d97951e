//! `scenarios/llm-routing.yaml`: every figure its header names is in the
//! output, and the effect it teaches holds. Four prefix-caching replicas
//! behind each of round robin, `least_kv` and `prefix_affinity`, 40
//! equally popular documents, room for about 11 per replica: an LRU cache
//! of C of G uniform items hits about C/G (here about 0.28 of the prompt),
//! while affinity keeps each replica's ~10 documents cached (the ceiling
//! is the prefix's share of the prompt, 2,000 of about 2,070 tokens).

use crate::{root, run_json};

/// The mean over a balancer's four replicas (`rr`, `kv`, `pa`) of `figure`.
fn mean(result: &serde_json::Value, group: &str, figure: &str) -> f64 {
    (1..=4)
        .map(|i| {
            let name = format!("{group}-{i}");
            result["components"][&name][figure]
                .as_f64()
                .unwrap_or_else(|| panic!("{name} has no `{figure}`"))
        })
        .sum::<f64>()
        / 4.0
}

#[test]
fn prefix_affinity_multiplies_the_hit_rate() {
    let r = run_json(&root().join("scenarios/llm-routing.yaml"), &[]);
    for group in ["rr", "kv", "pa"] {
        for figure in [
            "prefix_hit_rate",
            "prefill_tokens_saved",
            "ttft_p99_ms",
            "preemptions",
        ] {
            mean(&r, group, figure);
        }
    }
    assert!(r["components"]["affinity"]["affinity_moves"].is_u64());
    assert!(r["components"]["round-robin"]["affinity_moves"].is_null());
    let (rr, kv, pa) = (
        mean(&r, "rr", "prefix_hit_rate"),
        mean(&r, "kv", "prefix_hit_rate"),
        mean(&r, "pa", "prefix_hit_rate"),
    );
    println!("hit rate: round robin {rr:.3}, least_kv {kv:.3}, prefix_affinity {pa:.3}");
    // About C/G = 11/40 of the ~0.966 ceiling for the blind policies
    // (bounds: 8 to 16 documents cached); affinity near the ceiling and
    // at least 3x round robin (the replica count is 4).
    for (name, h) in [("round robin", rr), ("least_kv", kv)] {
        assert!((0.19..0.39).contains(&h), "{name}: {h}");
    }
    assert!(pa > 0.9 && pa > 3.0 * rr, "{pa} vs {rr}");
    // The cache hits are prefill skipped: TTFT p99 falls on every replica.
    let worst = |group: &str| {
        (1..=4)
            .map(|i| {
                r["components"][format!("{group}-{i}")]["ttft_p99_ms"]
                    .as_f64()
                    .unwrap()
            })
            .fold(0.0, f64::max)
    };
    assert!(worst("pa") < worst("kv") && worst("pa") < worst("rr"));
}
