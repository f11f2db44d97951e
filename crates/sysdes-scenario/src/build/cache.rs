//! Reading a `type: cache` component: its schema and its validation.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{
    CacheCapacity, CachePolicy, CacheSpec, CacheWrites, ComponentKind, Distribution,
};

use super::{Ctx, Entry, Kind, content, count, distribution, positive_duration, resolve};
use crate::node::{Node, SNode};
use crate::raw::DistRaw;
use crate::units::{Duration, Size};

/// `type: cache` — answers reads from memory, sends misses and writes to its `backend`.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a cache: a map with `capacity` and `backend`"
)]
#[schemars(rename = "Cache")]
pub(crate) struct CacheRaw {
    /// How much it holds: a number of entries (`1000`) or a size in bytes (`64MiB`, which needs `value_size`).
    pub capacity: CapacityDoc,
    /// With a capacity in bytes: each key's value size, a size (`4KiB`) or a distribution of sizes such as `{ lognormal: { median: 4KiB, sigma: 1 } }`; a key always has the same size.
    pub value_size: Option<SizeDistDoc>,
    /// Which entry a full cache evicts (default `lru`).
    pub policy: Option<CachePolicyRaw>,
    /// Entries expire this long after they are filled (default: never); greater than zero.
    pub ttl: Option<Duration>,
    /// Time to answer a hit (default `0s`).
    pub hit_time: Option<DistRaw>,
    /// If set, hits are served by this many workers with a FIFO queue; by default every hit is served at once.
    #[schemars(range(min = 1))]
    pub workers: Option<i64>,
    /// The component that serves misses and writes.
    pub backend: String,
    /// `invalidate` (default: a write deletes the entry and goes to the backend) or `write_through` (the write goes to the backend, then the entry takes the written version).
    pub writes: Option<CacheWritesRaw>,
    /// The data it holds, e.g. `2GB`, for `cost: { per_gb_month }` (docs/cost.md); default: a capacity in bytes, else unknown. Not simulated otherwise.
    pub size: Option<Size>,
    /// Replicas and autoscaling.
    #[serde(flatten)]
    pub scaling: crate::raw::ScalingRaw,
}

/// A cache capacity: entries (an integer) or bytes (a size such as `64MiB`).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
pub(crate) enum CapacityDoc {
    /// Number of entries, at least 1.
    Entries(#[schemars(range(min = 1))] i64),
    /// Bytes of values, such as `64MiB`.
    Bytes(Size),
}

/// Eviction policies.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CachePolicy")]
pub(crate) enum CachePolicyRaw {
    /// Least recently used.
    Lru,
    /// Least frequently used (hits since the entry was filled), least recent among equals.
    Lfu,
    /// First in, first out, whatever the hits.
    Fifo,
    /// A uniformly random entry.
    Random,
}

/// What a write does to the cache.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CacheWrites")]
pub(crate) enum CacheWritesRaw {
    /// Delete the entry, forward the write.
    Invalidate,
    /// Forward the write; on success store the written version.
    WriteThrough,
}

/// A value size: a size such as `4KiB`, or a distribution of sizes.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
pub(crate) enum SizeDistDoc {
    /// Always this size.
    Fixed(Size),
    /// A distribution of sizes.
    Drawn(SizeDistRaw),
}

/// A distribution of sizes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "SizeDistribution")]
pub(crate) enum SizeDistRaw {
    /// Always this size.
    Constant(Size),
    /// Exponential with this mean.
    Exponential(Size),
    /// Uniform between the two bounds, e.g. `[1KiB, 64KiB]`.
    Uniform((Size, Size)),
    /// Log-normal, e.g. `{ median: 4KiB, sigma: 1 }`.
    Lognormal(SizeLognormalRaw),
    /// Pareto with minimum `scale` and tail index `shape`.
    Pareto(SizeParetoRaw),
}

/// Log-normal sizes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `median` and `sigma`")]
pub(crate) struct SizeLognormalRaw {
    /// The median, greater than zero.
    pub median: Size,
    /// Shape, zero or more.
    pub sigma: f64,
}

/// Pareto sizes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `scale` and `shape`")]
pub(crate) struct SizeParetoRaw {
    /// The minimum, greater than zero.
    pub scale: Size,
    /// Tail index, greater than zero.
    pub shape: f64,
}

/// Reads the cache component at index `own` (body `body`).
/// Reads a cache.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    cache(ctx, e.own, e.body, e.names).map(ComponentKind::Cache)
}

