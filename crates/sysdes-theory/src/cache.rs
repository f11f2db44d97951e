//! Cache hit ratios and staleness under the independent reference model.
//!
//! Under the independent reference model (IRM) each request asks for item
//! `i` with fixed probability `p_i`, independently of the past. The
//! characteristic-time approximation (Che, Tung and Wang, IEEE JSAC 2002;
//! Fricker, Robert and Roberts 2012) says an item stays in a cache of
//! capacity `C` for about a fixed time `T_C` after it is brought in (LRU:
//! after its last request), with `T_C` set so that the expected occupancy is
//! `C`. Time is counted in requests, so a rate is a probability:
//!
//! ```text
//!  LRU          h_i = 1 - e^{-p_i T}            with  sum_i s_i h_i = C
//!  FIFO, random h_i = p_i T / (1 + p_i T)        with  sum_i s_i h_i = C
//!  hit ratio    H   = sum_i p_i h_i
//! ```
//!
//! (`s_i` is an item's size, 1 when capacity counts entries; the FIFO and
//! random form is from Martina, Garetto and Leonardi, INFOCOM 2014, and
//! Gelenbe 1973 showed FIFO and random have the same hit ratio under IRM.)
//! These are approximations, very accurate once `C` is more than a few
//! dozen entries. Perfect LFU, which keeps the `C` most popular items, gives
//! the upper bound any policy can reach under IRM.
//!
//! A time-to-live cache in front of a key rewritten as a Poisson process of
//! rate `lambda`, entries kept `T` after a fill, serves a stale hit with
//! probability `1 - (1 - e^{-lambda T}) / (lambda T)`: hits of one fill are
//! spread uniformly over its life, and a hit at age `u` is stale with
//! probability `1 - e^{-lambda u}`.
//!
//! This module only computes; it never simulates.

use crate::portable::Portable;
use sysdes_models::{CacheCapacity, CachePolicy, CacheSpec, KeySpec};

/// Zipf popularity over `n` items: `p_k` proportional to `k^{-s}` for
/// `k = 1..=n` (the first item is the most popular), summing to one.
pub fn zipf_popularity(n: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).libm_powf(-s)).collect();
    let total: f64 = weights.iter().sum();
    weights.into_iter().map(|w| w / total).collect()
}

/// A characteristic-time prediction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CachePrediction {
    /// The characteristic time `T_C`, in requests (infinite when everything
    /// fits).
    pub characteristic_time: f64,
    /// Fraction of requests that hit.
    pub hit_ratio: f64,
    /// Fraction of requested bytes (sizes) that hit; equals `hit_ratio`
    /// when every size is 1.
    pub byte_hit_ratio: f64,
}

/// Che's approximation for an LRU cache of `capacity` units over items with
/// popularity `popularity` and sizes `sizes` (`None`: every item has size 1,
/// so capacity counts entries).
///
/// ```
/// use sysdes_theory::cache::{lru_che, zipf_popularity};
/// // 1,000 items, Zipf s = 1, room for 100: hit ratio 0.5765.
/// let h = lru_che(&zipf_popularity(1000, 1.0), None, 100.0).hit_ratio;
/// assert!((h - 0.5765).abs() < 5e-4);
/// ```
pub fn lru_che(popularity: &[f64], sizes: Option<&[f64]>, capacity: f64) -> CachePrediction {
    characteristic(popularity, sizes, capacity, |x| -(-x).libm_exp_m1())
}

/// The characteristic-time approximation for a FIFO or random-eviction
/// cache (same arguments as [`lru_che`]): `h_i = p_i T / (1 + p_i T)`.
pub fn fifo_random_che(
    popularity: &[f64],
    sizes: Option<&[f64]>,
    capacity: f64,
) -> CachePrediction {
    characteristic(popularity, sizes, capacity, |x| x / (1.0 + x))
}

/// The hit ratio of perfect LFU with room for `capacity` entries: the total
/// popularity of the most popular items that fit, the best any policy can do
/// under the independent reference model.
pub fn lfu_bound(popularity: &[f64], capacity: usize) -> f64 {
    let mut p = popularity.to_vec();
    p.sort_by(|a, b| b.total_cmp(a));
    p.iter().take(capacity).sum()
}

