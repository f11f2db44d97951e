//! What a server reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

figures! {
    /// A server's child calls.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct CallFigures {
        /// Hedged duplicates sent.
        pub hedges_sent: u64,
        /// Calls whose answer was not needed (lost a hedge race, beyond `wait_for`).
        pub wasted_calls: u64,
        /// Calls that failed after retries.
        pub failed_calls: u64,
    }
}

figures! {
    /// A server with a queue discipline (priority levels or reneging): its
    /// calls' figures, if it has calls, and what the discipline did.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct ServerFigures {
        /// Its child calls, if it makes any.
        pub calls: Option<CallFigures>,
        /// Requests that left the queue unserved because their patience ran out (with `patience`).
        pub abandoned: Option<u64>,
        /// Requests in service put back to wait for a higher priority (preemptive priority).
        pub preempted: Option<u64>,
    }
}
