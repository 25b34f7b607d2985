//! The engine: one `Simulation` owns the world (`world.rs`) and runs the event loop.
//!
//! Events are ordered by `(time, sequence number)`; the sequence number is assigned when an
//! event is scheduled, so ties are broken by scheduling order and never by addresses or hash
//! order. The loop pops the earliest event, advances time to it and dispatches it. It stops at
//! the end of the run's simulated time or after `events_max` events, whichever comes first
//! (or, in an event storm, when a handler would queue more than `queued_max` events at once).
//!
//! Per-event work on the hot path (a message delivery): one heap pop, one status check, one
//! partition check (skipped when no partition is active), one trace record (its words folded
//! into the hash), the handler, and for each send one route decision, one trace record and
//! one heap push (`World::route`, `World::arrive` in `world.rs`). Nothing is allocated except
//! the message itself; nothing is formatted unless a trace file is attached.
//!
//! The fault plan's actions are numbered at the start of the run, in plan order, but enter
//! the queue one at a time, each when the one before it is dispatched (`queue_next_fault`): the order
//! of events is the same as if all were queued at the start, and the heap every event passes
//! through is smaller by the plan's length. So a storm's `queued_max` counts the events
//! handlers and clients queued, and at most one fault action.

use crate::client::{Clients, Issue, Reply, Timeout};
use crate::clock::Clock;
use crate::config::{Fault, SimConfig};
use crate::coverage::{engine, Coverage};
use crate::faults::StorageFault;
use crate::faults::{self, Action, Planned};
use crate::history::{History, Outcome};
use crate::ids::{ClientId, Endpoint, NodeId, RequestId, TimerId};
use crate::network::Network;
use crate::process::{Context, Process};
use crate::queue::Popped;
use crate::rng::{SimRng, StreamLabel};
use crate::storage::Storage;
use crate::time::SimDuration;
use crate::time::SimTime;
use crate::timers::Timers;
use crate::trace::Record;
use crate::world::{Armed, Disk, Ev, NodeRt, Observed, Replay, World};

pub use crate::faults::FaultRecord;
pub use crate::world::{NodeStatus, Stats};

/// Everything a run produced that checkers and reports may read.
#[derive(Debug)]
pub struct RunResult<O> {
    pub seed: u64,
    pub trace_hash: u64,
    pub stats: Stats,
    /// Simulated time when the run stopped.
    pub end: SimTime,
    /// True when the run stopped because it reached `events_max`.
    pub hit_events_max: bool,
    /// True when the run stopped because a handler would have queued more than
    /// [`SimConfig::queued_max`] events at once (an event storm); `end` is when.
    pub hit_queued_max: bool,
    pub history: History,
    pub observations: Vec<Observed<O>>,
    pub fault_log: Vec<(SimTime, FaultRecord)>,
    pub final_status: Vec<NodeStatus>,
    /// Start of the liveness phase, if the scenario has one.
    pub liveness_start: Option<SimTime>,
    /// The running trace hash after each event, when requested (for divergence reports).
    pub running_hashes: Option<Vec<u64>>,
    /// Every event's hashed words, recorded with the running hashes.
    pub event_log: Option<crate::trace::EventLog>,
    /// The fault plan that was applied (schedule and nemesis), in time order.
    pub plan: Vec<Planned>,
    pub node_count: u32,
    pub client_count: u32,
    /// The event kept by [`Simulation::capture_event`], as JSON lines.
    pub captured: Vec<String>,
    /// The situations reached (see [`crate::coverage`]); not part of the trace hash.
    pub coverage: Coverage,
}

impl<O> RunResult<O> {
    /// A run of `node_count` nodes that recorded only `observations`, `(time, node, value)`,
    /// and stopped at `end`: no history, faults, trace or coverage. For testing a check on a
    /// crafted run (dsim's own checks do; so can a user's); set other fields with struct
    /// update syntax: `RunResult { fault_log, ..RunResult::observed(3, end, obs) }`.
    pub fn observed(
        node_count: u32,
        end: SimTime,
        observations: impl IntoIterator<Item = (SimTime, NodeId, O)>,
    ) -> RunResult<O> {
        RunResult {
            seed: 0,
            trace_hash: 0,
            stats: Stats::default(),
            end,
            hit_events_max: false,
            hit_queued_max: false,
            history: History::default(),
            observations: observations
                .into_iter()
                .map(|(time, node, value)| Observed { time, node, value })
                .collect(),
            fault_log: Vec::new(),
            final_status: Vec::new(),
            liveness_start: None,
            running_hashes: None,
            event_log: None,
            plan: Vec::new(),
            node_count,
            client_count: 0,
            captured: Vec::new(),
            coverage: Coverage::default(),
        }
    }

