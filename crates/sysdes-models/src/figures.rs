//! Typed result figures: what each component kind measures beyond the
//! figures every station has (arrivals, utilization, latency, ...).
//!
//! Each kind fills one plain struct: counts are `u64`, everything else is an
//! `f64` with its unit in the field name (`_ms`, `_s`, `_ratio`, `_per_s`).
//! A figure that does not apply to a run (no probe reads configured, no boot
//! seen) is an `Option` and reported only when present.
//!
//! This module gives each figure its report name, in one place:
//! [`ComponentResult::visit_figures`] walks the figures of a component in
//! report order. It does not build keys or documents: `sysdes-report`'s
//! `flatten` module turns the walk into JSON keys, CSV cells and sweep
//! columns, and [`ComponentResult::figure`] looks one up by its legacy
//! flat key.

use sysdes_stats::ConsistencyReport;

use crate::result::ComponentResult;

/// The component kinds as results name them: one registry for every reader
/// (JSON `type`, CSV `type`, the table, sweeps). [`ComponentType::name`]
/// gives the name the scenario file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentType {
    /// `type: server`, also a deployment of servers.
    Server,
    /// `type: load_balancer`, also a replica group's implicit balancer.
    LoadBalancer,
    /// `type: cache`.
    Cache,
    /// `type: queue`.
    Queue,
    /// `type: stream`.
    Stream,
    /// `type: model_server`, batching or LLM mode.
    ModelServer,
    /// `type: store`.
    Store,
}

impl ComponentType {
    /// Every kind, in registry order.
    pub const ALL: [ComponentType; 7] = [
        ComponentType::Server,
        ComponentType::LoadBalancer,
        ComponentType::Cache,
        ComponentType::Queue,
        ComponentType::Stream,
        ComponentType::ModelServer,
        ComponentType::Store,
    ];

    /// The kind's name as in the scenario file (`server`, `load_balancer`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ComponentType::Server => "server",
            ComponentType::LoadBalancer => "load_balancer",
            ComponentType::Cache => "cache",
            ComponentType::Queue => "queue",
            ComponentType::Stream => "stream",
            ComponentType::ModelServer => "model_server",
            ComponentType::Store => "store",
        }
    }
}

impl std::fmt::Display for ComponentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Lets readers written against the old string kinds keep comparing
/// (`c.kind == "server"`).
impl PartialEq<&str> for ComponentType {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl PartialEq<str> for ComponentType {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

/// One figure's value: a count (an integer in every output) or a measured
/// quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// Something counted: requests, messages, events, replicas.
    Count(u64),
    /// A measured quantity, in the unit its name says.
    Value(f64),
}

impl Figure {
    /// The figure as a float (counts convert exactly below 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Figure::Count(n) => n as f64,
            Figure::Value(x) => x,
        }
    }
}

/// Where a figure belongs inside its component: the component itself, or
/// one consumer group of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// A figure of the component as a whole.
    Component,
    /// A figure of the stream's consumer group with this name.
    Group(&'a str),
}

/// What walks figures: called with each figure's scope, report name and
/// value (see [`ComponentResult::visit_figures`]).
pub type Visit<'f> = dyn FnMut(Scope<'_>, &'static str, Figure) + 'f;

/// How one field of a figures struct is walked: a count, a value, an
/// optional one (skipped when absent), a nested struct, or not a figure.
trait Field {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>);
}

impl Field for u64 {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
        f(scope, name, Figure::Count(*self));
    }
}

impl Field for f64 {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
        f(scope, name, Figure::Value(*self));
    }
}

impl<T: Field> Field for Option<T> {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
        if let Some(v) = self {
            v.walk(name, scope, f);
        }
    }
}

/// A consumer group's name: the scope of its figures, not a figure.
impl Field for String {
    fn walk(&self, _: &'static str, _: Scope<'_>, _: &mut Visit<'_>) {}
}

/// A store's consistency report: its own JSON object, not a figure.
impl Field for ConsistencyReport {
    fn walk(&self, _: &'static str, _: Scope<'_>, _: &mut Visit<'_>) {}
}

/// A stream's groups: each walked in its own scope.
impl Field for Vec<GroupFigures> {
    fn walk(&self, _: &'static str, _: Scope<'_>, f: &mut Visit<'_>) {
        for g in self {
            g.visit(Scope::Group(&g.group), f);
        }
    }
}

/// Declares a figures struct and its walk: each field's name is its report
/// name, so a figure's name is written once.
macro_rules! figures {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// Walks the figures in declaration order: `f(scope, name, value)`.
            pub fn visit(&self, scope: Scope<'_>, f: &mut Visit<'_>) {
                $( Field::walk(&self.$field, stringify!($field), scope, f); )*
            }
        }

