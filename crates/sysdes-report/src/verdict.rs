//! A reading of a run for students: every way it went wrong, most serious
//! first, then where the time goes.
//!
//! The ranking: a run cut short; an unstable system (its backlog grows over
//! the measurement window, read from the time series); losses (drops,
//! failures, timeouts) above [`LOSS_SHARE`] of the requests, each said once,
//! naming the component and the cause, with one percentage and its base (of
//! all requests, or of what a throttling component was offered); lagging consumers and expired messages;
//! unavailable stores; retry amplification; then saturation and the
//! bottleneck. Smaller losses are still named, last, so nothing present in
//! the result goes unmentioned.
//!
//! It reads only the result: it does not know the scenario file.

use sysdes_models::{ComponentResult, RunResult, StopReason};

use crate::table::{number, thousands};

/// Above this utilization a component is called saturated.
const SATURATED: f64 = 0.95;
/// Above this utilization a component is called the bottleneck.
const BOTTLENECK: f64 = 0.7;
/// Losses above this share of the generated requests rank as a problem;
/// smaller ones are mentioned at the end.
pub const LOSS_SHARE: f64 = 0.001;
/// A level (requests in flight, a queue, a consumer's lag) grows without
/// bound when, over the window, it climbs by more than this share of the
/// arrival rate per second, and rises quarter after quarter. A stable queue
/// fluctuates around its mean, so over a window many times its relaxation
/// time its level cannot climb this steadily; an overloaded one accumulates
/// (arrival rate - capacity) per second, i.e. at least this share for any
/// overload above 0.5 %.
const GROWTH_SHARE: f64 = 0.005;
/// Fewest whole series intervals inside the window for the growth test.
const MIN_GROWTH_POINTS: usize = 8;
/// Retries above this share of the requests are called an amplification.
const RETRY_SHARE: f64 = 0.1;

/// How serious a finding is; findings are listed in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The run stopped early: every figure is partial.
    Partial,
    /// Arrivals exceed capacity: the backlog grows over the window.
    Unstable,
    /// Requests were dropped, failed or timed out (above [`LOSS_SHARE`]).
    Loss,
    /// A consumer group falls behind, or messages expired unread.
    Lag,
    /// A store refused reads or writes.
    Unavailable,
    /// Retries multiplied the offered load.
    Retries,
    /// Where the time goes: saturation, bottleneck, busiest component.
    Load,
    /// Losses below [`LOSS_SHARE`]: present, named, not ranked.
    Minor,
}

/// One sentence of the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The sentence.
    pub text: String,
}

/// Everything the verdict found, most serious first.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The findings in order of [`Severity`].
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// Whether the run's backlog grew over the window: the run failed (exit 1).
    pub fn unstable(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Unstable)
    }

    /// The findings as one paragraph.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.findings.iter().map(|f| f.text.as_str()).collect();
        parts.join(" ")
    }
}

/// One paragraph saying what went wrong and where the time goes.
pub fn verdict(result: &RunResult) -> String {
    assess(result).text()
}

/// A component's figure `key` (e.g. `lost_in_crash`), if it reports one.
/// Every read of a kind-specific figure goes through here.
fn figure(c: &ComponentResult, key: &str) -> Option<f64> {
    c.figure(key)
}

/// A figure that counts something, as a count (0 when absent).
fn count(c: &ComponentResult, key: &str) -> u64 {
    figure(c, key).map_or(0, |v| v.max(0.0).round() as u64)
}

/// `n` of `total` as a percentage with two decimals; a loss too small for
/// two decimals still reads as one (`< 0.01 %`, not `0.00 %`).
fn percent_of(n: u64, total: f64) -> String {
    let p = if total > 0.0 {
        100.0 * n as f64 / total
    } else {
        0.0
    };
    if n > 0 && p < 0.005 {
        "< 0.01 %".to_owned()
    } else {
        format!("{p:.2} %")
    }
}

/// Figures of a stream's consumer groups, `(group, value)` for the group
/// figure `key`.
fn group_figures(c: &ComponentResult, key: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    c.visit_figures(&mut |scope, name, value| {
        if let (sysdes_models::Scope::Group(group), true) = (scope, name == key) {
            out.push((group.to_owned(), value.as_f64()));
        }
    });
    out
}

