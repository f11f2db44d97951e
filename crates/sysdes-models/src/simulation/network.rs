//! The network between components: zones with a symmetric latency matrix,
//! per-link overrides (latency, loss with retransmission, bandwidth), payload
//! sizes, and the time windows of the network faults (partitions, latency
//! injection, loss bursts).
//!
//! Every message goes from a *sender endpoint* to a *receiver endpoint*.
//! Endpoints are numbered as the network's RNG streams are: components first
//! (by [`ComponentId`] index), then workloads (`components.len() + w`). Each
//! sender draws from its own stream, so a message's delay never depends on
//! what other senders did.
//!
//! This module does not move requests; the engine asks it how long a message
//! takes ([`Network::transit`]) or whether it can be delivered at all.
//! Other models (a replicated store with replicas placed in zones) use
//! [`Network::reachable`] and [`Network::zone_delay`] directly.

use rand::RngExt;
use sysdes_kernel::{ComponentId, RngStream, SimDuration, SimTime};

use super::{Event, Simulation};
use crate::request::{Origin, Outcome, RequestId};
use crate::sampler::Sampler;
use crate::spec::{FaultKind, ModelSpec, NetTarget, NetworkSpec, ZoneId};

/// The default zone: everything not placed in a named zone.
pub(crate) const DEFAULT_ZONE: ZoneId = 0;

/// What becomes of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transit {
    /// It arrives after this delay.
    After(SimDuration),
    /// A partition separates the ends: it is never delivered.
    Unreachable,
}

/// A set of endpoints named by a link or a fault: one endpoint or a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Selector {
    Endpoint(u32),
    Zone(ZoneId),
}

/// A per-link override, resolved to endpoints.
#[derive(Debug)]
struct Link {
    a: Selector,
    b: Selector,
    latency: Option<Sampler>,
    loss: f64,
    retransmit: SimDuration,
    /// Nanoseconds per byte; 0 when the link sets no bandwidth.
    ns_per_byte: f64,
}

/// A time window of a partition: endpoints and zones in different groups
/// cannot reach each other.
#[derive(Debug)]
struct Partition {
    start: SimTime,
    end: SimTime,
    /// Per zone id: 0 if the zone is in no group, else group index + 1.
    zone_group: Vec<u16>,
    /// Per endpoint: its own group if named, else its zone's, else 0.
    endpoint_group: Vec<u16>,
}

/// What a network fault does to a message while active.
#[derive(Debug)]
enum Effect {
    Add(Sampler),
    Loss(f64),
}

/// A latency or loss fault between two selectors, in a window.
#[derive(Debug)]
struct Injection {
    start: SimTime,
    end: SimTime,
    a: Selector,
    b: Selector,
    effect: Effect,
}

/// The network model of one run.
#[derive(Debug)]
pub(crate) struct Network {
    /// Nothing to do at all: every message arrives at once (the fast path).
    pub(crate) zero: bool,
    /// Only the default latency applies (no zones, links, sizes or faults).
    pub(crate) simple: bool,
    /// The default one-way latency (also inside each zone).
    pub(crate) latency: Sampler,
    /// One stream per sender endpoint.
    pub(crate) rngs: Vec<RngStream>,
    components: u32,
    endpoint_zone: Vec<ZoneId>,
    zone_names: Vec<String>,
    /// `zones x zones`: the latency between two zones, `None` for the default.
    zone_latency: Vec<Option<Sampler>>,
    links: Vec<Link>,
    retransmit: SimDuration,
    unreachable_after: SimDuration,
    request_size: Vec<Option<u64>>,
    response_size: Vec<Option<u64>>,
    partitions: Vec<Partition>,
    injections: Vec<Injection>,
    /// The endpoint each endpoint is on the network: a group's replica is
    /// its group (same zone, sizes, links, partitions and faults). Empty if
    /// the spec has no replica group.
    identity: Vec<u32>,
    /// By sender endpoint (a group's replicas count as their group): bytes
    /// it sent to another zone over the whole run, and those sent in the
    /// measurement window `[window_start, window_end)`. Integer counters,
    /// for egress pricing.
    pub(crate) zone_bytes: Vec<u64>,
    pub(crate) zone_bytes_window: Vec<u64>,
    window_start: SimTime,
    window_end: SimTime,
}

