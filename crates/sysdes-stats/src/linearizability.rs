//! An exact linearizability check for the history of one register (one key).
//!
//! The search is Wing and Gong's (1993) with Lowe's memoisation (2017), as
//! Porcupine implements it: walk the operations in time order, try to
//! linearize each call whose operation the register model accepts, and
//! backtrack when a return is reached whose operation is not yet linearized;
//! a set of (linearized operations, register value) pairs already explored
//! prunes the search. A store's history is checked key by key (a register
//! per key is P-compositional), which keeps each search small.
//!
//! The check is exponential in the worst case, so it is for small histories:
//! the tracker only records up to a per-key limit and this search stops after
//! a step budget, answering [`LinVerdict::GaveUp`] ("not checked") rather
//! than running for ever. This module is not a general model checker: the
//! model is a read/write register whose values are versions, initially 0.

use std::collections::HashSet;

/// The search steps [`check_register`] takes before giving up, by default.
pub const DEFAULT_STEP_LIMIT: u64 = 1_000_000;

/// Whether an operation read or wrote the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinKind {
    /// Returned `value`.
    Read,
    /// Stored `value`.
    Write,
}

/// One completed (or forever pending) operation on a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinOp {
    /// Read or write.
    pub kind: LinKind,
    /// The version read or written.
    pub value: u64,
    /// Invocation time, nanoseconds.
    pub call: u64,
    /// Response time, nanoseconds; `u64::MAX` for an operation whose
    /// outcome is unknown (it may take effect at any time after `call`).
    pub ret: u64,
}

impl LinOp {
    /// A read that returned `value`.
    pub fn read(value: u64, call: u64, ret: u64) -> Self {
        LinOp {
            kind: LinKind::Read,
            value,
            call,
            ret: ret.max(call),
        }
    }

    /// A write of `value`.
    pub fn write(value: u64, call: u64, ret: u64) -> Self {
        LinOp {
            kind: LinKind::Write,
            value,
            call,
            ret: ret.max(call),
        }
    }
}

/// The answer of [`check_register`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinVerdict {
    /// Some order of the operations, consistent with real time, explains
    /// every read.
    Linearizable,
    /// No such order exists.
    NotLinearizable,
    /// The step budget ran out; nothing is known.
    GaveUp,
}

const NIL: usize = usize::MAX;

