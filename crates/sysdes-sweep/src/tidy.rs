//! Typed tables of a sweep for analysis tools: the columns of `runs.csv`
//! and `summary.csv` with a type each (written as `runs.parquet` and
//! `summary.parquet`, see [`crate::parquet`]), and the long (tidy) form,
//! `runs_long.csv`, one row per run and metric.
//!
//! Like the CSV files, every table here is derived from the journal's lines
//! sorted by run index, so it is the same whatever the job count, sharding
//! or resumption (the `wall_time_s` values aside). This module writes no
//! file; it is not how the CSV files are made (`output.rs` is), and a test
//! (`tests/suite/tidy.rs`) checks that both say the same.
//!
//! Column types follow the journal's JSON: a metric whose every value is a
//! whole number (counts, written as JSON integers) is an unsigned integer
//! column, one with any fraction a float column, one with text a string
//! column, `true`/`false` a boolean column; a missing value is a null.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use sysdes_scenario::SweepValue;

use crate::SweepError;
use crate::output::{Line, lines_by_point};
use crate::parquet::{RUNS_PARQUET, SUMMARY_PARQUET, to_parquet};
use crate::record::TEXT_METRICS;

/// The long form of the runs.
pub const RUNS_LONG_CSV: &str = "runs_long.csv";

/// One typed column; `None` is a missing value.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Whole numbers: counts, indices, seeds.
    UInt(Vec<Option<u64>>),
    /// Figures.
    Float(Vec<Option<f64>>),
    /// Identifiers and other text.
    Text(Vec<Option<String>>),
    /// Yes/no flags.
    Bool(Vec<Option<bool>>),
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::UInt(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Text(v) => v.len(),
            Column::Bool(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column of the JSON `values`, typed as the module doc says.
    fn from_json(values: &[Option<&Value>]) -> Column {
        let present = || values.iter().flatten().copied().filter(|v| !v.is_null());
        if present().any(|v| v.is_string() || v.is_object() || v.is_array()) {
            return Column::Text(
                values
                    .iter()
                    .map(|v| match v {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(other) => Some(other.to_string()),
                    })
                    .collect(),
            );
        }
        if present().any(Value::is_boolean) && !present().any(Value::is_number) {
            return Column::Bool(values.iter().map(|v| v.and_then(Value::as_bool)).collect());
        }
        if present().all(Value::is_u64) && present().next().is_some() {
            return Column::UInt(values.iter().map(|v| v.and_then(Value::as_u64)).collect());
        }
        Column::Float(
            values
                .iter()
                .map(|v| v.and_then(Value::as_f64).filter(|f| f.is_finite()))
                .collect(),
        )
    }
}

/// A table: named, typed columns of equal length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Column names, in order.
    pub names: Vec<String>,
    /// The columns, in the order of `names`.
    pub columns: Vec<Column>,
}

impl Table {
    fn push(&mut self, name: impl Into<String>, column: Column) {
        self.names.push(name.into());
        self.columns.push(column);
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }
}

fn uint_column(lines: &[Line], key: &str) -> Column {
    Column::UInt(
        lines
            .iter()
            .map(|l| l.record.get(key).and_then(Value::as_u64))
            .collect(),
    )
}

