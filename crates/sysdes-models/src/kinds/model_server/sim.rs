//! The engine's side of a model server, whatever its scheduling policy:
//! arrivals queue, batches (or, under the LLM policy, iterations) are
//! scheduled on free slots, and the requests a batch or iteration finishes
//! are answered when it ends. The policies' rules live in
//! `crate::kinds::model_server` (batching) and `llm.rs` / `llm_sched.rs`
//! (LLM serving); this file only dispatches to them.

use crate::figures::{ComponentType, KindFigures};
use crate::kinds::model_server::llm::{LlmServer, LlmServerSpec};
use crate::kinds::model_server::{Arrival, ModelServer, ModelServerSpec, Step};
use crate::kinds::{BuildCtx, BuildFrom, Kind, ModelServerId};
use crate::request::{Outcome, RequestId};
use crate::simulation::llm_server::LlmEvent;
use crate::simulation::{Event, Simulation};
use crate::station::{BusyArea, FaultState, StationMetrics};

kind_events! {
    /// A model server's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    model_server_events {
        /// A model server's batch on `slot` ends.
        BatchDone { server: crate::kinds::ModelServerId, slot: u32 } => model_batch_done @ server,
        /// A model server's batching deadline (or model load) comes.
        BatchWake { server: crate::kinds::ModelServerId } => model_wake @ server,
        /// An LLM model server's timers (see `llm_sim.rs`).
        Llm(ev: crate::kinds::model_server::llm_sim::LlmEvent) => llm_event,
    }
}

/// A model server: one kind (`model_server` in results) whose state is its
/// scheduling policy's. Both policies have the same shape (a FIFO queue,
/// slots, a fault state and a busy meter); they differ in what a slot runs.
/// Both boxed: the states are large (0.8 and 1.3 KB) and unequal.
#[derive(Debug)]
pub(crate) enum ModelPolicy {
    /// Batches of up to `max_batch` requests, answered when the batch ends.
    Batching(Box<ModelServer>),
    /// LLM serving: prefill and decode iterations, each request answered
    /// when its last token is out.
    Llm(Box<LlmServer>),
}

/// Runs `$e` with `$m` bound to the policy's state, whichever it is.
macro_rules! either {
    ($policy:expr, $m:ident => $e:expr) => {
        match $policy {
            ModelPolicy::Batching($m) => $e,
            ModelPolicy::Llm($m) => $e,
        }
    };
}

impl ModelPolicy {
    /// A replica of a group starts with its model loaded.
    pub(crate) fn preloaded(&mut self) {
        either!(self, m => m.preloaded())
    }
}

impl Simulation {
    /// What an arrival at a model server became: `true` if it waits; a
    /// refused one is answered with its error at once.
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