impl Network {
    /// Builds the network of `spec`, or says what is wrong with it.
    pub(crate) fn new(spec: &ModelSpec) -> Result<Network, String> {
        let net: &NetworkSpec = &spec.network;
        let stream = |name: &str| sysdes_kernel::derive_stream(spec.seed, name, "network");
        let components = spec.components.len() as u32;
        let endpoints = spec.components.len() + spec.workloads.len();
        let rngs = spec
            .components
            .iter()
            .map(|c| c.name.as_str())
            .chain(spec.workloads.iter().map(|w| w.name.as_str()))
            .map(stream)
            .collect();
        let zones = net.zones.len() + 1;
        if zones > usize::from(u16::MAX) {
            return Err("too many zones".into());
        }
        let zone = |z: ZoneId| -> Result<ZoneId, String> {
            if usize::from(z) < zones {
                Ok(z)
            } else {
                Err(format!("zone id {z} out of range"))
            }
        };
        let mut identity: Vec<u32> = Vec::new();
        for (g, c) in spec.components.iter().enumerate() {
            if let crate::spec::ComponentKind::ReplicaGroup(group) = &c.kind {
                if identity.is_empty() {
                    identity = (0..endpoints as u32).collect();
                }
                for m in group.members.ids() {
                    if let Some(slot) = identity.get_mut(m.index()) {
                        *slot = g as u32;
                    }
                }
            }
        }
        let same_as = |e: usize| identity.get(e).map_or(e, |&i| i as usize);
        let mut endpoint_zone = vec![DEFAULT_ZONE; endpoints];
        for (i, &z) in net
            .component_zones
            .iter()
            .enumerate()
            .take(spec.components.len())
        {
            endpoint_zone[i] = zone(z)?;
        }
        for (i, &z) in net
            .workload_zones
            .iter()
            .enumerate()
            .take(spec.workloads.len())
        {
            endpoint_zone[spec.components.len() + i] = zone(z)?;
        }
        for e in 0..endpoints {
            endpoint_zone[e] = endpoint_zone[same_as(e)];
        }
        let mut zone_latency: Vec<Option<Sampler>> = (0..zones * zones).map(|_| None).collect();
        for (a, b, d) in &net.zone_latency {
            let (a, b) = (usize::from(zone(*a)?), usize::from(zone(*b)?));
            let s = Sampler::new(d)?;
            zone_latency[a * zones + b] = Some(s.clone());
            zone_latency[b * zones + a] = Some(s);
        }
        let selector = |t: &NetTarget| -> Result<Selector, String> {
            Ok(match *t {
                NetTarget::Component(ComponentId(c)) if c < components => Selector::Endpoint(c),
                NetTarget::Workload(w) if (w as usize) < spec.workloads.len() => {
                    Selector::Endpoint(components + w)
                }
                NetTarget::Zone(z) => Selector::Zone(zone(z)?),
                other => return Err(format!("{other:?} names nothing")),
            })
        };
        let mut links = Vec::with_capacity(net.links.len());
        for l in &net.links {
            if !(0.0..1.0).contains(&l.loss) {
                return Err(format!("link loss {} is not in [0, 1)", l.loss));
            }
            let ns_per_byte = match l.bandwidth {
                Some(bw) if bw.is_finite() && bw > 0.0 => 1e9 / bw,
                Some(bw) => return Err(format!("link bandwidth {bw} is not positive")),
                None => 0.0,
            };
            links.push(Link {
                a: selector(&l.from)?,
                b: selector(&l.to)?,
                latency: l.latency.as_ref().map(Sampler::new).transpose()?,
                loss: l.loss,
                retransmit: l.retransmit.unwrap_or(net.retransmit),
                ns_per_byte,
            });
        }
        // Most specific first: endpoint-endpoint, then endpoint-zone, then zone-zone.
        links.sort_by_key(|l| {
            [l.a, l.b]
                .iter()
                .filter(|s| matches!(s, Selector::Zone(_)))
                .count()
        });
        let mut request_size = vec![None; endpoints];
        let mut response_size = vec![None; endpoints];
        let sizes = net
            .component_sizes
            .iter()
            .take(spec.components.len())
            .enumerate()
            .chain(
                net.workload_sizes
                    .iter()
                    .take(spec.workloads.len())
                    .enumerate()
                    .map(|(i, s)| (spec.components.len() + i, s)),
            );
        for (i, s) in sizes {
            request_size[i] = s.request;
            response_size[i] = s.response;
        }
        for e in 0..endpoints {
            request_size[e] = request_size[same_as(e)];
            response_size[e] = response_size[same_as(e)];
        }

        let mut partitions = Vec::new();
        let mut injections = Vec::new();
        for f in &spec.faults {
            let start = SimTime::ZERO + f.at;
            let end = start + f.duration;
            match &f.kind {
                FaultKind::Partition(groups) => {
                    if groups.len() >= usize::from(u16::MAX) {
                        return Err("too many partition groups".into());
                    }
                    let mut zone_group = vec![0u16; zones];
                    let mut named = vec![0u16; endpoints];
                    for (g, members) in groups.iter().enumerate() {
                        for m in members {
                            match selector(m)? {
                                Selector::Zone(z) => zone_group[usize::from(z)] = g as u16 + 1,
                                Selector::Endpoint(e) => named[e as usize] = g as u16 + 1,
                            }
                        }
                    }
                    for e in 0..endpoints {
                        named[e] = named[same_as(e)];
                    }
                    let endpoint_group = named
                        .iter()
                        .zip(&endpoint_zone)
                        .map(|(&n, &z)| if n > 0 { n } else { zone_group[usize::from(z)] })
                        .collect();
                    partitions.push(Partition {
                        start,
                        end,
                        zone_group,
                        endpoint_group,
                    });
                }
                FaultKind::Latency { from, to, add } => injections.push(Injection {
                    start,
                    end,
                    a: selector(from)?,
                    b: selector(to)?,
                    effect: Effect::Add(Sampler::new(add)?),
                }),
                FaultKind::Loss { from, to, rate } => {
                    if !(0.0..1.0).contains(rate) {
                        return Err(format!("loss rate {rate} is not in [0, 1)"));
                    }
                    injections.push(Injection {
                        start,
                        end,
                        a: selector(from)?,
                        b: selector(to)?,
                        effect: Effect::Loss(*rate),
                    });
                }
                FaultKind::Crash(_)
                | FaultKind::Slowdown { .. }
                | FaultKind::CrashReplica { .. }
                | FaultKind::CrashStore(_)
                | FaultKind::Interruptions { .. } => {}
            }
        }

        let latency = Sampler::new(&net.latency)?;
        // Two named zones always have a latency between them, so a message
        // between two named zones (egress, counted in `transit`) never takes
        // the simple path.
        let simple = zone_latency.iter().all(Option::is_none)
            && links.is_empty()
            && partitions.is_empty()
            && injections.is_empty();
        Ok(Network {
            zero: simple && latency.is_zero(),
            simple,
            latency,
            rngs,
            components,
            endpoint_zone,
            zone_names: std::iter::once(String::new())
                .chain(net.zones.iter().cloned())
                .collect(),
            zone_latency,
            links,
            retransmit: net.retransmit,
            unreachable_after: net.unreachable_after,
            request_size,
            response_size,
            partitions,
            injections,
            identity,
            zone_bytes: vec![0; endpoints],
            zone_bytes_window: vec![0; endpoints],
            window_start: SimTime::ZERO + spec.warmup,
            window_end: SimTime::ZERO + spec.duration,
        })
    }

