//! Reading `type: server` components: workers, service time, queue, and
//! downstream `calls` (steps, fan-out, hedging); the deployment and replica
//! keys a server may also carry are read in `deploy.rs`.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::ComponentId;
use sysdes_models::{
    BreakerSpec, CallMode, CallStep, ComponentKind, Discipline, Distribution, ServerSpec, WaitFor,
};

use super::deploy::DeploymentRaw;
use super::{
    Ctx, Entry, Kind, count, distribution, optional_count, optional_distribution,
    positive_duration, resolve,
};
use crate::node::{Node, SNode};
use crate::raw::DistRaw;
use crate::units::{Duration, Share, Size};

const CALL_KEYS: &[&str] = &[
    "to",
    "parallel",
    "fan_out",
    "wait_for",
    "hedge_after",
    "timeout",
    "partial",
    "breaker",
];

const BREAKER_KEYS: &[&str] = &["failure_rate", "min_calls", "window", "open_for", "probes"];

/// A breaker's defaults: open at 50 % failures over the last 100 calls,
/// judged once 100 have been seen, stay open 5 s, then one probe.
const BREAKER_WINDOW: u32 = 100;
const BREAKER_OPEN_FOR: sysdes_kernel::SimDuration = sysdes_kernel::SimDuration::from_secs(5);

/// The most calls one step may send (a fan-out beyond this is a typo).
const MAX_FAN_OUT: i64 = 10_000;

/// `type: server` — a FIFO queue served by `workers` parallel workers.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a server: a map with `service_time` and optionally `workers`"
)]
#[schemars(rename = "Server")]
pub(crate) struct ServerRaw {
    /// Parallel workers (the c of M/M/c), at least 1; default 1.
    #[schemars(range(min = 1))]
    pub workers: Option<i64>,
    /// Time one worker spends on one request.
    pub service_time: DistRaw,
    /// Maximum number of requests waiting (not in service); arrivals beyond it are dropped. 0 = no waiting room. Default unbounded.
    #[schemars(range(min = 0))]
    pub queue_capacity: Option<i64>,
    /// Downstream calls after the server's own work, in order. Each item is a component name, `{ to: NAME }`, or `{ parallel: [A, B, ...], wait_for: all | any | N, hedge_after: 10ms }`; `fan_out: N` repeats the step's targets N times; `timeout: 100ms` fails a call not answered in time, and with `partial: true` the step ends at the timeout with the answers it has; `breaker: { failure_rate: 50%, min_calls: 20, window: 100, open_for: 5s, probes: 1 }` adds a circuit breaker.
    pub calls: Option<Vec<serde_json::Value>>,
    /// `thread` (default: a worker is held while its request waits for its calls) or `async` (the worker is released after its own work).
    pub mode: Option<ModeRaw>,
    /// The order waiting requests are served in: `fifo` (default), `priority` (by the workloads' `priority`, highest first; service is never interrupted) or `preemptive_priority` (an arrival interrupts a lower-priority request in service, which later resumes where it stopped).
    pub discipline: Option<DisciplineRaw>,
    /// How long a request waits in the queue before its client gives up and it leaves unserved (reneging), e.g. `{ exponential: 2s }`; it counts as `abandoned` at the server and `timed_out` at its workload. Default: it waits as long as it takes.
    pub patience: Option<DistRaw>,
    /// The deployment keys (`replicas`, `host`, `autoscaler`, ...); see `deploy.rs`.
    #[serde(flatten)]
    pub deployment: DeploymentRaw,
    /// The zone it runs in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    pub request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth), e.g. `64KiB`.
    pub response_size: Option<Size>,
}

/// Whether a server's worker waits for downstream calls.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CallMode")]
pub(crate) enum ModeRaw {
    /// Thread per request: the worker is held until the calls answer.
    Thread,
    /// Event loop: the worker is released after its own work.
    Async,
}

/// A server's queue discipline.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Discipline")]
pub(crate) enum DisciplineRaw {
    /// First come, first served.
    Fifo,
    /// Highest workload `priority` first; a request in service finishes.
    Priority,
    /// Highest workload `priority` first; an arrival interrupts a lower-priority request in service (preemptive-resume).
    PreemptivePriority,
}

/// Reads a server (its replicas, if any, are read by
/// [`super::deploy::replicate`], as every kind's are).
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    server(ctx, e.own, e.body, e.names).map(ComponentKind::Server)
}

