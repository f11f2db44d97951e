//! Reading a `type: model_server` component: a batching inference server.
//!
//! ```yaml
//! llm:
//!   type: model_server
//!   slots: 2                                   # concurrent batches (GPUs); default 1
//!   batching: { max_batch: 32, max_delay: 5ms }
//!   batch_time: { affine: { base: 8ms, per_item: 0.6ms } }
//!   jitter: { exponential: 1ms }               # optional, added to every batch
//!   queue_capacity: 1000                       # optional; default unbounded
//!   cold_start: 20s                            # optional model load time
//! ```

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{BatchTime, BatchingSpec, ComponentKind, ModelServerSpec};

use super::{Ctx, Entry, Kind, count, optional_count, optional_distribution};
use crate::node::SNode;
use crate::raw::DistRaw;
use crate::units::Duration;

/// `type: model_server` — requests served in batches on `slots` parallel slots (GPUs).
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a model server: a map with `batch_time` and optionally `batching`, `slots`"
)]
#[schemars(rename = "ModelServer")]
pub(crate) struct ModelServerRaw {
    /// Batches that can run at once (GPUs, or model replicas), at least 1; default 1.
    #[schemars(range(min = 1))]
    slots: Option<i64>,
    /// When a batch starts and how large it may be; default `{ max_batch: 1, max_delay: 0ms }` (no batching).
    batching: Option<BatchingRaw>,
    /// How long a batch takes as a function of its size; required unless `llm` is given.
    batch_time: Option<BatchTimeRaw>,
    /// A random time added to every batch (drawn once per batch); default none.
    jitter: Option<DistRaw>,
    /// Maximum number of requests waiting for a batch; arrivals beyond it are dropped. Default unbounded.
    #[schemars(range(min = 0))]
    queue_capacity: Option<i64>,
    /// Model load time before the first batch can run (drawn once per run); default none.
    cold_start: Option<DistRaw>,
    /// LLM mode instead of `batching`/`batch_time`/`jitter`: continuous batching of prefill and per-token decode iterations, reporting TTFT and TPOT (`docs/llm-serving.md`).
    llm: Option<Box<super::llm_server::LlmDoc>>,
    /// Replicas and autoscaling.
    #[serde(flatten)]
    scaling: crate::raw::ScalingRaw,
}

/// The batching policy: a batch starts when a slot is free and either `max_batch` requests wait or the oldest has waited `max_delay`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `max_batch` and optionally `max_delay`"
)]
#[schemars(rename = "Batching")]
pub(crate) struct BatchingRaw {
    /// Largest batch, at least 1.
    #[schemars(range(min = 1))]
    max_batch: i64,
    /// Longest the oldest request waits for the batch to fill (default `0ms`: start with whatever waits as soon as a slot is free).
    max_delay: Option<Duration>,
}

/// The time a batch of `b` requests takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "BatchTime")]
pub(crate) enum BatchTimeRaw {
    /// `base + per_item * b`, e.g. `{ affine: { base: 8ms, per_item: 0.6ms } }`.
    Affine(AffineRaw),
    /// Measured rows `[ { size: 1, time: 6ms }, { size: 8, time: 12ms } ]`, sizes increasing: linear between rows, the first row's time below it, extrapolated along the last two rows beyond the last.
    Table(Vec<TableRowRaw>),
}

/// An affine batch time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `base` and `per_item`")]
#[schemars(rename = "AffineBatchTime")]
pub(crate) struct AffineRaw {
    /// The fixed cost of one batch, whatever its size.
    base: Duration,
    /// The added cost of each request in the batch.
    per_item: Duration,
}

/// One measured row of a batch-time table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `size` and `time`")]
#[schemars(rename = "BatchTimeRow")]
pub(crate) struct TableRowRaw {
    /// Batch size, at least 1; sizes strictly increase down the table.
    #[schemars(range(min = 1))]
    size: i64,
    /// Time of a batch of this size; times must not decrease down the table.
    time: Duration,
}

/// Reads a model server: in LLM mode if it has an `llm:` block, else a
/// batching one.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    let body = e.body;
    if body.get("llm").is_some() {
        return super::llm_server::llm_server(ctx, body, e.names).map(ComponentKind::LlmServer);
    }
    model_server(ctx, body).map(ComponentKind::ModelServer)
}

