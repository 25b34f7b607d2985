//! Leaderless: a Dynamo-style key-value store with sloppy quorums, last-writer-wins timestamps,
//! read repair, hinted handoff and anti-entropy.
//!
//! # The service
//!
//! Registers behind the key-value service (`Get` and `Put`; `Cas` and `Append` are answered
//! `Response::Unsupported`, which the client records as a definite failure — they never take
//! effect, so the history checker sees nothing they could have changed). Every node serves every
//! request: there is no leader and no redirect. The store stays available under partition and
//! promises *eventual* consistency — after the faults heal, the replicas of a key converge to the
//! write with the highest timestamp, and an acknowledged write is only ever replaced by a
//! higher-timestamped one (the scenario checks `replica-convergence` and `no-lost-writes`). It
//! does **not** promise linearizability: with `r + w <= n`, with sloppy quorums, or with skewed
//! clocks, the `linearizable` check finds stale reads and lost updates on real runs — and even
//! strict quorums on true clocks can show a new/old inversion when a put reaches fewer than `w`
//! replicas, since reads have no write-back phase (see `scenarios/leaderless/README.md`).
//!
//! # The algorithm
//!
//! DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store" (SOSP 2007), §4.
//!
//! 1. **Placement** (§4.2–4.3). Nodes sit on a ring in id order. A key hashes (a fixed portable
//!    mix, [`key_position`], never std's hasher) to a ring position; its *preference list* is the
//!    `n` consecutive nodes from there. The nodes after them on the ring are its *fallbacks*.
//! 2. **Versions** (§4.4, simplified to last-writer-wins as in Cassandra and Dynamo's own LWW
//!    mode). The node that receives a `Put` coordinates it and stamps the value with a
//!    [`Version`]: its *local clock* (`ctx.local_time()`, made strictly increasing per node),
//!    then its node id, then the value (unique per write in dsim workloads) to break ties, so
//!    that versions are totally ordered and every replica picks the same winner. Clocks are
//!    skewed, drift and jump in dsim: a later write coordinated by a node whose clock is behind
//!    loses to an earlier one. That is LWW's documented weakness, and the scenarios show it.
//! 3. **Writes** (§4.5). The coordinator sends the version to every replica in the preference
//!    list (applying it itself at once if it is one). A replica keeps the higher of what it holds
//!    and what it receives, writes it to storage and **syncs before acknowledging**. The
//!    coordinator answers `Ok` after `w` acknowledgements, and re-sends to replicas silent for
//!    `replica_timeout` — after the answer too, until every replica (or, with sloppy quorums, a
//!    stand-in) holds the write, or `request_timeout`. A put that cannot gather `w` before
//!    `request_timeout` gets **no answer**: it may have reached some replicas and become visible
//!    later, so a definite failure would be a lie; the client times out (`unknown`).
//! 4. **Reads.** The coordinator asks the preference list and answers, after `r` replies, with
//!    the value of the highest version among them. A read that cannot gather `r` replies answers
//!    `Fail` (a read has no effect, so the failure is definite).
//! 5. **Read repair** (§4.7, `read_repair`). Replicas of the preference list that answered an
//!    older version than the newest seen (until `request_timeout`) are sent the newest.
//! 6. **Sloppy quorum and hinted handoff** (§4.6, `sloppy`). For each replica that has not
//!    answered within `replica_timeout`, the coordinator also sends the request to the next
//!    unused fallback on the ring, with a *hint* naming the intended replica, so that a write
//!    reaches `n` nodes whenever `n` are reachable. A fallback stores a hinted write apart from
//!    its own data (synced before acknowledging) and counts towards `w`; for reads it answers
//!    the newest version it holds for the key, hinted or not.
//!    Every `handoff_interval` a node re-sends each hinted write to its intended replica until
//!    that replica acknowledges it, then drops the hint.
//! 7. **Anti-entropy** (§4.7, replica synchronization). Dynamo compares Merkle trees; this
//!    model's key spaces are small, so every `anti_entropy_interval` a node sends each other
//!    replica of the keys it holds the versions of every key they both replicate, and the peer
//!    answers with the versions it holds that are newer or missing (push-pull). A node talks to
//!    at most `2 (n - 1)` peers per round, however large the cluster. This is what makes
//!    replicas converge after a put that reached fewer than `n` replicas (a crashed
//!    coordinator, a replica cut off for longer than `request_timeout`).
//! 8. **Recovery.** A restarted node reloads its data and hints from storage (what was synced)
//!    and resumes handoff and anti-entropy. Coordinator state is volatile: a crash forgets the
//!    requests in flight, whose clients time out.
//!
//! Duplicated client requests are filtered per coordinator (volatile): a node answers a given
//! `(client, request id)` at most once while it stays up.
//!
//! Unlike the other key-value protocols, neither the replicas nor this filter are a
//! [`sim_core::kv::KvStore`]: a replica holds one *versioned* value per key and keeps the
//! higher version (anti-entropy and read repair compare versions), which a store of plain
//! values cannot represent; and a store's session answers a retry of the client's last
//! request with its recorded response, while a coordinator here takes a request on before any
//! response exists (a put may never get one) and answers a duplicate not at all.
//!
//! # Bugs to inject
//!
//! - [`Bug::NoSyncBeforeAck`]: replicas acknowledge writes without syncing them. A crash of the
//!   replicas that acknowledged loses an acknowledged write: `no-lost-writes`.
//! - [`Bug::AckBeforeQuorum`]: the coordinator acknowledges a put after the first replica's
//!   acknowledgement (often its own), ignoring `w`. With strict quorums a later read from `r`
//!   other replicas misses the acknowledged write: `linearizable` reports a stale read.
//! - [`Bug::NoReplicaSync`]: nodes never run anti-entropy. A put acknowledged by `w` replicas
//!   while the others were cut off for longer than `request_timeout` reaches them only through
//!   a hint or a later read's repair; without either, `replica-convergence` finds replicas that
//!   disagree after the heal.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sim_core::check::convergence::last_real_heal;
use sim_core::check::{CheckResult, Linearizable, Verdict};
use sim_core::protocol::{
    rules, Check, CheckContext, CheckInput, CheckKind, CheckList, FieldError, NoParams, Protocol,
};
use sim_core::sim::NodeStatus;
use sim_core::{
    ClientId, Context, Key, NodeId, Outcome, Process, Request, RequestId, Response, RunResult,
    Service, SimConfig, SimDuration, SimTime, Value,
};

