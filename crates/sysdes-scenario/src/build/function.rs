//! Reading `type: function` components (serverless, Lambda-like): a
//! concurrency limit, a cold start per new instance, an idle timeout, a
//! memory size and the billing increment.

use schemars::JsonSchema;
use sysdes_kernel::SimDuration;
use sysdes_models::{ComponentKind, Distribution, FunctionSpec};

use super::{Ctx, Entry, Kind, distribution, optional_count, optional_distribution};
use crate::node::SNode;
use crate::raw::DistRaw;
use crate::units::{Duration, Size};

/// Lambda's default regional concurrency quota (instances).
const DEFAULT_CONCURRENCY: u32 = 1000;
/// Lambda's smallest memory size, its default.
const DEFAULT_MEMORY: u64 = 128 << 20;
/// How long an idle instance is kept warm when the scenario does not say.
/// Providers do not publish it; several minutes is what measurements of
/// Lambda report (docs/cost.md).
const DEFAULT_IDLE_TIMEOUT_S: u64 = 600;

/// `type: function` — serverless: up to `concurrency` instances started on demand (each new one waits its `cold_start`), one request each at a time, kept warm for `idle_timeout`, billed per request and per GB-second; see docs/cost.md.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a function: a map with `service_time` and optionally `concurrency`, `cold_start`, `idle_timeout`, `memory`"
)]
#[schemars(rename = "Function")]
pub(crate) struct FunctionRaw {
    /// Time one instance spends on one request (the handler's duration).
    pub service_time: DistRaw,
    /// Most instances alive at once (busy or warm), at least 1; default 1000 (Lambda's default quota). A request beyond it is throttled (HTTP 429, `dropped`) unless `queue_capacity` lets it wait.
    #[schemars(range(min = 1))]
    pub concurrency: Option<i64>,
    /// Time a new instance takes before it serves its first request (the INIT phase); default none.
    pub cold_start: Option<DistRaw>,
    /// An instance idle this long is reclaimed; the next request then starts a new one. Default `10m`.
    pub idle_timeout: Option<Duration>,
    /// Configured memory, e.g. `512MiB` (Lambda's `MB` are MiB); GB-seconds are GiB x seconds. Default `128MiB`.
    pub memory: Option<Size>,
    /// Requests that may wait for an instance at the concurrency limit (an asynchronous invocation's queue); default 0: throttled at once.
    #[schemars(range(min = 0))]
    pub queue_capacity: Option<i64>,
    /// Each invocation's billed duration (cold start included) is rounded up to a multiple of this; default `1ms` (Lambda).
    pub billing_increment: Option<Duration>,
    /// The zone it runs in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    pub request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth).
    pub response_size: Option<Size>,
}

/// Reads a function.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    function(ctx, e.body).map(ComponentKind::Function)
}

