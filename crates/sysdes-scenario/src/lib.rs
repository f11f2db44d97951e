//! Scenario files for sysdes: YAML in, a validated [`ModelSpec`] out.
//!
//! This crate owns the user-facing scenario format (documented in
//! `docs/scenario-format.md`): units (`5ms`, `900/s`, `64KiB`), distributions,
//! workloads, components, `--set` overrides, and validation that reports
//! *every* problem with its file, line and column. It does not simulate
//! anything and knows nothing of results; the models never see YAML.
//!
//! ```text
//!  text ──serde-saphyr──▶ tree of values with positions
//!                           │  --set PATH=VALUE edits the tree
//!                           ▼
//!        typed raw structs (serde over the tree; errors keep positions)
//!                           │  ranges, references, cycles (all collected)
//!                           ▼
//!                       ModelSpec  (names resolved to ComponentId, ns, per second)
//! ```
//!
//! # Example
//!
//! ```
//! use sysdes_scenario::{LoadOptions, load_str};
//!
//! let text = "
//! name: mm1
//! duration: 2000s
//! warmup: 100s
//! workloads:
//!   - name: users
//!     target: server
//!     arrival: { poisson: 0.9/s }
//! components:
//!   server:
//!     type: server
//!     service_time: { exponential: 1s }
//! ";
//! let options = LoadOptions {
//!     overrides: vec!["workloads.users.arrival.poisson=0.5/s".into()],
//!     seed: Some(42),
//!     ..LoadOptions::default()
//! };
//! let loaded = load_str("mm1.yaml", text, &options)?;
//! assert_eq!(loaded.spec.seed, 42);
//! assert_eq!(loaded.spec.workloads[0].arrival.open_rate_per_second(), Some(0.5));
//!
//! // Mistakes are reported with file, line and column, all at once.
//! let bad = text.replace("service_time", "service_tme").replace("target: server", "target: sever");
//! let err = load_str("mm1.yaml", &bad, &LoadOptions::default()).unwrap_err();
//! assert_eq!(err.problems().len(), 2);
//! assert!(err.to_string().contains("mm1.yaml:7:13: there is no component named `sever` (help: did you mean `server`?)"));
//! # Ok::<(), sysdes_scenario::ScenarioError>(())
//! ```

pub mod budget;
mod build;
mod de;
mod error;
mod node;
mod overrides;
mod raw;
mod sweep;
pub mod trace;
pub mod units;

use std::path::Path;

pub use error::{Problem, ScenarioError};
pub use sweep::{
    Combine, MAX_SWEEP_POINTS, MAX_SWEEP_RUNS, SeedMode, SweepDefinition, SweepValue, Vary,
    VaryArgError, VarySpec, parse_vary_arg,
};
pub use sysdes_models::ModelSpec;

use node::{Issue, Node, Origin};

