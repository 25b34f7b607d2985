//! The protocol interface: a `Process` is a state machine that reacts to events through a
//! `Context` of effects.
//!
//! A protocol never performs I/O, reads a clock or spawns anything. Each handler receives the
//! event and a `Context` through which it sends messages, sets and cancels timers (in local
//! clock time), writes and syncs its storage, replies to clients, records observations for the
//! checkers and annotates the trace. The engine turns those effects into future events.
//!
//! A crash discards the `Process` value itself; a restart builds a fresh one through the
//! scenario's factory and calls [`Process::on_recover`], which must rebuild state from storage.

use std::fmt::Debug;
use std::hash::Hash;

use crate::ids::{ClientId, NodeId, RequestId};
use crate::node_rng::NodeRng;
use crate::service::{Request, Response};
use crate::storage::Storage;
use crate::time::{LocalTime, SimDuration};
use crate::world::{ProcessTypes, World};

pub use crate::ids::TimerId;
pub use crate::world::Observed;

/// A protocol's per-node state machine.
pub trait Process: Sized + 'static {
    /// Node-to-node messages. `Hash` feeds the trace hash; `Debug` the trace file.
    type Msg: Clone + Debug + Hash;
    /// The protocol's timer kinds (e.g. election, heartbeat).
    type Timer: Clone + Debug + Hash;
    /// Keys and values of the node's durable store.
    type StoreKey: Ord + Clone + Debug + 'static;
    type StoreValue: Clone + Debug + 'static;
    /// Facts the protocol reports for its invariant checks (e.g. "became leader of term 3").
    type Observation: Clone + Debug + Hash;

    /// The node boots for the first time.
    fn on_start(&mut self, ctx: &mut Context<'_, Self>);

    /// A message from another node arrived.
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Self::Msg);

    /// A timer set with [`Context::set_timer`] fired.
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Self::Timer);

    /// A client request arrived. The default refuses every request.
    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        let _ = request;
        ctx.reply(client, request_id, Response::Unsupported);
    }

    /// The node restarted after a crash: rebuild from `ctx.storage()` (which holds exactly what
    /// was synced). The default treats a restart as a fresh start.
    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.on_start(ctx);
    }

    /// The fault atlas, part 1: may storage faults damage the record under `key`? Records a
    /// protocol keeps safe by other means (small metadata written in one atomic sector, or
    /// kept twice on the same disk) answer `false`. Default: every record.
    fn damageable(key: &Self::StoreKey) -> bool {
        let _ = key;
        true
    }

    /// The fault atlas, part 2: the most nodes of `node_count` that may hold a damaged copy of
    /// the record under one key at once — what the protocol claims to tolerate (a majority
    /// quorum protocol: a minority). Storage faults that would exceed it are skipped, so a
    /// failure under them is a protocol bug, not an unrecoverable scenario. Default 0: the
    /// protocol claims nothing, and no fault damages its synced records (a torn write still
    /// tears what was never synced).
    fn damaged_copies_max(node_count: u32) -> u32 {
        let _ = node_count;
        0
    }

    /// Silent corruption: the wrong value a record reads back as when its checksum does not
    /// catch the damage (`bits` drawn by the fault). `None` (the default): the protocol does
    /// not say, and a silent corruption damages the record detectably instead.
    fn garble(value: &Self::StoreValue, bits: u64) -> Option<Self::StoreValue> {
        let _ = (value, bits);
        None
    }

    /// Whether this node believes it leads now: `None` (the default) for a protocol without
    /// leaders. Read only for coverage — the engine's "leader crashed", "leader partitioned", …
    /// (see [`crate::coverage::engine`]) — never hashed and never changing a run.
    fn leads(&self) -> Option<bool> {
        None
    }

    /// Whether this node holds a lease measured by its own clock, which now reads `now`:
    /// `None` (the default) for a protocol without leases. Read only for coverage ("clock
    /// jump under a lease").
    fn holds_lease(&self, now: LocalTime) -> Option<bool> {
        let _ = now;
        None
    }
}

/// The world's state is generic over a process's types only; every `Process` supplies them.
impl<P: Process> ProcessTypes for P {
    type Msg = P::Msg;
    type Timer = P::Timer;
    type StoreKey = P::StoreKey;
    type StoreValue = P::StoreValue;
    type Observation = P::Observation;
    fn damageable(key: &P::StoreKey) -> bool {
        <P as Process>::damageable(key)
    }
    fn damaged_copies_max(node_count: u32) -> u32 {
        <P as Process>::damaged_copies_max(node_count)
    }
}

