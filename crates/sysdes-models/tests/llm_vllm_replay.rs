//! Validation of the chunked LLM scheduler against real vLLM 0.19 runs:
//! the per-request captures of LLMServingSim (MIT; `tests/data/llmservingsim/`,
//! source and commit in its README). Each capture's 300 ShareGPT requests
//! are replayed with their own arrival times (engine clock, `queued_ts`) and
//! token counts through [`ChunkedBatch`] with the capture's engine settings
//! (`max_num_seqs`, `max_num_batched_tokens` 2048, blocks of 16 tokens, its
//! KV block count). TTFT, TPOT and end-to-end latency are compared at the
//! mean, p50, p90 and p99 (nearest rank, the same rule on both sides).
//!
//! Calibration (RTX PRO 6000, Llama-3.1-8B, TP1): three coefficients are
//! fitted (the iteration floor, the per-token cost and the decode attention
//! cost per context token) by a deterministic coordinate search in log
//! space, minimising the sum of squared log ratios sim/real over the mean,
//! p50 and p90 of TTFT, TPOT and end-to-end latency (9 terms; p99 is left
//! out of the fit and only reported). The prefill-attention coefficient is
//! not fitted: 1 ps per (query, key) pair, from 4 x 128 x 32 heads x 32
//! layers = 0.52 MFLOP per pair at about 250 TFLOP/s effective, halved for
//! the causal mask.
//!
//! Prediction (RTX 4090, Llama-3.1-8B, TP1, 2588 KV blocks): nothing is
//! refitted; the memory-bound coefficients (floor, decode attention) are
//! scaled by the ratio of memory bandwidths 1792 / 1008 GB/s and the
//! compute-bound ones (per token, prefill attention) by the ratio of dense
//! BF16 tensor throughput with FP32 accumulation, 503.8 / 165.2 TFLOP/s
//! (vendor data sheets; see `docs/llm-serving.md`).
//!
//! The tables are printed (`cargo test -p sysdes-models --test
//! llm_vllm_replay -- --nocapture`) and copied into `docs/llm-serving.md`.

mod common;

use std::collections::VecDeque;

use common::chunked_scheduler;
use sysdes_kernel::{SimDuration, SimTime};
use sysdes_models::{
    ChunkedBatch, ChunkedSpec, Efficiency, GpuSpec, IterationCost, IterationTable, ModelShape,
    Outcome, Pending, Roofline,
};

/// One captured request, times in nanoseconds from the first arrival.
#[derive(Clone, Copy, Debug)]
struct Captured {
    arrival: u64,
    prompt: u32,
    output: u32,
    first_token: u64,
    last_token: u64,
}

/// The number after `"key": ` on a JSON line (the captures are flat).
fn field(line: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\": ");
    let at = line
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + pat.len();
    let rest = &line[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn load(dir: &str) -> Vec<Captured> {
    let path = format!(
        "{}/../../tests/data/llmservingsim/{dir}/requests.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows: Vec<(f64, u32, u32, f64, f64)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            (
                field(l, "queued_ts"),
                field(l, "input_toks") as u32,
                field(l, "output_toks") as u32,
                field(l, "first_token_ts"),
                field(l, "last_token_ts"),
            )
        })
        .collect();
    let t0 = rows.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let ns = |t: f64| ((t - t0) * 1e9).round() as u64;
    let mut v: Vec<Captured> = rows
        .iter()
        .map(|r| Captured {
            arrival: ns(r.0),
            prompt: r.1.max(1),
            output: r.2.max(1),
            first_token: ns(r.3),
            last_token: ns(r.4),
        })
        .collect();
    v.sort_by_key(|c| c.arrival);
    v
}

/// Per-request (TTFT, TPOT, end-to-end) in milliseconds; TPOT only for
/// outputs of 2 tokens or more.
#[derive(Default)]
struct Latencies {
    ttft: Vec<f64>,
    tpot: Vec<f64>,
    e2e: Vec<f64>,
}

impl Latencies {
    fn push(&mut self, arrival: u64, first: u64, last: u64, output: u32) {
        let ms = |ns: u64| ns as f64 / 1e6;
        self.ttft.push(ms(first - arrival));
        self.e2e.push(ms(last - arrival));
        if output >= 2 {
            self.tpot.push(ms(last - first) / f64::from(output - 1));
        }
    }
}

