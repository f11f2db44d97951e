//! An LLM model server's timers. A model server in LLM mode is the
//! `model_server` kind under the LLM scheduling policy
//! ([`super::sim::ModelPolicy::Llm`]); its iterations end and its model
//! load ends through the same handlers as batches (`sim.rs`). The events
//! keep their own names so a loop's profile says which policy ran. The
//! scheduling rule lives in `crate::kinds::model_server::llm`.

use crate::kinds::ModelServerId;
use crate::kinds::model_server::sim::ModelPolicy;
use crate::simulation::Simulation;

/// An LLM model server's timers: ids only, so `Event` stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LlmEvent {
    /// The iteration running on `slot` ends.
    IterationDone { server: ModelServerId, slot: u32 },
    /// The model load ends (the server's cold start).
    Wake { server: ModelServerId },
    /// The first KV transfer in flight on a prefill server's `slot` link
    /// lands: its request goes to the decode pool.
    KvLanded { server: ModelServerId, slot: u32 },
}

impl Simulation {
    /// Dispatches an LLM model server's timer.
    pub(crate) fn llm_event(&mut self, ev: LlmEvent) {
        match ev {
            LlmEvent::IterationDone { server, slot } => self.model_batch_done(server, slot),
            LlmEvent::Wake { server } => self.model_wake(server),
            LlmEvent::KvLanded { server, slot } => self.llm_kv_landed(server, slot),
        }
    }

    /// A prefill server's KV transfer has landed: its request enters the
    /// decode pool (a decode server, or a balancer or group of them) with
    /// its record, which the decode server takes on arrival. The prefill
    /// server stays on the request's way back, like a proxy.
    fn llm_kv_landed(&mut self, server: ModelServerId, slot: u32) {
        let ModelPolicy::Llm(m) = &mut self.components[server] else {
            return;
        };
        let Some((p, to)) = m.kv_landed(slot) else {
            return;
        };
        let generation = self.requests.generation(p.req);
        self.llm_handoffs.put(p.req, generation, p);
        self.deliver(to, p.req);
    }
}
