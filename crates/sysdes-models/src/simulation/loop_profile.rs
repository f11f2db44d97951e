//! Which events make up a loop the progress guard is about to stop.
//!
//! Counting costs a few instructions per event, so the engine counts only
//! while its copy of the kernel's
//! [`ProgressGuard`](sysdes_kernel::ProgressGuard) is
//! [suspicious](sysdes_kernel::ProgressGuard::suspicious): the run loop then
//! sets its next progress point to the next event, so every event takes
//! the branch the loop has anyway, and the normal path pays nothing.

use crate::result::{LoopKind, LoopProfile};

use super::{Event, Simulation};

/// Event kinds in the order of [`Event::kind_index`].
pub(super) const EVENT_KINDS: [&str; 24] = [
    "OpenArrival",
    "UserReady",
    "Deliver",
    "ServiceDone",
    "Respond",
    "Timeout",
    "Retry",
    "Hedge",
    "CacheHitDone",
    "SeriesTick",
    "Deploy",
    "BatchDone",
    "BatchWake",
    "Llm",
    "Fault",
    "Store",
    "Renege",
    "Training",
    "Review",
    "FunctionDone",
    "DnsCheck",
    "StreamStart",
    "BatchRun",
    "Storage",
];

/// Kinds of components and workloads an event can be counted at.
const WHERE_KINDS: usize = EVENT_KINDS.len();

impl Event {
    /// The index of this event's kind in the name table [`EVENT_KINDS`],
    /// which holds the names messages use (`Deliver`, `ServiceDone`, ...).
    #[inline]
    pub(crate) const fn kind_index(&self) -> usize {
        match self {
            Event::OpenArrival { .. } => 0,
            Event::UserReady { .. } => 1,
            Event::Deliver { .. } => 2,
            Event::ServiceDone { .. } => 3,
            Event::Respond { .. } => 4,
            Event::Timeout { .. } => 5,
            Event::Retry { .. } => 6,
            Event::Hedge { .. } => 7,
            Event::CacheHitDone { .. } => 8,
            Event::SeriesTick => 9,
            Event::Deploy(_) => 10,
            Event::BatchDone { .. } => 11,
            Event::BatchWake { .. } => 12,
            Event::Llm(_) => 13,
            Event::Fault { .. } => 14,
            Event::Store { .. } => 15,
            Event::Renege { .. } => 16,
            Event::Training { .. } => 17,
            Event::Review { .. } => 18,
            Event::FunctionDone { .. } => 19,
            Event::DnsCheck { .. } => 20,
            Event::StreamStart { .. } => 21,
            Event::BatchRun { .. } => 22,
            Event::Storage { .. } => 23,
        }
    }
}

/// Events counted per (kind, place) while the guard is suspicious. Places
/// are the components, then the workloads, then "nowhere in particular".
#[derive(Debug, Default)]
pub(super) struct LoopCounts {
    places: usize,
    /// `WHERE_KINDS * places` counters, allocated when counting first starts.
    counts: Vec<u64>,
}

impl LoopCounts {
    /// Starts counting afresh over `places` places.
    pub(super) fn restart(&mut self, places: usize) {
        self.places = places + 1;
        self.counts.clear();
        self.counts.resize(WHERE_KINDS * self.places, 0);
    }

    /// Whether any event was counted.
    pub(super) fn any(&self) -> bool {
        self.counts.iter().any(|&n| n > 0)
    }
}

impl Simulation {
    /// Counts `event`, once handled (the run loop calls this while the
    /// guard is suspicious).
    #[cold]
    #[inline(never)]
    pub(super) fn count_event(&mut self, event: &Event) {
        let place = self
            .event_place(event)
            .unwrap_or(self.loop_counts.places - 1);
        let i = event.kind_index() * self.loop_counts.places + place;
        if let Some(n) = self.loop_counts.counts.get_mut(i) {
            *n += 1;
        }
    }

