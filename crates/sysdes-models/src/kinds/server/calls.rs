//! A server's downstream calls: steps run in sequence; the calls of a step
//! run in parallel and the step ends when `wait_for` of them have answered;
//! a call that has not answered after `hedge_after` gets a second copy, the
//! first answer wins and later ones are counted as wasted work.
//!
//! A step with `timeout` arms a deadline per call: a call not answered by
//! then fails (or, with `partial`, the step ends with the answers it has);
//! answers that come after it are counted as late. A step with a `breaker`
//! asks it before each call (see `breaker.rs`); every call's outcome (its
//! first success, the failure of its last copy, or its deadline) is told to
//! the breaker once, whether or not its step still waits for it.
//!
//! Deadline timers travel in the engine's `Event::Hedge` with
//! [`DEADLINE`] set in the call id, so the engine needs no event of its own
//! for them.
//!
//! Each logical call (one target of one step for one request) has an entry
//! in [`LogicalCalls`], shared by its copies; the child requests carry its
//! id as their tag. The entry lives until every copy has answered, so a late
//! copy always finds it, even after its parent has moved on or ended.

use sysdes_kernel::{ComponentId, TimerId};

use crate::kinds::ServerId;

use crate::kinds::server::HedgeStat;
use crate::kinds::server::breaker::{Admit, Breaker, Transition};
use crate::kinds::server::figures::CallFigures;
use crate::request::{Outcome, RequestId};
use crate::simulation::{Event, Simulation};
use crate::spec::{CallStep, WaitFor};

/// Index of a logical call in [`LogicalCalls`].
pub(crate) type CallId = u32;

/// Set in the id an `Event::Hedge` carries when the timer is a call's
/// deadline rather than its hedge (slab indices stay far below it: calls in
/// flight are bounded by the run's in-flight limit).
const DEADLINE: CallId = 1 << 31;

/// One logical call and its copies.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogicalCall {
    server: ServerId,
    parent: RequestId,
    generation: u32,
    /// The parent's step counter when the call was made: a mismatch means
    /// the step has ended and this call no longer matters.
    epoch: u32,
    target: ComponentId,
    /// Index of the step in the server's `calls`.
    step: u16,
    /// Copies sent and not yet answered.
    copies: u8,
    resolved: bool,
    /// The parent was counted (not warm-up).
    counted: bool,
    /// Still unresolved when its deadline came: its answers are late.
    timed_out: bool,
    /// Its outcome has been told to the step's breaker (or there is none).
    recorded: bool,
    /// How the step's breaker let it out.
    admit: Admit,
    hedge_timer: Option<TimerId>,
    deadline_timer: Option<TimerId>,
}

/// A server's deadlines, partial answers and breakers: per-step state and
/// the counts it reports (counted requests only).
#[derive(Debug, Default)]
pub(crate) struct Resilience {
    /// Per step: its breaker, if it has one.
    pub(crate) breakers: Vec<Option<Breaker>>,
    /// Calls failed at once by an open breaker.
    pub(crate) short_circuited: u64,
    /// Calls not answered by their deadline.
    pub(crate) call_timeouts: u64,
    /// Answers that came after their call's deadline.
    pub(crate) late_calls: u64,
    /// Steps that ended short of `wait_for` with the answers they had, and
    /// the successful answers those steps included.
    pub(crate) partial_answers: u64,
    pub(crate) partial_answer_calls: u64,
    /// Breaker transitions to open and back to closed.
    pub(crate) breaker_opened: u64,
    pub(crate) breaker_closed: u64,
}

impl Resilience {
    /// The state for `steps`, with a breaker where a step asks for one.
    pub(crate) fn new(steps: &[CallStep]) -> Self {
        Resilience {
            breakers: steps.iter().map(|s| s.breaker.map(Breaker::new)).collect(),
            ..Resilience::default()
        }
    }

    /// Its figures: each group only if some step uses the feature.
    pub(crate) fn figures(&self, steps: &[CallStep], f: &mut CallFigures) {
        if steps.iter().any(|s| s.timeout.is_some()) {
            f.call_timeouts = Some(self.call_timeouts);
            f.late_calls = Some(self.late_calls);
        }
        if steps.iter().any(|s| s.partial) {
            f.partial_answers = Some(self.partial_answers);
            f.partial_answer_calls = Some(self.partial_answer_calls);
        }
        if steps.iter().any(|s| s.breaker.is_some()) {
            f.short_circuited = Some(self.short_circuited);
            f.breaker_opened = Some(self.breaker_opened);
            f.breaker_closed = Some(self.breaker_closed);
        }
    }
}

/// A slab of logical calls with a free list (no allocation in steady state).
#[derive(Debug, Default)]
pub(crate) struct LogicalCalls {
    slots: Vec<LogicalCall>,
    free: Vec<CallId>,
}

