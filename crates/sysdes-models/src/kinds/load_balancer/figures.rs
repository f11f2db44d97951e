//! What a load balancer reports beyond the figures every station has (see
//! `crate::figures` for the conventions): only the figures of the routing
//! options it has, so a plain balancer reports none.

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    load_balancer_figures {
        /// A load balancer with shadow traffic or health checks.
        Balancer(BalancerFigures),
    }
}

figures! {
    /// A balancer's shadow traffic and health checks.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct BalancerFigures {
        /// Counted requests copied to the shadow target, when it has one.
        pub shadowed: Option<u64>,
        /// Backends ejected by health checks over the run, when it checks.
        pub ejections: Option<u64>,
        /// Probes sent to ejected backends over the run, when it checks.
        pub probes: Option<u64>,
        /// Counted requests `prefix_affinity` sent away from their group's
        /// replica because it had more than the bound waiting (the group
        /// moved with them), when the policy is `prefix_affinity`.
        pub affinity_moves: Option<u64>,
    }
}