    /// Where an event happens: a component's index, or the number of
    /// components plus a workload's index. Called after the event was
    /// handled, so it reads nothing the handler may have changed but a
    /// request's workload.
    fn event_place(&self, event: &Event) -> Option<usize> {
        let n = self.components.len();
        let workload_of = |req| n + self.requests[req].workload as usize;
        match *event {
            Event::OpenArrival { workload } | Event::UserReady { workload, .. } => {
                Some(n + workload as usize)
            }
            Event::Deliver { to, .. } => Some(to.index()),
            Event::ServiceDone { server, .. } => Some(self.components.id(server).index()),
            Event::BatchDone { server, .. } | Event::BatchWake { server } => {
                Some(self.components.id(server).index())
            }
            Event::CacheHitDone { cache, .. } => Some(self.components.id(cache).index()),
            Event::Store { store, .. } => Some(self.components.id(store).index()),
            Event::Renege { server, .. } => Some(self.components.id(server).index()),
            Event::Training { job, .. } => Some(self.components.id(job).index()),
            Event::Review { queue, .. } => Some(self.components.id(queue).index()),
            Event::FunctionDone { function, .. } => Some(self.components.id(function).index()),
            Event::DnsCheck { dns } => Some(self.components.id(dns).index()),
            Event::StreamStart { stream, .. } => Some(self.components.id(stream).index()),
            Event::BatchRun { job, .. } => Some(self.components.id(job).index()),
            Event::Storage { storage, .. } => Some(self.components.id(storage).index()),
            Event::Timeout { req } | Event::Retry { req } => Some(workload_of(req)),
            // A response is counted after it was handled, when its hop is
            // gone: it names no place.
            Event::Respond { .. }
            | Event::Hedge { .. }
            | Event::SeriesTick
            | Event::Deploy(_)
            | Event::Llm(_)
            | Event::Fault { .. } => None,
        }
    }

    /// The counted loop, for the message that stops the run.
    pub(super) fn loop_profile(&self) -> Option<LoopProfile> {
        let c = &self.loop_counts;
        if !c.any() {
            return None;
        }
        let name = |place: usize| -> Option<String> {
            let n = self.spec.components.len();
            if place < n {
                Some(self.spec.components[place].name.clone())
            } else {
                self.spec.workloads.get(place - n).map(|w| w.name.clone())
            }
        };
        let total: u64 = c.counts.iter().sum();
        let mut kinds: Vec<LoopKind> =
            (0..WHERE_KINDS)
                .filter_map(|k| {
                    let row = &c.counts[k * c.places..(k + 1) * c.places];
                    let events: u64 = row.iter().sum();
                    (events > 0).then(|| {
                        // The first place with the most events of this kind.
                        let (top, _) = row.iter().enumerate().fold((0, 0), |best, (i, &n)| {
                            if n > best.1 { (i, n) } else { best }
                        });
                        LoopKind {
                            kind: EVENT_KINDS[k],
                            events,
                            at: name(top),
                        }
                    })
                })
                .collect();
        kinds.sort_by_key(|k| std::cmp::Reverse(k.events));
        let mut places: Vec<(usize, u64)> = (0..c.places)
            .map(|p| {
                (
                    p,
                    (0..WHERE_KINDS).map(|k| c.counts[k * c.places + p]).sum(),
                )
            })
            .filter(|&(p, n)| n > 0 && p < self.spec.components.len())
            .collect();
        places.sort_by_key(|&(p, n)| (std::cmp::Reverse(n), p));
        Some(LoopProfile {
            events: total,
            kinds,
            components: places
                .iter()
                .take(3)
                .filter_map(|&(p, _)| name(p))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::ComponentId;

    use super::*;

    /// The name table follows the enum: each name is its variant's.
    #[test]
    fn event_kind_names_are_the_variants_names() {
        let c = ComponentId(0);
        let events = [
            Event::OpenArrival { workload: 0 },
            Event::UserReady {
                workload: 0,
                user: 0,
            },
            Event::Deliver { to: c, req: 0 },
            Event::ServiceDone {
                server: crate::kinds::ServerId(0),
                req: 0,
            },
            Event::Respond { req: 0 },
            Event::Timeout { req: 0 },
            Event::Retry { req: 0 },
            Event::CacheHitDone {
                cache: crate::kinds::CacheId(0),
                req: 0,
            },
            Event::SeriesTick,
            Event::BatchDone {
                server: crate::kinds::ModelServerId(0),
                slot: 0,
            },
            Event::BatchWake {
                server: crate::kinds::ModelServerId(0),
            },
            Event::Fault {
                index: 0,
                start: true,
            },
        ];
        for e in events {
            let debug = format!("{e:?}");
            assert!(
                debug.starts_with(EVENT_KINDS[e.kind_index()]),
                "{debug} is named {}",
                EVENT_KINDS[e.kind_index()]
            );
        }
        assert!(std::mem::size_of::<Event>() <= 16);
    }
}
