//! The files of a sweep directory: `manifest.json`, `runs.jsonl`,
//! `runs.csv` and `summary.csv` (and, from the same lines, the typed and
//! long files of `tidy.rs`).
//!
//! `runs.jsonl` is the journal: one line per finished run, appended as runs
//! finish. The CSV files are always derived from the journal's lines (never
//! from in-memory results), sorted by run index, so they come out the same
//! byte for byte whether the sweep ran on one core or many, in one go or
//! resumed, in one process or as merged shards.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sysdes_scenario::{SweepValue, VarySpec};
use sysdes_stats::mean_ci;

use crate::SweepError;
use crate::plan::SweepPlan;
use crate::record::{
    CONSISTENCY_METRICS, TEXT_METRICS, add_consistency_metrics, add_figure_metrics, metric_names,
};

/// Names of the sweep directory's files.
pub const MANIFEST: &str = "manifest.json";
/// The journal of finished runs.
pub const RUNS_JSONL: &str = "runs.jsonl";
/// One row per run.
pub const RUNS_CSV: &str = "runs.csv";
/// One row per point.
pub const SUMMARY_CSV: &str = "summary.csv";

/// A `--shard I/N` slice: the runs with `run_index % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u64,
    /// Number of shards, at least 1.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("expected `I/N` such as `0/4`, found `{text}`"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{i}` is not a whole number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a whole number"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "the shard index counts from 0 to N-1, so `{text}` is out of range"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether run `run_index` belongs to this shard.
    pub fn contains(&self, run_index: u64) -> bool {
        run_index % self.count == self.index
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The manifest of a sweep (without wall-clock figures, so it is the same
/// on every machine); `shard` is present only for a shard's directory.
pub fn manifest(
    plan: &SweepPlan,
    tool_version: &str,
    auto_warmup: bool,
    shard: Option<Shard>,
) -> Value {
    let def = &plan.definition;
    let vary: Vec<Value> = def
        .vary
        .iter()
        .map(|v| {
            let spec = match &v.spec {
                VarySpec::List => json!({ "list": v.values.len() }),
                VarySpec::Range { from, to, step } => {
                    json!({ "from": from, "to": to, "step": step })
                }
                VarySpec::Points {
                    from,
                    to,
                    points,
                    log,
                } => json!({ "from": from, "to": to, "points": points, "log": log }),
            };
            let values: Vec<&str> = v.values.iter().map(|x| x.text.as_str()).collect();
            json!({ "path": v.path, "spec": spec, "values": values })
        })
        .collect();
    let parameters: Vec<&str> = def.vary.iter().map(|v| v.path.as_str()).collect();
    // The utilization and figure columns depend on what the runs report:
    // `finalize` adds them from the journal.
    let metrics = metric_names(&[]);
    let summary_metrics: Vec<&String> = metrics
        .iter()
        .filter(|m| !TEXT_METRICS.contains(&m.as_str()))
        .collect();
    let file_name = Path::new(&plan.base.file).file_name().map_or_else(
        || plan.base.file.clone(),
        |f| f.to_string_lossy().into_owned(),
    );
    let mut m = Map::new();
    m.insert("sysdes_version".into(), json!(tool_version));
    m.insert("scenario".into(), json!(plan.base.spec.name));
    m.insert("scenario_file".into(), json!(file_name));
    m.insert(
        "scenario_sha256".into(),
        json!(sha256_hex(plan.base.source.as_bytes())),
    );
    m.insert("overrides".into(), json!(plan.overrides));
    m.insert("seed".into(), json!(plan.base.spec.seed));
    m.insert("auto_warmup".into(), json!(auto_warmup));
    m.insert(
        "sweep".into(),
        json!({
            "vary": vary,
            "combine": def.combine.to_string(),
            "replications": def.replications,
            "seeds": def.seeds.to_string(),
        }),
    );
    m.insert("parameters".into(), json!(parameters));
    m.insert("metrics".into(), json!(metrics));
    m.insert("summary_metrics".into(), json!(summary_metrics));
    m.insert("points".into(), json!(plan.points.len()));
    m.insert("runs".into(), json!(plan.run_count()));
    if let Some(s) = shard {
        m.insert(
            "shard".into(),
            json!({ "index": s.index, "count": s.count }),
        );
    }
    Value::Object(m)
}

/// The manifest as file text.
pub fn manifest_text(manifest: &Value) -> String {
    format!("{manifest:#}\n")
}

/// Writes `contents` to `dir/name` through a temporary file and a rename.
pub fn write_atomic(dir: &Path, name: &str, contents: &str) -> Result<(), SweepError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, contents).map_err(|e| SweepError::io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| SweepError::io(&dir.join(name), e))
}

/// One journal line, kept as written, with its run index.
#[derive(Clone, Debug)]
pub struct Line {
    /// The run's index.
    pub run_index: u64,
    /// The line's text, without the newline.
    pub text: String,
    /// The parsed record.
    pub record: Value,
}

