//! `type: storage`: a storage tier (block, file or object) as a station
//! with three stages an operation passes in order:
//!
//! ```text
//!  arrive ──> IOPS gate ──> first-byte latency ──> transfer ──> answer
//!             (wait in line,   (per operation,      (size / bandwidth:
//!              or throttled)    no queue)            shared lanes or
//!                                                    one stream each)
//! ```
//!
//! - The gate admits at most `iops` operations per second (reads and
//!   writes together, or each with its own limit). Beyond it an operation
//!   waits for its turn (block and file: a deterministic server of
//!   `1 / iops`, so Poisson arrivals wait as in M/D/1), or is throttled
//!   (object: a token bucket holding one second of requests, the 503
//!   SlowDown of S3); a throttled operation ends `dropped`.
//! - The latency is a delay per operation with no queue (the device's or
//!   the service's time to first byte), one distribution for reads and one
//!   for writes.
//! - The transfer moves the operation's bytes. Shared bandwidth (a volume,
//!   a file system) is `lanes` FIFO lanes of `stream_bandwidth` each
//!   (`bandwidth / stream_bandwidth` of them, one lane of `bandwidth` when
//!   no stream limit is given): operations queue for a lane, so concurrent
//!   clients split the throughput. Without a shared `bandwidth` (object
//!   storage), every operation streams at its own `stream_bandwidth` and
//!   nobody waits.
//!
//! The gate and the lanes keep only the time they are next free, so an
//! operation costs one or two events and no allocation. Sizes come from the
//! component's `object_size`, else from the request (a trace record's or
//! the workload's `request_size` for a write, `response_size` for a read).

pub(crate) mod figures;
pub(crate) mod sim;

use sysdes_kernel::{RngStream, SimDuration, SimTime};

use crate::sampler::Sampler;
use crate::spec::Distribution;
use crate::station::{ACTIVE, StationMetrics};

/// Which kind of storage a `storage` component is; its defaults come from
/// the tier's row in `data/storage/tiers.yaml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StorageTier {
    /// A block volume attached to one machine (EBS gp3-like).
    Block,
    /// A shared network file system (EFS-like).
    File,
    /// An object store behind HTTP (S3-like).
    Object,
}

impl StorageTier {
    /// The tier's name as in the scenario file.
    pub const fn name(self) -> &'static str {
        match self {
            StorageTier::Block => "block",
            StorageTier::File => "file",
            StorageTier::Object => "object",
        }
    }
}

/// What becomes of an operation beyond the IOPS (request-rate) limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverLimit {
    /// It waits for its turn (a volume or a file system queues I/O).
    Wait,
    /// It is refused (an object store's HTTP 503 SlowDown) and ends
    /// `dropped`; a token bucket holding one second of requests absorbs
    /// short bursts.
    Throttle,
}

/// A storage component (`type: storage`), every default already resolved
/// from its tier.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageSpec {
    /// The tier (for the result and the lesson; the numbers below decide).
    pub tier: StorageTier,
    /// Time to first byte of a read.
    pub read_latency: Distribution,
    /// Time to first byte (acknowledgement latency) of a write.
    pub write_latency: Distribution,
    /// Operations per second admitted: reads and writes together, or reads
    /// only when `write_iops` is given; `None`: no limit.
    pub iops: Option<u32>,
    /// Writes per second admitted, a limit of their own (S3's 3,500 PUTs
    /// beside 5,500 GETs); `None`: writes share `iops`.
    pub write_iops: Option<u32>,
    /// What becomes of an operation beyond the limit.
    pub over_limit: OverLimit,
    /// Shared bandwidth in bytes per second (a volume's or a file system's
    /// throughput); `None`: no shared limit, every stream at
    /// `stream_bandwidth`.
    pub bandwidth: Option<f64>,
    /// Bandwidth of one operation's stream in bytes per second (a client's
    /// or a connection's limit); `None`: the whole `bandwidth`.
    pub stream_bandwidth: Option<f64>,
    /// Bytes per operation; `None`: the request's size (see the module).
    pub object_size: Option<u64>,
    /// Data held, in bytes (reported as `stored_gb_mean` for pricing per
    /// GB-month).
    pub size_bytes: u64,
}

