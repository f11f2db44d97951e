//! From the tree to a validated [`ModelSpec`].
//!
//! Each top-level key, each workload and each component is read on its own,
//! so one bad entry does not hide the others; then everything that parsed is
//! checked (ranges, references, cycles). Every problem is collected with the
//! origin of the value at fault. Nothing here panics on any input.

use serde::de::DeserializeOwned;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    ArrivalSpec, CallMode, ComponentKind, ComponentSpec, Distribution, KeySpec, LbPolicy,
    LoadBalancerSpec, ModelSpec, ServerSpec, WorkloadSpec,
};

use crate::build_client::{calls, ops, phases, retries, sessions};
use crate::de::{DeError, from_node, one_of, suggest};
use crate::node::{Issue, Node, Origin, SNode};
use crate::raw::{ArrivalRaw, DistRaw, KeysRaw, ModeRaw, PolicyRaw};
use crate::units::Duration;

#[path = "build_deploy.rs"]
mod deploy;
mod llm_server;
mod model_server;
pub(crate) use model_server::ModelServerRaw;
pub(crate) mod expect;
pub(crate) mod store;

const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "warmup",
    "workloads",
    "components",
    "network",
    "sweep",
    "hosts",
    "faults",
    "expect",
];

pub(crate) mod queue;

const COMPONENT_TYPES: &[&str] = &[
    "server",
    "load_balancer",
    "cache",
    "queue",
    "stream",
    "model_server",
    "store",
];
const WORKLOAD_KEYS: &[&str] = &[
    "name",
    "target",
    "arrival",
    "keys",
    "timeout",
    "ops",
    "sessions",
    "retries",
    "zone",
    "request_size",
    "response_size",
];
const SERVER_KEYS: &[&str] = &[
    "type",
    "workers",
    "service_time",
    "queue_capacity",
    "calls",
    "mode",
    // Deployment keys (build_deploy.rs).
    "replicas",
    "balance",
    "runs_on",
    "cpu",
    "memory",
    "host",
    "autoscaler",
    "zone",
    "request_size",
    "response_size",
];
const LOAD_BALANCER_KEYS: &[&str] = &[
    "type",
    "policy",
    "backends",
    "zone",
    "request_size",
    "response_size",
];

#[path = "build_net.rs"]
mod build_net; // netfault: zones, links, sizes and faults

/// Collects issues.
pub(crate) struct Ctx {
    pub(crate) issues: Vec<Issue>,
    /// Keys an unknown key was taken to be a typo of, per map: a missing
    /// required key there is not reported a second time.
    typo_for: Vec<(Origin, String)>,
}

impl Ctx {
    pub(crate) fn push(&mut self, node: &SNode, message: impl Into<String>, help: Option<String>) {
        self.issues.push(Issue {
            origin: node.origin,
            message: message.into(),
            help,
        });
    }

    pub(crate) fn de_error(&mut self, fallback: &SNode, err: DeError) {
        self.issues.push(Issue {
            origin: err.origin.unwrap_or(fallback.origin),
            message: err.full_message(),
            help: err.help,
        });
    }

    /// Records every key of `map` that is not in `allowed`, with a suggestion.
    pub(crate) fn unknown_keys(&mut self, map: &SNode, allowed: &[&str]) {
        let Node::Map(entries) = &map.node else {
            return;
        };
        for (key, _) in entries {
            let k = key.as_str().unwrap_or("");
            if !allowed.contains(&k) {
                let help = match suggest(k, allowed.iter().copied()) {
                    Some(s) => {
                        self.typo_for.push((map.origin, s.to_owned()));
                        format!("did you mean `{s}`?")
                    }
                    // Replicas of what cannot be replicated: say what scales it.
                    None if deploy::GROUP_KEYS.contains(&k) => format!(
                        "servers, model servers and caches take `{k}`; a queue or stream scales with its consumers (give the consumer `replicas`), a load balancer needs none"
                    ),
                    None => format!("the keys allowed here are {}", one_of(allowed)),
                };
                self.push(key, format!("unknown key `{k}`"), Some(help));
            }
        }
    }

    /// Reads the optional key `key` of `map`; an empty value counts as absent.
    /// `Err(())` means it is there but invalid (already recorded).
    pub(crate) fn optional<T: DeserializeOwned>(
        &mut self,
        map: &SNode,
        key: &str,
    ) -> Result<Option<T>, ()> {
        match map.get(key) {
            None => Ok(None),
            Some(SNode {
                node: Node::Null, ..
            }) => Ok(None),
            Some(node) => match from_node::<T>(node) {
                Ok(v) => Ok(Some(v)),
                Err(e) => {
                    self.de_error(node, e.in_field(key));
                    Err(())
                }
            },
        }
    }

