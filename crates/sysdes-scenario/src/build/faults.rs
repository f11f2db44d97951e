//! Reading the fault timeline (`faults:`): crashes and slowdowns of
//! stations (servers, model servers, caches, queues, streams, whole stores;
//! see [`Reach`] for which fault hits which kind), partitions, latency and
//! loss between components, workloads or zones (resolved through the
//! network's [`Names`]). A store replica's crash (`STORE.rI`) is read in
//! `store.rs`.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{FaultKind, FaultSpec, NetTarget};

use super::net::Names;
use super::{Ctx, content, distribution, positive_duration};
use crate::de::one_of;
use crate::node::{Node, SNode};
use crate::raw::{LatencyFaultDoc, LossFaultDoc};
use crate::units::Duration;

const FAULT_KINDS: &[&str] = &["crash", "slowdown", "partition", "latency", "loss"];

/// Which of `crash` and `slowdown` can hit a component, by its kind (the
/// engine gives every one of these the same shared fault state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Neither: a balancer, a replicated server (its replicas can), a kind
    /// with no fault state.
    Neither,
    /// Both: a single server or model server, a cache (a crash empties it
    /// and sends every read to its backend; a slowdown stretches hit times).
    Both,
    /// A crash only: a broker with no service time of its own to stretch
    /// (`queue`, `stream`: the kind's name), or a training job (`training
    /// job`: a crash is a failure held down until the fault ends; its
    /// steps take their `compute_time`, which no slowdown stretches).
    CrashOnly(&'static str),
    /// Both, on a store: a crash takes every replica down (a whole-store
    /// outage, [`FaultKind::CrashStore`]; one replica crashes as
    /// `STORE.rI`), a slowdown stretches every replica's read and write
    /// times.
    Store,
}

/// Reads `faults:`. `reach[i]` says which faults component `i` can take.
pub(super) fn faults(
    ctx: &mut Ctx,
    root: &SNode,
    names: &Names,
    reach: &[Reach],
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
        if let Some(f) = fault(ctx, item, names, reach, duration) {
            // Two crashes (or two slowdowns) of one component must not overlap.
            let clash = out.iter().zip(&nodes).find(|(g, _)| {
                let same = match (&f.kind, &g.kind) {
                    (FaultKind::Crash(a), FaultKind::Crash(b))
                    | (FaultKind::CrashStore(a), FaultKind::CrashStore(b)) => a == b,
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
    reach: &[Reach],
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
        Ok(Some(d)) => positive_duration(ctx, d, item.at_or_near(&["for"]), "for"),
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
        let NetTarget::Component(c) = names.target(ctx, &name, value)? else {
            ctx.push(
                value,
                format!("`{kind}` needs a component, and `{name}` is a workload or zone"),
                Some("name a server, model server, cache, queue, stream or store".to_owned()),
            );
            return None;
        };
        let crash = kind == "crash";
        match (
            reach.get(c.index()).copied().unwrap_or(Reach::Neither),
            crash,
        ) {
            (Reach::Both | Reach::Store, _) | (Reach::CrashOnly(_), true) => Some(c),
            (Reach::CrashOnly("training job"), false) => {
                ctx.push(
                    value,
                    format!(
                        "`slowdown` does not apply to `{name}`: a training job's steps take their `compute_time`"
                    ),
                    Some(format!(
                        "give it a slower `compute_time`, or `crash: {name}` to fail the job"
                    )),
                );
                None
            }
            (Reach::CrashOnly(type_name), false) => {
                ctx.push(
                    value,
                    format!(
                        "`slowdown` does not apply to `{name}`: a {type_name} has no service time of its own to stretch"
                    ),
                    Some(format!(
                        "slow down its consumer instead, or `crash: {name}` to take the broker down"
                    )),
                );
                None
            }
            (Reach::Neither, _) => {
                // A replicated component: its replicas are hit one by one.
                let first = names.replicas.iter().find(|(n, _)| {
                    n.strip_prefix(name.as_str())
                        .is_some_and(|r| r.starts_with('['))
                });
                let help = match first {
                    Some((replica, _)) => format!(
                        "`{name}` has replicas: {what} one of them, e.g. `{kind}: \"{replica}\"`"
                    ),
                    None => format!(
                        "only servers and model servers without `replicas`, caches and stores can {what}, and queues, streams and training jobs crash (a store's replica crashes as `STORE.rI`)"
                    ),
                };
                ctx.push(
                    value,
                    format!("`{kind}` needs a single server, and `{name}` is not one"),
                    Some(help),
                );
                None
            }
        }
    };
    let kind = match kind {
        "crash" => server(ctx, "crash").map(|c| match reach.get(c.index()) {
            // A whole store: every replica, as one `STORE.rI` crash each.
            Some(Reach::Store) => FaultKind::CrashStore(c),
            _ => FaultKind::Crash(c),
        }),
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
