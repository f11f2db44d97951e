//! Load balancers: choose one backend per request.

pub(crate) mod figures;
pub mod llm_route;
pub(crate) mod sim;
pub mod spec;

use rand::RngExt;
use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime, stable_hash};

use spec::{LbRouting, WeightPhase};

use crate::figures::BalancerFigures;
use crate::request::RequestId;
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
    /// Weighted routing; `None` routes exactly as the plain policy.
    weighted: Option<Weighted>,
    /// Shadow traffic, when configured.
    shadow: Option<Shadow>,
    /// Health checks, when configured.
    pub(crate) health: Option<Health>,
    /// LLM-aware routing (`least_kv`, `prefix_affinity`), when the policy
    /// is one; the engine picks the backend from the replicas' loads.
    pub(crate) llm: Option<llm_route::LlmRoute>,
    pub(crate) metrics: StationMetrics,
}

/// Health-check state: failures in a row per backend, and the probes.
#[derive(Debug)]
pub(crate) struct Health {
    pub(crate) failures: u32,
    pub(crate) interval: SimDuration,
    /// Consecutive failed answers per backend.
    pub(crate) failed_in_row: Vec<u32>,
    /// Whether each backend is ejected.
    pub(crate) out: Vec<bool>,
    /// Each backend's probe request, made at its first ejection.
    pub(crate) probe: Vec<Option<RequestId>>,
    /// No probe is scheduled at or after this time, so the run can drain.
    pub(crate) window_end: SimTime,
    pub(crate) ejections: u64,
    pub(crate) probes: u64,
}

/// The tag of a shadow copy's call (the only calls a balancer makes).
pub(crate) const SHADOW_TAG: u32 = u32::MAX;

/// Shadow traffic: where copies go, how often, and how many went.
#[derive(Debug)]
struct Shadow {
    to: ComponentId,
    share: f64,
    /// Its own stream, so copying draws nothing from the routing stream:
    /// the primary requests are routed exactly as without a shadow.
    rng: RngStream,
    /// Counted requests copied.
    shadowed: u64,
}

/// The state of weighted routing: the weights in force, the smooth
/// round-robin credits, and the phases still to come.
#[derive(Debug)]
struct Weighted {
    /// The weights in force, one per backend: the phase's weights with
    /// ejected backends at 0 (unless every backend with weight is ejected:
    /// then the phase's weights, as a balancer fails open).
    weights: Vec<u32>,
    /// The current phase's weights.
    base: Vec<u32>,
    /// Backends ejected by health checks.
    ejected: Vec<bool>,
    /// Their sum (never 0: the loader refuses all-zero weights).
    total: u64,
    /// Smooth weighted round robin's running credit per backend.
    credit: Vec<i64>,
    /// Phases not yet started, in increasing `at`.
    phases: Vec<WeightPhase>,
    /// Index in `phases` of the next phase to start.
    next_phase: usize,
}

impl Weighted {
    fn new(n: usize, routing: &LbRouting) -> Self {
        let weights = if routing.weights.is_empty() {
            vec![1; n]
        } else {
            routing.weights.clone()
        };
        let mut w = Weighted {
            weights: Vec::new(),
            base: Vec::new(),
            ejected: vec![false; n],
            total: 0,
            credit: vec![0; n],
            phases: routing.phases.clone(),
            next_phase: 0,
        };
        w.set(&weights);
        w
    }

    /// Puts `weights` in force and restarts the round-robin credits, so
    /// each phase's counts are exact from its first request.
    fn set(&mut self, weights: &[u32]) {
        self.base.clear();
        self.base.extend_from_slice(weights);
        self.refresh();
    }

    /// Recomputes the weights in force from the phase's and the ejections.
    fn refresh(&mut self) {
        self.weights.clear();
        self.weights.extend(
            self.base
                .iter()
                .zip(&self.ejected)
                .map(|(&w, &out)| if out { 0 } else { w }),
        );
        self.total = self.weights.iter().map(|&w| u64::from(w)).sum();
        if self.total == 0 {
            self.weights.clear();
            self.weights.extend_from_slice(&self.base);
            self.total = self.weights.iter().map(|&w| u64::from(w)).sum();
        }
        self.credit.iter_mut().for_each(|c| *c = 0);
    }

