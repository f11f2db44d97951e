//! `cost:` on components and host pools, and the top-level `prices:`.
//!
//! ```yaml
//! prices:                      # rows that override the price table by name
//!   - { name: my-vm, kind: vm, unit: hour, price: 0.05, billing: per_hour }
//! components:
//!   api:
//!     type: server
//!     replicas: 4
//!     cost: { instance: m7i.large }          # per replica
//!   gpu:
//!     type: model_server
//!     slots: 2
//!     cost: { per_hour: 2.69, billing: per_second, minimum: 60s }  # per slot
//!   llm-api:
//!     type: server
//!     cost: { per_request: 0.0004 }          # a hosted API priced per call
//! ```
//!
//! Costs are read from the tree before the rest of the loader sees it
//! ([`without_cost`] hands the loader a copy with these keys removed), so
//! no kind's reader knows about money. Prices resolve at load time against
//! the shipped table, then `--prices FILE`, then the scenario's `prices:`
//! (later rows win); the result is a [`CostSpec`] of plain rates.

use sysdes_cost::{Billing, ComponentCost, CostSpec, Increment, PriceRow, PriceTable, Unit};
use sysdes_models::{ComponentKind, ModelSpec};

use super::Ctx;
use crate::de::from_node;
use crate::node::{Issue, Node, SNode};
use crate::units::{Duration, Rate, Size};

/// `cost:` of a component or a host pool.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `instance` (a price-table row) or `per_hour`, and optionally `billing`, `minimum`, `per_request`, `per_gb_second`, `spot`, `egress_per_gb`, `egress`, `per_gb_month`, `storage`"
)]
#[schemars(rename = "Cost")]
pub(crate) struct CostRaw {
    /// A row of the price table (`prices/2026-12.yaml`, `--prices`, `prices:`), e.g. `m7i.large`.
    pub instance: Option<String>,
    /// USD per instance-hour (per replica; per slot for a model server; per replica for a store; per host for a host pool).
    pub per_hour: Option<f64>,
    /// `per_second` (default) or `per_hour` increments of each instance's lifetime.
    pub billing: Option<BillingRaw>,
    /// Each instance is billed at least this long, e.g. `60s`; default the row's, else none.
    pub minimum: Option<Duration>,
    /// USD per request that arrives (a hosted API priced per call); for a `type: function`, per invocation (throttled requests are free).
    pub per_request: Option<f64>,
    /// USD per GB-second of a `type: function`'s billed duration (memory in GiB x seconds), e.g. `0.0000166667` (`lambda.gb_second`).
    pub per_gb_second: Option<f64>,
    /// A spot instance: interrupted at random while it runs (each interruption a crash until its replacement serves), e.g. `{ interruptions: 0.5/h, replace: 2m }`; price it with a spot row such as `runpod.h100-sxm.spot`.
    pub spot: Option<SpotRaw>,
    /// USD per GB (10^9 bytes) this component sends to another zone (requests of its calls, responses it returns, a store's replication), e.g. `0.01`; instead of `egress`.
    pub egress_per_gb: Option<f64>,
    /// A price-table row priced per GB for the bytes this component sends to another zone, e.g. `aws.egress.inter_zone`.
    pub egress: Option<String>,
    /// USD per GB (10^9 bytes) stored for a month of 730 hours, billed on the data the component holds (a `type: storage`'s `size`, a store's `size` x its replicas, a cache's `size` or capacity in bytes) over its life, e.g. `0.023`; instead of `storage`.
    pub per_gb_month: Option<f64>,
    /// A price-table row priced per gb_month for the data the component holds (a `type: storage`, a store or a cache), e.g. `s3.standard`.
    pub storage: Option<String>,
}

/// `spot:` of a `cost:`: how often the instance is taken back.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `interruptions` (a rate per instance, e.g. `0.5/h`) and optionally `replace` (e.g. `2m`) and `notice` (e.g. `2m`, replicas only)"
)]
#[schemars(rename = "Spot")]
pub(crate) struct SpotRaw {
    /// Interruptions per instance per unit of time it runs, e.g. `0.5/h`: each comes at a Poisson time (one random stream per component, `spot`).
    pub interruptions: Rate,
    /// From an interruption to the replacement serving (finding capacity, booting, loading); not billed. Default `2m`. For replicas: to the replacement starting its boot (the boot is billed).
    pub replace: Option<Duration>,
    /// Replicas only: the warning before each interruption, e.g. `2m` (AWS) or `30s` (GCP); from then the replica takes no new requests and finishes those it holds. Default none (`0s`).
    pub notice: Option<Duration>,
}

/// The replacement time of a spot instance when `replace` is not given.
const DEFAULT_REPLACE_NS: u64 = 120_000_000_000;

/// `slo:` of a workload: the latency each request should meet. Goodput is
/// the counted requests that completed successfully within it; the cost
/// object then has `goodput_per_usd`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `latency`, e.g. `{ latency: 100ms }`"
)]
#[schemars(rename = "Slo")]
pub(crate) struct SloRaw {
    /// The per-request threshold: a request that takes longer (end to end) is not goodput.
    pub latency: Duration,
}

/// A billing increment.
#[derive(Clone, Copy, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Billing")]
pub(crate) enum BillingRaw {
    /// Whole seconds.
    PerSecond,
    /// Whole hours.
    PerHour,
}

/// A copy of `root` without `prices` and without `cost` under any component
/// or host pool, for the readers that know nothing of money.
pub(crate) fn without_cost(root: &SNode) -> SNode {
    let mut out = root.clone();
    let Node::Map(top) = &mut out.node else {
        return out;
    };
    top.retain(|(k, _)| k.as_str() != Some("prices"));
    for (k, v) in top.iter_mut() {
        if k.as_str() == Some("workloads") {
            if let Node::Seq(items) = &mut v.node {
                for w in items.iter_mut() {
                    if let Node::Map(keys) = &mut w.node {
                        keys.retain(|(k, _)| k.as_str() != Some("slo"));
                    }
                }
            }
        }
        if matches!(k.as_str(), Some("components" | "hosts")) {
            if let Node::Map(items) = &mut v.node {
                for (_, body) in items.iter_mut() {
                    if let Node::Map(keys) = &mut body.node {
                        keys.retain(|(k, _)| k.as_str() != Some("cost"));
                    }
                }
            }
        }
    }
    out
}

/// Whether the file declares any cost (then [`read`] has work to do).
fn declares_cost(root: &SNode) -> bool {
    let any_in = |key: &str| {
        root.get(key).is_some_and(|n| match &n.node {
            Node::Map(items) => items.iter().any(|(_, b)| b.get("cost").is_some()),
            _ => false,
        })
    };
    root.get("prices").is_some() || any_in("components") || any_in("hosts")
}

