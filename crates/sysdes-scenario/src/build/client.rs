//! Reading `workloads:`, the clients: arrivals (phased, closed), keys,
//! timeouts, operation mix, sessions and retries.

use sysdes_kernel::SimDuration;
use sysdes_models::{
    ArrivalSpec, Distribution, Jitter, KeySpec, PhaseSpec, RetrySpec, WorkloadSpec,
};

use super::{Ctx, content, count, distribution, positive_duration, resolve};
use crate::node::{Node, SNode};
use crate::raw::{
    ArrivalRaw, JitterRaw, KeysRaw, OpsRaw, PhaseRaw, RetriesRaw, WorkloadRaw, schema_keys,
};
use crate::units::Duration;

/// The write share from `ops` (default 0: every request reads).
pub(crate) fn ops(ctx: &mut Ctx, item: &SNode) -> Option<f64> {
    let raw: Option<OpsRaw> = ctx.optional(item, "ops").ok()?;
    let Some(raw) = raw else {
        return Some(0.0);
    };
    let node = item.at_or_near(&["ops"]);
    let share = |v: Option<f64>, key: &str, ctx: &mut Ctx| -> Option<Option<f64>> {
        match v {
            Some(x) if !(0.0..=1.0).contains(&x) => {
                ctx.push(
                    node.at_or_near(&[key]),
                    format!("`{key}` must be a share between 0 and 1, found {x}"),
                    None,
                );
                None
            }
            other => Some(other),
        }
    };
    let read = share(raw.read, "read", ctx)?;
    let write = share(raw.write, "write", ctx)?;
    match (read, write) {
        (None, None) => {
            ctx.push(
                node,
                "`ops` needs a `read` or a `write` share",
                Some("e.g. `ops: { read: 0.9, write: 0.1 }`".to_owned()),
            );
            None
        }
        (Some(r), None) => Some(1.0 - r),
        (None, Some(w)) => Some(w),
        (Some(r), Some(w)) if (r + w - 1.0).abs() > 1e-9 => {
            ctx.push(
                node,
                format!(
                    "the `read` and `write` shares must sum to 1, found {r} + {w} = {}",
                    r + w
                ),
                Some(format!("e.g. `write: {:.3}`", 1.0 - r)),
            );
            None
        }
        (Some(_), Some(w)) => Some(w),
    }
}

/// The number of client sessions of an open workload, if set.
pub(crate) fn sessions(ctx: &mut Ctx, item: &SNode) -> Option<Option<u32>> {
    match ctx.optional::<i64>(item, "sessions") {
        Ok(None) => Some(None),
        Ok(Some(n)) => count(ctx, n, 1, item.at_or_near(&["sessions"]), "sessions").map(Some),
        Err(()) => None,
    }
}

/// The retry policy, if set.
pub(crate) fn retries(ctx: &mut Ctx, item: &SNode) -> Option<Option<RetrySpec>> {
    let raw: Option<RetriesRaw> = ctx.optional(item, "retries").ok()?;
    let Some(raw) = raw else {
        return Some(None);
    };
    let node = item.at_or_near(&["retries"]);
    let max = count(ctx, raw.max, 0, node.at_or_near(&["max"]), "max");
    let backoff = match &raw.backoff {
        None => Some(Distribution::Constant(sysdes_kernel::SimDuration::ZERO)),
        Some(d) => distribution(ctx, d, node.at_or_near(&["backoff"]), "backoff"),
    };
    let multiplier = raw.multiplier.unwrap_or(2.0);
    let multiplier_ok = if multiplier.is_finite() && multiplier >= 1.0 {
        true
    } else {
        ctx.push(
            node.at_or_near(&["multiplier"]),
            format!("`multiplier` must be at least 1, found {multiplier}"),
            Some("1 keeps the wait constant; 2 doubles it at each retry".to_owned()),
        );
        false
    };
    let budget_ok = match raw.budget {
        Some(b) if !(b.is_finite() && b >= 0.0) => {
            ctx.push(
                node.at_or_near(&["budget"]),
                format!("`budget` must be a share of zero or more, found {b}"),
                Some("e.g. `budget: 0.1` allows retries of up to 10 % of requests".to_owned()),
            );
            false
        }
        _ => true,
    };
    let jitter = match raw.jitter {
        None | Some(JitterRaw::None) => Jitter::None,
        Some(JitterRaw::Full) => Jitter::Full,
        Some(JitterRaw::Equal) => Jitter::Equal,
    };
    if !(multiplier_ok && budget_ok) {
        return None;
    }
    Some(Some(RetrySpec {
        max: max?,
        backoff: backoff?,
        multiplier,
        max_backoff: raw.max_backoff.map(Duration::to_sim),
        jitter,
        budget: raw.budget,
    }))
}

/// Phased Poisson arrivals; `node` is the list.
pub(crate) fn phases(ctx: &mut Ctx, list: &[PhaseRaw], node: &SNode) -> Option<Vec<PhaseSpec>> {
    if list.is_empty() {
        ctx.push(
            node,
            "`phases` must list at least one phase",
            Some("e.g. `phases: [ { poisson: 100/s, for: 30s }, { poisson: 900/s } ]`".to_owned()),
        );
        return None;
    }
    let mut out = Vec::with_capacity(list.len());
    let mut ok = true;
    for (i, p) in list.iter().enumerate() {
        let item = node.item(i).unwrap_or(node);
        let length = match p.length {
            Some(d) => positive_duration(ctx, d, item.at_or_near(&["for"]), "for"),
            None if i + 1 == list.len() => None,
            None => {
                ctx.push(
                    item,
                    "only the last phase may omit `for`",
                    Some("add e.g. `for: 30s`".to_owned()),
                );
                ok = false;
                None
            }
        };
        if p.length.is_some() && length.is_none() {
            ok = false;
        }
        out.push(PhaseSpec {
            per_second: p.poisson.per_second(),
            length,
        });
    }
    ok.then_some(out)
}

pub(super) fn workloads(ctx: &mut Ctx, root: &SNode, names: &[&str]) -> Option<Vec<WorkloadSpec>> {
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
    ctx.unknown_keys(item, schema_keys!(WorkloadRaw));
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
    let priority = priority(ctx, item);
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
        priority: priority?,
    })
}

/// A workload's priority class (`priority`, 0 to 255; default 0).
fn priority(ctx: &mut Ctx, item: &SNode) -> Option<u8> {
    match ctx.optional::<i64>(item, "priority") {
        Ok(None) => Some(0),
        Ok(Some(n)) => match u8::try_from(n) {
            Ok(p) => Some(p),
            Err(_) => {
                ctx.push(
                    item.at_or_near(&["priority"]),
                    format!("`priority` must be a whole number from 0 to 255, found {n}"),
                    Some("higher is served first, e.g. `priority: 1` for interactive traffic over `priority: 0`".to_owned()),
                );
                None
            }
        },
        Err(()) => None,
    }
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
        ArrivalRaw::Curve(c) => super::arrivals::curve(ctx, c, inner),
        ArrivalRaw::Mmpp(m) => super::arrivals::mmpp(ctx, m, inner),
        ArrivalRaw::Trace(t) => {
            let dir = ctx.dir.clone();
            super::arrivals::trace(ctx, t, inner, &dir)
        }
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
