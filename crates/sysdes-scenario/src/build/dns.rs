//! Reading `type: dns` components: records in order of preference, a TTL,
//! caching client resolvers and health checks that fail the answer over.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{ComponentKind, DnsSpec};

use super::{Ctx, Entry, Kind, count, positive_duration, resolve};
use crate::node::SNode;
use crate::units::{Duration, Share, Size};

/// Clients when the scenario does not say.
const DEFAULT_CLIENTS: u32 = 1000;
/// Route 53's default health check: every 30 s, 3 failures in a row.
const DEFAULT_INTERVAL_S: u64 = 30;
const DEFAULT_FAILURES: u32 = 3;

/// `type: dns` — a name whose answer is the first healthy one of `records`; each of `clients` resolvers caches its answer for `ttl`; see docs/course/dns-failover.md.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a DNS name: a map with `records` and optionally `ttl`, `clients`, `ignore_ttl`, `health_check`"
)]
#[schemars(rename = "Dns")]
pub(crate) struct DnsRaw {
    /// Names of the targets in order of preference (primary first): the answer is the first one its health checks call healthy. At least one, no duplicates.
    pub records: Vec<String>,
    /// How long a client keeps an answer before it looks the name up again (default `60s`; `0s`: every request looks up).
    pub ttl: Option<Duration>,
    /// Client resolvers, each with its own cache; each request comes from one drawn uniformly (default 1000).
    #[schemars(range(min = 1))]
    pub clients: Option<i64>,
    /// Share of the clients that never look up again once they have an answer (resolvers and JVMs that pin an address): a number in [0, 1] (`0.05`) or a percentage (`5%`); default 0.
    pub ignore_ttl: Option<Share>,
    /// Health checks of every record at each multiple of `interval`; a record's state flips after `failures` checks in a row that disagree with it, e.g. `{ failures: 3, interval: 10s }` (default Route 53's: 3, `30s`).
    pub health_check: Option<DnsCheckRaw>,
    /// The zone it runs in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    pub request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth).
    pub response_size: Option<Size>,
}

/// A DNS name's health checks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "health checks: a map with `failures` and `interval`"
)]
#[schemars(rename = "DnsHealthCheck")]
pub(crate) struct DnsCheckRaw {
    /// Checks in a row that flip a record's state, down or back up (at least 1; default 3).
    pub failures: Option<i64>,
    /// Time between checks, from the start of the run (default `30s`).
    pub interval: Option<Duration>,
}

/// Reads a DNS name.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    dns(ctx, e.own, e.body, e.names).map(ComponentKind::Dns)
}

