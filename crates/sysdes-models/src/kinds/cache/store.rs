//! The eviction structures behind the `cache` component, with no engine.
//!
//! A [`CacheStore`] maps `u64` keys to entries (the value's version, its size
//! and its expiry) under a capacity counted in any unit (one per entry, or
//! bytes) and evicts by one of four [`CachePolicy`]s:
//!
//! ```text
//!  LRU, FIFO   intrusive doubly linked list over a Vec of slots, head = newest
//!              (LRU moves a hit to the head, FIFO does not); evict the tail: O(1)
//!  LFU         binary min-heap of slots on (hits, last access); evict the root: O(log n)
//!  random      dense array of live slots; evict a uniform one from a seeded stream: O(1)
//! ```
//!
//! Slots are reused through a free list, so once the cache is full nothing
//! is allocated per operation (the key map only grows to its peak size). The
//! key map uses the fixed Fx hash (no random seed) and is never iterated
//! outside tests, so nothing depends on hash order. Time-to-live expiry is checked lazily, when a key
//! is looked up: an expired entry keeps its space until then or until it is
//! evicted.
//!
//! It knows nothing of requests, networks or backends: the simulation's
//! cache component drives it.

use rand::RngExt;
use rustc_hash::FxHashMap;
use sysdes_kernel::{RngStream, SimTime};

/// Which entry a full cache evicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Least recently used.
    Lru,
    /// Least frequently used (hits since insertion), least recently used
    /// among equals.
    Lfu,
    /// First in, first out: the oldest insertion, whatever its hits.
    Fifo,
    /// A uniformly random entry.
    Random,
}

impl CachePolicy {
    /// The policy's name in the scenario format.
    pub fn name(self) -> &'static str {
        match self {
            CachePolicy::Lru => "lru",
            CachePolicy::Lfu => "lfu",
            CachePolicy::Fifo => "fifo",
            CachePolicy::Random => "random",
        }
    }
}

/// The answer to a [`CacheStore::lookup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The key is cached; `version` is the value version it was filled with.
    Hit {
        /// Version of the cached value.
        version: u64,
    },
    /// The key is not cached.
    Miss,
    /// The key was cached but its time to live had run out; it is now gone.
    Expired,
}

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    version: u64,
    expires: SimTime,
    size: u64,
    /// LFU: hits since insertion.
    hits: u64,
    /// LFU: access tick of the last touch (tie-break, older first).
    touched: u64,
    /// LRU/FIFO list links.
    prev: u32,
    next: u32,
    /// LFU: index in the heap; random: index in the dense array.
    pos: u32,
}

/// A bounded key-value store of versions with LRU, LFU, FIFO or random
/// eviction and lazy time-to-live expiry.
///
/// ```
/// use sysdes_kernel::{SimTime, derive_stream};
/// use sysdes_models::{CachePolicy, CacheStore, Lookup};
///
/// let mut c = CacheStore::new(CachePolicy::Lru, 2, derive_stream(1, "c", "evict"));
/// let t = SimTime::ZERO;
/// c.insert(1, 1, 10, SimTime::MAX);
/// c.insert(2, 1, 20, SimTime::MAX);
/// assert_eq!(c.lookup(1, t), Lookup::Hit { version: 10 }); // 2 is now least recent
/// c.insert(3, 1, 30, SimTime::MAX);
/// assert_eq!(c.lookup(2, t), Lookup::Miss);
/// assert_eq!(c.evictions(), 1);
/// ```
#[derive(Debug)]
pub struct CacheStore {
    policy: CachePolicy,
    capacity: u64,
    used: u64,
    map: FxHashMap<u64, u32>,
    slots: Vec<Entry>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    /// LFU heap or random dense array of slot indices.
    order: Vec<u32>,
    tick: u64,
    rng: RngStream,
    evictions: u64,
    expirations: u64,
}

impl CacheStore {
    /// An empty store holding up to `capacity` units (entries or bytes, as
    /// the caller sizes entries); `rng` drives random eviction only.
    pub fn new(policy: CachePolicy, capacity: u64, rng: RngStream) -> CacheStore {
        CacheStore {
            policy,
            capacity,
            used: 0,
            map: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            order: Vec::new(),
            tick: 0,
            rng,
            evictions: 0,
            expirations: 0,
        }
    }

    /// The eviction policy.
    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// Capacity in the caller's units.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Units in use (entries, or bytes).
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Entries held (expired ones included until they are noticed).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries evicted to make room so far.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Entries found expired on lookup so far.
    pub fn expirations(&self) -> u64 {
        self.expirations
    }

