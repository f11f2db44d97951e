//! The command line as a user meets it: exit codes, formats, files, guards,
//! and a clear error (never a panic) for every kind of mistake.

use crate::{GOOD, root, sysdes, sysdes_ok, sysdes_out, sysdes_out_output, temp_scenario};

/// One malformed scenario per kind of mistake: (case, text, expected
/// `line:column`, a phrase the message must contain).
const BAD: &[(&str, &str, &str, &str)] = &[
    ("syntax", "name: x\nduration: [10s\n", ":2:11", "unclosed"),
    (
        "unknown field",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s:\n    type: server\n    service_tme: 1ms\n",
        ":8:5",
        "service_time",
    ),
    (
        "bad unit",
        "name: x\nduration: 10 parsecs\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s: { type: server, service_time: 1ms }\n",
        ":2:11",
        "duration",
    ),
    (
        "bare number",
        "name: x\nduration: 10\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s: { type: server, service_time: 1ms }\n",
        ":2:11",
        "unit",
    ),
    (
        "dangling reference",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: sever, arrival: { poisson: 1/s } }\ncomponents:\n  server: { type: server, service_time: 1ms }\n",
        ":4:",
        "server",
    ),
    (
        "zero workers",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s: { type: server, workers: 0, service_time: 1ms }\n",
        ":6:",
        "workers",
    ),
    (
        "negative duration",
        "name: x\nduration: -5s\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s: { type: server, service_time: 1ms }\n",
        ":2:11",
        "",
    ),
    (
        "zero rate",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 0/s } }\ncomponents:\n  s: { type: server, service_time: 1ms }\n",
        ":4:",
        "",
    ),
    (
        "wrong type",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s: { type: server, workers: many, service_time: 1ms }\n",
        ":6:",
        "",
    ),
    (
        "unknown policy",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: lb, arrival: { poisson: 1/s } }\ncomponents:\n  lb: { type: load_balancer, policy: round_robbin, backends: [s] }\n  s: { type: server, service_time: 1ms }\n",
        ":6:",
        "round_robin",
    ),
    ("empty file", "", "", "empty"),
];