    /// When the last fault ended: the latest heal-type record, or time zero.
    pub fn last_heal(&self) -> SimTime {
        self.fault_log
            .iter()
            .filter(|(_, r)| r.is_heal())
            .map(|(t, _)| *t)
            .max()
            .unwrap_or(SimTime::ZERO)
    }
}

/// Builds a fresh process for a node: at the start and after every restart.
pub type Factory<P> = Box<dyn FnMut(NodeId) -> P>;

/// One simulation run.
pub struct Simulation<P: Process> {
    world: World<P>,
    procs: Vec<Option<P>>,
    factory: Factory<P>,
    plan: Vec<Planned>,
    /// The sequence number of the plan's first action; action `i` has `plan_seq + i`.
    plan_seq: u64,
    /// The plan's first action not yet queued.
    plan_next: usize,
    config: SimConfig,
}

impl<P: Process> Simulation<P> {
    /// Builds the world for `config`; `factory` creates each node's process.
    ///
    /// # Panics
    ///
    /// When `config` fails [`SimConfig::check`] (a node id out of range, a probability outside
    /// `[0, 1]`, …); the message names the field.
    pub fn new(config: SimConfig, mut factory: impl FnMut(NodeId) -> P + 'static) -> Simulation<P> {
        if let Err(e) = config.check() {
            panic!("invalid SimConfig: {e}");
        }
        let seed = config.seed;
        let n = config.node_count;
        let mut clock_rng = SimRng::new(seed, StreamLabel::Clocks);
        let perfect = config.clocks.offset_max.0 == 0 && config.clocks.drift_ppm_max == 0;
        let nodes = (0..n)
            .map(|i| {
                let clock = if perfect {
                    Clock::PERFECT
                } else {
                    let om = config.clocks.offset_max.0.min(i64::MAX as u64 / 2);
                    let dm = u64::from(config.clocks.drift_ppm_max);
                    Clock {
                        offset_ns: clock_rng.range_inclusive(0, 2 * om) as i64 - om as i64,
                        drift_ppm: (clock_rng.range_inclusive(0, 2 * dm) as i64 - dm as i64) as i32,
                    }
                };
                let mut storage = Storage::default();
                if config.storage.disk(NodeId(i)).per_byte > SimDuration::ZERO {
                    storage.meter_reads(Storage::<P::StoreKey, P::StoreValue>::record_bytes);
                }
                NodeRt {
                    clock,
                    storage,
                    timers: Timers::default(),
                    armed: Armed::default(),
                }
            })
            .collect();
        // Disks exist only when some node's disk takes time: a free disk costs nothing.
        let disks = if config.storage.is_free() {
            Vec::new()
        } else {
            (0..n)
                .map(|i| {
                    let model = config.storage.disk(NodeId(i));
                    Disk::new(model, SimRng::new(seed, StreamLabel::Disk(i)))
                })
                .collect()
        };
        let clients = Clients::new(seed, &config.clients, n, config.duration);
        let net = Network::new(
            n,
            clients.count(),
            &config.topology,
            &config.network,
            SimRng::new(seed, StreamLabel::Network),
        );
        let mut plan = faults::plan(
            seed,
            n,
            config.duration,
            &config.faults,
            config.nemesis.as_ref(),
            &config.network.default,
        );
        if config.liveness.is_some() {
            faults::end_at_liveness(&mut plan, SimTime(config.duration.0));
        }
        let procs = (0..n).map(|i| Some(factory(NodeId(i)))).collect();
        let replays = plan
            .iter()
            .any(|p| matches!(p.action, Action::Apply(Fault::Replay { .. }, _)));
        let replay = Replay::new(replays, SimRng::new(seed, StreamLabel::Faults));
        let mut world = World::new(seed, nodes, net, clients, disks, replay);
        world.queue.set_limit(config.queued_max);
        Simulation {
            world,
            procs,
            factory: Box::new(factory),
            plan,
            plan_seq: 0,
            plan_next: 0,
            config,
        }
    }

