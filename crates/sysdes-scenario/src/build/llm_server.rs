//! Reading a `type: model_server` component in LLM mode (with an `llm:`
//! block): continuous batching of prefill and per-token decode iterations.
//!
//! ```yaml
//! chat:
//!   type: model_server
//!   slots: 1                                   # GPUs, each with its own batch; default 1
//!   llm:
//!     max_batch: 32                            # sequences decoding together per slot
//!     prefill: { affine: { base: 20ms, per_token: 0.1ms } }
//!     decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }
//!     prompt_tokens: { constant: 512 }         # or a bare number, or any distribution
//!     output_tokens: { exponential: 200 }      # rounded, at least 1
//!     kv_cache_tokens: 100000                  # optional, per slot
//!   queue_capacity: 1000                       # optional; default unbounded
//!   cold_start: 20s                            # optional model load time
//! ```
//!
//! With `scheduler: chunked` (vLLM's chunked prefill over a paged KV cache)
//! `prefill`, `decode_step` and `kv_cache_tokens` give way to:
//!
//! ```yaml
//!   llm:
//!     scheduler: chunked
//!     max_batch: 128                           # vLLM's max_num_seqs
//!     max_num_batched_tokens: 2048             # token budget per iteration; default 2048
//!     kv_block_size: 16                        # tokens per KV block; default 16
//!     kv_blocks: 2588                          # KV blocks per slot; default unlimited
//!     iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }
//!     prefix_caching: true                     # reuse cached prefix blocks; default true
//! ```
//!
//! Shared prompt prefixes (either scheduler; only `chunked` caches them):
//!
//! ```yaml
//!   llm:
//!     prefix: { tokens: 2000, groups: 20, zipf: 1.0 }   # prompt = a group's 2000 tokens + prompt_tokens
//! ```

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{
    ChunkedSpec, DecodeTime, Distribution, IterationCost, LlmScheduler, LlmServerSpec, PrefillTime,
    PrefixWorkload,
};

use super::{Ctx, Kind, content, count, optional_count, optional_distribution};
use crate::node::{Node, SNode};
use crate::raw::schema_keys;
use crate::units::Duration;

/// Model-server keys that belong to dynamic batching and have no meaning
/// in LLM mode.
const BATCHING_ONLY: &[&str] = &["batching", "batch_time", "jitter"];

/// LLM mode: iteration-level (continuous) batching of prefill and decode; see `docs/llm-serving.md`.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(deny_unknown_fields)]
#[schemars(rename = "Llm")]
pub(crate) struct LlmDoc {
    /// Most sequences running (prefilling or decoding) together on one slot, at least 1 (vLLM's `max_num_seqs` under `scheduler: chunked`).
    #[schemars(range(min = 1))]
    max_batch: i64,
    /// Time of a prefill iteration for the prompts admitted together: `{ affine: { base, per_token } }`, tokens summed over the prompts. `prefill_first` only, required there.
    prefill: Option<PrefillRaw>,
    /// Time of one decode step producing one token for each of `b` running sequences: `{ affine: { base, per_sequence } }`. `prefill_first` only, required there.
    decode_step: Option<DecodeRaw>,
    /// Prompt length per request in tokens: a number, or a distribution such as `{ lognormal: { median: 400, sigma: 1 } }`; rounded, at least 1.
    prompt_tokens: TokensDoc,
    /// Output length per request in tokens (the first comes with the prefill), like `prompt_tokens`; rounded, at least 1.
    output_tokens: TokensDoc,
    /// KV-cache capacity per slot in tokens: a request holds `prompt + output` tokens from admission to completion; one that can never fit is dropped. Default unlimited.
    #[schemars(range(min = 1))]
    kv_cache_tokens: Option<i64>,
    /// How each slot forms its iterations: `prefill_first` (default: admitted prompts are prefilled whole, running sequences wait) or `chunked` (vLLM: a token budget per iteration shared by decode tokens and prefill chunks, a paged KV cache with recompute preemption).
    scheduler: Option<SchedulerRaw>,
    /// `chunked` only: token budget of one iteration (vLLM's `max_num_batched_tokens`), at least 1. Default 2048.
    #[schemars(range(min = 1))]
    max_num_batched_tokens: Option<i64>,
    /// `chunked` only: tokens per KV block, at least 1. Default 16.
    #[schemars(range(min = 1))]
    kv_block_size: Option<i64>,
    /// `chunked` only: KV blocks per slot, at least 1; a sequence holds `ceil(tokens / kv_block_size)`; when a running one needs a block and none is free, the most recently admitted is preempted (recompute). Default unlimited.
    #[schemars(range(min = 1))]
    kv_blocks: Option<i64>,
    /// `chunked` only, required there: iteration time `floor + per_token * T + per_context_token_ps * D + per_prefill_pair_ps * P` (see `docs/llm-serving.md`).
    iteration: Option<IterationRaw>,
    /// `chunked` only: whether the full KV blocks of shared prefixes (`prefix`) are cached and reused, their prefill skipped (vLLM's automatic prefix caching; LRU eviction of unreferenced cached blocks). Default true.
    prefix_caching: Option<bool>,
    /// Shared prompt prefixes: each request draws one of `groups` prefixes (a system prompt, a RAG document) and its prompt is that prefix's `tokens` followed by its drawn `prompt_tokens`. Default none.
    prefix: Option<PrefixRaw>,
}

