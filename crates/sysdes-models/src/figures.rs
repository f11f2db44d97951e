//! Typed result figures: what each component kind measures beyond the
//! figures every station has (arrivals, utilization, latency, ...).
//!
//! Each kind fills one plain struct: counts are `u64`, everything else is an
//! `f64` with its unit in the field name (`_ms`, `_s`, `_ratio`, `_per_s`).
//! A figure that does not apply to a run (no probe reads configured, no boot
//! seen) is an `Option` and reported only when present.
//!
//! This module gives each figure its report name, in one place:
//! [`ComponentResult::visit_figures`] walks the figures of a component in
//! report order. It does not build keys or documents: `sysdes-report`'s
//! `flatten` module turns the walk into JSON keys, CSV cells and sweep
//! columns, and [`ComponentResult::figure`] looks one up by its legacy
//! flat key.

use sysdes_stats::ConsistencyReport;

use crate::result::ComponentResult;

// The registry (`kinds/mod.rs`) generates, from each kind's line and its
// folder's `kind_figures!`: the re-exports of every kind's figures structs
// (so `crate::figures::*` and the crate root name them), `KindFigures`
// with its walk, and `ComponentType`.
crate::kinds::registry_figures! {}

impl std::fmt::Display for ComponentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Lets readers written against the old string kinds keep comparing
/// (`c.kind == "server"`).
impl PartialEq<&str> for ComponentType {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl PartialEq<str> for ComponentType {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

/// One figure's value: a count (an integer in every output) or a measured
/// quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// Something counted: requests, messages, events, replicas.
    Count(u64),
    /// A measured quantity, in the unit its name says.
    Value(f64),
}

impl Figure {
    /// The figure as a float (counts convert exactly below 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Figure::Count(n) => n as f64,
            Figure::Value(x) => x,
        }
    }
}

/// Where a figure belongs inside its component: the component itself, or
/// one consumer group of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// A figure of the component as a whole.
    Component,
    /// A figure of the stream's consumer group with this name.
    Group(&'a str),
}

/// What walks figures: called with each figure's scope, report name and
/// value (see [`ComponentResult::visit_figures`]).
pub type Visit<'f> = dyn FnMut(Scope<'_>, &'static str, Figure) + 'f;

/// How one field of a figures struct is walked: a count, a value, an
/// optional one (skipped when absent), a nested struct, or not a figure.
pub(crate) trait Field {
    /// Walks this field (named `name`) with `f`.
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>);
}

impl Field for u64 {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
        f(scope, name, Figure::Count(*self));
    }
}

impl Field for f64 {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
        f(scope, name, Figure::Value(*self));
    }
}

impl<T: Field> Field for Option<T> {
    fn walk(&self, name: &'static str, scope: Scope<'_>, f: &mut Visit<'_>) {
        if let Some(v) = self {
            v.walk(name, scope, f);
        }
    }
}

/// A consumer group's name: the scope of its figures, not a figure.
impl Field for String {
    fn walk(&self, _: &'static str, _: Scope<'_>, _: &mut Visit<'_>) {}
}

/// A store's consistency report: its own JSON object, not a figure.
impl Field for ConsistencyReport {
    fn walk(&self, _: &'static str, _: Scope<'_>, _: &mut Visit<'_>) {}
}

/// A stream's groups: each walked in its own scope.
impl Field for Vec<GroupFigures> {
    fn walk(&self, _: &'static str, _: Scope<'_>, f: &mut Visit<'_>) {
        for g in self {
            g.visit(Scope::Group(&g.group), f);
        }
    }
}

/// Declares a figures struct and its walk: each field's name is its report
/// name, so a figure's name is written once.
macro_rules! figures {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// Walks the figures in declaration order: `f(scope, name, value)`.
            pub fn visit(
                &self,
                scope: $crate::figures::Scope<'_>,
                f: &mut $crate::figures::Visit<'_>,
            ) {
                $( $crate::figures::Field::walk(&self.$field, stringify!($field), scope, f); )*
            }
        }

        impl $crate::figures::Field for $name {
            fn walk(
                &self,
                _: &'static str,
                scope: $crate::figures::Scope<'_>,
                f: &mut $crate::figures::Visit<'_>,
            ) {
                self.visit(scope, f);
            }
        }
    };
}
pub(crate) use figures;

impl ComponentResult {
    /// Walks this component's kind-specific figures in report order:
    /// `f(scope, name, value)`. Absent figures are skipped. This is the one
    /// list of figure names; every output derives its keys from it.
    pub fn visit_figures(&self, f: &mut Visit<'_>) {
        self.figures.visit(f);
        if let Some(lost) = self.lost_in_crash {
            f(Scope::Component, "lost_in_crash", Figure::Count(lost));
        }
        if let Some(s) = &self.scaling {
            s.visit(Scope::Component, f);
        }
    }

    /// The kind-specific figure `key` as a float, by its flat key
    /// (`hit_ratio`, `lost_in_crash`, or `GROUP.lag_mean` for a stream's
    /// group); `None` if the component has no such figure.
    pub fn figure(&self, key: &str) -> Option<f64> {
        lookup(key, |f| self.visit_figures(f))
    }

    /// Whether the component reports any kind-specific figure.
    pub fn has_figures(&self) -> bool {
        let mut any = false;
        self.visit_figures(&mut |_, _, _| any = true);
        any
    }
}

/// The figure with flat key `key` in the walk `walk` (a group's figures
/// under `GROUP.NAME`).
fn lookup(key: &str, walk: impl FnOnce(&mut Visit<'_>)) -> Option<f64> {
    let mut found = None;
    walk(&mut |scope, name, value| {
        if found.is_some() {
            return;
        }
        let hit = match scope {
            Scope::Component => name == key,
            Scope::Group(g) => key
                .strip_prefix(g)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| rest == name),
        };
        if hit {
            found = Some(value.as_f64());
        }
    });
    found
}

impl KindFigures {
    /// Walks the figures in report order, like
    /// [`ComponentResult::visit_figures`].
    pub fn visit(&self, f: &mut Visit<'_>) {
        visit_kind(self, f);
    }

    /// The figure with flat key `key`, like [`ComponentResult::figure`].
    pub fn get(&self, key: &str) -> Option<f64> {
        lookup(key, |f| self.visit(f))
    }
}
