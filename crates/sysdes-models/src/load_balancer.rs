//! Load balancers: choose one backend per request.

use rand::RngExt;
use sysdes_kernel::{ComponentId, RngStream, stable_hash};

use crate::spec::LbPolicy;
use crate::station::StationMetrics;

/// Virtual nodes per backend on the consistent-hash ring; 100 keeps the
/// load of each backend within a few percent of even.
const VIRTUAL_NODES: u32 = 100;

/// A load balancer's state. It sees every response on the way back, so it
/// knows exactly how many requests each backend has outstanding from it.
#[derive(Debug)]
pub(crate) struct LoadBalancer {
    policy: LbPolicy,
    backends: Vec<ComponentId>,
    outstanding: Vec<u32>,
    next: usize,
    rng: RngStream,
    /// `(point, backend index)` sorted by point; empty unless consistent hashing.
    ring: Vec<(u64, u32)>,
    pub(crate) metrics: StationMetrics,
}

impl LoadBalancer {
    pub(crate) fn new(
        policy: LbPolicy,
        backends: Vec<ComponentId>,
        backend_names: &[&str],
        rng: RngStream,
        metrics: StationMetrics,
    ) -> Self {
        let mut ring = Vec::new();
        if policy == LbPolicy::ConsistentHash {
            for (i, name) in backend_names.iter().enumerate() {
                for v in 0..VIRTUAL_NODES {
                    let point = stable_hash(format!("{name}#{v}").as_bytes());
                    ring.push((point, i as u32));
                }
            }
            ring.sort_unstable();
        }
        LoadBalancer {
            policy,
            outstanding: vec![0; backends.len()],
            backends,
            next: 0,
            rng,
            ring,
            metrics,
        }
    }

    /// Picks a backend for a request with `key`; returns its index and id,
    /// and counts it as outstanding until [`LoadBalancer::responded`].
    #[inline]
    pub(crate) fn choose(&mut self, key: u64) -> (u32, ComponentId) {
        let n = self.backends.len();
        let index = match self.policy {
            LbPolicy::RoundRobin => {
                let i = self.next;
                self.next = if i + 1 == n { 0 } else { i + 1 };
                i
            }
            LbPolicy::Random => self.rng.random_range(0..n),
            LbPolicy::LeastOutstanding => self.least_outstanding(),
            LbPolicy::PowerOfTwo => {
                if n == 1 {
                    0
                } else {
                    let a = self.rng.random_range(0..n);
                    let mut b = self.rng.random_range(0..n - 1);
                    if b >= a {
                        b += 1;
                    }
                    // `a` is uniformly random, so preferring it on a tie is a
                    // random tie-break.
                    if self.outstanding[b] < self.outstanding[a] {
                        b
                    } else {
                        a
                    }
                }
            }
            LbPolicy::ConsistentHash => {
                let point = stable_hash(&key.to_le_bytes());
                let at = self.ring.partition_point(|&(p, _)| p < point);
                self.ring[if at == self.ring.len() { 0 } else { at }].1 as usize
            }
        };
        self.outstanding[index] += 1;
        (index as u32, self.backends[index])
    }

    /// The fewest-outstanding backend, ties broken uniformly at random
    /// (reservoir sampling over the tied backends).
    fn least_outstanding(&mut self) -> usize {
        let mut best = 0;
        let mut ties = 0u32;
        for (i, &o) in self.outstanding.iter().enumerate() {
            if o < self.outstanding[best] {
                best = i;
                ties = 1;
            } else if o == self.outstanding[best] {
                ties += 1;
                if ties > 1 && self.rng.random_range(0..ties) == 0 {
                    best = i;
                }
            }
        }
        best
    }

    /// A response from backend `index` passed back through.
    #[inline]
    pub(crate) fn responded(&mut self, index: u32) {
        self.outstanding[index as usize] -= 1;
    }
}