    /// Reads the required key `key` of `map`.
    pub(crate) fn required<T: DeserializeOwned>(
        &mut self,
        map: &SNode,
        key: &str,
        help: Option<String>,
    ) -> Option<T> {
        match map.get(key) {
            None => {
                if !self
                    .typo_for
                    .iter()
                    .any(|(o, k)| *o == map.origin && k == key)
                {
                    self.push(map, format!("missing required key `{key}`"), help);
                }
                None
            }
            Some(node) => match from_node::<T>(node) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.de_error(node, e.in_field(key));
                    None
                }
            },
        }
    }
}

/// The content of a one-key map (`{ exponential: 5ms }` -> `5ms`), else the node.
pub(crate) fn content(node: &SNode) -> &SNode {
    match &node.node {
        Node::Map(entries) if entries.len() == 1 => entries.first().map_or(node, |(_, v)| v),
        _ => node,
    }
}

pub(crate) fn ns(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// Converts and checks a distribution read from `node`; `what` names it.
pub(crate) fn distribution(
    ctx: &mut Ctx,
    raw: &DistRaw,
    node: &SNode,
    what: &str,
) -> Option<Distribution> {
    let inner = content(node);
    let before = ctx.issues.len();
    let dist = match raw {
        DistRaw::Constant(d) => Distribution::Constant(d.to_sim()),
        DistRaw::Exponential(mean) => {
            if mean.as_nanos() == 0 {
                ctx.push(
                    inner,
                    format!("`{what}`: the mean of `exponential` must be greater than zero"),
                    None,
                );
            }
            Distribution::Exponential { mean_ns: ns(*mean) }
        }
        DistRaw::Uniform(low, high) => {
            if low > high {
                ctx.push(
                    inner,
                    format!(
                        "`{what}`: `uniform` needs the lower bound first, found [{low}, {high}]"
                    ),
                    Some(format!("write `[{high}, {low}]`")),
                );
            }
            Distribution::Uniform {
                low_ns: ns(*low),
                high_ns: ns(*high),
            }
        }
        DistRaw::Lognormal(l) => {
            if l.median.as_nanos() == 0 {
                ctx.push(
                    inner.at_or_near(&["median"]),
                    "`median` of `lognormal` must be greater than zero",
                    None,
                );
            }
            if !(l.sigma >= 0.0 && l.sigma.is_finite()) {
                ctx.push(
                    inner.at_or_near(&["sigma"]),
                    format!(
                        "`sigma` of `lognormal` must be zero or more, found {}",
                        l.sigma
                    ),
                    None,
                );
            }
            Distribution::LogNormal {
                median_ns: ns(l.median),
                sigma: l.sigma,
            }
        }
        DistRaw::Pareto(p) => {
            if p.scale.as_nanos() == 0 {
                ctx.push(
                    inner.at_or_near(&["scale"]),
                    "`scale` of `pareto` must be greater than zero",
                    None,
                );
            }
            if !(p.shape > 0.0 && p.shape.is_finite()) {
                ctx.push(
                    inner.at_or_near(&["shape"]),
                    format!(
                        "`shape` of `pareto` must be greater than zero, found {}",
                        p.shape
                    ),
                    None,
                );
            }
            Distribution::Pareto {
                scale_ns: ns(p.scale),
                shape: p.shape,
            }
        }
        DistRaw::Erlang(e) => {
            let k = count(ctx, e.k, 1, inner.at_or_near(&["k"]), "k");
            if e.mean.as_nanos() == 0 {
                ctx.push(
                    inner.at_or_near(&["mean"]),
                    "`mean` of `erlang` must be greater than zero",
                    None,
                );
            }
            Distribution::Erlang {
                k: k.unwrap_or(1),
                mean_ns: ns(e.mean),
            }
        }
        DistRaw::Mixture(parts) => {
            if parts.is_empty() {
                ctx.push(
                    inner,
                    format!("`{what}`: a `mixture` needs at least one part"),
                    None,
                );
            }
            let mut out = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                let item = inner.item(i).unwrap_or(inner);
                if !(part.weight > 0.0 && part.weight.is_finite()) {
                    ctx.push(
                        item.at_or_near(&["weight"]),
                        format!(
                            "`weight` of a mixture part must be greater than zero, found {}",
                            part.weight
                        ),
                        None,
                    );
                }
                let d = distribution(ctx, &part.dist, item.at_or_near(&["dist"]), what)?;
                out.push((part.weight, d));
            }
            Distribution::Mixture(out)
        }
    };
    (ctx.issues.len() == before).then_some(dist)
}

/// Checks that `value` is in `min..=u32::MAX`; `what` names the key.
/// The optional count `key` of `body`, at least `min`: `Some(None)` when
/// absent, `None` when invalid (already reported).
pub(crate) fn optional_count(
    ctx: &mut Ctx,
    body: &SNode,
    key: &str,
    min: i64,
) -> Option<Option<u32>> {
    match ctx.optional::<i64>(body, key) {
        Ok(Some(n)) => count(ctx, n, min, body.at_or_near(&[key]), key).map(Some),
        Ok(None) => Some(None),
        Err(()) => None,
    }
}

