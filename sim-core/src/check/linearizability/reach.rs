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
//! Without appends only the first completion that needs a state is tested (looking further
//! ahead saved nothing on Knossos's and Porcupine's register histories): the check looks for
//! one operation before it that sets the value it needs, and stops at the first. With appends
//! it walks the mandatory event list from its head, gathering the invocations (and the
//! optional invocations) before each completion, and tests the first [`DEPTH_APPENDS`]
//! completions that need a state; values produced are marked with a stamp per walk, so a test
//! costs O(values set before it).

use super::model::{CompiledOp, Model, Step, ANY};

/// Completions that need a state (reads, compare-and-sets) tested per configuration of a key
/// with appends: the cost of a walk against how far ahead a dead end is seen. A wrong order of
/// concurrent appends is only refuted by a later read, and looking four reads ahead is what
/// makes Porcupine's 50-client kv histories fast. Registers without appends are checked
/// fastest looking at the first one only (callgrind instruction counts on Knossos's and
/// Porcupine's etcd histories: 0 to 8% more per extra completion, and nothing saved).
pub(super) const DEPTH_APPENDS: usize = 4;

/// "No entry" in the event lists.
const NONE: u32 = u32::MAX;
/// An invocation's entry in `event_sets` when its operation appends (no value id is this
/// large: values are fewer than 2^30).
pub(super) const APPENDS: u32 = u32::MAX - 1;

/// A completion's entry in the per-event values ([`event_value`]) is the state it needs plus
/// this (values are fewer than 2^30, so the entry lies below [`APPENDS`]).
pub(super) const NEEDS: u32 = 1 << 30;

/// The state a completion's entry of [`event_value`] says it needs, if any.
#[inline]
fn needs(x: u32) -> Option<u32> {
    (NEEDS..2 * NEEDS).contains(&x).then(|| x - NEEDS)
}

/// Set in [`Event::op_call`] for an invocation.
const CALL: u32 = 1 << 31;

/// One event of a search's time-ordered lists, everything the walks read of it side by side:
/// one bounds check and one cache line per event visited, where five arrays took five.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Event {
    /// The next and the previous event in its list (`NONE`: none).
    pub(super) next: u32,
    pub(super) prev: u32,
    /// What [`event_value`] gives for it.
    pub(super) look: u32,
    /// Its operation's index, with [`CALL`] set for the invocation (operations are fewer than
    /// 2^30).
    op_call: u32,
}

impl Event {
    /// A sentinel, or an event not placed yet: no links, no operation.
    pub(super) const EMPTY: Event = Event {
        next: NONE,
        prev: NONE,
        look: NONE,
        op_call: NONE,
    };

    /// `op`'s invocation (`call`) or completion, unlinked, with look-ahead entry `look`.
    #[inline(always)]
    pub(super) fn new(op: u32, call: bool, look: u32) -> Event {
        debug_assert!(op < CALL);
        Event {
            next: NONE,
            prev: NONE,
            look,
            op_call: op | if call { CALL } else { 0 },
        }
    }

    /// The index of its operation.
    #[inline(always)]
    pub(super) fn op(self) -> u32 {
        self.op_call & !CALL
    }

    /// Whether it is an invocation (else a completion).
    #[inline(always)]
    pub(super) fn is_call(self) -> bool {
        self.op_call & CALL != 0
    }
}

/// The event lists of a search, read-only.
pub(super) struct Lists<'a> {
    pub(super) events: &'a [Event],
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
    /// The values marked in this walk.
    bases: Vec<u32>,
    /// An append was invoked before the completion under test.
    appended: bool,
}

