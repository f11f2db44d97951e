//! Replica groups: `replicas`, `runs_on` and `autoscaler` on a model server,
//! a cache or a server that makes calls. Each test names its formula beside
//! its tolerance; seeds are fixed, so each is deterministic.

use sysdes_models::{ComponentResult, NoObserver, RunLimits, RunResult, Simulation};
use sysdes_scenario::{LoadOptions, load_str};
use sysdes_stats::LatencyHistogram;
use sysdes_theory::batching::mdc_mean_sojourn;
use sysdes_theory::formulas::pk_mean_wait;

fn run(yaml: &str) -> RunResult {
    let loaded = load_str("group.yaml", yaml, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("the scenario loads: {e:?}"));
    Simulation::new(&loaded.spec)
        .expect("valid spec")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("runs")
}

fn component<'a>(r: &'a RunResult, name: &str) -> &'a ComponentResult {
    r.components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("component {name}"))
}

fn extra(c: &ComponentResult, key: &str) -> f64 {
    c.figure(key)
        .unwrap_or_else(|| panic!("{} has no {key}", c.name))
}

/// A histogram's count, exact mean and quantiles, for identity checks.
fn shape(h: &LatencyHistogram) -> (u64, u64, [u64; 4]) {
    (
        h.count(),
        h.mean_ns().to_bits(),
        h.quantiles_ns([0.5, 0.9, 0.99, 1.0]),
    )
}

/// Four unbatched model servers (D = 6 ms) behind `front`, 500/s in all.
fn four_gpus(front: &str) -> String {
    format!(
        "name: gpus
seed: 5
duration: 400s
warmup: 10s
workloads:
  - {{ name: users, target: gpu, arrival: {{ poisson: 500/s }} }}
components:
{front}
network: {{ latency: 0ms }}
"
    )
}

const MODEL: &str = "type: model_server, batch_time: { affine: { base: 5ms, per_item: 1ms } }";

#[test]
fn a_group_routes_exactly_like_a_balancer_over_copies() {
    // Round robin over four deterministic servers: the group and an explicit
    // load balancer over four copies see the same arrivals and make the
    // same choices, so every latency is the same, request for request.
    let group = run(&four_gpus(&format!(
        "  gpu: {{ {MODEL}, replicas: 4, balance: round_robin }}"
    )));
    let copies = run(&four_gpus(&format!(
        "  gpu: {{ type: load_balancer, policy: round_robin, backends: [g0, g1, g2, g3] }}
  g0: {{ {MODEL} }}
  g1: {{ {MODEL} }}
  g2: {{ {MODEL} }}
  g3: {{ {MODEL} }}"
    )));
    assert!(group.requests.completed > 190_000);
    assert_eq!(group.requests, copies.requests);
    assert_eq!(shape(&group.latency), shape(&copies.latency));
    let (g, lb) = (component(&group, "gpu"), component(&copies, "gpu"));
    assert_eq!(g.completions, lb.completions);
    assert_eq!(shape(&g.latency), shape(&lb.latency));
    for i in 0..4 {
        let replica = component(&group, &format!("gpu[{i}]"));
        assert_eq!(replica.replica_of.as_deref(), Some("gpu"));
        assert_eq!(
            shape(&replica.latency),
            shape(&component(&copies, &format!("g{i}")).latency)
        );
    }
    // Four replicas busy 500/4 x 6 ms = 75 % of the time each.
    assert!((g.utilization - 0.75).abs() < 0.01, "{}", g.utilization);
    assert_eq!(extra(g, "replicas_ready_mean"), 4.0);
}