fn param_text(record: &Value, path: &str) -> String {
    record
        .get("params")
        .and_then(|m| m.get(path))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// The two columns of each parameter, as in the CSV files: its text as
/// written (`PATH`) and its number (`PATH#value`).
fn push_params(table: &mut Table, records: &[&Value], parameters: &[String]) {
    for p in parameters {
        let texts: Vec<String> = records.iter().map(|r| param_text(r, p)).collect();
        let numbers = texts
            .iter()
            .map(|t| SweepValue::from_text(t.clone()).number)
            .collect();
        table.push(
            p.clone(),
            Column::Text(texts.into_iter().map(Some).collect()),
        );
        table.push(format!("{p}#value"), Column::Float(numbers));
    }
}

/// The columns of `runs.csv`, typed: one row per journal line (`lines`
/// sorted by run index, as `finalize` has them).
pub fn runs_table(lines: &[Line], parameters: &[String], metrics: &[String]) -> Table {
    let mut t = Table::default();
    for key in ["run_index", "point", "replication", "seed"] {
        t.push(key, uint_column(lines, key));
    }
    let records: Vec<&Value> = lines.iter().map(|l| &l.record).collect();
    push_params(&mut t, &records, parameters);
    for m in metrics {
        let values: Vec<Option<&Value>> = lines
            .iter()
            .map(|l| l.record.get("metrics").and_then(|x| x.get(m)))
            .collect();
        t.push(m.clone(), Column::from_json(&values));
    }
    t
}

/// The columns of `summary.csv`, typed: one row per point, the mean and
/// Student-t 95 % bounds of every numeric metric over its replications.
pub fn summary_table(lines: &[Line], parameters: &[String], summary_metrics: &[String]) -> Table {
    let by_point = lines_by_point(lines);
    let mut t = Table::default();
    t.push(
        "point",
        Column::UInt(by_point.keys().map(|p| Some(*p)).collect()),
    );
    let firsts: Vec<&Value> = by_point.values().map(|runs| &runs[0].record).collect();
    push_params(&mut t, &firsts, parameters);
    t.push(
        "replications",
        Column::UInt(by_point.values().map(|r| Some(r.len() as u64)).collect()),
    );
    let steady = by_point
        .values()
        .map(|runs| {
            let n = runs
                .iter()
                .filter(|l| {
                    l.record
                        .get("metrics")
                        .and_then(|m| m.get("steady"))
                        .and_then(Value::as_bool)
                        == Some(true)
                })
                .count();
            Some(n as f64 / runs.len().max(1) as f64)
        })
        .collect();
    t.push("steady_fraction", Column::Float(steady));
    for m in summary_metrics {
        let mut mean = Vec::with_capacity(by_point.len());
        let mut low = Vec::with_capacity(by_point.len());
        let mut high = Vec::with_capacity(by_point.len());
        for runs in by_point.values() {
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
                mean.push(None);
                low.push(None);
                high.push(None);
            } else {
                let [m, l, h] = crate::output::summary_stats(&samples);
                mean.push(m);
                low.push(l);
                high.push(h);
            }
        }
        t.push(format!("{m}_mean"), Column::Float(mean));
        t.push(format!("{m}_ci95_low"), Column::Float(low));
        t.push(format!("{m}_ci95_high"), Column::Float(high));
    }
    t
}

/// A column name that pandas, R and Polars read unchanged: every character
/// other than an ASCII letter, digit or underscore becomes `_`, and a name
/// starting with a digit gets a leading `x`.
pub fn tidy_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'x');
    }
    out
}

/// The column names of a wide Parquet file (`runs.parquet`,
/// `summary.parquet`, `run --format parquet`): [`tidy_name`] of each of the
/// CSV file's `names`, in order, a repeat made unique by a `_2`, `_3`, ...
/// suffix. `hit_ratio:cache` is `hit_ratio_cache`, the number of parameter
/// `components.cache.capacity` (`components.cache.capacity#value` in the
/// CSV) is `components_cache_capacity_value`.
pub fn tidy_columns(names: &[String]) -> Vec<String> {
    tidy_names(names, &[])
}

/// The table with [`tidy_columns`] names: what the Parquet files hold.
pub fn tidied(mut table: Table) -> Table {
    table.names = tidy_columns(&table.names);
    table
}

/// [`tidy_name`] of each of `names`, made unique against `taken` and each
/// other by a `_2`, `_3`, ... suffix.
fn tidy_names(names: &[String], taken: &[&str]) -> Vec<String> {
    let mut used: Vec<String> = taken.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let base = tidy_name(n);
        let mut name = base.clone();
        let mut k = 2;
        while used.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        used.push(name.clone());
        out.push(name);
    }
    out
}

/// A metric name split into (component, metric): `FIGURE:COMPONENT` gives
/// `(COMPONENT, FIGURE)` (a consumer group keeps its `COMPONENT/GROUP`);
/// a system-wide metric has an empty component.
pub fn split_metric(name: &str) -> (&str, &str) {
    match name.split_once(':') {
        Some((figure, component)) => (component, figure),
        None => ("", name),
    }
}