/// Probability that a hit on a time-to-live cache is stale, when the key is
/// rewritten as a Poisson process and entries live `T`: `lambda_t` is
/// `lambda * T`. `1 - (1 - e^{-x}) / x`, 0.368 at `x = 1`.
pub fn ttl_stale_hit_probability(lambda_t: f64) -> f64 {
    if lambda_t <= 0.0 {
        return 0.0;
    }
    if lambda_t < 1e-6 {
        // Series: x/2 - x^2/6, avoiding cancellation.
        return lambda_t / 2.0 - lambda_t * lambda_t / 6.0;
    }
    1.0 + (-lambda_t).libm_exp_m1() / lambda_t
}

/// Solves `sum_i s_i h(p_i T) = C` for `T` by bisection (the occupancy is
/// increasing in `T`) and returns the hit ratios.
fn characteristic(
    popularity: &[f64],
    sizes: Option<&[f64]>,
    capacity: f64,
    h: impl Fn(f64) -> f64,
) -> CachePrediction {
    let classes: Vec<Class> = popularity
        .iter()
        .enumerate()
        .map(|(i, &p)| Class {
            p,
            count: 1.0,
            size: sizes.map_or(1.0, |s| s[i]),
        })
        .collect();
    solve(&classes, capacity, h)
}

/// Items of one popularity: `count` items of probability `p` each, size `size`.
#[derive(Clone, Copy, Debug)]
struct Class {
    p: f64,
    count: f64,
    size: f64,
}

