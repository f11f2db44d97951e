//! The scenario file's schema as typed "raw" structs: what a user may write,
//! before names are resolved and values range-checked.
//!
//! These types mirror the YAML exactly (keyed maps, externally tagged enums,
//! `deny_unknown_fields`) and also generate the JSON Schema, so their doc
//! comments are what editors show on hover. Counts are read as `i64` so that
//! negative or zero values reach validation, which names the field at fault.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, VariantAccess, Visitor};

use crate::units::{Duration, Rate};

/// A sysdes scenario: workloads that send requests to named components,
/// simulated for `duration`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[schemars(rename = "Scenario")]
pub(crate) struct ScenarioDoc {
    /// The scenario's name, reported back in results.
    name: String,
    /// A free-text description of what the scenario models.
    description: Option<String>,
    /// Root seed from which every random stream is derived (default 1). `--seed` overrides it.
    seed: Option<u64>,
    /// How long workloads generate arrivals: during `[0, duration)`. Requests in flight then drain.
    duration: Duration,
    /// Requests that arrive before `warmup` are simulated but not counted (default `0s`); must be less than `duration`.
    warmup: Option<Duration>,
    /// Sources of requests, at least one. Each is addressed by its `name` in `--set` paths.
    workloads: Vec<WorkloadRaw>,
    /// The components of the system, keyed by name, at least one. File order is the order of results.
    components: BTreeMap<String, ComponentDoc>,
    /// The network between components.
    network: Option<NetworkRaw>,
    /// A parameter sweep for `sysdes sweep` (ignored by `sysdes run`); see `docs/sweeps.md`.
    sweep: Option<SweepDoc>,
}

/// A parameter sweep: which paths to vary, how to combine them, how many replications.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads the block by hand.
#[schemars(rename = "Sweep")]
pub(crate) struct SweepDoc {
    /// Paths in `--set` syntax, each with a list of values or a range `{ from, to, step }` or `{ from, to, points, log }`.
    vary: Option<BTreeMap<String, serde_json::Value>>,
    /// `grid` (every combination, the default) or `zip` (the i-th values together).
    combine: Option<String>,
    /// Runs per point, each with its own seed (default 1).
    #[schemars(range(min = 1))]
    replications: Option<u32>,
    /// `common` (the default: replication r has the same seed at every point) or `independent`.
    seeds: Option<String>,
}

/// A component; `type` says which kind.
#[derive(JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)] // Only used to generate the JSON Schema; `type` is read by hand.
#[schemars(rename = "Component")]
pub(crate) enum ComponentDoc {
    /// A FIFO queue with `workers` parallel servers (an M/M/c station when times are exponential).
    Server(ServerRaw),
    /// Routes each request to one of its `backends`.
    LoadBalancer(LoadBalancerRaw),
    /// A replicated key-value store (leader or leaderless quorums).
    Store(crate::build::store::StoreRaw),
}

/// A source of requests.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a workload: a map with `name`, `target` and `arrival`"
)]
#[schemars(rename = "Workload")]
pub(crate) struct WorkloadRaw {
    /// Unique name, used in results and in `--set workloads.NAME...` paths.
    pub name: String,
    /// The name of the component that receives this workload's requests.
    pub target: String,
    /// How requests arrive.
    pub arrival: ArrivalRaw,
    /// The key each request carries (used by `consistent_hash`); default: a fresh key per request.
    pub keys: Option<KeysRaw>,
    /// The client gives up on a request after this long and counts it as timed out; must be greater than zero.
    pub timeout: Option<Duration>,
}

/// How a workload's requests arrive.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Arrival")]
pub(crate) enum ArrivalRaw {
    /// Open loop, exponential inter-arrival times at this mean rate, e.g. `{ poisson: 800/s }`.
    Poisson(Rate),
    /// Open loop, evenly spaced at this rate, e.g. `{ constant: 100/s }`.
    Constant(Rate),
    /// Open loop, inter-arrival times drawn from a distribution, e.g. `{ interarrival: { uniform: [1ms, 3ms] } }`.
    Interarrival(DistRaw),
    /// Closed loop: `users` clients each send a request, wait for the response, think, and repeat.
    Closed(ClosedRaw),
}

