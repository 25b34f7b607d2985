//! Election timing of a leader-based protocol: a randomized election timeout in
//! `[election_timeout_min, election_timeout_max]` and a heartbeat well inside it (Raft §5.2;
//! the same rule keeps a Multi-Paxos leader from being suspected between two heartbeats).

use sim_core::protocol::{rules, FieldError};
use sim_core::SimDuration;

/// Checks a leader-based protocol's timings (`name`, e.g. `raft`, words the messages):
/// positive durations, `election_timeout_min ≤ election_timeout_max`, and a heartbeat shorter
/// than the shortest election timeout.
pub fn validate(
    name: &str,
    min: SimDuration,
    max: SimDuration,
    heartbeat: SimDuration,
) -> Result<(), FieldError> {
    rules::positive("protocol", "election_timeout_min", min)?;
    rules::positive("protocol", "election_timeout_max", max)?;
    rules::positive("protocol", "heartbeat", heartbeat)?;
    if min > max {
        return Err(FieldError::new(
            "election_timeout_max",
            format!(
                "{name} `election_timeout_max` (`{max}`) is below `election_timeout_min` (`{min}`)"
            ),
        )
        .hint("each election timeout is drawn uniformly from `[min, max]`"));
    }
    if heartbeat >= min {
        return Err(FieldError::new(
            "heartbeat",
            format!(
                "{name} `heartbeat` (`{heartbeat}`) is not below `election_timeout_min` (`{min}`)"
            ),
        )
        .hint("nodes would suspect a live leader between two heartbeats: make `heartbeat` a fraction of the election timeout, e.g. a tenth"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_names_its_field() {
        let ms = SimDuration::from_millis;
        assert!(validate("raft", ms(150), ms(300), ms(50)).is_ok());
        assert_eq!(
            validate("raft", ms(0), ms(300), ms(50)).unwrap_err().path,
            "election_timeout_min"
        );
        assert_eq!(
            validate("raft", ms(150), ms(100), ms(50)).unwrap_err().path,
            "election_timeout_max"
        );
        let e = validate("paxos", ms(150), ms(300), ms(150)).unwrap_err();
        assert_eq!(e.path, "heartbeat");
        assert!(
            e.message.starts_with("paxos `heartbeat` (`150ms`)"),
            "{}",
            e.message
        );
    }
}
