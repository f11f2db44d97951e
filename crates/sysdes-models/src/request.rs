//! Requests in flight, stored once in a slab and referred to by id.

use sysdes_kernel::{ComponentId, SimTime, TimerId};

/// Index of a live request in the [`RequestSlab`].
pub(crate) type RequestId = u32;

/// The session of a request that belongs to no client session.
pub const NO_SESSION: u32 = u32::MAX;

/// How a request ended, as its caller will see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answered successfully.
    Ok,
    /// Refused because a queue was full.
    Dropped,
    /// Answered with an error (a failed downstream call, a crash, ...).
    Failed,
    /// Left a server's queue unserved: its client's patience ran out.
    Abandoned,
}

/// Whether a request reads or writes its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Reads the key's value.
    Read,
    /// Writes a new version of the key's value.
    Write,
}

/// One component a request is inside, innermost last.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hop {
    pub(crate) component: ComponentId,
    pub(crate) entered: SimTime,
    /// Component-specific note: the backend index a load balancer chose.
    pub(crate) choice: u32,
}

/// Who is waiting for a child request: the calling component, on behalf of
/// the parent request, with a tag the caller chose.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parent {
    pub(crate) req: RequestId,
    /// The parent slot's generation when the call was made: a late answer to
    /// a parent that has since ended is recognised and ignored.
    pub(crate) generation: u32,
    pub(crate) caller: ComponentId,
    pub(crate) tag: u32,
}

/// What a request is to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Sent by a workload's client; its end is counted in the results.
    Client,
    /// Sent by a component on behalf of a parent request (see `parent`).
    Child,
    /// Owned by a component, with no client waiting (a queued message).
    Internal,
    /// The slot is free.
    Freed,
}

/// Progress of a server's downstream calls for one request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CallProgress {
    /// Index of the current step of the server's `calls`.
    pub(crate) step: u16,
    /// Logical calls of the step not yet resolved.
    pub(crate) pending: u16,
    /// Logical calls of the step answered successfully.
    pub(crate) succeeded: u16,
    /// Successful answers the step needs.
    pub(crate) needed: u16,
    /// Counts steps started and ended, so answers to calls of a step that
    /// has ended are recognised.
    pub(crate) epoch: u32,
}

/// A request's state. Lives in the slab from its creation to the end of its
/// response; events carry only its id.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) workload: u32,
    /// When the client first sent it (retries keep the first attempt's time).
    pub(crate) born: SimTime,
    pub(crate) key: u64,
    pub(crate) op: Op,
    /// The client session ([`NO_SESSION`] if none).
    pub(crate) session: u32,
    /// The value version this request read or wrote (0 = none yet).
    pub(crate) version: u64,
    /// Arrived in the measurement window, so it counts in the results.
    pub(crate) counted: bool,
    /// The client stopped waiting (timed out); the response is discarded.
    pub(crate) abandoned: bool,
    pub(crate) outcome: Outcome,
    pub(crate) origin: Origin,
    pub(crate) parent: Option<Parent>,
    /// 0 for a client's first attempt, then 1, 2, ... for retries.
    pub(crate) attempt: u8,
    /// Its priority at servers with a priority discipline: its trace
    /// record's `class` if it has one, else its workload's `priority`.
    pub(crate) priority: u8,
    /// Its trace record's index + 1 when that record gives token counts or
    /// payload sizes (0: none); children and retries inherit it.
    pub(crate) trace: u32,
    pub(crate) timeout: Option<TimerId>,
    pub(crate) calls: CallProgress,
    /// The components the request is inside, as a stack: responses unwind it.
    pub(crate) hops: Vec<Hop>,
    /// Failed by a crash while in service, its `ServiceDone` still
    /// pending: the slot is not reused until that event has passed.
    pub(crate) pinned: bool,
    /// Removed while pinned; freed when unpinned.
    release_pending: bool,
}

/// A slab of requests with a free list. Freed slots keep their `hops`
/// buffer, so once the number in flight stops growing nothing is allocated.
#[derive(Debug, Default)]
pub(crate) struct RequestSlab {
    slots: Vec<Request>,
    generations: Vec<u32>,
    free: Vec<RequestId>,
}

/// The fields a new request starts with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewRequest {
    pub(crate) workload: u32,
    pub(crate) born: SimTime,
    pub(crate) key: u64,
    pub(crate) op: Op,
    pub(crate) session: u32,
    pub(crate) counted: bool,
    pub(crate) origin: Origin,
    pub(crate) priority: u8,
}

