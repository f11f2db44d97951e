//! Replica keys, read for every kind in one place ([`replicate`]):
//! `replicas`, `balance`, `runs_on` and `autoscaler`, plus host placement
//! (`cpu`, `memory`, `host`, and the top-level `hosts` block) for a server,
//! with or without `calls`.
//!
//! Both forms are one [`ComponentKind::ReplicaGroup`] spec, whose
//! [`ReplicaMembers`] say which. A leaf server with any of these keys
//! becomes a group of [`ReplicaMembers::Stations`] (replicas kept inside
//! the group, on hosts optionally); without them it stays a plain server.
//! A server with `calls`, a model server or a cache with `replicas`,
//! `balance`, `runs_on` or `autoscaler` becomes a group of
//! [`ReplicaMembers::Components`] whose replicas, `NAME[i]`, are added
//! after the components of the file ([`add_replicas`]).

use schemars::JsonSchema;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    AutoscalerSpec, ComponentKind, ComponentSpec, Distribution, GroupSpec, HostPoolSpec, LbPolicy,
    Placement, ReplicaMembers, RunsOn, RuntimeKind, ScaleMetric, ServerSpec,
};

use super::{Ctx, count, distribution, positive_duration};
use crate::de::{one_of, suggest};
use crate::node::{Node, SNode};
use crate::raw::{
    AutoscalerRaw, BalanceRaw, HostPoolRaw, MetricRaw, PlacementRaw, RunsOnRaw, RuntimeRaw,
    ScalingRaw, schema_keys,
};
use crate::units::{Duration, Size};

/// The deployment keys of a server (flattened into its schema): a leaf
/// server with any of them is a deployment.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
pub(crate) struct DeploymentRaw {
    /// Identical replicas behind an implicit balancer (a deployment); default 1.
    #[schemars(range(min = 1))]
    pub replicas: Option<i64>,
    /// How the implicit balancer picks a ready replica; default `round_robin`.
    pub balance: Option<BalanceRaw>,
    /// What each replica runs on, and how long a new one boots.
    pub runs_on: Option<Box<RunsOnRaw>>,
    /// Cores each replica requests (placement bookkeeping; CPU may be overcommitted); default 1.
    pub cpu: Option<f64>,
    /// Memory each replica needs on its host (a hard limit); default 0B.
    pub memory: Option<Size>,
    /// The host pool (under the top-level `hosts`) replicas are placed on; they then share its cores.
    pub host: Option<String>,
    /// Kubernetes HPA-style horizontal autoscaling.
    pub autoscaler: Option<Box<AutoscalerRaw>>,
}

/// Reads the top-level `hosts` block: pools in file order.
pub(super) fn hosts(ctx: &mut Ctx, root: &SNode) -> Option<Vec<HostPoolSpec>> {
    let Some(node) = root.get("hosts") else {
        return Some(Vec::new());
    };
    let entries = match &node.node {
        Node::Null => return Some(Vec::new()),
        Node::Map(entries) => entries,
        _ => {
            ctx.push(
                node,
                format!(
                    "`hosts`: expected a map from pool names to pools, found {}",
                    node.describe()
                ),
                Some("e.g. `hosts: { pool-a: { count: 4, cores: 16, memory: 64GiB } }`".to_owned()),
            );
            return None;
        }
    };
    let before = ctx.issues.len();
    let mut pools = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let name = key.as_str().unwrap_or("").to_owned();
        if !matches!(value.node, Node::Map(_)) {
            ctx.push(
                value,
                format!("host pool `{name}` must be a map with `cores` and `memory`"),
                Some("e.g. `{ count: 4, cores: 16, memory: 64GiB }`".to_owned()),
            );
            continue;
        }
        ctx.unknown_keys(value, schema_keys!(HostPoolRaw));
        let Ok(raw) =
            crate::de::from_node::<HostPoolRaw>(value).map_err(|e| ctx.de_error(value, e))
        else {
            continue;
        };
        let count = count(
            ctx,
            raw.count.unwrap_or(1),
            1,
            value.at_or_near(&["count"]),
            "count",
        );
        let cores = count_key(ctx, raw.cores, value.at_or_near(&["cores"]), "cores");
        if raw.memory.bytes() == 0 {
            ctx.push(
                value.at_or_near(&["memory"]),
                "`memory` of a host must be greater than zero",
                None,
            );
        }
        let placement = match raw.placement.unwrap_or(PlacementRaw::Spread) {
            PlacementRaw::Spread => Placement::Spread,
            PlacementRaw::FirstFit => Placement::FirstFit,
        };
        if let (Some(count), Some(cores)) = (count, cores) {
            pools.push(HostPoolSpec {
                name,
                count,
                cores,
                memory: raw.memory.bytes(),
                placement,
            });
        }
    }
    (ctx.issues.len() == before).then_some(pools)
}

