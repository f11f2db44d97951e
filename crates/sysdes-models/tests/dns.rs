//! `type: dns` against theory: the failed requests of a failover (every
//! request between the crash and the answer's move, the requests sent on
//! cached answers until they expire, and those of clients that ignore the
//! TTL) against `sysdes_theory::dns`, the lookups against the clients'
//! renewal density, and exact hand cases (TTL 0, one pinned client, one
//! client with constant arrivals).
//!
//! Tolerances are named beside each check; the measured errors are in
//! `docs/validation.md` ("DNS failover").

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;
use sysdes_theory::dns::DnsFailover;

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

/// A workload to DNS name `dns` (component 0) whose records are servers
/// `a` and `b` answering at once (no request is inside a server when it
/// crashes); `a` crashes at 65 s for `down_s`. Checks every 10 s, 3 in a
/// row.
fn spec(arrival: ArrivalSpec, dns: DnsSpec, down_s: u64, duration_s: u64) -> ModelSpec {
    let mut spec = ModelSpec::single_server(
        1.0,
        1,
        Distribution::Constant(SimDuration::ZERO),
        secs(duration_s),
    );
    spec.name = "dns".into();
    spec.workloads[0].arrival = arrival;
    let server = spec.components[0].kind.clone();
    spec.components = vec![
        ComponentSpec {
            name: "dns".into(),
            kind: ComponentKind::Dns(dns),
        },
        ComponentSpec {
            name: "a".into(),
            kind: server.clone(),
        },
        ComponentSpec {
            name: "b".into(),
            kind: server,
        },
    ];
    spec.faults = vec![FaultSpec {
        at: secs(65),
        duration: secs(down_s),
        kind: FaultKind::Crash(ComponentId(1)),
    }];
    spec
}

fn dns(ttl_s: u64, clients: u32, ignore_ttl: f64) -> DnsSpec {
    DnsSpec {
        records: vec![ComponentId(1), ComponentId(2)],
        ttl: secs(ttl_s),
        clients,
        ignore_ttl,
        failures: 3,
        interval: secs(10),
    }
}

fn theory(rate: f64, d: &DnsSpec, down_s: f64) -> DnsFailover {
    DnsFailover {
        rate_per_s: rate,
        clients: d.clients,
        ttl_s: d.ttl.as_secs_f64(),
        ignore_ttl: d.ignore_ttl,
        interval_s: d.interval.as_secs_f64(),
        failures: d.failures,
        crash_at_s: 65.0,
        crash_for_s: down_s,
    }
}

fn run(spec: &ModelSpec) -> (RunResult, DnsFigures) {
    let result = Simulation::new(spec)
        .expect("builds")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("runs");
    let f = match &result.components[0].figures {
        KindFigures::Dns(f) => *f,
        other => panic!("not a DNS name's figures: {other:?}"),
    };
    (result, f)
}