#[test]
fn every_kind_of_mistake_exits_2_with_a_position_and_no_panic() {
    for (case, text, position, phrase) in BAD {
        let file = temp_scenario(&format!("bad-{}.yaml", case.replace(' ', "-")), text);
        let out = sysdes(&["run", file.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{case}: exit status; stderr:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{case}: panicked:\n{stderr}");
        assert!(stderr.contains("bad-"), "{case}: names the file:\n{stderr}");
        assert!(
            stderr.contains(position),
            "{case}: position {position}:\n{stderr}"
        );
        assert!(
            stderr.contains(phrase),
            "{case}: says `{phrase}`:\n{stderr}"
        );
    }
}

#[test]
fn validate_reports_every_problem_and_exits_2() {
    let text = "name: x\nduration: 10\nworkloads:\n  - { name: u, target: nowhere, arrival: { poisson: 1/s } }\ncomponents:\n  s: { type: server, workers: 0, service_time: 1ms }\n";
    let file = temp_scenario("three-mistakes.yaml", text);
    let out = sysdes(&["validate", file.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    for position in [":2:11", ":4:", ":6:"] {
        assert!(stderr.contains(position), "reports {position}:\n{stderr}");
    }
}

/// A setting that changes nothing in this run (a workload `priority` once
/// the only priority server is switched to fifo) is a located warning on
/// stderr; the run still happens (exit 0).
#[test]
fn an_ignored_priority_is_a_located_warning() {
    let args = [
        "scenarios/priority-and-reneging.yaml",
        "--set",
        "components.api.discipline=fifo",
    ];
    let out = sysdes(&["run", args[0], args[1], args[2], "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: scenarios/priority-and-reneging.yaml:34:5: workload `checkout` sets `priority: 1`, but no server here has a priority discipline"),
        "{stderr}"
    );
    let out = sysdes(&["run", args[0], "--format", "json"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

/// Regression: `sysdes estimate` and `sysdes sweep` said nothing of the
/// loader's warnings that `sysdes run` prints. Estimate prints them like
/// run; a sweep once, before its runs (not once per run).
#[test]
fn estimate_and_sweep_print_the_loaders_warnings() {
    let warning = "warning: scenarios/priority-and-reneging.yaml:34:5: workload `checkout` sets `priority: 1`, but no server here has a priority discipline";
    let file = "scenarios/priority-and-reneging.yaml";
    let fifo = "components.api.discipline=fifo";
    let out = sysdes(&["estimate", file, "--set", fifo]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(warning), "estimate: {stderr}");
    let (dir, out) = sysdes_out_output(
        "sweep-warnings",
        &[
            "sweep",
            file,
            "--set",
            fifo,
            "--set",
            "duration=2s",
            "--set",
            "warmup=0s",
            "--vary",
            "workloads.checkout.arrival.poisson=10/s,20/s",
            "--jobs",
            "1",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(stderr.matches(warning).count(), 1, "sweep: {stderr}");
}

#[test]
fn missing_file_and_bad_arguments_exit_2() {
    let out = sysdes(&["run", "scenarios/no-such-file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.yaml"));
    let out = sysdes(&["run", "scenarios/mm1.yaml", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sysdes(&[
        "run",
        "scenarios/mm1.yaml",
        "--set",
        "workloads.nobody.arrival.poisson=1/s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("users"),
        "suggests the real workload"
    );
}

#[test]
fn an_unstable_system_is_stopped_and_the_bottleneck_named() {
    let file = root().join("scenarios/hockey-stick.yaml");
    let out = sysdes(&[
        "run",
        file.to_str().expect("utf-8"),
        "--set",
        "workloads.users.arrival.poisson=300/s",
        "--max-in-flight",
        "20000",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("unstable") && stderr.contains("`api`"),
        "{stderr}"
    );
    // 300/s x 4 ms / 1 worker = 1.20
    assert!(stderr.contains("offered load 1.20"), "{stderr}");
}

#[test]
fn max_events_stops_with_partial_results_and_status_1() {
    let file = temp_scenario("good.yaml", GOOD);
    let out = sysdes(&[
        "run",
        file.to_str().expect("utf-8"),
        "--max-events",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("partial JSON still printed");
    assert_eq!(v["stopped"], "event_limit");
    let r = &v["requests"];
    let ended: u64 = ["completed", "failed", "timed_out", "dropped", "in_flight"]
        .iter()
        .map(|k| r[k].as_u64().expect("count"))
        .sum();
    assert_eq!(r["generated"].as_u64(), Some(ended));
}

#[test]
fn json_has_exactly_the_contract_keys_and_more() {
    let file = temp_scenario("good.yaml", GOOD);
    let v = crate::run_json(&file, &[]);
    for key in [
        "scenario",
        "seed",
        "sim_time_s",
        "wall_time_s",
        "events",
        "requests",
        "throughput_rps",
        "latency_ms",
        "workloads",
        "components",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["generated", "completed", "failed", "timed_out", "dropped"] {
        assert!(v["requests"][key].is_u64(), "requests.{key}");
    }
    for key in ["mean", "p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_ms"][key].is_f64(), "latency_ms.{key}");
        assert!(v["workloads"]["users"]["latency_ms"][key].is_f64());
        assert!(v["components"]["server"]["latency_ms"][key].is_f64());
    }
    for key in ["utilization", "mean_queue_length", "throughput_rps"] {
        assert!(
            v["components"]["server"][key].is_f64(),
            "components.server.{key}"
        );
    }
    assert!(v["workloads"]["users"]["throughput_rps"].is_f64());
    assert_eq!(v["scenario"], "ok");
    assert_eq!(v["sim_time_s"], 10.0);
}

#[test]
fn csv_and_out_dir() {
    let file = temp_scenario("good.yaml", GOOD);
    let out = sysdes(&["run", file.to_str().expect("utf-8"), "--format", "csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("scope,name,type,")
    );
    assert_eq!(
        csv.lines().count(),
        1 + 3,
        "system, one workload, one component"
    );

    let dir = sysdes_out("out", &["run", file.to_str().expect("utf-8")]);
    for name in [
        "result.json",
        "summary.csv",
        "series.csv",
        "latency_cdf.csv",
        "report.txt",
        "scenario.yaml",
    ] {
        assert!(dir.join(name).is_file(), "{name} written");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).expect("read"))
            .expect("valid JSON");
    assert_eq!(json["scenario"], "ok");
}

#[test]
fn help_shows_examples_and_schema_is_json() {
    let out = sysdes(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Examples:"));
    let out = sysdes(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    assert!(schema.to_string().contains("service_time"));
}

/// `--auto-warmup` replaces the scenario's warm-up with MSER-5's choice from
/// a pilot run: an M/M/1 at rho 0.9 starting empty; the choice is
/// reported on stderr and stays within half the duration.
#[test]
fn auto_warmup_picks_a_warmup_and_says_so() {
    let file = crate::temp_scenario(
        "auto-warmup.yaml",
        "name: transient
duration: 200s
workloads:
  - name: users
    target: server
    arrival: { poisson: 180/s }
components:
  server:
    type: server
    service_time: { exponential: 5ms }
",
    );
    let out = sysdes_ok(&[
        "run",
        file.to_str().expect("utf-8"),
        "--auto-warmup",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auto warm-up"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let warmup = json["warmup_s"].as_f64().expect("warmup_s");
    assert!(
        (0.0..=100.0).contains(&warmup),
        "warm-up {warmup} within half the duration"
    );
}

/// `check_linearizability` on a store: R = W = 1 with stale reads is not
/// linearizable; majority quorums with no faults have no violating key
/// (hot keys beyond the 200-operation limit are reported as not checked).
#[test]
fn a_store_can_check_linearizability() {
    let run = |r: &str, w: &str| {
        let file = crate::root().join("scenarios/quorum-tuning.yaml");
        crate::run_json(
            &file,
            &[
                "--set",
                "components.kv-r1w1.check_linearizability=true",
                "--set",
                &format!("components.kv-r1w1.read_quorum={r}"),
                "--set",
                &format!("components.kv-r1w1.write_quorum={w}"),
                "--set",
                "duration=20s",
            ],
        )["consistency"]
            .clone()
    };
    let weak = run("1", "1");
    assert!(weak["stale_reads"].as_u64().unwrap_or(0) > 0, "{weak}");
    assert_eq!(weak["linearizable"], false, "{weak}");
    let strict = run("2", "2");
    assert_eq!(strict["linearizability"]["keys_violating"], 0, "{strict}");
    assert!(
        strict["linearizability"]["keys_checked"]
            .as_u64()
            .unwrap_or(0)
            > 100,
        "{strict}"
    );
}
