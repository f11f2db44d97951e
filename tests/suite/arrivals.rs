//! Realistic arrivals from the command line: a trace file next to the
//! scenario is replayed request for request (and `--set` changes its
//! speed), a bad trace is reported at its line and field with exit 2, the
//! curve and MMPP are in the schema, and the same seed gives the same bytes.

use crate::{run_json, sysdes, temp_scenario};

const SCENARIO: &str = "name: trace-file
duration: 5s
workloads:
  - name: users
    target: api
    arrival: { trace: { file: TRACE } }
components:
  api:
    type: server
    service_time: 1ms
";

/// Writes `trace` beside a scenario `name`.yaml that replays it (as
/// `name`.csv: tests run in parallel); returns the scenario.
fn with_trace(name: &str, trace: &str) -> std::path::PathBuf {
    let text = SCENARIO.replace("TRACE", &format!("{name}.csv"));
    let scenario = temp_scenario(&format!("{name}.yaml"), &text);
    let dir = scenario.parent().expect("temp dir");
    std::fs::write(dir.join(format!("{name}.csv")), trace).expect("write trace");
    scenario
}

/// 100 records 0.1 s apart: a 5 s run replays the 50 before its end; at
/// speed 2 all 100. Every request completes (1 ms of work, 100 ms apart).
#[test]
fn a_trace_file_is_replayed_and_its_speed_can_be_set() {
    let mut trace = String::from("time_ms,key\n");
    for i in 0..100 {
        trace.push_str(&format!("{},{}\n", i * 100, i % 7));
    }
    let file = with_trace("arrivals-ok", &trace);
    let r = run_json(&file, &[]);
    assert_eq!(r["requests"]["generated"], 50, "{r}");
    assert_eq!(r["requests"]["completed"], 50);
    let r = run_json(&file, &["--set", "workloads.users.arrival.trace.speed=2"]);
    assert_eq!(r["requests"]["generated"], 100);
    // The same bytes twice (apart from the wall clock).
    let a = crate::without_wall(run_json(&file, &[]));
    let b = crate::without_wall(run_json(&file, &[]));
    assert_eq!(a, b);
}

/// A bad trace is a located error, exit 2: the scenario's line and column
/// (the `file` key), then the trace's line and field.
#[test]
fn a_bad_trace_is_located_in_both_files() {
    let file = with_trace("arrivals-bad", "time_s,op\n0,read\n1,delete\n");
    let out = sysdes(&["validate", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "arrivals-bad.yaml:6:31]",
        "trace arrivals-bad.csv:3: field `op`: expected `read` or `write`, found `delete`",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
}

#[test]
fn the_schema_documents_the_new_arrivals() {
    let out = sysdes(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    let defs = &schema["$defs"];
    for def in ["RateCurve", "CurvePoint", "Mmpp", "MmppState", "Trace"] {
        assert!(defs.get(def).is_some(), "no {def} in the schema");
    }
    assert!(defs["Trace"]["properties"].get("speed").is_some());
}
