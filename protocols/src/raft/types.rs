//! Raft's data: log entries and their commands, the messages of Figure 2 and the extensions
//! (pre-vote, ReadIndex, snapshots), timers, the durable records and the observations the
//! checks read. Everything here is hashed into the trace (messages, timers, observations) or
//! written to storage, so its shape is part of every pinned trace hash.

use sim_core::{KvStore, NodeId, Request, RequestId};

use crate::kit::record;

/// Most entries a node keeps in its log after its snapshot: a named limit, far above what any
/// shipped scenario appends.
pub const LOG_ENTRIES_MAX: u64 = 10_000_000;

/// What a log entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// The entry a new leader appends at the start of its term.
    Noop,
    /// A client's request, with its id for retry filtering.
    Client {
        client: u32,
        request_id: RequestId,
        request: Request,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub term: u64,
    pub command: Command,
}

/// Node-to-node messages (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    RequestVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    Vote {
        term: u64,
        granted: bool,
    },
    AppendEntries {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        leader_commit: u64,
    },
    /// `match_index`: on success, the last index the follower now holds in agreement with the
    /// leader. On failure, `conflict_term` is the term of the follower's entry at `prev_index`
    /// (`None` if its log is shorter) and `conflict_index` the first index it holds of that term
    /// (or its log length + 1).
    AppendReply {
        term: u64,
        success: bool,
        match_index: u64,
        conflict_term: Option<u64>,
        conflict_index: u64,
    },
    /// Pre-vote (§9.6): would you vote for me in `term` (my term + 1)? Changes no state.
    PreVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    /// `term`: the term the pre-vote asked about.
    PreVoteReply {
        term: u64,
        granted: bool,
    },
    /// ReadIndex: the leader of `term` asks for an acknowledgement of round `round`.
    ReadProbe {
        term: u64,
        round: u64,
    },
    /// The acknowledgement (`term`: the follower's).
    ReadAck {
        term: u64,
        round: u64,
    },
    /// §7: the leader's snapshot, for a follower that needs entries it has compacted.
    InstallSnapshot {
        term: u64,
        snapshot: Snapshot,
    },
    /// The follower now holds everything up to `last_index`.
    SnapshotReply {
        term: u64,
        last_index: u64,
    },
    /// Storage-aware recovery: a node whose disk damaged these entries (index, term) asks for
    /// intact copies.
    Repair {
        term: u64,
        wanted: Vec<(u64, u64)>,
    },
    /// The answer: the entries held intact (`found`), and those the answering node does not
    /// hold at all (`missing`: no entry of that term at that index). `term`: the answerer's.
    RepairReply {
        term: u64,
        found: Vec<(u64, Entry)>,
        missing: Vec<(u64, u64)>,
    },
}

impl Msg {
    /// The sender's term, for the messages that carry it as the sender's current term (a
    /// pre-vote names the term it would start, so it has none here).
    pub fn term(&self) -> Option<u64> {
        match self {
            Msg::RequestVote { term, .. }
            | Msg::Vote { term, .. }
            | Msg::AppendEntries { term, .. }
            | Msg::AppendReply { term, .. }
            | Msg::ReadProbe { term, .. }
            | Msg::ReadAck { term, .. }
            | Msg::InstallSnapshot { term, .. }
            | Msg::SnapshotReply { term, .. }
            | Msg::Repair { term, .. }
            | Msg::RepairReply { term, .. } => Some(*term),
            Msg::PreVote { .. } | Msg::PreVoteReply { .. } => None,
        }
    }
}

/// A compacted log prefix: the state machine after applying it, and its last entry's position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Snapshot {
    pub last_index: u64,
    pub last_term: u64,
    /// The state machine, with each client's last request applied and its response.
    pub store: KvStore,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// No leader heard from: start an election.
    Election,
    /// Leader: send `AppendEntries`; candidate: re-send vote requests. Only for this term.
    Heartbeat { term: u64 },
}

/// Where a [`Record`] is stored: the key follows from the record ([`Record::key`]), and
/// orders recovery (term and vote, the snapshot, then the entries in index order).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    Term,
    Vote,
    /// The latest snapshot (ordered before the entries: recovery reads it first).
    Snapshot,
    /// The log entry at this index, of this term: the entry's identity, which survives damage
    /// to its contents (the FAST 2018 paper's redundantly stored identifiers).
    Entry(u64, u64),
}

impl Slot {
    /// The first key of the entries from `index` on (for truncation).
    pub fn entries_from(index: u64) -> Slot {
        Slot::Entry(index, 0)
    }
}

/// One record of a node's durable state (Figure 2's `currentTerm`, `votedFor`, `log[]`, and
/// §7's snapshot), carrying its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Term(u64),
    Vote(Option<NodeId>),
    Snapshot(Snapshot),
    /// The log entry at this index.
    Entry(u64, Entry),
}

impl record::DurableRecord for Record {
    type Key = Slot;
    fn key(&self) -> Slot {
        match self {
            Record::Term(_) => Slot::Term,
            Record::Vote(_) => Slot::Vote,
            Record::Snapshot(_) => Slot::Snapshot,
            Record::Entry(index, e) => Slot::Entry(*index, e.term),
        }
    }
}

/// What a node reports, for the invariant checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// The node won the election of `term`.
    BecameLeader { term: u64 },
    /// The node applied the entry at `index` (of `term`) to its state machine.
    Applied {
        index: u64,
        term: u64,
        command_hash: u64,
    },
    /// The node restarted with this durable term and log length.
    Recovered { term: u64, log_len: u64 },
    /// The node compacted its log up to `last_index` (of `last_term`) into a snapshot;
    /// `installed`: the snapshot came from the leader (`InstallSnapshot`), not its own log. A
    /// restart that loads a snapshot reports it too (`installed: false`), after its entries.
    /// The log checks take the entries up to `last_index` as held, contents unknown.
    Snapshotted {
        last_index: u64,
        last_term: u64,
        installed: bool,
    },
    /// The node's log now holds this entry at `index` (its last). With `Truncated`, these let
    /// the `log-matching` and `leader-completeness` checks rebuild every node's log.
    Appended {
        index: u64,
        term: u64,
        command_hash: u64,
    },
    /// The node deleted its entries from `from` on (a restart reports `from: 1` and then its
    /// durable entries as `Appended`).
    Truncated { from: u64 },
    /// The leader of `leader_term` advanced its commit index to `index`.
    Committed { index: u64, leader_term: u64 },
    /// The leader stopped leading on seeing the higher `term`.
    SteppedDown { term: u64 },
    /// A restarted node found `count` damaged entries on its disk, the first at `first`
    /// (storage-aware recovery repairs or discards them).
    Damaged { first: u64, count: u64 },
    /// The damaged entry at `index` was repaired from an intact copy.
    Repaired { index: u64 },
    /// A majority holds no copy of the damaged entry at `from`: it was never committed, and
    /// the node discarded its log from there.
    Discarded { from: u64 },
}
