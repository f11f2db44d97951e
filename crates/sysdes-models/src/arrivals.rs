//! Realistic open-loop arrivals: a periodic rate curve (a day of traffic),
//! a Markov-modulated Poisson process (bursts) and trace replay.
//!
//! This module holds both the validated specs ([`RateCurveSpec`],
//! [`MmppSpec`], [`TraceSpec`], re-exported from the crate root) and the
//! engine-free generators the workloads pace themselves with. A generator
//! answers one question, "when is the next arrival after this one?", in
//! integer nanoseconds, with no allocation per arrival. It knows no files
//! and no YAML: the loader reads a trace and hands over its records.
//!
//! The closed forms the tests check against are in `docs/validation.md`
//! ("Arrival processes"): the expected number of arrivals of a rate curve in
//! any interval is the integral of its rate; a two-state MMPP has a known
//! mean rate and index of dispersion of counts; a trace is replayed event
//! for event.

use std::sync::Arc;

use rand_distr::{Distribution as _, Exp1};
use sysdes_kernel::{RngStream, SimDuration, SimTime};

/// How a [`RateCurveSpec`] joins its points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveShape {
    /// The rate moves in a straight line from one point to the next (and
    /// from the last point back to the first over the wrap).
    Linear,
    /// The rate holds each point's value until the next point.
    Step,
}

/// A periodic arrival-rate curve (a daily curve, a weekly one, ...): a
/// non-homogeneous Poisson process whose rate repeats every `period`.
#[derive(Clone, Debug, PartialEq)]
pub struct RateCurveSpec {
    /// The curve repeats after this long (e.g. 24 h).
    pub period: SimDuration,
    /// `(offset within the period, rate per second)`, offsets strictly
    /// increasing, the first at zero, all before `period`.
    pub points: Vec<(SimDuration, f64)>,
    /// How the rate runs between points.
    pub shape: CurveShape,
    /// The offset within the period at which the run starts (simulated time
    /// zero is this time of day).
    pub start: SimDuration,
}

/// One state of a Markov-modulated Poisson process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MmppState {
    /// Poisson arrival rate while in this state, requests per second (0 = silence).
    pub per_second: f64,
    /// Mean time spent in the state before switching (exponential).
    pub mean_stay: SimDuration,
}

/// A Markov-modulated Poisson process: Poisson arrivals whose rate is set by
/// a hidden state that stays an exponential time in each state and then
/// moves to one of the other states, chosen uniformly. The process starts
/// in its stationary law, so the time share of state `i` is
/// `mean_stay_i / sum_j mean_stay_j` from time zero.
#[derive(Clone, Debug, PartialEq)]
pub struct MmppSpec {
    /// At least two states.
    pub states: Vec<MmppState>,
}

/// One request of a trace: when it arrives and what it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TraceRecord {
    /// Arrival time from the start of the trace (before `speed` scaling).
    pub at: SimDuration,
    /// The request's key; `None`: drawn from the workload's `keys`.
    pub key: Option<u64>,
    /// Whether the request writes its key; `None`: drawn from `ops`.
    pub write: Option<bool>,
    /// Prompt length in tokens: replaces an LLM server's draw for this request.
    pub prompt_tokens: Option<u32>,
    /// Output length in tokens: replaces an LLM server's draw for this request.
    pub output_tokens: Option<u32>,
    /// Priority class: the request's priority at servers with a priority
    /// discipline, instead of its workload's `priority` (higher first).
    pub class: Option<u8>,
    /// Request size in bytes: over the workload's `request_size` (a
    /// calling component's own size still wins for its calls).
    pub request_bytes: Option<u64>,
    /// Response size in bytes: over the workload's `response_size` (a
    /// responding component's own size still wins).
    pub response_bytes: Option<u64>,
}

/// Trace replay: the arrivals of a recorded trace, in order, optionally
/// sped up or slowed down.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpec {
    /// The file the records came from, as the scenario names it (for messages).
    pub source: String,
    /// The records, in non-decreasing time order (shared: a sweep clones
    /// the spec per run without copying the trace).
    pub records: Arc<[TraceRecord]>,
    /// Replay speed: 2 replays the trace twice as fast (every time halved).
    pub speed: f64,
}

impl RateCurveSpec {
    /// The rate in requests per second at offset `at_ns` within the period.
    pub fn rate_at(&self, at_ns: f64) -> f64 {
        let period = self.period.as_nanos() as f64;
        let at = at_ns.rem_euclid(period);
        let i = self
            .points
            .iter()
            .rposition(|p| p.0.as_nanos() as f64 <= at)
            .unwrap_or(0);
        self.rate_at_in(i, at)
    }

