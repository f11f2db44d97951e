//! `crash: STORE` takes a whole store down: through the binary, its JSON
//! result is byte for byte that of one `crash: STORE.rI` per replica over
//! the same window (but for the fault list, which names the store once),
//! and `sysdes run --out` shades the window labelled `crash: STORE`.

use crate::{run_json, sysdes_out, temp_scenario, without_wall};

/// A three-replica store of `mode` (its own keys) read and written by
/// Poisson clients at 200/s for 20 s, with `faults`.
fn store(mode: &str, faults: &str) -> String {
    format!(
        "name: store-down
seed: 11
duration: 20s
warmup: 1s
workloads:
  - {{ name: app, target: kv, arrival: {{ poisson: 200/s }}, ops: {{ read: 0.7, write: 0.3 }}, sessions: 20, keys: {{ uniform: 50 }} }}
components:
  kv:
    type: store
    replicas: 3
    read_time: {{ exponential: 1ms }}
    write_time: {{ exponential: 2ms }}
{mode}
faults:
{faults}
"
    )
}

const LEADERLESS: &str = "    mode: leaderless
    read_quorum: 2
    write_quorum: 2
    read_repair: true
    hinted_handoff: true
    replication_delay: { exponential: 5ms }";

const LEADER: &str = "    mode: leader
    replication: sync
    write_quorum: 2
    replication_delay: { exponential: 5ms }
    failover_timeout: 1s";

const WHOLE: &str = "  - { crash: kv, at: 5s, for: 2s }";

const EACH: &str = "  - { crash: kv.r0, at: 5s, for: 2s }
  - { crash: kv.r1, at: 5s, for: 2s }
  - { crash: kv.r2, at: 5s, for: 2s }";

/// The JSON result of `text`, without its wall time, and its fault list
/// taken out.
fn result(name: &str, text: &str) -> (String, serde_json::Value) {
    let mut v = without_wall(run_json(&temp_scenario(name, text), &[]));
    let faults = v
        .as_object_mut()
        .and_then(|o| o.remove("faults"))
        .expect("a fault list");
    (serde_json::to_string_pretty(&v).expect("json"), faults)
}

#[test]
fn a_whole_store_crash_is_one_crash_per_replica() {
    // Failures expected: the Poisson arrivals of the 2 s window at 200/s
    // (400, sd 20); in leader mode also the second after the restart with
    // no leader (`failover_timeout` 1 s: 600, sd 24.5). Bands of 4 sd.
    for (mode, keys, failures) in [
        ("leaderless", LEADERLESS, 320..480),
        ("leader", LEADER, 500..700),
    ] {
        let (whole, faults) = result(&format!("store-whole-{mode}.yaml"), &store(keys, WHOLE));
        let (each, each_faults) = result(&format!("store-each-{mode}.yaml"), &store(keys, EACH));
        assert_eq!(
            faults,
            serde_json::json!([{ "kind": "crash", "target": "kv", "start_s": 5.0, "end_s": 7.0 }]),
            "{mode}"
        );
        assert_eq!(each_faults.as_array().map(Vec::len), Some(3), "{mode}");
        assert!(whole == each, "{mode}: the two JSON results differ");
        // The window's operations failed: the run is not trivially equal.
        let v: serde_json::Value = serde_json::from_str(&whole).expect("json");
        let failed = v["requests"]["failed"].as_u64().expect("a count");
        assert!(failures.contains(&failed), "{mode}: {failed} failed");
    }
}

#[test]
fn the_plot_shades_the_window_as_crash_store() {
    let file = temp_scenario("store-whole-plot.yaml", &store(LEADERLESS, WHOLE));
    let dir = sysdes_out("store-faults", &["run", file.to_str().expect("utf-8")]);
    let svg = std::fs::read_to_string(dir.join("timeseries.svg")).expect("timeseries.svg");
    // One band for the store, not one per replica (`crash: kv.r0`).
    assert!(
        svg.lines().any(|l| l.trim() == "crash: kv"),
        "no `crash: kv` band label"
    );
    assert!(
        !svg.contains("crash: kv.r"),
        "the store's crash drawn per replica"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
