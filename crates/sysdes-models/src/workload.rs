//! Workloads: where requests come from.

use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime};
use sysdes_stats::{LatencyHistogram, RequestCounts};

use crate::sampler::{KeySampler, Sampler};

/// How the next request of a workload is timed.
#[derive(Debug)]
pub(crate) enum Pacing {
    /// Open loop with random gaps (Poisson is exponential gaps).
    RandomGaps { gaps: Sampler, rng: RngStream },
    /// Open loop, the k-th arrival at `round(k * period)`: exact, no drift.
    Periodic { period_ns: f64, sent: u64 },
    /// Closed loop: each user thinks, sends, waits for the response.
    Closed {
        users: u32,
        think: Sampler,
        rng: RngStream,
    },
}

/// A workload's state and the client-side measurements of its requests.
#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) target: ComponentId,
    pub(crate) pacing: Pacing,
    pub(crate) keys: KeySampler,
    pub(crate) key_rng: RngStream,
    pub(crate) timeout: Option<SimDuration>,
    pub(crate) counts: RequestCounts,
    /// End-to-end latency of successful counted requests.
    pub(crate) latency: LatencyHistogram,
}

impl Workload {
    /// When the first open-loop arrival happens, if this workload is open.
    pub(crate) fn first_arrival(&mut self) -> Option<SimTime> {
        match &mut self.pacing {
            Pacing::RandomGaps { gaps, rng } => Some(SimTime::ZERO + gaps.sample(rng)),
            Pacing::Periodic { sent, .. } => {
                *sent = 0;
                Some(SimTime::ZERO)
            }
            Pacing::Closed { .. } => None,
        }
    }

    /// When the open-loop arrival after the one at `now` happens.
    #[inline]
    pub(crate) fn next_arrival(&mut self, now: SimTime) -> SimTime {
        match &mut self.pacing {
            Pacing::RandomGaps { gaps, rng } => now + gaps.sample(rng),
            Pacing::Periodic { period_ns, sent } => {
                *sent += 1;
                SimTime::from_nanos((*sent as f64 * *period_ns).round() as u64)
            }
            // Closed workloads are paced by responses, not by arrivals.
            Pacing::Closed { .. } => SimTime::MAX,
        }
    }

    /// For a closed workload, a think time before the user's next request.
    #[inline]
    pub(crate) fn think(&mut self) -> Option<SimDuration> {
        match &mut self.pacing {
            Pacing::Closed { think, rng, .. } => Some(think.sample(rng)),
            _ => None,
        }
    }

    /// Number of users of a closed workload (0 for an open one).
    pub(crate) fn users(&self) -> u32 {
        match self.pacing {
            Pacing::Closed { users, .. } => users,
            _ => 0,
        }
    }
}
