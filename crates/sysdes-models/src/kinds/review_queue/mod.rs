//! `type: review_queue`: human-in-the-loop review. A share of the requests
//! that reach the queue are kept as review items; every request is
//! answered at once (the caller never waits for a review). Reviewers, as
//! many as the current shift has, take items first come first served, one
//! at a time. When a shift ends with fewer reviewers, those in the middle
//! of a review finish it (non-preemptive); none starts a new one until a
//! reviewer is free under the new staffing.
//!
//! A review item is not a request: it holds only its enqueue time, so a
//! backlog left at the end of the run leaks nothing and the run ends when
//! the last request does. Shift changes stop at the window's end.

pub(crate) mod figures;
pub(crate) mod spec;

use std::collections::VecDeque;

use sysdes_kernel::{RngStream, SimDuration, SimTime};

use crate::error::BuildError;
use crate::figures::{ComponentType, KindFigures};
use crate::kinds::review_queue::figures::ReviewFigures;
use crate::kinds::review_queue::spec::{ReviewQueueSpec, ReviewShift};
use crate::kinds::{BuildCtx, Kind, ReviewQueueId};
use crate::request::RequestId;
use crate::sampler::Sampler;
use crate::simulation::{Event, Simulation, misrouted};
use crate::station::StationMetrics;

kind_events! {
    /// A review queue's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    review_queue_events {
        /// A review queue's timer: a review on `slot` ends, or a shift
        /// changes.
        Review { queue: crate::kinds::ReviewQueueId, slot: u32 } => review_event @ queue,
    }
}

/// The timer slot of a shift change.
const SHIFT: u32 = u32::MAX;
/// The timer slot of the window's end (the backlog is read then).
const WINDOW_END: u32 = u32::MAX - 1;

/// An item kept for review: when it was enqueued, and whether it counts.
#[derive(Clone, Copy, Debug)]
struct Item {
    enqueued: SimTime,
    counted: bool,
}

/// A review queue: its staffing, items and measurements.
#[derive(Debug)]
pub(crate) struct ReviewQueue {
    share: f64,
    share_rng: RngStream,
    review: Sampler,
    review_rng: RngStream,
    shifts: Vec<ReviewShift>,
    shift: usize,
    staffed: u32,
    busy: u32,
    waiting: VecDeque<Item>,
    /// Items in review, by slot (the slot is the review's timer id).
    in_review: Vec<Option<Item>>,
    free: Vec<u32>,
    window: (SimTime, SimTime),
    enqueued: u64,
    backlog_end: u64,
    /// Items in review plus waiting, as one level: its peak is the
    /// backlog's (the two levels of `metrics` peak at different times).
    backlog_level: sysdes_stats::TimeAverage<1>,
    /// Reviewers on shift (`staffed`) over time: its integral over the
    /// window is the staffed reviewer-time utilization divides by.
    staffed_level: sysdes_stats::TimeAverage<1>,
    /// `arrivals` counts requests received, `completions` reviews done,
    /// `latency` their age (enqueue to done); levels `[ACTIVE, WAITING]` =
    /// items in review, items waiting.
    metrics: StationMetrics,
}

impl ReviewQueue {
    fn backlog(&self) -> u64 {
        u64::from(self.busy) + self.waiting.len() as u64
    }

    fn record_levels(&mut self, now: SimTime) {
        self.metrics
            .levels
            .set(now, [u64::from(self.busy), self.waiting.len() as u64]);
        self.backlog_level.set(now, [self.backlog()]);
    }

    /// Busy reviewer-time over staffed reviewer-time in the window (the
    /// integral of the shift sizes), not over the largest shift around the
    /// clock; 0 when nobody was on shift.
    fn staffed_utilization(&self) -> f64 {
        let staffed = self.staffed_level.mean(0);
        if staffed > 0.0 {
            self.metrics.levels.mean(crate::station::ACTIVE) / staffed
        } else {
            0.0
        }
    }

    /// The figures over the window.
    fn figures(&self) -> ReviewFigures {
        ReviewFigures {
            received: self.metrics.arrivals,
            enqueued: self.enqueued,
            reviewed: self.metrics.completions,
            backlog_mean: self.metrics.levels.mean(0) + self.metrics.levels.mean(1),
            backlog_max: self.backlog_level.peak(0),
            backlog_end: self.backlog_end,
            review_age_mean_s: self.metrics.latency.mean_ns() / 1e9,
            review_age_p99_s: self.metrics.latency.quantile_ns(0.99) as f64 / 1e9,
        }
    }
}

impl Kind for ReviewQueue {
    type Spec = ReviewQueueSpec;

