//! The hand-written yardsticks: the least a simulator of each model must do,
//! one `BinaryHeap` event per hop, requests in a plain slab, one HDR record
//! per request. `sysdes` is measured against these (`docs/performance.md`).

#![allow(dead_code)] // each bench target uses some of them

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::RngExt;
use rand_distr::{Distribution as _, Exp};
use sysdes_kernel::{SimDuration, derive_stream};
use sysdes_stats::LatencyHistogram;

/// M/M/1 at 900/s with 1 ms mean service, `requests` arrivals; returns the
/// requests recorded.
pub fn handwritten_mm1(requests: u64) -> u64 {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Arrival,
        Departure,
    }
    let mut rng = derive_stream(1, "baseline", "all");
    let inter = Exp::new(900.0 / 1e9).expect("valid rate");
    let service = Exp::new(1.0 / 1e6).expect("valid rate");
    let mut heap = BinaryHeap::new();
    let mut queue = VecDeque::new();
    let mut busy = false;
    let mut hist = LatencyHistogram::new();
    heap.push(Reverse((inter.sample(&mut rng) as u64, 0u64, Ev::Arrival)));
    let (mut seq, mut arrived) = (1u64, 0u64);
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        match ev {
            Ev::Arrival => {
                arrived += 1;
                if arrived < requests {
                    heap.push(Reverse((
                        now + inter.sample(&mut rng) as u64,
                        seq,
                        Ev::Arrival,
                    )));
                    seq += 1;
                }
                queue.push_back(now);
                if !busy {
                    busy = true;
                    heap.push(Reverse((
                        now + service.sample(&mut rng) as u64,
                        seq,
                        Ev::Departure,
                    )));
                    seq += 1;
                }
            }
            Ev::Departure => {
                let born = queue.pop_front().expect("a departure has a customer");
                hist.record(SimDuration::from_nanos(now - born));
                if queue.is_empty() {
                    busy = false;
                } else {
                    heap.push(Reverse((
                        now + service.sample(&mut rng) as u64,
                        seq,
                        Ev::Departure,
                    )));
                    seq += 1;
                }
            }
        }
    }
    hist.count()
}

/// The three-tier model's parameters (the same as `benches/three-tier.yaml`).
pub mod three_tier {
    /// Arrivals per second.
    pub const RATE: f64 = 2_000.0;
    /// App servers behind the balancer.
    pub const APPS: usize = 4;
    /// Workers per app server (each held through the database call).
    pub const APP_WORKERS: u32 = 8;
    /// Mean app service time (exponential), ns.
    pub const APP_SERVICE_NS: f64 = 2e6;
    /// Database workers.
    pub const DB_WORKERS: u32 = 16;
    /// Mean database service time (exponential), ns.
    pub const DB_SERVICE_NS: f64 = 4e6;
    /// One network hop, ns.
    pub const HOP_NS: u64 = 500_000;
}

/// Uniform-random balancer -> 4 app servers of 8 workers, each holding its
/// worker through a synchronous call -> a 16-worker database, 0.5 ms per
/// network hop, 2,000 req/s, `requests` arrivals. One event per hop: 9 per
/// request (arrival, client->lb, lb->app, app done, app->db, db done,
/// db->app, app->lb, lb->client). Returns the requests recorded.
pub fn handwritten_three_tier(requests: u64) -> u64 {
    use three_tier::*;
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Arrival,
        AtLb,
        AtApp,
        AppDone,
        AtDb,
        DbDone,
        ReplyAtApp,
        ReplyAtLb,
        ReplyAtClient,
    }
    struct Req {
        born: u64,
        app: u8,
    }
    let mut rng = derive_stream(1, "baseline", "three-tier");
    let inter = Exp::new(RATE / 1e9).expect("valid rate");
    let app_service = Exp::new(1.0 / APP_SERVICE_NS).expect("valid rate");
    let db_service = Exp::new(1.0 / DB_SERVICE_NS).expect("valid rate");
    let mut heap: BinaryHeap<Reverse<(u64, u64, Ev, u32)>> = BinaryHeap::new();
    let mut slab: Vec<Req> = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let mut app_queue: Vec<VecDeque<u32>> = (0..APPS).map(|_| VecDeque::new()).collect();
    let mut app_busy = [0u32; APPS];
    let mut db_queue: VecDeque<u32> = VecDeque::new();
    let mut db_busy = 0u32;
    let mut hist = LatencyHistogram::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, at: u64, ev: Ev, req: u32| {
        heap.push(Reverse((at, seq, ev, req)));
        seq += 1;
    };
    push(&mut heap, inter.sample(&mut rng) as u64, Ev::Arrival, 0);
    let mut arrived = 0u64;
    while let Some(Reverse((now, _, ev, r))) = heap.pop() {
        match ev {
            Ev::Arrival => {
                arrived += 1;
                if arrived < requests {
                    push(
                        &mut heap,
                        now + inter.sample(&mut rng) as u64,
                        Ev::Arrival,
                        0,
                    );
                }
                let req = Req { born: now, app: 0 };
                let id = match free.pop() {
                    Some(id) => {
                        slab[id as usize] = req;
                        id
                    }
                    None => {
                        slab.push(req);
                        slab.len() as u32 - 1
                    }
                };
                push(&mut heap, now + HOP_NS, Ev::AtLb, id);
            }
            Ev::AtLb => {
                let app = rng.random_range(0..APPS);
                slab[r as usize].app = app as u8;
                push(&mut heap, now + HOP_NS, Ev::AtApp, r);
            }
            Ev::AtApp => {
                let app = slab[r as usize].app as usize;
                if app_busy[app] < APP_WORKERS {
                    app_busy[app] += 1;
                    push(
                        &mut heap,
                        now + app_service.sample(&mut rng) as u64,
                        Ev::AppDone,
                        r,
                    );
                } else {
                    app_queue[app].push_back(r);
                }
            }
            Ev::AppDone => push(&mut heap, now + HOP_NS, Ev::AtDb, r),
            Ev::AtDb => {
                if db_busy < DB_WORKERS {
                    db_busy += 1;
                    push(
                        &mut heap,
                        now + db_service.sample(&mut rng) as u64,
                        Ev::DbDone,
                        r,
                    );
                } else {
                    db_queue.push_back(r);
                }
            }
            Ev::DbDone => {
                push(&mut heap, now + HOP_NS, Ev::ReplyAtApp, r);
                match db_queue.pop_front() {
                    Some(next) => push(
                        &mut heap,
                        now + db_service.sample(&mut rng) as u64,
                        Ev::DbDone,
                        next,
                    ),
                    None => db_busy -= 1,
                }
            }
            Ev::ReplyAtApp => {
                let app = slab[r as usize].app as usize;
                push(&mut heap, now + HOP_NS, Ev::ReplyAtLb, r);
                match app_queue[app].pop_front() {
                    Some(next) => push(
                        &mut heap,
                        now + app_service.sample(&mut rng) as u64,
                        Ev::AppDone,
                        next,
                    ),
                    None => app_busy[app] -= 1,
                }
            }
            Ev::ReplyAtLb => push(&mut heap, now + HOP_NS, Ev::ReplyAtClient, r),
            Ev::ReplyAtClient => {
                let born = slab[r as usize].born;
                hist.record(SimDuration::from_nanos(now - born));
                free.push(r);
            }
        }
    }
    hist.count()
}
