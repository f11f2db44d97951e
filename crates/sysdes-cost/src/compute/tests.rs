//! Exact hand computations of what runs cost.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    ArrivalSpec, CallMode, ComponentKind, ComponentSpec, Distribution, Lifetime, ModelSpec,
    NetworkSpec, NoObserver, RunLimits, RunResult, ServerSpec, Simulation, WorkloadSpec,
};

use super::cost;
use crate::{Billing, ComponentCost, CostSpec, Increment, Spot};

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
        spot: None,
        egress_per_gb: None,
        per_gb_month: None,
        stored_bytes: None,
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

/// `model` with `a` a spot instance interrupted `per_hour` times an hour
/// of its life, replaced after `replace_s`, priced `price` per hour (per
/// second, at least 60 s an instance), over `hours` hours with `per_second`
/// requests a second.
fn spot_model(per_hour: f64, replace_s: u64, hours: u64, per_second: f64) -> (ModelSpec, CostSpec) {
    let mut m = model(0);
    m.duration = SimDuration::from_secs(hours * 3600);
    m.workloads[0].arrival = sysdes_models::ArrivalSpec::Constant { per_second };
    let spec = CostSpec {
        components: vec![
            Some(ComponentCost {
                spot: Some(Spot {
                    per_s: per_hour / 3600.0,
                    replace_ns: replace_s * S,
                    notice_ns: 0,
                }),
                ..rate(2.69, Increment::PerSecond, 60)
            }),
            None,
        ],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    m.faults = spec.interruption_faults(m.duration);
    (m, spec)
}

/// The crash windows of `a` in a run, in ns (the times are whole ns, so
/// seconds as f64 round back exactly).
fn crashes(r: &RunResult) -> Vec<(u64, u64)> {
    let ns = |s: f64| (s * 1e9).round() as u64;
    r.faults
        .iter()
        .filter(|f| f.kind == "crash" && f.target == "a")
        .map(|f| (ns(f.start_s), ns(f.end_s)))
        .collect()
}

/// Interruptions come at rate x instance-time. Over 200 h at 1/h with a
/// 10 min replacement, each cycle is an exponential life of mean 1 h plus
/// 10 min down: a renewal process with about 200 / (7/6) = 171.4 cycles
/// and variance 200 x 1 / (7/6)^3 = 126 (sd 11.2). The count must be
/// within 4 sd of that, and within 4 sd (sqrt) of rate x the instance-time
/// actually lived.
#[test]
fn spot_interruptions_come_at_the_rate_times_the_instance_time() {
    let (m, spec) = spot_model(1.0, 600, 200, 0.01);
    let r = run(&m);
    let c = cost(&m, &spec, &r);
    let n = c.component("a").unwrap().interruptions.unwrap();
    let down: Vec<(u64, u64)> = crashes(&r);
    assert_eq!(n, down.len() as u64);
    let cycles = 200.0 / (7.0 / 6.0);
    let sd = (200.0f64 / (7.0f64 / 6.0).powi(3)).sqrt();
    assert!(
        (n as f64 - cycles).abs() <= 4.0 * sd,
        "{n} interruptions, expected {cycles:.1} +- {:.1}",
        4.0 * sd
    );
    let lived_h: f64 = r.lifetimes.by_component[0]
        .iter()
        .map(|l| l.overlap_ns(0, 200 * 3600 * S) as f64 / 3.6e12)
        .sum();
    assert!(
        (n as f64 - lived_h).abs() <= 4.0 * lived_h.sqrt(),
        "{n} interruptions in {lived_h:.1} instance-hours at 1/h"
    );
    // Every interruption but the one the run's end cuts lasts 10 min.
    for (i, (a, b)) in down.iter().enumerate() {
        if i + 1 < down.len() {
            assert_eq!(b - a, 600 * S);
        }
    }
    // The same seed draws the same times; another draws others.
    assert_eq!(crashes(&run(&m)), down);
    let mut other = m.clone();
    other.seed = 2;
    assert_ne!(crashes(&run(&other)), down);
    // b is on demand: no interruptions reported.
    assert!(r.faults.iter().all(|f| f.target == "a"));
}

/// A spot bill by hand: the instances live between interruptions (the
/// 5 min replacement is not billed), each billed in whole seconds and at
/// least 60 s at 2.69 USD an hour; the window's rate is the unrounded
/// instance-time over the hour.
#[test]
fn a_spot_bill_is_the_sum_over_the_lives_between_interruptions() {
    let (m, spec) = spot_model(4.0, 300, 1, 10.0);
    let mut r = run(&m);
    r.lifetimes.end_ns = 3600 * S;
    // run() recorded the lives to the run's real end; recompute them here
    // from the crash windows alone.
    let down = crashes(&r);
    assert!(down.len() >= 2, "{down:?}");
    let mut lives = Vec::new();
    let mut start = 0;
    for (a, b) in &down {
        lives.push((start, *a));
        start = *b;
    }
    if start < 3600 * S {
        lives.push((start, 3600 * S));
    }
    let billed_s: u64 = lives.iter().map(|(a, b)| (b - a).div_ceil(S).max(60)).sum();
    let lived_ns: u64 = lives.iter().map(|(a, b)| b - a).sum();
    if let Some(last) = r.lifetimes.by_component[0].last_mut() {
        last.end_ns = last.end_ns.min(3600 * S);
    }
    let c = cost(&m, &spec, &r);
    let a = c.component("a").unwrap();
    close(a.total_usd, billed_s as f64 * 2.69 / 3600.0);
    close(a.billed_hours, billed_s as f64 / 3600.0);
    close(a.per_hour_usd, lived_ns as f64 / 3.6e12 * 2.69);
    assert_eq!(a.interruptions, Some(down.len() as u64));
    // Requests that fail: those arriving while it is down and the one in
    // its 1 ms of service when it is interrupted (arrivals every 100 ms).
    let failed = (0..36_000u64)
        .map(|k| k * 100_000_000)
        .filter(|t| down.iter().any(|(a, b)| *t + 1_000_000 > *a && *t < *b))
        .count() as u64;
    assert_eq!(r.requests.failed, failed);
    assert_eq!(r.requests.completed + failed, 36_000);
}

/// The model with `b` a storage volume holding `size_bytes` (the workload
/// goes to it).
fn storage_model(size_bytes: u64) -> ModelSpec {
    let mut m = model(0);
    m.components[1].kind = ComponentKind::Storage(sysdes_models::StorageSpec {
        tier: sysdes_models::StorageTier::Block,
        read_latency: Distribution::Constant(SimDuration::from_millis(1)),
        write_latency: Distribution::Constant(SimDuration::from_millis(1)),
        iops: None,
        write_iops: None,
        over_limit: sysdes_models::OverLimit::Wait,
        bandwidth: None,
        stream_bandwidth: None,
        object_size: None,
        size_bytes,
    });
    m.workloads[0].target = ComponentId(1);
    m
}

#[test]
fn storage_is_gb_times_hours_over_730_times_price() {
    // 100 GiB = 107.374 182 4 GB held for exactly one hour at 0.023 USD
    // per GB-month: 107.3741824 x 1 / 730 x 0.023 = 0.003 383 022 USD.
    let m = storage_model(100 << 30);
    let mut r = run(&m);
    r.lifetimes.end_ns = 3600 * S;
    let spec = CostSpec {
        components: vec![
            Some(rate(0.096, Increment::PerSecond, 0)),
            Some(ComponentCost {
                per_gb_month: Some(0.023),
                ..rate(0.0, Increment::PerSecond, 0)
            }),
        ],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    let c = cost(&m, &spec, &r);
    let b = c.component("b").unwrap();
    close(b.stored_gb.unwrap(), 107.374_182_4);
    let want = 107.374_182_4 * 1.0 / 730.0 * 0.023;
    close(b.storage_usd.unwrap(), want);
    assert!((want - 0.003_383_022).abs() < 1e-9, "{want}");
    close(b.total_usd, want);
    // The window is the whole hour: its rate is the same GB-hours.
    close(b.per_hour_usd, want);
    close(c.storage_usd.unwrap(), want);
    close(c.total_usd, 0.096 + want);
    // Twice as long, twice the price; the server `a` holds nothing priced.
    r.lifetimes.end_ns = 7200 * S;
    let c = cost(&m, &spec, &r);
    close(c.component("b").unwrap().storage_usd.unwrap(), 2.0 * want);
    assert_eq!(c.component("a").unwrap().storage_usd, None);
}

#[test]
fn storage_is_not_reported_where_not_priced() {
    let m = storage_model(1 << 30);
    let r = run(&m);
    let spec = CostSpec {
        components: vec![None, Some(rate(1.0, Increment::PerSecond, 0))],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    let c = cost(&m, &spec, &r);
    assert_eq!(c.storage_usd, None);
    assert_eq!(c.component("b").unwrap().stored_gb, None);
}

#[test]
fn a_store_or_cache_of_known_size_pays_its_bytes_for_each_instance_life() {
    // 200 GB per instance at 0.023 USD per GB-month (a store of 3
    // replicas of 200 GB gives 600 GB per instance: the loader multiplies).
    let m = model(600);
    let mut r = run(&m);
    r.lifetimes.end_ns = 3600 * S;
    let priced = ComponentCost {
        per_gb_month: Some(0.023),
        stored_bytes: Some(200_000_000_000),
        ..rate(0.0, Increment::PerSecond, 0)
    };
    let spec = CostSpec {
        components: vec![Some(priced), None],
        hosts: Vec::new(),
        slo_ns: Vec::new(),
    };
    // One instance for the whole hour: 200 GB x 1 h / 730 x 0.023.
    let c = cost(&m, &spec, &r);
    let a = c.component("a").unwrap();
    let hour = 200.0 * 1.0 / 730.0 * 0.023;
    close(a.storage_usd.unwrap(), hour);
    close(a.stored_gb.unwrap(), 200.0);
    close(a.total_usd, hour);
    close(a.per_hour_usd, hour);
    assert_eq!(a.billed_hours, 0.0);
    // A group's replicas hold a copy each while alive: 0 to 1 h and
    // 30 min to 1 h are 1.5 instance-hours, 300 GB on average over the
    // run; the window [600 s, 3600 s) holds 3000 + 1800 instance-seconds.
    r.lifetimes.by_component = vec![
        vec![
            Lifetime {
                start_ns: 0,
                end_ns: 3600 * S,
            },
            Lifetime {
                start_ns: 1800 * S,
                end_ns: 3600 * S,
            },
        ],
        Vec::new(),
    ];
    let c = cost(&m, &spec, &r);
    let a = c.component("a").unwrap();
    close(a.storage_usd.unwrap(), 200.0 * 1.5 / 730.0 * 0.023);
    close(a.stored_gb.unwrap(), 300.0);
    close(
        a.per_hour_usd,
        200.0 * (4800.0 / 3600.0) / 730.0 * 0.023 / (3000.0 / 3600.0),
    );
}
