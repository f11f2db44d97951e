//! What a store reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use sysdes_stats::ConsistencyReport;

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    store_figures {
        /// A replicated store.
        Store(Box<StoreFigures>),
    }
}

figures! {
    /// A replicated store.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct StoreFigures {
        /// Reads answered.
        pub reads: u64,
        /// Writes acknowledged.
        pub writes: u64,
        /// Reads that returned an older version than the latest committed.
        pub stale_reads: u64,
        /// Stale reads / reads.
        pub stale_read_ratio: f64,
        /// Reads that failed.
        pub failed_reads: u64,
        /// Writes that failed.
        pub failed_writes: u64,
        /// Answered / attempted operations.
        pub availability: f64,
        /// Acknowledged writes lost (failover, crash).
        pub lost_writes: u64,
        /// Read repairs sent.
        pub read_repairs: u64,
        /// Hinted handoffs delivered.
        pub hints_delivered: u64,
        /// Leader failovers.
        pub failovers: u64,
        /// Age of the version read, when reads were measured.
        pub read_age: Option<AgeFigures>,
        /// Replication lag, when replication was measured.
        pub replication_lag: Option<LagFigures>,
        /// The PBS probe reads, when `probe_after` is set.
        pub probes: Option<ProbeFigures>,
        /// This store's consistency anomalies (the run's top-level
        /// `consistency` is the first store's).
        pub consistency: Option<ConsistencyReport>,
    }
}

figures! {
    /// Age of the version a read returned.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct AgeFigures {
        /// Mean.
        pub read_age_mean_ms: f64,
        /// Median.
        pub read_age_p50_ms: f64,
        /// p99.
        pub read_age_p99_ms: f64,
    }
}

figures! {
    /// Leader to follower replication lag.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct LagFigures {
        /// Mean.
        pub replication_lag_mean_ms: f64,
        /// p99.
        pub replication_lag_p99_ms: f64,
    }
}

figures! {
    /// PBS t-visibility probes.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct ProbeFigures {
        /// Probe reads made.
        pub probe_reads: u64,
        /// Probes that saw the committed write.
        pub probe_consistent: f64,
        /// Probes within 2 versions of it.
        pub probe_within_2_versions: f64,
        /// Probes within 3 versions of it.
        pub probe_within_3_versions: f64,
    }
}
