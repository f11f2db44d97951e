//! The engine's side of a model server: arrivals queue, batches are
//! scheduled on free slots, and every request of a batch is answered when it
//! ends. The batching rule itself lives in `crate::kinds::model_server`.

use crate::kinds::model_server::{Arrival, Step};
use crate::kinds::{LlmServerId, ModelServerId};
use crate::request::{Outcome, RequestId};
use crate::simulation::llm_server::LlmEvent;
use crate::simulation::{Event, Simulation};

/// A model server in either mode: the typed id of its batching or its LLM
/// state (the scheduling policy it runs).
#[derive(Clone, Copy, Debug)]
pub(crate) enum AnyModel {
    /// A batching model server.
    ModelServer(ModelServerId),
    /// A model server in LLM mode.
    LlmServer(LlmServerId),
}

impl Simulation {
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
    pub(crate) fn model_pump(&mut self, model: AnyModel) {
        let now = self.sched.now();
        loop {
            let step = match model {
                AnyModel::ModelServer(m) => self.components[m].next(now),
                AnyModel::LlmServer(m) => self.components[m].next(now),
            };
            match step {
                Step::Start { slot, after } => {
                    let done = match model {
                        AnyModel::ModelServer(server) => Event::BatchDone { server, slot },
                        AnyModel::LlmServer(server) => {
                            Event::Llm(LlmEvent::IterationDone { server, slot })
                        }
                    };
                    self.sched.schedule_in(after, done);
                }
                Step::WakeAt(at) => {
                    let wake = match model {
                        AnyModel::ModelServer(server) => Event::BatchWake { server },
                        AnyModel::LlmServer(server) => Event::Llm(LlmEvent::Wake { server }),
                    };
                    self.sched.schedule_at(at, wake);
                    break;
                }
                Step::Idle => break,
            }
        }
    }

    /// A batching deadline (or the end of the model load) has come.
    pub(crate) fn model_wake(&mut self, server: ModelServerId) {
        self.components[server].woke();
        self.model_pump(AnyModel::ModelServer(server));
    }

    /// The batch on `slot` ends: every request in it is answered, then the
    /// slot is freed (it stays busy while answering, so a request that comes
    /// straight back cannot join the finished batch).
    pub(crate) fn model_batch_done(&mut self, server: ModelServerId, slot: u32) {
        let now = self.sched.now();
        let mut i = 0;
        loop {
            let m = &self.components[server];
            let Some(w) = m.batch(slot).get(i) else {
                break;
            };
            let req = w.req;
            self.respond(req);
            i += 1;
        }
        self.components[server].release(now, slot);
        self.model_pump(AnyModel::ModelServer(server));
    }
}

/// The `Kind` of a slotted model server: the batching one and the LLM
/// one share everything but how they are built and what they report.
macro_rules! model_kind {
    ($state:ty, $spec:ty, $variant:ident, $figures:ident, |$ctx:ident, $m:ident| $build:expr) => {
        impl crate::kinds::Kind for $state {
            type Spec = $spec;

            fn build(
                $ctx: &mut crate::kinds::BuildCtx<'_>,
                $m: &Self::Spec,
            ) -> Result<Self, crate::error::BuildError> {
                $build.map_err(|e| $ctx.invalid(e))
            }

            fn station(&self) -> &crate::station::StationMetrics {
                &self.metrics
            }

            fn result_type(&self) -> (crate::figures::ComponentType, u32) {
                (crate::figures::ComponentType::ModelServer, self.slots())
            }

            fn utilization(&self, _: u32) -> f64 {
                <$state>::utilization(self)
            }

            fn kind_figures(&self) -> crate::figures::KindFigures {
                crate::figures::KindFigures::$figures(self.figures())
            }

            fn fault_state(&mut self) -> Option<&mut crate::station::FaultState> {
                Some(&mut self.faults)
            }

            fn lost_in_crash(&self) -> Option<u64> {
                self.faults.crashable.then_some(self.faults.lost_in_crash)
            }

            fn busy_area_mut(&mut self) -> Option<(&mut Option<crate::station::BusyArea>, u32)> {
                let slots = self.slots();
                Some((&mut self.busy_area, slots))
            }

            fn backlog(&self) -> Option<(usize, u32, &'static str)> {
                Some((self.queue_len(), self.slots(), "slot"))
            }

            fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
                out.push(format!("{name}.queue"));
                out.push(format!("{name}.batch_size"));
            }

            fn gauges(&self, _: sysdes_kernel::SimTime, out: &mut Vec<f64>) {
                out.push(self.queue_len() as f64);
                out.push(self.take_interval_batch_size());
            }

            #[inline]
            fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId) {
                let now = sim.sched.now();
                let counted = sim.requests[req].counted;
                let arrival = sim.components[at].arrive(now, req, counted);
                if sim.queued_or_refused(req, arrival) {
                    sim.model_pump(AnyModel::$variant(at));
                }
            }

            fn crash(sim: &mut Simulation, at: Self::Id) {
                let now = sim.sched.now();
                let mut lost = Vec::new();
                sim.components[at].crash(now, &mut lost);
                sim.fail_all(lost);
            }

            fn restart(sim: &mut Simulation, at: Self::Id) {
                let now = sim.sched.now();
                sim.components[at].restart(now);
            }
        }
    };
}

model_kind!(
    crate::kinds::model_server::ModelServer,
    crate::kinds::model_server::ModelServerSpec,
    ModelServer,
    Batching,
    |ctx, m| crate::kinds::model_server::ModelServer::new(
        m,
        ctx.stream("batch_time"),
        ctx.stream("cold_start"),
        ctx.window.0,
        ctx.window.1,
    )
);

model_kind!(
    crate::kinds::model_server::llm::LlmServer,
    crate::kinds::model_server::llm::LlmServerSpec,
    LlmServer,
    Llm,
    |ctx, m| crate::kinds::model_server::llm::LlmServer::new(
        m,
        ctx.stream("prompt_tokens"),
        ctx.stream("output_tokens"),
        ctx.stream("cold_start"),
        ctx.window.0,
        ctx.window.1,
    )
);
