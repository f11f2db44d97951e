//! Drawing durations and keys from their distributions.

use rand::RngExt;
use rand::distr::Uniform;
use rand_distr::{Distribution as _, Exp, Exp1, Gamma, LogNormal, Pareto, Zipf};
use sysdes_kernel::{RngStream, SimDuration};

use crate::spec::{Distribution, KeySpec};

/// A distribution prepared for fast repeated sampling. An explicit tag
/// (`repr(u8)`) makes the hot path's "which distribution" one compare
/// instead of decoding a niche in a variant's fields.
#[derive(Clone, Debug)]
#[repr(u8)]
pub(crate) enum Sampler {
    Constant(SimDuration),
    /// `rand_distr::Exp`'s draw, `Exp1` (mean 1) times `1 / lambda`,
    /// written out so the hot path makes one call less: the same bits.
    Exponential {
        /// `1 / (1 / mean)`, as `Exp::new(1 / mean)` keeps it.
        scale: f64,
    },
    Uniform(Uniform<f64>),
    LogNormal(LogNormal<f64>),
    Pareto(Pareto<f64>),
    Gamma(Gamma<f64>),
    /// Parts with cumulative probabilities; the last one is 1.
    Mixture(Box<[(f64, Sampler)]>),
}

impl Sampler {
    /// Prepares `dist`, or says which parameter is out of range.
    pub(crate) fn new(dist: &Distribution) -> Result<Sampler, String> {
        let bad = |what: &str| format!("invalid {what} distribution parameters: {dist:?}");
        Ok(match dist {
            Distribution::Constant(d) => Sampler::Constant(*d),
            Distribution::Exponential { mean_ns } => {
                let lambda = 1.0 / mean_ns;
                Exp::new(lambda).map_err(|_| bad("exponential"))?;
                Sampler::Exponential {
                    scale: 1.0 / lambda,
                }
            }
            Distribution::Uniform { low_ns, high_ns } => Sampler::Uniform(
                Uniform::new_inclusive(*low_ns, *high_ns).map_err(|_| bad("uniform"))?,
            ),
            Distribution::LogNormal { median_ns, sigma } => Sampler::LogNormal(
                LogNormal::new(median_ns.ln(), *sigma).map_err(|_| bad("lognormal"))?,
            ),
            Distribution::Pareto { scale_ns, shape } => {
                Sampler::Pareto(Pareto::new(*scale_ns, *shape).map_err(|_| bad("pareto"))?)
            }
            Distribution::Erlang { k, mean_ns } => {
                if *k == 0 {
                    return Err(bad("erlang"));
                }
                let k = f64::from(*k);
                Sampler::Gamma(Gamma::new(k, mean_ns / k).map_err(|_| bad("erlang"))?)
            }
            Distribution::Mixture(parts) => {
                let total: f64 = parts.iter().map(|(w, _)| *w).sum();
                if parts.is_empty()
                    || total.is_nan()
                    || total <= 0.0
                    || parts.iter().any(|(w, _)| w.is_nan() || *w <= 0.0)
                {
                    return Err(bad("mixture"));
                }
                let mut cumulative = 0.0;
                let mut prepared = Vec::with_capacity(parts.len());
                for (w, d) in parts {
                    cumulative += w / total;
                    prepared.push((cumulative, Sampler::new(d)?));
                }
                if let Some(last) = prepared.last_mut() {
                    last.0 = 1.0;
                }
                Sampler::Mixture(prepared.into_boxed_slice())
            }
        })
    }

