//! Downstream calls, hedging and client retries against closed forms
//! (../shared/validation.md, "Networks and load balancing"; Nelson and
//! Tantawi 1988 for fork-join; Dean and Barroso 2013 for fan-out and
//! hedging). Each test names its formula beside its tolerance.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn server(name: &str, spec: ServerSpec) -> ComponentSpec {
    component(name, ComponentKind::Server(spec))
}

/// A leaf that is fast (`fast_ms`) except with probability `p_slow`
/// (`slow_ms`); enough workers that nothing ever queues.
fn sometimes_slow_leaf(name: &str, p_slow: f64, fast_ms: f64, slow_ms: f64) -> ComponentSpec {
    server(
        name,
        ServerSpec::new(
            100_000,
            Distribution::Mixture(vec![
                (1.0 - p_slow, constant_ms(fast_ms)),
                (p_slow, constant_ms(slow_ms)),
            ]),
        ),
    )
}

/// A step calling components `targets` (ids).
fn step(targets: std::ops::Range<u32>, wait_for: WaitFor) -> CallStep {
    call_step(targets.map(ComponentId).collect(), wait_for)
}

fn spec(
    per_second: f64,
    duration_s: u64,
    warmup_s: u64,
    components: Vec<ComponentSpec>,
) -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        per_second,
        1,
        exp_ms(1.0),
        SimDuration::from_secs(duration_s),
    );
    spec.name = "calls".into();
    spec.warmup = SimDuration::from_secs(warmup_s);
    spec.components = components;
    spec
}

/// Fork-join over K = 2 M/M/1 servers (wait for both): mean response
/// (12 - rho)/8 * 1/(mu - lambda), exact (Nelson and Tantawi 1988; Flatto and
/// Hahn 1984). rho 0.8, mu = 1/ms: 7.0 ms. About 10^6 requests; tolerance
/// 3 % (M/M/1 at rho 0.8 is 2.5 %, the maximum of two is a little noisier).
#[test]
fn fork_join_of_two_mm1_matches_the_exact_formula() {
    let mut components = vec![async_front(vec![step(1..3, WaitFor::All)])];
    components.push(server("a", ServerSpec::new(1, exp_ms(1.0))));
    components.push(server("b", ServerSpec::new(1, exp_ms(1.0))));
    let r = run(&spec(800.0, 1_300, 50, components));
    assert!(r.requests.completed > 990_000);
    let rho: f64 = 0.8;
    close(
        "fork-join K=2 mean (ms)",
        r.latency.mean_ns() / MS,
        (12.0 - rho) / 8.0 * 1.0 / (1.0 - rho),
        0.03,
    );
}

/// Fork-join over K = 10 M/M/1 servers at rho 0.8: simulation in the
/// literature gives 12.09 mean service times, the Nelson-Tantawi
/// approximation 11.73 (validation.md). 3 x 10^5 requests; tolerance 3 %.
#[test]
fn fork_join_of_ten_mm1_matches_the_reference_simulation() {
    let mut components = vec![async_front(vec![step(1..11, WaitFor::All)])];
    for i in 0..10 {
        components.push(server(&format!("leaf{i}"), ServerSpec::new(1, exp_ms(1.0))));
    }
    let r = run(&spec(800.0, 400, 20, components));
    assert!(r.requests.completed > 290_000);
    close(
        "fork-join K=10 mean (ms)",
        r.latency.mean_ns() / MS,
        12.09,
        0.03,
    );
}

/// Fan-out without queueing: each of n = 10 leaves is slow (100 ms instead
/// of 1 ms) with probability p = 0.01; a request waiting for all is slow with
/// probability 1 - (1 - p)^n = 0.0956. 2 x 10^5 requests: the binomial
/// standard error is 0.00066; tolerance 0.003 absolute (4.5 sigma).
#[test]
fn fan_out_is_slow_when_any_leaf_is() {
    let mut components = vec![async_front(vec![step(1..11, WaitFor::All)])];
    for i in 0..10 {
        components.push(sometimes_slow_leaf(&format!("leaf{i}"), 0.01, 1.0, 100.0));
    }
    let r = run(&spec(1_000.0, 210, 10, components));
    let slow = 1.0 - r.latency.fraction_at_or_below((50.0 * MS) as u64);
    let expected = 1.0 - 0.99f64.powi(10);
    println!("P(slow): got {slow:.5}, theory {expected:.5}");
    assert!(
        (slow - expected).abs() < 0.003,
        "P(slow) {slow} vs {expected}"
    );
}

