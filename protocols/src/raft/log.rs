//! Raft's log: indices past a snapshot, the consistency check (§5.3) and the up-to-date
//! rule (§5.4.1), appending and truncating with their durable records, the commit rule of
//! Figure 8 and fast backtracking as pure functions, and recovery from storage.

use sim_core::trace::stable_hash;
use sim_core::{Context, RequestId};

use crate::kit::record::{self, Recovered};

use super::node::Raft;
use super::params::Bug;
use super::types::{Command, Entry, Observation, Record, Slot, LOG_ENTRIES_MAX};

impl Raft {
    pub(super) fn last_index(&self) -> u64 {
        self.snap_index + self.log.len() as u64
    }

    /// The term of the entry at `index`, which must not be compacted (the snapshot's last
    /// index is fine).
    pub(super) fn term_at(&self, index: u64) -> u64 {
        if index == self.snap_index {
            self.snap_term
        } else {
            assert!(
                index > self.snap_index,
                "n{}: entry {index} is compacted",
                self.id.0
            );
            self.log[(index - self.snap_index - 1) as usize].term
        }
    }

    pub(super) fn entry_at(&self, index: u64) -> &Entry {
        assert!(
            index > self.snap_index,
            "n{}: entry {index} is compacted",
            self.id.0
        );
        &self.log[(index - self.snap_index - 1) as usize]
    }

    /// The first index of the entries of `term` that end the log (a leader's own term: its
    /// no-op and what followed), if the last entry is of `term`.
    pub(super) fn first_index_of_term(&self, term: u64) -> Option<u64> {
        let tail = self.log.iter().rev().take_while(|e| e.term == term).count() as u64;
        (tail > 0).then(|| self.last_index() + 1 - tail)
    }

    pub(super) fn last_term(&self) -> u64 {
        self.term_at(self.last_index())
    }

