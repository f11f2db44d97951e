//! A circuit breaker on one call step: closed, open, half-open.
//!
//! Closed, every call goes out and its outcome enters a rolling window of
//! the last `window` outcomes; once the window holds at least `min_calls`
//! outcomes and the failed share reaches `failure_rate`, the breaker opens.
//! Open, calls fail at once without being sent (short-circuited) until
//! `open_for` has passed; the next calls are then probes (half-open), at
//! most `probes` of them out at a time. Every probe succeeding closes the
//! breaker with an empty window; one failing opens it again. Calls that
//! were sent while closed and resolve after it opened do not count.
//!
//! The state changes only when a call is made or resolves, so the breaker
//! needs no timer of its own.

use sysdes_kernel::SimTime;

use crate::spec::BreakerSpec;

/// What the breaker lets a new call do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Closed: send it.
    Send,
    /// Half-open: send it as a probe.
    Probe,
    /// Open, or half-open with its probes out: fail it at once.
    Reject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    Open { until: SimTime },
    HalfOpen,
}

/// One step's breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    spec: BreakerSpec,
    state: State,
    /// Ring of the last outcomes (true = failed), `len` of them valid.
    window: Vec<bool>,
    next: usize,
    len: usize,
    failed: usize,
    /// Probes sent and not yet resolved, and probes succeeded, while half-open.
    probes_out: u32,
    probes_ok: u32,
}

/// A change of a breaker's state caused by a call's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// No change.
    None,
    /// Closed or half-open to open.
    Opened,
    /// Half-open to closed.
    Closed,
}

impl Breaker {
    pub(crate) fn new(spec: BreakerSpec) -> Self {
        Breaker {
            spec,
            state: State::Closed,
            window: vec![false; spec.window as usize],
            next: 0,
            len: 0,
            failed: 0,
            probes_out: 0,
            probes_ok: 0,
        }
    }

    /// A call is about to be made at `now`.
    pub(crate) fn admit(&mut self, now: SimTime) -> Admit {
        if let State::Open { until } = self.state {
            if now < until {
                return Admit::Reject;
            }
            self.state = State::HalfOpen;
            self.probes_out = 0;
            self.probes_ok = 0;
        }
        match self.state {
            State::Closed => Admit::Send,
            State::HalfOpen if self.probes_out + self.probes_ok < self.spec.probes => {
                self.probes_out += 1;
                Admit::Probe
            }
            _ => Admit::Reject,
        }
    }

    /// A call admitted as `how` resolved at `now` (`ok`: it succeeded).
    pub(crate) fn record(&mut self, now: SimTime, how: Admit, ok: bool) -> Transition {
        match (how, self.state) {
            (Admit::Send, State::Closed) => {
                if self.len == self.window.len() {
                    self.failed -= usize::from(self.window[self.next]);
                } else {
                    self.len += 1;
                }
                self.window[self.next] = !ok;
                self.failed += usize::from(!ok);
                self.next = (self.next + 1) % self.window.len();
                if self.len >= self.spec.min_calls as usize
                    && self.failed as f64 >= self.spec.failure_rate * self.len as f64
                {
                    self.open(now);
                    return Transition::Opened;
                }
                Transition::None
            }
            (Admit::Probe, State::HalfOpen) => {
                self.probes_out -= 1;
                if !ok {
                    self.open(now);
                    return Transition::Opened;
                }
                self.probes_ok += 1;
                if self.probes_ok >= self.spec.probes {
                    self.state = State::Closed;
                    self.len = 0;
                    self.next = 0;
                    self.failed = 0;
                    return Transition::Closed;
                }
                Transition::None
            }
            // A call from an earlier state: its outcome no longer matters.
            _ => Transition::None,
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = State::Open {
            until: now + self.spec.open_for,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_kernel::SimDuration;

    fn spec() -> BreakerSpec {
        BreakerSpec {
            failure_rate: 0.5,
            min_calls: 4,
            window: 4,
            open_for: SimDuration::from_millis(10),
            probes: 1,
        }
    }

    #[test]
    fn opens_at_the_rate_over_the_minimum_volume_then_probes_and_closes() {
        let mut b = Breaker::new(spec());
        let t = SimTime::from_nanos;
        // Two failures in three outcomes: below the minimum volume.
        for ok in [false, true, false] {
            assert_eq!(b.admit(t(0)), Admit::Send);
            assert_eq!(b.record(t(0), Admit::Send, ok), Transition::None);
        }
        // The fourth outcome fills the window: 3 of 4 failed >= 50 %.
        assert_eq!(b.admit(t(0)), Admit::Send);
        assert_eq!(b.record(t(1), Admit::Send, false), Transition::Opened);
        assert_eq!(b.admit(t(1)), Admit::Reject);
        assert_eq!(b.admit(t(10_000_000)), Admit::Reject);
        // Open time over: one probe, the next call is rejected meanwhile.
        assert_eq!(b.admit(t(10_000_001)), Admit::Probe);
        assert_eq!(b.admit(t(10_000_001)), Admit::Reject);
        // The probe fails: open again for 10 ms.
        assert_eq!(
            b.record(t(10_000_002), Admit::Probe, false),
            Transition::Opened
        );
        assert_eq!(b.admit(t(20_000_001)), Admit::Reject);
        assert_eq!(b.admit(t(20_000_002)), Admit::Probe);
        assert_eq!(
            b.record(t(20_000_003), Admit::Probe, true),
            Transition::Closed
        );
        // Closed with an empty window: one failure does not open it.
        assert_eq!(b.admit(t(20_000_003)), Admit::Send);
        assert_eq!(
            b.record(t(20_000_003), Admit::Send, false),
            Transition::None
        );
        assert_eq!(b.admit(t(20_000_004)), Admit::Send);
    }
}