/// One IOPS limit: a deterministic server of `1 / iops` (wait) or a token
/// bucket of one second (throttle). Time is kept in units of
/// `ns * iops`, so every step is exact in integers.
#[derive(Debug)]
struct Gate {
    iops: u64,
    /// Wait: when the gate is next free, in `ns * iops`. Throttle: the
    /// bucket's level, 10^9 per token.
    units: u128,
    /// Throttle: when the level was last brought up to date, ns.
    last_ns: u64,
    /// Counted operations admitted.
    admitted: u64,
}

const TOKEN: u128 = 1_000_000_000;

impl Gate {
    fn new(iops: u32, over: OverLimit) -> Gate {
        let iops = u64::from(iops);
        Gate {
            iops,
            units: match over {
                OverLimit::Wait => 0,
                OverLimit::Throttle => u128::from(iops) * TOKEN,
            },
            last_ns: 0,
            admitted: 0,
        }
    }

    /// How long an operation arriving at `now` waits for its turn.
    fn wait(&mut self, now: SimTime) -> SimDuration {
        let iops = u128::from(self.iops);
        let now_u = u128::from(now.as_nanos()) * iops;
        let start = now_u.max(self.units);
        self.units = start + TOKEN;
        let start_ns = start.div_ceil(iops);
        SimDuration::from_nanos((start_ns - u128::from(now.as_nanos())) as u64)
    }

    /// Whether an operation arriving at `now` finds a token (and takes it).
    fn take(&mut self, now: SimTime) -> bool {
        let now_ns = now.as_nanos();
        let iops = u128::from(self.iops);
        let refill = u128::from(now_ns.saturating_sub(self.last_ns)) * iops;
        self.last_ns = now_ns;
        self.units = (self.units + refill).min(iops * TOKEN);
        if self.units >= TOKEN {
            self.units -= TOKEN;
            true
        } else {
            false
        }
    }
}

/// How bytes move.
#[derive(Debug)]
enum Pipe {
    /// No bandwidth limit at all: transfers take no time.
    Free,
    /// Every operation streams at its own rate (bytes/s); nobody waits.
    PerStream(f64),
    /// Shared: FIFO lanes of `rate` bytes/s each, by the time each is next
    /// free.
    Shared { rate: f64, lanes: Vec<SimTime> },
}

/// What a storage component does with an arriving operation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Refused at the request-rate limit.
    Throttled,
    /// Admitted and answered after `after`.
    Done { after: SimDuration },
    /// Admitted; it reaches the shared lanes after `after` (the gate's
    /// wait plus the latency), where [`Storage::at_pipe`] takes it.
    ToPipe { after: SimDuration },
}

/// A storage component's state.
#[derive(Debug)]
pub(crate) struct Storage {
    over_limit: OverLimit,
    read_latency: Sampler,
    write_latency: Sampler,
    rng: RngStream,
    /// The limits: index 0 reads (and writes when they share it), 1 writes.
    gates: Vec<Gate>,
    read_gate: Option<usize>,
    write_gate: Option<usize>,
    pipe: Pipe,
    object_size: Option<u64>,
    size_bytes: u64,
    window: (SimTime, SimTime),
    reads: u64,
    writes: u64,
    bytes_read: u64,
    bytes_written: u64,
    /// Busy lane-time inside the window, ns.
    lane_busy_ns: u128,
    pub(crate) metrics: StationMetrics,
}

