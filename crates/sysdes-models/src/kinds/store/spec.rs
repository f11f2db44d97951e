//! The description of a replicated key-value store (`type: store`).
//!
//! Plain data, like the rest of [`crate::spec`]: names of zones are kept as
//! written and resolved by the engine; durations are nanoseconds.

use sysdes_kernel::SimDuration;

use crate::spec::Distribution;

/// The most replicas a store may have (replica sets are 64-bit masks).
pub const MAX_REPLICAS: u32 = 64;

/// A replicated key-value store: `replicas` FIFO servers holding versions of
/// keys, with a leader or Dynamo-style quorums.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreSpec {
    /// Number of replicas, 1 to [`MAX_REPLICAS`].
    pub replicas: u32,
    /// Zones the replicas live in: replica `i` in `zones[i % len]`. Empty:
    /// every replica in the store's own zone (the default zone).
    pub zones: Vec<String>,
    /// Parallel workers of each replica.
    pub workers: u32,
    /// Time a replica's worker spends on a read.
    pub read_time: Distribution,
    /// Time a replica's worker spends applying a write.
    pub write_time: Distribution,
    /// Leader-based or leaderless.
    pub mode: StoreMode,
    /// Leader mode: whether the leader waits for followers before answering.
    pub replication: Replication,
    /// Delay of one replication message from the leader to a follower
    /// (leader mode), or of the background copy to the replicas outside the
    /// write quorum (leaderless mode). `None`: leader mode uses the
    /// `write_request` delay; leaderless mode sends every write to all
    /// replicas at once (the WARS model).
    pub replication_delay: Option<Distribution>,
    /// Leader mode: which replica serves reads.
    pub reads: ReadFrom,
    /// Leader mode: how long after the leader crashes a new one takes over.
    pub failover_timeout: SimDuration,
    /// Replicas that must answer a read (leaderless).
    pub read_quorum: u32,
    /// Replicas that must acknowledge a write (leaderless; in leader mode
    /// with sync replication, the replicas, leader included, that must hold it).
    pub write_quorum: u32,
    /// Leaderless: write the newest version back to replicas that answered a
    /// read with an older one.
    pub read_repair: bool,
    /// Keep writes for unreachable or crashed replicas and deliver them when
    /// the replica is back.
    pub hinted_handoff: bool,
    /// Per-replica clock offset (drawn once per replica) added to the
    /// last-writer-wins timestamps of writes it coordinates.
    pub clock_skew: Option<Distribution>,
    /// What a request that cannot reach the leader or a quorum does.
    pub on_partition: PartitionPolicy,
    /// Per message class one-way delays; `None` uses the network's delay
    /// between the two zones.
    pub delays: MessageDelays,
    /// Which replica (leaderless: coordinator) a client session uses.
    pub routing: Routing,
    /// If set, every committed write is followed, this long after its
    /// commit, by an internal read from a random coordinator that records
    /// whether it sees the write (PBS t-visibility) and how many versions
    /// behind it is.
    pub probe_after: Option<SimDuration>,
    /// Record every client operation and check each key's history for
    /// linearizability at the end (Wing-Gong search; keys with more than
    /// 200 operations are reported as not checked). Off by default.
    pub check_linearizability: bool,
}

/// Leader-based or leaderless replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    /// One leader orders writes and replicates them to followers.
    Leader,
    /// Dynamo-style: a coordinator sends to every replica and waits for quorums.
    Leaderless,
}

/// When a leader acknowledges a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replication {
    /// After `write_quorum` replicas (leader included) hold it.
    Sync,
    /// As soon as the leader holds it; followers catch up in the background.
    Async,
}

/// Which replica serves a read in leader mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    /// Always the leader.
    Leader,
    /// The session's replica (per `routing`), possibly a stale follower.
    Any,
}

/// Behaviour when the leader or a quorum is out of reach (CAP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionPolicy {
    /// CP: the request fails.
    Refuse,
    /// AP: answer from whatever replicas are reachable.
    Serve,
}

/// Which replica or coordinator a client session uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Always the same one (`session % replicas`).
    Sticky,
    /// A uniformly random one per request.
    Random,
}

/// One-way delays per message class, as in the WARS model of PBS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageDelays {
    /// Coordinator to replica, carrying a write.
    pub write_request: Option<Distribution>,
    /// Replica to coordinator, acknowledging a write.
    pub write_ack: Option<Distribution>,
    /// Coordinator to replica, asking for a read.
    pub read_request: Option<Distribution>,
    /// Replica to coordinator, carrying the version read.
    pub read_response: Option<Distribution>,
}

impl StoreSpec {
    /// A leaderless store of `replicas` with quorums `r` and `w`, instant
    /// service, zero message delays, sticky routing, CP: adjust fields afterwards.
    pub fn leaderless(replicas: u32, r: u32, w: u32) -> StoreSpec {
        let zero = Distribution::Constant(SimDuration::ZERO);
        StoreSpec {
            replicas,
            zones: Vec::new(),
            workers: 1,
            read_time: zero.clone(),
            write_time: zero,
            mode: StoreMode::Leaderless,
            replication: Replication::Async,
            replication_delay: None,
            reads: ReadFrom::Leader,
            failover_timeout: SimDuration::from_secs(5),
            read_quorum: r,
            write_quorum: w,
            read_repair: false,
            hinted_handoff: false,
            clock_skew: None,
            on_partition: PartitionPolicy::Refuse,
            delays: MessageDelays::default(),
            routing: Routing::Sticky,
            probe_after: None,
            check_linearizability: false,
        }
    }
}
