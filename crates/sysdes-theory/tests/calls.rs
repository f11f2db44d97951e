//! Downstream calls: predicted rates and times against the simulation and
//! the closed forms of validation.md (fork-join, tandem).

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;
use sysdes_theory::predict;

mod common;
use common::{MS, server};

fn simulate(spec: &ModelSpec) -> RunResult {
    Simulation::new(spec)
        .expect("valid")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("stable")
}

/// `api` (64 workers, exponential 1 ms, `mode`) fed at `rate` per second,
/// calling `steps` (lists of target names with their wait_for) on
/// single-worker exponential servers of mean `leaf_ms`.
fn topology(
    rate: f64,
    mode: CallMode,
    steps: &[(&[&str], WaitFor)],
    leaf_ms: f64,
    seconds: u64,
) -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        rate,
        64,
        Distribution::Exponential { mean_ns: MS },
        SimDuration::from_secs(seconds),
    );
    spec.components[0].name = "api".into();
    spec.warmup = SimDuration::from_secs(seconds / 50);
    let mut names: Vec<&str> = Vec::new();
    for (targets, _) in steps {
        for t in *targets {
            if !names.contains(t) {
                names.push(t);
            }
        }
    }
    for t in &names {
        spec.components.push(server(t, 1, leaf_ms));
    }
    let id = |t: &str| ComponentId(1 + names.iter().position(|n| *n == t).unwrap() as u32);
    if let ComponentKind::Server(s) = &mut spec.components[0].kind {
        s.mode = mode;
        s.calls = steps
            .iter()
            .map(|(targets, wait_for)| CallStep {
                targets: targets.iter().map(|t| id(t)).collect(),
                wait_for: *wait_for,
                hedge_after: None,
                hedge_percentile: None,
                timeout: None,
                partial: false,
                breaker: None,
            })
            .collect();
    }
    spec
}

/// Fork-join over K = 2 identical M/M/1 at rho 0.8: the mean is exactly
/// (12 - rho)/8 x 1/(mu - lambda) = 7.0 service times (Flatto-Hahn,
/// Nelson-Tantawi 1988), and the simulation agrees within 3 %.
#[test]
fn fork_join_two_is_exact() {
    let spec = topology(
        80.0,
        CallMode::Async,
        &[(&["a", "b"], WaitFor::All)],
        10.0,
        12_500,
    );
    let p = predict(&spec, None, None);
    let api = p.stations[0].as_ref().unwrap();
    let method = api.method.as_ref().unwrap();
    assert!(method.exact, "{method:?}");
    assert!(method.name.contains("fork-join 2 x M/M/1"), "{method:?}");
    // Own time: M/M/64 at 80/s x 1 ms, Erlang C negligible: 1 ms.
    let own = sysdes_theory::formulas::mmc_mean_sojourn(64, 80.0, 1000.0);
    let fork_join = api.mean_s.unwrap() - own;
    assert!((fork_join - 0.070).abs() < 1e-12, "{fork_join}");
    // Every target receives the caller's full rate.
    for k in 1..3 {
        let st = p.stations[k].as_ref().unwrap();
        assert!((st.arrival_rps - 80.0).abs() < 1e-9);
        assert!((st.utilization - 0.8).abs() < 1e-9);
        assert!(st.method.as_ref().unwrap().exact);
    }
    let w = &p.workloads[0];
    assert!(w.method.as_ref().unwrap().exact);
    let r = simulate(&spec);
    let sim = r.workloads[0].latency.mean_ns() / MS;
    let predicted = w.mean_s.unwrap() * 1e3;
    let err = sim / predicted - 1.0;
    println!(
        "fork-join K=2: simulated {sim:.3} ms, predicted {predicted:.3} ms ({:+.2} %)",
        err * 100.0
    );
    assert!(err.abs() < 0.03, "{sim} vs {predicted}");
    // The caller's station time (own + calls) is what the simulation records for it.
    let api_sim = r.components[0].latency.mean_ns() / MS;
    assert!((api_sim / (api.mean_s.unwrap() * 1e3) - 1.0).abs() < 0.03);
    for k in 1..3 {
        let sim = r.components[k].latency.mean_ns() / MS;
        assert!(
            (sim / 50.0 - 1.0).abs() < 0.03,
            "M/M/1 mean 50 ms, got {sim}"
        );
    }
}

