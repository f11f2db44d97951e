//! What a DNS component reports (see `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    dns_figures {
        /// A DNS name's lookups, cache hits and stale requests.
        Dns(DnsFigures),
    }
}

figures! {
    /// Where a DNS component's clients sent their requests: lookups, cache
    /// hits, requests sent on a stale answer, and when the answer changed.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct DnsFigures {
        /// Counted requests whose client looked the name up (no fresh answer cached).
        pub lookups: u64,
        /// Counted requests sent on a cached answer.
        pub cache_hits: u64,
        /// Counted requests sent to a target other than the current answer.
        pub requests_to_stale_target: u64,
        /// Times the authoritative answer changed over the run.
        pub record_changes: u64,
        /// When the answer first moved off the first record, seconds since the start; absent if it never did.
        pub failover_at_s: Option<f64>,
        /// When the answer first came back to the first record, seconds since the start; absent if it never did.
        pub failback_at_s: Option<f64>,
    }
}
