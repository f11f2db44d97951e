//! Reading `type: queue` and `type: stream` components, and their raw schema.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_models::{ConsumerGroupSpec, QueueOverflow, QueueSpec, StreamSpec};

use super::{Ctx, count, positive_duration, resolve};
use crate::node::{Node, SNode};
use crate::units::Duration;

pub(super) const QUEUE_KEYS: &[&str] = &["type", "capacity", "overflow", "consumers"];
const CONSUMERS_KEYS: &[&str] = &["target", "concurrency"];
pub(super) const STREAM_KEYS: &[&str] = &["type", "partitions", "consumer_groups", "retention"];
const GROUP_KEYS: &[&str] = &["name", "target"];

/// `type: queue` — a buffer between producers and consumers: producers are
/// acknowledged as soon as their message is enqueued; consumers pull messages.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a queue: a map with `consumers` and optionally `capacity` and `overflow`"
)]
#[schemars(rename = "Queue")]
pub(crate) struct QueueRaw {
    /// Most messages held, counting those delivered to a consumer and not yet acknowledged; at least 1. Default unbounded.
    #[schemars(range(min = 1))]
    pub capacity: Option<i64>,
    /// What a full queue does with a new message (default `drop_tail`).
    pub overflow: Option<OverflowRaw>,
    /// Who consumes the messages, and how many at once.
    pub consumers: ConsumersRaw,
}

/// What a full queue does with a new message.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "QueueOverflow")]
pub(crate) enum OverflowRaw {
    /// Refuse the new message; the producer's request ends `dropped`.
    DropTail,
    /// Evict the oldest waiting message (counted as dropped) and accept the new one.
    DropHead,
    /// Hold the producer's request un-acknowledged until there is room.
    BackPressure,
}

/// A queue's consumers.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
#[serde(
    deny_unknown_fields,
    expecting = "a map with `target` and `concurrency`"
)]
#[schemars(rename = "QueueConsumers")]
pub(crate) struct ConsumersRaw {
    /// The component each message is sent to.
    pub target: String,
    /// Most messages in flight to `target` at once, at least 1 (default 1).
    #[schemars(range(min = 1))]
    pub concurrency: Option<i64>,
}

/// `type: stream` — a partitioned log (Kafka-like): producers are acknowledged
/// once their message is appended; every consumer group reads every message.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a stream: a map with `consumer_groups` and optionally `partitions` and `retention`"
)]
#[schemars(rename = "Stream")]
pub(crate) struct StreamRaw {
    /// Number of partitions, at least 1 (default 1); a message goes to the partition given by a stable hash of its key.
    #[schemars(range(min = 1))]
    pub partitions: Option<i64>,
    /// Consumer groups, at least one: each has one consumer per partition that takes that partition's messages in order, one at a time.
    pub consumer_groups: Vec<ConsumerGroupRaw>,
    /// Messages older than this leave the log whether or not every group consumed them (default: kept until consumed).
    pub retention: Option<Duration>,
}

/// One consumer group of a stream.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
#[serde(deny_unknown_fields, expecting = "a map with `name` and `target`")]
#[schemars(rename = "ConsumerGroup")]
pub(crate) struct ConsumerGroupRaw {
    /// The group's name, unique within the stream; used in results.
    pub name: String,
    /// The component each message is sent to.
    pub target: String,
}

/// Resolves the consumer `target` of component `own`: it must exist and not
/// be the component itself.
fn target(
    ctx: &mut Ctx,
    own: usize,
    names: &[&str],
    body: &SNode,
) -> Option<sysdes_kernel::ComponentId> {
    let name: String = ctx.required(
        body,
        "target",
        Some("add the name of the component that processes the messages".to_owned()),
    )?;
    let node = body.at_or_near(&["target"]);
    if names.get(own) == Some(&name.as_str()) {
        ctx.push(
            node,
            format!("`{name}` cannot consume its own messages"),
            Some("name the component that processes the messages".to_owned()),
        );
        return None;
    }
    resolve(ctx, names, &name, node)
}

/// Requires `node` to be a map, recording what it is instead.
fn expect_map(ctx: &mut Ctx, node: &SNode, what: &str, example: &str) -> bool {
    if matches!(node.node, Node::Map(_)) {
        return true;
    }
    ctx.push(
        node,
        format!("`{what}`: expected a map, found {}", node.describe()),
        Some(format!("e.g. `{what}: {example}`")),
    );
    false
}

