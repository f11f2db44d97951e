//! The resource budget checked at load, before anything is built.
//!
//! Every count that sizes memory (replicas, autoscaler `max`, hosts,
//! slots, batch sizes, partitions, closed users, workers, `fan_out`,
//! components) is turned into an estimate of the bytes it would take, from
//! the per-unit costs below (measured on the models, rounded up). A single
//! count whose estimate passes the budget is reported at its own position,
//! naming the key, the estimate and the budget; a file whose counts are
//! each fine but whose sum passes the budget is reported at its largest
//! count. `--max-memory` raises the budget deliberately. Names longer than
//! [`MAX_NAME_CHARS`] are refused here too, so that no message or table has
//! to carry them. The limits are documented in `docs/limits.md`.
//!
//! This module reads the position-carrying tree, so that the budget is
//! checked before a single replica is allocated; it does not validate
//! values (negative or non-integer counts are left to the builders).

use crate::node::{Issue, Node, SNode};
use crate::units::Duration;

/// The memory budget when `--max-memory` is not given: 1 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

/// The longest name (of a component, workload, consumer group, host pool,
/// zone or scenario) accepted, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// The longest duration a scenario may write (its `duration`, a service
/// time, a timeout...): 100 years, far enough from the 584 years a `u64` of
/// nanoseconds holds that sums of times do not saturate.
pub const MAX_DURATION_NS: u64 = 100 * 365 * 86_400 * 1_000_000_000;

/// Bytes per component: its state plus its latency histograms (measured:
/// about 34 KiB per replica of a group before histograms were allocated by
/// their first value; a replica that serves allocates them).
const COMPONENT: u64 = 40 * 1024;
/// Bytes per replica of a group that never boots: its spec, its state
/// without histogram buckets, its line of the result (measured from peak
/// RSS at `max: 16384` and `max: 65536` or `max: 1`: 2.5 KiB per replica of
/// a server with calls, 3.1 KiB of a one-slot model server, 3.2 KiB of a
/// cache).
const IDLE_REPLICA: u64 = 4 * 1024;
/// The most autoscaler evaluations [`bootable`] follows before it charges
/// every replica up to `max`.
const MAX_EVALUATIONS: u128 = 100_000;
/// Bytes per replica of a leaf server deployment (measured: about 60 B).
const REPLICA: u64 = 128;
/// Bytes per host of a pool (measured: about 200 B).
const HOST: u64 = 256;
/// Bytes per model-server slot (measured: about 170 B).
const SLOT: u64 = 256;
/// Bytes per batch place, per slot.
const BATCH_ITEM: u64 = 16;
/// Bytes per stream partition (measured: about 60 B).
const PARTITION: u64 = 128;
/// Bytes per closed-workload user (measured: about 320 B).
const USER: u64 = 512;
/// Bytes per worker of a server.
const WORKER: u64 = 16;
/// Bytes per call copy made by `fan_out`, per target.
const CALL: u64 = 64;

/// One count that takes memory: where it is written, its key, the count
/// (already multiplied by the replicas that repeat it) and its estimate.
struct Item<'a> {
    node: &'a SNode,
    key: &'static str,
    count: u128,
    bytes: u128,
}

