//! The replicated key-value store in the engine: a client request arrives at
//! the store, a coordinator (a replica's zone) sends messages to replicas
//! through the scheduler, replicas serve them in FIFO order, and the
//! coordinator answers the client once the leader or a quorum has replied.
//!
//! Messages and operations live in slabs owned by the store (see
//! `crate::kinds::store`); events carry their ids. Every message checks
//! reachability between its two zones when it arrives.

use sysdes_kernel::{ComponentId, SimDuration, SimTime};

use crate::kinds::store::spec::{PartitionPolicy, ReadFrom, Replication, StoreMode, StoreSpec};
use crate::kinds::store::{
    Class, Hint, LogEntry, Msg, MsgKind, NO_OP, NO_REQUEST, OpKind, Store, VERSION_SHIFT,
};
use crate::kinds::{Resolved, StoreId};
use crate::request::{Op, Outcome, RequestId};
use crate::simulation::{Event, Simulation};
use crate::spec::{FaultKind, ModelSpec};
use crate::station::{ACTIVE, StationMetrics, WAITING};

kind_events! {
    /// A replicated store's own events: the registry (`kinds/mod.rs`) makes each a
    /// variant of the engine's `Event`, handled by the method named.
    store_events {
        /// A replicated store's own event (a message, a replica's service, a fault).
        Store { store: crate::kinds::StoreId, ev: crate::kinds::store::sim::StoreEvent }
            => store_event @ store,
    }
}

/// How often kept hints are retried.
const HANDOFF_INTERVAL: SimDuration = SimDuration::from_millis(100);

/// A store's own events. Small: ids only.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StoreEvent {
    /// A message reaches its destination (a replica or the coordinator).
    Msg(u32),
    /// A replica's worker finishes a message.
    Served(u32),
    /// A probe read starts.
    Probe(u32),
    /// A replica crashes.
    Crash(u16),
    /// A replica comes back.
    Recover(u16),
    /// A new leader takes over.
    Failover,
    /// Kept hints are retried.
    Handoff,
}

impl Simulation {
    #[inline]
    fn st(&mut self, id: StoreId) -> &mut Store {
        &mut self.components[id]
    }

    /// Whether a message can travel between two zones now.
    #[inline]
    fn store_reachable(&self, from: u16, to: u16) -> bool {
        self.network.reachable(from, to, self.sched.now())
    }

    /// Schedules the crashes and recoveries of store replicas (called once
    /// at the start of a run). A whole-store crash (`crash: STORE`) is one
    /// replica crash per replica with its window, so every crash takes the
    /// one path of `crash: STORE.rI`; a replica is down for the union of
    /// its windows (those that overlap or touch are merged first).
    pub(crate) fn store_schedule_faults(&mut self) {
        // (store, replica, start, end), in the order of `faults` (a
        // whole-store crash in replica order).
        let mut windows: Vec<(StoreId, u16, SimTime, SimTime)> = Vec::new();
        for f in &self.spec.faults {
            let (store, first, last) = match f.kind {
                FaultKind::CrashReplica { store, replica } => (store, replica, replica),
                FaultKind::CrashStore(store) => (store, 0, u32::MAX),
                _ => continue,
            };
            let Some(Resolved::Store(store)) =
                (store.index() < self.components.len()).then(|| self.components.resolve(store))
            else {
                continue;
            };
            let n = self.components[store].n() as u32;
            let start = SimTime::ZERO + f.at;
            for r in first..=last.min(n.saturating_sub(1)) {
                windows.push((store, r as u16, start, start + f.duration));
            }
        }
        merge_windows(&mut windows);
        for (store, r, start, end) in windows {
            let ev = |ev| Event::Store { store, ev };
            self.sched.schedule_at(start, ev(StoreEvent::Crash(r)));
            self.sched.schedule_at(end, ev(StoreEvent::Recover(r)));
        }
    }

    /// A client request reaches the store.
    pub(crate) fn store_arrive(&mut self, id: StoreId, req: RequestId) {
        let now = self.sched.now();
        let r = &self.requests[req];
        let (key, op, session, counted, workload) = (r.key, r.op, r.session, r.counted, r.workload);
        let client_zone = self.network.workload_zone(workload);
        let s = self.st(id);
        if counted {
            s.metrics.arrivals += 1;
        }
        let kind = match op {
            Op::Read => OpKind::Read,
            Op::Write => OpKind::Write,
        };
        let o = s.new_op(req, kind, key, now);
        s.ops[o].session = session;
        self.store_start(id, o, Some(client_zone));
    }

