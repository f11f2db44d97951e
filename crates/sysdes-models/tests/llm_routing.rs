//! LLM-aware routing through the engine: a balancer in front of LLM
//! replicas with prefix caching. One user at a time over 4 prefix groups
//! (the request's key) and 2 replicas whose caches hold every group: a
//! group misses once on each replica it visits, so the misses count the
//! (group, replica) pairs routing creates: exactly 4 under
//! `prefix_affinity` (each group stays on one replica) and exactly 8 under
//! round robin (every group reaches both). Deterministic (fixed seed).

mod common;

use common::*;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;

/// Floor 10 ms, 10 us per token, 0.1 us per decode context token, 1 ns per
/// prefill (query, key) pair.
const COST: IterationCost =
    IterationCost::affine(SimDuration::from_millis(10), 10_000_000, 100_000, 1_000);

/// Full prefix blocks of a 1000-token prefix in blocks of 16: 62 x 16.
const CACHED: f64 = 992.0;

/// A chunked replica whose prompts are a 1000-token prefix of the group
/// `key mod 4` followed by 100 tokens of their own, 5 output tokens, and
/// room for every group.
fn replica(name: &str) -> ComponentSpec {
    component(
        name,
        ComponentKind::LlmServer(LlmServerSpec {
            prefix: Some(PrefixWorkload {
                tokens: 1000,
                groups: 4,
                zipf: 0.0,
                from_key: true,
            }),
            ..chunked_llm(
                chunked_scheduler(2048, Some(10_000), COST),
                constant_ns(100),
                constant_ns(5),
            )
        }),
    )
}

/// One closed-loop user with keys uniform on 0..4 into a balancer of
/// `policy` over two replicas, no warm-up (every request counts).
fn system(policy: LbPolicy) -> ModelSpec {
    let mut user = users(closed(1));
    user.keys = KeySpec::Uniform { n: 4 };
    let mut spec = model_spec(
        "llm-routing",
        60,
        vec![user],
        vec![
            component(
                "lb",
                ComponentKind::LoadBalancer(LoadBalancerSpec {
                    policy,
                    backends: vec![ComponentId(1), ComponentId(2)],
                    routing: LbRouting::default(),
                }),
            ),
            replica("a"),
            replica("b"),
        ],
    );
    spec.warmup = SimDuration::ZERO;
    spec
}

/// Admissions that found no cached prefix, over both replicas: arrivals
/// (one user: each is admitted at once) less the admissions that saved
/// the 992 cached tokens.
fn misses(r: &RunResult) -> f64 {
    ["a", "b"]
        .iter()
        .map(|n| {
            let c = r.components.iter().find(|c| c.name == *n).expect("replica");
            let saved = extra_of(c, "prefill_tokens_saved");
            assert_eq!(saved % CACHED, 0.0, "{saved}");
            c.arrivals as f64 - saved / CACHED
        })
        .sum()
}

#[test]
fn prefix_affinity_keeps_each_group_on_one_replica() {
    let affinity = run(&system(LbPolicy::PrefixAffinity));
    let rr = run(&system(LbPolicy::RoundRobin));
    let (ma, mr) = (misses(&affinity), misses(&rr));
    println!("misses: prefix_affinity {ma}, round_robin {mr}");
    assert!(affinity.requests.completed > 1000);
    assert_eq!(ma, 4.0, "one miss per group");
    assert_eq!(mr, 8.0, "one miss per (group, replica)");
    assert_eq!(extra(&affinity, "affinity_moves"), 0.0);
    // Both replicas serve: the groups spread (2 each) rather than all
    // landing on the first, so each gets a share of the requests.
    for n in ["a", "b"] {
        let c = affinity.components.iter().find(|c| c.name == n).unwrap();
        assert!(c.arrivals > 100, "{n}: {}", c.arrivals);
    }
    // Round robin alternates exactly.
    let (a, b) = (rr.components[1].arrivals, rr.components[2].arrivals);
    assert!(a.abs_diff(b) <= 1, "{a} {b}");
}

/// Why building `spec` fails (it must).
fn refusal(spec: &ModelSpec) -> String {
    match Simulation::new(spec) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the spec should be refused"),
    }
}

/// A backend that is not an LLM server with the chunked scheduler, or
/// (for `prefix_affinity`) has no key-drawn prefix, is refused at build.
#[test]
fn llm_aware_policies_refuse_unfit_backends() {
    let mut spec = system(LbPolicy::PrefixAffinity);
    if let ComponentKind::LlmServer(m) = &mut spec.components[2].kind {
        m.prefix = m.prefix.map(|x| PrefixWorkload {
            from_key: false,
            ..x
        });
    }
    let err = refusal(&spec);
    assert!(err.contains("from_key"), "{err}");
    let mut spec = system(LbPolicy::LeastKv);
    spec.components[2] = component(
        "b",
        ComponentKind::Server(ServerSpec::new(1, constant_ms(1.0))),
    );
    let err = refusal(&spec);
    assert!(err.contains("not a model server in LLM mode"), "{err}");
    assert!(Simulation::new(&system(LbPolicy::LeastKv)).is_ok());
}
