//! Reading `type: queue` components, and their raw schema; the consumer
//! `target` rules here are shared with `stream.rs`. The tests below cover
//! both kinds.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_models::{ComponentKind, QueueOverflow, QueueSpec};

use super::{Ctx, Entry, Kind, count, resolve};
use crate::node::{Node, SNode};
use crate::raw::schema_keys;

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

/// Resolves the consumer `target` of component `own`: it must exist and not
/// be the component itself.
pub(super) fn target(
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

/// Records that `key` is missing from `map`, unless an unknown key there was
/// already taken to be a typo of it.
pub(super) fn missing(ctx: &mut Ctx, map: &SNode, key: &str, example: &str) {
    if !ctx
        .typo_for
        .iter()
        .any(|(o, k)| *o == map.origin && k == key)
    {
        ctx.push(
            map,
            format!("missing required key `{key}`"),
            Some(format!("add e.g. `{key}: {example}`")),
        );
    }
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

/// Reads a queue.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    queue(ctx, e.own, e.body, e.names).map(ComponentKind::Queue)
}

fn queue(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<QueueSpec> {
    ctx.unknown_keys(body, Kind::Queue.keys());
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
            missing(ctx, body, "consumers", example);
            (None, None)
        }
        Some(c) if !expect_map(ctx, c, "consumers", example) => (None, None),
        Some(c) => {
            ctx.unknown_keys(c, schema_keys!(ConsumersRaw));
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

#[cfg(test)]
mod tests {
    use sysdes_kernel::{ComponentId, SimDuration};
    use sysdes_models::{ComponentKind, ModelSpec, QueueOverflow};

    use crate::{LoadOptions, Problem, load_str};

    /// Lines: 7 components, 8 q, 9 type, 10.. the queue's keys; the worker last.
    fn with_queue(body: &str) -> String {
        format!(
            "name: t\nduration: 10s\nworkloads:\n  - name: producer\n    target: q\n    arrival: {{ poisson: 100/s }}\ncomponents:\n  q:\n    type: queue\n{body}  worker:\n    type: server\n    service_time: 5ms\n"
        )
    }

    fn with_stream(body: &str) -> String {
        with_queue(body).replace("type: queue", "type: stream")
    }

    fn load(text: &str) -> Result<ModelSpec, Vec<Problem>> {
        load_str("t.yaml", text, &LoadOptions::default())
            .map(|l| l.spec)
            .map_err(|e| e.problems().to_vec())
    }

    /// The single problem of `text`: (line, column, message, help).
    fn problem(text: &str) -> (usize, usize, String, String) {
        let found = load(text).expect_err("expected a problem");
        assert_eq!(found.len(), 1, "{found:#?}");
        let p = &found[0];
        (
            p.line,
            p.column,
            p.message.clone(),
            p.help.clone().unwrap_or_default(),
        )
    }

    #[test]
    fn a_queue_with_defaults_and_with_every_key() {
        let spec = load(&with_queue("    consumers: { target: worker }\n")).unwrap();
        let ComponentKind::Queue(q) = &spec.components[0].kind else {
            panic!("not a queue");
        };
        assert_eq!(
            (q.capacity, q.overflow, q.consumer, q.concurrency),
            (None, QueueOverflow::DropTail, ComponentId(1), 1)
        );
        let spec = load(&with_queue(
            "    capacity: 50\n    overflow: back_pressure\n    consumers: { target: worker, concurrency: 8 }\n",
        ))
        .unwrap();
        let ComponentKind::Queue(q) = &spec.components[0].kind else {
            panic!("not a queue");
        };
        assert_eq!(
            (q.capacity, q.overflow, q.concurrency),
            (Some(50), QueueOverflow::BackPressure, 8)
        );
    }

    #[test]
    fn a_stream_with_groups_and_retention() {
        let spec = load(&with_stream(
            "    partitions: 4\n    retention: 10m\n    consumer_groups:\n      - { name: billing, target: worker }\n      - { name: audit, target: worker }\n",
        ))
        .unwrap();
        let ComponentKind::Stream(s) = &spec.components[0].kind else {
            panic!("not a stream");
        };
        assert_eq!(s.partitions, 4);
        assert_eq!(s.retention, Some(SimDuration::from_secs(600)));
        let names: Vec<&str> = s.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["billing", "audit"]);
        assert_eq!(s.groups[1].target, ComponentId(1));
    }

    #[test]
    fn queue_mistakes_are_located() {
        let cases: [(&str, usize, usize, &str, &str); 8] = [
            (
                "    capacity: 0\n    consumers: { target: worker }\n",
                10,
                15,
                "`capacity` must be at least 1, found 0",
                "",
            ),
            (
                "    overflow: drop_tial\n    consumers: { target: worker }\n",
                10,
                15,
                "unknown value `drop_tial`",
                "did you mean `drop_tail`?",
            ),
            (
                "    consumer: { target: worker }\n",
                10,
                5,
                "unknown key `consumer`",
                "did you mean `consumers`?",
            ),
            (
                "    consumers: { target: wroker }\n",
                10,
                26,
                "there is no component named `wroker`",
                "did you mean `worker`?",
            ),
            (
                "    consumers: { target: q }\n",
                10,
                26,
                "`q` cannot consume its own messages",
                "",
            ),
            (
                "    consumers: { target: worker, concurrency: 0 }\n",
                10,
                47,
                "`concurrency` must be at least 1, found 0",
                "",
            ),
            (
                "    consumers: { target: worker, concurency: 2 }\n",
                10,
                34,
                "unknown key `concurency`",
                "did you mean `concurrency`?",
            ),
            (
                "    consumers: worker\n",
                10,
                16,
                "`consumers`: expected a map, found",
                "e.g. `consumers: { target: worker, concurrency: 4 }`",
            ),
        ];
        for (body, line, column, message, help) in cases {
            let (l, c, m, h) = problem(&with_queue(body));
            assert!(m.contains(message), "{body}: {m}");
            assert!(h.contains(help), "{body}: help {h}");
            assert_eq!((l, c), (line, column), "{body}: {m}");
        }
        let (l, c, m, _) = problem(&with_queue("    capacity: 5\n"));
        assert_eq!(
            (l, c, m.as_str()),
            (9, 5, "missing required key `consumers`")
        );
    }

    #[test]
    fn stream_mistakes_are_located() {
        let group = "    consumer_groups: [ { name: g, target: worker } ]\n";
        let cases: [(String, usize, usize, &str, &str); 6] = [
            (
                format!("    partitions: 0\n{group}"),
                10,
                17,
                "`partitions` must be at least 1, found 0",
                "",
            ),
            (
                format!("    retention: 0s\n{group}"),
                10,
                16,
                "`retention` must be greater than zero",
                "",
            ),
            (
                "    consumer_groups: []\n".to_owned(),
                10,
                22,
                "`consumer_groups` must list at least one group",
                "",
            ),
            (
                "    consumer_groups: [ { name: g, target: worker }, { name: g, target: worker } ]\n"
                    .to_owned(),
                10,
                61,
                "there are two consumer groups named `g`",
                "",
            ),
            (
                "    consumer_groups: [ { name: g, traget: worker } ]\n".to_owned(),
                10,
                35,
                "unknown key `traget`",
                "did you mean `target`?",
            ),
            (
                format!("    partitons: 3\n{group}"),
                10,
                5,
                "unknown key `partitons`",
                "did you mean `partitions`?",
            ),
        ];
        for (body, line, column, message, help) in cases {
            let (l, c, m, h) = problem(&with_stream(&body));
            assert!(m.contains(message), "{body}: {m}");
            assert!(h.contains(help), "{body}: help {h}");
            assert_eq!((l, c), (line, column), "{body}: {m}");
        }
    }
}
