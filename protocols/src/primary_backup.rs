//! Primary-backup replication of a key-value store, with a fixed primary and no failover.
//!
//! # The service
//!
//! A map of registers (`Key → Value`) behind the key-value service: `Get`, `Put` and `Cas`
//! (compare-and-set). Every operation is linearizable: it takes effect at one instant between
//! its invocation and its reply. The scenario check `linearizable` verifies exactly that on the
//! clients' history.
//!
//! # The algorithm
//!
//! Alsberg and Day ("A principle for resilient sharing of distributed resources", ICSE 1976)
//! introduced the scheme and Budhiraja, Marzullo, Schneider and Toueg ("The primary-backup
//! approach", in *Distributed Systems*, 2nd ed., 1993) gave it its standard form: one server,
//! the *primary*, serves every client request; the others, the *backups*, hold copies of its
//! state so that it survives the primary's failure. Clients send to the primary; a backup that
//! receives a request tells the client where the primary is.
//!
//! Here node 0 is the primary, always. It is a state machine over the map:
//!
//! 1. A request arrives. Retries are filtered first (see below).
//! 2. The primary applies it to the map (a [`KvStore`], the state machine every replicated
//!    key-value protocol applies). A put, and a cas whose expectation holds, is an
//!    *update*: it gets the next sequence number, is appended to an in-memory log of recent
//!    updates, and the new register value and the sequence number are written to storage.
//! 3. The store records the reply in the client's session, the primary writes that too, **syncs**, and only
//!    then replies. Whatever a client saw acknowledged is durable.
//! 4. Every `replication_delay` (on its local clock) the primary forwards to each backup the
//!    updates that backup has not acknowledged (`Append`), from its log, in sequence order —
//!    or, when the log no longer reaches back that far (it is bounded, and empty after a
//!    restart), the whole map (`Snapshot`). Forwarding in batches on a timer is what makes the
//!    backups lag realistically behind the primary.
//! 5. A backup applies updates strictly in sequence order, persists them (registers and its
//!    sequence number, then a sync) and acknowledges the highest sequence number it holds
//!    (`Ack`). Updates it already has are skipped, so duplicated and re-sent batches are
//!    harmless; the primary re-sends until acknowledged, so lost ones are repaired.
//!
//! A backup answers every client request with `Redirect { leader: Some(0) }`; the client then
//! resends the same request (same request id) to the primary.
//!
//! **Retries.** A redirected request, or a duplicated message, may reach the primary twice.
//! The primary keeps, per client, the id of the last request it served and its reply (clients
//! have one request outstanding at a time, with increasing ids) — the store's client sessions,
//! as in Raft and Multi-Paxos — durable like the map: the same id again gets the recorded
//! reply without being applied again, and an older id is ignored (its client has moved on).
//! Without this, a cas that failed and was answered could succeed when its duplicate arrives
//! later.
//!
//! **Crashes.** A restarted node rebuilds its map, its sequence number and (on the primary) the
//! reply table from storage ([`Process::on_recover`]); because every handler syncs before it
//! replies or acknowledges, that is exactly the state it had acknowledged. The primary's log and
//! its knowledge of what the backups hold are volatile: after a restart it brings the backups
//! up to date with snapshots.
//!
//! **No failover.** Nothing ever promotes a backup. While the primary is down, partitioned from
//! a client or paused, that client's requests time out (`unknown` in the history): the service
//! is unavailable, but never inconsistent. Electing a new primary safely needs a view change
//! (viewstamped replication, Raft), which is what later protocols add.
//!
//! # Bugs to inject
//!
//! - [`Bug::StaleBackupReads`]: backups answer `Get` themselves from their lagging copy instead
//!   of redirecting. A read that follows an acknowledged put can miss it — a stale read.
//! - [`Bug::AckBeforeSync`]: the primary replies before syncing and syncs only on its next
//!   replication tick (a group commit that acknowledges too early). A crash in between loses
//!   acknowledged writes; after the restart, reads return the old values.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use sim_core::check::Linearizable;
use sim_core::kv::{KvStore, Seen};

use crate::kit::record::{self, DurableRecord};
use sim_core::protocol::{rules, CheckList, FieldError, Protocol};
use sim_core::{
    ClientId, Context, Key, NodeId, Process, Request, RequestId, Response, Service, SimConfig,
    SimDuration, Value,
};

