//! Two-phase commit's parameters and the deliberate bugs it can inject: what a scenario's
//! `protocol: TwoPhaseCommit(..)` sets, with the ranges it must respect.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// On a vote timeout, commit with the yes votes received instead of aborting.
    CommitWithoutAllVotes,
    /// A restarted participant does not reload its `Prepared` records.
    ForgetPreparedOnRestart,
    /// A participant that learns an abort releases none of the transaction's locks: every later
    /// transaction on those keys is refused (until the participant restarts).
    KeepAbortedLocks,
}

/// The protocol's parameters; every field has a default, so `TwoPhaseCommit()` is valid.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// How often the coordinator re-sends unanswered prepares and unacknowledged decisions
    /// (and how often every node looks at its timeouts), on the node's local clock.
    pub retry: SimDuration,
    /// How long the coordinator waits for every vote before it aborts.
    pub vote_timeout: SimDuration,
    /// How long a participant stays prepared before it asks the coordinator for the outcome,
    /// and the time between two of its inquiries.
    pub inquiry: SimDuration,
    /// A deliberate bug to inject (`None`: the correct protocol).
    pub bug: Option<Bug>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            retry: SimDuration::from_millis(50),
            vote_timeout: SimDuration::from_millis(500),
            inquiry: SimDuration::from_millis(200),
            bug: None,
        }
    }
}

impl Params {
    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, d) in [
            ("retry", self.retry),
            ("vote_timeout", self.vote_timeout),
            ("inquiry", self.inquiry),
        ] {
            if d == SimDuration::ZERO {
                return Err(format!("two-phase commit `{name}` must be longer than 0"));
            }
        }
        if self.vote_timeout < self.retry {
            return Err(
                "two-phase commit `vote_timeout` must be at least `retry`: a lost prepare would abort its transaction before it is ever re-sent".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_params_are_valid_and_zero_is_not() {
        assert_eq!(Params::default().validate(), Ok(()));
        let p = Params {
            retry: SimDuration::ZERO,
            ..Params::default()
        };
        assert!(p.validate().unwrap_err().contains("retry"));
        let p = Params {
            vote_timeout: SimDuration::from_millis(1),
            ..Params::default()
        };
        assert!(p.validate().unwrap_err().contains("vote_timeout"));
    }
}
