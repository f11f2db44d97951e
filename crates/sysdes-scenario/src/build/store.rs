//! Reading a `type: store` component (a replicated key-value store).
//!
//! A child module of `build`, so it shares the loader's context and helpers.
//! The raw structs here also generate the store's part of the JSON Schema.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::{
    ComponentKind, ComponentSpec, Distribution, FaultKind, FaultSpec, MAX_REPLICAS, MessageDelays,
    PartitionPolicy, ReadFrom, Replication, Routing, StoreMode, StoreSpec,
};

use super::{Ctx, Entry, Kind, count, distribution, positive_duration};
use crate::de::{one_of, suggest};
use crate::node::{Node, SNode};
use crate::raw::{DistRaw, schema_keys};
use crate::units::{Duration, Size};

/// Keys that apply only to `mode: leader`.
const LEADER_ONLY: &[&str] = &["replication", "reads", "failover_timeout"];
/// Keys that apply only to `mode: leaderless`.
const LEADERLESS_ONLY: &[&str] = &["read_quorum", "read_repair", "hinted_handoff"];

/// A replicated key-value store: `replicas` FIFO servers holding versions of keys, with a leader or Dynamo-style quorums (see `docs/consistency-experiments.md`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[schemars(rename = "Store")]
pub(crate) struct StoreRaw {
    /// Number of replicas, 1 to 64 (default 3).
    #[schemars(range(min = 1, max = 64))]
    replicas: Option<i64>,
    /// Zones the replicas live in: replica i in `zones[i % len]` (default: the store's own zone).
    zones: Option<Vec<String>>,
    /// Parallel workers of each replica (default 1).
    #[schemars(range(min = 1))]
    workers: Option<i64>,
    /// Time a replica spends on a read (default `0s`).
    read_time: Option<DistRaw>,
    /// Time a replica spends applying a write (default `0s`).
    write_time: Option<DistRaw>,
    /// `leader` (one leader orders writes; the default) or `leaderless` (Dynamo-style quorums).
    mode: Option<ModeRaw>,
    /// Leader mode: `sync` (answer once `write_quorum` replicas hold the write) or `async` (answer once the leader does; the default).
    replication: Option<ReplicationRaw>,
    /// Leader mode: delay of a replication message to a follower (default: the `write_request` delay). Leaderless: the replicas outside the write quorum get the write this much later (default: every replica is sent the write at once).
    replication_delay: Option<DistRaw>,
    /// Leader mode: `leader` (the default) or `any` (the session's replica, maybe a stale follower).
    reads: Option<ReadsRaw>,
    /// Leader mode: how long after the leader crashes a new one takes over (default `5s`); writes fail meanwhile.
    failover_timeout: Option<Duration>,
    /// Leaderless: replicas that must answer a read (default a majority).
    #[schemars(range(min = 1))]
    read_quorum: Option<i64>,
    /// Replicas that must acknowledge a write: leaderless (default a majority), or leader mode with `replication: sync` (default all).
    #[schemars(range(min = 1))]
    write_quorum: Option<i64>,
    /// Leaderless: write the newest version back to replicas that answered a read with an older one (default false).
    read_repair: Option<bool>,
    /// Leaderless: keep writes for unreachable replicas and deliver them once reachable (default false).
    hinted_handoff: Option<bool>,
    /// Per-replica clock offset, drawn once per replica, added to last-writer-wins timestamps.
    clock_skew: Option<DistRaw>,
    /// `refuse` (CP, the default: fail without the leader or a quorum) or `serve` (AP: answer from the reachable replicas).
    on_partition: Option<PartitionRaw>,
    /// One-way delay per message class (default: the network's delay between the zones).
    delays: Option<DelaysRaw>,
    /// `sticky` (a session always uses replica `session % replicas`; the default) or `random`.
    routing: Option<RoutingRaw>,
    /// Follow every committed write, this long after its commit, with an internal read that measures whether it is visible (PBS t-visibility).
    probe_after: Option<Duration>,
    /// Check every key's history for linearizability at the end (exact Wing-Gong search; keys with more than 200 operations are not checked). Default false: it keeps every operation.
    check_linearizability: Option<bool>,
    /// The store's own zone (a name under `network.zones`): where clients send their requests, and where the replicas live unless `zones` is given.
    zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth).
    response_size: Option<Size>,
    /// The data set it holds, e.g. `200GB`: every replica keeps a copy, so `cost: { per_gb_month }` bills `replicas x size` (docs/cost.md). Not simulated otherwise.
    size: Option<Size>,
}

