//! A progress guard: detects a run whose simulated time stops advancing
//! (a loop of zero-time events) or advances so slowly per event that it
//! could never finish (an event rate per simulated second beyond any real
//! model). It knows nothing of what the events are; the caller names the
//! loop. Checked at the engine's progress points, so it costs nothing per
//! event. The bounds are documented in `docs/limits.md`.
//!
//! Before it trips, a guard turns [`ProgressGuard::suspicious`]: the clock
//! has stayed at one time, or the event rate has been beyond the bound, for
//! a [`SUSPECT_SHARE`] of the events that would stop the run. The engine
//! uses that phase to count which kinds of events, at which components,
//! make up the loop, so the message that stops the run can name them.

use crate::SimTime;

/// Events delivered at one simulated instant before a run is stopped.
pub const MAX_EVENTS_AT_ONE_TIME: u64 = 5_000_000;

/// Events per simulated second (averaged over [`RATE_WINDOW`] events)
/// beyond which a run is stopped.
pub const MAX_EVENTS_PER_SIM_SECOND: u64 = 200_000_000;

/// Events over which the rate is measured.
pub const RATE_WINDOW: u64 = 5_000_000;

/// The fraction (1 / `SUSPECT_SHARE`) of a limit after which a guard is
/// [`ProgressGuard::suspicious`].
pub const SUSPECT_SHARE: u64 = 8;

/// Why a guard stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// `events` events were delivered while the clock stayed at `at`.
    TimeStuck {
        /// The simulated time the clock stayed at.
        at: SimTime,
        /// Events delivered at that time.
        events: u64,
    },
    /// `events` events were delivered in `elapsed_ns` of simulated time.
    TooFast {
        /// Events in the window.
        events: u64,
        /// Simulated nanoseconds the window covered.
        elapsed_ns: u64,
    },
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Stall::TimeStuck { at, events } => write!(
                f,
                "simulated time stayed at {:.9} s for {events} events (limit {MAX_EVENTS_AT_ONE_TIME}): a loop of zero-time events",
                at.as_nanos() as f64 / 1e9
            ),
            Stall::TooFast { events, elapsed_ns } => write!(
                f,
                "{events} events in {:.9} s of simulated time, more than {MAX_EVENTS_PER_SIM_SECOND} events per simulated second: a loop of near-zero-time events",
                elapsed_ns as f64 / 1e9
            ),
        }
    }
}

/// Watches (simulated time, events delivered) at progress points.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProgressGuard {
    /// The time and event count when the clock last moved.
    moved: (SimTime, u64),
    /// The start of the current rate window.
    window: (SimTime, u64),
    /// Whether the last check saw the run on its way to a stall.
    suspect: bool,
}

impl ProgressGuard {
    /// A guard for a run starting at time zero with no events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called with the clock and the events delivered so far; `Some` when
    /// the run must stop.
    pub fn check(&mut self, now: SimTime, events: u64) -> Option<Stall> {
        if now != self.moved.0 {
            self.moved = (now, events);
        } else if events - self.moved.1 >= MAX_EVENTS_AT_ONE_TIME {
            return Some(Stall::TimeStuck {
                at: now,
                events: events - self.moved.1,
            });
        }
        let stuck = events - self.moved.1 >= MAX_EVENTS_AT_ONE_TIME / SUSPECT_SHARE;
        let in_window = events - self.window.1;
        let elapsed_ns = now.as_nanos().saturating_sub(self.window.0.as_nanos());
        // events / (elapsed_ns / 1e9) > MAX  <=>  events * 1e9 > MAX * elapsed_ns
        let fast = u128::from(in_window) * 1_000_000_000
            > u128::from(MAX_EVENTS_PER_SIM_SECOND) * u128::from(elapsed_ns);
        if in_window >= RATE_WINDOW {
            if fast && elapsed_ns > 0 {
                return Some(Stall::TooFast {
                    events: in_window,
                    elapsed_ns,
                });
            }
            self.window = (now, events);
        }
        self.suspect = stuck || (fast && in_window >= RATE_WINDOW / SUSPECT_SHARE);
        None
    }

    /// Whether the last [`check`](Self::check) saw the run on its way to a
    /// stall (a share 1 / [`SUSPECT_SHARE`] of a limit used up): the engine
    /// then counts the events that make up the loop. A run that is not
    /// stalling leaves this phase when its clock moves on.
    pub fn suspicious(&self) -> bool {
        self.suspect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_clock_trips_and_a_moving_one_does_not() {
        let mut g = ProgressGuard::new();
        let t = SimTime::ZERO;
        assert_eq!(g.check(t, MAX_EVENTS_AT_ONE_TIME - 1), None);
        assert!(matches!(
            g.check(t, MAX_EVENTS_AT_ONE_TIME),
            Some(Stall::TimeStuck { .. })
        ));
        // One event per microsecond: 1e6 per simulated second, far below.
        let mut g = ProgressGuard::new();
        for k in 1..=20u64 {
            let events = k * RATE_WINDOW / 2;
            assert_eq!(g.check(SimTime::from_nanos(events * 1_000), events), None);
        }
        // One event per nanosecond: 1e9 per simulated second, above.
        let mut g = ProgressGuard::new();
        let stall =
            (1..=4u64).find_map(|k| g.check(SimTime::from_nanos(k * RATE_WINDOW), k * RATE_WINDOW));
        assert!(matches!(stall, Some(Stall::TooFast { .. })));
    }

    #[test]
    fn a_guard_is_suspicious_before_it_trips_and_not_on_a_moving_clock() {
        let mut g = ProgressGuard::new();
        let t = SimTime::from_nanos(7);
        assert_eq!(g.check(t, 1), None);
        assert!(!g.suspicious());
        assert_eq!(g.check(t, MAX_EVENTS_AT_ONE_TIME / SUSPECT_SHARE + 1), None);
        assert!(g.suspicious(), "stuck for an eighth of the limit");
        assert_eq!(
            g.check(
                SimTime::from_nanos(1_000_000_000),
                MAX_EVENTS_AT_ONE_TIME / 4
            ),
            None
        );
        assert!(!g.suspicious(), "the clock moved on at a normal rate");
        // One event per nanosecond: suspect from an eighth of the window
        // until the guard trips.
        let mut g = ProgressGuard::new();
        let step = RATE_WINDOW / 16;
        let mut suspect_at = None;
        let mut tripped = None;
        for k in 1..=64u64 {
            if let Some(stall) = g.check(SimTime::from_nanos(k * step), k * step) {
                tripped = Some((k, stall));
                break;
            }
            if g.suspicious() && suspect_at.is_none() {
                suspect_at = Some(k);
            }
            if suspect_at.is_some() {
                assert!(g.suspicious(), "stays suspect at step {k}");
            }
        }
        assert_eq!(suspect_at, Some(2));
        assert!(matches!(tripped, Some((_, Stall::TooFast { .. }))));
    }
}
