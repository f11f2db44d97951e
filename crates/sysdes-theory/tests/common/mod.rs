//! Helpers shared by the theory's integration tests.

use sysdes_models::{ComponentKind, ComponentSpec, Distribution, ServerSpec};

/// Nanoseconds in a millisecond.
pub const MS: f64 = 1e6;

/// A server called `name` with `workers` and exponential service times of
/// mean `mean_ms` milliseconds, an unbounded queue and no calls.
pub fn server(name: &str, workers: u32, mean_ms: f64) -> ComponentSpec {
    ComponentSpec {
        name: name.into(),
        kind: ComponentKind::Server(ServerSpec::new(
            workers,
            Distribution::Exponential {
                mean_ns: mean_ms * MS,
            },
        )),
    }
}