/// K = 10 at rho 0.8: the Nelson-Tantawi approximation gives 11.73 service
/// times, the simulation about 12.09 (validation.md): the approximation runs
/// low (3.1 % in validation.md; 1-5.5 % allowed for the statistical error of
/// this shorter run) and is marked approximate.
#[test]
fn fork_join_ten_is_nelson_tantawi() {
    let targets = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"];
    let spec = topology(
        80.0,
        CallMode::Async,
        &[(&targets, WaitFor::All)],
        10.0,
        12_000,
    );
    let p = predict(&spec, None, None);
    let api = p.stations[0].as_ref().unwrap();
    let method = api.method.as_ref().unwrap();
    assert!(!method.exact, "{method:?}");
    assert!(method.name.contains("Nelson-Tantawi"), "{method:?}");
    let own = sysdes_theory::formulas::mmc_mean_sojourn(64, 80.0, 1000.0);
    let approx = (api.mean_s.unwrap() - own) * 1e3;
    assert!((approx / 10.0 - 11.7286).abs() < 1e-3, "{approx}");
    let r = simulate(&spec);
    let sim = r.workloads[0].latency.mean_ns() / MS - own * 1e3;
    let gap = sim / approx - 1.0;
    println!(
        "fork-join K=10: simulated {sim:.3} ms, Nelson-Tantawi {approx:.3} ms ({:+.2} %)",
        gap * 100.0
    );
    assert!((0.01..0.055).contains(&gap), "gap {gap}");
}

/// A chain of calls in sequence through M/M/1 stations (async caller, so
/// each station sees Poisson arrivals by Burke's theorem): means add, with a
/// network round trip per call; exact, and the simulation agrees within 3 %.
#[test]
fn sequential_chain_means_add() {
    let mut spec = topology(
        60.0,
        CallMode::Async,
        &[(&["b"], WaitFor::All), (&["c"], WaitFor::Any)],
        10.0,
        6_000,
    );
    // c is a bit faster, b a bit slower.
    spec.components[2] = server("c", 1, 5.0);
    let latency = 0.2;
    spec.network.latency = Distribution::Constant(SimDuration::from_micros(200));
    let p = predict(&spec, None, None);
    let w = &p.workloads[0];
    assert!(w.method.as_ref().unwrap().exact, "{:?}", w.method);
    let own = sysdes_theory::formulas::mmc_mean_sojourn(64, 60.0, 1000.0) * 1e3;
    // M/M/1 means: 1/(mu - lambda) = 1/(100 - 60) = 25 ms and 1/(200 - 60) = 7.143 ms.
    let expected = own + 25.0 + 1000.0 / 140.0 + 3.0 * 2.0 * latency;
    let predicted = w.mean_s.unwrap() * 1e3;
    assert!(
        (predicted - expected).abs() < 1e-9,
        "{predicted} vs {expected}"
    );
    let r = simulate(&spec);
    let sim = r.workloads[0].latency.mean_ns() / MS;
    let err = sim / predicted - 1.0;
    println!(
        "chain: simulated {sim:.3} ms, predicted {predicted:.3} ms ({:+.2} %)",
        err * 100.0
    );
    assert!(err.abs() < 0.03, "{sim} vs {predicted}");
}

