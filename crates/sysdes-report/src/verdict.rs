//! A one-line reading of a run, for students.

use sysdes_models::{ComponentResult, RunResult, StopReason};

use crate::table::thousands;

/// Above this utilization a component is called saturated.
const SATURATED: f64 = 0.95;
/// Above this utilization a component is called the bottleneck.
const BOTTLENECK: f64 = 0.7;

/// A model server's extra figure `key`, if it has one.
fn extra(c: &ComponentResult, key: &str) -> Option<f64> {
    c.figure(key)
}

/// A model server's measured throughput over its full-batch capacity.
fn model_server_load(c: &ComponentResult, window_s: f64) -> Option<f64> {
    let capacity = extra(c, "capacity_rps").filter(|_| c.kind == "model_server")?;
    (capacity > 0.0).then(|| c.throughput_rps(window_s) / capacity)
}

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
        // A group stands for its replicas.
        .filter(|c| c.workers > 0 && c.replica_of.is_none())
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
        } else if let Some(load) = model_server_load(c, result.window_s())
            .filter(|&load| c.utilization >= BOTTLENECK && load < 0.9)
        {
            // A batching server's slots stay busy at moderate load: batches
            // grow with the queue, so busy slots do not mean a long queue.
            // (An LLM model server reports its decode batch instead.)
            let batch = extra(c, "mean_batch_size")
                .or_else(|| extra(c, "mean_running_batch"))
                .unwrap_or_default();
            format!(
                "{} keeps its slots busy {pct:.0} % of the time, but batching absorbs the load: it runs at {:.0} % of its full-batch capacity (mean batch {batch:.1}).",
                c.name,
                load * 100.0
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
