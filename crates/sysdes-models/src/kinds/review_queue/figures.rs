//! What a review queue reports (see `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    review_queue_figures {
        /// A review queue.
        Review(ReviewFigures),
    }
}

figures! {
    /// A review queue's intake, backlog and review age over the window.
    /// The backlog counts items kept for review and not yet reviewed (in
    /// review included).
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ReviewFigures {
        /// Requests that reached the queue.
        pub received: u64,
        /// Of those, items kept for review.
        pub enqueued: u64,
        /// Reviews finished.
        pub reviewed: u64,
        /// Time-average backlog, items.
        pub backlog_mean: f64,
        /// Largest backlog, items.
        pub backlog_max: u64,
        /// Backlog when the window ends, items.
        pub backlog_end: u64,
        /// Time from enqueue to review done, mean.
        pub review_age_mean_s: f64,
        /// Time from enqueue to review done, p99.
        pub review_age_p99_s: f64,
    }
}