/// A model server's measured throughput over its full-batch capacity,
/// and its mean batch. A replica group reports neither itself: its
/// capacity is the sum of its replicas' and its batch their mean weighted
/// by batches run.
fn model_server_load(result: &RunResult, c: &ComponentResult, window_s: f64) -> Option<(f64, f64)> {
    if c.kind != "model_server" {
        return None;
    }
    let batch_of = |c: &ComponentResult| {
        figure(c, "mean_batch_size").or_else(|| figure(c, "mean_running_batch"))
    };
    let (capacity, batch) = match figure(c, "capacity_rps") {
        Some(capacity) => (capacity, batch_of(c).unwrap_or_default()),
        None => {
            let replicas: Vec<&ComponentResult> = result
                .components
                .iter()
                .filter(|r| r.replica_of.as_deref() == Some(c.name.as_str()))
                .collect();
            // Only a fixed group: an autoscaled one did not have every
            // replica's capacity the whole time.
            let fixed = figure(c, "scale_ups").unwrap_or(0.0) == 0.0
                && figure(c, "scale_downs").unwrap_or(0.0) == 0.0
                && figure(c, "replicas_ready_mean")
                    .is_none_or(|m| (m - replicas.len() as f64).abs() < 1e-9);
            if !fixed {
                return None;
            }
            let capacities: Option<Vec<f64>> =
                replicas.iter().map(|r| figure(r, "capacity_rps")).collect();
            let capacity: f64 = capacities.filter(|v| !v.is_empty())?.iter().sum();
            let (mut items, mut batches) = (0.0, 0.0);
            for r in &replicas {
                let n = figure(r, "batches").unwrap_or(1.0);
                items += n * batch_of(r).unwrap_or_default();
                batches += n;
            }
            let batch = if batches > 0.0 { items / batches } else { 0.0 };
            (capacity, batch)
        }
    };
    (capacity > 0.0).then(|| (c.throughput_rps(window_s) / capacity, batch))
}

/// The series points wholly inside the measurement window.
fn window_points(result: &RunResult) -> impl Iterator<Item = &sysdes_models::SeriesPoint> {
    // Interval ends are sums of nanoseconds: allow for rounding.
    let slack = result.series.interval_s * 1e-6;
    result.series.points.iter().filter(move |p| {
        p.start_s + slack >= result.warmup_s && p.end_s <= result.duration_s + slack
    })
}

/// How fast `level` (one value per window interval) climbs per second, if it
/// rises over each quarter of the window; `None` when it does not grow.
fn growth_per_s(times: &[f64], level: &[f64]) -> Option<f64> {
    let n = level.len();
    if n < MIN_GROWTH_POINTS {
        return None;
    }
    let quarter = |q: usize| {
        let (a, b) = (q * n / 4, (q + 1) * n / 4);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        (mean(&times[a..b]), mean(&level[a..b]))
    };
    let q: Vec<(f64, f64)> = (0..4).map(quarter).collect();
    let rising = q.windows(2).all(|w| w[1].1 > w[0].1);
    let span = q[3].0 - q[0].0;
    (rising && span > 0.0).then(|| (q[3].1 - q[0].1) / span)
}

/// Requests generated per second over the whole run.
fn arrival_rps(result: &RunResult) -> f64 {
    if result.duration_s > 0.0 {
        result.requests.generated as f64 / result.duration_s
    } else {
        0.0
    }
}

