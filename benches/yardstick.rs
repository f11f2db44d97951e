//! The hand-written yardsticks as whole runs, for the speed ratios of
//! `docs/performance.md`: `cargo bench --bench yardstick -- mm1 10000000`
//! or `-- three-tier 1000000` runs the loop and the `sysdes` library on the
//! same model, one after the other, and prints both wall times and their
//! ratio (the figure issue 11 sets at 1.5x; a ratio of two runs back to
//! back on one machine moves much less with the machine's load than either
//! time). The CLI's whole-process time is measured from the shell
//! (`/tmp/mm1-fast.yaml --set duration=11111s`, `benches/three-tier.yaml`).
//! With no model named it runs both at those sizes. `-- mm1-loop 10000000`
//! (or `three-tier-loop`) runs the loop alone, for its process's user CPU
//! time (`/usr/bin/time -f %U`), the figure a shared machine measures best.

mod loops;

use std::path::Path;
use std::time::Instant;

use sysdes_kernel::SimDuration;
use sysdes_models::{Distribution, ModelSpec, NoObserver, RunLimits, Simulation};
use sysdes_scenario::{LoadOptions, load_file};

/// Seconds of wall time `run` takes, with what it returned.
fn timed(run: impl FnOnce() -> u64) -> (f64, u64) {
    let start = Instant::now();
    let done = run();
    (start.elapsed().as_secs_f64(), done)
}

/// The model's spec for `requests` arrivals, as the library runs it.
fn spec(name: &str, requests: u64) -> ModelSpec {
    match name {
        // lambda = 900/s, so `requests` arrivals take requests / 900 seconds.
        "mm1" => ModelSpec::single_server(
            900.0,
            1,
            Distribution::Exponential { mean_ns: 1e6 },
            SimDuration::from_nanos(requests * 1_000_000_000 / 900),
        ),
        _ => {
            let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/three-tier.yaml");
            let mut spec = load_file(&file, &LoadOptions::default())
                .expect("benches/three-tier.yaml loads")
                .spec;
            let seconds = requests as f64 / loops::three_tier::RATE;
            spec.duration = SimDuration::from_nanos((seconds * 1e9) as u64);
            spec
        }
    }
}

fn time(name: &str, requests: u64, run: fn(u64) -> u64) {
    let (secs, done) = timed(|| run(requests));
    println!(
        "{name}: hand-written loop, {requests} requests in {secs:.3} s wall ({:.2} M requests/s), {done} recorded",
        requests as f64 / secs / 1e6
    );
    let spec = spec(name, requests);
    let (lib_secs, completed) = timed(|| {
        Simulation::new(&spec)
            .expect("valid spec")
            .run(RunLimits::default(), &mut NoObserver)
            .expect("stable")
            .requests
            .completed
    });
    println!(
        "{name}: sysdes library, {requests} requests in {lib_secs:.3} s wall ({:.2} M requests/s), {completed} completed; ratio {:.2}x",
        requests as f64 / lib_secs / 1e6,
        lib_secs / secs
    );
}

/// Runs only the hand-written loop of `name` and prints its wall time.
fn loop_only(name: &str, requests: u64, run: fn(u64) -> u64) {
    let (secs, done) = timed(|| run(requests));
    println!("{name}: hand-written loop, {requests} requests in {secs:.3} s wall, {done} recorded");
}

fn main() {
    // `cargo bench` passes `--bench`; anything starting with `-` is its.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let requests = |default: u64| args.get(1).and_then(|n| n.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("mm1") => time("mm1", requests(10_000_000), loops::handwritten_mm1),
        Some("three-tier") => time(
            "three-tier",
            requests(1_000_000),
            loops::handwritten_three_tier,
        ),
        // The loop alone, for the whole-process user CPU time of the loop
        // (`/usr/bin/time -f %U`), which a shared machine's wall time is not.
        Some("mm1-loop") => loop_only("mm1", requests(10_000_000), loops::handwritten_mm1),
        Some("three-tier-loop") => loop_only(
            "three-tier",
            requests(1_000_000),
            loops::handwritten_three_tier,
        ),
        Some(other) => {
            eprintln!(
                "unknown model `{other}`: expected `mm1`, `three-tier`, `mm1-loop` or `three-tier-loop`"
            );
            std::process::exit(2);
        }
        None => {
            time("mm1", 10_000_000, loops::handwritten_mm1);
            time("three-tier", 1_000_000, loops::handwritten_three_tier);
        }
    }
}