/// Reads every `cost:` of `root` (already overridden) for the model `spec`
/// built from it, against the shipped table overridden by `cli` (`--prices`)
/// and the file's `prices:`. Problems go to `issues`.
///
/// Without a model (the rest of the file is invalid) the costs are still
/// checked, so every problem is reported at once.
pub(crate) fn read(
    root: &SNode,
    spec: Option<&ModelSpec>,
    cli: Option<&PriceTable>,
    issues: &mut Vec<Issue>,
) -> CostSpec {
    let mut out = CostSpec::default();
    let mut ctx = Ctx {
        issues: Vec::new(),
        typo_for: Vec::new(),
        dir: std::path::PathBuf::new(),
    };
    out.slo_ns = read_slos(&mut ctx, root);
    if !declares_cost(root) {
        issues.append(&mut ctx.issues);
        return out;
    }
    let mut table = PriceTable::shipped();
    if let Some(cli) = cli {
        table = table.overridden_by(cli);
    }
    read_prices(&mut ctx, root, &mut table);
    let entries = |key: &str| match root.get(key).map(|n| &n.node) {
        Some(Node::Map(items)) => items.as_slice(),
        _ => &[],
    };
    let (components, hosts) = (entries("components"), entries("hosts"));
    out.components = vec![None; spec.map_or(components.len(), |s| s.components.len())];
    out.hosts = vec![None; spec.map_or(hosts.len(), |s| s.hosts.len())];
    for (i, (_, body)) in components.iter().enumerate() {
        let Some(node) = body.get("cost") else {
            continue;
        };
        let units = spec
            .and_then(|s| s.components.get(i).map(|c| units(s, &c.kind)))
            .unwrap_or(1);
        // Read from the file, so it is known even when the model is not.
        let kind = body.get("type").and_then(|t| t.as_str());
        let holds = Holds {
            function: kind == Some("function"),
            data: data_held(kind, body, units),
        };
        let mut cost = component_cost(&mut ctx, node, &table, (units, holds));
        if let (Some(c), Some(spec)) = (&mut cost, spec) {
            if c.spot.is_some() && !spot_allowed(&mut ctx, node, spec, i) {
                c.spot = None;
            }
        }
        if let Some(slot) = out.components.get_mut(i) {
            *slot = cost;
        }
    }
    for (i, (_, body)) in hosts.iter().enumerate() {
        let Some(node) = body.get("cost") else {
            continue;
        };
        let count = spec.and_then(|s| s.hosts.get(i)).map_or(1, |h| h.count);
        let cost = component_cost(&mut ctx, node, &table, (count, Holds::default()));
        if let Some(slot) = out.hosts.get_mut(i) {
            *slot = cost;
        }
    }
    issues.append(&mut ctx.issues);
    out
}

/// Whether component `i` of `spec` can be a spot instance: a single server
/// or model server (what a `crash` fault reaches) that no fault crashes
/// already, or a replica group (a deployment, or a group of components)
/// whose replicas have dedicated CPUs and no `crash` fault. Says why not at
/// `cost.spot` otherwise; a `notice` only on a group.
fn spot_allowed(ctx: &mut Ctx, node: &SNode, spec: &ModelSpec, i: usize) -> bool {
    let at = node.at_or_near(&["spot"]);
    let Some(c) = spec.components.get(i) else {
        return false;
    };
    let id = sysdes_kernel::ComponentId(i as u32);
    let in_group = spec.components.iter().any(|g| match &g.kind {
        ComponentKind::ReplicaGroup(g) => g.members.ids().contains(&id),
        _ => false,
    });
    let single = matches!(
        c.kind,
        ComponentKind::Server(_) | ComponentKind::ModelServer(_) | ComponentKind::LlmServer(_)
    );
    let (group, members): (bool, &[sysdes_kernel::ComponentId]) = match &c.kind {
        ComponentKind::ReplicaGroup(g) => (true, g.members.ids()),
        _ => (false, &[]),
    };
    if (!single && !group) || in_group {
        ctx.push(
            at,
            format!(
                "`spot` interrupts a server, a model server or each replica of a deployment or replica group, and `{}` is not one",
                c.name
            ),
            Some(
                "a store, or one member of a replica group, cannot be spot: put `spot` on the group (each replica is its own spot instance)".to_owned(),
            ),
        );
        return false;
    }
    if let ComponentKind::ReplicaGroup(d) = &c.kind {
        if d.host.is_some() {
            ctx.push(
                at,
                format!(
                    "`{}` runs its replicas on a host pool, whose hosts are the instances",
                    c.name
                ),
                Some("price the pool's hosts under `hosts:`, or give the replicas dedicated CPUs (no `runs_on.host`) to make them spot".to_owned()),
            );
            return false;
        }
    }
    if !group && node.get("spot").and_then(|s| s.get("notice")).is_some() {
        ctx.push(
            node.at_or_near(&["spot", "notice"]),
            format!(
                "`notice` drains a spot replica before its interruption, and `{}` has no replicas",
                c.name
            ),
            Some(
                "give it `replicas: N` (each replica is its own spot instance), or remove `notice`"
                    .to_owned(),
            ),
        );
        return false;
    }
    let crashed = |t: sysdes_kernel::ComponentId| {
        spec.faults
            .iter()
            .any(|f| f.kind == sysdes_models::FaultKind::Crash(t))
    };
    if crashed(id) || members.iter().any(|&m| crashed(m)) {
        ctx.push(
            at,
            format!(
                "`{}` is a spot instance and also has a `crash` fault",
                c.name
            ),
            Some(
                "a spot instance's crashes are its interruptions: remove one or the other"
                    .to_owned(),
            ),
        );
        return false;
    }
    true
}

/// Each workload's `slo: { latency: ... }`, by workload index.
fn read_slos(ctx: &mut Ctx, root: &SNode) -> Vec<Option<u64>> {
    let Some(Node::Seq(items)) = root.get("workloads").map(|n| &n.node) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|w| {
            let node = w.get("slo")?;
            match from_node::<SloRaw>(node) {
                Ok(s) if s.latency.as_nanos() == 0 => {
                    ctx.push(
                        node.at_or_near(&["latency"]),
                        "`slo.latency` must be greater than zero",
                        Some("e.g. `slo: { latency: 100ms }`".to_owned()),
                    );
                    None
                }
                Ok(s) => Some(s.latency.as_nanos()),
                Err(e) => {
                    ctx.de_error(node, e.in_field("slo"));
                    None
                }
            }
        })
        .collect()
}

/// Units billed per instance of a component of `kind`: a model server's
/// slots (one GPU each), a store's replicas, a group's per member; else 1.
fn units(spec: &ModelSpec, kind: &ComponentKind) -> u32 {
    match kind {
        ComponentKind::ModelServer(m) => m.slots,
        ComponentKind::LlmServer(m) => m.slots,
        ComponentKind::Store(s) => s.replicas,
        ComponentKind::ReplicaGroup(g) => g
            .members
            .ids()
            .first()
            .and_then(|m| spec.components.get(m.index()))
            .map_or(1, |c| units(spec, &c.kind)),
        _ => 1,
    }
}