    /// Writes the trace as JSON Lines to `w`.
    pub fn trace_to(&mut self, w: Box<dyn std::io::Write>) {
        self.world.tracer.set_writer(w);
    }

    /// Records the running hash after every event (to locate a divergence between two runs).
    pub fn record_running_hashes(&mut self) {
        self.world.tracer.keep_log();
    }

    /// Keeps the JSON text of the `index`-th hashed event; see [`RunResult::captured`].
    pub fn capture_event(&mut self, index: u64) {
        self.world.tracer.capture(index);
    }

    /// Records observations into `log` and the clients' history into `ops` (both emptied
    /// first): a caller running many seeds hands back the previous run's vectors so that they
    /// need not grow again. Only their capacity is used; the run is the same.
    pub fn reuse_buffers(
        &mut self,
        mut log: Vec<Observed<P::Observation>>,
        mut ops: Vec<crate::Operation>,
    ) {
        log.clear();
        ops.clear();
        self.world.observations = log;
        self.world.clients.history.ops = ops;
    }

    /// The fault plan this run will apply.
    pub fn plan(&self) -> &[Planned] {
        &self.plan
    }

    /// The local clock of each node (offset and drift as drawn).
    pub fn clock(&self, node: NodeId) -> Clock {
        self.world.nodes[node.index()].clock
    }

    /// Runs to the end and returns what happened. Trace-file I/O errors are returned after the
    /// run completes (the run itself never fails).
    pub fn run(mut self) -> (RunResult<P::Observation>, std::io::Result<()>) {
        let end = SimTime(self.config.end_time().0);
        let events_max = self.config.events_max;
        // Boot every node, then schedule faults, the phase change and the clients.
        for i in 0..self.world.node_count {
            self.with_proc(NodeId(i), |p, ctx| p.on_start(ctx));
        }
        self.start_plan();
        if self.config.liveness.is_some() {
            self.world
                .push(SimTime(self.config.duration.0), Ev::Liveness);
        }
        let open_loop = self.world.clients.open_loop();
        for (c, at) in self.world.clients.first_ticks() {
            let ev = if open_loop {
                Ev::ClientArrival(c)
            } else {
                Ev::ClientTick(c)
            };
            self.world.push(at, ev);
        }
        let mut hit_events_max = false;
        while let Some(time) = self.world.queue.peek_time() {
            if time > end.0 {
                break;
            }
            if self.world.stats.events >= events_max {
                hit_events_max = true;
                break;
            }
            let popped = self.world.queue.pop_key().expect("peeked");
            self.dispatch(popped);
        }
        // A full queue empties the heap, which ends the loop above (see `queue`).
        let hit_queued_max = self.world.queue.overflowed();
        if !hit_events_max && !hit_queued_max {
            self.world.now = self.world.now.max(end);
        }
        // Every compact event is a message.
        let queue = &self.world.queue;
        self.world.stats.in_flight_at_end = (queue.compact_len()
            + queue
                .others()
                .filter(|e| matches!(e, Ev::Msg { .. } | Ev::ToNode { .. } | Ev::ToClient { .. }))
                .count()
            + self.world.clog.held.len()) as u64;
        let io = self.world.tracer.finish();
        let captured = self.world.tracer.captured();
        let (running_hashes, event_log) = self.world.tracer.take_log();
        let world = self.world;
        let client_count = world.clients.count();
        let final_status = world.statuses();
        let result = RunResult {
            seed: self.config.seed,
            trace_hash: world.tracer.digest(),
            stats: world.stats,
            end: world.now,
            hit_events_max,
            hit_queued_max,
            history: world.clients.history,
            observations: world.observations,
            fault_log: world.fault_log,
            final_status,
            liveness_start: self
                .config
                .liveness
                .map(|_| SimTime(self.config.duration.0)),
            running_hashes,
            event_log,
            plan: self.plan,
            node_count: world.node_count,
            client_count,
            captured,
            coverage: world.coverage,
        };
        (result, io)
    }

