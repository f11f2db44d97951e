//! Reading client behaviour (operation mix, sessions, retries, phased
//! arrivals) and a server's downstream `calls`.

use sysdes_kernel::ComponentId;
use sysdes_models::{CallStep, Distribution, Jitter, PhaseSpec, RetrySpec, WaitFor};

use super::{Ctx, count, distribution, positive_duration, resolve};
use crate::node::{Node, SNode};
use crate::raw::{JitterRaw, OpsRaw, PhaseRaw, RetriesRaw};
use crate::units::Duration;

const CALL_KEYS: &[&str] = &["to", "parallel", "fan_out", "wait_for", "hedge_after"];

/// The most calls one step may send (a fan-out beyond this is a typo).
const MAX_FAN_OUT: i64 = 10_000;

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

/// A server's `calls`: a list of steps. `own` is the server's index.
pub(crate) fn calls(
    ctx: &mut Ctx,
    own: usize,
    body: &SNode,
    names: &[&str],
) -> Option<Vec<CallStep>> {
    let Some(node) = body.get("calls") else {
        return Some(Vec::new());
    };
    let items = match &node.node {
        Node::Seq(items) => items,
        Node::Null => return Some(Vec::new()),
        _ => {
            ctx.push(
                node,
                format!(
                    "`calls`: expected a list of steps, found {}",
                    node.describe()
                ),
                Some("e.g. `calls: [ auth, { parallel: [a, b], wait_for: all } ]`".to_owned()),
            );
            return None;
        }
    };
    let before = ctx.issues.len();
    let mut steps = Vec::with_capacity(items.len());
    for item in items {
        if let Some(step) = call_step(ctx, own, item, names) {
            steps.push(step);
        }
    }
    (ctx.issues.len() == before).then_some(steps)
}

fn target(ctx: &mut Ctx, own: usize, node: &SNode, names: &[&str]) -> Option<ComponentId> {
    let Some(name) = node.as_str() else {
        ctx.push(
            node,
            format!("expected a component name, found {}", node.describe()),
            None,
        );
        return None;
    };
    if names.get(own) == Some(&name) {
        ctx.push(node, format!("server `{name}` cannot call itself"), None);
        return None;
    }
    resolve(ctx, names, name, node)
}

fn call_step(ctx: &mut Ctx, own: usize, item: &SNode, names: &[&str]) -> Option<CallStep> {
    if item.as_str().is_some() {
        return Some(CallStep {
            targets: vec![target(ctx, own, item, names)?],
            wait_for: WaitFor::All,
            hedge_after: None,
            hedge_percentile: None,
        });
    }
    if !matches!(item.node, Node::Map(_)) {
        ctx.push(
            item,
            format!(
                "a call step is a component name, `{{ to: NAME }}` or `{{ parallel: [...] }}`, found {}",
                item.describe()
            ),
            None,
        );
        return None;
    }
    ctx.unknown_keys(item, CALL_KEYS);
    let mut targets = match (item.get("to"), item.get("parallel")) {
        (Some(to), None) => vec![target(ctx, own, to, names)?],
        (None, Some(list)) => {
            let Node::Seq(entries) = &list.node else {
                ctx.push(
                    list,
                    format!(
                        "`parallel`: expected a list of component names, found {}",
                        list.describe()
                    ),
                    None,
                );
                return None;
            };
            if entries.is_empty() {
                ctx.push(list, "`parallel` must list at least one component", None);
                return None;
            }
            let mut ids = Vec::with_capacity(entries.len());
            for e in entries {
                ids.push(target(ctx, own, e, names));
            }
            ids.into_iter().collect::<Option<Vec<_>>>()?
        }
        (Some(_), Some(_)) => {
            ctx.push(
                item,
                "a call step has either `to` or `parallel`, not both",
                None,
            );
            return None;
        }
        (None, None) => {
            ctx.push(
                item,
                "a call step needs `to: NAME` or `parallel: [NAMES]`",
                None,
            );
            return None;
        }
    };
    match ctx.optional::<i64>(item, "fan_out") {
        Ok(None) => {}
        Ok(Some(n)) => {
            let node = item.at_or_near(&["fan_out"]);
            let copies = count(ctx, n, 1, node, "fan_out")?;
            if n * targets.len() as i64 > MAX_FAN_OUT {
                ctx.push(
                    node,
                    format!(
                        "a step may send at most {MAX_FAN_OUT} calls, this one sends {}",
                        n * targets.len() as i64
                    ),
                    None,
                );
                return None;
            }
            let one_round = targets.clone();
            for _ in 1..copies {
                targets.extend_from_slice(&one_round);
            }
        }
        Err(()) => return None,
    }
    let wait_for = match item.get("wait_for") {
        None => WaitFor::All,
        Some(w) => match w.as_str() {
            Some("all") => WaitFor::All,
            Some("any") => WaitFor::Any,
            _ => match ctx.optional::<i64>(item, "wait_for") {
                Ok(Some(n)) if n >= 1 && (n as usize) <= targets.len() => WaitFor::Count(n as u16),
                Ok(_) | Err(()) => {
                    ctx.push(
                        w,
                        format!(
                            "`wait_for`: expected `all`, `any` or a number from 1 to {}",
                            targets.len()
                        ),
                        None,
                    );
                    return None;
                }
            },
        },
    };
    let percentile = item
        .get("hedge_after")
        .and_then(|n| n.as_str().map(|t| (n, t)))
        .filter(|(_, t)| t.trim_start().starts_with('p'));
    let mut hedge_percentile = None;
    let hedge_after = match percentile {
        Some((node, text)) => {
            match text.trim()[1..].parse::<f64>() {
                Ok(p) if p > 0.0 && p < 100.0 => hedge_percentile = Some(p / 100.0),
                _ => {
                    ctx.push(
                        node,
                        format!("`hedge_after`: expected a duration or a percentile such as `p95`, found `{text}`"),
                        Some("e.g. `hedge_after: p95` or `hedge_after: 10ms`".to_owned()),
                    );
                    return None;
                }
            }
            None
        }
        None => match ctx.optional::<Duration>(item, "hedge_after") {
            Ok(None) => None,
            Ok(Some(d)) => Some(positive_duration(
                ctx,
                d,
                item.at_or_near(&["hedge_after"]),
                "hedge_after",
            )?),
            Err(()) => return None,
        },
    };
    Some(CallStep {
        targets,
        wait_for,
        hedge_after,
        hedge_percentile,
    })
}