pub(super) fn queue(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<QueueSpec> {
    ctx.unknown_keys(body, QUEUE_KEYS);
    let before = ctx.issues.len();
    let capacity = match ctx.optional::<i64>(body, "capacity") {
        Ok(Some(c)) => count(ctx, c, 1, body.at_or_near(&["capacity"]), "capacity").map(Some),
        Ok(None) => Some(None),
        Err(()) => None,
    };
    let overflow = match ctx.optional::<OverflowRaw>(body, "overflow") {
        Ok(o) => Some(match o.unwrap_or(OverflowRaw::DropTail) {
            OverflowRaw::DropTail => QueueOverflow::DropTail,
            OverflowRaw::DropHead => QueueOverflow::DropHead,
            OverflowRaw::BackPressure => QueueOverflow::BackPressure,
        }),
        Err(()) => None,
    };
    let example = "{ target: worker, concurrency: 4 }";
    let (consumer, concurrency) = match body.get("consumers") {
        None => {
            ctx.push(
                body,
                "missing required key `consumers`",
                Some(format!("add e.g. `consumers: {example}`")),
            );
            (None, None)
        }
        Some(c) if !expect_map(ctx, c, "consumers", example) => (None, None),
        Some(c) => {
            ctx.unknown_keys(c, CONSUMERS_KEYS);
            let consumer = target(ctx, own, names, c);
            let concurrency = match ctx.optional::<i64>(c, "concurrency") {
                Ok(Some(n)) => count(ctx, n, 1, c.at_or_near(&["concurrency"]), "concurrency"),
                Ok(None) => Some(1),
                Err(()) => None,
            };
            (consumer, concurrency)
        }
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some(QueueSpec {
        capacity: capacity?,
        overflow: overflow?,
        consumer: consumer?,
        concurrency: concurrency?,
    })
}

pub(super) fn stream(
    ctx: &mut Ctx,
    own: usize,
    body: &SNode,
    names: &[&str],
) -> Option<StreamSpec> {
    ctx.unknown_keys(body, STREAM_KEYS);
    let before = ctx.issues.len();
    let partitions = match ctx.optional::<i64>(body, "partitions") {
        Ok(Some(p)) => count(ctx, p, 1, body.at_or_near(&["partitions"]), "partitions"),
        Ok(None) => Some(1),
        Err(()) => None,
    };
    let retention = match ctx.optional::<Duration>(body, "retention") {
        Ok(Some(r)) => {
            positive_duration(ctx, r, body.at_or_near(&["retention"]), "retention").map(Some)
        }
        Ok(None) => Some(None),
        Err(()) => None,
    };
    let example = "[ { name: billing, target: billing-worker } ]";
    let mut groups = Vec::new();
    match body.get("consumer_groups") {
        None => ctx.push(
            body,
            "missing required key `consumer_groups`",
            Some(format!("add e.g. `consumer_groups: {example}`")),
        ),
        Some(node) => match &node.node {
            Node::Seq(items) if !items.is_empty() => {
                let mut seen: Vec<String> = Vec::new();
                for item in items {
                    if !matches!(item.node, Node::Map(_)) {
                        ctx.push(
                            item,
                            format!(
                                "expected a consumer group: a map with `name` and `target`, found {}",
                                item.describe()
                            ),
                            None,
                        );
                        continue;
                    }
                    ctx.unknown_keys(item, GROUP_KEYS);
                    let name: Option<String> = ctx.required(item, "name", None);
                    if let Some(n) = &name {
                        if seen.contains(n) {
                            ctx.push(
                                item.at_or_near(&["name"]),
                                format!("there are two consumer groups named `{n}`"),
                                Some("group names must be unique within a stream".to_owned()),
                            );
                        }
                        seen.push(n.clone());
                    }
                    let target = target(ctx, own, names, item);
                    if let (Some(name), Some(target)) = (name, target) {
                        groups.push(ConsumerGroupSpec { name, target });
                    }
                }
            }
            Node::Seq(_) | Node::Null => ctx.push(
                node,
                "`consumer_groups` must list at least one group",
                Some(format!("e.g. `consumer_groups: {example}`")),
            ),
            _ => ctx.push(
                node,
                format!(
                    "`consumer_groups`: expected a list of groups, found {}",
                    node.describe()
                ),
                Some(format!("e.g. `consumer_groups: {example}`")),
            ),
        },
    }
    if ctx.issues.len() != before {
        return None;
    }
    Some(StreamSpec {
        partitions: partitions?,
        groups,
        retention: retention?,
    })
}
