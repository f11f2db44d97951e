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
use serde_json::Value;

use crate::units::{Bandwidth, Duration, Rate, RateOrZero, Size};

/// The keys a map read as the schema struct `$t` may have, in declaration
/// order: the properties of its JSON Schema (serde names, flattened fields
/// inline), so the loader's "unknown key" checks and suggestions accept
/// exactly what the schema documents. Computed once per use site.
macro_rules! schema_keys {
    ($t:ty) => {{
        static OWNED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        static KEYS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| {
            OWNED
                .get_or_init(|| crate::raw::properties(schemars::schema_for!($t).as_value()))
                .iter()
                .map(String::as_str)
                .collect()
        })
        .as_slice()
    }};
}
pub(crate) use schema_keys;

/// The property names of an object schema, in order (none for another schema).
pub(crate) fn properties(schema: &Value) -> Vec<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

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
    components: BTreeMap<String, crate::build::ComponentDoc>,
    /// The network between components.
    network: Option<NetworkRaw>,
    /// A parameter sweep for `sysdes sweep` (ignored by `sysdes run`); see `docs/sweeps.md`.
    sweep: Option<SweepDoc>,
    /// Pools of identical hosts, keyed by name, that a server's replicas are placed on (`host: NAME`); see `docs/deployment.md`.
    hosts: Option<BTreeMap<String, HostPoolRaw>>,
    /// Faults injected at given times: crashes, slowdowns, partitions, latency and loss; see `docs/faults.md`.
    faults: Option<Vec<FaultDoc>>,
    /// Targets checked after the run (exit status 3 when one is missed); see `docs/scenario-format.md`.
    expect: Option<Vec<crate::build::expect::ExpectDoc>>,
}

/// One fault: exactly one of `crash`, `slowdown`, `partition`, `latency`, `loss`, with `at` and `for`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads faults by hand.
#[schemars(rename = "Fault")]
pub(crate) struct FaultDoc {
    /// The component stops and restarts after `for`: a server or model server fails what is inside and every arrival; a cache forgets its contents and sends every read to its backend; a queue or stream broker fails sends and stops its consumers. A store goes down whole (every replica), or one replica as `STORE.rI`.
    crash: Option<String>,
    /// Service times that start during the window are multiplied by `factor`: a server's or model server's, a cache's hit times, a store's read and write times.
    slowdown: Option<String>,
    /// Service-time multiplier of a `slowdown`, greater than zero.
    factor: Option<f64>,
    /// Groups of zone, component or workload names; messages between different groups are undeliverable.
    partition: Option<Vec<Vec<String>>>,
    /// Extra one-way delay on messages between `from` and `to` (both directions).
    latency: Option<LatencyFaultDoc>,
    /// Messages between `from` and `to` are lost with probability `rate` and retransmitted.
    loss: Option<LossFaultDoc>,
    /// Start of the fault, from the start of the run; before `duration`.
    at: Duration,
    /// How long the fault lasts (default: to the end of the run); `at + for` must not pass `duration`.
    #[serde(rename = "for")]
    for_: Option<Duration>,
}

/// Latency injection between two endpoints (components, workloads or zones).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `from`, `to` and `add`")]
#[schemars(rename = "LatencyFault")]
pub(crate) struct LatencyFaultDoc {
    /// A component, workload or zone name.
    pub from: String,
    /// A component, workload or zone name.
    pub to: String,
    /// Added one-way delay.
    pub add: DistRaw,
}

/// A loss burst between two endpoints (components, workloads or zones).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `from`, `to` and `rate`")]
#[schemars(rename = "LossFault")]
pub(crate) struct LossFaultDoc {
    /// A component, workload or zone name.
    pub from: String,
    /// A component, workload or zone name.
    pub to: String,
    /// Probability in [0, 1) that one transmission is lost (then retransmitted after `network.retransmit`).
    pub rate: f64,
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
    /// The client gives up on an attempt after this long (then retries, or counts the request as timed out); greater than zero.
    pub timeout: Option<Duration>,
    /// The operation mix, e.g. `{ read: 0.9, write: 0.1 }` (default: every request reads).
    pub ops: Option<OpsRaw>,
    /// Client sessions of an open workload: each request belongs to one of `N` sessions drawn uniformly (a closed workload's session is its user).
    #[schemars(range(min = 1))]
    pub sessions: Option<i64>,
    /// Retry failed, dropped and timed-out attempts, e.g. `{ max: 2, backoff: { exponential: 50ms } }`.
    pub retries: Option<RetriesRaw>,
    /// Its requests' priority class, 0 to 255 (default 0): a server with `discipline: priority` or `preemptive_priority` serves higher classes first.
    #[schemars(range(min = 0, max = 255))]
    pub priority: Option<i64>,
    /// The zone its clients are in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of each request it sends (for link bandwidth), e.g. `4KiB`.
    pub request_size: Option<Size>,
    /// Size of each response it receives unless the responder sets its own.
    pub response_size: Option<Size>,
}

