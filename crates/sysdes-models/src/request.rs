//! Requests in flight, stored once in a slab and referred to by id.

use sysdes_kernel::{ComponentId, SimTime, TimerId};

/// Index of a live request in the [`RequestSlab`].
pub(crate) type RequestId = u32;

/// How a request ended, as the client will see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Dropped,
    Failed,
}

/// TEMP
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// r
    Read,
    /// w
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

/// A request's state. Lives in the slab from arrival to the client's receipt
/// of the response; events carry only its id.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) workload: u32,
    pub(crate) born: SimTime,
    pub(crate) key: u64,
    pub(crate) op: Op,
    pub(crate) session: u32,
    pub(crate) version: u64,
    /// Arrived in the measurement window, so it counts in the results.
    pub(crate) counted: bool,
    /// The client stopped waiting (timed out); the response is discarded.
    pub(crate) abandoned: bool,
    pub(crate) outcome: Outcome,
    pub(crate) timeout: Option<TimerId>,
    /// The components the request is inside, as a stack: responses unwind it.
    pub(crate) hops: Vec<Hop>,
}

/// A slab of requests with a free list. Freed slots keep their `hops`
/// buffer, so once the number in flight stops growing nothing is allocated.
#[derive(Debug, Default)]
pub(crate) struct RequestSlab {
    slots: Vec<Request>,
    free: Vec<RequestId>,
}

impl RequestSlab {
    /// The most requests ever in flight at once (the slab never shrinks, so
    /// this is its size).
    pub(crate) fn peak(&self) -> usize {
        self.slots.len()
    }
}

impl RequestSlab {
    /// Stores a new request and returns its id.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        workload: u32,
        born: SimTime,
        key: u64,
        counted: bool,
    ) -> RequestId {
        match self.free.pop() {
            Some(id) => {
                let r = &mut self.slots[id as usize];
                r.workload = workload;
                r.born = born;
                r.key = key;
                r.op = Op::Read;
                r.session = u32::MAX;
                r.version = 0;
                r.counted = counted;
                r.abandoned = false;
                r.outcome = Outcome::Ok;
                r.timeout = None;
                r.hops.clear();
                id
            }
            None => {
                self.slots.push(Request {
                    workload,
                    born,
                    key,
                    op: Op::Read,
                    session: u32::MAX,
                    version: 0,
                    counted,
                    abandoned: false,
                    outcome: Outcome::Ok,
                    timeout: None,
                    hops: Vec::with_capacity(4),
                });
                (self.slots.len() - 1) as RequestId
            }
        }
    }

    /// Releases a request's slot for reuse.
    #[inline]
    pub(crate) fn remove(&mut self, id: RequestId) {
        self.free.push(id);
    }

    /// Number of requests in flight.
    #[inline]
    pub(crate) fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Per workload, counted requests still in flight and still awaited by
    /// their client (a timed-out request is already accounted for).
    pub(crate) fn live_counted_by_workload(&self, workloads: usize) -> Vec<u64> {
        let mut free = vec![false; self.slots.len()];
        for &id in &self.free {
            free[id as usize] = true;
        }
        let mut counts = vec![0; workloads];
        for (r, _) in self
            .slots
            .iter()
            .zip(&free)
            .filter(|(r, f)| !**f && r.counted && !r.abandoned)
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