    /// Handles one of the store's events.
    pub(crate) fn store_event(&mut self, id: StoreId, ev: StoreEvent) {
        match ev {
            StoreEvent::Msg(m) => self.store_msg_arrives(id, m),
            StoreEvent::Served(m) => self.store_served(id, m),
            StoreEvent::Probe(o) => self.store_start(id, o, None),
            StoreEvent::Crash(r) => self.store_crash(id, r),
            StoreEvent::Recover(r) => self.store_recover(id, r),
            StoreEvent::Failover => {
                let s = self.st(id);
                s.failover_pending = false;
                if s.elect().is_some() {
                    s.stats.failovers += 1;
                }
            }
            StoreEvent::Handoff => self.store_handoff(id),
        }
    }

    /// The replica a client in `zone` uses (any zone if `None`): the first
    /// alive one from `first` on, cyclically, in the client's own zone, else
    /// the first alive one it can reach.
    fn store_pick(&self, id: StoreId, first: u16, zone: Option<u16>) -> Option<u16> {
        let s = &self.components[id];
        let n = s.n();
        let order = || (0..n).map(move |k| ((first as usize + k) % n) as u16);
        // A replica in the client's own zone first (a local coordinator),
        // then any replica the client can reach.
        let local = zone.and_then(|z| {
            order().find(|&r| {
                let rep = &s.replicas[r as usize];
                rep.alive() && rep.zone == z && self.store_reachable(z, z)
            })
        });
        local.or_else(|| {
            order().find(|&r| {
                let rep = &s.replicas[r as usize];
                rep.alive() && zone.is_none_or(|z| self.store_reachable(z, rep.zone))
            })
        })
    }

    /// Replicas alive and reachable from `zone`, as a mask.
    fn store_reachable_mask(&self, id: StoreId, zone: u16) -> u64 {
        let s = &self.components[id];
        let mut mask = 0;
        for (r, rep) in s.replicas.iter().enumerate() {
            if rep.alive() && self.store_reachable(zone, rep.zone) {
                mask |= 1 << r;
            }
        }
        mask
    }

    /// Starts operation `o`: picks its coordinator and sends its messages.
    /// `client_zone` is `None` for a probe (any coordinator will do).
    fn store_start(&mut self, id: StoreId, o: u32, client_zone: Option<u16>) {
        let now = self.sched.now();
        let s = self.st(id);
        let op = s.ops[o];
        let is_write = op.kind == OpKind::Write;
        let (mode, policy) = (s.mode, s.on_partition);
        let first = s.route(op.session);
        let leader = s.leader;
        match mode {
            StoreMode::Leaderless => {
                let Some(coord) = self.store_pick(id, first, client_zone) else {
                    return self.store_complete(id, o, false);
                };
                let zone = self.st(id).replicas[coord as usize].zone;
                let mask = self.store_reachable_mask(id, zone);
                let s = self.st(id);
                let quorum = if is_write {
                    s.write_quorum
                } else {
                    s.read_quorum
                };
                let count = mask.count_ones() as u16;
                let needed = if count >= quorum {
                    quorum
                } else if policy == PartitionPolicy::Serve && count > 0 {
                    count
                } else {
                    s.ops[o].coord = coord;
                    s.ops[o].zone = zone;
                    return self.store_complete(id, o, false);
                };
                let mut order = [0u16; 64];
                let k = s.shuffle(mask, &mut order);
                let version = if is_write { s.timestamp(coord, now) } else { 0 };
                let all = s.all_replicas();
                let background = s.replication_delay.is_some();
                let hinted = s.hinted_handoff;
                let o_ = &mut s.ops[o];
                o_.coord = coord;
                o_.zone = zone;
                o_.needed = needed;
                if is_write {
                    o_.version = version;
                }
                let key = o_.key;
                for (i, &r) in order[..k].iter().enumerate() {
                    if !is_write {
                        self.store_send(
                            id,
                            msg(MsgKind::ReadReq, o, r, zone, key, 0),
                            SimDuration::ZERO,
                        );
                    } else if !background || i < needed as usize {
                        self.store_send(
                            id,
                            msg(MsgKind::WriteReq, o, r, zone, key, version),
                            SimDuration::ZERO,
                        );
                    } else {
                        let s = self.st(id);
                        let extra = match &s.replication_delay {
                            Some(d) => d.sample(&mut s.net_rng),
                            None => SimDuration::ZERO,
                        };
                        self.store_send(
                            id,
                            msg(MsgKind::Apply, NO_OP, r, zone, key, version),
                            extra,
                        );
                    }
                }
                if is_write && hinted {
                    let mut missing = all & !mask;
                    while missing != 0 {
                        let r = missing.trailing_zeros() as u16;
                        missing &= missing - 1;
                        self.store_hint(
                            id,
                            Hint {
                                replica: r,
                                from_zone: zone,
                                key,
                                version,
                                term: u32::MAX,
                            },
                        );
                    }
                }
            }
            StoreMode::Leader => {
                let Some(l) = leader else {
                    return self.store_complete(id, o, false);
                };
                let s = self.st(id);
                let (reads, n, w, replication) =
                    (s.reads, s.n() as u16, s.write_quorum, s.replication);
                let leader_zone = s.replicas[l as usize].zone;
                let leader_ok = s.replicas[l as usize].alive()
                    && client_zone.is_none_or(|z| self.store_reachable(z, leader_zone));
                let key = op.key;
                if is_write {
                    if !leader_ok {
                        return self.store_complete(id, o, false);
                    }
                    let followers = self.store_reachable_mask(id, leader_zone) & !(1 << l);
                    let holders = 1 + followers.count_ones() as u16;
                    let want = match replication {
                        Replication::Async => 1,
                        Replication::Sync => w.min(n),
                    };
                    let needed = if holders >= want {
                        want
                    } else if policy == PartitionPolicy::Serve {
                        holders
                    } else {
                        return self.store_complete(id, o, false);
                    };
                    let o_ = &mut self.st(id).ops[o];
                    o_.coord = l;
                    o_.zone = leader_zone;
                    o_.needed = needed;
                    self.store_send(
                        id,
                        msg(MsgKind::WriteReq, o, l, leader_zone, key, 0),
                        SimDuration::ZERO,
                    );
                } else {
                    let target = match reads {
                        ReadFrom::Leader if leader_ok => Some(l),
                        ReadFrom::Leader if policy == PartitionPolicy::Serve => {
                            self.store_pick(id, first, client_zone)
                        }
                        ReadFrom::Leader => None,
                        ReadFrom::Any => self.store_pick(id, first, client_zone),
                    };
                    let Some(t) = target else {
                        return self.store_complete(id, o, false);
                    };
                    let zone = self.st(id).replicas[t as usize].zone;
                    let o_ = &mut self.st(id).ops[o];
                    o_.coord = t;
                    o_.zone = zone;
                    o_.needed = 1;
                    self.store_send(
                        id,
                        msg(MsgKind::ReadReq, o, t, zone, key, 0),
                        SimDuration::ZERO,
                    );
                }
            }
        }
    }

