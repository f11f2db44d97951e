//! Every file in `scenarios/` validates, runs, and matches its snapshot.
//!
//! Runs are shortened with `--set` so the whole set takes about a second;
//! the snapshot (JSON minus wall time) makes any change of behaviour show up
//! as a reviewable diff (`cargo insta review`).

use crate::{Csv, root, run_json, sysdes, sysdes_ok, without_wall};

/// Every file in `scenarios/`, sorted, with its name (the file stem): the
/// one list every per-scenario test walks.
pub(crate) fn every_scenario() -> Vec<(std::path::PathBuf, String)> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the scenarios are all there");
    files
        .into_iter()
        .map(|f| {
            let name = f
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (f, name)
        })
        .collect()
}

#[test]
fn every_scenario_validates() {
    for (file, _) in every_scenario() {
        sysdes_ok(&["validate", file.to_str().expect("utf-8")]);
    }
}

#[test]
fn every_scenario_runs_and_matches_its_snapshot() {
    for (file, name) in every_scenario() {
        // Fault windows must lie inside the run, so a scenario
        // with faults keeps its own length.
        let short: &[&str] = if has_faults(&file) {
            &[]
        } else {
            &["--set", "duration=40s", "--set", "warmup=2s"]
        };
        let result = run_json(&file, short);
        let requests = &result["requests"];
        let total: u64 = ["completed", "failed", "timed_out", "dropped", "in_flight"]
            .iter()
            .map(|k| requests[k].as_u64().expect("count"))
            .sum();
        assert_eq!(
            requests["generated"].as_u64(),
            Some(total),
            "{name}: accounting balances"
        );
        // A scenario of training jobs alone has no requests: its steps
        // are what completes.
        let training_only = result["components"].as_object().is_some_and(|c| {
            c.values()
                .all(|c| c["type"] == "training_job" && c["completions"].as_u64() > Some(0))
        });
        assert!(
            training_only || requests["completed"].as_u64() > Some(0),
            "{name}: something completed"
        );
        insta::assert_json_snapshot!(name, without_wall(result));
    }
}

#[test]
fn every_scenario_prints_a_table_with_a_verdict() {
    for (file, _) in every_scenario() {
        let path = file.to_str().expect("utf-8");
        let out = if has_faults(&file) {
            sysdes(&["run", path])
        } else {
            sysdes(&["run", path, "--set", "duration=10s", "--set", "warmup=1s"])
        };
        let table = String::from_utf8_lossy(&out.stdout);
        // An unstable run (retry-storm) exits 1 with its table written.
        assert!(
            out.status.success() || (out.status.code() == Some(1) && table.contains("Unstable")),
            "{table}"
        );
        assert!(
            table.contains("p99 ms") && table.contains("verdict:"),
            "{table}"
        );
    }
}

/// Whether a scenario file has a top-level `faults:` list.
fn has_faults(file: &std::path::Path) -> bool {
    std::fs::read_to_string(file).is_ok_and(|t| t.lines().any(|l| l.starts_with("faults:")))
}

/// The keys of a component's JSON object that are not kind-specific
/// figures (those are the CSV's fixed columns, or nested objects).
const FIXED_COMPONENT_KEYS: &[&str] = &[
    "type",
    "utilization",
    "mean_queue_length",
    "throughput_rps",
    "latency_ms",
    "workers",
    "arrivals",
    "completions",
    "drops",
    "mean_in_system",
    "peak_queue_length",
    "offered_load",
    "theory",
    "groups",
    "consistency",
    "replica_of",
];

/// `run --format csv` carries every kind-specific figure the JSON result
/// has (hit ratio, TTFT/TPOT, consumer-group lag, replicas, stale reads),
/// one column per JSON key after the fixed columns, with the same value on
/// the component's row; the fixed columns keep their names and order.
#[test]
fn csv_carries_every_figure_of_the_json_result() {
    const FIXED: &str = "scope,name,type,generated,completed,failed,timed_out,dropped,throughput_rps,utilization,mean_queue_length,latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p999_ms,latency_max_ms";
    for name in [
        "cache-zipf",
        "llm-serving",
        "stream-lag",
        "gpu-autoscale",
        "replication-lag",
    ] {
        let file = root().join(format!("scenarios/{name}.yaml"));
        let path = file.to_str().expect("utf-8");
        let short: &[&str] = if has_faults(&file) {
            &[]
        } else {
            &["--set", "duration=10s", "--set", "warmup=1s"]
        };
        let json = run_json(&file, short);
        let mut args = vec!["run", path, "--format", "csv"];
        args.extend_from_slice(short);
        let out = sysdes(&args);
        let text = String::from_utf8(out.stdout).expect("utf-8");
        // Every row as long as the header: the reader refuses any other.
        let csv = Csv::parse(&text);
        assert!(
            text.starts_with(FIXED),
            "{name}: fixed columns kept: {:?}",
            csv.header
        );
        let fixed = FIXED.split(',').count();
        let mut figures = 0;
        for cells in &csv.rows {
            if cells[0] != "component" {
                assert!(
                    cells[fixed..].iter().all(String::is_empty),
                    "{name}: {cells:?}"
                );
                continue;
            }
            let object = json["components"][&cells[1]]
                .as_object()
                .unwrap_or_else(|| panic!("{name}: {} in the JSON", cells[1]));
            for (key, value) in object {
                if FIXED_COMPONENT_KEYS.contains(&key.as_str()) || value.is_null() {
                    continue;
                }
                let at = csv
                    .position(key)
                    .unwrap_or_else(|| panic!("{name}: no CSV column for {}.{key}", cells[1]));
                let cell = cells[at].as_str();
                let same = match (value.as_u64(), value.as_f64()) {
                    (Some(n), _) => cell == n.to_string(),
                    // serde_json reads decimals to within an ulp (no
                    // `float_roundtrip`); the texts are the same.
                    (None, Some(x)) => cell
                        .parse::<f64>()
                        .is_ok_and(|c| (c - x).abs() <= 2.0 * f64::EPSILON * x.abs()),
                    _ => false,
                };
                assert!(same, "{name}: {}.{key}: CSV {cell}, JSON {value}", cells[1]);
                figures += 1;
            }
        }
        assert!(figures > 0, "{name}: no kind-specific figure checked");
    }
}
