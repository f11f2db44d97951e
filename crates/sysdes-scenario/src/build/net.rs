//! Reading the network (`network:` zones and links, `zone:` and payload
//! sizes on components and workloads); the fault timeline that names the
//! same endpoints is read in `faults.rs`.
//!
//! Names in links and faults may be components, workloads or zones (looked
//! up in that order). Every problem is recorded with its position and, for
//! an unknown name, a did-you-mean suggestion.

use sysdes_kernel::ComponentId;
use sysdes_models::{Distribution, LinkSpec, NetTarget, NetworkSpec, PayloadSizes, ZoneId};

use super::{Ctx, distribution, positive_duration};
use crate::de::{one_of, suggest};
use crate::node::{Node, SNode};
use crate::raw::{DistRaw, LinkRaw, NetworkRaw};
use crate::units::Size;

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
    pub(super) fn target(&self, ctx: &mut Ctx, name: &str, node: &SNode) -> Option<NetTarget> {
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

    pub(super) fn zone(&self, ctx: &mut Ctx, name: &str, node: &SNode) -> Option<ZoneId> {
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
            spec.retransmit = positive_duration(ctx, r, at(&["retransmit"]), "retransmit")?;
        }
        if let Some(u) = raw.unreachable_after {
            spec.unreachable_after =
                positive_duration(ctx, u, at(&["unreachable_after"]), "unreachable_after")?;
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
        Some(r) => positive_duration(ctx, r, node.at_or_near(&["retransmit"]), "retransmit"),
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