/// Every way the run went wrong, ranked, then where the time goes.
pub fn assess(result: &RunResult) -> Verdict {
    let mut findings = Vec::new();
    let mut say = |severity, text: String| findings.push(Finding { severity, text });
    match result.stop {
        StopReason::Drained => {}
        StopReason::EventLimit => say(
            Severity::Partial,
            "The run hit its event limit: results are partial.".into(),
        ),
        StopReason::Interrupted => say(
            Severity::Partial,
            "The run was stopped early: results are partial.".into(),
        ),
    }

    // Unstable: the backlog, or a component's queue, climbs over the window.
    let points: Vec<&sysdes_models::SeriesPoint> = window_points(result).collect();
    let times: Vec<f64> = points.iter().map(|p| p.end_s).collect();
    let threshold = GROWTH_SHARE * arrival_rps(result);
    let in_flight: Vec<f64> = points.iter().map(|p| p.in_flight as f64).collect();
    let gauge = |i: usize| -> Vec<f64> {
        points
            .iter()
            .map(|p| p.gauges.get(i).copied().unwrap_or(0.0))
            .collect()
    };
    let growing_queues: Vec<(&str, f64)> = result
        .series
        .gauge_names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let component = name
                .strip_suffix(".queue")
                .or_else(|| name.strip_suffix(".depth"))
                .or_else(|| name.strip_suffix(".backlog"))?;
            let rate = growth_per_s(&times, &gauge(i))?;
            (rate > threshold && threshold > 0.0).then_some((component, rate))
        })
        .collect();
    let backlog = growth_per_s(&times, &in_flight).filter(|&r| r > threshold && threshold > 0.0);
    if backlog.is_some() || !growing_queues.is_empty() {
        let rate = backlog
            .or_else(|| growing_queues.iter().map(|q| q.1).reduce(f64::max))
            .unwrap_or_default();
        let at = if growing_queues.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = growing_queues.iter().map(|q| q.0).collect();
            format!(" (the queue of {})", names.join(", "))
        };
        say(
            Severity::Unstable,
            format!(
                "Unstable: arrivals exceed capacity, so the backlog{at} grows by about {} requests/s over the window and would keep growing; latencies are not a steady state, and throughput counts only what completed inside the window.",
                number(rate)
            ),
        );
    }

    // Losses, per component and cause, then timeouts per workload. Each
    // loss is one sentence with one percentage, its base named: a share of
    // all requests, or of what a throttling component was offered.
    let r = &result.requests;
    let generated = r.generated.max(1) as f64;
    let share = |n: u64| n as f64 / generated;
    let pct = |n: u64| format!("{} of all requests", percent_of(n, generated));
    let mut losses: Vec<(u64, String)> = Vec::new();
    // A loss of `n` (if any), described by `text(n)`.
    let mut lose = |n: u64, text: &dyn Fn(u64) -> String| {
        if n > 0 {
            losses.push((n, text(n)));
        }
    };
    let mut attributed_drops = 0;
    let mut attributed_failures = 0;
    let mut callers: Vec<&str> = Vec::new();
    for c in result.components.iter().filter(|c| c.replica_of.is_none()) {
        let name = &c.name;
        let no_replica = count(c, "no_replica_drops");
        let too_long = count(c, "too_long_drops");
        // A function's and a storage tier's drops are throttles (over the
        // concurrency or request-rate limit), not a full queue.
        let throttled = count(c, "throttled").min(c.drops);
        let queue_full = c.drops.saturating_sub(no_replica + too_long + throttled);
        let crashed = count(c, "lost_in_crash");
        let interrupted = count(c, "lost_in_interruptions");
        attributed_drops += queue_full + no_replica + too_long + throttled;
        attributed_failures += crashed + interrupted;
        lose(queue_full, &|n| {
            format!(
                "{name} dropped {} requests ({}) at its full queue.",
                thousands(n),
                pct(n)
            )
        });
        lose(throttled, &|n| {
            let limit = match c.kind {
                sysdes_models::ComponentType::Function => "its concurrency limit",
                sysdes_models::ComponentType::Storage => "its request-rate (IOPS) limit",
                _ => "its limit",
            };
            // Over its limit on average: what it admits it serves at the
            // limit, and what is over it is refused (a 503 SlowDown, a
            // 429), not queued.
            let rest = if c.offered_load.is_some_and(|load| load >= 1.0) {
                ", so it serves the rest at the limit and its queue stays bounded"
            } else {
                ""
            };
            format!(
                "{name} dropped {} of the requests it is offered ({} of {}) by throttling: they were over {limit}{rest}.",
                percent_of(n, c.arrivals.max(n) as f64),
                thousands(n),
                thousands(c.arrivals.max(n))
            )
        });
        lose(too_long, &|n| {
            format!(
                "{name} dropped {} requests ({}) too long for its KV cache (prompt + output tokens more than the cache holds).",
                thousands(n),
                pct(n)
            )
        });
        lose(no_replica, &|n| {
            format!(
                "{name} dropped {} requests ({}) with no replica ready (scale-out too slow for the load).",
                thousands(n),
                pct(n)
            )
        });
        // A spot server's crashes are its interruptions (the loader
        // refuses a crash fault of a spot component): name them so.
        let spot_windows = result
            .faults
            .iter()
            .filter(|f| f.spot && f.target == *name)
            .count() as u64;
        lose(crashed, &|n| {
            if spot_windows == 0 {
                return format!(
                    "{name} failed {} requests ({}) when it crashed.",
                    thousands(n),
                    pct(n)
                );
            }
            format!(
                "{} requests ({}) lost in {} spot interruption{} of {name}: they failed inside it when it was interrupted, or reached it before its replacement served (a single spot instance is interrupted without notice: as replicas, `cost.spot.notice` lets each drain first).",
                thousands(n),
                pct(n),
                thousands(spot_windows),
                if spot_windows == 1 { "" } else { "s" }
            )
        });
        lose(interrupted, &|n| {
            let times = count(c, "interruptions");
            format!(
                "{} requests ({}) lost in {} spot interruption{} of {name}: they failed inside the interrupted replicas (`cost.spot.notice` lets a replica drain first).",
                thousands(n),
                pct(n),
                thousands(times),
                if times == 1 { "" } else { "s" }
            )
        });
        if count(c, "failed_calls") > 0 {
            callers.push(name);
        }
        lose(count(c, "messages_dropped"), &|n| {
            format!(
                "{name} refused {} messages ({}) when full.",
                thousands(n),
                pct(n)
            )
        });
        if c.kind == "store" {
            // Named with the store's availability below.
            attributed_failures += count(c, "failed_reads") + count(c, "failed_writes");
        }
        lose(count(c, "consumer_errors"), &|n| {
            format!("{name}'s consumer failed {} messages.", thousands(n))
        });
    }
    // What no component accounts for. A component's drop ends a request
    // `dropped` when a workload sent to it directly, `failed` when a caller
    // waited on it (its downstream call failed): those failures are the
    // drops already named, not a second loss.
    let unattributed_drops = r.dropped.saturating_sub(attributed_drops);
    let drops_behind_calls = attributed_drops.saturating_sub(r.dropped);
    let unattributed_failures = r
        .failed
        .saturating_sub(attributed_failures + drops_behind_calls);
    let via = if callers.is_empty() {
        String::new()
    } else {
        format!(" at the downstream calls of {}", callers.join(", "))
    };
    lose(unattributed_drops, &|n| {
        format!(
            "{} requests ({}) were dropped at full queues.",
            thousands(n),
            pct(n)
        )
    });
    lose(unattributed_failures, &|n| {
        format!(
            "{} requests ({}) failed{via} (errors, unreachable or unavailable components).",
            thousands(n),
            pct(n)
        )
    });
    // Calls that failed without failing a request: retried and then served.
    if r.failed == 0 {
        for c in result.components.iter().filter(|c| c.replica_of.is_none()) {
            let name = &c.name;
            lose(count(c, "failed_calls"), &|n| {
                format!(
                    "{name}'s downstream calls failed {} times (retried, then served).",
                    thousands(n)
                )
            });
        }
    }
    // The failures that are drops behind a call, said once with their cause.
    let behind_calls = r
        .failed
        .saturating_sub(attributed_failures)
        .min(drops_behind_calls);
    if behind_calls > 0 && !callers.is_empty() {
        losses.push((
            behind_calls,
            format!(
                "The drops at called components reached the clients as failed requests, through the downstream calls of {}.",
                callers.join(", ")
            ),
        ));
    }
    if r.timed_out > 0 {
        let by: Vec<String> = result
            .workloads
            .iter()
            .filter(|w| w.requests.timed_out > 0)
            .map(|w| w.name.clone())
            .collect();
        let of = match by.len() {
            0 => String::new(),
            1 => format!(" of workload {}", by[0]),
            _ => format!(" of workloads {}", by.join(", ")),
        };
        losses.push((
            r.timed_out,
            format!(
                "{} requests{of} ({}) timed out: the client gave up waiting.",
                thousands(r.timed_out),
                pct(r.timed_out)
            ),
        ));
    }
    let mut minor = Vec::new();
    for (n, text) in losses {
        if share(n) > LOSS_SHARE {
            say(Severity::Loss, text);
        } else {
            minor.push(text);
        }
    }

    // Lagging consumers and expired messages.
    for c in result.components.iter().filter(|c| c.replica_of.is_none()) {
        for (group, expired) in group_figures(c, "expired") {
            let lag_name = format!("{}.{group}.lag", c.name);
            let lag = result
                .series
                .gauge_names
                .iter()
                .position(|n| *n == lag_name)
                .and_then(|i| growth_per_s(&times, &gauge(i)))
                .filter(|&g| g > threshold && threshold > 0.0);
            let expired = expired.max(0.0).round() as u64;
            let group_figure = |key: &str| {
                group_figures(c, key)
                    .into_iter()
                    .find_map(|(g, v)| (g == group).then_some(v))
            };
            let lag_max = group_figure("lag_s_max").unwrap_or(0.0);
            if lag.is_none() && expired == 0 && lag_max > 1.0 {
                // Behind for a while but not falling further behind: a
                // burst, or a late group replaying the log.
                let mut text = format!(
                    "Consumer group {group} of {} was up to {} s behind",
                    c.name,
                    number(lag_max)
                );
                if let (Some(start), Some(backlog)) =
                    (group_figure("start_s"), group_figure("backlog_at_start"))
                {
                    text.push_str(&format!(
                        " (it started at {} s with {} messages to replay",
                        number(start),
                        thousands(backlog.max(0.0).round() as u64)
                    ));
                    match group_figure("caught_up_s") {
                        Some(t) => text.push_str(&format!(", caught up after {} s)", number(t))),
                        None => text.push_str(", and had not caught up at the end)"),
                    }
                }
                text.push('.');
                say(Severity::Lag, text);
            }
            if lag.is_some() || expired > 0 {
                let mut text = format!("Consumer group {group} of {} ", c.name);
                if let Some(g) = lag {
                    text.push_str(&format!(
                        "falls behind: its lag grows by about {} messages/s over the window",
                        number(g)
                    ));
                    if expired > 0 {
                        text.push_str(", and ");
                    }
                }
                if expired > 0 {
                    text.push_str(&format!(
                        "lost {} messages that expired before it read them",
                        thousands(expired)
                    ));
                }
                text.push('.');
                say(Severity::Lag, text);
            }
        }
    }

    // Unavailable stores.
    for c in result.components.iter().filter(|c| c.replica_of.is_none()) {
        let (reads, writes) = (count(c, "failed_reads"), count(c, "failed_writes"));
        if c.kind == "store" && reads + writes > 0 {
            let availability = figure(c, "availability").unwrap_or(1.0);
            say(
                Severity::Unavailable,
                format!(
                    "Store {} was unavailable to {} reads and {} writes (availability {:.2} %).",
                    c.name,
                    thousands(reads),
                    thousands(writes),
                    availability * 100.0
                ),
            );
        }
    }

    // Retry amplification.
    if r.retries as f64 > RETRY_SHARE * generated {
        say(
            Severity::Retries,
            format!(
                "Retries amplified the load: {} retries for {} requests (+{:.0} % offered load).",
                thousands(r.retries),
                thousands(r.generated),
                100.0 * share(r.retries)
            ),
        );
    }

    // Where the time goes.
    let troubled = !findings.is_empty();
    // An unstable run's slots are not absorbing the load, whatever the
    // full-batch capacity says (an LLM server can run out of KV cache
    // far below it).
    let unstable = findings.iter().any(|f| f.severity == Severity::Unstable);
    let busiest = result
        .components
        .iter()
        // A group stands for its replicas.
        .filter(|c| c.workers > 0 && c.replica_of.is_none())
        // A component over its limit that throttles is said with its loss;
        // the busiest of the others still gets its sentence.
        .filter(|c| {
            !(c.offered_load.is_some_and(|load| load >= 1.0)
                && count(c, "throttled").min(c.drops) > 0)
        })
        // In an unstable run, a component offered more than its capacity
        // is the bottleneck whatever its measured utilization (a prefill
        // server behind a slow KV link keeps its slots idle while the link
        // backs up): the most overloaded first, else the busiest. (A run
        // that drains names the busiest: a burst's peak offered load is
        // not a steady overload.)
        .max_by(|a, b| {
            let over = |c: &ComponentResult| c.offered_load.filter(|&load| unstable && load >= 1.0);
            match (over(a), over(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Greater,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (None, None) => a.utilization.total_cmp(&b.utilization),
            }
        });
    if let Some(c) = busiest {
        let pct = c.utilization * 100.0;
        let overloaded = c.offered_load.is_some_and(|load| load >= 1.0);
        findings.push(Finding {
            severity: Severity::Load,
            text: if overloaded {
                format!(
                    "{} is overloaded: offered load {:.2} exceeds its capacity.",
                    c.name,
                    c.offered_load.unwrap_or_default()
                )
            } else if count(c, "preemptions") > 0 && c.utilization >= BOTTLENECK {
                // An LLM server short of KV cache: its batch is capped by
                // memory, far below the full-batch capacity.
                format!(
                    "{} runs out of KV cache: {} preemptions with the cache {:.0} % full on average, so its batch cannot grow to absorb the load (slots busy {pct:.0} %).",
                    c.name,
                    thousands(count(c, "preemptions")),
                    figure(c, "kv_utilization").unwrap_or_default() * 100.0
                )
            } else if let Some((load, batch)) = model_server_load(result, c, result.window_s())
                .filter(|&(load, _)| c.utilization >= BOTTLENECK && load < 0.9 && !unstable)
            {
                // A batching server's slots stay busy at moderate load:
                // batches grow with the queue, so busy slots do not mean a
                // long queue. (An LLM model server reports its decode batch.)
                format!(
                    "{} keeps its slots busy {pct:.0} % of the time, but batching absorbs the load: it runs at {:.0} % of its full-batch capacity (mean batch {batch:.1}).",
                    c.name,
                    load * 100.0
                )
            } else if c.utilization >= SATURATED {
                format!(
                    "{} is saturated at {pct:.0} % utilization: latency is dominated by its queue.",
                    c.name
                )
            } else if c.utilization >= BOTTLENECK {
                format!("{} is the bottleneck at {pct:.0} % utilization.", c.name)
            } else if troubled {
                format!("The busiest component is {} at {pct:.0} % utilization.", c.name)
            } else {
                format!(
                    "No component is saturated; the busiest is {} at {pct:.0} % utilization.",
                    c.name
                )
            },
        });
    }
    for text in minor {
        findings.push(Finding {
            severity: Severity::Minor,
            text: format!("Also: {text}"),
        });
    }
    Verdict { findings }
}

