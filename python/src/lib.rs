//! `sysdes._native`: the Rust side of the `sysdes` Python package.
//!
//! A thin layer over the library crates the CLI uses: the loader
//! (`sysdes-scenario`), the engine (`sysdes-models`), the theory
//! (`sysdes-theory`), the reports (`sysdes-report`) and sweeps
//! (`sysdes-sweep`, including its Parquet files). Nothing here simulates,
//! predicts or formats a figure itself: a run gives back the texts the CLI
//! prints or writes (`run --format json`, `--format csv`, the table,
//! `series.csv`, `latency_cdf.csv`), and `python/sysdes/__init__.py` turns
//! them into pandas DataFrames. Every function releases the GIL while it
//! works (`Python::detach`), so sweeps run on all cores and other Python
//! threads go on meanwhile.
//!
//! Scenario problems are not raised here: they come back as a list of
//! dicts (`file`, `line`, `column`, `message`, `help`, `text`) under
//! `problems`, and the Python layer raises `sysdes.ScenarioError`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use sysdes_models::{RunLimits, Simulation, StopReason};
use sysdes_report::RunInfo;
use sysdes_scenario::{LoadOptions, LoadedScenario, ScenarioError, SweepDefinition};
use sysdes_sweep::{Shard, SweepOptions, SweepPlan};

/// Where a scenario comes from: a file, or text with a display name.
enum Source {
    File(PathBuf),
    Text { name: String, text: String },
}

impl Source {
    fn new(source: String, name: Option<String>, is_path: bool) -> Source {
        if is_path {
            Source::File(PathBuf::from(source))
        } else {
            Source::Text {
                name: name.unwrap_or_else(|| "<string>".to_owned()),
                text: source,
            }
        }
    }

    fn load(&self, options: &LoadOptions) -> Result<LoadedScenario, ScenarioError> {
        match self {
            Source::File(p) => sysdes_scenario::load_file(p, options),
            Source::Text { name, text } => sysdes_scenario::load_str(name, text, options),
        }
    }

    fn load_sweep(
        &self,
        options: &LoadOptions,
        vary: &[sysdes_scenario::Vary],
    ) -> Result<(LoadedScenario, SweepDefinition), ScenarioError> {
        match self {
            Source::File(p) => sysdes_scenario::load_sweep_file(p, options, vary),
            Source::Text { name, text } => {
                sysdes_scenario::load_sweep_str(name, text, options, vary)
            }
        }
    }
}

/// What a native call gives back before it becomes a Python dict.
enum Answer {
    Problems(Vec<serde_json::Value>),
    Error(String),
    Done(serde_json::Value),
}

fn problems(error: &ScenarioError) -> Answer {
    Answer::Problems(
        error
            .problems()
            .iter()
            .map(|p| {
                serde_json::json!({
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "message": p.message,
                    "help": p.help,
                    "text": p.to_string(),
                })
            })
            .collect(),
    )
}

/// The answer as a Python dict: `{"ok": True, ...}`, `{"ok": False,
/// "problems": [...]}` or `{"ok": False, "error": TEXT}`. Nested values
/// cross as JSON text, parsed by the Python layer (`json.loads`).
fn to_dict(py: Python<'_>, answer: Answer) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    match answer {
        Answer::Problems(p) => {
            d.set_item("ok", false)?;
            d.set_item("problems", serde_json::Value::Array(p).to_string())?;
        }
        Answer::Error(e) => {
            d.set_item("ok", false)?;
            d.set_item("error", e)?;
        }
        Answer::Done(serde_json::Value::Object(m)) => {
            d.set_item("ok", true)?;
            for (k, v) in m {
                match v {
                    serde_json::Value::String(s) => d.set_item(k, s)?,
                    serde_json::Value::Bool(b) => d.set_item(k, b)?,
                    serde_json::Value::Number(n) => match n.as_u64() {
                        Some(u) => d.set_item(k, u)?,
                        None => d.set_item(k, n.as_f64())?,
                    },
                    serde_json::Value::Null => d.set_item(k, py.None())?,
                    other => d.set_item(k, other.to_string())?,
                }
            }
        }
        Answer::Done(other) => {
            d.set_item("ok", true)?;
            d.set_item("value", other.to_string())?;
        }
    }
    Ok(d)
}

fn stop_name(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Drained => "drained",
        StopReason::EventLimit => "event_limit",
        StopReason::Interrupted => "interrupted",
    }
}

