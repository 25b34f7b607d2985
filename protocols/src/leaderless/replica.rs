//! A replica's handlers: store writes (its own or hinted for another), answer reads, hand
//! hinted writes to their intended replicas, and exchange versions with the other replicas
//! (anti-entropy).

use sim_core::{Context, Key, NodeId};

use super::messages::{Msg, Timer, Version};
use super::node::Leaderless;
use super::record::{Record, RecordKey};
use super::situations;
use crate::kit::record;

impl Leaderless {
    /// A replica (or, with a hint, a stand-in) stores a write, syncs, and acknowledges it
    /// unless it is a read repair (`op` 0).
    pub(super) fn on_write(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        op: u64,
        key: Key,
        version: Version,
        hint: Option<NodeId>,
    ) {
        match hint {
            Some(intended) if intended != self.id => {
                ctx.reached(situations::SLOPPY_QUORUM);
                let slot = (intended, key);
                if self.hints.get(&slot).is_none_or(|v| *v < version) {
                    self.hints.insert(slot, version);
                    record::put(
                        ctx,
                        Record::Hint {
                            intended,
                            key,
                            version,
                        },
                    );
                }
            }
            _ => {
                let changed = self.store(ctx, key, version);
                if op == 0 {
                    ctx.sometimes(changed, situations::READ_REPAIR);
                }
            }
        }
        if self.sync_writes() {
            ctx.sync();
        }
        if op != 0 {
            self.send(ctx, from, Msg::WriteAck { op });
        }
    }

    /// Answers a read with the newest version held for the key, hinted writes included.
    pub(super) fn on_read(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, op: u64, key: Key) {
        let hinted = self
            .hints
            .iter()
            .filter(|((_, k), _)| *k == key)
            .map(|(_, v)| *v)
            .max();
        let version = self.data.get(&key).copied().max(hinted);
        self.send(ctx, from, Msg::ReadReply { op, version });
    }

    /// The intended replica of a hinted write stores it and says what it now holds.
    pub(super) fn on_handoff(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        key: Key,
        version: Version,
    ) {
        let changed = self.store(ctx, key, version);
        ctx.sometimes(changed, situations::HINTED_HANDOFF);
        if self.sync_writes() {
            ctx.sync();
        }
        let held = self.data.get(&key).copied().unwrap_or(version);
        ctx.send(from, Msg::HandoffAck { key, version: held });
    }

    /// The intended replica holds the hinted write (or newer): the hint is dropped.
    pub(super) fn on_handoff_ack(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        key: Key,
        version: Version,
    ) {
        let slot = (from, key);
        if self.hints.get(&slot).is_some_and(|v| *v <= version) {
            self.hints.remove(&slot);
            ctx.storage().remove(&RecordKey::Hint {
                intended: from,
                key,
            });
        }
    }

    /// Anti-entropy: stores the newer versions of the keys this node replicates, and, if
    /// asked, answers with what it holds that the peer lacks.
    pub(super) fn on_digest(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        mut entries: Vec<(Key, Version)>,
        reply: bool,
    ) {
        entries.retain(|(key, _)| self.is_replica(*key, self.id));
        let mut changed = false;
        for &(key, version) in &entries {
            changed |= self.store(ctx, key, version);
        }
        ctx.sometimes(changed, situations::ANTI_ENTROPY);
        if changed && self.sync_writes() {
            ctx.sync();
        }
        if reply {
            self.digest_reply(ctx, from, Theirs::new(entries));
        }
    }

    /// The versions this node holds of the keys `to` replicates that are newer than, or
    /// missing from, `theirs` (nothing is sent when there are none).
    fn digest_reply(&mut self, ctx: &mut Context<'_, Self>, to: NodeId, theirs: Theirs) {
        // Our keys ascend, as theirs do: one walk through both, no search per key.
        let mut at = 0;
        let newer: Vec<(Key, Version)> = self
            .data
            .iter()
            .filter(|(k, v)| {
                self.is_replica(**k, to) && theirs.get_from(&mut at, k).is_none_or(|t| t < *v)
            })
            .map(|(k, v)| (*k, *v))
            .collect();
        if !newer.is_empty() {
            ctx.send(
                to,
                Msg::Digest {
                    entries: newer,
                    reply: false,
                },
            );
        }
    }

