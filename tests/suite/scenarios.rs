//! Every file in `scenarios/` validates, runs, and matches its snapshot.
//!
//! Runs are shortened with `--set` so the whole set takes about a second;
//! the snapshot (JSON minus wall time) makes any change of behaviour show up
//! as a reviewable diff (`cargo insta review`).

use crate::{root, run_json, sysdes, without_wall};

fn scenario_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the scenarios are all there");
    files
}

#[test]
fn every_scenario_validates() {
    for file in scenario_files() {
        let out = sysdes(&["validate", file.to_str().expect("utf-8")]);
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_scenario_runs_and_matches_its_snapshot() {
    for file in scenario_files() {
        let name = file
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .to_string();
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
        assert!(
            requests["completed"].as_u64() > Some(0),
            "{name}: something completed"
        );
        insta::assert_json_snapshot!(name, without_wall(result));
    }
}

#[test]
fn every_scenario_prints_a_table_with_a_verdict() {
    for file in scenario_files() {
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