/// Options that change a scenario as it is loaded (from the command line).
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--set PATH=VALUE` overrides, applied in order (a later one wins).
    pub overrides: Vec<String>,
    /// `--seed N`: replaces the scenario's `seed` (after every override).
    pub seed: Option<u64>,
    /// `--max-memory SIZE`: the memory budget in bytes the scenario's counts
    /// are checked against at load; `None` is [`budget::DEFAULT_MAX_MEMORY`].
    pub max_memory: Option<u64>,
    /// `--prices FILE`: price rows that override the shipped price table
    /// (the scenario's own `prices:` override both); see `docs/cost.md`.
    pub prices: Option<sysdes_cost::PriceTable>,
}

/// The largest scenario file read, in bytes (16 MiB); a longer one (or an
/// endless one such as `/dev/zero`) is refused after reading this much.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Why [`read_bounded`] could not give a file's text.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The file holds more than the limit, in bytes.
    TooLarge(u64),
    /// The file is not UTF-8 text.
    NotUtf8(std::string::FromUtf8Error),
}

impl std::fmt::Display for ReadError {
    /// The reason as a clause about the file ("it is not UTF-8 text ..."),
    /// for the caller to put after the file's name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge(limit) => write!(
                f,
                "it is larger than the limit of {} MiB (see docs/limits.md)",
                limit >> 20
            ),
            ReadError::NotUtf8(e) => write!(f, "it is not UTF-8 text ({e})"),
        }
    }
}

/// Reads at most `limit` bytes of `path` as UTF-8 text: the one bounded
/// reader for every file a scenario loads (the scenario itself, a trace, an
/// iteration table), so a huge or endless file (`/dev/zero`) is refused
/// after reading `limit + 1` bytes.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(ReadError::NotUtf8)
}

/// Reads a scenario file (at most [`MAX_FILE_BYTES`]); the error is the
/// message shown for it.
fn read_scenario(path: &Path) -> Result<String, String> {
    read_bounded(path, MAX_FILE_BYTES).map_err(|e| match e {
        ReadError::TooLarge(limit) => format!(
            "the scenario file is larger than the limit of {} MiB (see docs/limits.md)",
            limit >> 20
        ),
        e => format!("cannot read the scenario file: {e}"),
    })
}

/// A successfully loaded scenario, with what is needed to report on it.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    /// The validated model, ready to simulate.
    pub spec: ModelSpec,
    /// What the scenario declares it pays (empty when it declares no
    /// `cost:`); `sysdes_cost::cost` prices a run of `spec` with it.
    pub cost: sysdes_cost::CostSpec,
    /// The file's display name, as given to [`load_str`] or the path given to [`load_file`].
    pub file: String,
    /// The original text of the file (before overrides).
    pub source: String,
    /// The file's `expect:` targets, checked after the run (empty without one).
    pub expect: Vec<sysdes_models::expect_spec::Target>,
    /// Settings the scenario gives that change nothing in this run (a
    /// workload `priority` with no priority discipline anywhere, a routing
    /// or arrival phase that starts after the end of the run), located
    /// like errors; the CLI prints each as `warning: ...` and runs anyway.
    pub warnings: Vec<Problem>,
}

/// Reads, parses and validates the scenario file at `path`.
///
/// A file that cannot be read is reported as a [`ScenarioError`] with one
/// problem at line 0.
pub fn load_file(path: &Path, options: &LoadOptions) -> Result<LoadedScenario, ScenarioError> {
    let file = path.display().to_string();
    match read_scenario(path) {
        Ok(text) => load_str(&file, &text, options),
        Err(e) => Err(ScenarioError::unlocated(&file, e)),
    }
}

/// Parses and validates scenario `text`; `file` is the name used in
/// messages, and files the scenario names (a trace) are read relative to
/// its directory.
///
/// Every problem in the text and in `options.overrides` is reported, each
/// with its position; see [`ScenarioError`]. A `sweep:` block is accepted
/// (and checked) but otherwise ignored; see [`load_sweep_str`].
pub fn load_str(
    file: &str,
    text: &str,
    options: &LoadOptions,
) -> Result<LoadedScenario, ScenarioError> {
    load_inner(file, text, options, &[])
        .map(|(loaded, _)| loaded)
        .map_err(|issues| ScenarioError::from_issues(file, text, &options.overrides, issues))
}

/// Like [`load_file`], and also returns the sweep: the file's `sweep:`
/// block (after `--set` overrides) with `vary` (from `--vary` arguments)
/// merged in, a path given in both taking the `--vary` values. With neither,
/// the definition has no varied paths and one point.
pub fn load_sweep_file(
    path: &Path,
    options: &LoadOptions,
    vary: &[Vary],
) -> Result<(LoadedScenario, SweepDefinition), ScenarioError> {
    let file = path.display().to_string();
    match read_scenario(path) {
        Ok(text) => load_sweep_str(&file, &text, options, vary),
        Err(e) => Err(ScenarioError::unlocated(&file, e)),
    }
}

/// Like [`load_str`], and also returns the sweep definition; see [`load_sweep_file`].
pub fn load_sweep_str(
    file: &str,
    text: &str,
    options: &LoadOptions,
    vary: &[Vary],
) -> Result<(LoadedScenario, SweepDefinition), ScenarioError> {
    load_inner(file, text, options, vary)
        .map_err(|issues| ScenarioError::from_issues(file, text, &options.overrides, issues))
}

/// Loads point `point` of `sweep`: the scenario `base` (as loaded with
/// `options`) with the point's values applied as extra `--set` overrides.
///
/// A value that does not fit its path (say `round_robbin` for a policy) is
/// reported at the value's position in the `sweep:` block.
pub fn load_point(
    base: &LoadedScenario,
    options: &LoadOptions,
    sweep: &SweepDefinition,
    point: usize,
) -> Result<LoadedScenario, ScenarioError> {
    let first = options.overrides.len();
    let mut overrides = options.overrides.clone();
    overrides.extend(sweep.overrides(point));
    let point_options = LoadOptions {
        overrides,
        seed: options.seed,
        max_memory: options.max_memory,
        prices: options.prices.clone(),
    };
    let choice = sweep.choice(point);
    load_inner(&base.file, &base.source, &point_options, &[])
        .map(|(loaded, _)| loaded)
        .map_err(|issues| {
            let issues = issues
                .into_iter()
                .map(|mut issue| {
                    if let Origin::Set { index, .. } = issue.origin {
                        if let Some(path_index) = index.checked_sub(first) {
                            let value_origin = choice
                                .get(path_index)
                                .and_then(|&c| sweep.origin_of(path_index, c));
                            if let Some(origin @ Origin::File { .. }) = value_origin {
                                let (path, value) = sweep
                                    .vary
                                    .get(path_index)
                                    .and_then(|v| {
                                        v.values
                                            .get(choice.get(path_index).copied().unwrap_or(0))
                                            .map(|x| (v.path.as_str(), x.text.as_str()))
                                    })
                                    .unwrap_or(("", ""));
                                issue.origin = origin;
                                issue.message = format!(
                                    "sweep value `{value}` for `{path}`: {}",
                                    issue.message
                                );
                            }
                        }
                    }
                    issue
                })
                .collect();
            ScenarioError::from_issues(&base.file, &base.source, &point_options.overrides, issues)
        })
}

fn load_inner(
    file: &str,
    text: &str,
    options: &LoadOptions,
    vary: &[Vary],
) -> Result<(LoadedScenario, SweepDefinition), Vec<Issue>> {
    let (mut root, mut issues) = match node::parse(text) {
        Ok(parsed) => parsed,
        Err(issue) => return Err(vec![issue]),
    };
    if matches!(root.node, Node::Null) {
        return Err(vec![Issue {
            origin: Origin::File {
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            message: "the file is empty; a scenario needs at least `name`, `duration`, `workloads` and `components`"
                .to_owned(),
            help: None,
        }]);
    }
    overrides::apply(&mut root, &options.overrides, &mut issues);
    // The budget first: nothing is built for a scenario over it.
    if !budget::check(&root, options.max_memory, &mut issues) {
        return Err(issues);
    }
    // Files the scenario names (traces) are relative to its directory.
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    // Costs are read apart: the kinds' readers see the tree without them.
    let spec = build::build(&build::cost::without_cost(&root), dir, &mut issues);
    let cost = build::cost::read(&root, spec.as_ref(), options.prices.as_ref(), &mut issues);
    let expect = build::expect::read(&root, spec.as_ref(), &mut issues);
    let mut definition = sweep::read(&root, &mut issues).unwrap_or_default();
    if !vary.is_empty() {
        for v in vary {
            definition.set_vary(v.clone());
        }
        sweep::check_combined(&definition, &root, &mut issues);
    }
    sweep::check_size(&definition, &root, &mut issues);
    match spec {
        Some(mut spec) if issues.is_empty() => {
            if let Some(seed) = options.seed {
                spec.seed = seed;
            }
            // Spot interruptions are faults of the model (drawn per run).
            spec.faults.extend(cost.interruption_faults(spec.duration));
            let warnings = build::ignored::warnings(&root, &spec);
            let warnings = if warnings.is_empty() {
                Vec::new()
            } else {
                ScenarioError::from_issues(file, text, &options.overrides, warnings)
                    .problems()
                    .to_vec()
            };
            Ok((
                LoadedScenario {
                    spec,
                    cost,
                    file: file.to_owned(),
                    source: text.to_owned(),
                    expect,
                    warnings,
                },
                definition,
            ))
        }
        _ => Err(issues),
    }
}

/// The JSON Schema (draft 2020-12) of the scenario format, for editors.
///
/// `sysdes schema` prints it; see `docs/editor-setup.md`.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(raw::ScenarioDoc);
    schema.insert(
        "title".to_owned(),
        serde_json::Value::from("sysdes scenario"),
    );
    let mut value = schema.to_value();
    build::cost::extend_schema(&mut value);
    value
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