    /// §5.4.1: is a log ending at (`last_term`, `last_index`) at least as up to date as ours?
    pub fn log_up_to_date(&self, last_index: u64, last_term: u64) -> bool {
        last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.last_index())
    }

    /// The consistency check (§5.3): `Ok` when the log holds the entry (`prev_index`,
    /// `prev_term`); otherwise the hint for fast backtracking — the term of the entry at
    /// `prev_index` and the first index holding that term, or `None` and the log length + 1 when
    /// the log is shorter.
    /// An entry at or before the snapshot's last index is committed, so it matches: `Ok`.
    pub fn check_prev(&self, prev_index: u64, prev_term: u64) -> Result<(), (Option<u64>, u64)> {
        if prev_index > self.last_index() {
            return Err((None, self.last_index() + 1));
        }
        if prev_index <= self.snap_index {
            return Ok(());
        }
        let term = self.term_at(prev_index);
        if term == prev_term {
            return Ok(());
        }
        let mut first = prev_index;
        while first > self.snap_index + 1 && self.term_at(first - 1) == term {
            first -= 1;
        }
        Err((Some(term), first))
    }

    /// Is the request in the part of the log not applied yet?
    pub(super) fn pending_in_log(&self, client: u32, request_id: RequestId) -> bool {
        let unapplied = self.applied.saturating_sub(self.snap_index) as usize;
        self.log.get(unapplied..).unwrap_or(&[]).iter().any(|e| {
            matches!(&e.command, Command::Client { client: c, request_id: r, .. }
                if *c == client && *r == request_id)
        })
    }

    // ---- durable state ---------------------------------------------------------------------

    pub(super) fn persist_term_vote(&mut self, ctx: &mut Context<'_, Self>) {
        record::put(ctx, Record::Term(self.term));
        record::put(ctx, Record::Vote(self.voted_for));
    }

    /// Appends `entry` (memory and storage; synced before the next send).
    pub(super) fn append(&mut self, ctx: &mut Context<'_, Self>, entry: Entry) {
        assert!(
            (self.log.len() as u64) < LOG_ENTRIES_MAX,
            "raft log is full"
        );
        self.log.push(entry.clone());
        ctx.observe(Observation::Appended {
            index: self.last_index(),
            term: entry.term,
            command_hash: stable_hash(&entry.command),
        });
        record::put(ctx, Record::Entry(self.last_index(), entry));
    }

    /// Deletes the entries from `index` on.
    pub(super) fn truncate(&mut self, ctx: &mut Context<'_, Self>, index: u64) {
        assert!(index >= 1);
        if self.params.bug.is_none() {
            assert!(
                index > self.commit,
                "n{}: truncating committed entry {index} (commit {})",
                self.id.0,
                self.commit
            );
        }
        assert!(
            index > self.snap_index,
            "n{}: truncating compacted entry {index}",
            self.id.0
        );
        self.log.truncate((index - self.snap_index - 1) as usize);
        let _ = self.damaged.split_off(&index);
        let _ = self.missing_at.split_off(&index);
        ctx.observe(Observation::Truncated { from: index });
        ctx.storage().remove_from(&Slot::entries_from(index));
    }

    /// The first damaged index, if any.
    pub(super) fn first_damaged(&self) -> Option<u64> {
        self.damaged.first().copied()
    }

    /// The last index this node may acknowledge or apply: just before its first damaged entry.
    pub(super) fn readable_end(&self) -> u64 {
        self.first_damaged().map_or(self.last_index(), |d| d - 1)
    }

    /// Reports the log from `from` on for the log checks: cut there, then every entry held
    /// intact (a damaged one is skipped: the checks take what follows it as of unknown prefix).
    pub(super) fn observe_from(&self, ctx: &mut Context<'_, Self>, from: u64) {
        ctx.observe(Observation::Truncated { from });
        let start = from.max(self.snap_index + 1);
        for index in start..=self.last_index() {
            if self.damaged.contains(&index) {
                continue;
            }
            let e = self.entry_at(index);
            ctx.observe(Observation::Appended {
                index,
                term: e.term,
                command_hash: stable_hash(&e.command),
            });
        }
    }

    /// Reports the whole log for the log checks: emptied, then every entry after the
    /// snapshot.
    pub(super) fn observe_whole_log(&self, ctx: &mut Context<'_, Self>) {
        self.observe_from(ctx, 1);
    }

    /// A restart: rebuilds the durable state from storage (snapshot, then entries), reports
    /// it, and under leases waits out a lease before voting.
    ///
    /// Storage-aware recovery (Alagappan et al., FAST 2018): the log's records are read
    /// checksummed. Where the entries stop being a log — a missing index, two entries at one
    /// index, a term lower than the one before or above `currentTerm` (which is written before
    /// any entry of its term) — a torn write kept some unsynced writes and
    /// not others; nothing from there on was ever synced, so nothing was acknowledged, and it
    /// is discarded as a crash would. An entry whose contents are damaged keeps its identity
    /// (index and term, in its key) and may have been acknowledged: it stays in the log,
    /// marked damaged, to be repaired from an intact copy or discarded once a majority is
    /// known to hold none ([`Self::on_repair_reply`]). The `TruncateAtCorruption` bug instead
    /// cuts the log at the first damaged entry and carries on.
    pub(super) fn recover(&mut self, ctx: &mut Context<'_, Self>) {
        let mut cut = None;
        let records = record::read_all(ctx);
        // At most one entry a record: the log is not regrown (and copied) entry by entry.
        self.log.reserve(records.len());
        for r in records {
            let (index, term, entry) = match r {
                Recovered::Intact(Record::Entry(i, e)) => (i, e.term, Some(e)),
                Recovered::Damaged(Slot::Entry(i, t)) => (i, t, None),
                Recovered::Intact(other) => {
                    self.load(other);
                    continue;
                }
                Recovered::Damaged(slot) => {
                    panic!(
                        "n{}: damaged {slot:?}, which the atlas keeps safe",
                        self.id.0
                    )
                }
            };
            if cut.is_some() {
                continue;
            }
            if index <= self.snap_index {
                // A torn write kept the snapshot and lost the removal of what it covers.
                ctx.storage().remove(&Slot::Entry(index, term));
                continue;
            }
            if index != self.last_index() + 1 || term < self.last_term() || term > self.term {
                cut = Some(index.min(self.last_index() + 1));
                continue;
            }
            match entry {
                Some(e) => self.log.push(e),
                None if self.bug(Bug::TruncateAtCorruption) => cut = Some(index),
                None => {
                    self.damaged.insert(index);
                    self.log.push(Entry {
                        term,
                        command: Command::Noop,
                    });
                }
            }
        }
        if let Some(from) = cut {
            self.log.truncate((from - self.snap_index - 1) as usize);
            let _ = self.damaged.split_off(&from);
            ctx.storage().remove_from(&Slot::entries_from(from));
        }
        ctx.observe(Observation::Recovered {
            term: self.term,
            log_len: self.last_index(),
        });
        self.observe_whole_log(ctx);
        if let Some(first) = self.first_damaged() {
            let count = self.damaged.len() as u64;
            ctx.observe(Observation::Damaged { first, count });
        }
        if self.snap_index > 0 {
            ctx.observe(Observation::Snapshotted {
                last_index: self.snap_index,
                last_term: self.snap_term,
                installed: false,
            });
        }
        if self.params.lease().is_some() {
            // It may have acknowledged a leader's round just before it crashed, granting a
            // lease it no longer remembers: wait out a whole lease before voting.
            self.leader_contact = Some(ctx.local_time().0);
        }
    }

    /// One durable record other than an entry, read back in key order.
    fn load(&mut self, record: Record) {
        match record {
            Record::Term(t) => self.term = t,
            Record::Vote(v) => self.voted_for = v,
            Record::Snapshot(snap) => {
                self.snap_index = snap.last_index;
                self.snap_term = snap.last_term;
                self.store = snap.store.clone();
                self.snap_store = snap.store;
                self.commit = self.snap_index;
                self.applied = self.snap_index;
            }
            Record::Entry(..) => unreachable!("entries are read by `recover`"),
        }
    }
}