impl Storage {
    /// A storage component from its spec; a reason when the spec is
    /// invalid.
    pub(crate) fn new(
        spec: &StorageSpec,
        rng: RngStream,
        metrics: StationMetrics,
        window: (SimTime, SimTime),
    ) -> Result<Storage, String> {
        let positive = |v: Option<f64>, what: &str| match v {
            Some(b) if !(b.is_finite() && b > 0.0) => {
                Err(format!("{what} must be greater than zero"))
            }
            _ => Ok(()),
        };
        positive(spec.bandwidth, "bandwidth")?;
        positive(spec.stream_bandwidth, "stream_bandwidth")?;
        if spec.iops == Some(0) || spec.write_iops == Some(0) {
            return Err("an IOPS limit must be at least 1".into());
        }
        let mut gates = Vec::new();
        let read_gate = spec.iops.map(|n| {
            gates.push(Gate::new(n, spec.over_limit));
            gates.len() - 1
        });
        let write_gate = match spec.write_iops {
            Some(n) => {
                gates.push(Gate::new(n, spec.over_limit));
                Some(gates.len() - 1)
            }
            None => read_gate,
        };
        let pipe = match (spec.bandwidth, spec.stream_bandwidth) {
            (None, None) => Pipe::Free,
            (None, Some(s)) => Pipe::PerStream(s),
            (Some(b), None) => Pipe::Shared {
                rate: b,
                lanes: vec![SimTime::ZERO],
            },
            (Some(b), Some(s)) => {
                let s = s.min(b);
                let lanes = ((b / s).floor() as usize).clamp(1, 1 << 16);
                Pipe::Shared {
                    rate: s,
                    lanes: vec![SimTime::ZERO; lanes],
                }
            }
        };
        Ok(Storage {
            over_limit: spec.over_limit,
            read_latency: Sampler::new(&spec.read_latency)?,
            write_latency: Sampler::new(&spec.write_latency)?,
            rng,
            gates,
            read_gate,
            write_gate,
            pipe,
            object_size: spec.object_size,
            size_bytes: spec.size_bytes,
            window,
            reads: 0,
            writes: 0,
            bytes_read: 0,
            bytes_written: 0,
            lane_busy_ns: 0,
            metrics,
        })
    }

    /// The bytes of an operation: the component's `object_size`, else
    /// `requested` (the request's own size).
    pub(crate) fn bytes(&self, requested: impl FnOnce() -> u64) -> u64 {
        self.object_size.unwrap_or_else(requested)
    }

    /// Whether operations need the request's size (no `object_size`).
    pub(crate) fn sized_by_request(&self) -> bool {
        self.object_size.is_none()
    }

    fn transfer(bytes: u64, rate: f64) -> SimDuration {
        SimDuration::from_nanos((bytes as f64 * 1e9 / rate).ceil() as u64)
    }

    /// An operation (`write` or a read of `bytes`) arrives at `now`.
    pub(crate) fn arrive(&mut self, now: SimTime, write: bool, bytes: u64, counted: bool) -> Admit {
        if counted {
            self.metrics.arrivals += 1;
        }
        let gate = if write {
            self.write_gate
        } else {
            self.read_gate
        };
        let mut wait = SimDuration::ZERO;
        if let Some(g) = gate {
            let g = &mut self.gates[g];
            match self.over_limit {
                OverLimit::Wait => wait = g.wait(now),
                OverLimit::Throttle => {
                    if !g.take(now) {
                        if counted {
                            self.metrics.drops += 1;
                        }
                        return Admit::Throttled;
                    }
                }
            }
            if counted {
                g.admitted += 1;
            }
        }
        if counted {
            if write {
                self.writes += 1;
                self.bytes_written += bytes;
            } else {
                self.reads += 1;
                self.bytes_read += bytes;
            }
        }
        self.metrics.levels.add(now, ACTIVE, 1);
        let latency = if write {
            self.write_latency.sample(&mut self.rng)
        } else {
            self.read_latency.sample(&mut self.rng)
        };
        match self.pipe {
            Pipe::Free => Admit::Done {
                after: wait + latency,
            },
            Pipe::PerStream(rate) => Admit::Done {
                after: wait + latency + Self::transfer(bytes, rate),
            },
            Pipe::Shared { .. } => Admit::ToPipe {
                after: wait + latency,
            },
        }
    }

    /// An operation of `bytes` reaches the shared lanes at `now`: it takes
    /// the lane free first (the lowest index on a tie) and is done after
    /// the returned time (its wait for the lane plus its transfer).
    pub(crate) fn at_pipe(&mut self, now: SimTime, bytes: u64) -> SimDuration {
        let Pipe::Shared { rate, lanes } = &mut self.pipe else {
            return SimDuration::ZERO;
        };
        let mut best = 0;
        for (i, &free) in lanes.iter().enumerate() {
            if free < lanes[best] {
                best = i;
            }
        }
        let start = lanes[best].max(now);
        let end = start + Self::transfer(bytes, *rate);
        lanes[best] = end;
        let (from, to) = self.window;
        let (s, e) = (start.max(from), end.min(to));
        if e > s {
            self.lane_busy_ns += u128::from(e.saturating_since(s).as_nanos());
        }
        end.saturating_since(now)
    }

