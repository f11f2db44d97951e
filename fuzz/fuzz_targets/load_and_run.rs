//! Load plus a short run: a valid scenario is simulated for at most 20,000
//! events under the progress guard; every request must be accounted for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysdes_models::{RunLimits, Simulation};
use sysdes_scenario::{LoadOptions, load_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A small budget keeps each input's memory far under libFuzzer's
    // -rss_limit_mb.
    let options = LoadOptions {
        max_memory: Some(64 << 20),
        ..LoadOptions::default()
    };
    let Ok(loaded) = load_str("fuzz.yaml", text, &options) else {
        return;
    };
    let Ok(sim) = Simulation::new(&loaded.spec) else {
        return;
    };
    let limits = RunLimits {
        max_events: Some(20_000),
        ..RunLimits::default()
    };
    if let Ok(r) = sim.run(limits, &mut sysdes_sweep::Guarded::default()) {
        assert!(r.requests.balances(), "{:?}", r.requests);
    }
});