    /// Starts every phase whose time has come by `now`.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        while let Some(p) = self.phases.get(self.next_phase) {
            if now.as_nanos() < p.at.as_nanos() {
                break;
            }
            self.next_phase += 1;
            let weights = std::mem::take(&mut self.phases[self.next_phase - 1].weights);
            self.set(&weights);
        }
    }
    /// Smooth weighted round robin (nginx): every backend earns its weight
    /// in credit, the richest (first on a tie) is chosen and pays the
    /// total. Over any `total` consecutive choices from a restart, backend
    /// `i` is chosen exactly `weights[i]` times, spread out evenly.
    fn smooth_round_robin(&mut self) -> usize {
        let mut best: Option<usize> = None;
        for i in 0..self.weights.len() {
            let w = self.weights[i];
            if w == 0 {
                continue;
            }
            self.credit[i] += i64::from(w);
            if best.is_none_or(|b| self.credit[i] > self.credit[b]) {
                best = Some(i);
            }
        }
        let best = best.unwrap_or(0);
        self.credit[best] -= self.total as i64;
        best
    }

    /// A backend drawn with probability `weight / total`, other than
    /// `except` (pass `usize::MAX` for none); `None` if no other backend
    /// has weight.
    fn draw(&self, rng: &mut RngStream, except: usize) -> Option<usize> {
        let skip = self.weights.get(except).map_or(0, |&w| u64::from(w));
        let total = self.total - skip;
        if total == 0 {
            return None;
        }
        let mut x = rng.random_range(0..total);
        for (i, &w) in self.weights.iter().enumerate() {
            if i == except {
                continue;
            }
            let w = u64::from(w);
            if x < w {
                return Some(i);
            }
            x -= w;
        }
        None
    }

    /// Whether backend `a` has less outstanding per unit of weight than
    /// `b` (`o_a / w_a < o_b / w_b`, in integers).
    #[inline]
    fn lighter(&self, outstanding: &[u32], a: usize, b: usize) -> bool {
        u64::from(outstanding[a]) * u64::from(self.weights[b])
            < u64::from(outstanding[b]) * u64::from(self.weights[a])
    }
}

impl LoadBalancer {
    pub(crate) fn new(
        policy: LbPolicy,
        backends: Vec<ComponentId>,
        backend_names: &[&str],
        routing: &LbRouting,
        (rng, shadow_rng): (RngStream, RngStream),
        metrics: StationMetrics,
        window_end: SimTime,
    ) -> Self {
        let ring = if policy == LbPolicy::ConsistentHash {
            hash_ring(backend_names)
        } else {
            Vec::new()
        };
        let n = backends.len();
        let weighted = routing
            .weighted()
            .then(|| Weighted::new(backends.len(), routing));
        LoadBalancer {
            policy,
            outstanding: vec![0; backends.len()],
            backends,
            next: 0,
            rng,
            ring,
            weighted,
            shadow: routing.shadow.as_ref().map(|s| Shadow {
                to: s.to,
                share: s.share,
                rng: shadow_rng,
                shadowed: 0,
            }),
            health: routing.health.as_ref().map(|h| Health {
                failures: h.failures.max(1),
                interval: h.interval,
                failed_in_row: vec![0; n],
                out: vec![false; n],
                probe: vec![None; n],
                window_end,
                ejections: 0,
                probes: 0,
            }),
            llm: None,
            metrics,
        }
    }

    /// Whether to copy this request to the shadow target, and where; a
    /// `counted` copy is counted.
    #[inline]
    pub(crate) fn shadow_copy(&mut self, counted: bool) -> Option<ComponentId> {
        let s = self.shadow.as_mut()?;
        if s.share < 1.0 && s.rng.random::<f64>() >= s.share {
            return None;
        }
        if counted {
            s.shadowed += 1;
        }
        Some(s.to)
    }

    /// The balancer's own figures: only those of the options it has.
    pub(crate) fn figures(&self) -> Option<BalancerFigures> {
        let moves = self.llm.as_ref().filter(|r| r.has_moves()).map(|r| r.moves);
        if self.shadow.is_none() && self.health.is_none() && moves.is_none() {
            return None;
        }
        Some(BalancerFigures {
            shadowed: self.shadow.as_ref().map(|s| s.shadowed),
            ejections: self.health.as_ref().map(|h| h.ejections),
            probes: self.health.as_ref().map(|h| h.probes),
            affinity_moves: moves,
        })
    }

