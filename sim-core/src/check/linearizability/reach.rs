//! Looking ahead for reads that can no longer be satisfied.
//!
//! A completed read of `v` must be linearized before its completion `r`, and only operations
//! invoked before `r` can come before it in real time. So from a configuration with state `s`,
//! the read is satisfiable only if `v` can still be produced by what precedes it: `s` is
//! already `v`, an operation invoked before `r` writes `v` (a write, or a compare-and-set that
//! sets it), or — with appends — `v` extends `s` or a value such an operation sets. The same
//! holds for a completed compare-and-set, which needs its expected value. When even that fails,
//! no extension of the configuration can get past `r`: the search backtracks at once instead of
//! trying every order of the operations before `r` (with appends, that is every permutation of
//! the concurrent appends a later read already rules out).
//!
//! The check walks the mandatory event list from its head, gathering the invocations (and the
//! optional invocations) before each completion, and tests the first few completions that need
//! a state ([`DEPTH`], [`DEPTH_APPENDS`]). Values produced are marked with a stamp per walk, so a test costs O(1) without
//! appends and O(values set before it) with them.

use super::model::{CompiledOp, Model, Step, ANY};

/// Completions that need a state (reads, compare-and-sets) tested per configuration: the
/// cost of a walk against how far ahead a dead end is seen. With appends, a wrong order of
/// concurrent appends is only refuted by a later read, and looking four reads ahead is what
/// makes Porcupine's 50-client kv histories fast. Registers without appends are checked
/// fastest looking at the first one only (callgrind instruction counts on Knossos's and
/// Porcupine's etcd histories: 0 to 8% more per extra completion, and nothing saved).
pub(super) const DEPTH: usize = 1;
pub(super) const DEPTH_APPENDS: usize = 4;

/// "No entry" in the event lists.
const NONE: u32 = u32::MAX;

/// The event lists of a search, read-only.
pub(super) struct Lists<'a> {
    pub(super) next: &'a [u32],
    pub(super) event_op: &'a [u32],
    pub(super) event_is_call: &'a [bool],
    pub(super) head_mandatory: u32,
    pub(super) head_optional: u32,
}

/// Scratch state of the look-ahead, kept between configurations to avoid allocating.
#[derive(Default)]
pub(super) struct Reach {
    /// `produced[v] == stamp`: some operation invoked before the completion under test may set
    /// value `v`.
    produced: Vec<u32>,
    stamp: u32,
    /// The values marked in this walk (only kept when the key has appends: `appends` in
    /// [`Reach::doomed`]).
    bases: Vec<u32>,
    /// An append was invoked before the completion under test.
    appended: bool,
}

impl Reach {
    /// The first completion among the next few that need a state which the configuration
    /// (state `state`, event lists `lists`) can no longer produce, if any.
    pub(super) fn doomed(
        &mut self,
        model: &mut Model,
        ops: &[CompiledOp],
        lists: &Lists<'_>,
        state: u32,
        appends: bool,
    ) -> Option<u32> {
        if state == ANY {
            return None;
        }
        let depth = if appends { DEPTH_APPENDS } else { DEPTH };
        if !self.any_other_target(ops, lists, state, depth) {
            return None; // Nothing to produce: skip gathering what could produce it.
        }
        self.begin();
        let mut optional = lists.next[lists.head_optional as usize];
        let mut e = lists.next[lists.head_mandatory as usize];
        let mut tested = 0;
        while e != NONE && tested < depth {
            let op = lists.event_op[e as usize];
            if lists.event_is_call[e as usize] {
                self.note(&ops[op as usize], appends);
                e = lists.next[e as usize];
                continue;
            }
            while optional != NONE && optional < e {
                self.note(&ops[lists.event_op[optional as usize] as usize], appends);
                optional = lists.next[optional as usize];
            }
            let target = match ops[op as usize].step {
                Step::Read(v) | Step::Cas(v, _) => v,
                _ => {
                    e = lists.next[e as usize];
                    continue;
                }
            };
            tested += 1;
            if !self.reachable(model, state, target) {
                return Some(e);
            }
            e = lists.next[e as usize];
        }
        None
    }

    /// Whether one of the next `depth` completions that need a state needs another state than
    /// `state` (most often the first one reads the current value, and there is nothing to do).
    fn any_other_target(
        &self,
        ops: &[CompiledOp],
        lists: &Lists<'_>,
        state: u32,
        depth: usize,
    ) -> bool {
        let mut e = lists.next[lists.head_mandatory as usize];
        let mut tested = 0;
        while e != NONE && tested < depth {
            if !lists.event_is_call[e as usize] {
                if let Step::Read(v) | Step::Cas(v, _) =
                    ops[lists.event_op[e as usize] as usize].step
                {
                    if v != state {
                        return true;
                    }
                    tested += 1;
                }
            }
            e = lists.next[e as usize];
        }
        false
    }

    fn begin(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // Wrapped around: old marks could read as current.
            self.produced.iter_mut().for_each(|m| *m = 0);
            self.stamp = 1;
        }
        self.bases.clear();
        self.appended = false;
    }

    /// Records what an operation that may still come first can set.
    fn note(&mut self, op: &CompiledOp, appends: bool) {
        let v = match op.step {
            Step::Append(_) => {
                self.appended = true;
                return;
            }
            Step::Write(v) => v,
            // A compare-and-set `a → a` never changes the state.
            Step::Cas(expected, new) if expected != new => new,
            _ => return,
        };
        let i = v as usize;
        if self.produced.len() <= i {
            self.produced.resize(i + 1, 0);
        }
        if self.produced[i] != self.stamp {
            self.produced[i] = self.stamp;
            if appends {
                self.bases.push(v);
            }
        }
    }

    fn reachable(&mut self, model: &mut Model, state: u32, target: u32) -> bool {
        if state == target || self.produced.get(target as usize) == Some(&self.stamp) {
            return true;
        }
        // Appends only extend strings: the target must extend the state or a value set before.
        self.appended
            && (model.may_extend_to(state, target)
                || self.bases.iter().any(|&b| model.may_extend_to(b, target)))
    }
}