fn captured(reqs: &[Captured]) -> Latencies {
    let mut l = Latencies::default();
    for c in reqs {
        l.push(c.arrival, c.first_token, c.last_token, c.output);
    }
    l
}

/// Mean, p50, p90, p99 (nearest rank).
fn stats(v: &[f64]) -> [f64; 4] {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    [
        s.iter().sum::<f64>() / s.len() as f64,
        q(0.5),
        q(0.9),
        q(0.99),
    ]
}

/// Replays `reqs` through one slot; returns the latencies, the iterations
/// run, the simulated span and the preemptions.
fn replay(reqs: &[Captured], spec: &ChunkedSpec) -> (Latencies, u64, SimDuration, u64) {
    let mut batch = ChunkedBatch::new(spec.clone());
    let mut waiting: VecDeque<Pending> = VecDeque::with_capacity(reqs.len());
    let mut first = vec![0u64; reqs.len()];
    let mut last = vec![0u64; reqs.len()];
    let mut next = 0;
    let mut now = SimTime::ZERO;
    let mut iterations = 0;
    // The loop's only heap buffers are the queue and the running batch:
    // neither may grow (no allocation per iteration, preemptions included).
    let capacities = (waiting.capacity(), batch.running_capacity());
    loop {
        while next < reqs.len() && reqs[next].arrival <= now.as_nanos() {
            let c = &reqs[next];
            let at = SimTime::ZERO + SimDuration::from_nanos(c.arrival);
            waiting.push_back(Pending::new(next as u32, at, c.prompt, c.output, true));
            next += 1;
        }
        match batch.schedule(now, &mut waiting) {
            Some(c) => {
                now += spec.cost.time(&c);
                iterations += 1;
                batch.complete(now, |o| match o {
                    Outcome::FirstToken(p) => first[p.req as usize] = now.as_nanos(),
                    Outcome::Finished(p) => last[p.req as usize] = now.as_nanos(),
                });
            }
            None if next < reqs.len() => {
                now = SimTime::ZERO + SimDuration::from_nanos(reqs[next].arrival);
            }
            None => break,
        }
    }
    assert_eq!(
        (waiting.capacity(), batch.running_capacity()),
        capacities,
        "a buffer grew during the replay"
    );
    let mut l = Latencies::default();
    for (i, c) in reqs.iter().enumerate() {
        assert!(last[i] > 0, "request {i} never finished");
        l.push(c.arrival, first[i], last[i], c.output);
    }
    (l, iterations, now - SimTime::ZERO, batch.preemptions())
}

fn spec(max_num_seqs: u32, num_blocks: u32, cost: IterationCost) -> ChunkedSpec {
    ChunkedSpec {
        max_num_seqs,
        ..chunked_scheduler(2048, Some(num_blocks), cost)
    }
}

/// Sum of squared log ratios over mean, p50, p90 of the three latencies.
fn loss(sim: &Latencies, real: &Latencies) -> f64 {
    let mut l = 0.0;
    for (s, r) in [
        (&sim.ttft, &real.ttft),
        (&sim.tpot, &real.tpot),
        (&sim.e2e, &real.e2e),
    ] {
        let (s, r) = (stats(s), stats(r));
        for k in 0..3 {
            l += (s[k] / r[k]).ln().powi(2);
        }
    }
    l
}

fn cost(p: [f64; 3], per_prefill_pair_ps: u64) -> IterationCost {
    IterationCost::affine(
        SimDuration::from_nanos(p[0].round() as u64),
        p[1].round() as u64,
        p[2].round() as u64,
        per_prefill_pair_ps,
    )
}

/// Prefill attention, picoseconds per (query, key) pair (see the module doc).
const PREFILL_PAIR_PS: u64 = 1;
/// RTX PRO 6000 Blackwell run: max_num_seqs 128; KV blocks 35913 (the same
/// GPU's later capture, see the data README).
const PRO6000: (&str, u32, u32) = ("RTXPRO6000-Llama-3.1-8B", 128, 35_913);
/// RTX 4090 run: max_num_seqs 256, 2588 KV blocks (its meta.json).
const RTX4090: (&str, u32, u32) = ("RTX4090-Llama-3.1-8B", 256, 2_588);
/// Memory bandwidth ratio RTX PRO 6000 / RTX 4090 (1792 / 1008 GB/s).
const BANDWIDTH_RATIO: f64 = 1792.0 / 1008.0;
/// Dense BF16 (FP32 accumulate) tensor throughput ratio (503.8 / 165.2 TFLOP/s).
const COMPUTE_RATIO: f64 = 503.8 / 165.2;

