//! The engine's side of a model server in LLM mode: arrivals queue, each
//! slot runs one iteration (a prefill or a decode step) at a time, and the
//! requests whose last token an iteration produced are answered when it
//! ends. The scheduling rule lives in `crate::kinds::model_server::llm`.

use sysdes_kernel::ComponentId;

use crate::simulation::{Component, Simulation};

/// An LLM model server's timers: ids only, so `Event` stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LlmEvent {
    /// The iteration running on `slot` ends.
    IterationDone { server: ComponentId, slot: u32 },
    /// The model load ends (the server's cold start).
    Wake { server: ComponentId },
}

impl Simulation {
    /// Dispatches an LLM model server's timer.
    pub(crate) fn llm_event(&mut self, ev: LlmEvent) {
        match ev {
            LlmEvent::IterationDone { server, slot } => self.llm_iteration_done(server, slot),
            LlmEvent::Wake { server } => {
                if let Component::LlmServer(m) = &mut self.components[server.index()] {
                    m.woke();
                }
                self.model_pump(server);
            }
        }
    }

    /// The iteration on `slot` ends: tokens are counted, finished requests
    /// are answered, then the slot starts its next iteration (it stays busy
    /// while answering, so a request that comes straight back waits for the
    /// next iteration boundary like any other arrival).
    fn llm_iteration_done(&mut self, server: ComponentId, slot: u32) {
        let now = self.sched.now();
        if let Component::LlmServer(m) = &mut self.components[server.index()] {
            m.iteration_done(now, slot);
        }
        let mut i = 0;
        loop {
            let Component::LlmServer(m) = &self.components[server.index()] else {
                crate::simulation::misrouted();
                return;
            };
            let Some(&req) = m.done().get(i) else {
                break;
            };
            self.respond(req);
            i += 1;
        }
        if let Component::LlmServer(m) = &mut self.components[server.index()] {
            m.release(now, slot);
        }
        self.model_pump(server);
    }
}
