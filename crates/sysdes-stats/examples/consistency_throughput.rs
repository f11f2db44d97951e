//! Micro benchmark of the consistency tracker: operations per second on a
//! store-like history (10,000 keys, 1,000 sessions, 10 % writes, 5 % of
//! reads returning one of the three previous versions).
//!
//! Run with `cargo run --release -p sysdes-stats --example consistency_throughput`.

use std::hint::black_box;
use std::time::Instant;

use sysdes_kernel::SimTime;
use sysdes_stats::{ConsistencyConfig, ConsistencyTracker};

fn main() {
    let ops: u64 = 10_000_000;
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let keys = args.first().copied().unwrap_or(10_000);
    let sessions = args.get(1).copied().unwrap_or(1_000);
    for lin in [false] {
        let mut tracker = ConsistencyTracker::new(ConsistencyConfig {
            check_linearizability: lin,
            ..ConsistencyConfig::default()
        });
        let mut latest = vec![0u64; keys as usize];
        let mut next_version = 1u64;
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let start = Instant::now();
        for i in 0..ops {
            let r = rnd();
            let key = (r >> 8) % keys;
            let session = ((r >> 32) % sessions) as u32;
            let now = i * 1_000;
            let started = SimTime::from_nanos(now);
            let at = SimTime::from_nanos(now + 500);
            if r % 10 == 0 {
                latest[key as usize] = next_version;
                tracker.write_acked(session, key, next_version, started, at);
                next_version += 1;
            } else {
                let v = latest[key as usize];
                let returned = if r % 20 == 1 {
                    v.saturating_sub(1 + (r >> 60) % 3)
                } else {
                    v
                };
                tracker.read_done(session, key, returned, started, at);
            }
        }
        let report = tracker.finish(|k| latest[k as usize]);
        let secs = start.elapsed().as_secs_f64();
        black_box(&report);
        println!(
            "{keys} keys, {sessions} sessions: {ops} operations in {secs:.3} s: {:.1} M ops/s (stale-read rate {:.4}, session violations {})",
            ops as f64 / secs / 1e6,
            report.stale_read_rate,
            report.sessions.total()
        );
    }
}
