//! Reading `type: batch_job` components: the batch layer of a lambda
//! architecture, a periodic recomputation over all the records sent to it.

use schemars::JsonSchema;
use sysdes_kernel::SimDuration;
use sysdes_models::{BatchJobSpec, ComponentKind};

use super::{Ctx, Entry, Kind, positive_duration};
use crate::node::SNode;
use crate::units::{Duration, Rate};

/// `type: batch_job` — the batch layer of a lambda architecture: every record sent to it joins its dataset (acknowledged at once); every `every` a run reads the whole dataset at `throughput`, so a run takes `startup + records / throughput`; when it ends, the batch view covers the data up to the run's start. See docs/course/lambda-vs-kappa.md.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a batch job: a map with `every` and `throughput`, and optionally `startup`"
)]
#[schemars(rename = "BatchJob")]
pub(crate) struct BatchJobRaw {
    /// Time between run starts, e.g. `1h`; the first run starts at `every`. A start that finds the previous run still going waits for it to end.
    pub every: Duration,
    /// Records a run reads per second, e.g. `20000/s`: a run over `n` records takes `startup + n / throughput`.
    pub throughput: Rate,
    /// Fixed time every run takes before it reads (scheduling, cluster start-up); default 0.
    pub startup: Option<Duration>,
}

/// Reads a batch job.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    batch_job(ctx, e.body).map(ComponentKind::BatchJob)
}

fn batch_job(ctx: &mut Ctx, body: &SNode) -> Option<BatchJobSpec> {
    ctx.unknown_keys(body, Kind::BatchJob.keys());
    let every = ctx
        .required::<Duration>(
            body,
            "every",
            Some("add e.g. `every: 1h` (time between run starts)".to_owned()),
        )
        .and_then(|d| positive_duration(ctx, d, body.at_or_near(&["every"]), "every"));
    let throughput = ctx.required::<Rate>(
        body,
        "throughput",
        Some("add e.g. `throughput: 20000/s` (records a run reads per second)".to_owned()),
    );
    let startup = match ctx.optional::<Duration>(body, "startup") {
        Ok(d) => Some(d.map_or(SimDuration::ZERO, Duration::to_sim)),
        Err(()) => None,
    };
    Some(BatchJobSpec {
        every: every?,
        throughput_per_s: throughput?.per_second(),
        startup: startup?,
    })
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::ComponentKind;

    use crate::{LoadOptions, load_str};

    fn scenario(body: &str) -> String {
        format!(
            "name: b
duration: 10s
workloads:
  - {{ name: events, target: lake, arrival: {{ poisson: 10/s }} }}
components:
  lake:
    type: batch_job
{body}"
        )
    }

    use crate::test_support::located as problems;

    #[test]
    fn every_key_is_read() {
        let s = load_str(
            "b.yaml",
            &scenario("    every: 1m\n    throughput: 2000/s\n    startup: 30s\n"),
            &LoadOptions::default(),
        )
        .unwrap();
        let ComponentKind::BatchJob(b) = &s.spec.components[0].kind else {
            panic!("not a batch job");
        };
        assert_eq!(b.every, SimDuration::from_secs(60));
        assert_eq!(b.throughput_per_s, 2000.0);
        assert_eq!(b.startup, SimDuration::from_secs(30));
    }

    #[test]
    fn missing_and_bad_keys_are_located_with_a_suggestion() {
        let p = problems(&scenario("    every: 0s\n"));
        assert!(
            p.iter()
                .any(|m| m.starts_with("8:12:") && m.contains("`every` must be greater than zero")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.contains("throughput") && m.contains("20000/s")),
            "{p:?}"
        );
        let p = problems(&scenario(
            "    every: 1m\n    throughput: 10/s\n    evry: 1m\n",
        ));
        assert!(p.iter().any(|m| m.contains("evry")), "{p:?}");
    }
}