/// Leader, rule 6: the new commit index — the highest index above `commit` that at least
/// `need` nodes hold (`matched`, the leader's own log length included) and whose entry is of
/// the current `term` (Figure 8). `by_count_only` drops the term condition (the
/// `CommitPreviousTermByCount` bug).
pub fn commit_target(
    log: &[Entry],
    base: u64,
    term: u64,
    commit: u64,
    matched: &[u64],
    need: usize,
    by_count_only: bool,
) -> u64 {
    let mut n = base + log.len() as u64;
    while n > commit.max(base) {
        let entry_term = log[(n - base - 1) as usize].term;
        if entry_term != term && !by_count_only {
            // Entries of earlier terms are committed only through one of this term; the
            // terms along the log never decrease, so no lower index is of this term either.
            break;
        }
        if matched.iter().filter(|&&m| m >= n).count() >= need {
            return n;
        }
        n -= 1;
    }
    commit
}

/// Leader, fast backtracking (§5.3): the next index to try after a follower refused with the
/// hint (`conflict_term`, `conflict_index`). If the leader holds entries of the conflicting term,
/// it resumes after its last one; otherwise at the first index the follower holds of that term
/// (or its log length + 1). Never at or below what the follower is known to match, never past
/// the end of the log.
pub fn next_after_refusal(
    log: &[Entry],
    base: u64,
    conflict_term: Option<u64>,
    conflict_index: u64,
    matched: u64,
) -> u64 {
    let mut n = conflict_index;
    if let Some(ct) = conflict_term {
        if let Some(pos) = log.iter().rposition(|e| e.term == ct) {
            n = base + pos as u64 + 2;
        }
    }
    n.clamp(matched + 1, base + log.len() as u64 + 1)
}
