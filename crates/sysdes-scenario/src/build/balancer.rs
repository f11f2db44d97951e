//! Reading `type: load_balancer` components: a policy and backends.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_models::{
    ComponentKind, HealthCheckSpec, LbPolicy, LbRouting, LoadBalancerSpec, ShadowSpec, WeightPhase,
};

use super::{Ctx, Entry, Kind, resolve};
use crate::node::SNode;
use crate::units::{Duration, Share, Size};

/// `type: load_balancer` — routes each request to one backend.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a load balancer: a map with `backends` and optionally `policy`"
)]
#[schemars(rename = "LoadBalancer")]
pub(crate) struct LoadBalancerRaw {
    /// How a backend is chosen (default `round_robin`).
    pub policy: Option<PolicyRaw>,
    /// Names of the candidate components: at least one, no duplicates, not the balancer itself.
    pub backends: Vec<String>,
    /// The zone it runs in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    pub request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth).
    pub response_size: Option<Size>,
    /// One whole-number weight per backend, in `backends` order, e.g. `[9, 1]` sends 90 % to the first (default all equal). A weight may be 0, not all of them. Not with `consistent_hash`.
    pub weights: Option<Vec<u32>>,
    /// Weights that take over at given times since the start of the run, e.g. `[ { at: 0s, weights: [1, 0] }, { at: 60s, weights: [0, 1] } ]` (a blue-green switch). Not with `consistent_hash`.
    pub phases: Option<Vec<WeightPhaseRaw>>,
    /// Mirror a share of the requests to another component, e.g. `{ to: v2, share: 0.1 }`: its answers are dropped (the client never waits for them), its work shows in its figures.
    pub shadow: Option<ShadowRaw>,
    /// Stop sending to a backend after `failures` failed answers in a row and probe it back every `interval`, e.g. `{ failures: 3, interval: 5s }`.
    pub health_check: Option<HealthCheckRaw>,
    /// `policy: prefix_affinity` only: a prefix group leaves its backend when that backend has more than this many requests waiting and another has fewer (default 8).
    #[schemars(range(min = 0))]
    pub affinity_max_waiting: Option<i64>,
}

/// Health checks: ejection after failures in a row, probes back.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "health checks: a map with `failures` and `interval`"
)]
#[schemars(rename = "HealthCheck")]
pub(crate) struct HealthCheckRaw {
    /// Failed answers in a row that eject a backend (at least 1; default 3).
    pub failures: Option<i64>,
    /// Time from an ejection, or a failed probe, to the next probe (default `5s`).
    pub interval: Option<Duration>,
}

/// Shadow traffic: copies of a share of the requests.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "shadow traffic: a map with `to` and `share`"
)]
#[schemars(rename = "Shadow")]
pub(crate) struct ShadowRaw {
    /// The component that receives the copies.
    pub to: String,
    /// The probability that a request is copied, in (0, 1] (`0.1` or `10%`; default 1: every request).
    pub share: Option<Share>,
}

/// Weights in force from time `at` on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a phase: a map with `at` and `weights`"
)]
#[schemars(rename = "WeightPhase")]
pub(crate) struct WeightPhaseRaw {
    /// When the phase starts, since the start of the run (warm-up included).
    pub at: Duration,
    /// One whole-number weight per backend, in `backends` order.
    pub weights: Vec<u32>,
}

/// Load-balancing policies.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Policy")]
pub(crate) enum PolicyRaw {
    /// Backends in turn.
    RoundRobin,
    /// A uniformly random backend.
    Random,
    /// The backend with the fewest requests outstanding from this balancer (join-the-shortest-queue).
    LeastOutstanding,
    /// Two distinct random backends; the one with fewer outstanding requests.
    PowerOfTwo,
    /// A hash ring over the request's key, so equal keys go to the same backend.
    ConsistentHash,
    /// LLM model servers (`scheduler: chunked`) only: the backend with the least KV demand, KV blocks in use plus the blocks its waiting prompts will take (ties to the first listed).
    LeastKv,
    /// LLM model servers with `prefix: { ..., from_key: true }` only: a request's prefix group goes to the backend that last served it (first time: the least KV demand), unless that backend has more than `affinity_max_waiting` requests waiting and another has fewer.
    PrefixAffinity,
}

/// Reads a load balancer.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    load_balancer(ctx, e.own, e.body, e.names).map(ComponentKind::LoadBalancer)
}

