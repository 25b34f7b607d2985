//! Multi-Paxos's parameters (`protocol: Paxos(...)`, every field defaulted) and the
//! deliberate bugs it can inject.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// A new leader proposes no-ops instead of the highest-ballot values reported in phase 1.
    NoAdoptAccepted,
    /// Acceptors keep their promise in memory only (a crash forgets it).
    PromiseWithoutPersist,
    /// A recovering acceptor treats a damaged accepted record as never written, and promises
    /// as if it had accepted nothing in that slot.
    ForgetDamagedAccepted,
}

/// The parameters of `protocol: Paxos(...)`; every field has a default, so `Paxos()` is valid.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Shortest election timeout (local clock). Default 150 ms.
    pub election_timeout_min: SimDuration,
    /// Longest election timeout; each timeout is uniform in `[min, max]`. Default 300 ms.
    pub election_timeout_max: SimDuration,
    /// Time between two heartbeats of the leader (and re-sends of unanswered `Prepare` and
    /// `Accept` messages). Default 50 ms.
    pub heartbeat: SimDuration,
    /// Most decisions one `CatchUp` answer carries. Default 64.
    pub batch_max: u32,
    /// A deliberate bug to inject (`None`: the correct protocol).
    pub bug: Option<Bug>,
    /// How long an `Accept` may go unanswered before the leader sends it again (default:
    /// two heartbeats).
    pub retransmit: Option<SimDuration>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            election_timeout_min: SimDuration::from_millis(150),
            election_timeout_max: SimDuration::from_millis(300),
            heartbeat: SimDuration::from_millis(50),
            batch_max: 64,
            bug: None,
            retransmit: None,
        }
    }
}

impl Params {
    /// The retransmit timeout: as given, or two heartbeats.
    pub fn retransmit(&self) -> SimDuration {
        self.retransmit
            .unwrap_or(SimDuration(self.heartbeat.0.saturating_mul(2)))
    }

    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.election_timeout_min == SimDuration::ZERO {
            return Err("paxos `election_timeout_min` must be longer than 0".into());
        }
        if self.election_timeout_min > self.election_timeout_max {
            return Err("paxos `election_timeout_min` is above `election_timeout_max`".into());
        }
        if self.heartbeat == SimDuration::ZERO {
            return Err("paxos `heartbeat` must be longer than 0".into());
        }
        if self.heartbeat >= self.election_timeout_min {
            return Err("paxos `heartbeat` must be shorter than `election_timeout_min`".into());
        }
        if self.batch_max == 0 {
            return Err("paxos `batch_max` must be at least 1".into());
        }
        if self.retransmit == Some(SimDuration::ZERO) {
            return Err("paxos `retransmit` must be longer than 0".into());
        }
        Ok(())
    }
}
