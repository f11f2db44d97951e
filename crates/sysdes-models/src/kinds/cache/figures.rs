//! What a cache reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    cache_figures {
        /// A cache.
        Cache(CacheFigures),
    }
}

figures! {
    /// A cache's hits and contents.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct CacheFigures {
        /// Hits / reads over the window.
        pub hit_ratio: f64,
        /// Stale hits / hits over the window.
        pub stale_hit_ratio: f64,
        /// Reads in the window.
        pub reads: u64,
        /// Writes in the window.
        pub writes: u64,
        /// Evictions over the run.
        pub evictions: u64,
        /// Expirations over the run.
        pub expirations: u64,
        /// Busy hit workers / hit workers, when hits take a worker.
        pub hit_worker_utilization: Option<f64>,
        /// Reads that arrived while a `crash` fault had the cache down
        /// (each a miss sent to the backend), when a fault crashes it.
        pub crash_misses: Option<u64>,
    }
}