impl LogicalCalls {
    fn insert(&mut self, call: LogicalCall) -> CallId {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = call;
                id
            }
            None => {
                self.slots.push(call);
                (self.slots.len() - 1) as CallId
            }
        }
    }

    fn remove(&mut self, id: CallId) {
        self.free.push(id);
    }
}

impl Simulation {
    /// Starts step `step` of `server`'s calls for `req`.
    pub(crate) fn start_step(&mut self, server: ServerId, req: RequestId, step: usize) {
        let s = &self.components[server];
        let spec = &s.calls[step];
        let n = spec.targets.len();
        let needed = match spec.wait_for {
            WaitFor::All => n,
            WaitFor::Any => 1,
            WaitFor::Count(k) => usize::from(k).min(n),
        };
        let hedge_after = spec
            .hedge_after
            .or_else(|| s.hedge_stats[step].as_ref().and_then(HedgeStat::delay));
        let timeout = spec.timeout;
        let generation = self.requests.generation(req);
        let counted = self.requests[req].counted;
        let progress = &mut self.requests[req].calls;
        progress.step = step as u16;
        progress.pending = n as u16;
        progress.succeeded = 0;
        progress.needed = needed as u16;
        progress.epoch = progress.epoch.wrapping_add(1);
        let epoch = progress.epoch;
        let now = self.sched.now();
        let mut rejected = 0;
        for i in 0..n {
            let s = &mut self.components[server];
            let target = s.calls[step].targets[i];
            let admit = match &mut s.resilience.breakers[step] {
                Some(b) => b.admit(now),
                None => Admit::Send,
            };
            if admit == Admit::Reject {
                rejected += 1;
                if counted {
                    s.resilience.short_circuited += 1;
                }
                continue;
            }
            let call = self.calls.insert(LogicalCall {
                server,
                parent: req,
                generation,
                epoch,
                target,
                step: step as u16,
                copies: 0,
                resolved: false,
                counted,
                timed_out: false,
                recorded: s.resilience.breakers[step].is_none(),
                admit,
                hedge_timer: None,
                deadline_timer: None,
            });
            self.send_copy(call);
            if let Some(after) = hedge_after {
                self.calls.slots[call as usize].hedge_timer =
                    Some(self.sched.schedule_timer_in(after, Event::Hedge { call }));
            }
            if let Some(after) = timeout {
                self.calls.slots[call as usize].deadline_timer =
                    Some(self.sched.schedule_timer_in(
                        after,
                        Event::Hedge {
                            call: call | DEADLINE,
                        },
                    ));
            }
        }
        if rejected > 0 {
            self.requests[req].calls.pending -= rejected;
            self.check_step(server, req);
        }
    }

    fn send_copy(&mut self, call: CallId) {
        let c = &mut self.calls.slots[call as usize];
        c.copies += 1;
        let (server, target, parent) = (c.server, c.target, c.parent);
        let from = self.components.id(server);
        self.call(from, target, parent, call);
    }

    /// Whether `call` still matters: unresolved, its parent alive and still
    /// in the step that made it.
    fn call_is_current(&self, call: &LogicalCall) -> bool {
        !call.resolved
            && self.requests.is_live(call.parent, call.generation)
            && self.requests[call.parent].calls.epoch == call.epoch
    }

    /// A call's timer fired (the engine's `Event::Hedge`): its deadline if
    /// the id has [`DEADLINE`] set, else its hedge.
    pub(crate) fn hedge(&mut self, call: CallId) {
        if call & DEADLINE != 0 {
            self.call_deadline(call & !DEADLINE);
            return;
        }
        let c = self.calls.slots[call as usize];
        self.calls.slots[call as usize].hedge_timer = None;
        if !self.call_is_current(&c) {
            return;
        }
        if self.requests[c.parent].counted {
            self.components[c.server].hedges += 1;
        }
        self.send_copy(call);
    }

    /// A call's deadline came before its answer: it has failed (it is told
    /// to the breaker so), and its step either goes on without it or, when
    /// `partial`, ends now with the answers it has.
    fn call_deadline(&mut self, call: CallId) {
        let current = self.call_is_current(&self.calls.slots[call as usize]);
        let c = &mut self.calls.slots[call as usize];
        c.deadline_timer = None;
        if c.resolved {
            return;
        }
        c.timed_out = true;
        let (server, parent, step, counted) = (c.server, c.parent, usize::from(c.step), c.counted);
        if counted {
            {
                let s = &mut self.components[server];
                s.resilience.call_timeouts += 1;
            }
        }
        self.record_outcome(call, false);
        if !current {
            return;
        }
        let c = &mut self.calls.slots[call as usize];
        c.resolved = true;
        if let Some(timer) = c.hedge_timer.take() {
            self.sched.cancel(timer);
        }
        let s = &self.components[server];
        if s.calls[step].partial {
            self.partial_done(server, parent);
            return;
        }
        self.requests[parent].calls.pending -= 1;
        self.check_step(server, parent);
    }

