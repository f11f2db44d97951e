//! Queues and streams against queueing theory (`shared/validation.md`) and
//! against their own accounting: every message is consumed or dropped
//! exactly once, and every producer request ends exactly once.
//!
//! Units: mean service time 1 ms (mu = 1000/s); latencies are compared in
//! mean service times. Each test names its formula beside its tolerance.
//! Runs have about 10^6 measured messages and a fixed seed.

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn server(name: &str, workers: u32, service_time: Distribution) -> ComponentSpec {
    component(
        name,
        ComponentKind::Server(ServerSpec::new(workers, service_time)),
    )
}

/// Queue `q` (component 0) in front of consumer component 1.
fn queue(capacity: Option<u32>, overflow: QueueOverflow, concurrency: u32) -> ComponentSpec {
    ComponentSpec {
        name: "q".into(),
        kind: ComponentKind::Queue(QueueSpec {
            capacity,
            overflow,
            consumer: ComponentId(1),
            concurrency,
        }),
    }
}

/// Stream `s` (component 0) with `groups` (name, target) and `partitions`.
fn stream(
    partitions: u32,
    groups: &[(&str, u32)],
    retention: Option<SimDuration>,
) -> ComponentSpec {
    ComponentSpec {
        name: "s".into(),
        kind: ComponentKind::Stream(StreamSpec {
            partitions,
            groups: groups
                .iter()
                .map(|&(name, target)| ConsumerGroupSpec {
                    name: name.into(),
                    target: ComponentId(target),
                    start: None,
                })
                .collect(),
            retention,
        }),
    }
}

/// Producer `producer` (Poisson at `per_second`) into component 0, seed 42,
/// warm-up 2 % of the run.
fn spec(duration_s: u64, per_second: f64, components: Vec<ComponentSpec>) -> ModelSpec {
    let producer = WorkloadSpec::new("producer", ComponentId(0), poisson(per_second));
    model_spec("queue", duration_s, vec![producer], components)
}

/// A queue with one consumer slot in front of a single-worker exponential
/// server is M/M/1 for message latency (enqueue to consumer done):
/// T ~ Exp(mu - lambda), E[T] = 1/(mu - lambda), t_q = -ln(1-q)/(mu - lambda).
/// The producer is answered at once.
#[test]
fn queue_message_latency_is_mm1() {
    // rho 0.5: mean 2, p99 9.210; tolerance 1 % / 2 %.
    let r = run(&spec(
        2_000,
        500.0,
        vec![
            queue(None, QueueOverflow::DropTail, 1),
            server("worker", 1, exp_ms(1.0)),
        ],
    ));
    let q = &r.components[0];
    close(
        "queue M/M/1 rho 0.5 mean",
        q.latency.mean_ns() / MS,
        2.0,
        0.01,
    );
    close(
        "queue M/M/1 rho 0.5 p99",
        q.latency.quantile_ns(0.99) as f64 / MS,
        -(0.01f64.ln()) / 0.5,
        0.02,
    );
    close(
        "extras agree with the histogram",
        extra_of(q, "message_latency_mean_ms"),
        q.latency.mean_ns() / MS,
        1e-12,
    );
    // The producer waits for nothing but the enqueue (zero network here).
    assert_eq!(
        r.latency.max_ns(),
        0,
        "the producer is acknowledged at once"
    );

    // rho 0.9: mean 10, p99 46.05; tolerance 6 % / 12 %.
    let r = run(&spec(
        1_200,
        900.0,
        vec![
            queue(None, QueueOverflow::DropTail, 1),
            server("worker", 1, exp_ms(1.0)),
        ],
    ));
    let q = &r.components[0];
    close(
        "queue M/M/1 rho 0.9 mean",
        q.latency.mean_ns() / MS,
        10.0,
        0.06,
    );
    close(
        "queue M/M/1 rho 0.9 p99",
        q.latency.quantile_ns(0.99) as f64 / MS,
        -(0.01f64.ln()) / 0.1,
        0.12,
    );
    // Utilization of the consumer slot is the server's: rho = lambda / mu.
    close("consumer slot utilization", q.utilization, 0.9, 0.01);
}