        impl Field for $name {
            fn walk(&self, _: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
                self.visit(scope, f);
            }
        }
    };
}

/// The figures specific to a component's kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum KindFigures {
    /// The kind reports nothing beyond the common figures.
    #[default]
    None,
    /// A server with child calls.
    Calls(CallFigures),
    /// A cache.
    Cache(CacheFigures),
    /// A queue.
    Queue(QueueFigures),
    /// A stream.
    Stream(StreamFigures),
    /// A batching model server.
    Batching(BatchFigures),
    /// A model server in LLM mode.
    Llm(LlmFigures),
    /// A replicated store.
    Store(Box<StoreFigures>),
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
    }
}

figures! {
    /// A batching model server.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct BatchFigures {
        /// Mean size of the batches started in the window.
        pub mean_batch_size: f64,
        /// Batches started in the window.
        pub batches: u64,
        /// Arrival to batch start, per completed request.
        pub mean_queue_delay_ms: f64,
        /// Batch compute time, per completed request.
        pub mean_compute_ms: f64,
        /// Time-average busy slots / slots.
        pub slot_utilization: f64,
        /// When the server became ready.
        pub cold_start_ms: f64,
        /// Full-batch capacity, requests per second.
        pub capacity_rps: f64,
    }
}

figures! {
    /// A model server in LLM mode.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct LlmFigures {
        /// Time to first token, mean.
        pub ttft_mean_ms: f64,
        /// Time to first token, median.
        pub ttft_p50_ms: f64,
        /// Time to first token, p99.
        pub ttft_p99_ms: f64,
        /// Time per output token, mean.
        pub tpot_mean_ms: f64,
        /// Time per output token, median.
        pub tpot_p50_ms: f64,
        /// Time per output token, p99.
        pub tpot_p99_ms: f64,
        /// Output tokens per second of window.
        pub output_tokens_per_s: f64,
        /// Sequences per decode step.
        pub mean_running_batch: f64,
        /// Prompts per prefill.
        pub mean_prefill_batch: f64,
        /// Prefills run.
        pub prefills: u64,
        /// Decode steps run.
        pub decode_steps: u64,
        /// Prompt tokens per completed request.
        pub mean_prompt_tokens: f64,
        /// Output tokens per completed request.
        pub mean_output_tokens: f64,
        /// Arrival to admission, per completed request.
        pub mean_queue_delay_ms: f64,
        /// Time-average busy slots / slots.
        pub slot_utilization: f64,
        /// When the server became ready.
        pub cold_start_ms: f64,
        /// Capacity, requests per second.
        pub capacity_rps: f64,
        /// Capacity, output tokens per second.
        pub capacity_tokens_per_s: f64,
    }
}

figures! {
    /// A replicated store.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct StoreFigures {
        /// Reads answered.
        pub reads: u64,
        /// Writes acknowledged.
        pub writes: u64,
        /// Reads that returned an older version than the latest committed.
        pub stale_reads: u64,
        /// Stale reads / reads.
        pub stale_read_ratio: f64,
        /// Reads that failed.
        pub failed_reads: u64,
        /// Writes that failed.
        pub failed_writes: u64,
        /// Answered / attempted operations.
        pub availability: f64,
        /// Acknowledged writes lost (failover, crash).
        pub lost_writes: u64,
        /// Read repairs sent.
        pub read_repairs: u64,
        /// Hinted handoffs delivered.
        pub hints_delivered: u64,
        /// Leader failovers.
        pub failovers: u64,
        /// Age of the version read, when reads were measured.
        pub read_age: Option<AgeFigures>,
        /// Replication lag, when replication was measured.
        pub replication_lag: Option<LagFigures>,
        /// The PBS probe reads, when `probe_after` is set.
        pub probes: Option<ProbeFigures>,
        /// This store's consistency anomalies (the run's top-level
        /// `consistency` is the first store's).
        pub consistency: Option<ConsistencyReport>,
    }
}

