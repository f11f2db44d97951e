//! Parameter sweeps through the binary: the same bytes whatever the job
//! count, sharding or interruption; `--run-index` redoes one row; bad
//! sweep definitions are reported with a position.
//!
//! Runs are shortened with `--set duration=...` so the whole module takes
//! a few seconds. Wall-clock columns (names containing `wall`) are the only
//! ones allowed to differ and are removed before comparing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Csv, GOOD, root, sysdes, sysdes_ok, temp_scenario};

const HOCKEY: &str = "scenarios/hockey-stick-sweep.yaml";

/// A fresh, empty directory for this module's test `name`.
fn fresh_dir(name: &str) -> PathBuf {
    crate::fresh_dir(&format!("sweep-{name}"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `sysdes sweep` and asserts success.
fn sweep_ok(args: &[&str]) {
    sysdes_ok(&[&["sweep"], args].concat());
}

/// A CSV file's text without the columns whose names contain `wall`.
/// Text, not [`Csv`]: the files are compared byte for byte, quoting
/// included, so this splits at every comma (alike in both files, so a
/// quoted comma cannot hide a difference) instead of parsing.
fn csv_without_wall(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("csv exists");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let keep: Vec<bool> = header.iter().map(|h| !h.contains("wall")).collect();
    let filter = |line: &str| {
        line.split(',')
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = filter(&header.join(","));
    out.push('\n');
    for line in lines {
        out.push_str(&filter(line));
        out.push('\n');
    }
    out
}

/// The journal with every `wall` key removed from each record's metrics.
fn jsonl_without_wall(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("runs.jsonl exists");
    let mut out = String::new();
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        if let Some(m) = v.get_mut("metrics").and_then(|m| m.as_object_mut()) {
            m.retain(|k, _| !k.contains("wall"));
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// Every file of a sweep directory, wall-clock columns removed.
fn sweep_files(dir: &Path) -> [String; 4] {
    [
        std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
        csv_without_wall(&dir.join("runs.csv")),
        csv_without_wall(&dir.join("summary.csv")),
        jsonl_without_wall(&dir.join("runs.jsonl")),
    ]
}

fn assert_same_files(a: &Path, b: &Path) {
    let names = ["manifest.json", "runs.csv", "summary.csv", "runs.jsonl"];
    for ((x, y), name) in sweep_files(a).iter().zip(sweep_files(b).iter()).zip(names) {
        assert!(
            x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

const SHORT: [&str; 4] = ["--set", "duration=20s", "--set", "warmup=2s"];

#[test]
fn job_count_does_not_change_a_byte() {
    let one = fresh_dir("jobs1");
    let two = fresh_dir("jobs2");
    for (dir, jobs) in [(&one, "1"), (&two, "2")] {
        let mut args = vec![HOCKEY, "--jobs", jobs, "--out", path_str(dir)];
        args.extend_from_slice(&SHORT);
        sweep_ok(&args);
    }
    assert_same_files(&one, &two);
    let runs = std::fs::read_to_string(one.join("runs.csv")).expect("runs.csv");
    assert_eq!(runs.lines().count(), 1 + 30, "10 rates x 3 replications");
    let header = runs.lines().next().expect("header");
    assert!(header.starts_with(
        "run_index,point,replication,seed,workloads.users.arrival.poisson,workloads.users.arrival.poisson#value,offered_rps,throughput_rps,latency_mean_ms,"
    ));
    assert!(header.contains(",utilization:api,") && header.ends_with(",wall_time_s"));
    let summary = std::fs::read_to_string(one.join("summary.csv")).expect("summary.csv");
    assert_eq!(summary.lines().count(), 1 + 10);
    assert!(summary.lines().next().is_some_and(|h| {
        h.contains("latency_p99_ms_mean,latency_p99_ms_ci95_low,latency_p99_ms_ci95_high")
    }));
    // Common random numbers: replication r has the same seed at every point.
    let table = Csv::parse(&runs);
    let seeds = table.column("seed");
    assert_eq!(seeds[1], seeds[4]);
    assert_eq!(seeds[0], "3", "replication 0 keeps the scenario seed");
    let _ = std::fs::remove_dir_all(&one);
    let _ = std::fs::remove_dir_all(&two);
}

#[test]
fn shards_in_separate_processes_merge_into_the_unsharded_files() {
    let whole = fresh_dir("whole");
    let mut args = vec![HOCKEY, "--out", path_str(&whole)];
    args.extend_from_slice(&SHORT);
    sweep_ok(&args);

    let shards: Vec<PathBuf> = (0..2).map(|i| fresh_dir(&format!("shard{i}"))).collect();
    let children: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            Command::new(env!("CARGO_BIN_EXE_sysdes"))
                .args(["sweep", HOCKEY, "--jobs", "1", "--out", path_str(dir)])
                .args(["--shard", &format!("{i}/2")])
                .args(SHORT)
                .current_dir(root())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn a shard")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("shard ends").success());
    }
    let shard0 = std::fs::read_to_string(shards[0].join("manifest.json")).expect("manifest");
    assert!(shard0.contains("\"shard\""));
    let merged = fresh_dir("merged");
    sysdes_ok(&[
        "merge",
        path_str(&shards[0]),
        path_str(&shards[1]),
        "--out",
        path_str(&merged),
    ]);
    assert_same_files(&whole, &merged);

    // Merging one shard alone reports the missing runs.
    let partial = fresh_dir("partial");
    let out = sysdes(&["merge", path_str(&shards[0]), "--out", path_str(&partial)]);
    assert_eq!(out.status.code(), Some(1));
    for d in [&whole, &merged, &partial, &shards[0], &shards[1]] {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn journal_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn a_killed_sweep_resumes_to_the_same_files() {
    // Long enough runs that the sweep is still going when it is killed.
    let args = [
        HOCKEY,
        "--jobs",
        "1",
        "--set",
        "duration=400s",
        "--set",
        "sweep.replications=4",
    ];
    let whole = fresh_dir("uninterrupted");
    let mut a = args.to_vec();
    a.extend_from_slice(&["--out", path_str(&whole)]);
    sweep_ok(&a);

    let killed = fresh_dir("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sysdes"))
        .arg("sweep")
        .args(args)
        .args(["--out", path_str(&killed)])
        .current_dir(root())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the sweep");
    let journal = killed.join("runs.jsonl");
    let started = Instant::now();
    while journal_lines(&journal) < 3 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL the sweep");
    let _ = child.wait();
    let at_kill = journal_lines(&journal);
    assert!(
        (3..40).contains(&at_kill),
        "the sweep was killed mid-way ({at_kill} of 40 runs journaled)"
    );
    assert!(
        !killed.join("runs.csv").exists(),
        "the CSV files are written only at the end"
    );
    // Simulate a line torn by the kill.
    let mut text = std::fs::read_to_string(&journal).expect("journal");
    text.push_str("{\"run_index\":39,\"point\":9,\"metr");
    std::fs::write(&journal, text).expect("tear the journal");

    let mut resume = args.to_vec();
    resume.extend_from_slice(&["--out", path_str(&killed), "--resume"]);
    let out = sysdes_ok(&[&["sweep"], resume.as_slice()].concat());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains(&format!("{at_kill} already done")),
        "{message}"
    );
    assert_same_files(&whole, &killed);

    // Without --resume an existing sweep is not overwritten; a different sweep
    // is not resumed into it.
    let out = sysdes(&[&["sweep"], &args[..], &["--out", path_str(&killed)]].concat());
    assert_eq!(out.status.code(), Some(2));
    let out = sysdes(&[
        "sweep",
        HOCKEY,
        "--set",
        "duration=30s",
        "--out",
        path_str(&killed),
        "--resume",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different sweep"));
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&killed);
}

#[test]
fn run_index_redoes_one_row() {
    let dir = fresh_dir("rowcheck");
    let vary = "workloads.users.arrival.poisson=50/s,150/s,240/s";
    let mut args = vec![HOCKEY, "--vary", vary, "--out", path_str(&dir)];
    args.extend_from_slice(&SHORT);
    sweep_ok(&args);
    let runs = Csv::read(&dir.join("runs.csv"));
    assert_eq!(runs.rows.len(), 9, "3 rates x 3 replications");
    let n = 7;
    let cell = |name: &str| runs.column(name)[n];
    assert_eq!(cell("workloads.users.arrival.poisson"), "240/s");
    let file = root().join(HOCKEY);
    let mut run_args = vec![
        "run",
        path_str(&file),
        "--run-index",
        "7",
        "--vary",
        vary,
        "--format",
        "json",
    ];
    run_args.extend_from_slice(&SHORT);
    let out = sysdes_ok(&run_args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["seed"].to_string(), cell("seed"));
    let number = |v: &serde_json::Value| v.as_f64().expect("number");
    let same = |from_run: f64, column: &str| {
        let from_csv: f64 = cell(column).parse().expect("number cell");
        assert_eq!(from_run, from_csv, "{column}");
    };
    same(number(&json["latency_ms"]["mean"]), "latency_mean_ms");
    same(number(&json["latency_ms"]["p99"]), "latency_p99_ms");
    same(number(&json["latency_ms"]["max"]), "latency_max_ms");
    same(number(&json["throughput_rps"]), "throughput_rps");
    same(number(&json["requests"]["completed"]), "completed");
    same(number(&json["events"]), "events");
    same(
        number(&json["components"]["api"]["utilization"]),
        "utilization:api",
    );
    let out = sysdes(&["run", path_str(&file), "--run-index", "30"]);
    assert_eq!(out.status.code(), Some(2), "index past the end");
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of range"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_sweep_definitions_exit_2_with_a_position() {
    // (case, sweep block, expected `:line:column`, a phrase of the message)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "typo in a key",
            "sweep:\n  replicatons: 3\n",
            ":12:3",
            "replications",
        ),
        (
            "units differ",
            "sweep:\n  vary:\n    workloads.users.arrival.poisson: { from: 10/s, to: 5ms, step: 1/s }\n",
            ":13:",
            "same unit",
        ),
        (
            "zip lengths differ",
            "sweep:\n  combine: zip\n  vary:\n    components.server.workers: [1, 2]\n    workloads.users.arrival.poisson: [1/s, 2/s, 3/s]\n",
            ":12:12",
            "as many",
        ),
        (
            "a value the path rejects",
            "sweep:\n  vary:\n    components.server.workers: [1, 0, 2]\n",
            ":13:36",
            "workers",
        ),
        (
            "zero replications",
            "sweep:\n  replications: 0\n",
            ":12:17",
            "replications",
        ),
    ];
    for (case, block, position, phrase) in cases {
        let text = format!("{GOOD}{block}");
        let path = temp_scenario(&format!("bad-sweep-{}.yaml", case.replace(' ', "-")), &text);
        let out = sysdes(&[
            "sweep",
            path_str(&path),
            "--out",
            path_str(&fresh_dir("bad")),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
        assert!(
            stderr.contains(position) || stderr.contains(&position.replacen(':', "[", 1)),
            "{case}: expected {position} in\n{stderr}"
        );
        assert!(
            stderr.contains(phrase),
            "{case}: expected `{phrase}` in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{case}");
    }
    // Bad command-line arguments.
    let good = temp_scenario("good-sweep.yaml", GOOD);
    for extra in [
        ["--vary", "components.server.workers=1:5:0"],
        ["--shard", "2/2"],
        ["--vary", "nonsense"],
    ] {
        let mut args = vec!["sweep", path_str(&good)];
        args.extend_from_slice(&extra);
        let out = sysdes(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
    }
}

#[test]
fn the_lb_policies_sweep_runs_and_auto_warmup_records_its_warmup() {
    let dir = fresh_dir("lb");
    sweep_ok(
        &[
            &["scenarios/lb-policies-sweep.yaml"],
            &crate::SHORT_SWEEP[..],
            &["--auto-warmup", "--out", path_str(&dir)],
        ]
        .concat(),
    );
    let summary = Csv::read(&dir.join("summary.csv"));
    let policies: Vec<&str> = summary.rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        policies,
        [
            "random",
            "round_robin",
            "power_of_two",
            "least_outstanding",
            "consistent_hash"
        ]
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"auto_warmup\": true"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A point whose run is unstable (300 req/s into a 250 req/s server: the
/// backlog grows by about 50 req/s) is marked `unstable` = 1 in runs.csv and
/// named after the sweep, which still exits 0; a point at 50 % load is 0.
#[test]
fn unstable_points_are_marked_and_named() {
    let dir = fresh_dir("unstable");
    let out = sysdes(&[
        "sweep",
        HOCKEY,
        "--vary",
        "workloads.users.arrival.poisson=125/s,300/s",
        "--set",
        "sweep.replications=1",
        "--set",
        "duration=60s",
        "--set",
        "warmup=2s",
        "--out",
        path_str(&dir),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: 1 point(s) unstable")
            && stderr.contains("point 1 (workloads.users.arrival.poisson=300/s)"),
        "{stderr}"
    );
    assert!(!stderr.contains("point 0 ("), "{stderr}");
    let runs = Csv::read(&dir.join("runs.csv"));
    assert_eq!(runs.column("unstable"), ["0", "1"], "{runs:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A write that fails mid-sweep (the journal hits the file-size limit, so
/// `write` returns EFBIG, as a full disk returns ENOSPC) stops the sweep at
/// once with exit 1 and an error naming runs.jsonl, leaves no temporary or
/// lock file, and `--resume` afterwards gives the uninterrupted sweep's
/// bytes. (A symlink to /dev/full cannot stand in: the journal is rewritten
/// by rename before the first run, which replaces the link.)
#[cfg(unix)]
#[test]
fn a_failed_write_stops_the_sweep_and_resume_completes_it() {
    let args = [
        HOCKEY,
        "--jobs",
        "1",
        "--set",
        "duration=20s",
        "--set",
        "warmup=2s",
    ];
    let whole = fresh_dir("write-whole");
    sweep_ok(&[&args[..], &["--out", path_str(&whole)]].concat());
    let manifest = std::fs::metadata(whole.join("manifest.json"))
        .expect("manifest")
        .len();
    let journal = std::fs::metadata(whole.join("runs.jsonl"))
        .expect("journal")
        .len();
    // `ulimit -f` counts 512-byte blocks in dash and 1024-byte ones in
    // bash: either way the limit must let the manifest through and stop
    // the journal before half of it.
    let blocks = manifest.div_ceil(512) + 1;
    assert!(blocks * 1024 < journal / 2, "{manifest} / {journal} bytes");

    let dir = fresh_dir("write-fails");
    std::fs::create_dir_all(&dir).expect("out dir");
    let sweep = format!(
        "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" sweep {} --out \"$1\"",
        args.join(" ")
    );
    let out = Command::new("sh")
        .args(["-c", &sweep, env!("CARGO_BIN_EXE_sysdes"), path_str(&dir)])
        .current_dir(root())
        .output()
        .expect("run the sweep under a file-size limit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("runs.jsonl") && stderr.starts_with("error: "),
        "{stderr}"
    );
    let written = journal_lines(&dir.join("runs.jsonl"));
    assert!(
        written < 15,
        "the sweep went on after the failure: {written} of 30 runs"
    );
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["manifest.json", "runs.jsonl"],
        "no .tmp or lock file"
    );

    sysdes_ok(
        &[
            &["sweep"],
            &args[..],
            &["--out", path_str(&dir), "--resume"],
        ]
        .concat(),
    );
    assert_same_files(&whole, &dir);
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An M/M/1 queue (1 ms mean service) swept from 10 % to 90 % load, with
/// two targets: p99 < 20 ms (theory: ln(100) / (mu - lambda) = 5.1 ms at
/// 100/s, 46 ms at 900/s) and utilization < 50 %.
const TARGETS_SWEEP: &str = "name: sweep-targets
seed: 3
duration: 20s
warmup: 2s
workloads:
  - name: users
    target: server
    arrival: { poisson: 100/s }
components:
  server:
    type: server
    workers: 1
    service_time: { exponential: 1ms }
expect:
  - { workload: users, p99: \"< 20ms\" }
  - { component: server, utilization: \"< 50%\" }
sweep:
  vary:
    workloads.users.arrival.poisson: [100/s, 900/s]
";

#[test]
fn a_swept_scenario_with_targets_counts_them_per_run() {
    let file = temp_scenario("sweep-targets.yaml", TARGETS_SWEEP);
    let dir = fresh_dir("targets");
    let out = sysdes(&["sweep", path_str(&file), "--out", path_str(&dir)]);
    // Exploring past the targets does not fail a sweep...
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 of 2 run(s) missed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = Csv::read(&dir.join("runs.csv"));
    // 10 % load meets both targets, 90 % load misses both.
    assert_eq!(runs.column("targets_met"), ["2", "0"]);
    assert_eq!(runs.column("targets_missed"), ["0", "2"]);
    let summary = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    assert!(
        summary
            .lines()
            .next()
            .is_some_and(|h| h.contains("targets_missed_mean"))
    );
    // ...unless asked: then a miss is exit status 3, as for `sysdes run`.
    let checked = fresh_dir("targets-checked");
    let out = sysdes(&[
        "sweep",
        path_str(&file),
        "--out",
        path_str(&checked),
        "--check-targets",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let all_met = fresh_dir("targets-met");
    let out = sysdes(&[
        "sweep",
        path_str(&file),
        "--vary",
        "workloads.users.arrival.poisson=100/s",
        "--out",
        path_str(&all_met),
        "--check-targets",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A scenario without targets has neither column.
    let plain = fresh_dir("targets-none");
    sweep_ok(&[
        HOCKEY,
        "--set",
        "sweep.replications=1",
        "--vary",
        "workloads.users.arrival.poisson=20/s",
        "--set",
        "duration=20s",
        "--set",
        "warmup=2s",
        "--out",
        path_str(&plain),
    ]);
    let plain_runs = std::fs::read_to_string(plain.join("runs.csv")).expect("runs.csv");
    assert!(!plain_runs.contains("targets_met"));
    for d in [dir, checked, all_met, plain] {
        let _ = std::fs::remove_dir_all(d);
    }
}