#[cfg(test)]
mod tests {
    use super::{assess, percent_of, verdict};
    use sysdes_models::{
        CallFigures, ComponentResult, ComponentType, KindFigures, RunResult, ScalingFigures,
        StorageFigures,
    };
    use sysdes_stats::RequestCounts;

    /// A drained run of `requests` with `components`, no series.
    fn run(requests: RequestCounts, components: Vec<ComponentResult>) -> RunResult {
        RunResult {
            scenario: "t".into(),
            seed: 1,
            duration_s: 30.0,
            warmup_s: 5.0,
            end_s: 30.0,
            events: 0,
            stop: sysdes_models::StopReason::Drained,
            peak_in_flight: 0,
            latency: Default::default(),
            requests,
            workloads: Vec::new(),
            components,
            series: sysdes_models::Series::default(),
            consistency: None,
            faults: Vec::new(),
            lifetimes: Default::default(),
            hot_loop: None,
            shortcuts: Default::default(),
        }
    }

    /// A component `name` of `kind` with `arrivals` and `drops`.
    fn component(name: &str, kind: ComponentType, arrivals: u64, drops: u64) -> ComponentResult {
        ComponentResult {
            name: name.into(),
            kind,
            workers: 1,
            arrivals,
            completions: arrivals - drops,
            drops,
            utilization: 0.5,
            mean_queue_length: 0.0,
            mean_in_system: 0.0,
            peak_queue_length: 0,
            latency: Default::default(),
            offered_load: None,
            figures: KindFigures::None,
            lost_in_crash: None,
            scaling: None,
            replica_of: None,
        }
    }