/// Shared prompt prefixes of an LLM workload.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `tokens` and optionally `groups`, `zipf`"
)]
#[schemars(rename = "LlmPrefix")]
pub(crate) struct PrefixRaw {
    /// Shared tokens at the front of every prompt of a group (system prompt plus context), at least 1.
    #[schemars(range(min = 1))]
    tokens: i64,
    /// Distinct prefixes, at least 1: 1 is one system prompt shared by every request; more are RAG documents or tenants. Default 1.
    #[schemars(range(min = 1))]
    groups: Option<i64>,
    /// Popularity skew of the groups: group `k` (from 1) drawn with probability proportional to `1 / k^zipf`; 0 is uniform. Default 0.
    #[schemars(range(min = 0))]
    zipf: Option<f64>,
}

/// The scheduler of a model server in LLM mode.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "LlmScheduler")]
pub(crate) enum SchedulerRaw {
    /// Prefill the admitted prompts whole, then decode (the default).
    PrefillFirst,
    /// vLLM's chunked prefill with a paged KV cache.
    Chunked,
}

/// The iteration time of the chunked scheduler.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `floor`, `per_token` and optionally `per_context_token_ps`, `per_prefill_pair_ps`"
)]
#[schemars(rename = "LlmIterationTime")]
pub(crate) struct IterationRaw {
    /// The fixed cost of one iteration (launch, reading the weights).
    floor: Duration,
    /// Added per token in the batch (decode tokens and prefill chunk tokens).
    per_token: Duration,
    /// Added per context token of each decode sequence (reading its KV cache), in picoseconds. Default 0.
    #[serde(default)]
    per_context_token_ps: u64,
    /// Added per (query, key) pair of each prefill chunk, `chunk * (cached + chunk)`, in picoseconds. Default 0.
    #[serde(default)]
    per_prefill_pair_ps: u64,
}

/// Keys that apply under one scheduler only.
const PREFILL_FIRST_ONLY: &[&str] = &["prefill", "decode_step", "kv_cache_tokens"];
const CHUNKED_ONLY: &[&str] = &[
    "max_num_batched_tokens",
    "kv_block_size",
    "kv_blocks",
    "iteration",
    "prefix_caching",
];

/// A prefill time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "PrefillTime")]
pub(crate) enum PrefillRaw {
    /// `base + per_token * tokens`, e.g. `{ affine: { base: 20ms, per_token: 0.1ms } }`.
    Affine(PrefillAffineRaw),
}

/// An affine prefill time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `base` and `per_token`")]
#[schemars(rename = "AffinePrefillTime")]
pub(crate) struct PrefillAffineRaw {
    /// The fixed cost of one prefill iteration.
    base: Duration,
    /// The added cost of each prompt token.
    per_token: Duration,
}

/// A decode-step time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "DecodeStepTime")]
pub(crate) enum DecodeRaw {
    /// `base + per_sequence * b`, e.g. `{ affine: { base: 10ms, per_sequence: 0.2ms } }`.
    Affine(DecodeAffineRaw),
}

/// An affine decode-step time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `base` and `per_sequence`"
)]
#[schemars(rename = "AffineDecodeStepTime")]
pub(crate) struct DecodeAffineRaw {
    /// The fixed cost of one step (reading the weights once).
    base: Duration,
    /// The added cost of each running sequence.
    per_sequence: Duration,
}