/// The fixed leading columns of the long form.
pub const LONG_COLUMNS: &[&str] = &["run", "point", "replication", "seed"];

/// The header of the long form: `run,point,replication,seed`, two columns
/// per parameter (its text, and `_value` its number; names made of letters,
/// digits and underscores, see [`tidy_name`]), then `component,metric,value`.
pub fn long_header(parameters: &[String]) -> Vec<String> {
    let mut header: Vec<String> = LONG_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    header.extend(long_param_names(
        parameters,
        &["component", "metric", "value"],
    ));
    header.extend(["component", "metric", "value"].map(str::to_owned));
    header
}

/// The two tidy column names of each parameter (its text; `_value`, its
/// number), unique against the fixed columns and `trailing`.
fn long_param_names(parameters: &[String], trailing: &[&str]) -> Vec<String> {
    let mut taken: Vec<&str> = LONG_COLUMNS.to_vec();
    taken.push("replications");
    taken.extend(trailing);
    let mut doubled = Vec::with_capacity(parameters.len() * 2);
    for p in parameters {
        doubled.push(p.clone());
        doubled.push(format!("{p}_value"));
    }
    tidy_names(&doubled, &taken)
}

/// The trailing columns of the long summary.
pub const SUMMARY_LONG_COLUMNS: &[&str] =
    &["component", "metric", "n", "mean", "ci_low", "ci_high"];

/// The long (tidy) summary, `summary_long.csv` and `summary_long.parquet`:
/// one row per point and numeric metric, in point order and then
/// `summary_metrics` order. Columns: `point`, two per parameter as in
/// [`long_header`], `replications` (runs of the point), then `component`,
/// `metric` (see [`split_metric`]), `n` (runs with a value of the metric),
/// `mean`, `ci_low` and `ci_high` (Student-t 95 % bounds, equal to the mean
/// with one value; all three null with none). The same figures as
/// `summary.csv`.
pub fn summary_long_table(
    lines: &[Line],
    parameters: &[String],
    summary_metrics: &[String],
) -> Table {
    let by_point = lines_by_point(lines);
    let rows = by_point.len() * summary_metrics.len();
    let mut point = Vec::with_capacity(rows);
    // Per parameter: its text and its number, a row each.
    type ParamColumns = (Vec<Option<String>>, Vec<Option<f64>>);
    let mut params: Vec<ParamColumns> =
        vec![(Vec::with_capacity(rows), Vec::with_capacity(rows)); parameters.len()];
    let mut replications = Vec::with_capacity(rows);
    let mut component = Vec::with_capacity(rows);
    let mut metric = Vec::with_capacity(rows);
    let mut n = Vec::with_capacity(rows);
    let mut mean = Vec::with_capacity(rows);
    let mut low = Vec::with_capacity(rows);
    let mut high = Vec::with_capacity(rows);
    for (p, runs) in &by_point {
        let first = &runs[0].record;
        for m in summary_metrics {
            point.push(Some(*p));
            for (path, (texts, numbers)) in parameters.iter().zip(params.iter_mut()) {
                let text = param_text(first, path);
                numbers.push(SweepValue::from_text(text.clone()).number);
                texts.push(Some(text));
            }
            replications.push(Some(runs.len() as u64));
            let (c, f) = split_metric(m);
            component.push(Some(c.to_owned()));
            metric.push(Some(f.to_owned()));
            let samples: Vec<f64> = runs
                .iter()
                .filter_map(|l| {
                    l.record
                        .get("metrics")
                        .and_then(|x| x.get(m))
                        .and_then(Value::as_f64)
                })
                .collect();
            n.push(Some(samples.len() as u64));
            if samples.is_empty() {
                mean.push(None);
                low.push(None);
                high.push(None);
            } else {
                let [m, l, h] = crate::output::summary_stats(&samples);
                mean.push(m);
                low.push(l);
                high.push(h);
            }
        }
    }
    let mut t = Table::default();
    t.push("point", Column::UInt(point));
    let names = long_param_names(parameters, SUMMARY_LONG_COLUMNS);
    for (pair, (texts, numbers)) in names.chunks(2).zip(params) {
        t.push(pair[0].clone(), Column::Text(texts));
        t.push(pair[1].clone(), Column::Float(numbers));
    }
    t.push("replications", Column::UInt(replications));
    t.push("component", Column::Text(component));
    t.push("metric", Column::Text(metric));
    t.push("n", Column::UInt(n));
    t.push("mean", Column::Float(mean));
    t.push("ci_low", Column::Float(low));
    t.push("ci_high", Column::Float(high));
    t
}