    /// A one-way delay for a message of `class` between two zones.
    fn store_delay(&mut self, id: StoreId, class: Class, from: u16, to: u16) -> SimDuration {
        if from != to {
            // Egress: what a replicated write or a read answer carries.
            let store = self.components.id(id).0;
            let bytes = self.network.store_message_bytes(
                store,
                class == Class::WriteRequest,
                class == Class::ReadResponse,
            );
            let now = self.sched.now();
            self.network.count_zone_bytes(store, (from, to), bytes, now);
        }
        let Simulation {
            components,
            network,
            ..
        } = self;
        let s = &mut components[id];
        if let Some(d) = &s.delays[class as usize] {
            return d.sample(&mut s.net_rng);
        }
        network.zone_delay(from, to, &mut s.net_rng)
    }

    /// Sends a message (plus `extra` delay) and counts the reply it awaits.
    fn store_send(&mut self, id: StoreId, m: Msg, extra: SimDuration) {
        let class = match m.kind {
            MsgKind::WriteReq | MsgKind::Apply => Class::WriteRequest,
            MsgKind::WriteAck => Class::WriteAck,
            MsgKind::ReadReq => Class::ReadRequest,
            MsgKind::ReadResp => Class::ReadResponse,
        };
        let s = self.st(id);
        let to_zone = match m.kind {
            MsgKind::WriteAck | MsgKind::ReadResp => s.ops[m.op].zone,
            _ => s.replicas[m.replica as usize].zone,
        };
        let mut m = m;
        if m.kind == MsgKind::Apply && s.mode == StoreMode::Leader && m.term == u32::MAX {
            m.term = s.term;
        }
        if m.op != NO_OP
            && matches!(
                m.kind,
                MsgKind::WriteReq | MsgKind::ReadReq | MsgKind::Apply
            )
        {
            s.ops[m.op].pending += 1;
        }
        let handle = s.msgs.insert(m);
        let delay = self.store_delay(id, class, m.from_zone, to_zone) + extra;
        self.sched.schedule_in(
            delay,
            Event::Store {
                store: id,
                ev: StoreEvent::Msg(handle),
            },
        );
    }

