//! Durable send-and-reply: every write a node made is synced before a message or a client
//! reply that depends on it leaves the node.
//!
//! Raft (Figure 2: "respond to RPCs only after updating stable storage") and Multi-Paxos (an
//! acceptor's promise and accepted values are durable before it answers) share the rule. The
//! helpers here sync only when there is something to sync, so a node that wrote nothing since
//! its last sync sends without a `sync` event — exactly what both protocols did by hand.
//! What is written is one record type per protocol: see [`super::record`].
//!
//! With a disk model (`storage:` in the scenario) a sync takes time, and the engine holds
//! every message and reply the node sends after it until the sync completes: the helpers need
//! nothing more to be durable sends, for dsim's protocols and a user's alike.

use sim_core::{ClientId, Context, NodeId, Process, RequestId, Response};

/// Makes every write so far durable, if there is any.
pub fn flush<P: Process>(ctx: &mut Context<'_, P>) {
    if ctx.storage().unsynced_count() > 0 {
        ctx.sync();
    }
}

/// Sends `msg` to `to` after making every write durable.
pub fn send<P: Process>(ctx: &mut Context<'_, P>, to: NodeId, msg: P::Msg) {
    flush(ctx);
    ctx.send(to, msg);
}

/// Sends `msg` to every node but `me`, in id order, after making every write durable. The
/// last recipient gets `msg` itself, the others a clone.
pub fn broadcast<P: Process>(ctx: &mut Context<'_, P>, me: NodeId, msg: P::Msg) {
    let Some(last) = (0..ctx.node_count()).rev().find(|&p| p != me.0) else {
        return;
    };
    for p in 0..last {
        if p != me.0 {
            send(ctx, NodeId(p), msg.clone());
        }
    }
    send(ctx, NodeId(last), msg);
}

/// Answers a client after making every write durable.
pub fn reply<P: Process>(
    ctx: &mut Context<'_, P>,
    client: ClientId,
    request_id: RequestId,
    response: Response,
) {
    flush(ctx);
    ctx.reply(client, request_id, response);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::record::{put, records, DurableRecord};
    use sim_core::{SimConfig, SimDuration};

    /// Node 0 writes a record, then sends to everyone; each node reports how many unsynced
    /// writes it had when a message left or arrived, and what a restart would read.
    struct Probe;

    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Rec {
        A(u64),
        B(u64, &'static str),
    }

    impl DurableRecord for Rec {
        type Key = (u8, u64);
        fn key(&self) -> (u8, u64) {
            match *self {
                Rec::A(_) => (0, 0),
                Rec::B(i, _) => (1, i),
            }
        }
    }

    impl Process for Probe {
        type Msg = u64;
        type Timer = ();
        type StoreKey = (u8, u64);
        type StoreValue = Rec;
        type Observation = (u64, u64);

        fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
            if ctx.id() != NodeId(0) {
                return;
            }
            put(ctx, Rec::B(2, "two"));
            put(ctx, Rec::A(7));
            put(ctx, Rec::A(8));
            broadcast(ctx, NodeId(0), 5);
            let unsynced = ctx.storage().unsynced_count() as u64;
            let read: Vec<Rec> = records(ctx);
            assert_eq!(
                read,
                vec![Rec::A(8), Rec::B(2, "two")],
                "one record per key"
            );
            ctx.observe((0, unsynced));
        }

        fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, msg: u64) {
            ctx.observe((1, msg));
        }

        fn on_timer(&mut self, _: &mut Context<'_, Self>, _: ()) {}
    }

    #[test]
    fn writes_are_synced_once_before_the_first_message_leaves() {
        let result = sim_core::run(SimConfig::basic(3, SimDuration::from_millis(100)), |_| {
            Probe
        });
        let seen: Vec<(u64, u64)> = result.observations.iter().map(|o| o.value).collect();
        assert_eq!(seen, vec![(0, 0), (1, 5), (1, 5)]);
    }
}