/// Reads a journal, keeping the first complete line of each run for which
/// `keep` is true; unparsable lines (a line cut short by a crash) are skipped.
pub fn read_journal(path: &Path, keep: impl Fn(u64) -> bool) -> Result<Vec<Line>, SweepError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SweepError::io(path, e)),
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(run_index) = record.get("run_index").and_then(Value::as_u64) else {
            continue;
        };
        if !record.get("metrics").is_some_and(Value::is_object) {
            continue;
        }
        if keep(run_index) && seen.insert(run_index) {
            lines.push(Line {
                run_index,
                text: line.to_owned(),
                record,
            });
        }
    }
    Ok(lines)
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn value_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::String(s)) => csv_cell(s),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) => float_cell(f),
            _ => String::new(),
        },
        Some(other) => csv_cell(&other.to_string()),
    }
}

/// The mean and Student-t 95 % bounds of one metric's replications, as
/// `summary.csv`, `summary_long.csv` and the Parquet summaries write them:
/// rounded to 12 significant digits (the mean of three runs of 50.003967
/// is 50.00396699999999 in binary arithmetic; no run is that precise), and
/// `None` where not finite (one replication has no interval).
pub(crate) fn summary_stats(samples: &[f64]) -> [Option<f64>; 3] {
    let ci = mean_ci(samples);
    let tidy = |f: f64| {
        f.is_finite()
            .then(|| format!("{f:.11e}").parse::<f64>().unwrap_or(f))
    };
    [tidy(ci.mean), tidy(ci.low()), tidy(ci.high())]
}

fn float_cell(f: f64) -> String {
    if f.is_finite() {
        format!("{f}")
    } else {
        String::new()
    }
}

/// The parameter cells of a record: for each path, the text and `#value`.
fn param_cells(record: &Value, parameters: &[String]) -> Vec<String> {
    let mut cells = Vec::with_capacity(parameters.len() * 2);
    for p in parameters {
        let text = record
            .get("params")
            .and_then(|m| m.get(p))
            .and_then(Value::as_str)
            .unwrap_or("");
        cells.push(csv_cell(text));
        let number = SweepValue::from_text(text.to_owned()).number;
        cells.push(number.map_or_else(String::new, float_cell));
    }
    cells
}

fn param_header(parameters: &[String]) -> Vec<String> {
    parameters
        .iter()
        .flat_map(|p| [csv_cell(p), csv_cell(&format!("{p}#value"))])
        .collect()
}

