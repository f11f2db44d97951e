//! Same inputs, same bytes; different seeds, different results; and a
//! component's randomness is its own.

use crate::{root, run_json, temp_scenario, without_wall};

#[test]
fn same_seed_gives_byte_identical_json() {
    let file = root().join("scenarios/web-tier.yaml");
    let a = without_wall(run_json(&file, &["--set", "duration=20s"]));
    let b = without_wall(run_json(&file, &["--set", "duration=20s"]));
    assert_eq!(a.to_string(), b.to_string());
}

#[test]
fn different_seeds_give_different_results() {
    let file = root().join("scenarios/mmc.yaml");
    let a = run_json(&file, &["--set", "duration=20s", "--seed", "1"]);
    let b = run_json(&file, &["--set", "duration=20s", "--seed", "2"]);
    assert_ne!(a["latency_ms"], b["latency_ms"]);
    assert_eq!(a["seed"], 1);
    assert_eq!(b["seed"], 2);
}

const ONE: &str = "
name: one
seed: 17
duration: 50s
workloads:
  - { name: users, target: s1, arrival: { poisson: 700/s } }
components:
  s1: { type: server, service_time: { exponential: 1ms } }
network:
  latency: { exponential: 1ms }
";

/// (s0 is stable: 1000/s x 3.3 ms mean lognormal / 4 workers = 0.82.)
/// Adding a workload and a server that s1 never sees must not change a
/// single draw of s1's or its workload's streams, so their results are
/// identical to the last digit.
#[test]
fn adding_an_unrelated_component_changes_nothing_else() {
    let two = format!(
        "{ONE}
  # (network above; the extra parts below)
"
    )
    .replace(
        "components:\n",
        "components:\n  s0: { type: server, workers: 4, service_time: { lognormal: { median: 2ms, sigma: 1 } } }\n",
    )
    .replace(
        "workloads:\n",
        "workloads:\n  - { name: others, target: s0, arrival: { poisson: 1000/s } }\n",
    );
    let a = run_json(&temp_scenario("one.yaml", ONE), &[]);
    let b = run_json(&temp_scenario("two.yaml", &two), &[]);
    assert!(b["components"]["s0"]["throughput_rps"].as_f64() > Some(0.0));
    assert_eq!(a["components"]["s1"], b["components"]["s1"]);
    assert_eq!(a["workloads"]["users"], b["workloads"]["users"]);
}
