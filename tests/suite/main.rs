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

/// `--set` options that shorten a sweep to 10 s runs (1 s warm-up), two
/// replications a point: enough for every summary column's interval.
pub const SHORT_SWEEP: [&str; 6] = [
    "--set",
    "duration=10s",
    "--set",
    "warmup=1s",
    "--set",
    "sweep.replications=2",
];

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

/// Runs the `sysdes` binary with `args` and asserts it succeeded (exit 0),
/// its stderr in the message.
pub fn sysdes_ok(args: &[&str]) -> Output {
    let out = sysdes(args);
    assert!(
        out.status.success(),
        "sysdes {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
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

/// Runs `sysdes run FILE --format json ARGS` whatever its exit status;
/// returns the exit code and the JSON document (which is written even
/// when the run fails); panics with stderr where there is none.
pub fn run_code_json(file: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["run", file.to_str().expect("utf-8"), "--format", "json"];
    all.extend_from_slice(args);
    let out = sysdes(&all);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: no JSON ({e}): {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

/// The leading comment of a scenario file (its first lines that start
/// with `#`), each line's `#` and surrounding spaces removed, joined by
/// spaces into one line.
pub fn header_comment(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every object key anywhere in a JSON document, at any depth, in order.
pub fn json_keys(value: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out
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

/// A fresh, empty (not yet created) directory named after `tag` under the
/// test target's tmp dir (`CARGO_TARGET_TMPDIR`), for one test's `--out`.
/// The process id keeps two suite runs apart; a leftover of an earlier
/// run of this process's id is removed.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sysdes-suite-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `sysdes ARGS --out DIR` into [`fresh_dir`]`(tag)`, asserts it
/// succeeded (its stderr in the message), and returns `DIR` and what the
/// command printed.
pub fn sysdes_out_output(tag: &str, args: &[&str]) -> (PathBuf, Output) {
    let dir = fresh_dir(tag);
    let mut all = args.to_vec();
    all.extend_from_slice(&["--out", dir.to_str().expect("utf-8 path")]);
    let out = sysdes_ok(&all);
    (dir, out)
}

/// Runs `sysdes ARGS --out DIR` into [`fresh_dir`]`(tag)`, asserts it
/// succeeded (its stderr in the message), and returns `DIR`.
pub fn sysdes_out(tag: &str, args: &[&str]) -> PathBuf {
    sysdes_out_output(tag, args).0
}

/// A CSV table (read with the `csv` crate, so quoted cells are unquoted):
/// its header and its rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Csv {
    /// The column names, in order.
    pub header: Vec<String>,
    /// Each row's cells, in the header's order.
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Parses CSV text whose first record is the header.
    pub fn parse(text: &str) -> Self {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader
            .headers()
            .expect("a CSV header")
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect())
            .collect();
        Self { header, rows }
    }

    /// Reads and parses the CSV file at `path`.
    pub fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{} unreadable: {e}", path.display()));
        Self::parse(&text)
    }

    /// The index of the column `name`, if there is one.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The index of the column `name`; panics naming the columns there are.
    pub fn col(&self, name: &str) -> usize {
        self.position(name)
            .unwrap_or_else(|| panic!("no column `{name}` in {:?}", self.header))
    }

    /// The cells of the column `name`, row by row.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let i = self.col(name);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }
}

/// The JSON result without its wall-clock figure, for byte comparisons.
pub fn without_wall(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("wall_time_s");
    }
    v
}
