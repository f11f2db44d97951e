//! A one-line reading of a run, for students.

use sysdes_models::{RunResult, StopReason};

use crate::table::thousands;

/// Above this utilization a component is called saturated.
const SATURATED: f64 = 0.95;
/// Above this utilization a component is called the bottleneck.
const BOTTLENECK: f64 = 0.7;

/// One sentence (or two) saying where the time goes and what went wrong.
pub fn verdict(result: &RunResult) -> String {
    let mut parts = Vec::new();
    match result.stop {
        StopReason::Drained => {}
        StopReason::EventLimit => {
            parts.push("The run hit its event limit: results are partial.".to_string())
        }
        StopReason::Interrupted => {
            parts.push("The run was stopped early: results are partial.".to_string())
        }
    }
    let busiest = result
        .components
        .iter()
        .filter(|c| c.workers > 0)
        .max_by(|a, b| a.utilization.total_cmp(&b.utilization));
    if let Some(c) = busiest {
        let pct = c.utilization * 100.0;
        let overloaded = c.offered_load.is_some_and(|load| load >= 1.0);
        parts.push(if overloaded {
            format!(
                "{} is overloaded: offered load {:.2} exceeds its capacity, so its queue grows for as long as the run lasts and these latencies are not a steady state.",
                c.name,
                c.offered_load.unwrap_or_default()
            )
        } else if c.utilization >= SATURATED {
            format!("{} is saturated at {pct:.0} % utilization: latency is dominated by its queue.", c.name)
        } else if c.utilization >= BOTTLENECK {
            format!("{} is the bottleneck at {pct:.0} % utilization.", c.name)
        } else {
            format!("No component is saturated; the busiest is {} at {pct:.0} % utilization.", c.name)
        });
    }
    let r = &result.requests;
    let share = |n: u64| 100.0 * n as f64 / r.generated.max(1) as f64;
    if r.dropped > 0 {
        parts.push(format!(
            "{} requests ({:.2} %) were dropped at full queues.",
            thousands(r.dropped),
            share(r.dropped)
        ));
    }
    if r.timed_out > 0 {
        parts.push(format!(
            "{} requests ({:.2} %) timed out.",
            thousands(r.timed_out),
            share(r.timed_out)
        ));
    }
    parts.join(" ")
}
