//! Exact hand computations of what runs cost.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    ArrivalSpec, CallMode, ComponentKind, ComponentSpec, Distribution, Lifetime, ModelSpec,
    NetworkSpec, NoObserver, RunLimits, RunResult, ServerSpec, Simulation, WorkloadSpec,
};

use super::cost;
use crate::{Billing, ComponentCost, CostSpec, Increment};

const S: u64 = 1_000_000_000;

fn server() -> ComponentKind {
    ComponentKind::Server(ServerSpec {
        workers: 1,
        service_time: Distribution::Constant(SimDuration::from_millis(1)),
        queue_capacity: None,
        calls: Vec::new(),
        mode: CallMode::Thread,
        discipline: sysdes_models::Discipline::Fifo,
        patience: None,
    })
}

/// Two servers `a` and `b`, 10 requests a second into `a` for 3600 s,
/// warm-up `warmup_s`.
fn model(warmup_s: u64) -> ModelSpec {
    ModelSpec {
        name: "cost".into(),
        seed: 1,
        duration: SimDuration::from_secs(3600),
        warmup: SimDuration::from_secs(warmup_s),
        network: NetworkSpec::default(),
        workloads: vec![WorkloadSpec::new(
            "users",
            ComponentId(0),
            ArrivalSpec::Constant { per_second: 10.0 },
        )],
        components: vec![
            ComponentSpec {
                name: "a".into(),
                kind: server(),
            },
            ComponentSpec {
                name: "b".into(),
                kind: server(),
            },
        ],
        hosts: Vec::new(),
        faults: Vec::new(),
    }
}

fn run(model: &ModelSpec) -> RunResult {
    Simulation::new(model)
        .unwrap()
        .run(RunLimits::default(), &mut NoObserver)
        .unwrap()
}

fn rate(per_hour: f64, increment: Increment, minimum_s: u64) -> ComponentCost {
    ComponentCost {
        per_hour,
        units: 1,
        billing: Billing {
            increment,
            minimum_s,
        },
        per_request: 0.0,
        per_gb_second: 0.0,
        instance: None,
    }
}

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= want.abs() * 1e-12,
        "got {got}, want {want}"
    );
}