    /// Backend `index` is ejected (`true`) or back (`false`): its weight
    /// is masked, and the round-robin credits restart.
    pub(crate) fn set_ejected(&mut self, index: usize, ejected: bool) {
        if let Some(w) = &mut self.weighted {
            w.ejected[index] = ejected;
            w.refresh();
        }
    }

    /// The backend with this index.
    pub(crate) fn backend(&self, index: usize) -> ComponentId {
        self.backends[index]
    }

    /// Picks a backend at `now` for a request with `key`; returns its index
    /// and id, and counts it as outstanding until
    /// [`LoadBalancer::responded`].
    #[inline]
    pub(crate) fn choose(&mut self, key: u64, now: SimTime) -> (u32, ComponentId) {
        let index = match &mut self.weighted {
            Some(w) => {
                w.advance(now);
                self.choose_weighted(key)
            }
            None => self.choose_plain(key),
        };
        self.outstanding[index] += 1;
        (index as u32, self.backends[index])
    }

    /// Counts backend `index`, chosen by LLM-aware routing, as outstanding
    /// until [`LoadBalancer::responded`]; returns its index and id.
    #[inline]
    pub(crate) fn chosen(&mut self, index: usize) -> (u32, ComponentId) {
        self.outstanding[index] += 1;
        (index as u32, self.backends[index])
    }

    /// The backends, in `backends` order.
    pub(crate) fn backends(&self) -> &[ComponentId] {
        &self.backends
    }

