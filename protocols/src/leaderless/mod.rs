//! Leaderless: a Dynamo-style key-value store with sloppy quorums, last-writer-wins timestamps,
//! read repair, hinted handoff and anti-entropy.
//!
//! # The service
//!
//! Registers behind the key-value service (`Get` and `Put`; `Cas` and `Append` are answered
//! `Response::Unsupported`, which the client records as a definite failure — they never take
//! effect, so the history checker sees nothing they could have changed). Every node serves every
//! request: there is no leader and no redirect. The store stays available under partition and
//! promises *eventual* consistency — after the faults heal, the replicas of a key converge to the
//! write with the highest timestamp, and an acknowledged write is only ever replaced by a
//! higher-timestamped one (the scenario checks `replica-convergence` and `no-lost-writes`). It
//! does **not** promise linearizability: with `r + w <= n`, with sloppy quorums, or with skewed
//! clocks, the `linearizable` check finds stale reads and lost updates on real runs — and even
//! strict quorums on true clocks can show a new/old inversion when a put reaches fewer than `w`
//! replicas, since reads have no write-back phase (see `scenarios/leaderless/README.md`).
//!
//! # The algorithm
//!
//! DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store" (SOSP 2007), §4.
//!
//! 1. **Placement** (§4.2–4.3). Nodes sit on a ring in id order. A key hashes (a fixed portable
//!    mix, [`key_position`], never std's hasher) to a ring position; its *preference list* is the
//!    `n` consecutive nodes from there. The nodes after them on the ring are its *fallbacks*.
//! 2. **Versions** (§4.4, simplified to last-writer-wins as in Cassandra and Dynamo's own LWW
//!    mode). The node that receives a `Put` coordinates it and stamps the value with a
//!    [`Version`]: its *local clock* (`ctx.local_time()`, made strictly increasing per node),
//!    then its node id, then the value (unique per write in dsim workloads) to break ties, so
//!    that versions are totally ordered and every replica picks the same winner. Clocks are
//!    skewed, drift and jump in dsim: a later write coordinated by a node whose clock is behind
//!    loses to an earlier one. That is LWW's documented weakness, and the scenarios show it.
//! 3. **Writes** (§4.5). The coordinator sends the version to every replica in the preference
//!    list (applying it itself at once if it is one). A replica keeps the higher of what it holds
//!    and what it receives, writes it to storage and **syncs before acknowledging**. The
//!    coordinator answers `Ok` after `w` acknowledgements, and re-sends to replicas silent for
//!    `replica_timeout` — after the answer too, until every replica (or, with sloppy quorums, a
//!    stand-in) holds the write, or `request_timeout`. A put that cannot gather `w` before
//!    `request_timeout` gets **no answer**: it may have reached some replicas and become visible
//!    later, so a definite failure would be a lie; the client times out (`unknown`).
//! 4. **Reads.** The coordinator asks the preference list and answers, after `r` replies, with
//!    the value of the highest version among them. A read that cannot gather `r` replies answers
//!    `Fail` (a read has no effect, so the failure is definite).
//! 5. **Read repair** (§4.7, `read_repair`). Replicas of the preference list that answered an
//!    older version than the newest seen (until `request_timeout`) are sent the newest.
//! 6. **Sloppy quorum and hinted handoff** (§4.6, `sloppy`). For each replica that has not
//!    answered within `replica_timeout`, the coordinator also sends the request to the next
//!    unused fallback on the ring, with a *hint* naming the intended replica, so that a write
//!    reaches `n` nodes whenever `n` are reachable. A fallback stores a hinted write apart from
//!    its own data (synced before acknowledging) and counts towards `w`; for reads it answers
//!    the newest version it holds for the key, hinted or not.
//!    Every `handoff_interval` a node re-sends each hinted write to its intended replica until
//!    that replica acknowledges it, then drops the hint.
//! 7. **Anti-entropy** (§4.7, replica synchronization). Dynamo compares Merkle trees; this
//!    model's key spaces are small, so every `anti_entropy_interval` a node sends each other
//!    replica of the keys it holds the versions of every key they both replicate, and the peer
//!    answers with the versions it holds that are newer or missing (push-pull). A node talks to
//!    at most `2 (n - 1)` peers per round, however large the cluster. This is what makes
//!    replicas converge after a put that reached fewer than `n` replicas (a crashed
//!    coordinator, a replica cut off for longer than `request_timeout`).
//! 8. **Recovery.** A restarted node reloads its data and hints from storage (what was synced)
//!    and resumes handoff and anti-entropy. Coordinator state is volatile: a crash forgets the
//!    requests in flight, whose clients time out.
//!
//! Duplicated client requests are filtered per coordinator (volatile): a node answers a given
//! `(client, request id)` at most once while it stays up.
//!
//! Unlike the other key-value protocols, neither the replicas nor this filter are a
//! [`sim_core::kv::KvStore`]: a replica holds one *versioned* value per key and keeps the
//! higher version (anti-entropy and read repair compare versions), which a store of plain
//! values cannot represent; and a store's session answers a retry of the client's last
//! request with its recorded response, while a coordinator here takes a request on before any
//! response exists (a put may never get one) and answers a duplicate not at all.
//!
//! # Bugs to inject
//!
//! - [`Bug::NoSyncBeforeAck`]: replicas acknowledge writes without syncing them. A crash of the
//!   replicas that acknowledged loses an acknowledged write: `no-lost-writes`.
//! - [`Bug::AckBeforeQuorum`]: the coordinator acknowledges a put after the first replica's
//!   acknowledgement (often its own), ignoring `w`. With strict quorums a later read from `r`
//!   other replicas misses the acknowledged write: `linearizable` reports a stale read.
//! - [`Bug::NoReplicaSync`]: nodes never run anti-entropy. A put acknowledged by `w` replicas
//!   while the others were cut off for longer than `request_timeout` reaches them only through
//!   a hint or a later read's repair; without either, `replica-convergence` finds replicas that
//!   disagree after the heal.
//!
//! # Where things are
//!
//! `params.rs`, `messages.rs` (versions, messages, timers, observations), `ring.rs`
//! (placement), `record.rs` (the durable store) and `pending.rs` (a coordinated request) are
//! at the bottom; `node.rs` is the `Process`, routing to the handlers of `replica.rs` and
//! `coordinator.rs`; `checks.rs` holds the checks. Handlers import the types, never the other
//! way round.