/// A typed table as CSV text: a header of its names, a missing value an
/// empty cell, whole numbers as integers, figures as the shortest text that
/// reads back to the same `f64`, flags `true`/`false`.
pub fn table_csv(table: &Table) -> String {
    let mut out = table
        .names
        .iter()
        .map(|n| csv_cell(n))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in 0..table.rows() {
        for (i, column) in table.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = match column {
                Column::UInt(v) => v[row].map_or(Ok(()), |x| write!(out, "{x}")),
                Column::Float(v) => v[row].map_or(Ok(()), |x| write!(out, "{x}")),
                Column::Text(v) => v[row]
                    .as_deref()
                    .map_or(Ok(()), |x| write!(out, "{}", csv_cell(x))),
                Column::Bool(v) => v[row].map_or(Ok(()), |x| write!(out, "{x}")),
            };
        }
        out.push('\n');
    }
    out
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `runs_long.csv`: one row per run and numeric metric (the text and yes/no
/// metrics, [`TEXT_METRICS`], stay in the wide `runs.csv`), in run order and
/// then `metrics` order; a missing value is an empty cell. Counts are
/// written as integers, figures as the shortest text that reads back to the
/// same `f64`.
pub fn runs_long_csv(lines: &[Line], parameters: &[String], metrics: &[String]) -> String {
    let mut out = long_header(parameters).join(",");
    out.push('\n');
    let numeric: Vec<(&String, (&str, &str))> = metrics
        .iter()
        .filter(|m| !TEXT_METRICS.contains(&m.as_str()))
        .map(|m| (m, split_metric(m)))
        .collect();
    for line in lines {
        let r = &line.record;
        let mut prefix = String::new();
        let _ = write!(prefix, "{}", line.run_index);
        for key in ["point", "replication", "seed"] {
            let _ = write!(
                prefix,
                ",{}",
                r.get(key)
                    .and_then(Value::as_u64)
                    .map_or_else(String::new, |v| v.to_string())
            );
        }
        for p in parameters {
            let text = param_text(r, p);
            let number = SweepValue::from_text(text.clone()).number;
            let _ = write!(
                prefix,
                ",{},{}",
                csv_cell(&text),
                number.map_or_else(String::new, |f| f.to_string())
            );
        }
        let m = r.get("metrics");
        for (name, (component, metric)) in &numeric {
            let value = match m.and_then(|m| m.get(name.as_str())) {
                Some(Value::Number(n)) => n
                    .as_u64()
                    .map(|u| u.to_string())
                    .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.to_string()))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{prefix},{},{},{value}",
                csv_cell(component),
                csv_cell(metric)
            );
        }
    }
    out
}

/// The columns of a run's summary CSV (`sysdes run --format csv`, one row
/// per scope; `sysdes_report::to_csv`), typed: `scope`, `name` and `type`
/// text, the request counts whole numbers, every other column a float; an
/// empty cell is a null. Parsing the CSV keeps one source for the values:
/// every float there is written as the shortest text that reads back to
/// the same `f64`. Used by `sysdes run --format parquet`.
pub fn run_summary_table(csv_text: &str) -> Table {
    const TEXT: [&str; 3] = ["scope", "name", "type"];
    const COUNTS: [&str; 5] = ["generated", "completed", "failed", "timed_out", "dropped"];
    typed_table(csv_text, &COUNTS, &TEXT)
}