/// A process's handle on the world while it handles one event.
pub struct Context<'a, P: Process> {
    pub(crate) world: &'a mut World<P>,
    pub(crate) node: NodeId,
}

impl<'a, P: Process> Context<'a, P> {
    /// This node's id.
    #[inline]
    pub fn id(&self) -> NodeId {
        self.node
    }

    /// Number of nodes in the cluster (ids `0..node_count`).
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.world.node_count
    }

    /// This node's local clock reading (offset, drift and jumps applied).
    #[inline]
    pub fn local_time(&self) -> LocalTime {
        self.world.nodes[self.node.index()]
            .clock
            .local(self.world.now)
    }

    /// This node's random stream: `ctx.rng().below(n)`, `ctx.rng().chance(p)`, … — the draws
    /// of a [`SimRng`](crate::SimRng), from the node's own stream (`StreamLabel::Node`), continued across
    /// restarts.
    #[inline]
    pub fn rng(&mut self) -> NodeRng<'_> {
        self.world.node_rng(self.node)
    }

    /// Sends `msg` to `to` through the network (once the node's last sync has completed).
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.world.send_node(self.node, to, msg);
    }

    /// Number of nodes this node has a topology link to.
    pub fn neighbour_count(&self) -> usize {
        self.world.net.neighbour_count(self.node)
    }

    /// The `k`-th neighbour in a stable order, `k < neighbour_count()`.
    pub fn neighbour(&self, k: usize) -> NodeId {
        self.world.net.neighbour(self.node, k)
    }

    /// A uniformly random neighbour (drawn from this node's stream), or `None` if it has none.
    pub fn random_neighbour(&mut self) -> Option<NodeId> {
        let n = self.neighbour_count();
        if n == 0 {
            return None;
        }
        let k = self.rng().index(n);
        Some(self.neighbour(k))
    }

    /// Sets a timer to fire when this node's local clock has advanced by `delay`.
    pub fn set_timer(&mut self, delay: SimDuration, timer: P::Timer) -> TimerId {
        self.world.set_timer(self.node, delay, timer)
    }

    /// Cancels a pending timer; cancelling a fired or unknown timer does nothing.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.world.nodes[self.node.index()].timers.remove(&id);
    }

    /// The node's store. Writes are volatile until [`Context::sync`].
    #[inline]
    pub fn storage(&mut self) -> &mut Storage<P::StoreKey, P::StoreValue> {
        &mut self.world.nodes[self.node.index()].storage
    }

    /// Makes every write so far durable (an fsync). With a disk model the sync takes time:
    /// the writes are durable at its completion, and every message and reply this node sends
    /// from now on leaves no earlier than that (sync, then send).
    pub fn sync(&mut self) {
        self.world.sync(self.node);
    }

    /// Answers a client's request.
    pub fn reply(&mut self, client: ClientId, request_id: RequestId, response: Response) {
        self.world
            .send_reply(self.node, client, request_id, response);
    }

    /// Records a fact for the protocol's invariant checks (hashed and traced).
    pub fn observe(&mut self, observation: P::Observation) {
        self.world.observe(self.node, observation);
    }

    /// Marks a situation this run reached, for coverage ("sometimes" assertions): e.g.
    /// `ctx.reached("vote denied for a stale log")`. Never hashed, never changes the run; a
    /// sweep reports how many seeds reached each situation and names those none reached. List
    /// the names in [`Protocol::SITUATIONS`](crate::Protocol::SITUATIONS) so that a sweep that
    /// never reaches one can say so.
    #[inline]
    pub fn reached(&mut self, situation: &'static str) {
        self.world.reach(situation, Some(self.node));
    }

    /// A "sometimes" assertion: `cond` should hold at least once over a sweep. Marks
    /// `situation` as reached when `cond`, and as evaluated (possible here) otherwise.
    #[inline]
    pub fn sometimes(&mut self, cond: bool, situation: &'static str) {
        if cond {
            self.reached(situation);
        } else {
            self.world.coverage.evaluate(situation);
        }
    }

    /// Adds free text to the trace file. `text` is only called when a trace file is being
    /// written; annotations are not part of the trace hash.
    #[inline]
    pub fn annotate(&mut self, text: impl FnOnce() -> String) {
        if self.world.tracer.is_writing() {
            self.world.annotate(self.node, text());
        }
    }
}