figures! {
    /// Age of the version a read returned.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct AgeFigures {
        /// Mean.
        pub read_age_mean_ms: f64,
        /// Median.
        pub read_age_p50_ms: f64,
        /// p99.
        pub read_age_p99_ms: f64,
    }
}

figures! {
    /// Leader to follower replication lag.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct LagFigures {
        /// Mean.
        pub replication_lag_mean_ms: f64,
        /// p99.
        pub replication_lag_p99_ms: f64,
    }
}

figures! {
    /// PBS t-visibility probes.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct ProbeFigures {
        /// Probe reads made.
        pub probe_reads: u64,
        /// Probes that saw the committed write.
        pub probe_consistent: f64,
        /// Probes within 2 versions of it.
        pub probe_within_2_versions: f64,
        /// Probes within 3 versions of it.
        pub probe_within_3_versions: f64,
    }
}

figures! {
    /// A deployment's or replica group's replicas and scaling.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct ScalingFigures {
        /// Time-average ready replicas.
        pub replicas_ready_mean: f64,
        /// Most ready replicas at once.
        pub replicas_ready_max: u64,
        /// Most booting replicas at once.
        pub replicas_booting_max: u64,
        /// Most replicas waiting for a host (deployments on hosts).
        pub replicas_pending_max: Option<u64>,
        /// Scaling decisions upwards.
        pub scale_ups: u64,
        /// Scaling decisions downwards.
        pub scale_downs: u64,
        /// Mean boot time, when a replica booted.
        pub boot_time_mean_s: Option<f64>,
        /// Requests refused because no replica was ready.
        pub no_replica_drops: u64,
        /// Busy cores / cores of the deployment's host pool.
        pub host_pool_utilization: Option<f64>,
    }
}

impl ComponentResult {
    /// Walks this component's kind-specific figures in report order:
    /// `f(scope, name, value)`. Absent figures are skipped. This is the one
    /// list of figure names; every output derives its keys from it.
    pub fn visit_figures(&self, f: &mut Visit<'_>) {
        self.figures.visit(f);
        if let Some(lost) = self.lost_in_crash {
            f(Scope::Component, "lost_in_crash", Figure::Count(lost));
        }
        if let Some(s) = &self.scaling {
            s.visit(Scope::Component, f);
        }
    }

    /// The kind-specific figure `key` as a float, by its flat key
    /// (`hit_ratio`, `lost_in_crash`, or `GROUP.lag_mean` for a stream's
    /// group); `None` if the component has no such figure.
    pub fn figure(&self, key: &str) -> Option<f64> {
        lookup(key, |f| self.visit_figures(f))
    }

    /// Whether the component reports any kind-specific figure.
    pub fn has_figures(&self) -> bool {
        let mut any = false;
        self.visit_figures(&mut |_, _, _| any = true);
        any
    }
}

/// The figure with flat key `key` in the walk `walk` (a group's figures
/// under `GROUP.NAME`).
fn lookup(key: &str, walk: impl FnOnce(&mut Visit<'_>)) -> Option<f64> {
    let mut found = None;
    walk(&mut |scope, name, value| {
        if found.is_some() {
            return;
        }
        let hit = match scope {
            Scope::Component => name == key,
            Scope::Group(g) => key
                .strip_prefix(g)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| rest == name),
        };
        if hit {
            found = Some(value.as_f64());
        }
    });
    found
}

impl KindFigures {
    /// Walks the figures in report order, like
    /// [`ComponentResult::visit_figures`].
    pub fn visit(&self, f: &mut Visit<'_>) {
        visit_kind(self, f);
    }

    /// The figure with flat key `key`, like [`ComponentResult::figure`].
    pub fn get(&self, key: &str) -> Option<f64> {
        lookup(key, |f| self.visit(f))
    }
}

fn visit_kind(k: &KindFigures, f: &mut Visit<'_>) {
    let c = Scope::Component;
    match k {
        KindFigures::None => {}
        KindFigures::Calls(s) => s.visit(c, f),
        KindFigures::Cache(s) => s.visit(c, f),
        KindFigures::Queue(s) => s.visit(c, f),
        KindFigures::Stream(s) => s.visit(c, f),
        KindFigures::Batching(s) => s.visit(c, f),
        KindFigures::Llm(s) => s.visit(c, f),
        KindFigures::Store(s) => s.visit(c, f),
    }
}