use crate::kit::record::{self, DurableRecord};

/// Most requests one node coordinates at once; more are left unanswered (the client times out).
pub const PENDING_MAX: usize = 10_000;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Replicas acknowledge a write before (without) syncing it.
    NoSyncBeforeAck,
    /// The coordinator acknowledges a put after the first replica acknowledgement.
    AckBeforeQuorum,
    /// Nodes never run anti-entropy: only hinted handoff and read repair spread writes.
    NoReplicaSync,
}

/// The protocol's parameters; `Leaderless()` alone gives the defaults (n 3, r 2, w 2, sloppy
/// quorums and read repair on).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Replicas per key (the preference list's length).
    pub n: u32,
    /// Replies a read waits for.
    pub r: u32,
    /// Acknowledgements a put waits for.
    pub w: u32,
    /// Sloppy quorum with hinted handoff: unanswered replicas are stood in for by fallbacks.
    pub sloppy: bool,
    /// Send the newest version to replicas that answered a read with an older one.
    pub read_repair: bool,
    /// How long the coordinator waits for a replica before re-sending (and, if `sloppy`,
    /// asking a fallback).
    pub replica_timeout: SimDuration,
    /// How long the coordinator works on a request before giving up (a put: no answer; a get:
    /// `Fail`).
    pub request_timeout: SimDuration,
    /// Period of re-sending hinted writes to their intended replicas.
    pub handoff_interval: SimDuration,
    /// Period of the anti-entropy exchange with the other replicas of the keys a node holds.
    pub anti_entropy_interval: SimDuration,
    /// A deliberate bug to inject (`None`: the correct protocol).
    pub bug: Option<Bug>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            n: 3,
            r: 2,
            w: 2,
            sloppy: true,
            read_repair: true,
            replica_timeout: SimDuration::from_millis(50),
            request_timeout: SimDuration::from_millis(400),
            handoff_interval: SimDuration::from_millis(200),
            anti_entropy_interval: SimDuration::from_millis(500),
            bug: None,
        }
    }
}

impl Params {
    /// Checks the ranges a scenario must respect on their own (the node count is checked by
    /// the scenario's validation); the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.n == 0 {
            return Err("leaderless `n` must be at least 1".into());
        }
        if self.r == 0 || self.r > self.n {
            return Err(format!(
                "leaderless `r` is `{}`, outside `1..=n` (`n` is `{}`)",
                self.r, self.n
            ));
        }
        if self.w == 0 || self.w > self.n {
            return Err(format!(
                "leaderless `w` is `{}`, outside `1..=n` (`n` is `{}`)",
                self.w, self.n
            ));
        }
        for (name, d) in [
            ("replica_timeout", self.replica_timeout),
            ("request_timeout", self.request_timeout),
            ("handoff_interval", self.handoff_interval),
            ("anti_entropy_interval", self.anti_entropy_interval),
        ] {
            if d == SimDuration::ZERO {
                return Err(format!("leaderless `{name}` must be longer than 0"));
            }
        }
        if self.replica_timeout >= self.request_timeout {
            return Err(
                "leaderless `replica_timeout` must be shorter than `request_timeout`".into(),
            );
        }
        Ok(())
    }

    /// True when every read quorum meets every write quorum (`r + w > n`).
    pub fn strict(&self) -> bool {
        self.r + self.w > self.n
    }
}

/// A write's version: the coordinator's local clock, then its id, then the value. The derived
/// order is lexicographic in that order, a total order every replica agrees on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The coordinator's local clock reading in nanoseconds (strictly increasing per node).
    pub ts: i64,
    pub node: u32,
    pub value: Value,
}

