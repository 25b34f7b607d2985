//! The world a simulation runs: nodes' runtime state, the network, clients, the event queue
//! and the trace — and how a handler's effects become future events.
//!
//! `World` holds the state; its methods are the effects a [`Context`](crate::Context)
//! exposes (send, reply, set a timer, sync, observe, annotate) and the two ends of the one
//! routing path every message takes: [`World::route`] into the network, [`World::arrive`] at
//! the destination. The event loop and the handling of each event kind live in `sim.rs`;
//! the protocol interface in `process.rs`.
//!
//! This module names no `Process`, `Context` or `Simulation`: it is generic over
//! [`ProcessTypes`], the data half of a `Process` (implemented for every `Process` in
//! `process.rs`), so that `process.rs` and `sim.rs` both build on it and neither imports the
//! other.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;
use std::num::NonZeroU32;

use crate::client::Clients;
use crate::clock::Clock;
use crate::config::{DiskModel, REPLAY_REMEMBERED};
use crate::coverage::{engine, Coverage};
use crate::faults::{FaultRecord, StorageFault};
use crate::ids::{ClientId, Endpoint, NodeId, RequestId, TimerId};
use crate::network::{Network, Route, Sampler};
use crate::node_rng::{Live, NodeHot, NodeRng, NodeStreams};
use crate::queue::{Compact, EventQueue};
use crate::rng::SimRng;
use crate::service::{Request, Response};
use crate::storage::Storage;
use crate::time::{LocalTime, SimDuration, SimTime};
use crate::timers::{TimerEntry, Timers};
use crate::trace::{DropReason, Record, Tracer};

/// The associated types of a [`Process`](crate::Process), without its handlers: what the
/// world's state is generic over. Every `Process` implements it (a blanket impl in
/// `process.rs`); nothing else does.
pub(crate) trait ProcessTypes: Sized + 'static {
    type Msg: Clone + Debug + Hash;
    type Timer: Clone + Debug + Hash;
    type StoreKey: Ord + Clone + Debug;
    type StoreValue: Clone + Debug;
    type Observation: Clone + Debug + Hash;
    fn damageable(key: &Self::StoreKey) -> bool;
    fn damaged_copies_max(node_count: u32) -> u32;
}

/// One observation, stamped by the engine with the true time and the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed<O> {
    pub time: SimTime,
    pub node: NodeId,
    pub value: O,
}

/// A node's liveness status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Up,
    Crashed,
    /// Frozen until this time.
    Paused(SimTime),
}

/// A node's runtime state besides its dense record (`NodeHot`) and its random stream's buffer.
pub(crate) struct NodeRt<P: ProcessTypes> {
    pub(crate) clock: Clock,
    pub(crate) storage: Storage<P::StoreKey, P::StoreValue>,
    pub(crate) timers: Timers<P::Timer>,
    /// Storage faults waiting for the node's next sync (cleared by a crash).
    pub(crate) armed: Armed,
}

/// Storage faults armed on a node: they strike at its next sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Armed {
    /// The next synced write of a damageable record lands on another record (`pick`).
    pub(crate) misdirect: Option<u32>,
    /// The next sync persists none of the damageable records it covers.
    pub(crate) lie: bool,
}

/// A node's disk when the scenario gives it a model: its timings, and what waits for it.
pub(crate) struct Disk<P: ProcessTypes> {
    sync: Sampler,
    read: Sampler,
    per_byte: u64,
    rng: SimRng,
    /// When the disk finishes the work queued so far.
    pub(crate) busy_until: SimTime,
    /// Messages and replies waiting for a sync, each with the time it may leave.
    pub(crate) outbox: VecDeque<(SimTime, Out<P>)>,
    /// The latest time an `IoDone` event is queued for.
    release_at: SimTime,
}

impl<P: ProcessTypes> Disk<P> {
    pub(crate) fn new(model: &DiskModel, rng: SimRng) -> Disk<P> {
        Disk {
            sync: Sampler::new(&model.sync),
            read: Sampler::new(&model.read),
            per_byte: model.per_byte.0,
            rng,
            busy_until: SimTime::ZERO,
            outbox: VecDeque::new(),
            release_at: SimTime::ZERO,
        }
    }
}

/// Something a node sends or reports, held until its disk catches up.
pub(crate) enum Out<P: ProcessTypes> {
    Msg(NodeId, P::Msg),
    Reply(ClientId, RequestId, Response),
    /// An observation is a fact for the checks only once what it depends on is durable.
    Observe(P::Observation),
}

