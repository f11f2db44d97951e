//! From the tree to a validated [`ModelSpec`].
//!
//! Each top-level key, each workload and each component is read on its own,
//! so one bad entry does not hide the others; then everything that parsed is
//! checked (ranges, references, cycles). Every problem is collected with the
//! origin of the value at fault. Nothing here panics on any input.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{ComponentKind, ComponentSpec, Distribution, HostPoolSpec, ModelSpec};

use crate::de::{DeError, from_node, one_of, suggest};
use crate::node::{Issue, Node, Origin, SNode};
use crate::raw::{DistRaw, ScenarioDoc, schema_keys};
use crate::units::Duration;

pub(crate) mod arrivals;
pub(crate) mod balancer;
mod batch_job;
pub(crate) mod cache;
mod client;
pub(crate) mod cost;
mod deploy;
mod dns;
pub(crate) mod expect;
mod faults;
mod function;
mod graph;
pub(crate) mod ignored;
mod llm_server;
pub(crate) mod model_server;
mod net;
pub(crate) mod queue;
mod review_queue;
pub(crate) mod server;
mod storage;
pub(crate) mod store;
pub(crate) mod stream;
#[cfg(test)]
mod tests;
mod training_job;

/// The registry of component kinds, one line each: the `type:` name, the
/// schema struct that documents its keys (its doc comment is the schema's
/// description of the kind) and the reader that builds it. The loader's
/// [`Kind`], [`COMPONENT_TYPES`], the JSON Schema's `Component` list and the
/// keys each kind accepts ([`Kind::keys`]) are all generated from it.
macro_rules! component_kinds {
    ($($(#[doc = $doc:literal])* $kind:ident = $name:literal, $raw:ty, $read:path;)*) => {
        /// The kinds of component, as named by `type`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Kind {
            $($kind,)*
        }

        /// The `type:` names, in the order of [`Kind`].
        pub(crate) const COMPONENT_TYPES: &[&str] = &[$($name),*];

        impl Kind {
            /// Every kind, in registry order.
            pub(crate) const ALL: &[Kind] = &[$(Kind::$kind),*];

            /// Builds the component `entry` of this kind, or records why not.
            fn read(self, ctx: &mut Ctx, entry: &Entry<'_>) -> Option<ComponentKind> {
                match self {
                    $(Kind::$kind => $read(ctx, entry),)*
                }
            }
        }

        /// A component; `type` says which kind.
        #[derive(JsonSchema)]
        #[serde(tag = "type")]
        #[allow(dead_code)] // Only used to generate the JSON Schema; `type` is read by hand.
        #[schemars(rename = "Component")]
        pub(crate) enum ComponentDoc {
            $($(#[doc = $doc])* #[serde(rename = $name)] $kind($raw),)*
        }
    };
}

component_kinds! {
    /// A FIFO queue with `workers` parallel servers (an M/M/c station when times are exponential).
    Server = "server", server::ServerRaw, server::read;
    /// Routes each request to one of its `backends`.
    LoadBalancer = "load_balancer", balancer::LoadBalancerRaw, balancer::read;
    /// Answers reads from memory; misses and writes go to its `backend`.
    Cache = "cache", cache::CacheRaw, cache::read;
    /// A bounded message buffer: producers are acknowledged on enqueue; `consumers` pull messages.
    Queue = "queue", queue::QueueRaw, queue::read;
    /// A partitioned log with consumer groups (Kafka-like), each reading every partition in order.
    Stream = "stream", stream::StreamRaw, stream::read;
    /// Requests served in batches on `slots` parallel slots (GPUs); see `docs/batching.md`.
    ModelServer = "model_server", model_server::ModelServerRaw, model_server::read;
    /// A replicated key-value store (leader or leaderless quorums).
    Store = "store", store::StoreRaw, store::read;
    /// Data-parallel training in synchronous steps (slowest worker plus all-reduce), with checkpoints and failures; see `docs/course/distributed-training.md`.
    TrainingJob = "training_job", training_job::TrainingJobRaw, training_job::read;
    /// Human reviewers in shifts; a share of what reaches it is kept for review, every request answered at once; see `docs/course/vision-human-review.md`.
    ReviewQueue = "review_queue", review_queue::ReviewQueueRaw, review_queue::read;
    /// Serverless: instances started on demand with a cold start, kept warm for an idle timeout (Lambda-like); see docs/cost.md.
    Function = "function", function::FunctionRaw, function::read;
    /// A DNS name: the first healthy of its `records`, cached by each client for `ttl`; see `docs/course/dns-failover.md`.
    Dns = "dns", dns::DnsRaw, dns::read;
    /// A periodic batch job over all the records sent to it (the batch layer of a lambda architecture); see docs/course/lambda-vs-kappa.md.
    BatchJob = "batch_job", batch_job::BatchJobRaw, batch_job::read;
    /// A storage tier (`tier: block | file | object`, defaults from data/storage/tiers.yaml): an IOPS limit, a first-byte latency, shared or per-stream bandwidth; see docs/course/storage-tiers.md.
    Storage = "storage", storage::StorageRaw, storage::read;
}

impl Kind {
    /// The kind named `name` by a `type:` key.
    fn from_type_name(name: &str) -> Option<Kind> {
        let i = COMPONENT_TYPES.iter().position(|n| *n == name)?;
        Kind::ALL.get(i).copied()
    }

    /// The keys a component of this kind may have (`type` first), read from
    /// its entry in the JSON Schema's `Component` list.
    pub(crate) fn keys(self) -> &'static [&'static str] {
        use std::sync::OnceLock;
        static OWNED: OnceLock<Vec<Vec<String>>> = OnceLock::new();
        static KEYS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            OWNED
                .get_or_init(|| {
                    let schema = schemars::schema_for!(ComponentDoc);
                    let variants = schema.get("oneOf").and_then(serde_json::Value::as_array);
                    variants
                        .into_iter()
                        .flatten()
                        .map(crate::raw::properties)
                        .collect()
                })
                .iter()
                .map(|k| k.iter().map(String::as_str).collect())
                .collect()
        });
        keys.get(self as usize).map_or(&[], Vec::as_slice)
    }
}

