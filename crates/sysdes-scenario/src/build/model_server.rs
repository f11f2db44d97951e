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
use sysdes_models::{BatchTime, BatchingSpec, ModelServerSpec};

use super::{Ctx, count, distribution};
use crate::node::SNode;
use crate::raw::DistRaw;
use crate::units::Duration;

/// The keys a model server accepts.
pub(super) const MODEL_SERVER_KEYS: &[&str] = &[
    "type",
    "slots",
    "batching",
    "batch_time",
    "jitter",
    "queue_capacity",
    "cold_start",
];

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
    /// How long a batch takes as a function of its size.
    batch_time: BatchTimeRaw,
    /// A random time added to every batch (drawn once per batch); default none.
    jitter: Option<DistRaw>,
    /// Maximum number of requests waiting for a batch; arrivals beyond it are dropped. Default unbounded.
    #[schemars(range(min = 0))]
    queue_capacity: Option<i64>,
    /// Model load time before the first batch can run (drawn once per run); default none.
    cold_start: Option<DistRaw>,
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

/// Reads a model server's keys, recording every problem.
pub(super) fn model_server(ctx: &mut Ctx, body: &SNode) -> Option<ModelServerSpec> {
    ctx.unknown_keys(body, MODEL_SERVER_KEYS);
    let before = ctx.issues.len();
    let slots = match ctx.optional::<i64>(body, "slots") {
        Ok(Some(s)) => count(ctx, s, 1, body.at_or_near(&["slots"]), "slots"),
        Ok(None) => Some(1),
        Err(()) => None,
    };
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
    let jitter = match ctx.optional::<DistRaw>(body, "jitter") {
        Ok(None) => Some(None),
        Ok(Some(raw)) => distribution(ctx, &raw, body.at_or_near(&["jitter"]), "jitter").map(Some),
        Err(()) => None,
    };
    let cold_start = match ctx.optional::<DistRaw>(body, "cold_start") {
        Ok(None) => Some(None),
        Ok(Some(raw)) => {
            distribution(ctx, &raw, body.at_or_near(&["cold_start"]), "cold_start").map(Some)
        }
        Err(()) => None,
    };
    let queue_capacity = match ctx.optional::<i64>(body, "queue_capacity") {
        Ok(Some(q)) => count(
            ctx,
            q,
            0,
            body.at_or_near(&["queue_capacity"]),
            "queue_capacity",
        )
        .map(Some),
        Ok(None) => Some(None),
        Err(()) => None,
    };
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