    /// Counts `bytes` sent by endpoint `from` (already its group's) from
    /// zone `za` to zone `zb` at `now`, if those are two different named
    /// zones (the default zone is "no zone": nothing crosses from it).
    #[inline]
    pub(crate) fn count_zone_bytes(
        &mut self,
        from: u32,
        (za, zb): (ZoneId, ZoneId),
        bytes: u64,
        now: SimTime,
    ) {
        if za == zb || za == DEFAULT_ZONE || zb == DEFAULT_ZONE || bytes == 0 {
            return;
        }
        let e = from as usize;
        if let Some(n) = self.zone_bytes.get_mut(e) {
            *n += bytes;
        }
        if now >= self.window_start && now < self.window_end {
            if let Some(n) = self.zone_bytes_window.get_mut(e) {
                *n += bytes;
            }
        }
    }

    /// The size of the messages a store (component `store`) sends its
    /// replicas: `request_size` for writes it replicates, `response_size`
    /// for read answers, 0 for the rest (headers are not modelled).
    pub(crate) fn store_message_bytes(&self, store: u32, write: bool, answer: bool) -> u64 {
        let sizes = if write {
            &self.request_size
        } else if answer {
            &self.response_size
        } else {
            return 0;
        };
        sizes.get(store as usize).copied().flatten().unwrap_or(0)
    }

