//! Reading `type: storage` components (a block, file or object tier),
//! their raw schema, and the tier defaults shipped in
//! `data/storage/tiers.yaml`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_models::{ComponentKind, Distribution, OverLimit, StorageSpec, StorageTier};

use super::{Ctx, Entry, Kind, optional_count, optional_distribution};
use crate::node::SNode;
use crate::raw::DistRaw;
use crate::units::{Bandwidth, Duration, Size};

/// `type: storage` — a storage tier: `tier: block | file | object` sets every default from `data/storage/tiers.yaml` (EBS gp3, EFS, S3); an operation waits for the IOPS limit (or is throttled, object), waits its first-byte latency, then moves its bytes over the shared `bandwidth` (queueing) or its own `stream_bandwidth`; see docs/course/storage-tiers.md.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a storage tier: a map with `tier` and optionally `object_size`, `size`, `iops`, `bandwidth`, latencies"
)]
#[schemars(rename = "Storage")]
pub(crate) struct StorageRaw {
    /// `block` (a volume: EBS gp3), `file` (a shared file system: EFS) or `object` (an object store: S3); the defaults of every other key come from its row in `data/storage/tiers.yaml`.
    pub tier: TierRaw,
    /// Bytes per operation, e.g. `4KiB` or `64MiB`; default: the request's size (a write's `request_size`, a read's `response_size`, from the workload or a trace).
    pub object_size: Option<Size>,
    /// Data held, e.g. `500GiB` (reported as `stored_gb_mean`, priced per GB-month); default 0.
    pub size: Option<Size>,
    /// Time to first byte of a read (a distribution); default from the tier.
    pub read_latency: Option<DistRaw>,
    /// Time to first byte (acknowledgement) of a write; default from the tier.
    pub write_latency: Option<DistRaw>,
    /// Operations per second admitted (reads and writes together, or reads only when `write_iops` is given), at least 1; default from the tier.
    #[schemars(range(min = 1))]
    pub iops: Option<i64>,
    /// Writes per second admitted, a limit of their own (S3's PUT rate); default from the tier.
    #[schemars(range(min = 1))]
    pub write_iops: Option<i64>,
    /// Beyond the limit an operation `wait`s for its turn or is `throttle`d (HTTP 503 SlowDown, ending `dropped`; a bucket of one second of requests absorbs bursts); default from the tier.
    pub over_limit: Option<OverLimitRaw>,
    /// Shared throughput, e.g. `125MiB/s`: operations queue for it, so concurrent clients split it; default from the tier (none for object).
    pub bandwidth: Option<Bandwidth>,
    /// One operation's stream, e.g. `85MB/s`; with `bandwidth`, the shared throughput is `bandwidth / stream_bandwidth` parallel lanes; default from the tier.
    pub stream_bandwidth: Option<Bandwidth>,
    /// The zone it runs in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    pub request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth; also a read's size without `object_size`).
    pub response_size: Option<Size>,
}

/// The storage tiers.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "StorageTier")]
pub(crate) enum TierRaw {
    /// A block volume (EBS gp3 baseline).
    Block,
    /// A shared network file system (EFS, Bursting).
    File,
    /// An object store (S3 Standard, one prefix).
    Object,
}

/// What becomes of an operation beyond the IOPS limit.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "StorageOverLimit")]
pub(crate) enum OverLimitRaw {
    /// It waits for its turn.
    Wait,
    /// It is refused (HTTP 503 SlowDown) and ends `dropped`.
    Throttle,
}

impl From<OverLimitRaw> for OverLimit {
    fn from(o: OverLimitRaw) -> OverLimit {
        match o {
            OverLimitRaw::Wait => OverLimit::Wait,
            OverLimitRaw::Throttle => OverLimit::Throttle,
        }
    }
}