mod checks;
mod coordinator;
mod messages;
mod node;
mod params;
mod pending;
mod record;
mod replica;
mod ring;
pub mod situations;

use sim_core::check::Linearizable;
use sim_core::protocol::{rules, CheckList, FieldError, Protocol};
use sim_core::{NodeId, Service, SimConfig};

pub use checks::{
    check_no_lost_writes, check_replica_convergence, NoLostWrites, ReplicaConvergence,
    ReplicaConvergenceParams,
};
pub use messages::{Msg, Observation, Timer, Version};
pub use node::Leaderless;
pub use params::{Bug, Params, PENDING_MAX};
pub use record::{Record, RecordKey};
pub use ring::{key_position, preference_list, ring_from};

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for Leaderless {
    const NAME: &'static str = "Leaderless";
    const CLI_NAME: &'static str = "leaderless";
    const SUMMARY: &'static str = "leaderless Dynamo-style quorum store: preference lists, R/W quorums, LWW by local clock, read repair, sloppy quorum with hinted handoff, anti-entropy";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    const SITUATIONS: &'static [&'static str] = situations::ALL;
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Leaderless {
        Leaderless::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        let nodes = config.node_count;
        if p.n == 0 || p.n > nodes {
            return Err(FieldError::new(
                "n",
                format!("leaderless `n` is `{}`, outside `1..={nodes}`", p.n),
            )
            .hint(format!("each key is replicated on `n` consecutive nodes of the ring, so `n` is at most `nodes` (`{nodes}`)")));
        }
        for (name, q) in [("r", p.r), ("w", p.w)] {
            if q == 0 || q > p.n {
                return Err(FieldError::new(
                    name,
                    format!("leaderless `{name}` is `{q}`, outside `1..={}`", p.n),
                )
                .hint(format!("a quorum counts replies from the `n` (`{}`) replicas of a key; `r + w > n` makes reads see the latest acknowledged write", p.n)));
            }
        }
        rules::positive("protocol", "replica_timeout", p.replica_timeout)?;
        rules::positive("protocol", "request_timeout", p.request_timeout)?;
        rules::positive("protocol", "handoff_interval", p.handoff_interval)?;
        rules::positive("protocol", "anti_entropy_interval", p.anti_entropy_interval)?;
        if p.replica_timeout >= p.request_timeout {
            return Err(FieldError::new(
                "replica_timeout",
                format!(
                    "leaderless `replica_timeout` (`{}`) is not below `request_timeout` (`{}`)",
                    p.replica_timeout, p.request_timeout
                ),
            )
            .hint("the coordinator re-sends (and asks fallbacks) every `replica_timeout` until `request_timeout`: make it a fraction, e.g. an eighth"));
        }
        p.validate().map_err(|e| FieldError::new("", e))
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<ReplicaConvergence>();
        list.add::<NoLostWrites>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }
}
