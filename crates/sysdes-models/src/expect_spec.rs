//! Targets a scenario sets for its own results: the validated `expect:`
//! block (see `docs/scenario-format.md`, "Targets").
//!
//! A [`Target`] names one figure of the run, of a workload or of a
//! component, a comparison and a threshold in the figure's unit. The loader
//! (`sysdes-scenario`'s `build/expect.rs`) builds targets and checks, at
//! load time, that the subject exists and reports the figure;
//! `sysdes-report`'s `targets` module evaluates them after the run. This
//! module holds only the data and the names both sides agree on; it does
//! not read YAML and does not look at results.

/// What a target is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSubject {
    /// The run as a whole (the result's top-level figures).
    Run,
    /// The workload with this name.
    Workload(String),
    /// The component with this name (a replica is `NAME[i]`).
    Component(String),
}

impl TargetSubject {
    /// `run`, `workload` or `component`: the JSON `scope` of a target.
    pub fn scope(&self) -> &'static str {
        match self {
            TargetSubject::Run => "run",
            TargetSubject::Workload(_) => "workload",
            TargetSubject::Component(_) => "component",
        }
    }

    /// The subject's name, `None` for the run.
    pub fn name(&self) -> Option<&str> {
        match self {
            TargetSubject::Run => None,
            TargetSubject::Workload(n) | TargetSubject::Component(n) => Some(n),
        }
    }
}

/// How a figure is compared with its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `==` (exact: meant for counts, such as `dropped: "== 0"`).
    Equal,
}

impl Comparison {
    /// Every comparison, two-character symbols first (the order a parser
    /// must try them in).
    pub const ALL: [Comparison; 5] = [
        Comparison::LessOrEqual,
        Comparison::GreaterOrEqual,
        Comparison::Equal,
        Comparison::Less,
        Comparison::Greater,
    ];

    /// The comparison as written: `<`, `<=`, `>`, `>=` or `==`.
    pub const fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Equal => "==",
        }
    }

    /// Whether `value` compares with `threshold` as required. A value that
    /// is not a number (NaN) meets no target.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Equal => value == threshold,
        }
    }
}

/// The unit a figure is reported in, which fixes how a threshold is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureUnit {
    /// Milliseconds: latencies and figures named `*_ms`; a threshold is a
    /// duration with a unit (`100ms`, `0.1s`).
    Milliseconds,
    /// Seconds: figures named `*_s` or `*_s_*` (`lag_s_max`); a threshold is
    /// a duration with a unit.
    Seconds,
    /// Per second: figures named `*_rps` or `*_per_s`; a threshold is a rate
    /// (`900/s`, `54000/min`).
    PerSecond,
    /// A ratio between 0 and 1 (`hit_ratio`, `utilization`,
    /// `availability`); a threshold is a plain ratio (`0.999`) or a
    /// percentage (`99.9%`).
    Ratio,
    /// A count or a plain number (`dropped`, `lag_mean`); a threshold is a
    /// plain number.
    Plain,
}

impl FigureUnit {
    /// The unit of the figure named `name` (a group's figure `GROUP.NAME`
    /// by its last part), from the naming convention of the result.
    pub fn of(name: &str) -> FigureUnit {
        let name = name.rsplit('.').next().unwrap_or(name);
        if LATENCY_FIGURES.contains(&name) && name != "count" || name.ends_with("_ms") {
            FigureUnit::Milliseconds
        } else if name.ends_with("_rps") || name.ends_with("_per_s") {
            FigureUnit::PerSecond
        } else if name.ends_with("_s") || name.contains("_s_") {
            FigureUnit::Seconds
        } else if name.ends_with("ratio")
            || name.ends_with("utilization")
            || name == "availability"
            || (name.starts_with("probe_") && name != "probe_reads")
        {
            FigureUnit::Ratio
        } else {
            FigureUnit::Plain
        }
    }

    /// The unit as printed after a value: `ms`, `s`, `/s`, or nothing.
    pub const fn symbol(self) -> &'static str {
        match self {
            FigureUnit::Milliseconds => "ms",
            FigureUnit::Seconds => "s",
            FigureUnit::PerSecond => "/s",
            FigureUnit::Ratio | FigureUnit::Plain => "",
        }
    }
}

