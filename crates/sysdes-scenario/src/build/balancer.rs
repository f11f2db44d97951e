//! Reading `type: load_balancer` components: a policy and backends.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_models::{ComponentKind, LbPolicy, LoadBalancerSpec};

use super::{Ctx, Entry, Kind, resolve};
use crate::node::SNode;
use crate::units::Size;

/// `type: load_balancer` — routes each request to one backend.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a load balancer: a map with `backends` and optionally `policy`"
)]
#[schemars(rename = "LoadBalancer")]
pub(crate) struct LoadBalancerRaw {
    /// How a backend is chosen (default `round_robin`).
    pub policy: Option<PolicyRaw>,
    /// Names of the candidate components: at least one, no duplicates, not the balancer itself.
    pub backends: Vec<String>,
    /// The zone it runs in (a name under `network.zones`).
    pub zone: Option<String>,
    /// Size of the requests it sends on (for link bandwidth).
    pub request_size: Option<Size>,
    /// Size of the responses it returns (for link bandwidth).
    pub response_size: Option<Size>,
}

/// Load-balancing policies.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Policy")]
pub(crate) enum PolicyRaw {
    /// Backends in turn.
    RoundRobin,
    /// A uniformly random backend.
    Random,
    /// The backend with the fewest requests outstanding from this balancer (join-the-shortest-queue).
    LeastOutstanding,
    /// Two distinct random backends; the one with fewer outstanding requests.
    PowerOfTwo,
    /// A hash ring over the request's key, so equal keys go to the same backend.
    ConsistentHash,
}

/// Reads a load balancer.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    load_balancer(ctx, e.own, e.body, e.names).map(ComponentKind::LoadBalancer)
}

fn load_balancer(
    ctx: &mut Ctx,
    own: usize,
    body: &SNode,
    names: &[&str],
) -> Option<LoadBalancerSpec> {
    ctx.unknown_keys(body, Kind::LoadBalancer.keys());
    let policy = match ctx.optional::<PolicyRaw>(body, "policy") {
        Ok(p) => Some(match p.unwrap_or(PolicyRaw::RoundRobin) {
            PolicyRaw::RoundRobin => LbPolicy::RoundRobin,
            PolicyRaw::Random => LbPolicy::Random,
            PolicyRaw::LeastOutstanding => LbPolicy::LeastOutstanding,
            PolicyRaw::PowerOfTwo => LbPolicy::PowerOfTwo,
            PolicyRaw::ConsistentHash => LbPolicy::ConsistentHash,
        }),
        Err(()) => None,
    };
    let names_of_backends: Vec<String> = ctx.required(
        body,
        "backends",
        Some("add e.g. `backends: [s1, s2]`".to_owned()),
    )?;
    let backends_node = body.at_or_near(&["backends"]);
    let before = ctx.issues.len();
    if names_of_backends.is_empty() {
        ctx.push(
            backends_node,
            "`backends` must list at least one component",
            None,
        );
    }
    let mut backends = Vec::with_capacity(names_of_backends.len());
    for (i, name) in names_of_backends.iter().enumerate() {
        let node = backends_node.item(i).unwrap_or(backends_node);
        if names_of_backends[..i].contains(name) {
            ctx.push(node, format!("backend `{name}` is listed twice"), None);
            continue;
        }
        if names.get(own) == Some(&name.as_str()) {
            ctx.push(
                node,
                format!("load balancer `{name}` cannot be its own backend"),
                None,
            );
            continue;
        }
        if let Some(id) = resolve(ctx, names, name, node) {
            backends.push(id);
        }
    }
    if ctx.issues.len() != before {
        return None;
    }
    Some(LoadBalancerSpec {
        policy: policy?,
        backends,
    })
}