/// The optional distribution `key` of `body`: `Some(None)` when absent,
/// `None` when invalid (already reported).
pub(crate) fn optional_distribution(
    ctx: &mut Ctx,
    body: &SNode,
    key: &str,
) -> Option<Option<Distribution>> {
    match ctx.optional::<DistRaw>(body, key) {
        Ok(None) => Some(None),
        Ok(Some(raw)) => distribution(ctx, &raw, body.at_or_near(&[key]), key).map(Some),
        Err(()) => None,
    }
}

pub(crate) fn count(ctx: &mut Ctx, value: i64, min: i64, node: &SNode, what: &str) -> Option<u32> {
    if value < min {
        let requirement = if min == 1 {
            "at least 1".to_owned()
        } else {
            format!("at least {min}")
        };
        ctx.push(
            node,
            format!("`{what}` must be {requirement}, found {value}"),
            None,
        );
        return None;
    }
    match u32::try_from(value) {
        Ok(v) => Some(v),
        Err(_) => {
            ctx.push(
                node,
                format!(
                    "`{what}` is too large (at most {}), found {value}",
                    u32::MAX
                ),
                None,
            );
            None
        }
    }
}

pub(crate) fn positive_duration(
    ctx: &mut Ctx,
    d: Duration,
    node: &SNode,
    what: &str,
) -> Option<SimDuration> {
    if d.as_nanos() == 0 {
        ctx.push(node, format!("`{what}` must be greater than zero"), None);
        None
    } else {
        Some(d.to_sim())
    }
}

/// The kinds of component, as named by `type`.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Server,
    LoadBalancer,
    Cache,
    Queue,
    Stream,
    ModelServer,
    Store,
}

/// Reads a component's `type`, recording why if it has no valid one.
fn component_kind(ctx: &mut Ctx, name: &str, key: &SNode, value: &SNode) -> Option<Kind> {
    if !matches!(value.node, Node::Map(_)) {
        ctx.push(
            value,
            format!(
                "component `{name}` must be a map with `type` and its settings, found {}",
                value.describe()
            ),
            Some("e.g. `{ type: server, service_time: 5ms }`".to_owned()),
        );
        return None;
    }
    let Some(type_node) = value.get("type") else {
        ctx.push(
            key,
            format!("component `{name}` has no `type`"),
            Some(format!(
                "add `type: server` or `type: load_balancer` under `{name}`"
            )),
        );
        return None;
    };
    match type_node.as_str() {
        Some("server") => Some(Kind::Server),
        Some("load_balancer") => Some(Kind::LoadBalancer),
        Some("cache") => Some(Kind::Cache),
        Some("queue") => Some(Kind::Queue),
        Some("stream") => Some(Kind::Stream),
        Some("model_server") => Some(Kind::ModelServer),
        Some("store") => Some(Kind::Store),
        Some(other) => {
            let help = match suggest(other, COMPONENT_TYPES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the component types are {}", one_of(COMPONENT_TYPES)),
            };
            ctx.push(
                type_node,
                format!("unknown component type `{other}`"),
                Some(help),
            );
            None
        }
        None => {
            ctx.push(
                type_node,
                format!(
                    "`type`: expected {}, found {}",
                    one_of(COMPONENT_TYPES),
                    type_node.describe()
                ),
                None,
            );
            None
        }
    }
}

/// Resolves a component name; records an error with a suggestion if unknown.
pub(crate) fn resolve(
    ctx: &mut Ctx,
    names: &[&str],
    name: &str,
    node: &SNode,
) -> Option<ComponentId> {
    if let Some(i) = names.iter().position(|n| *n == name) {
        return u32::try_from(i).ok().map(ComponentId);
    }
    let help = match suggest(name, names.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if names.is_empty() => "no components are defined".to_owned(),
        None => format!("the components are {}", one_of(names)),
    };
    ctx.push(
        node,
        format!("there is no component named `{name}`"),
        Some(help),
    );
    None
}