fn solve(classes: &[Class], capacity: f64, h: impl Fn(f64) -> f64) -> CachePrediction {
    let total_size: f64 = classes.iter().map(|c| c.count * c.size).sum();
    let ratios = |t: f64| {
        let (mut hit, mut bytes_hit, mut bytes) = (0.0, 0.0, 0.0);
        for c in classes {
            let hi = if t.is_infinite() { 1.0 } else { h(c.p * t) };
            hit += c.count * c.p * hi;
            bytes_hit += c.count * c.p * c.size * hi;
            bytes += c.count * c.p * c.size;
        }
        (hit, if bytes > 0.0 { bytes_hit / bytes } else { 0.0 })
    };
    if capacity >= total_size {
        let (hit_ratio, byte_hit_ratio) = ratios(f64::INFINITY);
        return CachePrediction {
            characteristic_time: f64::INFINITY,
            hit_ratio,
            byte_hit_ratio,
        };
    }
    if capacity <= 0.0 {
        return CachePrediction {
            characteristic_time: 0.0,
            hit_ratio: 0.0,
            byte_hit_ratio: 0.0,
        };
    }
    let occupancy = |t: f64| -> f64 { classes.iter().map(|c| c.count * c.size * h(c.p * t)).sum() };
    let (mut lo, mut hi) = (0.0, 1.0);
    while occupancy(hi) < capacity {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if occupancy(mid) < capacity {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    let t = 0.5 * (lo + hi);
    let (hit_ratio, byte_hit_ratio) = ratios(t);
    CachePrediction {
        characteristic_time: t,
        hit_ratio,
        byte_hit_ratio,
    }
}

/// Most distinct keys for which [`predicted_hit_ratio`] builds a Zipf
/// popularity vector (beyond, it gives no prediction rather than take long).
pub const MAX_PREDICTED_KEYS: u64 = 2_000_000;

/// The hit ratio a lone workload with keys `keys` would see at `cache`,
/// with the method's name: Che's approximation for LRU, its FIFO/random
/// form, the perfect-LFU bound for LFU. A byte capacity is turned into
/// entries by the mean value size. Time-to-live expiry and writes are
/// ignored (both only lower the hit ratio). `None` when no estimate is made.
pub fn predicted_hit_ratio(cache: &CacheSpec, keys: &KeySpec) -> Option<(f64, &'static str)> {
    let entries = match &cache.capacity {
        CacheCapacity::Entries(n) => *n as f64,
        CacheCapacity::Bytes { bytes, value_size } => {
            let mean = value_size.mean_ns().max(1.0);
            if !mean.is_finite() {
                return None;
            }
            (*bytes as f64 / mean).floor()
        }
    };
    let classes: Vec<Class> = match keys {
        KeySpec::Unique => return Some((0.0, "every key is new")),
        KeySpec::Uniform { n } => vec![Class {
            p: 1.0 / *n as f64,
            count: *n as f64,
            size: 1.0,
        }],
        KeySpec::Zipf { n, s } => {
            if *n > MAX_PREDICTED_KEYS {
                return None;
            }
            zipf_popularity(*n as usize, *s)
                .into_iter()
                .map(|p| Class {
                    p,
                    count: 1.0,
                    size: 1.0,
                })
                .collect()
        }
        KeySpec::Hotspot { n, .. } if *n < 2 => vec![Class {
            p: 1.0,
            count: 1.0,
            size: 1.0,
        }],
        KeySpec::Hotspot {
            n,
            hot_fraction,
            hot_share,
        } => {
            let hot = ((*n as f64) * hot_fraction)
                .round()
                .clamp(1.0, *n as f64 - 1.0);
            let cold = *n as f64 - hot;
            vec![
                Class {
                    p: hot_share / hot,
                    count: hot,
                    size: 1.0,
                },
                Class {
                    p: (1.0 - hot_share) / cold,
                    count: cold,
                    size: 1.0,
                },
            ]
        }
    };
    Some(match cache.policy {
        CachePolicy::Lru => (
            solve(&classes, entries, |x| -(-x).libm_exp_m1()).hit_ratio,
            "Che's approximation (LRU)",
        ),
        CachePolicy::Fifo | CachePolicy::Random => (
            solve(&classes, entries, |x| x / (1.0 + x)).hit_ratio,
            "characteristic time (FIFO/random)",
        ),
        CachePolicy::Lfu => {
            // Perfect LFU: the most popular items that fit.
            let mut sorted = classes.clone();
            sorted.sort_by(|a, b| b.p.total_cmp(&a.p));
            let (mut room, mut hit) = (entries, 0.0);
            for c in sorted {
                let take = c.count.min(room);
                hit += take * c.p;
                room -= take;
            }
            (hit, "perfect-LFU bound (LFU)")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published figure (docs validation table): Che, 1,000 items, Zipf
    /// s = 1, C = 100 gives 0.5765 (to the four digits quoted).
    #[test]
    fn che_lru_matches_the_published_figure() {
        let p = zipf_popularity(1000, 1.0);
        let r = lru_che(&p, None, 100.0);
        assert!((r.hit_ratio - 0.5765).abs() < 5e-5, "{r:?}");
        // Occupancy at T_C is the capacity (the defining equation).
        let occ: f64 = p
            .iter()
            .map(|&x| 1.0 - (-x * r.characteristic_time).libm_exp())
            .sum();
        assert!((occ - 100.0).abs() < 1e-6);
        assert!((r.byte_hit_ratio - r.hit_ratio).abs() < 1e-12);
    }

    /// Ordering that holds under IRM: FIFO/random <= LRU <= perfect LFU, and
    /// everything fits at full capacity.
    #[test]
    fn policies_order_and_limits() {
        let p = zipf_popularity(1000, 0.8);
        for c in [10.0, 100.0, 500.0] {
            let lru = lru_che(&p, None, c).hit_ratio;
            let fifo = fifo_random_che(&p, None, c).hit_ratio;
            let lfu = lfu_bound(&p, c as usize);
            assert!(fifo < lru && lru < lfu, "c {c}: {fifo} {lru} {lfu}");
        }
        assert!((lru_che(&p, None, 1000.0).hit_ratio - 1.0).abs() < 1e-12);
        assert_eq!(lru_che(&p, None, 0.0).hit_ratio, 0.0);
        // Uniform popularity: every policy gets C / n.
        let u = vec![1e-3; 1000];
        assert!((lru_che(&u, None, 250.0).hit_ratio - 0.25).abs() < 1e-9);
        assert!((fifo_random_che(&u, None, 250.0).hit_ratio - 0.25).abs() < 1e-9);
    }

    #[test]
    fn sizes_scale_the_capacity() {
        // Every item of size 2 in 200 units behaves like size 1 in 100.
        let p = zipf_popularity(1000, 1.0);
        let twos = vec![2.0; 1000];
        let a = lru_che(&p, Some(&twos), 200.0);
        let b = lru_che(&p, None, 100.0);
        assert!((a.hit_ratio - b.hit_ratio).abs() < 1e-9);
    }

    /// 1 - (1 - e^{-x}) / x: 1/e at x = 1, x/2 for small x, 1 - 1/x for large.
    #[test]
    fn ttl_staleness_closed_form() {
        assert!((ttl_stale_hit_probability(1.0) - (-1f64).libm_exp()).abs() < 1e-12);
        assert!((ttl_stale_hit_probability(0.5) - 0.213_061).abs() < 1e-6);
        assert!((ttl_stale_hit_probability(1e-8) - 5e-9).abs() < 1e-15);
        assert!((ttl_stale_hit_probability(1000.0) - 0.999).abs() < 1e-9);
        assert_eq!(ttl_stale_hit_probability(0.0), 0.0);
    }
}
