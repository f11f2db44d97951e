//! The component kinds, one folder each: the kind's engine-free state
//! (`mod.rs`), its event handlers as an `impl Simulation` block (`sim.rs`),
//! its result figures (`figures.rs`) and their unit tests.
//!
//! Workloads and clients are not a kind: they stay in the engine
//! (`simulation/mod.rs`, `workload.rs`). The network and faults act on every
//! kind and stay there too.

pub(crate) mod batch_job;
pub(crate) mod cache;
pub(crate) mod dns;
pub(crate) mod function;
pub(crate) mod load_balancer;
pub(crate) mod model_server;
pub(crate) mod queue;
pub(crate) mod replica_group;
pub(crate) mod review_queue;
pub(crate) mod server;
pub(crate) mod storage;
pub(crate) mod store;
pub(crate) mod stream;
pub(crate) mod training_job;

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
    /// Every host of every pool (deployments may place replicas on them).
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
pub(crate) trait Kind: KindId + Sized {
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

    /// The kind's whole result line when it builds its own (a deployment);
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
    fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId);

    /// A response passes back out through component `at` of this kind (a
    /// proxy: a balancer, a group). Kinds that answer for themselves are
    /// never on a response's way out; nothing to do.
    fn answered(_sim: &mut Simulation, _at: Self::Id, _req: RequestId) {}

    /// A child request that component `caller` of this kind sent is back
    /// (`parent` is `None` if the parent has ended). Only kinds that call
    /// others receive this.
    fn call_returned(
        _sim: &mut Simulation,
        _caller: Self::Id,
        _parent: Option<RequestId>,
        _child: RequestId,
        _tag: u32,
    ) {
        misrouted();
    }

    /// Component `at` of this kind crashes now; everything inside fails.
    fn crash(_sim: &mut Simulation, _at: Self::Id) {}

    /// Component `at` of this kind comes back after a crash.
    fn restart(_sim: &mut Simulation, _at: Self::Id) {}
}

