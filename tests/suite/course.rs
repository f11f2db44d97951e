//! The course's exercises and capstones (docs/course/): each exercise's
//! starting file misses at least one of its `expect:` targets (exit status
//! 3, the run itself stable), its solution meets every one (exit 0); each
//! capstone scenario meets every target its page claims, at full length.

use std::path::{Path, PathBuf};

use crate::{root, sysdes};

/// The YAML files of `dir` (relative to the repository root), sorted.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Runs `file` at full length: its exit code and JSON result.
fn run(file: &Path) -> (Option<i32>, serde_json::Value) {
    crate::run_code_json(file, &[])
}

/// The `targets` array of a result, which must have at least one target.
fn targets(file: &Path, json: &serde_json::Value) -> Vec<serde_json::Value> {
    let targets = json["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no `targets` in the result", file.display()))
        .clone();
    assert!(!targets.is_empty(), "{}: no targets", file.display());
    targets
}

fn missed(targets: &[serde_json::Value]) -> Vec<String> {
    targets
        .iter()
        .filter(|t| t["met"] != serde_json::Value::Bool(true))
        .map(|t| format!("{} (value {})", t["target"], t["value"]))
        .collect()
}

/// The topics the exercises must span (issue 15): each is an exercise file.
const EXERCISES: &[&str] = &[
    "tail-latency-workers",   // latency vs throughput
    "cache-hit-ratio",        // caching
    "partition-availability", // CAP and quorums
    "gpu-batch-size",         // batching
    "autoscale-spike",        // autoscaling
    "stream-consumers",       // queues and streams
];

#[test]
fn every_exercise_has_a_solution_and_the_topics_are_covered() {
    let names = |dir: &str| -> Vec<String> {
        yaml_files(dir)
            .iter()
            .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
            .collect()
    };
    let exercises = names("docs/course/exercises");
    assert_eq!(exercises, names("docs/course/solutions"));
    for e in EXERCISES {
        assert!(exercises.iter().any(|x| x == e), "exercise {e} is missing");
    }
}

#[test]
fn every_starting_file_misses_a_target_and_exits_3() {
    for file in yaml_files("docs/course/exercises") {
        let (code, json) = run(&file);
        let targets = targets(&file, &json);
        let missed = missed(&targets);
        assert!(
            !missed.is_empty(),
            "{}: the starting file already meets its targets",
            file.display()
        );
        assert_eq!(code, Some(3), "{}: missed {missed:?}", file.display());
        // A starting file states its task in its header.
        let text = std::fs::read_to_string(&file).expect("readable");
        assert!(
            text.starts_with("# Exercise") && text.contains("# Task:"),
            "{}: the header says the task",
            file.display()
        );
    }
}

#[test]
fn every_solution_meets_every_target_and_exits_0() {
    for file in yaml_files("docs/course/solutions") {
        let (code, json) = run(&file);
        let targets = targets(&file, &json);
        assert_eq!(missed(&targets), Vec::<String>::new(), "{}", file.display());
        assert_eq!(code, Some(0), "{}", file.display());
        // The same targets as the exercise: a solution does not move the goal.
        let exercise = root()
            .join("docs/course/exercises")
            .join(file.file_name().expect("name"));
        let (_, start) = run(&exercise);
        let texts = |v: &serde_json::Value| -> Vec<serde_json::Value> {
            v["targets"]
                .as_array()
                .map(|a| a.iter().map(|t| t["target"].clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(texts(&json), texts(&start), "{}", file.display());
    }
}

/// A missed target reads `MISSED` in the table, with its value and unit.
#[test]
fn the_table_names_each_missed_target() {
    let out = sysdes(&["run", "docs/course/exercises/tail-latency-workers.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("targets: 1 of 3 met"), "{table}");
    assert!(table.contains("MISSED  users p99 < 15ms"), "{table}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 of 3 targets missed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An unknown figure is a located error at load time (exit 2), before any
/// simulation; an unstable run exits 1 even with a missed target.
#[test]
fn a_bad_target_exits_2_and_an_unstable_run_1_before_3() {
    let bad = crate::temp_scenario(
        "bad-target.yaml",
        &format!(
            "{}expect:\n  - {{ workload: users, p99: \"< 10ms\", hit_ratio: \">= 0.5\" }}\n",
            crate::GOOD
        ),
    );
    let out = sysdes(&["run", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("workload `users` reports no figure `hit_ratio`") && err.contains(":12:"),
        "{err}"
    );
    // 300/s into a 5 ms server (capacity 200/s): unstable, and the target is missed.
    let unstable = crate::temp_scenario(
        "unstable-target.yaml",
        &format!(
            "{}expect:\n  - {{ workload: users, p99: \"< 10ms\" }}\n",
            crate::GOOD
                .replace("50/s", "300/s")
                .replace("{ exponential: 5ms }", "5ms")
        ),
    );
    let out = sysdes(&["run", unstable.to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["targets"][0]["met"], serde_json::Value::Bool(false));
}

/// Scenarios without `expect:` keep their results: no `targets` key.
#[test]
fn a_scenario_without_targets_has_no_targets_key() {
    let (code, json) = run(&root().join("scenarios/mm1.yaml"));
    assert_eq!(code, Some(0));
    assert!(json.get("targets").is_none());
}

/// Every capstone scenario meets every target it sets, at full length.
#[test]
fn every_capstone_meets_its_targets() {
    let capstones: Vec<PathBuf> = yaml_files("scenarios")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("capstone-"))
        })
        .collect();
    assert!(capstones.len() >= 3, "{capstones:?}");
    for file in capstones {
        let (code, json) = run(&file);
        let targets = targets(&file, &json);
        assert_eq!(missed(&targets), Vec::<String>::new(), "{}", file.display());
        assert_eq!(code, Some(0), "{}", file.display());
        let stem = file
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let page = root()
            .join("docs/course/capstones")
            .join(format!("{}.md", stem.trim_start_matches("capstone-")));
        assert!(
            page.exists(),
            "{} has no page {}",
            file.display(),
            page.display()
        );
    }
}

/// The house rule: every figure a capstone's header names (a backticked
/// `snake_case` name, or `COMPONENT.GROUP.figure`) is in its JSON result.
#[test]
fn every_figure_a_capstone_header_names_is_in_its_result() {
    for file in yaml_files("scenarios").into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("capstone-"))
    }) {
        let text = std::fs::read_to_string(&file).expect("readable");
        let header = crate::header_comment(&text);
        let named: Vec<&str> = header
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| {
                s.contains('_')
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
            })
            .collect();
        assert!(named.len() >= 2, "{}: names {named:?}", file.display());
        let (_, json) = run(&file);
        let all = crate::json_keys(&json);
        for name in named {
            let last = name.rsplit('.').next().unwrap_or(name);
            assert!(
                all.iter().any(|k| k == last),
                "{}: the header names `{name}`, which the result lacks",
                file.display()
            );
        }
    }
}
