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

/// Leader to follower replication lag.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LagFigures {
    /// Mean.
    pub replication_lag_mean_ms: f64,
    /// p99.
    pub replication_lag_p99_ms: f64,
}

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

impl ComponentResult {
    /// Walks this component's kind-specific figures in report order:
    /// `f(scope, name, value)`. Absent figures are skipped. This is the one
    /// list of figure names; every output derives its keys from it.
    pub fn visit_figures(&self, f: &mut dyn FnMut(Scope<'_>, &'static str, Figure)) {
        self.figures.visit(f);
        if let Some(lost) = self.lost_in_crash {
            f(Scope::Component, "lost_in_crash", Figure::Count(lost));
        }
        if let Some(s) = &self.scaling {
            visit_scaling(s, f);
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
fn lookup(
    key: &str,
    walk: impl FnOnce(&mut dyn FnMut(Scope<'_>, &'static str, Figure)),
) -> Option<f64> {
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
    pub fn visit(&self, f: &mut dyn FnMut(Scope<'_>, &'static str, Figure)) {
        visit_kind(self, f);
    }

    /// The figure with flat key `key`, like [`ComponentResult::figure`].
    pub fn get(&self, key: &str) -> Option<f64> {
        lookup(key, |f| self.visit(f))
    }
}

fn visit_kind(k: &KindFigures, f: &mut dyn FnMut(Scope<'_>, &'static str, Figure)) {
    let c = Scope::Component;
    let n = |f: &mut dyn FnMut(Scope<'_>, &'static str, Figure), name, v: u64| {
        f(c, name, Figure::Count(v))
    };
    let x = |f: &mut dyn FnMut(Scope<'_>, &'static str, Figure), name, v: f64| {
        f(c, name, Figure::Value(v))
    };
    match k {
        KindFigures::None => {}
        KindFigures::Calls(s) => {
            n(f, "hedges_sent", s.hedges_sent);
            n(f, "wasted_calls", s.wasted_calls);
            n(f, "failed_calls", s.failed_calls);
        }
        KindFigures::Cache(s) => {
            x(f, "hit_ratio", s.hit_ratio);
            x(f, "stale_hit_ratio", s.stale_hit_ratio);
            n(f, "reads", s.reads);
            n(f, "writes", s.writes);
            n(f, "evictions", s.evictions);
            n(f, "expirations", s.expirations);
            if let Some(u) = s.hit_worker_utilization {
                x(f, "hit_worker_utilization", u);
            }
        }
        KindFigures::Queue(s) => {
            n(f, "messages_enqueued", s.messages_enqueued);
            n(f, "messages_dropped", s.messages_dropped);
            n(f, "messages_consumed", s.messages_consumed);
            x(f, "message_latency_mean_ms", s.message_latency_mean_ms);
            x(f, "message_latency_p99_ms", s.message_latency_p99_ms);
            x(f, "message_wait_mean_ms", s.message_wait_mean_ms);
            x(f, "mean_depth", s.mean_depth);
            n(f, "max_depth", s.max_depth);
            if let Some(b) = s.blocked_producers {
                n(f, "blocked_producers", b);
            }
            if let Some(b) = s.mean_blocked {
                x(f, "mean_blocked", b);
            }
            if let Some(e) = s.consumer_errors {
                n(f, "consumer_errors", e);
            }
        }
        KindFigures::Stream(s) => {
            n(f, "messages_appended", s.messages_appended);
            n(f, "peak_retained", s.peak_retained);
            for g in &s.groups {
                let at = Scope::Group(&g.group);
                f(at, "consumed", Figure::Count(g.consumed));
                f(at, "expired", Figure::Count(g.expired));
                f(at, "lag_mean", Figure::Value(g.lag_mean));
                f(at, "lag_max", Figure::Count(g.lag_max));
                f(at, "lag_s_mean", Figure::Value(g.lag_s_mean));
                f(at, "lag_s_max", Figure::Value(g.lag_s_max));
                f(at, "latency_mean_ms", Figure::Value(g.latency_mean_ms));
                f(at, "latency_p99_ms", Figure::Value(g.latency_p99_ms));
            }
        }
        KindFigures::Batching(s) => {
            x(f, "mean_batch_size", s.mean_batch_size);
            n(f, "batches", s.batches);
            x(f, "mean_queue_delay_ms", s.mean_queue_delay_ms);
            x(f, "mean_compute_ms", s.mean_compute_ms);
            x(f, "slot_utilization", s.slot_utilization);
            x(f, "cold_start_ms", s.cold_start_ms);
            x(f, "capacity_rps", s.capacity_rps);
        }
        KindFigures::Llm(s) => {
            x(f, "ttft_mean_ms", s.ttft_mean_ms);
            x(f, "ttft_p50_ms", s.ttft_p50_ms);
            x(f, "ttft_p99_ms", s.ttft_p99_ms);
            x(f, "tpot_mean_ms", s.tpot_mean_ms);
            x(f, "tpot_p50_ms", s.tpot_p50_ms);
            x(f, "tpot_p99_ms", s.tpot_p99_ms);
            x(f, "output_tokens_per_s", s.output_tokens_per_s);
            x(f, "mean_running_batch", s.mean_running_batch);
            x(f, "mean_prefill_batch", s.mean_prefill_batch);
            n(f, "prefills", s.prefills);
            n(f, "decode_steps", s.decode_steps);
            x(f, "mean_prompt_tokens", s.mean_prompt_tokens);
            x(f, "mean_output_tokens", s.mean_output_tokens);
            x(f, "mean_queue_delay_ms", s.mean_queue_delay_ms);
            x(f, "slot_utilization", s.slot_utilization);
            x(f, "cold_start_ms", s.cold_start_ms);
            x(f, "capacity_rps", s.capacity_rps);
            x(f, "capacity_tokens_per_s", s.capacity_tokens_per_s);
        }
        KindFigures::Store(s) => {
            n(f, "reads", s.reads);
            n(f, "writes", s.writes);
            n(f, "stale_reads", s.stale_reads);
            x(f, "stale_read_ratio", s.stale_read_ratio);
            n(f, "failed_reads", s.failed_reads);
            n(f, "failed_writes", s.failed_writes);
            x(f, "availability", s.availability);
            n(f, "lost_writes", s.lost_writes);
            n(f, "read_repairs", s.read_repairs);
            n(f, "hints_delivered", s.hints_delivered);
            n(f, "failovers", s.failovers);
            if let Some(a) = &s.read_age {
                x(f, "read_age_mean_ms", a.read_age_mean_ms);
                x(f, "read_age_p50_ms", a.read_age_p50_ms);
                x(f, "read_age_p99_ms", a.read_age_p99_ms);
            }
            if let Some(l) = &s.replication_lag {
                x(f, "replication_lag_mean_ms", l.replication_lag_mean_ms);
                x(f, "replication_lag_p99_ms", l.replication_lag_p99_ms);
            }
            if let Some(p) = &s.probes {
                n(f, "probe_reads", p.probe_reads);
                x(f, "probe_consistent", p.probe_consistent);
                x(f, "probe_within_2_versions", p.probe_within_2_versions);
                x(f, "probe_within_3_versions", p.probe_within_3_versions);
            }
        }
    }
}

fn visit_scaling(s: &ScalingFigures, f: &mut dyn FnMut(Scope<'_>, &'static str, Figure)) {
    let c = Scope::Component;
    f(
        c,
        "replicas_ready_mean",
        Figure::Value(s.replicas_ready_mean),
    );
    f(c, "replicas_ready_max", Figure::Count(s.replicas_ready_max));
    f(
        c,
        "replicas_booting_max",
        Figure::Count(s.replicas_booting_max),
    );
    if let Some(p) = s.replicas_pending_max {
        f(c, "replicas_pending_max", Figure::Count(p));
    }
    f(c, "scale_ups", Figure::Count(s.scale_ups));
    f(c, "scale_downs", Figure::Count(s.scale_downs));
    if let Some(b) = s.boot_time_mean_s {
        f(c, "boot_time_mean_s", Figure::Value(b));
    }
    f(c, "no_replica_drops", Figure::Count(s.no_replica_drops));
    if let Some(u) = s.host_pool_utilization {
        f(c, "host_pool_utilization", Figure::Value(u));
    }
}
