//! What a run measured, as plain data for the report layer.

use sysdes_stats::{ConsistencyReport, LatencyHistogram, RequestCounts};

use crate::Series;
use crate::figures::{ComponentType, KindFigures, ScalingFigures};

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Every request ended after the last arrival: the normal end.
    Drained,
    /// The `max_events` limit was reached; results are partial.
    EventLimit,
    /// The observer asked to stop (for example a wall-clock limit); results are partial.
    Interrupted,
}

/// Everything one run measured. Latencies cover requests that arrived in the
/// measurement window `[warmup, duration)`; rates divide by its length.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Root seed used.
    pub seed: u64,
    /// Scenario duration (end of arrivals), seconds.
    pub duration_s: f64,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Simulated time when the last request ended, seconds.
    pub end_s: f64,
    /// Events delivered by the kernel.
    pub events: u64,
    /// Why the run ended.
    pub stop: StopReason,
    /// The most requests in flight at once: what the run's memory scales with.
    pub peak_in_flight: u64,
    /// Request accounting over all workloads.
    pub requests: RequestCounts,
    /// End-to-end latency of every successful counted request.
    pub latency: LatencyHistogram,
    /// Per workload, in file order.
    pub workloads: Vec<WorkloadResult>,
    /// Per component, in file order.
    pub components: Vec<ComponentResult>,
    /// End-to-end figures per interval of simulated time, warm-up included.
    pub series: Series,
    /// Consistency anomalies seen by the clients of a replicated store;
    /// `None` when the scenario has no store.
    pub consistency: Option<ConsistencyReport>,
    /// The scenario's fault windows, in file order (for shading plots).
    pub faults: Vec<FaultWindow>,
    /// When each replica of each fleet ran, for billing (`sysdes-cost`).
    pub lifetimes: crate::Lifetimes,
    /// The events counted while the progress guard suspected a loop of
    /// (near-)zero-time events (see `sysdes_kernel::ProgressGuard`); `None`
    /// when it never did. Not part of the result's JSON: the CLI names the
    /// loop with it when the guard stops a run.
    pub hot_loop: Option<LoopProfile>,
    /// Which of the engine's short paths the run took (docs/performance.md);
    /// not part of the result's JSON: tests read it to know that a
    /// shortcut they compare against the long path did engage.
    pub shortcuts: Shortcuts,
}

/// The engine's short paths a run took. Each gives the same figures as
/// the long path (`crates/sysdes-models/tests/speed_shortcuts.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shortcuts {
    /// Workloads whose requests went straight into a plain server: no hop
    /// record, no kind resolution, answered straight to the client.
    pub direct_workloads: u32,
    /// Servers that took the plain departure path (a leaf FIFO server on
    /// no host that no crash can reach).
    pub plain_servers: u32,
    /// Whether the only server took a copy of its only workload's latency
    /// histogram instead of recording the same latencies itself.
    pub shared_latency: bool,
}

/// The events that made up a suspected loop, for the message that stops it:
/// `events Deliver (to lb, 61%), Respond (38%); components lb, api`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoopProfile {
    /// Events counted.
    pub events: u64,
    /// Per event kind, most events first.
    pub kinds: Vec<LoopKind>,
    /// The (up to three) components most of the counted events happened at,
    /// most first.
    pub components: Vec<String>,
}

/// One kind of event in a [`LoopProfile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopKind {
    /// The engine's name of the event kind (`Deliver`, `ServiceDone`, ...).
    pub kind: &'static str,
    /// Events of this kind counted.
    pub events: u64,
    /// The component or workload most of them happened at, if they name one.
    pub at: Option<String>,
}

impl std::fmt::Display for LoopProfile {
    /// At most four event kinds, then the components.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("events ")?;
        for (i, k) in self.kinds.iter().take(4).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let pct = (k.events as f64 * 100.0 / self.events.max(1) as f64).round();
            match &k.at {
                Some(at) => write!(f, "{} (at {at}, {pct}%)", k.kind)?,
                None => write!(f, "{} ({pct}%)", k.kind)?,
            }
        }
        if self.kinds.len() > 4 {
            write!(f, " and {} other kinds", self.kinds.len() - 4)?;
        }
        if !self.components.is_empty() {
            write!(f, "; components {}", self.components.join(", "))?;
        }
        Ok(())
    }
}

/// When a fault was active, for results, series and plots.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    /// `crash`, `slowdown`, `latency`, `loss` or `partition`.
    pub kind: &'static str,
    /// What it hit: a component, `A<->B`, or the partition's groups `a,b | c`.
    pub target: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// A spot instance's interruption (`cost.spot`), shown as a `crash`
    /// of it (or of its replica) until its replacement: `false` for a
    /// crash fault of the scenario. Not written to the JSON result, whose
    /// readers tell spot components by their
    /// `cost.by_component.NAME.interruptions`; the verdict reads it to
    /// name what failed a spot server's requests.
    pub spot: bool,
}

impl FaultWindow {
    /// Whether the window overlaps the interval `[start_s, end_s)`.
    pub fn overlaps(&self, start_s: f64, end_s: f64) -> bool {
        self.start_s < end_s && start_s < self.end_s
    }
}

