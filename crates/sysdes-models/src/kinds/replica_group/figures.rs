//! What a deployment reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

figures! {
    /// A replica group's replicas and scaling (a deployment is one).
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct ScalingFigures {
        /// Time-average ready replicas.
        pub replicas_ready_mean: f64,
        /// Most ready replicas at once.
        pub replicas_ready_max: u64,
        /// Most booting replicas at once.
        pub replicas_booting_max: u64,
        /// Most replicas waiting for a host (deployments on hosts).
        pub replicas_pending_max: Option<u64>,
        /// Scaling decisions upwards.
        pub scale_ups: u64,
        /// Scaling decisions downwards.
        pub scale_downs: u64,
        /// Mean boot time, when a replica booted.
        pub boot_time_mean_s: Option<f64>,
        /// Requests refused because no replica was ready.
        pub no_replica_drops: u64,
        /// Busy cores / cores of the deployment's host pool.
        pub host_pool_utilization: Option<f64>,
        /// Spot replicas: interruptions over the run.
        pub interruptions: Option<u64>,
        /// Spot replicas: counted requests failed by interruptions.
        pub lost_in_interruptions: Option<u64>,
    }
}
