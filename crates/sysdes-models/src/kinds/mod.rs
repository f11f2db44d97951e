//! The component kinds, one folder each: the kind's engine-free state
//! (`mod.rs`), its event handlers as an `impl Simulation` block (`sim.rs`),
//! its result figures (`figures.rs`) and their unit tests.
//!
//! Workloads and clients are not a kind: they stay in the engine
//! (`simulation/mod.rs`, `workload.rs`). The network and faults act on every
//! kind and stay there too.

pub(crate) mod cache;
pub(crate) mod deployment;
pub(crate) mod function;
pub(crate) mod load_balancer;
pub(crate) mod model_server;
pub(crate) mod queue;
pub(crate) mod replica_group;
pub(crate) mod server;
pub(crate) mod store;
pub(crate) mod stream;

use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime, derive_stream};

use crate::error::BuildError;
use crate::figures::{ComponentType, KindFigures};
use crate::request::RequestId;
use crate::result::ComponentResult;
use crate::simulation::{HostRuntime, Simulation, misrouted};
use crate::spec::{ComponentKind, ModelSpec};
use crate::station::{ACTIVE, BusyArea, FaultState, StationMetrics};

/// What a kind's [`Kind::build`] gets: the whole spec, the component's
/// name and id, the measurement window and the shared hosts.
pub(crate) struct BuildCtx<'a> {
    /// The whole model.
    pub(crate) spec: &'a ModelSpec,
    /// The component's name.
    pub(crate) name: &'a str,
    /// The component's id.
    pub(crate) id: ComponentId,
    /// The measurement window `[warmup, duration)`.
    pub(crate) window: (SimTime, SimTime),
    /// Every host of every pool (deployments place replicas on them).
    pub(crate) hosts: &'a mut Vec<HostRuntime>,
    /// The series' interval (stores bin their stale reads by it).
    pub(crate) series_interval: SimDuration,
}

impl BuildCtx<'_> {
    /// The component's random stream for `purpose`.
    pub(crate) fn stream(&self, purpose: &str) -> RngStream {
        derive_stream(self.spec.seed, self.name, purpose)
    }

    /// Fresh station measurements over the window.
    pub(crate) fn metrics(&self) -> StationMetrics {
        StationMetrics::new(self.window.0, self.window.1)
    }

    /// The error for an invalid parameter of this component.
    pub(crate) fn invalid(&self, reason: String) -> BuildError {
        BuildError::InvalidParameter {
            component: self.name.to_string(),
            reason,
        }
    }
}

/// What every component kind provides to the engine. Methods with a
/// default are for kinds that lack the feature (no faults, no gauges, no
/// child calls); the engine calls them only through the generated `match`.
pub(crate) trait Kind: Sized {
    /// The kind's validated spec (its `ComponentKind` variant's payload).
    type Spec;