/// Per message class one-way delays (the WARS model).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Only used to generate the JSON Schema.
#[schemars(rename = "StoreDelays")]
pub(crate) struct DelaysRaw {
    /// Coordinator to replica, carrying a write.
    write_request: Option<DistRaw>,
    /// Replica to coordinator, acknowledging a write.
    write_ack: Option<DistRaw>,
    /// Coordinator to replica, asking for a read.
    read_request: Option<DistRaw>,
    /// Replica to coordinator, carrying the version read.
    read_response: Option<DistRaw>,
}

/// Store replication modes.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "StoreMode")]
pub(crate) enum ModeRaw {
    /// One leader orders writes and replicates them to followers.
    Leader,
    /// A coordinator sends to every replica and waits for quorums.
    Leaderless,
}

/// When a leader answers a write.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Replication")]
pub(crate) enum ReplicationRaw {
    /// Once `write_quorum` replicas hold it.
    Sync,
    /// Once the leader holds it.
    Async,
}

/// Which replica serves reads in leader mode.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ReadFrom")]
pub(crate) enum ReadsRaw {
    /// The leader.
    Leader,
    /// The session's replica.
    Any,
}

/// Behaviour without the leader or a quorum.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OnPartition")]
pub(crate) enum PartitionRaw {
    /// CP: fail.
    Refuse,
    /// AP: answer from the reachable replicas.
    Serve,
}

/// How sessions pick a replica.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Routing")]
pub(crate) enum RoutingRaw {
    /// Always the same replica.
    Sticky,
    /// A random replica per request.
    Random,
}

/// Reads an optional distribution key of `map`.
fn opt_dist(ctx: &mut Ctx, map: &SNode, key: &str) -> Result<Option<Distribution>, ()> {
    match ctx.optional::<DistRaw>(map, key)? {
        None => Ok(None),
        Some(raw) => distribution(ctx, &raw, map.at_or_near(&[key]), key)
            .map(Some)
            .ok_or(()),
    }
}

/// Reads an optional count key, at least `min`.
fn opt_count(ctx: &mut Ctx, map: &SNode, key: &str, min: i64) -> Result<Option<u32>, ()> {
    match ctx.optional::<i64>(map, key)? {
        None => Ok(None),
        Some(v) => count(ctx, v, min, map.at_or_near(&[key]), key)
            .map(Some)
            .ok_or(()),
    }
}

/// Reads and checks a store.
/// Reads a store.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    store(ctx, e.body).map(ComponentKind::Store)
}