fn dns(ctx: &mut Ctx, own: usize, body: &SNode, names: &[&str]) -> Option<DnsSpec> {
    ctx.unknown_keys(body, Kind::Dns.keys());
    let before = ctx.issues.len();
    let record_names: Vec<String> = ctx.required(
        body,
        "records",
        Some("add e.g. `records: [primary, secondary]`".to_owned()),
    )?;
    let node = body.at_or_near(&["records"]);
    if record_names.is_empty() {
        ctx.push(node, "`records` must list at least one component", None);
    }
    let mut records = Vec::with_capacity(record_names.len());
    for (i, name) in record_names.iter().enumerate() {
        let at = node.item(i).unwrap_or(node);
        if record_names[..i].contains(name) {
            ctx.push(at, format!("record `{name}` is listed twice"), None);
        } else if names.get(own) == Some(&name.as_str()) {
            ctx.push(
                at,
                format!("DNS name `{name}` cannot be its own record"),
                None,
            );
        } else if let Some(id) = resolve(ctx, names, name, at) {
            records.push(id);
        }
    }
    let ttl = ctx
        .optional::<Duration>(body, "ttl")
        .ok()
        .map(|d| d.map_or(SimDuration::from_secs(60), Duration::to_sim));
    let clients = match ctx.optional::<i64>(body, "clients") {
        Ok(Some(n)) => count(ctx, n, 1, body.at_or_near(&["clients"]), "clients"),
        Ok(None) => Some(DEFAULT_CLIENTS),
        Err(()) => None,
    };
    // A share's range (0 to 1, or 0 % to 100 %) is checked where it is parsed.
    let ignore_ttl = ctx
        .optional::<Share>(body, "ignore_ttl")
        .ok()
        .map(|s| s.map_or(0.0, Share::fraction));
    let (failures, interval) = match ctx.optional::<DnsCheckRaw>(body, "health_check") {
        Ok(raw) => {
            let raw = raw.unwrap_or(DnsCheckRaw {
                failures: None,
                interval: None,
            });
            let check = body.at_or_near(&["health_check"]);
            let failures = match raw.failures {
                Some(n) => count(ctx, n, 1, check.at_or_near(&["failures"]), "failures"),
                None => Some(DEFAULT_FAILURES),
            };
            let interval = match raw.interval {
                Some(d) => positive_duration(ctx, d, check.at_or_near(&["interval"]), "interval"),
                None => Some(SimDuration::from_secs(DEFAULT_INTERVAL_S)),
            };
            (failures, interval)
        }
        Err(()) => (None, None),
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some(DnsSpec {
        records,
        ttl: ttl?,
        clients: clients?,
        ignore_ttl: ignore_ttl?,
        failures: failures?,
        interval: interval?,
    })
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{ComponentKind, DnsSpec};

    use crate::test_support::{first_kind, has, only_problem, problem_texts};

    fn scenario(body: &str) -> String {
        format!(
            "name: t\nduration: 60s\ncomponents:\n  name:\n    type: dns\n{body}  a: {{ type: server, service_time: 1ms }}\n  b: {{ type: server, service_time: 1ms }}\nworkloads:\n  - name: users\n    target: name\n    arrival: {{ poisson: 10/s }}\n"
        )
    }

    fn dns(body: &str) -> DnsSpec {
        match first_kind(&scenario(body)) {
            Ok(ComponentKind::Dns(d)) => d,
            other => panic!("not a DNS name: {other:?}"),
        }
    }

    #[test]
    fn reads_records_ttl_clients_and_checks_with_defaults() {
        let d = dns("    records: [a, b]\n");
        assert_eq!(d.records.len(), 2);
        assert_eq!(d.ttl, SimDuration::from_secs(60));
        assert_eq!((d.clients, d.ignore_ttl, d.failures), (1000, 0.0, 3));
        assert_eq!(d.interval, SimDuration::from_secs(30));
        let d = dns(
            "    records: [a, b]\n    ttl: 5s\n    clients: 20\n    ignore_ttl: 0.1\n    health_check: { failures: 2, interval: 1s }\n",
        );
        assert_eq!(
            (d.ttl, d.clients, d.ignore_ttl),
            (SimDuration::from_secs(5), 20, 0.1)
        );
        assert_eq!((d.failures, d.interval), (2, SimDuration::from_secs(1)));
    }

    #[test]
    fn ignore_ttl_is_a_share_a_number_or_a_percentage() {
        assert_eq!(
            dns("    records: [a]\n    ignore_ttl: 5%\n").ignore_ttl,
            0.05
        );
        assert_eq!(
            dns("    records: [a]\n    ignore_ttl: 0.05\n").ignore_ttl,
            0.05
        );
        assert_eq!(
            dns("    records: [a]\n    ignore_ttl: 100%\n").ignore_ttl,
            1.0
        );
        let (line, _, message, _) =
            only_problem(&scenario("    records: [a, b]\n    ignore_ttl: 150%\n"));
        assert_eq!(line, 7);
        has(&[message], "a share must be from 0 to 1");
    }

    #[test]
    fn bad_dns_names_get_located_errors() {
        let (line, _, message, _) =
            only_problem(&scenario("    records: [a, b]\n    ignore_ttl: 2\n"));
        assert_eq!(
            (line, message.as_str()),
            (
                7,
                "`ignore_ttl`: a share must be from 0 to 1 (0 % to 100 %), found `2`"
            )
        );
        has(
            &problem_texts(&scenario("    records: [a, a]\n")),
            "listed twice",
        );
        has(
            &problem_texts(&scenario("    records: [a, c]\n")),
            "no component named `c`",
        );
        has(
            &problem_texts(&scenario("    records: []\n")),
            "at least one",
        );
        has(&problem_texts(&scenario("    ttl: 5s\n")), "records");
        has(
            &problem_texts(&scenario("    records: [a]\n    clients: 0\n")),
            "`clients` must be at least 1",
        );
        has(
            &problem_texts(&scenario(
                "    records: [a]\n    health_check: { interval: 0s }\n",
            )),
            "`interval` must be greater than zero",
        );
        has(
            &problem_texts(&scenario("    records: [a]\n    tll: 5s\n")),
            "did you mean `ttl`",
        );
    }
}