    /// Builds the component from its spec; a user mistake the loader could
    /// not see is an error, never a panic.
    fn build(ctx: &mut BuildCtx<'_>, spec: &Self::Spec) -> Result<Self, BuildError>;

    /// The measurements every station has.
    fn station(&self) -> &StationMetrics;

    /// The kind name in results and the capacity (workers, slots,
    /// consumers) that utilization divides by.
    fn result_type(&self) -> (ComponentType, u32);

    /// Utilization over the window, given [`Kind::result_type`]'s capacity.
    fn utilization(&self, capacity: u32) -> f64 {
        if capacity > 0 {
            self.station().levels.mean(ACTIVE) / f64::from(capacity)
        } else {
            0.0
        }
    }

    /// The figures specific to the kind.
    fn kind_figures(&self) -> KindFigures {
        KindFigures::None
    }

    /// The kind's whole result line when it builds its own (deployments);
    /// `None` to use the common one.
    fn own_result(&self, _hosts: &[HostRuntime], _name: &str) -> Option<ComponentResult> {
        None
    }

    /// The crash and slowdown state, for a kind a fault can hit.
    fn fault_state(&mut self) -> Option<&mut FaultState> {
        None
    }

    /// Requests failed by this component's crashes, when it can crash.
    fn lost_in_crash(&self) -> Option<u64> {
        None
    }

    /// A replica's busy-time meter and the capacity it measures.
    fn busy_area_mut(&mut self) -> Option<(&mut Option<BusyArea>, u32)> {
        None
    }

    /// Its queue, capacity and capacity unit, when a long queue can make a
    /// run unstable.
    fn backlog(&self) -> Option<(usize, u32, &'static str)> {
        None
    }

    /// Names of its time-series gauges.
    fn gauge_names(&self, _name: &str, _out: &mut Vec<String>) {}

    /// The current value of each gauge [`Kind::gauge_names`] names.
    fn gauges(&self, _now: SimTime, _out: &mut Vec<f64>) {}

    /// A request reaches component `at` of this kind.
    fn arrive(sim: &mut Simulation, at: ComponentId, req: RequestId);

    /// A response passes back out through component `at` of this kind (a
    /// proxy: a balancer, a group). Kinds that answer for themselves are
    /// never on a response's way out; nothing to do.
    fn answered(_sim: &mut Simulation, _at: ComponentId, _req: RequestId) {}

    /// A child request that component `caller` of this kind sent is back
    /// (`parent` is `None` if the parent has ended). Only kinds that call
    /// others receive this.
    fn call_returned(
        _sim: &mut Simulation,
        _caller: ComponentId,
        _parent: Option<RequestId>,
        _child: RequestId,
        _tag: u32,
    ) {
        misrouted();
    }

    /// Component `at` of this kind crashes now; everything inside fails.
    fn crash(_sim: &mut Simulation, _at: ComponentId) {}

    /// Component `at` of this kind comes back after a crash.
    fn restart(_sim: &mut Simulation, _at: ComponentId) {}
}

/// A boxed kind (a large state kept out of the enum) is the kind.
impl<K: Kind> Kind for Box<K> {
    type Spec = K::Spec;
    fn build(ctx: &mut BuildCtx<'_>, spec: &Self::Spec) -> Result<Self, BuildError> {
        K::build(ctx, spec).map(Box::new)
    }
    fn station(&self) -> &StationMetrics {
        K::station(self)
    }
    fn result_type(&self) -> (ComponentType, u32) {
        K::result_type(self)
    }
    fn utilization(&self, capacity: u32) -> f64 {
        K::utilization(self, capacity)
    }
    fn kind_figures(&self) -> KindFigures {
        K::kind_figures(self)
    }
    fn own_result(&self, hosts: &[HostRuntime], name: &str) -> Option<ComponentResult> {
        K::own_result(self, hosts, name)
    }
    fn fault_state(&mut self) -> Option<&mut FaultState> {
        K::fault_state(self)
    }
    fn lost_in_crash(&self) -> Option<u64> {
        K::lost_in_crash(self)
    }
    fn busy_area_mut(&mut self) -> Option<(&mut Option<BusyArea>, u32)> {
        K::busy_area_mut(self)
    }
    fn backlog(&self) -> Option<(usize, u32, &'static str)> {
        K::backlog(self)
    }
    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        K::gauge_names(self, name, out)
    }
    fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        K::gauges(self, now, out)
    }
    #[inline]
    fn arrive(sim: &mut Simulation, at: ComponentId, req: RequestId) {
        K::arrive(sim, at, req)
    }
    #[inline]
    fn answered(sim: &mut Simulation, at: ComponentId, req: RequestId) {
        K::answered(sim, at, req)
    }
    fn call_returned(
        sim: &mut Simulation,
        caller: ComponentId,
        parent: Option<RequestId>,
        child: RequestId,
        tag: u32,
    ) {
        K::call_returned(sim, caller, parent, child, tag)
    }
    fn crash(sim: &mut Simulation, at: ComponentId) {
        K::crash(sim, at)
    }
    fn restart(sim: &mut Simulation, at: ComponentId) {
        K::restart(sim, at)
    }
}