fn count_key(ctx: &mut Ctx, value: i64, node: &SNode, what: &str) -> Option<u32> {
    count(ctx, value, 1, node, what)
}

/// Whether `body` (a server) has any deployment key.
fn is_deployment(body: &SNode) -> bool {
    schema_keys!(DeploymentRaw)
        .iter()
        .any(|k| body.get(k).is_some())
}

/// Reads the replica keys of component `spec` (whose body is `body`):
/// the component, a leaf server wrapped into a deployment, and for a
/// replica group the [`Scaling`] its replicas are added with; `None` when
/// the keys are wrong. `pools` are the host pools read from the top-level
/// `hosts` (if they parsed).
pub(super) fn replicate(
    ctx: &mut Ctx,
    body: &SNode,
    spec: ComponentKind,
    pools: Option<&[HostPoolSpec]>,
) -> Option<(ComponentKind, Option<Scaling>)> {
    let spec = match spec {
        ComponentKind::Server(server) if server.calls.is_empty() => {
            return server_or_deployment(ctx, body, server, pools).map(|k| (k, None));
        }
        other => other,
    };
    // Replicas of anything but a leaf server form a group; a server's (with
    // calls) may be placed on hosts.
    let (busy, placed) = match &spec {
        ComponentKind::Server(_) => (true, true),
        ComponentKind::ModelServer(_) | ComponentKind::LlmServer(_) => (true, false),
        ComponentKind::Cache(_) => (false, false),
        _ => return Some((spec, None)),
    };
    let scaling = group_scaling(ctx, body, busy, placed.then_some(pools))?;
    Some((spec, scaling))
}

/// The keys that place a server's replicas on hosts.
pub(super) const PLACEMENT_KEYS: [&str; 3] = ["cpu", "memory", "host"];