/// Reads a model server's keys, recording every problem.
fn model_server(ctx: &mut Ctx, body: &SNode) -> Option<ModelServerSpec> {
    ctx.unknown_keys(body, Kind::ModelServer.keys());
    let before = ctx.issues.len();
    let slots = optional_count(ctx, body, "slots", 1).map(|s| s.unwrap_or(1));
    let batching = match ctx.optional::<BatchingRaw>(body, "batching") {
        Ok(None) => Some(BatchingSpec {
            max_batch: 1,
            max_delay: SimDuration::ZERO,
        }),
        Ok(Some(raw)) => {
            let node = body.at_or_near(&["batching", "max_batch"]);
            count(ctx, raw.max_batch, 1, node, "max_batch").map(|max_batch| BatchingSpec {
                max_batch,
                max_delay: raw.max_delay.map_or(SimDuration::ZERO, Duration::to_sim),
            })
        }
        Err(()) => None,
    };
    let batch_time = ctx
        .required::<BatchTimeRaw>(
            body,
            "batch_time",
            Some("add e.g. `batch_time: { affine: { base: 8ms, per_item: 0.6ms } }`".to_owned()),
        )
        .and_then(|raw| batch_time(ctx, raw, body));
    let jitter = optional_distribution(ctx, body, "jitter");
    let cold_start = optional_distribution(ctx, body, "cold_start");
    let queue_capacity = optional_count(ctx, body, "queue_capacity", 0);
    if ctx.issues.len() != before {
        return None;
    }
    Some(ModelServerSpec {
        slots: slots?,
        batching: batching?,
        batch_time: batch_time?,
        jitter: jitter?,
        queue_capacity: queue_capacity?,
        cold_start: cold_start?,
    })
}

