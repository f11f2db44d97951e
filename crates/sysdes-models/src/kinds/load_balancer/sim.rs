//! The engine side of a load balancer: pick a backend and send on (the
//! answer comes back through `Simulation::response_arrives`, which records
//! the balancer's latency and outstanding counts).

use sysdes_kernel::SimTime;

use crate::kinds::LoadBalancerId;
use crate::request::{NO_SESSION, NewRequest, Op, Origin, Outcome, RequestId};
use crate::simulation::{Event, Simulation};
use crate::station::ACTIVE;

use super::SHADOW_TAG;

impl Simulation {
    pub(crate) fn balance(&mut self, to: LoadBalancerId, req: RequestId) {
        let now = self.sched.now();
        // LLM-aware routing reads the replicas' KV state first (typed
        // queries, nothing allocated); the choice is recorded below.
        let llm = self.components[to].llm.as_ref().map(|route| {
            let components = &self.components;
            let backends = components[to].backends();
            route.pick(self.requests[req].key, |i| components.kv_load(backends[i]))
        });
        let lb = &mut self.components[to];
        if let Some(h) = &mut lb.health
            && let Some(i) = h.probe.iter().position(|&p| p == Some(req))
        {
            h.probes += 1;
            let backend = lb.backend(i);
            if let Some(hop) = self.requests[req].hops.last_mut() {
                hop.choice = i as u32;
            }
            self.send(self.components.id(to).index(), backend, req);
            return;
        }
        let r = &mut self.requests[req];
        if r.counted {
            lb.metrics.arrivals += 1;
        }
        lb.metrics.levels.add(now, ACTIVE, 1);
        let (choice, backend) = match (llm, &mut lb.llm) {
            (Some((i, moved)), Some(route)) => {
                route.routed(r.key, i, moved, r.counted);
                lb.chosen(i)
            }
            _ => lb.choose(r.key, now),
        };
        let shadow = lb.shadow_copy(r.counted);
        if let Some(hop) = r.hops.last_mut() {
            hop.choice = choice;
        }
        let sender = self.components.id(to);
        // The copy first: `send` may deliver (and even answer) at once,
        // while a call always goes through an event.
        if let Some(target) = shadow {
            self.call(sender, target, req, SHADOW_TAG);
        }
        self.send(sender.index(), backend, req);
    }
}

impl Simulation {
    /// A probe of backend `index` of balancer `at` is answered: a success
    /// puts the backend back; a failure probes again after the interval.
    fn probe_answered(&mut self, at: LoadBalancerId, index: usize, probe: RequestId, failed: bool) {
        let now = self.sched.now();
        let lb = &mut self.components[at];
        let Some(h) = &mut lb.health else {
            return;
        };
        if !h.out[index] {
            return;
        }
        if failed {
            let (next, window_end) = (now + h.interval, h.window_end);
            self.requests[probe].outcome = Outcome::Ok;
            self.schedule_probe(at, probe, next, window_end);
            return;
        }
        h.out[index] = false;
        h.failed_in_row[index] = 0;
        lb.set_ejected(index, false);
    }

    /// Sends `probe` back to balancer `at` at `when`, unless that is past
    /// the measurement window (the run must drain; the backend then stays
    /// out).
    fn schedule_probe(
        &mut self,
        at: LoadBalancerId,
        probe: RequestId,
        when: SimTime,
        end: SimTime,
    ) {
        if when < end {
            let to = self.components.id(at);
            self.sched
                .schedule_at(when, Event::Deliver { to, req: probe });
        }
    }
}

impl crate::kinds::Kind for crate::kinds::load_balancer::LoadBalancer {
    type Spec = crate::spec::LoadBalancerSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        lb: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        if lb.backends.is_empty() {
            return Err(ctx.invalid("a load balancer needs a backend".into()));
        }
        let names: Vec<&str> = lb
            .backends
            .iter()
            .map(|b| ctx.spec.components[b.index()].name.as_str())
            .collect();
        let llm = if lb.policy.llm_aware() {
            let route = super::llm_route::LlmRoute::new(
                lb.policy,
                &lb.backends,
                ctx.spec,
                lb.routing.affinity_max_waiting,
            )
            .map_err(|e| ctx.invalid(e))?;
            Some(route)
        } else {
            None
        };
        let mut state = crate::kinds::load_balancer::LoadBalancer::new(
            lb.policy,
            lb.backends.clone(),
            &names,
            &lb.routing,
            (ctx.stream("balance"), ctx.stream("shadow")),
            ctx.metrics(),
            ctx.window.1,
        );
        state.llm = llm;
        Ok(state)
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        self.figures()
            .map_or(crate::figures::KindFigures::None, |f| {
                crate::figures::KindFigures::Balancer(f)
            })
    }

    /// A shadow copy's answer is back: dropped (nobody waits for it). Any
    /// other child answer reaching a balancer is an engine bug.
    fn call_returned(
        _sim: &mut Simulation,
        _caller: LoadBalancerId,
        _parent: Option<RequestId>,
        _child: RequestId,
        tag: u32,
    ) {
        if tag != SHADOW_TAG {
            crate::simulation::misrouted();
        }
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::LoadBalancer, 0)
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: LoadBalancerId, req: RequestId) {
        sim.balance(at, req);
    }

    /// The balancer records the answer's latency and what the backend has
    /// outstanding.
    #[inline]
    fn answered(sim: &mut Simulation, at: LoadBalancerId, req: RequestId) {
        let now = sim.sched.now();
        let r = &sim.requests[req];
        let (counted, hop) = (r.counted, r.hops.last().copied());
        // Only errors count against a backend in traffic (a full queue is
        // overload, not ill health: see the docs); a probe puts it back
        // only when it is answered, not refused.
        let (failed, probe_ok) = (r.outcome == Outcome::Failed, r.outcome == Outcome::Ok);
        // The engine calls this only with the balancer's own hop on top.
        let Some(hop) = hop else {
            return;
        };
        let lb = &mut sim.components[at];
        let index = hop.choice as usize;
        if lb
            .health
            .as_ref()
            .is_some_and(|h| h.probe[index] == Some(req))
        {
            sim.probe_answered(at, index, req, !probe_ok);
            return;
        }
        lb.responded(hop.choice);
        let m = &mut lb.metrics;
        if counted {
            m.completions += 1;
            m.latency.record(now - hop.entered);
        }
        m.levels.add(now, ACTIVE, -1);
        let Some(h) = &mut lb.health else {
            return;
        };
        if !failed {
            h.failed_in_row[index] = 0;
            return;
        }
        h.failed_in_row[index] = h.failed_in_row[index].saturating_add(1);
        if h.failed_in_row[index] != h.failures || h.out[index] {
            return;
        }
        // The N-th failure in a row: eject, and probe after `interval`.
        h.ejections += 1;
        h.out[index] = true;
        let (interval, window_end, probe) = (h.interval, h.window_end, h.probe[index]);
        lb.set_ejected(index, true);
        // One probe request per backend, made at its first ejection and
        // kept for the run (never freed: a response to it may still be on
        // its way back when the backend is put back).
        let probe = probe.unwrap_or_else(|| {
            let (workload, priority) = (sim.requests[req].workload, sim.requests[req].priority);
            let p = sim.requests.insert(NewRequest {
                workload,
                born: now,
                key: index as u64,
                op: Op::Read,
                session: NO_SESSION,
                counted: false,
                origin: Origin::Internal,
                priority,
            });
            if let Some(h) = &mut sim.components[at].health {
                h.probe[index] = Some(p);
            }
            p
        });
        sim.schedule_probe(at, probe, now + interval, window_end);
    }
}
