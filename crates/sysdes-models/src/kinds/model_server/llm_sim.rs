//! An LLM model server's timers. A model server in LLM mode is the
//! `model_server` kind under the LLM scheduling policy
//! ([`super::sim::ModelPolicy::Llm`]); its iterations end and its model
//! load ends through the same handlers as batches (`sim.rs`). The events
//! keep their own names so a loop's profile says which policy ran. The
//! scheduling rule lives in `crate::kinds::model_server::llm`.

use crate::kinds::ModelServerId;
use crate::simulation::Simulation;

/// An LLM model server's timers: ids only, so `Event` stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LlmEvent {
    /// The iteration running on `slot` ends.
    IterationDone { server: ModelServerId, slot: u32 },
    /// The model load ends (the server's cold start).
    Wake { server: ModelServerId },
}

impl Simulation {
    /// Dispatches an LLM model server's timer.
    pub(crate) fn llm_event(&mut self, ev: LlmEvent) {
        match ev {
            LlmEvent::IterationDone { server, slot } => self.model_batch_done(server, slot),
            LlmEvent::Wake { server } => self.model_wake(server),
        }
    }
}