/// The top-level `prices:`: a list of price-table rows.
/// A row name the price table does not have: located, with the nearest rows.
fn no_such_row(ctx: &mut Ctx, table: &PriceTable, at: &SNode, name: &str) {
    let near = table.nearest(name);
    let help = if near.is_empty() {
        "the price table is empty".to_owned()
    } else {
        let quoted: Vec<String> = near.iter().map(|n| format!("`{n}`")).collect();
        format!(
            "the nearest rows of the price table are {}; add your own under `prices:`",
            quoted.join(", ")
        )
    };
    ctx.push(
        at,
        format!("there is no price-table row named `{name}`"),
        Some(help),
    );
}

fn read_prices(ctx: &mut Ctx, root: &SNode, table: &mut PriceTable) {
    let Some(node) = root.get("prices") else {
        return;
    };
    let items = match &node.node {
        Node::Null => return,
        Node::Seq(items) => items,
        _ => {
            ctx.push(
                node,
                format!(
                    "`prices`: expected a list of price rows, found {}",
                    node.describe()
                ),
                Some(
                    "e.g. `prices: [ { name: my-vm, kind: vm, unit: hour, price: 0.05 } ]`"
                        .to_owned(),
                ),
            );
            return;
        }
    };
    for item in items {
        match from_node::<PriceRow>(item) {
            Ok(row) => match sysdes_cost::row_problem(&row) {
                Some(problem) => {
                    let at = if problem.starts_with("`price`") {
                        item.at_or_near(&["price"])
                    } else {
                        item.at_or_near(&["minimum"])
                    };
                    ctx.push(at, format!("price row `{}`: {problem}", row.name), None);
                }
                None => table.insert(row),
            },
            Err(e) => ctx.de_error(item, e),
        }
    }
}

/// What a component's `type:` allows it to be priced on, beyond time and
/// requests.
#[derive(Clone, Copy, Default)]
struct Holds {
    /// A `type: function`: billed GB-seconds.
    function: bool,
    /// The data it holds, for stored GB-months.
    data: Data,
}