#[test]
fn fixed_instances_cost_instances_times_hours_times_price() {
    let m = model(0);
    let mut r = run(&m);
    // The run ends when the last request does: pin it to exactly 2 h.
    r.lifetimes.end_ns = 7200 * S;
    let spec = CostSpec {
        components: vec![
            Some(rate(0.096, Increment::PerSecond, 60)),
            Some(ComponentCost {
                units: 4,
                ..rate(0.5, Increment::PerHour, 0)
            }),
        ],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    let c = cost(&m, &spec, &r);
    // a: 1 x 2 h x 0.096; b: 4 units x 2 h x 0.5.
    close(c.component("a").unwrap().total_usd, 0.192);
    close(c.component("b").unwrap().total_usd, 4.0);
    close(c.total_usd, 4.192);
    close(c.component("b").unwrap().billed_hours, 8.0);
    // The window is [0, 3600 s): each instance ran through all of it.
    close(c.per_hour_usd, 0.096 + 4.0 * 0.5);
    // 36,000 requests completed in the window, which cost 2.096 USD.
    assert_eq!(r.requests.completed, 36_000);
    close(c.per_million_requests_usd.unwrap(), 2.096 / 36_000.0 * 1e6);
    assert_eq!(c.per_million_tokens_usd, None);
}

#[test]
fn per_hour_billing_rounds_each_lifetime_up_to_whole_hours() {
    let m = model(0);
    let mut r = run(&m);
    r.lifetimes.end_ns = 3601 * S;
    let spec = CostSpec {
        components: vec![Some(rate(1.0, Increment::PerHour, 0)), None],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    let c = cost(&m, &spec, &r);
    close(c.total_usd, 2.0);
    assert_eq!(c.by_component.len(), 1, "b declares no cost");
    // Per second, the same second past the hour costs 1/3600 more.
    let spec = CostSpec {
        components: vec![Some(rate(1.0, Increment::PerSecond, 0)), None],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    close(cost(&m, &spec, &r).total_usd, 3601.0 / 3600.0);
}

#[test]
fn autoscaled_cost_is_the_sum_over_replica_lifetimes_under_the_rule() {
    let m = model(600);
    let mut r = run(&m);
    let life = |a_ms: u64, b_ms: u64| Lifetime {
        start_ns: a_ms * 1_000_000,
        end_ns: b_ms * 1_000_000,
    };
    // Component a scaled: one replica all along, one from 600 s to
    // 1800.5 s, one booting replica cancelled after 10 s.
    r.lifetimes.end_ns = 3600 * S;
    r.lifetimes.by_component = vec![
        vec![
            life(1_000_000, 1_010_000),
            life(600_000, 1_800_500),
            life(0, 3_600_000),
        ],
        Vec::new(),
    ];
    let spec = CostSpec {
        components: vec![Some(rate(0.36, Increment::PerSecond, 60)), None],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    let c = cost(&m, &spec, &r);
    // Billed: 60 (the minimum, for 10 s) + 1201 (1200.5 s rounded up) + 3600.
    close(c.total_usd, (60.0 + 1201.0 + 3600.0) * 0.36 / 3600.0);
    close(c.by_component[0].billed_hours, 4861.0 / 3600.0);
    // The window [600 s, 3600 s) holds 10 + 1200.5 + 3000 replica-seconds,
    // unrounded, over 3000 s.
    close(c.per_hour_usd, (10.0 + 1200.5 + 3000.0) / 3000.0 * 0.36);
}

#[test]
fn per_request_charges_count_the_requests_that_arrive_in_the_window() {
    let m = model(0);
    let mut r = run(&m);
    r.lifetimes.end_ns = 3600 * S;
    let spec = CostSpec {
        components: vec![
            Some(ComponentCost {
                per_request: 0.001,
                ..rate(0.0, Increment::PerSecond, 0)
            }),
            None,
        ],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    let c = cost(&m, &spec, &r);
    close(c.total_usd, 36.0);
    close(c.per_hour_usd, 36.0);
    close(c.per_million_requests_usd.unwrap(), 1000.0);
}

#[test]
fn no_declared_cost_is_empty() {
    assert!(CostSpec::default().is_empty());
    assert!(
        CostSpec {
            components: vec![None, None],
            hosts: vec![None],
            slo_ns: vec![Some(1)],
        }
        .is_empty()
    );
}

/// A serverless function `fn` alone: one request a second for an hour, a
/// 100 ms cold start, 10.5 ms of work, 1 GiB, and `idle_ms` of keep-alive.
fn function_model(idle_ms: u64) -> ModelSpec {
    let mut m = model(0);
    m.components = vec![ComponentSpec {
        name: "fn".into(),
        kind: ComponentKind::Function(sysdes_models::FunctionSpec {
            concurrency: 10,
            service_time: Distribution::Constant(SimDuration::from_micros(10_500)),
            cold_start: Distribution::Constant(SimDuration::from_millis(100)),
            idle_timeout: SimDuration::from_millis(idle_ms),
            memory_bytes: 1 << 30,
            queue_capacity: 0,
            billing_increment: SimDuration::from_millis(1),
        }),
    }];
    m.workloads[0].arrival = sysdes_models::ArrivalSpec::Constant { per_second: 1.0 };
    m
}

/// Lambda's bill by hand: requests x $0.20 per million plus billed
/// GB-seconds x $0.0000166667, each invocation rounded up to 1 ms (cold
/// start included). Kept warm (1 s gaps, 2 s keep-alive) only the first is
/// cold: 111 ms + 3599 x 11 ms; reclaimed after 0.5 s every one is cold:
/// 3600 x 111 ms.
#[test]
fn a_function_costs_requests_times_price_plus_billed_gb_seconds() {
    let spec = CostSpec {
        components: vec![Some(ComponentCost {
            per_request: 0.0000002,
            per_gb_second: 0.0000166667,
            ..rate(0.0, Increment::PerSecond, 0)
        })],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    for (idle_ms, billed_ms, cold) in [(2000, 111 + 3599 * 11, 1), (500, 3600 * 111, 3600)] {
        let m = function_model(idle_ms);
        let r = run(&m);
        let f = &r.components[0];
        assert_eq!(f.figure("invocations"), Some(3600.0));
        assert_eq!(f.figure("cold_starts"), Some(cold as f64));
        assert_eq!(f.figure("billed_ms"), Some(billed_ms as f64));
        let c = cost(&m, &spec, &r);
        let want = 3600.0 * 0.0000002 + billed_ms as f64 / 1000.0 * 0.0000166667;
        close(c.total_usd, want);
        // Usage only: the window's hour costs the same.
        close(c.per_hour_usd, want);
        assert_eq!(c.component("fn").unwrap().billed_hours, 0.0);
    }
}

/// Goodput per dollar: every request of `model` takes exactly 1 ms end to
/// end, so an SLO of 1 ms counts all 36,000 and one of 0.5 ms none; the
/// window costs 36 USD (0.001 per request).
#[test]
fn goodput_per_usd_counts_the_requests_within_the_slo() {
    let m = model(0);
    let mut r = run(&m);
    r.lifetimes.end_ns = 3600 * S;
    let spec = |slo_ns| CostSpec {
        components: vec![
            Some(ComponentCost {
                per_request: 0.001,
                ..rate(0.0, Increment::PerSecond, 0)
            }),
            None,
        ],
        hosts: Vec::new(),
        slo_ns: vec![slo_ns],
    };
    let c = cost(&m, &spec(Some(1_000_000)), &r);
    assert_eq!(c.goodput_requests, Some(36_000));
    close(c.goodput_per_usd.unwrap(), 1000.0);
    let c = cost(&m, &spec(Some(500_000)), &r);
    assert_eq!(c.goodput_requests, Some(0));
    assert_eq!(c.goodput_per_usd, Some(0.0));
    let c = cost(&m, &spec(None), &r);
    assert_eq!((c.goodput_requests, c.goodput_per_usd), (None, None));
}