/// Deterministic coordinate search in log space from a physical starting
/// point: each round tries each coefficient times and over `step`, keeps
/// any improvement, and halves the step (in log) when a round improves
/// nothing.
fn fit(reqs: &[Captured], real: &Latencies, seqs: u32, blocks: u32) -> ([f64; 3], f64) {
    // Starting point: 16 GB of weights at 1.8 TB/s, 16 GFLOP per token at
    // ~300 TFLOP/s, 128 KiB of KV per context token at 1.8 TB/s.
    search(reqs, real, seqs, blocks, [9.0e6, 53_000.0, 73_000.0], |p| {
        Some(cost(p, PREFILL_PAIR_PS))
    })
}

/// The coordinate search of [`fit`] over any three parameters; `make`
/// returns `None` for parameters out of their range (not tried).
fn search(
    reqs: &[Captured],
    real: &Latencies,
    seqs: u32,
    blocks: u32,
    start: [f64; 3],
    make: impl Fn([f64; 3]) -> Option<IterationCost>,
) -> ([f64; 3], f64) {
    let mut p = start;
    let eval = |p: [f64; 3]| match make(p) {
        Some(c) => loss(&replay(reqs, &spec(seqs, blocks, c)).0, real),
        None => f64::INFINITY,
    };
    let mut best = eval(p);
    let mut step: f64 = 2.0;
    for _ in 0..40 {
        let mut improved = false;
        for k in 0..3 {
            for f in [step, 1.0 / step] {
                let mut q = p;
                q[k] *= f;
                let l = eval(q);
                if l < best - 1e-12 {
                    best = l;
                    p = q;
                    improved = true;
                }
            }
        }
        if !improved {
            step = step.sqrt();
            if step < 1.01 {
                break;
            }
        }
    }
    (p, best)
}

