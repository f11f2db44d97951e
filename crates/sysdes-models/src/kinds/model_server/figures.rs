//! What a model server reports beyond the figures every station has (see
//! `crate::figures` for the conventions).

use crate::figures::figures;

kind_figures! {
    /// This kind's variants of the public `KindFigures`, for the registry
    /// (`kinds/mod.rs`).
    model_server_figures {
        /// A batching model server.
        Batching(BatchFigures),
        /// A model server in LLM mode.
        Llm(Box<LlmFigures>),
    }
}

figures! {
    /// A batching model server.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct BatchFigures {
        /// Mean size of the batches started in the window.
        pub mean_batch_size: f64,
        /// Batches started in the window.
        pub batches: u64,
        /// Arrival to batch start, per completed request.
        pub mean_queue_delay_ms: f64,
        /// Batch compute time, per completed request.
        pub mean_compute_ms: f64,
        /// Time-average busy slots / slots.
        pub slot_utilization: f64,
        /// When the server became ready.
        pub cold_start_ms: f64,
        /// Full-batch capacity, requests per second.
        pub capacity_rps: f64,
    }
}

figures! {
    /// A model server in LLM mode.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct LlmFigures {
        /// Time to first token, mean. Absent where a decode server (`role: decode`) produces no first token.
        pub ttft_mean_ms: Option<f64>,
        /// Time to first token, median. Absent where a decode server (`role: decode`) produces no first token.
        pub ttft_p50_ms: Option<f64>,
        /// Time to first token, p99. Absent where a decode server (`role: decode`) produces no first token.
        pub ttft_p99_ms: Option<f64>,
        /// Time per output token, mean. Absent where a prefill server (`role: prefill`) produces only first tokens.
        pub tpot_mean_ms: Option<f64>,
        /// Time per output token, median. Absent where a prefill server (`role: prefill`) produces only first tokens.
        pub tpot_p50_ms: Option<f64>,
        /// Time per output token, p99. Absent where a prefill server (`role: prefill`) produces only first tokens.
        pub tpot_p99_ms: Option<f64>,
        /// Output tokens per second of window.
        pub output_tokens_per_s: f64,
        /// Sequences per decode step.
        pub mean_running_batch: f64,
        /// Prompts per prefill.
        pub mean_prefill_batch: f64,
        /// Prefills run.
        pub prefills: u64,
        /// Decode steps run.
        pub decode_steps: u64,
        /// Prompt tokens per completed request.
        pub mean_prompt_tokens: f64,
        /// Output tokens per completed request.
        pub mean_output_tokens: f64,
        /// Arrival to admission, per completed request.
        pub mean_queue_delay_ms: f64,
        /// Time-average busy slots / slots.
        pub slot_utilization: f64,
        /// When the server became ready.
        pub cold_start_ms: f64,
        /// Capacity, requests per second.
        pub capacity_rps: f64,
        /// Capacity, output tokens per second.
        pub capacity_tokens_per_s: f64,
        /// Chunked scheduler: sequences preempted (recompute or swap) in the window.
        pub preemptions: Option<u64>,
        /// With a KV-cache limit: requests dropped in the window because prompt + output can never fit the cache (also in the component's drops).
        pub too_long_drops: Option<u64>,
        /// Chunked scheduler with `kv_blocks`: time-average used KV blocks / all blocks.
        pub kv_utilization: Option<f64>,
        /// Chunked scheduler with `prefix` and prefix caching: prompt tokens found cached / looked up, at admissions in the window.
        pub prefix_hit_rate: Option<f64>,
        /// Chunked scheduler with `prefix` and prefix caching: prompt tokens whose prefill the cache saved, at admissions in the window.
        pub prefill_tokens_saved: Option<u64>,
        /// Chunked scheduler with `preemption: swap`: sequences swapped out to CPU memory in the window (counted in `preemptions` too).
        pub swaps_out: Option<u64>,
        /// Chunked scheduler with `preemption: swap`: sequences swapped back in, in the window.
        pub swaps_in: Option<u64>,
        /// Chunked scheduler with `preemption: swap`: KV bytes copied over the host link, out and in, in the window.
        pub swapped_bytes: Option<u64>,
        /// `role: prefill`: requests (counted ones) whose prompt's KV was sent to the decode pool.
        pub kv_transfers: Option<u64>,
        /// `role: prefill`: KV bytes those transfers sent (prompt tokens times `kv_bytes_per_token`).
        pub kv_transfer_bytes: Option<u64>,
        /// `role: prefill`: prefill end to KV landing (waiting for the link, serialization, latency), mean.
        pub kv_transfer_mean_ms: Option<f64>,
        /// `role: prefill`: prefill end to KV landing, p99.
        pub kv_transfer_p99_ms: Option<f64>,
    }
}