/// `runs.csv`: one row per journal line, sorted by run index.
pub fn runs_csv(lines: &[Line], parameters: &[String], metrics: &[String]) -> String {
    let mut out = String::new();
    let mut header = vec![
        "run_index".to_owned(),
        "point".to_owned(),
        "replication".to_owned(),
        "seed".to_owned(),
    ];
    header.extend(param_header(parameters));
    header.extend(metrics.iter().map(|m| csv_cell(m)));
    out.push_str(&header.join(","));
    out.push('\n');
    for line in lines {
        let r = &line.record;
        let mut row = vec![
            line.run_index.to_string(),
            value_cell(r.get("point")),
            value_cell(r.get("replication")),
            value_cell(r.get("seed")),
        ];
        row.extend(param_cells(r, parameters));
        let m = r.get("metrics");
        row.extend(
            metrics
                .iter()
                .map(|name| value_cell(m.and_then(|m| m.get(name)))),
        );
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The journal's lines grouped by point, in point order (what `summary.csv`
/// and `summary.parquet` both summarise).
pub(crate) fn lines_by_point(lines: &[Line]) -> BTreeMap<u64, Vec<&Line>> {
    let mut by_point: BTreeMap<u64, Vec<&Line>> = BTreeMap::new();
    for line in lines {
        let point = line
            .record
            .get("point")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        by_point.entry(point).or_default().push(line);
    }
    by_point
}

/// `summary.csv`: one row per point present, mean and Student-t 95 % bounds
/// over its replications for every numeric metric.
pub fn summary_csv(lines: &[Line], parameters: &[String], summary_metrics: &[String]) -> String {
    let by_point = lines_by_point(lines);
    let mut out = String::new();
    let mut header = vec!["point".to_owned()];
    header.extend(param_header(parameters));
    header.push("replications".to_owned());
    header.push("steady_fraction".to_owned());
    for m in summary_metrics {
        for suffix in ["mean", "ci95_low", "ci95_high"] {
            header.push(csv_cell(&format!("{m}_{suffix}")));
        }
    }
    out.push_str(&header.join(","));
    out.push('\n');
    for (point, runs) in &by_point {
        let mut row = vec![point.to_string()];
        if let Some(first) = runs.first() {
            row.extend(param_cells(&first.record, parameters));
        }
        row.push(runs.len().to_string());
        let steady = runs
            .iter()
            .filter(|l| {
                l.record
                    .get("metrics")
                    .and_then(|m| m.get("steady"))
                    .and_then(Value::as_bool)
                    == Some(true)
            })
            .count();
        row.push(float_cell(steady as f64 / runs.len().max(1) as f64));
        for m in summary_metrics {
            let samples: Vec<f64> = runs
                .iter()
                .filter_map(|l| {
                    l.record
                        .get("metrics")
                        .and_then(|x| x.get(m))
                        .and_then(Value::as_f64)
                })
                .collect();
            if samples.is_empty() {
                row.extend([String::new(), String::new(), String::new()]);
            } else {
                for x in summary_stats(&samples) {
                    row.push(x.map_or_else(String::new, float_cell));
                }
            }
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn string_list(manifest: &Value, key: &str) -> Vec<String> {
    manifest
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Sorts the journal, rewrites it (temp file and rename) and writes the
/// CSV files and the manifest. `lines` may be in any order.
pub fn finalize(dir: &Path, manifest: &Value, mut lines: Vec<Line>) -> Result<(), SweepError> {
    lines.sort_by_key(|l| l.run_index);
    lines.dedup_by_key(|l| l.run_index);
    let parameters = string_list(manifest, "parameters");
    let mut metrics = string_list(manifest, "metrics");
    let mut summary_metrics = string_list(manifest, "summary_metrics");
    // Runs of a model with a replicated store carry consistency metrics.
    let consistency = lines.iter().any(|l| {
        l.record
            .get("metrics")
            .is_some_and(|m| CONSISTENCY_METRICS.iter().any(|c| m.get(*c).is_some()))
    });
    if consistency {
        add_consistency_metrics(&mut metrics, false);
        add_consistency_metrics(&mut summary_metrics, true);
    }
    // Component figures (`FIGURE:COMPONENT`): every metric a run has beyond
    // the columns above, in the order the runs (by index) first have them.
    let mut figures: Vec<&str> = Vec::new();
    for l in &lines {
        if let Some(Value::Object(m)) = l.record.get("metrics") {
            for name in m.keys() {
                if !metrics.contains(name) && !figures.contains(&name.as_str()) {
                    figures.push(name);
                }
            }
        }
    }
    add_figure_metrics(&mut metrics, figures.iter().copied());
    add_figure_metrics(
        &mut summary_metrics,
        figures
            .iter()
            .copied()
            .filter(|f| !TEXT_METRICS.contains(f)),
    );
    let mut journal = String::new();
    for l in &lines {
        journal.push_str(&l.text);
        journal.push('\n');
    }
    write_atomic(dir, RUNS_JSONL, &journal)?;
    write_atomic(dir, RUNS_CSV, &runs_csv(&lines, &parameters, &metrics))?;
    write_atomic(
        dir,
        SUMMARY_CSV,
        &summary_csv(&lines, &parameters, &summary_metrics),
    )?;
    crate::tidy::write_tidy(dir, &lines, &parameters, &metrics, &summary_metrics)?;
    write_atomic(dir, MANIFEST, &manifest_text(manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_like_kubernetes_indices() {
        assert_eq!(Shard::parse("0/2"), Ok(Shard { index: 0, count: 2 }));
        assert!(Shard::parse("2/2").is_err());
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("x").is_err());
        let s = Shard { index: 1, count: 3 };
        assert!(s.contains(4) && !s.contains(3));
    }

    #[test]
    fn journal_skips_torn_and_duplicate_lines() {
        let dir = std::env::temp_dir().join(format!("sysdes-sweep-journal-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("runs.jsonl");
        let text = "{\"run_index\":1,\"metrics\":{}}\n{\"run_index\":0,\"metrics\":{}}\n{\"run_index\":1,\"metrics\":{\"x\":1}}\n{\"run_index\":2,\"met";
        let _ = std::fs::write(&path, text);
        let lines = read_journal(&path, |_| true).unwrap_or_default();
        let indices: Vec<u64> = lines.iter().map(|l| l.run_index).collect();
        assert_eq!(indices, [1, 0]);
        assert_eq!(lines[0].text, "{\"run_index\":1,\"metrics\":{}}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn summaries_carry_no_binary_noise() {
        let x = 50.003967;
        assert_ne!((x + x + x) / 3.0, x, "the noise this guards against");
        assert_eq!(summary_stats(&[x, x, x]), [Some(x), Some(x), Some(x)]);
        let [mean, ..] = summary_stats(&[1.0, 2.0, 4.0]);
        assert_eq!(mean.map(float_cell).as_deref(), Some("2.33333333333"));
        assert_eq!(summary_stats(&[5.0])[0], Some(5.0));
    }

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(value_cell(Some(&json!(2.5))), "2.5");
        assert_eq!(value_cell(Some(&json!(20.0))), "20");
        assert_eq!(value_cell(Some(&Value::Null)), "");
    }
}
