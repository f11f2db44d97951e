//! Reading `type: training_job` components (data-parallel training in
//! synchronous steps, with checkpoints and failures), and their raw schema.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{AllReduceSpec, CheckpointSpec, ComponentKind, FailureSpec, TrainingJobSpec};

use super::{Ctx, Entry, Kind, count, distribution, optional_count, positive_duration};
use crate::node::SNode;
use crate::raw::DistRaw;
use crate::units::{Bandwidth, Duration, Size};

/// `type: training_job` — `workers` compute synchronous steps: a step lasts the slowest worker's `compute_time` plus a ring all-reduce; a checkpoint every `checkpoint.every` steps; a worker failure rolls the job back to its last checkpoint. It runs on its own timers: nothing sends it requests.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a training job: a map with `workers` and `compute_time`, and optionally `all_reduce`, `checkpoint`, `failures`"
)]
#[schemars(rename = "TrainingJob")]
pub(crate) struct TrainingJobRaw {
    /// Workers (GPUs) stepping in lockstep, at least 1 (default 1).
    #[schemars(range(min = 1))]
    pub workers: Option<i64>,
    /// One worker's compute time for one step, drawn independently per worker and step, e.g. `{ exponential: 100ms }`.
    pub compute_time: DistRaw,
    /// The gradient all-reduce ending each step (ring: `2 (N-1)/N * gradient_size / bandwidth + 2 (N-1) * latency`); default none.
    pub all_reduce: Option<AllReduceRaw>,
    /// Checkpoints: every `every` steps the job stops for `cost`; default none (a failure loses everything).
    pub checkpoint: Option<CheckpointRaw>,
    /// Random worker failures (exponential, per worker); default none.
    pub failures: Option<FailuresRaw>,
}

/// A ring all-reduce of the gradients after each step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `gradient_size`, `bandwidth` and optionally `latency`"
)]
#[schemars(rename = "AllReduce")]
pub(crate) struct AllReduceRaw {
    /// The gradients' size, e.g. `2GB`.
    pub gradient_size: Size,
    /// Each worker's link bandwidth, e.g. `400Gbit/s`.
    pub bandwidth: Bandwidth,
    /// One hop's latency (default `0s`), e.g. `10us`.
    pub latency: Option<Duration>,
}

/// When the job checkpoints and what it costs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `every` and `cost`")]
#[schemars(rename = "Checkpoint")]
pub(crate) struct CheckpointRaw {
    /// Steps between checkpoints, at least 1.
    #[schemars(range(min = 1))]
    pub every: i64,
    /// Time one checkpoint takes, e.g. `30s`.
    pub cost: Duration,
}

/// Random worker failures.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `worker_mtbf` and optionally `restart`"
)]
#[schemars(rename = "TrainingFailures")]
pub(crate) struct FailuresRaw {
    /// One worker's mean time between failures (exponential), e.g. `2000h`; the job fails `workers` times as often.
    pub worker_mtbf: Duration,
    /// Time from a failure until the job computes again from its last checkpoint (default `0s`), e.g. `5min`.
    pub restart: Option<Duration>,
}

/// Reads a training job.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    training_job(ctx, e.body).map(ComponentKind::TrainingJob)
}

