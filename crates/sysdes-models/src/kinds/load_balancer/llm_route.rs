//! LLM-aware routing over LLM model-server replicas: `least_kv` (the
//! replica with the least KV demand) and `prefix_affinity` (a prefix group
//! stays on the replica that last served it, so its cached prefix blocks
//! are reused, unless that replica is backed up).
//!
//! The balancer reads each replica's state through a typed query on the
//! model server (`ModelPolicy::kv_load`, in `kinds/model_server/kv_query.rs`):
//! KV blocks in use and requests waiting, two integers, no allocation. The
//! rule itself is a pure function of those loads (`LlmRoute::pick`), so
//! it is unit-tested here on hand-made loads.

use crate::spec::{ComponentKind, LbPolicy, ModelSpec};
use sysdes_kernel::ComponentId;

/// The default bound on a prefix group's owner's waiting requests beyond
/// which `prefix_affinity` falls back to the least KV demand.
pub const DEFAULT_AFFINITY_MAX_WAITING: u32 = 8;

/// No replica has served the group yet.
const NO_OWNER: u32 = u32::MAX;

/// What an LLM-aware balancer reads from one replica.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvLoad {
    /// KV blocks held by running sequences, over all its slots (cached
    /// prefix blocks nobody references are free, not in use).
    pub used_blocks: u64,
    /// Requests waiting for admission.
    pub waiting: u32,
}

/// The state of LLM-aware routing: the blocks one waiting request's prompt
/// needs on each replica, and under `prefix_affinity` each group's owner.
#[derive(Debug)]
pub(crate) struct LlmRoute {
    policy: LbPolicy,
    /// Per replica: `ceil(mean prompt tokens, prefix included / block
    /// size)`, the blocks a waiting request will take at admission.
    prompt_blocks: Vec<u64>,
    /// Prefix groups (the request's key modulo this is its group).
    groups: u64,
    /// Per group: the replica that last served it, or [`NO_OWNER`].
    owner: Vec<u32>,
    /// Per replica: the groups it owns (all 0 under `least_kv`), the
    /// tie-break after the demand, so that at low load new groups spread
    /// over the replicas instead of all landing on the first.
    owned: Vec<u32>,
    /// The owner's waiting requests beyond which the group may move.
    max_waiting: u32,
    /// Requests routed away from their group's owner because it was
    /// backed up (the group moved).
    pub(crate) moves: u64,
}

impl LlmRoute {
    /// The route for `policy` over `backends` of `spec`, or why not: every
    /// backend must be an LLM model server with the chunked scheduler, and
    /// under `prefix_affinity` all must share prefixes drawn from the key
    /// (`prefix.from_key`) with the same number of groups.
    pub(crate) fn new(
        policy: LbPolicy,
        backends: &[ComponentId],
        spec: &ModelSpec,
        max_waiting: Option<u32>,
    ) -> Result<LlmRoute, String> {
        let name = if policy == LbPolicy::PrefixAffinity {
            "prefix_affinity"
        } else {
            "least_kv"
        };
        let mut prompt_blocks = Vec::with_capacity(backends.len());
        let mut groups = None;
        for b in backends {
            let c = &spec.components[b.index()];
            let ComponentKind::LlmServer(m) = &c.kind else {
                return Err(format!(
                    "`{name}` routing reads the backends' KV caches: backend `{}` is not a model server in LLM mode",
                    c.name
                ));
            };
            let crate::kinds::model_server::llm::LlmScheduler::Chunked(ch) = &m.scheduler else {
                return Err(format!(
                    "`{name}` routing reads KV blocks: backend `{}` needs `scheduler: chunked`",
                    c.name
                ));
            };
            let prefix = m.prefix.map_or(0.0, |x| f64::from(x.tokens));
            let mean = m.prompt_tokens.mean_ns().max(1.0).round() + prefix;
            prompt_blocks.push((mean as u64).div_ceil(u64::from(ch.block_size.max(1))));
            if policy == LbPolicy::PrefixAffinity {
                let g = match m.prefix {
                    Some(x) if x.from_key => u64::from(x.groups),
                    _ => {
                        return Err(format!(
                            "`prefix_affinity` routes a request by its prefix group, its key modulo the groups: backend `{}` needs `prefix: {{ ..., from_key: true }}`",
                            c.name
                        ));
                    }
                };
                if groups.is_some_and(|h| h != g) {
                    return Err(format!(
                        "`prefix_affinity` needs the same `prefix.groups` on every backend: `{}` has {g}",
                        c.name
                    ));
                }
                groups = Some(g);
            }
        }
        let groups = groups.unwrap_or(1);
        Ok(LlmRoute {
            policy,
            prompt_blocks,
            groups,
            owner: if policy == LbPolicy::PrefixAffinity {
                vec![NO_OWNER; groups as usize]
            } else {
                Vec::new()
            },
            owned: vec![0; backends.len()],
            max_waiting: max_waiting.unwrap_or(DEFAULT_AFFINITY_MAX_WAITING),
            moves: 0,
        })
    }

    /// The KV demand of replica `i` under `load`: blocks in use plus the
    /// blocks its waiting requests' prompts will take.
    #[inline]
    fn demand(&self, i: usize, load: KvLoad) -> u64 {
        load.used_blocks + u64::from(load.waiting) * self.prompt_blocks[i]
    }

    /// The replica with the least KV demand; ties to the one owning the
    /// fewest prefix groups (`prefix_affinity`), then to the lower index.
    #[inline]
    fn least_kv(&self, load: &impl Fn(usize) -> KvLoad) -> usize {
        let mut best = 0;
        let mut best_key = (u64::MAX, u32::MAX);
        for i in 0..self.prompt_blocks.len() {
            let key = (self.demand(i, load(i)), self.owned[i]);
            if key < best_key {
                best = i;
                best_key = key;
            }
        }
        best
    }