/// What the event queue holds. Ids are typed; the sequence number an event was queued with
/// is its message id in the trace.
pub(crate) enum Ev<P: ProcessTypes> {
    /// A node-to-node message that waits whole: held in a clog's backlog, replayed, or sent
    /// to the last node id. (A message in flight waits in the queue's compact slab as a
    /// [`MsgSlot`].) Its payload is boxed, so that every event is 24 bytes whatever the
    /// protocol's message size: timers, client events and faults are copied into and out of
    /// their slots at that size.
    Msg {
        src: NodeId,
        dst: NodeId,
        msg: Box<P::Msg>,
    },
    /// A client's request on its way to a node.
    ToNode {
        client: ClientId,
        dst: NodeId,
        req: Box<(RequestId, Request)>,
    },
    /// A node's reply on its way to a client.
    ToClient {
        src: NodeId,
        client: ClientId,
        resp: Box<(RequestId, Response)>,
    },
    Timer {
        node: NodeId,
        id: TimerId,
    },
    /// The fault plan's action with this index.
    Fault(u32),
    ClientTick(ClientId),
    /// Open loop: a request arrives at the client.
    ClientArrival(ClientId),
    ClientTimeout {
        client: ClientId,
        request_id: RequestId,
        attempt: u32,
    },
    Resume(NodeId),
    Liveness,
    /// The node's disk completed a sync: messages waiting for it leave.
    IoDone(NodeId),
}

/// A node-to-node message as it waits in the queue's compact slab: 16 bytes for an 8-byte
/// payload, where an `Ev` takes 24 (see `queue.rs`). The destination is stored plus one, so
/// that `Option` of it needs no tag.
pub(crate) struct MsgSlot<M> {
    src: NodeId,
    dst_plus_one: NonZeroU32,
    msg: M,
}

impl<M> MsgSlot<M> {
    /// The message's source, destination and payload.
    #[inline(always)]
    pub(crate) fn into_parts(self) -> (NodeId, NodeId, M) {
        (self.src, NodeId(self.dst_plus_one.get() - 1), self.msg)
    }
}

/// How a payload on its way through [`World::route`] becomes a queued event. (`Copy`: the
/// two ids it holds are passed by value to the clog's out-of-line backlog, not by address.)
pub(crate) trait Wrap<P: ProcessTypes, M>: Copy {
    /// The payload's event (as a clog's backlog holds it).
    fn event(&self, msg: M) -> Ev<P>;
    /// Queues the payload at `time` under `seq`, as its event would be queued.
    #[inline(always)]
    fn push(&self, queue: &mut EventQueue<Ev<P>>, time: u64, seq: u64, msg: M) {
        queue.push(time, seq, self.event(msg));
    }
}

/// A node-to-node message: it goes straight into the queue's compact slab, moved once (into
/// its slot), without being built into an [`Ev`] first.
#[derive(Clone, Copy)]
struct NodeToNode {
    from: NodeId,
    to: NodeId,
}

impl<P: ProcessTypes> Wrap<P, P::Msg> for NodeToNode {
    #[inline(always)]
    fn event(&self, msg: P::Msg) -> Ev<P> {
        boxed(self.from, self.to, msg)
    }
    #[inline(always)]
    fn push(&self, queue: &mut EventQueue<Ev<P>>, time: u64, seq: u64, msg: P::Msg) {
        match NonZeroU32::new(self.to.0.wrapping_add(1)) {
            Some(dst_plus_one) => queue.push_compact(
                time,
                seq,
                MsgSlot {
                    src: self.from,
                    dst_plus_one,
                    msg,
                },
            ),
            None => push_whole(queue, time, seq, boxed(self.from, self.to, msg)),
        }
    }
}

/// A node-to-node message as a whole event (its payload boxed): out of line, so that the
/// send path that inlines the compact push holds no allocation.
#[cold]
#[inline(never)]
fn boxed<P: ProcessTypes>(src: NodeId, dst: NodeId, msg: P::Msg) -> Ev<P> {
    Ev::Msg {
        src,
        dst,
        msg: Box::new(msg),
    }
}

/// Queues a whole event, out of line (a message to the last node id).
#[cold]
#[inline(never)]
fn push_whole<P: ProcessTypes>(queue: &mut EventQueue<Ev<P>>, time: u64, seq: u64, ev: Ev<P>) {
    queue.push(time, seq, ev);
}

/// A client's request to a node.
#[derive(Clone, Copy)]
struct ClientToNode {
    client: ClientId,
    to: NodeId,
}

impl<P: ProcessTypes> Wrap<P, (RequestId, Request)> for ClientToNode {
    #[inline(always)]
    fn event(&self, req: (RequestId, Request)) -> Ev<P> {
        Ev::ToNode {
            client: self.client,
            dst: self.to,
            req: Box::new(req),
        }
    }
}

/// A node's reply to a client.
#[derive(Clone, Copy)]
struct NodeToClient {
    from: NodeId,
    client: ClientId,
}

