//! Chain traffic between neighbours of one epoch: applying updates in sequence order,
//! forwarding them and resending until acknowledged, acknowledgements flowing up from the
//! tail, snapshots for a successor that lacks trimmed updates, and the tail answering clients.
//!
//! Messages from anyone but this server's neighbour of its own epoch are ignored first (and
//! the reason traced); only then are the invariants asserted.

use sim_core::{Context, NodeId, Response};

use crate::msg::{Msg, Observation, Snapshot, Update};
use crate::server::Server;
use crate::Chain;

/// Most updates one `Forward` carries; the rest follow as the successor acknowledges.
pub const FORWARD_UPDATES_MAX: usize = 512;

impl Server {
    /// Applies the next update: executes it, keeps it in the Sent list, observes it.
    pub(crate) fn apply(&mut self, ctx: &mut Context<'_, Chain>, update: Update) -> Response {
        let response = self
            .store
            .execute(update.client.0, update.request_id, &update.request)
            .expect("the head orders only new requests, so no update is a stale duplicate");
        self.applied += 1;
        let seq = self.applied;
        self.ids.push((update.client, update.request_id));
        ctx.observe(Observation::Applied {
            seq,
            client: update.client,
            request_id: update.request_id,
        });
        self.log.push_back(crate::msg::Logged {
            seq,
            update,
            response: response.clone(),
        });
        response
    }

    fn is_from_predecessor(&self, ctx: &mut Context<'_, Chain>, from: NodeId, epoch: u64) -> bool {
        if epoch == self.config.epoch && Some(from) == self.predecessor() {
            return true;
        }
        ctx.annotate(|| {
            format!(
                "ignored chain traffic of epoch {epoch} from {from}: at epoch {}, predecessor {:?}",
                self.config.epoch,
                self.predecessor()
            )
        });
        false
    }

    /// The predecessor's updates `first, first + 1, …`: applies those that follow on.
    pub fn on_forward(
        &mut self,
        ctx: &mut Context<'_, Chain>,
        from: NodeId,
        (epoch, first, updates): (u64, u64, Vec<Update>),
        (upto, caught_up): (u64, bool),
    ) {
        if !self.is_from_predecessor(ctx, from, epoch) {
            return;
        }
        if first > self.applied + 1 {
            // An earlier batch was lost or is late: the resend will fill the gap.
            ctx.annotate(|| format!("ignored forward from {first}: gap after {}", self.applied));
            self.acknowledge(ctx);
            return;
        }
        let skip = (self.applied + 1 - first) as usize;
        for u in updates.into_iter().skip(skip) {
            self.apply(ctx, u);
        }
        self.received(ctx, upto, caught_up);
    }

    /// The predecessor's whole state: installed if it is ahead of this server's.
    pub fn on_snapshot(&mut self, ctx: &mut Context<'_, Chain>, from: NodeId, s: Snapshot) {
        if !self.is_from_predecessor(ctx, from, s.epoch) {
            return;
        }
        if s.applied <= self.applied {
            ctx.annotate(|| format!("ignored snapshot at {}: I hold {}", s.applied, self.applied));
            self.acknowledge(ctx);
            return;
        }
        assert!(
            s.stable + s.pending.len() as u64 == s.applied,
            "snapshot's Sent list"
        );
        self.store = s.store;
        self.applied = s.applied;
        self.stable = s.stable;
        self.log = s.pending.into();
        self.ids = s.ids;
        ctx.observe(Observation::Installed {
            applied: self.applied,
            ids: self.ids.clone(),
        });
        self.received(ctx, s.applied, s.caught_up);
    }

    /// After applying what the predecessor sent (which held `upto` updates): maybe caught up,
    /// pass new updates on, answer them as tail, acknowledge.
    fn received(&mut self, ctx: &mut Context<'_, Chain>, upto: u64, pred_caught_up: bool) {
        if pred_caught_up && !self.caught_up && self.applied >= upto {
            self.caught_up = true;
            ctx.observe(Observation::CaughtUp {
                applied: self.applied,
            });
        }
        self.forward_new(ctx);
        self.complete(ctx);
        self.acknowledge(ctx);
        self.assert_invariants();
    }

