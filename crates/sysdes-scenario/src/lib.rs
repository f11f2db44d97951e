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

mod build;
mod de;
mod error;
mod node;
mod overrides;
mod raw;
pub mod units;

use std::path::Path;

pub use error::{Problem, ScenarioError};
pub use sysdes_models::ModelSpec;

use node::{Issue, Node, Origin};

/// Options that change a scenario as it is loaded (from the command line).
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--set PATH=VALUE` overrides, applied in order (a later one wins).
    pub overrides: Vec<String>,
    /// `--seed N`: replaces the scenario's `seed` (after every override).
    pub seed: Option<u64>,
}

/// A successfully loaded scenario, with what is needed to report on it.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    /// The validated model, ready to simulate.
    pub spec: ModelSpec,
    /// The file's display name, as given to [`load_str`] or the path given to [`load_file`].
    pub file: String,
    /// The original text of the file (before overrides).
    pub source: String,
}

/// Reads, parses and validates the scenario file at `path`.
///
/// A file that cannot be read is reported as a [`ScenarioError`] with one
/// problem at line 0.
pub fn load_file(path: &Path, options: &LoadOptions) -> Result<LoadedScenario, ScenarioError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&file, &text, options),
        Err(e) => Err(ScenarioError::unlocated(
            &file,
            format!("cannot read the scenario file: {e}"),
        )),
    }
}

/// Parses and validates scenario `text`; `file` is the name used in messages.
///
/// Every problem in the text and in `options.overrides` is reported, each
/// with its position; see [`ScenarioError`].
pub fn load_str(
    file: &str,
    text: &str,
    options: &LoadOptions,
) -> Result<LoadedScenario, ScenarioError> {
    let fail =
        |issues: Vec<Issue>| ScenarioError::from_issues(file, text, &options.overrides, issues);
    let (mut root, mut issues) = match node::parse(text) {
        Ok(parsed) => parsed,
        Err(issue) => return Err(fail(vec![issue])),
    };
    if matches!(root.node, Node::Null) {
        return Err(fail(vec![Issue {
            origin: Origin::File {
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            message: "the file is empty; a scenario needs at least `name`, `duration`, `workloads` and `components`"
                .to_owned(),
            help: None,
        }]));
    }
    overrides::apply(&mut root, &options.overrides, &mut issues);
    let spec = build::build(&root, &mut issues);
    match spec {
        Some(mut spec) if issues.is_empty() => {
            if let Some(seed) = options.seed {
                spec.seed = seed;
            }
            Ok(LoadedScenario {
                spec,
                file: file.to_owned(),
                source: text.to_owned(),
            })
        }
        _ => Err(fail(issues)),
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
    schema.to_value()
}

#[cfg(test)]
mod tests;
