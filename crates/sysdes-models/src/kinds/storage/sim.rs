//! The engine side of a storage component: admission at the IOPS gate,
//! the way to the shared lanes and the answer.

use crate::kinds::StorageId;
use crate::kinds::storage::{Admit, Storage};
use crate::request::{Op, Outcome, RequestId};
use crate::simulation::{Event, Simulation};

kind_events! {
    /// A storage tier's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    storage_events {
        /// A storage operation reaches the shared lanes, or is answered
        /// (`done`).
        Storage {
            storage: crate::kinds::StorageId,
            req: crate::request::RequestId,
            done: bool,
        } => storage_event @ storage,
    }
}

impl Simulation {
    /// The bytes `req` moves at `storage`: its `object_size`, else the
    /// request's trace record's or workload's size (`request_size` for a
    /// write, `response_size` for a read).
    fn storage_bytes(&self, storage: StorageId, req: RequestId) -> u64 {
        let s = &self.components[storage];
        let r = &self.requests[req];
        if !s.sized_by_request() {
            return s.bytes(|| 0);
        }
        let traced = self.workloads[r.workload as usize].trace_bytes(r.trace);
        let me = self.components.id(storage).0;
        if r.op == Op::Write {
            // No component's own `request_size`: the payload is the caller's.
            self.network.request_bytes(u32::MAX, r.workload, traced.0)
        } else {
            self.network.response_bytes(me, r.workload, traced.1)
        }
    }

    fn storage_arrive(&mut self, at: StorageId, req: RequestId) {
        let now = self.sched.now();
        let bytes = self.storage_bytes(at, req);
        let r = &self.requests[req];
        let (counted, write) = (r.counted, r.op == Op::Write);
        match self.components[at].arrive(now, write, bytes, counted) {
            Admit::Throttled => {
                self.requests[req].outcome = Outcome::Dropped;
                self.respond(req);
            }
            Admit::Done { after } => self.sched.schedule_in(
                after,
                Event::Storage {
                    storage: at,
                    req,
                    done: true,
                },
            ),
            Admit::ToPipe { after } => self.sched.schedule_in(
                after,
                Event::Storage {
                    storage: at,
                    req,
                    done: false,
                },
            ),
        }
    }

    /// A storage component's event: `req` reaches the shared lanes
    /// (`done` false) or is answered (`done` true).
    pub(crate) fn storage_event(&mut self, storage: StorageId, req: RequestId, done: bool) {
        let now = self.sched.now();
        if !done {
            let bytes = self.storage_bytes(storage, req);
            let after = self.components[storage].at_pipe(now, bytes);
            self.sched.schedule_in(
                after,
                Event::Storage {
                    storage,
                    req,
                    done: true,
                },
            );
            return;
        }
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        self.components[storage].done(now, entered, counted);
        self.respond(req);
    }
}

impl crate::kinds::Kind for Storage {
    type Spec = crate::kinds::storage::StorageSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        s: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        Storage::new(s, ctx.stream("latency"), ctx.metrics(), ctx.window)
            .map_err(|e| ctx.invalid(e))
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    /// One limit (IOPS or shared bandwidth) to divide by, or none: a tier
    /// without limits has no utilization.
    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (
            crate::figures::ComponentType::Storage,
            u32::from(self.limited()),
        )
    }

    /// The busier of the IOPS limit and the shared bandwidth (see
    /// [`Storage::utilization`]).
    fn utilization(&self, _capacity: u32) -> f64 {
        Storage::utilization(self)
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Storage(self.figures())
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: StorageId, req: RequestId) {
        sim.storage_arrive(at, req);
    }
}
