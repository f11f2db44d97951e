//! `scenarios/dns-failover.yaml` shows what its header names: the answer
//! moves at 90 s, failures sit at the request rate from the crash to the
//! move, then fall in a straight line to 0 over one TTL (60 s), and the
//! `dns` figures (lookups, cache hits, stale requests) are in the output.

use crate::{Csv, root, run_json, sysdes_out};

/// Mean failed per second over `[from, to)` from `series.csv` (`start_s`
/// and `failed` columns).
fn failed_per_s(series: &Csv, from: f64, to: f64) -> f64 {
    let (start, failed) = (series.col("start_s"), series.col("failed"));
    let rows: Vec<f64> = series
        .rows
        .iter()
        .filter(|r| {
            let t: f64 = r[start].parse().expect("start_s");
            t >= from && t < to
        })
        .map(|r| r[failed].parse().expect("failed"))
        .collect();
    assert!(!rows.is_empty(), "no series rows in [{from}, {to})");
    rows.iter().sum::<f64>() / rows.len() as f64
}

#[test]
fn dns_failover_shows_detection_then_a_linear_decay_over_one_ttl() {
    let file = root().join("scenarios/dns-failover.yaml");
    let result = run_json(&file, &[]);
    let dns = &result["components"]["dns"];
    assert_eq!(dns["type"], "dns");
    assert_eq!(dns["failover_at_s"].as_f64(), Some(90.0));
    assert_eq!(dns["failback_at_s"].as_f64(), Some(270.0));
    let lookups = dns["lookups"].as_u64().expect("lookups");
    let hits = dns["cache_hits"].as_u64().expect("cache_hits");
    assert_eq!(Some(lookups + hits), dns["arrivals"].as_u64());
    // About rate / (1 + rho) = 500 / 61 per second over 320 s: 2,623.
    assert!((2_400..2_900).contains(&lookups), "lookups {lookups}");
    assert!(dns["requests_to_stale_target"].as_u64() > Some(10_000));
    let failed = result["requests"]["failed"].as_f64().expect("failed");
    // 12,500 + 14,733 (docs/validation.md, "DNS failover"), 4 sd = 1,720.
    assert!((failed - 27_236.0).abs() < 1_720.0, "failed {failed}");
    // The time series: 500/s while undetected, then a linear fall from
    // 500/s to 0 over 90..150 s (means 375 and 125 over its halves), then 0.
    let dir = sysdes_out("dns-failover", &["run", file.to_str().expect("utf-8")]);
    let series = Csv::read(&dir.join("series.csv"));
    let _ = std::fs::remove_dir_all(&dir);
    let tol = 50.0;
    for (from, to, want) in [
        (66.0, 90.0, 500.0),
        (90.0, 120.0, 375.0),
        (120.0, 150.0, 125.0),
        (150.0, 245.0, 0.0),
    ] {
        let got = failed_per_s(&series, from, to);
        assert!(
            (got - want).abs() < tol,
            "[{from}, {to}): {got}/s, want {want}"
        );
    }
}