/// The primary: node 0, always.
pub const PRIMARY: NodeId = NodeId(0);
/// Most updates the primary keeps in memory for catching backups up; a backup further behind
/// gets a snapshot.
pub const LOG_ENTRIES_MAX: usize = 4096;
/// Most updates one `Append` carries; the rest follow on later ticks.
pub const APPEND_UPDATES_MAX: usize = 1024;

/// Deliberately broken variants, for showing that the `linearizable` check catches them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Backups serve `Get` from their own, lagging, copy instead of redirecting to the primary.
    StaleBackupReads,
    /// The primary replies before syncing and syncs only on its next replication tick: a crash
    /// loses acknowledged writes.
    AckBeforeSync,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Time between two forwarding rounds to the backups (primary's local clock): how far the
    /// backups lag behind.
    pub replication_delay: SimDuration,
    /// A deliberate bug to inject (`None`: the correct protocol).
    #[serde(default)]
    pub bug: Option<Bug>,
}

impl Default for Params {
    /// The correct protocol, forwarding every 5 ms.
    fn default() -> Params {
        Params::new(SimDuration::from_millis(5))
    }
}

impl Params {
    /// The correct protocol with this replication delay.
    pub fn new(replication_delay: SimDuration) -> Params {
        Params {
            replication_delay,
            bug: None,
        }
    }

    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.replication_delay == SimDuration::ZERO {
            return Err("primary-backup `replication_delay` must be longer than 0".into());
        }
        Ok(())
    }
}

/// One update: set `key` to `value`.
pub type Update = (Key, Value);

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Primary → backup: the updates numbered `first, first + 1, …`.
    Append { first: u64, updates: Vec<Update> },
    /// Primary → backup: the whole map after update `seq`, sorted by key.
    Snapshot { seq: u64, registers: Vec<Update> },
    /// Backup → primary: the backup holds every update up to `applied`, durably.
    Ack { applied: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The primary forwards updates to the backups.
    Replicate,
}

/// Where a [`Record`] is stored; the order is the order recovery reads them in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKey {
    Seq,
    Register(Key),
    Client(u32),
}

/// One record of a node's durable store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The number of updates applied.
    Seq(u64),
    /// A register's value.
    Register { key: Key, value: Value },
    /// Primary: a client's session, its last request served and the reply.
    Reply {
        client: u32,
        request: RequestId,
        response: Response,
    },
}

impl DurableRecord for Record {
    type Key = RecordKey;

    fn key(&self) -> RecordKey {
        match *self {
            Record::Seq(_) => RecordKey::Seq,
            Record::Register { key, .. } => RecordKey::Register(key),
            Record::Reply { client, .. } => RecordKey::Client(client),
        }
    }
}

/// What a node reports (traced and hashed; no protocol-specific check reads them).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// The node restarted and rebuilt this many updates and registers from storage.
    Recovered { seq: u64, registers: u64 },
}

/// One node: the primary (node 0) or a backup.
pub struct PrimaryBackup {
    id: NodeId,
    params: Params,
    /// The map of registers; on the primary also each client's last request served and its
    /// reply (the reply table).
    kv: KvStore,
    /// Updates applied (on the primary: assigned) so far.
    seq: u64,
    /// Primary: the most recent updates, numbered `log_first..=seq`.
    log: VecDeque<Update>,
    log_first: u64,
    /// Primary: per node, the highest update it acknowledged (index 0, the primary, unused).
    acked: Vec<u64>,
}

impl PrimaryBackup {
    pub fn new(id: NodeId, params: &Params) -> PrimaryBackup {
        assert!(
            params.validate().is_ok(),
            "invalid primary-backup params: {params:?}"
        );
        PrimaryBackup {
            id,
            params: params.clone(),
            kv: KvStore::new(),
            seq: 0,
            log: VecDeque::new(),
            log_first: 1,
            acked: Vec::new(),
        }
    }

    fn is_primary(&self) -> bool {
        self.id == PRIMARY
    }