/// Reads `cpu`, `memory` and `host` (a pool of `pools`, when they parsed):
/// where each replica runs. `None` when a key is wrong (said).
fn placement(
    ctx: &mut Ctx,
    body: &SNode,
    pools: Option<&[HostPoolSpec]>,
) -> Option<(f64, u64, Option<usize>)> {
    let before = ctx.issues.len();
    let cpu = match ctx.optional::<f64>(body, "cpu") {
        Ok(Some(c)) if !(c.is_finite() && c > 0.0) => {
            ctx.push(
                body.at_or_near(&["cpu"]),
                format!("`cpu` must be a positive number of cores, found {c}"),
                None,
            );
            None
        }
        Ok(c) => Some(c.unwrap_or(1.0)),
        Err(()) => None,
    };
    let memory = ctx
        .optional::<Size>(body, "memory")
        .ok()
        .map(|m| m.map_or(0, Size::bytes));
    let host = match ctx.optional::<String>(body, "host") {
        Ok(None) => Some(None),
        Ok(Some(name)) => {
            let node = body.at_or_near(&["host"]);
            match pools {
                None => None,
                Some(pools) => match pools.iter().position(|p| p.name == name) {
                    Some(i) => {
                        if let Some(m) = memory {
                            if m > pools[i].memory {
                                ctx.push(
                                    body.at_or_near(&["memory"]),
                                    format!(
                                        "a replica needs more memory ({}) than a host of pool `{name}` has ({})",
                                        fmt_bytes(m),
                                        fmt_bytes(pools[i].memory)
                                    ),
                                    None,
                                );
                            }
                        }
                        Some(Some(i))
                    }
                    None => {
                        let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
                        let help = match suggest(&name, names.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if names.is_empty() => {
                                "define it under the top-level `hosts`, e.g. `hosts: { pool-a: { count: 4, cores: 16, memory: 64GiB } }`".to_owned()
                            }
                            None => format!("the host pools are {}", one_of(&names)),
                        };
                        ctx.push(
                            node,
                            format!("there is no host pool named `{name}`"),
                            Some(help),
                        );
                        None
                    }
                },
            }
        }
        Err(()) => None,
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some((cpu?, memory?, host?))
}

/// Wraps a leaf server into a deployment when it has deployment keys.
fn server_or_deployment(
    ctx: &mut Ctx,
    body: &SNode,
    server: ServerSpec,
    pools: Option<&[HostPoolSpec]>,
) -> Option<ComponentKind> {
    if !is_deployment(body) {
        return Some(ComponentKind::Server(server));
    }
    let before = ctx.issues.len();
    let scaling = scaling(ctx, body);
    let place = placement(ctx, body, pools);
    if ctx.issues.len() != before {
        return None;
    }
    let (scaling, (cpu, memory, host)) = (scaling?, place?);
    Some(ComponentKind::ReplicaGroup(GroupSpec {
        members: ReplicaMembers::Stations(server),
        replicas: scaling.replicas,
        balance: scaling.balance,
        runs_on: scaling.runs_on,
        extra_boot: None,
        autoscaler: scaling.autoscaler,
        cpu,
        memory,
        host,
    }))
}

/// The keys that replicate any component (a server with calls, a model
/// server, a cache) into a replica group.
pub(super) fn group_keys() -> &'static [&'static str] {
    schema_keys!(ScalingRaw)
}

/// How many replicas, balanced how, booting on what, scaled by what, and
/// placed where.
pub(super) struct Scaling {
    replicas: u32,
    balance: LbPolicy,
    runs_on: RunsOn,
    autoscaler: Option<AutoscalerSpec>,
    /// Cores and memory each replica requests, and its host pool.
    placement: (f64, u64, Option<usize>),
}

impl Scaling {
    /// Replicas that can ever run: the autoscaler's `max`, else `replicas`.
    pub(super) fn most(&self) -> u32 {
        self.autoscaler.as_ref().map_or(self.replicas, |a| a.max)
    }

    /// The group of `members` (component ids of the replicas), each booting
    /// `extra_boot` longer than its runtime (e.g. a model's load).
    pub(super) fn group(
        self,
        members: Vec<ComponentId>,
        extra_boot: Option<Distribution>,
    ) -> GroupSpec {
        GroupSpec {
            members: ReplicaMembers::Components(members),
            replicas: self.replicas,
            balance: self.balance,
            runs_on: self.runs_on,
            extra_boot,
            autoscaler: self.autoscaler,
            cpu: self.placement.0,
            memory: self.placement.1,
            host: self.placement.2,
        }
    }
}