#[test]
fn random_split_over_replicas_is_md1_per_replica() {
    // A random split of Poisson arrivals is Poisson: each of 4 replicas is
    // M/D/1 at 125/s with D = 6 ms. Pollaczek-Khinchine: W = lambda D^2 /
    // (2 (1 - rho)) = 9 ms, T = 15 ms. Tolerance 2 % (10^5 requests).
    let r = run(&four_gpus(&format!(
        "  gpu: {{ {MODEL}, replicas: 4, balance: random }}"
    )));
    let d = 0.006;
    let theory = pk_mean_wait(125.0, d, d * d) + d;
    let mean = r.latency.mean_ns() / 1e9;
    assert!(
        (mean / theory - 1.0).abs() < 0.02,
        "mean {mean} vs M/D/1 {theory}"
    );
    // Round robin is more regular than random: strictly better than M/D/1,
    // no better than the M/D/4 of one shared queue.
    let rr = run(&four_gpus(&format!("  gpu: {{ {MODEL}, replicas: 4 }}")));
    let rr_mean = rr.latency.mean_ns() / 1e9;
    let pooled = mdc_mean_sojourn(4, 500.0, d);
    assert!(
        pooled < rr_mean && rr_mean < theory,
        "M/D/4 {pooled} < round robin {rr_mean} < M/D/1 {theory}"
    );
}