    /// Whether `key` is held (expired or not), without counting an access.
    pub fn contains(&self, key: u64) -> bool {
        self.map.contains_key(&key)
    }

    /// Looks `key` up at time `now`. A hit counts as an access for the
    /// policy; an entry whose expiry is at or before `now` is removed and
    /// reported as [`Lookup::Expired`].
    #[inline]
    pub fn lookup(&mut self, key: u64, now: SimTime) -> Lookup {
        let Some(&slot) = self.map.get(&key) else {
            return Lookup::Miss;
        };
        let e = self.slots[slot as usize];
        if e.expires <= now {
            self.expirations += 1;
            self.unlink(slot);
            return Lookup::Expired;
        }
        self.touch(slot);
        Lookup::Hit { version: e.version }
    }

    /// Stores `key` with `size` units, value `version`, expiring at
    /// `expires` (`SimTime::MAX` for never), evicting others as needed. An
    /// entry already present is updated in place (its version only moves
    /// forward) and counts as an access. A value larger than the whole
    /// capacity is not stored (and any older entry for the key is dropped).
    /// Returns whether the key is now held.
    pub fn insert(&mut self, key: u64, size: u64, version: u64, expires: SimTime) -> bool {
        if size > self.capacity {
            self.remove(key);
            return false;
        }
        if let Some(&slot) = self.map.get(&key) {
            let e = &mut self.slots[slot as usize];
            e.version = e.version.max(version);
            e.expires = expires;
            let old = e.size;
            e.size = size;
            self.used = self.used - old + size;
            self.touch(slot);
        } else {
            while self.used + size > self.capacity {
                self.evict_one();
            }
            self.tick += 1;
            let entry = Entry {
                key,
                version,
                expires,
                size,
                hits: 0,
                touched: self.tick,
                prev: NIL,
                next: NIL,
                pos: 0,
            };
            let slot = match self.free.pop() {
                Some(s) => {
                    self.slots[s as usize] = entry;
                    s
                }
                None => {
                    self.slots.push(entry);
                    (self.slots.len() - 1) as u32
                }
            };
            self.map.insert(key, slot);
            self.used += size;
            self.link(slot);
        }
        while self.used > self.capacity {
            self.evict_one();
        }
        self.map.contains_key(&key)
    }

    /// Deletes `key` (an invalidation); returns whether it was held.
    pub fn remove(&mut self, key: u64) -> bool {
        match self.map.get(&key) {
            Some(&slot) => {
                self.unlink(slot);
                true
            }
            None => false,
        }
    }

    /// Forgets every entry at once (the cache crashed and restarts cold);
    /// the eviction and expiry counts stay.
    pub fn clear(&mut self) {
        self.map.clear();
        self.slots.clear();
        self.free.clear();
        self.order.clear();
        self.head = NIL;
        self.tail = NIL;
        self.used = 0;
    }

    /// The version held for `key`, without counting an access or checking
    /// expiry.
    pub fn peek_version(&self, key: u64) -> Option<u64> {
        self.map.get(&key).map(|&s| self.slots[s as usize].version)
    }

    fn evict_one(&mut self) {
        let victim = match self.policy {
            CachePolicy::Lru | CachePolicy::Fifo => self.tail,
            CachePolicy::Lfu => self.order.first().copied().unwrap_or(NIL),
            CachePolicy::Random => {
                if self.order.is_empty() {
                    NIL
                } else {
                    self.order[self.rng.random_range(0..self.order.len())]
                }
            }
        };
        debug_assert!(victim != NIL, "evicting from an empty cache");
        if victim != NIL {
            self.evictions += 1;
            self.unlink(victim);
        }
    }

    /// Adds a fresh slot to the policy's structure.
    fn link(&mut self, slot: u32) {
        match self.policy {
            CachePolicy::Lru | CachePolicy::Fifo => self.push_front(slot),
            CachePolicy::Lfu => {
                self.slots[slot as usize].pos = self.order.len() as u32;
                self.order.push(slot);
                self.sift_up(self.order.len() - 1);
            }
            CachePolicy::Random => {
                self.slots[slot as usize].pos = self.order.len() as u32;
                self.order.push(slot);
            }
        }
    }

    /// Removes a slot from the map, the policy's structure and the space used.
    fn unlink(&mut self, slot: u32) {
        let e = self.slots[slot as usize];
        self.map.remove(&e.key);
        self.used -= e.size;
        self.free.push(slot);
        match self.policy {
            CachePolicy::Lru | CachePolicy::Fifo => self.detach(slot),
            CachePolicy::Lfu => {
                let i = e.pos as usize;
                let last = self.order.len() - 1;
                self.order.swap_remove(i);
                if i < last {
                    self.slots[self.order[i] as usize].pos = i as u32;
                    self.sift_down(i);
                    self.sift_up(i);
                }
            }
            CachePolicy::Random => {
                let i = e.pos as usize;
                self.order.swap_remove(i);
                if i < self.order.len() {
                    self.slots[self.order[i] as usize].pos = i as u32;
                }
            }
        }
    }

