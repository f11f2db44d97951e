//! The engine side of a DNS component: route each request by its client's
//! cache, and run the health checks on their own timer.

use crate::kinds::DnsId;
use crate::kinds::dns::Dns;
use crate::request::RequestId;
use crate::simulation::{Event, Simulation};
use crate::station::ACTIVE;

kind_events! {
    /// A DNS name's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    dns_events {
        /// A DNS name's health check.
        DnsCheck { dns: crate::kinds::DnsId } => dns_check @ dns,
    }
}

impl Simulation {
    fn dns_arrive(&mut self, at: DnsId, req: RequestId) {
        let now = self.sched.now();
        let counted = self.requests[req].counted;
        let d = &mut self.components[at];
        if counted {
            d.metrics.arrivals += 1;
        }
        d.metrics.levels.add(now, ACTIVE, 1);
        let target = d.route(now, counted);
        let sender = self.components.id(at).index();
        self.send(sender, target, req);
    }

    /// Schedules every DNS component's first health check.
    pub(crate) fn dns_start(&mut self) {
        for i in 0..self.components.dns.items.len() {
            let d = &self.components.dns.items[i];
            let first = sysdes_kernel::SimTime::ZERO + d.interval;
            if first < d.window_end {
                self.sched.schedule_at(
                    first,
                    Event::DnsCheck {
                        dns: DnsId(i as u32),
                    },
                );
            }
        }
    }

    /// A health check of `dns`: reads whether each record's target is down
    /// now, and schedules the next check.
    pub(crate) fn dns_check(&mut self, dns: DnsId) {
        let now = self.sched.now();
        let mut down = std::mem::take(&mut self.components[dns].down);
        for (i, flag) in down.iter_mut().enumerate() {
            let target = self.components[dns].records()[i];
            *flag = self
                .components
                .fault_state(target.index())
                .is_some_and(|f| f.crashed);
        }
        let d = &mut self.components[dns];
        d.check(now, &down);
        d.down = down;
        let next = now + d.interval;
        if next < d.window_end {
            self.sched.schedule_at(next, Event::DnsCheck { dns });
        }
    }
}

impl crate::kinds::Kind for Dns {
    type Spec = crate::kinds::dns::DnsSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        s: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        if s.records.is_empty() {
            return Err(ctx.invalid("a DNS name needs at least one record".into()));
        }
        if s.clients == 0 {
            return Err(ctx.invalid("a DNS name needs at least one client".into()));
        }
        if s.failures == 0 || s.interval.as_nanos() == 0 {
            return Err(
                ctx.invalid("DNS health checks need `failures` >= 1 and an `interval` > 0".into())
            );
        }
        if !(0.0..=1.0).contains(&s.ignore_ttl) {
            return Err(ctx.invalid(format!(
                "`ignore_ttl` must be in [0, 1], found {}",
                s.ignore_ttl
            )));
        }
        Ok(Dns::new(
            s,
            (ctx.stream("clients"), ctx.stream("warm")),
            ctx.metrics(),
            ctx.window.1,
        ))
    }

    fn station(&self) -> &crate::station::StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (crate::figures::ComponentType::Dns, 0)
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Dns(self.figures())
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: DnsId, req: RequestId) {
        sim.dns_arrive(at, req);
    }

    /// The answer passes back through the name: its latency and the
    /// requests outstanding, as a balancer records them.
    #[inline]
    fn answered(sim: &mut Simulation, at: DnsId, req: RequestId) {
        let now = sim.sched.now();
        let r = &sim.requests[req];
        let (counted, entered) = (r.counted, r.hops.last().map_or(now, |h| h.entered));
        let m = &mut sim.components[at].metrics;
        if counted {
            m.completions += 1;
            m.latency.record(now - entered);
        }
        m.levels.add(now, ACTIVE, -1);
    }
}
