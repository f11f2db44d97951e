//! The validated description of a system, ready to simulate.
//!
//! This is the boundary between the scenario loader (which knows YAML, units
//! and source positions) and the models (which know none of that). Names are
//! already resolved to dense [`ComponentId`]s; durations are integer
//! nanoseconds; rates are per second. The loader guarantees every value is in
//! range; [`crate::Simulation::new`] still re-checks the structural facts it
//! relies on and returns a [`crate::BuildError`] rather than panicking.

use sysdes_kernel::{ComponentId, SimDuration};

use crate::kinds::load_balancer::spec::LbRouting;
use crate::kinds::model_server::ModelServerSpec;

/// A whole system: what arrives, what serves it, and the network between.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The scenario's name, reported back in results.
    pub name: String,
    /// Root seed from which every random stream is derived.
    pub seed: u64,
    /// Workloads generate arrivals during `[0, duration)`.
    pub duration: SimDuration,
    /// Requests that arrive before `warmup` are simulated but not counted.
    pub warmup: SimDuration,
    /// The network between components.
    pub network: NetworkSpec,
    /// Sources of requests, in file order.
    pub workloads: Vec<WorkloadSpec>,
    /// Components, indexed by [`ComponentId`].
    pub components: Vec<ComponentSpec>,
    /// Pools of hosts that deployments place replicas on.
    pub hosts: Vec<crate::HostPoolSpec>,
    /// Faults injected at given times (see `docs/faults.md`).
    pub faults: Vec<FaultSpec>,
}

/// The network model: a default one-way delay, optional zones with a
/// symmetric latency matrix, per-link overrides (latency, loss, bandwidth)
/// and payload sizes. See `docs/faults.md`; the engine side is `simulation/network.rs`.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    /// One-way delay applied to every message between two components
    /// (requests and responses alike), and between a workload and its target,
    /// unless a zone pair or a link says otherwise. Also the delay inside a zone.
    pub latency: Distribution,
    /// Named zones: zone id `i + 1` is `zones[i]`; id 0 is the default zone
    /// of everything not placed in a named zone.
    pub zones: Vec<String>,
    /// One-way latency between two distinct zones (symmetric; by zone id).
    pub zone_latency: Vec<(ZoneId, ZoneId, Distribution)>,
    /// Zone of each component by index (empty or short: the rest are in zone 0).
    pub component_zones: Vec<ZoneId>,
    /// Zone of each workload by index (empty or short: the rest are in zone 0).
    pub workload_zones: Vec<ZoneId>,
    /// Per-link overrides, checked most specific first.
    pub links: Vec<LinkSpec>,
    /// Payload sizes by component index (empty or short: none set).
    pub component_sizes: Vec<PayloadSizes>,
    /// Payload sizes by workload index (empty or short: none set).
    pub workload_sizes: Vec<PayloadSizes>,
    /// Retransmission delay of a lost message where no link sets one.
    pub retransmit: SimDuration,
    /// How long a sender waits before a message to an unreachable endpoint
    /// (across a partition) fails: a connect timeout.
    pub unreachable_after: SimDuration,
}

impl Default for NetworkSpec {
    /// A network with no delay, no zones and no links.
    fn default() -> Self {
        NetworkSpec {
            latency: Distribution::Constant(SimDuration::ZERO),
            zones: Vec::new(),
            zone_latency: Vec::new(),
            component_zones: Vec::new(),
            workload_zones: Vec::new(),
            links: Vec::new(),
            component_sizes: Vec::new(),
            workload_sizes: Vec::new(),
            retransmit: SimDuration::from_millis(200),
            unreachable_after: SimDuration::from_secs(1),
        }
    }
}

/// A zone's dense id: 0 is the default zone, named zones count from 1.
pub type ZoneId = u16;

/// Something a link, a network fault or a partition group names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetTarget {
    /// One component.
    Component(ComponentId),
    /// One workload (its clients), by index.
    Workload(u32),
    /// Every component and workload in a zone.
    Zone(ZoneId),
}