fn load_balancer(
    ctx: &mut Ctx,
    own: usize,
    body: &SNode,
    names: &[&str],
) -> Option<LoadBalancerSpec> {
    ctx.unknown_keys(body, Kind::LoadBalancer.keys());
    let policy = match ctx.optional::<PolicyRaw>(body, "policy") {
        Ok(p) => Some(match p.unwrap_or(PolicyRaw::RoundRobin) {
            PolicyRaw::RoundRobin => LbPolicy::RoundRobin,
            PolicyRaw::Random => LbPolicy::Random,
            PolicyRaw::LeastOutstanding => LbPolicy::LeastOutstanding,
            PolicyRaw::PowerOfTwo => LbPolicy::PowerOfTwo,
            PolicyRaw::ConsistentHash => LbPolicy::ConsistentHash,
            PolicyRaw::LeastKv => LbPolicy::LeastKv,
            PolicyRaw::PrefixAffinity => LbPolicy::PrefixAffinity,
        }),
        Err(()) => None,
    };
    let names_of_backends: Vec<String> = ctx.required(
        body,
        "backends",
        Some("add e.g. `backends: [s1, s2]`".to_owned()),
    )?;
    let backends_node = body.at_or_near(&["backends"]);
    let before = ctx.issues.len();
    if names_of_backends.is_empty() {
        ctx.push(
            backends_node,
            "`backends` must list at least one component",
            None,
        );
    }
    let mut backends = Vec::with_capacity(names_of_backends.len());
    for (i, name) in names_of_backends.iter().enumerate() {
        let node = backends_node.item(i).unwrap_or(backends_node);
        if names_of_backends[..i].contains(name) {
            ctx.push(
                node,
                format!("backend `{name}` is listed twice"),
                Some("to send it a larger share, list it once and give it a larger weight in `weights`".to_owned()),
            );
            continue;
        }
        if names.get(own) == Some(&name.as_str()) {
            ctx.push(
                node,
                format!("load balancer `{name}` cannot be its own backend"),
                None,
            );
            continue;
        }
        if let Some(id) = resolve(ctx, names, name, node) {
            backends.push(id);
        }
    }
    let routing = routing(ctx, body, policy, names_of_backends.len());
    let shadow = shadow(ctx, own, body, names, &names_of_backends);
    let health = health_check(ctx, body);
    let affinity_max_waiting = affinity_max_waiting(ctx, body, policy);
    if ctx.issues.len() != before {
        return None;
    }
    Some(LoadBalancerSpec {
        policy: policy?,
        backends,
        routing: LbRouting {
            shadow: shadow?,
            health: health?,
            affinity_max_waiting: affinity_max_waiting?,
            ..routing?
        },
    })
}

/// Reads `health_check`: `Some(None)` when absent, `None` when invalid.
fn health_check(ctx: &mut Ctx, body: &SNode) -> Option<Option<HealthCheckSpec>> {
    let Some(raw) = ctx.optional::<HealthCheckRaw>(body, "health_check").ok()? else {
        return Some(None);
    };
    let node = body.at_or_near(&["health_check"]);
    let failures = match raw.failures {
        Some(n) => super::count(ctx, n, 1, node.at_or_near(&["failures"]), "failures"),
        None => Some(3),
    };
    let interval = match raw.interval {
        Some(d) => super::positive_duration(ctx, d, node.at_or_near(&["interval"]), "interval"),
        None => Some(sysdes_kernel::SimDuration::from_secs(5)),
    };
    Some(Some(HealthCheckSpec {
        failures: failures?,
        interval: interval?,
    }))
}

/// Reads `shadow`: `Some(None)` when absent, `None` when invalid (reported).
///
/// A shadow target that is one of the balancer's own `backends` is refused:
/// it already gets live traffic, so the copies would only double its load
/// while looking like a separate test of a new version.
fn shadow(
    ctx: &mut Ctx,
    own: usize,
    body: &SNode,
    names: &[&str],
    backends: &[String],
) -> Option<Option<ShadowSpec>> {
    let Some(raw) = ctx.optional::<ShadowRaw>(body, "shadow").ok()? else {
        return Some(None);
    };
    let node = body.at_or_near(&["shadow"]);
    let share = raw.share.map_or(1.0, Share::fraction);
    let mut ok = true;
    if !(share > 0.0 && share <= 1.0) {
        ctx.push(
            node.at_or_near(&["share"]),
            format!("`share` must be in (0, 1], found {share}"),
            Some("e.g. `share: 0.1` copies one request in ten".to_owned()),
        );
        ok = false;
    }
    let to_node = node.at_or_near(&["to"]);
    if names.get(own) == Some(&raw.to.as_str()) {
        ctx.push(
            to_node,
            format!("load balancer `{}` cannot shadow to itself", raw.to),
            Some("name the component that should receive the copies".to_owned()),
        );
        return None;
    }
    if backends.contains(&raw.to) {
        ctx.push(
            to_node,
            format!(
                "`shadow.to` names `{}`, one of this balancer's own `backends`: it already gets live traffic, so the copies would only add load to it, not test a separate version",
                raw.to
            ),
            Some("shadow to a component outside `backends` (the new version under test), or drop `shadow`".to_owned()),
        );
        return None;
    }
    let to = resolve(ctx, names, &raw.to, to_node)?;
    ok.then_some(Some(ShadowSpec { to, share }))
}