/// Generates the [`Component`] enum and every dispatch over it from the
/// registry below: one arm per kind, calling that kind's [`Kind`] method.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($state:ty), )*) => {
        /// A component's state, matched exhaustively in the loop (no
        /// dynamic dispatch). Generated by the registry in `kinds/mod.rs`.
        #[derive(Debug)]
        pub(crate) enum Component {
            $( $(#[$doc])* $variant($state), )*
        }

        impl Component {
            /// Builds the component `spec` describes.
            pub(crate) fn build(
                ctx: &mut BuildCtx<'_>,
                kind: &ComponentKind,
            ) -> Result<Component, BuildError> {
                Ok(match kind {
                    $( ComponentKind::$variant(spec) =>
                        Component::$variant(<$state as Kind>::build(ctx, spec)?), )*
                })
            }

            /// See [`Kind::station`].
            pub(crate) fn metrics(&self) -> &StationMetrics {
                match self { $( Component::$variant(k) => k.station(), )* }
            }

            /// See [`Kind::result_type`].
            pub(crate) fn result_type(&self) -> (ComponentType, u32) {
                match self { $( Component::$variant(k) => k.result_type(), )* }
            }

            /// See [`Kind::utilization`].
            pub(crate) fn utilization(&self, capacity: u32) -> f64 {
                match self { $( Component::$variant(k) => Kind::utilization(k, capacity), )* }
            }

            /// See [`Kind::kind_figures`].
            pub(crate) fn figures(&self) -> KindFigures {
                match self { $( Component::$variant(k) => k.kind_figures(), )* }
            }

            /// See [`Kind::own_result`].
            pub(crate) fn own_result(
                &self,
                hosts: &[HostRuntime],
                name: &str,
            ) -> Option<ComponentResult> {
                match self { $( Component::$variant(k) => k.own_result(hosts, name), )* }
            }

            /// See [`Kind::fault_state`].
            pub(crate) fn fault_state(&mut self) -> Option<&mut FaultState> {
                match self { $( Component::$variant(k) => Kind::fault_state(k), )* }
            }

            /// See [`Kind::lost_in_crash`].
            pub(crate) fn lost_in_crash(&self) -> Option<u64> {
                match self { $( Component::$variant(k) => Kind::lost_in_crash(k), )* }
            }

            /// See [`Kind::busy_area_mut`].
            pub(crate) fn busy_area_mut(&mut self) -> Option<(&mut Option<BusyArea>, u32)> {
                match self { $( Component::$variant(k) => Kind::busy_area_mut(k), )* }
            }

            /// See [`Kind::backlog`].
            pub(crate) fn backlog(&self) -> Option<(usize, u32, &'static str)> {
                match self { $( Component::$variant(k) => Kind::backlog(k), )* }
            }

            /// See [`Kind::gauge_names`].
            pub(crate) fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
                match self { $( Component::$variant(k) => Kind::gauge_names(k, name, out), )* }
            }

            /// See [`Kind::gauges`].
            pub(crate) fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
                match self { $( Component::$variant(k) => Kind::gauges(k, now, out), )* }
            }
        }

        impl Simulation {
            /// Hands `req` to component `to`'s kind (see [`Kind::arrive`]).
            #[inline]
            pub(crate) fn arrive_at(&mut self, to: ComponentId, req: RequestId) {
                match &self.components[to.index()] {
                    $( Component::$variant(_) => <$state as Kind>::arrive(self, to, req), )*
                }
            }

            /// A response passes back out through `at` (see [`Kind::answered`]).
            #[inline]
            pub(crate) fn answered_at(&mut self, at: ComponentId, req: RequestId) {
                match &self.components[at.index()] {
                    $( Component::$variant(_) => <$state as Kind>::answered(self, at, req), )*
                }
            }

            /// A child is back at `caller` (see [`Kind::call_returned`]).
            pub(crate) fn call_returned_at(
                &mut self,
                caller: ComponentId,
                parent: Option<RequestId>,
                child: RequestId,
                tag: u32,
            ) {
                match &self.components[caller.index()] {
                    $( Component::$variant(_) =>
                        <$state as Kind>::call_returned(self, caller, parent, child, tag), )*
                }
            }

            /// Component `at` crashes (see [`Kind::crash`]).
            pub(crate) fn crash_at(&mut self, at: ComponentId) {
                match &self.components[at.index()] {
                    $( Component::$variant(_) => <$state as Kind>::crash(self, at), )*
                }
            }

            /// Component `at` comes back (see [`Kind::restart`]).
            pub(crate) fn restart_at(&mut self, at: ComponentId) {
                match &self.components[at.index()] {
                    $( Component::$variant(_) => <$state as Kind>::restart(self, at), )*
                }
            }
        }
    };
}

