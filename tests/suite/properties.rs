//! Property tests over random systems: requests are conserved, the run
//! never panics, and a run cut short still accounts for every request.

use proptest::prelude::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

fn dist() -> impl Strategy<Value = Distribution> {
    prop_oneof![
        (1u64..5_000_000).prop_map(|ns| Distribution::Constant(SimDuration::from_nanos(ns))),
        (1e3f64..5e6).prop_map(|mean_ns| Distribution::Exponential { mean_ns }),
        (1e3f64..5e6, 0.0f64..1.5)
            .prop_map(|(median_ns, sigma)| Distribution::LogNormal { median_ns, sigma }),
        (1u32..5, 1e3f64..5e6).prop_map(|(k, mean_ns)| Distribution::Erlang { k, mean_ns }),
        (1e3f64..1e6, 1.5f64..4.0)
            .prop_map(|(scale_ns, shape)| Distribution::Pareto { scale_ns, shape }),
    ]
}

fn policy() -> impl Strategy<Value = LbPolicy> {
    prop_oneof![
        Just(LbPolicy::RoundRobin),
        Just(LbPolicy::Random),
        Just(LbPolicy::LeastOutstanding),
        Just(LbPolicy::PowerOfTwo),
        Just(LbPolicy::ConsistentHash),
    ]
}

fn wait_for() -> impl Strategy<Value = WaitFor> {
    prop_oneof![
        Just(WaitFor::All),
        Just(WaitFor::Any),
        (1u16..3).prop_map(WaitFor::Count)
    ]
}

prop_compose! {
    /// A front server whose calls fan out to some of the servers (waiting for
    /// all, any or N of them, perhaps hedged, perhaps with a deadline, a
    /// partial answer or a circuit breaker) and then go through the balancer.
    fn front()(
        fan_out in proptest::collection::vec(0usize..4, 1..4),
        wait_for in wait_for(),
        hedge_ms in proptest::option::of(1u64..20),
        async_mode in any::<bool>(),
        workers in 1u32..4,
        service_time in dist(),
        timeout_ms in proptest::option::of(1u64..30),
        partial in any::<bool>(),
        breaker in proptest::option::of((1u32..5, 0.1f64..1.0)),
    ) -> (Vec<usize>, WaitFor, Option<SimDuration>, CallMode, u32, Distribution, Resilience) {
        let mode = if async_mode { CallMode::Async } else { CallMode::Thread };
        let timeout = timeout_ms.map(SimDuration::from_millis);
        let resilience = Resilience {
            timeout,
            partial: partial && timeout.is_some(),
            breaker: breaker.map(|(window, failure_rate)| BreakerSpec {
                failure_rate,
                min_calls: window,
                window,
                open_for: SimDuration::from_millis(50),
                probes: 1,
            }),
        };
        (fan_out, wait_for, hedge_ms.map(SimDuration::from_millis), mode, workers, service_time, resilience)
    }
}

/// A call step's deadline, partial answer and breaker.
#[derive(Clone, Debug)]
struct Resilience {
    timeout: Option<SimDuration>,
    partial: bool,
    breaker: Option<BreakerSpec>,
}

fn retry_policy() -> impl Strategy<Value = RetrySpec> {
    (
        0u32..3,
        dist(),
        proptest::option::of(0.0f64..1.0),
        prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)],
    )
        .prop_map(|(max, backoff, budget, jitter)| RetrySpec {
            max,
            backoff,
            multiplier: 2.0,
            max_backoff: Some(SimDuration::from_millis(20)),
            jitter,
            budget,
        })
}