/// The shares of reads and writes; they must sum to 1 (one of them may be omitted).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `read` and/or `write` shares"
)]
#[schemars(rename = "Ops")]
pub(crate) struct OpsRaw {
    /// Share of requests that read their key, in [0, 1].
    pub read: Option<f64>,
    /// Share of requests that write their key, in [0, 1].
    pub write: Option<f64>,
}

/// A client's retry policy: retry `max` times, waiting `backoff x multiplier^(k-1)` (capped by `max_backoff`) before the k-th retry, randomised by `jitter`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `max` and optionally `backoff`, `multiplier`, `max_backoff`, `jitter`, `budget`"
)]
#[schemars(rename = "Retries")]
pub(crate) struct RetriesRaw {
    /// Retries after the first attempt, at most (0 or more).
    #[schemars(range(min = 0))]
    pub max: i64,
    /// The wait before the first retry (default `0ms`: retry at once).
    pub backoff: Option<DistRaw>,
    /// Growth of the wait from one retry to the next (default 2: exponential backoff), at least 1.
    pub multiplier: Option<f64>,
    /// Upper bound on one wait.
    pub max_backoff: Option<Duration>,
    /// `none` (default), `full` (uniform on [0, wait]) or `equal` (wait/2 + uniform on [0, wait/2]).
    pub jitter: Option<JitterRaw>,
    /// Retry budget: retries at most this share of first attempts, e.g. `0.1` (a token bucket holding at most 10 retries).
    pub budget: Option<f64>,
}

/// How a retry's wait is randomised.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Jitter")]
pub(crate) enum JitterRaw {
    /// The computed wait exactly.
    None,
    /// Uniform on [0, wait].
    Full,
    /// wait/2 plus uniform on [0, wait/2].
    Equal,
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
    /// Open loop, Poisson with a rate that changes in phases, e.g. `{ phases: [ { poisson: 100/s, for: 30s }, { poisson: 900/s, for: 10s }, { poisson: 100/s } ] }`; the last phase may omit `for` and lasts to the end.
    Phases(Vec<PhaseRaw>),
    /// Closed loop: `users` clients each send a request, wait for the response, think, and repeat.
    Closed(ClosedRaw),
    /// Open loop, Poisson with a periodic rate curve (a day of traffic), e.g. `{ curve: { period: 24h, points: [ { at: 0h, poisson: 200/s }, { at: 12h, poisson: 900/s } ] } }`.
    Curve(crate::build::arrivals::CurveRaw),
    /// Open loop, a Markov-modulated Poisson process (bursty traffic), e.g. `{ mmpp: { states: [ { poisson: 100/s, mean_stay: 20s }, { poisson: 1000/s, mean_stay: 2s } ] } }`.
    Mmpp(crate::build::arrivals::MmppRaw),
    /// Open loop, replay of a recorded trace, e.g. `{ trace: { file: traces/day.csv, speed: 2 } }`.
    Trace(crate::build::arrivals::TraceRaw),
}

/// One phase of phased arrivals.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a phase: a map with `poisson` and `for`"
)]
#[schemars(rename = "Phase")]
pub(crate) struct PhaseRaw {
    /// The Poisson arrival rate during the phase (`0/s` for silence).
    pub poisson: RateOrZero,
    /// How long the phase lasts; only the last phase may omit it.
    #[serde(rename = "for")]
    pub length: Option<Duration>,
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
    /// YCSB's hotspot: `hot_share` of requests go to the first `hot_fraction` of the `n` keys.
    Hotspot(HotspotRaw),
}

/// Hotspot key popularity.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `n`, `hot_fraction` and `hot_share`"
)]
#[schemars(rename = "Hotspot")]
pub(crate) struct HotspotRaw {
    /// Number of distinct keys, at least 2.
    #[schemars(range(min = 2))]
    pub n: i64,
    /// Share of the keys that are hot, strictly between 0 and 1.
    pub hot_fraction: f64,
    /// Share of requests that go to a hot key, in [0, 1].
    pub hot_share: f64,
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

/// The network between components.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `latency` and optionally `zones`, `links`, `retransmit`, `unreachable_after`"
)]
#[schemars(rename = "Network")]
pub(crate) struct NetworkRaw {
    /// One-way delay of every hop (default `0ms`), also inside a zone; a plain duration means a constant.
    pub latency: Option<DistRaw>,
    /// Zone names, each with the one-way latency to other zones (symmetric; give each pair once), e.g. `{ us: { eu: 40ms }, eu: {} }`.
    #[allow(dead_code)]
    // Read by hand, in file order (zone ids follow it); checked here for shape.
    pub zones: Option<BTreeMap<String, Option<BTreeMap<String, DistRaw>>>>,
    /// Per-link overrides between two components, workloads or zones (both directions).
    pub links: Option<Vec<LinkRaw>>,
    /// Delay before a lost message is sent again where a link sets none (default `200ms`).
    pub retransmit: Option<Duration>,
    /// How long a sender waits before a message across a partition fails (a connect timeout; default `1s`).
    pub unreachable_after: Option<Duration>,
}

