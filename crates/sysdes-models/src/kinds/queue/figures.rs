//! What a queue reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    queue_figures {
        /// A queue.
        Queue(QueueFigures),
    }
}

figures! {
    /// A queue's messages and depth.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct QueueFigures {
        /// Messages accepted into the buffer.
        pub messages_enqueued: u64,
        /// Messages refused at a full buffer.
        pub messages_dropped: u64,
        /// Messages a consumer finished.
        pub messages_consumed: u64,
        /// Enqueue to consumer done, mean.
        pub message_latency_mean_ms: f64,
        /// Enqueue to consumer done, p99.
        pub message_latency_p99_ms: f64,
        /// Time in the buffer, mean.
        pub message_wait_mean_ms: f64,
        /// Time-average messages held.
        pub mean_depth: f64,
        /// Most messages held at once.
        pub max_depth: u64,
        /// Producers that had to wait (back-pressure queues only).
        pub blocked_producers: Option<u64>,
        /// Time-average producers waiting (back-pressure queues only).
        pub mean_blocked: Option<f64>,
        /// Consumer calls that came back dropped or failed, when there were any.
        pub consumer_errors: Option<u64>,
    }
}