/// Reads the group keys of a component that is not a leaf server, if it has
/// any: `Some(None)` without them, `None` when they are wrong. `busy` says
/// whether the kind has workers or slots whose utilization can be measured
/// (a cache has none); `placed`, for a server, the host pools its replicas
/// may be placed on (the placement keys then make a group too).
fn group_scaling(
    ctx: &mut Ctx,
    body: &SNode,
    busy: bool,
    placed: Option<Option<&[HostPoolSpec]>>,
) -> Option<Option<Scaling>> {
    let has = |keys: &[&str]| keys.iter().any(|k| body.get(k).is_some());
    let placing = placed.is_some() && has(&PLACEMENT_KEYS);
    if !(has(group_keys()) || placing) {
        return Some(None);
    }
    let before = ctx.issues.len();
    let mut scaling = scaling(ctx, body);
    if let Some(pools) = placed {
        let place = placement(ctx, body, pools);
        if let (Some(s), Some(place)) = (&mut scaling, place) {
            s.placement = place;
        }
    }
    let on_utilization = scaling
        .as_ref()
        .and_then(|s| s.autoscaler.as_ref())
        .is_some_and(|a| a.metric == ScaleMetric::Utilization);
    if !busy && on_utilization {
        ctx.push(
            body.at_or_near(&["autoscaler", "metric"]),
            "a cache's replicas have no utilization to scale on (`metric` defaults to `utilization`)",
            Some("add `metric: queue_length` (requests inside a replica), e.g. `autoscaler: { metric: queue_length, target: 2, max: 10 }`".to_owned()),
        );
    }
    (ctx.issues.len() == before)
        .then_some(scaling)
        .flatten()
        .map(Some)
}

/// Reads `replicas`, `balance`, `runs_on` and `autoscaler`.
fn scaling(ctx: &mut Ctx, body: &SNode) -> Option<Scaling> {
    let replicas = match ctx.optional::<i64>(body, "replicas") {
        Ok(Some(n)) => count(ctx, n, 1, body.at_or_near(&["replicas"]), "replicas"),
        Ok(None) => Some(1),
        Err(()) => None,
    };
    let balance = match ctx.optional::<BalanceRaw>(body, "balance") {
        Ok(b) => Some(match b.unwrap_or(BalanceRaw::RoundRobin) {
            BalanceRaw::RoundRobin => LbPolicy::RoundRobin,
            BalanceRaw::Random => LbPolicy::Random,
            BalanceRaw::LeastOutstanding => LbPolicy::LeastOutstanding,
            BalanceRaw::PowerOfTwo => LbPolicy::PowerOfTwo,
        }),
        Err(()) => None,
    };
    let runs_on = runs_on(ctx, body);
    let autoscaler = match ctx.optional::<AutoscalerRaw>(body, "autoscaler") {
        Ok(None) => Some(None),
        Ok(Some(raw)) => autoscaler(ctx, body.at_or_near(&["autoscaler"]), &raw).map(Some),
        Err(()) => None,
    };
    if let (Some(Some(a)), Some(n)) = (&autoscaler, replicas) {
        if n < a.min || n > a.max {
            ctx.push(
                body.at_or_near(&["replicas"]),
                format!(
                    "`replicas` ({n}) must lie between the autoscaler's `min` ({}) and `max` ({})",
                    a.min, a.max
                ),
                None,
            );
            return None;
        }
    }
    Some(Scaling {
        replicas: replicas?,
        balance: balance?,
        runs_on: runs_on?,
        autoscaler: autoscaler?,
        placement: (1.0, 0, None),
    })
}

fn runs_on(ctx: &mut Ctx, body: &SNode) -> Option<RunsOn> {
    if let Some(node) = body.get("runs_on") {
        if matches!(node.node, Node::Map(_)) {
            ctx.unknown_keys(node, schema_keys!(RunsOnRaw));
        }
    }
    match ctx.optional::<RunsOnRaw>(body, "runs_on") {
        Ok(None) => Some(RunsOn {
            kind: RuntimeKind::Container,
            boot_time: RuntimeKind::Container.default_boot_time(),
        }),
        Ok(Some(raw)) => {
            let kind = match raw.kind {
                RuntimeRaw::Vm => RuntimeKind::Vm,
                RuntimeRaw::Container => RuntimeKind::Container,
            };
            let boot_time = match &raw.boot_time {
                None => kind.default_boot_time(),
                Some(d) => distribution(
                    ctx,
                    d,
                    body.at_or_near(&["runs_on", "boot_time"]),
                    "boot_time",
                )?,
            };
            Some(RunsOn { kind, boot_time })
        }
        Err(()) => None,
    }
}