fn function(ctx: &mut Ctx, body: &SNode) -> Option<FunctionSpec> {
    ctx.unknown_keys(body, Kind::Function.keys());
    let service_time = ctx
        .required::<DistRaw>(
            body,
            "service_time",
            Some("add e.g. `service_time: { exponential: 20ms }`".to_owned()),
        )
        .and_then(|raw| {
            distribution(
                ctx,
                &raw,
                body.at_or_near(&["service_time"]),
                "service_time",
            )
        });
    let concurrency = optional_count(ctx, body, "concurrency", 1);
    let queue_capacity = optional_count(ctx, body, "queue_capacity", 0);
    let cold_start = optional_distribution(ctx, body, "cold_start");
    let idle_timeout = match ctx.optional::<Duration>(body, "idle_timeout") {
        Ok(Some(d)) if d.as_nanos() == 0 => {
            ctx.push(
                body.at_or_near(&["idle_timeout"]),
                "`idle_timeout` must be greater than zero",
                Some(
                    "an instance is reclaimed after this long idle; e.g. `idle_timeout: 5m`"
                        .to_owned(),
                ),
            );
            None
        }
        Ok(d) => Some(d.map_or(
            SimDuration::from_secs(DEFAULT_IDLE_TIMEOUT_S),
            Duration::to_sim,
        )),
        Err(()) => None,
    };
    let memory = match ctx.optional::<Size>(body, "memory") {
        Ok(Some(m)) if m.bytes() == 0 => {
            ctx.push(
                body.at_or_near(&["memory"]),
                "`memory` of a function must be greater than zero",
                Some("e.g. `memory: 512MiB`".to_owned()),
            );
            None
        }
        Ok(m) => Some(m.map_or(DEFAULT_MEMORY, Size::bytes)),
        Err(()) => None,
    };
    let billing_increment = match ctx.optional::<Duration>(body, "billing_increment") {
        Ok(Some(d)) if d.as_nanos() == 0 => {
            ctx.push(
                body.at_or_near(&["billing_increment"]),
                "`billing_increment` must be greater than zero",
                Some("Lambda rounds each invocation up to `1ms`".to_owned()),
            );
            None
        }
        Ok(d) => Some(d.map_or(SimDuration::from_millis(1), Duration::to_sim)),
        Err(()) => None,
    };
    Some(FunctionSpec {
        concurrency: concurrency?.unwrap_or(DEFAULT_CONCURRENCY),
        service_time: service_time?,
        cold_start: cold_start?.unwrap_or(Distribution::Constant(SimDuration::ZERO)),
        idle_timeout: idle_timeout?,
        memory_bytes: memory?,
        queue_capacity: queue_capacity?.unwrap_or(0),
        billing_increment: billing_increment?,
    })
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{ComponentKind, Distribution};

    use crate::{LoadOptions, load_str};

    fn scenario(body: &str) -> String {
        format!(
            "name: f
duration: 10s
workloads:
  - {{ name: users, target: fn, arrival: {{ poisson: 10/s }} }}
components:
  fn:
    type: function
{body}"
        )
    }

    use crate::test_support::located as problems;

    #[test]
    fn every_key_is_read_and_defaults_are_lambdas() {
        let s = load_str(
            "f.yaml",
            &scenario(
                "    service_time: 20ms\n    concurrency: 8\n    cold_start: { constant: 250ms }\n    idle_timeout: 5m\n    memory: 512MiB\n    queue_capacity: 3\n    billing_increment: 100ms\n",
            ),
            &LoadOptions::default(),
        )
        .unwrap();
        let ComponentKind::Function(f) = &s.spec.components[0].kind else {
            panic!("not a function");
        };
        assert_eq!(f.concurrency, 8);
        assert_eq!(
            f.cold_start,
            Distribution::Constant(SimDuration::from_millis(250))
        );
        assert_eq!(f.idle_timeout, SimDuration::from_secs(300));
        assert_eq!(f.memory_bytes, 512 << 20);
        assert_eq!(f.queue_capacity, 3);
        assert_eq!(f.billing_increment, SimDuration::from_millis(100));
        let s = load_str(
            "f.yaml",
            &scenario("    service_time: 20ms\n"),
            &LoadOptions::default(),
        )
        .unwrap();
        let ComponentKind::Function(f) = &s.spec.components[0].kind else {
            panic!("not a function");
        };
        assert_eq!(f.concurrency, 1000);
        assert_eq!(f.memory_bytes, 128 << 20);
        assert_eq!(f.idle_timeout, SimDuration::from_secs(600));
        assert_eq!(f.queue_capacity, 0);
        assert_eq!(f.billing_increment, SimDuration::from_millis(1));
        assert_eq!(f.cold_start, Distribution::Constant(SimDuration::ZERO));
    }

    #[test]
    fn bad_keys_are_located_with_suggestions() {
        let p = problems(&scenario("    service_time: 20ms\n    concurrency: 0\n"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("9:18: `concurrency` must be at least 1"),
            "{p:?}"
        );
        let p = problems(&scenario("    service_time: 20ms\n    idle_timeout: 0s\n"));
        assert!(
            p[0].starts_with("9:19: `idle_timeout` must be greater than zero"),
            "{p:?}"
        );
        let p = problems(&scenario("    service_time: 20ms\n    memory: 0MiB\n"));
        assert!(
            p[0].contains("`memory` of a function must be greater than zero"),
            "{p:?}"
        );
        let p = problems(&scenario("    service_time: 20ms\n    cold_strat: 1s\n"));
        assert!(
            p[0].contains("unknown key `cold_strat`") && p[0].contains("cold_start"),
            "{p:?}"
        );
        let p = problems(&scenario("    concurrency: 4\n"));
        assert!(
            p[0].contains("missing required key `service_time`"),
            "{p:?}"
        );
    }
}