/// A per-link override between two endpoints, in both directions.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// One end.
    pub from: NetTarget,
    /// The other end.
    pub to: NetTarget,
    /// One-way latency on this link (`None`: the zone matrix or default).
    pub latency: Option<Distribution>,
    /// Probability that one transmission is lost (then retransmitted), in `[0, 1)`.
    pub loss: f64,
    /// Delay before a lost transmission is sent again (`None`: the network's).
    pub retransmit: Option<SimDuration>,
    /// Bandwidth in bytes per second; adds `size / bandwidth` per message.
    pub bandwidth: Option<f64>,
}

/// Payload sizes an endpoint sends, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayloadSizes {
    /// Size of the requests it sends.
    pub request: Option<u64>,
    /// Size of the responses it returns.
    pub response: Option<u64>,
}

/// One fault: what happens, from `at` for `duration`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// Start of the fault, from the start of the run.
    pub at: SimDuration,
    /// How long it lasts.
    pub duration: SimDuration,
    /// What happens.
    pub kind: FaultKind,
}

/// The kinds of fault.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// The component stops: its queued and in-service work is lost (those
    /// requests fail) and every arrival fails at once until it restarts.
    Crash(ComponentId),
    /// The server's service times are multiplied by `factor`.
    Slowdown {
        /// The server.
        target: ComponentId,
        /// Multiplier of service times, positive.
        factor: f64,
    },
    /// Extra delay on every message between the two ends (both directions).
    Latency {
        /// One end.
        from: NetTarget,
        /// The other end.
        to: NetTarget,
        /// Added one-way delay.
        add: Distribution,
    },
    /// Messages between the two ends are lost with probability `rate` and
    /// retransmitted (both directions).
    Loss {
        /// One end.
        from: NetTarget,
        /// The other end.
        to: NetTarget,
        /// Loss probability in `[0, 1)`.
        rate: f64,
    },
    /// Messages between different groups are undeliverable.
    Partition(Vec<Vec<NetTarget>>),
    /// One replica of a store stops (`crash: STORE.rI`): its queue and the
    /// work in hand are lost; it comes back with its data (leader mode:
    /// resynchronised from the leader).
    CrashReplica {
        /// The store.
        store: ComponentId,
        /// The replica's index, from 0.
        replica: u32,
    },
    /// A whole store goes down (`crash: STORE`, a region or cluster
    /// outage): exactly as one [`FaultKind::CrashReplica`] per replica with
    /// the same window. A replica also crashed on its own is down for the
    /// union of its windows.
    CrashStore(ComponentId),
    /// A spot instance's interruptions (`cost: { spot: ... }`, see
    /// `docs/cost.md`): while the component runs it is interrupted at
    /// Poisson times of rate `per_s`; each interruption is a [`FaultKind::Crash`]
    /// lasting `replace` (a new instance is found and booted), after which
    /// the next interruption is drawn. The times are drawn when a run
    /// starts, from the component's own stream (`spot`), so a change of
    /// seed draws new ones; the fault's own `at` and `duration` are unused.
    ///
    /// On a replica group (a deployment's or a group of components) each
    /// replica is its own spot instance: its interruption is drawn when it
    /// starts, from the group's stream, and an interrupted replica is gone;
    /// a replacement starts booting `replace` later (see
    /// `kinds/replica_group/spot.rs`).
    Interruptions {
        /// The component (a server, a model server, or a replica group).
        target: ComponentId,
        /// Interruptions per second of instance time, positive.
        per_s: f64,
        /// Time from an interruption to its replacement serving (a group:
        /// to its replacement starting to boot).
        replace: SimDuration,
        /// A group's warning before each interruption: from then the
        /// replica takes no new requests and finishes those it holds (zero:
        /// no warning).
        notice: SimDuration,
    },
}