    /// An operation that entered at `entered` is answered at `now`.
    pub(crate) fn done(&mut self, now: SimTime, entered: SimTime, counted: bool) {
        self.metrics.levels.add(now, ACTIVE, -1);
        if counted {
            self.metrics.completions += 1;
            self.metrics.latency.record(now.saturating_since(entered));
        }
    }

    fn window_s(&self) -> f64 {
        self.window.1.saturating_since(self.window.0).as_nanos() as f64 / 1e9
    }

    /// Counted admissions over what the busier limit allows in the window.
    fn iops_utilization(&self) -> f64 {
        let span = self.window_s();
        if span <= 0.0 {
            return 0.0;
        }
        self.gates
            .iter()
            .map(|g| g.admitted as f64 / (g.iops as f64 * span))
            .fold(0.0, f64::max)
    }

    /// Busy lane-time over the lanes' time in the window.
    fn bandwidth_utilization(&self) -> f64 {
        let Pipe::Shared { lanes, .. } = &self.pipe else {
            return 0.0;
        };
        let span = self.window_s() * 1e9 * lanes.len() as f64;
        if span > 0.0 {
            self.lane_busy_ns as f64 / span
        } else {
            0.0
        }
    }

    /// Whether the tier has a limit its utilization divides by: an IOPS
    /// limit or a shared bandwidth. Without one its utilization is
    /// undefined (reported as `null`, not 0 % busy).
    pub(crate) fn limited(&self) -> bool {
        !self.gates.is_empty() || matches!(self.pipe, Pipe::Shared { .. })
    }

    /// The busier of the IOPS limit and the shared bandwidth.
    pub(crate) fn utilization(&self) -> f64 {
        self.iops_utilization().max(self.bandwidth_utilization())
    }