fn autoscaler(ctx: &mut Ctx, node: &SNode, raw: &AutoscalerRaw) -> Option<AutoscalerSpec> {
    ctx.unknown_keys(node, schema_keys!(AutoscalerRaw));
    let before = ctx.issues.len();
    let metric = match raw.metric.unwrap_or(MetricRaw::Utilization) {
        MetricRaw::Utilization => ScaleMetric::Utilization,
        MetricRaw::QueueLength => ScaleMetric::QueueLength,
    };
    if !(raw.target.is_finite() && raw.target > 0.0) {
        ctx.push(
            node.at_or_near(&["target"]),
            format!("`target` must be positive, found {}", raw.target),
            None,
        );
    }
    if metric == ScaleMetric::Utilization && raw.target > 1.0 {
        ctx.push(
            node.at_or_near(&["target"]),
            format!(
                "a utilization `target` is a fraction of the workers (0 to 1), found {}",
                raw.target
            ),
            Some("e.g. `target: 0.6` for 60 %".to_owned()),
        );
    }
    let tolerance = raw.tolerance.unwrap_or(0.1);
    if !(tolerance.is_finite() && (0.0..1.0).contains(&tolerance)) {
        ctx.push(
            node.at_or_near(&["tolerance"]),
            format!("`tolerance` must be in [0, 1), found {tolerance}"),
            None,
        );
    }
    let interval = match raw.interval {
        None => Some(SimDuration::from_secs(15)),
        Some(d) => positive_duration(ctx, d, node.at_or_near(&["interval"]), "interval"),
    };
    let min = count(
        ctx,
        raw.min.unwrap_or(1),
        1,
        node.at_or_near(&["min"]),
        "min",
    );
    let max = count(ctx, raw.max, 1, node.at_or_near(&["max"]), "max");
    if let (Some(min), Some(max)) = (min, max) {
        if max < min {
            ctx.push(
                node.at_or_near(&["max"]),
                format!("`max` ({max}) must be at least `min` ({min})"),
                None,
            );
        }
    }
    let stabilization = raw
        .scale_down_stabilization
        .map_or(SimDuration::from_secs(300), Duration::to_sim);
    // Each evaluation scans the recommendations of the stabilization
    // window: bound their number (docs/limits.md).
    if let Some(i) = interval {
        let kept = stabilization.as_nanos() / i.as_nanos().max(1);
        if kept > MAX_AUTOSCALER_HISTORY {
            ctx.push(
                node.at_or_near(&["interval"]),
                format!(
                    "`interval` ({}) is too short for a `scale_down_stabilization` of {}: each evaluation would scan {kept} past recommendations, more than the limit of {MAX_AUTOSCALER_HISTORY}",
                    Duration::from_nanos(i.as_nanos()),
                    Duration::from_nanos(stabilization.as_nanos())
                ),
                Some("use an interval of at least a second or two, as Kubernetes does (15s by default)".to_owned()),
            );
        }
    }
    if ctx.issues.len() != before {
        return None;
    }
    Some(AutoscalerSpec {
        metric,
        target: raw.target,
        interval: interval?,
        min: min?,
        max: max?,
        scale_down_stabilization: stabilization,
        tolerance,
    })
}

/// The most past recommendations an autoscaler may keep (stabilization
/// window / interval).
pub const MAX_AUTOSCALER_HISTORY: u64 = 10_000;

/// `17179869184` -> `16GiB`, for messages.
fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value}{}", UNITS[unit])
    } else {
        format!("{value:.2}{}", UNITS[unit])
    }
}

/// The replicas `NAME[i]` of groups of servers and model servers, with the
/// ids [`add_replicas`] gives them: what `crash` and `slowdown` may name.
pub(super) fn crashable_replicas(
    names: &[&str],
    components: &[Option<ComponentSpec>],
    groups: &[(usize, Scaling)],
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
pub(super) fn add_replicas(
    mut components: Vec<ComponentSpec>,
    groups: Vec<(usize, Scaling)>,
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
