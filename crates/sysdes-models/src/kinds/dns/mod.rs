//! DNS with client-side caching in front of redundant targets: the
//! authoritative answer is the first of `records` that its health checks
//! call healthy, and each of `clients` resolvers caches the answer it got
//! for `ttl` from its own lookup.
//!
//! A request that reaches the component comes from one client resolver,
//! drawn uniformly among `clients` (so each is a Poisson stream of
//! `rate / clients` when the workload is Poisson). With a cached answer
//! still fresh (`now < expiry`) the request goes to the cached target (a
//! cache hit); otherwise the client looks the name up, gets the current
//! authoritative answer and caches it until `now + ttl`. The first
//! `round(ignore_ttl x clients)` clients never look up again after their
//! first answer (stale caches: resolvers and JVMs that pin an address).
//!
//! Health checks run at every multiple of `interval` from the start of the
//! run: each reads whether each record's target is down (crashed); after
//! `failures` checks in a row that disagree with a record's state, the
//! state flips (down, or back up: Route 53 uses one threshold both ways).
//! The answer is the first healthy record, or the first record when none
//! is (as Route 53 answers when every record fails).
//!
//! The run starts in the middle of normal operation: every client holds an
//! answer for the first record that expires at a uniform time in `[0,
//! ttl)` (drawn from the component's own `warm` stream), as if it had been
//! resolving for ever; without it every client would look up within the
//! first seconds and stay in step for hours (a cache expiry is a lookup
//! plus exactly `ttl`).
//!
//! The component takes no time of its own: the lookup is folded into the
//! request (a real lookup costs a round trip to the resolver; the lesson
//! is where requests go, not the lookup's latency). A request sent to a
//! crashed target fails there as any arrival at a crashed component does.

pub(crate) mod figures;
pub(crate) mod sim;

use rand::RngExt;
use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime};

use crate::station::StationMetrics;

/// A DNS name with redundant records and caching clients (`type: dns`).
#[derive(Clone, Debug, PartialEq)]
pub struct DnsSpec {
    /// The targets in order of preference: the answer is the first healthy
    /// one. At least one.
    pub records: Vec<ComponentId>,
    /// How long a client keeps an answer before it looks the name up again.
    pub ttl: SimDuration,
    /// Client resolvers, each with its own cache; at least 1.
    pub clients: u32,
    /// Share of the clients that never look up again once they have an
    /// answer, in [0, 1].
    pub ignore_ttl: f64,
    /// Failed (or passed) checks in a row that flip a record's state; at
    /// least 1.
    pub failures: u32,
    /// Time between health checks.
    pub interval: SimDuration,
}

/// No answer cached yet.
const NONE: u32 = u32::MAX;

/// A DNS component's state.
#[derive(Debug)]
pub(crate) struct Dns {
    records: Vec<ComponentId>,
    ttl: SimDuration,
    /// Clients with an index below this ignore the TTL.
    pinned: u32,
    failures: u32,
    pub(crate) interval: SimDuration,
    /// Each client's cached record (an index in `records`), or `NONE`.
    cached: Vec<u32>,
    /// When each client's cached answer expires.
    expires: Vec<SimTime>,
    /// Each record's state as the health checks see it.
    healthy: Vec<bool>,
    /// Checks in a row that disagree with each record's state.
    streak: Vec<u32>,
    /// Scratch for a check: whether each record's target is down.
    pub(crate) down: Vec<bool>,
    /// The index of the authoritative answer.
    answer: u32,
    rng: RngStream,
    /// No check is scheduled at or after this time, so the run can drain.
    pub(crate) window_end: SimTime,
    pub(crate) metrics: StationMetrics,
    lookups: u64,
    cache_hits: u64,
    stale: u64,
    changes: u64,
    first_change: Option<SimTime>,
    restored: Option<SimTime>,
}