#[test]
fn replicated_servers_with_calls_are_mg1_per_replica() {
    // Thread mode holds the worker while the call is out, so each replica of
    // `api` serves Exp(2 ms) + 1 ms (a constant-time call to a database with
    // a worker per request): M/G/1 at lambda = 150/s per replica, E[S] = 3 ms,
    // E[S^2] = 2 (2 ms)^2 + 2 (2 ms)(1 ms) + (1 ms)^2 = 13 ms^2.
    // Pollaczek-Khinchine: T = E[S] + lambda E[S^2] / (2 (1 - rho)).
    let r = run("name: calls
seed: 9
duration: 600s
warmup: 10s
workloads:
  - { name: users, target: api, arrival: { poisson: 300/s } }
components:
  api:
    type: server
    service_time: { exponential: 2ms }
    calls: [db]
    replicas: 2
    balance: random
  db: { type: server, workers: 64, service_time: 1ms }
network: { latency: 0ms }
");
    let (lambda, es, es2) = (150.0, 0.003, 13e-6);
    let theory = es + pk_mean_wait(lambda, es, es2);
    let mean = r.latency.mean_ns() / 1e9;
    assert!(
        (mean / theory - 1.0).abs() < 0.02,
        "mean {mean} vs M/G/1 {theory}"
    );
    let api = component(&r, "api");
    assert_eq!(api.kind, "server");
    // Busy workers include the held call: rho = 150/s x 3 ms = 0.45.
    assert!((api.utilization - 0.45).abs() < 0.01, "{}", api.utilization);
}

#[test]
fn autoscaled_model_servers_reach_the_hpa_fixed_point_and_boot_with_the_model() {
    // 2.1 replicas' worth of work (350/s x 6 ms) at target 0.6: the HPA
    // settles at ceil(2.1 / 0.6) = 4 replicas (as for server deployments in
    // docs/deployment.md). A new replica serves after its runtime's boot
    // (constant 20 s) plus the model's cold start (constant 10 s).
    let r = run(&format!(
        "name: hpa
seed: 2
duration: 1800s
warmup: 900s
workloads:
  - {{ name: users, target: gpu, arrival: {{ poisson: 350/s }} }}
components:
  gpu:
    {MODEL_BLOCK}
    cold_start: 10s
    replicas: 1
    runs_on: {{ kind: container, boot_time: 20s }}
    autoscaler: {{ metric: utilization, target: 0.6, min: 1, max: 8, interval: 15s }}
network: {{ latency: 0ms }}
",
        MODEL_BLOCK =
            "type: model_server\n    batch_time: { affine: { base: 5ms, per_item: 1ms } }"
    ));
    let g = component(&r, "gpu");
    assert_eq!(extra(g, "replicas_ready_mean"), 4.0);
    assert_eq!(extra(g, "boot_time_mean_s"), 30.0);
    assert!(extra(g, "scale_ups") >= 1.0);
    // Utilization over ready replica-time: 2.1 / 4.
    assert!(
        (g.utilization - 2.1 / 4.0).abs() < 0.01,
        "{}",
        g.utilization
    );
    assert_eq!(r.requests.dropped, 0);
}

#[test]
fn cached_replicas_scale_on_requests_inside_and_conserve_requests() {
    // Caches have no utilization: they scale on requests inside. Whatever
    // the scaling does, every request ends exactly once.
    let r = run("name: caches
seed: 4
duration: 300s
workloads:
  - name: users
    target: cache
    arrival: { phases: [ { poisson: 200/s, for: 100s }, { poisson: 2000/s, for: 100s }, { poisson: 200/s } ] }
    keys: { zipf: { n: 10000, s: 1.0 } }
components:
  cache:
    type: cache
    capacity: 1000
    hit_time: { exponential: 1ms }
    workers: 1
    backend: db
    replicas: 2
    autoscaler: { metric: queue_length, target: 1, min: 2, max: 10, interval: 10s, scale_down_stabilization: 30s }
  db: { type: server, workers: 50, service_time: { exponential: 10ms } }
network: { latency: 1ms }
");
    let q = &r.requests;
    assert_eq!(
        q.generated,
        q.completed + q.dropped + q.failed + q.timed_out + q.in_flight
    );
    let c = component(&r, "cache");
    assert!(
        extra(c, "scale_ups") >= 1.0,
        "the spike scales the caches up"
    );
    assert!(extra(c, "scale_downs") >= 1.0, "and they come back down");
    assert!(extra(c, "replicas_ready_max") > 2.0);
}

#[test]
fn group_keys_are_checked_with_positions() {
    let bad = "name: bad
duration: 10s
workloads:
  - { name: users, target: gpu, arrival: { poisson: 10/s } }
components:
  gpu:
    type: model_server
    batch_time: { affine: { base: 5ms, per_item: 1ms } }
    replicas: 2
    host: pool
";
    let err = load_str("bad.yaml", bad, &LoadOptions::default()).expect_err("an error");
    let text = format!("{err:?}");
    assert!(text.contains("unknown key `host`"), "{text}");
    assert!(
        text.contains("only servers' replicas are placed on hosts"),
        "{text}"
    );
    let calls_on_hosts = "name: bad
duration: 10s
workloads:
  - { name: users, target: api, arrival: { poisson: 10/s } }
components:
  api: { type: server, service_time: 1ms, calls: [db], replicas: 2, host: pool }
  db: { type: server, service_time: 1ms }
";
    let err = load_str("bad.yaml", calls_on_hosts, &LoadOptions::default()).expect_err("an error");
    let text = format!("{err:?}");
    assert!(
        text.contains("there is no host pool named `pool`"),
        "a server with calls is placed as a leaf server is: {text}"
    );
    let queue = "name: bad
duration: 10s
workloads:
  - { name: users, target: q, arrival: { poisson: 10/s } }
components:
  q: { type: queue, consumers: { target: w }, replicas: 3 }
  w: { type: server, service_time: 1ms }
";
    let text = format!(
        "{:?}",
        load_str("bad.yaml", queue, &LoadOptions::default()).expect_err("no queue replicas")
    );
    assert!(
        text.contains("a queue or stream scales with its consumers"),
        "{text}"
    );
    let cache_on_utilization = "name: bad
duration: 10s
workloads:
  - { name: users, target: cache, arrival: { poisson: 10/s } }
components:
  cache: { type: cache, capacity: 100, backend: db, autoscaler: { target: 0.5, max: 4 } }
  db: { type: server, service_time: 1ms }
";
    let text = format!(
        "{:?}",
        load_str("bad.yaml", cache_on_utilization, &LoadOptions::default())
            .expect_err("a cache has no utilization")
    );
    assert!(
        text.contains("no utilization to scale on") && text.contains("metric: queue_length"),
        "{text}"
    );
    let crash_a_group = "name: bad
duration: 10s
workloads:
  - { name: users, target: api, arrival: { poisson: 10/s } }
components:
  api: { type: server, service_time: 1ms, calls: [db], replicas: 2 }
  db: { type: server, service_time: 1ms }
faults:
  - { crash: api, at: 1s, for: 1s }
";
    let err = load_str("bad.yaml", crash_a_group, &LoadOptions::default())
        .expect_err("a replicated server cannot crash (yet)");
    let text = format!("{err:?}");
    assert!(
        text.contains("`crash` needs a single server, and `api` is not one"),
        "{text}"
    );
    // The help names the form that works: one replica.
    assert!(
        text.contains("`api` has replicas: crash one of them") && text.contains("api[0]"),
        "{text}"
    );
}

#[test]
fn llm_replicas_split_at_random_are_md1_each() {
    // Two LLM-mode replicas, one sequence at a time, constant lengths: each
    // request takes D = prefill(100) + 9 decode(1) = 15 + 9 x 5 = 60 ms. A
    // random split of 16.667/s gives each replica M/D/1 at rho 0.5:
    // T = D + rho D / (2 (1 - rho)) = 90 ms, first token at T - 9 x 5 = 45 ms.
    let r = run("name: llm-group
seed: 8
duration: 6000s
warmup: 60s
workloads:
  - { name: users, target: chat, arrival: { poisson: 16.6667/s } }
components:
  chat:
    type: model_server
    llm:
      max_batch: 1
      prefill: { affine: { base: 10ms, per_token: 0.05ms } }
      decode_step: { affine: { base: 4.5ms, per_sequence: 0.5ms } }
      prompt_tokens: 100
      output_tokens: 10
    replicas: 2
    balance: random
network: { latency: 0ms }
");
    let mean = r.latency.mean_ns() / 1e6;
    assert!(
        (mean / 90.0 - 1.0).abs() < 0.02,
        "mean {mean} ms vs M/D/1 90 ms"
    );
    let ttft: Vec<f64> = (0..2)
        .map(|i| extra(component(&r, &format!("chat[{i}]")), "ttft_mean_ms"))
        .collect();
    for t in &ttft {
        assert!((t / 45.0 - 1.0).abs() < 0.03, "TTFT {t} ms vs 45 ms");
    }
    let g = component(&r, "chat");
    assert!((g.utilization - 0.5).abs() < 0.01, "{}", g.utilization);
}

/// Two replicas of a server with calls (10 ms of its own work, then a call
/// to a 5 ms database with a worker each) on one host of one core: round
/// robin sends one of the two closed-loop users to each, so their own work
/// shares the core (each runs at half speed: 20 ms) and the call follows,
/// 25 ms exactly; on two cores (or without a host) each runs at full
/// speed, 15 ms. The host is busy 20 of every 25 ms with one core (0.8),
/// or both cores 10 of every 15 ms (2/3).
#[test]
fn replicas_with_calls_share_their_hosts_cores() {
    let yaml = |cores: u32, host: &str| {
        format!(
            "name: hosted
duration: 10s
warmup: 1s
hosts:
  box: {{ count: 1, cores: {cores}, memory: 8GiB }}
workloads:
  - {{ name: users, target: api, arrival: {{ closed: {{ users: 2 }} }} }}
components:
  api: {{ type: server, service_time: 10ms, calls: [db], replicas: 2{host} }}
  db: {{ type: server, service_time: 5ms, workers: 2 }}
network: {{ latency: 0ms }}
"
        )
    };
    let mean_ms = |r: &RunResult| r.latency.mean_ns() / 1e6;
    let shared = run(&yaml(1, ", host: box"));
    // Processor sharing is exact to 2^-20 ns per update: 1 ns.
    let exact = |got: f64, want: f64| assert!((got - want).abs() <= 1e-6, "{got} ms, not {want}");
    exact(mean_ms(&shared), 25.0);
    let api = component(&shared, "api");
    assert_eq!(extra(api, "replicas_pending_max"), 0.0);
    let busy = extra(api, "host_pool_utilization");
    // Busy 20 ms of every 25 ms cycle; the window cuts at most one cycle
    // short: 25 ms / 9 s.
    assert!((busy - 0.8).abs() <= 0.025 / 9.0, "{busy}");
    let two_cores = run(&yaml(2, ", host: box"));
    exact(mean_ms(&two_cores), 15.0);
    let busy = extra(component(&two_cores, "api"), "host_pool_utilization");
    // The window cuts at most one 15 ms cycle short.
    assert!((busy - 2.0 / 3.0).abs() <= 0.015 / 9.0, "{busy}");
    let dedicated = run(&yaml(1, ""));
    exact(mean_ms(&dedicated), 15.0);
    assert!(
        component(&dedicated, "api")
            .scaling
            .expect("a group")
            .replicas_pending_max
            .is_none(),
        "a group without hosts reports no pending replicas (unchanged output)"
    );
}