/// A token count: a number, or a distribution of numbers.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
pub(crate) enum TokensDoc {
    /// Always this many tokens.
    Fixed(f64),
    /// A distribution of token counts.
    Drawn(TokenDistRaw),
}

/// A distribution of token counts (each draw rounded, at least 1).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "TokenDistribution")]
pub(crate) enum TokenDistRaw {
    /// Always this many.
    Constant(f64),
    /// Exponential with this mean.
    Exponential(f64),
    /// Uniform between the two bounds, e.g. `[100, 2000]`.
    Uniform((f64, f64)),
    /// Log-normal, e.g. `{ median: 400, sigma: 1 }`.
    Lognormal(TokenLognormalRaw),
    /// Erlang-k with overall mean `mean`, e.g. `{ k: 4, mean: 200 }`.
    Erlang(TokenErlangRaw),
}

/// Log-normal token counts.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `median` and `sigma`")]
#[schemars(rename = "TokenLognormal")]
pub(crate) struct TokenLognormalRaw {
    /// The median, greater than zero.
    median: f64,
    /// Shape, zero or more.
    sigma: f64,
}

/// Erlang token counts.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `k` and `mean`")]
#[schemars(rename = "TokenErlang")]
pub(crate) struct TokenErlangRaw {
    /// Number of phases, at least 1.
    k: i64,
    /// The mean, greater than zero.
    mean: f64,
}