    /// storage-tiers' hot prefix, its counts as the run gives them: 200,907
    /// requests offered to s3-hot, 63,406 throttled, of 313,754 in all.
    fn hot_prefix() -> ComponentResult {
        let mut c = component("s3-hot", ComponentType::Storage, 200_907, 63_406);
        c.utilization = 1.0;
        c.offered_load = Some(8000.0 / 5500.0);
        c.figures = KindFigures::Storage(StorageFigures {
            operations: 137_501,
            reads: 137_501,
            throttled: 63_406,
            iops_utilization: 1.0,
            ..StorageFigures::default()
        });
        c
    }

    /// In an unstable run, a prefill server whose KV link is offered 3.56
    /// times its capacity keeps its slots idle (20 %) while a colocated
    /// server runs at 99 %: the overloaded one is the bottleneck, named
    /// with its offered load, not the busiest by utilization.
    #[test]
    fn an_overloaded_component_is_named_before_a_busier_one() {
        // 300 of 1,000 requests still in flight when the run stopped.
        let requests = RequestCounts {
            generated: 1_000,
            completed: 700,
            in_flight: 300,
            ..RequestCounts::default()
        };
        let mut prefill = component("prefill", ComponentType::ModelServer, 500, 0);
        prefill.utilization = 0.2;
        prefill.offered_load = Some(3.5646);
        let mut colocated = component("colocated", ComponentType::ModelServer, 500, 0);
        colocated.utilization = 0.99;
        colocated.offered_load = Some(0.236);
        // The backlog climbs by 10 requests a second over the window.
        let unstable = |components: Vec<ComponentResult>| {
            let mut r = run(requests, components);
            r.series.interval_s = 1.0;
            r.series.points = (0..30u32)
                .map(|i| sysdes_models::SeriesPoint {
                    start_s: f64::from(i),
                    end_s: f64::from(i + 1),
                    completed: 20,
                    dropped: 0,
                    timed_out: 0,
                    failed: 0,
                    latency_mean_ms: 1.0,
                    latency_p50_ms: 1.0,
                    latency_p99_ms: 1.0,
                    in_flight: 10 * u64::from(i),
                    gauges: Vec::new(),
                    workloads: Vec::new(),
                })
                .collect();
            r
        };
        let text = verdict(&unstable(vec![colocated.clone(), prefill.clone()]));
        assert!(text.starts_with("Unstable:"), "{text}");
        assert!(
            text.contains("prefill is overloaded: offered load 3.56 exceeds its capacity."),
            "{text}"
        );
        // A run that drains names the busiest, overloaded peak or not.
        let text = verdict(&run(requests, vec![colocated.clone(), prefill.clone()]));
        assert!(text.contains("colocated is saturated at 99 %"), "{text}");
        // And so does an unstable one with no overloaded component.
        prefill.offered_load = Some(0.9);
        let text = verdict(&unstable(vec![colocated, prefill]));
        assert!(text.contains("colocated is saturated at 99 %"), "{text}");
    }