/// A row of `data/storage/tiers.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierRow {
    #[allow(dead_code)] // Documentation in the file.
    name: String,
    read_latency: Duration,
    write_latency: Duration,
    iops: Option<u32>,
    write_iops: Option<u32>,
    over_limit: OverLimitRaw,
    bandwidth: Option<Bandwidth>,
    stream_bandwidth: Option<Bandwidth>,
    #[allow(dead_code)] // Documentation in the file.
    source: String,
    #[allow(dead_code)] // Documentation in the file.
    retrieved: String,
}

/// The shipped tier table (sources in the file).
const TIERS_YAML: &str = include_str!("../../../../data/storage/tiers.yaml");

/// The shipped tiers, each as the spec a component of that tier gets when
/// it sets nothing but `tier`.
pub(crate) fn tiers() -> BTreeMap<StorageTier, StorageSpec> {
    let rows: BTreeMap<TierRaw, TierRow> =
        serde_saphyr::from_str(TIERS_YAML).expect("data/storage/tiers.yaml is valid (tested)");
    rows.into_iter()
        .map(|(tier, r)| {
            let tier = tier_of(tier);
            (
                tier,
                StorageSpec {
                    tier,
                    read_latency: Distribution::Constant(r.read_latency.to_sim()),
                    write_latency: Distribution::Constant(r.write_latency.to_sim()),
                    iops: r.iops,
                    write_iops: r.write_iops,
                    over_limit: r.over_limit.into(),
                    bandwidth: r.bandwidth.map(Bandwidth::bytes_per_second),
                    stream_bandwidth: r.stream_bandwidth.map(Bandwidth::bytes_per_second),
                    object_size: None,
                    size_bytes: 0,
                },
            )
        })
        .collect()
}

fn tier_of(t: TierRaw) -> StorageTier {
    match t {
        TierRaw::Block => StorageTier::Block,
        TierRaw::File => StorageTier::File,
        TierRaw::Object => StorageTier::Object,
    }
}

/// Reads a storage component.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    storage(ctx, e.body).map(ComponentKind::Storage)
}