/// Reads `weights` and `phases` for a balancer of `n` backends.
fn routing(ctx: &mut Ctx, body: &SNode, policy: Option<LbPolicy>, n: usize) -> Option<LbRouting> {
    let before = ctx.issues.len();
    let weights = ctx.optional::<Vec<u32>>(body, "weights").ok()?;
    let phases = ctx.optional::<Vec<WeightPhaseRaw>>(body, "phases").ok()?;
    if policy.is_some_and(LbPolicy::llm_aware) {
        for key in ["weights", "phases", "health_check"] {
            if let Some((node, _)) = body.entry(key) {
                ctx.push(
                    node,
                    format!("`{key}` cannot be used with an LLM-aware policy (`least_kv`, `prefix_affinity`): the replicas' KV state decides where each request goes"),
                    Some("use `policy: round_robin` to route by weight".to_owned()),
                );
            }
        }
    }
    if policy == Some(LbPolicy::ConsistentHash) {
        for key in ["weights", "phases"] {
            if let Some((node, _)) = body.entry(key) {
                ctx.push(
                    node,
                    format!("`{key}` cannot be used with `policy: consistent_hash`: the hash ring, not weights, decides where each key goes"),
                    Some("use `policy: round_robin` or `random` to route by weight".to_owned()),
                );
            }
        }
    }
    let weights = match weights {
        Some(w) => {
            check_weights(ctx, &w, n, body.at_or_near(&["weights"]), "weights");
            w
        }
        None => Vec::new(),
    };
    let mut out = Vec::new();
    if let Some(phases) = phases {
        let phases_node = body.at_or_near(&["phases"]);
        if phases.is_empty() {
            ctx.push(
                phases_node,
                "`phases` must list at least one phase",
                Some(
                    "e.g. `phases: [ { at: 0s, weights: [1, 0] }, { at: 60s, weights: [0, 1] } ]`"
                        .to_owned(),
                ),
            );
        }
        let mut last = None;
        for (i, p) in phases.iter().enumerate() {
            let item = phases_node.item(i).unwrap_or(phases_node);
            let at = p.at.to_sim();
            if last.is_some_and(|l| at <= l) {
                ctx.push(
                    item.at_or_near(&["at"]),
                    "the phases must be in increasing order of `at`",
                    None,
                );
            }
            last = Some(at);
            check_weights(ctx, &p.weights, n, item.at_or_near(&["weights"]), "weights");
            out.push(WeightPhase {
                at,
                weights: p.weights.clone(),
            });
        }
    }
    (ctx.issues.len() == before).then_some(LbRouting {
        weights,
        phases: out,
        shadow: None,
        health: None,
        affinity_max_waiting: None,
    })
}

/// Reads `affinity_max_waiting`: `Some(None)` when absent, `None` when
/// invalid (reported).
fn affinity_max_waiting(
    ctx: &mut Ctx,
    body: &SNode,
    policy: Option<LbPolicy>,
) -> Option<Option<u32>> {
    let raw = ctx.optional::<i64>(body, "affinity_max_waiting").ok()?;
    let Some(raw) = raw else {
        return Some(None);
    };
    let node = body.at_or_near(&["affinity_max_waiting"]);
    if policy.is_some_and(|p| p != LbPolicy::PrefixAffinity) {
        ctx.push(
            node,
            "`affinity_max_waiting` applies only to `policy: prefix_affinity`",
            Some("remove it, or set `policy: prefix_affinity`".to_owned()),
        );
        return None;
    }
    super::count(ctx, raw, 0, node, "affinity_max_waiting").map(Some)
}