/// A per-link override.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a link: a map with `from`, `to` and settings"
)]
#[schemars(rename = "Link")]
pub(crate) struct LinkRaw {
    /// A component, workload or zone name.
    pub from: String,
    /// A component, workload or zone name.
    pub to: String,
    /// One-way latency on the link (default: the zones' or the network's).
    pub latency: Option<DistRaw>,
    /// Probability in [0, 1) that a transmission is lost; it is sent again after `retransmit`, as often as needed.
    pub loss: Option<f64>,
    /// Delay before a lost transmission is sent again (default `network.retransmit`).
    pub retransmit: Option<Duration>,
    /// Adds `size / bandwidth` to each message with a size, e.g. `1Gbit/s`.
    pub bandwidth: Option<Bandwidth>,
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

/// Keys that run a model server, a cache or a server with calls as a replica group.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
pub(crate) struct ScalingRaw {
    /// Identical replicas (`NAME[0]`, `NAME[1]`, ...) behind an implicit balancer; default 1.
    #[schemars(range(min = 1))]
    pub replicas: Option<i64>,
    /// How the implicit balancer picks a ready replica; default `round_robin`.
    pub balance: Option<BalanceRaw>,
    /// What each replica runs on, and how long a new one boots (a model server adds its `cold_start`).
    pub runs_on: Option<Box<RunsOnRaw>>,
    /// Kubernetes HPA-style horizontal autoscaling.
    pub autoscaler: Option<Box<AutoscalerRaw>>,
}

/// How a deployment's implicit balancer picks a ready replica.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Balance")]
pub(crate) enum BalanceRaw {
    /// Ready replicas in turn.
    RoundRobin,
    /// A uniformly random ready replica.
    Random,
    /// The ready replica with the fewest requests inside.
    LeastOutstanding,
    /// The better of two random ready replicas.
    PowerOfTwo,
}

/// What a replica runs on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `kind` and optionally `boot_time`"
)]
#[schemars(rename = "RunsOn")]
pub(crate) struct RunsOnRaw {
    /// `vm` or `container`.
    pub kind: RuntimeRaw,
    /// Time from a scale-up decision until the replica serves; default
    /// lognormal with median 60 s (vm) or 2 s (container), sigma 0.25.
    pub boot_time: Option<DistRaw>,
}

/// A virtual machine or a container.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Runtime")]
pub(crate) enum RuntimeRaw {
    /// A virtual machine: boots in about a minute.
    Vm,
    /// A container: starts in seconds.
    Container,
}

/// A Kubernetes HPA-style autoscaler.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `target` and `max`")]
#[schemars(rename = "Autoscaler")]
pub(crate) struct AutoscalerRaw {
    /// `utilization` (busy workers / workers) or `queue_length` (requests
    /// inside a replica), averaged over ready replicas; default `utilization`.
    pub metric: Option<MetricRaw>,
    /// Target value per ready replica, e.g. `0.6`.
    pub target: f64,
    /// Time between evaluations; default `15s`.
    pub interval: Option<Duration>,
    /// Fewest replicas; default 1.
    #[schemars(range(min = 1))]
    pub min: Option<i64>,
    /// Most replicas.
    #[schemars(range(min = 1))]
    pub max: i64,
    /// Scale-down takes the highest recommendation within this window; default `300s`.
    pub scale_down_stabilization: Option<Duration>,
    /// No change while |metric / target - 1| is at most this; default 0.1.
    pub tolerance: Option<f64>,
}

/// The autoscaler's metric.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ScaleMetric")]
pub(crate) enum MetricRaw {
    /// Busy workers / workers.
    Utilization,
    /// Requests inside a replica (waiting or in service).
    QueueLength,
}

/// A pool of identical hosts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `cores` and `memory`")]
#[schemars(rename = "HostPool")]
pub(crate) struct HostPoolRaw {
    /// Number of hosts; default 1.
    #[schemars(range(min = 1))]
    pub count: Option<i64>,
    /// Cores per host, shared by processor sharing among the jobs running on it.
    #[schemars(range(min = 1))]
    pub cores: i64,
    /// Memory per host.
    pub memory: Size,
    /// `spread` (fewest replicas first; default) or `first_fit` (pack).
    pub placement: Option<PlacementRaw>,
}

/// How replicas are placed on a pool's hosts.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Placement")]
pub(crate) enum PlacementRaw {
    /// The host with the fewest replicas that has room.
    Spread,
    /// The first host with room.
    FirstFit,
}