    /// The point after point `i`, its offset in ns (the first point's
    /// offset plus a period after the last point).
    fn next_point(&self, i: usize) -> (f64, f64) {
        match self.points.get(i + 1) {
            Some(&(t, r)) => (t.as_nanos() as f64, r),
            None => (self.period.as_nanos() as f64, self.points[0].1),
        }
    }

    /// The expected number of arrivals in `[from, to)` of simulated time
    /// (the integral of the rate; time zero is the curve's `start`).
    pub fn expected_arrivals(&self, from: SimTime, to: SimTime) -> f64 {
        let s = self.start.as_nanos() as f64;
        self.cumulative(to.as_nanos() as f64 + s) - self.cumulative(from.as_nanos() as f64 + s)
    }

    /// The integral of the rate from offset 0 to `t_ns` (any `t_ns >= 0`).
    fn cumulative(&self, t_ns: f64) -> f64 {
        let period = self.period.as_nanos() as f64;
        let cycles = (t_ns / period).floor();
        let at = t_ns - cycles * period;
        let mut total = cycles * self.per_period();
        for i in 0..self.points.len() {
            let t0 = self.points[i].0.as_nanos() as f64;
            if at <= t0 {
                break;
            }
            total += self.segment_integral(i, t0, at.min(self.next_point(i).0));
        }
        total
    }

    /// The expected number of arrivals in one period.
    pub fn per_period(&self) -> f64 {
        (0..self.points.len())
            .map(|i| {
                let t0 = self.points[i].0.as_nanos() as f64;
                self.segment_integral(i, t0, self.next_point(i).0)
            })
            .sum()
    }

    /// Integral of the rate over `[a, b]` inside segment `i`, in arrivals.
    fn segment_integral(&self, i: usize, a: f64, b: f64) -> f64 {
        let ra = self.rate_at_in(i, a);
        let rb = self.rate_at_in(i, b);
        (ra + rb) / 2.0 * (b - a) / 1e9
    }

    fn rate_at_in(&self, i: usize, at: f64) -> f64 {
        let (t0, r0) = self.points[i];
        match self.shape {
            CurveShape::Step => r0,
            CurveShape::Linear => {
                let (t1, r1) = self.next_point(i);
                let t0 = t0.as_nanos() as f64;
                r0 + (r1 - r0) * (at - t0) / (t1 - t0)
            }
        }
    }

    /// The highest rate on the curve, per second.
    pub fn peak_per_second(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }
}

impl MmppSpec {
    /// The long-run mean arrival rate per second:
    /// `sum_i rate_i stay_i / sum_i stay_i`.
    pub fn mean_per_second(&self) -> f64 {
        let stay: f64 = self
            .states
            .iter()
            .map(|s| s.mean_stay.as_nanos() as f64)
            .sum();
        self.states
            .iter()
            .map(|s| s.per_second * s.mean_stay.as_nanos() as f64)
            .sum::<f64>()
            / stay
    }

    /// The highest state rate, per second.
    pub fn peak_per_second(&self) -> f64 {
        self.states.iter().map(|s| s.per_second).fold(0.0, f64::max)
    }
}

impl TraceSpec {
    /// The mean arrival rate per second over the replayed trace (records
    /// over the span to the last one), `None` for fewer than two records or
    /// a zero span.
    pub fn mean_per_second(&self) -> Option<f64> {
        let last = self.records.last()?.at.as_nanos() as f64 / self.speed;
        (self.records.len() >= 2 && last > 0.0).then(|| self.records.len() as f64 / (last / 1e9))
    }
}

/// One linear piece of a curve in engine units: from `start` (ns within the
/// period) to `end`, rate `rate` (per ns) at `start`, slope `slope` (per ns²).
#[derive(Clone, Copy, Debug)]
struct Piece {
    start: f64,
    end: f64,
    rate: f64,
    slope: f64,
}

/// The generator of a [`RateCurveSpec`], by inversion of the cumulative
/// rate: each gap is the time over which the rate integrates to an Exp(1)
/// draw, solved exactly per linear piece (a quadratic).
#[derive(Debug)]
pub(crate) struct CurveArrivals {
    pieces: Vec<Piece>,
    period_ns: u64,
    start_ns: u64,
    /// Current piece and position in the period (ns, not rounded).
    piece: usize,
    pos: f64,
    /// Absolute simulated time (ns) of the current period's offset 0, plus `start_ns`.
    cycle: u64,
    empty: bool,
    rng: RngStream,
}