/// Checks the backends of every LLM-aware balancer once all components are
/// read: each must be an LLM model server with `scheduler: chunked`, and
/// under `prefix_affinity` have `prefix.from_key` with the same `groups`
/// (the error points at the balancer's backend).
pub(super) fn check_llm_backends(
    ctx: &mut Ctx,
    components: &[Option<sysdes_models::ComponentSpec>],
    bodies: &[&SNode],
) {
    for (c, body) in components.iter().zip(bodies) {
        let Some(sysdes_models::ComponentSpec {
            kind: ComponentKind::LoadBalancer(lb),
            ..
        }) = c
        else {
            continue;
        };
        if !lb.policy.llm_aware() {
            continue;
        }
        let policy = if lb.policy == LbPolicy::PrefixAffinity {
            "prefix_affinity"
        } else {
            "least_kv"
        };
        let mut groups = None;
        for (i, b) in lb.backends.iter().enumerate() {
            let node = body.at_or_near(&["backends"]);
            let node = node.item(i).unwrap_or(node);
            let Some(Some(backend)) = components.get(b.index()) else {
                continue;
            };
            let name = &backend.name;
            let problem = match &backend.kind {
                ComponentKind::LlmServer(m) => match (&m.scheduler, m.prefix) {
                    (sysdes_models::LlmScheduler::PrefillFirst, _) => Some((
                        format!("`policy: {policy}` reads KV blocks: backend `{name}` needs `llm.scheduler: chunked`"),
                        "set `scheduler: chunked` in its `llm` block".to_owned(),
                    )),
                    (_, prefix) if lb.policy == LbPolicy::PrefixAffinity => match prefix {
                        Some(x) if x.from_key => {
                            if groups.is_some_and(|g| g != x.groups) {
                                Some((
                                    format!("`policy: prefix_affinity` needs the same `prefix.groups` on every backend: `{name}` has {}", x.groups),
                                    "give every backend the same prefix workload".to_owned(),
                                ))
                            } else {
                                groups = Some(x.groups);
                                None
                            }
                        }
                        _ => Some((
                            format!("`policy: prefix_affinity` routes a request by its prefix group, its key modulo `prefix.groups`: backend `{name}` needs `prefix: {{ ..., from_key: true }}`"),
                            "add `from_key: true` to its `llm.prefix` and give the workload `keys:` (e.g. `{ uniform: 40 }`)".to_owned(),
                        )),
                    },
                    _ => None,
                },
                _ => Some((
                    format!("`policy: {policy}` reads the backends' KV caches: `{name}` is not a single model server in LLM mode"),
                    "list `type: model_server` components with an `llm:` block (no `replicas:`)".to_owned(),
                )),
            };
            if let Some((message, help)) = problem {
                ctx.push(node, message, Some(help));
            }
        }
    }
}