/// Reads a model server with an `llm:` block, recording every problem.
pub(super) fn llm_server(ctx: &mut Ctx, body: &SNode) -> Option<LlmServerSpec> {
    let before = ctx.issues.len();
    for key in BATCHING_ONLY {
        if let Some((k, _)) = body.entry(key) {
            ctx.push(
                k,
                format!("`{key}` does not apply to a model server in LLM mode (with `llm:`)"),
                Some(
                    "batches form at every iteration: set their size with `llm.max_batch`, and times with `llm.prefill` and `llm.decode_step`".into(),
                ),
            );
        }
    }
    // The batching-only keys were reported above, not a second time here.
    ctx.unknown_keys(body, Kind::ModelServer.keys());
    let slots = optional_count(ctx, body, "slots", 1).map(|s| s.unwrap_or(1));
    let cold_start = optional_distribution(ctx, body, "cold_start");
    let queue_capacity = optional_count(ctx, body, "queue_capacity", 0);
    let llm = body.get("llm")?;
    if !matches!(llm.node, Node::Map(_)) {
        ctx.push(
            llm,
            format!("`llm`: expected a map, found {}", llm.describe()),
            Some("e.g. `llm: { max_batch: 32, prefill: ..., decode_step: ..., prompt_tokens: 512, output_tokens: 200 }`".into()),
        );
        return None;
    }
    ctx.unknown_keys(llm, schema_keys!(LlmDoc));
    let scheduler = ctx
        .optional::<SchedulerRaw>(llm, "scheduler")
        .map(|s| s.unwrap_or(SchedulerRaw::PrefillFirst));
    // A bad `scheduler` is reported once: the other keys are then read as
    // the scheduler their `iteration` key suggests.
    let chunked = match scheduler {
        Ok(s) => s == SchedulerRaw::Chunked,
        Err(()) => llm.get("iteration").is_some(),
    };
    let (other, wrong) = if chunked {
        ("prefill_first", PREFILL_FIRST_ONLY)
    } else {
        ("chunked", CHUNKED_ONLY)
    };
    if scheduler.is_ok() {
        for key in wrong {
            if let Some((k, _)) = llm.entry(key) {
                ctx.push(
                    k,
                    format!("`{key}` applies only with `scheduler: {other}`"),
                    Some(if chunked {
                        "the chunked scheduler times iterations with `iteration: { floor, per_token, per_context_token_ps, per_prefill_pair_ps }` and sizes the KV cache with `kv_blocks` and `kv_block_size`".into()
                    } else {
                        "add `scheduler: chunked`, or remove the key".into()
                    }),
                );
            }
        }
    }
    let max_batch = ctx
        .required::<i64>(
            llm,
            "max_batch",
            Some("add e.g. `max_batch: 32` (sequences decoding together per slot)".into()),
        )
        .and_then(|b| count(ctx, b, 1, llm.at_or_near(&["max_batch"]), "max_batch"));
    let chunk = if chunked {
        chunked_spec(ctx, llm).map(Some)
    } else {
        Some(None)
    };
    let prefill = if chunked {
        Some(PrefillTime {
            base: SimDuration::ZERO,
            per_token: SimDuration::ZERO,
        })
    } else {
        ctx.required::<PrefillRaw>(
            llm,
            "prefill",
            Some("add e.g. `prefill: { affine: { base: 20ms, per_token: 0.1ms } }`".into()),
        )
        .map(|PrefillRaw::Affine(a)| PrefillTime {
            base: a.base.to_sim(),
            per_token: a.per_token.to_sim(),
        })
    };
    let decode_step = if chunked {
        Some(DecodeTime {
            base: SimDuration::ZERO,
            per_sequence: SimDuration::ZERO,
        })
    } else {
        ctx.required::<DecodeRaw>(
            llm,
            "decode_step",
            Some("add e.g. `decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }`".into()),
        )
        .map(|DecodeRaw::Affine(a)| DecodeTime {
            base: a.base.to_sim(),
            per_sequence: a.per_sequence.to_sim(),
        })
    };
    let prompt_tokens = token_distribution(ctx, llm, "prompt_tokens", "512");
    let output_tokens = token_distribution(ctx, llm, "output_tokens", "{ exponential: 200 }");
    let kv_cache_tokens = match ctx.optional::<i64>(llm, "kv_cache_tokens") {
        Ok(Some(k)) if k >= 1 => Some(Some(k as u64)),
        Ok(Some(k)) => {
            ctx.push(
                llm.at_or_near(&["kv_cache_tokens"]),
                format!("`kv_cache_tokens` must be at least 1, found {k}"),
                Some("leave it out for an unlimited KV cache".into()),
            );
            None
        }
        Ok(None) => Some(None),
        Err(()) => None,
    };
    let prefix = prefix_workload(ctx, llm);
    if ctx.issues.len() != before {
        return None;
    }
    let scheduler = match chunk? {
        Some(mut c) => {
            c.max_num_seqs = max_batch?;
            LlmScheduler::Chunked(c)
        }
        None => LlmScheduler::PrefillFirst,
    };
    let (prefill, decode_step) = match scheduler {
        // The affine view of the chunked cost (attention left out), for
        // the capacity estimate: a pure prefill or decode iteration.
        LlmScheduler::Chunked(c) => (
            PrefillTime {
                base: c.cost.floor,
                per_token: SimDuration::from_nanos(c.cost.per_token_ps / 1000),
            },
            DecodeTime {
                base: c.cost.floor,
                per_sequence: SimDuration::from_nanos(c.cost.per_token_ps / 1000),
            },
        ),
        LlmScheduler::PrefillFirst => (prefill?, decode_step?),
    };
    Some(LlmServerSpec {
        slots: slots?,
        max_batch: max_batch?,
        prefill,
        decode_step,
        prompt_tokens: prompt_tokens?,
        output_tokens: output_tokens?,
        kv_cache_tokens: kv_cache_tokens?,
        queue_capacity: queue_capacity?,
        cold_start: cold_start?,
        scheduler,
        prefix: prefix?,
    })
}

/// Most prefix tokens over all groups (the prefix cache is preallocated,
/// one entry per block of every group per slot).
const MAX_PREFIX_TOKENS: u64 = 1 << 27;

/// The `prefix` block: outer `None` when a problem was recorded.
fn prefix_workload(ctx: &mut Ctx, llm: &SNode) -> Option<Option<PrefixWorkload>> {
    let raw = ctx.optional::<PrefixRaw>(llm, "prefix").ok()?;
    let Some(raw) = raw else {
        return Some(None);
    };
    let at = |k: &str| llm.at_or_near(&["prefix", k]);
    let tokens = count(ctx, raw.tokens, 1, at("tokens"), "prefix.tokens");
    let groups = match raw.groups {
        Some(g) => count(ctx, g, 1, at("groups"), "prefix.groups"),
        None => Some(1),
    };
    let zipf = raw.zipf.unwrap_or(0.0);
    if !(zipf >= 0.0 && zipf.is_finite()) {
        ctx.push(
            at("zipf"),
            format!("`prefix.zipf` must be zero or more, found {zipf}"),
            Some("0 draws the groups uniformly; 1 is the classic Zipf popularity".into()),
        );
        return None;
    }
    let (tokens, groups) = (tokens?, groups?);
    if u64::from(groups) * u64::from(tokens) > MAX_PREFIX_TOKENS {
        ctx.push(
            at("groups"),
            format!(
                "`prefix`: {groups} groups of {tokens} tokens is more than {MAX_PREFIX_TOKENS} prefix tokens to cache (the cache keeps an entry per block of every group)"
            ),
            Some("use fewer groups or shorter prefixes".into()),
        );
        return None;
    }
    Some(Some(PrefixWorkload {
        tokens,
        groups,
        zipf,
    }))
}