fn store(ctx: &mut Ctx, body: &SNode) -> Option<StoreSpec> {
    ctx.unknown_keys(body, Kind::Store.keys());
    let before = ctx.issues.len();
    // Only the cost reader uses it (storage per GB-month); checked here.
    let _ = ctx.optional::<Size>(body, "size");
    let replicas = opt_count(ctx, body, "replicas", 1).ok()?.unwrap_or(3);
    if replicas > MAX_REPLICAS {
        ctx.push(
            body.at_or_near(&["replicas"]),
            format!("`replicas` must be at most {MAX_REPLICAS}, found {replicas}"),
            None,
        );
    }
    let zones: Vec<String> = ctx.optional(body, "zones").ok()?.unwrap_or_default();
    let workers = opt_count(ctx, body, "workers", 1).ok()?.unwrap_or(1);
    let zero = Distribution::Constant(SimDuration::ZERO);
    let read_time = opt_dist(ctx, body, "read_time")
        .ok()?
        .unwrap_or(zero.clone());
    let write_time = opt_dist(ctx, body, "write_time").ok()?.unwrap_or(zero);
    let mode = match ctx.optional::<ModeRaw>(body, "mode").ok()? {
        None | Some(ModeRaw::Leader) => StoreMode::Leader,
        Some(ModeRaw::Leaderless) => StoreMode::Leaderless,
    };
    let (wrong, mode_name) = match mode {
        StoreMode::Leader => (LEADERLESS_ONLY, "leaderless"),
        StoreMode::Leaderless => (LEADER_ONLY, "leader"),
    };
    for key in wrong {
        if body.get(key).is_some() {
            ctx.push(
                body.at_or_near(&[key]),
                format!("`{key}` applies only to `mode: {mode_name}`"),
                Some(format!(
                    "remove `{key}`, or set `mode: {mode_name}` to use it"
                )),
            );
        }
    }
    let replication = match ctx.optional::<ReplicationRaw>(body, "replication").ok()? {
        None | Some(ReplicationRaw::Async) => Replication::Async,
        Some(ReplicationRaw::Sync) => Replication::Sync,
    };
    let replication_delay = opt_dist(ctx, body, "replication_delay").ok()?;
    let reads = match ctx.optional::<ReadsRaw>(body, "reads").ok()? {
        None | Some(ReadsRaw::Leader) => ReadFrom::Leader,
        Some(ReadsRaw::Any) => ReadFrom::Any,
    };
    let failover_timeout = match ctx.optional::<Duration>(body, "failover_timeout").ok()? {
        None => SimDuration::from_secs(5),
        Some(d) => positive_duration(
            ctx,
            d,
            body.at_or_near(&["failover_timeout"]),
            "failover_timeout",
        )?,
    };
    let majority = replicas / 2 + 1;
    let read_quorum = opt_count(ctx, body, "read_quorum", 1)
        .ok()?
        .unwrap_or(majority);
    let default_w = match mode {
        StoreMode::Leader => replicas,
        StoreMode::Leaderless => majority,
    };
    let write_quorum = opt_count(ctx, body, "write_quorum", 1)
        .ok()?
        .unwrap_or(default_w);
    for (key, q) in [("read_quorum", read_quorum), ("write_quorum", write_quorum)] {
        if q > replicas {
            ctx.push(
                body.at_or_near(&[key]),
                format!("`{key}` ({q}) cannot exceed `replicas` ({replicas})"),
                None,
            );
        }
    }
    let read_repair = ctx
        .optional::<bool>(body, "read_repair")
        .ok()?
        .unwrap_or(false);
    let hinted_handoff = ctx
        .optional::<bool>(body, "hinted_handoff")
        .ok()?
        .unwrap_or(false);
    let clock_skew = opt_dist(ctx, body, "clock_skew").ok()?;
    let on_partition = match ctx.optional::<PartitionRaw>(body, "on_partition").ok()? {
        None | Some(PartitionRaw::Refuse) => PartitionPolicy::Refuse,
        Some(PartitionRaw::Serve) => PartitionPolicy::Serve,
    };
    let routing = match ctx.optional::<RoutingRaw>(body, "routing").ok()? {
        None | Some(RoutingRaw::Sticky) => Routing::Sticky,
        Some(RoutingRaw::Random) => Routing::Random,
    };
    let probe_after = ctx
        .optional::<Duration>(body, "probe_after")
        .ok()?
        .map(Duration::to_sim);
    let check_linearizability = ctx
        .optional::<bool>(body, "check_linearizability")
        .ok()?
        .unwrap_or(false);
    let mut delays = MessageDelays::default();
    if let Some(node) = body.get("delays") {
        if !matches!(node.node, Node::Map(_) | Node::Null) {
            ctx.push(
                node,
                format!(
                    "`delays`: expected a map of message classes to distributions, found {}",
                    node.describe()
                ),
                Some(format!(
                    "the message classes are {}",
                    one_of(schema_keys!(DelaysRaw))
                )),
            );
            return None;
        }
        ctx.unknown_keys(node, schema_keys!(DelaysRaw));
        delays.write_request = opt_dist(ctx, node, "write_request").ok()?;
        delays.write_ack = opt_dist(ctx, node, "write_ack").ok()?;
        delays.read_request = opt_dist(ctx, node, "read_request").ok()?;
        delays.read_response = opt_dist(ctx, node, "read_response").ok()?;
    }
    if ctx.issues.len() != before {
        return None;
    }
    Some(StoreSpec {
        replicas,
        zones,
        workers,
        read_time,
        write_time,
        mode,
        replication,
        replication_delay,
        reads,
        failover_timeout,
        read_quorum,
        write_quorum,
        read_repair,
        hinted_handoff,
        clock_skew,
        on_partition,
        delays,
        routing,
        probe_after,
        check_linearizability,
    })
}

/// Keys of a replica crash fault.
const REPLICA_CRASH_KEYS: &[&str] = &["crash", "at", "for"];