/// Generates, from the registry below, one typed id per kind (an index into
/// that kind's arena), the per-kind arenas ([`Components`]), the
/// [`Resolved`] enum (`ComponentId -> (kind, index)`) and every dispatch:
/// one arm per kind, calling that kind's [`Kind`] method.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident $(/ $alt:ident)* ($field:ident: $state:ty, $id:ident), )*) => {
        $(
            /// A typed id: the index of a component in its kind's arena
            /// (see [`Components`]); events carry it, so handlers index the
            /// arena directly.
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub(crate) struct $id(pub(crate) u32);

            impl KindId for $state {
                type Id = $id;
            }

            impl TypedId for $id {
                #[inline]
                fn component(self, c: &Components) -> ComponentId {
                    c.$field.ids[self.0 as usize]
                }
            }

            impl std::ops::Index<$id> for Components {
                type Output = $state;
                #[inline]
                fn index(&self, id: $id) -> &$state {
                    &self.$field.items[id.0 as usize]
                }
            }

            impl std::ops::IndexMut<$id> for Components {
                #[inline]
                fn index_mut(&mut self, id: $id) -> &mut $state {
                    &mut self.$field.items[id.0 as usize]
                }
            }
        )*

        /// Which kind a component is and its index in that kind's arena:
        /// `ComponentId -> (kind, index)`, resolved once where a request
        /// arrives or a fault strikes. Generated by the registry.
        #[derive(Clone, Copy, Debug)]
        pub(crate) enum Resolved {
            $( $(#[$doc])* $variant($id), )*
        }

        /// Every component's state, in one arena (a `Vec`) per kind, and
        /// where each component is. Generated by the registry in
        /// `kinds/mod.rs`.
        #[derive(Debug, Default)]
        pub(crate) struct Components {
            /// Kind and arena index by `ComponentId`.
            resolved: Vec<Resolved>,
            $( pub(crate) $field: Arena<$state>, )*
        }

        impl Components {
            /// Builds the component `kind` describes and appends it.
            pub(crate) fn push(
                &mut self,
                ctx: &mut BuildCtx<'_>,
                kind: &ComponentKind,
            ) -> Result<(), BuildError> {
                let id = ctx.id;
                let r = match kind {
                    $( ComponentKind::$variant(spec) => {
                        let state = <$state as Kind>::build(ctx, spec)?;
                        Resolved::$variant($id(self.$field.push(id, state)))
                    }
                    $( ComponentKind::$alt(spec) => {
                        let state = <$state as BuildFrom<_>>::build_from(ctx, spec)?;
                        Resolved::$variant($id(self.$field.push(id, state)))
                    } )* )*
                };
                self.resolved.push(r);
                Ok(())
            }

            /// See [`Kind::station`].
            pub(crate) fn metrics(&self, i: usize) -> &StationMetrics {
                match self.resolved[i] { $( Resolved::$variant(k) => self[k].station(), )* }
            }

            /// See [`Kind::result_type`].
            pub(crate) fn result_type(&self, i: usize) -> (ComponentType, u32) {
                match self.resolved[i] { $( Resolved::$variant(k) => self[k].result_type(), )* }
            }

            /// See [`Kind::utilization`].
            pub(crate) fn utilization(&self, i: usize, capacity: u32) -> f64 {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::utilization(&self[k], capacity), )*
                }
            }

            /// See [`Kind::kind_figures`].
            pub(crate) fn figures(&self, i: usize) -> KindFigures {
                match self.resolved[i] { $( Resolved::$variant(k) => self[k].kind_figures(), )* }
            }

            /// See [`Kind::own_result`].
            pub(crate) fn own_result(
                &self,
                i: usize,
                hosts: &[HostRuntime],
                name: &str,
            ) -> Option<ComponentResult> {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => self[k].own_result(hosts, name), )*
                }
            }

            /// See [`Kind::fault_state`].
            pub(crate) fn fault_state(&mut self, i: usize) -> Option<&mut FaultState> {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::fault_state(&mut self[k]), )*
                }
            }

            /// See [`Kind::lost_in_crash`].
            pub(crate) fn lost_in_crash(&self, i: usize) -> Option<u64> {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::lost_in_crash(&self[k]), )*
                }
            }

            /// See [`Kind::busy_area_mut`].
            pub(crate) fn busy_area_mut(
                &mut self,
                i: usize,
            ) -> Option<(&mut Option<BusyArea>, u32)> {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::busy_area_mut(&mut self[k]), )*
                }
            }

            /// See [`Kind::backlog`].
            pub(crate) fn backlog(&self, i: usize) -> Option<(usize, u32, &'static str)> {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::backlog(&self[k]), )*
                }
            }

            /// See [`Kind::gauge_names`].
            pub(crate) fn gauge_names(&self, i: usize, name: &str, out: &mut Vec<String>) {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::gauge_names(&self[k], name, out), )*
                }
            }

            /// See [`Kind::gauges`].
            pub(crate) fn gauges(&self, i: usize, now: SimTime, out: &mut Vec<f64>) {
                match self.resolved[i] {
                    $( Resolved::$variant(k) => Kind::gauges(&self[k], now, out), )*
                }
            }
        }

        impl Simulation {
            /// Hands `req` to component `to`'s kind (see [`Kind::arrive`]):
            /// the one place a request's destination is resolved.
            #[inline]
            pub(crate) fn arrive_at(&mut self, to: ComponentId, req: RequestId) {
                match self.components.resolve(to) {
                    $( Resolved::$variant(k) => <$state as Kind>::arrive(self, k, req), )*
                }
            }

            /// A response passes back out through `at` (see [`Kind::answered`]).
            #[inline]
            pub(crate) fn answered_at(&mut self, at: ComponentId, req: RequestId) {
                match self.components.resolve(at) {
                    $( Resolved::$variant(k) => <$state as Kind>::answered(self, k, req), )*
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
                match self.components.resolve(caller) {
                    $( Resolved::$variant(k) =>
                        <$state as Kind>::call_returned(self, k, parent, child, tag), )*
                }
            }

            /// Component `at` crashes (see [`Kind::crash`]).
            pub(crate) fn crash_at(&mut self, at: ComponentId) {
                match self.components.resolve(at) {
                    $( Resolved::$variant(k) => <$state as Kind>::crash(self, k), )*
                }
            }

            /// Component `at` comes back (see [`Kind::restart`]).
            pub(crate) fn restart_at(&mut self, at: ComponentId) {
                match self.components.resolve(at) {
                    $( Resolved::$variant(k) => <$state as Kind>::restart(self, k), )*
                }
            }
        }
    };
}

/// The kind a state type is registered as: its typed id (generated by the
/// registry, never written by hand).
pub(crate) trait KindId {
    /// The kind's typed id.
    type Id: TypedId;
}

