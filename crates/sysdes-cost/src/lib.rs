//! What a run costs: a dated price table, billing rules, and the cost of
//! each component over the instances it ran.
//!
//! ```text
//!  prices/YYYY-MM.yaml ──▶ PriceTable ──(loader: `cost: { instance: NAME }`)──▶ CostSpec
//!                                                                               │
//!  RunResult (lifetimes of every replica, counts, window) ──────▶ cost() ◀──────┘
//!                                                                   │
//!                                                              CostResult
//! ```
//!
//! The price table is data: the shipped one ([`PriceTable::shipped`]) is
//! `prices/2026-12.yaml`, embedded with `include_str!` so the browser has
//! the same bytes. A scenario resolves its `instance:` names against it at
//! load time, so a [`CostSpec`] holds plain rates and [`cost`] is pure
//! arithmetic on integer nanoseconds: the same bytes on every target.
//!
//! # Billing
//!
//! Each instance is billed for its lifetime (boot and drain included),
//! rounded up to whole seconds (`per_second`) or whole hours (`per_hour`),
//! and at least `minimum`. A component that does not scale is one instance
//! for the whole run; a deployment or replica group bills every replica it
//! ever started. The sum is exact: total billed seconds are integers, and
//! each component's total is `billed seconds x units x per_hour / 3600`.
//!
//! ```
//! use sysdes_cost::{Billing, Increment};
//!
//! let ec2 = Billing { increment: Increment::PerSecond, minimum_s: 60 };
//! assert_eq!(ec2.billed_seconds(30_000_000_000), 60); // 30 s: the minimum
//! assert_eq!(ec2.billed_seconds(90_500_000_000), 91); // 90.5 s: whole seconds
//! let hourly = Billing { increment: Increment::PerHour, minimum_s: 0 };
//! assert_eq!(hourly.billed_seconds(3_601_000_000_000), 7200);
//! ```
//!
//! This crate knows no YAML of scenarios and runs nothing; it reads what a
//! run measured.

mod billing;
mod compute;
mod spec;
mod table;

pub use billing::{Billing, Increment, parse_seconds};
pub use compute::{CostResult, HOURS_PER_MONTH, ItemCost, cost, storage_usd};
pub use spec::{ComponentCost, CostSpec, Spot};
pub use table::{PriceRow, PriceTable, RowKind, TableError, Unit, row_problem};
