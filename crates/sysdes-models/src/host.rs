//! Exact egalitarian processor sharing on a host with a fixed number of
//! cores: the CPU that co-located replicas share.
//!
//! While `n` jobs are active on a host with `c` cores, each job progresses at
//! rate `min(1, c / n)` (one job never uses more than one core). The host
//! keeps a *virtual clock* `V` that advances at that common rate; a job that
//! arrives at virtual time `V_a` with `w` nanoseconds of work (measured at one
//! full core) finishes exactly when `V` reaches `V_a + w`. Finish tags never
//! change once assigned, so the next job to finish is always the smallest tag
//! (a binary heap), and only the real time of that one completion has to be
//! recomputed whenever `n` changes: the engine keeps a single cancellable
//! timer per host and moves it.
//!
//! Virtual time is fixed point (`VSCALE` units per nanosecond of work) in
//! `u128`, so the module is exact integer arithmetic up to a rounding of
//! 2^-20 ns per update and perfectly deterministic. This module knows nothing
//! of requests or events: it stores an opaque `Copy` job payload.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use sysdes_kernel::{SimDuration, SimTime};

/// Virtual-time units per nanosecond of work.
const VSCALE: u128 = 1 << 20;

/// The shared CPU of one host: jobs in progress under egalitarian processor
/// sharing over `cores` cores.
#[derive(Debug, Clone)]
pub struct ProcessorSharing<J: Copy> {
    cores: u32,
    /// Virtual time, in `1 / VSCALE` ns of one-core work.
    virtual_now: u128,
    /// Real time up to which `virtual_now` is current.
    last: SimTime,
    /// `(finish tag, arrival sequence, slot)`, smallest first.
    heap: BinaryHeap<Reverse<(u128, u64, u32)>>,
    jobs: Vec<Option<J>>,
    free: Vec<u32>,
    seq: u64,
}