fn cache(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<CacheSpec> {
    ctx.unknown_keys(body, Kind::Cache.keys());
    let before = ctx.issues.len();
    // Only the cost reader uses it (storage per GB-month); checked here.
    let _ = ctx.optional::<Size>(body, "size");
    let capacity = capacity(ctx, body);
    let policy = match ctx.optional::<CachePolicyRaw>(body, "policy") {
        Ok(p) => Some(match p.unwrap_or(CachePolicyRaw::Lru) {
            CachePolicyRaw::Lru => CachePolicy::Lru,
            CachePolicyRaw::Lfu => CachePolicy::Lfu,
            CachePolicyRaw::Fifo => CachePolicy::Fifo,
            CachePolicyRaw::Random => CachePolicy::Random,
        }),
        Err(()) => None,
    };
    let ttl = match ctx.optional::<Duration>(body, "ttl") {
        Ok(None) => Some(None),
        Ok(Some(t)) => positive_duration(ctx, t, body.at_or_near(&["ttl"]), "ttl").map(Some),
        Err(()) => None,
    };
    let hit_time = match ctx.optional::<DistRaw>(body, "hit_time") {
        Ok(None) => Some(Distribution::Constant(SimDuration::ZERO)),
        Ok(Some(raw)) => distribution(ctx, &raw, body.at_or_near(&["hit_time"]), "hit_time"),
        Err(()) => None,
    };
    let workers = match ctx.optional::<i64>(body, "workers") {
        Ok(Some(w)) => count(ctx, w, 1, body.at_or_near(&["workers"]), "workers").map(Some),
        Ok(None) => Some(None),
        Err(()) => None,
    };
    let writes = match ctx.optional::<CacheWritesRaw>(body, "writes") {
        Ok(w) => Some(match w.unwrap_or(CacheWritesRaw::Invalidate) {
            CacheWritesRaw::Invalidate => CacheWrites::Invalidate,
            CacheWritesRaw::WriteThrough => CacheWrites::WriteThrough,
        }),
        Err(()) => None,
    };
    let backend = ctx
        .required::<String>(
            body,
            "backend",
            Some("add the name of the component that serves misses, e.g. `backend: db`".to_owned()),
        )
        .and_then(|name| {
            let node = body.at_or_near(&["backend"]);
            if names.get(own) == Some(&name.as_str()) {
                ctx.push(
                    node,
                    format!("cache `{name}` cannot be its own backend"),
                    None,
                );
                return None;
            }
            resolve(ctx, names, &name, node)
        });
    if ctx.issues.len() != before {
        return None;
    }
    Some(CacheSpec {
        capacity: capacity?,
        policy: policy?,
        ttl: ttl?,
        hit_time: hit_time?,
        workers: workers?,
        backend: backend?,
        writes: writes?,
    })
}

/// `capacity` (entries or bytes) and, with bytes, `value_size`.
fn capacity(ctx: &mut Ctx, body: &SNode) -> Option<CacheCapacity> {
    let Some(node) = body.get("capacity") else {
        ctx.push(
            body,
            "missing required key `capacity`",
            Some(
                "add e.g. `capacity: 1000` (entries) or `capacity: 64MiB` with `value_size: 4KiB`"
                    .to_owned(),
            ),
        );
        return None;
    };
    let value_size = body.get("value_size").filter(|n| n.node != Node::Null);
    match &node.node {
        Node::Int(_) => {
            let n: i64 = ctx.required(body, "capacity", None)?;
            if n < 1 {
                ctx.push(
                    node,
                    format!("`capacity` must be at least 1 entry, found {n}"),
                    None,
                );
                return None;
            }
            if let Some(v) = value_size {
                ctx.push(
                    v,
                    "`value_size` only applies when `capacity` is a size in bytes",
                    Some(format!(
                        "write e.g. `capacity: {n}KiB`, or remove `value_size`"
                    )),
                );
                return None;
            }
            u64::try_from(n).ok().map(CacheCapacity::Entries)
        }
        _ => {
            let bytes: Size = ctx.required(body, "capacity", None)?;
            if bytes.bytes() == 0 {
                ctx.push(node, "`capacity` must be greater than zero", None);
                return None;
            }
            let Some(v) = value_size else {
                ctx.push(
                    node,
                    "a capacity in bytes needs `value_size`, the size of each key's value",
                    Some("add e.g. `value_size: 4KiB` or `value_size: { lognormal: { median: 4KiB, sigma: 1 } }`".to_owned()),
                );
                return None;
            };
            let value_size = size_distribution(ctx, body, v)?;
            Some(CacheCapacity::Bytes {
                bytes: bytes.bytes(),
                value_size,
            })
        }
    }
}

/// A value size: a plain size or a distribution of sizes, as a
/// [`Distribution`] whose nanosecond fields hold bytes.
fn size_distribution(ctx: &mut Ctx, body: &SNode, node: &SNode) -> Option<Distribution> {
    let b = |s: Size| s.bytes() as f64;
    if !matches!(node.node, Node::Map(_)) {
        let s: Size = ctx.required(body, "value_size", None)?;
        if s.bytes() == 0 {
            ctx.push(node, "`value_size` must be greater than zero", None);
            return None;
        }
        return Some(Distribution::Constant(SimDuration::from_nanos(s.bytes())));
    }
    let raw: SizeDistRaw = ctx.required(body, "value_size", None)?;
    let inner = content(node);
    let positive = |ctx: &mut Ctx, s: Size, at: &SNode, what: &str| {
        if s.bytes() == 0 {
            ctx.push(
                at,
                format!("`{what}` of `value_size` must be greater than zero"),
                None,
            );
        }
    };
    let before = ctx.issues.len();
    let dist = match raw {
        SizeDistRaw::Constant(s) => {
            positive(ctx, s, inner, "constant");
            Distribution::Constant(SimDuration::from_nanos(s.bytes()))
        }
        SizeDistRaw::Exponential(s) => {
            positive(ctx, s, inner, "exponential");
            Distribution::Exponential { mean_ns: b(s) }
        }
        SizeDistRaw::Uniform((low, high)) => {
            if low > high || high.bytes() == 0 {
                ctx.push(
                    inner,
                    "`uniform` of `value_size` needs the lower bound first and a positive upper bound",
                    None,
                );
            }
            Distribution::Uniform {
                low_ns: b(low),
                high_ns: b(high),
            }
        }
        SizeDistRaw::Lognormal(l) => {
            positive(ctx, l.median, inner.at_or_near(&["median"]), "median");
            if !(l.sigma >= 0.0 && l.sigma.is_finite()) {
                ctx.push(
                    inner.at_or_near(&["sigma"]),
                    format!("`sigma` must be zero or more, found {}", l.sigma),
                    None,
                );
            }
            Distribution::LogNormal {
                median_ns: b(l.median),
                sigma: l.sigma,
            }
        }
        SizeDistRaw::Pareto(p) => {
            positive(ctx, p.scale, inner.at_or_near(&["scale"]), "scale");
            if !(p.shape > 0.0 && p.shape.is_finite()) {
                ctx.push(
                    inner.at_or_near(&["shape"]),
                    format!("`shape` must be greater than zero, found {}", p.shape),
                    None,
                );
            }
            Distribution::Pareto {
                scale_ns: b(p.scale),
                shape: p.shape,
            }
        }
    };
    (ctx.issues.len() == before).then_some(dist)
}

#[cfg(test)]
mod tests {
    use sysdes_models::{
        CacheCapacity, CachePolicy, CacheWrites, ComponentKind, Distribution, ModelSpec,
    };

    use crate::{LoadOptions, Problem, load_str};

    /// A scenario whose cache (`cache:` on line 9, its keys from line 11) has
    /// the keys `cache`.
    fn scenario(cache: &str) -> String {
        format!(
            "name: t
duration: 10s
workloads:
  - name: users
    target: cache
    arrival: {{ poisson: 100/s }}
    keys: {{ zipf: {{ n: 1000, s: 1 }} }}
components:
  cache:
    type: cache
{cache}
  db:
    type: server
    service_time: 1ms
"
        )
    }

    fn load(cache: &str) -> Result<ModelSpec, Vec<Problem>> {
        load_str("t.yaml", &scenario(cache), &LoadOptions::default())
            .map(|l| l.spec)
            .map_err(|e| e.problems().to_vec())
    }

    fn problems(cache: &str) -> Vec<(usize, usize, String, Option<String>)> {
        match load(cache) {
            Ok(spec) => panic!("expected problems, got {spec:#?}"),
            Err(found) => found
                .into_iter()
                .map(|p| (p.line, p.column, p.message, p.help))
                .collect(),
        }
    }

    fn cache_of(spec: &ModelSpec) -> &sysdes_models::CacheSpec {
        match &spec.components[0].kind {
            ComponentKind::Cache(c) => c,
            other => panic!("not a cache: {other:?}"),
        }
    }

    #[test]
    fn every_key_is_read() {
        let spec = load(
            "    capacity: 100
    policy: lfu
    ttl: 30s
    hit_time: { exponential: 0.2ms }
    workers: 4
    backend: db
    writes: write_through",
        )
        .unwrap();
        let c = cache_of(&spec);
        assert_eq!(c.capacity, CacheCapacity::Entries(100));
        assert_eq!(c.policy, CachePolicy::Lfu);
        assert_eq!(c.ttl.map(|t| t.as_nanos()), Some(30_000_000_000));
        assert_eq!(c.hit_time, Distribution::Exponential { mean_ns: 200_000.0 });
        assert_eq!(c.workers, Some(4));
        assert_eq!(c.backend.0, 1);
        assert_eq!(c.writes, CacheWrites::WriteThrough);
    }

    #[test]
    fn defaults_and_byte_capacities() {
        let spec = load("    capacity: 64MiB\n    value_size: 4KiB\n    backend: db").unwrap();
        let c = cache_of(&spec);
        assert_eq!(
            c.capacity,
            CacheCapacity::Bytes {
                bytes: 64 << 20,
                value_size: Distribution::Constant(sysdes_kernel::SimDuration::from_nanos(4096)),
            }
        );
        assert_eq!(c.policy, CachePolicy::Lru);
        assert_eq!(c.writes, CacheWrites::Invalidate);
        assert_eq!(c.ttl, None);
        assert_eq!(c.workers, None);
        let spec = load(
            "    capacity: 1GiB\n    value_size: { lognormal: { median: 4KiB, sigma: 1 } }\n    backend: db",
        )
        .unwrap();
        assert_eq!(
            cache_of(&spec).capacity,
            CacheCapacity::Bytes {
                bytes: 1 << 30,
                value_size: Distribution::LogNormal {
                    median_ns: 4096.0,
                    sigma: 1.0
                },
            }
        );
        let spec =
            load("    capacity: 1MiB\n    value_size: { uniform: [1KiB, 3KiB] }\n    backend: db")
                .unwrap();
        assert_eq!(
            cache_of(&spec).capacity,
            CacheCapacity::Bytes {
                bytes: 1 << 20,
                value_size: Distribution::Uniform {
                    low_ns: 1024.0,
                    high_ns: 3072.0
                },
            }
        );
    }

    #[test]
    fn mistakes_are_reported_with_positions_and_suggestions() {
        let found = problems(
            "    capacity: 100
    polcy: lru
    backend: dbb",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!((found[0].0, found[0].1), (12, 5));
        assert_eq!(found[0].2, "unknown key `polcy`");
        assert_eq!(found[0].3.as_deref(), Some("did you mean `policy`?"));
        assert_eq!((found[1].0, found[1].1), (13, 14));
        assert_eq!(found[1].2, "there is no component named `dbb`");
        assert_eq!(found[1].3.as_deref(), Some("did you mean `db`?"));

        let found = problems("    capacity: 100\n    policy: lruu\n    backend: db");
        assert_eq!(found.len(), 1);
        assert!(found[0].2.contains("unknown value `lruu`"), "{found:?}");
        assert_eq!(found[0].3.as_deref(), Some("did you mean `lru`?"));

        let found = problems("    capacity: 0\n    backend: cache");
        let messages: Vec<&str> = found.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`capacity` must be at least 1 entry, found 0",
                "cache `cache` cannot be its own backend"
            ]
        );

        let found = problems("    capacity: 64MiB\n    backend: db");
        assert_eq!(
            found[0].2,
            "a capacity in bytes needs `value_size`, the size of each key's value"
        );
        assert_eq!((found[0].0, found[0].1), (11, 15));

        let found = problems("    capacity: 100\n    value_size: 4KiB\n    backend: db");
        assert_eq!(
            found[0].2,
            "`value_size` only applies when `capacity` is a size in bytes"
        );

        let found = problems("    capacity: 64MiB\n    value_size: 4\n    backend: db");
        assert!(found[0].2.contains("size with a unit"), "{found:?}");

        let found = problems(
            "    capacity: 64MB\n    value_size: { lognormal: { median: 0B, sigma: -1 } }\n    backend: db",
        );
        let messages: Vec<&str> = found.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`median` of `value_size` must be greater than zero",
                "`sigma` must be zero or more, found -1"
            ]
        );

        let found = problems(
            "    capacity: 10\n    ttl: 0s\n    workers: 0\n    writes: write_back\n    backend: db",
        );
        let messages: Vec<&str> = found.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(messages[0], "`ttl` must be greater than zero");
        assert_eq!(messages[1], "`workers` must be at least 1, found 0");
        assert!(
            messages[2].contains("unknown value `write_back`"),
            "{messages:?}"
        );

        let found = problems("    capacity: 10");
        assert_eq!(found[0].2, "missing required key `backend`");
    }
}