    /// A message arrives at a replica or back at its coordinator.
    fn store_msg_arrives(&mut self, id: StoreId, m: u32) {
        let s = self.st(id);
        let msg = s.msgs[m];
        match msg.kind {
            MsgKind::WriteReq | MsgKind::ReadReq | MsgKind::Apply => {
                let r = msg.replica as usize;
                let (alive, zone) = (s.replicas[r].alive(), s.replicas[r].zone);
                let leader_mode = s.mode == StoreMode::Leader;
                let stale_term = leader_mode && msg.kind == MsgKind::Apply && msg.term != s.term;
                if stale_term {
                    return self.store_lost(id, m);
                }
                if !alive || !self.store_reachable(msg.from_zone, zone) {
                    let s = self.st(id);
                    if msg.kind == MsgKind::Apply
                        && msg.op == NO_OP
                        && (leader_mode || s.hinted_handoff)
                    {
                        let term = if leader_mode { msg.term } else { u32::MAX };
                        s.msgs.remove(m);
                        return self.store_hint(
                            id,
                            Hint {
                                replica: msg.replica,
                                from_zone: msg.from_zone,
                                key: msg.key,
                                version: msg.version,
                                term,
                            },
                        );
                    }
                    return self.store_lost(id, m);
                }
                let now = self.sched.now();
                let s = self.st(id);
                let rep = &mut s.replicas[r];
                s.msgs[m].epoch = rep.epoch;
                if rep.busy < s.workers {
                    rep.busy += 1;
                    s.metrics.levels.add(now, ACTIVE, 1);
                    self.store_serve(id, m);
                } else {
                    rep.queue.push_back(m);
                    s.metrics.levels.add(now, WAITING, 1);
                }
            }
            MsgKind::WriteAck | MsgKind::ReadResp => {
                let op = s.ops[msg.op];
                if !self.store_reachable(msg.from_zone, op.zone) {
                    return self.store_lost(id, m);
                }
                let s = self.st(id);
                s.msgs.remove(m);
                let o = &mut s.ops[msg.op];
                o.pending -= 1;
                o.got += 1;
                if msg.kind == MsgKind::ReadResp {
                    let bit = 1u64 << msg.replica;
                    o.answered |= bit;
                    if msg.version > o.version {
                        o.version = msg.version;
                        o.holders = bit;
                    } else if msg.version == o.version {
                        o.holders |= bit;
                    }
                }
                self.store_progress(id, msg.op);
            }
        }
    }

    /// A replica's worker starts on message `m`.
    fn store_serve(&mut self, id: StoreId, m: u32) {
        let s = self.st(id);
        let t = match s.msgs[m].kind {
            MsgKind::ReadReq => s.read_time.sample(&mut s.service_rng),
            _ => s.write_time.sample(&mut s.service_rng),
        };
        let t = s.faults.stretch(t);
        self.sched.schedule_in(
            t,
            Event::Store {
                store: id,
                ev: StoreEvent::Served(m),
            },
        );
    }