impl<J: Copy> ProcessorSharing<J> {
    /// An idle host with `cores` cores (at least one).
    pub fn new(cores: u32) -> Self {
        ProcessorSharing {
            cores: cores.max(1),
            virtual_now: 0,
            last: SimTime::ZERO,
            heap: BinaryHeap::new(),
            jobs: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }

    /// Number of cores.
    pub fn cores(&self) -> u32 {
        self.cores
    }

    /// Jobs in progress.
    pub fn active(&self) -> u32 {
        self.heap.len() as u32
    }

    /// Cores in use: `min(active, cores)`.
    pub fn busy_cores(&self) -> u32 {
        self.active().min(self.cores)
    }

    /// Brings the virtual clock forward to real time `now`.
    fn advance(&mut self, now: SimTime) {
        let dt = u128::from(now.as_nanos().saturating_sub(self.last.as_nanos()));
        let n = self.heap.len() as u128;
        let c = u128::from(self.cores);
        if n > 0 && dt > 0 {
            self.virtual_now += if n <= c {
                dt * VSCALE
            } else {
                dt * VSCALE * c / n
            };
        }
        self.last = self.last.max(now);
    }

    /// A job with `work` (time at one full core) starts at `now`.
    pub fn add(&mut self, now: SimTime, work: SimDuration, job: J) {
        self.advance(now);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.jobs[slot as usize] = Some(job);
                slot
            }
            None => {
                self.jobs.push(Some(job));
                (self.jobs.len() - 1) as u32
            }
        };
        let tag = self.virtual_now + u128::from(work.as_nanos()) * VSCALE;
        self.heap.push(Reverse((tag, self.seq, slot)));
        self.seq += 1;
    }

    /// The real time at which the next job finishes if nothing else arrives,
    /// as of `now` (which must not be before the last update). `None` if idle.
    pub fn next_completion(&mut self, now: SimTime) -> Option<SimTime> {
        self.advance(now);
        let &Reverse((tag, _, _)) = self.heap.peek()?;
        let left = tag.saturating_sub(self.virtual_now);
        let n = self.heap.len() as u128;
        let c = u128::from(self.cores);
        // Real ns = left / (VSCALE * rate), rate = min(1, c / n); rounded up
        // so the job has surely finished when the timer fires.
        let ns = if n <= c {
            left.div_ceil(VSCALE)
        } else {
            (left * n).div_ceil(VSCALE * c)
        };
        Some(now + SimDuration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX)))
    }

    /// Removes and returns the job that finishes first (call when the time
    /// given by [`ProcessorSharing::next_completion`] has come).
    pub fn complete(&mut self, now: SimTime) -> Option<J> {
        self.advance(now);
        let Reverse((tag, _, slot)) = self.heap.pop()?;
        // Rounding the timer up may leave the clock a hair short of the tag.
        self.virtual_now = self.virtual_now.max(tag);
        self.free.push(slot);
        self.jobs[slot as usize].take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }
    fn d(ns: u64) -> SimDuration {
        SimDuration::from_nanos(ns)
    }

    /// Drives the host to empty from `now`, returning (job, finish time).
    fn drain(ps: &mut ProcessorSharing<u32>, mut now: SimTime) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        while let Some(at) = ps.next_completion(now) {
            now = at;
            out.push((ps.complete(now).expect("a job"), now.as_nanos()));
        }
        out
    }

    #[test]
    fn one_job_runs_at_full_speed() {
        let mut ps = ProcessorSharing::new(4);
        ps.add(t(10), d(100), 7u32);
        assert_eq!(ps.next_completion(t(10)), Some(t(110)));
        assert_eq!(drain(&mut ps, t(10)), vec![(7, 110)]);
        assert_eq!(ps.active(), 0);
    }

    /// Two equal jobs on one core both take twice as long; with two cores
    /// neither slows down.
    #[test]
    fn equal_jobs_share_one_core() {
        let mut ps = ProcessorSharing::new(1);
        ps.add(t(0), d(100), 1u32);
        ps.add(t(0), d(100), 2u32);
        assert_eq!(drain(&mut ps, t(0)), vec![(1, 200), (2, 200)]);
        let mut ps = ProcessorSharing::new(2);
        ps.add(t(0), d(100), 1u32);
        ps.add(t(0), d(100), 2u32);
        assert_eq!(drain(&mut ps, t(0)), vec![(1, 100), (2, 100)]);
    }

    /// The textbook trace: on one core, A (work 4) at 0, B (work 2) at 1.
    /// A runs alone for 1 (3 left); then both at rate 1/2: B needs 4 more
    /// real units and ends at 5, when A has 1 left; A ends at 6.
    #[test]
    fn staggered_arrivals_reschedule_the_earliest_completion() {
        let unit = 1_000_000;
        let mut ps = ProcessorSharing::new(1);
        ps.add(t(0), d(4 * unit), 'A');
        assert_eq!(ps.next_completion(t(0)), Some(t(4 * unit)));
        ps.add(t(unit), d(2 * unit), 'B');
        assert_eq!(ps.next_completion(t(unit)), Some(t(5 * unit)));
        let mut out = Vec::new();
        let mut now = t(unit);
        while let Some(at) = ps.next_completion(now) {
            now = at;
            out.push((ps.complete(now).unwrap(), now.as_nanos()));
        }
        assert_eq!(out, vec![('B', 5 * unit), ('A', 6 * unit)]);
    }

    /// Three jobs on two cores: each runs at 2/3 until the first leaves.
    #[test]
    fn more_jobs_than_cores_slow_by_cores_over_active() {
        let mut ps = ProcessorSharing::new(2);
        ps.add(t(0), d(200), 1u32);
        ps.add(t(0), d(400), 2u32);
        ps.add(t(0), d(400), 3u32);
        // Job 1 needs 200 at rate 2/3: 300 ns. Then 2 and 3 have 200 left
        // each at full speed: done at 500.
        assert_eq!(drain(&mut ps, t(0)), vec![(1, 300), (2, 500), (3, 500)]);
    }

    /// Work is conserved: with more jobs than cores the host stays fully busy,
    /// so the last completion is at total work / cores.
    #[test]
    fn work_is_conserved() {
        let mut ps = ProcessorSharing::new(3);
        let works = [7u64, 130, 55, 1000, 3, 999, 250, 17, 400, 88];
        for (i, &w) in works.iter().enumerate() {
            ps.add(t(0), d(w * 1000), i as u32);
        }
        let out = drain(&mut ps, t(0));
        assert_eq!(out.len(), works.len());
        // Finish order is by work.
        let mut sorted: Vec<u64> = works.to_vec();
        sorted.sort_unstable();
        for (k, (job, _)) in out.iter().enumerate() {
            assert_eq!(works[*job as usize], sorted[k]);
        }
        // Until only two jobs remain at least three are active, so all three
        // cores are saturated: the completion that leaves two behind happens
        // at (work done so far) / 3, where the two survivors have each
        // received as much service as the job that just finished.
        let done_when_three_left = out[works.len() - 3].1;
        let work_done: u64 = sorted[..works.len() - 3].iter().sum::<u64>() * 1000
            + 3 * sorted[works.len() - 3] * 1000;
        let expected = work_done / 3;
        assert!(
            done_when_three_left.abs_diff(expected) <= 2,
            "{done_when_three_left} vs {expected}"
        );
    }
}
