//! What a storage component reports beyond the figures every station has
//! (see `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    storage_figures {
        /// A storage tier's operations, bytes and limits.
        Storage(StorageFigures),
    }
}

figures! {
    /// A storage tier's operations, bytes moved, throttles, how busy its
    /// IOPS limit and bandwidth were, and the data it holds.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct StorageFigures {
        /// Counted operations admitted (reads plus writes).
        pub operations: u64,
        /// Of those, reads.
        pub reads: u64,
        /// Of those, writes.
        pub writes: u64,
        /// Bytes read by the counted reads.
        pub bytes_read: u64,
        /// Bytes written by the counted writes.
        pub bytes_written: u64,
        /// Counted operations refused at the request-rate limit (object
        /// storage's HTTP 503 SlowDown; they end `dropped`).
        pub throttled: u64,
        /// Operations admitted in the window over what the IOPS limit
        /// allows in it (the busier of the read and write limits when they
        /// are separate); 0 without a limit.
        pub iops_utilization: f64,
        /// Busy transfer time over the shared bandwidth's capacity in the
        /// window; 0 when every stream has its own bandwidth.
        pub bandwidth_utilization: f64,
        /// Time-average data held over the window, in GB (10^9 bytes).
        pub stored_gb_mean: f64,
    }
}
