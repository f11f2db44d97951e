//! The cost of a run: each component's instances under its billing rule.

use sysdes_models::{ComponentType, Lifetime, ModelSpec, RunResult};

use crate::spec::{ComponentCost, CostSpec};

/// What one component (or host pool) cost.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemCost {
    /// The component's name, or `hosts.POOL` for a host pool.
    pub name: String,
    /// Over the whole run (boot and drain included), billed.
    pub total_usd: f64,
    /// Per hour of the measurement window (instance-time in the window, unrounded).
    pub per_hour_usd: f64,
    /// Unit-hours billed over the whole run (0 for a component priced per
    /// request only).
    pub billed_hours: f64,
    /// A spot component's interruptions over the run (each a crash until
    /// its replacement serves); `None` for an on-demand one.
    pub interruptions: Option<u64>,
    /// Bytes it sent to another zone over the run (requests of its calls,
    /// responses it returned, a store's replication messages), where its
    /// egress is priced; `None` otherwise.
    pub egress_bytes: Option<u64>,
    /// What those bytes cost (included in `total_usd`); `None` where egress
    /// is not priced.
    pub egress_usd: Option<f64>,
    /// The time-average GB (10^9 bytes) it held over the run
    /// (`stored_gb_mean`), where its storage is priced; `None` otherwise.
    pub stored_gb: Option<f64>,
    /// What holding them cost over the run (included in `total_usd`):
    /// see [`storage_usd`]; `None` where storage is not priced.
    pub storage_usd: Option<f64>,
}

/// Hours in a billing month: storage priced per GB-month is billed per
/// GB-hour at `price / 730`, as AWS does (730 h = 365 x 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// What holding `stored_gb` GB (10^9 bytes) for `run_ns` nanoseconds
/// costs at `per_gb_month` USD per GB-month: `GB x hours / 730 x price`.
///
/// ```
/// // 100 GiB for one hour at 0.023 USD per GB-month.
/// let usd = sysdes_cost::storage_usd(107.374_182_4, 3_600_000_000_000, 0.023);
/// assert!((usd - 107.374_182_4 / 730.0 * 0.023).abs() < 1e-15);
/// ```
pub fn storage_usd(stored_gb: f64, run_ns: u64, per_gb_month: f64) -> f64 {
    stored_gb * (run_ns as f64 / 3.6e12) / HOURS_PER_MONTH * per_gb_month
}

/// What a run cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostResult {
    /// Over the whole simulated run, from time zero to the later of
    /// `duration` and the last request's end, each instance billed under
    /// its rule.
    pub total_usd: f64,
    /// The rate over the measurement window `[warmup, duration)`: the
    /// instance-time in it (not rounded) and the requests arriving in it,
    /// per hour.
    pub per_hour_usd: f64,
    /// The window's cost per million requests completed (counted ones);
    /// `None` when none completed.
    pub per_million_requests_usd: Option<f64>,
    /// The window's cost (of the whole system) per million output tokens
    /// of its LLM servers, where LLM servers exist; `None` otherwise.
    pub per_million_tokens_usd: Option<f64>,
    /// Each component and host pool with a cost, components in file order
    /// then host pools.
    pub by_component: Vec<ItemCost>,
    /// Requests of the workloads with a latency SLO that completed
    /// successfully within it (counted ones, in the window); `None` when no
    /// workload declares an SLO.
    pub goodput_requests: Option<u64>,
    /// [`CostResult::goodput_requests`] per USD of the window's cost;
    /// `None` without an SLO or when the window cost nothing.
    pub goodput_per_usd: Option<f64>,
    /// The egress of the whole run (included in `total_usd`), where any
    /// component prices it; `None` otherwise.
    pub egress_usd: Option<f64>,
    /// The storage of the whole run (included in `total_usd`), where any
    /// component prices it; `None` otherwise.
    pub storage_usd: Option<f64>,
}

impl CostResult {
    /// The cost of the component named `name`, if it has one.
    pub fn component(&self, name: &str) -> Option<&ItemCost> {
        self.by_component.iter().find(|c| c.name == name)
    }
}