impl FaultKind {
    /// The name used in results: `crash`, `slowdown`, `latency`, `loss`, `partition`.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash(_) | FaultKind::CrashReplica { .. } | FaultKind::CrashStore(_) => {
                "crash"
            }
            FaultKind::Interruptions { .. } => "interruptions",
            FaultKind::Slowdown { .. } => "slowdown",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Loss { .. } => "loss",
            FaultKind::Partition(_) => "partition",
        }
    }
}

/// A source of requests.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    /// Unique name, used for per-workload results and RNG streams.
    pub name: String,
    /// The component that receives this workload's requests.
    pub target: ComponentId,
    /// How requests arrive.
    pub arrival: ArrivalSpec,
    /// The key each request carries (used by `consistent_hash`).
    pub keys: KeySpec,
    /// If set, the client gives up on an attempt after this long; the system
    /// still finishes the work. Without retries the request counts as timed out.
    pub timeout: Option<SimDuration>,
    /// Share of requests that write their key (the rest read).
    pub write_share: f64,
    /// Client sessions of an open workload: each request belongs to one drawn
    /// uniformly. `None`: requests belong to no session. A closed workload's
    /// session is the user's index.
    pub sessions: Option<u32>,
    /// Whether and how the client retries failed, dropped and timed-out attempts.
    pub retries: Option<RetrySpec>,
    /// Its requests' priority class at servers with a priority discipline
    /// (higher is served first; default 0). A trace record's `class`
    /// overrides it for that record's request.
    pub priority: u8,
}

/// A client's retry policy.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySpec {
    /// Retries after the first attempt, at most.
    pub max: u32,
    /// The wait before the first retry; the k-th retry waits `multiplier^(k-1)` times a draw.
    pub backoff: Distribution,
    /// Growth of the wait from one retry to the next (2 = exponential backoff).
    pub multiplier: f64,
    /// Upper bound on one wait, if any.
    pub max_backoff: Option<SimDuration>,
    /// Randomisation of the wait.
    pub jitter: Jitter,
    /// Retry budget: retries may be at most this share of first attempts
    /// (a token bucket; see the docs). `None`: unlimited.
    pub budget: Option<f64>,
}

/// How a retry's wait is randomised (AWS Architecture Blog, "Exponential
/// Backoff And Jitter").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// The computed wait exactly.
    None,
    /// Uniform on `[0, wait]`.
    Full,
    /// `wait / 2` plus uniform on `[0, wait / 2]`.
    Equal,
}

/// How a workload's requests arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrivalSpec {
    /// Open loop, exponential inter-arrival times at `per_second` on average.
    Poisson {
        /// Mean arrival rate, requests per second.
        per_second: f64,
    },
    /// Open loop, evenly spaced at `per_second`.
    Constant {
        /// Arrival rate, requests per second.
        per_second: f64,
    },
    /// Open loop, inter-arrival times drawn from a distribution.
    Interarrival(Distribution),
    /// Open loop, Poisson with a rate that changes in phases (bursts, spikes).
    Phases(Vec<PhaseSpec>),
    /// Open loop, Poisson with a periodic rate curve (a day of traffic).
    Curve(crate::RateCurveSpec),
    /// Open loop, a Markov-modulated Poisson process (bursty traffic).
    Mmpp(crate::MmppSpec),
    /// Open loop, the arrivals of a recorded trace, replayed.
    Trace(crate::TraceSpec),
    /// Closed loop: `users` clients, each sends a request, waits for its
    /// response, thinks, and sends the next.
    Closed {
        /// Number of concurrent clients.
        users: u32,
        /// Time between a response and the client's next request.
        think_time: Distribution,
    },
}

/// One phase of a phased Poisson arrival process.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseSpec {
    /// Mean arrival rate during the phase, requests per second (0 = silence).
    pub per_second: f64,
    /// How long the phase lasts; `None` (only for the last) until the end.
    pub length: Option<SimDuration>,
}