/// A kind that more than one spec variant builds (`ModelServer /
/// LlmServer` in the registry: one kind, two scheduling policies): how it
/// is built from the other variant's spec.
pub(crate) trait BuildFrom<S>: Sized {
    /// Builds the component from `spec`, as [`Kind::build`] does.
    fn build_from(ctx: &mut BuildCtx<'_>, spec: &S) -> Result<Self, BuildError>;
}

/// A typed id: an index into one kind's arena.
pub(crate) trait TypedId: Copy {
    /// The component this id names.
    fn component(self, c: &Components) -> ComponentId;
}

/// One kind's components, in build order, with their component ids.
#[derive(Debug)]
pub(crate) struct Arena<T> {
    /// The states, indexed by the kind's typed id.
    pub(crate) items: Vec<T>,
    /// The component id of each.
    pub(crate) ids: Vec<ComponentId>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            items: Vec::new(),
            ids: Vec::new(),
        }
    }
}

impl<T> Arena<T> {
    /// Appends a component and returns its index in the arena.
    fn push(&mut self, id: ComponentId, state: T) -> u32 {
        self.items.push(state);
        self.ids.push(id);
        (self.items.len() - 1) as u32
    }

    /// The components of this kind with their typed ids' indices.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ComponentId, &T)> {
        self.ids.iter().copied().zip(&self.items)
    }
}

impl Components {
    /// How many components there are (of every kind).
    pub(crate) fn len(&self) -> usize {
        self.resolved.len()
    }

    /// Which kind `id` is and its index in that kind's arena.
    #[inline]
    pub(crate) fn resolve(&self, id: ComponentId) -> Resolved {
        self.resolved[id.index()]
    }

    /// The component id of a typed id.
    #[inline]
    pub(crate) fn id<I: TypedId>(&self, typed: I) -> ComponentId {
        typed.component(self)
    }
}

kinds! {
    Server(server: server::Server, ServerId),
    LoadBalancer(load_balancer: load_balancer::LoadBalancer, LoadBalancerId),
    Cache(cache: cache::Cache, CacheId),
    Queue(queue: queue::sim::QueueComponent, QueueId),
    Stream(stream: stream::sim::StreamComponent, StreamId),
    /// One kind whichever its scheduling policy: a `ModelServer` spec
    /// builds it batching, an `LlmServer` spec under the LLM policy.
    ModelServer / LlmServer(model_server: model_server::sim::ModelPolicy, ModelServerId),
    Store(store: store::Store, StoreId),
    /// One kind for every replicated thing: its spec's members are
    /// leaf-server replicas kept inside the group (a deployment) or
    /// replicas that are components of their own; either may sit on hosts.
    ReplicaGroup(replica_group: replica_group::ReplicaGroup, ReplicaGroupId),
    TrainingJob(training_job: training_job::sim::TrainingJob, TrainingJobId),
    ReviewQueue(review_queue: review_queue::ReviewQueue, ReviewQueueId),
    /// A serverless function (instances with cold starts, kept warm).
    Function(function: function::Function, FunctionId),
    /// A DNS name with caching client resolvers and health-checked records.
    Dns(dns: dns::Dns, DnsId),
    /// A periodic batch job over the records sent to it (lambda's batch layer).
    BatchJob(batch_job: batch_job::BatchJob, BatchJobId),
    /// A storage tier (block, file, object): IOPS gate, latency, bandwidth.
    Storage(storage: storage::Storage, StorageId),
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
                routing: Default::default(),
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

    /// Each kind's components sit in their own arena in build order, and a
    /// component id resolves to its kind and arena index (and back), with
    /// kinds interleaved in the spec.
    #[test]
    fn component_ids_resolve_to_each_kinds_arena_and_back() {
        let mut spec = balanced(vec![ComponentId(0)]);
        let mut second = spec.components[0].clone();
        second.name = "server2".into();
        spec.components.push(second);
        let sim = Simulation::new(&spec).expect("builds");
        let c = &sim.components;
        assert_eq!(c.len(), 3);
        assert_eq!(c.server.items.len(), 2);
        assert_eq!(c.load_balancer.items.len(), 1);
        let Resolved::Server(s) = c.resolve(ComponentId(2)) else {
            panic!("component 2 is a server");
        };
        assert_eq!(s, ServerId(1));
        assert_eq!(c.id(s), ComponentId(2));
        let Resolved::LoadBalancer(lb) = c.resolve(ComponentId(1)) else {
            panic!("component 1 is a balancer");
        };
        assert_eq!((lb, c.id(lb)), (LoadBalancerId(0), ComponentId(1)));
        assert_eq!(c.id(ServerId(0)), ComponentId(0));
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
