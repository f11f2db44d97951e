//! Reading `type: stream` components (a partitioned log with consumer
//! groups), and their raw schema. Their tests sit with the queue's, in
//! `queue.rs`.

use schemars::JsonSchema;
use sysdes_models::{ComponentKind, ConsumerGroupSpec, StreamSpec};

use super::queue::{missing, target};
use super::{Ctx, Entry, Kind, count, positive_duration};
use crate::node::{Node, SNode};
use crate::raw::schema_keys;
use crate::units::Duration;

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
    /// When the group starts consuming, e.g. `10m`: until then it is paused at offset 0, so it then replays every message the log still holds (with `retention`, the last `retention` of them) while new ones arrive: a new version of a stream processor reprocessing the log (kappa). Default: with the run.
    pub start: Option<Duration>,
}

/// Reads a stream.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    stream(ctx, e.own, e.body, e.names).map(ComponentKind::Stream)
}

fn stream(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<StreamSpec> {
    ctx.unknown_keys(body, Kind::Stream.keys());
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
        None => missing(ctx, body, "consumer_groups", example),
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
                    ctx.unknown_keys(item, schema_keys!(ConsumerGroupRaw));
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
                    let start = match ctx.optional::<Duration>(item, "start") {
                        Ok(start) => Some(start.map(Duration::to_sim)),
                        Err(()) => None,
                    };
                    if let (Some(name), Some(target), Some(start)) = (name, target, start) {
                        groups.push(ConsumerGroupSpec {
                            name,
                            target,
                            start,
                        });
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