/// The chunked scheduler's keys (`max_num_seqs` is set from `max_batch` by
/// the caller).
fn chunked_spec(ctx: &mut Ctx, llm: &SNode) -> Option<ChunkedSpec> {
    // Outer `None`: a problem was recorded; inner `None`: absent.
    let at_least_one = |ctx: &mut Ctx, key: &str| -> Option<Option<u32>> {
        match ctx.optional::<i64>(llm, key) {
            Ok(None) => Some(None),
            Ok(Some(v)) => count(ctx, v, 1, llm.at_or_near(&[key]), key).map(Some),
            Err(()) => None,
        }
    };
    let budget = at_least_one(ctx, "max_num_batched_tokens").map(|b| b.unwrap_or(2048));
    let block_size = at_least_one(ctx, "kv_block_size").map(|b| b.unwrap_or(16));
    let num_blocks = at_least_one(ctx, "kv_blocks");
    let cost = ctx
        .required::<IterationRaw>(
            llm,
            "iteration",
            Some("add e.g. `iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }`".into()),
        )
        .map(|i| IterationCost {
            floor: i.floor.to_sim(),
            per_token_ps: i.per_token.as_nanos().saturating_mul(1000),
            per_context_token_ps: i.per_context_token_ps,
            per_prefill_pair_ps: i.per_prefill_pair_ps,
        });
    let prefix_caching = ctx
        .optional::<bool>(llm, "prefix_caching")
        .map(|b| b.unwrap_or(true));
    Some(ChunkedSpec {
        max_num_batched_tokens: budget?,
        max_num_seqs: 1,
        block_size: block_size?,
        num_blocks: num_blocks?,
        cost: cost?,
        prefix_caching: prefix_caching.ok()?,
    })
}