/// One workload's results.
#[derive(Clone, Debug)]
pub struct WorkloadResult {
    /// Workload name.
    pub name: String,
    /// Its requests' fates.
    pub requests: RequestCounts,
    /// End-to-end latency of its successful counted requests.
    pub latency: LatencyHistogram,
    /// Offered rate for open workloads (requests per second), `None` if closed.
    pub offered_rps: Option<f64>,
    /// Users of a closed workload (0 if open).
    pub users: u32,
}

/// One component's results.
#[derive(Clone, Debug)]
pub struct ComponentResult {
    /// Component name.
    pub name: String,
    /// The component's kind, from the registry; `kind.name()` is the name
    /// the scenario file uses (`server`, `load_balancer`, ...).
    pub kind: ComponentType,
    /// Parallel workers (0 for a load balancer, which does no work itself).
    pub workers: u32,
    /// Counted requests that arrived.
    pub arrivals: u64,
    /// Counted requests that left after service.
    pub completions: u64,
    /// Counted requests refused because the queue was full.
    pub drops: u64,
    /// Busy worker time / (workers x window); 0 for a load balancer or
    /// any component without a capacity (read it through
    /// [`ComponentResult::capacity_utilization`], which says which).
    pub utilization: f64,
    /// Time-average number waiting (not in service) over the window.
    pub mean_queue_length: f64,
    /// Time-average number inside (waiting or in service) over the window.
    pub mean_in_system: f64,
    /// Largest number ever waiting.
    pub peak_queue_length: u64,
    /// Time inside the component per counted request.
    pub latency: LatencyHistogram,
    /// Load offered by open workloads per the spec (rate x mean service /
    /// workers), for servers; `None` otherwise. The engine leaves it `None`:
    /// `sysdes_theory::annotate_offered` fills it in.
    pub offered_load: Option<f64>,
    /// Figures specific to the component's kind (a cache's hit ratio, a
    /// server's hedges, a store's stale reads, ...); walk them with
    /// [`ComponentResult::visit_figures`], look one up with
    /// [`ComponentResult::figure`].
    pub figures: KindFigures,
    /// Requests failed by crashes of this component, for a component a
    /// crash fault can hit.
    pub lost_in_crash: Option<u64>,
    /// Replicas and scaling, for a deployment or a replica group.
    pub scaling: Option<ScalingFigures>,
    /// For one replica of a replica group (`NAME[i]`), the group's name.
    pub replica_of: Option<String>,
}

impl RunResult {
    /// Length of the measurement window, seconds.
    pub fn window_s(&self) -> f64 {
        self.duration_s - self.warmup_s
    }

    /// Requests per second that completed inside the measurement window,
    /// whichever window they arrived in: completions over the series
    /// intervals that lie wholly inside `[warmup, duration)`, per second of
    /// those intervals. A run that drains a backlog after its duration does
    /// not count the drain (an overloaded server reports its capacity, not
    /// its arrival rate). Falls back to the counted completions per second
    /// of window when no whole interval lies inside it.
    pub fn throughput_rps(&self) -> f64 {
        // Interval ends are sums of nanoseconds: allow for rounding.
        let slack = self.series.interval_s * 1e-6;
        let (mut completed, mut seconds) = (0u64, 0.0);
        for p in
            self.series.points.iter().filter(|p| {
                p.start_s + slack >= self.warmup_s && p.end_s <= self.duration_s + slack
            })
        {
            completed += p.completed;
            seconds += p.end_s - p.start_s;
        }
        if seconds > 0.0 {
            completed as f64 / seconds
        } else {
            per_second(self.requests.completed, self.window_s())
        }
    }
}

impl WorkloadResult {
    /// Counted completions per second of window `window_s`.
    pub fn throughput_rps(&self, window_s: f64) -> f64 {
        per_second(self.requests.completed, window_s)
    }
}

impl ComponentResult {
    /// Counted completions per second of window `window_s`.
    pub fn throughput_rps(&self, window_s: f64) -> f64 {
        per_second(self.completions, window_s)
    }

    /// The utilization, where the component has a capacity to divide by
    /// (workers, slots, consumers, reviewers, an IOPS or bandwidth limit:
    /// `workers > 0`); `None` where it has none (a load balancer, a DNS
    /// name, a cache without `workers`, a stream without consumer groups,
    /// a storage tier without limits), whose `utilization` field is a
    /// placeholder 0 that no reader should print as "0 % busy".
    ///
    /// The one place that decides which components have a utilization:
    /// the JSON result (`null` where `None`), the CSV and the table, and
    /// sweeps (`utilization:NAME` columns, `bottleneck`, `max_utilization`)
    /// all ask it, so they cannot disagree.
    pub fn capacity_utilization(&self) -> Option<f64> {
        (self.workers > 0).then_some(self.utilization)
    }
}

fn per_second(count: u64, window_s: f64) -> f64 {
    if window_s > 0.0 {
        count as f64 / window_s
    } else {
        0.0
    }
}