    /// Re-sends every hinted write to its intended replica.
    pub(super) fn handoff(&mut self, ctx: &mut Context<'_, Self>) {
        for (&(intended, key), &version) in &self.hints {
            ctx.send(intended, Msg::Handoff { key, version });
        }
        ctx.set_timer(self.params.handoff_interval, Timer::Handoff);
    }

    /// Sends every other replica of the keys this node holds the versions of the keys they
    /// share.
    pub(super) fn anti_entropy(&mut self, ctx: &mut Context<'_, Self>) {
        // The other replicas of any key held, in id order.
        let peers = (0..self.node_count)
            .map(NodeId)
            .filter(|&p| p != self.id && self.data.keys().any(|&k| self.is_replica(k, p)));
        for peer in peers {
            let entries: Vec<(Key, Version)> = self
                .data
                .iter()
                .filter(|(key, _)| self.is_replica(**key, peer))
                .map(|(k, v)| (*k, *v))
                .collect();
            ctx.send(
                peer,
                Msg::Digest {
                    entries,
                    reply: true,
                },
            );
        }
        ctx.set_timer(self.params.anti_entropy_interval, Timer::AntiEntropy);
    }
}

/// A peer's digest as a map from key to version: what a `BTreeMap` collected from its
/// entries would answer (the last entry of a key wins), without building one. Digests are
/// built from a replica's own ordered map, so their keys already ascend and are unique; any
/// other order is sorted first.
struct Theirs(Vec<(Key, Version)>);

impl Theirs {
    fn new(mut entries: Vec<(Key, Version)>) -> Theirs {
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: equal keys keep their order, and the last of each run is kept.
            entries.sort_by_key(|(k, _)| *k);
            let mut kept: Vec<(Key, Version)> = Vec::with_capacity(entries.len());
            for e in entries {
                match kept.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => kept.push(e),
                }
            }
            entries = kept;
        }
        Theirs(entries)
    }

    /// `get(key)` for keys asked in ascending order: `at` (0 at first) is where the walk
    /// stands, past every entry below the keys asked so far.
    fn get_from(&self, at: &mut usize, key: &Key) -> Option<&Version> {
        while self.0.get(*at).is_some_and(|(k, _)| k < key) {
            *at += 1;
        }
        match self.0.get(*at) {
            Some((k, v)) if k == key => Some(v),
            _ => None,
        }
    }

    #[cfg(test)]
    fn get(&self, key: &Key) -> Option<&Version> {
        self.0
            .binary_search_by_key(key, |(k, _)| *k)
            .ok()
            .map(|i| &self.0[i].1)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn theirs_answers_as_the_collected_map() {
        let v = |ts| Version {
            ts,
            node: 0,
            value: ts as u64,
        };
        let cases: Vec<Vec<(Key, Version)>> = vec![
            vec![],
            vec![(3, v(1))],
            vec![(1, v(1)), (2, v(2)), (5, v(3))],
            vec![(5, v(1)), (2, v(2)), (5, v(3)), (1, v(4)), (2, v(5))],
            vec![(4, v(9)), (4, v(8)), (4, v(7))],
        ];
        for entries in cases {
            let tree: BTreeMap<Key, Version> = entries.iter().copied().collect();
            let theirs = Theirs::new(entries);
            for key in 0..7 {
                assert_eq!(theirs.get(&key), tree.get(&key), "key {key}");
            }
            // Walked in ascending order, every subset of the keys asked.
            for asked in 0u32..128 {
                let mut at = 0;
                for key in (0..7).filter(|k| asked & (1 << k) != 0) {
                    let got = theirs.get_from(&mut at, &key);
                    assert_eq!(got, tree.get(&key), "key {key} of {asked:b}");
                }
            }
        }
    }
}
