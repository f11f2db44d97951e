//! Crashes and slowdowns of model servers (batching and LLM mode): what a
//! crash loses is failed and counted, the server reloads its model when it
//! comes back, and a slowdown stretches every batch. Fixed seeds.

use sysdes_models::{NoObserver, RunLimits, RunResult, Simulation};
use sysdes_scenario::{LoadOptions, load_str};
use sysdes_theory::formulas::pk_mean_wait;

fn run(yaml: &str) -> RunResult {
    let loaded = load_str("faults.yaml", yaml, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("the scenario loads: {e:?}"));
    Simulation::new(&loaded.spec)
        .expect("valid spec")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("runs")
}

fn extra(r: &RunResult, component: &str, key: &str) -> f64 {
    r.components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| c.figure(key))
        .unwrap_or_else(|| panic!("{component} has no {key}"))
}

/// One model server at 100/s, unbatched, D = 6 ms; `server` is its mode's
/// keys, `faults` the fault list.
fn gpu(server: &str, faults: &str) -> String {
    format!(
        "name: gpu-faults
seed: 13
duration: 1000s
workloads:
  - {{ name: users, target: gpu, arrival: {{ poisson: 100/s }} }}
components:
  gpu:
    type: model_server
{server}
network: {{ latency: 0ms }}
faults:
{faults}
"
    )
}

const BATCHING: &str = "    batch_time: { affine: { base: 5ms, per_item: 1ms } }
    cold_start: 30s";
const LLM: &str = "    cold_start: 30s
    llm:
      max_batch: 1
      prefill: { affine: { base: 1ms, per_token: 0ms } }
      decode_step: { affine: { base: 1ms, per_sequence: 0ms } }
      prompt_tokens: 1
      output_tokens: 6";

#[test]
fn a_crash_fails_what_is_inside_and_everything_until_the_model_is_reloaded() {
    // Down from 400 s to 500 s, then 30 s to reload the model: requests
    // arriving in [400, 500) fail at once (Poisson count, mean 100 x 100 =
    // 10,000, sd 100), those arriving in [500, 530) wait for the reload and
    // are then served. Tolerance: 4 sd plus the few inside at the crash.
    for server in [BATCHING, LLM] {
        let r = run(&gpu(server, "  - { crash: gpu, at: 400s, for: 100s }"));
        let q = &r.requests;
        assert_eq!(
            q.generated,
            q.completed + q.failed + q.dropped + q.timed_out + q.in_flight,
            "every request ends exactly once"
        );
        let lost = extra(&r, "gpu", "lost_in_crash");
        assert_eq!(lost, q.failed as f64);
        assert!(
            (lost - 10_000.0).abs() < 400.0 + 10.0,
            "lost {lost} vs 10,000 +- 400"
        );
        // The reload: the request that waited longest waited about 30 s
        // (the first cold start is at t = 0, before any arrival counts).
        let max_s = r.latency.max_ns() as f64 / 1e9;
        assert!((29.0..31.0).contains(&max_s), "max latency {max_s} s");
        assert_eq!(extra(&r, "gpu", "cold_start_ms"), 30_000.0);
    }
}

#[test]
fn a_slowdown_stretches_every_batch() {
    // Slowed by 2 for the whole run, D = 6 ms becomes 12 ms: M/D/1 at 50/s,
    // rho 0.6. Pollaczek-Khinchine: T = D + lambda D^2 / (2 (1 - rho)) =
    // 12 + 9 = 21 ms. Tolerance 2 % (10^5 requests).
    for server in [BATCHING, LLM] {
        let yaml = gpu(
            server,
            "  - { slowdown: gpu, factor: 2, at: 0s, for: 2000s }",
        )
        .replace("poisson: 100/s", "poisson: 50/s")
        .replace("    cold_start: 30s\n", "")
        .replace("duration: 1000s", "duration: 2000s");
        let r = run(&yaml);
        let d = 0.012;
        let theory = d + pk_mean_wait(50.0, d, d * d);
        let mean = r.latency.mean_ns() / 1e9;
        assert!(
            (mean / theory - 1.0).abs() < 0.02,
            "mean {mean} vs M/D/1 {theory}"
        );
    }
}

#[test]
fn a_crash_can_take_down_one_replica_of_a_group() {
    // Four replicas, round robin, 100/s; `gpu[1]` is down from 400 s to
    // 500 s (its model loads again in 30 s). The group has no health check:
    // its balancer keeps sending every fourth request to the dead replica,
    // which fails it at once, so a quarter of the window's 10,000 arrivals
    // fail (2,500 +- 4 sd of a quarter of a Poisson count: +- 200).
    let yaml = gpu(
        &format!("{BATCHING}\n    replicas: 4"),
        "  - { crash: \"gpu[1]\", at: 400s, for: 100s }",
    );
    let r = run(&yaml);
    let q = &r.requests;
    assert_eq!(
        q.generated,
        q.completed + q.failed + q.dropped + q.timed_out + q.in_flight
    );
    let lost = extra(&r, "gpu[1]", "lost_in_crash");
    assert_eq!(lost, q.failed as f64);
    assert!(
        (lost - 2_500.0).abs() < 200.0,
        "lost {lost} vs 2,500 +- 200"
    );
    // It comes back and reloads its model (30 s): the requests it takes
    // meanwhile wait for the load. Replicas serve from the start.
    let max_s = r.latency.max_ns() as f64 / 1e9;
    assert!((29.0..31.0).contains(&max_s), "max latency {max_s} s");
    assert_eq!(extra(&r, "gpu[1]", "cold_start_ms"), 0.0);
    // A name beyond the group's replicas is not a server.
    let err = load_str(
        "bad.yaml",
        &gpu(
            &format!("{BATCHING}\n    replicas: 4"),
            "  - { crash: \"gpu[4]\", at: 400s, for: 100s }",
        ),
        &LoadOptions::default(),
    )
    .expect_err("gpu[4] does not exist");
    assert!(format!("{err:?}").contains("gpu[4]"), "{err:?}");
}
