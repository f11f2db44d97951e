//! The scenario loader on arbitrary text: it must return a scenario or a
//! located error, never panic, whatever the bytes (and with a `--set`
//! taken from the input's first line, so overrides are fuzzed too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysdes_scenario::{LoadOptions, load_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, rest) = text.split_once('\n').unwrap_or(("", text));
    let mut options = LoadOptions::default();
    if let Some(set) = first.strip_prefix("#set ") {
        options.overrides.push(set.to_owned());
    }
    if let Err(e) = load_str("fuzz.yaml", rest, &options) {
        // Rendering must not panic either (miette and long lines).
        let _ = format!("{e}");
        let _ = format!("{:?}", miette_free_render(&e));
    }
});

/// The problems as the CLI prints them without miette's terminal output.
fn miette_free_render(e: &sysdes_scenario::ScenarioError) -> Vec<String> {
    e.problems().iter().map(ToString::to_string).collect()
}