/// Hedging one call after 10 ms when the leaf is slow (100 ms) with
/// probability 0.01, else 1 ms, no queueing: E[latency] = 0.99 * 1 + 0.01 *
/// (0.99 * 11 + 0.01 * 100) = 1.1089 ms exactly (the hedge answers at 11 ms
/// unless it is slow too, when the original wins at 100 ms). Every hedge
/// leaves exactly one losing copy, so wasted calls equal hedges; hedges are
/// 1 % of requests (binomial, 4.5 sigma at 2 x 10^5 requests is 0.001).
#[test]
fn hedging_cuts_the_tail_at_the_cost_of_wasted_calls() {
    let hedged = CallStep {
        hedge_after: Some(SimDuration::from_millis(10)),
        ..step(1..2, WaitFor::All)
    };
    let components = vec![
        async_front(vec![hedged]),
        sometimes_slow_leaf("leaf", 0.01, 1.0, 100.0),
    ];
    let r = run(&spec(1_000.0, 210, 10, components));
    close("hedged mean (ms)", r.latency.mean_ns() / MS, 1.1089, 0.01);
    let n = r.requests.completed as f64;
    let hedges = extra_named(&r, "front", "hedges_sent");
    assert!(
        (hedges / n - 0.01).abs() < 0.001,
        "hedge share {}",
        hedges / n
    );
    // Losers of requests near the window's edges may be counted on one side
    // only; allow a handful.
    let wasted = extra_named(&r, "front", "wasted_calls");
    assert!(
        (wasted - hedges).abs() <= 5.0,
        "wasted {wasted} vs hedges {hedges}"
    );
    // Without hedging the p99.9 is the slow leaf's 100 ms; with it, 11 ms.
    let p999 = r.latency.quantile_ns(0.999) as f64 / MS;
    assert!((p999 - 11.0).abs() < 0.1, "hedged p99.9 {p999} ms");
}

/// `wait_for: any` over two unloaded exponential leaves: the minimum of two
/// exponentials of mean m has mean m/2 (5 ms for 10 ms). 2 x 10^5 requests,
/// tolerance 1 % (the standard error of an exponential mean is 0.22 %).
/// `wait_for: 2` of three is the second order statistic: m/3 + m/2.
#[test]
fn wait_for_any_and_n_are_order_statistics() {
    let leaf = |name: &str| server(name, ServerSpec::new(100_000, exp_ms(10.0)));
    let components = vec![
        async_front(vec![step(1..3, WaitFor::Any)]),
        leaf("a"),
        leaf("b"),
    ];
    let r = run(&spec(1_000.0, 210, 10, components));
    close(
        "min of two exponentials (ms)",
        r.latency.mean_ns() / MS,
        5.0,
        0.01,
    );

    let components = vec![
        async_front(vec![step(1..4, WaitFor::Count(2))]),
        leaf("a"),
        leaf("b"),
        leaf("c"),
    ];
    let r = run(&spec(1_000.0, 210, 10, components));
    close(
        "second of three exponentials (ms)",
        r.latency.mean_ns() / MS,
        10.0 / 3.0 + 10.0 / 2.0,
        0.01,
    );
}

/// Thread per request holds the worker while the call is out, so the front
/// server's utilization is lambda * (own + downstream) / workers; async
/// releases it after its own work: lambda * own / workers. Front: 4 ms own
/// work, 8 workers; leaf: 10 ms, unloaded; 500/s: 0.875 vs 0.25 (1 %).
#[test]
fn thread_mode_holds_workers_while_calls_are_out() {
    for (mode, expected) in [
        (CallMode::Thread, 500.0 * 0.014 / 8.0),
        (CallMode::Async, 500.0 * 0.004 / 8.0),
    ] {
        let f = server(
            "front",
            ServerSpec {
                calls: vec![step(1..2, WaitFor::All)],
                mode,
                ..ServerSpec::new(8, constant_ms(4.0))
            },
        );
        let leaf = server("leaf", ServerSpec::new(100_000, constant_ms(10.0)));
        let r = run(&spec(500.0, 410, 10, vec![f, leaf]));
        close(
            &format!("{mode:?} utilization"),
            r.components[0].utilization,
            expected,
            0.01,
        );
    }
}

/// Client retries after time-outs: a leaf answers in 1 ms, or in 1 s with
/// probability 0.1 (no queueing); the client times out at 100 ms and retries
/// at most twice at once. Attempts are independent, so a request times out
/// for good with probability 0.1^3 = 0.001 and sends 0.1 + 0.01 = 0.11
/// retries on average. 2 x 10^5 requests: tolerances 4.5 binomial sigma.
/// The abandoned attempts still run to the end on the server.
#[test]
fn retries_after_timeouts_follow_the_geometric_law() {
    let mut s = spec(
        1_000.0,
        210,
        10,
        vec![sometimes_slow_leaf("leaf", 0.1, 1.0, 1_000.0)],
    );
    s.workloads[0].timeout = Some(SimDuration::from_millis(100));
    s.workloads[0].retries = Some(RetrySpec {
        max: 2,
        backoff: Distribution::Constant(SimDuration::ZERO),
        multiplier: 2.0,
        max_backoff: None,
        jitter: Jitter::None,
        budget: None,
    });
    let r = run(&s);
    let n = r.requests.generated as f64;
    let retry_share = r.requests.retries as f64 / n;
    let timeout_share = r.requests.timed_out as f64 / n;
    println!("retries per request {retry_share:.5} (0.11), timed out {timeout_share:.5} (0.001)");
    assert!((retry_share - 0.11).abs() < 0.0035, "retries {retry_share}");
    assert!(
        (timeout_share - 0.001).abs() < 0.0004,
        "timed out {timeout_share}"
    );
    // The leaf saw every attempt: first attempts plus retries.
    let leaf = &r.components[0];
    let attempts = leaf.arrivals as f64 / n;
    assert!(
        (attempts - 1.11).abs() < 0.004,
        "attempts per request {attempts}"
    );
}