    /// The figures.
    pub(crate) fn figures(&self) -> figures::StorageFigures {
        figures::StorageFigures {
            operations: self.reads + self.writes,
            reads: self.reads,
            writes: self.writes,
            bytes_read: self.bytes_read,
            bytes_written: self.bytes_written,
            throttled: self.metrics.drops,
            iops_utilization: self.iops_utilization(),
            bandwidth_utilization: self.bandwidth_utilization(),
            stored_gb_mean: self.size_bytes as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::derive_stream;

    use super::*;

    const WINDOW_NS: u64 = 10_000_000_000;

    fn spec() -> StorageSpec {
        StorageSpec {
            tier: StorageTier::Block,
            read_latency: Distribution::Constant(SimDuration::from_millis(1)),
            write_latency: Distribution::Constant(SimDuration::from_millis(2)),
            iops: Some(1000),
            write_iops: None,
            over_limit: OverLimit::Wait,
            bandwidth: Some(1e6),
            stream_bandwidth: None,
            object_size: None,
            size_bytes: 250_000_000_000,
        }
    }

    fn storage(spec: &StorageSpec) -> Storage {
        let window = (SimTime::ZERO, SimTime::from_nanos(WINDOW_NS));
        Storage::new(
            spec,
            derive_stream(1, "s", "latency"),
            StationMetrics::new(window.0, window.1),
            window,
        )
        .unwrap()
    }

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    fn at_us(us: u64) -> SimTime {
        SimTime::from_nanos(us * 1000)
    }

    /// Three operations at once through a 1,000 IOPS gate and one 1 MB/s
    /// lane, every time by hand: gate turns at 0, 1 and 2 ms; the reads
    /// (1 ms latency) reach the lane at 1 and 2 ms, the write (2 ms) at
    /// 4 ms. 1,000-byte transfers take 1 ms each. One more transfer at
    /// 2.5 ms finds the lane busy until 3 ms and waits for it.
    #[test]
    fn gate_latency_and_lane_by_hand() {
        let mut s = storage(&spec());
        let t0 = SimTime::ZERO;
        assert_eq!(
            s.arrive(t0, false, 1000, true),
            Admit::ToPipe { after: ms(1) }
        );
        assert_eq!(
            s.arrive(t0, false, 1000, true),
            Admit::ToPipe { after: ms(2) }
        );
        assert_eq!(
            s.arrive(t0, true, 1000, true),
            Admit::ToPipe { after: ms(4) }
        );
        assert_eq!(s.at_pipe(t0 + ms(1), 1000), ms(1));
        assert_eq!(s.at_pipe(t0 + ms(2), 1000), ms(1));
        // A second lane arrival while the lane is busy waits for it.
        assert_eq!(
            s.at_pipe(t0 + ms(2) + SimDuration::from_micros(500), 1000),
            SimDuration::from_micros(1500)
        );
        assert_eq!(s.at_pipe(t0 + ms(4), 1000), ms(1));
        let f = s.figures();
        assert_eq!((f.operations, f.reads, f.writes), (3, 2, 1));
        assert_eq!(
            (f.bytes_read, f.bytes_written, f.throttled),
            (2000, 1000, 0)
        );
        // 3 admissions of 10,000 allowed in 10 s; 4 ms of lane time in 10 s.
        assert!((f.iops_utilization - 3.0 / 10_000.0).abs() < 1e-15);
        assert!((f.bandwidth_utilization - 0.004 / 10.0).abs() < 1e-15);
        assert_eq!(f.stored_gb_mean, 250.0);
    }

    /// A gate of 3 IOPS spaces turns by 1/3 s exactly, rounded up to the
    /// next nanosecond: 0, 333,333,334 and 666,666,667 ns.
    #[test]
    fn a_gate_spaces_turns_exactly() {
        let mut g = Gate::new(3, OverLimit::Wait);
        let t0 = SimTime::ZERO;
        assert_eq!(g.wait(t0), SimDuration::ZERO);
        assert_eq!(g.wait(t0), SimDuration::from_nanos(333_333_334));
        assert_eq!(g.wait(t0), SimDuration::from_nanos(666_666_667));
        // One second later the gate is free again.
        assert_eq!(
            g.wait(SimTime::from_nanos(1_000_000_000)),
            SimDuration::ZERO
        );
    }

    /// A token bucket of 2 per second (holding 2) admits a burst of 2,
    /// refuses the third, and has one token again half a second later.
    #[test]
    fn a_bucket_throttles_beyond_its_rate() {
        let mut sp = spec();
        sp.tier = StorageTier::Object;
        sp.iops = Some(2);
        sp.over_limit = OverLimit::Throttle;
        sp.bandwidth = None;
        sp.stream_bandwidth = Some(1e6);
        let mut s = storage(&sp);
        let t0 = SimTime::ZERO;
        assert_eq!(
            s.arrive(t0, false, 500, true),
            Admit::Done {
                after: SimDuration::from_micros(1500)
            }
        );
        assert!(matches!(s.arrive(t0, false, 500, true), Admit::Done { .. }));
        assert_eq!(s.arrive(at_us(1), false, 500, true), Admit::Throttled);
        assert_eq!(s.arrive(at_us(499_999), false, 500, true), Admit::Throttled);
        assert!(matches!(
            s.arrive(at_us(500_001), false, 500, true),
            Admit::Done { .. }
        ));
        let f = s.figures();
        assert_eq!(
            (f.operations, f.throttled, f.bandwidth_utilization),
            (3, 2, 0.0)
        );
    }

    /// Separate read and write limits: writes wait at their own gate only.
    #[test]
    fn separate_write_limit() {
        let mut sp = spec();
        sp.write_iops = Some(500);
        sp.bandwidth = None;
        let mut s = storage(&sp);
        let t0 = SimTime::ZERO;
        assert_eq!(s.arrive(t0, true, 0, true), Admit::Done { after: ms(2) });
        assert_eq!(s.arrive(t0, true, 0, true), Admit::Done { after: ms(4) });
        assert_eq!(s.arrive(t0, false, 0, true), Admit::Done { after: ms(1) });
        // Writes: 2 of 5,000 allowed; reads 1 of 10,000: the busier is writes.
        assert!((s.figures().iops_utilization - 2.0 / 5000.0).abs() < 1e-15);
    }

    /// Shared bandwidth with a per-stream limit is `bandwidth /
    /// stream_bandwidth` lanes: two transfers overlap, the third waits.
    #[test]
    fn lanes_split_the_shared_bandwidth() {
        let mut sp = spec();
        sp.iops = None;
        sp.bandwidth = Some(2e6);
        sp.stream_bandwidth = Some(1e6);
        let mut s = storage(&sp);
        let t = SimTime::ZERO + ms(1);
        assert_eq!(s.at_pipe(t, 1000), ms(1));
        assert_eq!(s.at_pipe(t, 1000), ms(1));
        assert_eq!(s.at_pipe(t, 1000), ms(2));
    }
}
