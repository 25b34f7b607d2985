//! The situations two-phase commit's correctness argument depends on, marked for coverage
//! with `ctx.reached` (never hashed; see `sim_core::coverage`).

/// A prepared participant waited `inquiry` without a decision and asked the coordinator: it
/// is blocked, holding its locks (the protocol's known weakness).
pub const BLOCKED_PREPARED: &str = "participant blocked in prepared";
/// A participant that had to inquire learned the outcome.
pub const RECOVERED_BY_INQUIRY: &str = "outcome recovered by inquiry";
/// The coordinator restarted and found a decision in its log (to announce again).
pub const COORDINATOR_RECOVERED_DECISION: &str = "coordinator recovered with a logged decision";
/// A participant restarted in the prepared state and re-took its locks.
pub const PARTICIPANT_RECOVERED_PREPARED: &str = "participant recovered in prepared";
/// The coordinator answered an inquiry about a transaction it has no record of: abort
/// (presumed abort).
pub const PRESUMED_ABORT: &str = "inquiry answered by presumed abort";
/// The coordinator decided to abort because a vote did not arrive in time.
pub const VOTE_TIMEOUT_ABORT: &str = "coordinator aborted on a vote timeout";

/// Every situation above, in the order reports list them.
pub const ALL: &[&str] = &[
    BLOCKED_PREPARED,
    RECOVERED_BY_INQUIRY,
    COORDINATOR_RECOVERED_DECISION,
    PARTICIPANT_RECOVERED_PREPARED,
    PRESUMED_ABORT,
    VOTE_TIMEOUT_ABORT,
];