    /// Regression: storage-tiers' verdict said the one throttling loss twice,
    /// "(20.21 %)" of all requests and "32 % of the requests it is offered".
    #[test]
    fn a_throttling_loss_is_said_once_with_its_base() {
        let requests = RequestCounts {
            generated: 313_754,
            completed: 250_348,
            dropped: 63_406,
            ..RequestCounts::default()
        };
        let text = verdict(&run(requests, vec![hot_prefix()]));
        assert_eq!(
            text,
            "s3-hot dropped 31.56 % of the requests it is offered (63,406 of 200,907) by throttling: they were over its request-rate (IOPS) limit, so it serves the rest at the limit and its queue stays bounded."
        );
        assert_eq!(text.matches('%').count(), 1, "{text}");
    }

    /// A server calling the throttled tier: the tier's drops end the
    /// requests `failed` at the caller. The loss is said once; the failed
    /// requests are named as its consequence, with no second percentage.
    #[test]
    fn drops_behind_a_call_are_not_counted_again_as_failures() {
        let requests = RequestCounts {
            generated: 200_907,
            completed: 137_501,
            failed: 63_406,
            ..RequestCounts::default()
        };
        let mut api = component("api", ComponentType::Server, 200_907, 0);
        api.figures = KindFigures::Calls(CallFigures {
            failed_calls: 63_406,
            ..CallFigures::default()
        });
        let text = verdict(&run(requests, vec![api, hot_prefix()]));
        // One loss percentage ("% of"); the busiest other component's
        // utilization ("api at 50 % utilization") is not a loss.
        assert_eq!(text.matches("% of").count(), 1, "{text}");
        assert!(
            text.ends_with("The busiest component is api at 50 % utilization."),
            "{text}"
        );
        assert_eq!(text.matches("63,406").count(), 1, "{text}");
        assert!(
            text.contains(
                "reached the clients as failed requests, through the downstream calls of api."
            ),
            "{text}"
        );
    }

