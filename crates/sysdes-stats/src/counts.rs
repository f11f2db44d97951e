//! Request accounting that always balances.

/// What happened to the requests of one scope (the system, a workload).
///
/// The invariant `generated == completed + failed + timed_out + dropped +
/// in_flight` holds at every instant; [`RequestCounts::balances`] checks it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Requests created by workloads.
    pub generated: u64,
    /// Requests answered successfully.
    pub completed: u64,
    /// Requests answered with an error.
    pub failed: u64,
    /// Requests the client gave up on.
    pub timed_out: u64,
    /// Requests refused because a queue was full.
    pub dropped: u64,
    /// Requests generated but not yet ended (non-zero only when a run is cut short).
    pub in_flight: u64,
    /// Retry attempts sent (not part of the balance: a retried request still
    /// ends exactly once).
    pub retries: u64,
    /// Of `timed_out`: requests whose client gave up while they waited in a
    /// server's queue, so they left it unserved (reneging; not part of the
    /// balance).
    pub abandoned: u64,
}

impl RequestCounts {
    /// Whether every generated request is accounted for exactly once.
    pub fn balances(&self) -> bool {
        self.generated
            == self.completed + self.failed + self.timed_out + self.dropped + self.in_flight
    }

    /// Adds another scope's counts to these.
    pub fn add(&mut self, other: &RequestCounts) {
        self.generated += other.generated;
        self.completed += other.completed;
        self.failed += other.failed;
        self.timed_out += other.timed_out;
        self.dropped += other.dropped;
        self.in_flight += other.in_flight;
        self.retries += other.retries;
        self.abandoned += other.abandoned;
    }
}