/// Checks the tree against the budget (`max_memory` bytes, else
/// [`DEFAULT_MAX_MEMORY`]), recording each problem. Returns `false` when
/// the scenario must not be built (a count or the total is over budget).
pub(crate) fn check(root: &SNode, max_memory: Option<u64>, issues: &mut Vec<Issue>) -> bool {
    let budget = u128::from(max_memory.unwrap_or(DEFAULT_MAX_MEMORY));
    let before = issues.len();
    names(root, issues);
    let mut items: Vec<Item<'_>> = Vec::new();
    if let Some(Node::Map(components)) = root.get("components").map(|c| &c.node) {
        for (key, body) in components {
            component(root, key, body, &mut items);
        }
    }
    if let Some(Node::Map(pools)) = root.get("hosts").map(|h| &h.node) {
        for (_, pool) in pools {
            if let Some((node, n)) = int(pool, "count") {
                items.push(Item::new(node, "count", n, HOST));
            }
        }
    }
    if let Some(Node::Seq(workloads)) = root.get("workloads").map(|w| &w.node) {
        for w in workloads {
            let closed = w.get("arrival").and_then(|a| a.get("closed"));
            if let Some((node, n)) = closed.and_then(|c| int(c, "users")) {
                items.push(Item::new(node, "users", n, USER));
            }
        }
    }
    let mut over = false;
    for item in &items {
        if item.bytes > budget {
            over = true;
            issues.push(Issue {
                origin: item.node.origin,
                message: format!(
                    "`{}` = {} would take about {} of memory, over the budget of {}",
                    item.key,
                    item.count,
                    bytes(item.bytes),
                    bytes(budget)
                ),
                help: Some(format!(
                    "lower it, or raise the budget with `--max-memory {}` (see docs/limits.md)",
                    bytes_arg(item.bytes)
                )),
            });
        }
    }
    let total: u128 = items.iter().map(|i| i.bytes).sum();
    if !over && total > budget {
        if let Some(largest) = items.iter().max_by_key(|i| i.bytes) {
            over = true;
            issues.push(Issue {
                origin: largest.node.origin,
                message: format!(
                    "the scenario would take about {} of memory (this `{}` = {} is the largest part, {}), over the budget of {}",
                    bytes(total),
                    largest.key,
                    largest.count,
                    bytes(largest.bytes),
                    bytes(budget)
                ),
                help: Some(format!(
                    "lower the counts, or raise the budget with `--max-memory {}` (see docs/limits.md)",
                    bytes_arg(total)
                )),
            });
        }
    }
    !over && issues.len() == before
}

impl<'a> Item<'a> {
    fn new(node: &'a SNode, key: &'static str, count: u128, unit: u64) -> Self {
        Item {
            node,
            key,
            count,
            bytes: count.saturating_mul(u128::from(unit)),
        }
    }
}

/// The counts of one component, each multiplied by the replicas that can
/// ever run (`replicas`, or the autoscaler's `max` when larger). A group's
/// replicas (`whole` below) are charged [`IDLE_REPLICA`] each up to `max`,
/// plus the rest of [`COMPONENT`] for each one that can be running by the
/// end of the run ([`bootable`]).
fn component<'a>(root: &SNode, key: &'a SNode, body: &'a SNode, items: &mut Vec<Item<'a>>) {
    let kind = body.get("type").and_then(SNode::as_str).unwrap_or("");
    let replicas = int(body, "replicas");
    let most = body.get("autoscaler").and_then(|a| int(a, "max"));
    let copies = [replicas, most]
        .iter()
        .flatten()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(1)
        .max(1);
    // A server that calls others, a model server and a cache are
    // replicated as whole components; a leaf server as a light replica.
    let whole = body.get("calls").is_some() || matches!(kind, "model_server" | "cache");
    items.push(Item::new(key, "components", 1, COMPONENT));
    // The replicas that can ever run, counted once at the larger key
    // (the component itself is counted above).
    let larger = match (replicas, most) {
        (Some(r), Some(m)) if m.1 > r.1 => Some((m, "max")),
        (Some(r), _) => Some((r, "replicas")),
        (None, Some(m)) => Some((m, "max")),
        (None, None) => None,
    };
    if let Some(((node, n), name)) = larger {
        if whole {
            let running = match (name, body.get("autoscaler")) {
                ("max", Some(scaler)) => {
                    let start = replicas.map_or(1, |(_, r)| r).max(1);
                    bootable(root, scaler, start, n)
                }
                _ => n,
            };
            let mut item = Item::new(node, name, n, IDLE_REPLICA);
            item.bytes = item
                .bytes
                .saturating_add(running.saturating_mul(u128::from(COMPONENT - IDLE_REPLICA)));
            items.push(item);
        } else {
            items.push(Item::new(node, name, n, REPLICA));
        }
    }
    let slots = int(body, "slots");
    let per_slot = slots.map_or(1, |(_, n)| n.max(1));
    if let Some((node, n)) = slots {
        items.push(Item::new(node, "slots", n.saturating_mul(copies), SLOT));
    }
    for parent in [body.get("batching"), body.get("llm")]
        .into_iter()
        .flatten()
    {
        if let Some((node, n)) = int(parent, "max_batch") {
            let places = n.saturating_mul(per_slot).saturating_mul(copies);
            items.push(Item::new(node, "max_batch", places, BATCH_ITEM));
        }
    }
    if let Some((node, n)) = int(body, "partitions") {
        items.push(Item::new(node, "partitions", n, PARTITION));
    }
    if let Some((node, n)) = int(body, "workers") {
        items.push(Item::new(node, "workers", n.saturating_mul(copies), WORKER));
    }
    if let Some(Node::Seq(steps)) = body.get("calls").map(|c| &c.node) {
        for step in steps {
            if let Some((node, n)) = int(step, "fan_out") {
                let targets = match step.get("parallel").map(|p| &p.node) {
                    Some(Node::Seq(t)) => t.len().max(1) as u128,
                    _ => 1,
                };
                let calls = n.saturating_mul(targets).saturating_mul(copies);
                items.push(Item::new(node, "fan_out", calls, CALL));
            }
        }
    }
}