kinds! {
    Server(server::Server),
    LoadBalancer(load_balancer::LoadBalancer),
    Cache(Box<cache::Cache>),
    Queue(queue::sim::QueueComponent),
    Stream(stream::sim::StreamComponent),
    Deployment(Box<deployment::Deployment>),
    /// Boxed: its batch buffers make it the largest kind by far.
    ModelServer(Box<model_server::ModelServer>),
    Store(Box<store::Store>),
    /// A model server in LLM mode (boxed like the batching one).
    LlmServer(Box<model_server::llm::LlmServer>),
    ReplicaGroup(Box<replica_group::ReplicaGroup>),
    /// A serverless function (instances with cold starts, kept warm).
    Function(function::Function),
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;

    use super::*;
    use crate::spec::{ComponentSpec, Distribution, LbPolicy, LoadBalancerSpec};
    use crate::{NoObserver, RunLimits};

    /// A balancer `lb` in front of the single server of an M/M/1 spec.
    fn balanced(backends: Vec<ComponentId>) -> ModelSpec {
        let mut spec = ModelSpec::single_server(
            1.0,
            2,
            Distribution::Exponential { mean_ns: 1e8 },
            SimDuration::from_secs(50),
        );
        spec.components.push(ComponentSpec {
            name: "lb".into(),
            kind: ComponentKind::LoadBalancer(LoadBalancerSpec {
                policy: LbPolicy::RoundRobin,
                backends,
            }),
        });
        spec.workloads[0].target = ComponentId(1);
        spec
    }

    /// The generated build and result dispatch reach each kind's own code:
    /// its checks (with the component named) and its result line.
    #[test]
    fn the_registry_builds_each_kind_with_its_own_checks_and_results() {
        let err = Simulation::new(&balanced(Vec::new())).expect_err("no backend");
        assert_eq!(
            err.to_string(),
            BuildError::InvalidParameter {
                component: "lb".into(),
                reason: "a load balancer needs a backend".into(),
            }
            .to_string()
        );
        let result = Simulation::new(&balanced(vec![ComponentId(0)]))
            .expect("builds")
            .run(RunLimits::default(), &mut NoObserver)
            .expect("runs");
        let kinds: Vec<_> = result
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.kind, c.workers))
            .collect();
        assert_eq!(
            kinds,
            [
                ("server", ComponentType::Server, 2),
                ("lb", ComponentType::LoadBalancer, 0)
            ]
        );
        // Every answer passed back through the balancer (`Kind::answered`).
        let (server, lb) = (&result.components[0], &result.components[1]);
        assert!(server.completions > 0);
        assert_eq!(lb.completions, server.completions);
    }

    /// A child's answer reaching a kind that makes no calls is an engine
    /// bug: the default `Kind::call_returned` says so instead of dropping
    /// it (a panic in debug builds).
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "another kind than its handler")]
    fn a_child_answer_to_a_kind_without_calls_is_misrouted() {
        let mut sim = Simulation::new(&balanced(vec![ComponentId(0)])).expect("builds");
        sim.call_returned_at(ComponentId(1), None, 0, 0);
    }
}