/// The keys requests carry.
#[derive(Clone, Debug, PartialEq)]
pub enum KeySpec {
    /// Every request gets a fresh key (its sequence number).
    Unique,
    /// Keys uniform on `0..n`.
    Uniform {
        /// Number of distinct keys.
        n: u64,
    },
    /// Keys on `0..n` with Zipf popularity of exponent `s` (key 0 the hottest).
    Zipf {
        /// Number of distinct keys.
        n: u64,
        /// Zipf exponent; 0 is uniform, about 1 is typical of web traffic.
        s: f64,
    },
    /// YCSB's hotspot: `hot_share` of requests go uniformly to the first
    /// `hot_fraction` of the `n` keys, the rest uniformly to the others.
    Hotspot {
        /// Number of distinct keys.
        n: u64,
        /// Share of the keys that are hot, in (0, 1).
        hot_fraction: f64,
        /// Share of requests that go to a hot key, in [0, 1].
        hot_share: f64,
    },
}

/// One named component of the system.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentSpec {
    /// Unique name, used for results and RNG streams.
    pub name: String,
    /// What the component is.
    pub kind: ComponentKind,
}

/// The kinds of component.
#[derive(Clone, Debug, PartialEq)]
pub enum ComponentKind {
    /// A FIFO multi-server queue.
    Server(ServerSpec),
    /// Routes each request to one backend.
    LoadBalancer(LoadBalancerSpec),
    /// A cache in front of a backend (see [`crate::CacheSpec`]).
    Cache(crate::CacheSpec),
    /// A message queue between producers and consumers.
    Queue(QueueSpec),
    /// A partitioned log with consumer groups.
    Stream(StreamSpec),
    /// Serves requests in batches on parallel slots (an inference server).
    ModelServer(ModelServerSpec),
    /// A model server in LLM mode: continuous batching of prefill and
    /// per-token decode iterations (`type: model_server` with `llm:`).
    LlmServer(crate::kinds::model_server::llm::LlmServerSpec),
    /// A replicated key-value store.
    Store(crate::kinds::store::spec::StoreSpec),
    /// Replicas behind an implicit balancer (VMs or containers, maybe on
    /// shared hosts, maybe autoscaled): leaf-server replicas kept inside the
    /// group (a deployment) or replicas that are components of their own
    /// (see [`crate::GroupSpec`] and [`crate::ReplicaMembers`]).
    ReplicaGroup(crate::GroupSpec),
    /// A data-parallel training job on its own timers (see
    /// [`crate::TrainingJobSpec`]); it receives no requests.
    TrainingJob(crate::kinds::training_job::spec::TrainingJobSpec),
    /// Human reviewers in shifts; a share of what reaches it is reviewed
    /// (see [`crate::ReviewQueueSpec`]).
    ReviewQueue(crate::kinds::review_queue::spec::ReviewQueueSpec),
    /// A serverless function: instances started on demand with a cold
    /// start, kept warm for an idle timeout (see [`crate::FunctionSpec`]).
    Function(crate::FunctionSpec),
    /// A DNS name: clients cache its answer for a TTL; health checks move
    /// the answer to the next record (see [`crate::DnsSpec`]).
    Dns(crate::DnsSpec),
    /// A periodic batch recomputation over all the records sent to it (the
    /// batch layer of a lambda architecture; see [`crate::BatchJobSpec`]).
    BatchJob(crate::BatchJobSpec),
    /// A storage tier (block, file or object): an IOPS gate, a latency per
    /// operation and bandwidth (see [`crate::StorageSpec`]).
    Storage(crate::StorageSpec),
}

/// How a component passes requests to one of its downstream components
/// (see [`ComponentKind::downstream`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// One of `n` targets gets each request (a balancer's backends, a
    /// replica group's members): each sees 1/n of the traffic on average.
    Split {
        /// Targets sharing the traffic.
        n: usize,
    },
    /// Every request or message reaches the target (a queue's consumer, a
    /// stream group's target).
    Every,
    /// Only misses and writes reach it (a cache's backend); how many depends
    /// on the run.
    Misses,
    /// A balancer's shadow traffic: a share of its requests is copied to
    /// the target, and nobody waits for the copies.
    Mirror,
    /// A DNS record: the first record gets every request until a failover,
    /// then clients move to the next as their cached answers expire.
    Failover,
    /// A server's downstream call (step `step` of its calls).
    Call {
        /// The call step, from 0.
        step: usize,
    },
}

