//! The validated description of a replica group: one spec whose members
//! are in one of two forms, a deployment (replicas of a leaf server kept
//! inside the group) or a group of components (replicas of any kind, each a
//! component of its own). Either form says what replicas run on (VMs or
//! containers, with a boot time), how they are autoscaled and, optionally,
//! the pool of shared hosts they are placed on.

use sysdes_kernel::{ComponentId, SimDuration};

use crate::spec::{Distribution, LbPolicy, ServerSpec};

/// Identical replicas behind an implicit balancer, the one replica-group
/// spec. Its [`ReplicaMembers`] say which form it has: leaf-server replicas
/// kept inside the group (a *deployment*), or replicas that are components
/// of their own (a server with calls, a model server, a cache). Both boot
/// on a VM or container, may be autoscaled, and may be placed on a pool of
/// shared hosts.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpec {
    /// What the replicas are.
    pub members: ReplicaMembers,
    /// Replicas at time zero (ready at once, no boot): for components, the
    /// first members.
    pub replicas: u32,
    /// How the implicit balancer picks a ready replica (`round_robin`,
    /// `random`, `least_outstanding` or `power_of_two`).
    pub balance: LbPolicy,
    /// What a replica runs on; decides how long a new replica boots.
    pub runs_on: RunsOn,
    /// Extra boot time per new replica, e.g. a model server's model load.
    pub extra_boot: Option<Distribution>,
    /// Horizontal autoscaling, if any.
    pub autoscaler: Option<AutoscalerSpec>,
    /// Cores each replica requests (placement bookkeeping: CPU is
    /// compressible, so hosts may be overcommitted and then share by
    /// processor sharing).
    pub cpu: f64,
    /// Memory each replica needs on its host, bytes (a hard limit).
    pub memory: u64,
    /// Index into [`crate::ModelSpec::hosts`] of the pool the replicas are
    /// placed on; `None` gives every replica dedicated CPUs.
    pub host: Option<usize>,
}

/// What a replica group's replicas are: its form.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplicaMembers {
    /// Leaf-server replicas kept inside the group (a deployment), each one
    /// this server: workers, service time, waiting room (no calls).
    Stations(ServerSpec),
    /// Every replica that can ever run (the autoscaler's `max`, or
    /// `replicas`), each a component of its own (`NAME[i]`) of the
    /// replicated kind.
    Components(Vec<ComponentId>),
}

impl ReplicaMembers {
    /// The replicas' components, by replica index (none for stations).
    pub fn ids(&self) -> &[ComponentId] {
        match self {
            ReplicaMembers::Stations(_) => &[],
            ReplicaMembers::Components(ids) => ids,
        }
    }

    /// The server each replica is, when the replicas are stations.
    pub fn station(&self) -> Option<&ServerSpec> {
        match self {
            ReplicaMembers::Stations(s) => Some(s),
            ReplicaMembers::Components(_) => None,
        }
    }
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
