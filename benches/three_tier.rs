//! The three-tier model (`benches/three-tier.yaml`: random balancer -> 4 app
//! servers of 8 workers holding a worker through a synchronous call -> a
//! 16-worker database, 0.5 ms hops, 2,000 req/s) under criterion: the full
//! `sysdes` stack against its hand-written loop, one event per hop
//! (`benches/loops/mod.rs`, `docs/performance.md`).

mod loops;

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sysdes_kernel::SimDuration;
use sysdes_models::{NoObserver, RunLimits, Simulation};
use sysdes_scenario::{LoadOptions, load_file};

/// Requests per iteration: 10^5 (9 x 10^5 events).
const REQUESTS: u64 = 100_000;

fn three_tier(c: &mut Criterion) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/three-tier.yaml");
    let mut spec = load_file(&file, &LoadOptions::default())
        .expect("benches/three-tier.yaml loads")
        .spec;
    let seconds = REQUESTS as f64 / loops::three_tier::RATE;
    spec.duration = SimDuration::from_nanos((seconds * 1e9) as u64);
    let mut group = c.benchmark_group("three_tier");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(10);
    group.bench_function("sysdes", |b| {
        b.iter(|| {
            Simulation::new(&spec)
                .expect("valid spec")
                .run(RunLimits::default(), &mut NoObserver)
                .expect("stable")
                .requests
                .completed
        })
    });
    group.bench_function("handwritten_baseline", |b| {
        b.iter(|| loops::handwritten_three_tier(REQUESTS))
    });
    group.finish();
}

criterion_group!(benches, three_tier);
criterion_main!(benches);
