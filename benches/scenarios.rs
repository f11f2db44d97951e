//! Whole scenarios from `scenarios/` through the loader and the models:
//! what a user's run costs per event. Each iteration loads the file once
//! (outside the timing) and simulates it; throughput is in events.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sysdes_kernel::SimDuration;
use sysdes_models::{ModelSpec, NoObserver, RunLimits, Simulation};
use sysdes_scenario::{LoadOptions, load_file};

fn load(name: &str, duration_s: u64) -> ModelSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let mut spec = load_file(&path, &LoadOptions::default())
        .expect("the scenario loads")
        .spec;
    spec.duration = SimDuration::from_secs(duration_s);
    spec.warmup = SimDuration::from_secs(1);
    spec
}

fn events(spec: &ModelSpec) -> u64 {
    Simulation::new(spec)
        .expect("valid")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("stable")
        .events
}

/// Fan-out: the tail-at-scale scenario (a root calling 100 leaves per
/// request, with and without hedging) and the recommendation funnel
/// (parallel retrieval with `wait_for: 3`, eight-way ranking, a log call).
fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("scenarios");
    group.sample_size(10);
    for (name, duration) in [
        ("tail-at-scale.yaml", 20),
        ("recommendation-funnel.yaml", 20),
    ] {
        let spec = load(name, duration);
        group.throughput(Throughput::Elements(events(&spec)));
        group.bench_function(name.trim_end_matches(".yaml"), |b| b.iter(|| events(&spec)));
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