/// Checks whether `ops` on one register (initial value 0) is linearizable.
///
/// Operations whose intervals touch (one returns at the instant the other is
/// invoked) are treated as concurrent. A read of a value no write in `ops`
/// produced is explained by a write assumed pending since time 0 (a write the
/// history does not show, such as one whose client timed out).
pub fn check_register(ops: &[LinOp], step_limit: u64) -> LinVerdict {
    let mut ops: Vec<LinOp> = ops.to_vec();
    // Values read that no write produced: add a write pending since 0.
    let mut written: Vec<u64> = ops
        .iter()
        .filter(|o| o.kind == LinKind::Write)
        .map(|o| o.value)
        .collect();
    written.sort_unstable();
    let mut phantom: Vec<u64> = ops
        .iter()
        .filter(|o| o.kind == LinKind::Read && o.value != 0)
        .map(|o| o.value)
        .filter(|v| written.binary_search(v).is_err())
        .collect();
    phantom.sort_unstable();
    phantom.dedup();
    ops.extend(phantom.into_iter().map(|v| LinOp::write(v, 0, u64::MAX)));

    let n = ops.len();
    if n == 0 {
        return LinVerdict::Linearizable;
    }
    // Entries 0..2n: (time, is_return, op). Calls sort before returns at
    // equal times, so touching intervals count as concurrent.
    let mut order: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, o) in ops.iter().enumerate() {
        order.push((o.call, false, i));
        order.push((o.ret, true, i));
    }
    order.sort_unstable();
    let head = 2 * n;
    let mut next = vec![NIL; 2 * n + 1];
    let mut prev = vec![NIL; 2 * n + 1];
    let mut is_call = vec![false; 2 * n];
    let mut op_of = vec![0usize; 2 * n];
    let mut matching = vec![NIL; 2 * n];
    let mut return_pos = vec![NIL; n];
    for (pos, &(_, is_ret, op)) in order.iter().enumerate() {
        is_call[pos] = !is_ret;
        op_of[pos] = op;
        if is_ret {
            return_pos[op] = pos;
        }
    }
    for pos in 0..2 * n {
        if is_call[pos] {
            matching[pos] = return_pos[op_of[pos]];
        }
    }
    // The list in time order: head -> 0 -> 1 -> ... -> 2n - 1.
    next[head] = 0;
    for pos in 0..2 * n {
        next[pos] = if pos + 1 < 2 * n { pos + 1 } else { NIL };
        prev[pos] = if pos == 0 { head } else { pos - 1 };
    }

    let lift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, e: usize| {
        for x in [e, matching[e]] {
            next[prev[x]] = next[x];
            if next[x] != NIL {
                prev[next[x]] = prev[x];
            }
        }
    };
    let unlift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, e: usize| {
        for x in [matching[e], e] {
            next[prev[x]] = x;
            if next[x] != NIL {
                prev[next[x]] = x;
            }
        }
    };

    let words = n.div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut cache: HashSet<(Vec<u64>, u64)> = HashSet::new();
    let mut stack: Vec<(usize, u64)> = Vec::new();
    let mut state = 0u64;
    let mut entry = next[head];
    let mut steps = 0u64;
    while next[head] != NIL {
        steps += 1;
        if steps > step_limit {
            return LinVerdict::GaveUp;
        }
        if is_call[entry] {
            let op = ops[op_of[entry]];
            let (ok, new_state) = match op.kind {
                LinKind::Write => (true, op.value),
                LinKind::Read => (state == op.value, state),
            };
            if ok {
                let id = op_of[entry];
                let mut candidate = linearized.clone();
                candidate[id / 64] |= 1 << (id % 64);
                if cache.insert((candidate.clone(), new_state)) {
                    stack.push((entry, state));
                    state = new_state;
                    linearized = candidate;
                    lift(&mut next, &mut prev, entry);
                    entry = next[head];
                    continue;
                }
            }
            entry = next[entry];
        } else {
            // A return whose operation is not linearized yet: undo the last choice.
            let Some((e, s)) = stack.pop() else {
                return LinVerdict::NotLinearizable;
            };
            let id = op_of[e];
            linearized[id / 64] &= !(1 << (id % 64));
            state = s;
            unlift(&mut next, &mut prev, e);
            entry = next[e];
        }
    }
    LinVerdict::Linearizable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: u64, call: u64, ret: u64) -> LinOp {
        LinOp::write(v, call, ret)
    }
    fn r(v: u64, call: u64, ret: u64) -> LinOp {
        LinOp::read(v, call, ret)
    }
    fn check(ops: &[LinOp]) -> LinVerdict {
        check_register(ops, DEFAULT_STEP_LIMIT)
    }
    use LinVerdict::{GaveUp, Linearizable, NotLinearizable};

    #[test]
    fn sequential_histories() {
        assert_eq!(check(&[]), Linearizable);
        assert_eq!(check(&[r(0, 0, 1)]), Linearizable);
        assert_eq!(check(&[w(1, 0, 10), r(1, 20, 30)]), Linearizable);
        // A read after the write returned sees the old value: stale.
        assert_eq!(check(&[w(1, 0, 10), r(0, 20, 30)]), NotLinearizable);
        assert_eq!(
            check(&[w(1, 0, 10), w(2, 20, 30), r(1, 40, 50)]),
            NotLinearizable
        );
    }

    #[test]
    fn concurrent_reads_may_see_either_value() {
        assert_eq!(check(&[w(1, 0, 10), r(0, 5, 15)]), Linearizable);
        assert_eq!(check(&[w(1, 0, 10), r(1, 5, 15)]), Linearizable);
        // Touching intervals are concurrent.
        assert_eq!(check(&[w(1, 0, 10), r(0, 10, 15)]), Linearizable);
    }

    #[test]
    fn new_then_old_is_not_linearizable() {
        // Both reads overlap the write, but once one read saw 1, a later
        // read cannot see 0: the classic new-old inversion.
        let h = [w(1, 0, 100), r(1, 10, 20), r(0, 30, 40)];
        assert_eq!(check(&h), NotLinearizable);
        let ok = [w(1, 0, 100), r(0, 10, 20), r(1, 30, 40)];
        assert_eq!(check(&ok), Linearizable);
    }

    #[test]
    fn concurrent_writes_order_freely_but_consistently() {
        let h = [w(1, 0, 50), w(2, 0, 50), r(2, 60, 70), r(2, 80, 90)];
        assert_eq!(check(&h), Linearizable);
        let flip = [w(1, 0, 50), w(2, 0, 50), r(2, 60, 70), r(1, 80, 90)];
        assert_eq!(check(&flip), NotLinearizable);
    }

    #[test]
    fn pending_and_unknown_writes() {
        // A write whose client timed out may take effect late.
        assert_eq!(check(&[w(1, 0, u64::MAX), r(1, 50, 60)]), Linearizable);
        assert_eq!(
            check(&[w(1, 0, u64::MAX), r(1, 50, 60), r(0, 70, 80)]),
            NotLinearizable
        );
        // A read of a value no write in the history produced is explained by
        // a write assumed pending since 0.
        assert_eq!(check(&[r(7, 50, 60)]), Linearizable);
        assert_eq!(check(&[r(7, 50, 60), r(0, 70, 80)]), NotLinearizable);
    }

    #[test]
    fn the_step_budget_gives_up_instead_of_running_on() {
        let h: Vec<LinOp> = (1..=12)
            .map(|v| w(v, 0, 100))
            .chain([r(0, 200, 300)])
            .collect();
        assert_eq!(check_register(&h, 10), GaveUp);
        assert_eq!(check(&h), NotLinearizable);
    }

    /// Brute force: some permutation respecting real time explains every read.
    fn brute(ops: &[LinOp]) -> bool {
        fn go(ops: &[LinOp], used: &mut Vec<bool>, state: u64, done: usize) -> bool {
            if done == ops.len() {
                return true;
            }
            for i in 0..ops.len() {
                if used[i] {
                    continue;
                }
                // i can go next only if no unused op returned before i was called.
                let blocked =
                    (0..ops.len()).any(|j| !used[j] && j != i && ops[j].ret < ops[i].call);
                if blocked {
                    continue;
                }
                let o = ops[i];
                let next = match o.kind {
                    LinKind::Write => o.value,
                    LinKind::Read if o.value == state => state,
                    LinKind::Read => continue,
                };
                used[i] = true;
                if go(ops, used, next, done + 1) {
                    return true;
                }
                used[i] = false;
            }
            false
        }
        go(ops, &mut vec![false; ops.len()], 0, 0)
    }

    #[test]
    fn agrees_with_brute_force_on_random_small_histories() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        let (mut yes, mut no) = (0, 0);
        for _ in 0..2_000 {
            let n = 1 + rnd(6) as usize;
            let mut ops = Vec::new();
            let mut next_version = 1;
            for _ in 0..n {
                let call = rnd(40);
                let ret = call + rnd(20);
                if rnd(2) == 0 {
                    ops.push(w(next_version, call, ret));
                    next_version += 1;
                } else {
                    ops.push(r(rnd(next_version), call, ret));
                }
            }
            let expected = brute(&ops);
            let got = check(&ops);
            assert_eq!(got == Linearizable, expected, "{ops:?}");
            if expected {
                yes += 1;
            } else {
                no += 1;
            }
        }
        assert!(yes > 200 && no > 200, "both outcomes exercised: {yes} {no}");
    }
}