/// Checks one weight list: one per backend, not all zero.
fn check_weights(ctx: &mut Ctx, weights: &[u32], n: usize, node: &SNode, what: &str) {
    if weights.len() != n {
        ctx.push(
            node,
            format!(
                "`{what}` must give one weight per backend ({n}), found {}",
                weights.len()
            ),
            Some("list the weights in the order of `backends`, e.g. `[9, 1]`".to_owned()),
        );
    } else if weights.iter().all(|&w| w == 0) {
        ctx.push(
            node,
            format!("every weight in `{what}` is zero: the balancer could send nowhere"),
            Some("give at least one backend a positive weight".to_owned()),
        );
    } else if weights.iter().map(|&w| u64::from(w)).sum::<u64>() > u64::from(u32::MAX) {
        ctx.push(
            node,
            format!("the weights in `{what}` add up to more than {}", u32::MAX),
            Some("weights are relative: divide them by a common factor".to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{
        ComponentKind, HealthCheckSpec, LbRouting, LoadBalancerSpec, ShadowSpec, WeightPhase,
    };

    use crate::test_support::{load, problems};

    /// Lines: 7 components, 8 lb, 9 type, 10 policy, 11 backends, 12.. the
    /// routing keys; `c` is not a backend (a shadow target).
    fn with_lb(policy: &str, routing: &str) -> String {
        format!(
            "name: t\nduration: 300s\nworkloads:\n  - name: users\n    target: lb\n    arrival: {{ poisson: 100/s }}\ncomponents:\n  lb:\n    type: load_balancer\n    policy: {policy}\n    backends: [a, b]\n{routing}  a:\n    type: server\n    service_time: 1ms\n  b:\n    type: server\n    service_time: 1ms\n  c:\n    type: server\n    service_time: 1ms\n"
        )
    }

    fn balancer(text: &str) -> LoadBalancerSpec {
        let spec = load(text).expect("valid");
        let ComponentKind::LoadBalancer(lb) = spec.components[0].kind.clone() else {
            panic!("a load balancer");
        };
        lb
    }

    #[test]
    fn weights_and_phases_are_read() {
        assert_eq!(
            balancer(&with_lb("random", "")).routing,
            LbRouting::default()
        );
        let lb = balancer(&with_lb(
            "round_robin",
            "    weights: [9, 1]\n    phases:\n      - { at: 60s, weights: [1, 1] }\n      - { at: 2m, weights: [0, 1] }\n",
        ));
        assert_eq!(lb.routing.weights, [9, 1]);
        assert_eq!(
            lb.routing.phases,
            [
                WeightPhase {
                    at: SimDuration::from_secs(60),
                    weights: vec![1, 1]
                },
                WeightPhase {
                    at: SimDuration::from_secs(120),
                    weights: vec![0, 1]
                },
            ]
        );
        assert_eq!(lb.routing.shadow, None);
        let lb = balancer(&with_lb("random", "    shadow: { to: c, share: 0.25 }\n"));
        assert_eq!(
            lb.routing.shadow,
            Some(ShadowSpec {
                to: sysdes_kernel::ComponentId(3),
                share: 0.25
            })
        );
        let lb = balancer(&with_lb("random", "    shadow: { to: c }\n"));
        assert_eq!(lb.routing.shadow.map(|s| s.share), Some(1.0));
        let lb = balancer(&with_lb("random", "    shadow: { to: c, share: 25% }\n"));
        assert_eq!(lb.routing.shadow.map(|s| s.share), Some(0.25));
        let lb = balancer(&with_lb(
            "least_outstanding",
            "    health_check: { failures: 2, interval: 500ms }\n",
        ));
        assert_eq!(
            lb.routing.health,
            Some(HealthCheckSpec {
                failures: 2,
                interval: SimDuration::from_millis(500)
            })
        );
        let lb = balancer(&with_lb("random", "    health_check: {}\n"));
        assert_eq!(
            lb.routing.health.map(|h| (h.failures, h.interval)),
            Some((3, SimDuration::from_secs(5)))
        );
    }

    #[test]
    fn routing_mistakes_are_located() {
        let cases = [
            (
                "random",
                "    weights: [1, 2, 3]\n",
                (12, 14),
                "`weights` must give one weight per backend (2), found 3",
            ),
            (
                "random",
                "    weights: [0, 0]\n",
                (12, 14),
                "every weight in `weights` is zero",
            ),
            (
                "random",
                "    weights: [1, -1]\n",
                (12, 18),
                "`weights`: expected a whole number, zero or more, found the number -1",
            ),
            (
                "consistent_hash",
                "    weights: [1, 2]\n",
                (12, 5),
                "`weights` cannot be used with `policy: consistent_hash`",
            ),
            (
                "round_robin",
                "    phases:\n      - { at: 60s, weights: [1, 1] }\n      - { at: 30s, weights: [0, 1] }\n",
                (14, 15),
                "the phases must be in increasing order of `at`",
            ),
            (
                "round_robin",
                "    phases:\n      - { at: 0s, weights: [1] }\n",
                (13, 28),
                "`weights` must give one weight per backend (2), found 1",
            ),
            (
                "round_robin",
                "    phases:\n      - { at: 0s, weight: [1, 1] }\n",
                (13, 19),
                "unknown key `weight`",
            ),
            (
                "random",
                "    shadow: { to: c, share: 1.5 }\n",
                (12, 29),
                "a share must be from 0 to 1 (0 % to 100 %), found `1.5`",
            ),
            (
                "random",
                "    shadow: { to: c, share: 0% }\n",
                (12, 29),
                "`share` must be in (0, 1], found 0",
            ),
            (
                "random",
                "    shadow: { to: lb }\n",
                (12, 19),
                "load balancer `lb` cannot shadow to itself",
            ),
            (
                "random",
                "    shadow: { to: z, share: 0.5 }\n",
                (12, 19),
                "there is no component named `z`",
            ),
            (
                "random",
                "    shadow: { to: b, share: 0.5 }\n",
                (12, 19),
                "`shadow.to` names `b`, one of this balancer's own `backends`",
            ),
            (
                "random",
                "    shadow: { share: 0.5 }\n",
                (12, 13),
                "`shadow`: missing required key `to`",
            ),
            (
                "random",
                "    health_check: { failures: 0 }\n",
                (12, 31),
                "`failures` must be at least 1, found 0",
            ),
            (
                "random",
                "    health_check: { interval: 0s }\n",
                (12, 31),
                "`interval` must be greater than zero",
            ),
            (
                "round_robin",
                "    phases: []\n",
                (12, 13),
                "`phases` must list at least one phase",
            ),
        ];
        for (policy, routing, (line, column), message) in cases {
            let found = problems(&with_lb(policy, routing));
            assert_eq!(found.len(), 1, "{routing}: {found:#?}");
            assert!(
                found[0].message.contains(message),
                "{routing}: {:#?}",
                found[0]
            );
            assert_eq!(
                (found[0].line, found[0].column),
                (line, column),
                "{routing}: {:#?}",
                found[0]
            );
        }
    }

    /// A balancer `lb` of `policy` (line 10) over `backends` (line 11, the
    /// first name at column 16), `routing` keys from line 12, then a plain
    /// server `a` and an LLM server `g` (chunked) whose `llm` block ends
    /// with `extra`.
    fn with_llm(policy: &str, backends: &str, routing: &str, extra: &str) -> String {
        format!(
            "name: t\nduration: 10s\nworkloads:\n  - name: users\n    target: lb\n    arrival: {{ poisson: 10/s }}\ncomponents:\n  lb:\n    type: load_balancer\n    policy: {policy}\n    backends: [{backends}]\n{routing}  a:\n    type: server\n    service_time: 1ms\n  g:\n    type: model_server\n    llm:\n      scheduler: chunked\n      max_batch: 8\n      kv_blocks: 1000\n      iteration: {{ floor: 10ms, per_token: 10us }}\n      prompt_tokens: 100\n      output_tokens: 10\n{extra}"
        )
    }

    /// Every mistake with an LLM-aware policy is one located problem.
    #[test]
    fn llm_routing_mistakes_are_located() {
        const PREFIX: &str = "      prefix: { tokens: 100, groups: 4, from_key: true }\n";
        let cases = [
            (
                "least_kv",
                "a, g",
                "",
                "",
                (11, 16),
                "`policy: least_kv` reads the backends' KV caches: `a` is not a single model server in LLM mode",
            ),
            (
                "prefix_affinity",
                "g",
                "",
                "      prefix: { tokens: 100, groups: 4 }\n",
                (11, 16),
                "backend `g` needs `prefix: { ..., from_key: true }`",
            ),
            (
                "least_kv",
                "g, a",
                "    weights: [1, 2]\n",
                "",
                (12, 5),
                "`weights` cannot be used with an LLM-aware policy",
            ),
            (
                "round_robin",
                "g",
                "    affinity_max_waiting: 4\n",
                "",
                (12, 27),
                "`affinity_max_waiting` applies only to `policy: prefix_affinity`",
            ),
            (
                "round_robin",
                "g",
                "",
                "      prefix: { tokens: 100, groups: 4, zipf: 1.0, from_key: true }\n",
                (24, 47),
                "`prefix.zipf` cannot be used with `from_key: true`",
            ),
        ];
        for (policy, backends, routing, extra, (line, column), message) in cases {
            let mut text = with_llm(policy, backends, routing, extra);
            if extra.contains("prefill_first") {
                // The prefill-first scheduler with its own keys.
                text = text.replace("      scheduler: chunked\n", "").replace(
                    "      kv_blocks: 1000\n      iteration: { floor: 10ms, per_token: 10us }\n",
                    "      prefill: { base: 10ms, per_token: 10us }\n      decode_step: { base: 10ms, per_sequence: 10us }\n",
                );
            }
            let found = problems(&text);
            assert_eq!(found.len(), 1, "{text}: {found:#?}");
            assert!(found[0].message.contains(message), "{text}: {found:#?}");
            assert_eq!(
                (found[0].line, found[0].column),
                (line, column),
                "{text}: {found:#?}"
            );
        }
        // A valid balancer loads, with its bound.
        let lb = balancer(&with_llm(
            "prefix_affinity",
            "g",
            "    affinity_max_waiting: 3\n",
            PREFIX,
        ));
        assert_eq!(lb.policy, sysdes_models::LbPolicy::PrefixAffinity);
        assert_eq!(lb.routing.affinity_max_waiting, Some(3));
    }
}
