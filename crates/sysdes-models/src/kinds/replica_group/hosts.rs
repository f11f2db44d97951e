//! Host placement, an option of either form of replica group (`host:
//! POOL`): the pools' hosts, where a new replica goes, and a shared host's
//! CPU, on which its replicas' work runs by processor sharing (a station's
//! service, or a server replica's own work before its calls).

use sysdes_kernel::{SimDuration, SimTime, TimerId};
use sysdes_stats::TimeAverage;

use crate::host::ProcessorSharing;
use crate::kinds::replica_group::spec::{HostPoolSpec, Placement};
use crate::kinds::{ReplicaGroupId, ServerId};
use crate::request::RequestId;
use crate::simulation::{Event, Simulation};
use crate::spec::ModelSpec;

use super::sim::DeployEvent;

/// A request in service on a shared host, and whose work it is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum HostJob {
    /// A station of a deployment serves it.
    Station {
        group: ReplicaGroupId,
        req: RequestId,
    },
    /// A server replica (a component of its own) does its own work on it.
    Server { server: ServerId, req: RequestId },
}

/// One host of a pool: its CPU (processor sharing over its cores) and its
/// memory.
#[derive(Debug)]
pub(crate) struct HostRuntime {
    ps: ProcessorSharing<HostJob>,
    /// The timer of the earliest completion, and when it is due.
    timer: Option<(TimerId, SimTime)>,
    memory_free: u64,
    replicas: u32,
    placement: Placement,
    /// Busy cores over the window.
    busy: TimeAverage<1>,
}

impl HostRuntime {
    /// A replica needing `memory` is placed here.
    pub(crate) fn take(&mut self, memory: u64) {
        self.memory_free -= memory;
        self.replicas += 1;
    }

    /// A replica that needed `memory` is gone from here.
    pub(crate) fn release(&mut self, memory: u64) {
        self.memory_free += memory;
        self.replicas -= 1;
    }
}

/// Builds the hosts of every pool, pools in order, hosts of a pool adjacent.
pub(crate) fn build_hosts(spec: &ModelSpec, start: SimTime, end: SimTime) -> Vec<HostRuntime> {
    let mut hosts = Vec::new();
    for pool in &spec.hosts {
        for _ in 0..pool.count {
            hosts.push(HostRuntime {
                ps: ProcessorSharing::new(pool.cores),
                timer: None,
                memory_free: pool.memory,
                replicas: 0,
                placement: pool.placement,
                busy: TimeAverage::new(start, end),
            });
        }
    }
    hosts
}

/// The global index of the first host of pool `pool`, and the pool's size.
pub(crate) fn pool_range(pools: &[HostPoolSpec], pool: usize) -> (u32, u32) {
    let first: u32 = pools[..pool].iter().map(|p| p.count).sum();
    (first, pools[pool].count)
}

/// A host of `pool` with `memory` free, by the pool's placement rule.
pub(crate) fn pick_host(
    hosts: &[HostRuntime],
    (first, count): (u32, u32),
    memory: u64,
) -> Option<u32> {
    let range = first as usize..(first + count) as usize;
    let fits = |h: &&HostRuntime| h.memory_free >= memory;
    match hosts.get(first as usize).map(|h| h.placement) {
        Some(Placement::FirstFit) => hosts[range.clone()].iter().position(|h| fits(&h)),
        Some(Placement::Spread) => hosts[range.clone()]
            .iter()
            .enumerate()
            .filter(|(_, h)| fits(h))
            .min_by_key(|(i, h)| (h.replicas, std::cmp::Reverse(h.memory_free), *i))
            .map(|(i, _)| i),
        None => None,
    }
    .map(|i| first + i as u32)
}

/// Busy cores over cores of `hosts`, time-averaged over the window.
pub(crate) fn pool_utilization(hosts: &[HostRuntime]) -> f64 {
    let cores: f64 = hosts.iter().map(|h| f64::from(h.ps.cores())).sum();
    let busy: f64 = hosts.iter().map(|h| h.busy.mean(0)).sum();
    busy / cores
}

impl Simulation {
    /// Runs `work` as `job` on shared host `host`.
    pub(crate) fn host_add(&mut self, host: u32, job: HostJob, work: SimDuration) {
        let now = self.sched.now();
        let h = &mut self.hosts[host as usize];
        h.ps.add(now, work, job);
        h.busy.set(now, [u64::from(h.ps.busy_cores())]);
        self.host_reschedule(host);
    }

    /// The earliest job on `host` is due: it completes, and the job (if
    /// any) is returned to its replica.
    pub(crate) fn host_done(&mut self, host: u32) -> Option<HostJob> {
        let now = self.sched.now();
        let h = &mut self.hosts[host as usize];
        h.timer = None;
        let job = h.ps.complete(now);
        h.busy.set(now, [u64::from(h.ps.busy_cores())]);
        self.host_reschedule(host);
        job
    }

    /// Moves host `host`'s completion timer to its earliest completion.
    fn host_reschedule(&mut self, host: u32) {
        let now = self.sched.now();
        let h = &mut self.hosts[host as usize];
        let next = h.ps.next_completion(now);
        match (h.timer, next) {
            (Some((_, due)), Some(at)) if due == at => {}
            (old, next) => {
                if let Some((timer, _)) = old {
                    self.sched.cancel(timer);
                }
                h.timer = next.map(|at| {
                    (
                        self.sched
                            .schedule_timer_at(at, Event::Deploy(DeployEvent::HostDone { host })),
                        at,
                    )
                });
            }
        }
    }
}