    /// Draws one duration, rounded to the nearest nanosecond. The common
    /// cases (constant, exponential) are inlined into the caller.
    #[inline(always)]
    pub(crate) fn sample(&self, rng: &mut RngStream) -> SimDuration {
        match self {
            Sampler::Constant(d) => *d,
            Sampler::Exponential { scale } => to_duration(exp1(rng) * scale),
            other => other.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other(&self, rng: &mut RngStream) -> SimDuration {
        match self {
            Sampler::Constant(d) => *d,
            Sampler::Exponential { scale } => to_duration(exp1(rng) * scale),
            Sampler::Uniform(d) => to_duration(d.sample(rng)),
            Sampler::LogNormal(d) => to_duration(d.sample(rng)),
            Sampler::Pareto(d) => to_duration(d.sample(rng)),
            Sampler::Gamma(d) => to_duration(d.sample(rng)),
            Sampler::Mixture(parts) => {
                let u: f64 = rng.random();
                match parts.iter().find(|(c, _)| u < *c).or(parts.last()) {
                    Some((_, s)) => s.sample(rng),
                    None => SimDuration::ZERO,
                }
            }
        }
    }

    /// Whether every draw is zero.
    pub(crate) fn is_zero(&self) -> bool {
        matches!(self, Sampler::Constant(d) if d.as_nanos() == 0)
    }
}

/// One draw of the exponential distribution of mean 1.
#[inline(always)]
fn exp1(rng: &mut RngStream) -> f64 {
    rand_distr::Distribution::<f64>::sample(&Exp1, rng)
}

/// Rounds a draw in nanoseconds to a duration, half up, without libm's
/// out-of-line `round` (7 % of an M/M/1 run); `as` saturates, so negative or
/// NaN draws become 0.
#[inline(always)]
fn to_duration(ns: f64) -> SimDuration {
    SimDuration::from_nanos((ns + 0.5) as u64)
}

/// Draws request keys.
#[derive(Clone, Debug)]
pub(crate) enum KeySampler {
    Unique { next: u64 },
    Uniform { n: u64 },
    Zipf(Zipf<f64>),
    Hotspot { hot: u64, n: u64, hot_share: f64 },
}

impl KeySampler {
    pub(crate) fn new(spec: &KeySpec) -> Result<KeySampler, String> {
        Ok(match spec {
            KeySpec::Unique => KeySampler::Unique { next: 0 },
            KeySpec::Uniform { n } if *n > 0 => KeySampler::Uniform { n: *n },
            KeySpec::Zipf { n, s } if *n > 0 => KeySampler::Zipf(
                Zipf::new(*n as f64, *s).map_err(|e| format!("invalid zipf keys: {e}"))?,
            ),
            KeySpec::Hotspot {
                n,
                hot_fraction,
                hot_share,
            } if *n > 1 && *hot_fraction > 0.0 && *hot_fraction < 1.0 => {
                let hot = ((*n as f64 * hot_fraction).round() as u64).clamp(1, n - 1);
                KeySampler::Hotspot {
                    hot,
                    n: *n,
                    hot_share: hot_share.clamp(0.0, 1.0),
                }
            }
            other => return Err(format!("invalid keys: {other:?}")),
        })
    }

    /// The next key: `0..n`, with key 0 the most popular under Zipf.
    /// Unique keys (the default: a counter) are inlined into the caller.
    #[inline(always)]
    pub(crate) fn sample(&mut self, rng: &mut RngStream) -> u64 {
        match self {
            KeySampler::Unique { next } => {
                *next += 1;
                *next - 1
            }
            other => other.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other(&mut self, rng: &mut RngStream) -> u64 {
        match self {
            KeySampler::Unique { next } => {
                *next += 1;
                *next - 1
            }
            KeySampler::Uniform { n } => rng.random_range(0..*n),
            KeySampler::Zipf(z) => (z.sample(rng) as u64).saturating_sub(1),
            KeySampler::Hotspot { hot, n, hot_share } => {
                if rng.random::<f64>() < *hot_share {
                    rng.random_range(0..*hot)
                } else {
                    rng.random_range(*hot..*n)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_kernel::derive_stream;

    /// The written-out exponential draws what `rand_distr::Exp` draws, bit
    /// for bit (every scenario's output depends on it).
    #[test]
    fn exponential_draws_are_rand_distrs() {
        for mean_ns in [1.0, 1e6, 1.1e9 / 7.0, 3.3e-3] {
            let ours = Sampler::new(&Distribution::Exponential { mean_ns }).unwrap();
            let theirs = Exp::new(1.0 / mean_ns).unwrap();
            let (mut a, mut b) = (derive_stream(3, "x", "y"), derive_stream(3, "x", "y"));
            for _ in 0..10_000 {
                assert_eq!(ours.sample(&mut a), to_duration(theirs.sample(&mut b)));
            }
        }
    }

    fn mean_of(dist: Distribution, n: u32) -> f64 {
        let s = Sampler::new(&dist).unwrap();
        let mut rng = derive_stream(1, "test", "sampler");
        (0..n)
            .map(|_| s.sample(&mut rng).as_nanos() as f64)
            .sum::<f64>()
            / f64::from(n)
    }

    /// Each sampler's empirical mean matches `Distribution::mean_ns` to within
    /// a few standard errors (n = 200,000; the tolerance is >= 4 sigma).
    #[test]
    fn empirical_means_match_closed_forms() {
        let cases = [
            (Distribution::Exponential { mean_ns: 1e6 }, 0.01),
            (
                Distribution::Uniform {
                    low_ns: 1e6,
                    high_ns: 3e6,
                },
                0.005,
            ),
            (
                Distribution::LogNormal {
                    median_ns: 4e6,
                    sigma: 0.5,
                },
                0.01,
            ),
            (
                Distribution::Pareto {
                    scale_ns: 1e6,
                    shape: 3.5,
                },
                0.02,
            ),
            (Distribution::Erlang { k: 3, mean_ns: 3e6 }, 0.01),
            (
                Distribution::Mixture(vec![
                    (0.99, Distribution::Constant(SimDuration::from_millis(1))),
                    (0.01, Distribution::Exponential { mean_ns: 100e6 }),
                ]),
                0.03,
            ),
        ];
        for (dist, tol) in cases {
            let expected = dist.mean_ns();
            let got = mean_of(dist.clone(), 200_000);
            assert!(
                ((got - expected) / expected).abs() < tol,
                "{dist:?}: mean {got} vs {expected}"
            );
        }
    }

    #[test]
    fn zipf_keys_favour_key_zero_and_stay_in_range() {
        let mut k = KeySampler::new(&KeySpec::Zipf { n: 1000, s: 1.0 }).unwrap();
        let mut rng = derive_stream(1, "test", "keys");
        let draws: Vec<u64> = (0..100_000).map(|_| k.sample(&mut rng)).collect();
        assert!(draws.iter().all(|&x| x < 1000));
        // P(key 0) = 1 / H_1000 = 0.1336 for s = 1.
        let p0 = draws.iter().filter(|&&x| x == 0).count() as f64 / 1e5;
        assert!((p0 - 0.1336).abs() < 0.005, "p0 = {p0}");
    }

    /// YCSB hotspot: 90 % of draws land on the first 10 % of keys (n = 10^5
    /// draws; 5 sigma of a binomial share is 0.005).
    #[test]
    fn hotspot_keys_send_the_hot_share_to_the_hot_keys() {
        let spec = KeySpec::Hotspot {
            n: 1000,
            hot_fraction: 0.1,
            hot_share: 0.9,
        };
        let mut k = KeySampler::new(&spec).unwrap();
        let mut rng = derive_stream(1, "test", "keys");
        let draws: Vec<u64> = (0..100_000).map(|_| k.sample(&mut rng)).collect();
        assert!(draws.iter().all(|&x| x < 1000));
        let hot = draws.iter().filter(|&&x| x < 100).count() as f64 / 1e5;
        assert!((hot - 0.9).abs() < 0.005, "hot share {hot}");
    }
}