impl Dns {
    /// A DNS component from a checked spec (at least one record and one
    /// client, `failures >= 1`, `ignore_ttl` in [0, 1]).
    pub(crate) fn new(
        spec: &DnsSpec,
        (rng, mut warm): (RngStream, RngStream),
        metrics: StationMetrics,
        window_end: SimTime,
    ) -> Self {
        let n = spec.clients as usize;
        let pinned = (spec.ignore_ttl * f64::from(spec.clients)).round() as u32;
        let ttl_ns = spec.ttl.as_nanos();
        let expires = (0..n)
            .map(|_| {
                let ns = if ttl_ns > 0 {
                    warm.random_range(0..ttl_ns)
                } else {
                    0
                };
                SimTime::ZERO + SimDuration::from_nanos(ns)
            })
            .collect();
        Dns {
            records: spec.records.clone(),
            ttl: spec.ttl,
            pinned: pinned.min(spec.clients),
            failures: spec.failures,
            interval: spec.interval,
            cached: vec![0; n],
            expires,
            healthy: vec![true; spec.records.len()],
            streak: vec![0; spec.records.len()],
            down: vec![false; spec.records.len()],
            answer: 0,
            rng,
            window_end,
            metrics,
            lookups: 0,
            cache_hits: 0,
            stale: 0,
            changes: 0,
            first_change: None,
            restored: None,
        }
    }

    /// The target of a request at `now` from a client drawn at random;
    /// `counted` requests count in the figures.
    #[inline]
    pub(crate) fn route(&mut self, now: SimTime, counted: bool) -> ComponentId {
        let client = self.rng.random_range(0..self.cached.len());
        self.route_client(client, now, counted)
    }

    /// The target of a request at `now` from client `client`. A client
    /// without an answer (`NONE`: only in unit tests, the run starts warm)
    /// looks up.
    pub(crate) fn route_client(
        &mut self,
        client: usize,
        now: SimTime,
        counted: bool,
    ) -> ComponentId {
        let cached = self.cached[client];
        let fresh = cached != NONE && ((client as u32) < self.pinned || now < self.expires[client]);
        let record = if fresh {
            cached
        } else {
            self.cached[client] = self.answer;
            self.expires[client] = now + self.ttl;
            self.answer
        };
        if counted {
            if fresh {
                self.cache_hits += 1;
            } else {
                self.lookups += 1;
            }
            if record != self.answer {
                self.stale += 1;
            }
        }
        self.records[record as usize]
    }

    /// The records' targets, in order.
    pub(crate) fn records(&self) -> &[ComponentId] {
        &self.records
    }

    /// A health check at `now` saw each record's target down or not
    /// (`down`, in `records` order): updates the states and the answer.
    pub(crate) fn check(&mut self, now: SimTime, down: &[bool]) {
        for ((healthy, streak), &down) in self.healthy.iter_mut().zip(&mut self.streak).zip(down) {
            let up = !down;
            if up == *healthy {
                *streak = 0;
                continue;
            }
            *streak += 1;
            if *streak >= self.failures {
                *healthy = up;
                *streak = 0;
            }
        }
        let answer = self.healthy.iter().position(|&h| h).unwrap_or(0) as u32;
        if answer != self.answer {
            self.answer = answer;
            self.changes += 1;
            if answer == 0 {
                self.restored.get_or_insert(now);
            } else {
                self.first_change.get_or_insert(now);
            }
        }
    }