impl CurveArrivals {
    pub(crate) fn new(spec: &RateCurveSpec, rng: RngStream) -> Result<CurveArrivals, String> {
        let period_ns = spec.period.as_nanos();
        if period_ns == 0 {
            return Err("a rate curve's period must be greater than zero".into());
        }
        if spec.points.first().map(|p| p.0) != Some(SimDuration::ZERO) {
            return Err("a rate curve's first point must be at offset 0".into());
        }
        if spec.start.as_nanos() >= period_ns {
            return Err("a rate curve's start must be within its period".into());
        }
        let mut pieces = Vec::with_capacity(spec.points.len());
        for (i, &(at, per_second)) in spec.points.iter().enumerate() {
            if !(per_second.is_finite() && per_second >= 0.0) {
                return Err("a rate curve's rates must be zero or more".into());
            }
            let start = at.as_nanos() as f64;
            let (end, next_rate) = spec.next_point(i);
            if end <= start || end > period_ns as f64 {
                return Err(
                    "a rate curve's points must be in increasing order within the period".into(),
                );
            }
            let rate = per_second / 1e9;
            let slope = match spec.shape {
                CurveShape::Step => 0.0,
                CurveShape::Linear => (next_rate / 1e9 - rate) / (end - start),
            };
            pieces.push(Piece {
                start,
                end,
                rate,
                slope,
            });
        }
        Ok(CurveArrivals {
            empty: spec.peak_per_second() <= 0.0,
            pieces,
            period_ns,
            start_ns: spec.start.as_nanos(),
            piece: 0,
            pos: 0.0,
            cycle: 0,
            rng,
        })
    }

    /// Rewinds to time zero and returns the first arrival.
    pub(crate) fn first(&mut self) -> SimTime {
        self.pos = self.start_ns as f64;
        self.cycle = 0;
        self.piece = self
            .pieces
            .iter()
            .rposition(|p| p.start <= self.pos)
            .unwrap_or(0);
        self.next()
    }

    /// The arrival after the last one.
    pub(crate) fn next(&mut self) -> SimTime {
        if self.empty {
            return SimTime::MAX;
        }
        let mut e: f64 = Exp1.sample(&mut self.rng);
        loop {
            let p = self.pieces[self.piece];
            let left = p.end - self.pos;
            let r0 = p.rate + p.slope * (self.pos - p.start);
            let mass = r0 * left + p.slope * left * left / 2.0;
            if e <= mass {
                // Solve r0 x + slope x^2 / 2 = e for the smallest x >= 0, in
                // the cancellation-free form 2e / (r0 + sqrt(r0^2 + 2 slope e)).
                let root = (r0 * r0 + 2.0 * p.slope * e).max(0.0).sqrt();
                let x = if r0 + root > 0.0 {
                    2.0 * e / (r0 + root)
                } else {
                    left
                };
                self.pos = (self.pos + x).min(p.end);
                let at = self.cycle + (self.pos.round() as u64);
                return SimTime::from_nanos(at.saturating_sub(self.start_ns));
            }
            e -= mass;
            self.pos = p.end;
            self.piece += 1;
            if self.piece == self.pieces.len() {
                self.piece = 0;
                self.pos = 0.0;
                self.cycle += self.period_ns;
            }
        }
    }
}

/// The generator of an [`MmppSpec`]: Poisson gaps at the current state's
/// rate, restarted at each switch (exact by memorylessness).
#[derive(Debug)]
pub(crate) struct MmppArrivals {
    /// Per state: rate per ns and mean stay in ns.
    states: Vec<(f64, f64)>,
    state: usize,
    /// When the current state ends.
    switch_at: SimTime,
    rng: RngStream,
}

impl MmppArrivals {
    pub(crate) fn new(spec: &MmppSpec, rng: RngStream) -> Result<MmppArrivals, String> {
        if spec.states.len() < 2 {
            return Err("a Markov-modulated process needs at least two states".into());
        }
        let mut states = Vec::with_capacity(spec.states.len());
        for s in &spec.states {
            if !(s.per_second.is_finite() && s.per_second >= 0.0) {
                return Err("an MMPP state's rate must be zero or more".into());
            }
            if s.mean_stay.as_nanos() == 0 {
                return Err("an MMPP state's mean stay must be greater than zero".into());
            }
            states.push((s.per_second / 1e9, s.mean_stay.as_nanos() as f64));
        }
        if states.iter().all(|s| s.0 == 0.0) {
            return Err("an MMPP needs at least one state with a positive rate".into());
        }
        Ok(MmppArrivals {
            states,
            state: 0,
            switch_at: SimTime::ZERO,
            rng,
        })
    }

