//! What a client asks next, and a drawn workload turned into an explicit script.
//!
//! Every closed-loop client draws its operations from its own random stream: which kind of
//! request, which key (or keys), and — with `target: Random` — which node. [`next_op`] is the
//! one place those draws happen (the clients call it for every request), so [`materialize`]
//! can replay a seed's draws without running anything and write down the operations each
//! client issued as a [`Workload::Script`]. Run with that script instead of the drawn workload,
//! the clients issue the same requests, to the same nodes, at the same times — and removing
//! one scripted operation leaves every other where it was, which is what shrinking a failing
//! run needs. Written values are not part of a script: each is fresh when sent
//! (`(client + 1) << 32 | n`), and a cas expects what its client last saw, exactly as in the
//! drawn workloads.

use crate::config::{
    ClientConfig, ClientScript, ScriptOp, ScriptedRequest, TargetPolicy, Workload,
};
use crate::rng::{SimRng, StreamLabel};
use crate::{ClientId, History, NodeId, Request, SimDuration, SimTime};

/// Client `c`'s `issued`-th operation (from 0) and the node it goes to: read from the
/// script, or drawn from `rng` — the kind, then the key (or the transaction's keys), then,
/// with `target: Random`, the node — in that order, which defines the drawn workloads.
/// `next_target` is the client's round-robin position. `None` when the workload has no
/// operation there.
pub(crate) fn next_op(
    cfg: &ClientConfig,
    node_count: u32,
    c: ClientId,
    issued: u32,
    rng: &mut SimRng,
    next_target: &mut u32,
) -> Option<(ScriptedRequest, NodeId)> {
    let (op, node) = match &cfg.workload {
        Workload::None => return None,
        Workload::Broadcast { .. } => (ScriptedRequest::Broadcast, None),
        Workload::KeyValue {
            keys,
            get,
            put,
            cas,
            append,
            ..
        } => {
            let (get, put, cas, append) = (
                u64::from(*get),
                u64::from(*put),
                u64::from(*cas),
                u64::from(*append),
            );
            let draw = rng.below(get + put + cas + append);
            let key = rng.below(u64::from(*keys));
            let op = if draw < get {
                ScriptedRequest::Get(key)
            } else if draw < get + put {
                ScriptedRequest::Put(key)
            } else if draw < get + put + cas {
                ScriptedRequest::Cas(key)
            } else {
                ScriptedRequest::Append(key)
            };
            (op, None)
        }
        Workload::Transactions {
            keys, keys_per_txn, ..
        } => match crate::txn::draw(rng, *keys, *keys_per_txn) {
            Request::Txn { keys } => (ScriptedRequest::Txn(keys), None),
            other => unreachable!("txn::draw returned {other:?}"),
        },
        Workload::Script { clients, .. } => {
            let op = clients.get(c.index())?.ops.get(issued as usize)?;
            (op.op.clone(), op.node)
        }
    };
    let node = node.unwrap_or_else(|| match cfg.target {
        TargetPolicy::Random => NodeId(rng.below(u64::from(node_count)) as u32),
        TargetPolicy::Fixed(n) => n,
        TargetPolicy::RoundRobin => {
            let n = *next_target;
            *next_target = (n + 1) % node_count;
            NodeId(n)
        }
        TargetPolicy::Bound => NodeId(c.0 % node_count),
    });
    Some((op, node))
}

/// The earliest time client `c` may send its `index`-th operation: the script's `at` for it,
/// or time zero.
pub(crate) fn not_before(cfg: &ClientConfig, c: ClientId, index: u32) -> SimTime {
    match &cfg.workload {
        Workload::Script { clients, .. } => clients
            .get(c.index())
            .and_then(|s| s.ops.get(index as usize))
            .and_then(|o| o.at)
            .map_or(SimTime::ZERO, |at| SimTime(at.0)),
        _ => SimTime::ZERO,
    }
}

/// When client `c` first acts in a closed loop: its script's `start`, or a draw spread over
/// one interval (so that clients do not move in step).
pub(crate) fn first_tick(cfg: &ClientConfig, c: ClientId, rng: &mut SimRng) -> SimDuration {
    match &cfg.workload {
        Workload::Script { clients, .. } => clients
            .get(c.index())
            .map_or(SimDuration::ZERO, |s| s.start),
        w => SimDuration(rng.below(w.interval().0.max(1))),
    }
}

/// The explicit script of a closed-loop workload at `seed`, from the `history` of its run:
/// for each client, the operations it drew, as many as it issued, each with its node when the
/// target policy drew or stepped it (`Random`, `RoundRobin`; a `Fixed` or `Bound` client's
/// node follows from the policy and stays implicit) and with the time it was sent as its `at`.
/// Run in place of `clients.workload` at the same seed, the clients issue the same requests,
/// to the same nodes, at the same times — and with an operation removed, the others still go
/// no earlier than they did. `None` for an open-loop workload (`rate`: its arrival draws
/// interleave with the operations' in the order of the run) or for no workload.
pub fn materialize(
    seed: u64,
    clients: &ClientConfig,
    node_count: u32,
    history: &History,
) -> Option<Workload> {
    if clients.rate.is_some() || clients.workload == Workload::None || node_count == 0 {
        return None;
    }
    let implicit = matches!(clients.target, TargetPolicy::Fixed(_) | TargetPolicy::Bound);
    let mut sent: Vec<Vec<SimDuration>> = vec![Vec::new(); clients.count as usize];
    for op in &history.ops {
        if let Some(times) = sent.get_mut(op.client.index()) {
            times.push(SimDuration(op.invoke.0));
        }
    }
    let scripts = sent
        .iter()
        .enumerate()
        .map(|(i, times)| {
            let c = ClientId(i as u32);
            let mut rng = SimRng::new(seed, StreamLabel::Client(c.0));
            let mut next_target = c.0 % node_count;
            first_tick(clients, c, &mut rng);
            let ops = times
                .iter()
                .enumerate()
                .map_while(|(n, &at)| {
                    let (op, node) =
                        next_op(clients, node_count, c, n as u32, &mut rng, &mut next_target)?;
                    Some(ScriptOp {
                        op,
                        node: (!implicit).then_some(node),
                        at: Some(at),
                    })
                })
                .collect();
            ClientScript {
                start: SimDuration::ZERO,
                ops,
            }
        })
        .collect();
    Some(Workload::Script {
        interval: clients.workload.interval(),
        clients: scripts,
    })
}
