//! The lambda and kappa scenarios at full length: every figure their
//! headers name is in the result, and the figures they teach hold
//! (catch-up = retained / (throughput - arrival rate); batch staleness =
//! interval + run time). The closed forms with derived tolerances are in
//! crates/sysdes-models/tests/lambda_kappa.rs; these check the files.

use crate::{root, run_json};

/// The backticked figure names of a scenario's header (`snake_case`, or
/// `COMPONENT.GROUP.figure`), and the JSON keys of its result.
fn named_and_keys(file: &str) -> (Vec<String>, Vec<String>, serde_json::Value) {
    let path = root().join(file);
    let text = std::fs::read_to_string(&path).expect("readable");
    let header = crate::header_comment(&text);
    let named = header
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.contains('_')
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
        })
        .map(str::to_string)
        .collect();
    let json = run_json(&path, &[]);
    (named, crate::json_keys(&json), json)
}

/// Every name is a key of the JSON result (`v2.caught_up_s`,
/// `run_time_max_s`) or a column of the run's series.csv
/// (`events.v2.lag_s`, `batch.view_age_s`).
fn assert_named_in_result(file: &str, named: &[String], keys: &[String]) {
    assert!(named.len() >= 3, "{file}: names {named:?}");
    let out = crate::sysdes_out(&file.replace(['/', '.'], "-"), &["run", file]);
    let series = crate::Csv::read(&out.join("series.csv"));
    for name in named {
        let found = keys.iter().any(|k| k == name) || series.header.contains(name);
        assert!(
            found,
            "{file}: the header names `{name}`, which the result lacks"
        );
    }
    std::fs::remove_dir_all(&out).expect("scratch directory removed");
}

#[test]
fn kappa_replay_catches_up_in_retained_over_spare_throughput() {
    let file = "scenarios/kappa-reprocessing.yaml";
    let (named, keys, json) = named_and_keys(file);
    assert_named_in_result(file, &named, &keys);
    let events = &json["components"]["events"];
    let backlog = events["v2.backlog_at_start"].as_f64().expect("backlog");
    let caught_up = events["v2.caught_up_s"].as_f64().expect("caught up");
    // 1,000/s for 120 s; 4 partitions at 1 ms a message read 4,000/s.
    assert!(
        (backlog - 120_000.0).abs() < 4.0 * 120_000f64.sqrt(),
        "{backlog}"
    );
    let predicted = backlog / (4_000.0 - 1_000.0);
    // Partitions split the keys unevenly by a few percent of the backlog,
    // and the last one to drain sets the catch-up time.
    assert!(
        (caught_up - predicted).abs() < 0.05 * predicted,
        "caught up in {caught_up} s, retained / (mu - lambda) = {predicted} s"
    );
    assert!(
        events.get("v1.caught_up_s").is_none(),
        "v1 started with the run"
    );
}

#[test]
fn lambda_batch_staleness_is_interval_plus_run_time() {
    let file = "scenarios/lambda-architecture.yaml";
    let (named, keys, json) = named_and_keys(file);
    assert_named_in_result(file, &named, &keys);
    let batch = &json["components"]["batch"];
    let f = |k: &str| batch[k].as_f64().unwrap_or_else(|| panic!("batch.{k}"));
    assert_eq!(
        f("runs"),
        5.0,
        "runs at 10, 20, 30, 40, 50 min end in the window"
    );
    // The last run reads ~100/s x 3000 s at 2,000/s after 60 s of start-up.
    assert!(
        (f("run_time_max_s") - 210.0).abs() < 1.0,
        "{}",
        f("run_time_max_s")
    );
    assert!(
        (f("view_age_max_s") - (600.0 + f("run_time_max_s"))).abs() < 1e-6,
        "view age peaks at every + run time: {}",
        f("view_age_max_s")
    );
    // The speed layer is fresh: milliseconds, not minutes.
    let speed = json["components"]["events"]["speed.lag_s_mean"]
        .as_f64()
        .expect("speed lag");
    assert!(speed < 0.1, "{speed}");
}