/// The most replicas an autoscaler (`scaler`, over `start` replicas at
/// time zero, at most `max`) can have started by the end of the run.
///
/// On `utilization` (a fraction of the workers, so at most 1 per ready
/// replica) one evaluation asks for at most `ceil(n / target)` replicas
/// when `n` are wanted (`raw_recommendation`: `ceil(ready * metric /
/// target)` with `metric <= 1`), and evaluations come every `interval`
/// (15 s unless written) strictly before `duration`. On `queue_length` one
/// evaluation can ask for any number, so every replica up to `max` is
/// counted; so is every one when a key cannot be read here (the loader
/// reports it), or the growth would take more than [`MAX_EVALUATIONS`]
/// evaluations to follow.
fn bootable(root: &SNode, scaler: &SNode, start: u128, max: u128) -> u128 {
    let max = max.max(start);
    let metric = scaler.get("metric").map(|m| m.as_str());
    if !matches!(metric, None | Some(Some("utilization"))) {
        return max;
    }
    let target = match scaler.get("target").map(|t| &t.node) {
        Some(Node::Float(f)) => *f,
        Some(Node::Int(i)) => *i as f64,
        _ => return max,
    };
    let duration = |node: Option<&SNode>| {
        node.and_then(SNode::as_str)
            .and_then(|d| d.parse::<Duration>().ok())
            .map(Duration::as_nanos)
    };
    let interval = match scaler.get("interval") {
        None => 15_000_000_000,
        node => match duration(node) {
            Some(i) if i > 0 => i,
            _ => return max,
        },
    };
    let Some(length) = duration(root.get("duration")) else {
        return max;
    };
    if !(target.is_finite() && target > 0.0) {
        return max;
    }
    // Ticks at interval, 2 interval, ... strictly before the end.
    let evaluations = u128::from(length.saturating_sub(1) / interval);
    if target >= 1.0 {
        return start.min(max);
    }
    if evaluations > MAX_EVALUATIONS {
        return max;
    }
    let mut n = start;
    for _ in 0..evaluations {
        if n >= max {
            break;
        }
        n = ((n as f64 / target).ceil() as u128).clamp(n + 1, max);
    }
    n.min(max)
}

/// The non-negative integer under `key` of `map`, with its node.
fn int<'a>(map: &'a SNode, key: &str) -> Option<(&'a SNode, u128)> {
    let node = map.get(key)?;
    match node.node {
        Node::Int(n) => u128::try_from(n).ok().map(|n| (node, n)),
        _ => None,
    }
}

