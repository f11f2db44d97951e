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

/// Zipf popularity over `n` items: `p_k` proportional to `k^{-s}` for
/// `k = 1..=n` (the first item is the most popular), summing to one.
pub fn zipf_popularity(n: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
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
    characteristic(popularity, sizes, capacity, |x| -(-x).exp_m1())
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
    1.0 + (-lambda_t).exp_m1() / lambda_t
}

/// Solves `sum_i s_i h(p_i T) = C` for `T` by bisection (the occupancy is
/// increasing in `T`) and returns the hit ratios.
fn characteristic(
    popularity: &[f64],
    sizes: Option<&[f64]>,
    capacity: f64,
    h: impl Fn(f64) -> f64,
) -> CachePrediction {
    let size = |i: usize| sizes.map_or(1.0, |s| s[i]);
    let total_size: f64 = (0..popularity.len()).map(size).sum();
    let ratios = |t: f64| {
        let (mut hit, mut bytes_hit, mut bytes) = (0.0, 0.0, 0.0);
        for (i, &p) in popularity.iter().enumerate() {
            let hi = if t.is_infinite() { 1.0 } else { h(p * t) };
            hit += p * hi;
            bytes_hit += p * size(i) * hi;
            bytes += p * size(i);
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
    let occupancy = |t: f64| -> f64 {
        popularity
            .iter()
            .enumerate()
            .map(|(i, &p)| size(i) * h(p * t))
            .sum()
    };
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
            .map(|&x| 1.0 - (-x * r.characteristic_time).exp())
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
        assert!((ttl_stale_hit_probability(1.0) - (-1f64).exp()).abs() < 1e-12);
        assert!((ttl_stale_hit_probability(0.5) - 0.213_061).abs() < 1e-6);
        assert!((ttl_stale_hit_probability(1e-8) - 5e-9).abs() < 1e-15);
        assert!((ttl_stale_hit_probability(1000.0) - 0.999).abs() < 1e-9);
        assert_eq!(ttl_stale_hit_probability(0.0), 0.0);
    }
}
