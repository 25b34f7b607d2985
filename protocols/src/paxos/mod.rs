//! Multi-Paxos: a replicated key-value store kept consistent by a sequence of Paxos instances.
//!
//! # The service
//!
//! The key-value service of [`crate::raft`] (`Get`, `Put`, `Cas`, `Append`, through
//! [`sim_core::KvStore`], which filters client retries), linearizable under every fault dsim
//! injects. Every request — reads included — is a command in the replicated log, answered by
//! the leader once the command is chosen and applied in log order. A node that does not lead
//! answers `Redirect { leader }` when it knows the leader and stays silent otherwise (the
//! client times out: an indeterminate outcome).
//!
//! # The algorithm
//!
//! Lamport, "Paxos Made Simple" (ACM SIGACT News, 2001), and van Renesse and Altinbuken,
//! "Paxos Made Moderately Complex" (ACM Computing Surveys, 2015). Every node plays the three
//! roles of the paper: proposer (only the leader proposes), acceptor and learner.
//!
//! 1. **Ballots** are pairs `(round, node)`, ordered by round and then node, so two proposers
//!    never share one. Round 0 is "no ballot".
//! 2. **Acceptor state** is durable: the highest ballot it promised and, per log slot, the
//!    ballot and value it last accepted. Both are written to storage and synced before any
//!    message that depends on them leaves the node (every send goes through [`crate::kit::durable`],
//!    which syncs first). A restarted acceptor reads them back in [`sim_core::Process::on_recover`].
//! 3. **Phase 1 (prepare/promise), once for all open slots.** A node that hears no leader for a
//!    randomized election timeout (uniform in `[election_timeout_min, election_timeout_max]`
//!    on its local clock) picks a ballot above every round it has seen and sends
//!    `Prepare { ballot, from_slot }`, where `from_slot` is the first slot it has not applied.
//!    An acceptor that has not promised a higher ballot promises this one and answers with
//!    every value it knows decided from `from_slot` on and every value it accepted in the
//!    other slots from there (with their ballots); otherwise it answers `Nack` with its
//!    promise, and the proposer gives up this ballot.
//! 4. **Adopting values and filling gaps.** With promises from a majority (itself included),
//!    the proposer leads. For every slot from `from_slot` up to the highest slot any promise
//!    reported it proposes, in phase 2 of its ballot, the value of the highest ballot reported
//!    accepted in that slot — the rule that makes a chosen value stay chosen — and a no-op
//!    where no value was reported (a *gap*, left by an earlier leader whose proposal reached
//!    no acceptor of this quorum). Slots reported decided are learned, not proposed.
//! 5. **Phase 2 (accept/accepted), per slot.** New client commands take the next free slots.
//!    An acceptor accepts `Accept { ballot, slot, value }` unless it promised a higher ballot
//!    (which it reports with `Nack`: the leader steps down). A value accepted by a majority in
//!    one ballot is *chosen*; the leader learns it from the `Accepted` replies and broadcasts
//!    `Decide`. An `Accept` still unanswered `retransmit` after it was sent goes again at the
//!    next heartbeat, and not before: a command costs `3(n − 1)` messages (`Accept`,
//!    `Accepted`, `Decide`) besides heartbeats.
//! 6. **Learners.** Every node records decided values (also durably, to speed up its
//!    recovery) and applies them to its key-value store in slot order. The leader's heartbeat
//!    carries the number of slots it has applied; a node that is behind (a lost `Decide`, a
//!    partition, a restart) asks for the missing ones (`CatchUp`) and gets up to `batch_max`
//!    decisions per answer; after a full batch it asks for the next one at once.
//! 7. **Failure detection.** The leader sends `Heartbeat` every `heartbeat`; hearing from a
//!    leader of a ballot at least as high as its promise resets a node's election timer. A
//!    leader of a lower ballot that sends a heartbeat gets a `Nack` and steps down.
//! 8. **Storage-aware recovery** (Alagappan et al., "Protocol-Aware Recovery for
//!    Consensus-Based Storage", FAST 2018). A restarted node reads its records checksummed;
//!    a damaged record keeps its key (the slot). A damaged decision is forgotten and learned
//!    again (`CatchUp`). A damaged accepted value is different: the acceptor may have helped
//!    choose it, and must not promise as if it had accepted nothing there — the mistake that
//!    loses chosen values. Until it accepts or learns a value in that slot again, its promises
//!    name the slot as unknown (`PromisePartial`), and a proposer leads only with a majority of
//!    promises that *could* report every slot it recovers — a majority that meets the one that
//!    chose the slot's value in an acceptor that reports it, so the value is adopted. The fault
//!    atlas keeps damage to a minority, so such a majority exists once enough nodes answer. The promise itself is outside the atlas (kept twice, as CTRL
//!    keeps metadata). An acceptor's `Accepted` observation is made once the value is synced.
//!
//! **Clients.** The leader proposes a request once (an in-flight proposal of the same request,
//! e.g. one adopted in phase 1, is not proposed again) and answers when the slot holding it is
//! applied; a request already executed gets the response recorded in the client's session. A
//! leader that steps down forgets whom it owed replies to without answering them: the
//! requests may still be chosen.
//!
//! # Checks
//!
//! - `agreement` ([`check_agreement`]): from the acceptors' `Accepted` observations, a value is
//!   chosen in a slot when a majority of acceptors accepted it in the same ballot; no slot has
//!   two chosen values, and every value a node applies in a slot is the one chosen there.
//! - `linearizable` (the clients' history) and `liveness` ([`check_liveness`]).
//!
//! # Code map
//!
//! `types` (ballots, commands, messages, timers, durable records, observations) and `params`
//! are the bottom of the dependency order; `node` holds the node's state and dispatches each
//! event to one handler. The handlers are split by role: `acceptor` (rules 2, 3 and 5,
//! acceptor side), `learner` (rule 6), `election` (phase 1, rules 3-4 and 7, proposer side),
//! `replication` (phase 2 and heartbeats, rule 5, leader side) and `client` (the client gate of
//! [`crate::kit::client_gate`], then proposing). `checks` holds `agreement` and `liveness`,
//! `protocol` the registration. No module imports this one.
//!
//! # Bugs to inject
//!
//! - [`Bug::NoAdoptAccepted`]: a new leader ignores the accepted values reported in phase 1
//!   and proposes no-ops in those slots: a value chosen by the previous leader is overwritten
//!   by a no-op chosen in the new ballot (`agreement`).
//! - [`Bug::PromiseWithoutPersist`]: promises are kept in memory only. A restarted acceptor
//!   has forgotten the ballots it promised and accepts a lower one; a restarted proposer may
//!   even reuse a ballot it led before. Two values get chosen in a slot (`agreement`).
//! - [`Bug::ForgetDamagedAccepted`]: a restarted acceptor treats a damaged accepted record as
//!   never written and promises as if it had accepted nothing in that slot; a new leader whose
//!   majority holds no other copy fills the slot with a no-op over a chosen value
//!   (`agreement`).

mod acceptor;
mod checks;
mod client;
mod election;
mod learner;
mod node;
mod params;
mod protocol;
mod replication;
pub mod situations;
#[cfg(test)]
mod tests;
mod types;

pub use checks::{check_agreement, check_liveness, Agreement};
pub use election::{adopt_highest, phase2_plan};
pub use node::Paxos;
pub use params::{Bug, Params};
pub use types::{
    AcceptedValue, Ballot, Command, Decision, Msg, Observation, Record, StoreKey, Timer, SLOTS_MAX,
};
