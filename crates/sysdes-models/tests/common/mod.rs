//! Scaffolding shared by the integration tests of `sysdes-models`: running a
//! spec with its accounting checked, the relative-tolerance assertion that
//! prints what it compares, spec and arrival builders, and lookups of a
//! component's extra figures.
//!
//! Each file under `tests/` is its own test binary and declares `mod common;`
//! (the usual Cargo layout: `tests/common/mod.rs` is not a test binary itself).

// Every test binary compiles this module but none uses every helper, so the
// helpers a binary leaves unused would otherwise warn there.
#![allow(dead_code)]

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// Nanoseconds per millisecond, to turn latencies in ns into ms.
pub const MS: f64 = 1e6;

/// Runs `spec` to the end with the default limits and checks its accounting:
/// every generated request ended exactly once, the run drained (it was not
/// cut short) and nothing is left in flight.
#[track_caller]
pub fn run(spec: &ModelSpec) -> RunResult {
    let result = Simulation::new(spec)
        .expect("valid spec")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("stable run");
    assert!(
        result.requests.balances(),
        "accounting: {:?}",
        result.requests
    );
    assert_eq!(result.stop, StopReason::Drained);
    assert_eq!(result.requests.in_flight, 0, "{:?}", result.requests);
    result
}

/// Asserts |got/expected - 1| <= tol, with a message naming the quantity;
/// prints the comparison (seen with `--nocapture`) whether or not it holds.
#[track_caller]
pub fn close(what: &str, got: f64, expected: f64, tol: f64) {
    let err = (got / expected - 1.0).abs();
    println!(
        "{what}: got {got:.5}, theory {expected:.5}, error {:.3} % (tolerance {:.1} %)",
        err * 100.0,
        tol * 100.0
    );
    assert!(
        err <= tol,
        "{what}: got {got}, expected {expected} (error {:.2} % > {:.1} %)",
        err * 100.0,
        tol * 100.0
    );
}

/// The kind-specific figure `key` of component `c`
/// (`ComponentResult::figure`); panics, listing the figures it has, if
/// there is none.
#[track_caller]
pub fn extra_of(c: &ComponentResult, key: &str) -> f64 {
    c.figure(key).unwrap_or_else(|| {
        panic!(
            "{} has no `{key}` in {:?} {:?} {:?}",
            c.name, c.figures, c.lost_in_crash, c.scaling
        )
    })
}

/// The extra figure `key` of the first component (id 0).
#[track_caller]
pub fn extra(r: &RunResult, key: &str) -> f64 {
    extra_of(&r.components[0], key)
}

/// The extra figure `key` of the component named `component`.
#[track_caller]
pub fn extra_named(r: &RunResult, component: &str, key: &str) -> f64 {
    let c = r
        .components
        .iter()
        .find(|c| c.name == component)
        .unwrap_or_else(|| panic!("no component `{component}`"));
    extra_of(c, key)
}

/// `x` milliseconds.
pub fn ms(x: u64) -> SimDuration {
    SimDuration::from_millis(x)
}

/// `x` microseconds.
pub fn us(x: u64) -> SimDuration {
    SimDuration::from_micros(x)
}

/// `x` seconds.
pub fn secs(x: u64) -> SimDuration {
    SimDuration::from_secs(x)
}

/// Always exactly `ns` nanoseconds (also a constant count, such as tokens or bytes).
pub fn constant_ns(ns: u64) -> Distribution {
    Distribution::Constant(SimDuration::from_nanos(ns))
}

/// Always exactly `ms` milliseconds (rounded down to whole nanoseconds).
pub fn constant_ms(ms: f64) -> Distribution {
    Distribution::Constant(SimDuration::from_nanos((ms * MS) as u64))
}

/// Exponential with mean `mean` milliseconds.
pub fn exp_ms(mean: f64) -> Distribution {
    Distribution::Exponential { mean_ns: mean * MS }
}

/// Open Poisson arrivals at `per_second`.
pub fn poisson(per_second: f64) -> ArrivalSpec {
    ArrivalSpec::Poisson { per_second }
}

/// A closed loop of `users` with no think time.
pub fn closed(users: u32) -> ArrivalSpec {
    ArrivalSpec::Closed {
        users,
        think_time: Distribution::Constant(SimDuration::ZERO),
    }
}

/// Workload `users` sending to component 0 as `arrival` says (unique keys,
/// reads only, no timeout).
pub fn users(arrival: ArrivalSpec) -> WorkloadSpec {
    WorkloadSpec::new("users", ComponentId(0), arrival)
}

/// Component `name` of `kind`.
pub fn component(name: &str, kind: ComponentKind) -> ComponentSpec {
    ComponentSpec {
        name: name.into(),
        kind,
    }
}

