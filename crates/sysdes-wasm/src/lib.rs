//! sysdes in the browser: the scenario loader, the engine, the theory and
//! the reports behind a small [`wasm_bindgen`](mod@wasm_bindgen) API, for the web playground
//! (`web/`) and for `node` (the cross-target determinism check).
//!
//! ```text
//!  editor text ──validate()──► [{line, column, message, help}]   (the CLI's problems)
//!              ──run()───────► {json, table, series_csv, ...}    (json: the bytes of
//!                                                                `sysdes run --format json`)
//!              ──topology()──► the diagram as SVG (the CLI's topology.svg)
//! ```
//!
//! Every function takes and returns strings (JSON where structured), so the
//! JavaScript side needs no glue beyond `JSON.parse`. This crate does no I/O
//! and keeps no state between calls: a run is a pure function of the text,
//! the overrides and the seed, exactly as on the command line. Nothing here
//! is specific to the browser except the clock used for the wall-time keys
//! and the progress callback; the same functions run natively in tests.

use serde_json::{Value, json};
use sysdes_kernel::SimTime;
use sysdes_models::{Observer, RunLimits, Simulation, StopReason};
use sysdes_report::RunInfo;
use sysdes_scenario::{LoadOptions, ScenarioError};
use wasm_bindgen::prelude::*;

/// The file name the browser's scenario is reported under in messages.
pub const FILE_NAME: &str = "scenario.yaml";

/// The problems of a scenario as a JSON array of
/// `{line, column, message, help, text}` (line and column 1-based, 0 when
/// the problem is not in the text, for example in an override; `text` is the
/// CLI's one-line rendering), or `[]` when the scenario is valid.
#[wasm_bindgen]
pub fn validate(text: &str, overrides: &str) -> String {
    let options = LoadOptions {
        overrides: parse_overrides(overrides),
        seed: None,
        ..LoadOptions::default()
    };
    match sysdes_scenario::load_str(FILE_NAME, text, &options) {
        Ok(_) => "[]".to_owned(),
        Err(e) => problems_json(&e).to_string(),
    }
}

/// The JSON Schema of the scenario format (what `sysdes schema` prints),
/// for the editor's completion.
#[wasm_bindgen]
pub fn schema() -> String {
    format!("{:#}\n", sysdes_scenario::json_schema())
}

/// Runs a scenario and returns a JSON object:
///
/// - on success `{"ok": true, "json": TEXT, "table": TEXT, "series_csv":
///   TEXT, "latency_cdf_csv": TEXT, "stop": "drained" | "event_limit" |
///   "interrupted", "events": N, "wall_time_s": S}`, where `json` is byte
///   for byte what `sysdes run --format json` prints for the same text,
///   overrides and seed (apart from the keys containing `wall`);
/// - for an invalid scenario `{"ok": false, "problems": [...]}` as
///   [`validate`] returns them;
/// - for a run that fails (an unstable system) `{"ok": false, "error": MESSAGE}`.
///
/// `seed` is a decimal `u64` or empty for the scenario's own; `overrides`
/// holds one `PATH=VALUE` per line, as `--set` takes them. `progress`, if
/// given, is called every 65536 events with the simulated seconds so far
/// and the scenario's duration in seconds; returning `false` stops the run
/// (the result is then partial and `stop` says `interrupted`).
#[wasm_bindgen]
pub fn run(text: &str, seed: &str, overrides: &str, progress: Option<js_sys::Function>) -> String {
    let mut observer = JsProgress {
        callback: progress,
        duration_s: 0.0,
    };
    run_with(text, seed, overrides, &mut observer, now_ms).to_string()
}

/// The topology diagram of a scenario as SVG (what the CLI writes as
/// `topology.svg`); `result_json`, the `json` text of a [`run`] (or empty),
/// colours each component by its utilization. An invalid scenario gives an
/// empty string.
#[wasm_bindgen]
pub fn topology(text: &str, overrides: &str, result_json: &str) -> String {
    let options = LoadOptions {
        overrides: parse_overrides(overrides),
        seed: None,
        ..LoadOptions::default()
    };
    let Ok(loaded) = sysdes_scenario::load_str(FILE_NAME, text, &options) else {
        return String::new();
    };
    let result: Option<Value> = serde_json::from_str(result_json).ok();
    sysdes_plot::topology::topology_svg(&loaded.spec, result.as_ref())
}