/// Splits the replica crashes (`{ crash: STORE.rI, at, for }`, STORE a store)
/// out of `faults:` and reads them. Returns the root without them for the
/// network's fault reader (`None` if there were none), and the crashes
/// (`None` if one is invalid, already recorded).
///
/// `replicas[i]` is the replica count of component `i` if it is a store.
pub(super) fn replica_crashes(
    ctx: &mut Ctx,
    root: &SNode,
    names: &[&str],
    replicas: &[Option<u32>],
    duration: Option<SimDuration>,
) -> (Option<SNode>, Option<Vec<FaultSpec>>) {
    let Some(Node::Seq(items)) = root.get("faults").map(|f| &f.node) else {
        return (None, Some(Vec::new()));
    };
    // A replica crash names `STORE.rI` with STORE a store.
    let store_of = |item: &SNode| -> Option<(usize, String)> {
        let target = item.get("crash")?.as_str()?;
        let (store, replica) = target.rsplit_once('.')?;
        let i = names.iter().position(|n| *n == store)?;
        replicas.get(i).copied().flatten()?;
        Some((i, replica.to_owned()))
    };
    if !items.iter().any(|i| store_of(i).is_some()) {
        return (None, Some(Vec::new()));
    }
    let before = ctx.issues.len();
    let mut out: Vec<FaultSpec> = Vec::new();
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let Some((store, replica)) = store_of(item) else {
            kept.push(item.clone());
            continue;
        };
        ctx.unknown_keys(item, REPLICA_CRASH_KEYS);
        let n = replicas[store].unwrap_or(0);
        let crash_node = item.at_or_near(&["crash"]);
        let index = replica
            .strip_prefix('r')
            .and_then(|r| r.parse::<u32>().ok())
            .filter(|&r| r < n);
        let Some(index) = index else {
            ctx.push(
                crash_node,
                format!("store `{}` has no replica `{replica}`", names[store]),
                Some(format!(
                    "its replicas are `{0}.r0` to `{0}.r{1}`",
                    names[store],
                    n.saturating_sub(1)
                )),
            );
            continue;
        };
        let Ok(Some(at)) = ctx.optional::<Duration>(item, "at") else {
            if item.get("at").is_none() {
                ctx.push(
                    item,
                    "missing required key `at`",
                    Some("add e.g. `at: 30s`".to_owned()),
                );
            }
            continue;
        };
        let Ok(length) = ctx.optional::<Duration>(item, "for") else {
            continue;
        };
        let (at, end) = (at.to_sim(), duration.unwrap_or(SimDuration::ZERO));
        if at >= end {
            ctx.push(
                item.at_or_near(&["at"]),
                format!(
                    "the fault starts at {}, not before the end of the run ({})",
                    Duration::from_nanos(at.as_nanos()),
                    Duration::from_nanos(end.as_nanos())
                ),
                None,
            );
            continue;
        }
        let length = match length {
            Some(l) => l.to_sim(),
            None => SimDuration::from_nanos(end.as_nanos() - at.as_nanos()),
        };
        let target = FaultKind::CrashReplica {
            store: ComponentId(store as u32),
            replica: index,
        };
        let overlaps = out
            .iter()
            .any(|f| f.kind == target && at < f.at + f.duration && f.at < at + length);
        if overlaps {
            ctx.push(
                item,
                "this crash overlaps another crash of the same replica",
                Some("merge them into one window".to_owned()),
            );
            continue;
        }
        out.push(FaultSpec {
            at,
            duration: length,
            kind: target,
        });
    }
    let mut rest = root.clone();
    if let Node::Map(entries) = &mut rest.node {
        for (k, v) in entries.iter_mut() {
            if k.as_str() == Some("faults") {
                v.node = Node::Seq(kept.clone());
            }
        }
    }
    (Some(rest), (ctx.issues.len() == before).then_some(out))
}

/// A store's `zones` must name zones of `network.zones`; each unknown one is
/// reported where it is written, with the closest zone suggested.
pub(super) fn store_zones(
    ctx: &mut Ctx,
    components: &[Option<ComponentSpec>],
    entries: &[(&SNode, &SNode)],
    zones: &[String],
) {
    for (c, (_, body)) in components.iter().zip(entries) {
        let Some(ComponentKind::Store(st)) = c.as_ref().map(|c| &c.kind) else {
            continue;
        };
        let list = body.at_or_near(&["zones"]);
        for (j, z) in st.zones.iter().enumerate() {
            if zones.contains(z) {
                continue;
            }
            let help = match suggest(z, zones.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if zones.is_empty() => {
                    "define the zones and their latencies under `network.zones`".to_owned()
                }
                None => {
                    let names: Vec<&str> = zones.iter().map(String::as_str).collect();
                    format!("the zones are {}", one_of(&names))
                }
            };
            ctx.push(
                list.item(j).unwrap_or(list),
                format!("store zone `{z}` is not a zone of the network"),
                Some(help),
            );
        }
    }
}
