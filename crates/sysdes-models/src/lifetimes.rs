//! When each instance of a fleet ran, for billing (`sysdes-cost`).
//!
//! A deployment or replica group records one [`Lifetime`] per replica it
//! ever started: from the scale decision that created it (boot included)
//! to the moment it was gone (drain included), or to the end of the run.
//! Lifetimes are pushed at scale events, never per request. Components
//! that do not scale have no entries: they run for the whole run.

/// One instance's life, integer nanoseconds from the start of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// When it was started (the scale decision; boot time follows).
    pub start_ns: u64,
    /// When it was gone (after its drain), or the end of the run
    /// ([`Lifetimes::end_ns`]).
    pub end_ns: u64,
}

impl Lifetime {
    /// Its length, ns.
    pub fn len_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// How much of it falls in `[from_ns, to_ns)`, ns.
    pub fn overlap_ns(&self, from_ns: u64, to_ns: u64) -> u64 {
        self.end_ns
            .min(to_ns)
            .saturating_sub(self.start_ns.max(from_ns))
    }
}

/// The lifetimes of every fleet's instances in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lifetimes {
    /// The end of the run for billing: the later of `duration` and the end
    /// of the last request, ns.
    pub end_ns: u64,
    /// By component index: each replica a deployment or replica group
    /// started, in the order they were gone (those alive at the end last);
    /// empty for a component that does not scale.
    pub by_component: Vec<Vec<Lifetime>>,
    /// By component index: bytes it sent to another zone (requests of its
    /// calls, responses it returned, a store's replication messages) over
    /// the whole run; empty when nothing crossed a zone. Egress is priced
    /// from these.
    pub zone_bytes: Vec<u64>,
    /// As [`Lifetimes::zone_bytes`], counting only what was sent in the
    /// measurement window `[warmup, duration)`.
    pub zone_bytes_window: Vec<u64>,
}
