//! The hand-written yardsticks as whole runs, for the speed ratios of
//! `docs/performance.md`: `cargo bench --bench yardstick -- mm1 10000000`
//! or `-- three-tier 1000000` prints the wall time of one run of the loop,
//! to set beside `sysdes run` of the same model timed from the shell
//! (`/tmp/mm1-fast.yaml --set duration=11111s`, `benches/three-tier.yaml`).
//! With no model named it runs both at those sizes.

mod loops;

use std::time::Instant;

fn time(name: &str, requests: u64, run: fn(u64) -> u64) {
    let start = Instant::now();
    let done = run(requests);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {requests} requests in {secs:.3} s wall ({:.2} M requests/s), {done} recorded",
        requests as f64 / secs / 1e6
    );
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
        Some(other) => {
            eprintln!("unknown model `{other}`: expected `mm1` or `three-tier`");
            std::process::exit(2);
        }
        None => {
            time("mm1", 10_000_000, loops::handwritten_mm1);
            time("three-tier", 1_000_000, loops::handwritten_three_tier);
        }
    }
}
