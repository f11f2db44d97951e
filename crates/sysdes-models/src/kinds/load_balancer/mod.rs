//! Load balancers: choose one backend per request.

pub(crate) mod sim;

use rand::RngExt;
use sysdes_kernel::{ComponentId, RngStream, stable_hash};

use crate::spec::{KeySpec, LbPolicy};
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
        let ring = if policy == LbPolicy::ConsistentHash {
            hash_ring(backend_names)
        } else {
            Vec::new()
        };
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
            LbPolicy::ConsistentHash => ring_lookup(&self.ring, key),
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

/// The consistent-hash ring: `VIRTUAL_NODES` points per backend, sorted.
fn hash_ring(backend_names: &[&str]) -> Vec<(u64, u32)> {
    let mut ring = Vec::with_capacity(backend_names.len() * VIRTUAL_NODES as usize);
    for (i, name) in backend_names.iter().enumerate() {
        for v in 0..VIRTUAL_NODES {
            ring.push((stable_hash(format!("{name}#{v}").as_bytes()), i as u32));
        }
    }
    ring.sort_unstable();
    ring
}

/// The backend index owning `key`: the first ring point at or after its hash.
#[inline]
fn ring_lookup(ring: &[(u64, u32)], key: u64) -> usize {
    let point = stable_hash(&key.to_le_bytes());
    let at = ring.partition_point(|&(p, _)| p < point);
    ring[if at == ring.len() { 0 } else { at }].1 as usize
}

/// Most keys [`consistent_hash_shares`] enumerates.
const MAX_ENUMERATED_KEYS: u64 = 2_000_000;

/// The exact share of requests each backend receives under consistent
/// hashing, for workloads whose keys are drawn independently (`uniform` or
/// `zipf` over at most 2,000,000 keys): the ring is deterministic, so the
/// share is the probability mass of the keys it owns. `None` for unique
/// keys (even on average) or larger key spaces.
pub fn consistent_hash_shares(backend_names: &[&str], keys: &KeySpec) -> Option<Vec<f64>> {
    let (n, weight): (u64, Box<dyn Fn(u64) -> f64>) = match *keys {
        KeySpec::Uniform { n } => (n, Box::new(|_| 1.0)),
        // `libm::pow`, not `f64::powf`: these shares feed the theory column,
        // which must be the same bits natively and in WebAssembly.
        KeySpec::Zipf { n, s } => (n, Box::new(move |k| libm::pow((k + 1) as f64, -s))),
        KeySpec::Hotspot {
            n,
            hot_fraction,
            hot_share,
        } => {
            let hot =
                ((n as f64 * hot_fraction).round() as u64).clamp(1, n.saturating_sub(1).max(1));
            let (hot_w, cold_w) = (
                hot_share / hot as f64,
                (1.0 - hot_share) / (n - hot).max(1) as f64,
            );
            (n, Box::new(move |k| if k < hot { hot_w } else { cold_w }))
        }
        KeySpec::Unique => return None,
    };
    if n == 0 || n > MAX_ENUMERATED_KEYS || backend_names.is_empty() {
        return None;
    }
    let ring = hash_ring(backend_names);
    let mut shares = vec![0.0; backend_names.len()];
    for key in 0..n {
        shares[ring_lookup(&ring, key)] += weight(key);
    }
    let total: f64 = shares.iter().sum();
    Some(shares.into_iter().map(|x| x / total).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station::StationMetrics;
    use sysdes_kernel::{SimTime, derive_stream};

    /// The shares the estimate uses are exactly the balancer's choices:
    /// routing every key of a uniform key space once reproduces them.
    #[test]
    fn consistent_hash_shares_are_the_balancers_choices() {
        let names = ["a", "b", "c"];
        let mut lb = LoadBalancer::new(
            LbPolicy::ConsistentHash,
            (0..3).map(ComponentId).collect(),
            &names,
            derive_stream(1, "lb", "balance"),
            StationMetrics::new(SimTime::ZERO, SimTime::from_nanos(1)),
        );
        let n = 10_000u64;
        let mut counts = [0u64; 3];
        for key in 0..n {
            counts[lb.choose(key).0 as usize] += 1;
        }
        let shares = consistent_hash_shares(&names, &KeySpec::Uniform { n }).expect("enumerable");
        for (count, share) in counts.iter().zip(&shares) {
            assert!((*count as f64 / n as f64 - share).abs() < 1e-12);
        }
        assert!(
            shares.iter().any(|s| (s - 1.0 / 3.0).abs() > 0.01),
            "a ring is not perfectly even"
        );
        assert!(consistent_hash_shares(&names, &KeySpec::Unique).is_none());
    }
}
