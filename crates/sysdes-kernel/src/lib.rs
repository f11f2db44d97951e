//! The sysdes simulation kernel.
//!
//! This crate knows about time, events and random numbers, and nothing else:
//! no servers, no load balancers, no networks, no YAML, no I/O. Domain models
//! live in `sysdes-models` and drive the kernel through three pieces:
//!
//! ```text
//!   SimTime (u64 ns) ──► Scheduler<E> ──► EventQueue<E>   (4-ary heap when small, radix heap when large)
//!                          │
//!                          └─► timer table (cancellable events, generation-checked)
//!   RngStream::derive(seed, component, purpose)  (one PCG stream per component and purpose)
//! ```
//!
//! Events with equal times come out in the order they were scheduled (FIFO
//! tie-break on a sequence number), so a run is a pure function of its inputs.
//!
//! ```
//! use sysdes_kernel::{Scheduler, SimDuration, SimTime};
//!
//! let mut sched: Scheduler<&str> = Scheduler::new();
//! sched.schedule_in(SimDuration::from_millis(5), "late");
//! sched.schedule_in(SimDuration::from_millis(1), "early");
//! let timer = sched.schedule_timer_in(SimDuration::from_millis(3), "cancelled");
//! assert!(sched.cancel(timer));
//!
//! assert_eq!(sched.pop(), Some("early"));
//! assert_eq!(sched.now(), SimTime::from_nanos(1_000_000));
//! assert_eq!(sched.pop(), Some("late"));
//! assert_eq!(sched.pop(), None);
//! ```

mod guard;
mod id;
mod queue;
mod rng;
mod scheduler;
mod time;

pub use guard::{
    MAX_EVENTS_AT_ONE_TIME, MAX_EVENTS_PER_SIM_SECOND, ProgressGuard, RATE_WINDOW, SUSPECT_SHARE,
    Stall,
};
pub use id::ComponentId;
pub use queue::EventQueue;
pub use rng::{RngStream, derive_stream, stable_hash};
pub use scheduler::{Scheduler, TimerId};
pub use time::{SimDuration, SimTime, decimal_ns};