/// One run, as `sysdes run` does it (without the progress bar, the wall
/// limit and `--auto-warmup`): load, simulate under the kernel's progress
/// guard, predict, report.
fn run_inner(source: &Source, options: &LoadOptions, limits: RunLimits) -> Answer {
    let scenario = match source.load(options) {
        Ok(s) => s,
        Err(e) => return problems(&e),
    };
    // Offered load comes from the theory, as on the command line.
    let offered = sysdes_theory::offered_loads(&scenario.spec);
    let simulation = match Simulation::new(&scenario.spec) {
        Ok(s) => s.with_offered_loads(offered.clone()),
        Err(e) => return Answer::Error(format!("{}: {e}", scenario.file)),
    };
    let started = Instant::now();
    let outcome = simulation.run(limits, &mut sysdes_sweep::Guarded::default());
    let wall_time_s = started.elapsed().as_secs_f64();
    let mut result = match outcome {
        Ok(r) => r,
        Err(e) => return Answer::Error(format!("{}: {e}", scenario.file)),
    };
    sysdes_theory::annotate_offered(&offered, &mut result);
    let theory = sysdes_theory::predict(&scenario.spec, None, None);
    let unmodelled = sysdes_theory::unmodelled(&scenario.spec, &theory);
    // The same cost as `sysdes run` (the shipped price table is embedded).
    let cost = (!scenario.cost.is_empty())
        .then(|| sysdes_cost::cost(&scenario.spec, &scenario.cost, &result));
    let info = RunInfo {
        wall_time_s,
        theory: Some(&theory),
        unmodelled: Some(&unmodelled),
        cost: cost.as_ref(),
        targets: &scenario.expect,
    };
    Answer::Done(serde_json::json!({
        "json": format!("{:#}\n", sysdes_report::to_json(&result, info)),
        "table": sysdes_report::to_table(&result, info),
        "summary_csv": sysdes_report::to_csv(&result),
        "series_csv": sysdes_report::series_csv(&result),
        "latency_cdf_csv": sysdes_report::latency_cdf_csv(&result),
        "stop": stop_name(result.stop),
        "unstable": sysdes_report::assess(&result).unstable(),
        "scenario_yaml": scenario.source,
    }))
}

/// Runs a scenario once. `source` is a path (`is_path`) or YAML text
/// (named `name` in messages); `overrides` are `PATH=VALUE` strings as
/// `--set` takes them. Returns a dict: `ok`, and `json` (what
/// `sysdes run --format json` prints), `table`, `summary_csv`,
/// `series_csv`, `latency_cdf_csv`, `stop`, `unstable`, `scenario_yaml`;
/// or `problems` (JSON text) / `error`.
#[pyfunction]
#[pyo3(signature = (source, is_path, overrides, seed=None, name=None, max_events=None, max_in_flight=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    source: String,
    is_path: bool,
    overrides: Vec<String>,
    seed: Option<u64>,
    name: Option<String>,
    max_events: Option<u64>,
    max_in_flight: Option<u64>,
) -> PyResult<Bound<'_, PyDict>> {
    let source = Source::new(source, name, is_path);
    let options = LoadOptions {
        overrides,
        seed,
        ..LoadOptions::default()
    };
    let limits = RunLimits {
        max_events,
        max_in_flight: max_in_flight.unwrap_or(RunLimits::default().max_in_flight),
    };
    let answer = py.detach(|| run_inner(&source, &options, limits));
    to_dict(py, answer)
}

/// Theory only, as `sysdes estimate` does it: `json` (what
/// `sysdes estimate --format json` prints) and `table` (with the steps of
/// `--explain` when `explain`).
#[pyfunction]
#[pyo3(signature = (source, is_path, overrides, seed=None, name=None, explain=false))]
fn estimate(
    py: Python<'_>,
    source: String,
    is_path: bool,
    overrides: Vec<String>,
    seed: Option<u64>,
    name: Option<String>,
    explain: bool,
) -> PyResult<Bound<'_, PyDict>> {
    let source = Source::new(source, name, is_path);
    let options = LoadOptions {
        overrides,
        seed,
        ..LoadOptions::default()
    };
    let answer = py.detach(|| match source.load(&options) {
        Err(e) => problems(&e),
        Ok(scenario) => {
            let prediction = sysdes_theory::predict(&scenario.spec, None, None);
            let name = &scenario.spec.name;
            Answer::Done(serde_json::json!({
                "json": format!("{:#}\n", sysdes_report::estimate_json(name, &prediction)),
                "table": sysdes_report::estimate_table(name, &prediction, explain),
            }))
        }
    });
    to_dict(py, answer)
}