    #[inline]
    fn with_proc(&mut self, node: NodeId, f: impl FnOnce(&mut P, &mut Context<'_, P>)) {
        let p = self.procs[node.index()]
            .as_mut()
            .expect("handler called on a crashed node");
        let mut ctx = Context {
            world: &mut self.world,
            node,
        };
        f(p, &mut ctx);
        if !self.world.disks.is_empty() {
            self.world.charge_reads(node);
        }
    }

    /// A node's status now. A pause that is due to end is ended here, before any event held
    /// back by it is dispatched: held events keep their (older) sequence numbers, so they pop
    /// before the `Resume` event scheduled for the same instant.
    #[inline]
    fn status(&mut self, node: NodeId) -> NodeStatus {
        let status = self.world.status(node.index());
        if let NodeStatus::Paused(until) = status {
            if self.world.now >= until {
                self.world.set_status(node.index(), NodeStatus::Up);
                self.world.log_fault(FaultRecord::Resume(node));
                return NodeStatus::Up;
            }
        }
        status
    }

    /// Re-queues an event for a paused node at its resume time, keeping its sequence number
    /// so that events held back by one pause are released in their original order.
    fn hold(&mut self, until: SimTime, seq: u64, ev: Ev<P>) {
        match &ev {
            Ev::Msg { dst, .. } | Ev::ToNode { dst, .. } => {
                self.world.reach(engine::MESSAGE_TO_PAUSED, Some(*dst));
            }
            _ => {}
        }
        self.world.queue.push(until.0, seq, ev);
    }

    /// Advances time to the event `popped` keys and handles it. Time never moves backward:
    /// every event is scheduled at or after the instant that scheduled it, so an earlier one is
    /// an engine bug. A node-to-node message is taken from the queue's compact slab as its
    /// parts, never built into an event: its payload is moved once, out of its slot.
    #[inline(always)]
    fn dispatch(&mut self, popped: Popped) {
        let (time, seq) = (popped.time(), popped.seq());
        assert!(
            time >= self.world.now.0,
            "simulated time moved backward: event #{seq} at {} dispatched at {}",
            SimTime(time),
            self.world.now
        );
        self.world.now = SimTime(time);
        if popped.is_compact() {
            let (src, dst, msg) = self.world.queue.take_compact(popped).into_parts();
            return self.deliver(src, dst, seq, msg);
        }
        match self.world.queue.take_other(popped) {
            Ev::Msg { src, dst, msg } => self.deliver_whole(src, dst, seq, msg),
            Ev::ToNode { client, dst, req } => {
                let status = self.status(dst);
                if let NodeStatus::Paused(until) = status {
                    return self.hold(until, seq, Ev::ToNode { client, dst, req });
                }
                let down = status == NodeStatus::Crashed;
                if !self.world.arrive(
                    Endpoint::Client(client),
                    Endpoint::Node(dst),
                    seq,
                    down,
                    &req.1,
                ) {
                    return;
                }
                let (request_id, request) = *req;
                self.with_proc(dst, |p, ctx| {
                    p.on_client_request(ctx, client, request_id, request)
                });
            }
            Ev::ToClient { src, client, resp } => {
                if !self.world.arrive(
                    Endpoint::Node(src),
                    Endpoint::Client(client),
                    seq,
                    false,
                    &resp.1,
                ) {
                    return;
                }
                let (request_id, response) = *resp;
                let now = self.world.now;
                match self
                    .world
                    .clients
                    .on_reply(client, src, request_id, response, now)
                {
                    Reply::Complete(outcome, next) => {
                        self.trace_complete(client, request_id, &outcome);
                        if let Some(next) = next {
                            self.world.push(next, Ev::ClientTick(client));
                        }
                    }
                    // A redirect: the same request to another node, under the first timeout.
                    Reply::Resend {
                        node,
                        request_id,
                        request,
                    } => self.world.send_request(client, node, request_id, request),
                    Reply::Ignored => {}
                }
            }
            Ev::Timer { node, id } => self.fire_timer(node, id, seq),
            Ev::Fault(i) => {
                self.world.stats.events += 1;
                let action = self.plan[i as usize].action.clone();
                self.apply(action);
            }
            Ev::ClientTick(c) => {
                self.world.stats.events += 1;
                let now = self.world.now;
                if let Some(issue) = self.world.clients.tick(c, now) {
                    self.send_issue(c, issue);
                }
            }
            Ev::ClientArrival(c) => {
                self.world.stats.events += 1;
                let now = self.world.now;
                let (issue, next) = self.world.clients.arrive(c, now);
                if let Some(issue) = issue {
                    self.send_issue(c, issue);
                }
                if let Some(next) = next {
                    self.world.push(next, Ev::ClientArrival(c));
                }
            }
            Ev::ClientTimeout {
                client,
                request_id,
                attempt,
            } => {
                let now = self.world.now;
                match self
                    .world
                    .clients
                    .on_timeout(client, request_id, attempt, now)
                {
                    Timeout::Resend(issue) => {
                        self.world.stats.events += 1;
                        self.send_issue(client, issue);
                    }
                    Timeout::GaveUp(next) => {
                        self.world.stats.events += 1;
                        self.trace_complete(client, request_id, &Outcome::Unknown);
                        if let Some(next) = next {
                            self.world.push(next, Ev::ClientTick(client));
                        }
                    }
                    Timeout::Ignored => {}
                }
            }
            Ev::Resume(node) => {
                // Usually already resumed by `status` when the first held event was released.
                if self.world.status(node.index()) == NodeStatus::Paused(self.world.now) {
                    self.world.stats.events += 1;
                    let _ = self.status(node);
                }
            }
            Ev::IoDone(node) => {
                let status = self.status(node);
                if let NodeStatus::Paused(until) = status {
                    return self.hold(until, seq, Ev::IoDone(node));
                }
                if status == NodeStatus::Up {
                    self.world.stats.events += 1;
                    self.world.release(node);
                }
            }
            Ev::Liveness => {
                self.world.stats.events += 1;
                self.world.net.heal();
                self.world.net.reset_links();
                for rt in &mut self.world.nodes {
                    rt.armed = Armed::default();
                }
                self.world.log_fault(FaultRecord::LivenessStart);
                if self.world.clog.active > 0 {
                    self.world.unclog(None);
                }
                for i in 0..self.world.node_count {
                    if self.world.status(i as usize) == NodeStatus::Crashed {
                        self.restart(NodeId(i));
                    }
                }
            }
        }
    }

    /// Delivers message `seq` from `src` to `dst` (held if `dst` is paused, dropped if it is
    /// down or cut off).
    #[inline(always)]
    fn deliver(&mut self, src: NodeId, dst: NodeId, seq: u64, msg: P::Msg) {
        let status = self.status(dst);
        if let NodeStatus::Paused(until) = status {
            return self.hold_msg(until, seq, src, dst, msg);
        }
        let down = status == NodeStatus::Crashed;
        if self
            .world
            .arrive(Endpoint::Node(src), Endpoint::Node(dst), seq, down, &msg)
        {
            if self.world.replay.on {
                self.world.remember(src, dst, seq, &msg);
            }
            // `with_proc`, written out: a closure would hold one more copy of the payload.
            let p = self.procs[dst.index()]
                .as_mut()
                .expect("handler called on a crashed node");
            let mut ctx = Context {
                world: &mut self.world,
                node: dst,
            };
            p.on_message(&mut ctx, src, msg);
            if !self.world.disks.is_empty() {
                self.world.charge_reads(dst);
            }
        }
    }

    /// [`Simulation::deliver`] for a message queued whole (one to the last node id, which has
    /// no compact form): out of line, so that the event loop holds one copy of the delivery.
    /// It takes the box so that the unboxing (and the box's free) is out of line too.
    #[allow(clippy::boxed_local)]
    #[inline(never)]
    fn deliver_whole(&mut self, src: NodeId, dst: NodeId, seq: u64, msg: Box<P::Msg>) {
        self.deliver(src, dst, seq, *msg);
    }

    /// [`Simulation::hold`] for a message to a paused node: out of line, so that the delivery
    /// holds no boxing.
    #[cold]
    #[inline(never)]
    fn hold_msg(&mut self, until: SimTime, seq: u64, src: NodeId, dst: NodeId, msg: P::Msg) {
        let msg = Box::new(msg);
        self.hold(until, seq, Ev::Msg { src, dst, msg });
    }

    /// Numbers the plan's actions, in plan order, and queues the first. The others enter the
    /// queue one at a time, each when the one before it is dispatched (`apply`). The plan is
    /// sorted by time, so every action is queued before it is due, and the order of events is
    /// that of queueing them all now; the heap stays smaller by the plan's length. Out of line,
    /// so that the event loop in `run` is laid out as without it.
    #[inline(never)]
    fn start_plan(&mut self) {
        self.plan_seq = self.world.reserve_seqs(self.plan.len() as u64);
        self.queue_next_fault();
    }

    /// Queues the plan's next action, if there is one, under the sequence number it was given
    /// at the start of the run. The actions are dispatched in plan order (their times and
    /// sequence numbers both grow), so the next one is the one after the last queued.
    fn queue_next_fault(&mut self) {
        if let Some(p) = self.plan.get(self.plan_next) {
            let seq = self.plan_seq + self.plan_next as u64;
            self.world
                .queue
                .push(p.at.0, seq, Ev::Fault(self.plan_next as u32));
            self.plan_next += 1;
        }
    }

    /// Sends a client's request (a first attempt is recorded as an invocation, a retry as a
    /// resend) and arms its timeout.
    fn send_issue(&mut self, c: ClientId, issue: Issue) {
        let retry = issue.attempt > 0;
        self.world.trace(Record::invoke(
            c,
            issue.node,
            issue.request_id,
            &issue.request,
            retry,
        ));
        self.world.push(
            self.world.now + issue.timeout,
            Ev::ClientTimeout {
                client: c,
                request_id: issue.request_id,
                attempt: issue.attempt,
            },
        );
        self.world
            .send_request(c, issue.node, issue.request_id, issue.request);
    }

    fn trace_complete(&mut self, client: ClientId, req: RequestId, outcome: &Outcome) {
        self.world.trace(Record::Complete {
            client,
            req,
            outcome,
        });
    }

    fn fire_timer(&mut self, node: NodeId, id: TimerId, seq: u64) {
        let now = self.world.now;
        let status = self.status(node);
        let rt = &mut self.world.nodes[node.index()];
        match status {
            NodeStatus::Crashed => return,
            NodeStatus::Paused(until) => {
                if let Some(e) = rt.timers.get_mut(&id) {
                    e.fire_at = until;
                    self.hold(until, seq, Ev::Timer { node, id });
                }
                return;
            }
            NodeStatus::Up => {}
        }
        let Some(e) = rt.timers.get_mut(&id) else {
            return;
        };
        if rt.clock.local(now) < e.deadline {
            // The clock was stepped back since this timer was scheduled: wait for the deadline.
            if e.fire_at == now {
                let t = rt.clock.when_local_reaches(e.deadline, now);
                e.fire_at = t;
                self.world.push(t, Ev::Timer { node, id });
            }
            return;
        }
        let e = rt.timers.remove(&id).expect("present");
        self.world.stats.events += 1;
        self.world.stats.timers_fired += 1;
        self.world.trace(Record::timer(node, id, &e.timer));
        self.with_proc(node, |p, ctx| p.on_timer(ctx, e.timer));
    }

    fn restart(&mut self, node: NodeId) {
        if self.world.status(node.index()) != NodeStatus::Crashed {
            return;
        }
        self.world.set_status(node.index(), NodeStatus::Up);
        self.world.nodes[node.index()].storage.reload();
        self.procs[node.index()] = Some((self.factory)(node));
        self.world.log_fault(FaultRecord::Restart(node));
        self.world.reach(engine::NODE_RECOVERED, Some(node));
        self.with_proc(node, |p, ctx| p.on_recover(ctx));
    }

    /// Crashes `node` (unless it is down already): its process, timers and whatever it held
    /// for its disk are gone, and `disk` decides what its storage keeps. Returns what `disk`
    /// returned.
    fn crash<T>(
        &mut self,
        node: NodeId,
        disk: impl FnOnce(&mut Storage<P::StoreKey, P::StoreValue>, SimTime) -> T,
    ) -> Option<T> {
        let now = self.world.now;
        if self.world.status(node.index()) == NodeStatus::Crashed {
            return None;
        }
        self.world.set_status(node.index(), NodeStatus::Crashed);
        self.mark_leader(node, engine::LEADER_CRASHED);
        let rt = &mut self.world.nodes[node.index()];
        rt.timers.clear();
        rt.armed = Armed::default();
        let out = disk(&mut rt.storage, now);
        self.procs[node.index()] = None;
        self.world.drop_held(node);
        self.world.log_fault(FaultRecord::Crash(node));
        Some(out)
    }

    /// Damages one synced record of `node` (see `Fault::Corrupt`), within the fault atlas.
    fn corrupt(&mut self, node: NodeId, nth_from_end: u32, silent: bool) {
        let now = self.world.now;
        self.world.nodes[node.index()].storage.settle(now);
        let world = &self.world;
        let keys = world.nodes[node.index()]
            .storage
            .durable_intact_keys(|k| P::damageable(k) && world.atlas_allows(node, k));
        let record = if keys.is_empty() {
            StorageFault::Skipped("corrupt")
        } else {
            let key = keys[keys.len() - 1 - nth_from_end as usize % keys.len()].clone();
            let storage = &mut self.world.nodes[node.index()].storage;
            let garbled = if silent {
                let bits = u64::from(nth_from_end).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                storage.durable_value(&key).and_then(|v| P::garble(v, bits))
            } else {
                None
            };
            let silent = garbled.is_some();
            match garbled {
                Some(v) => storage.garble(&key, v),
                None => storage.damage(&key),
            }
            StorageFault::Corrupted {
                key: format!("{key:?}"),
                silent,
            }
        };
        self.world.log_fault(FaultRecord::Storage(node, record));
    }

    /// Applies one action of the plan (the next is queued first: see the module comment).
    fn apply(&mut self, action: Action) {
        self.queue_next_fault();
        let now = self.world.now;
        match action {
            Action::RemoveCut(id) => {
                self.world.net.remove_partition(id);
                self.world.log_fault(FaultRecord::RemoveCut(id));
            }
            Action::Apply(fault, cut_id) => match fault {
                Fault::Partition(p) => {
                    self.world.net.add_partition(cut_id, &p);
                    self.world.log_fault(FaultRecord::Partition(cut_id, p));
                    self.mark_partitioned_leaders();
                }
                Fault::Heal => {
                    self.world.net.heal();
                    self.world.log_fault(FaultRecord::Heal);
                }
                Fault::Crash(n) => {
                    if let Some(lost) = self.crash(n, |storage, now| storage.go_down(now)) {
                        self.world.coverage.sometimes(
                            lost > 0,
                            engine::UNSYNCED_WRITES_LOST,
                            now,
                            Some(n),
                        );
                        self.world.trace(Record::LostWrites {
                            node: n,
                            writes: lost,
                        });
                    }
                }
                Fault::TornWrite {
                    node,
                    survive,
                    pick,
                    tear_last,
                } => {
                    let tearable = self.world.atlas_filter(node);
                    let torn = self.crash(node, |storage, now| {
                        storage.crash_torn(now, survive, pick, tear_last, tearable)
                    });
                    if let Some(t) = torn {
                        let record = StorageFault::Torn {
                            kept: t.kept,
                            lost: t.lost,
                            torn: t.torn.map(|k| format!("{k:?}")),
                        };
                        self.world.log_fault(FaultRecord::Storage(node, record));
                    }
                }
                Fault::Corrupt {
                    node,
                    nth_from_end,
                    silent,
                } => self.corrupt(node, nth_from_end, silent),
                Fault::Misdirect { node, pick } => {
                    self.world.nodes[node.index()].armed.misdirect = Some(pick);
                    let record = FaultRecord::Storage(node, StorageFault::MisdirectArmed);
                    self.world.log_fault(record);
                }
                Fault::LoseSync(node) => {
                    self.world.nodes[node.index()].armed.lie = true;
                    let record = FaultRecord::Storage(node, StorageFault::LoseSyncArmed);
                    self.world.log_fault(record);
                }
                Fault::Restart(n) => self.restart(n),
                Fault::Pause(n, d) => {
                    if self.world.status(n.index()) != NodeStatus::Up {
                        return;
                    }
                    let until = now.saturating_add(d);
                    self.world.set_status(n.index(), NodeStatus::Paused(until));
                    self.mark_leader(n, engine::LEADER_PAUSED);
                    self.world.push(until, Ev::Resume(n));
                    self.world.log_fault(FaultRecord::Pause(n, until));
                }
                Fault::ClockJump(n, delta) => {
                    self.mark_leader(n, engine::CLOCK_JUMP_ON_LEADER);
                    self.mark_lease(n);
                    let rt = &mut self.world.nodes[n.index()];
                    rt.clock.offset_ns = rt.clock.offset_ns.saturating_add(delta);
                    let clock = rt.clock;
                    let mut earlier = Vec::new();
                    for (id, e) in rt.timers.iter_mut() {
                        let t = clock.when_local_reaches(e.deadline, now);
                        if t < e.fire_at {
                            e.fire_at = t;
                            earlier.push((t, *id));
                        }
                    }
                    for (t, id) in earlier {
                        self.world.push(t, Ev::Timer { node: n, id });
                    }
                    self.world.log_fault(FaultRecord::ClockJump(n, delta));
                }
                Fault::SetLink { from, to, link } => {
                    self.world.net.set_link(from, to, &link);
                    self.world.log_fault(FaultRecord::SetLink);
                }
                Fault::ResetLinks => {
                    self.world.net.reset_links();
                    self.world.log_fault(FaultRecord::ResetLinks);
                }
                Fault::Clog(n) => {
                    self.world.clog(n);
                    self.world.log_fault(FaultRecord::Clog(n));
                }
                Fault::Unclog(n) => {
                    self.world.log_fault(FaultRecord::Unclog(n));
                    self.world.unclog(Some(n));
                }
                Fault::Replay { from, to, count } => self.world.replay(from, to, count),
                Fault::EndPartition(_) => {
                    unreachable!("the fault plan turns `EndPartition` into `RemoveCut`")
                }
            },
        }
    }
}

/// The engine's coverage marks that ask a process about itself (see [`crate::coverage`]).
impl<P: Process> Simulation<P> {
    /// Marks `situation` if node `n` (up) believes it leads; evaluates it if the protocol has
    /// leaders at all.
    fn mark_leader(&mut self, n: NodeId, situation: &'static str) {
        if let Some(leads) = self.procs[n.index()].as_ref().and_then(|p| p.leads()) {
            let now = self.world.now;
            self.world
                .coverage
                .sometimes(leads, situation, now, Some(n));
            if leads && self.world.tracer.is_writing() {
                self.world.trace(Record::Reached {
                    node: Some(n),
                    name: situation,
                });
            }
        }
    }

