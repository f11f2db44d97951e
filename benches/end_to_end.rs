//! End-to-end M/M/1 benchmark: the full models stack (workload, server,
//! metrics, request slab, kernel), against the yardstick of a minimal
//! hand-written BinaryHeap loop with HDR recording (`docs/performance.md`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution as _, Exp};
use sysdes_kernel::{SimDuration, derive_stream};
use sysdes_models::*;
use sysdes_stats::LatencyHistogram;

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

/// The yardstick: the least a simulator of M/M/1 must do per request.
fn handwritten_mm1(requests: u64) -> u64 {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Arrival,
        Departure,
    }
    let mut rng = derive_stream(1, "baseline", "all");
    let inter = Exp::new(900.0 / 1e9).expect("valid rate");
    let service = Exp::new(1.0 / 1e6).expect("valid rate");
    let mut heap = BinaryHeap::new();
    let mut queue = std::collections::VecDeque::new();
    let mut busy = false;
    let mut hist = LatencyHistogram::new();
    heap.push(Reverse((inter.sample(&mut rng) as u64, 0u64, Ev::Arrival)));
    let (mut seq, mut arrived) = (1u64, 0u64);
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        match ev {
            Ev::Arrival => {
                arrived += 1;
                if arrived < requests {
                    heap.push(Reverse((
                        now + inter.sample(&mut rng) as u64,
                        seq,
                        Ev::Arrival,
                    )));
                    seq += 1;
                }
                queue.push_back(now);
                if !busy {
                    busy = true;
                    heap.push(Reverse((
                        now + service.sample(&mut rng) as u64,
                        seq,
                        Ev::Departure,
                    )));
                    seq += 1;
                }
            }
            Ev::Departure => {
                let born = queue.pop_front().expect("a departure has a customer");
                hist.record(SimDuration::from_nanos(now - born));
                if queue.is_empty() {
                    busy = false;
                } else {
                    heap.push(Reverse((
                        now + service.sample(&mut rng) as u64,
                        seq,
                        Ev::Departure,
                    )));
                    seq += 1;
                }
            }
        }
    }
    hist.count()
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
