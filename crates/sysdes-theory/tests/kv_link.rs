//! A prefill server's offered load counts its KV links
//! (`LlmServerSpec::kv_link_load`): where the links, not the slots, are the
//! bottleneck, the figure is the links' `rate * P * kv_bytes_per_token /
//! (slots * gbps)`, checked by hand, and the simulation agrees that a link
//! loaded past 1 queues its transfers without bound (by hand, exactly)
//! while one loaded below 1 sends each alone.

use sysdes_kernel::{ComponentId, SimDuration};
use sysdes_models::*;
use sysdes_theory::offered_loads;

/// Prompt and output tokens, and the KV bytes a prompt token sends.
const P: u64 = 1000;
const N: u64 = 5;
const KV: u64 = 131_072;
/// Requests per second, evenly spaced.
const RATE: f64 = 10.0;

/// An LLM server of one slot: iterations of 1 ms + 1 us per token, 128
/// sequences, `P`-token prompts and `N`-token answers, in `role`.
fn llm(role: LlmRole) -> LlmServerSpec {
    let cost = IterationCost::affine(SimDuration::from_millis(1), 1_000_000, 0, 0);
    LlmServerSpec {
        slots: 1,
        max_batch: 128,
        prefill: PrefillTime {
            base: SimDuration::from_millis(1),
            per_token: SimDuration::from_micros(1),
        },
        decode_step: DecodeTime {
            base: SimDuration::from_millis(1),
            per_sequence: SimDuration::from_micros(1),
        },
        prompt_tokens: Distribution::Constant(SimDuration::from_nanos(P)),
        output_tokens: Distribution::Constant(SimDuration::from_nanos(N)),
        kv_cache_tokens: None,
        queue_capacity: None,
        cold_start: None,
        scheduler: LlmScheduler::Chunked(ChunkedSpec {
            max_num_batched_tokens: 2048,
            max_num_seqs: 128,
            block_size: 16,
            num_blocks: None,
            prefix_caching: true,
            swap: None,
            watermark_blocks: 0,
            cost,
        }),
        prefix: None,
        role,
    }
}

/// `RATE` requests per second, evenly spaced, into a prefill server whose
/// link runs at `gbps`, handing off to a decode server; 60 s, no warm-up.
fn system(gbps: f64) -> ModelSpec {
    let link = KvLink {
        gbps,
        latency: SimDuration::from_micros(10),
        kv_bytes_per_token: KV,
    };
    let mut spec = ModelSpec::single_server(
        RATE,
        1,
        Distribution::Constant(SimDuration::from_millis(1)),
        SimDuration::from_secs(60),
    );
    spec.workloads[0].arrival = ArrivalSpec::Constant { per_second: RATE };
    let prefill = LlmRole::Prefill(PrefillRole {
        decode_to: ComponentId(1),
        link,
    });
    spec.components = vec![
        ComponentSpec {
            name: "prefill".into(),
            kind: ComponentKind::LlmServer(llm(prefill)),
        },
        ComponentSpec {
            name: "decode".into(),
            kind: ComponentKind::LlmServer(llm(LlmRole::Decode)),
        },
    ];
    spec
}

fn figure(r: &RunResult, component: &str, key: &str) -> f64 {
    r.components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| c.figure(key))
        .unwrap_or_else(|| panic!("{component} has no `{key}`"))
}

/// At 1 GB/s a 1,000-token prompt's 131.072 MB takes S = 131.072 ms, so 10
/// requests per second load the link to 1.31072 while the slot (128
/// prompts per 1 ms + 128 ms iteration, 992 per second) is 1 % busy: the
/// offered load is the link's. Arrivals 100 ms apart each prefill alone in
/// 2 ms, so transfer k (from 0) is sent at `t0 + k/rate` and, the link busy
/// from the first on, lands at `t0 + (k + 1) S + latency`: it takes
/// `(k + 1) S - k / rate + latency`, and over the `n` sent the mean is
/// `S + latency + (n - 1) / 2 * (S - 1 / rate)`, exact in whole
/// nanoseconds (a histogram's mean is its exact sum over its count).
#[test]
fn a_link_slower_than_the_arrivals_is_the_prefill_servers_offered_load() {
    let spec = system(1.0);
    let s_ms = (P * KV) as f64 / 1e6; // bytes / (1 GB/s) = ns; in ms
    let link_load = RATE * s_ms / 1e3;
    assert_eq!(s_ms, 131.072);
    let ComponentKind::LlmServer(m) = &spec.components[0].kind else {
        unreachable!()
    };
    let slots_load = RATE / m.saturated_rps();
    assert!(
        (slots_load - RATE * 0.129 / 128.0).abs() < 1e-12,
        "{slots_load}"
    );
    let loads = offered_loads(&spec);
    let load = loads[0].expect("a prefill server has an offered load");
    assert!((load - link_load).abs() < 1e-12, "{load} vs {link_load}");
    assert!(load > 1.0 && slots_load < 0.02);

    let r = sysdes_models::Simulation::new(&spec)
        .expect("valid spec")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("the run completes");
    let n = figure(&r, "prefill", "kv_transfers");
    assert!(n > 590.0, "{n}");
    let want = s_ms + 0.010 + (n - 1.0) / 2.0 * (s_ms - 1e3 / RATE);
    let got = figure(&r, "prefill", "kv_transfer_mean_ms");
    assert!(
        (got - want).abs() < 1e-6,
        "mean transfer {got} ms, by hand {want} ms"
    );
}

/// At 4 GB/s the same prompts take 32.768 ms on the link: load 0.32768,
/// still above the slot's, and every transfer goes alone (the link is free
/// again 67 ms before the next): S + latency each.
#[test]
fn a_link_faster_than_the_arrivals_sends_each_transfer_alone() {
    let spec = system(4.0);
    let load = offered_loads(&spec)[0].expect("an offered load");
    assert!((load - 0.32768).abs() < 1e-12, "{load}");
    let r = sysdes_models::Simulation::new(&spec)
        .expect("valid spec")
        .run(RunLimits::default(), &mut NoObserver)
        .expect("the run completes");
    let got = figure(&r, "prefill", "kv_transfer_mean_ms");
    assert!((got - (32.768 + 0.010)).abs() < 1e-6, "{got}");
}