impl ComponentKind {
    /// Calls `f(target, flow)` for every component this one sends requests
    /// to, in spec order: the one definition of "who sends to whom" for the
    /// engine's build checks and the offered-load figures.
    pub fn downstream(&self, mut f: impl FnMut(ComponentId, Flow)) {
        let calls = |s: &ServerSpec, f: &mut dyn FnMut(ComponentId, Flow)| {
            for (step, c) in s.calls.iter().enumerate() {
                for &t in &c.targets {
                    f(t, Flow::Call { step });
                }
            }
        };
        match self {
            ComponentKind::Server(s) => calls(s, &mut f),
            ComponentKind::LoadBalancer(lb) => {
                let n = lb.backends.len();
                lb.backends.iter().for_each(|&b| f(b, Flow::Split { n }));
                if let Some(s) = &lb.routing.shadow {
                    f(s.to, Flow::Mirror);
                }
            }
            ComponentKind::ReplicaGroup(g) => match &g.members {
                crate::ReplicaMembers::Stations(s) => calls(s, &mut f),
                crate::ReplicaMembers::Components(ids) => {
                    let n = ids.len();
                    ids.iter().for_each(|&m| f(m, Flow::Split { n }));
                }
            },
            ComponentKind::Cache(c) => f(c.backend, Flow::Misses),
            ComponentKind::Queue(q) => f(q.consumer, Flow::Every),
            ComponentKind::Stream(s) => s.groups.iter().for_each(|g| f(g.target, Flow::Every)),
            // Which record gets a request depends on the run (caches,
            // health checks); the first gets them all until a failover.
            ComponentKind::Dns(d) => d.records.iter().for_each(|&r| f(r, Flow::Failover)),
            // A prefill server hands every request on to its decode pool.
            ComponentKind::LlmServer(s) => {
                if let crate::LlmRole::Prefill(p) = &s.role {
                    f(p.decode_to, Flow::Every);
                }
            }
            ComponentKind::ModelServer(_)
            | ComponentKind::Store(_)
            | ComponentKind::TrainingJob(_)
            | ComponentKind::ReviewQueue(_)
            | ComponentKind::Function(_)
            | ComponentKind::BatchJob(_) => {}
            ComponentKind::Storage(_) => {}
        }
    }
}

/// A station with `workers` parallel servers and one FIFO queue.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSpec {
    /// Parallel workers (the c of M/M/c); at least 1.
    pub workers: u32,
    /// Time one worker spends on one request.
    pub service_time: Distribution,
    /// Maximum number of requests waiting (not in service); arrivals beyond
    /// it are dropped. `None` is unbounded.
    pub queue_capacity: Option<u32>,
    /// Downstream calls made after the server's own work, step by step.
    pub calls: Vec<CallStep>,
    /// Whether a worker is held while the request waits for its calls.
    pub mode: CallMode,
    /// The order in which waiting requests are served.
    pub discipline: Discipline,
    /// How long a request waits in the queue before its client gives up and
    /// it leaves unserved (reneging); `None`: it waits as long as it takes.
    pub patience: Option<Distribution>,
}

/// The order in which a server serves its waiting requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Discipline {
    /// First come, first served.
    #[default]
    Fifo,
    /// By the workloads' `priority` or a trace record's `class` (highest
    /// first), FIFO within one
    /// priority; a request in service is never interrupted.
    Priority,
    /// By priority, and an arrival takes the worker of a lower-priority
    /// request in service, which waits to resume where it stopped.
    PreemptiveResume,
}