    /// The replica for a request with `key`, given each replica's load, and
    /// whether it moves the request's group away from its owner. Pure: call
    /// [`LlmRoute::routed`] with the answer.
    #[inline]
    pub(crate) fn pick(&self, key: u64, load: impl Fn(usize) -> KvLoad) -> (usize, bool) {
        if self.policy != LbPolicy::PrefixAffinity {
            return (self.least_kv(&load), false);
        }
        let owner = self.owner[(key % self.groups) as usize];
        if owner == NO_OWNER {
            return (self.least_kv(&load), false);
        }
        let owner = owner as usize;
        let waiting = load(owner).waiting;
        if waiting <= self.max_waiting {
            return (owner, false);
        }
        let best = self.least_kv(&load);
        if load(best).waiting < waiting {
            (best, true)
        } else {
            (owner, false)
        }
    }

    /// Records that the request with `key` went to replica `index` (under
    /// `prefix_affinity` the replica becomes its group's owner); `counted`
    /// requests that `moved` are counted.
    #[inline]
    pub(crate) fn routed(&mut self, key: u64, index: usize, moved: bool, counted: bool) {
        if self.policy == LbPolicy::PrefixAffinity {
            let owner = &mut self.owner[(key % self.groups) as usize];
            if *owner != index as u32 {
                if let Some(n) = self.owned.get_mut(*owner as usize) {
                    *n -= 1;
                }
                self.owned[index] += 1;
                *owner = index as u32;
            }
            if moved && counted {
                self.moves += 1;
            }
        }
    }

    /// Whether the route counts group moves (prefix affinity).
    pub(crate) fn has_moves(&self) -> bool {
        self.policy == LbPolicy::PrefixAffinity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(policy: LbPolicy, n: usize, groups: u64, max_waiting: u32) -> LlmRoute {
        LlmRoute {
            policy,
            prompt_blocks: vec![10; n],
            groups,
            owner: if policy == LbPolicy::PrefixAffinity {
                vec![NO_OWNER; groups as usize]
            } else {
                Vec::new()
            },
            owned: vec![0; n],
            max_waiting,
            moves: 0,
        }
    }

    fn loads(l: &[(u64, u32)]) -> impl Fn(usize) -> KvLoad + '_ {
        move |i| KvLoad {
            used_blocks: l[i].0,
            waiting: l[i].1,
        }
    }

    /// `least_kv`: demand = used + waiting x prompt blocks (10 here):
    /// [50 + 0, 30 + 20, 45 + 0, 35 + 10] = [50, 50, 45, 45]: the first 45,
    /// index 2; with all equal, index 0.
    #[test]
    fn least_kv_counts_waiting_prompts_and_breaks_ties_by_index() {
        let r = route(LbPolicy::LeastKv, 4, 1, 8);
        let l = [(50, 0), (30, 2), (45, 0), (35, 1)];
        assert_eq!(r.pick(7, loads(&l)), (2, false));
        let l = [(5, 1); 4];
        assert_eq!(r.pick(7, loads(&l)), (0, false));
        let l = [(0, 0), (0, 0), (0, 0), (0, 0)];
        assert_eq!(r.pick(0, loads(&l)), (0, false));
    }

    /// `prefix_affinity` over 3 replicas and 4 groups, bound 2 waiting:
    /// key 5 (group 1) first goes to the least demand (replica 1) and stays
    /// there while its waiting is at most 2, even when another is emptier;
    /// at 3 waiting it moves to the least demand if that has fewer waiting,
    /// and the group follows; key 9 (group 1 again) then goes there.
    #[test]
    fn prefix_affinity_sticks_until_the_bound_then_moves() {
        let mut r = route(LbPolicy::PrefixAffinity, 3, 4, 2);
        let l = [(20, 0), (10, 0), (30, 0)];
        let (i, moved) = r.pick(5, loads(&l));
        assert_eq!((i, moved), (1, false));
        r.routed(5, i, moved, true);
        // A new group on equal demand goes to a replica owning fewer groups.
        let l = [(10, 0), (10, 0), (10, 0)];
        assert_eq!(r.pick(6, loads(&l)), (0, false));
        assert_eq!(r.pick(6, loads(&[(10, 0), (10, 0), (5, 0)])), (2, false));
        let mut s = route(LbPolicy::PrefixAffinity, 3, 4, 2);
        s.routed(0, 0, false, true);
        assert_eq!(s.pick(1, loads(&l)), (1, false), "replica 0 owns a group");
        let l = [(0, 0), (90, 2), (30, 0)];
        assert_eq!(r.pick(5, loads(&l)), (1, false), "at the bound: stays");
        assert_eq!(r.pick(9, loads(&l)), (1, false), "same group, same owner");
        assert_eq!(r.pick(6, loads(&l)), (0, false), "new group: least demand");
        let l = [(40, 1), (90, 3), (30, 0)];
        let (i, moved) = r.pick(9, loads(&l));
        assert_eq!(
            (i, moved),
            (2, true),
            "over the bound: moves to least demand"
        );
        r.routed(9, i, moved, true);
        assert_eq!(r.moves, 1);
        let l = [(0, 0), (0, 0), (50, 0)];
        assert_eq!(r.pick(5, loads(&l)), (2, false), "the group followed");
        // Over the bound but everyone is as backed up: stays.
        let l = [(0, 5), (0, 5), (0, 5)];
        assert_eq!(r.pick(5, loads(&l)), (2, false));
    }
}