    /// A replica's worker finishes message `m`.
    fn store_served(&mut self, id: StoreId, m: u32) {
        let now = self.sched.now();
        let s = self.st(id);
        let msg = s.msgs[m];
        let r = msg.replica as usize;
        if s.replicas[r].epoch != msg.epoch {
            // The replica crashed while serving it.
            return self.store_lost(id, m);
        }
        if let Some(next) = s.replicas[r].queue.pop_front() {
            s.metrics.levels.add(now, WAITING, -1);
            self.store_serve(id, next);
        } else {
            s.replicas[r].busy -= 1;
            s.metrics.levels.add(now, ACTIVE, -1);
        }
        let s = self.st(id);
        let zone = s.replicas[r].zone;
        match msg.kind {
            MsgKind::WriteReq if s.mode == StoreMode::Leader => {
                if s.leader != Some(msg.replica) {
                    return self.store_lost(id, m);
                }
                let req = s.ops[msg.op].req;
                let counted = req != NO_REQUEST && self.requests[req].counted;
                let s = self.st(id);
                let version = s.leader_version(msg.replica, now);
                s.replicas[r].apply(msg.key, version);
                let serial = s.ops[msg.op].serial;
                s.ops[msg.op].version = version;
                s.log.push_back(LogEntry {
                    key: msg.key,
                    version,
                    holders: 1 << r,
                    op: msg.op,
                    serial,
                    acked: false,
                    counted,
                });
                let sync = s.replication == Replication::Sync;
                let term = s.term;
                let n = s.n();
                for f in 0..n as u16 {
                    if f as usize == r {
                        continue;
                    }
                    let s = self.st(id);
                    let fz = s.replicas[f as usize].zone;
                    let ok = s.replicas[f as usize].alive();
                    let extra_fixed = s.replication_delay.is_some();
                    if ok && self.store_reachable(zone, fz) {
                        let op = if sync { msg.op } else { NO_OP };
                        let mut a = msg_of(MsgKind::Apply, op, f, zone, msg.key, version);
                        a.term = term;
                        // The replication delay replaces the write_request
                        // delay. The channel to each follower is FIFO (a
                        // replication log): no message overtakes an earlier one.
                        let d = if extra_fixed {
                            let s = self.st(id);
                            match &s.replication_delay {
                                Some(d) => d.sample(&mut s.net_rng),
                                None => SimDuration::ZERO,
                            }
                        } else {
                            self.store_delay(id, Class::WriteRequest, zone, fz)
                        };
                        let s = self.st(id);
                        let channel = &mut s.replicas[f as usize].log_arrival;
                        let at = (now + d).max(*channel);
                        *channel = at;
                        self.store_send_direct(id, a, at - now);
                    } else {
                        self.store_hint(
                            id,
                            Hint {
                                replica: f,
                                from_zone: zone,
                                key: msg.key,
                                version,
                                term,
                            },
                        );
                    }
                }
                self.store_reply(id, m, MsgKind::WriteAck, version, zone);
            }
            MsgKind::WriteReq => {
                s.replicas[r].apply(msg.key, msg.version);
                self.store_reply(id, m, MsgKind::WriteAck, msg.version, zone);
            }
            MsgKind::Apply => {
                s.replicas[r].apply(msg.key, msg.version);
                if s.mode == StoreMode::Leader {
                    s.log_replicated(msg.version, msg.replica);
                    let written = SimTime::from_nanos(msg.version >> VERSION_SHIFT);
                    s.stats.lag.record(now.saturating_since(written));
                }
                if msg.op != NO_OP {
                    self.store_reply(id, m, MsgKind::WriteAck, msg.version, zone);
                } else {
                    s.msgs.remove(m);
                }
            }
            MsgKind::ReadReq => {
                let v = s.replicas[r].get(msg.key);
                self.store_reply(id, m, MsgKind::ReadResp, v, zone);
            }
            MsgKind::WriteAck | MsgKind::ReadResp => {}
        }
    }

    /// Sends an already-built message whose delay is exactly `delay`.
    fn store_send_direct(&mut self, id: StoreId, m: Msg, delay: SimDuration) {
        let s = self.st(id);
        if m.op != NO_OP {
            s.ops[m.op].pending += 1;
        }
        let handle = s.msgs.insert(m);
        self.sched.schedule_in(
            delay,
            Event::Store {
                store: id,
                ev: StoreEvent::Msg(handle),
            },
        );
    }

    /// Turns message `m` into its reply and sends it to the coordinator.
    fn store_reply(&mut self, id: StoreId, m: u32, kind: MsgKind, version: u64, zone: u16) {
        let s = self.st(id);
        let msg = &mut s.msgs[m];
        msg.kind = kind;
        msg.version = version;
        msg.from_zone = zone;
        let msg = *msg;
        let to_zone = s.ops[msg.op].zone;
        let class = if kind == MsgKind::WriteAck {
            Class::WriteAck
        } else {
            Class::ReadResponse
        };
        let delay = self.store_delay(id, class, zone, to_zone);
        self.sched.schedule_in(
            delay,
            Event::Store {
                store: id,
                ev: StoreEvent::Msg(m),
            },
        );
    }

    /// Message `m` is lost (crash, partition, deposed leader).
    fn store_lost(&mut self, id: StoreId, m: u32) {
        let s = self.st(id);
        let msg = s.msgs[m];
        s.msgs.remove(m);
        if msg.op != NO_OP {
            s.ops[msg.op].pending -= 1;
            self.store_progress(id, msg.op);
        }
    }

    /// Completes operation `o` once it has enough replies or can no longer
    /// get them; frees it once no reply is outstanding.
    fn store_progress(&mut self, id: StoreId, o: u32) {
        let op = self.st(id).ops[o];
        if !op.done {
            if op.got >= op.needed {
                self.store_complete(id, o, true);
            } else if op.got + op.pending < op.needed {
                self.store_complete(id, o, false);
            }
        }
    }

