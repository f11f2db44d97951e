//! Closed forms and a Monte Carlo estimator for replicated stores: how often
//! quorum reads miss the latest write, how fast asynchronous replication
//! closes the gap, and which clients a quorum system can still serve during
//! a partition.
//!
//! These predict what a store model's `sysdes_stats::ConsistencyReport` should show
//! (stale-read rate, k-staleness, availability during faults); they know
//! nothing of the simulator. Sources: Bailis, Venkataraman, Franklin,
//! Hellerstein and Stoica, "Probabilistically Bounded Staleness for
//! Practical Partial Quorums" (VLDB 2012), for the quorum formulas and the
//! WARS model; the partition availability is the majority-quorum argument
//! behind CAP.
//!

use crate::portable::Portable;
use rand::RngExt;
use sysdes_kernel::derive_stream;

/// The binomial coefficient C(n, k) as a float (0 when k > n).
pub fn binomial(n: u32, k: u32) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// Probability that a read of `r` replicas chosen at random misses every one
/// of the `w` replicas a write reached (no propagation beyond the write
/// quorum): p_s = C(N-W, R) / C(N, R). Zero when R + W > N (quorums
/// intersect).
pub fn quorum_miss_probability(n: u32, w: u32, r: u32) -> f64 {
    if w > n || r > n {
        return 0.0;
    }
    binomial(n - w, r) / binomial(n, r)
}

/// PBS k-staleness: probability that a quorum read returns one of the last
/// `k` versions, 1 - p_s^k, when each write reaches `w` random replicas and
/// nothing propagates further (N 3, R = W = 1: 1/3, 5/9, 19/27 for
/// k = 1, 2, 3).
pub fn k_staleness_probability(n: u32, w: u32, r: u32, k: u32) -> f64 {
    1.0 - quorum_miss_probability(n, w, r).powi(k as i32)
}

/// Asynchronous replication with exponential propagation delay of rate `mu`
/// to each replica outside the write quorum: probability that a read of `r`
/// random replicas, `t` after the write committed, is stale:
/// p_s * e^{-R mu t} (N 3, R = W = 1, mu t = 0.5: 0.4044). `mu` and `t` in
/// any consistent unit.
pub fn async_stale_probability(n: u32, w: u32, r: u32, mu: f64, t: f64) -> f64 {
    quorum_miss_probability(n, w, r) * (-f64::from(r) * mu * t).libm_exp()
}

/// Share of clients a quorum system can serve during a partition.
///
/// `sides[i] = (replicas on side i, share of clients on side i)`; a client
/// is served when its side holds at least `quorum` replicas (a CP store with
/// majority quorums: `quorum = N / 2 + 1`; an AP store that answers from any
/// replica: `quorum = 1`). A 2|1 split of 3 replicas with clients spread like
/// the replicas: 2/3 for majority quorums, 1 for AP.
pub fn partition_availability(sides: &[(u32, f64)], quorum: u32) -> f64 {
    let total: f64 = sides.iter().map(|&(_, share)| share).sum();
    if total <= 0.0 {
        return 0.0;
    }
    sides
        .iter()
        .filter(|&&(replicas, _)| replicas >= quorum)
        .map(|&(_, share)| share)
        .sum::<f64>()
        / total
}

/// Mean one-way delays of the WARS model, in seconds: W (coordinator to
/// replica, carrying the write), A (the replica's acknowledgement back), R
/// (the read request to a replica) and S (the replica's response). Each is
/// exponential with that mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarsDelays {
    /// Mean write-propagation delay.
    pub write_s: f64,
    /// Mean write-acknowledgement delay.
    pub ack_s: f64,
    /// Mean read-request delay.
    pub read_s: f64,
    /// Mean read-response delay.
    pub response_s: f64,
}