impl<P: ProcessTypes> Wrap<P, (RequestId, Response)> for NodeToClient {
    #[inline(always)]
    fn event(&self, resp: (RequestId, Response)) -> Ev<P> {
        Ev::ToClient {
            src: self.from,
            client: self.client,
            resp: Box::new(resp),
        }
    }
}

/// An event queued as it is (a replayed message).
#[derive(Clone, Copy)]
struct Whole;

impl<P: ProcessTypes> Wrap<P, Ev<P>> for Whole {
    #[inline(always)]
    fn event(&self, ev: Ev<P>) -> Ev<P> {
        ev
    }
}

impl<P: ProcessTypes> Compact for Ev<P> {
    type Small = MsgSlot<P::Msg>;

    #[inline(always)]
    fn compact(self) -> Result<MsgSlot<P::Msg>, Self> {
        match self {
            Ev::Msg { src, dst, msg } => match NonZeroU32::new(dst.0.wrapping_add(1)) {
                Some(dst_plus_one) => Ok(MsgSlot {
                    src,
                    dst_plus_one,
                    msg: *msg,
                }),
                None => Err(Ev::Msg { src, dst, msg }),
            },
            other => Err(other),
        }
    }

    #[cfg(test)]
    fn expand(s: MsgSlot<P::Msg>) -> Self {
        Ev::Msg {
            src: s.src,
            dst: NodeId(s.dst_plus_one.get() - 1),
            msg: Box::new(s.msg),
        }
    }
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Dispatched events (deliveries, timers, faults, client actions).
    pub events: u64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    /// Dropped messages by reason, indexed like [`DropReason::ALL`].
    pub dropped: [u64; 4],
    pub duplicated: u64,
    /// Already-delivered messages a replay fault sent again.
    pub replayed: u64,
    pub timers_fired: u64,
    /// Messages still in flight when the run ended (neither delivered nor dropped).
    pub in_flight_at_end: u64,
    /// Messages between a client and a node (requests, retries, redirected requests and
    /// replies), included in `messages_sent`: the rest are node to node.
    pub client_messages: u64,
}

impl Stats {
    /// Messages sent from one node to another.
    pub fn node_messages(&self) -> u64 {
        self.messages_sent - self.client_messages
    }
    pub fn messages_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
    pub fn dropped_by(&self, r: DropReason) -> u64 {
        self.dropped[r as usize]
    }
}

/// Clogged nodes and what their links hold (see [`World::clog`]).
pub(crate) struct Clog<P: ProcessTypes> {
    /// How many clogs each node is under (empty until the first clog).
    pub(crate) count: Vec<u32>,
    /// How many nodes are clogged: the route path tests only this when none is.
    pub(crate) active: usize,
    /// Held messages: (from, to, drawn latency, id, event), in the order they were sent.
    pub(crate) held: Vec<(Endpoint, Endpoint, u64, u64, Ev<P>)>,
}

impl<P: ProcessTypes> Clog<P> {
    fn holds(&self, e: Endpoint) -> bool {
        e.node()
            .is_some_and(|n| self.count.get(n.index()).is_some_and(|&c| c > 0))
    }
}

/// Recently delivered node-to-node messages, which a replay fault sends again (see
/// [`World::replay`]).
pub(crate) struct Replay<P: ProcessTypes> {
    /// Whether the run can replay (its fault plan has a replay): only then is anything
    /// remembered, so a run without one pays a branch per delivery.
    pub(crate) on: bool,
    /// The last [`REPLAY_REMEMBERED`] delivered: (from, to, id, message), oldest first.
    ring: VecDeque<(NodeId, NodeId, u64, P::Msg)>,
    /// The replays' own stream (`StreamLabel::Faults`): which messages, and their latencies.
    rng: SimRng,
}

impl<P: ProcessTypes> Replay<P> {
    pub(crate) fn new(on: bool, rng: SimRng) -> Replay<P> {
        Replay {
            on,
            ring: VecDeque::new(),
            rng,
        }
    }
}