/// `capacity: K` counts the message in service, so with one consumer slot
/// and drop_tail the queue is M/M/1/K:
/// P_block = (1 - rho) rho^K / (1 - rho^(K+1)); K 10, rho 0.9: 0.050814,
/// tolerance 3 % relative.
#[test]
fn queue_capacity_k_with_drop_tail_is_mm1k() {
    let rho: f64 = 0.9;
    let k = 10;
    let p = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    assert!((p - 0.050814).abs() < 1e-6);
    let r = run(&spec(
        1_200,
        900.0,
        vec![
            queue(Some(k as u32), QueueOverflow::DropTail, 1),
            server("worker", 1, exp_ms(1.0)),
        ],
    ));
    let q = &r.components[0];
    close(
        "queue M/M/1/10 blocking",
        q.drops as f64 / q.arrivals as f64,
        p,
        0.03,
    );
    // Refused messages are the producers' drops, one for one.
    assert_eq!(r.requests.dropped, q.drops);
    assert!(extra_of(q, "max_depth") <= f64::from(k as u32 - 1));
}

/// Little's law on the queue, L = lambda W, on one run: time-average depth
/// vs throughput x mean wait before delivery, and time-average messages
/// held vs throughput x mean message latency. Tolerance 0.5 %.
#[test]
fn littles_law_on_queue_depth() {
    let r = run(&spec(
        500,
        1800.0,
        vec![
            queue(None, QueueOverflow::DropTail, 3),
            server(
                "worker",
                2,
                Distribution::Uniform {
                    low_ns: 0.2 * MS,
                    high_ns: 1.8 * MS,
                },
            ),
        ],
    ));
    let q = &r.components[0];
    let lambda = q.throughput_rps(r.window_s());
    close(
        "Little's law on depth",
        extra_of(q, "mean_depth"),
        lambda * extra_of(q, "message_wait_mean_ms") / 1e3,
        0.005,
    );
    close(
        "Little's law on messages held",
        q.mean_in_system,
        lambda * q.latency.mean_ns() / 1e9,
        0.005,
    );
    assert_eq!(q.mean_queue_length, extra_of(q, "mean_depth"));
}

/// A stream with one partition and one group whose consumer is an
/// exponential server is M/M/1: the group's lag in messages (waiting plus
/// the one in process) is the number in system, L = rho / (1 - rho)
/// (rho 0.8: 4); message latency is E[T] = 1/(mu - lambda) (5 ms).
/// Tolerance 2.5 % (M/M/1 at rho 0.8).
#[test]
fn stream_lag_is_mm1_number_in_system() {
    let r = run(&spec(
        1_500,
        800.0,
        vec![
            stream(1, &[("g", 1)], None),
            server("worker", 1, exp_ms(1.0)),
        ],
    ));
    let s = &r.components[0];
    close(
        "stream lag = M/M/1 L",
        extra_of(s, "g.lag_mean"),
        4.0,
        0.025,
    );
    close(
        "stream message latency = M/M/1 T",
        extra_of(s, "g.latency_mean_ms"),
        5.0,
        0.025,
    );
    // Little's law between the two: lag = lambda x latency (0.5 %).
    close(
        "Little's law on lag",
        extra_of(s, "g.lag_mean"),
        s.throughput_rps(r.window_s()) * extra_of(s, "g.latency_mean_ms") / 1e3,
        0.005,
    );
    // The oldest unconsumed message is at least as old as the mean sojourn
    // share: a lag in seconds of zero would mean it is not measured.
    assert!(extra_of(s, "g.lag_s_mean") > 0.0 && extra_of(s, "g.lag_s_max") > 0.05);
}