/// A sweep into directory `out`, as `sysdes sweep --out OUT` does it (with
/// `--resume` when `resume`, `--shard I/N` when `shard`): every file of
/// the CLI's sweep directory, runs in parallel on `jobs` threads (0: one per
/// core). `vary` are `PATH=VALUES` strings as `--vary` takes them. Returns
/// `runs`, `executed`, `skipped`, `failed` and `out`.
#[pyfunction]
#[pyo3(signature = (source, is_path, overrides, vary, out, seed=None, name=None, jobs=0, resume=false, shard=None, auto_warmup=false))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    source: String,
    is_path: bool,
    overrides: Vec<String>,
    vary: Vec<String>,
    out: PathBuf,
    seed: Option<u64>,
    name: Option<String>,
    jobs: usize,
    resume: bool,
    shard: Option<String>,
    auto_warmup: bool,
) -> PyResult<Bound<'_, PyDict>> {
    let source = Source::new(source, name, is_path);
    let shard = shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| PyValueError::new_err(format!("shard: {e}")))?;
    let mut parsed = Vec::with_capacity(vary.len());
    for v in &vary {
        parsed.push(
            sysdes_scenario::parse_vary_arg(v).map_err(|e| PyValueError::new_err(e.to_string()))?,
        );
    }
    let options = LoadOptions {
        overrides,
        seed,
        ..LoadOptions::default()
    };
    let answer = py.detach(|| {
        let plan = match source
            .load_sweep(&options, &parsed)
            .and_then(|(base, def)| SweepPlan::new(base, &options, def))
        {
            Ok(p) => p,
            Err(e) => return problems(&e),
        };
        let sweep_options = SweepOptions {
            jobs,
            out: out.clone(),
            resume,
            shard,
            auto_warmup,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            limits: RunLimits::default(),
        };
        match sysdes_sweep::run_sweep(&plan, &sweep_options, &|_| {}) {
            Ok(s) => Answer::Done(serde_json::json!({
                "runs": s.runs,
                "executed": s.executed,
                "skipped": s.skipped,
                "failed": s.failed,
                "out": out.display().to_string(),
            })),
            Err(e) => Answer::Error(e.to_string()),
        }
    });
    to_dict(py, answer)
}

/// A Parquet file written by sysdes (`runs.parquet`, `summary.parquet`,
/// `run --format parquet`) as `(names, kinds, columns)`: each kind is
/// `uint64`, `float64`, `string` or `bool`, each column a list with `None`
/// for a null. Lets the Python layer build typed DataFrames without pyarrow.
#[pyfunction]
fn read_parquet(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyList>> {
    let table = py
        .detach(|| read_table(&path))
        .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
    let out = PyList::empty(py);
    for (name, kind, values) in table {
        let column = PyList::empty(py);
        for v in values {
            match v {
                Field::ULong(n) => column.append(n)?,
                Field::Long(n) => column.append(n)?,
                Field::Double(x) => column.append(x)?,
                Field::Str(s) => column.append(s)?,
                Field::Bool(b) => column.append(b)?,
                _ => column.append(py.None())?,
            }
        }
        out.append((name, kind, column))?;
    }
    Ok(out)
}

type NamedColumn = (String, &'static str, Vec<Field>);

fn read_table(path: &Path) -> Result<Vec<NamedColumn>, parquet::errors::ParquetError> {
    use parquet::basic::Type as Physical;
    let reader = SerializedFileReader::new(std::fs::File::open(path)?)?;
    let mut columns: Vec<NamedColumn> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| {
            let kind = match c.physical_type() {
                Physical::INT64 | Physical::INT32 => "uint64",
                Physical::DOUBLE | Physical::FLOAT => "float64",
                Physical::BOOLEAN => "bool",
                _ => "string",
            };
            (c.name().to_owned(), kind, Vec::new())
        })
        .collect();
    for row in reader.get_row_iter(None)? {
        for (i, (_, field)) in row?.get_column_iter().enumerate() {
            if let Some(c) = columns.get_mut(i) {
                c.2.push(field.clone());
            }
        }
    }
    Ok(columns)
}

/// The sysdes version the package was built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
