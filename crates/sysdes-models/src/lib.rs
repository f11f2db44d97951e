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
mod error;
pub mod expect_spec;
mod figures;
pub mod host;
mod kinds;
mod lifetimes;
mod problems;
mod request;
mod result;
mod sampler;
mod series;
mod simulation;
mod spec;
mod station;
mod workload;

pub use arrivals::{CurveShape, MmppSpec, MmppState, RateCurveSpec, TraceRecord, TraceSpec};
pub use error::{BuildError, RunError};
pub use figures::*;
pub use kinds::batch_job::BatchJobSpec;
pub use kinds::cache::store::{CachePolicy, CacheStore, Lookup};
pub use kinds::cache::{CacheCapacity, CacheSpec, CacheWrites};
pub use kinds::dns::DnsSpec;
pub use kinds::function::FunctionSpec;
pub use kinds::load_balancer::consistent_hash_shares;
pub use kinds::load_balancer::spec::*;
pub use kinds::model_server::disagg::{KvLink, LlmRole, PrefillRole};
pub use kinds::model_server::llm::{DecodeTime, LlmScheduler, LlmServerSpec, PrefillTime};
pub use kinds::model_server::llm_roofline::{Efficiency, GpuSpec, ModelShape, Roofline};
pub use kinds::model_server::llm_sched::{
    ChunkedBatch, ChunkedSpec, Composition, IterationCost, NO_PREFIX, Outcome, Pending,
    PrefixWorkload, SwapSpec,
};
pub use kinds::model_server::llm_table::{IterationTable, MAX_TABLE_ROWS, TableProblem};
pub use kinds::model_server::{BatchTime, BatchingSpec, ModelServerSpec};
pub use kinds::replica_group::ScaleEvent;
pub use kinds::replica_group::spec::*;
pub use kinds::review_queue::spec::*;
pub use kinds::storage::{OverLimit, StorageSpec, StorageTier};
pub use kinds::store::spec::*;
pub use kinds::training_job::spec::*;
pub use lifetimes::{Lifetime, Lifetimes};
pub use problems::{MAX_PROBLEMS, Problem, Problems};
pub use request::{NO_SESSION, Op};
pub use result::{
    ComponentResult, FaultWindow, LoopKind, LoopProfile, RunResult, Shortcuts, StopReason,
    WorkloadResult,
};
pub use series::{Series, SeriesPoint, WorkloadPoint};
pub use simulation::{NoObserver, Observer, PROGRESS_EVERY, RunLimits, Simulation};
pub use spec::*;