/// A key's ring position among `node_count` nodes: a fixed 64-bit mix (splitmix64's finalizer),
/// the same on every platform and build.
pub fn key_position(key: Key, node_count: u32) -> u32 {
    let mut z = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % u64::from(node_count.max(1))) as u32
}

/// The ring from `key`'s position: the first `n` nodes are its preference list, the rest its
/// fallbacks in order.
pub fn ring_from(key: Key, node_count: u32) -> Vec<NodeId> {
    let start = key_position(key, node_count);
    (0..node_count)
        .map(|i| NodeId((start + i) % node_count))
        .collect()
}

/// `key`'s preference list: `n` consecutive nodes on the ring.
pub fn preference_list(key: Key, n: u32, node_count: u32) -> Vec<NodeId> {
    let mut ring = ring_from(key, node_count);
    ring.truncate(n.min(node_count) as usize);
    ring
}

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Store `version` of `key`; `hint`: the intended replica this node stands in for. `op` 0:
    /// a read repair, not acknowledged.
    Write {
        op: u64,
        key: Key,
        version: Version,
        hint: Option<NodeId>,
    },
    /// The write of `op` is durable here.
    WriteAck { op: u64 },
    /// What do you hold for `key`?
    Read { op: u64, key: Key },
    /// The newest version held for the key (hinted writes included).
    ReadReply { op: u64, version: Option<Version> },
    /// A hinted write handed to its intended replica.
    Handoff { key: Key, version: Version },
    /// The intended replica holds `version` (or newer) of `key`.
    HandoffAck { key: Key, version: Version },
    /// Anti-entropy: the sender's versions of the keys both nodes replicate; `reply`: answer
    /// with what you hold that is newer or missing.
    Digest {
        entries: Vec<(Key, Version)>,
        reply: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Re-send to silent replicas (and ask fallbacks) for request `op`.
    Replica { op: u64 },
    /// Give up on request `op`.
    Request { op: u64 },
    /// Re-send hinted writes.
    Handoff,
    /// Exchange versions with the other replicas.
    AntiEntropy,
}

/// Where a [`Record`] is stored; the order is the order recovery reads them in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKey {
    Boot,
    Data(Key),
    Hint { intended: NodeId, key: Key },
}

/// One record of a node's durable store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// How many times the node has booted (makes request ids unique across restarts).
    Boot(u64),
    /// The node's version of a key it replicates.
    Data { key: Key, version: Version },
    /// A hinted write held for `intended`.
    Hint {
        intended: NodeId,
        key: Key,
        version: Version,
    },
}

impl DurableRecord for Record {
    type Key = RecordKey;

    fn key(&self) -> RecordKey {
        match *self {
            Record::Boot(_) => RecordKey::Boot,
            Record::Data { key, .. } => RecordKey::Data(key),
            Record::Hint { intended, key, .. } => RecordKey::Hint { intended, key },
        }
    }
}

/// What a node reports, for the checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// The node coordinates a put and stamped it with `version`.
    Coordinated { key: Key, version: Version },
    /// The node's own replica of `key` now holds `version`.
    Applied { key: Key, version: Version },
    /// The node restarted holding exactly these versions (what it had synced).
    Recovered { data: Vec<(Key, Version)> },
}

#[derive(Clone, Debug)]
enum Kind {
    Put(Version),
    Get,
}

/// A request this node coordinates.
#[derive(Clone, Debug)]
struct Pending {
    client: ClientId,
    request_id: RequestId,
    key: Key,
    kind: Kind,
    /// The key's ring from its position (preference list first).
    ring: Vec<NodeId>,
    /// Nodes asked so far, each with the replica it stands in for (`None`: itself a replica).
    asked: Vec<(NodeId, Option<NodeId>)>,
    /// Nodes that acknowledged the write (puts) or answered (gets), with their answer.
    answers: BTreeMap<NodeId, Option<Version>>,
    /// Fallbacks used so far (the next one is `ring[n + fallbacks]`).
    fallbacks: usize,
    answered: bool,
    /// Read repairs sent: (node, version).
    repaired: BTreeSet<(NodeId, Version)>,
}

impl Pending {
    /// Whether `replica` answered, or a node standing in for it did.
    fn covered(&self, replica: NodeId) -> bool {
        self.answers.contains_key(&replica)
            || self
                .asked
                .iter()
                .any(|(node, h)| *h == Some(replica) && self.answers.contains_key(node))
    }

    /// Whether every replica of the preference list (its first `n` nodes) is covered.
    fn all_covered(&self, n: usize) -> bool {
        self.ring[..n].iter().all(|r| self.covered(*r))
    }
}