/// The Vega-Lite specs of a run's plots, from the `json`, `series_csv` and
/// `latency_cdf_csv` texts of a [`run`]: a JSON array of `{"name", "spec"}`
/// (`latency_cdf`, `timeseries`), the specs `sysdes plot` writes with each
/// CSV inline, so the page and the CLI draw from one spec. Documents that
/// cannot be plotted give `{"error": MESSAGE}`.
#[wasm_bindgen]
pub fn plot_specs(result_json: &str, series_csv: &str, latency_cdf_csv: &str) -> String {
    match sysdes_plot::run_specs(result_json, series_csv, latency_cdf_csv) {
        Ok(specs) => Value::Array(
            specs
                .into_iter()
                .map(|(name, spec)| json!({ "name": name, "spec": spec }))
                .collect(),
        )
        .to_string(),
        Err(e) => json!({ "error": e.to_string() }).to_string(),
    }
}

/// The work behind [`run`], with the observer and the clock passed in so
/// that it runs natively too.
pub fn run_with(
    text: &str,
    seed: &str,
    overrides: &str,
    observer: &mut dyn ProgressSink,
    clock_ms: fn() -> f64,
) -> Value {
    let seed = match seed.trim() {
        "" => None,
        s => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return json!({
                    "ok": false,
                    "error": format!("invalid seed `{s}`: expected a whole number from 0 to {}", u64::MAX),
                });
            }
        },
    };
    let options = LoadOptions {
        overrides: parse_overrides(overrides),
        seed,
        ..LoadOptions::default()
    };
    let scenario = match sysdes_scenario::load_str(FILE_NAME, text, &options) {
        Ok(s) => s,
        Err(e) => return json!({ "ok": false, "problems": problems_json(&e) }),
    };
    // Offered load comes from the theory, as on the command line.
    let offered = sysdes_theory::offered_loads(&scenario.spec);
    let simulation = match Simulation::new(&scenario.spec) {
        Ok(s) => s.with_offered_loads(offered.clone()),
        Err(e) => return json!({ "ok": false, "error": format!("{FILE_NAME}: {e}") }),
    };
    observer.start((SimTime::ZERO + scenario.spec.duration).as_nanos() as f64 / 1e9);
    let started = clock_ms();
    let mut adapter = ObserverAdapter(observer, sysdes_kernel::ProgressGuard::new());
    let outcome = simulation.run(RunLimits::default(), &mut adapter);
    let wall_time_s = (clock_ms() - started) / 1e3;
    let theory = sysdes_theory::predict(&scenario.spec, None, None);
    let unmodelled = sysdes_theory::unmodelled(&scenario.spec, &theory);
    let mut result = match outcome {
        Ok(r) => r,
        Err(e) => return json!({ "ok": false, "error": format!("{FILE_NAME}: {e}") }),
    };
    sysdes_theory::annotate_offered(&offered, &mut result);
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
    let stop = match result.stop {
        StopReason::Drained => "drained",
        StopReason::EventLimit => "event_limit",
        StopReason::Interrupted => "interrupted",
    };
    // The loader's warnings (settings that change nothing in this run), one
    // located line each, as `sysdes run` prints them on stderr.
    let warnings: Vec<String> = scenario
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    json!({
        "ok": true,
        "warnings": warnings,
        "json": format!("{:#}\n", sysdes_report::to_json(&result, info)),
        "table": sysdes_report::to_table(&result, info),
        "series_csv": sysdes_report::series_csv(&result),
        "latency_cdf_csv": sysdes_report::latency_cdf_csv(&result),
        "stop": stop,
        "events": result.events,
        "wall_time_s": wall_time_s,
    })
}