fn batch_time(ctx: &mut Ctx, raw: BatchTimeRaw, body: &SNode) -> Option<BatchTime> {
    match raw {
        BatchTimeRaw::Affine(a) => Some(BatchTime::Affine {
            base: a.base.to_sim(),
            per_item: a.per_item.to_sim(),
        }),
        BatchTimeRaw::Table(rows) => {
            let table = body.at_or_near(&["batch_time", "table"]);
            if rows.is_empty() {
                ctx.push(
                    table,
                    "`batch_time`: a `table` needs at least one row",
                    Some(
                        "e.g. `table: [ { size: 1, time: 6ms }, { size: 8, time: 12ms } ]`".into(),
                    ),
                );
                return None;
            }
            let before = ctx.issues.len();
            let mut out: Vec<(u32, SimDuration)> = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let item = table.item(i).unwrap_or(table);
                let Some(size) = count(ctx, row.size, 1, item.at_or_near(&["size"]), "size") else {
                    continue;
                };
                let time = row.time.to_sim();
                if let Some(&(prev_size, prev_time)) = out.last() {
                    if size <= prev_size {
                        ctx.push(
                            item.at_or_near(&["size"]),
                            format!(
                                "`batch_time` table sizes must increase down the table, found {size} after {prev_size}"
                            ),
                            None,
                        );
                    } else if time < prev_time {
                        ctx.push(
                            item.at_or_near(&["time"]),
                            format!(
                                "`batch_time` table times must not decrease as batches grow, found {} for size {size} after {} for size {prev_size}",
                                Duration::from_nanos(time.as_nanos()),
                                Duration::from_nanos(prev_time.as_nanos()),
                            ),
                            Some("a larger batch never runs faster than a smaller one".into()),
                        );
                    }
                }
                out.push((size, time));
            }
            (ctx.issues.len() == before).then_some(BatchTime::Table(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{BatchTime, ComponentKind, Distribution, ModelServerSpec};

    use crate::test_support::{first_kind, model_server_scenario, only_problem};
    use crate::{LoadOptions, Problem, load_str};

    fn load(body: &str) -> Result<ModelServerSpec, Vec<Problem>> {
        match first_kind(&model_server_scenario(body))? {
            ComponentKind::ModelServer(m) => Ok(m),
            other => panic!("ModelServer expected, got {other:?}"),
        }
    }

    /// The one problem of a bad body: (line, column, message, help).
    fn problem(body: &str) -> (usize, usize, String, Option<String>) {
        only_problem(&model_server_scenario(body))
    }

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_millis(x)
    }

    #[test]
    fn every_key() {
        let m = load(
            "    slots: 2\n    batching: { max_batch: 32, max_delay: 5ms }\n    batch_time: { affine: { base: 8ms, per_item: 0.6ms } }\n    jitter: { exponential: 1ms }\n    queue_capacity: 100\n    cold_start: 20s\n",
        )
        .unwrap();
        assert_eq!(m.slots, 2);
        assert_eq!(m.batching.max_batch, 32);
        assert_eq!(m.batching.max_delay, ms(5));
        assert_eq!(
            m.batch_time,
            BatchTime::Affine {
                base: ms(8),
                per_item: SimDuration::from_micros(600)
            }
        );
        assert_eq!(m.jitter, Some(Distribution::Exponential { mean_ns: 1e6 }));
        assert_eq!(m.queue_capacity, Some(100));
        assert_eq!(
            m.cold_start,
            Some(Distribution::Constant(SimDuration::from_secs(20)))
        );
    }

    #[test]
    fn defaults_and_table() {
        let m = load(
            "    batch_time:\n      table:\n        - { size: 1, time: 6ms }\n        - { size: 8, time: 12ms }\n",
        )
        .unwrap();
        assert_eq!(m.slots, 1);
        assert_eq!(m.batching.max_batch, 1);
        assert_eq!(m.batching.max_delay, SimDuration::ZERO);
        assert_eq!(
            m.batch_time,
            BatchTime::Table(vec![(1, ms(6)), (8, ms(12))])
        );
        assert_eq!(
            (m.jitter, m.queue_capacity, m.cold_start),
            (None, None, None)
        );
        let m = load("    batching: { max_batch: 8 }\n    batch_time: { affine: { base: 1ms, per_item: 1ms } }\n").unwrap();
        assert_eq!(m.batching.max_delay, SimDuration::ZERO);
    }

    #[test]
    fn typo_in_a_key_suggests_the_right_one() {
        let (line, column, message, help) = problem(
            "    batchng: { max_batch: 8 }\n    batch_time: { affine: { base: 1ms, per_item: 1ms } }\n",
        );
        assert_eq!((line, column), (10, 5));
        assert_eq!(message, "unknown key `batchng`");
        assert_eq!(help.as_deref(), Some("did you mean `batching`?"));
        let (line, _, message, help) = problem(
            "    batching: { max_batch: 8, max_dely: 5ms }\n    batch_time: { affine: { base: 1ms, per_item: 1ms } }\n",
        );
        assert_eq!(line, 10);
        assert!(message.contains("max_dely"), "{message}");
        assert_eq!(help.as_deref(), Some("did you mean `max_delay`?"));
    }

    #[test]
    fn missing_batch_time() {
        let (line, _, message, help) = problem("    slots: 2\n");
        assert_eq!(line, 9);
        assert_eq!(message, "missing required key `batch_time`");
        assert!(help.unwrap().contains("affine"));
    }

    #[test]
    fn out_of_range_values() {
        let (line, column, message, _) = problem(
            "    batching: { max_batch: 0 }\n    batch_time: { affine: { base: 1ms, per_item: 1ms } }\n",
        );
        assert_eq!((line, column), (10, 28));
        assert_eq!(message, "`max_batch` must be at least 1, found 0");
        let (line, _, message, _) =
            problem("    slots: 0\n    batch_time: { affine: { base: 1ms, per_item: 1ms } }\n");
        assert_eq!(line, 10);
        assert_eq!(message, "`slots` must be at least 1, found 0");
        let (line, _, message, _) = problem(
            "    batching: { max_batch: 4, max_delay: 5 }\n    batch_time: { affine: { base: 1ms, per_item: 1ms } }\n",
        );
        assert_eq!(line, 10);
        assert!(message.contains("unit"), "{message}");
    }

    #[test]
    fn table_rows_must_grow() {
        let (line, column, message, _) = problem(
            "    batch_time:\n      table:\n        - { size: 8, time: 6ms }\n        - { size: 4, time: 12ms }\n",
        );
        assert_eq!((line, column), (13, 19));
        assert!(message.contains("sizes must increase"), "{message}");
        let (line, column, message, help) = problem(
            "    batch_time:\n      table:\n        - { size: 1, time: 6ms }\n        - { size: 4, time: 5ms }\n",
        );
        assert_eq!((line, column), (13, 28));
        assert!(message.contains("must not decrease"), "{message}");
        assert!(help.is_some());
        let (_, _, message, _) = problem("    batch_time: { table: [] }\n");
        assert!(message.contains("at least one row"), "{message}");
        let (_, _, message, _) = problem("    batch_time: { linear: { base: 1ms } }\n");
        assert!(message.contains("linear"), "{message}");
    }

    #[test]
    fn schema_describes_model_servers() {
        let text = crate::json_schema().to_string();
        for word in [
            "model_server",
            "max_delay",
            "batch_time",
            "per_item",
            "cold_start",
        ] {
            assert!(text.contains(word), "schema lacks {word}");
        }
    }

    #[test]
    fn set_overrides_reach_nested_keys() {
        let text = model_server_scenario(
            "    batching: { max_batch: 32, max_delay: 5ms }\n    batch_time: { affine: { base: 8ms, per_item: 1ms } }\n",
        );
        let options = LoadOptions {
            overrides: vec!["components.gpu.batching.max_delay=20ms".into()],
            seed: None,
            max_memory: None,
            prices: None,
        };
        let spec = load_str("t.yaml", &text, &options).unwrap().spec;
        let ComponentKind::ModelServer(m) = &spec.components[0].kind else {
            panic!("model server expected");
        };
        assert_eq!(m.batching.max_delay, ms(20));
    }
}
