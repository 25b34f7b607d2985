//! The protocol's parameters, as a scenario writes them inside `ChainReplication(...)`, and
//! their validation against the rest of the scenario (errors name the offending field).

use serde::{Deserialize, Serialize};
use sim_core::protocol::{rules, FieldError};
use sim_core::{SimConfig, SimDuration};

/// The fewest heartbeats `failure_timeout` must span: one or two lost heartbeats must not look
/// like a crash (the failure model is fail-stop: the master must not suspect a live server).
pub const HEARTBEATS_PER_TIMEOUT_MIN: u64 = 3;

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The head answers an update as soon as it has executed it, before the update has
    /// reached the tail. A query at the tail can miss an acknowledged write (a stale read),
    /// and a head crash loses the acknowledged writes it had not forwarded yet.
    AckAtHead,
    /// A server that joins the chain at the tail answers queries at once, before its
    /// predecessor's state has arrived (the paper's §3 forbids it): after a crashed server
    /// restarts and rejoins, reads see an empty store.
    ServeBeforeCaughtUp,
}

/// `ChainReplication(chain_length: 3, heartbeat: "20ms", failure_timeout: "200ms",
/// resend: "50ms")` in a scenario.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Servers in the chain: nodes `1..=chain_length` at the start; the master keeps it this
    /// long by adding restarted servers and spares (the nodes after them) at the tail.
    pub chain_length: u32,
    /// How often each server tells the master it is alive (its local clock).
    pub heartbeat: SimDuration,
    /// The master removes a server it has not heard from for this long (its local clock).
    pub failure_timeout: SimDuration,
    /// How often a server resends to its successor the updates it has not acknowledged.
    pub resend: SimDuration,
    /// A deliberate bug to inject (`None`: the correct protocol).
    #[serde(default)]
    pub bug: Option<Bug>,
}

impl Default for Params {
    /// The correct protocol: a chain of 3, heartbeats every 20 ms, suspicion after 200 ms,
    /// resends every 50 ms.
    fn default() -> Params {
        Params {
            chain_length: 3,
            heartbeat: SimDuration::from_millis(20),
            failure_timeout: SimDuration::from_millis(200),
            resend: SimDuration::from_millis(50),
            bug: None,
        }
    }
}

impl Params {
    /// The default timing with a chain of `chain_length` servers and maybe a bug.
    pub fn new(chain_length: u32, bug: Option<Bug>) -> Params {
        Params {
            chain_length,
            bug,
            ..Params::default()
        }
    }

    /// Checks the parameters and the scenario's faults against the protocol's needs and its
    /// failure model; the error names the offending field.
    pub fn check(&self, config: &SimConfig) -> Result<(), FieldError> {
        self.chain_fits(config.node_count)?;
        rules::positive("protocol", "heartbeat", self.heartbeat)?;
        rules::positive("protocol", "failure_timeout", self.failure_timeout)?;
        rules::positive("protocol", "resend", self.resend)?;
        self.detection_spans_heartbeats()?;
        crate::failure_model::check(self, config)
    }

    /// Node 0 is the master; the chain is made of the other nodes.
    fn chain_fits(&self, nodes: u32) -> Result<(), FieldError> {
        if nodes < 2 {
            return Err(FieldError::in_scenario(
                "nodes",
                format!("chain replication needs at least `2` nodes, found `{nodes}`"),
            )
            .hint("node 0 is the master and nodes `1..nodes` are the servers"));
        }
        let l = self.chain_length;
        if l == 0 {
            return Err(FieldError::new(
                "chain_length",
                "`protocol.chain_length` is `0`; a chain needs at least one server",
            )
            .hint("write e.g. `chain_length: 3`"));
        }
        if l > nodes - 1 {
            return Err(FieldError::new(
                "chain_length",
                format!(
                    "a chain of `{l}` servers needs `{}` nodes (node 0 is the master), but the scenario has `{nodes}`",
                    l + 1
                ),
            )
            .hint(format!(
                "lower `chain_length` to at most `{}`, or raise `nodes` to `{}`",
                nodes - 1,
                l + 1
            )));
        }
        Ok(())
    }

    fn detection_spans_heartbeats(&self) -> Result<(), FieldError> {
        let least = SimDuration(self.heartbeat.0.saturating_mul(HEARTBEATS_PER_TIMEOUT_MIN));
        if self.failure_timeout < least {
            return Err(FieldError::new(
                "failure_timeout",
                format!(
                    "`protocol.failure_timeout` is `{}`, shorter than `{HEARTBEATS_PER_TIMEOUT_MIN}` heartbeats of `{}`",
                    self.failure_timeout, self.heartbeat
                ),
            )
            .hint(format!(
                "a lost heartbeat must not look like a crash: write at least `failure_timeout: \"{least}\"`"
            )));
        }
        Ok(())
    }
}
