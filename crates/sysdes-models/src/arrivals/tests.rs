//! The generators against their closed forms (docs/validation.md,
//! "Arrival processes"). Every tolerance is a multiple of a standard error
//! computed from the run length (Poisson counts) or from batch means.

use std::sync::Arc;

use sysdes_kernel::{SimDuration, SimTime, derive_stream};

use super::*;

fn secs(s: f64) -> SimDuration {
    SimDuration::from_nanos((s * 1e9).round() as u64)
}

/// A "day" of 24 s: 100/s at 0, 50/s at 6, 800/s at 12, 400/s at 18,
/// linear between, starting at offset 3 s.
fn day(shape: CurveShape) -> RateCurveSpec {
    RateCurveSpec {
        period: secs(24.0),
        points: vec![
            (secs(0.0), 100.0),
            (secs(6.0), 50.0),
            (secs(12.0), 800.0),
            (secs(18.0), 400.0),
        ],
        shape,
        start: secs(3.0),
    }
}

/// Every arrival before `end`.
fn curve_arrivals(spec: &RateCurveSpec, end: SimTime) -> Vec<SimTime> {
    let mut g = CurveArrivals::new(spec, derive_stream(7, "w", "arrivals")).unwrap();
    let mut out = Vec::new();
    let mut t = g.first();
    while t < end {
        out.push(t);
        let next = g.next();
        assert!(next >= t, "arrivals go back in time: {t:?} then {next:?}");
        t = next;
    }
    out
}

/// Hand computation (trapezoids): a linear day integrates to
/// (100+50)/2*6 + (50+800)/2*6 + (800+400)/2*6 + (400+100)/2*6 = 8,100
/// arrivals; a step day to (100+50+800+400)*6 = 8,100 as well.
#[test]
fn a_curve_integrates_to_the_hand_computed_count() {
    assert!((day(CurveShape::Linear).per_period() - 8_100.0).abs() < 1e-6);
    assert!((day(CurveShape::Step).per_period() - 8_100.0).abs() < 1e-6);
    let c = day(CurveShape::Linear);
    // From offset 3 to 9 (run time 0 to 6): 3 s falling 75 -> 50, then 3 s
    // rising 50 -> 425: (75+50)/2*3 + (50+425)/2*3 = 900.
    let got = c.expected_arrivals(SimTime::ZERO, SimTime::ZERO + secs(6.0));
    assert!((got - 900.0).abs() < 1e-6, "{got}");
    // A whole period from any start is one period's count.
    let got = c.expected_arrivals(SimTime::ZERO + secs(5.0), SimTime::ZERO + secs(29.0));
    assert!((got - 8_100.0).abs() < 1e-6, "{got}");
    assert_eq!(c.rate_at(secs(15.0).as_nanos() as f64), 600.0);
    assert_eq!(c.rate_at(secs(21.0 + 24.0).as_nanos() as f64), 250.0);
}

/// The count in each second of the period, summed over 200 periods, is
/// Poisson with mean the integral of the rate over those seconds; each of
/// the 24 bins must be within 5 standard deviations (sqrt of the mean), and
/// the total within 5 as well.
fn counts_match_the_integral(shape: CurveShape) {
    let spec = day(shape);
    let periods = 200u64;
    let end = SimTime::ZERO + secs(24.0 * periods as f64);
    let arrivals = curve_arrivals(&spec, end);
    let mut bins = [0u64; 24];
    for t in &arrivals {
        bins[((t.as_nanos() / 1_000_000_000) % 24) as usize] += 1;
    }
    let mut worst: f64 = 0.0;
    for (b, &n) in bins.iter().enumerate() {
        let mut mean = 0.0;
        for p in 0..periods {
            let from = SimTime::ZERO + secs((p * 24 + b as u64) as f64);
            mean += spec.expected_arrivals(from, from + secs(1.0));
        }
        let z = (n as f64 - mean) / mean.sqrt();
        worst = worst.max(z.abs());
        assert!(
            z.abs() < 5.0,
            "{shape:?} second {b}: {n} arrivals, expected {mean:.1} (z {z:.2})"
        );
    }
    let mean = spec.expected_arrivals(SimTime::ZERO, end);
    let z = (arrivals.len() as f64 - mean) / mean.sqrt();
    println!(
        "{shape:?} curve: {} arrivals, integral {mean:.0}, error {:.3} %, z {z:.2}, worst bin z {worst:.2}",
        arrivals.len(),
        (arrivals.len() as f64 / mean - 1.0) * 100.0
    );
    assert!(z.abs() < 5.0);
}

#[test]
fn linear_curve_counts_match_the_integral_of_the_rate() {
    counts_match_the_integral(CurveShape::Linear);
}

#[test]
fn step_curve_counts_match_the_integral_of_the_rate() {
    counts_match_the_integral(CurveShape::Step);
}