/// The world: everything a run changes, and what handlers reach through their `Context`.
pub(crate) struct World<P: ProcessTypes> {
    pub(crate) now: SimTime,
    /// The last sequence number given out (events and message ids share it).
    seq: u64,
    pub(crate) queue: EventQueue<Ev<P>>,
    pub(crate) node_count: u32,
    /// Each node's dense record, indexed by node: its status and random stream's position,
    /// read on every delivery (160 KB at 10,000 nodes). Read and written through
    /// [`World::status`] and [`World::set_status`].
    hot: Vec<NodeHot>,
    /// When each paused node resumes (sized at the first pause; read only for a paused node).
    paused_until: Vec<SimTime>,
    /// The nodes' random streams (positions in `hot`).
    streams: NodeStreams,
    pub(crate) nodes: Vec<NodeRt<P>>,
    pub(crate) net: Network,
    pub(crate) tracer: Tracer,
    pub(crate) stats: Stats,
    pub(crate) clients: Clients,
    pub(crate) observations: Vec<Observed<P::Observation>>,
    pub(crate) fault_log: Vec<(SimTime, FaultRecord)>,
    /// The situations reached (never hashed: see `coverage.rs`).
    pub(crate) coverage: Coverage,
    /// Clogged nodes (how many clogs each is under) and the messages their links hold.
    pub(crate) clog: Clog<P>,
    /// What a replay fault may send again.
    pub(crate) replay: Replay<P>,
    next_timer: u64,
    /// One disk per node when the scenario models disks; empty when every disk is free, so
    /// that a zero-cost disk costs one well-predicted branch per send.
    pub(crate) disks: Vec<Disk<P>>,
}

impl<P: ProcessTypes> World<P> {
    /// The world at time zero: `nodes` booted, nothing queued, nothing traced.
    pub(crate) fn new(
        seed: u64,
        nodes: Vec<NodeRt<P>>,
        net: Network,
        clients: Clients,
        disks: Vec<Disk<P>>,
        replay: Replay<P>,
    ) -> World<P> {
        World {
            now: SimTime::ZERO,
            seq: 0,
            queue: EventQueue::with_capacity(1024),
            node_count: nodes.len() as u32,
            hot: vec![NodeHot::UP; nodes.len()],
            paused_until: Vec::new(),
            streams: NodeStreams::new(seed, nodes.len() as u32),
            nodes,
            net,
            tracer: Tracer::new(),
            stats: Stats::default(),
            clients,
            observations: Vec::new(),
            fault_log: Vec::new(),
            coverage: Coverage::default(),
            clog: Clog {
                count: Vec::new(),
                active: 0,
                held: Vec::new(),
            },
            replay,
            next_timer: 0,
            disks,
        }
    }

    /// Node `node`'s status (`node` is an index).
    #[inline(always)]
    pub(crate) fn status(&self, node: usize) -> NodeStatus {
        match self.hot[node].live {
            Live::Up => NodeStatus::Up,
            Live::Crashed => NodeStatus::Crashed,
            Live::Paused => NodeStatus::Paused(self.paused_until[node]),
        }
    }

    pub(crate) fn set_status(&mut self, node: usize, status: NodeStatus) {
        self.hot[node].live = match status {
            NodeStatus::Up => Live::Up,
            NodeStatus::Crashed => Live::Crashed,
            NodeStatus::Paused(until) => {
                if self.paused_until.is_empty() {
                    self.paused_until = vec![SimTime::ZERO; self.hot.len()];
                }
                self.paused_until[node] = until;
                Live::Paused
            }
        };
    }

    /// Every node's status, by node.
    pub(crate) fn statuses(&self) -> Vec<NodeStatus> {
        (0..self.hot.len()).map(|i| self.status(i)).collect()
    }