/// A CSV file sysdes writes (`series.csv`, `latency_cdf.csv`) as a typed
/// table with tidy names ([`tidy_columns`]): the `counts` columns are
/// [`Column::UInt`], any other column of numbers [`Column::Float`] (so the
/// schema does not depend on the values), one with text [`Column::Text`];
/// an empty cell is a null.
pub fn csv_table(csv_text: &str, counts: &[&str]) -> Table {
    tidied(typed_table(csv_text, counts, &[]))
}

/// A CSV text sysdes wrote, typed: `text` columns [`Column::Text`], `counts`
/// [`Column::UInt`], any other column [`Column::Float`] when every cell
/// reads as a number, else text; an empty cell is a null. The text is our
/// own output, so a row the reader cannot parse does not occur.
fn typed_table(csv_text: &str, counts: &[&str], text: &[&str]) -> Table {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    let names: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let records: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    let mut t = Table::default();
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<Option<&str>> = records
            .iter()
            .map(|r| r.get(i).filter(|c| !c.is_empty()))
            .collect();
        let column = if text.contains(&name.as_str()) {
            Column::Text(cells.iter().map(|c| c.map(str::to_owned)).collect())
        } else if counts.contains(&name.as_str()) {
            Column::UInt(
                cells
                    .iter()
                    .map(|c| c.and_then(|c| c.parse().ok()))
                    .collect(),
            )
        } else if cells.iter().flatten().all(|c| c.parse::<f64>().is_ok()) {
            Column::Float(
                cells
                    .iter()
                    .map(|c| c.and_then(|c| c.parse().ok()))
                    .collect(),
            )
        } else {
            Column::Text(cells.iter().map(|c| c.map(str::to_owned)).collect())
        };
        t.push(name.clone(), column);
    }
    t
}

/// The numeric figures of one JSON object (a component or a workload of
/// the result JSON) under flat names, as the Python package's `Result`
/// names them: `requests.completed` is `completed`, `latency_ms.p99` is
/// `latency_p99_ms` (`latency_ms.count` is `latency_count`), any other
/// nested object's keys are joined with `_` (`theory.mean_ms` is
/// `theory_mean_ms`). Text, flags, lists and nulls are left out.
fn flat_numbers(
    object: &serde_json::Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, f64)>,
) {
    for (key, value) in object {
        match value {
            Value::Object(inner) if key == "requests" => flat_numbers(inner, prefix, out),
            Value::Object(inner) if key == "latency_ms" => {
                for (k, v) in inner {
                    if let Some(x) = v.as_f64() {
                        let name = if k == "count" {
                            format!("{prefix}latency_count")
                        } else {
                            format!("{prefix}latency_{k}_ms")
                        };
                        out.push((name, x));
                    }
                }
            }
            Value::Object(inner) => flat_numbers(inner, &format!("{prefix}{key}_"), out),
            Value::Number(n) => {
                if let Some(x) = n.as_f64().filter(|x| x.is_finite()) {
                    out.push((format!("{prefix}{key}"), x));
                }
            }
            _ => {}
        }
    }
}

/// The long table of one scope of the result JSON (`components` or
/// `workloads`): one row per object and numeric figure, columns `name`
/// (the column is called `scope_column`), for components `type`, then
/// `metric` (a tidy name, [`tidy_name`]) and `value`.
fn scope_table(json: &Value, scope: &str, scope_column: &str, with_type: bool) -> Table {
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut metrics = Vec::new();
    let mut values = Vec::new();
    if let Some(Value::Object(objects)) = json.get(scope) {
        for (name, object) in objects {
            let Value::Object(object) = object else {
                continue;
            };
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mut figures = Vec::new();
            flat_numbers(object, "", &mut figures);
            for (metric, value) in figures {
                names.push(Some(name.clone()));
                types.push(kind.clone());
                metrics.push(Some(tidy_name(&metric)));
                values.push(Some(value));
            }
        }
    }
    let mut t = Table::default();
    t.push(scope_column, Column::Text(names));
    if with_type {
        t.push("type", Column::Text(types));
    }
    t.push("metric", Column::Text(metrics));
    t.push("value", Column::Float(values));
    t
}

/// The count columns of `series.csv` (whole numbers per interval).
const SERIES_COUNTS: &[&str] = &["completed", "dropped", "timed_out", "failed", "in_flight"];

