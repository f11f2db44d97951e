//! The component kinds, one folder each: the kind's engine-free state
//! (`mod.rs`), its event handlers as an `impl Simulation` block (`sim.rs`),
//! its result figures (`figures.rs`) and their unit tests.
//!
//! Workloads and clients are not a kind: they stay in the engine
//! (`simulation/mod.rs`, `workload.rs`). The network and faults act on every
//! kind and stay there too.

pub(crate) mod cache;
pub(crate) mod deployment;
pub(crate) mod load_balancer;
pub(crate) mod model_server;
pub(crate) mod queue;
pub(crate) mod replica_group;
pub(crate) mod server;
pub(crate) mod store;
pub(crate) mod stream;