    /// Failures no component accounts for name the callers whose calls
    /// failed, in one sentence (circuit-breaker's open circuit).
    #[test]
    fn unattributed_failures_name_the_failed_calls_once() {
        let requests = RequestCounts {
            generated: 1000,
            completed: 900,
            failed: 100,
            ..RequestCounts::default()
        };
        let mut api = component("api", ComponentType::Server, 1000, 0);
        api.figures = KindFigures::Calls(CallFigures {
            failed_calls: 100,
            ..CallFigures::default()
        });
        let findings = assess(&run(requests, vec![api])).findings;
        assert_eq!(
            findings[0].text,
            "100 requests (10.00 % of all requests) failed at the downstream calls of api (errors, unreachable or unavailable components)."
        );
        assert_eq!(findings.len(), 2, "{findings:?}");
    }

    /// Regression: a spot group without `notice` (cost-spot-replicas with
    /// `notice=0s`: 10 requests lost in 4 interruptions of gpu-spot) read
    /// "failed (errors, unreachable or unavailable components)".
    #[test]
    fn spot_interruption_losses_are_named() {
        let requests = RequestCounts {
            generated: 712_000,
            completed: 711_990,
            failed: 10,
            ..RequestCounts::default()
        };
        let mut group = component("gpu-spot", ComponentType::ModelServer, 356_000, 0);
        group.scaling = Some(ScalingFigures {
            replicas_ready_mean: 3.761,
            replicas_ready_max: 4,
            interruptions: Some(4),
            lost_in_interruptions: Some(10),
            ..ScalingFigures::default()
        });
        let text = verdict(&run(requests, vec![group]));
        assert_eq!(
            text,
            "No component is saturated; the busiest is gpu-spot at 50 % utilization. Also: 10 requests (< 0.01 % of all requests) lost in 4 spot interruptions of gpu-spot: they failed inside the interrupted replicas (`cost.spot.notice` lets a replica drain first)."
        );
    }