/// Time-rescaling theorem: the integrated rate between consecutive
/// arrivals of a non-homogeneous Poisson process is Exp(1): mean 1 and
/// P(> 1) = e^-1. Both within 5 standard errors (1/sqrt(n) and
/// sqrt(p(1-p)/n)).
#[test]
fn curve_gaps_rescale_to_unit_exponentials() {
    let spec = day(CurveShape::Linear);
    let arrivals = curve_arrivals(&spec, SimTime::ZERO + secs(24.0 * 50.0));
    let n = (arrivals.len() - 1) as f64;
    let mut sum = 0.0;
    let mut over = 0u64;
    for w in arrivals.windows(2) {
        let g = spec.expected_arrivals(w[0], w[1]);
        sum += g;
        over += u64::from(g > 1.0);
    }
    let mean = sum / n;
    let p = (-1.0f64).exp();
    let share = over as f64 / n;
    println!("rescaled gaps: mean {mean:.5} (1), P(>1) {share:.5} ({p:.5}) over {n} gaps");
    assert!((mean - 1.0).abs() < 5.0 / n.sqrt(), "{mean}");
    assert!(
        (share - p).abs() < 5.0 * (p * (1.0 - p) / n).sqrt(),
        "{share}"
    );
}

#[test]
fn a_silent_curve_sends_nothing_and_bad_curves_are_refused() {
    let mut c = day(CurveShape::Step);
    for p in &mut c.points {
        p.1 = 0.0;
    }
    let mut g = CurveArrivals::new(&c, derive_stream(1, "w", "a")).unwrap();
    assert_eq!(g.first(), SimTime::MAX);
    let mut c = day(CurveShape::Linear);
    c.points.swap(1, 2);
    assert!(CurveArrivals::new(&c, derive_stream(1, "w", "a")).is_err());
    let mut c = day(CurveShape::Linear);
    c.start = secs(24.0);
    assert!(CurveArrivals::new(&c, derive_stream(1, "w", "a")).is_err());
}

/// Counts of an MMPP in windows of `window` over `batches` batches of
/// `batch` seconds: per batch, the mean rate and the index of dispersion
/// of counts (variance / mean of the window counts).
fn mmpp_batches(spec: &MmppSpec, window: f64, batch: f64, batches: usize) -> Vec<(f64, f64)> {
    let mut g = MmppArrivals::new(spec, derive_stream(11, "w", "arrivals")).unwrap();
    let per_batch = (batch / window).round() as usize;
    let window_ns = secs(window).as_nanos();
    let mut counts = vec![0u64; per_batch * batches];
    let mut t = g.first();
    loop {
        let w = (t.as_nanos() / window_ns) as usize;
        if w >= counts.len() {
            break;
        }
        counts[w] += 1;
        t = g.next(t);
    }
    counts
        .chunks(per_batch)
        .map(|c| {
            let n = c.len() as f64;
            let mean = c.iter().sum::<u64>() as f64 / n;
            let var = c.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (mean / window, var / mean)
        })
        .collect()
}

