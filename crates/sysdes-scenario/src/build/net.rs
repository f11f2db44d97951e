//! Reading the network (`network:` zones and links, `zone:` and payload
//! sizes on components and workloads) and the fault timeline (`faults:`).
//!
//! Names in links and faults may be components, workloads or zones (looked
//! up in that order). Every problem is recorded with its position and, for
//! an unknown name, a did-you-mean suggestion.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    Distribution, FaultKind, FaultSpec, LinkSpec, NetTarget, NetworkSpec, PayloadSizes, ZoneId,
};

use super::{Ctx, content, distribution};
use crate::de::{one_of, suggest};
use crate::node::{Node, SNode};
use crate::raw::{DistRaw, LatencyFaultDoc, LinkRaw, LossFaultDoc, NetworkRaw};
use crate::units::{Duration, Size};

const FAULT_KINDS: &[&str] = &["crash", "slowdown", "partition", "latency", "loss"];

/// The names links and faults can refer to.
pub(super) struct Names<'a> {
    /// Component names, by id.
    pub components: &'a [&'a str],
    /// Workload names, by index (empty if the workloads did not parse).
    pub workloads: Vec<&'a str>,
    /// Zone names; zone id `i + 1` is `zones[i]`.
    pub zones: Vec<String>,
    /// Replicas of groups that `crash` and `slowdown` may name (`NAME[i]`
    /// of servers and model servers), with their component ids.
    pub replicas: Vec<(String, ComponentId)>,
}

impl Names<'_> {
    /// Resolves a component, workload or zone name, or records why not.
    fn target(&self, ctx: &mut Ctx, name: &str, node: &SNode) -> Option<NetTarget> {
        if let Some(i) = self.components.iter().position(|n| *n == name) {
            return Some(NetTarget::Component(ComponentId(i as u32)));
        }
        if let Some(i) = self.workloads.iter().position(|n| *n == name) {
            return Some(NetTarget::Workload(i as u32));
        }
        if let Some(i) = self.zones.iter().position(|n| n == name) {
            return Some(NetTarget::Zone(i as ZoneId + 1));
        }
        let all = self
            .components
            .iter()
            .copied()
            .chain(self.workloads.iter().copied())
            .chain(self.zones.iter().map(String::as_str));
        let help = suggest(name, all).map(|s| format!("did you mean `{s}`?"));
        ctx.push(
            node,
            format!("there is no component, workload or zone named `{name}`"),
            help,
        );
        None
    }

    fn zone(&self, ctx: &mut Ctx, name: &str, node: &SNode) -> Option<ZoneId> {
        if let Some(i) = self.zones.iter().position(|n| n == name) {
            return Some(i as ZoneId + 1);
        }
        let help = match suggest(name, self.zones.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if self.zones.is_empty() => {
                "declare zones under `network: { zones: { NAME: {} } }`".to_owned()
            }
            None => {
                let zones: Vec<&str> = self.zones.iter().map(String::as_str).collect();
                format!("the zones are {}", one_of(&zones))
            }
        };
        ctx.push(node, format!("there is no zone named `{name}`"), Some(help));
        None
    }
}