    /// Whether endpoint `from` can reach endpoint `to` at `now`.
    pub(crate) fn endpoints_reachable(&self, from: u32, to: u32, now: SimTime) -> bool {
        !self.partitions.iter().any(|p| {
            if now < p.start || now >= p.end {
                return false;
            }
            let ga = p.endpoint_group[from as usize];
            let gb = p.endpoint_group[to as usize];
            ga != 0 && gb != 0 && ga != gb
        })
    }

    /// The size of a request sent by `sender` on behalf of `workload`: a
    /// sending component's own `request_size`, else the request's trace
    /// record's `request_bytes` (`traced`), else the workload's, else 0.
    #[inline]
    pub(crate) fn request_bytes(&self, sender: u32, workload: u32, traced: Option<u64>) -> u64 {
        let own = if sender < self.components {
            self.request_size[sender as usize]
        } else {
            None
        };
        own.or(traced)
            .or(self.request_size[(self.components + workload) as usize])
            .unwrap_or(0)
    }

    /// The size of a response returned by component `responder` for
    /// `workload`: the responder's `response_size`, else the request's
    /// trace record's `response_bytes` (`traced`), else the workload's, else 0.
    #[inline]
    pub(crate) fn response_bytes(&self, responder: u32, workload: u32, traced: Option<u64>) -> u64 {
        self.response_size[responder as usize]
            .or(traced)
            .or(self.response_size[(self.components + workload) as usize])
            .unwrap_or(0)
    }

    /// What becomes of a message of `bytes` sent at `now` from endpoint
    /// `from` to endpoint `to`. Draws from `from`'s stream.
    ///
    /// The delay is the link's latency (or the zones' matrix entry, or the
    /// default), plus `retransmit` per lost transmission (each lost with the
    /// link's loss combined with any active loss fault), plus `bytes /
    /// bandwidth`, plus every active latency fault between the ends.
    pub(crate) fn transit(&mut self, from: u32, to: u32, bytes: u64, now: SimTime) -> Transit {
        if !self.endpoints_reachable(from, to, now) {
            return Transit::Unreachable;
        }
        let (za, zb) = (
            self.endpoint_zone[from as usize],
            self.endpoint_zone[to as usize],
        );
        // Links, injected faults and egress name a group, not its replicas.
        let sender = from;
        let (from, to) = match self.identity.as_slice() {
            [] => (from, to),
            id => (id[from as usize], id[to as usize]),
        };
        self.count_zone_bytes(from, (za, zb), bytes, now);
        let rng = &mut self.rngs[sender as usize];
        let link = self
            .links
            .iter()
            .find(|l| link_matches(l.a, l.b, from, to, za, zb));
        let n = self.zone_names.len();
        let zone = self.zone_latency[usize::from(za) * n + usize::from(zb)].as_ref();
        let base = match (link.and_then(|l| l.latency.as_ref()), zone) {
            (Some(s), _) | (None, Some(s)) => s.sample(rng),
            (None, None) => self.latency.sample(rng),
        };
        let mut delay = base.as_nanos();
        let (mut keep, retransmit, ns_per_byte) = match link {
            Some(l) => (1.0 - l.loss, l.retransmit, l.ns_per_byte),
            None => (1.0, self.retransmit, 0.0),
        };
        for i in &self.injections {
            if now < i.start || now >= i.end || !link_matches(i.a, i.b, from, to, za, zb) {
                continue;
            }
            match &i.effect {
                Effect::Add(s) => delay += s.sample(rng).as_nanos(),
                Effect::Loss(p) => keep *= 1.0 - p,
            }
        }
        if keep < 1.0 {
            // Geometric number of lost transmissions before one gets through.
            let loss = 1.0 - keep;
            while rng.random::<f64>() < loss {
                delay += retransmit.as_nanos();
            }
        }
        if ns_per_byte > 0.0 && bytes > 0 {
            delay += (bytes as f64 * ns_per_byte + 0.5) as u64;
        }
        Transit::After(SimDuration::from_nanos(delay))
    }
}

