//! The engine's side of a model server: arrivals queue, batches are
//! scheduled on free slots, and every request of a batch is answered when it
//! ends. The batching rule itself lives in `crate::kinds::model_server`.

use sysdes_kernel::ComponentId;

use crate::kinds::model_server::{Arrival, Step};
use crate::request::{Outcome, RequestId};
use crate::simulation::llm_server::LlmEvent;
use crate::simulation::{Component, Event, Simulation};

impl Simulation {
    /// A request reaches model server `to`, in either mode (its hop is
    /// already pushed).
    pub(crate) fn model_arrive(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        let arrival = match &mut self.components[to.index()] {
            Component::ModelServer(m) => m.arrive(now, req, counted),
            Component::LlmServer(m) => m.arrive(now, req, counted),
            _ => {
                crate::simulation::misrouted();
                return;
            }
        };
        if self.queued_or_refused(req, arrival) {
            self.model_pump(to);
        }
    }

    /// What an arrival at a model server (either mode) became: `true` if it
    /// waits; a refused one is answered with its error at once.
    pub(crate) fn queued_or_refused(&mut self, req: RequestId, arrival: Arrival) -> bool {
        let outcome = match arrival {
            Arrival::Queued => return true,
            Arrival::Dropped => Outcome::Dropped,
            Arrival::Down => Outcome::Failed,
        };
        self.requests[req].outcome = outcome;
        self.respond(req);
        false
    }

    /// Starts every batch (or, in LLM mode, iteration) that can start now
    /// on an idle slot, and asks for a wake-up at the next batching deadline
    /// or the end of the model load: one loop for both modes, which differ
    /// only in their scheduling rule (`next`) and their events.
    pub(crate) fn model_pump(&mut self, server: ComponentId) {
        let now = self.sched.now();
        loop {
            let (step, llm) = match &mut self.components[server.index()] {
                Component::ModelServer(m) => (m.next(now), false),
                Component::LlmServer(m) => (m.next(now), true),
                _ => {
                    crate::simulation::misrouted();
                    return;
                }
            };
            match step {
                Step::Start { slot, after } => {
                    let done = if llm {
                        Event::Llm(LlmEvent::IterationDone { server, slot })
                    } else {
                        Event::BatchDone { server, slot }
                    };
                    self.sched.schedule_in(after, done);
                }
                Step::WakeAt(at) => {
                    let wake = if llm {
                        Event::Llm(LlmEvent::Wake { server })
                    } else {
                        Event::BatchWake { server }
                    };
                    self.sched.schedule_at(at, wake);
                    break;
                }
                Step::Idle => break,
            }
        }
    }

    /// A batching deadline (or the end of the model load) has come.
    pub(crate) fn model_wake(&mut self, server: ComponentId) {
        if let Component::ModelServer(m) = &mut self.components[server.index()] {
            m.woke();
        }
        self.model_pump(server);
    }

    /// The batch on `slot` ends: every request in it is answered, then the
    /// slot is freed (it stays busy while answering, so a request that comes
    /// straight back cannot join the finished batch).
    pub(crate) fn model_batch_done(&mut self, server: ComponentId, slot: u32) {
        let now = self.sched.now();
        let mut i = 0;
        loop {
            let Component::ModelServer(m) = &self.components[server.index()] else {
                crate::simulation::misrouted();
                return;
            };
            let Some(w) = m.batch(slot).get(i) else {
                break;
            };
            let req = w.req;
            self.respond(req);
            i += 1;
        }
        if let Component::ModelServer(m) = &mut self.components[server.index()] {
            m.release(now, slot);
        }
        self.model_pump(server);
    }
}