    /// The node's copy of the map (and, on the primary, the reply table).
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// The node's registers, in key order.
    fn registers(&self) -> impl Iterator<Item = Update> + '_ {
        self.kv.entries().map(|(key, values)| match values {
            [value] => (key, *value),
            _ => panic!("n{}: key {key} holds {values:?}, not a register", self.id.0),
        })
    }

    /// Primary: numbers an update the store has applied, logs it in memory and writes it to
    /// storage (not yet synced).
    fn update(&mut self, ctx: &mut Context<'_, Self>, key: Key, value: Value) {
        self.seq += 1;
        self.log.push_back((key, value));
        if self.log.len() > LOG_ENTRIES_MAX {
            self.log.pop_front();
            self.log_first += 1;
        }
        record::put(ctx, Record::Register { key, value });
        record::put(ctx, Record::Seq(self.seq));
    }

    /// Primary: serves a client request. Retries are filtered first, by the store's sessions:
    /// the client's last request again gets its recorded reply, an older one nothing.
    fn serve(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        match self.kv.seen(client.0, request_id) {
            Seen::Answered(response) => {
                ctx.annotate(|| format!("retry of {client} request {request_id}: recorded reply"));
                ctx.reply(client, request_id, response);
                return;
            }
            Seen::Stale => {
                let last = self.kv.last_request(client.0).expect("a session");
                ctx.annotate(|| {
                    format!("ignored {client} request {request_id}: it already sent {last}")
                });
                return;
            }
            Seen::New => {}
        }
        let update = match request {
            Request::Get { .. } => None,
            Request::Put { key, value } => Some((key, value)),
            Request::Cas { key, new, .. } => Some((key, new)),
            Request::Append { .. }
            | Request::Broadcast { .. }
            | Request::ReadSet
            | Request::Txn { .. } => {
                ctx.reply(client, request_id, Response::Unsupported);
                return;
            }
        };
        let response = self
            .kv
            .execute(client.0, request_id, &request)
            .expect("a new request executes");
        if let (Some((key, value)), Response::Ok) = (update, &response) {
            self.update(ctx, key, value);
        }
        record::put(
            ctx,
            Record::Reply {
                client: client.0,
                request: request_id,
                response: response.clone(),
            },
        );
        if self.params.bug == Some(Bug::AckBeforeSync) {
            // Synced on the next replication tick.
            ctx.reply(client, request_id, response);
        } else {
            ctx.sync();
            ctx.reply(client, request_id, response);
        }
        self.assert_invariants();
    }

    /// Primary: syncs what is pending (only the `AckBeforeSync` variant leaves writes unsynced),
    /// then sends each backup what it lacks.
    fn replicate(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.params.replication_delay, Timer::Replicate);
        if ctx.storage().unsynced_count() > 0 {
            assert_eq!(self.params.bug, Some(Bug::AckBeforeSync), "unsynced writes");
            ctx.sync();
        }
        self.assert_invariants();
        for b in 1..ctx.node_count() {
            let acked = self.acked[b as usize];
            assert!(
                acked <= self.seq,
                "n{b} acknowledged {acked} of {} updates",
                self.seq
            );
            if acked == self.seq {
                continue;
            }
            let msg = if acked + 1 >= self.log_first {
                let skip = (acked + 1 - self.log_first) as usize;
                Msg::Append {
                    first: acked + 1,
                    updates: self
                        .log
                        .iter()
                        .skip(skip)
                        .take(APPEND_UPDATES_MAX)
                        .copied()
                        .collect(),
                }
            } else {
                Msg::Snapshot {
                    seq: self.seq,
                    registers: self.registers().collect(),
                }
            };
            ctx.send(NodeId(b), msg);
        }
    }

    /// Backup: applies the updates of an `Append` it does not hold yet, persists, acknowledges.
    fn apply(&mut self, ctx: &mut Context<'_, Self>, first: u64, updates: Vec<Update>) {
        // The primary sends from the last update this backup acknowledged, and the backup
        // persists before acknowledging: a batch never starts beyond what it holds.
        assert!(
            first >= 1 && first <= self.seq + 1,
            "n{}: append from {first} leaves a gap after {}",
            self.id.0,
            self.seq
        );
        let skip = (self.seq + 1 - first) as usize;
        if skip >= updates.len() {
            ctx.annotate(|| format!("ignored append {first}+{}: already held", updates.len()));
        } else {
            for &(key, value) in &updates[skip..] {
                self.kv.apply(&Request::Put { key, value });
                self.seq += 1;
                record::put(ctx, Record::Register { key, value });
            }
            record::put(ctx, Record::Seq(self.seq));
            ctx.sync();
        }
        ctx.send(PRIMARY, Msg::Ack { applied: self.seq });
    }

    /// Backup: replaces its map by a newer snapshot, persists, acknowledges.
    fn install(&mut self, ctx: &mut Context<'_, Self>, seq: u64, registers: Vec<Update>) {
        if seq <= self.seq {
            ctx.annotate(|| format!("ignored snapshot at {seq}: I hold {}", self.seq));
        } else {
            assert_eq!(
                self.kv.sessions(),
                0,
                "n{}: a backup holds replies",
                self.id.0
            );
            let fresh: BTreeMap<Key, Value> = registers.into_iter().collect();
            let gone: Vec<Key> = self
                .registers()
                .map(|(key, _)| key)
                .filter(|key| !fresh.contains_key(key))
                .collect();
            for key in gone {
                ctx.storage().remove(&RecordKey::Register(key));
            }
            self.kv = KvStore::new();
            for (&key, &value) in &fresh {
                self.kv.apply(&Request::Put { key, value });
                record::put(ctx, Record::Register { key, value });
            }
            self.seq = seq;
            record::put(ctx, Record::Seq(seq));
            ctx.sync();
        }
        ctx.send(PRIMARY, Msg::Ack { applied: self.seq });
    }

    fn assert_invariants(&self) {
        assert!(
            self.registers().count() as u64 <= self.seq,
            "n{}: more registers than updates",
            self.id.0
        );
        if self.is_primary() {
            assert!(self.log.len() <= LOG_ENTRIES_MAX);
            assert_eq!(
                self.log_first + self.log.len() as u64,
                self.seq + 1,
                "n0: the log does not end at the last update"
            );
        }
    }

    /// Primary, at boot and after a restart: nothing is known about the backups yet.
    fn start_primary(&mut self, ctx: &mut Context<'_, Self>) {
        self.acked = vec![0; ctx.node_count() as usize];
        self.log.clear();
        self.log_first = self.seq + 1;
        ctx.set_timer(self.params.replication_delay, Timer::Replicate);
    }
}