    /// Answers operation `o`'s client (or records a probe's result).
    fn store_complete(&mut self, id: StoreId, o: u32, ok: bool) {
        let now = self.sched.now();
        let window_start = self.window_start;
        let s = self.st(id);
        s.ops[o].done = true;
        let op = s.ops[o];
        let counted = if op.req == NO_REQUEST {
            op.started >= window_start
        } else {
            self.requests[op.req].counted
        };
        let s = self.st(id);
        match (op.kind, ok) {
            (OpKind::Write, true) => {
                let info = s.keys.entry(op.key).or_default();
                info.ack(op.version);
                let history = info.acked;
                if s.mode == StoreMode::Leader {
                    s.log_acked(op.version);
                }
                if counted {
                    s.stats.writes += 1;
                    if op.lost {
                        s.stats.lost_writes += 1;
                    }
                }
                s.tracker
                    .write_acked(op.session, op.key, op.version, op.started, now);
                if op.lost && counted {
                    s.failover_lost.push((op.key, op.version));
                }
                if let Some(after) = s.probe_after {
                    let p = s.new_op(NO_REQUEST, OpKind::Probe, op.key, now + after);
                    s.ops[p].history = history;
                    self.sched.schedule_in(
                        after,
                        Event::Store {
                            store: id,
                            ev: StoreEvent::Probe(p),
                        },
                    );
                }
            }
            (OpKind::Write, false) => {
                if counted {
                    s.stats.failed_writes += 1;
                }
                s.tracker.write_failed(op.started);
            }
            (OpKind::Read, true) => {
                if counted {
                    s.stats.reads += 1;
                    if op.version < op.required {
                        s.stats.stale_reads += 1;
                    }
                    if op.version > 0 {
                        let written = SimTime::from_nanos(op.version >> VERSION_SHIFT);
                        s.stats.read_age.record(now.saturating_since(written));
                    }
                }
                s.tracker
                    .read_done(op.session, op.key, op.version, op.started, now);
            }
            (OpKind::Read, false) => {
                if counted {
                    s.stats.failed_reads += 1;
                }
                s.tracker.read_failed(op.started);
            }
            (OpKind::Probe, _) => {
                if counted && ok {
                    let st = &mut s.stats;
                    st.probes += 1;
                    st.probe_fresh += u64::from(op.version >= op.history[0]);
                    st.probe_within2 += u64::from(op.version >= op.history[1]);
                    st.probe_within3 += u64::from(op.version >= op.history[2]);
                }
            }
        }
        if op.req != NO_REQUEST {
            let s = self.st(id);
            if counted {
                s.metrics.completions += 1;
                s.metrics.latency.record(now - op.started);
            }
            let r = &mut self.requests[op.req];
            r.version = op.version;
            r.outcome = if ok { Outcome::Ok } else { Outcome::Failed };
            self.respond(op.req);
        }
        self.store_maybe_free(id, o);
    }

    /// Frees a finished operation with no reply outstanding, repairing the
    /// replicas a read found stale first.
    fn store_maybe_free(&mut self, id: StoreId, o: u32) {
        let s = self.st(id);
        let op = s.ops[o];
        if !op.done || op.pending > 0 {
            return;
        }
        s.ops.remove(o);
        if s.read_repair && op.kind != OpKind::Write && op.version > 0 {
            let mut stale = op.answered & !op.holders;
            while stale != 0 {
                let r = stale.trailing_zeros() as u16;
                stale &= stale - 1;
                self.st(id).stats.repairs += 1;
                self.store_send(
                    id,
                    msg(MsgKind::Apply, NO_OP, r, op.zone, op.key, op.version),
                    SimDuration::ZERO,
                );
            }
        }
    }

    /// Keeps a write for a replica that cannot take it now.
    fn store_hint(&mut self, id: StoreId, hint: Hint) {
        let s = self.st(id);
        s.hints.push(hint);
        if !s.handoff_scheduled {
            s.handoff_scheduled = true;
            self.sched.schedule_in(
                HANDOFF_INTERVAL,
                Event::Store {
                    store: id,
                    ev: StoreEvent::Handoff,
                },
            );
        }
    }

