//! The engine's side of a model server in LLM mode: arrivals queue, each
//! slot runs one iteration (a prefill or a decode step) at a time, and the
//! requests whose last token an iteration produced are answered when it
//! ends. The scheduling rule lives in `crate::kinds::model_server::llm`.

use crate::kinds::LlmServerId;
use crate::kinds::model_server::sim::AnyModel;
use crate::simulation::Simulation;

/// An LLM model server's timers: ids only, so `Event` stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LlmEvent {
    /// The iteration running on `slot` ends.
    IterationDone { server: LlmServerId, slot: u32 },
    /// The model load ends (the server's cold start).
    Wake { server: LlmServerId },
}

impl Simulation {
    /// Dispatches an LLM model server's timer.
    pub(crate) fn llm_event(&mut self, ev: LlmEvent) {
        match ev {
            LlmEvent::IterationDone { server, slot } => self.llm_iteration_done(server, slot),
            LlmEvent::Wake { server } => {
                self.components[server].woke();
                self.model_pump(AnyModel::LlmServer(server));
            }
        }
    }

    /// The iteration on `slot` ends: tokens are counted, finished requests
    /// are answered, then the slot starts its next iteration (it stays busy
    /// while answering, so a request that comes straight back waits for the
    /// next iteration boundary like any other arrival).
    fn llm_iteration_done(&mut self, server: LlmServerId, slot: u32) {
        let now = self.sched.now();
        self.components[server].iteration_done(now, slot);
        let mut i = 0;
        loop {
            let m = &self.components[server];
            let Some(&req) = m.done().get(i) else {
                break;
            };
            self.respond(req);
            i += 1;
        }
        self.components[server].release(now, slot);
        self.model_pump(AnyModel::LlmServer(server));
    }
}
