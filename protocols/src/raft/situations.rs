//! The situations Raft's correctness argument depends on, marked for coverage with
//! `ctx.reached` (never hashed; see `sim_core::coverage`). A sweep that never reaches one has
//! not exercised the rule it names.

/// Rule 3's up-to-date check refused a vote (Raft §5.4.1, election restriction).
pub const VOTE_DENIED_STALE_LOG: &str = "vote denied for a stale log";
/// A follower deleted a conflicting entry and took the leader's (§5.3).
pub const ENTRY_OVERWRITTEN: &str = "entry overwritten on a follower";
/// A leader's commit index passed an entry of an earlier term, committed only through an
/// entry of its own term (§5.4.2, Figure 8).
pub const PREVIOUS_TERM_COMMITTED: &str = "previous-term entry committed via a current-term entry";
/// A follower replaced its log with the leader's snapshot (`InstallSnapshot`, §7).
pub const SNAPSHOT_INSTALLED: &str = "snapshot installed from the leader";
/// A ReadIndex read was answered after a majority confirmed the leader's round (§6.4).
pub const READ_INDEX_CONFIRMED: &str = "ReadIndex read confirmed by a majority";
/// A read found the leader's lease expired and fell back to a confirmation round (§6.4.1).
pub const LEASE_EXPIRED: &str = "lease expired before a read";
/// A read was answered under a valid lease, without a round.
pub const LEASE_READ: &str = "read served under a lease";
/// A leader stepped down while holding entries it had not committed.
pub const STEPPED_DOWN_UNCOMMITTED: &str = "leader stepped down with uncommitted entries";
/// A message of an older term than the receiver's arrived (a stale vote, append or reply).
pub const STALE_TERM_MESSAGE: &str = "message from an older term delivered";

/// A success `AppendReply` of an older term reached a node that leads again, claiming an
/// index at or past the first entry of its current term: its log was rewritten in between, so
/// the reply says nothing about that entry (a leader must drop replies of other terms, §5.1).
pub const STALE_REPLY_PAST_TERM_START: &str =
    "append reply of an older term claimed an entry of the leader's term";
/// A `Get` reached a leader holding entries of earlier terms beyond its commit index (it has
/// not yet learned whether its predecessor committed them): a read served off the log now,
/// before an entry of its own term commits, could miss an acknowledged write (§6.4).
pub const READ_BEFORE_PREDECESSOR_COMMIT: &str =
    "read arrived before the leader knew its predecessor's entries committed";

/// Every situation above, in the order reports list them.
pub const ALL: &[&str] = &[
    VOTE_DENIED_STALE_LOG,
    ENTRY_OVERWRITTEN,
    PREVIOUS_TERM_COMMITTED,
    SNAPSHOT_INSTALLED,
    READ_INDEX_CONFIRMED,
    LEASE_EXPIRED,
    LEASE_READ,
    STEPPED_DOWN_UNCOMMITTED,
    STALE_TERM_MESSAGE,
    STALE_REPLY_PAST_TERM_START,
    READ_BEFORE_PREDECESSOR_COMMIT,
];
