//! Storage tiers against queueing theory and exact hand computation
//! (docs/validation.md, "Storage tiers").
//!
//! An operation waits at the IOPS gate, then its first-byte latency, then
//! its transfer. With the gate as the only queue, the gate is a
//! deterministic server of `1 / iops`, so Poisson arrivals wait as in M/D/1
//! (Pollaczek-Khinchine): `W_q = rho / (2 mu (1 - rho))`, `mu = iops`,
//! `rho = lambda / mu`. With one shared lane as the only queue, the lane
//! is M/D/1 with `D = size / bandwidth` (a constant latency before it only
//! shifts the Poisson stream). Mean tolerances: docs/validation.md gives
//! 2 % for the M/D/1 mean over 10^6 requests at rho 0.8; the standard
//! error grows as 1 / sqrt(n), so over n requests the tolerance is
//! 2 % * sqrt(10^6 / n).

mod common;

use common::*;
use sysdes_models::*;

const MS: f64 = 1e6;

fn storage(spec: StorageSpec) -> ComponentSpec {
    component("disk", ComponentKind::Storage(spec))
}

fn block(iops: Option<u32>, bandwidth: Option<f64>, object_size: u64) -> StorageSpec {
    StorageSpec {
        tier: StorageTier::Block,
        read_latency: constant_ms(1.0),
        write_latency: constant_ms(1.0),
        iops,
        write_iops: None,
        over_limit: OverLimit::Wait,
        bandwidth,
        stream_bandwidth: None,
        object_size: Some(object_size),
        size_bytes: 100_000_000_000,
    }
}

/// The M/D/1 mean sojourn `W_q + D`, ms, for `lambda` and `mu` per second.
fn md1_wait_ms(lambda: f64, mu: f64) -> f64 {
    let rho = lambda / mu;
    rho / (2.0 * mu * (1.0 - rho)) * 1e3
}

fn tolerance(n: u64) -> f64 {
    0.02 * (1e6 / n as f64).sqrt()
}

#[test]
fn the_iops_gate_waits_as_md1() {
    // 800/s into 1,000 IOPS: rho 0.8, W_q = 2 ms; plus 1 ms latency.
    let (lambda, mu) = (800.0, 1000.0);
    let spec = single_component(
        "gate-md1",
        poisson(lambda),
        storage(block(Some(1000), None, 4096)),
        600,
    );
    let r = run(&spec);
    let c = &r.components[0];
    let n = c.latency.count();
    let expected = md1_wait_ms(lambda, mu) + 1.0;
    close(
        "mean time at the gate plus latency, ms",
        c.latency.mean_ns() / MS,
        expected,
        tolerance(n),
    );
    // Admitted over allowed: lambda / mu, a Poisson count (4 standard errors).
    close(
        "iops_utilization",
        extra(&r, "iops_utilization"),
        0.8,
        4.0 / (n as f64).sqrt(),
    );
    assert_eq!(extra(&r, "bandwidth_utilization"), 0.0);
    assert_eq!(extra(&r, "bytes_read"), extra(&r, "reads") * 4096.0);
    assert_eq!(extra(&r, "stored_gb_mean"), 100.0);
}

#[test]
fn one_shared_lane_queues_as_md1() {
    // No IOPS limit; 1 MB at 1 GB/s is D = 1 ms; 800/s: rho 0.8, W_q 2 ms.
    let (lambda, mu) = (800.0, 1000.0);
    let spec = single_component(
        "lane-md1",
        poisson(lambda),
        storage(block(None, Some(1e9), 1_000_000)),
        600,
    );
    let r = run(&spec);
    let c = &r.components[0];
    let n = c.latency.count();
    let expected = 1.0 + md1_wait_ms(lambda, mu) + 1.0;
    close(
        "mean latency plus lane wait plus transfer, ms",
        c.latency.mean_ns() / MS,
        expected,
        tolerance(n),
    );
    close(
        "bandwidth_utilization",
        extra(&r, "bandwidth_utilization"),
        0.8,
        4.0 / (n as f64).sqrt(),
    );
    assert_eq!(extra(&r, "iops_utilization"), 0.0);
}

