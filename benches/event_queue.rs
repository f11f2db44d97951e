//! Hold-model benchmark of the pending-event set: with N events queued,
//! repeatedly pop the earliest and push one a random time later, so the
//! queue size stays N. This is the classic measure of a priority queue's
//! cost in a discrete-event simulator.
//!
//! Two increment distributions: `hold` draws exponential increments (mean
//! 1 ms), `hold_mix` draws half of them uniform in 0-10 us (the near-now
//! events of a simulation: network hops, dispatches) and half exponential
//! with mean 1 ms (service completions). Calendar-type queues are sensitive
//! to the distribution, heaps are not. The payload is 16 bytes, the size of
//! the engine's `Event`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use sysdes_kernel::{EventQueue, Scheduler, SimDuration, SimTime, derive_stream};

const HOLDS: u64 = 100_000;

/// A payload the size of the engine's `Event`.
type Payload = [u32; 4];

/// One increment in ns: exponential with mean 1 ms, or (with `mix`) half of
/// the time uniform in 0-10 us.
#[inline(always)]
fn increment(rng: &mut impl RngExt, mix: bool) -> u64 {
    let u: f64 = rng.random::<f64>();
    if mix && u < 0.5 {
        (u * 20_000.0) as u64
    } else {
        let gap: f64 = rng.random::<f64>();
        (-gap.ln() * 1e6) as u64
    }
}

fn hold_model(c: &mut Criterion) {
    for (name, mix) in [("hold", false), ("hold_mix", true)] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(HOLDS));
        for size in [16usize, 1_000, 5_000, 100_000] {
            group.bench_with_input(BenchmarkId::new("event_queue", size), &size, |b, &size| {
                let mut rng = derive_stream(1, "bench", "hold");
                let mut q = EventQueue::with_capacity(size + 1);
                for i in 0..size {
                    q.push(
                        SimTime::from_nanos(rng.random_range(0..1_000_000)),
                        [i as u32; 4] as Payload,
                    );
                }
                b.iter(|| {
                    for _ in 0..HOLDS {
                        let (t, e) = q.pop().expect("queue never empties");
                        q.push(t + SimDuration::from_nanos(increment(&mut rng, mix)), e);
                    }
                });
            });
            group.bench_with_input(BenchmarkId::new("scheduler", size), &size, |b, &size| {
                let mut rng = derive_stream(1, "bench", "hold");
                let mut s = Scheduler::new();
                for i in 0..size {
                    s.schedule_in(
                        SimDuration::from_nanos(rng.random_range(0..1_000_000)),
                        [i as u32; 4] as Payload,
                    );
                }
                b.iter(|| {
                    for _ in 0..HOLDS {
                        let e = s.pop().expect("scheduler never empties");
                        s.schedule_in(SimDuration::from_nanos(increment(&mut rng, mix)), e);
                    }
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, hold_model);
criterion_main!(benches);