impl RequestSlab {
    /// The most requests ever in flight at once (the slab never shrinks, so
    /// this is its size).
    pub(crate) fn peak(&self) -> usize {
        self.slots.len()
    }

    /// Stores a new request and returns its id.
    #[inline(always)]
    pub(crate) fn insert(&mut self, new: NewRequest) -> RequestId {
        match self.free.pop() {
            Some(id) => {
                let r = &mut self.slots[id as usize];
                r.workload = new.workload;
                r.born = new.born;
                r.key = new.key;
                r.op = new.op;
                r.session = new.session;
                r.version = 0;
                r.counted = new.counted;
                r.abandoned = false;
                r.outcome = Outcome::Ok;
                r.origin = new.origin;
                r.parent = None;
                r.attempt = 0;
                r.priority = new.priority;
                r.trace = 0;
                r.timeout = None;
                r.calls = CallProgress::default();
                r.hops.clear();
                r.pinned = false;
                r.release_pending = false;
                self.generations[id as usize] = self.generations[id as usize].wrapping_add(1);
                id
            }
            None => {
                self.slots.push(Request {
                    workload: new.workload,
                    born: new.born,
                    key: new.key,
                    op: new.op,
                    session: new.session,
                    version: 0,
                    counted: new.counted,
                    abandoned: false,
                    outcome: Outcome::Ok,
                    origin: new.origin,
                    parent: None,
                    attempt: 0,
                    priority: new.priority,
                    trace: 0,
                    timeout: None,
                    calls: CallProgress::default(),
                    hops: Vec::with_capacity(4),
                    pinned: false,
                    release_pending: false,
                });
                self.generations.push(0);
                (self.slots.len() - 1) as RequestId
            }
        }
    }

    /// The generation of a slot: it changes every time the slot is reused.
    #[inline]
    pub(crate) fn generation(&self, id: RequestId) -> u32 {
        self.generations[id as usize]
    }

    /// Whether `id` still holds the request that had `generation`.
    #[inline]
    pub(crate) fn is_live(&self, id: RequestId, generation: u32) -> bool {
        self.generations.get(id as usize) == Some(&generation)
            && self.slots[id as usize].origin != Origin::Freed
    }

    /// Releases a request's slot for reuse.
    #[inline(always)]
    pub(crate) fn remove(&mut self, id: RequestId) {
        let r = &mut self.slots[id as usize];
        r.origin = Origin::Freed;
        if r.pinned {
            r.release_pending = true;
            return;
        }
        self.free.push(id);
    }

    /// The stale event a pinned request waited for has passed;
    /// frees the slot if the request has already ended.
    pub(crate) fn unpin(&mut self, id: RequestId) {
        let r = &mut self.slots[id as usize];
        r.pinned = false;
        if r.release_pending {
            r.release_pending = false;
            self.free.push(id);
        }
    }

    /// Live requests (any origin) whose innermost hop is `component`.
    pub(crate) fn inside(&self, component: ComponentId) -> Vec<RequestId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.origin != Origin::Freed && r.hops.last().is_some_and(|h| h.component == component)
            })
            .map(|(i, _)| i as RequestId)
            .collect()
    }

    /// Number of requests in flight (client requests, calls and messages).
    #[inline]
    pub(crate) fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Per workload, counted client requests still in flight and still
    /// awaited by their client (a timed-out request is already accounted for).
    pub(crate) fn live_counted_by_workload(&self, workloads: usize) -> Vec<u64> {
        let mut counts = vec![0; workloads];
        for r in self
            .slots
            .iter()
            .filter(|r| r.origin == Origin::Client && r.counted && !r.abandoned)
        {
            counts[r.workload as usize] += 1;
        }
        counts
    }
}

impl std::ops::Index<RequestId> for RequestSlab {
    type Output = Request;
    #[inline]
    fn index(&self, id: RequestId) -> &Request {
        &self.slots[id as usize]
    }
}

impl std::ops::IndexMut<RequestId> for RequestSlab {
    #[inline]
    fn index_mut(&mut self, id: RequestId) -> &mut Request {
        &mut self.slots[id as usize]
    }
}

#[cfg(test)]
mod size_tests {
    /// The slab's slot size. Measured 2026-12-05: 104 bytes before the
    /// one-byte `priority` (a trace's `class`), 112 with it (eight one-byte
    /// fields filled the padding already). Growing it further costs cache
    /// lines per request in flight: change this bound only on purpose.
    #[test]
    fn a_request_stays_small() {
        assert!(std::mem::size_of::<super::Request>() <= 112);
    }
}