    /// Delivers every kept hint whose replica is back in reach.
    fn store_handoff(&mut self, id: StoreId) {
        let s = self.st(id);
        s.handoff_scheduled = false;
        let leader_mode = s.mode == StoreMode::Leader;
        let term = s.term;
        let mut hints = std::mem::take(&mut s.hints);
        let mut i = 0;
        while i < hints.len() {
            let h = hints[i];
            let s = self.st(id);
            let rep = &s.replicas[h.replica as usize];
            let (alive, zone) = (rep.alive(), rep.zone);
            if leader_mode && h.term != term {
                hints.swap_remove(i);
            } else if alive && self.store_reachable(h.from_zone, zone) {
                hints.swap_remove(i);
                self.st(id).stats.hints_delivered += 1;
                let mut m = msg(
                    MsgKind::Apply,
                    NO_OP,
                    h.replica,
                    h.from_zone,
                    h.key,
                    h.version,
                );
                m.term = h.term;
                self.store_send(id, m, SimDuration::ZERO);
            } else {
                i += 1;
            }
        }
        let s = self.st(id);
        // Hints added while delivering (none: sends do not hint) join the rest.
        hints.append(&mut s.hints);
        s.hints = hints;
        if !s.hints.is_empty() && !s.handoff_scheduled {
            s.handoff_scheduled = true;
            self.sched.schedule_in(
                HANDOFF_INTERVAL,
                Event::Store {
                    store: id,
                    ev: StoreEvent::Handoff,
                },
            );
        }
    }

    /// Replica `r` crashes: its queue and the work in hand are lost; a
    /// crashed leader is replaced after the failover timeout.
    fn store_crash(&mut self, id: StoreId, r: u16) {
        let now = self.sched.now();
        let s = self.st(id);
        let rep = &mut s.replicas[r as usize];
        if !rep.alive() {
            return;
        }
        rep.faults.crashed = true;
        rep.epoch += 1;
        let (busy, queued) = (rep.busy, rep.queue.len());
        rep.busy = 0;
        // The store as a whole is down (to a DNS health check) once every
        // replica is.
        s.faults.crashed = s.replicas.iter().all(|r| !r.alive());
        s.metrics.levels.add(now, ACTIVE, -i64::from(busy));
        s.metrics.levels.add(now, WAITING, -(queued as i64));
        while let Some(m) = self.st(id).replicas[r as usize].queue.pop_front() {
            self.store_lost(id, m);
        }
        let s = self.st(id);
        if s.mode == StoreMode::Leader && s.leader == Some(r) {
            // Its term ends: replication it had not yet delivered is lost
            // (`replication_delay` is the lag of its outgoing log).
            s.leader = None;
            s.term += 1;
            if !s.failover_pending {
                s.failover_pending = true;
                let after = s.failover_timeout;
                self.sched.schedule_in(
                    after,
                    Event::Store {
                        store: id,
                        ev: StoreEvent::Failover,
                    },
                );
            }
        }
    }

    /// Replica `r` comes back: in leader mode it resynchronises from the
    /// leader (discarding writes the leader lacks).
    fn store_recover(&mut self, id: StoreId, r: u16) {
        let s = self.st(id);
        if s.replicas[r as usize].alive() {
            return;
        }
        s.replicas[r as usize].faults.crashed = false;
        s.replicas[r as usize].epoch += 1;
        s.faults.crashed = false;
        if s.mode != StoreMode::Leader {
            return;
        }
        match s.leader {
            Some(l) => {
                let (data, newest) = {
                    let lead = &s.replicas[l as usize];
                    (lead.data.clone(), lead.newest)
                };
                s.replicas[r as usize].data = data;
                s.replicas[r as usize].newest = newest;
            }
            None if !s.failover_pending => {
                s.failover_pending = true;
                let after = s.failover_timeout;
                self.sched.schedule_in(
                    after,
                    Event::Store {
                        store: id,
                        ev: StoreEvent::Failover,
                    },
                );
            }
            None => {}
        }
    }
}

/// Builds store `id` of `spec`: resolves its zones, derives its streams and
/// declares every fault window to its consistency tracker.
pub(crate) fn build(
    spec: &ModelSpec,
    id: ComponentId,
    st: &StoreSpec,
    metrics: StationMetrics,
) -> Result<Store, String> {
    let name = &spec.components[id.index()].name;
    let mut zones = Vec::with_capacity(st.zones.len());
    for z in &st.zones {
        match spec.network.zones.iter().position(|n| n == z) {
            Some(i) => zones.push(i as u16 + 1),
            None => return Err(format!("store zone `{z}` is not a zone of the network")),
        }
    }
    let window = (SimTime::ZERO + spec.warmup, SimTime::ZERO + spec.duration);
    let mut store = Store::new(
        st,
        &zones,
        |purpose| sysdes_kernel::derive_stream(spec.seed, name, purpose),
        metrics,
        window,
    )?;
    for f in &spec.faults {
        let start = SimTime::ZERO + f.at;
        store.tracker.add_fault_window(start, start + f.duration);
    }
    Ok(store)
}