impl Reach {
    /// The first completion among the next few that need a state which the configuration
    /// (state `state`, event lists `lists`, whose first completion is `first_completion`) can
    /// no longer produce, if any.
    pub(super) fn doomed(
        &mut self,
        model: &mut Model,
        lists: &Lists<'_>,
        (state, first_completion): (u32, u32),
        appends: bool,
    ) -> Option<u32> {
        if state == ANY {
            return None;
        }
        if !appends {
            return register_doomed(lists, state, first_completion);
        }
        // One array per event tells invocations from completions and what each sets or
        // needs. A pre-scan for whether any of these completions needs another state than
        // `state` skipped almost no walk (2% of them on Porcupine's `c50-ok`, 9% on `c10-ok`).
        self.begin();
        let events = lists.events;
        let mut optional = events[lists.head_optional as usize].next;
        let mut e = events[lists.head_mandatory as usize].next;
        let mut tested = 0;
        while e != NONE {
            let event = events[e as usize];
            let x = event.look;
            if x < NEEDS {
                self.note_value(x);
            } else if x == APPENDS {
                self.appended = true;
            } else if x != NONE {
                // A completion that needs state `x - NEEDS`; what optional operations invoked
                // before it may set counts too (noted here rather than at every completion:
                // the order of the notes does not matter).
                while optional != NONE && optional < e {
                    let o = events[optional as usize];
                    self.note(o.look);
                    optional = o.next;
                }
                if !self.reachable(model, state, x - NEEDS) {
                    return Some(e);
                }
                tested += 1;
                if tested == DEPTH_APPENDS {
                    break;
                }
            }
            e = event.next;
        }
        None
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

    /// Records what an operation that may still come first can set: `sets` is its
    /// invocation's entry of [`event_value`] (`NONE`, [`APPENDS`] or a value).
    #[inline]
    fn note(&mut self, sets: u32) {
        if sets == APPENDS {
            self.appended = true;
        } else if sets < NEEDS {
            self.note_value(sets);
        }
    }

    /// Records that value `v` may be set before the completion under test.
    #[inline]
    fn note_value(&mut self, v: u32) {
        let i = v as usize;
        if self.produced.len() <= i {
            self.produced.resize(i + 1, 0);
        }
        if self.produced[i] != self.stamp {
            self.produced[i] = self.stamp;
            self.bases.push(v);
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

/// The state a completion needs (a read's value, a compare-and-set's expected one), if any.
#[inline]
fn target(op: &CompiledOp) -> Option<u32> {
    match op.step {
        Step::Read(v) | Step::Cas(v, _) => Some(v),
        _ => None,
    }
}

/// The value an operation may set, without appends (a compare-and-set `a → a` sets nothing new).
#[inline]
fn sets(op: &CompiledOp) -> Option<u32> {
    match op.step {
        Step::Write(v) => Some(v),
        Step::Cas(expected, new) if expected != new => Some(new),
        _ => None,
    }
}

/// [`Reach::doomed`] without appends: the first completion that needs a state, if it needs
/// another one than `state` and no operation invoked before it (and not linearized yet) sets
/// that state. `first` is the first completion in the mandatory list (everything before it is
/// an invocation).
fn register_doomed(lists: &Lists<'_>, state: u32, first: u32) -> Option<u32> {
    let events = lists.events;
    let mut c = first;
    let needed = loop {
        if c == NONE {
            return None;
        }
        let event = events[c as usize];
        if let Some(needed) = needs(event.look) {
            break needed;
        }
        c = event.next;
    };
    if needed == state {
        return None;
    }
    // A completion's entry is never a value (it is `NONE` or at least `NEEDS`).
    let mut e = events[lists.head_mandatory as usize].next;
    while e != c {
        let event = events[e as usize];
        if event.look == needed {
            return None;
        }
        e = event.next;
    }
    let mut e = events[lists.head_optional as usize].next;
    while e != NONE && e < c {
        let event = events[e as usize];
        if event.look == needed {
            return None;
        }
        e = event.next;
    }
    Some(c)
}

/// One event's entry (given by its operation and whether it is the invocation) of the per-event
/// array the look-ahead's walks read, one number per event: for an invocation, the value its
/// operation may set ([`sets`]), or [`APPENDS`] for an append; for a completion, [`NEEDS`]
/// plus the state its operation needs ([`target`]); `NONE` for none. Computed as the search
/// places its events.
#[inline(always)]
pub(super) fn event_value(op: &CompiledOp, call: bool) -> u32 {
    let x = if call {
        let appends = matches!(op.step, Step::Append(_));
        if appends {
            Some(APPENDS)
        } else {
            sets(op)
        }
    } else {
        target(op).map(|v| {
            debug_assert!(v < NEEDS, "values are fewer than 2^30");
            v + NEEDS
        })
    };
    x.unwrap_or(NONE)
}
