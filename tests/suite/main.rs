//! The sysdes integration suite: one test binary, one module per concern.

mod arrivals;
mod cli;
mod commands;
mod cost;
mod course;
mod course_pages;
mod determinism;
mod dns_failover;
mod first_hour;
mod hostile;
mod lambda_kappa;
mod llm_disaggregation;
mod llm_routing;
mod model_faults;
mod playground;
mod plots;
mod properties;
mod replica_group;
mod scenarios;
mod storage_tiers;
mod store_faults;
mod sweep;
mod sweep_figures;
mod theory;
mod theory_column;
mod tidy;
mod verdicts;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small valid scenario: one Poisson workload into one server, 10 s.
pub const GOOD: &str = "name: ok
duration: 10s
workloads:
  - name: users
    target: server
    arrival: { poisson: 50/s }
components:
  server:
    type: server
    service_time: { exponential: 5ms }
";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `sysdes` binary with `args` from the repository root.
pub fn sysdes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysdes"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the sysdes binary runs")
}

/// Runs a scenario and parses its JSON result; panics with stderr on
/// failure. An unstable run (exit 1, verdict "Unstable", as retry-storm's
/// metastable overload) still writes its result and is returned.
pub fn run_json(file: &Path, extra: &[&str]) -> serde_json::Value {
    let file = file.to_str().expect("utf-8 path");
    let mut args = vec!["run", file, "--format", "json"];
    args.extend_from_slice(extra);
    let out = sysdes(&args);
    let unstable = out.status.code() == Some(1)
        && serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok_and(|v| {
            v["verdict"]
                .as_str()
                .is_some_and(|t| t.starts_with("Unstable"))
        });
    assert!(
        out.status.success() || unstable,
        "sysdes {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

/// Writes `text` to a fresh temporary scenario file and returns its path.
pub fn temp_scenario(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysdes-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    // Tests run in parallel and some share a file name: write a private
    // copy and rename it into place (atomic), so no test ever reads a file
    // another test is halfway through rewriting.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let private = dir.join(format!("{name}.{n}.tmp"));
    std::fs::write(&private, text).expect("write temp scenario");
    std::fs::rename(&private, &path).expect("move temp scenario into place");
    path
}

/// The JSON result without its wall-clock figure, for byte comparisons.
pub fn without_wall(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("wall_time_s");
    }
    v
}