/// One step of a server's downstream calls: one or more calls sent at once;
/// the step ends when `wait_for` of them have answered successfully.
#[derive(Clone, Debug, PartialEq)]
pub struct CallStep {
    /// The components called (one call each).
    pub targets: Vec<ComponentId>,
    /// How many successful answers end the step.
    pub wait_for: WaitFor,
    /// Send a second copy of a call that has not answered after this long;
    /// the first answer wins and the other is counted as waste.
    pub hedge_after: Option<SimDuration>,
    /// Hedge instead at this quantile (in (0, 1)) of the step's call
    /// latencies observed so far in the run (e.g. 0.95). Hedging starts once
    /// [`HEDGE_MIN_SAMPLES`] calls have answered.
    pub hedge_percentile: Option<f64>,
    /// A call not answered this long after the step began counts as failed
    /// (its copies' later answers are counted as `late_calls`, wasted).
    pub timeout: Option<SimDuration>,
    /// With `timeout`: the step never fails; it ends at its `wait_for`, when
    /// every call has resolved, or at the timeout, with the successful
    /// answers it has (a partial answer, counted in `partial_answers`).
    pub partial: bool,
    /// A circuit breaker guarding the step's calls.
    pub breaker: Option<BreakerSpec>,
}

/// A circuit breaker on a call step: closed (calls go out), open (calls
/// fail at once, `short_circuited`), half-open (a few probe calls go out;
/// their success closes it, a failure opens it again).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerSpec {
    /// Share of failed calls in the window at or above which it opens, in (0, 1].
    pub failure_rate: f64,
    /// Outcomes the window must hold before the rate is judged (at least 1).
    pub min_calls: u32,
    /// The rolling window: the outcomes of the last this many calls
    /// (at least `min_calls`).
    pub window: u32,
    /// How long it stays open before letting probes through.
    pub open_for: SimDuration,
    /// Probe calls let through while half-open; all must succeed to close it.
    pub probes: u32,
}

/// Answers a step must have seen before percentile hedging starts.
pub const HEDGE_MIN_SAMPLES: u64 = 100;

/// How many of a step's calls must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Every call (fork-join).
    All,
    /// The first successful answer.
    Any,
    /// The first `n` successful answers.
    Count(u16),
}

/// What a server's worker does while its request waits downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallMode {
    /// The worker is held until the calls answer (thread per request).
    Thread,
    /// The worker is released after its own work (event loop, async I/O).
    Async,
}

/// A load balancer in front of `backends`.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancerSpec {
    /// How a backend is chosen.
    pub policy: LbPolicy,
    /// Candidate components, at least one.
    pub backends: Vec<ComponentId>,
    /// Weights, weight phases, shadow traffic and health checks (all off
    /// by default).
    pub routing: LbRouting,
}

/// Load-balancing policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbPolicy {
    /// Backends in turn.
    RoundRobin,
    /// A uniformly random backend.
    Random,
    /// The backend with the fewest requests outstanding from this balancer
    /// (ties broken at random): join-the-shortest-queue.
    LeastOutstanding,
    /// Two distinct random backends; the one with fewer outstanding.
    PowerOfTwo,
    /// A hash ring with virtual nodes over the request's key.
    ConsistentHash,
    /// LLM model servers only: the backend with the least KV demand (KV
    /// blocks in use plus the blocks its waiting requests' prompts will
    /// need), ties to the lower index (`kinds/load_balancer/llm_route.rs`).
    LeastKv,
    /// LLM model servers only: a request's prefix group goes to the backend
    /// that last served the group (first time: the least KV demand), unless
    /// that backend has more than the bound of requests waiting and another
    /// has fewer (then the least KV demand, which becomes the group's owner).
    PrefixAffinity,
}

impl LbPolicy {
    /// Whether the policy reads the backends' LLM state (KV cache, queue,
    /// prefix groups), so every backend must be an LLM model server.
    pub fn llm_aware(self) -> bool {
        matches!(self, LbPolicy::LeastKv | LbPolicy::PrefixAffinity)
    }
}

