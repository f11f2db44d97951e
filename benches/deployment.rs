//! Deployment benchmarks: the autoscaling scenario end to end, and the cost
//! of one event as the number of replicas behind the implicit balancer grows
//! from 10 to 10^4 at the same per-replica load (`docs/performance.md`).

use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sysdes_kernel::SimDuration;
use sysdes_models::*;
use sysdes_scenario::{LoadOptions, load_file};

/// Requests per iteration of the replica-count benchmark.
const REQUESTS: u64 = 200_000;

/// `replicas` M/M/1 replicas at load 0.5 each (service 1 ms), balanced by
/// `balance`, for about `REQUESTS` requests.
fn replicas_spec(replicas: u32, balance: LbPolicy) -> ModelSpec {
    let rate = 500.0 * f64::from(replicas);
    let mut spec = ModelSpec::single_server(
        rate,
        1,
        Distribution::Exponential { mean_ns: 1e6 },
        SimDuration::from_nanos((REQUESTS as f64 / rate * 1e9) as u64),
    );
    spec.components[0].kind = ComponentKind::ReplicaGroup(GroupSpec {
        members: ReplicaMembers::Stations(ServerSpec {
            workers: 1,
            service_time: Distribution::Exponential { mean_ns: 1e6 },
            queue_capacity: None,
            calls: Vec::new(),
            mode: CallMode::Thread,
            discipline: Default::default(),
            patience: None,
        }),
        replicas,
        balance,
        runs_on: RunsOn {
            kind: RuntimeKind::Container,
            boot_time: RuntimeKind::Container.default_boot_time(),
        },
        extra_boot: None,
        autoscaler: None,
        cpu: 1.0,
        memory: 0,
        host: None,
    });
    spec
}

fn replica_count(c: &mut Criterion) {
    let mut group = c.benchmark_group("replicas");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(10);
    for (policy, name) in [
        (LbPolicy::RoundRobin, "round_robin"),
        (LbPolicy::PowerOfTwo, "power_of_two"),
    ] {
        for replicas in [10u32, 1_000, 10_000] {
            let spec = replicas_spec(replicas, policy);
            group.bench_with_input(BenchmarkId::new(name, replicas), &spec, |b, spec| {
                b.iter(|| {
                    let r = Simulation::new(spec)
                        .expect("valid spec")
                        .run(RunLimits::default(), &mut NoObserver)
                        .expect("stable");
                    r.events
                })
            });
        }
    }
    group.finish();
}

fn autoscale_scenario(c: &mut Criterion) {
    let mut group = c.benchmark_group("autoscale");
    group.sample_size(10);
    // Server deployments, and replica groups of batching model servers.
    for (name, file) in [
        (
            "vm_vs_container",
            "scenarios/autoscale-vm-vs-container.yaml",
        ),
        ("gpu_groups", "scenarios/gpu-autoscale.yaml"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let spec = load_file(&path, &LoadOptions::default())
            .expect("the scenario loads")
            .spec;
        group.bench_function(name, |b| {
            b.iter(|| {
                Simulation::new(&spec)
                    .expect("valid spec")
                    .run(RunLimits::default(), &mut NoObserver)
                    .expect("runs")
                    .events
            })
        });
    }
    group.finish();
}

criterion_group!(benches, replica_count, autoscale_scenario);
criterion_main!(benches);