    /// Node `node`'s random stream.
    #[inline(always)]
    pub(crate) fn node_rng(&mut self, node: NodeId) -> NodeRng<'_> {
        self.streams.stream(&mut self.hot, node.0)
    }

    #[inline]
    pub(crate) fn push(&mut self, time: SimTime, ev: Ev<P>) -> u64 {
        let seq = self.next_seq();
        self.queue.push(time.0, seq, ev);
        seq
    }

    /// Gives out `n` consecutive sequence numbers at once and returns the first (the next
    /// one when `n` is 0).
    pub(crate) fn reserve_seqs(&mut self, n: u64) -> u64 {
        let first = self.seq + 1;
        self.seq += n;
        first
    }

    /// The next sequence number: the id of an event or message.
    #[inline]
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    #[inline(always)]
    pub(crate) fn trace(&mut self, r: Record<'_>) {
        self.tracer.record(self.now, r);
    }

    #[inline(always)]
    pub(crate) fn send_node(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        if !self.disks.is_empty() {
            return self.send_node_after_disk(from, to, msg);
        }
        self.route_node(from, to, msg);
    }

    #[inline(always)]
    fn route_node(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        let (src, dst) = (Endpoint::Node(from), Endpoint::Node(to));
        self.route(src, dst, msg, NodeToNode { from, to });
    }

    /// `send_node` with disk models: the message waits for the sender's disk if it is busy.
    /// Out of line, so that the free-disk hot path stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn send_node_after_disk(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        match self.disk_hold(from) {
            Some(at) => self.hold_out(from, at, Out::Msg(to, msg)),
            None => self.route_node(from, to, msg),
        }
    }

    pub(crate) fn send_reply(
        &mut self,
        from: NodeId,
        client: ClientId,
        request_id: RequestId,
        response: Response,
    ) {
        if !self.disks.is_empty() {
            if let Some(at) = self.disk_hold(from) {
                return self.hold_out(from, at, Out::Reply(client, request_id, response));
            }
        }
        self.route_reply(from, client, request_id, response);
    }

    fn route_reply(
        &mut self,
        from: NodeId,
        client: ClientId,
        request_id: RequestId,
        response: Response,
    ) {
        self.stats.client_messages += 1;
        let (src, dst) = (Endpoint::Node(from), Endpoint::Client(client));
        self.route(
            src,
            dst,
            (request_id, response),
            NodeToClient { from, client },
        );
    }

    pub(crate) fn send_request(
        &mut self,
        client: ClientId,
        to: NodeId,
        request_id: RequestId,
        request: Request,
    ) {
        self.stats.client_messages += 1;
        let (src, dst) = (Endpoint::Client(client), Endpoint::Node(to));
        self.route(src, dst, (request_id, request), ClientToNode { client, to });
    }

    /// The one path every message takes into the network — node to node, client to node
    /// (first sends, retries and redirects alike) and node to client. The network decides its
    /// fate; the message gets the next sequence number as its id whether or not it is queued;
    /// an extra copy is queued first (with its own id and latency). `wrap` turns the payload
    /// into its queue event (and queues it). The payload is moved into the queue, cloned only
    /// for a copy.
    #[inline(always)]
    fn route<M: Clone + Debug + Hash>(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        msg: M,
        wrap: impl Wrap<P, M>,
    ) {
        self.stats.messages_sent += 1;
        let n = self.node_count;
        match self.net.route(src.dense(n), dst.dense(n)) {
            Route::Drop(reason) => {
                let id = self.next_seq();
                self.trace(Record::send(src, dst, id, &msg));
                self.drop_message(src, dst, id, reason);
            }
            Route::Deliver { latency, copy } => {
                if let Some(extra) = copy {
                    self.stats.duplicated += 1;
                    self.reach(engine::DUPLICATE_DELIVERED, src.node());
                    let id = self.next_seq();
                    self.enqueue(src, dst, extra, id, msg.clone(), &wrap);
                    self.trace(Record::Duplicate { id });
                }
                let id = self.next_seq();
                self.trace(Record::send(src, dst, id, &msg));
                self.enqueue(src, dst, latency, id, msg, &wrap);
            }
        }
    }

    /// Queues message `id` (`msg`, as `wrap` makes it an event) to arrive `latency` from now —
    /// or, when a clog holds its link, keeps its event in the clog's backlog until
    /// [`World::unclog`] releases it.
    #[inline(always)]
    fn enqueue<M>(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        latency: u64,
        id: u64,
        msg: M,
        wrap: &impl Wrap<P, M>,
    ) {
        if self.clog.active > 0 {
            return self.enqueue_clogged(src, dst, latency, id, msg, *wrap);
        }
        let at = self.now.saturating_add(SimDuration(latency));
        wrap.push(&mut self.queue, at.0, id, msg);
    }

    /// [`World::enqueue`] while some node is clogged: keeps message `id` in the clog's backlog
    /// if a clog holds its link, else queues it. Out of line, so that the send path holds
    /// neither the clog's lookups nor the boxing.
    #[cold]
    #[inline(never)]
    fn enqueue_clogged<M>(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        latency: u64,
        id: u64,
        msg: M,
        wrap: impl Wrap<P, M>,
    ) {
        if self.clog.holds(src) || self.clog.holds(dst) {
            self.clog
                .held
                .push((src, dst, latency, id, wrap.event(msg)));
            return;
        }
        let at = self.now.saturating_add(SimDuration(latency));
        wrap.push(&mut self.queue, at.0, id, msg);
    }

    /// Clogs every link to and from `node`.
    pub(crate) fn clog(&mut self, node: NodeId) {
        let n = self.node_count as usize;
        if self.clog.count.len() != n {
            self.clog.count = vec![0; n];
        }
        if self.clog.count[node.index()] == 0 {
            self.clog.active += 1;
        }
        self.clog.count[node.index()] += 1;
    }

    /// Lifts one clog of `node` (`None`: every clog of every node) and sends on, with its
    /// drawn latency, each held message whose two ends are now unclogged, in the order they
    /// were sent: the backlog arrives in a burst.
    pub(crate) fn unclog(&mut self, node: Option<NodeId>) {
        match node {
            Some(n) => match self.clog.count.get_mut(n.index()) {
                Some(c) if *c > 0 => {
                    *c -= 1;
                    if *c == 0 {
                        self.clog.active -= 1;
                    }
                }
                _ => return,
            },
            None => {
                self.clog.count.iter_mut().for_each(|c| *c = 0);
                self.clog.active = 0;
            }
        }
        let held = std::mem::take(&mut self.clog.held);
        for (src, dst, latency, id, ev) in held {
            if self.clog.holds(src) || self.clog.holds(dst) {
                self.clog.held.push((src, dst, latency, id, ev));
            } else {
                self.reach(engine::CLOGGED_RELEASED, dst.node());
                let at = self.now.saturating_add(SimDuration(latency));
                self.queue.push(at.0, id, ev);
            }
        }
    }

    /// Remembers a delivered node-to-node message for replay faults, forgetting the oldest
    /// beyond [`REPLAY_REMEMBERED`].
    #[cold]
    pub(crate) fn remember(&mut self, src: NodeId, dst: NodeId, id: u64, msg: &P::Msg) {
        let ring = &mut self.replay.ring;
        if ring.len() == REPLAY_REMEMBERED {
            ring.pop_front();
        }
        ring.push_back((src, dst, id, msg.clone()));
    }

    /// A replay fault: sends again up to `count` of the remembered messages from `from` to
    /// `to` (`None`: any node), picked uniformly without repeats from the replays' stream,
    /// each queued in the order it was first delivered with a fresh latency of its link (and
    /// held like any message by a clog; dropped on arrival by a partition or a crashed
    /// destination). A message stays remembered and may be replayed again. The fault log
    /// records how many messages matched and how many were sent, before they are.
    pub(crate) fn replay(&mut self, from: Option<NodeId>, to: Option<NodeId>, count: u32) {
        let mut matching: Vec<usize> = (self.replay.ring.iter().enumerate())
            .filter(|(_, (s, d, _, _))| from.is_none_or(|f| f == *s) && to.is_none_or(|t| t == *d))
            .map(|(i, _)| i)
            .collect();
        let k = (count as usize).min(matching.len());
        for i in 0..k {
            let j = i + self.replay.rng.index(matching.len() - i);
            matching.swap(i, j);
        }
        let mut picked = matching[..k].to_vec();
        picked.sort_unstable();
        self.log_fault(FaultRecord::Replay {
            count,
            remembered: matching.len() as u32,
            replayed: k as u32,
        });
        let n = self.node_count;
        for i in picked {
            let (src, dst, of, msg) = self.replay.ring[i].clone();
            let (s, d) = (Endpoint::Node(src), Endpoint::Node(dst));
            let latency = self
                .net
                .latency_from(s.dense(n), d.dense(n), &mut self.replay.rng);
            let id = self.next_seq();
            self.stats.replayed += 1;
            self.reach(engine::MESSAGE_REPLAYED, Some(dst));
            self.trace(Record::Replay {
                from: s,
                to: d,
                id,
                of,
            });
            let msg = Box::new(msg);
            self.enqueue(s, d, latency, id, Ev::Msg { src, dst, msg }, &Whole);
        }
    }

    #[inline]
    pub(crate) fn drop_message(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        id: u64,
        reason: DropReason,
    ) {
        self.stats.dropped[reason as usize] += 1;
        self.trace(Record::Drop {
            from,
            to,
            id,
            reason,
        });
    }

    /// Message `id` reaches `to` (`down`: a crashed node): it is dropped if its destination
    /// is down or a partition now cuts its path, else counted and traced as delivered. Every
    /// kind of message arrives through here. Returns whether the handler should run.
    #[inline(always)]
    pub(crate) fn arrive(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        id: u64,
        down: bool,
        msg: &dyn std::fmt::Debug,
    ) -> bool {
        self.stats.events += 1;
        let n = self.node_count;
        let reason = if down {
            self.reach(engine::MESSAGE_TO_CRASHED, to.node());
            DropReason::NodeDown
        } else if self.net.cut(from.dense(n), to.dense(n)) {
            DropReason::Partition
        } else {
            self.stats.messages_delivered += 1;
            self.trace(Record::Deliver { from, to, id, msg });
            return true;
        };
        self.drop_message(from, to, id, reason);
        false
    }

    pub(crate) fn set_timer(
        &mut self,
        node: NodeId,
        delay: SimDuration,
        timer: P::Timer,
    ) -> TimerId {
        self.next_timer += 1;
        let id = TimerId(self.next_timer);
        let rt = &mut self.nodes[node.index()];
        let deadline = LocalTime(
            rt.clock
                .local(self.now)
                .0
                .saturating_add(delay.0.min(i64::MAX as u64) as i64),
        );
        let fire_at = rt.clock.when_local_reaches(deadline, self.now);
        rt.timers.insert(
            id,
            TimerEntry {
                deadline,
                fire_at,
                timer,
            },
        );
        self.push(fire_at, Ev::Timer { node, id });
        id
    }

    pub(crate) fn sync(&mut self, node: NodeId) {
        let now = self.now;
        let armed = self.nodes[node.index()].armed;
        let damage = if armed == Armed::default() {
            Vec::new()
        } else {
            self.nodes[node.index()].armed = Armed::default();
            self.sync_damage(node, armed)
        };
        let done = match self.disks.get_mut(node.index()) {
            None => now,
            Some(disk) => {
                let storage = &self.nodes[node.index()].storage;
                let mut ns = disk.sync.sample(&mut disk.rng);
                if disk.per_byte > 0 {
                    // Measured as each record was written (the engine meters a disk that
                    // charges per byte: see `Simulation::new`).
                    let bytes = storage.pending_bytes();
                    ns = ns.saturating_add(bytes.saturating_mul(disk.per_byte));
                }
                let done = disk.busy_until.max(now).saturating_add(SimDuration(ns));
                disk.busy_until = done;
                done
            }
        };
        let writes = self.nodes[node.index()]
            .storage
            .sync_until(now, done, damage);
        self.trace(Record::Sync { node, writes });
    }

    /// The records an armed storage fault damages at this sync, within the fault atlas, and
    /// their fault-log records.
    fn sync_damage(&mut self, node: NodeId, armed: Armed) -> Vec<P::StoreKey> {
        let storage = &self.nodes[node.index()].storage;
        let puts: Vec<P::StoreKey> = storage
            .pending_puts()
            .filter(|k| P::damageable(k))
            .cloned()
            .collect();
        let mut damage = Vec::new();
        let mut records = Vec::new();
        if let Some(pick) = armed.misdirect {
            match puts.iter().find(|k| self.atlas_allows(node, k)) {
                None => records.push(StorageFault::Skipped("misdirect")),
                Some(intended) => {
                    let victims: Vec<P::StoreKey> = storage.durable_intact_keys(|k| {
                        k != intended && P::damageable(k) && self.atlas_allows(node, k)
                    });
                    let victim = (!victims.is_empty())
                        .then(|| victims[pick as usize % victims.len()].clone());
                    records.push(StorageFault::Misdirected {
                        intended: format!("{intended:?}"),
                        victim: victim.as_ref().map(|v| format!("{v:?}")),
                    });
                    damage.push(intended.clone());
                    damage.extend(victim);
                }
            }
        }
        if armed.lie {
            let lost: Vec<P::StoreKey> = puts
                .into_iter()
                .filter(|k| !damage.contains(k) && self.atlas_allows(node, k))
                .collect();
            records.push(StorageFault::SyncLied { lost: lost.len() });
            damage.extend(lost);
        }
        for r in records {
            self.log_fault(FaultRecord::Storage(node, r));
        }
        damage
    }

    /// The fault atlas: may `node`'s copy of the record under `key` be damaged, given how many
    /// other nodes hold a damaged copy of it now?
    pub(crate) fn atlas_allows(&self, node: NodeId, key: &P::StoreKey) -> bool {
        let max = P::damaged_copies_max(self.node_count) as usize;
        if max == 0 {
            return false;
        }
        let others = self
            .nodes
            .iter()
            .enumerate()
            .filter(|&(i, rt)| i != node.index() && rt.storage.is_damaged(key))
            .count();
        others < max
    }

    /// The fault atlas as a predicate on `node`'s keys, fixed now: damageable and damaged on
    /// fewer other nodes than the protocol tolerates (for a torn write, which picks its
    /// record after the crash has taken the node's storage).
    pub(crate) fn atlas_filter(&self, node: NodeId) -> impl Fn(&P::StoreKey) -> bool {
        let max = P::damaged_copies_max(self.node_count) as usize;
        let mut counts: BTreeMap<P::StoreKey, usize> = BTreeMap::new();
        if max > 0 {
            for (i, rt) in self.nodes.iter().enumerate() {
                if i != node.index() {
                    for k in rt.storage.damaged() {
                        *counts.entry(k.clone()).or_insert(0) += 1;
                    }
                }
            }
        }
        move |k: &P::StoreKey| {
            max > 0 && P::damageable(k) && counts.get(k).copied().unwrap_or(0) < max
        }
    }

    /// When a message from `node` may leave, if its disk is still busy with a sync or a read
    /// (or has just finished, with earlier messages not yet released: order is kept).
    #[inline]
    fn disk_hold(&mut self, node: NodeId) -> Option<SimTime> {
        self.charge_reads(node);
        let disk = &self.disks[node.index()];
        let until = disk.busy_until;
        (until > self.now || !disk.outbox.is_empty()).then_some(until.max(self.now))
    }

    /// Holds `out` until `at`, queueing the event that releases it.
    fn hold_out(&mut self, node: NodeId, at: SimTime, out: Out<P>) {
        let disk = &mut self.disks[node.index()];
        disk.outbox.push_back((at, out));
        if at > disk.release_at {
            disk.release_at = at;
            self.push(at, Ev::IoDone(node));
        }
    }

    /// Sends what `node` held for its disk and may now leave.
    pub(crate) fn release(&mut self, node: NodeId) {
        while let Some((at, _)) = self.disks[node.index()].outbox.front() {
            if *at > self.now {
                break;
            }
            let (_, out) = self.disks[node.index()].outbox.pop_front().expect("front");
            match out {
                Out::Msg(to, msg) => self.route_node(node, to, msg),
                Out::Reply(client, request_id, response) => {
                    self.route_reply(node, client, request_id, response)
                }
                Out::Observe(value) => self.record_observation(node, value),
            }
        }
    }

    /// Charges the records `node` read during its last handler to its disk.
    #[inline]
    pub(crate) fn charge_reads(&mut self, node: NodeId) {
        let storage = &self.nodes[node.index()].storage;
        let reads = storage.take_reads();
        if reads == 0 {
            return;
        }
        let bytes = storage.take_read_bytes();
        let now = self.now;
        let disk = &mut self.disks[node.index()];
        let mut ns = bytes.saturating_mul(disk.per_byte);
        for _ in 0..reads {
            ns = ns.saturating_add(disk.read.sample(&mut disk.rng));
        }
        disk.busy_until = disk.busy_until.max(now).saturating_add(SimDuration(ns));
    }

    /// A crash: what the node was holding for its disk never leaves.
    pub(crate) fn drop_held(&mut self, node: NodeId) {
        if let Some(disk) = self.disks.get_mut(node.index()) {
            disk.outbox.clear();
            disk.busy_until = self.now;
        }
    }

    pub(crate) fn observe(&mut self, node: NodeId, value: P::Observation) {
        if !self.disks.is_empty() {
            if let Some(at) = self.disk_hold(node) {
                return self.hold_out(node, at, Out::Observe(value));
            }
        }
        self.record_observation(node, value);
    }

    fn record_observation(&mut self, node: NodeId, value: P::Observation) {
        self.trace(Record::observe(node, &value));
        self.observations.push(Observed {
            time: self.now,
            node,
            value,
        });
    }

    /// Marks a coverage situation (and writes it to the trace file, unhashed, if one is
    /// attached).
    pub(crate) fn reach(&mut self, name: &'static str, node: Option<NodeId>) {
        self.coverage.reach(name, self.now, node);
        if self.tracer.is_writing() {
            self.trace(Record::Reached { node, name });
        }
    }

    pub(crate) fn annotate(&mut self, node: NodeId, text: String) {
        self.trace(Record::Note { node, text: &text });
    }

    pub(crate) fn log_fault(&mut self, record: FaultRecord) {
        self.trace(Record::Fault(&record));
        self.fault_log.push((self.now, record));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Engine types for a test, differing only in the message.
    macro_rules! test_types {
        ($(#[$doc:meta])* $name:ident, $msg:ty) => {
            $(#[$doc])*
            struct $name;
            impl ProcessTypes for $name {
                type Msg = $msg;
                type Timer = ();
                type StoreKey = u8;
                type StoreValue = u8;
                type Observation = ();
                fn damageable(_: &u8) -> bool {
                    false
                }
                fn damaged_copies_max(_: u32) -> u32 {
                    0
                }
            }
        };
    }

    test_types!(
        /// The test's engine types: an 8-byte message, as the engine workloads send.
        Word,
        u64
    );
    test_types!(
        /// A protocol with a 96-byte message.
        Wide,
        [u64; 12]
    );

    #[test]
    fn a_queued_word_message_takes_16_bytes() {
        assert_eq!(std::mem::size_of::<Option<MsgSlot<u64>>>(), 16);
        assert_eq!(std::mem::size_of::<Option<Ev<Word>>>(), 24);
    }

    #[test]
    fn an_event_takes_24_bytes_whatever_the_message_size() {
        assert_eq!(std::mem::size_of::<Option<Ev<Wide>>>(), 24);
    }

    #[test]
    fn a_message_expands_to_itself() {
        for (src, dst) in [(0, 0), (3, 7), (u32::MAX, u32::MAX - 1), (1, u32::MAX)] {
            let ev: Ev<Word> = Ev::Msg {
                src: NodeId(src),
                dst: NodeId(dst),
                msg: Box::new(42),
            };
            let back = match ev.compact() {
                Ok(small) => Ev::expand(small),
                // Only a destination with no successor has no compact form.
                Err(ev) => {
                    assert_eq!(dst, u32::MAX);
                    ev
                }
            };
            assert!(
                matches!(back, Ev::Msg { src: s, dst: d, msg } if s.0 == src && d.0 == dst && *msg == 42)
            );
        }
        assert!(Ev::<Word>::Liveness.compact().is_err());
    }
}
