//! Scaffolding shared by the loader's unit tests (`tests.rs`,
//! `build/tests/*.rs`, `build/KIND.rs`): load a scenario from text and get
//! its spec or its problems.

use sysdes_models::ModelSpec;

use crate::{LoadOptions, Problem, load_str};

/// Loads `text` (as file `t.yaml`) with `options`: the spec, or every problem found.
pub(crate) fn load_with(text: &str, options: &LoadOptions) -> Result<ModelSpec, Vec<Problem>> {
    load_str("t.yaml", text, options)
        .map(|l| l.spec)
        .map_err(|e| e.problems().to_vec())
}

/// Loads `text` (as file `t.yaml`) with the default options.
pub(crate) fn load(text: &str) -> Result<ModelSpec, Vec<Problem>> {
    load_with(text, &LoadOptions::default())
}

/// The problems of `text`, which must not load.
#[track_caller]
pub(crate) fn problems(text: &str) -> Vec<Problem> {
    match load(text) {
        Ok(spec) => panic!("expected problems, got {spec:#?}"),
        Err(problems) => problems,
    }
}

/// The problems of `text`, which must not load, each as the loader prints it.
#[track_caller]
pub(crate) fn problem_texts(text: &str) -> Vec<String> {
    problems(text).iter().map(ToString::to_string).collect()
}

/// The problems of `text` as `line:column: message (help)`, empty when it
/// loads.
pub(crate) fn located(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|p| {
                format!(
                    "{}:{}: {} ({})",
                    p.line,
                    p.column,
                    p.message,
                    p.help.clone().unwrap_or_default()
                )
            })
            .collect(),
    }
}

/// Asserts that one of `problems` contains `needle`.
#[track_caller]
pub(crate) fn has(problems: &[String], needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "no problem contains {needle:?}: {problems:#?}"
    );
}

/// A scenario whose one component, `gpu`, is a `model_server` with `body`
/// (its keys, indented by four spaces), fed 100 requests per second.
pub(crate) fn model_server_scenario(body: &str) -> String {
    format!(
        "name: t\nduration: 10s\nworkloads:\n  - name: users\n    target: gpu\n    arrival: {{ poisson: 100/s }}\ncomponents:\n  gpu:\n    type: model_server\n{body}"
    )
}

/// The kind of the first component of `text`, or every problem found.
pub(crate) fn first_kind(text: &str) -> Result<sysdes_models::ComponentKind, Vec<Problem>> {
    let spec = load(text)?;
    Ok(spec
        .components
        .into_iter()
        .next()
        .expect("a loaded scenario has a component")
        .kind)
}

/// The one problem of `text`, which must not load: (line, column, message, help).
#[track_caller]
pub(crate) fn only_problem(text: &str) -> (usize, usize, String, Option<String>) {
    let problems = problems(text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    (p.line, p.column, p.message.clone(), p.help.clone())
}