/// A distribution of durations (service times, think times, delays).
///
/// Parameters are in nanoseconds (as `f64` where a mean need not be whole).
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Always the same value.
    Constant(SimDuration),
    /// Exponential with the given mean.
    Exponential {
        /// Mean, nanoseconds.
        mean_ns: f64,
    },
    /// Uniform on `[low, high]`.
    Uniform {
        /// Lower bound, nanoseconds.
        low_ns: f64,
        /// Upper bound, nanoseconds.
        high_ns: f64,
    },
    /// Log-normal: `median * exp(sigma * Z)` with `Z` standard normal.
    LogNormal {
        /// Median, nanoseconds.
        median_ns: f64,
        /// Shape (standard deviation of the underlying normal).
        sigma: f64,
    },
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    Pareto {
        /// Minimum value, nanoseconds.
        scale_ns: f64,
        /// Tail index; the mean is finite only for `shape > 1`.
        shape: f64,
    },
    /// Erlang: the sum of `k` exponentials, with overall mean `mean`.
    Erlang {
        /// Number of phases, at least 1.
        k: u32,
        /// Mean of the sum, nanoseconds.
        mean_ns: f64,
    },
    /// A weighted choice between distributions. Weights are positive and
    /// need not sum to one.
    Mixture(Vec<(f64, Distribution)>),
}