impl Process for PrimaryBackup {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = RecordKey;
    type StoreValue = Record;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        if self.is_primary() {
            self.start_primary(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Append { first, updates } if !self.is_primary() && from == PRIMARY => {
                self.apply(ctx, first, updates)
            }
            Msg::Snapshot { seq, registers } if !self.is_primary() && from == PRIMARY => {
                self.install(ctx, seq, registers)
            }
            Msg::Ack { applied } if self.is_primary() && from != PRIMARY => {
                assert!(
                    applied <= self.seq,
                    "n{}: holds {applied} updates, the primary only {}",
                    from.0,
                    self.seq
                );
                let acked = &mut self.acked[from.index()];
                *acked = (*acked).max(applied);
            }
            msg => ctx.annotate(|| format!("ignored {msg:?} from n{}: wrong role", from.0)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Replicate => self.replicate(ctx),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        if self.is_primary() {
            self.serve(ctx, client, request_id, request);
            return;
        }
        let response = match request {
            Request::Get { key } if self.params.bug == Some(Bug::StaleBackupReads) => {
                self.kv.read(key)
            }
            Request::Get { .. } | Request::Put { .. } | Request::Cas { .. } => Response::Redirect {
                leader: Some(PRIMARY),
            },
            // Appends need lists, which this register store does not replicate.
            Request::Append { .. }
            | Request::Broadcast { .. }
            | Request::ReadSet
            | Request::Txn { .. } => Response::Unsupported,
        };
        ctx.reply(client, request_id, response);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        for r in record::records(ctx) {
            match r {
                Record::Seq(s) => self.seq = s,
                Record::Register { key, value } => {
                    self.kv.apply(&Request::Put { key, value });
                }
                Record::Reply {
                    client,
                    request,
                    response,
                } => {
                    assert!(self.is_primary(), "n{}: a backup holds replies", self.id.0);
                    self.kv.restore_session(client, request, response);
                }
            }
        }
        ctx.observe(Observation::Recovered {
            seq: self.seq,
            registers: self.registers().count() as u64,
        });
        if self.is_primary() {
            self.start_primary(ctx);
        }
        self.assert_invariants();
    }

    /// The fixed primary leads, for coverage ("leader crashed" is the primary crashing).
    fn leads(&self) -> Option<bool> {
        Some(self.is_primary())
    }
}

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for PrimaryBackup {
    const NAME: &'static str = "PrimaryBackup";
    const CLI_NAME: &'static str = "primary-backup";
    const SUMMARY: &'static str =
        "primary-backup key-value store: fixed primary (node 0), batched forwarding, no failover";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> PrimaryBackup {
        PrimaryBackup::new(id, params)
    }

    fn validate(p: &Params, _: &SimConfig) -> Result<(), FieldError> {
        rules::positive("protocol", "replication_delay", p.replication_delay)
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_validate_names_the_field() {
        let p = Params::new(SimDuration::ZERO);
        assert!(p.validate().unwrap_err().contains("`replication_delay`"));
        assert!(Params::new(SimDuration::from_millis(1)).validate().is_ok());
    }
}