/// Every table of one run for `sysdes run --format parquet --out DIR`, each
/// with the name of its file: `summary.parquet` (the `--format csv` rows,
/// [`run_summary_table`]), `components.parquet` (long: `component`,
/// `type`, `metric`, `value`, one row per component and numeric figure of
/// the result JSON), `workloads.parquet` (long: `workload`, `metric`,
/// `value`), `series.parquet` (`series.csv`, typed: counts
/// unsigned, the rest doubles; tidy names: the
/// column `cache.hit_ratio` is `cache_hit_ratio`) and `latency_cdf.parquet`
/// (`latency_cdf.csv`). A Parquet file holds one table, hence five files.
pub fn run_tables(
    summary_csv: &str,
    json: &Value,
    series_csv: &str,
    latency_cdf_csv: &str,
) -> Vec<(&'static str, Table)> {
    vec![
        ("summary.parquet", tidied(run_summary_table(summary_csv))),
        (
            "components.parquet",
            scope_table(json, "components", "component", true),
        ),
        (
            "workloads.parquet",
            scope_table(json, "workloads", "workload", false),
        ),
        ("series.parquet", csv_table(series_csv, SERIES_COUNTS)),
        ("latency_cdf.parquet", csv_table(latency_cdf_csv, &[])),
    ]
}

/// The long summary as CSV.
pub const SUMMARY_LONG_CSV: &str = "summary_long.csv";
/// The long summary as Parquet.
pub const SUMMARY_LONG_PARQUET: &str = "summary_long.parquet";

/// Writes `runs.parquet`, `summary.parquet` (their column names made tidy,
/// [`tidy_columns`]), `runs_long.csv`, `summary_long.csv` and
/// `summary_long.parquet` into `dir`
/// (each through a temporary file and a rename), from `lines` sorted by run
/// index and the column lists `finalize` uses for the CSV files.
pub fn write_tidy(
    dir: &Path,
    lines: &[Line],
    parameters: &[String],
    metrics: &[String],
    summary_metrics: &[String],
) -> Result<(), SweepError> {
    let runs = to_parquet(&tidied(runs_table(lines, parameters, metrics)))?;
    write_bytes(dir, RUNS_PARQUET, &runs)?;
    let summary = to_parquet(&tidied(summary_table(lines, parameters, summary_metrics)))?;
    write_bytes(dir, SUMMARY_PARQUET, &summary)?;
    let long = runs_long_csv(lines, parameters, metrics);
    write_bytes(dir, RUNS_LONG_CSV, long.as_bytes())?;
    let summary_long = summary_long_table(lines, parameters, summary_metrics);
    write_bytes(dir, SUMMARY_LONG_CSV, table_csv(&summary_long).as_bytes())?;
    write_bytes(dir, SUMMARY_LONG_PARQUET, &to_parquet(&summary_long)?)
}