fn storage(ctx: &mut Ctx, body: &SNode) -> Option<StorageSpec> {
    ctx.unknown_keys(body, Kind::Storage.keys());
    let before = ctx.issues.len();
    let tier = ctx.required::<TierRaw>(
        body,
        "tier",
        Some("add `tier: block`, `tier: file` or `tier: object`".to_owned()),
    );
    let object_size = match ctx.optional::<Size>(body, "object_size") {
        Ok(s) => s.map(Size::bytes),
        Err(()) => None,
    };
    let size = match ctx.optional::<Size>(body, "size") {
        Ok(s) => s.map_or(0, Size::bytes),
        Err(()) => 0,
    };
    let read_latency = optional_distribution(ctx, body, "read_latency");
    let write_latency = optional_distribution(ctx, body, "write_latency");
    let iops = optional_count(ctx, body, "iops", 1);
    let write_iops = optional_count(ctx, body, "write_iops", 1);
    let over_limit = ctx.optional::<OverLimitRaw>(body, "over_limit").ok();
    let bandwidth = ctx.optional::<Bandwidth>(body, "bandwidth").ok();
    let stream_bandwidth = ctx.optional::<Bandwidth>(body, "stream_bandwidth").ok();
    if ctx.issues.len() != before {
        return None;
    }
    let mut spec = tiers().remove(&tier_of(tier?))?;
    spec.object_size = object_size;
    spec.size_bytes = size;
    if let Some(d) = read_latency? {
        spec.read_latency = d;
    }
    if let Some(d) = write_latency? {
        spec.write_latency = d;
    }
    if let Some(n) = iops? {
        spec.iops = Some(n);
    }
    if let Some(n) = write_iops? {
        spec.write_iops = Some(n);
    }
    if let Some(o) = over_limit? {
        spec.over_limit = o.into();
    }
    if let Some(b) = bandwidth? {
        spec.bandwidth = Some(b.bytes_per_second());
    }
    if let Some(b) = stream_bandwidth? {
        spec.stream_bandwidth = Some(b.bytes_per_second());
    }
    Some(spec)
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{ComponentKind, Distribution, OverLimit, StorageSpec, StorageTier};

    use super::tiers;
    use crate::test_support::{first_kind, has, only_problem, problem_texts};

    fn scenario(body: &str) -> String {
        format!(
            "name: t\nduration: 10s\ncomponents:\n  disk:\n    type: storage\n{body}workloads:\n  - name: io\n    target: disk\n    arrival: {{ poisson: 10/s }}\n"
        )
    }

    fn storage(body: &str) -> StorageSpec {
        match first_kind(&scenario(body)) {
            Ok(ComponentKind::Storage(s)) => s,
            other => panic!("not a storage component: {other:?}"),
        }
    }

    /// The shipped table parses and holds the documented numbers
    /// (data/storage/tiers.yaml, sources there).
    #[test]
    fn the_tier_table_holds_its_sources_numbers() {
        let t = tiers();
        let block = &t[&StorageTier::Block];
        assert_eq!((block.iops, block.write_iops), (Some(3000), None));
        assert_eq!(block.bandwidth, Some(125.0 * 1024.0 * 1024.0));
        assert_eq!(block.over_limit, OverLimit::Wait);
        let file = &t[&StorageTier::File];
        assert_eq!((file.iops, file.write_iops), (Some(35_000), Some(7000)));
        assert_eq!(
            file.write_latency,
            Distribution::Constant(SimDuration::from_micros(2700))
        );
        let object = &t[&StorageTier::Object];
        assert_eq!((object.iops, object.write_iops), (Some(5500), Some(3500)));
        assert_eq!(
            (object.bandwidth, object.stream_bandwidth),
            (None, Some(85e6))
        );
        assert_eq!(object.over_limit, OverLimit::Throttle);
        assert_eq!(
            object.read_latency,
            Distribution::Constant(SimDuration::from_millis(100))
        );
    }

    #[test]
    fn reads_a_tier_and_overrides_per_key() {
        let s = storage("    tier: object\n");
        assert_eq!(s, tiers()[&StorageTier::Object]);
        let s = storage(
            "    tier: block\n    object_size: 4KiB\n    size: 500GB\n    iops: 16000\n    bandwidth: 1000MiB/s\n    read_latency: { exponential: 500us }\n    over_limit: throttle\n",
        );
        assert_eq!(s.tier, StorageTier::Block);
        assert_eq!((s.object_size, s.size_bytes), (Some(4096), 500_000_000_000));
        assert_eq!(
            (s.iops, s.bandwidth),
            (Some(16_000), Some(1000.0 * 1048576.0))
        );
        assert_eq!(
            s.read_latency,
            Distribution::Exponential { mean_ns: 500_000.0 }
        );
        assert_eq!(
            s.write_latency,
            Distribution::Constant(SimDuration::from_millis(1))
        );
        assert_eq!(s.over_limit, OverLimit::Throttle);
    }

    #[test]
    fn bad_storage_gets_located_errors() {
        let (line, _, message, help) = only_problem(&scenario("    tier: blok\n"));
        assert_eq!(line, 6);
        assert!(message.contains("blok"), "{message}");
        assert!(
            format!("{message} {}", help.unwrap_or_default()).contains("block"),
            "{message}"
        );
        has(
            &problem_texts(&scenario("    object_size: 4KiB\n")),
            "missing required key `tier`",
        );
        has(
            &problem_texts(&scenario("    tier: block\n    iops: 0\n")),
            "`iops` must be at least 1, found 0",
        );
        has(
            &problem_texts(&scenario("    tier: file\n    bandwith: 1GB/s\n")),
            "did you mean `bandwidth`",
        );
        has(
            &problem_texts(&scenario("    tier: object\n    over_limit: queue\n")),
            "queue",
        );
    }
}