fn server(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<ServerSpec> {
    ctx.unknown_keys(body, Kind::Server.keys());
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
    let (discipline, patience) =
        discipline(ctx, body, calls.as_ref().is_some_and(|c| !c.is_empty()));
    Some(ServerSpec {
        workers: workers?,
        service_time: service_time?,
        queue_capacity: queue_capacity?,
        calls: calls?,
        mode: mode?,
        discipline: discipline?,
        patience: patience?,
    })
}

/// A server's `discipline` and `patience` (reneging). `has_calls`: a
/// preemptive server may not make calls.
fn discipline(
    ctx: &mut Ctx,
    body: &SNode,
    has_calls: bool,
) -> (Option<Discipline>, Option<Option<Distribution>>) {
    let discipline = match ctx.optional::<DisciplineRaw>(body, "discipline") {
        Ok(None | Some(DisciplineRaw::Fifo)) => Some(Discipline::Fifo),
        Ok(Some(DisciplineRaw::Priority)) => Some(Discipline::Priority),
        Ok(Some(DisciplineRaw::PreemptivePriority)) if has_calls => {
            ctx.push(
                body.at_or_near(&["discipline"]),
                "`discipline: preemptive_priority` needs a server without `calls` (a request waiting for its calls cannot be paused)".to_owned(),
                Some("use `discipline: priority`, or move the calls to a server in front".to_owned()),
            );
            None
        }
        Ok(Some(DisciplineRaw::PreemptivePriority)) => Some(Discipline::PreemptiveResume),
        Err(()) => None,
    };
    let patience = optional_distribution(ctx, body, "patience");
    if let Some(Some(d)) = &patience {
        if d.mean_ns() <= 0.0 {
            ctx.push(
                body.at_or_near(&["patience"]),
                "`patience` must have a mean above zero (with none, every waiting request would leave at once)".to_owned(),
                Some("e.g. `patience: { exponential: 2s }`".to_owned()),
            );
            return (discipline, None);
        }
    }
    (discipline, patience)
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
            timeout: None,
            partial: false,
            breaker: None,
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
    let timeout = match ctx.optional::<Duration>(item, "timeout") {
        Ok(None) => None,
        Ok(Some(d)) => Some(positive_duration(
            ctx,
            d,
            item.at_or_near(&["timeout"]),
            "timeout",
        )?),
        Err(()) => return None,
    };
    let partial = match ctx.optional::<bool>(item, "partial") {
        Ok(p) => p.unwrap_or(false),
        Err(()) => return None,
    };
    if partial && timeout.is_none() {
        ctx.push(
            item.at_or_near(&["partial"]),
            "`partial: true` answers with what has arrived at the step's `timeout`, but the step has no `timeout`",
            Some("add e.g. `timeout: 100ms` to the step".to_owned()),
        );
        return None;
    }
    let breaker = match item.get("breaker") {
        None => None,
        // `--set ...breaker=null` turns a breaker off.
        Some(node) if matches!(node.node, Node::Null) => None,
        Some(node) => Some(breaker(ctx, node)?),
    };
    Some(CallStep {
        targets,
        wait_for,
        hedge_after,
        hedge_percentile,
        timeout,
        partial,
        breaker,
    })
}

/// A step's `breaker: { failure_rate, min_calls, window, open_for, probes }`.
fn breaker(ctx: &mut Ctx, node: &SNode) -> Option<BreakerSpec> {
    if !matches!(node.node, Node::Map(_)) {
        ctx.push(
            node,
            format!("`breaker`: expected a map, found {}", node.describe()),
            Some("e.g. `breaker: { failure_rate: 50%, window: 20, open_for: 5s }`".to_owned()),
        );
        return None;
    }
    let before = ctx.issues.len();
    ctx.unknown_keys(node, BREAKER_KEYS);
    let failure_rate = match ctx.optional::<Share>(node, "failure_rate") {
        Ok(None) => Some(0.5),
        Ok(Some(share)) if share.fraction() > 0.0 => Some(share.fraction()),
        Ok(Some(_)) => {
            ctx.push(
                node.at_or_near(&["failure_rate"]),
                "`failure_rate`: expected a share in (0, 1] or a percentage such as `50%`",
                Some("e.g. `failure_rate: 50%`".to_owned()),
            );
            None
        }
        Err(()) => None,
    };
    let window = optional_count(ctx, node, "window", 1).map(|w| w.unwrap_or(BREAKER_WINDOW));
    let min_calls = optional_count(ctx, node, "min_calls", 1);
    let probes = optional_count(ctx, node, "probes", 1).map(|p| p.unwrap_or(1));
    let open_for = match ctx.optional::<Duration>(node, "open_for") {
        Ok(None) => Some(BREAKER_OPEN_FOR),
        Ok(Some(d)) => positive_duration(ctx, d, node.at_or_near(&["open_for"]), "open_for"),
        Err(()) => None,
    };
    let (failure_rate, window, min_calls, probes, open_for) =
        (failure_rate?, window?, min_calls?, probes?, open_for?);
    let min_calls = min_calls.unwrap_or(window);
    if min_calls > window {
        ctx.push(
            node.at_or_near(&["min_calls"]),
            format!("`min_calls` ({min_calls}) cannot exceed `window` ({window}): the window holds the last {window} calls"),
            Some(format!("set `window: {min_calls}` or lower `min_calls`")),
        );
        return None;
    }
    (ctx.issues.len() == before).then_some(BreakerSpec {
        failure_rate,
        min_calls,
        window,
        open_for,
        probes,
    })
}