fn write_bytes(dir: &Path, name: &str, contents: &[u8]) -> Result<(), SweepError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, contents).map_err(|e| SweepError::io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| SweepError::io(&dir.join(name), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sysdes_stats::mean_ci;

    #[test]
    fn tidy_names_keep_letters_digits_and_underscores_only() {
        assert_eq!(
            tidy_name("workloads.users.arrival.poisson"),
            "workloads_users_arrival_poisson"
        );
        assert_eq!(tidy_name("hit_ratio:cache/g#1"), "hit_ratio_cache_g_1");
        assert_eq!(tidy_name("9lives"), "x9lives");
        let names = tidy_names(&["a.b".to_owned(), "a:b".to_owned()], &["run"]);
        assert_eq!(names, ["a_b", "a_b_2"]);
    }

    #[test]
    fn a_run_summary_is_typed_by_column() {
        let t = run_summary_table(
            "scope,name,type,generated,latency_mean_ms\nsystem,\"a,b\",,12,0.5\ncomponent,api,server,,\n",
        );
        assert_eq!(
            t.names,
            ["scope", "name", "type", "generated", "latency_mean_ms"]
        );
        assert_eq!(
            t.columns[1],
            Column::Text(vec![Some("a,b".into()), Some("api".into())])
        );
        assert_eq!(
            t.columns[2],
            Column::Text(vec![None, Some("server".into())])
        );
        assert_eq!(t.columns[3], Column::UInt(vec![Some(12), None]));
        assert_eq!(t.columns[4], Column::Float(vec![Some(0.5), None]));
    }

    #[test]
    fn metrics_split_into_component_and_figure() {
        assert_eq!(split_metric("utilization:api"), ("api", "utilization"));
        assert_eq!(split_metric("lag:log/readers"), ("log/readers", "lag"));
        assert_eq!(split_metric("latency_p99_ms"), ("", "latency_p99_ms"));
    }

    #[test]
    fn columns_take_the_type_of_their_json_values() {
        let (a, b, f, s, t) = (json!(3), json!(4), json!(2.0), json!("api"), json!(true));
        assert_eq!(
            Column::from_json(&[Some(&a), None, Some(&b)]),
            Column::UInt(vec![Some(3), None, Some(4)])
        );
        assert_eq!(
            Column::from_json(&[Some(&a), Some(&f)]),
            Column::Float(vec![Some(3.0), Some(2.0)])
        );
        assert_eq!(
            Column::from_json(&[Some(&s), Some(&Value::Null)]),
            Column::Text(vec![Some("api".into()), None])
        );
        assert_eq!(
            Column::from_json(&[Some(&t), None]),
            Column::Bool(vec![Some(true), None])
        );
        assert_eq!(Column::from_json(&[None]), Column::Float(vec![None]));
    }

    #[test]
    fn the_long_form_has_one_row_per_run_and_numeric_metric() {
        let record = json!({
            "run_index": 0, "point": 0, "replication": 0, "seed": 7,
            "params": { "workloads.users.arrival.poisson": "20/s" },
            "metrics": { "completed": 10, "bottleneck": "api", "utilization:api": 0.5 },
        });
        let lines = vec![Line {
            run_index: 0,
            text: record.to_string(),
            record,
        }];
        let metrics = ["completed", "bottleneck", "utilization:api"].map(str::to_owned);
        let text = runs_long_csv(
            &lines,
            &["workloads.users.arrival.poisson".to_owned()],
            &metrics,
        );
        assert_eq!(
            text,
            "run,point,replication,seed,workloads_users_arrival_poisson,workloads_users_arrival_poisson_value,component,metric,value\n\
             0,0,0,7,20/s,20,,completed,10\n\
             0,0,0,7,20/s,20,api,utilization,0.5\n"
        );
    }

    fn line(run_index: u64, point: u64, rate: &str, util: Value) -> Line {
        let record = json!({
            "run_index": run_index, "point": point, "replication": run_index % 2, "seed": 7,
            "params": { "workloads.users.arrival.poisson": rate },
            "metrics": { "completed": 10 + run_index, "utilization:api": util },
        });
        Line {
            run_index,
            text: record.to_string(),
            record,
        }
    }

    fn is_tidy(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    #[test]
    fn the_long_summary_has_one_row_per_point_and_metric() {
        let lines = vec![
            line(0, 0, "20/s", json!(0.25)),
            line(1, 0, "20/s", json!(0.75)),
            line(2, 1, "40/s", json!(1.0)),
            line(3, 1, "40/s", Value::Null),
        ];
        let params = ["workloads.users.arrival.poisson".to_owned()];
        let metrics = ["completed", "utilization:api"].map(str::to_owned);
        let t = summary_long_table(&lines, &params, &metrics);
        assert_eq!(
            t.names,
            [
                "point",
                "workloads_users_arrival_poisson",
                "workloads_users_arrival_poisson_value",
                "replications",
                "component",
                "metric",
                "n",
                "mean",
                "ci_low",
                "ci_high"
            ]
        );
        assert!(t.names.iter().all(|n| is_tidy(n)), "{:?}", t.names);
        let csv = table_csv(&t);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 5, "{csv}");
        // completed at point 0: 10 and 11, mean 10.5, t(0.975, 1) = 12.706
        // times the standard error 0.5.
        let ci = mean_ci(&[10.0, 11.0]);
        assert!((ci.high() - 10.5 - 12.706 * 0.5).abs() < 1e-3, "{ci:?}");
        // Written to 12 significant digits (16.853102368000002 in binary
        // arithmetic).
        assert_eq!(
            rows[1],
            "0,20/s,20,2,,completed,2,10.5,4.146897632,16.853102368"
        );
        let [_, low, high] = crate::output::summary_stats(&[0.25, 0.75]);
        assert!((high.unwrap_or(0.0) - 0.5 - 12.706 * 0.25).abs() < 1e-3);
        assert_eq!(
            rows[2],
            format!(
                "0,20/s,20,2,api,utilization,2,0.5,{},{}",
                low.unwrap_or(f64::NAN),
                high.unwrap_or(f64::NAN)
            )
        );
        // One value: bounds at the mean, as in summary.csv.
        assert_eq!(rows[4], "1,40/s,40,2,api,utilization,1,1,1,1");
        assert_eq!(summary_long_table(&[], &params, &metrics).rows(), 0);
    }

    #[test]
    fn wide_parquet_names_are_tidy_and_unique() {
        let lines = vec![line(0, 0, "20/s", json!(0.5))];
        let params = ["workloads.users.arrival.poisson".to_owned()];
        let metrics = ["completed", "utilization:api", "utilization_api"].map(str::to_owned);
        for table in [
            tidied(runs_table(&lines, &params, &metrics)),
            tidied(summary_table(&lines, &params, &metrics[..2])),
        ] {
            assert!(table.names.iter().all(|n| is_tidy(n)), "{:?}", table.names);
            let mut unique = table.names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), table.names.len(), "{:?}", table.names);
        }
        let runs = tidied(runs_table(&lines, &params, &metrics));
        assert_eq!(
            runs.names[4..],
            [
                "workloads_users_arrival_poisson",
                "workloads_users_arrival_poisson_value",
                "completed",
                "utilization_api",
                "utilization_api_2"
            ]
        );
    }

    #[test]
    fn a_run_gives_long_component_and_workload_tables() {
        let result = json!({
            "requests": { "completed": 5 },
            "workloads": { "users": { "requests": { "completed": 5 }, "offered_rps": 2.5 } },
            "components": {
                "api": {
                    "type": "server",
                    "utilization": 0.5,
                    "latency_ms": { "p99": 3.0, "count": 5 },
                    "offered_load": null,
                    "theory": { "method": "M/M/1", "exact": true, "mean_ms": 2.0 },
                },
            },
        });
        let tables = run_tables(
            "scope,name,completed\nsystem,,5\n",
            &result,
            "start_s,end_s,completed,api.queue\n0,0.5,3,1\n0.5,1,2,0\n",
            "latency_ms,fraction\n1,0.5\n3,1\n",
        );
        let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "summary.parquet",
                "components.parquet",
                "workloads.parquet",
                "series.parquet",
                "latency_cdf.parquet"
            ]
        );
        let components = &tables[1].1;
        assert_eq!(components.names, ["component", "type", "metric", "value"]);
        assert_eq!(
            components.columns[2],
            Column::Text(
                [
                    "utilization",
                    "latency_p99_ms",
                    "latency_count",
                    "theory_mean_ms"
                ]
                .map(|m| Some(m.to_owned()))
                .to_vec()
            )
        );
        assert_eq!(
            components.columns[3],
            Column::Float(vec![Some(0.5), Some(3.0), Some(5.0), Some(2.0)])
        );
        assert_eq!(
            tables[2].1.columns[1],
            Column::Text(vec![Some("completed".into()), Some("offered_rps".into())])
        );
        let series = &tables[3].1;
        assert_eq!(series.names, ["start_s", "end_s", "completed", "api_queue"]);
        assert_eq!(series.columns[1], Column::Float(vec![Some(0.5), Some(1.0)]));
        assert_eq!(series.columns[2], Column::UInt(vec![Some(3), Some(2)]));
        for (name, table) in &tables {
            assert!(
                table.names.iter().all(|n| is_tidy(n)),
                "{name}: {:?}",
                table.names
            );
        }
    }
}