    fn stay(&mut self) -> SimDuration {
        let e: f64 = Exp1.sample(&mut self.rng);
        // At least 1 ns, so the clock always moves on.
        SimDuration::from_nanos(((e * self.states[self.state].1).round() as u64).max(1))
    }

    /// Draws the starting state from the stationary law and returns the
    /// first arrival.
    pub(crate) fn first(&mut self) -> SimTime {
        self.draw_start();
        self.switch_at = SimTime::ZERO + self.stay();
        self.next(SimTime::ZERO)
    }

    /// Draws the starting state: state `i` with probability
    /// `mean_stay_i / sum_j mean_stay_j` (the stationary law).
    fn draw_start(&mut self) {
        let total: f64 = self.states.iter().map(|s| s.1).sum();
        let u: f64 = rand::RngExt::random::<f64>(&mut self.rng) * total;
        let mut acc = 0.0;
        self.state = self.states.len() - 1;
        for (i, s) in self.states.iter().enumerate() {
            acc += s.1;
            if u < acc {
                self.state = i;
                break;
            }
        }
    }

    /// The arrival after the one at `now`.
    pub(crate) fn next(&mut self, now: SimTime) -> SimTime {
        let mut from = now;
        loop {
            let rate = self.states[self.state].0;
            if rate > 0.0 {
                let e: f64 = Exp1.sample(&mut self.rng);
                let at = from + SimDuration::from_nanos((e / rate).round() as u64);
                if at < self.switch_at {
                    return at;
                }
            }
            from = self.switch_at;
            let n = self.states.len();
            let hop = rand::RngExt::random_range(&mut self.rng, 1..n);
            self.state = (self.state + hop) % n;
            self.switch_at = from + self.stay();
        }
    }

    /// The current hidden state (tests).
    #[cfg(test)]
    fn state(&self) -> usize {
        self.state
    }
}

/// The generator of a [`TraceSpec`]: its records in order.
#[derive(Debug)]
pub(crate) struct TraceArrivals {
    records: Arc<[TraceRecord]>,
    speed: f64,
    /// The record whose arrival is scheduled (or has just fired).
    next: usize,
}

impl TraceArrivals {
    pub(crate) fn new(spec: &TraceSpec) -> Result<TraceArrivals, String> {
        if !(spec.speed.is_finite() && spec.speed > 0.0) {
            return Err("a trace's speed must be greater than zero".into());
        }
        if spec.records.windows(2).any(|w| w[1].at < w[0].at) {
            return Err("a trace's records must be in time order".into());
        }
        Ok(TraceArrivals {
            records: Arc::clone(&spec.records),
            speed: spec.speed,
            next: 0,
        })
    }

    fn time(&self, i: usize) -> SimTime {
        match self.records.get(i) {
            None => SimTime::MAX,
            Some(r) if self.speed == 1.0 => SimTime::ZERO + r.at,
            Some(r) => SimTime::from_nanos((r.at.as_nanos() as f64 / self.speed).round() as u64),
        }
    }

    /// Rewinds and returns the first record's arrival.
    pub(crate) fn first(&mut self) -> SimTime {
        self.next = 0;
        self.time(0)
    }

    /// Moves to the next record and returns its arrival.
    pub(crate) fn next(&mut self) -> SimTime {
        self.next += 1;
        self.time(self.next)
    }

    /// Record `i`.
    #[inline]
    pub(crate) fn record(&self, i: usize) -> Option<&TraceRecord> {
        self.records.get(i)
    }

    /// The index + 1 of the record firing now if it gives token counts or
    /// payload sizes (0 otherwise).
    #[inline]
    pub(crate) fn attribute_index(&self) -> u32 {
        match self.records.get(self.next) {
            Some(r)
                if r.prompt_tokens.is_some()
                    || r.output_tokens.is_some()
                    || r.request_bytes.is_some()
                    || r.response_bytes.is_some() =>
            {
                self.next as u32 + 1
            }
            _ => 0,
        }
    }

    /// The record whose arrival is firing now.
    #[inline]
    pub(crate) fn current(&self) -> Option<&TraceRecord> {
        self.records.get(self.next)
    }
}

#[cfg(test)]
mod tests;
