//! The engine side of a load balancer: pick a backend and send on (the
//! answer comes back through `Simulation::response_arrives`, which records
//! the balancer's latency and outstanding counts).

use sysdes_kernel::ComponentId;

use crate::request::RequestId;
use crate::simulation::{Component, Simulation};
use crate::station::ACTIVE;

impl Simulation {
    pub(crate) fn balance(&mut self, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let Component::LoadBalancer(lb) = &mut self.components[to.index()] else {
            crate::simulation::misrouted();
            return;
        };
        let r = &mut self.requests[req];
        if r.counted {
            lb.metrics.arrivals += 1;
        }
        lb.metrics.levels.add(now, ACTIVE, 1);
        let (choice, backend) = lb.choose(r.key);
        if let Some(hop) = r.hops.last_mut() {
            hop.choice = choice;
        }
        self.send(to.index(), backend, req);
    }
}