/// The capture's own sampling band for each statistic, as a fraction of
/// it: for the mean, one standard error (sd / sqrt(n)) over the mean; for a
/// quantile p of n values, half the spread between the order statistics one
/// binomial standard deviation sqrt(n p (1 - p)) of rank either side of it
/// (so p99 of 300, whose rank moves by 1.7, gets the gap to its neighbours).
fn bands(v: &[f64]) -> [f64; 4] {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let sd = (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let q = |p: f64| {
        let k = (p * n).ceil();
        let d = (n * p * (1.0 - p)).sqrt();
        let at = |r: f64| s[(r.round() as usize).clamp(1, s.len()) - 1];
        (at(k + d) - at(k - d)) / 2.0 / at(k)
    };
    [sd / n.sqrt() / mean, q(0.5), q(0.9), q(0.99)]
}

/// Prints the table with each cell's tolerance, `model + band` (the
/// capture's sampling band above), and returns the cells that exceed it.
fn table(title: &str, sim: &Latencies, real: &Latencies, model: f64) -> Vec<String> {
    println!(
        "\n{title}\n| metric | stat | vLLM (ms) | sysdes (ms) | error | tolerance |\n| --- | --- | --- | --- | --- | --- |"
    );
    let mut bad = Vec::new();
    for (name, s, r) in [
        ("TTFT", &sim.ttft, &real.ttft),
        ("TPOT", &sim.tpot, &real.tpot),
        ("E2E", &sim.e2e, &real.e2e),
    ] {
        let band = bands(r);
        let (s, r) = (stats(s), stats(r));
        for (k, stat) in ["mean", "p50", "p90", "p99"].iter().enumerate() {
            let e = s[k] / r[k] - 1.0;
            let tol = model + band[k];
            println!(
                "| {name} | {stat} | {:.1} | {:.1} | {:+.1} % | {:.1} % |",
                r[k],
                s[k],
                e * 100.0,
                tol * 100.0
            );
            if e.abs() > tol {
                bad.push(format!(
                    "{name} {stat}: {:+.1} % > {:.1} %",
                    e * 100.0,
                    tol * 100.0
                ));
            }
        }
    }
    bad
}

/// The model error allowed on the calibration run: 10 %, the band the
/// best published simulators report against vLLM (issue 16), on top of the
/// capture's sampling band.
const FITTED_MODEL_TOLERANCE: f64 = 0.10;
/// The error allowed on the predicted run: 35 %. Not an accuracy claim but
/// a regression bound on the measured error (24-31 %, every statistic too
/// slow: the data-sheet ratios overstate how much slower the 4090 is; see
/// `docs/llm-serving.md`).
const PREDICTED_MODEL_TOLERANCE: f64 = 0.35;

#[test]
fn replays_real_vllm_runs() {
    let reqs = load(PRO6000.0);
    assert_eq!(reqs.len(), 300);
    let real = captured(&reqs);
    let (p, best) = fit(&reqs, &real, PRO6000.1, PRO6000.2);
    println!(
        "fitted: floor {:.3} ms, per token {:.1} us, decode attention {:.1} ns per context token; loss {best:.4}",
        p[0] / 1e6,
        p[1] / 1e6,
        p[2] / 1e3
    );
    let s = spec(PRO6000.1, PRO6000.2, cost(p, PREFILL_PAIR_PS));
    // Speed: the fastest of 20 replays (the machine is shared).
    let mut wall = f64::INFINITY;
    for _ in 0..20 {
        let t = std::time::Instant::now();
        std::hint::black_box(replay(&reqs, &s));
        wall = wall.min(t.elapsed().as_secs_f64());
    }
    let (sim, iterations, span, preempted) = replay(&reqs, &s);
    println!(
        "replay: {iterations} iterations, {:.1} simulated s, {preempted} preemptions, {:.0} simulated s per wall s",
        span.as_secs_f64(),
        span.as_secs_f64() / wall
    );
    let bad = table(
        "RTX PRO 6000, Llama-3.1-8B, TP1 (fitted)",
        &sim,
        &real,
        FITTED_MODEL_TOLERANCE,
    );
    assert_eq!(preempted, 0, "574608 KV tokens hold every running sequence");

    // Prediction: scale by the hardware ratios, refit nothing.
    let reqs2 = load(RTX4090.0);
    let real2 = captured(&reqs2);
    let scaled = [
        p[0] * BANDWIDTH_RATIO,
        p[1] * COMPUTE_RATIO,
        p[2] * BANDWIDTH_RATIO,
    ];
    let pair = (PREFILL_PAIR_PS as f64 * COMPUTE_RATIO).round() as u64;
    let (sim2, it2, span2, pre2) = replay(&reqs2, &spec(RTX4090.1, RTX4090.2, cost(scaled, pair)));
    println!(
        "replay: {it2} iterations, {:.1} simulated s, {pre2} preemptions",
        span2.as_secs_f64()
    );
    let bad2 = table(
        "RTX 4090, Llama-3.1-8B, TP1 (predicted)",
        &sim2,
        &real2,
        PREDICTED_MODEL_TOLERANCE,
    );
    assert!(
        pre2 > 0,
        "2588 blocks of 16 tokens cannot hold the 4090 run's batch"
    );
    assert!(bad.is_empty(), "fitted run outside tolerance: {bad:?}");
    assert!(bad2.is_empty(), "predicted run outside tolerance: {bad2:?}");
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// RTX PRO 6000 Blackwell Server Edition (`data/llm/gpus.yaml`).
const PRO6000_GPU: GpuSpec = GpuSpec {
    dense_flops: 503.8e12,
    memory_bandwidth: 1597e9,
    memory_bytes: 96.0 * GIB,
};
/// GeForce RTX 4090 (`data/llm/gpus.yaml`).
const RTX4090_GPU: GpuSpec = GpuSpec {
    dense_flops: 165.2e12,
    memory_bandwidth: 1008e9,
    memory_bytes: 24.0 * GIB,
};
/// Llama-3.1-8B (`data/llm/models.yaml`).
const LLAMA_8B: ModelShape = ModelShape {
    params: 8.03e9,
    active_params: 8.03e9,
    layers: 32,
    hidden: 4096,
    heads: 32,
    kv_heads: 8,
    head_dim: 128,
    dtype_bytes: 2,
    vocab: 128_256,
};
/// Qwen3-32B (`data/llm/models.yaml`).
const QWEN3_32B: ModelShape = ModelShape {
    params: 32.8e9,
    active_params: 32.8e9,
    layers: 64,
    hidden: 5120,
    heads: 64,
    kv_heads: 8,
    head_dim: 128,
    dtype_bytes: 2,
    vocab: 151_936,
};
/// Qwen3-32B TP2 run on two RTX PRO 6000: max_num_seqs 128; its meta.json
/// has no KV block count (derived below).
const QWEN_TP2: (&str, u32) = ("RTXPRO6000-Qwen3-32B-TP2", 128);
/// The all-reduce link between the two RTX PRO 6000 (no NVLink): PCIe 5.0
/// x16, 64 GB/s per direction, and 20 us per all-reduce (LLMServingSim's
/// `link_latency` for this run).
const PCIE5_BYTES_PER_S: f64 = 64e9;
const ALL_REDUCE_LATENCY: SimDuration = SimDuration::from_micros(20);
/// vLLM's default `gpu_memory_utilization` and the memory it keeps beside
/// weights and KV (activations of a 2048-token batch, CUDA graphs, the
/// context): 1.5 GB (the two Llama-3.1-8B captures imply 1.4 and 1.7 GB).
const GPU_MEMORY_UTILIZATION: f64 = 0.9;
const RESERVE_BYTES: f64 = 1.5e9;

fn roofline(model: ModelShape, gpu: GpuSpec, tp: u32, efficiency: Efficiency) -> Roofline {
    Roofline {
        model,
        gpu,
        tp,
        link_bandwidth: PCIE5_BYTES_PER_S,
        link_latency: ALL_REDUCE_LATENCY,
        efficiency,
    }
}

fn efficiency(p: [f64; 3]) -> Efficiency {
    Efficiency {
        compute: p[0],
        memory: p[1],
        floor: SimDuration::from_nanos(p[2].round() as u64),
    }
}

/// The roofline mode: its three efficiency factors fitted once on the
/// RTX PRO 6000 Llama-3.1-8B capture (and equal to
/// [`Efficiency::FITTED`]), then, refitting nothing, the RTX 4090
/// Llama-3.1-8B run (its own 2588 KV blocks) and the Qwen3-32B TP2 run on
/// two RTX PRO 6000 (KV blocks derived) predicted from the data sheets and
/// the model shapes.
#[test]
fn roofline_predicts_other_gpus_and_models() {
    let reqs = load(PRO6000.0);
    let real = captured(&reqs);
    let make = |p: [f64; 3]| {
        (p[0] <= 1.0 && p[1] <= 1.0)
            .then(|| roofline(LLAMA_8B, PRO6000_GPU, 1, efficiency(p)).cost())
    };
    let (p, best) = search(&reqs, &real, PRO6000.1, PRO6000.2, [0.5, 0.7, 8.0e6], make);
    println!(
        "roofline fitted: compute {:.4}, memory {:.4}, floor {:.6} ms; loss {best:.4}",
        p[0],
        p[1],
        p[2] / 1e6
    );
    let fitted = Efficiency::FITTED;
    for (got, kept) in [
        (p[0], fitted.compute),
        (p[1], fitted.memory),
        (p[2], fitted.floor.as_nanos() as f64),
    ] {
        assert!(
            (got / kept - 1.0).abs() < 0.01,
            "Efficiency::FITTED is stale: fitted {got}, kept {kept}"
        );
    }
    let blocks_pro = roofline(LLAMA_8B, PRO6000_GPU, 1, fitted).kv_blocks(
        16,
        GPU_MEMORY_UTILIZATION,
        RESERVE_BYTES,
    );
    let blocks_4090 = roofline(LLAMA_8B, RTX4090_GPU, 1, fitted).kv_blocks(
        16,
        GPU_MEMORY_UTILIZATION,
        RESERVE_BYTES,
    );
    println!(
        "derived KV blocks: RTX PRO 6000 {blocks_pro} (vLLM 35913), RTX 4090 {blocks_4090} (vLLM 2588)"
    );
    let (sim, ..) = replay(&reqs, &spec(PRO6000.1, PRO6000.2, make(p).unwrap()));
    let bad = table(
        "Roofline, RTX PRO 6000, Llama-3.1-8B, TP1 (efficiency fitted)",
        &sim,
        &real,
        FITTED_MODEL_TOLERANCE,
    );
    let reqs2 = load(RTX4090.0);
    let real2 = captured(&reqs2);
    let c2 = roofline(LLAMA_8B, RTX4090_GPU, 1, fitted).cost();
    let (sim2, _, _, pre2) = replay(&reqs2, &spec(RTX4090.1, RTX4090.2, c2));
    println!("RTX 4090: {pre2} preemptions");
    let bad2 = table(
        "Roofline, RTX 4090, Llama-3.1-8B, TP1 (predicted)",
        &sim2,
        &real2,
        ROOFLINE_4090_TOLERANCE,
    );
    let reqs3 = load(QWEN_TP2.0);
    let real3 = captured(&reqs3);
    let r3 = roofline(QWEN3_32B, PRO6000_GPU, 2, fitted);
    let blocks3 = r3.kv_blocks(16, GPU_MEMORY_UTILIZATION, RESERVE_BYTES);
    let c3 = r3.cost();
    println!(
        "Qwen3-32B TP2: {blocks3} KV blocks derived; all-reduce {:.2} us per token, floor {:.3} ms",
        c3.comm_per_token_ps as f64 / 1e6,
        c3.floor.as_nanos() as f64 / 1e6
    );
    let (sim3, _, _, pre3) = replay(&reqs3, &spec(QWEN_TP2.1, blocks3, c3));
    println!("Qwen3-32B TP2: {pre3} preemptions");
    let bad3 = table(
        "Roofline, 2 x RTX PRO 6000, Qwen3-32B, TP2 (predicted)",
        &sim3,
        &real3,
        ROOFLINE_QWEN_TOLERANCE,
    );
    assert!(bad.is_empty(), "fitted run outside tolerance: {bad:?}");
    assert!(bad2.is_empty(), "RTX 4090 outside tolerance: {bad2:?}");
    assert!(bad3.is_empty(), "Qwen3-32B TP2 outside tolerance: {bad3:?}");
}

/// The roofline's error allowed on the RTX 4090 prediction: a regression
/// bound on the measured error (23-31 %; 26-34 % before the embedding and
/// LM head were counted as gathered and per sequence, see
/// `docs/llm-serving.md`), not an accuracy claim.
const ROOFLINE_4090_TOLERANCE: f64 = 0.32;
/// The same for the Qwen3-32B TP2 prediction (22-39 %; 26-42 % before the
/// vocabulary terms and the 2 (tp - 1) latencies of a ring all-reduce).
const ROOFLINE_QWEN_TOLERANCE: f64 = 0.37;

/// Table mode through the replay: no measured table exists for these GPUs
/// (`docs/llm-serving.md`), so the fitted affine cost is tabulated on a
/// 3 x 3 grid of (tokens, decode context) spanning the run and replayed
/// with its prefill-attention term beside the table. The affine cost is
/// linear in both, so the bilinear interpolation reproduces it to the
/// rounding (at most 2 ns an iteration, one rounding per axis) and every
/// statistic matches the affine replay within 1e-6, the table's own
/// error table printed beside the affine one.
#[test]
fn table_mode_replays_the_fitted_cost() {
    let reqs = load(PRO6000.0);
    let real = captured(&reqs);
    // The coefficients `replays_real_vllm_runs` fits, rounded (printed there).
    let p = [14_031_000.0, 9_900_000.0, 131_000.0];
    let affine = cost(p, PREFILL_PAIR_PS);
    let mut csv = String::from("tokens,context_tokens,time_ns\n");
    for d in [0u64, 500_000, 2_000_000] {
        for t in [1u64, 1024, 2048] {
            let ns = affine.time(&sysdes_models::Composition {
                tokens: t,
                decode_context: d,
                ..Default::default()
            });
            csv.push_str(&format!("{t},{d},{}\n", ns.as_nanos()));
        }
    }
    let grid = IterationTable::parse_csv(&csv).expect("a valid grid");
    let tabled = IterationCost::affine(SimDuration::ZERO, 0, 0, PREFILL_PAIR_PS)
        .with_table(std::sync::Arc::new(grid));
    let s_affine = spec(PRO6000.1, PRO6000.2, affine);
    let s_table = spec(PRO6000.1, PRO6000.2, tabled);
    let (a, ..) = replay(&reqs, &s_affine);
    let (t, iterations, span, _) = replay(&reqs, &s_table);
    assert!(iterations > 2000, "{iterations}");
    assert!(span.as_secs_f64() > 60.0);
    for (x, y) in [(&a.ttft, &t.ttft), (&a.tpot, &t.tpot), (&a.e2e, &t.e2e)] {
        for (u, v) in stats(x).iter().zip(stats(y)) {
            assert!((u / v - 1.0).abs() < 1e-6, "affine {u} vs table {v}");
        }
    }
    let bad = table(
        "Table mode (the fitted affine cost on a 3 x 3 grid), RTX PRO 6000, Llama-3.1-8B, TP1",
        &t,
        &real,
        FITTED_MODEL_TOLERANCE,
    );
    assert!(bad.is_empty(), "table mode outside tolerance: {bad:?}");
}