/// A token count or distribution, as a [`Distribution`] whose nanosecond
/// values are tokens.
fn token_distribution(
    ctx: &mut Ctx,
    llm: &SNode,
    key: &str,
    example: &str,
) -> Option<Distribution> {
    let help = Some(format!("add e.g. `{key}: {example}`"));
    let node = llm.at_or_near(&[key]);
    if llm
        .get(key)
        .is_some_and(|n| !matches!(n.node, Node::Map(_)))
    {
        let n: f64 = ctx.required(llm, key, help)?;
        if !(n >= 1.0 && n.is_finite()) {
            ctx.push(
                node,
                format!("`{key}` must be at least 1 token, found {n}"),
                None,
            );
            return None;
        }
        return Some(Distribution::Constant(SimDuration::from_nanos(
            (n + 0.5) as u64,
        )));
    }
    let raw: TokenDistRaw = ctx.required(llm, key, help)?;
    let inner = content(node);
    let before = ctx.issues.len();
    let positive = |ctx: &mut Ctx, x: f64, at: &SNode, what: &str| {
        if !(x > 0.0 && x.is_finite()) {
            ctx.push(
                at,
                format!("`{what}` of `{key}` must be greater than zero, found {x}"),
                None,
            );
        }
    };
    let dist = match raw {
        TokenDistRaw::Constant(n) => {
            if !(n >= 1.0 && n.is_finite()) {
                ctx.push(
                    inner,
                    format!("`{key}` must be at least 1 token, found {n}"),
                    None,
                );
            }
            Distribution::Constant(SimDuration::from_nanos((n.max(0.0) + 0.5) as u64))
        }
        TokenDistRaw::Exponential(mean) => {
            positive(ctx, mean, inner, "exponential");
            Distribution::Exponential { mean_ns: mean }
        }
        TokenDistRaw::Uniform((low, high)) => {
            if !(low >= 0.0 && low <= high && high.is_finite()) {
                ctx.push(
                    inner,
                    format!(
                        "`uniform` of `{key}` needs two bounds, zero or more, the lower first; found [{low}, {high}]"
                    ),
                    None,
                );
            }
            Distribution::Uniform {
                low_ns: low,
                high_ns: high,
            }
        }
        TokenDistRaw::Lognormal(l) => {
            positive(ctx, l.median, inner.at_or_near(&["median"]), "median");
            if !(l.sigma >= 0.0 && l.sigma.is_finite()) {
                ctx.push(
                    inner.at_or_near(&["sigma"]),
                    format!("`sigma` must be zero or more, found {}", l.sigma),
                    None,
                );
            }
            Distribution::LogNormal {
                median_ns: l.median,
                sigma: l.sigma,
            }
        }
        TokenDistRaw::Erlang(e) => {
            positive(ctx, e.mean, inner.at_or_near(&["mean"]), "mean");
            let k = count(ctx, e.k, 1, inner.at_or_near(&["k"]), "k");
            Distribution::Erlang {
                k: k.unwrap_or(1),
                mean_ns: e.mean,
            }
        }
    };
    (ctx.issues.len() == before).then_some(dist)
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{
        ComponentKind, DecodeTime, Distribution, LlmScheduler, LlmServerSpec, PrefillTime,
    };

    use crate::test_support::{first_kind, model_server_scenario, only_problem};
    use crate::{LoadOptions, Problem, load_str};

    const LLM: &str = "    llm:\n      max_batch: 32\n      prefill: { affine: { base: 20ms, per_token: 0.1ms } }\n      decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }\n      prompt_tokens: { constant: 512 }\n      output_tokens: { exponential: 200 }\n";

    fn load(body: &str) -> Result<LlmServerSpec, Vec<Problem>> {
        match first_kind(&model_server_scenario(body))? {
            ComponentKind::LlmServer(m) => Ok(m),
            other => panic!("LlmServer expected, got {other:?}"),
        }
    }

    /// The one problem of a bad body: (line, column, message, help).
    fn problem(body: &str) -> (usize, usize, String, Option<String>) {
        only_problem(&model_server_scenario(body))
    }

    fn us(x: u64) -> SimDuration {
        SimDuration::from_micros(x)
    }

    #[test]
    fn every_key() {
        let m = load(&format!(
            "    slots: 2\n    queue_capacity: 100\n    cold_start: 20s\n{LLM}      kv_cache_tokens: 100000\n"
        ))
        .unwrap();
        assert_eq!(m.slots, 2);
        assert_eq!(m.max_batch, 32);
        assert_eq!(
            m.prefill,
            PrefillTime {
                base: us(20_000),
                per_token: us(100)
            }
        );
        assert_eq!(
            m.decode_step,
            DecodeTime {
                base: us(10_000),
                per_sequence: us(200)
            }
        );
        assert_eq!(
            m.prompt_tokens,
            Distribution::Constant(SimDuration::from_nanos(512))
        );
        assert_eq!(
            m.output_tokens,
            Distribution::Exponential { mean_ns: 200.0 }
        );
        assert_eq!(m.kv_cache_tokens, Some(100_000));
        assert_eq!(m.queue_capacity, Some(100));
        assert_eq!(
            m.cold_start,
            Some(Distribution::Constant(SimDuration::from_secs(20)))
        );
    }

    const CHUNKED: &str = "    llm:\n      scheduler: chunked\n      max_batch: 128\n      iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }\n      prompt_tokens: 512\n      output_tokens: 200\n";

    #[test]
    fn chunked_keys_and_defaults() {
        use sysdes_models::{ChunkedSpec, IterationCost};
        let cost = IterationCost {
            floor: us(14_000),
            per_token_ps: 10_000_000,
            per_context_token_ps: 131_000,
            per_prefill_pair_ps: 1,
        };
        let m = load(CHUNKED).unwrap();
        assert_eq!(
            m.scheduler,
            LlmScheduler::Chunked(ChunkedSpec {
                max_num_batched_tokens: 2048,
                max_num_seqs: 128,
                block_size: 16,
                num_blocks: None,
                prefix_caching: true,
                cost,
            })
        );
        // The affine view for the capacity estimate.
        assert_eq!(m.prefill.base, us(14_000));
        assert_eq!(m.decode_step.per_sequence, us(10));
        let m = load(&format!(
            "{CHUNKED}      max_num_batched_tokens: 512\n      kv_block_size: 32\n      kv_blocks: 100\n"
        ))
        .unwrap();
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert_eq!(
            (c.max_num_batched_tokens, c.block_size, c.num_blocks),
            (512, 32, Some(100))
        );
        assert_eq!(load(LLM).unwrap().scheduler, LlmScheduler::PrefillFirst);
    }

    #[test]
    fn keys_of_the_other_scheduler_are_located_errors() {
        let (line, _, msg, help) = problem(&format!("{CHUNKED}      kv_cache_tokens: 1000\n"));
        assert!(
            msg.contains("`kv_cache_tokens` applies only with `scheduler: prefill_first`"),
            "{msg}"
        );
        assert!(help.unwrap().contains("kv_blocks"));
        assert!(line > 0);
        let (_, _, msg, _) = problem(&format!("{LLM}      kv_blocks: 10\n"));
        assert!(
            msg.contains("`kv_blocks` applies only with `scheduler: chunked`"),
            "{msg}"
        );
        let (_, _, msg, _) = problem(&CHUNKED.replace("      iteration: { floor: 14ms, per_token: 10us, per_context_token_ps: 131000, per_prefill_pair_ps: 1 }\n", ""));
        assert!(msg.contains("iteration"), "{msg}");
        let (_, _, msg, _) = problem(&format!("{CHUNKED}      kv_blocks: 0\n"));
        assert!(msg.contains("kv_blocks"), "{msg}");
        let (_, _, msg, _) = problem(&CHUNKED.replace("chunked", "fifo"));
        assert!(
            msg.contains("scheduler") || msg.contains("prefill_first"),
            "{msg}"
        );
    }

    #[test]
    fn prefix_keys() {
        let m = load(&format!(
            "{CHUNKED}      prefix: {{ tokens: 2000, groups: 20, zipf: 1.0 }}\n      prefix_caching: false\n"
        ))
        .unwrap();
        assert_eq!(
            m.prefix,
            Some(sysdes_models::PrefixWorkload {
                tokens: 2000,
                groups: 20,
                zipf: 1.0
            })
        );
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert!(!c.prefix_caching);
        // Defaults: one group, uniform, caching on; prefill-first takes a prefix too.
        let m = load(&format!("{CHUNKED}      prefix: {{ tokens: 300 }}\n")).unwrap();
        assert_eq!(m.prefix.map(|x| (x.groups, x.zipf)), Some((1, 0.0)));
        let LlmScheduler::Chunked(c) = m.scheduler else {
            panic!("chunked expected");
        };
        assert!(c.prefix_caching);
        assert!(load(&format!("{LLM}      prefix: {{ tokens: 300 }}\n")).is_ok());
    }

    #[test]
    fn bad_prefix_keys_are_located_errors() {
        let (line, _, msg, _) = problem(&format!("{LLM}      prefix_caching: true\n"));
        assert!(line > 0);
        assert!(
            msg.contains("`prefix_caching` applies only with `scheduler: chunked`"),
            "{msg}"
        );
        let (_, _, msg, _) = problem(&format!("{CHUNKED}      prefix: {{ tokens: 0 }}\n"));
        assert_eq!(msg, "`prefix.tokens` must be at least 1, found 0");
        let (_, _, msg, help) = problem(&format!(
            "{CHUNKED}      prefix: {{ tokens: 10, zipf: -1 }}\n"
        ));
        assert!(msg.contains("`prefix.zipf` must be zero or more"), "{msg}");
        assert!(help.unwrap().contains("uniform"));
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      prefix: {{ tokens: 10, grups: 2 }}\n"
        ));
        assert!(msg.contains("grups"), "{msg}");
        let (_, _, msg, _) = problem(&format!(
            "{CHUNKED}      prefix: {{ tokens: 100000, groups: 100000 }}\n"
        ));
        assert!(msg.contains("prefix tokens to cache"), "{msg}");
    }

    #[test]
    fn defaults_and_bare_numbers() {
        let body = LLM.replace("{ constant: 512 }", "300").replace(
            "{ exponential: 200 }",
            "{ lognormal: { median: 150, sigma: 0.8 } }",
        );
        let m = load(&body).unwrap();
        assert_eq!(m.slots, 1);
        assert_eq!(
            (m.kv_cache_tokens, m.queue_capacity, m.cold_start),
            (None, None, None)
        );
        assert_eq!(
            m.prompt_tokens,
            Distribution::Constant(SimDuration::from_nanos(300))
        );
        assert_eq!(
            m.output_tokens,
            Distribution::LogNormal {
                median_ns: 150.0,
                sigma: 0.8
            }
        );
        let m = load(&LLM.replace("{ exponential: 200 }", "{ uniform: [10, 400] }")).unwrap();
        assert_eq!(
            m.output_tokens,
            Distribution::Uniform {
                low_ns: 10.0,
                high_ns: 400.0
            }
        );
    }

    #[test]
    fn typos_suggest_the_right_key() {
        let (line, column, message, help) = problem(&LLM.replace("max_batch", "max_btch"));
        assert_eq!((line, column), (11, 7));
        assert_eq!(message, "unknown key `max_btch`");
        assert_eq!(help.as_deref(), Some("did you mean `max_batch`?"));
        let (line, _, message, help) = problem(&LLM.replace("per_sequence", "per_seq"));
        assert_eq!(line, 13);
        assert!(message.contains("per_seq"), "{message}");
        assert!(help.unwrap().contains("per_sequence"));
        let (line, column, message, help) = problem(&format!("    cold_strt: 1s\n{LLM}"));
        assert_eq!((line, column), (10, 5));
        assert_eq!(message, "unknown key `cold_strt`");
        assert_eq!(help.as_deref(), Some("did you mean `cold_start`?"));
    }

    #[test]
    fn batching_keys_do_not_mix_with_llm() {
        let (line, column, message, help) =
            problem(&format!("    batching: {{ max_batch: 8 }}\n{LLM}"));
        assert_eq!((line, column), (10, 5));
        assert!(message.contains("LLM mode"), "{message}");
        assert!(help.unwrap().contains("llm.max_batch"));
    }

    #[test]
    fn missing_and_out_of_range_values() {
        let (line, _, message, help) = problem(&LLM.replace(
            "      decode_step: { affine: { base: 10ms, per_sequence: 0.2ms } }\n",
            "",
        ));
        assert_eq!(line, 11);
        assert_eq!(message, "missing required key `decode_step`");
        assert!(help.unwrap().contains("per_sequence"));
        let (line, column, message, _) = problem(&LLM.replace("max_batch: 32", "max_batch: 0"));
        assert_eq!((line, column), (11, 18));
        assert_eq!(message, "`max_batch` must be at least 1, found 0");
        let (line, _, message, _) = problem(&LLM.replace("{ constant: 512 }", "0"));
        assert_eq!(line, 14);
        assert!(message.contains("at least 1 token"), "{message}");
        let (line, _, message, _) =
            problem(&LLM.replace("{ exponential: 200 }", "{ exponential: -3 }"));
        assert_eq!(line, 15);
        assert!(message.contains("greater than zero"), "{message}");
        let (_, _, message, _) = problem(&LLM.replace("base: 20ms", "base: 20"));
        assert!(message.contains("unit"), "{message}");
        let (line, _, message, _) = problem(&format!("{LLM}      kv_cache_tokens: 0\n"));
        assert_eq!(line, 16);
        assert!(message.contains("kv_cache_tokens"), "{message}");
        let (_, _, message, _) = problem("    llm: 5\n");
        assert!(message.contains("expected a map"), "{message}");
    }

    #[test]
    fn a_crash_fault_can_target_a_model_server_in_llm_mode() {
        let text = format!(
            "{}{LLM}faults:\n  - {{ crash: gpu, at: 1s, for: 1s }}\n",
            model_server_scenario("")
        );
        let loaded = load_str("t.yaml", &text, &LoadOptions::default()).expect("accepted");
        assert_eq!(loaded.spec.faults.len(), 1);
    }

    #[test]
    fn schema_describes_llm_mode() {
        let text = crate::json_schema().to_string();
        for word in [
            "decode_step",
            "per_sequence",
            "prompt_tokens",
            "kv_cache_tokens",
        ] {
            assert!(text.contains(word), "schema lacks {word}");
        }
    }

    #[test]
    fn set_overrides_reach_llm_keys() {
        let options = LoadOptions {
            overrides: vec!["components.gpu.llm.max_batch=4".into()],
            seed: None,
            max_memory: None,
            prices: None,
        };
        let spec = load_str("t.yaml", &model_server_scenario(LLM), &options)
            .unwrap()
            .spec;
        let ComponentKind::LlmServer(m) = &spec.components[0].kind else {
            panic!("LLM model server expected");
        };
        assert_eq!(m.max_batch, 4);
    }
}
