//! Raft's parameters (`protocol: Raft(...)`), the deliberate bugs it can inject, and how a
//! leader serves reads.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Commit an entry of an earlier term once a majority holds it (Figure 8).
    CommitPreviousTermByCount,
    /// Grant votes without the "at least as up to date" log check.
    VoteWithoutLogCheck,
    /// Do not persist `currentTerm`/`votedFor` when voting.
    ForgetVote,
    /// Accept `AppendEntries` without checking the previous entry.
    NoConsistencyCheck,
    /// On recovery, treat the first damaged log entry as the end of the log: truncate there
    /// and carry on (what the FAST 2018 paper found LogCabin- and etcd-style Raft do).
    TruncateAtCorruption,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Shortest election timeout (local clock).
    pub election_timeout_min: SimDuration,
    /// Longest election timeout; each timeout is uniform in `[min, max]`.
    pub election_timeout_max: SimDuration,
    /// Time between two rounds of `AppendEntries` from a leader (and of vote requests from a
    /// candidate).
    pub heartbeat: SimDuration,
    /// Most entries one `AppendEntries` carries.
    pub batch_max: u32,
    /// A deliberate bug to inject (`None`: the correct protocol).
    #[serde(default)]
    pub bug: Option<Bug>,
    /// Log compaction (§7): a node snapshots its state machine once it has applied this many
    /// entries beyond its last snapshot, and drops them from its log. 0: never.
    #[serde(default)]
    pub snapshot_threshold: u64,
    /// Pre-vote (thesis §9.6): a node whose election timeout fires first asks whether a
    /// majority would vote for it, without incrementing its term.
    #[serde(default)]
    pub pre_vote: bool,
    /// How the leader serves `Get` (default: through the log).
    #[serde(default)]
    pub reads: Reads,
    /// How long entries sent to a follower may go unacknowledged before the leader sends
    /// them again (default: two heartbeats). Within it, neither a heartbeat nor a late reply
    /// resends what is in flight.
    #[serde(default)]
    pub retransmit: Option<SimDuration>,
}

/// How a leader serves reads.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Reads {
    /// A `Get` is a log entry like any other command, answered once applied.
    #[default]
    Log,
    /// ReadIndex (thesis §6.4): no log entry; the leader records its commit index, confirms
    /// it still leads with a round of acknowledgements from a majority, and answers once it
    /// has applied up to the recorded index.
    ReadIndex,
    /// Leader leases (thesis §6.4.1), opt-in: the leader answers a `Get` at once, from its
    /// state machine, while it holds a lease — for a while after a majority acknowledged a
    /// round it sent, shorter than the time those nodes refuse to vote for anyone else. Safe
    /// only while every clock's rate is within `drift_ppm` parts per million of true time and
    /// no clock jumps; scenario validation enforces both. Outside a lease, reads fall back to
    /// ReadIndex.
    Lease { drift_ppm: u32 },
}

impl Reads {
    /// Whether reads skip the log (ReadIndex or a lease).
    pub(super) fn off_log(self) -> bool {
        !matches!(self, Reads::Log)
    }
}

impl Default for Params {
    /// The paper's timings: election timeouts of 150-300 ms, a heartbeat every 50 ms.
    fn default() -> Params {
        Params::new(
            SimDuration::from_millis(150),
            SimDuration::from_millis(300),
            SimDuration::from_millis(50),
        )
    }
}

impl Params {
    /// The correct protocol with these timings and a batch of 64 entries.
    pub fn new(
        election_timeout_min: SimDuration,
        election_timeout_max: SimDuration,
        heartbeat: SimDuration,
    ) -> Params {
        Params {
            election_timeout_min,
            election_timeout_max,
            heartbeat,
            batch_max: 64,
            bug: None,
            snapshot_threshold: 0,
            pre_vote: false,
            reads: Reads::Log,
            retransmit: None,
        }
    }

    /// The retransmit timeout: as given, or two heartbeats.
    pub fn retransmit(&self) -> SimDuration {
        self.retransmit
            .unwrap_or(SimDuration(self.heartbeat.0.saturating_mul(2)))
    }

    /// How long a lease lasts on the leader's clock after it sent the round a majority
    /// acknowledged: `election_timeout_min × (1 − ρ) / (1 + ρ)` for a drift bound ρ. A node that
    /// acknowledged refuses votes for `election_timeout_min` on its own clock, so for at least
    /// `election_timeout_min / (1 + ρ)` of true time after the round was sent; the leader's
    /// clock runs at least `1 − ρ` as fast as true time, so the lease ends on it within
    /// `lease / (1 − ρ) = election_timeout_min / (1 + ρ)` of true time. `None` without leases.
    pub fn lease(&self) -> Option<SimDuration> {
        match self.reads {
            Reads::Lease { drift_ppm } => {
                let ppm = u128::from(drift_ppm);
                let min = u128::from(self.election_timeout_min.0);
                Some(SimDuration(
                    (min * (1_000_000 - ppm.min(999_999)) / (1_000_000 + ppm)) as u64,
                ))
            }
            Reads::Log | Reads::ReadIndex => None,
        }
    }

    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.election_timeout_min == SimDuration::ZERO {
            return Err("raft `election_timeout_min` must be longer than 0".into());
        }
        if self.election_timeout_min > self.election_timeout_max {
            return Err("raft `election_timeout_min` is above `election_timeout_max`".into());
        }
        if self.heartbeat == SimDuration::ZERO {
            return Err("raft `heartbeat` must be longer than 0".into());
        }
        if self.heartbeat >= self.election_timeout_min {
            return Err("raft `heartbeat` must be shorter than `election_timeout_min`".into());
        }
        if self.batch_max == 0 {
            return Err("raft `batch_max` must be at least 1".into());
        }
        if self.retransmit == Some(SimDuration::ZERO) {
            return Err("raft `retransmit` must be longer than 0".into());
        }
        if self.snapshot_threshold > 0 && self.bug.is_some() {
            return Err("raft `snapshot_threshold` cannot be combined with a `bug`".into());
        }
        if let Reads::Lease { drift_ppm } = self.reads {
            if drift_ppm >= 100_000 {
                return Err(format!(
                    "raft lease `drift_ppm` is `{drift_ppm}`: a drift bound of 10% or more leaves no useful lease"
                ));
            }
        }
        Ok(())
    }
}