/// Merges the crash windows of each replica (`(store, replica, start,
/// end)`) that overlap or touch into the earliest listed of them, so a
/// replica is down for their union; the order of what remains is kept.
fn merge_windows<S: PartialEq + Copy>(windows: &mut Vec<(S, u16, SimTime, SimTime)>) {
    let mut i = 0;
    while i < windows.len() {
        let mut grew = false;
        let mut j = i + 1;
        while j < windows.len() {
            let (a, b) = (windows[i], windows[j]);
            if a.0 == b.0 && a.1 == b.1 && b.2 <= a.3 && a.2 <= b.3 {
                windows[i].2 = a.2.min(b.2);
                windows[i].3 = a.3.max(b.3);
                windows.remove(j);
                grew = true;
            } else {
                j += 1;
            }
        }
        // A window that grew may now reach one it had passed.
        if !grew {
            i += 1;
        }
    }
}

/// A message that awaits a reply for op `op` (or none).
fn msg(kind: MsgKind, op: u32, replica: u16, from_zone: u16, key: u64, version: u64) -> Msg {
    msg_of(kind, op, replica, from_zone, key, version)
}

fn msg_of(kind: MsgKind, op: u32, replica: u16, from_zone: u16, key: u64, version: u64) -> Msg {
    Msg {
        kind,
        op,
        replica,
        from_zone,
        key,
        version,
        epoch: 0,
        term: u32::MAX,
    }
}

impl crate::kinds::Kind for crate::kinds::store::Store {
    type Spec = StoreSpec;

    fn build(
        ctx: &mut crate::kinds::BuildCtx<'_>,
        st: &Self::Spec,
    ) -> Result<Self, crate::error::BuildError> {
        let mut store = build(ctx.spec, ctx.id, st, ctx.metrics()).map_err(|e| ctx.invalid(e))?;
        // A store bins its stale reads by the series' intervals.
        store.tracker.set_interval(ctx.series_interval);
        Ok(store)
    }

    fn station(&self) -> &StationMetrics {
        &self.metrics
    }

    fn result_type(&self) -> (crate::figures::ComponentType, u32) {
        (
            crate::figures::ComponentType::Store,
            self.workers * self.n() as u32,
        )
    }

    fn kind_figures(&self) -> crate::figures::KindFigures {
        crate::figures::KindFigures::Store(Box::new(crate::figures::StoreFigures {
            consistency: Some(self.consistency()),
            ..self.figures()
        }))
    }

    fn gauge_names(&self, name: &str, out: &mut Vec<String>) {
        out.push(format!("{name}.stale_read_rate"));
    }

    fn gauges(&self, now: SimTime, out: &mut Vec<f64>) {
        out.push(self.tracker.interval_stale_rate(now));
    }

    /// The store's slowdown state, and `crashed` while every replica is
    /// down (what a DNS health check reads). Its replicas' crashes
    /// (`crash: STORE.rI`, and the whole store's `crash: STORE`) are
    /// handled by the store itself, one replica at a time.
    fn fault_state(&mut self) -> Option<&mut crate::station::FaultState> {
        Some(&mut self.faults)
    }

    #[inline]
    fn arrive(sim: &mut Simulation, at: Self::Id, req: RequestId) {
        sim.store_arrive(at, req);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(replica: u16, start_ms: u64, end_ms: u64) -> (u8, u16, SimTime, SimTime) {
        let t = |ms| SimTime::ZERO + SimDuration::from_millis(ms);
        (0, replica, t(start_ms), t(end_ms))
    }

    /// Overlapping and touching windows of one replica merge into the first
    /// listed (a chain through a later window too); other replicas' windows
    /// and disjoint ones stay, in order.
    #[test]
    fn a_replica_is_down_for_the_union_of_its_windows() {
        let mut v = vec![
            w(0, 4_000, 6_000),
            w(1, 5_000, 7_000),
            w(0, 5_000, 7_000),
            w(0, 9_000, 10_000),
            w(2, 1_000, 2_000),
            w(0, 7_000, 8_000),
            w(2, 2_000, 3_000),
        ];
        merge_windows(&mut v);
        assert_eq!(
            v,
            [
                w(0, 4_000, 8_000),
                w(1, 5_000, 7_000),
                w(0, 9_000, 10_000),
                w(2, 1_000, 3_000),
            ]
        );
        // A later window that bridges two earlier ones joins them.
        let mut v = vec![w(0, 0, 2_000), w(0, 3_000, 5_000), w(0, 1_000, 4_000)];
        merge_windows(&mut v);
        assert_eq!(v, [w(0, 0, 5_000)]);
    }
}
