//! A server's downstream calls: steps run in sequence; the calls of a step
//! run in parallel and the step ends when `wait_for` of them have answered;
//! a call that has not answered after `hedge_after` gets a second copy, the
//! first answer wins and later ones are counted as wasted work.
//!
//! Each logical call (one target of one step for one request) has an entry
//! in [`LogicalCalls`], shared by its copies; the child requests carry its
//! id as their tag. The entry lives until every copy has answered, so a late
//! copy always finds it, even after its parent has moved on or ended.

use sysdes_kernel::{ComponentId, TimerId};

use crate::kinds::ServerId;

use crate::kinds::server::HedgeStat;
use crate::request::{Outcome, RequestId};
use crate::simulation::{Event, Simulation};
use crate::spec::WaitFor;

/// Index of a logical call in [`LogicalCalls`].
pub(crate) type CallId = u32;

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
    hedge_timer: Option<TimerId>,
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
        let generation = self.requests.generation(req);
        let progress = &mut self.requests[req].calls;
        progress.step = step as u16;
        progress.pending = n as u16;
        progress.succeeded = 0;
        progress.needed = needed as u16;
        progress.epoch = progress.epoch.wrapping_add(1);
        let epoch = progress.epoch;
        for i in 0..n {
            let target = self.components[server].calls[step].targets[i];
            let call = self.calls.insert(LogicalCall {
                server,
                parent: req,
                generation,
                epoch,
                target,
                step: step as u16,
                copies: 0,
                resolved: false,
                hedge_timer: None,
            });
            self.send_copy(call);
            if let Some(after) = hedge_after {
                self.calls.slots[call as usize].hedge_timer =
                    Some(self.sched.schedule_timer_in(after, Event::Hedge { call }));
            }
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

    /// A hedge timer fired: if the call is still unanswered, send a copy.
    pub(crate) fn hedge(&mut self, call: CallId) {
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
        let (copies, parent) = (c.copies, c.parent);
        if !current {
            if counted {
                self.components[server].wasted_calls += 1;
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
        c.resolved = true;
        if copies == 0 {
            self.free_call(call);
        } else if let Some(timer) = self.calls.slots[call as usize].hedge_timer.take() {
            self.sched.cancel(timer);
        }
        let p = &mut self.requests[parent];
        p.calls.pending -= 1;
        if ok {
            p.calls.succeeded += 1;
            p.version = p.version.max(version);
        }
        let progress = p.calls;
        if progress.succeeded >= progress.needed {
            self.step_done(server, parent, true);
        } else if progress.succeeded + progress.pending < progress.needed {
            self.step_done(server, parent, false);
        }
    }

    fn free_call(&mut self, call: CallId) {
        if let Some(timer) = self.calls.slots[call as usize].hedge_timer.take() {
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
