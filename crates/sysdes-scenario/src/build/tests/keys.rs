//! The keys each map accepts come from the schema structs (one definition);
//! these lists pin their order, which the "unknown key" help prints ("the
//! keys allowed here are ...") and which breaks ties between suggestions.

use crate::build::deploy::DeploymentRaw;
use crate::build::llm_server::{EfficiencyRaw, HardwareRaw, LlmDoc, PrefixRaw};
use crate::build::queue::ConsumersRaw;
use crate::build::store::DelaysRaw;
use crate::build::stream::ConsumerGroupRaw;
use crate::build::{COMPONENT_TYPES, ComponentDoc, Kind};
use crate::raw::{
    AutoscalerRaw, HostPoolRaw, RunsOnRaw, ScalingRaw, ScenarioDoc, SweepDoc, WorkloadRaw,
    schema_keys,
};
use crate::test_support::problems;

#[test]
fn every_kind_accepts_exactly_its_schema_keys_in_order() {
    let expected: [(&str, &[&str]); 13] = [
        (
            "server",
            &[
                "type",
                "workers",
                "service_time",
                "queue_capacity",
                "calls",
                "mode",
                "discipline",
                "patience",
                "replicas",
                "balance",
                "runs_on",
                "cpu",
                "memory",
                "host",
                "autoscaler",
                "zone",
                "request_size",
                "response_size",
            ],
        ),
        (
            "load_balancer",
            &[
                "type",
                "policy",
                "backends",
                "zone",
                "request_size",
                "response_size",
                "weights",
                "phases",
                "shadow",
                "health_check",
                "affinity_max_waiting",
            ],
        ),
        (
            "cache",
            &[
                "type",
                "capacity",
                "value_size",
                "policy",
                "ttl",
                "hit_time",
                "workers",
                "backend",
                "writes",
                "size",
                "replicas",
                "balance",
                "runs_on",
                "autoscaler",
            ],
        ),
        ("queue", &["type", "capacity", "overflow", "consumers"]),
        (
            "stream",
            &["type", "partitions", "consumer_groups", "retention"],
        ),
        (
            "model_server",
            &[
                "type",
                "slots",
                "batching",
                "batch_time",
                "jitter",
                "queue_capacity",
                "cold_start",
                "llm",
                "replicas",
                "balance",
                "runs_on",
                "autoscaler",
            ],
        ),
        (
            "store",
            &[
                "type",
                "replicas",
                "zones",
                "workers",
                "read_time",
                "write_time",
                "mode",
                "replication",
                "replication_delay",
                "reads",
                "failover_timeout",
                "read_quorum",
                "write_quorum",
                "read_repair",
                "hinted_handoff",
                "clock_skew",
                "on_partition",
                "delays",
                "routing",
                "probe_after",
                "check_linearizability",
                "zone",
                "request_size",
                "response_size",
                "size",
            ],
        ),
        (
            "training_job",
            &[
                "type",
                "workers",
                "compute_time",
                "all_reduce",
                "checkpoint",
                "failures",
            ],
        ),
        (
            "review_queue",
            &["type", "share", "review_time", "reviewers", "shifts"],
        ),
        (
            "function",
            &[
                "type",
                "service_time",
                "concurrency",
                "cold_start",
                "idle_timeout",
                "memory",
                "queue_capacity",
                "billing_increment",
                "zone",
                "request_size",
                "response_size",
            ],
        ),
        (
            "dns",
            &[
                "type",
                "records",
                "ttl",
                "clients",
                "ignore_ttl",
                "health_check",
                "zone",
                "request_size",
                "response_size",
            ],
        ),
        ("batch_job", &["type", "every", "throughput", "startup"]),
        (
            "storage",
            &[
                "type",
                "tier",
                "object_size",
                "size",
                "read_latency",
                "write_latency",
                "iops",
                "write_iops",
                "over_limit",
                "bandwidth",
                "stream_bandwidth",
                "zone",
                "request_size",
                "response_size",
            ],
        ),
    ];
    assert_eq!(Kind::ALL.len(), expected.len());
    assert_eq!(COMPONENT_TYPES.len(), expected.len());
    for ((kind, name), (want_name, want_keys)) in
        Kind::ALL.iter().zip(COMPONENT_TYPES).zip(expected)
    {
        assert_eq!(*name, want_name);
        assert_eq!(kind.keys(), want_keys, "keys of `{name}`");
    }
    // The schema's `Component` list is the registry's, in its order.
    let schema = schemars::schema_for!(ComponentDoc);
    let consts: Vec<&str> = schema
        .get("oneOf")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.pointer("/properties/type/const")?.as_str())
        .collect();
    assert_eq!(consts, COMPONENT_TYPES);
}