/// Beyond the request-rate limit an object store throttles the excess:
/// over a long run the admitted rate is the limit, so the throttled share
/// is `1 - limit / lambda` (8,000 GETs/s on one prefix of 5,500/s:
/// 0.3125). The bucket's one second of requests and the time it spends
/// full bound the error by about `limit / (lambda T)`, plus four standard
/// errors of the Poisson count.
#[test]
fn an_object_store_throttles_down_to_its_request_rate() {
    let (lambda, limit, seconds) = (8000.0, 5500u32, 100u64);
    let mut s = block(Some(limit), None, 16_384);
    s.tier = StorageTier::Object;
    s.over_limit = OverLimit::Throttle;
    s.stream_bandwidth = Some(85e6);
    s.read_latency = constant_ms(100.0);
    let spec = single_component("s3-throttle", poisson(lambda), storage(s), seconds);
    let r = run(&spec);
    let c = &r.components[0];
    let share = extra(&r, "throttled") / c.arrivals as f64;
    let expected = 1.0 - f64::from(limit) / lambda;
    let window_s = seconds as f64 * 0.98;
    let tol = f64::from(limit) / (lambda * window_s) + 4.0 / (c.arrivals as f64).sqrt();
    println!("throttled share {share:.5} vs {expected:.5} +- {tol:.5}");
    assert!(
        (share - expected).abs() <= tol,
        "{share} vs {expected} +- {tol}"
    );
    // Admitted at most the limit over the window plus one bucket.
    let ops = extra(&r, "operations");
    assert!(ops <= f64::from(limit) * (window_s + 1.0), "{ops}");
    // Every admitted one takes 100 ms plus 16,384 B at 85 MB/s (ceil to ns).
    let t_ns = 100.0 * MS + (16_384.0 * 1e9 / 85e6_f64).ceil();
    assert_eq!(c.latency.mean_ns().round(), t_ns.round());
}

/// Evenly spaced arrivals that never wait: every operation takes exactly
/// its latency plus its transfer, and the gate and the lane are busy the
/// share of time the rate says.
#[test]
fn evenly_spaced_operations_take_latency_plus_transfer_exactly() {
    // 500/s, 1,000 IOPS, 1 ms latency, 500 kB at 1 GB/s = 0.5 ms transfer.
    let spec = single_component(
        "even",
        ArrivalSpec::Constant { per_second: 500.0 },
        storage(block(Some(1000), Some(1e9), 500_000)),
        10,
    );
    let r = run(&spec);
    let c = &r.components[0];
    // The histogram's quantiles are bucketed; its mean is the exact sum.
    assert_eq!(c.latency.mean_ns(), 1_500_000.0);
    // 5,000 operations in the 10 s window (a 10 s run has no warm-up:
    // 10 / 50 s rounds down to 0), each 500 kB.
    assert_eq!(extra(&r, "reads"), 5000.0);
    assert_eq!(extra(&r, "bytes_read"), 5000.0 * 500_000.0);
    assert!((extra(&r, "iops_utilization") - 0.5).abs() < 1e-12);
    assert!((extra(&r, "bandwidth_utilization") - 0.25).abs() < 1e-3);
}

/// A shared file system's throughput is split among its clients: with
/// `bandwidth / stream_bandwidth` lanes, two clients each reading at half
/// the lanes' capacity see the same M/D/c system; here the check is that
/// doubling the clients at a fixed total bandwidth (one lane) raises the
/// wait as M/D/1 says: 400/s then 800/s of 1 ms transfers.
#[test]
fn more_clients_on_one_shared_file_system_wait_longer() {
    let mean_at = |lambda: f64| {
        let mut s = block(None, Some(1e9), 1_000_000);
        s.tier = StorageTier::File;
        let spec = single_component("efs", poisson(lambda), storage(s), 300);
        let r = run(&spec);
        let c = &r.components[0];
        (c.latency.mean_ns() / MS, c.latency.count())
    };
    let (half, n1) = mean_at(400.0);
    let (full, n2) = mean_at(800.0);
    close(
        "400/s",
        half,
        2.0 + md1_wait_ms(400.0, 1000.0),
        tolerance(n1),
    );
    close(
        "800/s",
        full,
        2.0 + md1_wait_ms(800.0, 1000.0),
        tolerance(n2),
    );
}
