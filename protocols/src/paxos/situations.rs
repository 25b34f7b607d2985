//! The situations Multi-Paxos's correctness argument depends on, marked for coverage with
//! `ctx.reached` (never hashed; see `sim_core::coverage`).

/// A new leader's phase 1 found a value accepted in an earlier ballot and proposed it again
/// (Lamport, "Paxos Made Simple", P2c): the rule that keeps a chosen value chosen.
pub const ADOPTED_ACCEPTED: &str = "new leader adopted an accepted value";
/// A phase 1 heard of two different values accepted in one slot (in different ballots: a
/// leader deposed mid-phase-2 and a later one that never heard of its value): the case in
/// which P2c's "the value of the highest ballot" decides which one the new leader proposes.
pub const CONFLICTING_ACCEPTED: &str = "phase 1 found different values accepted in one slot";
/// A new leader found a slot below its highest with nothing accepted and filled it with a
/// no-op, so that later slots can be applied.
pub const GAP_FILLED_NOOP: &str = "gap filled by a no-op";
/// A message of a ballot lower than the receiver's promise arrived (a stale prepare, accept,
/// heartbeat or reply).
pub const STALE_BALLOT_MESSAGE: &str = "message from an older ballot delivered";
/// An acceptor refused a ballot because it had promised a higher one (a `Nack`).
pub const BALLOT_REFUSED: &str = "ballot refused by a higher promise";
/// A leader gave up its ballot on seeing a higher one.
pub const LEADER_DEPOSED: &str = "leader deposed by a higher ballot";
/// A lagging node learned decided slots through `CatchUp`/`Decisions`.
pub const CAUGHT_UP: &str = "lagging node caught up on decisions";

/// An `Accepted` of an older ballot of this node reached it while it leads a later ballot
/// with a proposal open in the same slot: it accepted a value of another ballot, which says
/// nothing about the open proposal (a value is chosen by a majority of one ballot).
pub const STALE_ACCEPTED_OPEN_SLOT: &str =
    "Accepted of an older ballot reached its leader with the slot open";

/// Every situation above, in the order reports list them.
pub const ALL: &[&str] = &[
    ADOPTED_ACCEPTED,
    CONFLICTING_ACCEPTED,
    GAP_FILLED_NOOP,
    STALE_BALLOT_MESSAGE,
    BALLOT_REFUSED,
    LEADER_DEPOSED,
    CAUGHT_UP,
    STALE_ACCEPTED_OPEN_SLOT,
];