    /// Tells `call`'s outcome to its step's breaker, once.
    fn record_outcome(&mut self, call: CallId, ok: bool) {
        let c = &mut self.calls.slots[call as usize];
        if c.recorded {
            return;
        }
        c.recorded = true;
        let (server, step, admit, counted) = (c.server, usize::from(c.step), c.admit, c.counted);
        let now = self.sched.now();
        let s = &mut self.components[server];
        let Some(breaker) = s.resilience.breakers[step].as_mut() else {
            return;
        };
        match breaker.record(now, admit, ok) {
            Transition::Opened if counted => s.resilience.breaker_opened += 1,
            Transition::Closed if counted => s.resilience.breaker_closed += 1,
            _ => {}
        }
    }

    /// Ends `req`'s step if it is decided: enough successes, or (without
    /// `partial`) too many failures, or (with it) nothing left to wait for.
    fn check_step(&mut self, server: ServerId, req: RequestId) {
        let progress = self.requests[req].calls;
        if progress.succeeded >= progress.needed {
            self.step_done(server, req, true);
        } else if progress.succeeded + progress.pending < progress.needed {
            let s = &self.components[server];
            if !s.calls[usize::from(progress.step)].partial {
                self.step_done(server, req, false);
            } else if progress.pending == 0 {
                self.partial_done(server, req);
            }
        }
    }

    /// A `partial` step ends short of its `wait_for`, with the successful
    /// answers it has: the request goes on as if the step had succeeded.
    fn partial_done(&mut self, server: ServerId, req: RequestId) {
        let r = &self.requests[req];
        let (counted, answers) = (r.counted, r.calls.succeeded);
        if counted {
            {
                let s = &mut self.components[server];
                s.resilience.partial_answers += 1;
                s.resilience.partial_answer_calls += u64::from(answers);
            }
        }
        self.step_done(server, req, true);
    }

    /// One copy of a server's call has answered.
    pub(crate) fn server_call_returned(
        &mut self,
        server: ServerId,
        _parent: Option<RequestId>,
        child: RequestId,
        call: u32,
    ) {
        let (ok, version, counted, sent) = {
            let c = &self.requests[child];
            (c.outcome == Outcome::Ok, c.version, c.counted, c.born)
        };
        let step = usize::from(self.calls.slots[call as usize].step);
        if let Some(Some(stat)) = self.components[server].hedge_stats.get_mut(step) {
            stat.observe(self.sched.now() - sent);
        }
        let current = self.call_is_current(&self.calls.slots[call as usize]);
        let c = &mut self.calls.slots[call as usize];
        c.copies -= 1;
        let (copies, parent, late) = (c.copies, c.parent, c.timed_out);
        if ok || copies == 0 {
            self.record_outcome(call, ok);
        }
        if !current {
            if counted {
                let s = &mut self.components[server];
                s.wasted_calls += 1;
                if late {
                    s.resilience.late_calls += 1;
                }
            }
            if copies == 0 {
                self.free_call(call);
            }
            return;
        }
        if !ok && copies > 0 {
            // Another copy may still succeed.
            return;
        }
        let c = &mut self.calls.slots[call as usize];
        c.resolved = true;
        if copies == 0 {
            self.free_call(call);
        } else {
            let c = &mut self.calls.slots[call as usize];
            for timer in [c.hedge_timer.take(), c.deadline_timer.take()]
                .into_iter()
                .flatten()
            {
                self.sched.cancel(timer);
            }
        }
        let p = &mut self.requests[parent];
        p.calls.pending -= 1;
        if ok {
            p.calls.succeeded += 1;
            p.version = p.version.max(version);
        }
        self.check_step(server, parent);
    }

    fn free_call(&mut self, call: CallId) {
        let c = &mut self.calls.slots[call as usize];
        for timer in [c.hedge_timer.take(), c.deadline_timer.take()]
            .into_iter()
            .flatten()
        {
            self.sched.cancel(timer);
        }
        self.calls.remove(call);
    }

    /// A step of `req`'s calls has ended: on to the next step, or answer.
    fn step_done(&mut self, server: ServerId, req: RequestId, succeeded: bool) {
        let r = &mut self.requests[req];
        // Calls still out for this step no longer matter.
        r.calls.epoch = r.calls.epoch.wrapping_add(1);
        let next = usize::from(r.calls.step) + 1;
        let counted = r.counted;
        let s = &mut self.components[server];
        if !succeeded {
            if counted {
                s.failed_calls += 1;
            }
            self.requests[req].outcome = Outcome::Failed;
            self.server_answers(server, req);
        } else if next < s.calls.len() {
            self.start_step(server, req, next);
        } else {
            self.server_answers(server, req);
        }
    }
}