    /// Marks "clock jump under a lease" if node `n` holds a lease by its clock.
    fn mark_lease(&mut self, n: NodeId) {
        let local = self.world.nodes[n.index()].clock.local(self.world.now);
        if let Some(held) = self.procs[n.index()]
            .as_ref()
            .and_then(|p| p.holds_lease(local))
        {
            let now = self.world.now;
            let situation = engine::CLOCK_JUMP_UNDER_LEASE;
            self.world.coverage.sometimes(held, situation, now, Some(n));
        }
    }

    /// After a cut began: marks "leader partitioned" for each leader now cut from some node.
    fn mark_partitioned_leaders(&mut self) {
        let count = self.world.node_count;
        for i in 0..count {
            let Some(leads) = self.procs[i as usize].as_ref().and_then(|p| p.leads()) else {
                continue;
            };
            let cut = leads
                && (0..count).any(|j| {
                    j != i
                        && (self.world.net.cut(i as usize, j as usize)
                            || self.world.net.cut(j as usize, i as usize))
                });
            let now = self.world.now;
            let situation = engine::LEADER_PARTITIONED;
            self.world
                .coverage
                .sometimes(cut, situation, now, Some(NodeId(i)));
        }
    }
}

/// Runs `config` with processes from `factory` and returns the result (no trace file).
pub fn run<P: Process>(
    config: SimConfig,
    factory: impl FnMut(NodeId) -> P + 'static,
) -> RunResult<P::Observation> {
    Simulation::new(config, factory).run().0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process that does nothing.
    struct Idle;

    impl Process for Idle {
        type Msg = ();
        type Timer = ();
        type StoreKey = u8;
        type StoreValue = u8;
        type Observation = ();
        fn on_start(&mut self, _: &mut Context<'_, Self>) {}
        fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Context<'_, Self>, _: ()) {}
    }

    #[test]
    #[should_panic(expected = "simulated time moved backward")]
    fn dispatch_refuses_an_event_in_the_past() {
        let mut sim = Simulation::new(SimConfig::basic(2, SimDuration::from_millis(10)), |_| Idle);
        sim.world.now = SimTime(5_000);
        sim.world.push(SimTime(4_000), Ev::Liveness);
        let popped = sim.world.queue.pop_key().expect("pushed");
        sim.dispatch(popped);
    }
}