/// Thread mode (a worker held during the calls), `any` and `Count` are
/// approximations, and the estimate says so; rates still reach every target.
#[test]
fn approximations_are_marked() {
    // The brief's fan-out: thread mode, wait for all.
    let spec = topology(
        80.0,
        CallMode::Thread,
        &[(&["a", "b"], WaitFor::All)],
        10.0,
        100,
    );
    let p = predict(&spec, None, None);
    let api = p.stations[0].as_ref().unwrap();
    let m = api.method.as_ref().unwrap();
    assert!(!m.exact && m.name.contains("worker held"), "{m:?}");
    // A worker is held ~1 ms + ~70 ms: utilization ~ 80 x 0.071 / 64.
    assert!(
        (api.utilization - 80.0 * 0.071 / 64.0).abs() < 1e-3,
        "{}",
        api.utilization
    );
    for k in 1..3 {
        let st = p.stations[k].as_ref().unwrap();
        assert!((st.arrival_rps - 80.0).abs() < 1e-9);
        assert!(st.mean_s.is_some() && st.p99_s.is_some());
        assert!(!st.method.as_ref().unwrap().exact);
    }
    assert!(
        p.notes.iter().any(|n| n.contains("worker")),
        "{:?}",
        p.notes
    );
    for wait_for in [WaitFor::Any, WaitFor::Count(2)] {
        let spec = topology(
            80.0,
            CallMode::Async,
            &[(&["a", "b", "c"], wait_for)],
            10.0,
            100,
        );
        let p = predict(&spec, None, None);
        let api = p.stations[0].as_ref().unwrap();
        let m = api.method.as_ref().unwrap();
        assert!(!m.exact && m.name.contains("exponentials"), "{m:?}");
        // Every call goes out, whatever wait_for.
        for k in 1..4 {
            assert!((p.stations[k].as_ref().unwrap().arrival_rps - 80.0).abs() < 1e-9);
        }
        // Each target: M/M/1 mean 50 ms; min of 3 = 50/3, 2nd of 3 = 50 (1/3 + 1/2).
        let expected = match wait_for {
            WaitFor::Any => 50.0 / 3.0,
            _ => 50.0 * (1.0 / 3.0 + 0.5),
        };
        let own = sysdes_theory::formulas::mmc_mean_sojourn(64, 80.0, 1000.0) * 1e3;
        let got = api.mean_s.unwrap() * 1e3 - own;
        assert!((got - expected).abs() < 1e-3, "{got} vs {expected}");
    }
}

/// `any` and `wait_for: 2` over three M/M/1 at rho 0.8 treat the targets as
/// independent, but they share arrivals: the prediction is optimistic, by
/// about 32-35 % and 7-9 % (docs/estimation.md); checked within 20-45 % and 3-12 %.
#[test]
fn order_statistics_are_optimistic_by_the_documented_gap() {
    for (wait_for, low, high) in [(WaitFor::Any, 0.20, 0.45), (WaitFor::Count(2), 0.03, 0.12)] {
        let spec = topology(
            80.0,
            CallMode::Async,
            &[(&["a", "b", "c"], wait_for)],
            10.0,
            6_000,
        );
        let p = predict(&spec, None, None);
        let predicted = p.workloads[0].mean_s.unwrap() * 1e3;
        let sim = simulate(&spec).workloads[0].latency.mean_ns() / MS;
        let gap = sim / predicted - 1.0;
        println!(
            "{wait_for:?} of 3: simulated {sim:.3} ms, predicted {predicted:.3} ms ({:+.1} %)",
            gap * 100.0
        );
        assert!((low..high).contains(&gap), "{wait_for:?}: gap {gap}");
    }
}

/// A step with a deadline or a breaker is beyond the formulas (they wait
/// for every answer): the server and its workload say why instead of
/// showing a figure that ignores the cutoff.
#[test]
fn deadlines_and_breakers_are_not_predicted() {
    let base = topology(80.0, CallMode::Async, &[(&["a"], WaitFor::All)], 5.0, 10);
    assert_eq!(
        sysdes_theory::unmodelled(&base, &predict(&base, None, None)).stations[0],
        None
    );
    for (reason, edit) in [
        (
            "call deadlines",
            (|s: &mut CallStep| s.timeout = Some(SimDuration::from_millis(3))) as fn(&mut CallStep),
        ),
        ("circuit breakers", |s: &mut CallStep| {
            s.breaker = Some(BreakerSpec {
                failure_rate: 0.5,
                min_calls: 10,
                window: 10,
                open_for: SimDuration::from_secs(1),
                probes: 1,
            });
        }),
    ] {
        let mut spec = base.clone();
        if let ComponentKind::Server(s) = &mut spec.components[0].kind {
            edit(&mut s.calls[0]);
        }
        let u = sysdes_theory::unmodelled(&spec, &predict(&spec, None, None));
        assert_eq!(u.stations[0], Some(reason));
        assert_eq!(u.workloads[0], Some(reason));
    }
}
