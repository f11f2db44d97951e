//! The engine side of a load balancer: pick a backend and send on (the
//! answer comes back through `Simulation::response_arrives`, which records
//! the balancer's latency and outstanding counts).

use crate::kinds::LoadBalancerId;
use crate::request::RequestId;
use crate::simulation::Simulation;
use crate::station::ACTIVE;

use super::SHADOW_TAG;

impl Simulation {
    pub(crate) fn balance(&mut self, to: LoadBalancerId, req: RequestId) {
        let now = self.sched.now();
        let lb = &mut self.components[to];
        let r = &mut self.requests[req];
        if r.counted {
            lb.metrics.arrivals += 1;
        }
        lb.metrics.levels.add(now, ACTIVE, 1);
        let (choice, backend) = lb.choose(r.key, now);
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
        Ok(crate::kinds::load_balancer::LoadBalancer::new(
            lb.policy,
            lb.backends.clone(),
            &names,
            &lb.routing,
            ctx.stream("balance"),
            ctx.stream("shadow"),
            ctx.metrics(),
        ))
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

    /// A shadow copy's answer is back: dropped (nobody waits for it).
    fn call_returned(
        _sim: &mut Simulation,
        _caller: LoadBalancerId,
        _parent: Option<RequestId>,
        _child: RequestId,
        tag: u32,
    ) {
        debug_assert_eq!(tag, SHADOW_TAG);
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
        // The engine calls this only with the balancer's own hop on top.
        let (counted, Some(hop)) = (r.counted, r.hops.last().copied()) else {
            return;
        };
        let lb = &mut sim.components[at];
        lb.responded(hop.choice);
        let m = &mut lb.metrics;
        if counted {
            m.completions += 1;
            m.latency.record(now - hop.entered);
        }
        m.levels.add(now, ACTIVE, -1);
    }
}
