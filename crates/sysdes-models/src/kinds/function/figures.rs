//! What a serverless function reports beyond the figures every station has
//! (see `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    function_figures {
        /// A serverless function's instances and billed duration.
        Function(FunctionFigures),
    }
}

figures! {
    /// A function's instances, cold starts, throttles and billed duration.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct FunctionFigures {
        /// Counted invocations that started (on a warm or a new instance).
        pub invocations: u64,
        /// Counted invocations that waited for a new instance to start.
        pub cold_starts: u64,
        /// Counted requests refused at the concurrency limit (HTTP 429).
        pub throttled: u64,
        /// Time-average instances alive (busy or kept warm) over the window.
        pub instances_mean: f64,
        /// Most instances alive at once, over the whole run.
        pub instances_peak: u64,
        /// Billed duration of the counted invocations (cold start included,
        /// each rounded up to the billing increment), in milliseconds.
        pub billed_ms: u64,
        /// `billed_ms` times the configured memory, in GB-seconds (GiB).
        pub billed_gb_seconds: f64,
    }
}
