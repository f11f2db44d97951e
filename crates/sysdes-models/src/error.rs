//! Errors from assembling or running a simulation.

use thiserror::Error;

/// A spec that cannot be simulated. The scenario loader rejects all of these
/// with a source position first; this is the models' own line of defence.
#[derive(Debug, Error, PartialEq)]
pub enum BuildError {
    /// A distribution's parameters are out of range.
    #[error("component `{component}`: {reason}")]
    InvalidParameter {
        /// The component or workload at fault.
        component: String,
        /// What is wrong.
        reason: String,
    },
    /// A reference names no component.
    #[error("`{from}` refers to component #{index}, which does not exist")]
    DanglingReference {
        /// The component or workload holding the reference.
        from: String,
        /// The missing index.
        index: u32,
    },
}

/// A run that could not finish.
#[derive(Debug, Error, PartialEq)]
pub enum RunError {
    /// Requests piled up past the in-flight limit: the system is overloaded.
    #[error(
        "unstable system: `{component}` is saturated: {detail}. {in_flight} requests were in flight at t = {at_s:.3} s, over the limit of {limit}. \
         Lower the arrival rate, add workers or replicas, or shorten the service time."
    )]
    Unstable {
        /// The component with the longest queue.
        component: String,
        /// Its offered load, as a sentence fragment.
        detail: String,
        /// Requests in flight when the guard tripped.
        in_flight: u64,
        /// The guard's limit.
        limit: u64,
        /// Simulated time of the trip, seconds.
        at_s: f64,
    },
}
