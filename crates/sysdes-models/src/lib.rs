//! sysdes domain models and the simulation that runs them.
//!
//! A [`ModelSpec`] (plain data: no YAML, no units, names already resolved to
//! ids) is assembled into a [`Simulation`], which runs on the kernel's
//! scheduler and returns a [`RunResult`]:
//!
//! ```text
//!  workload ──request──► load_balancer ──► server (FIFO queue, c workers)
//!     ▲                        │  ▲               │
//!     └──────response──────────┘  └───response────┘
//! ```
//!
//! Requests live once in a slab; events carry ids. Responses retrace the
//! request's path, so a balancer sees every answer and knows what each
//! backend has outstanding. Every hop crosses the network model.
//!
//! This crate knows nothing of YAML, files or output formats.

mod arrivals;
pub mod autoscaler;
mod cache;
mod cache_store;
mod capacity;
mod deploy_spec;
mod deployment;
mod error;
mod figures;
pub mod host;
mod llm_server;
mod load_balancer;
mod message_queue;
mod model_server;
mod replica_group;
mod request;
mod result;
mod sampler;
mod series;
mod server;
mod simulation;
mod spec;
mod station;
mod store;
mod store_spec;
mod stream_log;
mod workload;

pub use arrivals::{CurveShape, MmppSpec, MmppState, RateCurveSpec, TraceRecord, TraceSpec};
pub use cache::{CacheCapacity, CacheSpec, CacheWrites};
pub use cache_store::{CachePolicy, CacheStore, Lookup};
pub use capacity::{offered_loads, offered_rates};
pub use deploy_spec::*;
pub use deployment::ScaleEvent;
pub use error::{BuildError, RunError};
pub use figures::*;
pub use llm_server::{DecodeTime, LlmServerSpec, PrefillTime};
pub use load_balancer::consistent_hash_shares;
pub use model_server::{BatchTime, BatchingSpec, ModelServerSpec};
pub use request::{NO_SESSION, Op};
pub use result::{ComponentResult, FaultWindow, RunResult, StopReason, WorkloadResult};
pub use series::{Series, SeriesPoint, WorkloadPoint};
pub use simulation::{NoObserver, Observer, PROGRESS_EVERY, RunLimits, Simulation};
pub use spec::*;
pub use store_spec::*;
