//! The situations the leaderless store's correctness argument depends on, marked for
//! coverage with `ctx.reached` (never hashed; see `sim_core::coverage`).

/// A fallback node stored a write meant for a silent replica, with a hint (a sloppy quorum,
/// Dynamo §4.6).
pub const SLOPPY_QUORUM: &str = "sloppy quorum used";
/// The intended replica stored a hinted write handed off by its stand-in, newer than what it
/// held.
pub const HINTED_HANDOFF: &str = "hinted handoff delivered";
/// A read's coordinator wrote the newest version back to a stale replica, which took it.
pub const READ_REPAIR: &str = "read repair applied";
/// Anti-entropy brought a replica a version newer than it held.
pub const ANTI_ENTROPY: &str = "anti-entropy repaired a replica";

/// Every situation above, in the order reports list them.
pub const ALL: &[&str] = &[SLOPPY_QUORUM, HINTED_HANDOFF, READ_REPAIR, ANTI_ENTROPY];