impl Distribution {
    /// The mean in nanoseconds (infinite for a Pareto with `shape <= 1`).
    pub fn mean_ns(&self) -> f64 {
        match self {
            Distribution::Constant(d) => d.as_nanos() as f64,
            Distribution::Exponential { mean_ns } | Distribution::Erlang { mean_ns, .. } => {
                *mean_ns
            }
            Distribution::Uniform { low_ns, high_ns } => (low_ns + high_ns) / 2.0,
            Distribution::LogNormal { median_ns, sigma } => median_ns * (sigma * sigma / 2.0).exp(),
            Distribution::Pareto { scale_ns, shape } => {
                if *shape > 1.0 {
                    shape * scale_ns / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Distribution::Mixture(parts) => {
                let total: f64 = parts.iter().map(|(w, _)| w).sum();
                parts.iter().map(|(w, d)| w / total * d.mean_ns()).sum()
            }
        }
    }

    /// Whether every draw is zero (lets the network skip scheduling delays).
    pub fn is_zero(&self) -> bool {
        matches!(self, Distribution::Constant(d) if d.as_nanos() == 0)
    }
}

impl ArrivalSpec {
    /// The long-run arrival rate per second of an open workload (for phased
    /// arrivals, a rate curve and an MMPP, the peak rate; for a trace, its
    /// mean over its span); `None` for a closed one, whose rate depends on
    /// the system (and for a trace of fewer than two records).
    pub fn open_rate_per_second(&self) -> Option<f64> {
        match self {
            ArrivalSpec::Poisson { per_second } | ArrivalSpec::Constant { per_second } => {
                Some(*per_second)
            }
            ArrivalSpec::Interarrival(d) => Some(1e9 / d.mean_ns()),
            // The peak phase: what capacity must be measured against.
            ArrivalSpec::Phases(phases) => {
                Some(phases.iter().map(|p| p.per_second).fold(0.0, f64::max))
            }
            // Like phases: the peak, what capacity must be measured against.
            ArrivalSpec::Curve(c) => Some(c.peak_per_second()),
            ArrivalSpec::Mmpp(m) => Some(m.peak_per_second()),
            // A trace has no peak rate of its own: its mean over its span.
            ArrivalSpec::Trace(t) => t.mean_per_second(),
            ArrivalSpec::Closed { .. } => None,
        }
    }
}

impl ModelSpec {
    /// The id of the component called `name`, if any.
    pub fn component_id(&self, name: &str) -> Option<ComponentId> {
        self.components
            .iter()
            .position(|c| c.name == name)
            .map(|i| ComponentId(i as u32))
    }

    /// Whether component `c` is a replica group (a deployment or a group
    /// of components). The one place that asks: a spot group's replicas
    /// draw their own interruptions and have their own lifetimes
    /// (`kinds/replica_group/spot.rs`), a single spot instance's are drawn
    /// as crashes (`simulation/faults.rs`).
    pub fn is_replica_group(&self, c: ComponentId) -> bool {
        self.components
            .get(c.index())
            .is_some_and(|s| matches!(s.kind, ComponentKind::ReplicaGroup(_)))
    }
}

impl ModelSpec {
    /// The simplest system: one open Poisson workload `users` at
    /// `per_second` into one server `server` with `workers` and
    /// `service_time`, no warm-up, no network delay, seed 1. Used by the
    /// docs, tests and benchmarks; adjust fields afterwards as needed.
    pub fn single_server(
        per_second: f64,
        workers: u32,
        service_time: Distribution,
        duration: SimDuration,
    ) -> ModelSpec {
        ModelSpec {
            name: "single-server".into(),
            seed: 1,
            duration,
            warmup: SimDuration::ZERO,
            network: NetworkSpec::default(),
            workloads: vec![WorkloadSpec::new(
                "users",
                ComponentId(0),
                ArrivalSpec::Poisson { per_second },
            )],
            components: vec![ComponentSpec {
                name: "server".into(),
                kind: ComponentKind::Server(ServerSpec::new(workers, service_time)),
            }],
            hosts: Vec::new(),
            faults: Vec::new(),
        }
    }
}

impl ServerSpec {
    /// A server with `workers` and `service_time`, an unbounded queue and no calls.
    pub fn new(workers: u32, service_time: Distribution) -> ServerSpec {
        ServerSpec {
            workers,
            service_time,
            queue_capacity: None,
            calls: Vec::new(),
            mode: CallMode::Thread,
            discipline: Discipline::Fifo,
            patience: None,
        }
    }
}

impl WorkloadSpec {
    /// A workload `name` sending to `target` as `arrival` says: unique keys,
    /// reads only, no sessions, no timeout, no retries.
    pub fn new(name: &str, target: ComponentId, arrival: ArrivalSpec) -> WorkloadSpec {
        WorkloadSpec {
            name: name.into(),
            target,
            arrival,
            keys: KeySpec::Unique,
            timeout: None,
            write_share: 0.0,
            sessions: None,
            retries: None,
            priority: 0,
        }
    }
}

/// What a full `queue` does with a new message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueOverflow {
    /// Refuse the new message: the producer is answered `dropped`.
    DropTail,
    /// Evict the oldest waiting message (counted as dropped) and accept the new one.
    DropHead,
    /// Hold the producer's request un-acknowledged until there is room.
    BackPressure,
}

/// A message queue: producers are acknowledged as soon as their message is
/// enqueued; consumers pull messages and call `consumer` with each.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSpec {
    /// Most messages held, counting those delivered to a consumer and not
    /// yet acknowledged; `None` is unbounded.
    pub capacity: Option<u32>,
    /// What happens to a message offered to a full queue.
    pub overflow: QueueOverflow,
    /// The component each message is sent to.
    pub consumer: ComponentId,
    /// Most messages in flight to the consumer at once; at least 1.
    pub concurrency: u32,
}

/// A partitioned log: producers are acknowledged once their message is
/// appended; each consumer group reads every partition in order.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSpec {
    /// Number of partitions; a message goes to `hash(key) mod partitions`.
    pub partitions: u32,
    /// Consumer groups, each of which receives every message.
    pub groups: Vec<ConsumerGroupSpec>,
    /// Messages older than this leave the log, consumed or not; `None` keeps
    /// them until every group has taken them.
    pub retention: Option<SimDuration>,
}

/// One consumer group of a stream: one consumer per partition, each taking
/// its partition's messages in order, one at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerGroupSpec {
    /// The group's name, used in results.
    pub name: String,
    /// The component each message is sent to.
    pub target: ComponentId,
    /// When the group starts consuming, from the oldest message the log
    /// still holds (a new consumer group replaying the log: kappa
    /// reprocessing); `None` consumes from the start of the run.
    pub start: Option<SimDuration>,
}