/// The zone names declared under `network.zones`, in file order.
pub(super) fn zone_names(root: &SNode) -> Vec<String> {
    match root
        .get("network")
        .and_then(|n| n.get("zones"))
        .map(|z| &z.node)
    {
        Some(Node::Map(entries)) => entries
            .iter()
            .map(|(k, _)| k.as_str().unwrap_or("").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads `network:` plus the `zone` and payload sizes of every component and
/// workload.
pub(super) fn network(ctx: &mut Ctx, root: &SNode, names: &Names) -> Option<NetworkSpec> {
    let before = ctx.issues.len();
    let raw: Option<NetworkRaw> = ctx.optional(root, "network").ok()?;
    let mut spec = NetworkSpec::default();
    let net = root.get("network");
    let at = |path: &[&str]| -> &SNode {
        let mut full = vec!["network"];
        full.extend_from_slice(path);
        root.at_or_near(&full)
    };
    if let Some(raw) = &raw {
        if let Some(d) = &raw.latency {
            spec.latency = distribution(ctx, d, at(&["latency"]), "latency")?;
        }
        if let Some(r) = raw.retransmit {
            spec.retransmit = positive(ctx, r, at(&["retransmit"]), "retransmit")?;
        }
        if let Some(u) = raw.unreachable_after {
            spec.unreachable_after =
                positive(ctx, u, at(&["unreachable_after"]), "unreachable_after")?;
        }
    }
    spec.zones = names.zones.clone();
    if let Some(zones) = net.and_then(|n| n.get("zones")) {
        zone_matrix(ctx, zones, names, &mut spec);
    }
    if let (Some(raw_links), Some(links_node)) = (
        raw.as_ref().and_then(|r| r.links.as_ref()),
        net.and_then(|n| n.get("links")),
    ) {
        for (i, l) in raw_links.iter().enumerate() {
            let node = links_node.item(i).unwrap_or(links_node);
            if let Some(link) = link(ctx, l, node, names) {
                spec.links.push(link);
            }
        }
    }
    // `zone` and sizes of components (file order = id order) and workloads.
    if let Some(Node::Map(entries)) = root.get("components").map(|c| &c.node) {
        for (_, body) in entries {
            let (zone, sizes) = placement(ctx, body, names);
            spec.component_zones.push(zone);
            spec.component_sizes.push(sizes);
        }
    }
    if let Some(Node::Seq(items)) = root.get("workloads").map(|w| &w.node) {
        for item in items {
            let (zone, sizes) = placement(ctx, item, names);
            spec.workload_zones.push(zone);
            spec.workload_sizes.push(sizes);
        }
    }
    (ctx.issues.len() == before).then_some(spec)
}

fn positive(ctx: &mut Ctx, d: Duration, node: &SNode, what: &str) -> Option<SimDuration> {
    if d.as_nanos() == 0 {
        ctx.push(node, format!("`{what}` must be greater than zero"), None);
        return None;
    }
    Some(d.to_sim())
}

/// Reads the symmetric latency matrix; every pair of distinct zones needs a
/// latency, given once (or twice with the same value).
fn zone_matrix(ctx: &mut Ctx, zones: &SNode, names: &Names, spec: &mut NetworkSpec) {
    let Node::Map(entries) = &zones.node else {
        ctx.push(
            zones,
            format!(
                "`zones`: expected a map from zone names to their latencies, found {}",
                zones.describe()
            ),
            Some("e.g. `zones: { us: { eu: 40ms }, eu: {} }`".to_owned()),
        );
        return;
    };
    let n = names.zones.len();
    let mut given: Vec<Option<Distribution>> = vec![None; n * n];
    for (a, (key, body)) in entries.iter().enumerate() {
        let name = key.as_str().unwrap_or("");
        if name.is_empty() || names.zones[..a].iter().any(|z| z == name) {
            ctx.push(key, format!("zone `{name}` is declared twice"), None);
            continue;
        }
        let pairs = match &body.node {
            Node::Null => continue,
            Node::Map(pairs) => pairs,
            _ => {
                ctx.push(
                    body,
                    format!(
                        "zone `{name}`: expected a map from other zones to a latency, found {}",
                        body.describe()
                    ),
                    Some("e.g. `{ eu: 40ms }`, or `{}` for none".to_owned()),
                );
                continue;
            }
        };
        for (other_key, value) in pairs {
            let other = other_key.as_str().unwrap_or("");
            let Some(b) = names.zone(ctx, other, other_key) else {
                continue;
            };
            let b = usize::from(b) - 1;
            if b == a {
                ctx.push(
                    other_key,
                    format!(
                        "zone `{name}` lists itself; the delay inside a zone is `network.latency`"
                    ),
                    None,
                );
                continue;
            }
            let raw = match crate::de::from_node::<DistRaw>(value) {
                Ok(raw) => raw,
                Err(e) => {
                    ctx.de_error(value, e);
                    continue;
                }
            };
            let Some(d) = distribution(ctx, &raw, value, "latency") else {
                continue;
            };
            match &given[b * n + a] {
                Some(previous) if *previous != d => {
                    ctx.push(
                        value,
                        format!(
                            "the latency between `{name}` and `{other}` is given twice, differently"
                        ),
                        Some("the matrix is symmetric: give each pair once".to_owned()),
                    );
                }
                _ => {
                    given[a * n + b] = Some(d.clone());
                    given[b * n + a] = Some(d);
                }
            }
        }
    }
    for a in 0..n {
        for b in a + 1..n {
            match &given[a * n + b] {
                Some(d) => spec
                    .zone_latency
                    .push((a as ZoneId + 1, b as ZoneId + 1, d.clone())),
                None => {
                    let (za, zb) = (&names.zones[a], &names.zones[b]);
                    let node = entries.get(a).map_or(zones, |(k, _)| k);
                    ctx.push(
                        node,
                        format!("no latency between zones `{za}` and `{zb}`"),
                        Some(format!(
                            "add `{zb}: 50ms` (or the right figure) under `{za}`"
                        )),
                    );
                }
            }
        }
    }
}

fn link(ctx: &mut Ctx, l: &LinkRaw, node: &SNode, names: &Names) -> Option<LinkSpec> {
    let before = ctx.issues.len();
    let from = names.target(ctx, &l.from, node.at_or_near(&["from"]));
    let to = names.target(ctx, &l.to, node.at_or_near(&["to"]));
    let latency = match &l.latency {
        Some(d) => distribution(ctx, d, node.at_or_near(&["latency"]), "latency"),
        None => None,
    };
    let loss = l.loss.unwrap_or(0.0);
    if !(0.0..1.0).contains(&loss) {
        ctx.push(
            node.at_or_near(&["loss"]),
            format!("`loss` must be at least 0 and below 1, found {loss}"),
            Some("it is the probability that one transmission is lost".to_owned()),
        );
    }
    let retransmit = match l.retransmit {
        Some(r) => positive(ctx, r, node.at_or_near(&["retransmit"]), "retransmit"),
        None => None,
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some(LinkSpec {
        from: from?,
        to: to?,
        latency,
        loss,
        retransmit,
        bandwidth: l.bandwidth.map(|b| b.bytes_per_second()),
    })
}

/// The `zone` and payload sizes of one component or workload.
fn placement(ctx: &mut Ctx, body: &SNode, names: &Names) -> (ZoneId, PayloadSizes) {
    let zone = match ctx.optional::<String>(body, "zone") {
        Ok(Some(z)) => names.zone(ctx, &z, body.at_or_near(&["zone"])).unwrap_or(0),
        _ => 0,
    };
    let size = |ctx: &mut Ctx, key: &str| {
        ctx.optional::<Size>(body, key)
            .ok()
            .flatten()
            .map(Size::bytes)
    };
    let sizes = PayloadSizes {
        request: size(ctx, "request_size"),
        response: size(ctx, "response_size"),
    };
    (zone, sizes)
}

/// Reads `faults:`. `servers[i]` says whether component `i` is a server
/// (the kinds that can crash or slow down).
pub(super) fn faults(
    ctx: &mut Ctx,
    root: &SNode,
    names: &Names,
    servers: &[bool],
    duration: Option<SimDuration>,
) -> Option<Vec<FaultSpec>> {
    let Some(node) = root.get("faults") else {
        return Some(Vec::new());
    };
    let items = match &node.node {
        Node::Null => return Some(Vec::new()),
        Node::Seq(items) => items,
        _ => {
            ctx.push(
                node,
                format!(
                    "`faults`: expected a list of faults, found {}",
                    node.describe()
                ),
                Some("e.g. `faults: [ { crash: db, at: 30s, for: 10s } ]`".to_owned()),
            );
            return None;
        }
    };
    let before = ctx.issues.len();
    let mut out: Vec<FaultSpec> = Vec::with_capacity(items.len());
    let mut nodes: Vec<&SNode> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(f) = fault(ctx, item, names, servers, duration) {
            // Two crashes (or two slowdowns) of one component must not overlap.
            let clash = out.iter().zip(&nodes).find(|(g, _)| {
                let same = match (&f.kind, &g.kind) {
                    (FaultKind::Crash(a), FaultKind::Crash(b)) => a == b,
                    (
                        FaultKind::Slowdown { target: a, .. },
                        FaultKind::Slowdown { target: b, .. },
                    ) => a == b,
                    _ => false,
                };
                same && f.at < g.at + g.duration && g.at < f.at + f.duration
            });
            if let Some((g, _)) = clash {
                ctx.push(
                    item,
                    format!(
                        "this {} overlaps another {} of the same component (from {} for {})",
                        f.kind.name(),
                        g.kind.name(),
                        Duration::from_nanos(g.at.as_nanos()),
                        Duration::from_nanos(g.duration.as_nanos())
                    ),
                    Some("merge them into one window".to_owned()),
                );
                continue;
            }
            out.push(f);
            nodes.push(item);
        }
    }
    (ctx.issues.len() == before).then_some(out)
}

fn fault(
    ctx: &mut Ctx,
    item: &SNode,
    names: &Names,
    servers: &[bool],
    duration: Option<SimDuration>,
) -> Option<FaultSpec> {
    let Node::Map(entries) = &item.node else {
        ctx.push(
            item,
            format!(
                "expected a fault such as `{{ crash: db, at: 30s, for: 10s }}`, found {}",
                item.describe()
            ),
            None,
        );
        return None;
    };
    let kinds: Vec<&str> = entries
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .filter(|k| FAULT_KINDS.contains(k))
        .collect();
    let kind = match kinds.as_slice() {
        [one] => *one,
        [] => {
            ctx.unknown_keys(
                item,
                &[
                    "crash",
                    "slowdown",
                    "factor",
                    "partition",
                    "latency",
                    "loss",
                    "at",
                    "for",
                ],
            );
            ctx.push(
                item,
                format!("a fault needs one of {}", one_of(FAULT_KINDS)),
                Some("e.g. `{ crash: db, at: 30s, for: 10s }`".to_owned()),
            );
            return None;
        }
        _ => {
            ctx.push(
                item,
                format!("a fault has exactly one kind, found {}", one_of(&kinds)),
                Some("write one fault per list item".to_owned()),
            );
            return None;
        }
    };
    let allowed: &[&str] = if kind == "slowdown" {
        &["slowdown", "factor", "at", "for"]
    } else {
        &[kind, "at", "for"]
    };
    let before = ctx.issues.len();
    ctx.unknown_keys(item, allowed);
    let at = ctx
        .required::<Duration>(item, "at", Some("add e.g. `at: 30s`".to_owned()))
        .map(Duration::to_sim);
    let length = match ctx.optional::<Duration>(item, "for") {
        Ok(Some(d)) => positive(ctx, d, item.at_or_near(&["for"]), "for"),
        Ok(None) => match (at, duration) {
            (Some(a), Some(d)) if a < d => {
                Some(SimDuration::from_nanos(d.as_nanos() - a.as_nanos()))
            }
            _ => Some(SimDuration::ZERO),
        },
        Err(()) => None,
    };
    if let (Some(a), Some(l), Some(d)) = (at, length, duration) {
        if a >= d {
            ctx.push(
                item.at_or_near(&["at"]),
                format!(
                    "the fault starts at {}, not before the end of the run ({})",
                    Duration::from_nanos(a.as_nanos()),
                    Duration::from_nanos(d.as_nanos())
                ),
                None,
            );
        } else if a.as_nanos() + l.as_nanos() > d.as_nanos() {
            ctx.push(
                item.at_or_near(&["for"]),
                format!(
                    "the fault ends at {}, after the end of the run ({})",
                    Duration::from_nanos(a.as_nanos() + l.as_nanos()),
                    Duration::from_nanos(d.as_nanos())
                ),
                Some("shorten `for`, or leave it out to last to the end".to_owned()),
            );
        }
    }
    let value = item.at_or_near(&[kind]);
    let server = |ctx: &mut Ctx, what: &str| -> Option<ComponentId> {
        let name: String = ctx.required(item, kind, None)?;
        if let Some((_, id)) = names.replicas.iter().find(|(n, _)| *n == name) {
            return Some(*id);
        }
        match names.target(ctx, &name, value)? {
            NetTarget::Component(c) if servers.get(c.index()).copied().unwrap_or(false) => Some(c),
            _ => {
                ctx.push(
                    value,
                    format!("`{kind}` needs a single server, and `{name}` is not one"),
                    Some(format!(
                        "only servers and model servers without `replicas` can {what} for now (a store's replica crashes as `STORE.rI`)"
                    )),
                );
                None
            }
        }
    };
    let kind = match kind {
        "crash" => server(ctx, "crash").map(FaultKind::Crash),
        "slowdown" => {
            let target = server(ctx, "slow down");
            let factor =
                ctx.required::<f64>(item, "factor", Some("add e.g. `factor: 10`".to_owned()));
            if let Some(f) = factor {
                if !(f > 0.0 && f.is_finite()) {
                    ctx.push(
                        item.at_or_near(&["factor"]),
                        format!("`factor` must be greater than zero, found {f}"),
                        None,
                    );
                }
            }
            match (target, factor) {
                (Some(target), Some(factor)) => Some(FaultKind::Slowdown { target, factor }),
                _ => None,
            }
        }
        "latency" => {
            let raw: Option<LatencyFaultDoc> = ctx.required(item, "latency", None);
            raw.and_then(|r| {
                let from = names.target(ctx, &r.from, value.at_or_near(&["from"]));
                let to = names.target(ctx, &r.to, value.at_or_near(&["to"]));
                let add = distribution(ctx, &r.add, value.at_or_near(&["add"]), "add");
                Some(FaultKind::Latency {
                    from: from?,
                    to: to?,
                    add: add?,
                })
            })
        }
        "loss" => {
            let raw: Option<LossFaultDoc> = ctx.required(item, "loss", None);
            raw.and_then(|r| {
                let from = names.target(ctx, &r.from, value.at_or_near(&["from"]));
                let to = names.target(ctx, &r.to, value.at_or_near(&["to"]));
                if !(0.0..1.0).contains(&r.rate) {
                    ctx.push(
                        value.at_or_near(&["rate"]),
                        format!("`rate` must be at least 0 and below 1, found {}", r.rate),
                        None,
                    );
                    return None;
                }
                Some(FaultKind::Loss {
                    from: from?,
                    to: to?,
                    rate: r.rate,
                })
            })
        }
        _ => partition(ctx, value, names),
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some(FaultSpec {
        at: at?,
        duration: length?,
        kind: kind?,
    })
}

fn partition(ctx: &mut Ctx, value: &SNode, names: &Names) -> Option<FaultKind> {
    let content = content(value);
    let groups_raw: Vec<Vec<String>> = match crate::de::from_node(value) {
        Ok(g) => g,
        Err(e) => {
            ctx.de_error(content, e);
            return None;
        }
    };
    if groups_raw.len() < 2 {
        ctx.push(
            value,
            "a partition needs at least two groups",
            Some("e.g. `partition: [[us], [eu, ap]]`".to_owned()),
        );
        return None;
    }
    let mut groups = Vec::with_capacity(groups_raw.len());
    let mut seen: Vec<&str> = Vec::new();
    for (g, members) in groups_raw.iter().enumerate() {
        let group_node = value.item(g).unwrap_or(value);
        let mut group = Vec::with_capacity(members.len());
        for (i, name) in members.iter().enumerate() {
            let node = group_node.item(i).unwrap_or(group_node);
            if seen.contains(&name.as_str()) {
                ctx.push(
                    node,
                    format!("`{name}` is in two groups of the partition"),
                    None,
                );
                continue;
            }
            seen.push(name);
            if let Some(t) = names.target(ctx, name, node) {
                group.push(t);
            }
        }
        if members.is_empty() {
            ctx.push(group_node, "a partition group cannot be empty", None);
        }
        groups.push(group);
    }
    Some(FaultKind::Partition(groups))
}