/// One node of the store.
pub struct Leaderless {
    id: NodeId,
    params: Params,
    node_count: u32,
    /// Durable (mirrored in storage).
    data: BTreeMap<Key, Version>,
    hints: BTreeMap<(NodeId, Key), Version>,
    boot: u64,
    // Volatile.
    next_op: u64,
    last_ts: i64,
    pending: BTreeMap<u64, Pending>,
    /// Per client, the highest request id this node has taken on (duplicate filter).
    seen: BTreeMap<ClientId, RequestId>,
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
            pending: BTreeMap::new(),
            seen: BTreeMap::new(),
        }
    }

    /// The version this node holds for `key` as a replica.
    pub fn version(&self, key: Key) -> Option<Version> {
        self.data.get(&key).copied()
    }

    fn n(&self) -> usize {
        self.params.n.min(self.node_count) as usize
    }

    fn is_replica(&self, key: Key, node: NodeId) -> bool {
        preference_list(key, self.params.n, self.node_count).contains(&node)
    }

    fn sync_writes(&self) -> bool {
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
    fn store(&mut self, ctx: &mut Context<'_, Self>, key: Key, version: Version) -> bool {
        if self.data.get(&key).is_some_and(|v| *v >= version) {
            return false;
        }
        self.data.insert(key, version);
        record::put(ctx, Record::Data { key, version });
        ctx.observe(Observation::Applied { key, version });
        true
    }

    /// Sends `msg` to `to`, or handles it at once when `to` is this node (one level deep: a
    /// local write's acknowledgement is handled directly, and an acknowledgement sends nothing
    /// back to itself).
    fn send(&mut self, ctx: &mut Context<'_, Self>, to: NodeId, msg: Msg) {
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

    /// A replica (or, with a hint, a stand-in) stores a write, syncs, and acknowledges it
    /// unless it is a read repair (`op` 0).
    fn on_write(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
        key: Key,
        version: Version,
        hint: Option<NodeId>,
    ) {
        match hint {
            Some(intended) if intended != self.id => {
                let slot = (intended, key);
                if self.hints.get(&slot).is_none_or(|v| *v < version) {
                    self.hints.insert(slot, version);
                    record::put(
                        ctx,
                        Record::Hint {
                            intended,
                            key,
                            version,
                        },
                    );
                }
            }
            _ => {
                self.store(ctx, key, version);
            }
        }
        if self.sync_writes() {
            ctx.sync();
        }
        if op != 0 {
            self.send(ctx, from, Msg::WriteAck { op });
        }
    }

    /// Answers a read with the newest version held for the key, hinted writes included.
    fn on_read(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, op: u64, key: Key) {
        let hinted = self
            .hints
            .iter()
            .filter(|((_, k), _)| *k == key)
            .map(|(_, v)| *v)
            .max();
        let version = self.data.get(&key).copied().max(hinted);
        self.send(ctx, from, Msg::ReadReply { op, version });
    }

    /// The intended replica of a hinted write stores it and says what it now holds.
    fn on_handoff(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        key: Key,
        version: Version,
    ) {
        self.store(ctx, key, version);
        if self.sync_writes() {
            ctx.sync();
        }
        let held = self.data.get(&key).copied().unwrap_or(version);
        ctx.send(from, Msg::HandoffAck { key, version: held });
    }

    /// The intended replica holds the hinted write (or newer): the hint is dropped.
    fn on_handoff_ack(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        key: Key,
        version: Version,
    ) {
        let slot = (from, key);
        if self.hints.get(&slot).is_some_and(|v| *v <= version) {
            self.hints.remove(&slot);
            ctx.storage().remove(&RecordKey::Hint {
                intended: from,
                key,
            });
        }
    }

    /// Anti-entropy: stores the newer versions of the keys this node replicates, and, if
    /// asked, answers with what it holds that the peer lacks.
    fn on_digest(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        entries: Vec<(Key, Version)>,
        reply: bool,
    ) {
        let mut theirs: BTreeMap<Key, Version> = BTreeMap::new();
        let mut changed = false;
        for (key, version) in entries {
            if !self.is_replica(key, self.id) {
                continue;
            }
            theirs.insert(key, version);
            changed |= self.store(ctx, key, version);
        }
        if changed && self.sync_writes() {
            ctx.sync();
        }
        if reply {
            self.digest_reply(ctx, from, &theirs);
        }
    }

    /// The versions this node holds of the keys `to` replicates that are newer than, or
    /// missing from, `theirs` (nothing is sent when there are none).
    fn digest_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        to: NodeId,
        theirs: &BTreeMap<Key, Version>,
    ) {
        let newer: Vec<(Key, Version)> = self
            .data
            .iter()
            .filter(|(k, v)| self.is_replica(**k, to) && theirs.get(k).is_none_or(|t| t < *v))
            .map(|(k, v)| (*k, *v))
            .collect();
        if !newer.is_empty() {
            ctx.send(
                to,
                Msg::Digest {
                    entries: newer,
                    reply: false,
                },
            );
        }
    }

    /// A replica acknowledged a write or answered a read of request `op`.
    fn on_answer(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
        version: Option<Version>,
    ) {
        let Some(p) = self.pending.get_mut(&op) else {
            return; // Stale: the request was answered and dropped, or timed out.
        };
        if !p.asked.iter().any(|(node, _)| *node == from) {
            return; // Not asked (a duplicate of an old op id cannot match; defensive).
        }
        p.answers.insert(from, version);
        match p.kind {
            Kind::Put(_) => self.on_put_answer(ctx, op),
            Kind::Get => self.on_get_answer(ctx, op),
        }
    }

    /// A put answers `Ok` after `w` acknowledgements, and is dropped once every replica (or
    /// a stand-in) holds it.
    fn on_put_answer(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let n = self.n();
        let ack_first = self.params.bug == Some(Bug::AckBeforeQuorum);
        let needed = if ack_first { 1 } else { self.params.w as usize };
        let p = self.pending.get_mut(&op).expect("a pending put");
        if !p.answered && p.answers.len() >= needed {
            p.answered = true;
            ctx.reply(p.client, p.request_id, Response::Ok);
        }
        // The write goes on to every replica (or a stand-in) after the answer.
        if p.answered && p.all_covered(n) {
            self.pending.remove(&op);
        }
    }

    /// A get answers the newest version after `r` replies, then read-repairs the replicas
    /// that answered older ones.
    fn on_get_answer(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let r = self.params.r as usize;
        let read_repair = self.params.read_repair;
        let p = self.pending.get_mut(&op).expect("a pending get");
        let newest = p.answers.values().flatten().max().copied();
        if !p.answered && p.answers.len() >= r {
            p.answered = true;
            ctx.reply(
                p.client,
                p.request_id,
                Response::Value(newest.map(|v| v.value)),
            );
        }
        if p.answered && read_repair {
            if let Some(newest) = newest {
                self.read_repair(ctx, op, newest);
            }
        }
    }

    /// Sends `newest` to the replicas of the preference list that answered read `op` with
    /// an older version (or none), each at most once per version.
    fn read_repair(&mut self, ctx: &mut Context<'_, Self>, op: u64, newest: Version) {
        let n = self.n();
        let p = self.pending.get_mut(&op).expect("a pending get");
        let key = p.key;
        let stale: Vec<NodeId> = p
            .answers
            .iter()
            .filter(|(node, v)| {
                p.ring[..n].contains(node)
                    && v.is_none_or(|v| v < newest)
                    && !p.repaired.contains(&(**node, newest))
            })
            .map(|(node, _)| *node)
            .collect();
        for node in &stale {
            p.repaired.insert((*node, newest));
        }
        for node in stale {
            let msg = Msg::Write {
                op: 0,
                key,
                version: newest,
                hint: None,
            };
            self.send(ctx, node, msg);
        }
    }

    /// The message asking `to` (standing in for `hint`) for request `p`'s part.
    fn request_msg(op: u64, p: &Pending, hint: Option<NodeId>) -> Msg {
        match p.kind {
            Kind::Put(version) => Msg::Write {
                op,
                key: p.key,
                version,
                hint,
            },
            Kind::Get => Msg::Read { op, key: p.key },
        }
    }

    /// The replica timeout of `op`: re-send to the silent, and, with sloppy quorums, ask one
    /// more fallback for each silent replica not yet stood in for by an answering node.
    fn on_replica_timeout(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let n = self.n();
        let sloppy = self.params.sloppy;
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        match p.kind {
            // An answered read needs nothing more (read repair goes on as replies arrive).
            Kind::Get if p.answered => return,
            Kind::Get => {}
            // A put goes on until every replica, or a stand-in, holds it.
            Kind::Put(_) if p.all_covered(n) => {
                self.pending.remove(&op);
                return;
            }
            Kind::Put(_) => {}
        }
        let mut sends: Vec<(NodeId, Msg)> = Vec::new();
        for (node, hint) in &p.asked {
            if !p.answers.contains_key(node) {
                sends.push((*node, Self::request_msg(op, p, *hint)));
            }
        }
        if sloppy {
            for i in 0..n {
                let replica = p.ring[i];
                if p.covered(replica) || n + p.fallbacks >= p.ring.len() {
                    continue;
                }
                let fallback = p.ring[n + p.fallbacks];
                p.fallbacks += 1;
                p.asked.push((fallback, Some(replica)));
                sends.push((fallback, Self::request_msg(op, p, Some(replica))));
            }
        }
        ctx.set_timer(self.params.replica_timeout, Timer::Replica { op });
        for (to, msg) in sends {
            self.send(ctx, to, msg);
        }
    }

    fn on_request_timeout(&mut self, ctx: &mut Context<'_, Self>, op: u64) {
        let Some(p) = self.pending.remove(&op) else {
            return;
        };
        if !p.answered {
            if let Kind::Get = p.kind {
                // A read changes nothing: failing it is definite. A put stays silent.
                ctx.reply(p.client, p.request_id, Response::Fail);
            }
        }
    }

    /// Re-sends every hinted write to its intended replica.
    fn handoff(&mut self, ctx: &mut Context<'_, Self>) {
        let hints: Vec<((NodeId, Key), Version)> =
            self.hints.iter().map(|(s, v)| (*s, *v)).collect();
        for ((intended, key), version) in hints {
            ctx.send(intended, Msg::Handoff { key, version });
        }
        ctx.set_timer(self.params.handoff_interval, Timer::Handoff);
    }

    /// Sends every other replica of the keys this node holds the versions of the keys they
    /// share.
    fn anti_entropy(&mut self, ctx: &mut Context<'_, Self>) {
        let peers: BTreeSet<NodeId> = self
            .data
            .keys()
            .flat_map(|key| preference_list(*key, self.params.n, self.node_count))
            .filter(|node| *node != self.id)
            .collect();
        for peer in peers {
            let entries: Vec<(Key, Version)> = self
                .data
                .iter()
                .filter(|(key, _)| self.is_replica(**key, peer))
                .map(|(k, v)| (*k, *v))
                .collect();
            ctx.send(
                peer,
                Msg::Digest {
                    entries,
                    reply: true,
                },
            );
        }
        ctx.set_timer(self.params.anti_entropy_interval, Timer::AntiEntropy);
    }

    fn coordinate(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        key: Key,
        kind: Kind,
    ) {
        if self.pending.len() >= PENDING_MAX {
            return;
        }
        let op = self.next_op;
        self.next_op += 1;
        let ring = ring_from(key, self.node_count);
        let asked: Vec<(NodeId, Option<NodeId>)> =
            ring[..self.n()].iter().map(|node| (*node, None)).collect();
        let p = Pending {
            client,
            request_id,
            key,
            kind,
            ring,
            asked: asked.clone(),
            answers: BTreeMap::new(),
            fallbacks: 0,
            answered: false,
            repaired: BTreeSet::new(),
        };
        let msg = Self::request_msg(op, &p, None);
        self.pending.insert(op, p);
        ctx.set_timer(self.params.replica_timeout, Timer::Replica { op });
        ctx.set_timer(self.params.request_timeout, Timer::Request { op });
        // Every replica gets the request, even when the local answer (if this node is one)
        // completes it at once.
        for (node, _) in &asked {
            self.send(ctx, *node, msg.clone());
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
            Timer::Request { op } => self.on_request_timeout(ctx, op),
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
        let key = match request {
            Request::Get { key } | Request::Put { key, .. } => key,
            _ => {
                ctx.reply(client, request_id, Response::Unsupported);
                return;
            }
        };
        if self
            .seen
            .get(&client)
            .is_some_and(|last| *last >= request_id)
        {
            return; // A duplicate of a request already taken on.
        }
        let kind = match request {
            Request::Put { value, .. } => {
                let ts = ctx.local_time().0.max(self.last_ts.saturating_add(1));
                self.last_ts = ts;
                let version = Version {
                    ts,
                    node: self.id.0,
                    value,
                };
                ctx.observe(Observation::Coordinated { key, version });
                Kind::Put(version)
            }
            _ => Kind::Get,
        };
        self.seen.insert(client, request_id);
        self.coordinate(ctx, client, request_id, key, kind);
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// Every key the run touched, with the versions of each put that coordinators stamped.
fn coordinated(result: &RunResult<Observation>) -> BTreeMap<(Key, Value), Version> {
    result
        .observations
        .iter()
        .filter_map(|o| match o.value {
            Observation::Coordinated { key, version } => Some(((key, version.value), version)),
            _ => None,
        })
        .collect()
}

/// Replays the observations into each node's replica state at the end, with the time of the
/// last change of each key at each node.
fn final_states(result: &RunResult<Observation>) -> Vec<BTreeMap<Key, (Version, SimTime)>> {
    let mut states: Vec<BTreeMap<Key, (Version, SimTime)>> =
        vec![BTreeMap::new(); result.node_count as usize];
    for o in &result.observations {
        let s = &mut states[o.node.index()];
        match &o.value {
            Observation::Applied { key, version } => {
                s.insert(*key, (*version, o.time));
            }
            Observation::Recovered { data } => {
                let before = std::mem::take(s);
                for (key, version) in data {
                    // A key recovered at the version it held keeps its time of change.
                    let t = match before.get(key) {
                        Some((v, t)) if v == version => *t,
                        _ => o.time,
                    };
                    s.insert(*key, (*version, t));
                }
            }
            Observation::Coordinated { .. } => {}
        }
    }
    states
}

/// Keys written or coordinated in the run.
fn keys_of(result: &RunResult<Observation>) -> BTreeSet<Key> {
    let mut keys: BTreeSet<Key> = result
        .history
        .ops
        .iter()
        .filter_map(|op| match op.request {
            Request::Put { key, .. } => Some(key),
            _ => None,
        })
        .collect();
    for o in &result.observations {
        if let Observation::Applied { key, .. } | Observation::Coordinated { key, .. } = o.value {
            keys.insert(key);
        }
    }
    keys
}

fn ms(t: u64) -> f64 {
    t as f64 / 1e6
}

/// `replica-convergence`: once the faults have healed and the last put was invoked (the later
/// of the two, "quiet"), every live replica of each key holds the same version by `quiet +
/// within` and until the end. `unknown` if the run ends before `quiet + within`.
pub fn check_replica_convergence(
    result: &RunResult<Observation>,
    n: u32,
    within: SimDuration,
) -> CheckResult {
    const NAME: &str = "replica-convergence";
    let heal = last_real_heal(&result.fault_log);
    let last_put = result
        .history
        .ops
        .iter()
        .filter(|op| matches!(op.request, Request::Put { .. }))
        .map(|op| op.invoke)
        .max()
        .unwrap_or(SimTime::ZERO);
    let quiet = heal.max(last_put);
    let deadline = quiet.saturating_add(within);
    if result.end < deadline {
        return CheckResult::new(
            NAME,
            Verdict::Unknown,
            format!(
                "the run ended at {:.1} ms, before the heal/last put ({:.1} ms) + within",
                ms(result.end.0),
                ms(quiet.0)
            ),
        );
    }
    let states = final_states(result);
    let live = |node: NodeId| result.final_status[node.index()] == NodeStatus::Up;
    let keys = keys_of(result);
    let mut converged_at = SimTime::ZERO;
    for &key in &keys {
        let replicas: Vec<NodeId> = preference_list(key, n, result.node_count)
            .into_iter()
            .filter(|r| live(*r))
            .collect();
        let held: Vec<(NodeId, Option<(Version, SimTime)>)> = replicas
            .iter()
            .map(|r| (*r, states[r.index()].get(&key).copied()))
            .collect();
        let first = held.first().map(|(_, h)| h.map(|(v, _)| v));
        if let Some((node, h)) = held.iter().find(|(_, h)| Some(h.map(|(v, _)| v)) != first) {
            return CheckResult::new(
                NAME,
                Verdict::Fail,
                format!(
                    "key {key}: replica {} holds {:?} but replica {node} holds {:?} at the end ({:.1} ms; quiet since {:.1} ms)",
                    held[0].0,
                    first.flatten(),
                    h.map(|(v, _)| v),
                    ms(result.end.0),
                    ms(quiet.0)
                ),
            );
        }
        let last = held
            .iter()
            .filter_map(|(_, h)| h.map(|(_, t)| t))
            .max()
            .unwrap_or(SimTime::ZERO);
        if last > deadline {
            return CheckResult::new(
                NAME,
                Verdict::Fail,
                format!(
                    "key {key}: replicas converged only at {:.1} ms, after quiet ({:.1} ms) + within",
                    ms(last.0),
                    ms(quiet.0)
                ),
            );
        }
        converged_at = converged_at.max(last);
    }
    CheckResult::new(
        NAME,
        Verdict::Pass,
        format!(
            "{} keys: every live replica holds the same version; quiet at {:.1} ms, last change at {:.1} ms",
            keys.len(),
            ms(quiet.0),
            ms(converged_at.0)
        ),
    )
    .metric("keys", keys.len() as f64)
    .metric("quiet_at_ms", ms(quiet.0))
    .metric("converged_at_ms", ms(converged_at.0))
}

/// `no-lost-writes`: for every put acknowledged `ok`, the newest version of its key held by a
/// live replica at the end is at least the put's version — an acknowledged write is only ever
/// replaced by a higher-timestamped one, never lost.
pub fn check_no_lost_writes(result: &RunResult<Observation>, n: u32) -> CheckResult {
    const NAME: &str = "no-lost-writes";
    let versions = coordinated(result);
    let states = final_states(result);
    let live = |node: NodeId| result.final_status[node.index()] == NodeStatus::Up;
    let mut acked = 0usize;
    let mut unchecked = 0usize;
    for op in &result.history.ops {
        let (Request::Put { key, value }, Some((t, Outcome::Ok(_)))) =
            (&op.request, &op.completion)
        else {
            continue;
        };
        acked += 1;
        let Some(version) = versions.get(&(*key, *value)) else {
            return CheckResult::new(
                NAME,
                Verdict::Fail,
                format!("put of {value} at key {key} was acknowledged but no node coordinated it"),
            );
        };
        let replicas: Vec<NodeId> = preference_list(*key, n, result.node_count)
            .into_iter()
            .filter(|r| live(*r))
            .collect();
        if replicas.is_empty() {
            unchecked += 1;
            continue;
        }
        let newest = replicas
            .iter()
            .filter_map(|r| states[r.index()].get(key).map(|(v, _)| *v))
            .max();
        if newest.is_none_or(|v| v < *version) {
            return CheckResult::new(
                NAME,
                Verdict::Fail,
                format!(
                    "put of {value} at key {key} (version ts {} node {}) acknowledged to {} at {:.1} ms is lost: the live replicas {replicas:?} end with {newest:?}",
                    version.ts,
                    version.node,
                    op.client,
                    ms(t.0),
                ),
            );
        }
    }
    let verdict = if acked > 0 && unchecked == acked {
        Verdict::Unknown
    } else {
        Verdict::Pass
    };
    CheckResult::new(
        NAME,
        verdict,
        format!(
            "{acked} acknowledged puts, each held or superseded at the end ({unchecked} on keys without a live replica)"
        ),
    )
    .metric("acked_puts", acked as f64)
}

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for Leaderless {
    const NAME: &'static str = "Leaderless";
    const CLI_NAME: &'static str = "leaderless";
    const SUMMARY: &'static str = "leaderless Dynamo-style quorum store: preference lists, R/W quorums, LWW by local clock, read repair, sloppy quorum with hinted handoff, anti-entropy";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Leaderless {
        Leaderless::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        let nodes = config.node_count;
        if p.n == 0 || p.n > nodes {
            return Err(FieldError::new(
                "n",
                format!("leaderless `n` is `{}`, outside `1..={nodes}`", p.n),
            )
            .hint(format!("each key is replicated on `n` consecutive nodes of the ring, so `n` is at most `nodes` (`{nodes}`)")));
        }
        for (name, q) in [("r", p.r), ("w", p.w)] {
            if q == 0 || q > p.n {
                return Err(FieldError::new(
                    name,
                    format!("leaderless `{name}` is `{q}`, outside `1..={}`", p.n),
                )
                .hint(format!("a quorum counts replies from the `n` (`{}`) replicas of a key; `r + w > n` makes reads see the latest acknowledged write", p.n)));
            }
        }
        rules::positive("protocol", "replica_timeout", p.replica_timeout)?;
        rules::positive("protocol", "request_timeout", p.request_timeout)?;
        rules::positive("protocol", "handoff_interval", p.handoff_interval)?;
        rules::positive("protocol", "anti_entropy_interval", p.anti_entropy_interval)?;
        if p.replica_timeout >= p.request_timeout {
            return Err(FieldError::new(
                "replica_timeout",
                format!(
                    "leaderless `replica_timeout` (`{}`) is not below `request_timeout` (`{}`)",
                    p.replica_timeout, p.request_timeout
                ),
            )
            .hint("the coordinator re-sends (and asks fallbacks) every `replica_timeout` until `request_timeout`: make it a fraction, e.g. an eighth"));
        }
        p.validate().map_err(|e| FieldError::new("", e))
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<ReplicaConvergence>();
        list.add::<NoLostWrites>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }
}

/// `replica-convergence`: once faults have healed and puts stopped, every live replica of
/// each key holds the same version within `within`.
pub struct ReplicaConvergence;

/// [`ReplicaConvergence`]'s parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaConvergenceParams {
    pub within: SimDuration,
}

impl CheckKind for ReplicaConvergence {
    const NAME: &'static str = "replica-convergence";
    const SUMMARY: &'static str = "once faults heal and puts stop, every live replica of each key holds the same version within `within`";
    type Params = ReplicaConvergenceParams;

    fn validate(p: &ReplicaConvergenceParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        rules::positive(cx.path, "within", p.within)
    }
}

impl Check<Leaderless> for ReplicaConvergence {
    fn run(p: &ReplicaConvergenceParams, input: &CheckInput<'_, Leaderless>) -> CheckResult {
        check_replica_convergence(input.result, input.params.n, p.within)
    }
}

/// `no-lost-writes`: every acknowledged put is held, or superseded by a higher version, at the
/// end.
pub struct NoLostWrites;

impl CheckKind for NoLostWrites {
    const NAME: &'static str = "no-lost-writes";
    const SUMMARY: &'static str =
        "every acknowledged put is held, or superseded by a higher version, at the end";
    type Params = NoParams;
}

impl Check<Leaderless> for NoLostWrites {
    fn run(_: &NoParams, input: &CheckInput<'_, Leaderless>) -> CheckResult {
        check_no_lost_writes(input.result, input.params.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_default_and_validate() {
        let p = Params::default();
        assert!(p.validate().is_ok());
        assert!(p.strict());
        let bad = Params { r: 4, ..p.clone() };
        assert!(bad.validate().unwrap_err().contains("`r`"));
        let bad = Params { w: 0, ..p.clone() };
        assert!(bad.validate().unwrap_err().contains("`w`"));
        let bad = Params { n: 0, ..p.clone() };
        assert!(bad.validate().unwrap_err().contains("`n`"));
        let bad = Params {
            replica_timeout: SimDuration::from_secs(1),
            ..p
        };
        assert!(bad.validate().unwrap_err().contains("`replica_timeout`"));
    }

    #[test]
    fn placement_is_fixed_and_consecutive() {
        // Pinned: a change of the hash would silently move every shipped scenario's keys.
        let positions: Vec<u32> = (0..6).map(|k| key_position(k, 5)).collect();
        assert_eq!(positions, vec![0, 0, 0, 3, 3, 3]);
        let positions: Vec<u32> = (0..6).map(|k| key_position(k, 3)).collect();
        assert_eq!(positions, vec![1, 2, 1, 0, 1, 2]);
        for key in 0..20 {
            let pl = preference_list(key, 3, 5);
            assert_eq!(pl.len(), 3);
            for w in pl.windows(2) {
                assert_eq!((w[0].0 + 1) % 5, w[1].0);
            }
            assert_eq!(ring_from(key, 5).len(), 5);
        }
        assert_eq!(
            preference_list(7, 5, 3).len(),
            3,
            "capped at the node count"
        );
    }

    #[test]
    fn versions_order_by_clock_then_node_then_value() {
        let v = |ts, node, value| Version { ts, node, value };
        assert!(v(1, 9, 9) < v(2, 0, 0));
        assert!(v(1, 0, 9) < v(1, 1, 0));
        assert!(v(1, 1, 1) < v(1, 1, 2));
    }
}
