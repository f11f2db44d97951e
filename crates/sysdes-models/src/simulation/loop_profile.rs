//! Which events make up a loop the progress guard is about to stop.
//!
//! Counting costs a few instructions per event, so the engine counts only
//! while its copy of the kernel's
//! [`ProgressGuard`](sysdes_kernel::ProgressGuard) is
//! [suspicious](sysdes_kernel::ProgressGuard::suspicious): the run loop then
//! sets its next progress point to the next event, so every event takes
//! the branch the loop has anyway, and the normal path pays nothing.

use crate::result::{LoopKind, LoopProfile};

use super::{EVENT_KINDS, Event, Simulation};

/// Kinds of components and workloads an event can be counted at: one per
/// `Event` variant (the registry generates the name table
/// [`EVENT_KINDS`] and [`Event::kind_index`] from the same list).
const WHERE_KINDS: usize = EVENT_KINDS.len();

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
            Event::Timeout { req } | Event::Retry { req } => Some(workload_of(req)),
            // A response is counted after it was handled, when its hop is
            // gone: it names no place.
            Event::Respond { .. }
            | Event::Hedge { .. }
            | Event::SeriesTick
            | Event::Fault { .. } => None,
            // A kind's event happens at the component its declaration
            // names (`@ field` in `kind_events!`), if any.
            _ => self.kind_event_place(event),
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

    /// The registry's name table covers every `Event` variant, engine's
    /// and kinds' alike, once each: one event of every variant gets its own
    /// index and its own name (the table and `kind_index` are generated from
    /// the same list as the enum, so a new variant cannot miss a name).
    #[test]
    fn the_registry_names_every_event_variant_once() {
        use crate::kinds::*;
        let c = ComponentId(0);
        let events = [
            Event::OpenArrival { workload: 0 },
            Event::UserReady {
                workload: 0,
                user: 0,
            },
            Event::Deliver { to: c, req: 0 },
            Event::Respond { req: 0 },
            Event::Timeout { req: 0 },
            Event::Retry { req: 0 },
            Event::Hedge { call: 0 },
            Event::SeriesTick,
            Event::Fault {
                index: 0,
                start: true,
            },
            Event::ServiceDone {
                server: ServerId(0),
                req: 0,
            },
            Event::Renege {
                server: ServerId(0),
                req: 0,
                generation: 0,
            },
            Event::CacheHitDone {
                cache: CacheId(0),
                req: 0,
            },
            Event::StreamStart {
                stream: StreamId(0),
                group: 0,
            },
            Event::BatchDone {
                server: ModelServerId(0),
                slot: 0,
            },
            Event::BatchWake {
                server: ModelServerId(0),
            },
            Event::Llm(model_server::llm_sim::LlmEvent::Wake {
                server: ModelServerId(0),
            }),
            Event::Store {
                store: StoreId(0),
                ev: store::sim::StoreEvent::Probe(0),
            },
            Event::Deploy(replica_group::sim::DeployEvent::Autoscale {
                group: ReplicaGroupId(0),
            }),
            Event::Training {
                job: TrainingJobId(0),
                epoch: 0,
                timer: training_job::sim::TrainingTimer::PhaseDone,
            },
            Event::Review {
                queue: ReviewQueueId(0),
                slot: 0,
            },
            Event::FunctionDone {
                function: FunctionId(0),
                req: 0,
            },
            Event::DnsCheck { dns: DnsId(0) },
            Event::BatchRun {
                job: BatchJobId(0),
                start: true,
            },
            Event::Storage {
                storage: StorageId(0),
                req: 0,
                done: false,
            },
        ];
        let mut indices: Vec<usize> = events.iter().map(Event::kind_index).collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..EVENT_KINDS.len()).collect::<Vec<_>>());
        for e in events {
            let debug = format!("{e:?}");
            let name = EVENT_KINDS[e.kind_index()];
            assert!(
                debug.starts_with(&format!("{name} "))
                    || debug.starts_with(&format!("{name}("))
                    || debug == name,
                "{debug} is named {name}"
            );
        }
        assert!(std::mem::size_of::<Event>() <= 16);
    }

    /// A kind's event is counted at the component its declaration names
    /// (`@ field`), found through the registry's typed id; a nested one
    /// without that names no place.
    #[test]
    fn a_kind_event_is_counted_at_its_component() {
        let spec = crate::ModelSpec::single_server(
            1.0,
            1,
            crate::Distribution::Exponential { mean_ns: 1e8 },
            sysdes_kernel::SimDuration::from_secs(1),
        );
        let sim = Simulation::new(&spec).expect("builds");
        let done = Event::ServiceDone {
            server: crate::kinds::ServerId(0),
            req: 0,
        };
        assert_eq!(sim.event_place(&done), Some(0));
        let deploy = Event::Deploy(crate::kinds::replica_group::sim::DeployEvent::Autoscale {
            group: crate::kinds::ReplicaGroupId(0),
        });
        assert_eq!(sim.event_place(&deploy), None);
        // A workload's arrival is counted after the components.
        assert_eq!(
            sim.event_place(&Event::OpenArrival { workload: 0 }),
            Some(1)
        );
    }
}
