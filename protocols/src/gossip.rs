//! Gossip: epidemic broadcast by anti-entropy. (Stub: being written.)

use serde::Deserialize;
use sim_core::SimDuration;

/// How nodes exchange state each round.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Mode {
    /// Send what I have (or what is new) to `fanout` peers.
    Push,
    /// Ask `fanout` peers for what they have that I lack.
    Pull,
    /// Both: send my digest and values, receive theirs.
    PushPull,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub mode: Mode,
    /// Peers contacted per round.
    pub fanout: u32,
    /// Time between rounds (local clock).
    pub period: SimDuration,
}