/// The zone API other models use (a store places replicas in zones and asks
/// whether a replica is reachable and how long a message to it takes).
impl Network {
    /// The zone of a workload's clients.
    pub(crate) fn workload_zone(&self, w: u32) -> ZoneId {
        self.endpoint_zone[(self.components + w) as usize]
    }

    /// The sender endpoint of a workload.
    pub(crate) fn workload_endpoint(&self, w: u32) -> u32 {
        self.components + w
    }

    /// How long a sender waits before a message across a partition fails.
    pub(crate) fn unreachable_after(&self) -> SimDuration {
        self.unreachable_after
    }

    /// Whether a message can go from `from_zone` to `to_zone` at `now`:
    /// false while a partition puts the two zones in different groups.
    pub(crate) fn reachable(&self, from_zone: ZoneId, to_zone: ZoneId, now: SimTime) -> bool {
        !self.partitions.iter().any(|p| {
            if now < p.start || now >= p.end {
                return false;
            }
            let ga = p
                .zone_group
                .get(usize::from(from_zone))
                .copied()
                .unwrap_or(0);
            let gb = p.zone_group.get(usize::from(to_zone)).copied().unwrap_or(0);
            ga != 0 && gb != 0 && ga != gb
        })
    }

    /// One draw of the one-way latency between two zones: the matrix entry,
    /// or the default latency inside a zone and for the default zone.
    pub(crate) fn zone_delay(
        &mut self,
        from_zone: ZoneId,
        to_zone: ZoneId,
        rng: &mut RngStream,
    ) -> SimDuration {
        let n = self.zone_names.len();
        let (a, b) = (usize::from(from_zone), usize::from(to_zone));
        match self.zone_latency.get(a * n + b).and_then(Option::as_ref) {
            Some(s) if a < n && b < n => s.sample(rng),
            _ => self.latency.sample(rng),
        }
    }
}

/// The engine's side: messages that need more than the default latency.
impl Simulation {
    /// Sends `req` from endpoint `sender` to component `to` when zones,
    /// links or network faults apply. A message across a partition is lost:
    /// the sender sees the request fail after `unreachable_after`.
    #[inline(never)]
    pub(super) fn send_over_network(&mut self, sender: usize, to: ComponentId, req: RequestId) {
        let now = self.sched.now();
        let (workload, trace) = (self.requests[req].workload, self.requests[req].trace);
        let traced = self.workloads[workload as usize].trace_bytes(trace).0;
        let bytes = self.network.request_bytes(sender as u32, workload, traced);
        match self.network.transit(sender as u32, to.0, bytes, now) {
            Transit::After(delay) => self.sched.schedule_in(delay, Event::Deliver { to, req }),
            Transit::Unreachable => self.unreachable(req),
        }
    }