    /// Starts every batch (or iteration) that can start now on an idle
    /// slot, and asks for a wake-up at the next batching deadline or the
    /// end of the model load: one loop for both policies, which differ only
    /// in their rule (`next`) and their events' names.
    pub(crate) fn model_pump(&mut self, server: ModelServerId) {
        let now = self.sched.now();
        loop {
            let (step, llm) = match &mut self.components[server] {
                ModelPolicy::Batching(m) => (m.next(now), false),
                ModelPolicy::Llm(m) => (m.next(now), true),
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
    pub(crate) fn model_wake(&mut self, server: ModelServerId) {
        either!(&mut self.components[server], m => m.woke());
        self.model_pump(server);
    }

    /// The batch (or iteration) on `slot` ends: the requests it finished
    /// are answered, then the slot is freed (it stays busy while answering,
    /// so a request that comes straight back cannot join the finished
    /// batch; under the LLM policy it waits for the next iteration boundary
    /// like any other arrival).
    pub(crate) fn model_batch_done(&mut self, server: ModelServerId, slot: u32) {
        let now = self.sched.now();
        if let ModelPolicy::Llm(m) = &mut self.components[server] {
            m.iteration_done(now, slot);
            // A prefill server's handed-off requests land after their KV
            // transfers.
            for i in 0..m.sent().len() {
                let ModelPolicy::Llm(m) = &self.components[server] else {
                    break;
                };
                let at = m.sent()[i];
                self.sched
                    .schedule_at(at, Event::Llm(LlmEvent::KvLanded { server, slot }));
            }
        }
        let mut i = 0;
        loop {
            let req = match &self.components[server] {
                ModelPolicy::Batching(m) => m.batch(slot).get(i).map(|w| w.req),
                ModelPolicy::Llm(m) => m.done().get(i).copied(),
            };
            let Some(req) = req else {
                break;
            };
            self.respond(req);
            i += 1;
        }
        either!(&mut self.components[server], m => m.release(now, slot));
        self.model_pump(server);
    }
}

impl Kind for ModelPolicy {
    type Spec = ModelServerSpec;

    fn build(ctx: &mut BuildCtx<'_>, m: &Self::Spec) -> Result<Self, crate::error::BuildError> {
        ModelServer::new(
            m,
            ctx.stream("batch_time"),
            ctx.stream("cold_start"),
            ctx.window.0,
            ctx.window.1,
        )
        .map(|s| ModelPolicy::Batching(Box::new(s)))
        .map_err(|e| ctx.invalid(e))
    }

    fn station(&self) -> &StationMetrics {
        either!(self, m => &m.metrics)
    }

    fn result_type(&self) -> (ComponentType, u32) {
        (ComponentType::ModelServer, either!(self, m => m.slots()))
    }

    fn utilization(&self, _: u32) -> f64 {
        either!(self, m => m.utilization())
    }

    fn kind_figures(&self) -> KindFigures {
        match self {
            ModelPolicy::Batching(m) => KindFigures::Batching(m.figures()),
            ModelPolicy::Llm(m) => KindFigures::Llm(Box::new(m.figures())),
        }
    }

    fn fault_state(&mut self) -> Option<&mut FaultState> {
        Some(either!(self, m => &mut m.faults))
    }

    fn lost_in_crash(&self) -> Option<u64> {
        let f = either!(self, m => &m.faults);
        f.crashable.then_some(f.lost_in_crash)
    }

    fn busy_area_mut(&mut self) -> Option<(&mut Option<BusyArea>, u32)> {
        either!(self, m => {
            let slots = m.slots();
            Some((&mut m.busy_area, slots))
        })
    }

    fn backlog(&self) -> Option<(usize, u32, &'static str)> {
        either!(self, m => Some((m.queue_len(), m.slots(), "slot")))
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.queue"));
        out.push(format!("{name}.batch_size"));
        if let ModelPolicy::Llm(m) = self
            && m.kv_utilization_now().is_some()
        {
            out.push(format!("{name}.kv_utilization"));
        }
    }

    fn gauges(&self, _: sysdes_kernel::SimTime, out: &mut Vec<f64>) {
        either!(self, m => {
            out.push(m.queue_len() as f64);
            out.push(m.take_interval_batch_size());
        });
        if let ModelPolicy::Llm(m) = self
            && let Some(u) = m.kv_utilization_now()
        {
            out.push(u);
        }
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: ModelServerId, req: RequestId) {
        let now = sim.sched.now();
        let (counted, trace, workload, key) = {
            let r = &sim.requests[req];
            (r.counted, r.trace, r.workload, r.key)
        };
        if let ModelPolicy::Llm(m) = &mut sim.components[at] {
            m.set_arriving_key(key);
        }
        if trace > 0 {
            if let ModelPolicy::Llm(m) = &mut sim.components[at] {
                m.set_trace_tokens(sim.workloads[workload as usize].trace_tokens(trace));
            }
        }
        if let ModelPolicy::Llm(m) = &mut sim.components[at]
            && m.is_decode()
            && let Some(p) = sim.llm_handoffs.take(req, sim.requests.generation(req))
        {
            let arrival = m.arrive_handed_off(now, req, p);
            if sim.queued_or_refused(req, arrival) {
                sim.model_pump(at);
            }
            return;
        }
        let arrival = either!(&mut sim.components[at], m => m.arrive(now, req, counted));
        if sim.queued_or_refused(req, arrival) {
            sim.model_pump(at);
        }
    }

    fn crash(sim: &mut Simulation, at: ModelServerId) {
        let now = sim.sched.now();
        let mut lost = Vec::new();
        either!(&mut sim.components[at], m => m.crash(now, &mut lost));
        sim.fail_all(lost);
    }

    fn restart(sim: &mut Simulation, at: ModelServerId) {
        let now = sim.sched.now();
        either!(&mut sim.components[at], m => m.restart(now));
    }
}

/// A model server in LLM mode is the same kind under the LLM policy.
impl BuildFrom<LlmServerSpec> for ModelPolicy {
    fn build_from(
        ctx: &mut BuildCtx<'_>,
        m: &LlmServerSpec,
    ) -> Result<Self, crate::error::BuildError> {
        LlmServer::new(
            m,
            ctx.stream("prompt_tokens"),
            ctx.stream("output_tokens"),
            ctx.stream("cold_start"),
            ctx.window.0,
            ctx.window.1,
        )
        .map(|s| ModelPolicy::Llm(Box::new(s)))
        .map_err(|e| ctx.invalid(e))
    }
}