/// A retry budget caps retries at its share of first attempts (plus the
/// bucket's initial 10 tokens): with every attempt timing out and budget
/// 0.05, retries / requests -> 0.05 however many retries are allowed.
#[test]
fn a_retry_budget_caps_retries() {
    let mut s = spec(
        1_000.0,
        110,
        10,
        vec![server(
            "leaf",
            ServerSpec::new(100_000, constant_ms(1_000.0)),
        )],
    );
    s.workloads[0].timeout = Some(SimDuration::from_millis(100));
    s.workloads[0].retries = Some(RetrySpec {
        max: 3,
        backoff: constant_ms(1.0),
        multiplier: 2.0,
        max_backoff: None,
        jitter: Jitter::Full,
        budget: Some(0.05),
    });
    let r = run(&s);
    let share = r.requests.retries as f64 / r.requests.generated as f64;
    println!("retries per request with a 5 % budget: {share:.5}");
    assert!((share - 0.05).abs() < 0.002, "retry share {share}");
    assert_eq!(r.requests.timed_out, r.requests.generated);
}

/// Phased arrivals: a Poisson process at 100/s for 50 s, silence for 20 s,
/// then 1,000/s for 30 s sends 5,000 + 0 + 30,000 requests (4.5 sigma of a
/// Poisson count of 35,000 is 842; the per-phase split is checked through
/// the series: nothing completes during the silence).
#[test]
fn phased_arrivals_follow_their_rates() {
    let mut s = spec(
        1.0,
        100,
        0,
        vec![server("s", ServerSpec::new(64, constant_ms(1.0)))],
    );
    s.workloads[0].arrival = ArrivalSpec::Phases(vec![
        PhaseSpec {
            per_second: 100.0,
            length: Some(SimDuration::from_secs(50)),
        },
        PhaseSpec {
            per_second: 0.0,
            length: Some(SimDuration::from_secs(20)),
        },
        PhaseSpec {
            per_second: 1_000.0,
            length: None,
        },
    ]);
    let r = run(&s);
    let n = r.requests.generated as f64;
    assert!((n - 35_000.0).abs() < 842.0, "generated {n}");
    let silent: u64 = r
        .series
        .points
        .iter()
        .filter(|p| p.start_s >= 50.5 && p.end_s <= 70.0)
        .map(|p| p.completed)
        .sum();
    assert_eq!(silent, 0, "requests completed during the silent phase");
    let burst: u64 = r
        .series
        .points
        .iter()
        .filter(|p| p.start_s >= 70.0)
        .map(|p| p.completed)
        .sum();
    assert!((burst as f64 - 30_000.0).abs() < 780.0, "burst {burst}");
}

/// A failing step fails the request: a front calling a server with no
/// waiting room (Erlang B loss, c 2, a 2: B = 0.4) answers with an error
/// exactly when the call is dropped, and the client counts it as failed.
#[test]
fn a_dropped_call_fails_the_request() {
    let leaf = server(
        "leaf",
        ServerSpec {
            queue_capacity: Some(0),
            ..ServerSpec::new(2, exp_ms(1.0))
        },
    );
    let components = vec![async_front(vec![step(1..2, WaitFor::All)]), leaf];
    let r = run(&spec(2_000.0, 110, 10, components));
    let failed = r.requests.failed as f64 / r.requests.generated as f64;
    close("failed share = Erlang B(2, 2)", failed, 0.4, 0.02);
    assert_eq!(r.components[1].drops, r.requests.failed);
}

/// Hedging at a percentile of the observed call latency: with unloaded
/// exponential leaves of mean m = 10 ms and `hedge_percentile` 0.9, the delay
/// settles at d = m ln 10 = 23.0 ms, 10 % of calls are hedged, and
/// E[min(X1, d + X2)] = m (1 - e^{-d/m}) + e^{-d/m} m/2 = 0.95 m = 9.5 ms.
/// 2 x 10^5 requests; tolerances 1 % (mean) and 0.003 (hedge share).
#[test]
fn hedging_at_a_percentile_hedges_that_share_of_calls() {
    let hedged = CallStep {
        hedge_percentile: Some(0.9),
        ..step(1..2, WaitFor::All)
    };
    let components = vec![
        async_front(vec![hedged]),
        server("leaf", ServerSpec::new(100_000, exp_ms(10.0))),
    ];
    let r = run(&spec(1_000.0, 210, 10, components));
    close("p90-hedged mean (ms)", r.latency.mean_ns() / MS, 9.5, 0.01);
    let share = extra_named(&r, "front", "hedges_sent") / r.requests.completed as f64;
    println!("hedge share {share:.4} (0.1)");
    assert!((share - 0.1).abs() < 0.003, "hedge share {share}");
}