/// The mean of `xs` and its standard error.
fn mean_se(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let xs: Vec<f64> = xs.collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Two-state MMPP (Heffes and Lucantoni 1986): rates l1, l2, leaving rates
/// r1, r2 (1 / mean stay), r = r1 + r2: mean rate (l1 r2 + l2 r1) / r and
/// index of dispersion of counts in windows of t
/// IDC(t) = 1 + 2 (l1 - l2)^2 r1 r2 / (r^2 (l1 r2 + l2 r1)) (1 - (1 - e^{-rt}) / (rt)).
/// 200/s and 1,000/s, stays 0.5 s each: mean 600/s, IDC(0.1 s) = 24.44,
/// IDC(1 s) = 101.6. Tolerance: 5 batch-means standard errors (30 batches
/// of 1,000 s).
#[test]
fn two_state_mmpp_matches_its_mean_rate_and_dispersion() {
    let spec = MmppSpec {
        states: vec![
            MmppState {
                per_second: 200.0,
                mean_stay: secs(0.5),
            },
            MmppState {
                per_second: 1000.0,
                mean_stay: secs(0.5),
            },
        ],
    };
    let (l1, l2, r1, r2) = (200.0f64, 1000.0f64, 2.0f64, 2.0f64);
    let r = r1 + r2;
    let mean = (l1 * r2 + l2 * r1) / r;
    assert!((spec.mean_per_second() - mean).abs() < 1e-9);
    for window in [0.1, 1.0] {
        let idc = 1.0
            + 2.0 * (l1 - l2).powi(2) * r1 * r2 / (r * r * (l1 * r2 + l2 * r1))
                * (1.0 - (1.0 - (-r * window).exp()) / (r * window));
        let b = mmpp_batches(&spec, window, 1_000.0, 30);
        let (m, m_se) = mean_se(b.iter().map(|x| x.0));
        let (d, d_se) = mean_se(b.iter().map(|x| x.1));
        println!(
            "MMPP-2 window {window} s: rate {m:.2} ({mean}, error {:.3} %, se {m_se:.2}); IDC {d:.3} ({idc:.3}, error {:.2} %, se {d_se:.3})",
            (m / mean - 1.0) * 100.0,
            (d / idc - 1.0) * 100.0
        );
        assert!((m - mean).abs() < 5.0 * m_se, "rate {m} vs {mean}");
        assert!((d - idc).abs() < 5.0 * d_se, "IDC {d} vs {idc}");
        // And the test can fail: a Poisson process has IDC 1.
        assert!(idc > 1.0 + 10.0 * d_se);
    }
}

/// Three states, uniform jumps to the others: the embedded chain is
/// uniform, so time shares are proportional to the mean stays and the mean
/// rate is sum l_i s_i / sum s_i = (100 + 1,000 + 1,000) / 3.5 = 600/s.
#[test]
fn three_state_mmpp_mean_rate_weights_rates_by_stays() {
    let spec = MmppSpec {
        states: vec![
            MmppState {
                per_second: 100.0,
                mean_stay: secs(1.0),
            },
            MmppState {
                per_second: 500.0,
                mean_stay: secs(2.0),
            },
            MmppState {
                per_second: 2000.0,
                mean_stay: secs(0.5),
            },
        ],
    };
    assert!((spec.mean_per_second() - 600.0).abs() < 1e-9);
    let b = mmpp_batches(&spec, 1.0, 1_000.0, 30);
    let (m, se) = mean_se(b.iter().map(|x| x.0));
    println!(
        "MMPP-3: rate {m:.2} (600, error {:.3} %, se {se:.2})",
        (m / 600.0 - 1.0) * 100.0
    );
    assert!((m - 600.0).abs() < 5.0 * se);
    // The start is stationary: over many seeds, the first state is state 1
    // (stay 2 of 3.5 s) 4/7 of the time, within 5 standard errors.
    let n = 4_000;
    let mut in_1 = 0;
    for seed in 0..n {
        let mut g = MmppArrivals::new(&spec, derive_stream(seed, "w", "arrivals")).unwrap();
        g.draw_start();
        in_1 += u64::from(g.state() == 1);
    }
    let p = 4.0 / 7.0;
    let share = in_1 as f64 / n as f64;
    println!("MMPP-3 start in state 1: {share:.4} of {n} seeds ({p:.4})");
    assert!(
        (share - p).abs() < 5.0 * (p * (1.0 - p) / n as f64).sqrt(),
        "{share}"
    );
}

#[test]
fn bad_mmpps_are_refused() {
    let one = MmppSpec {
        states: vec![MmppState {
            per_second: 1.0,
            mean_stay: secs(1.0),
        }],
    };
    assert!(MmppArrivals::new(&one, derive_stream(1, "w", "a")).is_err());
    let silent = MmppSpec {
        states: vec![
            MmppState {
                per_second: 0.0,
                mean_stay: secs(1.0),
            };
            2
        ],
    };
    assert!(MmppArrivals::new(&silent, derive_stream(1, "w", "a")).is_err());
}

fn record(at_ns: u64, key: Option<u64>) -> TraceRecord {
    TraceRecord {
        at: SimDuration::from_nanos(at_ns),
        key,
        ..TraceRecord::default()
    }
}

/// A trace is replayed record for record: each arrival at the record's time
/// divided by the speed (rounded to the ns), with that record current.
#[test]
fn a_trace_replays_record_for_record_at_its_speed() {
    let records: Arc<[TraceRecord]> = vec![
        record(0, Some(5)),
        record(3, None),
        record(3, Some(7)),
        record(1_000_000_001, Some(9)),
    ]
    .into();
    for (speed, want) in [
        (1.0, [0u64, 3, 3, 1_000_000_001]),
        (2.0, [0, 2, 2, 500_000_001]),
        (0.5, [0, 6, 6, 2_000_000_002]),
    ] {
        let spec = TraceSpec {
            source: "t.csv".into(),
            records: Arc::clone(&records),
            speed,
        };
        let mut g = TraceArrivals::new(&spec).unwrap();
        let mut got = vec![g.first()];
        assert_eq!(g.current(), Some(&records[0]));
        for r in &records[1..] {
            got.push(g.next());
            assert_eq!(g.current(), Some(r));
        }
        assert_eq!(g.next(), SimTime::MAX);
        assert_eq!(g.current(), None);
        let got: Vec<u64> = got.iter().map(|t| t.as_nanos()).collect();
        assert_eq!(got, want, "speed {speed}");
    }
    let unordered = TraceSpec {
        source: "t.csv".into(),
        records: vec![record(5, None), record(4, None)].into(),
        speed: 1.0,
    };
    assert!(TraceArrivals::new(&unordered).is_err());
}
