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