    /// Records an access to a held slot.
    #[inline]
    fn touch(&mut self, slot: u32) {
        match self.policy {
            CachePolicy::Lru => {
                if self.head != slot {
                    self.detach(slot);
                    self.push_front(slot);
                }
            }
            CachePolicy::Lfu => {
                self.tick += 1;
                let e = &mut self.slots[slot as usize];
                e.hits += 1;
                e.touched = self.tick;
                let pos = e.pos as usize;
                self.sift_down(pos);
            }
            CachePolicy::Fifo | CachePolicy::Random => {}
        }
    }

    fn push_front(&mut self, slot: u32) {
        let old = self.head;
        {
            let e = &mut self.slots[slot as usize];
            e.prev = NIL;
            e.next = old;
        }
        if old != NIL {
            self.slots[old as usize].prev = slot;
        } else {
            self.tail = slot;
        }
        self.head = slot;
    }

    fn detach(&mut self, slot: u32) {
        let Entry { prev, next, .. } = self.slots[slot as usize];
        if prev != NIL {
            self.slots[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
    }

    /// LFU heap order: fewer hits first, then the older last access.
    #[inline]
    fn less(&self, a: u32, b: u32) -> bool {
        let (a, b) = (&self.slots[a as usize], &self.slots[b as usize]);
        (a.hits, a.touched) < (b.hits, b.touched)
    }

    fn heap_swap(&mut self, i: usize, j: usize) {
        self.order.swap(i, j);
        self.slots[self.order[i] as usize].pos = i as u32;
        self.slots[self.order[j] as usize].pos = j as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.less(self.order[i], self.order[parent]) {
                self.heap_swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.order.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < n && self.less(self.order[l], self.order[least]) {
                least = l;
            }
            if r < n && self.less(self.order[r], self.order[least]) {
                least = r;
            }
            if least == i {
                break;
            }
            self.heap_swap(i, least);
            i = least;
        }
    }

    /// Checks the internal invariants (tests only): map, structure and space
    /// agree.
    #[cfg(test)]
    fn check(&self) {
        let live: u64 = self
            .map
            .values()
            .map(|&s| self.slots[s as usize].size)
            .sum();
        assert_eq!(live, self.used);
        assert!(self.used <= self.capacity);
        match self.policy {
            CachePolicy::Lru | CachePolicy::Fifo => {
                let mut n = 0;
                let mut s = self.head;
                let mut prev = NIL;
                while s != NIL {
                    let e = &self.slots[s as usize];
                    assert_eq!(e.prev, prev);
                    assert_eq!(self.map[&e.key], s);
                    prev = s;
                    s = e.next;
                    n += 1;
                }
                assert_eq!(prev, self.tail);
                assert_eq!(n, self.map.len());
            }
            CachePolicy::Lfu | CachePolicy::Random => {
                assert_eq!(self.order.len(), self.map.len());
                for (i, &s) in self.order.iter().enumerate() {
                    let e = &self.slots[s as usize];
                    assert_eq!(e.pos as usize, i);
                    assert_eq!(self.map[&e.key], s);
                    if self.policy == CachePolicy::Lfu && i > 0 {
                        assert!(!self.less(s, self.order[(i - 1) / 2]));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_kernel::derive_stream;

    const NEVER: SimTime = SimTime::MAX;

    fn store(policy: CachePolicy, capacity: u64) -> CacheStore {
        CacheStore::new(policy, capacity, derive_stream(1, "cache", "evict"))
    }

    fn hit(c: &mut CacheStore, key: u64) -> bool {
        matches!(c.lookup(key, SimTime::ZERO), Lookup::Hit { .. })
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut c = store(CachePolicy::Lru, 3);
        for k in 0..3 {
            c.insert(k, 1, k, NEVER);
        }
        assert!(hit(&mut c, 0));
        c.insert(3, 1, 3, NEVER); // evicts 1
        assert!(!c.contains(1));
        assert!(c.contains(0) && c.contains(2) && c.contains(3));
        c.check();
    }

    #[test]
    fn fifo_ignores_hits() {
        let mut c = store(CachePolicy::Fifo, 3);
        for k in 0..3 {
            c.insert(k, 1, k, NEVER);
        }
        assert!(hit(&mut c, 0));
        c.insert(3, 1, 3, NEVER); // evicts 0, the first in, despite its hit
        assert!(!c.contains(0));
        c.check();
    }

    #[test]
    fn lfu_evicts_the_least_frequent_then_least_recent() {
        let mut c = store(CachePolicy::Lfu, 3);
        for k in 0..3 {
            c.insert(k, 1, k, NEVER);
        }
        for _ in 0..3 {
            assert!(hit(&mut c, 0));
        }
        assert!(hit(&mut c, 1));
        c.insert(3, 1, 3, NEVER); // 2 has no hits
        assert!(!c.contains(2));
        c.insert(4, 1, 4, NEVER); // 3 has no hits
        assert!(!c.contains(3));
        assert!(c.contains(0) && c.contains(1));
        c.check();
    }

    #[test]
    fn random_evicts_each_entry_about_equally() {
        // Fill 0..4, insert a fifth key, see which one went; repeat.
        let mut c = store(CachePolicy::Random, 4);
        let mut gone = [0u32; 4];
        for round in 0..8000u64 {
            for k in 0..4 {
                c.insert(k, 1, 0, NEVER);
            }
            c.insert(100 + round, 1, 0, NEVER);
            let victim = (0..4).find(|&k| !c.contains(k)).unwrap();
            gone[victim as usize] += 1;
            c.remove(100 + round);
        }
        // Binomial(8000, 1/4): sd 38.7; 5 sd = 194.
        for g in gone {
            assert!((g as i64 - 2000).abs() < 194, "{gone:?}");
        }
        c.check();
    }

    #[test]
    fn byte_capacity_evicts_until_the_value_fits() {
        let mut c = store(CachePolicy::Lru, 100);
        c.insert(1, 40, 0, NEVER);
        c.insert(2, 40, 0, NEVER);
        c.insert(3, 50, 0, NEVER); // 40 + 40 + 50 > 100: evicts 1, the least recent
        assert!(!c.contains(1) && c.contains(2) && c.contains(3));
        assert_eq!(c.used(), 90);
        assert!(!c.insert(4, 101, 0, NEVER), "larger than the cache");
        assert!(
            !c.insert(2, 101, 0, NEVER),
            "growing beyond the cache drops it"
        );
        assert!(!c.contains(2));
        assert_eq!(c.used(), 50);
        c.check();
    }

    #[test]
    fn ttl_expires_lazily_at_lookup() {
        let mut c = store(CachePolicy::Lru, 10);
        let at = |ns| SimTime::from_nanos(ns);
        c.insert(1, 1, 7, at(100));
        assert_eq!(c.lookup(1, at(99)), Lookup::Hit { version: 7 });
        assert_eq!(c.len(), 1, "still held until looked up after expiry");
        assert_eq!(c.lookup(1, at(100)), Lookup::Expired);
        assert_eq!(c.lookup(1, at(100)), Lookup::Miss);
        assert_eq!(c.expirations(), 1);
        assert_eq!(c.used(), 0);
    }

    #[test]
    fn reinserting_keeps_the_newest_version_and_refreshes_expiry() {
        let mut c = store(CachePolicy::Lru, 10);
        c.insert(1, 1, 5, SimTime::from_nanos(10));
        c.insert(1, 1, 3, SimTime::from_nanos(50));
        assert_eq!(
            c.lookup(1, SimTime::from_nanos(20)),
            Lookup::Hit { version: 5 }
        );
        assert_eq!(c.len(), 1);
    }

    /// A long random mix of operations keeps every structure consistent, for
    /// every policy and both kinds of capacity.
    #[test]
    fn invariants_hold_under_random_operations() {
        for policy in [
            CachePolicy::Lru,
            CachePolicy::Lfu,
            CachePolicy::Fifo,
            CachePolicy::Random,
        ] {
            for (capacity, max_size) in [(16u64, 1u64), (200, 40)] {
                let mut c = store(policy, capacity);
                let mut rng = derive_stream(3, policy.name(), "ops");
                for step in 0..20_000u64 {
                    let key = rng.random_range(0..64u64);
                    let now = SimTime::from_nanos(step);
                    match rng.random_range(0..10u32) {
                        0..=5 => {
                            c.lookup(key, now);
                        }
                        6..=8 => {
                            let size = 1 + key % max_size;
                            let expires = SimTime::from_nanos(step + rng.random_range(1..500));
                            c.insert(key, size, step, expires);
                        }
                        _ => {
                            c.remove(key);
                        }
                    }
                    if step % 97 == 0 {
                        c.check();
                    }
                }
                c.check();
            }
        }
    }
}