/// What a kind's reader is given: the component's index and body, the names
/// of every component (by id), and the host pools of the top-level `hosts`
/// (if they parsed).
pub(crate) struct Entry<'a> {
    /// The component's index in `names`.
    pub(crate) own: usize,
    /// The component's map.
    pub(crate) body: &'a SNode,
    /// Every component's name, by id.
    pub(crate) names: &'a [&'a str],
    /// The host pools, `None` if `hosts` is invalid.
    pub(crate) hosts: Option<&'a [HostPoolSpec]>,
}

/// Collects issues.
pub(crate) struct Ctx {
    pub(crate) issues: Vec<Issue>,
    /// Keys an unknown key was taken to be a typo of, per map: a missing
    /// required key there is not reported a second time.
    typo_for: Vec<(Origin, String)>,
    /// The scenario file's directory: files it names (traces) are relative to it.
    pub(crate) dir: std::path::PathBuf,
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
                    None if deploy::group_keys().contains(&k) => format!(
                        "servers, model servers and caches take `{k}`; a queue or stream scales with its consumers (give the consumer `replicas`), a load balancer needs none"
                    ),
                    // Placement of what is not placed on hosts.
                    None if deploy::PLACEMENT_KEYS.contains(&k) => format!(
                        "only servers' replicas are placed on hosts and take `{k}` (a model server's slots and a cache are not placed)"
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
    if let Some(kind) = type_node.as_str().and_then(Kind::from_type_name) {
        return Some(kind);
    }
    match type_node.as_str() {
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

/// Builds the model from the (already overridden) tree, or records why
/// not; files the scenario names are read relative to `dir`.
pub(crate) fn build(
    root: &SNode,
    dir: &std::path::Path,
    issues: &mut Vec<Issue>,
) -> Option<ModelSpec> {
    let mut ctx = Ctx {
        issues: Vec::new(),
        typo_for: Vec::new(),
        dir: dir.to_path_buf(),
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
    ctx.unknown_keys(root, schema_keys!(ScenarioDoc));

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
        let entry = Entry {
            own: i,
            body: value,
            names: &names,
            hosts: hosts.as_deref(),
        };
        let spec = kind.and_then(|k| k.read(ctx, &entry));
        // Every kind's replicas are read in one place (`deploy.rs`).
        let spec = spec.and_then(|s| deploy::replicate(ctx, value, s, entry.hosts));
        let spec = spec.map(|(kind, scaling)| {
            if let Some(scaling) = scaling {
                groups.push((i, scaling));
            }
            kind
        });
        components.push(spec.map(|kind| ComponentSpec {
            name: name.to_owned(),
            kind,
        }));
    }
    // Every edge a request can follow: calls, cache backends, queue and
    // stream consumers, balancer backends. A cycle is refused; so is a
    // chain deeper than MAX_CALL_DEPTH (responses unwind it recursively).
    let edges = graph::edges(&components);
    let keys: Vec<&SNode> = entries.iter().map(|(k, _)| *k).collect();
    let balancers: Vec<bool> = kinds
        .iter()
        .map(|k| *k == Some(Kind::LoadBalancer))
        .collect();
    if graph::check_cycles(ctx, &edges, &names, &keys, &balancers) {
        graph::check_depth(ctx, &edges, &names, &keys);
    }
    let bodies: Vec<&SNode> = entries.iter().map(|(_, v)| *v).collect();
    balancer::check_llm_backends(ctx, &components, &bodies);
    llm_server::check_disaggregation(ctx, &mut components, &bodies);

    // A scenario of training jobs alone runs on their timers: no workload
    // is needed (everything else needs one to send it requests).
    let workloads = if root.get("workloads").is_none()
        && !kinds.is_empty()
        && kinds.iter().all(|k| *k == Some(Kind::TrainingJob))
    {
        Some(Vec::new())
    } else {
        client::workloads(ctx, root, &names)
    };

    // A training job runs on its own timers and answers nothing.
    let training = |j: usize| kinds.get(j).copied().flatten() == Some(Kind::TrainingJob);
    for (i, w) in workloads.iter().flatten().enumerate() {
        if training(w.target.index()) {
            let node = root
                .get("workloads")
                .and_then(|l| l.item(i))
                .unwrap_or(root);
            ctx.push(
                node.at_or_near(&["target"]),
                format!("workload `{}` targets a training job, which takes no requests", w.name),
                Some("a training job runs on its own; target a server or balancer, or remove the workload".to_owned()),
            );
        }
    }
    for (from, targets) in edges.iter().enumerate() {
        if let Some(&j) = targets.iter().find(|&&j| training(j)) {
            ctx.push(
                keys[from],
                format!(
                    "`{}` sends to training job `{}`, which takes no requests",
                    names[from], names[j]
                ),
                Some(
                    "a training job runs on its own: remove it from this component's targets"
                        .to_owned(),
                ),
            );
        }
    }

    // The network needs every name; faults need the servers.
    let net_names = net::Names {
        components: &names,
        workloads: workloads
            .iter()
            .flatten()
            .map(|w| w.name.as_str())
            .collect(),
        zones: net::zone_names(root),
        replicas: deploy::crashable_replicas(&names, &components, &groups),
    };
    let network = net::network(ctx, root, &net_names);
    store::store_zones(ctx, &components, &entries, &net_names.zones);
    // Which faults reach each component: crashes and slowdowns reach single
    // servers and model servers (not replicated ones), caches and stores (a
    // crash takes the whole store down), crashes queues, streams and training
    // jobs (see `faults::Reach`).
    let reach: Vec<faults::Reach> = kinds
        .iter()
        .zip(&components)
        .enumerate()
        .map(|(i, (k, c))| {
            let spec = c.as_ref().map(|c| &c.kind);
            match k {
                Some(Kind::Server | Kind::ModelServer)
                    if !matches!(spec, Some(ComponentKind::ReplicaGroup(_)))
                        && !groups.iter().any(|(g, _)| *g == i) =>
                {
                    faults::Reach::Both
                }
                Some(Kind::Cache) => faults::Reach::Both,
                Some(Kind::Queue) => faults::Reach::CrashOnly("queue"),
                Some(Kind::Stream) => faults::Reach::CrashOnly("stream"),
                Some(Kind::TrainingJob) => faults::Reach::CrashOnly("training job"),
                Some(Kind::Store) => faults::Reach::Store,
                _ => faults::Reach::Neither,
            }
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
    let faults = faults::faults(
        ctx,
        fault_root.as_ref().unwrap_or(root),
        &net_names,
        &reach,
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
        .map(|c| deploy::add_replicas(c, groups));
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
