//! One node of the leaderless store as a `sim_core::Process`: its durable and volatile state,
//! booting and recovery, storing a version, and routing each message to the replica's
//! handlers (`replica.rs`) or the coordinator's (`coordinator.rs`).

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use sim_core::{ClientId, Context, Key, NodeId, Process, Request, RequestId, SimDuration};

use super::messages::{Msg, Observation, Timer, Version};
use super::params::{Bug, Params};
use super::pending::Pending;
use super::record::{Record, RecordKey};
use super::ring::in_preference_list;
use crate::kit::record;
use crate::kit::vec_map::VecMap;

/// One node of the store.
pub struct Leaderless {
    pub(super) id: NodeId,
    pub(super) params: Params,
    pub(super) node_count: u32,
    /// Durable (mirrored in storage).
    pub(super) data: BTreeMap<Key, Version>,
    pub(super) hints: BTreeMap<(NodeId, Key), Version>,
    pub(super) boot: u64,
    // Volatile.
    pub(super) next_op: u64,
    pub(super) last_ts: i64,
    pub(super) pending: VecMap<u64, Pending>,
    /// Per client, the highest request id this node has taken on (duplicate filter).
    pub(super) seen: BTreeMap<ClientId, RequestId>,
}

impl Leaderless {
    pub fn new(id: NodeId, params: &Params) -> Leaderless {
        assert!(
            params.validate().is_ok(),
            "invalid leaderless params: {params:?}"
        );
        Leaderless {
            id,
            params: params.clone(),
            node_count: 0,
            data: BTreeMap::new(),
            hints: BTreeMap::new(),
            boot: 0,
            next_op: 1,
            last_ts: i64::MIN,
            pending: VecMap::new(),
            seen: BTreeMap::new(),
        }
    }

    /// The version this node holds for `key` as a replica.
    pub fn version(&self, key: Key) -> Option<Version> {
        self.data.get(&key).copied()
    }

    pub(super) fn n(&self) -> usize {
        self.params.n.min(self.node_count) as usize
    }

    pub(super) fn is_replica(&self, key: Key, node: NodeId) -> bool {
        in_preference_list(key, self.params.n, self.node_count, node)
    }

    pub(super) fn sync_writes(&self) -> bool {
        self.params.bug != Some(Bug::NoSyncBeforeAck)
    }

    /// Starts the periodic timers and the boot count (shared by start and recovery).
    fn boot(&mut self, ctx: &mut Context<'_, Self>) {
        self.node_count = ctx.node_count();
        self.boot += 1;
        record::put(ctx, Record::Boot(self.boot));
        ctx.sync();
        self.next_op = self.boot << 32 | 1;
        ctx.set_timer(self.params.handoff_interval, Timer::Handoff);
        let first = ctx.rng().below(self.params.anti_entropy_interval.0.max(1));
        if self.params.bug != Some(Bug::NoReplicaSync) {
            ctx.set_timer(SimDuration(first + 1), Timer::AntiEntropy);
        }
    }

    /// Stores `version` of `key` in this node's own replica if newer; true if it changed.
    /// Does not sync.
    pub(super) fn store(
        &mut self,
        ctx: &mut Context<'_, Self>,
        key: Key,
        version: Version,
    ) -> bool {
        match self.data.entry(key) {
            Entry::Occupied(held) if *held.get() >= version => return false,
            Entry::Occupied(mut held) => {
                held.insert(version);
            }
            Entry::Vacant(slot) => {
                slot.insert(version);
            }
        }
        record::put(ctx, Record::Data { key, version });
        ctx.observe(Observation::Applied { key, version });
        true
    }

    /// Sends `msg` to `to`, or handles it at once when `to` is this node (one level deep: a
    /// local write's acknowledgement is handled directly, and an acknowledgement sends nothing
    /// back to itself).
    pub(super) fn send(&mut self, ctx: &mut Context<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.handle(ctx, to, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    fn handle(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Write {
                op,
                key,
                version,
                hint,
            } => self.on_write(ctx, from, op, key, version, hint),
            Msg::WriteAck { op } => self.on_answer(ctx, from, op, None),
            Msg::Read { op, key } => self.on_read(ctx, from, op, key),
            Msg::ReadReply { op, version } => self.on_answer(ctx, from, op, version),
            Msg::Handoff { key, version } => self.on_handoff(ctx, from, key, version),
            Msg::HandoffAck { key, version } => self.on_handoff_ack(ctx, from, key, version),
            Msg::Digest { entries, reply } => self.on_digest(ctx, from, entries, reply),
        }
    }
}

impl Process for Leaderless {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = RecordKey;
    type StoreValue = Record;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.boot(ctx);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        for r in record::records(ctx) {
            match r {
                Record::Boot(b) => self.boot = b,
                Record::Data { key, version } => {
                    self.data.insert(key, version);
                }
                Record::Hint {
                    intended,
                    key,
                    version,
                } => {
                    self.hints.insert((intended, key), version);
                }
            }
        }
        let data = self.data.iter().map(|(k, v)| (*k, *v)).collect();
        ctx.observe(Observation::Recovered { data });
        self.boot(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Replica { op } => self.on_replica_timeout(ctx, op),
            Timer::Handoff => self.handoff(ctx),
            Timer::AntiEntropy => self.anti_entropy(ctx),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        self.take_on(ctx, client, request_id, request);
    }
}