/// The data a component holds, as storage per GB-month sees it.
#[derive(Clone, Copy, Default)]
enum Data {
    /// None: a server, a balancer, a queue...
    #[default]
    None,
    /// A `type: storage`: its `stored_gb_mean` figure.
    Figure,
    /// A store or cache of known size: bytes per instance (a store's
    /// replicas each hold a copy).
    Bytes(u64),
    /// A store or cache whose size the file does not give (the kind's name).
    Unknown(&'static str),
    /// A size the kind's reader refuses (it says why): nothing to price.
    Invalid,
}

/// What a component of type `kind` (body `body`, `units` units per
/// instance) holds: a store `size` on each of its replicas, a cache its
/// `size` or else its capacity in bytes.
fn data_held(kind: Option<&str>, body: &SNode, units: u32) -> Data {
    // `Some(None)`: present but not a size in bytes.
    let size = |key: &str| {
        let node = body.get(key)?;
        // An integer capacity counts entries, not bytes.
        if key == "capacity" && from_node::<i64>(node).is_ok() {
            return None;
        }
        Some(from_node::<Size>(node).ok().map(Size::bytes))
    };
    let known = |found: Option<Option<u64>>, kind, per_instance: fn(u64, u32) -> u64| match found {
        None => Data::Unknown(kind),
        Some(None) => Data::Invalid,
        Some(Some(b)) => Data::Bytes(per_instance(b, units)),
    };
    match kind {
        Some("storage") => Data::Figure,
        // Every replica keeps a copy.
        Some("store") => known(size("size"), "store", |b, n| b.saturating_mul(u64::from(n))),
        Some("cache") => known(size("size").or_else(|| size("capacity")), "cache", |b, _| b),
        _ => Data::None,
    }
}

/// One `cost:` map, with `units` units per instance.
fn component_cost(
    ctx: &mut Ctx,
    node: &SNode,
    table: &PriceTable,
    (units, holds): (u32, Holds),
) -> Option<ComponentCost> {
    let function = holds.function;
    let raw = match from_node::<CostRaw>(node) {
        Ok(raw) => raw,
        Err(e) => {
            ctx.de_error(node, e.in_field("cost"));
            return None;
        }
    };
    let before = ctx.issues.len();
    let mut per_hour = 0.0;
    let mut per_request = 0.0;
    let mut per_gb_second = 0.0;
    let mut billing = Billing::default();
    let mut instance = None;
    if let (Some(_), Some(_)) = (&raw.instance, raw.per_hour) {
        ctx.push(
            node.at_or_near(&["per_hour"]),
            "`cost` takes `instance` or `per_hour`, not both",
            Some("`instance` takes its hourly price from the price table".to_owned()),
        );
    }
    if let Some(name) = &raw.instance {
        match table.get(name) {
            None => {
                no_such_row(ctx, table, node.at_or_near(&["instance"]), name);
            }
            Some(row) => match row.unit {
                Unit::Hour => {
                    per_hour = row.price;
                    billing = row.billing_rule().unwrap_or_default();
                    instance = Some(name.clone());
                }
                Unit::Request => {
                    per_request = row.price;
                    instance = Some(name.clone());
                }
                Unit::GbSecond if function => {
                    per_gb_second = row.price;
                    instance = Some(name.clone());
                }
                other => ctx.push(
                    node.at_or_near(&["instance"]),
                    format!(
                        "price row `{name}` is priced per {}; `instance` needs a row priced per hour or per request",
                        other.name()
                    ),
                    (other == Unit::GbSecond).then(|| {
                        "rows priced per GB-second are for `type: function` components".to_owned()
                    }),
                ),
            },
        }
    }
    if let Some(p) = raw.per_hour {
        if nonnegative(ctx, node, "per_hour", p) {
            per_hour = p;
        }
    }
    if let Some(p) = raw.per_request {
        if nonnegative(ctx, node, "per_request", p) {
            per_request += p;
        }
    }
    if let Some(p) = raw.per_gb_second {
        if !function {
            ctx.push(
                node.at_or_near(&["per_gb_second"]),
                "`per_gb_second` prices a serverless function's billed duration; this component is not a `type: function`",
                Some("use `per_hour` or `instance` for a server, or make it `type: function`".to_owned()),
            );
        } else if nonnegative(ctx, node, "per_gb_second", p) {
            per_gb_second += p;
        }
    }
    let mut egress_per_gb = None;
    if let (Some(_), Some(_)) = (&raw.egress, raw.egress_per_gb) {
        ctx.push(
            node.at_or_near(&["egress_per_gb"]),
            "`cost` takes `egress` or `egress_per_gb`, not both",
            Some("`egress` takes its price per GB from the price table".to_owned()),
        );
    }
    if let Some(p) = raw.egress_per_gb {
        if nonnegative(ctx, node, "egress_per_gb", p) {
            egress_per_gb = Some(p);
        }
    }
    if let Some(name) = &raw.egress {
        match table.get(name) {
            Some(row) if row.unit == Unit::Gb => egress_per_gb = Some(row.price),
            Some(row) => ctx.push(
                node.at_or_near(&["egress"]),
                format!(
                    "price row `{name}` is priced per {}; `egress` needs a row priced per gb",
                    row.unit.name()
                ),
                Some("e.g. `egress: aws.egress.inter_zone`".to_owned()),
            ),
            None => {
                no_such_row(ctx, table, node.at_or_near(&["egress"]), name);
            }
        }
    }
    let per_gb_month = storage_price(ctx, node, table, &raw, holds.data);
    let stored_bytes = match holds.data {
        Data::Bytes(b) if per_gb_month.is_some() => Some(b),
        _ => None,
    };
    let spot = raw.spot.as_ref().map(|s| sysdes_cost::Spot {
        per_s: s.interruptions.per_second(),
        replace_ns: s.replace.map_or(DEFAULT_REPLACE_NS, |d| d.as_nanos()),
        notice_ns: s.notice.map_or(0, |d| d.as_nanos()),
    });
    if spot.is_some() && per_hour == 0.0 && raw.per_hour.is_none() && ctx.issues.len() == before {
        ctx.push(
            node.at_or_near(&["spot"]),
            "a `spot` instance needs an hourly price (`instance` or `per_hour`)",
            Some(
                "e.g. `cost: { instance: runpod.h100-sxm.spot, spot: { interruptions: 0.5/h } }`"
                    .to_owned(),
            ),
        );
    }
    if raw.instance.is_none()
        && raw.per_hour.is_none()
        && raw.per_request.is_none()
        && raw.per_gb_second.is_none()
        && raw.egress.is_none()
        && raw.egress_per_gb.is_none()
        && raw.per_gb_month.is_none()
        && raw.storage.is_none()
    {
        ctx.push(
            node,
            "`cost` needs `instance`, `per_hour`, `per_request`, `per_gb_second`, `egress_per_gb` or `per_gb_month`",
            Some("e.g. `cost: { instance: m7i.large }` or `cost: { per_hour: 0.096 }`".to_owned()),
        );
    }
    if let Some(b) = raw.billing {
        billing.increment = match b {
            BillingRaw::PerSecond => Increment::PerSecond,
            BillingRaw::PerHour => Increment::PerHour,
        };
    }
    if let Some(m) = raw.minimum {
        billing.minimum_s = m.as_nanos().div_ceil(1_000_000_000);
    }
    (ctx.issues.len() == before).then_some(ComponentCost {
        per_hour,
        units,
        billing,
        per_request,
        per_gb_second,
        instance,
        spot,
        egress_per_gb,
        per_gb_month,
        stored_bytes,
    })
}

/// `per_gb_month` or `storage` (a row priced per gb_month) of a component
/// that holds `data`; says why not otherwise.
fn storage_price(
    ctx: &mut Ctx,
    node: &SNode,
    table: &PriceTable,
    raw: &CostRaw,
    data: Data,
) -> Option<f64> {
    let key = match (raw.per_gb_month, &raw.storage) {
        (None, None) => return None,
        (Some(_), Some(_)) => {
            ctx.push(
                node.at_or_near(&["per_gb_month"]),
                "`cost` takes `storage` or `per_gb_month`, not both",
                Some("`storage` takes its price per GB-month from the price table".to_owned()),
            );
            return None;
        }
        (Some(_), None) => "per_gb_month",
        (None, Some(_)) => "storage",
    };
    match data {
        Data::None => {
            ctx.push(
                node.at_or_near(&[key]),
                format!("`{key}` prices the data a component holds; this component holds none"),
                Some(
                    "price storage on a `type: storage` (its `size`), a `store` or a `cache` (their `size`), e.g. `cost: { storage: s3.standard }`; use `per_hour` or `instance` here"
                        .to_owned(),
                ),
            );
            return None;
        }
        Data::Unknown(kind) => {
            let help = if kind == "store" {
                "give the store the data it holds, e.g. `size: 200GB` (each replica keeps a copy: billed replicas x size)"
            } else {
                "give the cache the data it holds, e.g. `size: 2GB`, or a capacity in bytes (`capacity: 2GiB` with `value_size`)"
            };
            ctx.push(
                node.at_or_near(&[key]),
                format!("`{key}` prices the data this {kind} holds, and its size is not given"),
                Some(help.to_owned()),
            );
            return None;
        }
        Data::Invalid => return None,
        Data::Figure | Data::Bytes(_) => {}
    }
    if let Some(p) = raw.per_gb_month {
        return nonnegative(ctx, node, "per_gb_month", p).then_some(p);
    }
    let name = raw.storage.as_deref()?;
    match table.get(name) {
        Some(row) if row.unit == Unit::GbMonth => Some(row.price),
        Some(row) => {
            ctx.push(
                node.at_or_near(&["storage"]),
                format!(
                    "price row `{name}` is priced per {}; `storage` needs a row priced per gb_month",
                    row.unit.name()
                ),
                Some("e.g. `storage: s3.standard`".to_owned()),
            );
            None
        }
        None => {
            no_such_row(ctx, table, node.at_or_near(&["storage"]), name);
            None
        }
    }
}

fn nonnegative(ctx: &mut Ctx, node: &SNode, key: &str, value: f64) -> bool {
    let ok = value >= 0.0 && value.is_finite();
    if !ok {
        ctx.push(
            node.at_or_near(&[key]),
            format!("`{key}` must be a price of zero or more (USD), found {value}"),
            None,
        );
    }
    ok
}

/// Adds `cost` to every component of the JSON Schema `schema` (and `Cost`,
/// `Billing` to its `$defs`), and the top-level `prices`.
pub(crate) fn extend_schema(schema: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let cost = schemars::SchemaGenerator::default()
        .into_root_schema_for::<CostRaw>()
        .to_value();
    let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(Value::Object(extra)) = cost.get("$defs") {
        for (k, v) in extra {
            defs.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut own = cost.clone();
    if let Some(o) = own.as_object_mut() {
        for k in ["$defs", "$schema", "title"] {
            o.remove(k);
        }
    }
    defs.insert("Cost".into(), own);
    if let Some(Value::Array(kinds)) = defs.get_mut("Component").and_then(|c| c.get_mut("oneOf")) {
        for kind in kinds {
            if let Some(Value::Object(props)) = kind.get_mut("properties") {
                props.insert(
                    "cost".into(),
                    json!({ "$ref": "#/$defs/Cost", "description": "What it costs: `instance` (a price-table row) or `per_hour`, with `billing`, `minimum`, `per_request`; see docs/cost.md." }),
                );
            }
        }
    }
    let slo = schemars::SchemaGenerator::default()
        .into_root_schema_for::<SloRaw>()
        .to_value();
    if let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        let mut own = slo;
        if let Some(o) = own.as_object_mut() {
            for k in ["$defs", "$schema", "title"] {
                o.remove(k);
            }
        }
        defs.insert("Slo".into(), own);
        if let Some(Value::Object(props)) = defs
            .get_mut("Workload")
            .and_then(|w| w.get_mut("properties"))
        {
            props.insert(
                "slo".into(),
                json!({ "$ref": "#/$defs/Slo", "description": "The latency each request should meet, `{ latency: 100ms }`: requests within it are goodput, reported per dollar as `cost.goodput_per_usd` when the scenario declares a cost; see docs/cost.md." }),
            );
        }
    }
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.insert(
            "prices".into(),
            json!({
                "type": "array",
                "description": "Price-table rows that override prices/2026-12.yaml by name: `name`, `kind`, `unit`, `price`, and optionally `billing`, `minimum`, `source`, `date`, `note`; see docs/cost.md.",
                "items": { "type": "object", "required": ["name", "kind", "unit", "price"] }
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::{LoadOptions, load_str};

    const BASE: &str = "name: c
duration: 10s
workloads:
  - { name: users, target: api, arrival: { poisson: 10/s } }
components:
  api:
    type: server
    service_time: 1ms
";

    fn with(extra: &str) -> String {
        format!("{BASE}{extra}")
    }

    use crate::test_support::located as problems;

    #[test]
    fn the_schema_knows_cost_and_prices() {
        let schema = crate::json_schema();
        assert!(schema["$defs"]["Cost"]["properties"]["instance"].is_object());
        assert!(schema["properties"]["prices"].is_object());
        let kinds = schema["$defs"]["Component"]["oneOf"].as_array().unwrap();
        assert!(kinds.iter().all(|k| k["properties"]["cost"].is_object()));
    }

    #[test]
    fn no_cost_declared_is_an_empty_cost_spec() {
        let s = load_str("c.yaml", BASE, &LoadOptions::default()).unwrap();
        assert!(s.cost.is_empty());
    }

    #[test]
    fn an_instance_takes_its_price_and_billing_from_the_table() {
        let s = load_str(
            "c.yaml",
            &with("    cost: { instance: m7i.large }\n"),
            &LoadOptions::default(),
        )
        .unwrap();
        let c = s.cost.components[0].as_ref().unwrap();
        assert_eq!(c.per_hour, 0.1008);
        assert_eq!(c.billing.minimum_s, 60);
        assert_eq!(c.units, 1);
        assert_eq!(c.instance.as_deref(), Some("m7i.large"));
    }

    #[test]
    fn a_rate_with_its_own_rule_and_a_scenario_price_row() {
        let text = with(
            "    cost: { instance: mine, billing: per_hour, minimum: 2m }\nprices:\n  - { name: mine, kind: vm, unit: hour, price: 0.5 }\n",
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        let c = s.cost.components[0].as_ref().unwrap();
        assert_eq!(c.per_hour, 0.5);
        assert_eq!(c.billing.increment, sysdes_cost::Increment::PerHour);
        assert_eq!(c.billing.minimum_s, 120);
    }

    #[test]
    fn model_servers_pay_per_slot() {
        let text = "name: c
duration: 10s
workloads:
  - { name: users, target: gpu, arrival: { poisson: 10/s } }
components:
  gpu:
    type: model_server
    slots: 4
    batching: { max_batch: 8, max_delay: 5ms }
    batch_time: { affine: { base: 5ms, per_item: 1ms } }
    cost: { per_hour: 2.0 }
";
        let s = load_str("c.yaml", text, &LoadOptions::default()).unwrap();
        assert_eq!(s.cost.components[0].as_ref().unwrap().units, 4);
    }

    #[test]
    fn bad_costs_are_located_with_suggestions() {
        let p = problems(&with("    cost: { instance: m7i.larg }\n"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("9:"), "{p:?}");
        assert!(
            p[0].contains("no price-table row named `m7i.larg`"),
            "{p:?}"
        );
        assert!(p[0].contains("`m7i.large`"), "{p:?}");
        let p = problems(&with("    cost: { per_hour: -0.1 }\n"));
        assert!(
            p[0].contains("`per_hour` must be a price of zero or more"),
            "{p:?}"
        );
        let p = problems(&with("    cost: { instance: m7i.large, per_hour: 1 }\n"));
        assert!(p[0].contains("not both"), "{p:?}");
        let p = problems(&with("    cost: { }\n"));
        assert!(
            p[0].contains(
                "needs `instance`, `per_hour`, `per_request`, `per_gb_second`, `egress_per_gb` or `per_gb_month`"
            ),
            "{p:?}"
        );
        let p = problems(&with("    cost: { instance: lambda.gb_second }\n"));
        assert!(p[0].contains("priced per gb_second"), "{p:?}");
        let p = problems(&with("    cost: { per_hour: 1, colour: red }\n"));
        assert!(p[0].contains("colour"), "{p:?}");
        let p = problems(&with(
            "prices:\n  - { name: x, kind: vm, unit: hour, price: -2 }\n",
        ));
        assert!(
            p[0].contains("price row `x`: `price` must be zero or more"),
            "{p:?}"
        );
        // Cost problems are reported beside the others.
        let p = problems(
            &with("    cost: { per_hour: -1 }\n").replace("service_time: 1ms", "service_tme: 1ms"),
        );
        assert!(p.len() >= 2, "{p:?}");
    }

    const FUNCTION: &str = "name: c
duration: 10s
workloads:
  - { name: users, target: fn, arrival: { poisson: 10/s } }
components:
  fn:
    type: function
    service_time: 10ms
";

    #[test]
    fn a_function_is_priced_per_request_and_per_gb_second() {
        let text = format!(
            "{FUNCTION}    cost: {{ instance: lambda.gb_second, per_request: 0.0000002 }}\n"
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        let c = s.cost.components[0].as_ref().unwrap();
        assert_eq!(c.per_gb_second, 0.0000166667);
        assert_eq!(c.per_request, 0.0000002);
        assert_eq!(c.per_hour, 0.0);
        let text = format!("{FUNCTION}    cost: {{ per_gb_second: 0.00001 }}\n");
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        assert_eq!(
            s.cost.components[0].as_ref().unwrap().per_gb_second,
            0.00001
        );
        // Not on a server, located at the key.
        let p = problems(&with("    cost: { per_gb_second: 0.00001 }\n"));
        assert!(p[0].starts_with("9:28:"), "{p:?}");
        assert!(p[0].contains("not a `type: function`"), "{p:?}");
        let p = problems(&with("    cost: { instance: lambda.gb_second }\n"));
        assert!(
            p[0].contains("are for `type: function` components"),
            "{p:?}"
        );
        let p = problems(&format!("{FUNCTION}    cost: {{ per_gb_second: -1 }}\n"));
        assert!(
            p[0].contains("`per_gb_second` must be a price of zero or more"),
            "{p:?}"
        );
    }

    #[test]
    fn a_workload_slo_is_read_and_checked() {
        let text = with("    cost: { per_hour: 1 }\n").replace(
            "arrival: { poisson: 10/s } }",
            "arrival: { poisson: 10/s }, slo: { latency: 20ms } }",
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        assert_eq!(s.cost.slo_ns, vec![Some(20_000_000)]);
        let p = problems(&text.replace("latency: 20ms", "latency: 0ms"));
        assert!(p[0].starts_with("4:77:"), "{p:?}");
        assert!(
            p[0].contains("`slo.latency` must be greater than zero"),
            "{p:?}"
        );
        let p = problems(&text.replace("latency: 20ms", "p99: 20ms"));
        assert!(p[0].contains("p99"), "{p:?}");
        // Checked without any cost too.
        let p = problems(&BASE.replace(
            "arrival: { poisson: 10/s } }",
            "arrival: { poisson: 10/s }, slo: { latency: fast } }",
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        let schema = crate::json_schema();
        assert!(schema["$defs"]["Workload"]["properties"]["slo"].is_object());
    }

    #[test]
    fn a_spot_instance_adds_its_interruptions_to_the_faults() {
        let text = with(
            "    cost: { instance: runpod.h100-sxm.spot, spot: { interruptions: 0.5/h, replace: 3m } }\n",
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        let c = s.cost.components[0].as_ref().unwrap();
        assert_eq!(c.per_hour, 2.69);
        let spot = c.spot.unwrap();
        assert_eq!(spot.per_s, 0.5 / 3600.0);
        assert_eq!(spot.replace_ns, 180_000_000_000);
        assert_eq!(
            s.spec.faults,
            vec![sysdes_models::FaultSpec {
                at: sysdes_kernel::SimDuration::ZERO,
                duration: sysdes_kernel::SimDuration::from_secs(10),
                kind: sysdes_models::FaultKind::Interruptions {
                    target: sysdes_kernel::ComponentId(0),
                    per_s: 0.5 / 3600.0,
                    replace: sysdes_kernel::SimDuration::from_secs(180),
                    notice: sysdes_kernel::SimDuration::ZERO,
                },
            }]
        );
        // `replace` defaults to 2 minutes.
        let text = with("    cost: { per_hour: 1, spot: { interruptions: 2/h } }\n");
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        assert_eq!(
            s.cost.components[0]
                .as_ref()
                .unwrap()
                .spot
                .unwrap()
                .replace_ns,
            120_000_000_000
        );
        let schema = crate::json_schema();
        assert!(schema["$defs"]["Spot"]["properties"]["interruptions"].is_object());
    }

    /// `spot` on a deployment (a leaf server with `replicas`) and on a
    /// group of component replicas (a model server with `replicas`): one
    /// interruption fault on the group, with its notice.
    #[test]
    fn spot_replicas_put_one_interruption_fault_on_the_group() {
        let text = with(
            "    replicas: 3\n    cost: { per_hour: 0.1, spot: { interruptions: 2/h, replace: 1m, notice: 2m } }\n",
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        assert!(matches!(
            s.spec.components[0].kind,
            sysdes_models::ComponentKind::ReplicaGroup(_)
        ));
        let spot = s.cost.components[0].as_ref().unwrap().spot.unwrap();
        assert_eq!(
            (spot.replace_ns, spot.notice_ns),
            (60_000_000_000, 120_000_000_000)
        );
        assert_eq!(
            s.spec.faults[0].kind,
            sysdes_models::FaultKind::Interruptions {
                target: sysdes_kernel::ComponentId(0),
                per_s: 2.0 / 3600.0,
                replace: sysdes_kernel::SimDuration::from_secs(60),
                notice: sysdes_kernel::SimDuration::from_secs(120),
            }
        );
        let gpu = "name: c
duration: 10s
workloads:
  - { name: users, target: gpu, arrival: { poisson: 10/s } }
components:
  gpu:
    type: model_server
    replicas: 2
    batching: { max_batch: 4, max_delay: 5ms }
    batch_time: { affine: { base: 10ms, per_item: 1ms } }
    cost: { per_hour: 2.69, spot: { interruptions: 1/h, notice: 30s } }
";
        let s = load_str("c.yaml", gpu, &LoadOptions::default()).unwrap();
        assert!(matches!(
            s.spec.components[0].kind,
            sysdes_models::ComponentKind::ReplicaGroup(_)
        ));
        assert!(s.cost.components[0].as_ref().unwrap().spot.is_some());
        // A crash fault on one of its replicas is refused.
        let p = problems(&format!(
            "{gpu}faults:\n  - {{ crash: \"gpu[1]\", at: 1s, for: 1s }}\n"
        ));
        assert!(p[0].starts_with("11:"), "{p:?}");
        assert!(p[0].contains("also has a `crash` fault"), "{p:?}");
        let schema = crate::json_schema();
        assert!(schema["$defs"]["Spot"]["properties"]["notice"].is_object());
    }

    /// A group of model-server replicas, each a spot GPU: an interruption
    /// crashes the replica's component (its batches and queue fail), the
    /// group routes around it, and a replacement boots (runtime boot plus
    /// the model's load) `replace` later. Without a notice the failed
    /// requests are exactly those the interruptions caught inside; with a
    /// 30 s notice (far beyond a batch) none fail, at the same times.
    #[test]
    fn spot_model_server_replicas_crash_and_come_back() {
        use sysdes_models::{NoObserver, RunLimits, Simulation};
        let text = |notice: &str| {
            format!(
                "name: c
seed: 3
duration: 3600s
workloads:
  - {{ name: users, target: gpu, arrival: {{ poisson: 20/s }} }}
components:
  gpu:
    type: model_server
    replicas: 3
    runs_on: {{ kind: vm, boot_time: 30s }}
    batching: {{ max_batch: 4, max_delay: 5ms }}
    batch_time: {{ affine: {{ base: 20ms, per_item: 5ms }} }}
    cost: {{ per_hour: 2.69, spot: {{ interruptions: 3/h, replace: 2m{notice} }} }}
"
            )
        };
        let run = |notice: &str| {
            let s = load_str("c.yaml", &text(notice), &LoadOptions::default()).unwrap();
            let r = Simulation::new(&s.spec)
                .unwrap()
                .run(RunLimits::default(), &mut NoObserver)
                .unwrap();
            let c = sysdes_cost::cost(&s.spec, &s.cost, &r);
            (r, c)
        };
        let (r, c) = run("");
        let gpu = &r.components[0];
        let scaling = gpu.scaling.unwrap();
        let n = scaling.interruptions.unwrap();
        let windows: Vec<(f64, f64)> = r
            .faults
            .iter()
            .filter(|f| f.kind == "crash" && f.target.starts_with("gpu["))
            .map(|f| (f.start_s, f.end_s))
            .collect();
        let at: Vec<f64> = windows.iter().map(|w| w.0).collect();
        assert_eq!(n, at.len() as u64);
        // Each replica position renews every exponential life (mean 20 min,
        // boot included) plus 2 min: 3 x 60 / 22 = 8.2 interruptions, sd
        // sqrt(3 x 60 x 20^2 / 22^3) = 2.6; within 4 sd.
        let (mean, sd) = (
            3.0 * 60.0 / 22.0,
            (3.0 * 60.0 * 400.0 / 22f64.powi(3)).sqrt(),
        );
        assert!((n as f64 - mean).abs() <= 4.0 * sd, "{n}");
        assert_eq!(c.component("gpu").unwrap().interruptions, Some(n));
        let lost = scaling.lost_in_interruptions.unwrap();
        assert!(lost > 0, "{lost}");
        assert_eq!(r.requests.failed, lost);
        // Billed: every replica life, boot included, the gaps not.
        let lives = &r.lifetimes.by_component[0];
        let billed_s: u64 = lives
            .iter()
            .map(|l| l.len_ns().div_ceil(1_000_000_000))
            .sum();
        assert!(
            (c.component("gpu").unwrap().total_usd - billed_s as f64 * 2.69 / 3600.0).abs() < 1e-9
        );
        // A life per replica at zero and per replacement started (none is
        // due after the duration).
        let replaced = windows
            .iter()
            .filter(|w| (w.1 - w.0 - 120.0).abs() < 1e-6)
            .count();
        assert_eq!(lives.len(), 3 + replaced);
        eprintln!("{n} interruptions, {lost} requests failed without notice");
        let (r2, _) = run(", notice: 30s");
        let s2 = r2.components[0].scaling.unwrap();
        let at2: Vec<f64> = r2
            .faults
            .iter()
            .filter(|f| f.target.starts_with("gpu["))
            .map(|f| f.start_s)
            .collect();
        assert_eq!(at2, at, "the notice changes no draw");
        assert_eq!(s2.lost_in_interruptions, Some(0));
        assert_eq!(r2.requests.failed, 0);
    }

    #[test]
    fn bad_spot_instances_are_located_with_suggestions() {
        // No rate.
        let p = problems(&with("    cost: { per_hour: 1, spot: { replace: 2m } }\n"));
        assert!(p[0].starts_with("9:"), "{p:?}");
        assert!(p[0].contains("interruptions"), "{p:?}");
        // A rate of zero, or not a rate.
        let p = problems(&with(
            "    cost: { per_hour: 1, spot: { interruptions: 0/h } }\n",
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        let p = problems(&with(
            "    cost: { per_hour: 1, spot: { interruptions: often } }\n",
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        // Unknown keys name the accepted ones.
        let p = problems(&with(
            "    cost: { per_hour: 1, spot: { interruptions: 1/h, warning: 2m } }\n",
        ));
        assert!(p[0].contains("warning") && p[0].contains("notice"), "{p:?}");
        // A notice drains a replica: a single server has none.
        let p = problems(&with(
            "    cost: { per_hour: 1, spot: { interruptions: 1/h, notice: 2m } }\n",
        ));
        assert!(p[0].starts_with("9:62:"), "{p:?}");
        assert!(p[0].contains("has no replicas"), "{p:?}");
        // No hourly price.
        let p = problems(&with(
            "    cost: { per_request: 0.01, spot: { interruptions: 1/h } }\n",
        ));
        assert!(p[0].starts_with("9:38:"), "{p:?}");
        assert!(p[0].contains("needs an hourly price"), "{p:?}");
        // A deployment on a host pool: the hosts are the instances.
        let p = problems(&with(
            "    replicas: 3\n    host: pool\n    cost: { per_hour: 1, spot: { interruptions: 1/h } }\nhosts:\n  pool: { count: 2, cores: 4, memory: 8GiB }\n",
        ));
        assert!(p[0].starts_with("11:"), "{p:?}");
        assert!(p[0].contains("host pool"), "{p:?}");
        // Crashed by a fault as well.
        let p = problems(&with(
            "    cost: { per_hour: 1, spot: { interruptions: 1/h } }\nfaults:\n  - { crash: api, at: 1s, for: 1s }\n",
        ));
        assert!(p[0].contains("also has a `crash` fault"), "{p:?}");
    }

    #[test]
    fn egress_is_priced_per_gb_from_a_rate_or_a_row() {
        let price = |extra: &str| {
            let s = load_str("c.yaml", &with(extra), &LoadOptions::default()).unwrap();
            s.cost.components[0].as_ref().unwrap().egress_per_gb
        };
        assert_eq!(price("    cost: { egress_per_gb: 0.05 }\n"), Some(0.05));
        assert_eq!(
            price("    cost: { per_hour: 1, egress: aws.egress.inter_zone }\n"),
            Some(0.01)
        );
        assert_eq!(price("    cost: { per_hour: 1 }\n"), None);
        let p = problems(&with("    cost: { egress: aws.egress.inter_zon }\n"));
        assert!(p[0].starts_with("9:21:"), "{p:?}");
        assert!(p[0].contains("`aws.egress.inter_zone`"), "{p:?}");
        let p = problems(&with("    cost: { egress: m7i.large }\n"));
        assert!(p[0].contains("`egress` needs a row priced per gb"), "{p:?}");
        let p = problems(&with("    cost: { egress_per_gb: -1 }\n"));
        assert!(
            p[0].contains("`egress_per_gb` must be a price of zero or more"),
            "{p:?}"
        );
        let p = problems(&with(
            "    cost: { egress_per_gb: 1, egress: aws.egress.inter_zone }\n",
        ));
        assert!(p[0].contains("not both"), "{p:?}");
    }

    const S3: &str = "  s3:\n    type: storage\n    tier: object\n    size: 100GiB\n";

    #[test]
    fn storage_is_priced_per_gb_month_from_a_rate_or_a_row() {
        let price = |cost: &str| {
            let s = load_str(
                "c.yaml",
                &with(&format!("{S3}{cost}")),
                &LoadOptions::default(),
            )
            .unwrap();
            s.cost.components[1].as_ref().unwrap().per_gb_month
        };
        assert_eq!(price("    cost: { per_gb_month: 0.025 }\n"), Some(0.025));
        assert_eq!(price("    cost: { storage: s3.standard }\n"), Some(0.023));
        assert_eq!(price("    cost: { storage: ebs.gp3 }\n"), Some(0.08));
        assert_eq!(price("    cost: { storage: efs.standard }\n"), Some(0.30));
        assert_eq!(price("    cost: { per_hour: 1 }\n"), None);
    }

    #[test]
    fn a_stored_hour_costs_gb_over_730_times_the_price() {
        use sysdes_models::{NoObserver, RunLimits, Simulation};
        let text = format!(
            "{}{S3}    cost: {{ storage: s3.standard }}\n",
            BASE.replace("10s", "3600s")
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        let mut r = Simulation::new(&s.spec)
            .unwrap()
            .run(RunLimits::default(), &mut NoObserver)
            .unwrap();
        // The run ends with its last request, a little after the hour: pin it.
        r.lifetimes.end_ns = 3_600_000_000_000;
        let c = sysdes_cost::cost(&s.spec, &s.cost, &r);
        let s3 = c.component("s3").unwrap();
        // 100 GiB = 107.3741824 GB, 1 h of a 730 h month, 0.023 USD/GB-month.
        let want = 107.374_182_4 / 730.0 * 0.023;
        assert!(
            (s3.storage_usd.unwrap() - want).abs() <= want * 1e-12,
            "{s3:?}"
        );
        assert!(
            (s3.stored_gb.unwrap() - 107.374_182_4).abs() < 1e-9,
            "{s3:?}"
        );
        assert_eq!(c.storage_usd, s3.storage_usd);
    }

    #[test]
    fn bad_storage_prices_are_located_with_suggestions() {
        // On a component that holds no data.
        let p = problems(&with("    cost: { per_gb_month: 0.023 }\n"));
        assert!(p[0].starts_with("9:27:"), "{p:?}");
        assert!(p[0].contains("holds none"), "{p:?}");
        assert!(p[0].contains("`type: storage`"), "{p:?}");
        let p = problems(&with("    cost: { storage: s3.standard }\n"));
        assert!(p[0].contains("`storage` prices the data"), "{p:?}");
        let bad = |cost: &str| problems(&with(&format!("{S3}{cost}")));
        let p = bad("    cost: { storage: s3.standar }\n");
        assert!(p[0].starts_with("13:22:"), "{p:?}");
        assert!(p[0].contains("`s3.standard`"), "{p:?}");
        let p = bad("    cost: { storage: m7i.large }\n");
        assert!(p[0].contains("needs a row priced per gb_month"), "{p:?}");
        let p = bad("    cost: { per_gb_month: -1 }\n");
        assert!(
            p[0].contains("`per_gb_month` must be a price of zero or more"),
            "{p:?}"
        );
        let p = bad("    cost: { per_gb_month: 1, storage: s3.standard }\n");
        assert!(p[0].contains("not both"), "{p:?}");
    }

    /// A store of 3 replicas of 200 GB and a cache of 2 GiB, priced per GB-month.
    const HOLDERS: &str = "  kv:
    type: store
    replicas: 3
    size: 200GB
    cost: { per_gb_month: 0.023 }
  hot:
    type: cache
    capacity: 2GiB
    value_size: 4KiB
    backend: api
    cost: { per_gb_month: 0.08 }
";

    #[test]
    fn a_store_pays_every_replicas_copy_and_a_cache_its_bytes() {
        use sysdes_models::{NoObserver, RunLimits, Simulation};
        let text = format!("{}{HOLDERS}", BASE.replace("10s", "3600s"));
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        let held = |i: usize| s.cost.components[i].as_ref().unwrap().stored_bytes;
        assert_eq!(held(1), Some(600_000_000_000), "3 replicas x 200 GB");
        assert_eq!(held(2), Some(2 << 30), "the capacity in bytes");
        let mut r = Simulation::new(&s.spec)
            .unwrap()
            .run(RunLimits::default(), &mut NoObserver)
            .unwrap();
        // The run ends with its last request, a little after the hour: pin it.
        r.lifetimes.end_ns = 3_600_000_000_000;
        let c = sysdes_cost::cost(&s.spec, &s.cost, &r);
        let exact = |name: &str, gb: f64, price: f64| {
            let item = c.component(name).unwrap();
            let want = gb * 1.0 / 730.0 * price;
            let got = item.storage_usd.unwrap();
            assert!(
                (got - want).abs() <= want * 1e-12,
                "{name}: {got} vs {want}"
            );
            assert!((item.total_usd - want).abs() <= want * 1e-12, "{item:?}");
            assert!(
                (item.stored_gb.unwrap() - gb).abs() <= gb * 1e-12,
                "{item:?}"
            );
            want
        };
        // 600 GB x 1 h / 730 x 0.023 = 0.018904 USD.
        let kv = exact("kv", 600.0, 0.023);
        assert!((kv - 0.018_904_109_6).abs() < 1e-9, "{kv}");
        // 2 GiB = 2.147483648 GB x 1 h / 730 x 0.08.
        let hot = exact("hot", 2.147_483_648, 0.08);
        assert_eq!(c.storage_usd, Some(kv + hot));
        // A cache's own `size` wins over its capacity; a store's size
        // follows its replicas.
        let text = with(
            &HOLDERS
                .replace("replicas: 3", "replicas: 5")
                .replace("backend: api", "backend: api\n    size: 1GB"),
        );
        let s = load_str("c.yaml", &text, &LoadOptions::default()).unwrap();
        let held = |i: usize| s.cost.components[i].as_ref().unwrap().stored_bytes;
        assert_eq!(
            (held(1), held(2)),
            (Some(1_000_000_000_000), Some(1_000_000_000))
        );
    }

    #[test]
    fn a_store_or_cache_priced_per_gb_month_needs_its_size() {
        let p = problems(&with(&HOLDERS.replace("    size: 200GB\n", "")));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("12:27:"), "{p:?}");
        assert!(
            p[0].contains("the data this store holds, and its size is not given"),
            "{p:?}"
        );
        assert!(p[0].contains("`size: 200GB`"), "{p:?}");
        let p = problems(&with(
            &HOLDERS.replace("capacity: 2GiB\n    value_size: 4KiB", "capacity: 1000"),
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("18:27:"), "{p:?}");
        assert!(p[0].contains("this cache holds"), "{p:?}");
        assert!(p[0].contains("capacity in bytes"), "{p:?}");
        // A bad size is the store's own error, once.
        let p = problems(&with(&HOLDERS.replace("200GB", "lots")));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("size"), "{p:?}");
    }

    #[test]
    fn prices_from_the_command_line_override_the_table() {
        let cli = sysdes_cost::PriceTable::parse(
            "rows:\n  - { name: m7i.large, kind: vm, unit: hour, price: 0.05 }\n",
        )
        .unwrap();
        let options = LoadOptions {
            prices: Some(cli),
            ..LoadOptions::default()
        };
        let s = load_str(
            "c.yaml",
            &with("    cost: { instance: m7i.large }\n"),
            &options,
        )
        .unwrap();
        assert_eq!(s.cost.components[0].as_ref().unwrap().per_hour, 0.05);
    }
}