/// Refuses names (map keys and `name:` values) longer than [`MAX_NAME_CHARS`].
fn names(node: &SNode, issues: &mut Vec<Issue>) {
    let mut check = |n: &SNode, what: &str| {
        if let Some(s) = n.as_str() {
            let chars = s.chars().count();
            if chars > MAX_NAME_CHARS {
                let start: String = s.chars().take(24).collect();
                issues.push(Issue {
                    origin: n.origin,
                    message: format!(
                        "{what} `{start}...` is {chars} characters long, more than the limit of {MAX_NAME_CHARS}"
                    ),
                    help: Some("use a shorter name (see docs/limits.md)".to_owned()),
                });
            }
        }
    };
    // An explicit stack: a deeply nested document must not overflow ours.
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match &n.node {
            Node::Map(entries) => {
                for (k, v) in entries {
                    check(k, "the key");
                    if k.as_str() == Some("name") {
                        check(v, "the name");
                    }
                    stack.push(v);
                }
            }
            Node::Seq(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

/// `bytes` in the largest binary unit that keeps it at least 1.
fn bytes(b: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = b as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A `--max-memory` argument that covers `b` bytes (whole GiB, rounded up).
fn bytes_arg(b: u128) -> String {
    let gib = b.div_ceil(1 << 30).max(1);
    format!("{gib}GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate of a scenario whose one component is `component`.
    fn estimate(component: &str, budget: u64) -> (bool, Vec<String>) {
        let text = format!(
            "name: h\nduration: 10s\nworkloads:\n  - {{ name: u, target: a, arrival: {{ poisson: 10/s }} }}\ncomponents:\n  a: {component}\n"
        );
        let (root, _) = crate::node::parse(&text).expect("valid YAML");
        let mut issues = Vec::new();
        let ok = check(&root, Some(budget), &mut issues);
        (ok, issues.into_iter().map(|i| i.message).collect())
    }

    const GROUP: &str = "{ type: server, service_time: 1ms, calls: [b], replicas: 1, autoscaler: { metric: utilization, target: 0.6, max: 65536, interval: 1s } }";

    /// Utilization at most 1 per ready replica and a target of 0.6: each
    /// evaluation asks for at most ceil(n / 0.6), at 1, 2, ..., 9 s of a
    /// 10 s run.
    #[test]
    fn an_autoscaler_on_utilization_boots_geometrically_per_interval() {
        let root = crate::node::parse("duration: 10s\n").expect("YAML").0;
        let scaler = crate::node::parse("{ target: 0.6, interval: 1s }")
            .expect("YAML")
            .0;
        // 1 -> 2 -> 4 -> 7 -> 12 -> 20 -> 34 -> 57 -> 95 -> 159.
        assert_eq!(bootable(&root, &scaler, 1, 65536), 159);
        assert_eq!(bootable(&root, &scaler, 1, 50), 50);
        assert_eq!(bootable(&root, &scaler, 3, 3), 3);
        // 15 s by default: no evaluation before the end of a 10 s run.
        let default = crate::node::parse("{ target: 0.6 }").expect("YAML").0;
        assert_eq!(bootable(&root, &default, 2, 65536), 2);
        let queue = crate::node::parse("{ metric: queue_length, target: 2, interval: 1s }")
            .expect("YAML")
            .0;
        assert_eq!(bootable(&root, &queue, 1, 65536), 65536);
    }

    /// 65,536 idle replicas at 4 KiB (256 MiB) plus 159 that can boot at
    /// the rest of 40 KiB each: under 1 GiB. On `queue_length` all 65,536
    /// can boot at once: 2.5 GiB, refused at `max`.
    #[test]
    fn idle_replicas_are_charged_their_idle_cost() {
        let full = 65536 * u128::from(IDLE_REPLICA) + 159 * u128::from(COMPONENT - IDLE_REPLICA);
        assert!(full + 2 * u128::from(COMPONENT) < 1 << 30);
        assert_eq!(estimate(GROUP, 1 << 30), (true, Vec::new()));
        let (ok, messages) = estimate(
            &GROUP.replace(
                "metric: utilization, target: 0.6",
                "metric: queue_length, target: 2",
            ),
            1 << 30,
        );
        assert!(!ok);
        assert_eq!(
            messages,
            ["`max` = 65536 would take about 2.5 GiB of memory, over the budget of 1.0 GiB"]
        );
        // A budget just under the estimate refuses the utilization group too.
        let total = full + u128::from(COMPONENT);
        let (ok, messages) = estimate(GROUP, total as u64 - 1);
        assert!(!ok, "{messages:?}");
        assert!(estimate(GROUP, total as u64).0);
    }

    #[test]
    fn sizes_are_rendered_in_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
        assert_eq!(bytes_arg((1 << 30) + 1), "2GiB");
    }
}