    /// The delay of a call from component `from` to `to`, or `None` if a
    /// partition separates them (the call then fails, see [`Self::unreachable`]).
    pub(super) fn call_delay(
        &mut self,
        from: ComponentId,
        to: ComponentId,
        req: RequestId,
    ) -> Option<SimDuration> {
        if self.network.zero {
            return Some(SimDuration::ZERO);
        }
        if self.network.simple {
            return Some(
                self.network
                    .latency
                    .sample(&mut self.network.rngs[from.index()]),
            );
        }
        let (workload, trace) = (self.requests[req].workload, self.requests[req].trace);
        let traced = self.workloads[workload as usize].trace_bytes(trace).0;
        let bytes = self.network.request_bytes(from.0, workload, traced);
        match self.network.transit(from.0, to.0, bytes, self.sched.now()) {
            Transit::After(delay) => Some(delay),
            Transit::Unreachable => None,
        }
    }

    /// The response to `req` leaves component `from` (its hop already
    /// popped) towards the next hop out, or the caller, or the client.
    #[inline(never)]
    pub(super) fn respond_over_network(&mut self, from: ComponentId, req: RequestId) {
        let r = &self.requests[req];
        let to = match (r.hops.last(), r.parent) {
            (Some(hop), _) => hop.component.0,
            (None, Some(parent)) => parent.caller.0,
            (None, None) if r.origin == Origin::Client => {
                self.network.workload_endpoint(r.workload)
            }
            (None, None) => from.0,
        };
        let traced = self.workloads[r.workload as usize].trace_bytes(r.trace).1;
        let bytes = self.network.response_bytes(from.0, r.workload, traced);
        match self.network.transit(from.0, to, bytes, self.sched.now()) {
            Transit::After(delay) => self.sched.schedule_in(delay, Event::Respond { req }),
            Transit::Unreachable => self.unreachable(req),
        }
    }

    /// A message of `req` cannot cross a partition: after the connect
    /// timeout, its waiting side sees the request fail.
    pub(super) fn unreachable(&mut self, req: RequestId) {
        self.requests[req].outcome = Outcome::Failed;
        let after = self.network.unreachable_after();
        self.sched.schedule_in(after, Event::Respond { req });
    }
}

