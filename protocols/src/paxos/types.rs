//! Multi-Paxos's data: ballots, the commands slots hold, messages, timers, the durable records
//! and the observations the checks read. Messages, timers and observations are hashed into
//! the trace, so their shape is part of every pinned trace hash.

use sim_core::{Request, RequestId};

use crate::kit::record;

/// Most slots a node's log may hold: a named limit, far above what any shipped scenario uses.
pub const SLOTS_MAX: u64 = 10_000_000;

/// A ballot: ordered by round, then by the proposing node. Round 0 is "none".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot {
    pub round: u64,
    pub node: u32,
}

impl Ballot {
    pub const NONE: Ballot = Ballot { round: 0, node: 0 };

    /// One number ordered like the ballots (for the liveness check's "term").
    pub fn as_u64(self) -> u64 {
        (self.round << 20) | u64::from(self.node & 0xF_FFFF)
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}

/// What a slot asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Fills a gap: changes nothing.
    Noop,
    /// A client's request, with its id for retry filtering.
    Client {
        client: u32,
        request_id: RequestId,
        request: Request,
    },
}

/// A decided slot and its value.
pub type Decision = (u64, Command);

/// A slot, the ballot a value was accepted in, and the value.
pub type AcceptedValue = (u64, Ballot, Command);

/// Node-to-node messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Phase 1a: promise `ballot`, and report what you know from `from_slot` on.
    Prepare { ballot: Ballot, from_slot: u64 },
    /// Phase 1b: the promise, with the values known decided and, in the other slots, the
    /// values accepted (slot, ballot, value), from `from_slot` on.
    Promise {
        ballot: Ballot,
        decided: Vec<(u64, Command)>,
        accepted: Vec<(u64, Ballot, Command)>,
    },
    /// Phase 2a.
    Accept {
        ballot: Ballot,
        slot: u64,
        command: Command,
    },
    /// Phase 2b.
    Accepted { ballot: Ballot, slot: u64 },
    /// `ballot` was refused: the acceptor promised `promised`.
    Nack { ballot: Ballot, promised: Ballot },
    /// The value chosen in `slot`.
    Decide { slot: u64, command: Command },
    /// The leader of `ballot` is alive and has applied slots `1..=applied`.
    Heartbeat { ballot: Ballot, applied: u64 },
    /// Send me the decisions from `from_slot` on.
    CatchUp { from_slot: u64 },
    /// Decisions, for a node catching up.
    Decisions { entries: Vec<(u64, Command)> },
    /// A promise from an acceptor whose disk damaged what it accepted in the `unknown` slots:
    /// it cannot say what it accepted there, so its promise does not count for them.
    PromisePartial {
        ballot: Ballot,
        decided: Vec<(u64, Command)>,
        accepted: Vec<(u64, Ballot, Command)>,
        unknown: Vec<u64>,
    },
}

impl Msg {
    /// The ballot the message belongs to, if it names one.
    pub fn ballot(&self) -> Option<Ballot> {
        match self {
            Msg::Prepare { ballot, .. }
            | Msg::Promise { ballot, .. }
            | Msg::Accept { ballot, .. }
            | Msg::Accepted { ballot, .. }
            | Msg::Nack { ballot, .. }
            | Msg::Heartbeat { ballot, .. }
            | Msg::PromisePartial { ballot, .. } => Some(*ballot),
            Msg::Decide { .. } | Msg::CatchUp { .. } | Msg::Decisions { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// No leader heard from: start phase 1.
    Election,
    /// Leader: heartbeat and re-send `Accept`s; candidate: re-send `Prepare`s. Only for this
    /// ballot.
    Heartbeat { ballot: Ballot },
}

/// Where a [`Record`] is stored: the key follows from the record ([`Record::key`]). Keys are
/// ordered by slot — the promise first, then each slot's accepted value and decision — so the
/// last records on disk are the newest slots'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreKey {
    Promised,
    Accepted(u64),
    Decided(u64),
}

impl StoreKey {
    /// The slot the record belongs to (none for the promise).
    pub fn slot(&self) -> Option<u64> {
        match *self {
            StoreKey::Promised => None,
            StoreKey::Accepted(slot) | StoreKey::Decided(slot) => Some(slot),
        }
    }

    fn rank(&self) -> (u64, u8) {
        match *self {
            StoreKey::Promised => (0, 0),
            StoreKey::Accepted(slot) => (slot, 1),
            StoreKey::Decided(slot) => (slot, 2),
        }
    }
}

impl PartialOrd for StoreKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StoreKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// One record of a node's durable state, carrying its value: the acceptor's promise and
/// what it accepted per slot, and the learner's decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The highest ballot promised.
    Promised(Ballot),
    /// The value last accepted in `slot`, and the ballot it was accepted in.
    Accepted {
        slot: u64,
        ballot: Ballot,
        command: Command,
    },
    /// The value decided in `slot`.
    Decided { slot: u64, command: Command },
}

impl record::DurableRecord for Record {
    type Key = StoreKey;
    fn key(&self) -> StoreKey {
        match self {
            Record::Promised(_) => StoreKey::Promised,
            Record::Accepted { slot, .. } => StoreKey::Accepted(*slot),
            Record::Decided { slot, .. } => StoreKey::Decided(*slot),
        }
    }
}

/// What a node reports, for the checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// Phase 1 of `ballot` succeeded: the node leads.
    BecameLeader { ballot: Ballot },
    /// The leader gave up its ballot on seeing the higher `seen`.
    SteppedDown { ballot: Ballot, seen: Ballot },
    /// The acceptor accepted the value with this hash in `slot` at `ballot`.
    Accepted {
        slot: u64,
        ballot: Ballot,
        value_hash: u64,
    },
    /// A new leader proposed in `slot` in its phase 2 of recovery: the adopted value, or a
    /// no-op filling a gap (`noop`).
    Filled {
        slot: u64,
        ballot: Ballot,
        noop: bool,
    },
    /// The node applied the value with this hash in `slot` (slots are applied in order).
    Learned { slot: u64, value_hash: u64 },
    /// The node restarted with this durable promise, accepted and decided slot counts.
    Recovered {
        promised: Ballot,
        accepted: u64,
        decided: u64,
    },
    /// A restarted node found damaged records: `accepted` slots whose accepted value it no
    /// longer knows, `decided` decisions it must learn again.
    Damaged { accepted: u64, decided: u64 },
}