/// Where a run reports its progress (the JavaScript callback in the
/// browser, nothing in tests).
pub trait ProgressSink {
    /// Called once before the run with the scenario's duration in seconds.
    fn start(&mut self, duration_s: f64);
    /// Called every 65536 events; return `false` to stop the run.
    fn progress(&mut self, now_s: f64, events: u64) -> bool;
}

/// A sink that ignores progress and never stops a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn start(&mut self, _: f64) {}
    fn progress(&mut self, _: f64, _: u64) -> bool {
        true
    }
}

/// Turns the engine's [`Observer`] calls into [`ProgressSink`] calls.
/// The page's progress sink behind the engine's observer, with the same
/// progress guard as the CLI: a loop whose simulated time stops advancing
/// ends the run instead of hanging the worker.
struct ObserverAdapter<'a>(&'a mut dyn ProgressSink, sysdes_kernel::ProgressGuard);

impl Observer for ObserverAdapter<'_> {
    fn progress(&mut self, now: SimTime, events: u64) -> bool {
        self.1.check(now, events).is_none() && self.0.progress(now.as_nanos() as f64 / 1e9, events)
    }
}

/// Progress reported to a JavaScript function `(now_s, duration_s, events) -> bool?`.
struct JsProgress {
    callback: Option<js_sys::Function>,
    duration_s: f64,
}

impl ProgressSink for JsProgress {
    fn start(&mut self, duration_s: f64) {
        self.duration_s = duration_s;
    }

    fn progress(&mut self, now_s: f64, events: u64) -> bool {
        let Some(callback) = &self.callback else {
            return true;
        };
        let answer = callback.call3(
            &JsValue::NULL,
            &JsValue::from_f64(now_s),
            &JsValue::from_f64(self.duration_s),
            &JsValue::from_f64(events as f64),
        );
        // Only an explicit `false` stops; an exception or `undefined` goes on.
        !matches!(answer, Ok(v) if v.as_bool() == Some(false))
    }
}