    fn build(ctx: &mut BuildCtx<'_>, spec: &Self::Spec) -> Result<Self, BuildError> {
        if spec.shifts.is_empty() {
            return Err(ctx.invalid("a review queue needs reviewers or shifts".into()));
        }
        if spec.shifts.len() > 1 && spec.shifts.iter().any(|s| s.length == SimDuration::ZERO) {
            return Err(ctx.invalid("every shift needs a length greater than zero".into()));
        }
        if !(spec.share > 0.0 && spec.share <= 1.0) {
            return Err(ctx.invalid("the review share must be in (0, 1]".into()));
        }
        Ok(ReviewQueue {
            share: spec.share,
            share_rng: ctx.stream("share"),
            review: Sampler::new(&spec.review_time).map_err(|e| ctx.invalid(e))?,
            review_rng: ctx.stream("review"),
            shifts: spec.shifts.clone(),
            shift: 0,
            staffed: spec.shifts[0].reviewers,
            busy: 0,
            waiting: VecDeque::new(),
            in_review: Vec::new(),
            free: Vec::new(),
            window: ctx.window,
            enqueued: 0,
            backlog_end: 0,
            backlog_level: sysdes_stats::TimeAverage::new(ctx.window.0, ctx.window.1),
            staffed_level: {
                let mut staffed = sysdes_stats::TimeAverage::new(ctx.window.0, ctx.window.1);
                staffed.set(SimTime::ZERO, [u64::from(spec.shifts[0].reviewers)]);
                staffed
            },
            metrics: ctx.metrics(),
        })
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (ComponentType, u32) {
        let most = self.shifts.iter().map(|s| s.reviewers).max().unwrap_or(0);
        (ComponentType::ReviewQueue, most.max(1))
    }

    /// Busy over staffed reviewer-time (see `staffed_utilization`).
    fn utilization(&self, _capacity: u32) -> f64 {
        self.staffed_utilization()
    }

    fn kind_figures(&self) -> KindFigures {
        KindFigures::Review(self.figures())
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.backlog"));
        out.push(format!("{name}.reviewers"));
    }

    fn gauges(&self, _now: SimTime, out: &mut Vec<f64>) {
        out.push(self.backlog() as f64);
        out.push(f64::from(self.staffed));
    }

    fn arrive(sim: &mut Simulation, at: ReviewQueueId, req: RequestId) {
        let now = sim.sched.now();
        let counted = sim.requests[req].counted;
        let q = &mut sim.components[at];
        if counted {
            q.metrics.arrivals += 1;
        }
        let keep = q.share >= 1.0 || rand::RngExt::random::<f64>(&mut q.share_rng) < q.share;
        if keep {
            if counted {
                q.enqueued += 1;
            }
            q.waiting.push_back(Item {
                enqueued: now,
                counted,
            });
            q.record_levels(now);
        }
        sim.respond(req);
        if keep {
            sim.review_pump(at);
        }
    }
}

impl Simulation {
    /// Schedules every review queue's first shift change and its reading
    /// of the backlog at the window's end.
    pub(crate) fn review_start(&mut self) {
        let end = self.window_end;
        for i in 0..self.components.review_queue.items.len() {
            let queue = ReviewQueueId(i as u32);
            let q = &self.components[queue];
            let first = (q.shifts.len() > 1).then(|| SimTime::ZERO + q.shifts[0].length);
            if let Some(at) = first.filter(|&t| t < end) {
                self.sched
                    .schedule_at(at, Event::Review { queue, slot: SHIFT });
            }
            self.sched.schedule_at(
                end,
                Event::Review {
                    queue,
                    slot: WINDOW_END,
                },
            );
        }
    }

    /// Free reviewers take waiting items.
    fn review_pump(&mut self, at: ReviewQueueId) {
        let now = self.sched.now();
        let q = &mut self.components[at];
        while q.busy < q.staffed {
            let Some(item) = q.waiting.pop_front() else {
                break;
            };
            let slot = match q.free.pop() {
                Some(s) => {
                    q.in_review[s as usize] = Some(item);
                    s
                }
                None => {
                    q.in_review.push(Some(item));
                    (q.in_review.len() - 1) as u32
                }
            };
            q.busy += 1;
            let done = now + q.review.sample(&mut q.review_rng);
            self.sched
                .schedule_at(done, Event::Review { queue: at, slot });
        }
        q.record_levels(now);
    }

    /// A review queue's timer: a review on `slot` ends, a shift changes,
    /// or the window ends.
    pub(crate) fn review_event(&mut self, at: ReviewQueueId, slot: u32) {
        let now = self.sched.now();
        let end = self.window_end;
        let q = &mut self.components[at];
        match slot {
            WINDOW_END => {
                q.backlog_end = q.backlog();
                return;
            }
            SHIFT => {
                q.shift = (q.shift + 1) % q.shifts.len();
                q.staffed = q.shifts[q.shift].reviewers;
                q.staffed_level.set(now, [u64::from(q.staffed)]);
                let next = now + q.shifts[q.shift].length;
                if next < end {
                    self.sched.schedule_at(
                        next,
                        Event::Review {
                            queue: at,
                            slot: SHIFT,
                        },
                    );
                }
            }
            _ => {
                let Some(item) = q.in_review.get_mut(slot as usize).and_then(Option::take) else {
                    misrouted();
                    return;
                };
                q.free.push(slot);
                q.busy -= 1;
                if item.counted && now >= q.window.0 && now < q.window.1 {
                    let age = now.saturating_since(item.enqueued);
                    q.metrics.completions += 1;
                    q.metrics.latency.record(age);
                }
                q.record_levels(now);
            }
        }
        self.review_pump(at);
    }
}