/// PBS t-visibility by Monte Carlo in the WARS model (Bailis et al., VLDB
/// 2012, section 4): the probability that a read issued `t_s` seconds after
/// a write committed returns it (or something newer).
///
/// Each trial sends the write to all `n` replicas; it commits when the
/// `w`-th acknowledgement (W_i + A_i) arrives. The read is sent to all `n`
/// replicas at commit + `t_s` and the first `r` responses (R_i + S_i) are
/// used; it is consistent if one of those replicas had received the write by
/// the time the read request arrived (W_i <= commit + t_s + R_i). Seeded and
/// deterministic: the same arguments give the same answer.
pub fn pbs_consistency_probability(
    n: u32,
    w: u32,
    r: u32,
    delays: WarsDelays,
    t_s: f64,
    trials: u32,
    seed: u64,
) -> f64 {
    let n = n as usize;
    if n == 0 || w == 0 || r == 0 || trials == 0 {
        return 0.0;
    }
    let (w, r) = ((w as usize).min(n), (r as usize).min(n));
    let mut rng = derive_stream(seed, "theory", "pbs-wars");
    let mut exp = |mean: f64| -> f64 {
        // Inverse transform on (0, 1]: never ln(0).
        let u: f64 = 1.0 - rng.random::<f64>();
        -mean * u.libm_ln()
    };
    let mut write_at = vec![0.0; n];
    let mut acks = vec![0.0; n];
    let mut responses: Vec<(f64, usize)> = vec![(0.0, 0); n];
    let mut consistent = 0u32;
    for _ in 0..trials {
        for i in 0..n {
            write_at[i] = exp(delays.write_s);
            acks[i] = write_at[i] + exp(delays.ack_s);
        }
        acks.sort_unstable_by(f64::total_cmp);
        let read_sent = acks[w - 1] + t_s;
        for (i, slot) in responses.iter_mut().enumerate() {
            let request = exp(delays.read_s);
            let fresh = usize::from(write_at[i] <= read_sent + request);
            *slot = (request + exp(delays.response_s), fresh);
        }
        responses.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        if responses[..r].iter().any(|&(_, fresh)| fresh == 1) {
            consistent += 1;
        }
    }
    f64::from(consistent) / f64::from(trials)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64) {
        assert!(
            (got - want).abs() <= tol,
            "{got} vs {want} (tolerance {tol})"
        );
    }

    /// validation.md, quorums: N 3, R = W = 1 gives 1/3, 5/9, 19/27 for
    /// k = 1, 2, 3; R + W > N is never stale. Exact formulas: 1e-12.
    #[test]
    fn quorum_k_staleness() {
        close(quorum_miss_probability(3, 1, 1), 2.0 / 3.0, 1e-12);
        close(k_staleness_probability(3, 1, 1, 1), 1.0 / 3.0, 1e-12);
        close(k_staleness_probability(3, 1, 1, 2), 5.0 / 9.0, 1e-12);
        close(k_staleness_probability(3, 1, 1, 3), 19.0 / 27.0, 1e-12);
        assert_eq!(quorum_miss_probability(3, 2, 2), 0.0);
        assert_eq!(quorum_miss_probability(5, 3, 3), 0.0);
        close(quorum_miss_probability(5, 2, 2), 3.0 / 10.0, 1e-12);
        close(binomial(10, 3), 120.0, 1e-9);
        assert_eq!(binomial(2, 3), 0.0);
    }

    /// validation.md, asynchronous replication: p_s e^{-R mu t} with N 3,
    /// R = W = 1, mu t = 0.5 is 0.4044 (to the 4 digits quoted).
    #[test]
    fn asynchronous_replication() {
        close(async_stale_probability(3, 1, 1, 1.0, 0.5), 0.4044, 5e-5);
        close(
            async_stale_probability(3, 1, 1, 100.0, 0.0),
            2.0 / 3.0,
            1e-12,
        );
        close(async_stale_probability(3, 2, 2, 1.0, 0.0), 0.0, 0.0);
    }

    /// validation.md, partition: majority quorums in a 2|1 split serve 2/3
    /// of the clients; an AP store (any one replica) serves all.
    #[test]
    fn partition_availability_of_majority_quorums() {
        let split = [(2, 2.0 / 3.0), (1, 1.0 / 3.0)];
        close(partition_availability(&split, 2), 2.0 / 3.0, 1e-12);
        close(partition_availability(&split, 1), 1.0, 1e-12);
        close(partition_availability(&[(3, 1.0)], 2), 1.0, 1e-12);
        close(
            partition_availability(&[(1, 1.0), (1, 1.0), (1, 1.0)], 2),
            0.0,
            0.0,
        );
    }

    const PBS_DELAYS: WarsDelays = WarsDelays {
        write_s: 0.010,
        ack_s: 0.001,
        read_s: 0.001,
        response_s: 0.001,
    };

    /// validation.md, PBS t-visibility (Bailis et al. 2012): N 3, R = W = 1,
    /// write delay mean 10 ms, others 1 ms: P(consistent) = 0.419 at t = 0
    /// and 0.787 at t = 10 ms. 2 x 10^5 trials: standard error about 0.0011,
    /// tolerance 0.01.
    #[test]
    fn pbs_wars_t_visibility() {
        let p0 = pbs_consistency_probability(3, 1, 1, PBS_DELAYS, 0.0, 200_000, 1);
        close(p0, 0.419, 0.01);
        let p10 = pbs_consistency_probability(3, 1, 1, PBS_DELAYS, 0.010, 200_000, 1);
        close(p10, 0.787, 0.01);
        // Strict quorums are always consistent.
        assert_eq!(
            pbs_consistency_probability(3, 2, 2, PBS_DELAYS, 0.0, 10_000, 1),
            1.0
        );
    }

    #[test]
    fn pbs_is_deterministic_and_monotone_in_t() {
        let a = pbs_consistency_probability(3, 1, 1, PBS_DELAYS, 0.002, 20_000, 7);
        let b = pbs_consistency_probability(3, 1, 1, PBS_DELAYS, 0.002, 20_000, 7);
        assert_eq!(a, b);
        let later = pbs_consistency_probability(3, 1, 1, PBS_DELAYS, 0.050, 20_000, 7);
        assert!(later > a && later > 0.99, "{a} {later}");
    }
}