/// A closed-loop population.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `users` and `think_time`")]
#[schemars(rename = "ClosedLoop")]
pub(crate) struct ClosedRaw {
    /// Number of concurrent clients, at least 1.
    #[schemars(range(min = 1))]
    pub users: i64,
    /// Time between a response and the client's next request (default `0s`).
    pub think_time: Option<DistRaw>,
}

/// The keys requests carry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Keys")]
pub(crate) enum KeysRaw {
    /// Keys uniform on `0..N`, e.g. `{ uniform: 1000 }`.
    Uniform(#[schemars(range(min = 1))] i64),
    /// Keys on `0..n` with Zipf popularity of exponent `s` (key 0 the hottest).
    Zipf(ZipfRaw),
}

/// Zipf key popularity.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `n` and `s`")]
#[schemars(rename = "Zipf")]
pub(crate) struct ZipfRaw {
    /// Number of distinct keys, at least 1.
    #[schemars(range(min = 1))]
    pub n: i64,
    /// Zipf exponent, zero or more: 0 is uniform, about 1 is typical of web traffic.
    #[schemars(range(min = 0))]
    pub s: f64,
}

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
}

/// `type: load_balancer` — routes each request to one backend.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a load balancer: a map with `backends` and optionally `policy`"
)]
#[schemars(rename = "LoadBalancer")]
pub(crate) struct LoadBalancerRaw {
    /// How a backend is chosen (default `round_robin`).
    pub policy: Option<PolicyRaw>,
    /// Names of the candidate components: at least one, no duplicates, not the balancer itself.
    pub backends: Vec<String>,
}

/// Load-balancing policies.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Policy")]
pub(crate) enum PolicyRaw {
    /// Backends in turn.
    RoundRobin,
    /// A uniformly random backend.
    Random,
    /// The backend with the fewest requests outstanding from this balancer (join-the-shortest-queue).
    LeastOutstanding,
    /// Two distinct random backends; the one with fewer outstanding requests.
    PowerOfTwo,
    /// A hash ring over the request's key, so equal keys go to the same backend.
    ConsistentHash,
}

/// The network between components.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `latency`")]
#[schemars(rename = "Network")]
pub(crate) struct NetworkRaw {
    /// One-way delay of every hop (default `0ms`); a plain duration means a constant.
    pub latency: Option<DistRaw>,
}

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DistRaw {
    Constant(Duration),
    Exponential(Duration),
    Uniform(Duration, Duration),
    Lognormal(LognormalRaw),
    Pareto(ParetoRaw),
    Erlang(ErlangRaw),
    Mixture(Vec<MixturePartRaw>),
}

/// Log-normal: `median * exp(sigma * Z)`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `median` and `sigma`")]
#[schemars(rename = "Lognormal")]
pub(crate) struct LognormalRaw {
    /// The median, greater than zero.
    pub median: Duration,
    /// Shape: the standard deviation of the underlying normal, zero or more.
    #[schemars(range(min = 0))]
    pub sigma: f64,
}

/// Pareto (type I).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `scale` and `shape`")]
#[schemars(rename = "Pareto")]
pub(crate) struct ParetoRaw {
    /// The minimum value, greater than zero.
    pub scale: Duration,
    /// Tail index, greater than zero; the mean is finite only above 1.
    pub shape: f64,
}

/// Erlang-k: the sum of `k` exponentials with overall mean `mean`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `k` and `mean`")]
#[schemars(rename = "Erlang")]
pub(crate) struct ErlangRaw {
    /// Number of phases, at least 1.
    #[schemars(range(min = 1))]
    pub k: i64,
    /// Mean of the sum, greater than zero.
    pub mean: Duration,
}

/// One weighted part of a mixture.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `weight` and `dist`")]
#[schemars(rename = "MixturePart")]
pub(crate) struct MixturePartRaw {
    /// Relative weight, greater than zero; weights need not sum to one.
    pub weight: f64,
    /// The distribution drawn from with this weight.
    pub dist: DistRaw,
}