/// Whether a link or fault between `a` and `b` (either direction) covers a
/// message between endpoints `from` (in zone `za`) and `to` (in zone `zb`).
#[inline]
fn link_matches(a: Selector, b: Selector, from: u32, to: u32, za: ZoneId, zb: ZoneId) -> bool {
    let m = |s: Selector, e: u32, z: ZoneId| match s {
        Selector::Endpoint(x) => x == e,
        Selector::Zone(y) => y == z,
    };
    (m(a, from, za) && m(b, to, zb)) || (m(a, to, zb) && m(b, from, za))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Distribution, FaultSpec, LinkSpec};

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    /// Two components (`a` in us, `b` in eu) and one workload (in us).
    fn spec() -> ModelSpec {
        let mut s = ModelSpec::single_server(1.0, 1, Distribution::Constant(ms(1)), ms(1000));
        s.components.push(s.components[0].clone());
        s.components[1].name = "b".into();
        s.network.latency = Distribution::Constant(ms(1));
        s.network.zones = vec!["us".into(), "eu".into(), "ap".into()];
        s.network.zone_latency = vec![
            (1, 2, Distribution::Constant(ms(40))),
            (1, 3, Distribution::Constant(ms(70))),
            (2, 3, Distribution::Constant(ms(90))),
        ];
        s.network.component_zones = vec![1, 2];
        s.network.workload_zones = vec![1];
        s
    }

    fn after(t: Transit) -> u64 {
        match t {
            Transit::After(d) => d.as_nanos(),
            Transit::Unreachable => panic!("unreachable"),
        }
    }

    #[test]
    fn zone_matrix_is_symmetric_and_intra_zone_uses_the_default() {
        let mut n = Network::new(&spec()).unwrap();
        assert!(!n.simple && !n.zero);
        let t0 = SimTime::ZERO;
        assert_eq!(after(n.transit(0, 1, 0, t0)), ms(40).as_nanos());
        assert_eq!(after(n.transit(1, 0, 0, t0)), ms(40).as_nanos());
        assert_eq!(after(n.transit(2, 0, 0, t0)), ms(1).as_nanos());
        let mut rng = sysdes_kernel::derive_stream(1, "t", "t");
        assert_eq!(n.zone_delay(3, 2, &mut rng), ms(90));
        assert_eq!(n.zone_delay(2, 2, &mut rng), ms(1));
        assert_eq!(n.zone_delay(0, 1, &mut rng), ms(1));
        assert_eq!(n.workload_zone(0), 1);
        assert_eq!(n.endpoint_zone[1], 2, "component 1 is in eu");
    }

    #[test]
    fn links_override_most_specific_first_and_add_bandwidth_delay() {
        let mut s = spec();
        s.network.links = vec![
            LinkSpec {
                from: NetTarget::Zone(1),
                to: NetTarget::Zone(2),
                latency: Some(Distribution::Constant(ms(50))),
                loss: 0.0,
                retransmit: None,
                bandwidth: None,
            },
            LinkSpec {
                from: NetTarget::Workload(0),
                to: NetTarget::Component(ComponentId(1)),
                latency: None,
                loss: 0.0,
                retransmit: None,
                bandwidth: Some(1e9 / 8.0),
            },
        ];
        let mut n = Network::new(&s).unwrap();
        let t0 = SimTime::ZERO;
        // Component a -> b: the zone-zone link.
        assert_eq!(after(n.transit(0, 1, 1 << 20, t0)), ms(50).as_nanos());
        // Workload -> b: the endpoint link (no latency of its own: the zone
        // matrix's 40 ms) plus 1 MiB at 1 Gbit/s = 8.388608 ms.
        assert_eq!(after(n.transit(2, 1, 1 << 20, t0)), 40_000_000 + 8_388_608);
    }

    #[test]
    fn partitions_separate_groups_only_during_their_window() {
        let mut s = spec();
        s.faults = vec![FaultSpec {
            at: ms(100),
            duration: ms(50),
            kind: FaultKind::Partition(vec![
                vec![NetTarget::Zone(1)],
                vec![NetTarget::Zone(2), NetTarget::Zone(3)],
            ]),
        }];
        let mut n = Network::new(&s).unwrap();
        let at = |m| SimTime::ZERO + ms(m);
        assert!(n.reachable(1, 2, at(99)));
        assert!(!n.reachable(1, 2, at(100)));
        assert!(!n.reachable(3, 1, at(149)));
        assert!(n.reachable(2, 3, at(120)));
        assert!(
            n.reachable(0, 2, at(120)),
            "the default zone is in no group"
        );
        assert!(n.reachable(1, 2, at(150)));
        assert_eq!(n.transit(2, 1, 0, at(120)), Transit::Unreachable);
        assert_eq!(after(n.transit(2, 0, 0, at(120))), ms(1).as_nanos());
    }

    #[test]
    fn loss_adds_retransmits_with_geometric_mean() {
        let mut s = spec();
        s.faults = vec![FaultSpec {
            at: ms(0),
            duration: ms(1000),
            kind: FaultKind::Loss {
                from: NetTarget::Zone(1),
                to: NetTarget::Zone(1),
                rate: 0.2,
            },
        }];
        let mut n = Network::new(&s).unwrap();
        let draws = 200_000;
        let total: u64 = (0..draws)
            .map(|_| after(n.transit(2, 0, 0, SimTime::ZERO)) - ms(1).as_nanos())
            .sum();
        let mean = total as f64 / f64::from(draws);
        // Geometric: mean retransmissions p / (1 - p) = 0.25; 200 ms each.
        let expected = 0.25 * 200e6;
        assert!((mean / expected - 1.0).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn no_zones_or_faults_is_the_simple_path() {
        let s = ModelSpec::single_server(1.0, 1, Distribution::Constant(ms(1)), ms(10));
        let n = Network::new(&s).unwrap();
        assert!(n.simple && n.zero);
    }
}