/// Every message a queue is offered is consumed or dropped exactly once,
/// and every producer request ends exactly once, under each overflow policy.
#[test]
fn queue_conserves_messages_and_producer_requests() {
    for overflow in [
        QueueOverflow::DropTail,
        QueueOverflow::DropHead,
        QueueOverflow::BackPressure,
    ] {
        // Overloaded (rho 1.2 for the 2 workers) so the bound is hit often.
        let r = run(&spec(
            100,
            2400.0,
            vec![
                queue(Some(20), overflow, 2),
                server("worker", 2, exp_ms(1.0)),
            ],
        ));
        let q = &r.components[0];
        let (offered, enqueued) = (q.arrivals, extra_of(q, "messages_enqueued") as u64);
        let consumed = q.completions;
        assert!(q.drops > 1_000 || overflow == QueueOverflow::BackPressure);
        assert_eq!(
            offered,
            q.completions + q.drops,
            "{overflow:?}: offered = consumed + dropped"
        );
        // Producers: acknowledged iff their message entered the queue.
        let w = &r.workloads[0].requests;
        assert_eq!(w.generated, offered, "{overflow:?}");
        assert_eq!(w.completed, enqueued, "{overflow:?}");
        assert_eq!(w.dropped, offered - enqueued, "{overflow:?}");
        // The consumer saw each consumed message once.
        assert_eq!(r.components[1].arrivals, consumed, "{overflow:?}");
        match overflow {
            QueueOverflow::DropTail => assert_eq!(enqueued, consumed),
            QueueOverflow::DropHead => {
                assert_eq!(w.dropped, 0, "drop_head evicts rather than refuses here");
                assert_eq!(
                    enqueued - consumed,
                    q.drops,
                    "evicted = enqueued - consumed"
                );
            }
            QueueOverflow::BackPressure => {
                assert_eq!(q.drops, 0);
                assert!(extra_of(q, "blocked_producers") > 1_000.0);
                // Producers wait while the queue is full: their latency is
                // no longer zero.
                assert!(r.latency.mean_ns() > 0.0);
            }
        }
    }
}

/// Every message appended to a stream is, for each group, consumed or
/// expired by retention exactly once; a lagging group keeps only what
/// retention allows in memory.
#[test]
fn stream_conserves_messages_per_group() {
    // Group `fast` has 8 partitions' worth of a fast server; group `slow`
    // consumes at 2 ms a message with 8 partitions -> 4000/s capacity for
    // 5000/s offered, so it lags until retention (200 ms) expires messages.
    let r = run(&spec(
        60,
        5000.0,
        vec![
            stream(
                8,
                &[("fast", 1), ("slow", 2)],
                Some(SimDuration::from_millis(200)),
            ),
            server("fast-worker", 8, exp_ms(0.2)),
            server(
                "slow-worker",
                8,
                Distribution::Constant(SimDuration::from_millis(2)),
            ),
        ],
    ));
    let s = &r.components[0];
    let appended = extra_of(s, "messages_appended");
    assert_eq!(appended as u64, s.arrivals);
    assert_eq!(
        r.workloads[0].requests.completed, s.arrivals,
        "producers acked"
    );
    for g in ["fast", "slow"] {
        let consumed = extra_of(s, &format!("{g}.consumed"));
        let expired = extra_of(s, &format!("{g}.expired"));
        assert_eq!(
            consumed + expired,
            appended,
            "{g}: consumed + expired = appended"
        );
    }
    assert_eq!(extra_of(s, "fast.expired"), 0.0);
    assert!(extra_of(s, "slow.expired") > 0.1 * appended);
    assert_eq!(
        r.components[1].arrivals as f64,
        extra_of(s, "fast.consumed")
    );
    assert_eq!(
        r.components[2].arrivals as f64,
        extra_of(s, "slow.consumed")
    );
    // Memory: at most 200 ms of appends (5000/s -> ~1000) plus slack.
    let peak = extra_of(s, "peak_retained");
    assert!(peak < 1_400.0, "peak retained {peak}");
    assert!(extra_of(s, "slow.lag_s_max") <= 0.2 + 0.01);
}

/// Keys map to partitions by a stable hash: one hot key makes one
/// partition (and so one consumer) carry its whole load.
#[test]
fn a_hot_key_makes_one_partition_hot() {
    let mut s = spec(
        20,
        1500.0,
        vec![
            stream(4, &[("g", 1)], None),
            server("worker", 4, exp_ms(1.0)),
        ],
    );
    // Every request has key 0: one partition takes all 1500/s, and its one
    // consumer serves 1000/s, so the lag grows ~500/s.
    s.workloads[0].keys = KeySpec::Uniform { n: 1 };
    let r = run(&s);
    let c = &r.components[0];
    assert!(
        extra_of(c, "g.lag_max") > 0.4 * 500.0 * 19.6,
        "{:?}",
        c.figures
    );
    // Spread over many keys, the same load is light for 4 partitions.
    s.workloads[0].keys = KeySpec::Uniform { n: 10_000 };
    let r = run(&s);
    assert!(extra_of(&r.components[0], "g.lag_max") < 100.0);
}