    /// Regression (review): cost-spot-vs-on-demand's spot GPUs are single
    /// servers, their interruptions drawn as crashes. Without retries
    /// (`--set workloads.to-spot.retries.max=0`) spot-2 loses 5 requests in
    /// its one interruption (of 708,043), and the verdict said "spot-2
    /// failed 5 requests (< 0.01 % of all requests) when it crashed". A
    /// crash fault of the scenario (db, 3 lost) keeps its sentence.
    #[test]
    fn a_spot_server_s_losses_are_named_as_its_interruptions() {
        let requests = RequestCounts {
            generated: 708_043,
            completed: 708_035,
            failed: 8,
            ..RequestCounts::default()
        };
        let mut gpu = component("spot-2", ComponentType::ModelServer, 177_000, 0);
        gpu.lost_in_crash = Some(5);
        gpu.utilization = 0.6;
        let mut db = component("db", ComponentType::Server, 177_000, 0);
        db.lost_in_crash = Some(3);
        let window = |target: &str, spot: bool| sysdes_models::FaultWindow {
            kind: "crash",
            target: target.into(),
            start_s: 2897.590131224,
            end_s: 3197.590131224,
            spot,
        };
        let mut r = run(requests, vec![gpu, db]);
        r.faults = vec![window("spot-2", true), window("db", false)];
        assert_eq!(
            verdict(&r),
            "No component is saturated; the busiest is spot-2 at 60 % utilization. Also: 5 requests (< 0.01 % of all requests) lost in 1 spot interruption of spot-2: they failed inside it when it was interrupted, or reached it before its replacement served (a single spot instance is interrupted without notice: as replicas, `cost.spot.notice` lets each drain first). Also: db failed 3 requests (< 0.01 % of all requests) when it crashed."
        );
    }

    #[test]
    fn a_small_loss_is_never_printed_as_zero() {
        assert_eq!(percent_of(6, 720_000.0), "< 0.01 %");
        assert_eq!(percent_of(0, 720_000.0), "0.00 %");
        assert_eq!(percent_of(1, 200.0), "0.50 %");
        assert_eq!(percent_of(63_406, 313_746.0), "20.21 %");
    }
}