/// One target of `expect:`: a figure of a subject compared with a
/// threshold, for example `users p99 < 100ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The run, a workload or a component.
    pub subject: TargetSubject,
    /// The figure's key in the result: `p99`, `throughput_rps`, `completed`,
    /// `hit_ratio`, `GROUP.lag_mean` (aliases such as `latency_ms.p99` or
    /// `throughput` are resolved to these by the loader).
    pub figure: String,
    /// How the figure must compare with `threshold`.
    pub comparison: Comparison,
    /// The threshold in the figure's unit (`unit`): milliseconds for a
    /// latency, requests per second for a throughput, a ratio for `99.9%`.
    pub threshold: f64,
    /// The figure's unit.
    pub unit: FigureUnit,
    /// The target as the file writes it: `users p99 < 100ms`.
    pub text: String,
}

/// The latency figures of the run, a workload or a component, in
/// milliseconds (`count` is the number of requests measured), as the JSON
/// writes them under `latency_ms`.
pub const LATENCY_FIGURES: &[&str] = &["mean", "p50", "p90", "p99", "p999", "max", "count"];

/// The request counts of the run or a workload, as the JSON writes them
/// under `requests`.
pub const REQUEST_FIGURES: &[&str] = &[
    "generated",
    "completed",
    "failed",
    "timed_out",
    "dropped",
    "in_flight",
    "retries",
];

/// The figures of a workload besides latency and request counts.
pub const WORKLOAD_FIGURES: &[&str] = &["throughput_rps", "offered_rps", "users"];

/// The figures of the run as a whole besides latency and request counts.
pub const RUN_FIGURES: &[&str] = &["throughput_rps", "peak_in_flight"];

/// The figures every component reports besides latency (kind-specific ones
/// follow from `ComponentResult::visit_figures`).
pub const STATION_FIGURES: &[&str] = &[
    "utilization",
    "mean_queue_length",
    "throughput_rps",
    "workers",
    "arrivals",
    "completions",
    "drops",
    "mean_in_system",
    "peak_queue_length",
    "offered_load",
];

/// The figure key an alias stands for: `latency_ms.p99` is `p99`,
/// `requests.completed` is `completed`, `throughput` is `throughput_rps`;
/// any other name is itself.
pub fn canonical_figure(name: &str) -> &str {
    if let Some(rest) = name
        .strip_prefix("latency_ms.")
        .or_else(|| name.strip_prefix("requests."))
    {
        return rest;
    }
    match name {
        "throughput" => "throughput_rps",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_naming_convention() {
        for (name, unit) in [
            ("p99", FigureUnit::Milliseconds),
            ("max", FigureUnit::Milliseconds),
            ("count", FigureUnit::Plain),
            ("ttft_p99_ms", FigureUnit::Milliseconds),
            ("search.latency_p99_ms", FigureUnit::Milliseconds),
            ("throughput_rps", FigureUnit::PerSecond),
            ("output_tokens_per_s", FigureUnit::PerSecond),
            ("boot_time_mean_s", FigureUnit::Seconds),
            ("search.lag_s_max", FigureUnit::Seconds),
            ("hit_ratio", FigureUnit::Ratio),
            ("utilization", FigureUnit::Ratio),
            ("host_pool_utilization", FigureUnit::Ratio),
            ("availability", FigureUnit::Ratio),
            ("probe_consistent", FigureUnit::Ratio),
            ("probe_reads", FigureUnit::Plain),
            ("search.lag_mean", FigureUnit::Plain),
            ("dropped", FigureUnit::Plain),
            ("offered_load", FigureUnit::Plain),
        ] {
            assert_eq!(FigureUnit::of(name), unit, "{name}");
        }
    }

    #[test]
    fn comparisons_hold_as_written_and_nan_meets_none() {
        assert!(Comparison::Less.holds(1.0, 2.0));
        assert!(!Comparison::Less.holds(2.0, 2.0));
        assert!(Comparison::LessOrEqual.holds(2.0, 2.0));
        assert!(Comparison::Greater.holds(3.0, 2.0));
        assert!(Comparison::GreaterOrEqual.holds(2.0, 2.0));
        assert!(Comparison::Equal.holds(0.0, 0.0));
        assert!(!Comparison::Equal.holds(1.0, 0.0));
        for c in Comparison::ALL {
            assert!(!c.holds(f64::NAN, 1.0), "{}", c.symbol());
        }
    }

    #[test]
    fn aliases_resolve_to_result_keys() {
        assert_eq!(canonical_figure("latency_ms.p99"), "p99");
        assert_eq!(canonical_figure("requests.dropped"), "dropped");
        assert_eq!(canonical_figure("throughput"), "throughput_rps");
        assert_eq!(canonical_figure("hit_ratio"), "hit_ratio");
    }
}
