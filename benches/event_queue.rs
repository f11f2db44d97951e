//! Hold-model benchmark of the pending-event set: with N events queued,
//! repeatedly pop the earliest and push one a random (exponential) time
//! later, so the queue size stays N. This is the classic measure of a
//! priority queue's cost in a discrete-event simulator.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use sysdes_kernel::{EventQueue, Scheduler, SimDuration, SimTime, derive_stream};

const HOLDS: u64 = 100_000;

fn hold_model(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold");
    group.throughput(Throughput::Elements(HOLDS));
    for size in [16usize, 1_000, 100_000] {
        group.bench_with_input(BenchmarkId::new("event_queue", size), &size, |b, &size| {
            let mut rng = derive_stream(1, "bench", "hold");
            let mut q = EventQueue::with_capacity(size + 1);
            for i in 0..size {
                q.push(
                    SimTime::from_nanos(rng.random_range(0..1_000_000)),
                    i as u32,
                );
            }
            b.iter(|| {
                for _ in 0..HOLDS {
                    let (t, e) = q.pop().expect("queue never empties");
                    let gap: f64 = rng.random::<f64>();
                    q.push(t + SimDuration::from_nanos((-gap.ln() * 1e6) as u64), e);
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("scheduler", size), &size, |b, &size| {
            let mut rng = derive_stream(1, "bench", "hold");
            let mut s = Scheduler::new();
            for i in 0..size {
                s.schedule_in(
                    SimDuration::from_nanos(rng.random_range(0..1_000_000)),
                    i as u32,
                );
            }
            b.iter(|| {
                for _ in 0..HOLDS {
                    let e = s.pop().expect("scheduler never empties");
                    let gap: f64 = rng.random::<f64>();
                    s.schedule_in(SimDuration::from_nanos((-gap.ln() * 1e6) as u64), e);
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, hold_model);
criterion_main!(benches);
