//! The `cache` component in the engine: hits answered locally, misses and
//! writes sent to the backend with [`Simulation::call`], fills when the
//! backend's answer returns.
//!
//! ```text
//!  read  ─► lookup ─ hit ──► hit_time (or a worker's queue) ─► answer
//!                  └ miss ─► call backend ─► answer returns ─► fill key ─► answer
//!  write ─► (invalidate: delete key) ─► call backend ─► (write_through: store version) ─► answer
//! ```
//!
//! The request a cache holds stays on its hop until the cache answers it;
//! the backend sees a child request with the same key and operation.
//!
//! A `crash` fault empties the cache: while it is down every read misses
//! and goes to the backend, answers fill nothing, and it restarts cold.
//! Nothing fails (a cache-aside client falls back to the backend). A
//! `slowdown` stretches hit times. Both act on the one shared
//! [`crate::station::FaultState`].

use crate::kinds::CacheId;
use crate::kinds::cache::CacheWrites;
use crate::kinds::server::Admission;
use crate::request::{Op, Outcome, RequestId};
use crate::simulation::{Event, Simulation};
use crate::station::{ACTIVE, WAITING};

kind_events! {
    /// A cache's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    cache_events {
        /// A cache has served a hit.
        CacheHitDone { cache: crate::kinds::CacheId, req: crate::request::RequestId }
            => cache_hit_done @ cache,
    }
}

/// Tag of a child request that fetches a missed key.
const FILL: u32 = 0;
/// Tag of a child request that forwards a write.
const WRITE: u32 = 1;

impl Simulation {
    /// A request reaches cache `to`.
    pub(crate) fn cache_arrive(&mut self, to: CacheId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (key, op, counted) = (r.key, r.op, r.counted);
        let current = self.versions.current(key);
        let from = self.components.id(to);
        let c = &mut self.components[to];
        if counted {
            c.metrics.arrivals += 1;
        }
        c.metrics.levels.add(now, ACTIVE, 1);
        let backend = c.backend;
        match op {
            Op::Read => {
                let Some(version) = c.read(key, now, current, counted) else {
                    self.call(from, backend, req, FILL);
                    return;
                };
                self.requests[req].version = version;
                match &mut c.server {
                    None => {
                        let after = c.hit_time();
                        self.sched
                            .schedule_in(after, Event::CacheHitDone { cache: to, req });
                    }
                    Some(server) => match server.arrive(now, req, counted) {
                        Admission::Serve { done_after } => {
                            self.sched
                                .schedule_in(done_after, Event::CacheHitDone { cache: to, req });
                        }
                        Admission::Queued => c.metrics.levels.add(now, WAITING, 1),
                        // Hit workers have an unbounded queue and are not
                        // crashable (faults target servers).
                        Admission::Dropped | Admission::Down => {
                            self.requests[req].outcome = Outcome::Dropped;
                            self.cache_answers(to, req);
                        }
                    },
                }
            }
            Op::Write => {
                if counted {
                    c.counts.writes += 1;
                }
                if c.writes == CacheWrites::Invalidate {
                    c.store.remove(key);
                }
                self.call(from, backend, req, WRITE);
            }
        }
    }

    /// A hit's service is over: answer it, and start the next queued hit.
    pub(crate) fn cache_hit_done(&mut self, cache: CacheId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let c = &mut self.components[cache];
        if let Some(server) = &mut c.server {
            server.record_departure(now, entered, counted);
            if let Some((next, after)) = server.release_worker(now) {
                c.metrics.levels.add(now, WAITING, -1);
                self.sched
                    .schedule_in(after, Event::CacheHitDone { cache, req: next });
            }
        }
        self.cache_answers(cache, req);
    }

    /// The backend answered a miss or a write: fill or update the entry,
    /// then answer the parent (with the backend's error, if any).
    pub(crate) fn cache_call_returned(
        &mut self,
        cache: CacheId,
        parent: Option<RequestId>,
        child: RequestId,
        tag: u32,
    ) {
        let now = self.sched.now();
        let ch = &self.requests[child];
        let (outcome, version, key) = (ch.outcome, ch.version, ch.key);
        let c = &mut self.components[cache];
        if outcome == Outcome::Ok
            && (tag == FILL || (tag == WRITE && c.writes == CacheWrites::WriteThrough))
        {
            c.fill(key, version, now);
        }
        let Some(parent) = parent else {
            return;
        };
        let p = &mut self.requests[parent];
        p.outcome = outcome;
        if outcome == Outcome::Ok {
            p.version = version;
        }
        self.cache_answers(cache, parent);
    }

    /// Cache `cache` answers `req`.
    fn cache_answers(&mut self, cache: CacheId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let m = &mut self.components[cache].metrics;
        if counted {
            m.completions += 1;
            m.latency.record(now - entered);
        }
        m.levels.add(now, ACTIVE, -1);
        self.respond(req);
    }
}

impl crate::kinds::Kind for crate::kinds::cache::Cache {
    type Spec = crate::kinds::cache::CacheSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        cache: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        crate::kinds::cache::Cache::new(
            cache,
            ctx.spec.seed,
            |purpose| ctx.stream(purpose),
            ctx.window,
        )
        .map_err(|e| ctx.invalid(e))
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    /// With `workers`, the hit workers are the capacity; without, hits
    /// take no worker and the cache has no utilization (capacity 0).
    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (
            crate::figures::ComponentType::Cache,
            self.server.as_ref().map_or(0, |s| s.workers()),
        )
    }

    /// Busy hit workers / hit workers: the hit server's busy meter (the
    /// cache's own `ACTIVE` level counts every request inside, misses
    /// waiting on the backend included, which is no utilization).
    fn utilization(&self, _capacity: u32) -> f64 {
        self.hit_worker_utilization().unwrap_or(0.0)
    }

    fn fault_state(&mut self) -> Option<&mut crate::station::FaultState> {
        Some(self.faults_mut())
    }

    fn crash(sim: &mut Simulation, at: CacheId) {
        sim.components[at].crash();
    }

    fn restart(sim: &mut Simulation, at: CacheId) {
        let now = sim.sched.now();
        sim.components[at].restart(now);
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Cache(self.figures())
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.hit_ratio"));
    }

    fn gauges(&self, _: sysdes_kernel::SimTime, out: &mut Vec<f64>) {
        out.push(self.interval_hit_ratio());
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: CacheId, req: RequestId) {
        sim.cache_arrive(at, req);
    }

    fn call_returned(
        sim: &mut Simulation,
        caller: CacheId,
        parent: Option<RequestId>,
        child: RequestId,
        tag: u32,
    ) {
        sim.cache_call_returned(caller, parent, child, tag);
    }
}
