//! The validated description of a replica group, in its two spec forms: a
//! deployment (replicas of a leaf server kept inside the group, placed on
//! hosts optionally) and a group of components (replicas of any kind, each a
//! component of its own). Both say what replicas run on (VMs or containers,
//! with a boot time) and how they are autoscaled; both build the one
//! `ReplicaGroup` kind.

use sysdes_kernel::{ComponentId, SimDuration};

use crate::spec::{Distribution, LbPolicy, ServerSpec};

/// A server deployed as identical replicas behind an implicit balancer.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentSpec {
    /// What each replica is: workers, service time, waiting room.
    pub server: ServerSpec,
    /// Replicas at time zero (ready at once, no boot).
    pub replicas: u32,
    /// How the implicit balancer picks a ready replica (`round_robin`,
    /// `random`, `least_outstanding` or `power_of_two`).
    pub balance: LbPolicy,
    /// What a replica runs on; decides how long a new replica boots.
    pub runs_on: RunsOn,
    /// Cores each replica requests (placement bookkeeping: CPU is
    /// compressible, so hosts may be overcommitted and then share by
    /// processor sharing).
    pub cpu: f64,
    /// Memory each replica needs on its host, bytes (a hard limit).
    pub memory: u64,
    /// Index into [`crate::ModelSpec::hosts`] of the pool the replicas are
    /// placed on; `None` gives every replica dedicated CPUs.
    pub host: Option<usize>,
    /// Horizontal autoscaling, if any.
    pub autoscaler: Option<AutoscalerSpec>,
}

/// Replicas of any component kind (a model server, a cache, a server that
/// makes calls) behind an implicit balancer: each replica is a component of
/// its own (`NAME[i]`), booted on a VM or container, optionally autoscaled.
/// Leaf servers use [`DeploymentSpec`] instead, which can also share hosts.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpec {
    /// Every replica that can ever run (the autoscaler's `max`, or
    /// `replicas`), each a component of the replicated kind.
    pub members: Vec<ComponentId>,
    /// Replicas at time zero (ready at once, no boot): the first members.
    pub replicas: u32,
    /// How the implicit balancer picks a ready replica.
    pub balance: LbPolicy,
    /// What a replica runs on; decides how long a new replica boots.
    pub runs_on: RunsOn,
    /// Extra boot time per new replica, e.g. a model server's model load.
    pub extra_boot: Option<Distribution>,
    /// Horizontal autoscaling, if any.
    pub autoscaler: Option<AutoscalerSpec>,
}

/// The runtime a replica runs on.
#[derive(Clone, Debug, PartialEq)]
pub struct RunsOn {
    /// A virtual machine or a container.
    pub kind: RuntimeKind,
    /// Time from the scale-up decision until the new replica serves.
    pub boot_time: Distribution,
}

/// Virtual machine or container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// A virtual machine (default boot time lognormal, median 60 s).
    Vm,
    /// A container (default boot time lognormal, median 2 s).
    Container,
}

impl RuntimeKind {
    /// The default boot time of this runtime: log-normal with median 60 s
    /// (VM) or 2 s (container), sigma 0.25.
    pub fn default_boot_time(self) -> Distribution {
        let median_ns = match self {
            RuntimeKind::Vm => 60e9,
            RuntimeKind::Container => 2e9,
        };
        Distribution::LogNormal {
            median_ns,
            sigma: 0.25,
        }
    }

    /// `vm` or `container`, as in the scenario file.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Vm => "vm",
            RuntimeKind::Container => "container",
        }
    }
}

/// What the autoscaler measures, averaged over ready replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleMetric {
    /// Busy workers / workers, time-averaged over the last interval.
    Utilization,
    /// Requests inside a replica (waiting or in service), time-averaged over
    /// the last interval.
    QueueLength,
}

/// A Kubernetes HPA-style autoscaler (see [`crate::autoscaler`]).
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerSpec {
    /// The measured metric.
    pub metric: ScaleMetric,
    /// Its target value per ready replica.
    pub target: f64,
    /// Time between two evaluations.
    pub interval: SimDuration,
    /// Fewest replicas (at least 1).
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Scale-down takes the highest recommendation within this window.
    pub scale_down_stabilization: SimDuration,
    /// No change while `|metric / target - 1|` is at most this.
    pub tolerance: f64,
}

/// A pool of identical hosts that replicas are placed on.
#[derive(Clone, Debug, PartialEq)]
pub struct HostPoolSpec {
    /// The pool's name (`host: NAME` on a component).
    pub name: String,
    /// Number of hosts.
    pub count: u32,
    /// Cores per host, shared by processor sharing.
    pub cores: u32,
    /// Memory per host, bytes.
    pub memory: u64,
    /// How replicas are placed on the pool's hosts.
    pub placement: Placement,
}

/// Placement of a new replica on a pool's hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The host with the fewest replicas (then the most free memory, then the
    /// lowest index) that has room: spreads load, as Kubernetes' default
    /// scoring does.
    Spread,
    /// The lowest-numbered host with room: packs hosts (bin packing).
    FirstFit,
}
