//! The leaderless store's parameters (replication factor, quorums, timeouts), the limit on
//! the requests a node coordinates, and the deliberate bugs it can inject.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

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
}