fn server(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<ServerSpec> {
    ctx.unknown_keys(body, SERVER_KEYS);
    let workers = optional_count(ctx, body, "workers", 1).map(|w| w.unwrap_or(1));
    let queue_capacity = optional_count(ctx, body, "queue_capacity", 0);
    let service_time = ctx
        .required::<DistRaw>(
            body,
            "service_time",
            Some("add e.g. `service_time: { exponential: 5ms }`".to_owned()),
        )
        .and_then(|raw| {
            distribution(
                ctx,
                &raw,
                body.at_or_near(&["service_time"]),
                "service_time",
            )
        });
    let calls = calls(ctx, own, body, names);
    let mode = match ctx.optional::<ModeRaw>(body, "mode") {
        Ok(None | Some(ModeRaw::Thread)) => Some(CallMode::Thread),
        Ok(Some(ModeRaw::Async)) => Some(CallMode::Async),
        Err(()) => None,
    };
    Some(ServerSpec {
        workers: workers?,
        service_time: service_time?,
        queue_capacity: queue_capacity?,
        calls: calls?,
        mode: mode?,
    })
}

fn load_balancer(
    ctx: &mut Ctx,
    own: usize,
    body: &SNode,
    names: &[&str],
) -> Option<LoadBalancerSpec> {
    ctx.unknown_keys(body, LOAD_BALANCER_KEYS);
    let policy = match ctx.optional::<PolicyRaw>(body, "policy") {
        Ok(p) => Some(match p.unwrap_or(PolicyRaw::RoundRobin) {
            PolicyRaw::RoundRobin => LbPolicy::RoundRobin,
            PolicyRaw::Random => LbPolicy::Random,
            PolicyRaw::LeastOutstanding => LbPolicy::LeastOutstanding,
            PolicyRaw::PowerOfTwo => LbPolicy::PowerOfTwo,
            PolicyRaw::ConsistentHash => LbPolicy::ConsistentHash,
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
            ctx.push(node, format!("backend `{name}` is listed twice"), None);
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
    if ctx.issues.len() != before {
        return None;
    }
    Some(LoadBalancerSpec {
        policy: policy?,
        backends,
    })
}

/// The deepest chain of components a request may pass through (a workload's
/// target counts as depth 1); see `docs/limits.md`.
pub const MAX_CALL_DEPTH: usize = 64;

/// The keys under which a component names the components a request goes
/// on to; `name` keys below them (a consumer group's own name) are not edges.
const EDGE_KEYS: &[&str] = &[
    "calls",
    "backend",
    "backends",
    "consumers",
    "consumer_groups",
];

/// The components `body` (component `own`) sends requests to, by index in
/// `names`, each once; itself excluded (each builder reports that case).
fn downstream(own: usize, body: &SNode, names: &[&str]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut stack: Vec<&SNode> = EDGE_KEYS.iter().filter_map(|k| body.get(k)).collect();
    while let Some(node) = stack.pop() {
        match &node.node {
            Node::Str(s) => {
                if let Some(j) = names.iter().position(|n| n == s) {
                    if j != own && !out.contains(&j) {
                        out.push(j);
                    }
                }
            }
            Node::Seq(items) => stack.extend(items.iter()),
            Node::Map(entries) => stack.extend(
                entries
                    .iter()
                    .filter(|(k, _)| k.as_str() != Some("name"))
                    .map(|(_, v)| v),
            ),
            _ => {}
        }
    }
    out
}

/// Reports a chain of components deeper than [`MAX_CALL_DEPTH`] (on an
/// acyclic graph), once, at the component that starts it.
fn check_depth(ctx: &mut Ctx, edges: &[Vec<usize>], names: &[&str], keys: &[&SNode]) {
    // Depth of the longest chain from each node, computed in reverse
    // topological order by an iterative DFS.
    let mut depth: Vec<usize> = vec![0; edges.len()];
    let mut next: Vec<usize> = vec![0; edges.len()];
    for start in 0..edges.len() {
        if depth[start] != 0 {
            continue;
        }
        let mut stack = vec![start];
        while let Some(&node) = stack.last() {
            if let Some(&succ) = edges[node].get(next[node]) {
                next[node] += 1;
                if depth[succ] == 0 {
                    stack.push(succ);
                }
                continue;
            }
            depth[node] = 1 + edges[node].iter().map(|&s| depth[s]).max().unwrap_or(0);
            stack.pop();
        }
    }
    if let Some((i, &d)) = depth.iter().enumerate().max_by_key(|(_, d)| **d) {
        if d > MAX_CALL_DEPTH {
            ctx.push(
                keys[i],
                format!(
                    "a request sent to `{}` may pass through a chain of {d} components, more than the limit of {MAX_CALL_DEPTH}",
                    names[i]
                ),
                Some("shorten the chain of calls, backends and consumers (see docs/limits.md)".to_owned()),
            );
        }
    }
}

/// Reports each cycle among components once; `true` if there is none.
fn check_cycles(
    ctx: &mut Ctx,
    edges: &[Vec<usize>],
    names: &[&str],
    keys: &[&SNode],
    balancers: &[bool],
) -> bool {
    let mut acyclic = true;
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next edge index); `path` is the active chain.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&succ) = edges[node].get(*next) else {
                marks[node] = Mark::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match marks.get(succ).copied() {
                Some(Mark::New) => {
                    marks[succ] = Mark::Active;
                    stack.push((succ, 0));
                }
                Some(Mark::Active) => {
                    acyclic = false;
                    let from = stack.iter().position(|(n, _)| *n == succ).unwrap_or(0);
                    let all_balancers = stack[from..].iter().all(|(n, _)| balancers[*n]);
                    let mut chain: Vec<&str> =
                        stack[from..].iter().map(|(n, _)| names[*n]).collect();
                    chain.push(names[succ]);
                    let (what, help) = if all_balancers {
                        (
                            "load balancers form a cycle",
                            "a request routed into this loop would never reach a server",
                        )
                    } else {
                        (
                            "components form a cycle (calls, backends or consumers)",
                            "a request sent into this loop would never finish; unroll repeated passes into distinct components (see docs/limits.md)",
                        )
                    };
                    if let Some(key) = keys.get(succ) {
                        ctx.push(
                            key,
                            format!("{what}: {}", chain.join(" -> ")),
                            Some(help.to_owned()),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    acyclic
}

/// Builds the model from the (already overridden) tree, or records why not.
pub(crate) fn build(root: &SNode, issues: &mut Vec<Issue>) -> Option<ModelSpec> {
    let mut ctx = Ctx {
        issues: Vec::new(),
        typo_for: Vec::new(),
    };
    let spec = build_inner(&mut ctx, root);
    let ok = ctx.issues.is_empty();
    issues.append(&mut ctx.issues);
    if ok { spec } else { None }
}

fn build_inner(ctx: &mut Ctx, root: &SNode) -> Option<ModelSpec> {
    if !matches!(root.node, Node::Map(_)) {
        ctx.push(
            root,
            format!(
                "a scenario must be a map with keys such as `name`, `duration`, `workloads` and `components`, found {}",
                root.describe()
            ),
            None,
        );
        return None;
    }
    ctx.unknown_keys(root, TOP_LEVEL_KEYS);

    let name: Option<String> = ctx.required(
        root,
        "name",
        Some("add e.g. `name: my-scenario`".to_owned()),
    );
    let _description: Result<Option<String>, ()> = ctx.optional(root, "description");
    let seed = ctx
        .optional::<u64>(root, "seed")
        .ok()
        .map(|s| s.unwrap_or(1));
    let duration = ctx
        .required::<Duration>(
            root,
            "duration",
            Some("add e.g. `duration: 60s`".to_owned()),
        )
        .and_then(|d| positive_duration(ctx, d, root.at_or_near(&["duration"]), "duration"));
    let warmup = ctx
        .optional::<Duration>(root, "warmup")
        .ok()
        .map(|w| w.map_or(SimDuration::ZERO, Duration::to_sim));
    if let (Some(d), Some(w)) = (duration, warmup) {
        if w >= d {
            ctx.push(
                root.at_or_near(&["warmup"]),
                format!(
                    "`warmup` ({}) must be less than `duration` ({})",
                    Duration::from_nanos(w.as_nanos()),
                    Duration::from_nanos(d.as_nanos())
                ),
                Some("the measurement window is [warmup, duration)".to_owned()),
            );
        }
    }
    let hosts = deploy::hosts(ctx, root);

    // Components first: workloads refer to them by name.
    let mut names: Vec<&str> = Vec::new();
    let mut entries: Vec<(&SNode, &SNode)> = Vec::new();
    match root.get("components") {
        None => ctx.push(
            root,
            "missing required key `components`",
            Some(
                "add e.g. `components: { server: { type: server, service_time: 5ms } }`".to_owned(),
            ),
        ),
        Some(node) => match &node.node {
            Node::Map(map) if !map.is_empty() => {
                for (k, v) in map {
                    names.push(k.as_str().unwrap_or(""));
                    entries.push((k, v));
                }
            }
            Node::Map(_) | Node::Null => {
                ctx.push(
                    node,
                    "`components` must define at least one component",
                    None,
                );
            }
            _ => ctx.push(
                node,
                format!(
                    "`components`: expected a map from names to components, found {}",
                    node.describe()
                ),
                None,
            ),
        },
    }
    let mut components: Vec<Option<ComponentSpec>> = Vec::with_capacity(entries.len());
    let mut kinds: Vec<Option<Kind>> = Vec::with_capacity(entries.len());
    let mut groups = Vec::new();
    for (i, (key, value)) in entries.iter().enumerate() {
        let name = names[i];
        let kind = component_kind(ctx, name, key, value);
        kinds.push(kind);
        let spec = match kind {
            Some(Kind::Server) => server(ctx, i, value, &names)
                .and_then(|s| deploy::server_or_deployment(ctx, value, s, hosts.as_deref())),
            Some(Kind::LoadBalancer) => {
                load_balancer(ctx, i, value, &names).map(ComponentKind::LoadBalancer)
            }
            Some(Kind::Cache) => {
                crate::build_cache::cache(ctx, i, value, &names).map(ComponentKind::Cache)
            }
            Some(Kind::Queue) => queue::queue(ctx, i, value, &names).map(ComponentKind::Queue),
            Some(Kind::Stream) => queue::stream(ctx, i, value, &names).map(ComponentKind::Stream),
            Some(Kind::ModelServer) => model_server::model_server_kind(ctx, value),
            Some(Kind::Store) => store::store(ctx, value).map(ComponentKind::Store),
            None => None,
        };
        // Replicas of anything but a leaf server form a group.
        let groupable = match &spec {
            Some(ComponentKind::Server(s)) => !s.calls.is_empty(),
            Some(
                ComponentKind::ModelServer(_)
                | ComponentKind::LlmServer(_)
                | ComponentKind::Cache(_),
            ) => true,
            _ => false,
        };
        if groupable {
            let busy = !matches!(spec, Some(ComponentKind::Cache(_)));
            match deploy::group_scaling(ctx, value, busy) {
                Some(Some(scaling)) => groups.push((i, scaling)),
                Some(None) => {}
                None => {
                    components.push(None);
                    continue;
                }
            }
        }
        components.push(spec.map(|kind| ComponentSpec {
            name: name.to_owned(),
            kind,
        }));
    }
    // Every edge a request can follow: calls, cache backends, queue and
    // stream consumers, balancer backends. A cycle is refused; so is a
    // chain deeper than MAX_CALL_DEPTH (responses unwind it recursively).
    let edges: Vec<Vec<usize>> = entries
        .iter()
        .enumerate()
        .map(|(i, (_, value))| downstream(i, value, &names))
        .collect();
    let keys: Vec<&SNode> = entries.iter().map(|(k, _)| *k).collect();
    let balancers: Vec<bool> = kinds
        .iter()
        .map(|k| *k == Some(Kind::LoadBalancer))
        .collect();
    if check_cycles(ctx, &edges, &names, &keys, &balancers) {
        check_depth(ctx, &edges, &names, &keys);
    }

    let workloads = workloads(ctx, root, &names);

    // netfault: the network needs every name; faults need the servers.
    let net_names = build_net::Names {
        components: &names,
        workloads: workloads
            .iter()
            .flatten()
            .map(|w| w.name.as_str())
            .collect(),
        zones: build_net::zone_names(root),
        replicas: crashable_replicas(&names, &components, &groups),
    };
    let network = build_net::network(ctx, root, &net_names);
    store_zones(ctx, &components, &entries, &net_names.zones);
    // Crashes and slowdowns reach single servers and model servers only
    // (not replicas).
    let servers: Vec<bool> = kinds
        .iter()
        .zip(&components)
        .enumerate()
        .map(|(i, (k, c))| {
            matches!(k, Some(Kind::Server | Kind::ModelServer))
                && !matches!(
                    c.as_ref().map(|c| &c.kind),
                    Some(ComponentKind::Deployment(_))
                )
                && !groups.iter().any(|(g, _)| *g == i)
        })
        .collect();
    // Replicas per store (the most allowed if the store itself is invalid,
    // so its crash faults are not reported a second time).
    let replicas: Vec<Option<u32>> = components
        .iter()
        .zip(&kinds)
        .map(|(c, k)| match (c.as_ref().map(|c| &c.kind), k) {
            (Some(ComponentKind::Store(s)), _) => Some(s.replicas),
            (_, Some(Kind::Store)) => Some(sysdes_models::MAX_REPLICAS),
            _ => None,
        })
        .collect();
    let (fault_root, replica_crashes) =
        store::replica_crashes(ctx, root, &names, &replicas, duration);
    let faults = build_net::faults(
        ctx,
        fault_root.as_ref().unwrap_or(root),
        &net_names,
        &servers,
        duration,
    )
    .zip(replica_crashes)
    .map(|(mut f, r)| {
        f.extend(r);
        f
    });

    let components: Option<Vec<ComponentSpec>> = components
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .map(|c| add_replicas(c, groups));
    Some(ModelSpec {
        name: name?,
        seed: seed?,
        duration: duration?,
        warmup: warmup?,
        network: network?,
        workloads: workloads?,
        components: components?,
        hosts: hosts?,
        faults: faults?,
    })
}

/// The replicas `NAME[i]` of groups of servers and model servers, with the
/// ids [`add_replicas`] gives them: what `crash` and `slowdown` may name.
fn crashable_replicas(
    names: &[&str],
    components: &[Option<ComponentSpec>],
    groups: &[(usize, deploy::Scaling)],
) -> Vec<(String, ComponentId)> {
    let mut next = names.len() as u32;
    let mut out = Vec::new();
    for (i, scaling) in groups {
        let most = scaling.most();
        let crashable = matches!(
            components[*i].as_ref().map(|c| &c.kind),
            Some(
                ComponentKind::Server(_)
                    | ComponentKind::ModelServer(_)
                    | ComponentKind::LlmServer(_)
            )
        );
        if crashable {
            out.extend((0..most).map(|r| (format!("{}[{r}]", names[*i]), ComponentId(next + r))));
        }
        next += most;
    }
    out
}

/// Turns each component with group keys into a replica group, appending its
/// replicas `NAME[0]`, `NAME[1]`, ... (copies of it) after every component
/// of the file, so that the file's components keep their ids.
fn add_replicas(
    mut components: Vec<ComponentSpec>,
    groups: Vec<(usize, deploy::Scaling)>,
) -> Vec<ComponentSpec> {
    for (i, scaling) in groups {
        let first = components.len() as u32;
        let most = scaling.most();
        // A model's load is part of each new replica's boot (replicas
        // present at time zero have theirs loaded); a replica keeps its
        // `cold_start` to reload after a crash.
        let template = components[i].clone();
        let extra_boot = match &template.kind {
            ComponentKind::ModelServer(m) => m.cold_start.clone(),
            ComponentKind::LlmServer(m) => m.cold_start.clone(),
            _ => None,
        };
        components.extend((0..most).map(|r| ComponentSpec {
            name: format!("{}[{r}]", template.name),
            kind: template.kind.clone(),
        }));
        let members = (first..first + most).map(ComponentId).collect();
        components[i].kind = ComponentKind::ReplicaGroup(scaling.group(members, extra_boot));
    }
    components
}

/// A store's `zones` must name zones of `network.zones`; each unknown one is
/// reported where it is written, with the closest zone suggested.
fn store_zones(
    ctx: &mut Ctx,
    components: &[Option<ComponentSpec>],
    entries: &[(&SNode, &SNode)],
    zones: &[String],
) {
    for (c, (_, body)) in components.iter().zip(entries) {
        let Some(ComponentKind::Store(st)) = c.as_ref().map(|c| &c.kind) else {
            continue;
        };
        let list = body.at_or_near(&["zones"]);
        for (j, z) in st.zones.iter().enumerate() {
            if zones.contains(z) {
                continue;
            }
            let help = match suggest(z, zones.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if zones.is_empty() => {
                    "define the zones and their latencies under `network.zones`".to_owned()
                }
                None => {
                    let names: Vec<&str> = zones.iter().map(String::as_str).collect();
                    format!("the zones are {}", one_of(&names))
                }
            };
            ctx.push(
                list.item(j).unwrap_or(list),
                format!("store zone `{z}` is not a zone of the network"),
                Some(help),
            );
        }
    }
}

fn workloads(ctx: &mut Ctx, root: &SNode, names: &[&str]) -> Option<Vec<WorkloadSpec>> {
    let Some(node) = root.get("workloads") else {
        ctx.push(
            root,
            "missing required key `workloads`",
            Some("add e.g. `workloads: [ { name: users, target: server, arrival: { poisson: 100/s } } ]`".to_owned()),
        );
        return None;
    };
    let items = match &node.node {
        Node::Seq(items) if !items.is_empty() => items,
        Node::Seq(_) | Node::Null => {
            ctx.push(node, "`workloads` must list at least one workload", None);
            return None;
        }
        Node::Map(_) => {
            ctx.push(
                node,
                "`workloads`: expected a list of workloads, found a map",
                Some("start each workload with `- name: ...`".to_owned()),
            );
            return None;
        }
        _ => {
            ctx.push(
                node,
                format!(
                    "`workloads`: expected a list of workloads, found {}",
                    node.describe()
                ),
                None,
            );
            return None;
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if let Some(name) = item.get("name").and_then(SNode::as_str) {
            if seen.contains(&name) {
                ctx.push(
                    item.at_or_near(&["name"]),
                    format!("there are two workloads named `{name}`"),
                    Some("workload names must be unique".to_owned()),
                );
                ok = false;
            }
            seen.push(name);
        }
        match workload(ctx, item, names) {
            Some(w) => out.push(w),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn workload(ctx: &mut Ctx, item: &SNode, names: &[&str]) -> Option<WorkloadSpec> {
    if !matches!(item.node, Node::Map(_)) {
        ctx.push(
            item,
            format!(
                "expected a workload: a map with `name`, `target` and `arrival`, found {}",
                item.describe()
            ),
            None,
        );
        return None;
    }
    let before = ctx.issues.len();
    ctx.unknown_keys(item, WORKLOAD_KEYS);
    let name: Option<String> = ctx.required(item, "name", None);
    let target = ctx
        .required::<String>(
            item,
            "target",
            Some("add the name of the component that receives the requests".to_owned()),
        )
        .and_then(|t| resolve(ctx, names, &t, item.at_or_near(&["target"])));
    let arrival = ctx
        .required::<ArrivalRaw>(
            item,
            "arrival",
            Some("add e.g. `arrival: { poisson: 100/s }`".to_owned()),
        )
        .and_then(|raw| arrival(ctx, &raw, item));
    let keys = match ctx.optional::<KeysRaw>(item, "keys") {
        Ok(raw) => keys(ctx, raw.as_ref(), item),
        Err(()) => None,
    };
    let timeout = match ctx.optional::<Duration>(item, "timeout") {
        Ok(None) => Some(None),
        Ok(Some(t)) => {
            positive_duration(ctx, t, item.at_or_near(&["timeout"]), "timeout").map(Some)
        }
        Err(()) => None,
    };
    let write_share = ops(ctx, item);
    let sessions = sessions(ctx, item);
    let retries = retries(ctx, item);
    if ctx.issues.len() != before {
        return None;
    }
    Some(WorkloadSpec {
        name: name?,
        target: target?,
        arrival: arrival?,
        keys: keys?,
        timeout: timeout?,
        write_share: write_share?,
        sessions: sessions?,
        retries: retries?,
    })
}

fn arrival(ctx: &mut Ctx, raw: &ArrivalRaw, item: &SNode) -> Option<ArrivalSpec> {
    let inner = content(item.at_or_near(&["arrival"]));
    match raw {
        ArrivalRaw::Poisson(rate) => Some(ArrivalSpec::Poisson {
            per_second: rate.per_second(),
        }),
        ArrivalRaw::Constant(rate) => Some(ArrivalSpec::Constant {
            per_second: rate.per_second(),
        }),
        ArrivalRaw::Interarrival(d) => distribution(ctx, d, inner, "interarrival").and_then(|d| {
            if d.mean_ns() > 0.0 {
                Some(ArrivalSpec::Interarrival(d))
            } else {
                ctx.push(
                    inner,
                    "`interarrival`: the mean time between arrivals must be greater than zero",
                    None,
                );
                None
            }
        }),
        ArrivalRaw::Phases(list) => phases(ctx, list, inner).map(ArrivalSpec::Phases),
        ArrivalRaw::Closed(c) => {
            let users = count(ctx, c.users, 1, inner.at_or_near(&["users"]), "users");
            let think_time = match &c.think_time {
                None => Some(Distribution::Constant(SimDuration::ZERO)),
                Some(d) => distribution(ctx, d, inner.at_or_near(&["think_time"]), "think_time"),
            };
            Some(ArrivalSpec::Closed {
                users: users?,
                think_time: think_time?,
            })
        }
    }
}

fn keys(ctx: &mut Ctx, raw: Option<&KeysRaw>, item: &SNode) -> Option<KeySpec> {
    let keys_node = content(item.at_or_near(&["keys"]));
    match raw {
        None => Some(KeySpec::Unique),
        Some(KeysRaw::Uniform(n)) => {
            count_u64(ctx, *n, keys_node, "uniform").map(|n| KeySpec::Uniform { n })
        }
        Some(KeysRaw::Zipf(z)) => {
            let n = count_u64(ctx, z.n, keys_node.at_or_near(&["n"]), "n");
            if !(z.s >= 0.0 && z.s.is_finite()) {
                ctx.push(
                    keys_node.at_or_near(&["s"]),
                    format!("`s` must be zero or more, found {}", z.s),
                    None,
                );
                return None;
            }
            n.map(|n| KeySpec::Zipf { n, s: z.s })
        }
        Some(KeysRaw::Hotspot(h)) => {
            let mut ok = true;
            if h.n < 2 {
                ctx.push(
                    keys_node.at_or_near(&["n"]),
                    format!("`n` must be at least 2, found {}", h.n),
                    None,
                );
                ok = false;
            }
            if !(h.hot_fraction > 0.0 && h.hot_fraction < 1.0) {
                ctx.push(
                    keys_node.at_or_near(&["hot_fraction"]),
                    format!(
                        "`hot_fraction` must be strictly between 0 and 1, found {}",
                        h.hot_fraction
                    ),
                    Some("e.g. `hot_fraction: 0.1` for 10 % hot keys".to_owned()),
                );
                ok = false;
            }
            if !(0.0..=1.0).contains(&h.hot_share) {
                ctx.push(
                    keys_node.at_or_near(&["hot_share"]),
                    format!("`hot_share` must be between 0 and 1, found {}", h.hot_share),
                    None,
                );
                ok = false;
            }
            ok.then_some(KeySpec::Hotspot {
                n: h.n as u64,
                hot_fraction: h.hot_fraction,
                hot_share: h.hot_share,
            })
        }
    }
}

fn count_u64(ctx: &mut Ctx, value: i64, node: &SNode, what: &str) -> Option<u64> {
    if value < 1 {
        ctx.push(
            node,
            format!("`{what}` must be at least 1, found {value}"),
            None,
        );
        return None;
    }
    u64::try_from(value).ok()
}