#[test]
fn nested_maps_accept_exactly_their_schema_keys_in_order() {
    let cases: [(&str, &[&str], &[&str]); 15] = [
        (
            "top level",
            schema_keys!(ScenarioDoc),
            &[
                "name",
                "description",
                "seed",
                "duration",
                "warmup",
                "workloads",
                "components",
                "network",
                "sweep",
                "hosts",
                "faults",
                "expect",
            ],
        ),
        (
            "workload",
            schema_keys!(WorkloadRaw),
            &[
                "name",
                "target",
                "arrival",
                "keys",
                "timeout",
                "ops",
                "sessions",
                "retries",
                "priority",
                "zone",
                "request_size",
                "response_size",
            ],
        ),
        (
            "deployment",
            schema_keys!(DeploymentRaw),
            &[
                "replicas",
                "balance",
                "runs_on",
                "cpu",
                "memory",
                "host",
                "autoscaler",
            ],
        ),
        (
            "replica group",
            schema_keys!(ScalingRaw),
            &["replicas", "balance", "runs_on", "autoscaler"],
        ),
        (
            "host pool",
            schema_keys!(HostPoolRaw),
            &["count", "cores", "memory", "placement"],
        ),
        (
            "autoscaler",
            schema_keys!(AutoscalerRaw),
            &[
                "metric",
                "target",
                "interval",
                "min",
                "max",
                "scale_down_stabilization",
                "tolerance",
            ],
        ),
        ("runs_on", schema_keys!(RunsOnRaw), &["kind", "boot_time"]),
        (
            "queue consumers",
            schema_keys!(ConsumersRaw),
            &["target", "concurrency"],
        ),
        (
            "consumer group",
            schema_keys!(ConsumerGroupRaw),
            &["name", "target", "start"],
        ),
        (
            "store delays",
            schema_keys!(DelaysRaw),
            &[
                "write_request",
                "write_ack",
                "read_request",
                "read_response",
            ],
        ),
        (
            "llm",
            schema_keys!(LlmDoc),
            &[
                "max_batch",
                "prefill",
                "decode_step",
                "prompt_tokens",
                "output_tokens",
                "kv_cache_tokens",
                "scheduler",
                "max_num_batched_tokens",
                "kv_block_size",
                "kv_blocks",
                "iteration",
                "prefix_caching",
                "hardware",
                "model",
                "efficiency",
                "preemption",
                "swap_gbps",
                "swap_blocks",
                "kv_bytes_per_token",
                "watermark",
                "role",
                "decode_to",
                "kv_link",
                "prefix",
            ],
        ),
        (
            "llm prefix",
            schema_keys!(PrefixRaw),
            &["tokens", "groups", "zipf", "from_key"],
        ),
        (
            "llm hardware",
            schema_keys!(HardwareRaw),
            &["gpu", "tp", "link_gbps", "link_latency"],
        ),
        (
            "llm efficiency",
            schema_keys!(EfficiencyRaw),
            &["compute", "memory", "floor"],
        ),
        (
            "sweep",
            schema_keys!(SweepDoc),
            &["vary", "combine", "replications", "seeds"],
        ),
    ];
    for (what, got, want) in cases {
        assert_eq!(got, want, "keys of {what}");
    }
}

/// Regression: `hosts` was accepted by the loader but missing from the
/// schema, and a store's `zone` and sizes likewise, so an editor flagged
/// valid files; now the loader accepts what the schema lists, and no more.
#[test]
fn the_schema_lists_hosts_and_a_stores_placement_keys() {
    let schema = crate::json_schema();
    assert!(schema.pointer("/properties/hosts").is_some());
    assert!(schema.pointer("/$defs/HostPool/properties/cores").is_some());
    let store = schema
        .pointer("/$defs/Component/oneOf/6/properties")
        .and_then(serde_json::Value::as_object)
        .expect("store schema");
    for key in ["zone", "request_size", "response_size"] {
        assert!(store.contains_key(key), "store lacks {key}");
    }
    // And a key in neither is refused with the full list, in schema order.
    let text = "name: t\nduration: 1s\nworkloads: [ { name: u, target: q, arrival: { poisson: 1/s } } ]\ncomponents:\n  q: { type: queue, consumers: { target: s }, colour: red }\n  s: { type: server, service_time: 1ms }\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].message, "unknown key `colour`");
    assert_eq!(
        found[0].help.as_deref(),
        Some("the keys allowed here are `type`, `capacity`, `overflow` or `consumers`")
    );
}
