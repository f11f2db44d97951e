//! What a server reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    server_figures {
        /// A server with child calls.
        Calls(CallFigures),
        /// A server with a priority discipline or reneging (and maybe calls).
        Server(ServerFigures),
    }
}

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
        /// Calls not answered by their step's `timeout` (steps with one).
        pub call_timeouts: Option<u64>,
        /// Answers that came after their call's timeout: wasted work, also
        /// in `wasted_calls` (steps with a `timeout`).
        pub late_calls: Option<u64>,
        /// Requests whose `partial` step ended short of `wait_for`, with the
        /// answers it had (steps with `partial`).
        pub partial_answers: Option<u64>,
        /// Successful answers those partial steps included.
        pub partial_answer_calls: Option<u64>,
        /// Calls failed at once by an open circuit breaker (steps with a `breaker`).
        pub short_circuited: Option<u64>,
        /// Breaker transitions to open (from closed, or from half-open when a probe failed).
        pub breaker_opened: Option<u64>,
        /// Breaker transitions from half-open back to closed.
        pub breaker_closed: Option<u64>,
    }
}

impl CallFigures {
    /// Every figure a server with these call steps reports (for the names
    /// an `expect:` target may use).
    pub fn template(steps: &[crate::spec::CallStep]) -> Self {
        let mut f = CallFigures::default();
        crate::kinds::server::calls::Resilience::new(steps).figures(steps, &mut f);
        f
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