/// A spec `name` of `duration_s` seconds, seed 42, warm-up 2 % of the run,
/// the default network, no hosts and no faults.
pub fn model_spec(
    name: &str,
    duration_s: u64,
    workloads: Vec<WorkloadSpec>,
    components: Vec<ComponentSpec>,
) -> ModelSpec {
    ModelSpec {
        name: name.into(),
        seed: 42,
        duration: SimDuration::from_secs(duration_s),
        warmup: SimDuration::from_secs(duration_s / 50),
        network: NetworkSpec::default(),
        workloads,
        components,
        hosts: Vec::new(),
        faults: Vec::new(),
    }
}

/// [`model_spec`] with one workload `users` (`arrival`) into one component.
pub fn single_component(
    name: &str,
    arrival: ArrivalSpec,
    component: ComponentSpec,
    duration_s: u64,
) -> ModelSpec {
    model_spec(name, duration_s, vec![users(arrival)], vec![component])
}

/// A front server `front` that does no work of its own and calls `steps`;
/// async, so it never holds a worker while waiting.
pub fn async_front(steps: Vec<CallStep>) -> ComponentSpec {
    component(
        "front",
        ComponentKind::Server(ServerSpec {
            calls: steps,
            mode: CallMode::Async,
            ..ServerSpec::new(1, Distribution::Constant(SimDuration::ZERO))
        }),
    )
}

/// A call step to each of `targets` that waits for `wait_for`: no hedging,
/// no deadline, no partial answers, no breaker.
pub fn call_step(targets: Vec<ComponentId>, wait_for: WaitFor) -> CallStep {
    CallStep {
        targets,
        wait_for,
        hedge_after: None,
        hedge_percentile: None,
        timeout: None,
        partial: false,
        breaker: None,
    }
}

/// The chunked scheduler with a budget of `budget` tokens per iteration,
/// 128 sequences, blocks of 16 (`blocks` of them; `None`: unlimited),
/// prefix caching on, no swap, no watermark, iterations costing `cost`.
pub fn chunked_scheduler(budget: u32, blocks: Option<u32>, cost: IterationCost) -> ChunkedSpec {
    ChunkedSpec {
        max_num_batched_tokens: budget,
        max_num_seqs: 128,
        block_size: 16,
        num_blocks: blocks,
        prefix_caching: true,
        swap: None,
        watermark_blocks: 0,
        cost,
    }
}

/// A colocated LLM server of one slot and 128 sequences under `scheduler`,
/// prompts of `p` and outputs of `n` tokens, no KV token limit, no queue
/// limit, no cold start, no shared prefixes. Its prefill and decode times
/// are `scheduler.cost`'s floor and per-token time (the scheduler itself
/// costs iterations by `scheduler.cost`; these feed the capacity estimate).
pub fn chunked_llm(scheduler: ChunkedSpec, p: Distribution, n: Distribution) -> LlmServerSpec {
    let per_token = SimDuration::from_nanos(scheduler.cost.per_token_ps / 1000);
    LlmServerSpec {
        slots: 1,
        max_batch: 128,
        prefill: PrefillTime {
            base: scheduler.cost.floor,
            per_token,
        },
        decode_step: DecodeTime {
            base: scheduler.cost.floor,
            per_sequence: per_token,
        },
        prompt_tokens: p,
        output_tokens: n,
        kv_cache_tokens: None,
        queue_capacity: None,
        cold_start: None,
        scheduler: LlmScheduler::Chunked(scheduler),
        prefix: None,
        role: LlmRole::Colocated,
    }
}

/// One workload `users` (`arrival`) into one LLM server `gpu`: spec `llm`,
/// seed 42, warm-up 2 % of the run.
pub fn llm_system(arrival: ArrivalSpec, m: LlmServerSpec, duration_s: u64) -> ModelSpec {
    single_component(
        "llm",
        arrival,
        component("gpu", ComponentKind::LlmServer(m)),
        duration_s,
    )
}

/// Same seed, same result: two runs of `spec` agree on the events, the
/// mean latency and the first component's figures; seed 43 instead gives
/// another mean latency.
#[track_caller]
pub fn assert_deterministic(spec: &ModelSpec) {
    let (a, b) = (run(spec), run(spec));
    assert_eq!(a.events, b.events);
    assert_eq!(a.latency.mean_ns(), b.latency.mean_ns());
    assert_eq!(a.components[0].figures, b.components[0].figures);
    let mut other = spec.clone();
    other.seed = 43;
    assert_ne!(run(&other).latency.mean_ns(), a.latency.mean_ns());
}