    /// The figures over the run.
    pub(crate) fn figures(&self) -> figures::DnsFigures {
        figures::DnsFigures {
            lookups: self.lookups,
            cache_hits: self.cache_hits,
            requests_to_stale_target: self.stale,
            record_changes: self.changes,
            failover_at_s: self.first_change.map(|t| t.as_secs_f64()),
            failback_at_s: self.restored.map(|t| t.as_secs_f64()),
        }
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::derive_stream;

    use super::*;

    fn dns(ttl_s: u64, clients: u32, ignore_ttl: f64) -> Dns {
        let spec = DnsSpec {
            records: vec![ComponentId(1), ComponentId(2)],
            ttl: SimDuration::from_secs(ttl_s),
            clients,
            ignore_ttl,
            failures: 2,
            interval: SimDuration::from_secs(10),
        };
        let end = SimTime::ZERO + SimDuration::from_secs(1000);
        Dns::new(
            &spec,
            (
                derive_stream(1, "dns", "clients"),
                derive_stream(1, "dns", "warm"),
            ),
            StationMetrics::new(SimTime::ZERO, end),
            end,
        )
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// One client, a request every 10 s, TTL 25 s: it looks up at 0, 30,
    /// 60, ... (the first request at or after each expiry), and after the
    /// record changes at 40 it keeps the old target until its cache expires
    /// at 55: the requests at 40 and 50 go to the stale target.
    #[test]
    fn one_client_follows_its_ttl_exactly() {
        let mut d = dns(25, 1, 0.0);
        d.cached[0] = NONE;
        let mut sent = Vec::new();
        for k in 0..10u64 {
            if k == 4 {
                d.check(at(40), &[true, false]);
                d.check(at(40), &[true, false]);
            }
            sent.push(d.route_client(0, at(10 * k), true).0);
        }
        assert_eq!(sent, [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
        let f = d.figures();
        assert_eq!((f.lookups, f.cache_hits), (4, 6)); // at 0, 30, 60, 90
        assert_eq!(f.requests_to_stale_target, 2);
        assert_eq!((f.record_changes, f.failover_at_s), (1, Some(40.0)));
    }

    /// A record flips only after `failures` checks in a row, both ways, and
    /// a passing check in between restarts the count.
    #[test]
    fn health_checks_flip_after_failures_in_a_row() {
        let mut d = dns(60, 1, 0.0);
        let (down, up) = (&[true, false], &[false, false]);
        d.check(at(10), down);
        d.check(at(20), up);
        d.check(at(30), down);
        assert_eq!(d.answer, 0);
        d.check(at(40), down);
        assert_eq!(d.answer, 1);
        d.check(at(50), up);
        assert_eq!(d.answer, 1);
        d.check(at(60), up);
        assert_eq!(d.answer, 0);
        let f = d.figures();
        assert_eq!(f.record_changes, 2);
        assert_eq!((f.failover_at_s, f.failback_at_s), (Some(40.0), Some(60.0)));
    }

    /// Every record down: the answer stays the first (fail open).
    #[test]
    fn with_every_record_down_the_answer_is_the_first() {
        let mut d = dns(60, 1, 0.0);
        for s in [10, 20, 30] {
            d.check(at(s), &[true, true]);
        }
        assert_eq!(d.answer, 0);
        assert_eq!(d.figures().record_changes, 0);
    }

    /// A client that ignores the TTL keeps its first answer for ever.
    #[test]
    fn a_pinned_client_never_looks_up_again() {
        let mut d = dns(1, 2, 0.5);
        d.cached.fill(NONE);
        assert_eq!(d.pinned, 1);
        d.route_client(0, at(0), true);
        d.route_client(1, at(0), true);
        d.check(at(10), &[true, false]);
        d.check(at(20), &[true, false]);
        assert_eq!(d.route_client(0, at(100), true), ComponentId(1));
        assert_eq!(d.route_client(1, at(100), true), ComponentId(2));
        let f = d.figures();
        assert_eq!(
            (f.lookups, f.cache_hits, f.requests_to_stale_target),
            (3, 1, 1)
        );
    }
}

#[cfg(test)]
mod warm_tests {
    use sysdes_kernel::derive_stream;

    use super::*;

    /// The run starts warm: every client holds the first record, expiring
    /// at a uniform time in `[0, ttl)`; a pinned client's never expires.
    #[test]
    fn clients_start_with_the_first_record_and_spread_expiries() {
        let spec = DnsSpec {
            records: vec![ComponentId(1), ComponentId(2)],
            ttl: SimDuration::from_secs(60),
            clients: 10_000,
            ignore_ttl: 0.0,
            failures: 1,
            interval: SimDuration::from_secs(10),
        };
        let end = SimTime::ZERO + SimDuration::from_secs(100);
        let d = Dns::new(
            &spec,
            (
                derive_stream(1, "d", "clients"),
                derive_stream(1, "d", "warm"),
            ),
            StationMetrics::new(SimTime::ZERO, end),
            end,
        );
        assert!(d.cached.iter().all(|&c| c == 0));
        let first_half = d.expires.iter().filter(|e| e.as_secs_f64() < 30.0).count();
        assert!(d.expires.iter().all(|e| e.as_secs_f64() < 60.0));
        // Binomial(10 000, 1/2): sd 50; 5 sd.
        assert!((first_half as i64 - 5000).abs() < 250, "{first_half}");
    }
}