    /// The plain policies (no weights).
    #[inline]
    fn choose_plain(&mut self, key: u64) -> usize {
        let n = self.backends.len();
        match self.policy {
            // The LLM-aware policies are chosen by the engine from the
            // replicas' loads (`llm_route.rs`); without a route, in turn.
            LbPolicy::RoundRobin | LbPolicy::LeastKv | LbPolicy::PrefixAffinity => {
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
        }
    }

    /// The policies with weights: round robin is smooth weighted round
    /// robin, random draws in proportion to weight, least outstanding and
    /// power of two compare outstanding requests per unit of weight (power
    /// of two draws its two candidates in proportion to weight). A backend
    /// of weight 0 is never chosen. The loader refuses weights with
    /// consistent hashing.
    fn choose_weighted(&mut self, key: u64) -> usize {
        let Some(w) = &mut self.weighted else {
            return self.choose_plain(key);
        };
        match self.policy {
            // The loader refuses weights with the LLM-aware policies.
            LbPolicy::RoundRobin | LbPolicy::LeastKv | LbPolicy::PrefixAffinity => {
                w.smooth_round_robin()
            }
            LbPolicy::Random => w.draw(&mut self.rng, usize::MAX).unwrap_or(0),
            LbPolicy::LeastOutstanding => {
                // The lightest per unit of weight, ties broken uniformly at
                // random (reservoir sampling over the tied backends).
                let mut best = usize::MAX;
                let mut ties = 0u32;
                for i in 0..w.weights.len() {
                    if w.weights[i] == 0 {
                        continue;
                    }
                    if best == usize::MAX || w.lighter(&self.outstanding, i, best) {
                        best = i;
                        ties = 1;
                    } else if !w.lighter(&self.outstanding, best, i) {
                        ties += 1;
                        if self.rng.random_range(0..ties) == 0 {
                            best = i;
                        }
                    }
                }
                if best == usize::MAX { 0 } else { best }
            }
            LbPolicy::PowerOfTwo => {
                let a = w.draw(&mut self.rng, usize::MAX).unwrap_or(0);
                match w.draw(&mut self.rng, a) {
                    Some(b) if w.lighter(&self.outstanding, b, a) => b,
                    _ => a,
                }
            }
            LbPolicy::ConsistentHash => {
                // The owner of the key, or the next backend on the ring
                // that is not ejected (weights come only from health checks).
                let point = stable_hash(&key.to_le_bytes());
                let at = self.ring.partition_point(|&(p, _)| p < point);
                (0..self.ring.len())
                    .map(|k| self.ring[(at + k) % self.ring.len()].1 as usize)
                    .find(|&i| w.weights[i] > 0)
                    .unwrap_or(0)
            }
        }
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
            &LbRouting::default(),
            (
                derive_stream(1, "lb", "balance"),
                derive_stream(1, "lb", "shadow"),
            ),
            StationMetrics::new(SimTime::ZERO, SimTime::from_nanos(1)),
            SimTime::from_nanos(1),
        );
        let n = 10_000u64;
        let mut counts = [0u64; 3];
        for key in 0..n {
            counts[lb.choose(key, SimTime::ZERO).0 as usize] += 1;
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

    fn weighted(policy: LbPolicy, routing: LbRouting) -> LoadBalancer {
        let n = routing
            .weights
            .len()
            .max(routing.phases.first().map_or(0, |p| p.weights.len()));
        let names: Vec<String> = (0..n).map(|i| format!("b{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        LoadBalancer::new(
            policy,
            (0..n as u32).map(ComponentId).collect(),
            &names,
            &routing,
            (
                derive_stream(1, "lb", "balance"),
                derive_stream(1, "lb", "shadow"),
            ),
            StationMetrics::new(SimTime::ZERO, SimTime::from_nanos(1)),
            SimTime::from_nanos(1),
        )
    }

    /// Smooth weighted round robin picks exactly nginx's documented
    /// sequence for weights { a: 5, b: 1, c: 1 }: a a b a c a a, and
    /// repeats it.
    #[test]
    fn smooth_weighted_round_robin_is_nginx_sequence() {
        let mut lb = weighted(
            LbPolicy::RoundRobin,
            LbRouting {
                weights: vec![5, 1, 1],
                ..LbRouting::default()
            },
        );
        let picks: Vec<u32> = (0..14)
            .map(|_| {
                let (i, _) = lb.choose(0, SimTime::ZERO);
                lb.responded(i);
                i
            })
            .collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
    }

    /// Phases switch the weights at their times, and each phase's counts
    /// are exact: 8 choices under [3, 1] give 6 and 2; 6 under [1, 2]
    /// give 2 and 4; 5 under [0, 1] give 0 and 5.
    #[test]
    fn phases_switch_weights_with_exact_counts() {
        let phase = |at_s: u64, weights: Vec<u32>| WeightPhase {
            at: sysdes_kernel::SimDuration::from_secs(at_s),
            weights,
        };
        let mut lb = weighted(
            LbPolicy::RoundRobin,
            LbRouting {
                weights: vec![3, 1],
                phases: vec![phase(10, vec![1, 2]), phase(20, vec![0, 1])],
                ..LbRouting::default()
            },
        );
        let mut counts = [[0u32; 2]; 3];
        let plan = [(0u64, 8u32), (10, 6), (20, 5)];
        for (p, &(start, n)) in plan.iter().enumerate() {
            for k in 0..n {
                let now = SimTime::from_nanos((start * 1_000_000_000) + u64::from(k));
                let (i, _) = lb.choose(0, now);
                counts[p][i as usize] += 1;
            }
        }
        assert_eq!(counts, [[6, 2], [2, 4], [0, 5]]);
    }

    /// Weighted random follows the weights (here within 5 binomial
    /// standard deviations of 100,000 draws) and never picks weight 0.
    #[test]
    fn weighted_random_and_zero_weights() {
        for policy in [
            LbPolicy::Random,
            LbPolicy::PowerOfTwo,
            LbPolicy::LeastOutstanding,
        ] {
            let mut lb = weighted(
                policy,
                LbRouting {
                    weights: vec![3, 0, 1],
                    ..LbRouting::default()
                },
            );
            let n = 100_000u32;
            let mut counts = [0u32; 3];
            for _ in 0..n {
                let (i, _) = lb.choose(0, SimTime::ZERO);
                counts[i as usize] += 1;
                if policy == LbPolicy::Random {
                    lb.responded(i);
                }
            }
            assert_eq!(counts[1], 0, "{policy:?}: weight 0 chosen");
            let p = 0.75;
            let sd = (f64::from(n) * p * (1.0 - p)).sqrt();
            let err = (f64::from(counts[0]) - f64::from(n) * p).abs();
            assert!(
                err <= 5.0 * sd,
                "{policy:?}: {counts:?}, {err} > 5 sd ({sd})"
            );
        }
    }
}