fn training_job(ctx: &mut Ctx, body: &SNode) -> Option<TrainingJobSpec> {
    ctx.unknown_keys(body, Kind::TrainingJob.keys());
    let before = ctx.issues.len();
    let workers = optional_count(ctx, body, "workers", 1).map(|w| w.unwrap_or(1));
    let compute_time = ctx
        .required::<DistRaw>(
            body,
            "compute_time",
            Some("add e.g. `compute_time: { exponential: 100ms }`".to_owned()),
        )
        .and_then(|raw| {
            distribution(
                ctx,
                &raw,
                body.at_or_near(&["compute_time"]),
                "compute_time",
            )
        });
    let all_reduce = ctx
        .optional::<AllReduceRaw>(body, "all_reduce")
        .ok()
        .map(|raw| {
            raw.map(|a| AllReduceSpec {
                gradient_bytes: a.gradient_size.bytes(),
                bandwidth_bytes_per_s: a.bandwidth.bytes_per_second(),
                latency: a.latency.map_or(SimDuration::ZERO, Duration::to_sim),
            })
        });
    let checkpoint = match ctx.optional::<CheckpointRaw>(body, "checkpoint") {
        Ok(None) => Some(None),
        Ok(Some(c)) => {
            let node = body.at_or_near(&["checkpoint"]);
            let every = count(ctx, c.every, 1, node.at_or_near(&["every"]), "every");
            every.map(|every_steps| {
                Some(CheckpointSpec {
                    every_steps,
                    cost: c.cost.to_sim(),
                })
            })
        }
        Err(()) => None,
    };
    let failures = match ctx.optional::<FailuresRaw>(body, "failures") {
        Ok(None) => Some(None),
        Ok(Some(f)) => {
            let node = body.at_or_near(&["failures"]);
            positive_duration(
                ctx,
                f.worker_mtbf,
                node.at_or_near(&["worker_mtbf"]),
                "worker_mtbf",
            )
            .map(|worker_mtbf| {
                Some(FailureSpec {
                    worker_mtbf,
                    restart: f.restart.map_or(SimDuration::ZERO, Duration::to_sim),
                })
            })
        }
        Err(()) => None,
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some(TrainingJobSpec {
        workers: workers?,
        compute_time: compute_time?,
        all_reduce: all_reduce?,
        checkpoint: checkpoint?,
        failures: failures?,
    })
}

#[cfg(test)]
mod tests {
    use sysdes_models::{ComponentKind, TrainingJobSpec};

    use crate::test_support::{first_kind, has, only_problem, problem_texts};

    fn scenario(body: &str) -> String {
        format!("name: t\nduration: 60s\ncomponents:\n  trainer:\n    type: training_job\n{body}")
    }

    fn job(body: &str) -> TrainingJobSpec {
        match first_kind(&scenario(body)) {
            Ok(ComponentKind::TrainingJob(j)) => j,
            other => panic!("not a training job: {other:?}"),
        }
    }

    /// Nothing may send to a training job: it answers no requests.
    #[test]
    fn a_workload_or_a_call_to_a_training_job_is_refused() {
        let body = "    workers: 2\n    compute_time: 100ms\n";
        has(
            &problem_texts(&format!(
                "{}workloads:\n  - {{ name: w, target: trainer, arrival: {{ poisson: 1/s }} }}\n",
                scenario(body)
            )),
            "targets a training job, which takes no requests",
        );
        has(
            &problem_texts(&format!(
                "{}  api:\n    type: server\n    service_time: 1ms\n    calls: [trainer]\nworkloads:\n  - {{ name: w, target: api, arrival: {{ poisson: 1/s }} }}\n",
                scenario(body)
            )),
            "sends to training job `trainer`",
        );
    }

    /// A scenario may hold only a training job: no `workloads` needed.
    #[test]
    fn reads_a_training_job_without_workloads() {
        let j = job(
            "    workers: 8\n    compute_time: { exponential: 100ms }\n    all_reduce: { gradient_size: 1GB, bandwidth: 80Gbit/s, latency: 10us }\n    checkpoint: { every: 50, cost: 20s }\n    failures: { worker_mtbf: 100h, restart: 2min }\n",
        );
        assert_eq!(j.workers, 8);
        let a = j.all_reduce.expect("all-reduce");
        assert_eq!(a.gradient_bytes, 1_000_000_000);
        // 2 * 7/8 * 1 GB / 10 GB/s + 14 * 10 us.
        assert_eq!(a.time(8).as_nanos(), 175_000_000 + 140_000);
        assert_eq!(j.checkpoint.expect("checkpoint").every_steps, 50);
        assert_eq!(
            j.failures.expect("failures").restart.as_nanos(),
            120_000_000_000
        );
        assert!(job("    compute_time: 1ms\n").failures.is_none());
    }

    #[test]
    fn bad_training_jobs_get_located_errors() {
        let (line, _, message, _) =
            only_problem(&scenario("    workers: 0\n    compute_time: 1ms\n"));
        assert_eq!(
            (line, message.as_str()),
            (6, "`workers` must be at least 1, found 0")
        );
        let p = problem_texts(&scenario(
            "    compute_time: 1ms\n    checkpoint: { every: 0, cost: 1s }\n",
        ));
        has(&p, "`every` must be at least 1");
        let p = problem_texts(&scenario(
            "    compute_time: 1ms\n    failure: { worker_mtbf: 1h }\n",
        ));
        has(&p, "did you mean `failures`");
        has(
            &problem_texts(&scenario("    workers: 2\n")),
            "missing required key `compute_time`",
        );
        has(
            &problem_texts(&scenario(
                "    compute_time: 1ms\n    failures: { worker_mtbf: 0s }\n",
            )),
            "worker_mtbf",
        );
    }
}
