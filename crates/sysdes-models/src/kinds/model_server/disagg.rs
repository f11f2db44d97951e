//! Prefill/decode disaggregation (Splitwise, Patel et al., ISCA 2024;
//! DistServe, Zhong et al., OSDI 2024): a model server in LLM mode with
//! `role: prefill` computes each prompt's KV cache and first token, then
//! sends the KV over its link to the decode pool it names (`decode_to`: a
//! `role: decode` server, or a load balancer of them), which admits the
//! sequence with its prompt computed and runs decode-only iterations.
//!
//! ```text
//!   prefill server (slot i) ──KV of the prompt over link i──► decode_to ──► decode server
//!     TTFT ends here            P * kv_bytes_per_token / gbps              decode-only
//!                               + latency (FIFO per link)                  iterations
//! ```
//!
//! Each prefill slot (GPU) has its own link, used one transfer at a time in
//! FIFO order: a transfer starts when the link is free, occupies it for
//! `bytes / bandwidth`, and lands `latency` after that. This module holds
//! the role's settings and a link's state; the scheduler's side (a sequence
//! leaving after its first token, one arriving with its prompt computed) is
//! in `llm_sched.rs`, the server's in `llm.rs`, the events in `llm_sim.rs`.
//! It does not model the decode instance pulling the KV layer by layer
//! while the prefill runs (DistServe's overlap), nor a transfer failing.

use std::collections::VecDeque;

use sysdes_kernel::{ComponentId, SimDuration, SimTime};

use crate::kinds::model_server::llm_sched::Pending;

/// What a model server in LLM mode does with a request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LlmRole {
    /// Prefill and decode on the same slots (the default).
    #[default]
    Colocated,
    /// Prefill only: after its first token a request moves to a decode pool.
    Prefill(PrefillRole),
    /// Decode only: receives requests a prefill server has handed off.
    Decode,
}

/// A prefill server's decode pool and the link to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrefillRole {
    /// Where prefilled requests go: a decode-role LLM model server, or a
    /// load balancer in front of such servers (the loader refuses anything
    /// else, a replica group included).
    pub decode_to: ComponentId,
    /// The link each prefill slot sends its KV over.
    pub link: KvLink,
}

/// The link that carries a prompt's KV cache from a prefill slot to the
/// decode pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KvLink {
    /// Bandwidth in GB/s (10^9 bytes per second; 50 is 400 Gb/s InfiniBand NDR).
    pub gbps: f64,
    /// One-way latency added to every transfer.
    pub latency: SimDuration,
    /// KV-cache bytes per prompt token sent (all layers, keys and values).
    pub kv_bytes_per_token: u64,
}

impl KvLink {
    /// Bytes sent for a prompt of `tokens` tokens.
    pub fn bytes(&self, tokens: u32) -> u64 {
        u64::from(tokens).saturating_mul(self.kv_bytes_per_token)
    }

    /// Time the link is busy sending `bytes`: `bytes / gbps` nanoseconds,
    /// rounded to the nearest.
    pub fn serialization(&self, bytes: u64) -> SimDuration {
        SimDuration::from_nanos((bytes as f64 / self.gbps).round() as u64)
    }

    /// A lone transfer of a `tokens`-token prompt's KV: serialization plus
    /// latency.
    pub fn transfer_time(&self, tokens: u32) -> SimDuration {
        self.serialization(self.bytes(tokens)) + self.latency
    }
}

/// One prefill slot's link: when it is next free and the transfers on it,
/// in the order they land (FIFO with a fixed latency, so landing times never
/// decrease and the landing events fire in this order; the times themselves
/// live in those events, not here).
#[derive(Debug, Default)]
pub(crate) struct LinkState {
    free_at: SimTime,
    in_flight: VecDeque<Pending>,
}

impl LinkState {
    /// Sends `p`'s KV (`bytes`) at `now`: returns when it lands.
    pub(crate) fn send(&mut self, link: &KvLink, now: SimTime, bytes: u64, p: Pending) -> SimTime {
        let start = self.free_at.max(now);
        self.free_at = start + link.serialization(bytes);
        let lands = self.free_at + link.latency;
        self.in_flight.push_back(p);
        lands
    }

    /// The transfer that lands first (the one whose landing event fired).
    pub(crate) fn land(&mut self) -> Option<Pending> {
        self.in_flight.pop_front()
    }
}

/// Handed-off requests on their way from a prefill server's link to a
/// decode server (through a balancer, maybe across the network):
/// the decode server that receives the request takes its record here. Keyed
/// by request id and checked against the request's generation, so a reused
/// slot is never mistaken for it; the map's capacity is reused, so steady
/// state allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct Handoffs {
    by_req: rustc_hash::FxHashMap<u32, (u32, Pending)>,
}

impl Handoffs {
    /// `p` (request `req` of generation `generation`) is on its way.
    pub(crate) fn put(&mut self, req: u32, generation: u32, p: Pending) {
        self.by_req.insert(req, (generation, p));
    }

    /// The record of `req` if it is a handed-off request (of this
    /// generation); removed.
    pub(crate) fn take(&mut self, req: u32, generation: u32) -> Option<Pending> {
        if self.by_req.is_empty() {
            return None;
        }
        match self.by_req.remove(&req) {
            Some((g, p)) if g == generation => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> KvLink {
        KvLink {
            gbps: 50.0,
            latency: SimDuration::from_micros(10),
            kv_bytes_per_token: 131_072,
        }
    }

    #[test]
    fn transfer_is_bytes_over_bandwidth_plus_latency() {
        // 1000 tokens * 131072 B = 131.072 MB at 50 GB/s = 2.62144 ms, + 10 us.
        let l = link();
        assert_eq!(l.bytes(1000), 131_072_000);
        assert_eq!(
            l.transfer_time(1000),
            SimDuration::from_nanos(2_621_440 + 10_000)
        );
    }

    #[test]
    fn a_busy_link_queues_transfers_in_order() {
        let l = link();
        let mut s = LinkState::default();
        let t0 = SimTime::ZERO;
        let p = |r| Pending::new(r, t0, 1000, 2, true);
        let a = s.send(&l, t0, l.bytes(1000), p(1));
        // The second waits for the first's serialization, not its latency.
        let b = s.send(&l, t0, l.bytes(1000), p(2));
        assert_eq!(a, t0 + SimDuration::from_nanos(2_631_440));
        assert_eq!(b, t0 + SimDuration::from_nanos(2 * 2_621_440 + 10_000));
        assert_eq!(s.land().map(|p| p.req), Some(1));
        assert_eq!(s.land().map(|p| p.req), Some(2));
        // An idle link starts at once.
        let later = t0 + SimDuration::from_secs(1);
        assert_eq!(
            s.send(&l, later, l.bytes(1000), p(3)),
            later + l.transfer_time(1000)
        );
    }

    #[test]
    fn handoffs_check_the_generation() {
        let mut h = Handoffs::default();
        let p = Pending::new(7, SimTime::ZERO, 10, 3, true);
        h.put(7, 1, p);
        assert_eq!(h.take(7, 2), None, "another generation of slot 7");
        h.put(7, 1, p);
        assert_eq!(h.take(7, 1), Some(p));
        assert_eq!(h.take(7, 1), None);
    }
}