/// The tagged forms of a distribution, for the JSON Schema only.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // Only used to generate the JSON Schema.
#[schemars(rename = "DistributionForm")]
enum DistForm {
    /// Always this value.
    Constant(Duration),
    /// Exponential with this mean.
    Exponential(Duration),
    /// Uniform between the two bounds, e.g. `[1ms, 3ms]`.
    Uniform((Duration, Duration)),
    /// Log-normal, e.g. `{ median: 4ms, sigma: 0.5 }`.
    Lognormal(LognormalRaw),
    /// Pareto with minimum `scale` and tail index `shape`, e.g. `{ scale: 1ms, shape: 2.5 }`.
    Pareto(ParetoRaw),
    /// Erlang-k, e.g. `{ k: 3, mean: 3ms }`.
    Erlang(ErlangRaw),
    /// A weighted choice, e.g. `[ { weight: 0.99, dist: 1ms }, { weight: 0.01, dist: { exponential: 100ms } } ]`.
    Mixture(Vec<MixturePartRaw>),
}

impl JsonSchema for DistRaw {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Distribution")
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let constant = generator.subschema_for::<Duration>();
        let tagged = generator.subschema_for::<DistForm>();
        json_schema!({
            "description": "A distribution of durations: a plain duration such as `5ms` (constant), or one of `{ constant: 5ms }`, `{ exponential: 5ms }`, `{ uniform: [1ms, 3ms] }`, `{ lognormal: { median: 4ms, sigma: 0.5 } }`, `{ pareto: { scale: 1ms, shape: 2.5 } }`, `{ erlang: { k: 3, mean: 3ms } }`, `{ mixture: [ { weight: 0.99, dist: 1ms }, ... ] }`.",
            "anyOf": [constant, tagged],
        })
    }
}

const DIST_VARIANTS: &[&str] = &[
    "constant",
    "exponential",
    "uniform",
    "lognormal",
    "pareto",
    "erlang",
    "mixture",
];

/// The name of a distribution form, or a plain duration written in its place.
enum DistTag {
    Named(usize),
    Plain(Duration),
}

struct DistTagSeed;

impl<'de> DeserializeSeed<'de> for DistTagSeed {
    type Value = DistTag;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<DistTag, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for DistTagSeed {
    type Value = DistTag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `5ms` or a distribution such as `{ exponential: 5ms }`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DistTag, E> {
        if let Some(i) = DIST_VARIANTS.iter().position(|n| *n == v) {
            return Ok(DistTag::Named(i));
        }
        if v.trim_start()
            .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        {
            return v
                .parse::<Duration>()
                .map(DistTag::Plain)
                .map_err(|e| E::custom(e.to_custom()));
        }
        Err(E::unknown_variant(v, DIST_VARIANTS))
    }
}

struct DistVisitor;

impl<'de> Visitor<'de> for DistVisitor {
    type Value = DistRaw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `5ms` or a distribution such as `{ exponential: 5ms }`")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<DistRaw, A::Error> {
        let (tag, variant) = data.variant_seed(DistTagSeed)?;
        Ok(match tag {
            DistTag::Plain(d) => {
                variant.unit_variant()?;
                DistRaw::Constant(d)
            }
            DistTag::Named(0) => DistRaw::Constant(variant.newtype_variant()?),
            DistTag::Named(1) => DistRaw::Exponential(variant.newtype_variant()?),
            DistTag::Named(2) => {
                let (low, high): (Duration, Duration) = variant.newtype_variant()?;
                DistRaw::Uniform(low, high)
            }
            DistTag::Named(3) => DistRaw::Lognormal(variant.newtype_variant()?),
            DistTag::Named(4) => DistRaw::Pareto(variant.newtype_variant()?),
            DistTag::Named(5) => DistRaw::Erlang(variant.newtype_variant()?),
            DistTag::Named(_) => DistRaw::Mixture(variant.newtype_variant()?),
        })
    }
}

impl<'de> Deserialize<'de> for DistRaw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_enum("Distribution", DIST_VARIANTS, DistVisitor)
    }
}