    /// The successor holds `applied` updates (and the tail `stable`): drop what the tail
    /// holds from the Sent list, pass that upstream, repair the successor on first contact.
    pub fn on_ack(
        &mut self,
        ctx: &mut Context<'_, Chain>,
        from: NodeId,
        (epoch, applied, stable): (u64, u64, u64),
        succ_caught_up: bool,
    ) {
        if epoch != self.config.epoch || Some(from) != self.successor() {
            ctx.annotate(|| format!("ignored ack of epoch {epoch} from {from}"));
            return;
        }
        assert!(
            applied <= self.applied && stable <= applied,
            "{}: successor {from} holds {applied} (tail {stable}), I only {}",
            self.id,
            self.applied
        );
        let first_contact = self.succ_held.is_none();
        self.succ_held = Some(self.succ_held.unwrap_or(0).max(applied));
        self.succ_caught_up |= succ_caught_up;
        if stable > self.stable {
            while self.log.front().is_some_and(|l| l.seq <= stable) {
                self.log.pop_front();
            }
            self.stable = stable;
            self.acknowledge(ctx);
        }
        if first_contact {
            self.resend(ctx);
        }
        self.assert_invariants();
    }

    /// Every `resend`: what the successor has not acknowledged, and an acknowledgement to the
    /// predecessor (which repairs lost acknowledgements).
    pub fn on_resend_timer(&mut self, ctx: &mut Context<'_, Chain>) {
        ctx.set_timer(self.params.resend, crate::Timer::Resend);
        self.resend(ctx);
        self.acknowledge(ctx);
    }

    /// Sends the successor everything after its acknowledgement — even nothing, when it is
    /// not caught up yet, so that it learns it is.
    fn resend(&mut self, ctx: &mut Context<'_, Chain>) {
        let (Some(succ), Some(held)) = (self.successor(), self.succ_held) else {
            return;
        };
        if held < self.applied || !self.succ_caught_up {
            self.send_from(ctx, succ, held + 1);
        }
    }

    /// Sends updates not forwarded yet in this epoch (once the successor's position is known).
    pub(crate) fn forward_new(&mut self, ctx: &mut Context<'_, Chain>) {
        let (Some(succ), Some(held)) = (self.successor(), self.succ_held) else {
            return;
        };
        let next = self.sent_upto.max(held) + 1;
        if next <= self.applied {
            self.send_from(ctx, succ, next);
        }
    }

    /// Updates `next..` to the successor, or a snapshot when the Sent list starts after `next`.
    fn send_from(&mut self, ctx: &mut Context<'_, Chain>, succ: NodeId, next: u64) {
        if next <= self.stable {
            self.sent_upto = self.applied;
            ctx.send(succ, Msg::Snapshot(Box::new(self.snapshot())));
            return;
        }
        let skip = (next - self.stable - 1) as usize;
        let updates: Vec<Update> = self
            .log
            .iter()
            .skip(skip)
            .take(FORWARD_UPDATES_MAX)
            .map(|l| l.update.clone())
            .collect();
        self.sent_upto = self.sent_upto.max(next - 1 + updates.len() as u64);
        let msg = Msg::Forward {
            epoch: self.config.epoch,
            first: next,
            updates,
            upto: self.applied,
            caught_up: self.caught_up,
        };
        ctx.send(succ, msg);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            epoch: self.config.epoch,
            applied: self.applied,
            stable: self.stable,
            store: self.store.clone(),
            pending: self.log.iter().cloned().collect(),
            ids: self.ids.clone(),
            caught_up: self.caught_up,
        }
    }

    /// Tail: every update in the Sent list is now at the tail — answer its client.
    pub(crate) fn complete(&mut self, ctx: &mut Context<'_, Chain>) {
        if !self.is_tail() || !self.caught_up {
            return;
        }
        for l in self.log.drain(..) {
            ctx.reply(l.update.client, l.update.request_id, l.response);
        }
        self.stable = self.applied;
    }

    /// Tells the predecessor what this server holds and what the tail holds.
    pub(crate) fn acknowledge(&mut self, ctx: &mut Context<'_, Chain>) {
        let Some(p) = self.predecessor() else {
            return;
        };
        let msg = Msg::Ack {
            epoch: self.config.epoch,
            applied: self.applied,
            stable: self.stable,
            caught_up: self.caught_up,
        };
        ctx.send(p, msg);
    }

    pub(crate) fn assert_invariants(&self) {
        let id = self.id;
        assert!(self.stable <= self.applied, "{id}: stable beyond applied");
        assert_eq!(
            self.log.len() as u64,
            self.applied - self.stable,
            "{id}: the Sent list is not updates stable+1..=applied"
        );
        if let Some(first) = self.log.front() {
            assert_eq!(first.seq, self.stable + 1, "{id}: the Sent list's start");
        }
        assert_eq!(
            self.ids.len() as u64,
            self.applied,
            "{id}: one id per update"
        );
    }
}
