//! End-to-end M/M/1 benchmark: the full models stack (workload, server,
//! metrics, request slab, kernel), against the yardstick of a minimal
//! hand-written BinaryHeap loop with HDR recording (`benches/loops/mod.rs`,
//! `docs/performance.md`).

mod loops;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use loops::handwritten_mm1;
use sysdes_kernel::SimDuration;
use sysdes_models::*;

/// Requests per iteration: 10^5 (about 2 x 10^5 events).
const REQUESTS: u64 = 100_000;

fn mm1_spec(requests: u64) -> ModelSpec {
    // lambda = 900/s, so `requests` arrivals take requests / 900 seconds.
    ModelSpec::single_server(
        900.0,
        1,
        Distribution::Exponential { mean_ns: 1e6 },
        SimDuration::from_nanos(requests * 1_000_000_000 / 900),
    )
}

fn mm1(c: &mut Criterion) {
    let mut group = c.benchmark_group("mm1");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(20);
    let spec = mm1_spec(REQUESTS);
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
        b.iter(|| handwritten_mm1(REQUESTS))
    });
    group.finish();
}

criterion_group!(benches, mm1);
criterion_main!(benches);