/// Milliseconds on a monotonic-enough clock: `Date.now()` in the browser
/// and in node (`std::time::Instant` does not exist on wasm32-unknown-unknown).
#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// One `PATH=VALUE` per non-empty line.
fn parse_overrides(overrides: &str) -> Vec<String> {
    overrides
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn problems_json(error: &ScenarioError) -> Value {
    Value::Array(
        error
            .problems()
            .iter()
            .map(|p| {
                json!({
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

#[cfg(test)]
mod tests {
    use super::*;

    const MM1: &str = "
name: mm1
duration: 200s
warmup: 10s
workloads:
  - name: users
    target: server
    arrival: { poisson: 0.5/s }
components:
  server:
    type: server
    service_time: { exponential: 1s }
";

    #[test]
    fn a_valid_scenario_has_no_problems() {
        assert_eq!(validate(MM1, ""), "[]");
    }

    #[test]
    fn problems_carry_the_cli_position_and_help() {
        let bad = MM1.replace("target: server", "target: sever");
        let problems: Value = serde_json::from_str(&validate(&bad, "")).unwrap();
        let first = &problems[0];
        assert_eq!(first["line"], 7);
        assert_eq!(first["column"], 13);
        assert_eq!(first["help"], "did you mean `server`?");
        assert_eq!(
            first["text"],
            "scenario.yaml:7:13: there is no component named `sever` (help: did you mean `server`?)"
        );
    }

    #[test]
    fn run_gives_the_json_of_the_cli_report_and_honours_seed_and_overrides() {
        let out = run_with(
            MM1,
            "7",
            "workloads.users.arrival.poisson=0.25/s\n",
            &mut NoProgress,
            now_ms,
        );
        assert_eq!(out["ok"], true, "{out}");
        let doc: Value = serde_json::from_str(out["json"].as_str().unwrap()).unwrap();
        assert_eq!(doc["seed"], 7, "{doc:#}");
        assert_eq!(out["stop"], "drained");
        let again = run_with(
            MM1,
            "7",
            "workloads.users.arrival.poisson=0.25/s",
            &mut NoProgress,
            now_ms,
        );
        assert_eq!(
            strip_wall(&out["json"]),
            strip_wall(&again["json"]),
            "same seed, same bytes"
        );
    }

    /// `expect:` targets reach the browser as they reach the CLI: the JSON's
    /// `targets` array and the table's `targets` section.
    #[test]
    fn targets_are_in_the_json_and_the_table() {
        let text = format!(
            "{MM1}expect:\n  - {{ workload: users, p99: \"< 1ms\", completed: \">= 1\" }}\n"
        );
        let out = run_with(&text, "", "", &mut NoProgress, now_ms);
        assert_eq!(out["ok"], true, "{out}");
        let doc: Value = serde_json::from_str(out["json"].as_str().unwrap()).unwrap();
        assert_eq!(doc["targets"][0]["target"], "users p99 < 1ms");
        assert_eq!(doc["targets"][0]["met"], false);
        assert_eq!(doc["targets"][1]["met"], true);
        let table = out["table"].as_str().unwrap();
        assert!(table.contains("targets: 1 of 2 met"), "{table}");
        let plain = run_with(MM1, "", "", &mut NoProgress, now_ms);
        assert!(!plain["json"].as_str().unwrap().contains("\"targets\""));
    }

    /// Regression: the playground showed none of the loader's warnings.
    /// A workload priority with no priority server is the CLI's located
    /// warning, returned with the result; a clean scenario has none.
    #[test]
    fn the_loaders_warnings_come_with_the_result() {
        let text = MM1.replace(
            "    arrival: { poisson: 0.5/s }",
            "    arrival: { poisson: 0.5/s }\n    priority: 1",
        );
        let out = run_with(&text, "", "", &mut NoProgress, || 0.0);
        assert_eq!(out["ok"], true, "{out}");
        let warnings = out["warnings"].as_array().expect("a list");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = warnings[0].as_str().expect("a line");
        assert!(
            w.starts_with("warning: scenario.yaml:9:5: workload `users` sets `priority: 1`"),
            "{w}"
        );
        let out = run_with(MM1, "", "", &mut NoProgress, || 0.0);
        assert_eq!(out["warnings"], serde_json::json!([]));
    }

    #[test]
    fn a_bad_seed_is_an_error_not_a_panic() {
        let out = run_with(MM1, "-1", "", &mut NoProgress, now_ms);
        assert_eq!(out["ok"], false);
        assert!(out["error"].as_str().unwrap().contains("invalid seed"));
    }

    #[test]
    fn progress_false_interrupts_the_run() {
        struct StopAtOnce;
        impl ProgressSink for StopAtOnce {
            fn start(&mut self, _: f64) {}
            fn progress(&mut self, _: f64, _: u64) -> bool {
                false
            }
        }
        let long = MM1.replace("duration: 200s", "duration: 2000000s");
        let out = run_with(&long, "", "", &mut StopAtOnce, now_ms);
        assert_eq!(out["stop"], "interrupted", "{out}");
    }

    #[test]
    fn topology_draws_a_box_per_component_and_colours_it_after_a_run() {
        let before = topology(MM1, "", "");
        assert!(before.contains(r#"data-component="server""#), "{before}");
        assert!(before.contains(r#"data-component="users""#), "{before}");
        let out = run_with(MM1, "", "", &mut NoProgress, now_ms);
        let json = out["json"].as_str().unwrap();
        let doc: Value = serde_json::from_str(json).unwrap();
        let utilization = doc["components"]["server"]["utilization"].as_f64().unwrap();
        let after = topology(MM1, "", json);
        let label = format!("server · {:.0} %", utilization * 100.0);
        assert!(after.contains(&label), "no `{label}` in {after}");
        assert!(!before.contains(" %"), "no figures before a run");
        assert_eq!(
            topology("not: [valid", "", ""),
            "",
            "an invalid scenario draws nothing"
        );
    }

    fn strip_wall(json: &Value) -> String {
        json.as_str()
            .unwrap()
            .lines()
            .filter(|l| !l.contains("wall"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
