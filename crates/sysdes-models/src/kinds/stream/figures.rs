//! What a stream reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    stream_figures {
        /// A stream.
        Stream(StreamFigures),
    }
}

figures! {
    /// A stream's log and its consumer groups.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct StreamFigures {
        /// Messages appended to the log.
        pub messages_appended: u64,
        /// Most entries held at once (what the stream keeps in memory).
        pub peak_retained: u64,
        /// Per consumer group, in file order.
        pub groups: Vec<GroupFigures>,
    }
}

figures! {
    /// One consumer group of a stream.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct GroupFigures {
        /// The group's name.
        pub group: String,
        /// Messages the group consumed.
        pub consumed: u64,
        /// Messages that expired (retention) before the group consumed them.
        pub expired: u64,
        /// Time-average lag, messages.
        pub lag_mean: f64,
        /// Largest lag, messages.
        pub lag_max: u64,
        /// Time-average age of the oldest unconsumed message, seconds.
        pub lag_s_mean: f64,
        /// Largest age of the oldest unconsumed message, seconds.
        pub lag_s_max: f64,
        /// Append to consumer done, mean.
        pub latency_mean_ms: f64,
        /// Append to consumer done, p99.
        pub latency_p99_ms: f64,
        /// A group with a `start`: when it started, seconds into the run.
        pub start_s: Option<f64>,
        /// A group with a `start`: its lag when it started (the messages it
        /// replays).
        pub backlog_at_start: Option<u64>,
        /// A group with a `start`: seconds from its start until each of its
        /// consumers had once drained its partition (absent if it never
        /// caught up).
        pub caught_up_s: Option<f64>,
    }
}