prop_compose! {
    /// A balancer over 1-4 servers, fed by an open or a closed workload,
    /// possibly through a front server with downstream calls, with bounded
    /// queues, timeouts, retries, writes and network delay, at any load
    /// (overload included: the run is short and the guard is generous).
    fn system()(
        servers in proptest::collection::vec((1u32..4, dist(), proptest::option::of(0u32..5)), 1..5),
        policy in policy(),
        closed in any::<bool>(),
        rate in 10.0f64..5_000.0,
        users in 1u32..50,
        think in dist(),
        timeout_ms in proptest::option::of(1u64..50),
        latency in prop_oneof![Just(Distribution::Constant(SimDuration::ZERO)), dist()],
        seed in any::<u64>(),
        front in proptest::option::of(front()),
        retries in proptest::option::of(retry_policy()),
        write_share in prop_oneof![Just(0.0), 0.0f64..1.0],
    ) -> ModelSpec {
        let n_servers = servers.len();
        let mut components = vec![ComponentSpec {
            name: "lb".into(),
            kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
                policy,
                backends: (1..=servers.len() as u32).map(ComponentId).collect(),
                routing: Default::default(),
            }),
        }];
        for (i, (workers, service_time, queue_capacity)) in servers.into_iter().enumerate() {
            components.push(ComponentSpec {
                name: format!("s{i}"),
                kind: ComponentKind::Server(ServerSpec {
                    workers,
                    service_time,
                    queue_capacity,
                    calls: Vec::new(),
                    mode: CallMode::Thread,
                    discipline: Discipline::Fifo,
                    patience: None,
                }),
            });
        }
        let target = match front {
            None => ComponentId(0),
            Some((fan_out, wait_for, hedge_after, mode, workers, service_time, resilience)) => {
                let targets: Vec<ComponentId> =
                    fan_out.iter().map(|&i| ComponentId(1 + (i % n_servers) as u32)).collect();
                let wait_for = match wait_for {
                    WaitFor::Count(k) => WaitFor::Count(k.min(targets.len() as u16)),
                    other => other,
                };
                components.push(ComponentSpec {
                    name: "api".into(),
                    kind: ComponentKind::Server(ServerSpec {
                        workers,
                        service_time,
                        queue_capacity: None,
                        calls: vec![
                            CallStep {
                                targets,
                                wait_for,
                                hedge_after,
                                hedge_percentile: None,
                                timeout: resilience.timeout,
                                partial: resilience.partial,
                                breaker: resilience.breaker,
                            },
                            CallStep {
                                targets: vec![ComponentId(0)],
                                wait_for: WaitFor::All,
                                hedge_after: None,
                                hedge_percentile: Some(0.9),
                                timeout: None,
                                partial: false,
                                breaker: None,
                            },
                        ],
                        mode,
                        discipline: Discipline::Fifo,
                        patience: None,
                    }),
                });
                ComponentId(components.len() as u32 - 1)
            }
        };
        let arrival = if closed {
            ArrivalSpec::Closed { users, think_time: think }
        } else {
            ArrivalSpec::Poisson { per_second: rate }
        };
        ModelSpec {
            name: "random".into(),
            seed,
            duration: SimDuration::from_millis(500),
            warmup: SimDuration::from_millis(50),
            network: NetworkSpec {
                latency,
                ..NetworkSpec::default()
            },
            workloads: vec![WorkloadSpec {
                name: "w".into(),
                target,
                arrival,
                keys: KeySpec::Uniform { n: 100 },
                timeout: timeout_ms.map(SimDuration::from_millis),
                write_share,
                sessions: Some(10),
                retries,
                priority: 0,
            }],
            components,
            hosts: Vec::new(),
            faults: Vec::new(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// generated = completed + failed + timed out + dropped + in flight, per
    /// workload and in total, whether the run drains or is cut short; and
    /// every balancer forwards what it receives.
    #[test]
    fn requests_are_conserved(spec in system(), max_events in proptest::option::of(1u64..5_000)) {
        let limits = RunLimits { max_events, ..RunLimits::default() };
        let r = Simulation::new(&spec).expect("valid").run(limits, &mut NoObserver).expect("no guard trips");
        prop_assert!(r.requests.balances(), "{:?}", r.requests);
        for w in &r.workloads {
            prop_assert!(w.requests.balances(), "{:?}", w.requests);
        }
        if r.stop == StopReason::Drained {
            prop_assert_eq!(r.requests.in_flight, 0);
            let lb = &r.components[0];
            prop_assert_eq!(lb.arrivals, lb.completions, "a drained balancer saw every answer");
            if r.components.len() == spec.components.len() && spec.components.last().is_some_and(|c| c.name != "api") {
                let served: u64 = r.components[1..].iter().map(|c| c.completions + c.drops).sum();
                prop_assert_eq!(served, lb.arrivals);
            }
        }
    }
}

/// Memory is bounded by what is in flight, not by run length: over 10^6
/// requests of an M/M/1 at rho 0.9, the request slab never holds more than a
/// few hundred (P(N >= 300) = 0.9^300 ~ 2e-14 per instant). A slab that
/// leaked slots would hold 10^6.
#[test]
fn request_storage_is_bounded_by_requests_in_flight() {
    let mut spec = ModelSpec::single_server(
        900.0,
        1,
        Distribution::Exponential { mean_ns: 1e6 },
        SimDuration::from_millis(1_111_000),
    );
    spec.workloads[0].timeout = Some(SimDuration::from_millis(30));
    let r = Simulation::new(&spec)
        .expect("valid")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("stable");
    assert!(r.requests.generated > 990_000, "{:?}", r.requests);
    assert!(r.requests.timed_out > 0, "timers fire and are cancelled");
    assert!(
        r.peak_in_flight < 300,
        "peak in flight {}",
        r.peak_in_flight
    );
}