/// 500 requests/s, a 60 s TTL and a crash of 180 s, for 500 clients (one
/// request a second each: nearly every client holds a fresh answer) and
/// 5000 (one every 10 s: `rho = mu T = 6`, a seventh of the clients hold
/// none), with and without 10 % of the clients ignoring the TTL. The
/// failed requests match the theory within 4 standard deviations; with 5000 clients the
/// naive `rate x (detection + T/2)` lies outside that tolerance, so the
/// test tells the two apart. The answer moves at 90 s exactly.
#[test]
fn failures_of_a_failover_match_the_renewal_theory() {
    for (clients, ignore_ttl, seed) in [(500, 0.0, 1), (5000, 0.0, 2), (500, 0.1, 3)] {
        let d = dns(60, clients, ignore_ttl);
        let mut s = spec(
            ArrivalSpec::Poisson { per_second: 500.0 },
            d.clone(),
            180,
            330,
        );
        s.seed = seed;
        let (result, f) = run(&s);
        let th = theory(500.0, &d, 180.0).failures();
        let failed = result.requests.failed as f64;
        let tolerance = 4.0 * th.sd;
        println!(
            "clients {clients}, ignore_ttl {ignore_ttl}: failed {failed}, theory {:.0} \
             (detection {:.0} + stale {:.0} + pinned {:.0}) +- {tolerance:.0}",
            th.total(),
            th.detection,
            th.stale,
            th.pinned
        );
        assert_eq!(f.failover_at_s, Some(90.0));
        assert_eq!(th.switch_at_s, Some(90.0));
        assert_eq!(f.failback_at_s, Some(270.0)); // back at 245 s: checks at 250, 260, 270
        assert!(
            (failed - th.total()).abs() < tolerance,
            "failed {failed} vs {}",
            th.total()
        );
        if clients == 5000 {
            let naive = 500.0 * (25.0 + 30.0);
            assert!((failed - naive).abs() > tolerance, "{naive} is as close");
        }
        // Lookups do not depend on the answers: free clients x the
        // integral of the lookup density over the run. Renewal counts with
        // a cycle of CV < 1 vary less than Poisson: 5 sqrt(mean).
        let t = theory(500.0, &d, 180.0);
        let free = f64::from(clients) - (ignore_ttl * f64::from(clients)).round();
        let steps = 33_000;
        let ds = 330.0 / f64::from(steps);
        let expected: f64 = (0..steps)
            .map(|i| t.lookup_density((f64::from(i) + 0.5) * ds) * ds)
            .sum::<f64>()
            * free;
        let lookups = f.lookups as f64;
        println!("  lookups {lookups}, theory {expected:.0}");
        assert!(
            (lookups - expected).abs() < 5.0 * expected.sqrt(),
            "lookups {lookups} vs {expected}"
        );
        assert_eq!(
            f.lookups + f.cache_hits,
            result.components[0].arrivals,
            "every request is a lookup or a hit"
        );
    }
}

/// TTL 0: every request looks up, nothing is stale, and exactly the
/// requests between the crash (65 s) and the move (90 s) fail: 10/s
/// evenly spaced, 250.
#[test]
fn with_ttl_zero_exactly_the_detection_window_fails() {
    let d = dns(0, 50, 0.0);
    let (result, f) = run(&spec(
        ArrivalSpec::Constant { per_second: 10.0 },
        d,
        180,
        330,
    ));
    assert_eq!(result.requests.failed, 250);
    assert_eq!(f.requests_to_stale_target, 0);
    assert_eq!(f.cache_hits, 0);
    assert_eq!(f.lookups, result.components[0].arrivals);
}

/// One client that ignores the TTL keeps region `a` for ever: every
/// request while it is down fails (65 s to 245 s at 10/s: 1800), and
/// those while the answer is `b` are stale (the move at 90 s to the move
/// back at 270 s: 1800).
#[test]
fn a_pinned_client_fails_for_the_whole_crash() {
    let d = dns(60, 1, 1.0);
    let (result, f) = run(&spec(
        ArrivalSpec::Constant { per_second: 10.0 },
        d,
        180,
        330,
    ));
    assert_eq!(result.requests.failed, 1800);
    assert_eq!(f.requests_to_stale_target, 1800);
    assert_eq!(f.lookups, 0);
}

/// One client, 10 requests/s, TTL 60 s, and a crash that outlasts the
/// run: the requests after the move fail exactly while the answer cached
/// before it is fresh, so `failed = 250 + requests_to_stale_target`, and
/// that cached answer was looked up at most one TTL before the move
/// (at most 600 stale requests); the lookups are one per TTL or so.
#[test]
fn one_client_fails_until_its_own_cache_expires() {
    let d = dns(60, 1, 0.0);
    let (result, f) = run(&spec(
        ArrivalSpec::Constant { per_second: 10.0 },
        d,
        1000,
        330,
    ));
    assert_eq!(result.requests.failed, 250 + f.requests_to_stale_target);
    assert!(f.requests_to_stale_target <= 600);
    // 330 s of lookups every 60 s (plus the 0.1 s to the next request): 5 or 6.
    assert!((5..=6).contains(&f.lookups), "{}", f.lookups);
    assert_eq!(f.failback_at_s, None);
}