/// The cost of `run`, a run of `model` whose declared costs are `spec`.
///
/// Prices were resolved from the price table when the scenario was loaded,
/// so nothing here looks a price up. A component that scales (a deployment
/// or replica group) is billed per replica lifetime (see
/// [`RunResult::lifetimes`]), and so is a spot component (one lifetime
/// per instance, between its interruptions: the replacement time is not
/// billed); any other is one instance from time zero to the end of the run. Per-request charges count the requests that arrived
/// in the measurement window (the only ones a run counts).
pub fn cost(model: &ModelSpec, spec: &CostSpec, run: &RunResult) -> CostResult {
    let end = run.lifetimes.end_ns;
    let from = model.warmup.as_nanos();
    let to = model.duration.as_nanos();
    let window_h = (to.saturating_sub(from)) as f64 / 3.6e12;
    let whole = [Lifetime {
        start_ns: 0,
        end_ns: end,
    }];
    let mut out = CostResult::default();
    for (i, c) in spec.components.iter().enumerate() {
        let Some(c) = c else { continue };
        let Some(result) = run.components.get(i) else {
            continue;
        };
        let lives = match run.lifetimes.by_component.get(i) {
            Some(l) if !l.is_empty() => l.as_slice(),
            _ => &whole,
        };
        // A function charges the invocations it ran (a throttled request
        // is not billed) and their billed GB-seconds.
        let (requests, gb_seconds) = if result.kind == ComponentType::Function {
            (
                result.figure("invocations").unwrap_or(0.0) as u64,
                result.figure("billed_gb_seconds").unwrap_or(0.0),
            )
        } else {
            (result.arrivals, 0.0)
        };
        let mut cost = item(
            &result.name,
            c,
            lives,
            (requests, gb_seconds),
            (from, to, window_h),
        );
        // A spot component crashes only when interrupted (the loader
        // refuses other crashes of it): its crash windows are the count.
        if let Some(per_gb) = c.egress_per_gb {
            let bytes = run.lifetimes.zone_bytes.get(i).copied().unwrap_or(0);
            let window = run.lifetimes.zone_bytes_window.get(i).copied().unwrap_or(0);
            let usd = bytes as f64 / 1e9 * per_gb;
            cost.egress_bytes = Some(bytes);
            cost.egress_usd = Some(usd);
            cost.total_usd += usd;
            if window_h > 0.0 {
                cost.per_hour_usd += window as f64 / 1e9 * per_gb / window_h;
            }
        }
        // Storage is billed on the data held: a store's or cache's bytes
        // for each instance's life (a replica group's replicas come and
        // go), else a `type: storage`'s time-average over the whole run.
        if let Some(per_gb_month) = c.per_gb_month {
            let (gb, usd) = match c.stored_bytes {
                Some(bytes) => {
                    let per_instance = bytes as f64 / 1e9;
                    let alive: u64 = lives.iter().map(Lifetime::len_ns).sum();
                    let in_window: u64 = lives.iter().map(|l| l.overlap_ns(from, to)).sum();
                    if window_h > 0.0 {
                        cost.per_hour_usd +=
                            storage_usd(per_instance, in_window, per_gb_month) / window_h;
                    }
                    let mean = if end > 0 {
                        per_instance * (alive as f64 / end as f64)
                    } else {
                        0.0
                    };
                    (mean, storage_usd(per_instance, alive, per_gb_month))
                }
                None => {
                    let gb = result.figure("stored_gb_mean").unwrap_or(0.0);
                    cost.per_hour_usd += gb / HOURS_PER_MONTH * per_gb_month;
                    (gb, storage_usd(gb, end, per_gb_month))
                }
            };
            cost.stored_gb = Some(gb);
            cost.storage_usd = Some(usd);
            cost.total_usd += usd;
        }
        // A spot group counts its replicas' interruptions itself.
        cost.interruptions = c.spot.map(|_| {
            result
                .scaling
                .and_then(|s| s.interruptions)
                .unwrap_or_else(|| {
                    run.faults
                        .iter()
                        .filter(|f| f.kind == "crash" && f.target == result.name)
                        .count() as u64
                })
        });
        out.by_component.push(cost);
    }
    for (i, c) in spec.hosts.iter().enumerate() {
        let (Some(c), Some(pool)) = (c, model.hosts.get(i)) else {
            continue;
        };
        out.by_component.push(item(
            &format!("hosts.{}", pool.name),
            c,
            &whole,
            (0, 0.0),
            (from, to, window_h),
        ));
    }
    out.total_usd = out.by_component.iter().map(|c| c.total_usd).sum();
    out.egress_usd = out
        .by_component
        .iter()
        .filter_map(|c| c.egress_usd)
        .reduce(|a, b| a + b);
    out.storage_usd = out
        .by_component
        .iter()
        .filter_map(|c| c.storage_usd)
        .reduce(|a, b| a + b);
    out.per_hour_usd = out.by_component.iter().map(|c| c.per_hour_usd).sum();
    let window_usd = out.per_hour_usd * window_h;
    let completed = run.requests.completed;
    out.per_million_requests_usd = (completed > 0).then(|| window_usd / completed as f64 * 1e6);
    let window_s = window_h * 3600.0;
    let tokens: Option<f64> = run
        .components
        .iter()
        .filter_map(|c| c.figure("output_tokens_per_s"))
        .map(|per_s| per_s * window_s)
        .reduce(|a, b| a + b);
    out.per_million_tokens_usd = tokens.filter(|t| *t > 0.0).map(|t| window_usd / t * 1e6);
    out.goodput_requests = goodput(spec, run);
    out.goodput_per_usd = out
        .goodput_requests
        .filter(|_| window_usd > 0.0)
        .map(|g| g as f64 / window_usd);
    out
}

/// The counted successful requests of the workloads with an SLO whose end
/// to end latency is at most their SLO: each workload's latency histogram
/// counted at or below its threshold (to the histogram's resolution).
fn goodput(spec: &CostSpec, run: &RunResult) -> Option<u64> {
    let mut any = false;
    let mut total = 0u64;
    for (w, slo) in run.workloads.iter().zip(&spec.slo_ns) {
        let Some(slo) = slo else { continue };
        any = true;
        let n = w.latency.count();
        total += (n as f64 * w.latency.fraction_at_or_below(*slo)).round() as u64;
    }
    any.then_some(total)
}

/// One component's cost over `lives`, with `arrivals` requests in the
/// window `(from, to, window_h)` and, for a function, the `gb_seconds`
/// billed for them.
///
/// A function's charges (per request and per GB-second) are usage, like a
/// hosted API's per-request price: both count the requests that arrived in
/// the window, so its total and its window's cost are the same sum.
fn item(
    name: &str,
    c: &ComponentCost,
    lives: &[Lifetime],
    (arrivals, gb_seconds): (u64, f64),
    (from, to, window_h): (u64, u64, f64),
) -> ItemCost {
    let billed_s: u64 = lives
        .iter()
        .map(|l| c.billing.billed_seconds(l.len_ns()))
        .sum();
    let window_ns: u64 = lives.iter().map(|l| l.overlap_ns(from, to)).sum();
    let units = f64::from(c.units);
    let requests_usd = c.per_request * arrivals as f64 + c.per_gb_second * gb_seconds;
    // A component priced per request only runs no billed instance.
    let billed_hours = if c.per_hour > 0.0 {
        billed_s as f64 * units / 3600.0
    } else {
        0.0
    };
    let total_usd = billed_hours * c.per_hour + requests_usd;
    let per_hour_usd = if window_h > 0.0 {
        window_ns as f64 / 3.6e12 * units * c.per_hour / window_h + requests_usd / window_h
    } else {
        0.0
    };
    ItemCost {
        name: name.to_owned(),
        total_usd,
        per_hour_usd,
        billed_hours,
        interruptions: None,
        egress_bytes: None,
        egress_usd: None,
        stored_gb: None,
        storage_usd: None,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod spot_replicas;
