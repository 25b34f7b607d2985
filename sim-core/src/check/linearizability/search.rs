//! The Wing–Gong/Lowe search for one key, with an explicit stack and memoization.
//!
//! The history becomes linked lists of events sorted by time (an invocation before a completion
//! at the same instant, so that touching operations count as concurrent): one list with the
//! invocation and completion of every *mandatory* operation (it completed, so it must be
//! linearized before its completion), and one with the invocation of every *optional* operation
//! (indeterminate: it may take effect at any point after its invocation, or never). The
//! search walks the mandatory list from its head: at an invocation it tries to linearize that
//! operation next. When it reaches the first completion, `R`, it tries the optional operations
//! invoked before `R`. Linearizing an operation — if the model allows it and the resulting
//! configuration was not explored before — pushes a frame, unlinks the operation's events and
//! starts again from the head. When no candidate is left it is stuck — `R` should already have
//! been linearized — so it pops the last frame, relinks its events and tries the next candidate
//! after it. It succeeds when every mandatory operation is linearized and fails when it is stuck
//! with an empty stack.
//!
//! This is the algorithm Porcupine uses (Lowe's refinement of Wing & Gong, with the memo of
//! configurations), without recursion, so the search can stop after any number of steps and
//! resume later: that is how keys are interleaved and budgets enforced. Four refinements keep
//! indeterminate operations from blowing it up:
//! - mandatory operations are tried before optional ones;
//! - an optional operation is only linearized right before an operation whose outcome it
//!   changes. Any linearization can be brought to that form: an optional operation that does
//!   not change what the next operation does (because that one overwrites the state, say) can
//!   be left out. What may follow a configuration reached by an optional operation thus depends
//!   on the state before that operation too, which is part of its memo key (the
//!   *restriction*);
//! - of two interchangeable optional operations (same step, both invoked) only the earlier is
//!   tried while both are available;
//! - the memo prunes a configuration dominated by one explored before (see [`super::table`]).
//!
//! For explanations it also keeps the furthest completion it was ever stuck at and the stack of
//! that moment: every completion before that point was linearized, so the stack is a witness of
//! the longest linearizable prefix, and the completion is the operation that breaks it.

use std::collections::BTreeMap;

use super::model::{CompiledOp, Model, Step};
use super::order::sort_by_time;
use super::reach::{self, Event, Lists, Reach};
use super::table::{splitmix64, Insert, Layout, MemoTable, SPLITMIX_GAMMA};
use super::twins::LastTwin;

/// Whether an optional operation may be reused by the relaxed search.
fn reusable(op: &CompiledOp) -> bool {
    !matches!(op.step, Step::Append(_))
}

/// "No entry" in the event lists.
const NONE: u32 = u32::MAX;

/// The part of a memo key's hash that stands for the state and the restriction: one multiply
/// and a fold (the mandatory set's Zobrist hash, XORed in, is already random; this only has
/// to tell states apart, in the low bits too). Where a configuration lands in the memo's
/// table changes nothing the search answers, only how fast it finds it.
#[inline]
fn state_hash(state: u32, restrict: u32) -> u64 {
    let x = (u64::from(restrict) << 32 | u64::from(state)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ x >> 29
}
/// Operations per key beyond this are refused (event indices are `u32` with sentinels).
pub(super) const OPERATIONS_MAX: usize = (u32::MAX / 4) as usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Steps remain to be taken.
    Running,
    Linearizable,
    NotLinearizable,
    /// The memo table reached its memory limit; the search can resume with a larger one.
    MemoryFull,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    op: u32,
    state_before: u32,
    restrict_before: u32,
    /// The memo entry of the configuration this frame entered.
    entry: u32,
    /// For an optional or a forced operation: the first completion at the time it was chosen.
    deadline: u32,
    /// Chosen as the only candidate worth trying (see [`Search::forced_candidate`]).
    forced: bool,
}

/// What the search keeps of one operation.
#[derive(Clone, Copy, Debug)]
struct OpInfo {
    /// Zobrist key.
    zobrist: u64,
    /// A mandatory operation's bit: its index among the mandatory operations. For an optional
    /// operation, its class (optional operations with the same step).
    bit: u32,
    /// For an optional operation, its position in its class (in invocation order).
    rank: u32,
    /// For an optional operation, the previous optional operation with the same step (or
    /// `NONE`). Two such operations are interchangeable once both are invoked, so the later
    /// one is only tried once the earlier one is linearized.
    twin_before: u32,
    /// For an optional operation, the next one with the same step (or `NONE`). Only the first
    /// unused operation of each such class is in the optional list: the next is linked in when
    /// it is used, so scanning the candidates costs the number of classes, not the number of
    /// timed-out operations so far.
    twin_after: u32,
    /// Its invocation and completion events (`NONE`: it has no completion).
    call_event: u32,
    return_event: u32,
    /// It completed: it must be linearized ([`CompiledOp::mandatory`]).
    mandatory: bool,
    /// It stays available after being linearized ([`Search::reused`]), kept here so that a
    /// push and a backtrack read one flag rather than the operation's step.
    reused: bool,
}

/// The event lists while [`Search::new`] places the events in time order.
struct Placer {
    /// Every event, then the two lists' heads (sentinels).
    events: Vec<Event>,
    /// Events placed so far.
    placed: u32,
    /// The last event of the mandatory and of the optional list.
    lasts: [u32; 2],
}

impl Placer {
    /// Places the next event: `op`'s invocation (`call`) or completion, linked into its list.
    /// Inlined at its three calls (as a closure called from them it cost about 60
    /// instructions an event).
    #[inline(always)]
    fn place(&mut self, op: u32, call: bool, info: &mut [OpInfo], ops: &[CompiledOp]) {
        let e = self.placed;
        self.placed += 1;
        self.events[e as usize] = Event::new(op, call, reach::event_value(&ops[op as usize], call));
        let o = &mut info[op as usize];
        if call {
            o.call_event = e;
        } else {
            o.return_event = e;
        }
        if o.twin_before != NONE {
            // Linked in when the one before it is used; with reuse, the first of
            // interchangeable operations stands for all.
            return;
        }
        let last = &mut self.lasts[usize::from(!o.mandatory)];
        self.events[*last as usize].next = e;
        self.events[e as usize].prev = *last;
        *last = e;
    }
}

/// The search over one key's compiled operations.
pub(super) struct Search<'v> {
    pub(super) model: Model<'v>,
    pub(super) ops: Vec<CompiledOp>,
    /// Optional operations can be linearized again and again (see [`Search::new`]).
    reuse_optional: bool,
    initial: u32,
    /// How the optional operations used are stored ([`Layout`]).
    layout: Layout,
    /// What the search keeps of each operation, in one place (one allocation, one bounds
    /// check and one cache line per operation on the hot paths).
    info: Vec<OpInfo>,
    /// Events, indexed by their position in time order, each with its links, its operation
    /// and, for the look-ahead ([`super::reach`]), the value an invocation's operation may set
    /// or the state a completion's operation needs ([`reach::event_value`]); the heads of the
    /// mandatory and the optional lists are sentinels at `event_count` and `event_count + 1`.
    events: Vec<Event>,
    head_mandatory: u32,
    head_optional: u32,
    /// The current configuration: mandatory and optional sets, hash of the mandatory set,
    /// and its first word that is not all ones and last non-zero word + 1.
    m_bits: Vec<u64>,
    o_bits: Vec<u64>,
    m_hash: u64,
    o_hash: u64,
    m_lo: usize,
    m_hi: usize,
    state: u32,
    /// After an optional operation, the state before it (else `NONE`): the next operation must
    /// do something different from this state than from the current one.
    restrict: u32,
    mandatory_left: u32,
    stack: Vec<Frame>,
    cursor: u32,
    /// The current configuration was just entered: look for a forced operation first.
    fresh: bool,
    /// The first completion in the mandatory list, once the cursor has reached it.
    deadline: u32,
    memo: MemoTable,
    pub(super) steps: u64,
    status: Status,
    /// The furthest completion event the search was stuck at, and the stack (operation
    /// indices into `ops`, in linearization order) and state at that moment.
    stuck_event_max: u32,
    stuck_stack: Vec<u32>,
    stuck_state: u32,
    /// The stack never got shorter than this since `stuck_stack` was last recorded: the two
    /// agree up to here, so recording copies only what changed above it.
    stuck_low_water: usize,
    /// The look-ahead for reads that can no longer be satisfied, and whether the key has
    /// appends (which it must take into account).
    reach: Reach,
    appends: bool,
    /// The furthest completion a configuration was found doomed at by the look-ahead (or
    /// `NONE`): no configuration's extension got past it.
    doomed_event_max: u32,
}

impl<'v> Search<'v> {
    /// Prepares the search of `ops` (sorted by invocation) from `initial`.
    /// With `reuse_optional`, optional operations may take effect any number of times (except
    /// appends, whose reuse would grow the state without end): a
    /// relaxation whose configurations do not record which optional operations were used, so
    /// its search space is far smaller. A history that cannot be linearized even so cannot be
    /// linearized at all; one that can must still be checked without the relaxation.
    pub(super) fn new(
        model: Model<'v>,
        ops: Vec<CompiledOp>,
        initial: u32,
        salt: u64,
        reuse_optional: bool,
    ) -> Search<'v> {
        assert!(
            ops.len() <= OPERATIONS_MAX,
            "too many operations on one key"
        );
        // Compiling sorts them (a pass of its own in release builds was 3% of building a search).
        debug_assert!(ops
            .windows(2)
            .all(|w| (w[0].call, w[0].index) <= (w[1].call, w[1].index)));
        let op_count = ops.len();
        // One pass over the operations: Zobrist keys, completions to sort, interchangeable
        // optional operations (same step) and their classes, mandatory bits.
        let mut info = Vec::with_capacity(op_count);
        let mut returns: Vec<(u64, u32)> = Vec::with_capacity(op_count);
        let mut last_twin = LastTwin::new();
        let mut class_members: Vec<u32> = Vec::new();
        let mut mandatory_count = 0u32;
        // With reuse, only optional appends are ever marked as used.
        let (mut appends, mut consumable) = (false, false);
        for (i, op) in ops.iter().enumerate() {
            let mut o = OpInfo {
                // The SplitMix64 sequence seeded with `salt`.
                zobrist: splitmix64(salt.wrapping_add((i as u64).wrapping_mul(SPLITMIX_GAMMA))),
                bit: 0,
                rank: 0,
                twin_before: NONE,
                twin_after: NONE,
                call_event: NONE,
                return_event: NONE,
                mandatory: false,
                reused: false,
            };
            appends |= matches!(op.step, Step::Append(_));
            if let Some(ret) = op.ret {
                assert!(ret >= op.call);
                returns.push((ret, i as u32));
                o.mandatory = true;
                o.bit = mandatory_count;
                mandatory_count += 1;
            } else {
                consumable |= !reuse_optional || !reusable(op);
                o.reused = reuse_optional && reusable(op);
                if let Some(last) = last_twin.insert(op.step, i as u32) {
                    let before: &mut OpInfo = &mut info[last as usize];
                    before.twin_after = i as u32;
                    // Same class as the one before it; the next of its members.
                    o.twin_before = last;
                    o.bit = before.bit;
                    o.rank = class_members[o.bit as usize];
                    class_members[o.bit as usize] += 1;
                } else {
                    o.bit = class_members.len() as u32;
                    class_members.push(1);
                }
            }
            info.push(o);
        }
        // Pushed in index order: a stable sort by time sorts by (time, index).
        sort_by_time(&mut returns, |r| r.0);
        // Events in time order (each operation's index, and whether it is the invocation):
        // invocations come sorted with the operations; completions are merged in. Each is
        // linked into its list as it is placed.
        let event_count = op_count + returns.len();
        let (head_mandatory, head_optional) = (event_count as u32, event_count as u32 + 1);
        let mut events = Placer {
            events: vec![Event::EMPTY; event_count + 2],
            placed: 0,
            lasts: [head_mandatory, head_optional],
        };
        let mut k = 0;
        for (i, op) in ops.iter().enumerate() {
            while k < returns.len() && returns[k].0 < op.call {
                events.place(returns[k].1, false, &mut info, &ops);
                k += 1;
            }
            events.place(i as u32, true, &mut info, &ops);
        }
        for &(_, j) in &returns[k..] {
            events.place(j, false, &mut info, &ops);
        }
        debug_assert_eq!(events.placed as usize, event_count);
        let events = events.events;
        let layout = Layout::new(if consumable { &class_members } else { &[] });
        let o_width = layout.words();
        Search {
            model,
            ops,
            reuse_optional,
            initial,
            info,
            cursor: events[head_mandatory as usize].next,
            events,
            head_mandatory,
            head_optional,
            m_bits: vec![0; (mandatory_count as usize).div_ceil(64).max(1)],
            o_bits: vec![0; o_width],
            m_hash: 0,
            o_hash: 0,
            m_lo: 0,
            m_hi: 0,
            state: initial,
            restrict: NONE,
            mandatory_left: mandatory_count,
            stack: Vec::with_capacity(op_count),
            deadline: NONE,
            fresh: true,
            memo: MemoTable::with_hint(Some(layout.clone()), op_count),
            layout,
            steps: 0,
            status: Status::Running,
            stuck_event_max: NONE,
            // Recorded at every new furthest completion: sized once rather than grown.
            stuck_stack: Vec::with_capacity(op_count),
            stuck_state: initial,
            stuck_low_water: 0,
            reach: Reach::default(),
            appends,
            doomed_event_max: NONE,
        }
    }

    pub(super) fn status(&self) -> Status {
        self.status
    }

    /// Bytes held by the memo.
    pub(super) fn memo_bytes(&self) -> u64 {
        self.memo.bytes()
    }

    pub(super) fn memo_len(&self) -> usize {
        self.memo.len()
    }

    /// Once the search has failed: the completions (as positions among all completions, in
    /// time order) between which the first one that no linearization gets past lies. The
    /// lower one was reached — everything that completed before it was linearized, with
    /// [`Search::prefix`] as the witness — and no configuration got past the upper one. Without
    /// the look-ahead's shortcuts the two are the same completion; for a relaxed search only
    /// the upper one holds for the real history.
    pub(super) fn blocking_bounds(&self) -> (usize, usize) {
        assert_eq!(self.status, Status::NotLinearizable);
        let lower = self.stuck_event_max;
        let upper = if self.doomed_event_max == NONE {
            lower
        } else {
            lower.max(self.doomed_event_max)
        };
        let position = |e: u32| {
            self.events[..e as usize]
                .iter()
                .filter(|event| !event.is_call())
                .count()
        };
        (position(lower), position(upper))
    }

    /// The operations (indices into `ops`) in the order of their completions.
    pub(super) fn by_completion(&self) -> Vec<u32> {
        let placed = self.events.len() - 2;
        self.events[..placed]
            .iter()
            .filter(|event| !event.is_call())
            .map(|event| event.op())
            .collect()
    }

    /// The operations that may come before the completion of `op` (index into `ops`): the
    /// ones that completed up to it (`true`: they must), and the others invoked before it
    /// (`false`).
    pub(super) fn before_completion_of(&self, op: u32) -> Vec<(u32, bool)> {
        let r = self.info[op as usize].return_event;
        assert_ne!(r, NONE, "only a completed operation blocks");
        (0..self.ops.len() as u32)
            .filter_map(|j| {
                let ret = self.info[j as usize].return_event;
                if ret != NONE && ret <= r {
                    Some((j, true))
                } else if self.info[j as usize].call_event < r {
                    Some((j, false))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The longest linearizable prefix found: operation indices into `ops`, in linearization
    /// order.
    pub(super) fn prefix(&self) -> &[u32] {
        &self.stuck_stack
    }

    /// The operations linearized so far, in order (indices into `ops`): once the search has
    /// succeeded, a linearization.
    pub(super) fn linearization(&self) -> Vec<u32> {
        self.stack.iter().map(|f| f.op).collect()
    }

    /// The state the search started from.
    pub(super) fn initial(&self) -> u32 {
        self.initial
    }

    /// The current model state (after [`Search::linearization`]).
    pub(super) fn state(&self) -> u32 {
        self.state
    }

    /// The model state after [`Search::prefix`].
    pub(super) fn stuck_state(&self) -> u32 {
        self.stuck_state
    }

    fn unlink(&mut self, e: u32) {
        let Event {
            prev: p, next: n, ..
        } = self.events[e as usize];
        self.events[p as usize].next = n;
        if n != NONE {
            self.events[n as usize].prev = p;
        }
    }

    /// Links the optional invocation `s` into the optional list, in time order, after the
    /// place of `e` (just unlinked, and before `s` in time). Undone by [`Search::unlink`].
    fn link_optional(&mut self, e: u32, s: u32) {
        let mut p = self.events[e as usize].prev;
        while self.events[p as usize].next != NONE && self.events[p as usize].next < s {
            p = self.events[p as usize].next;
        }
        let n = self.events[p as usize].next;
        self.events[s as usize].prev = p;
        self.events[s as usize].next = n;
        self.events[p as usize].next = s;
        if n != NONE {
            self.events[n as usize].prev = s;
        }
    }

    fn relink(&mut self, e: u32) {
        let Event {
            prev: p, next: n, ..
        } = self.events[e as usize];
        self.events[p as usize].next = e;
        if n != NONE {
            self.events[n as usize].prev = e;
        }
    }

    /// Whether `op` stays available after being linearized (see [`Search::new`]).
    #[inline]
    fn reused(&self, op: u32) -> bool {
        let reused = self.info[op as usize].reused;
        debug_assert_eq!(
            reused,
            self.reuse_optional
                && !self.info[op as usize].mandatory
                && reusable(&self.ops[op as usize])
        );
        reused
    }

    fn linearized(&self, op: u32) -> bool {
        let b = self.info[op as usize].bit;
        if self.info[op as usize].mandatory {
            self.m_bits[(b / 64) as usize] & (1u64 << (b % 64)) != 0
        } else if self.reused(op) {
            false
        } else {
            self.layout.get(&self.o_bits, b) > u64::from(self.info[op as usize].rank)
        }
    }

    /// Adds `op` to the linearized sets, or removes it.
    #[inline(always)]
    fn flip(&mut self, op: u32) {
        let b = self.info[op as usize].bit;
        if !self.info[op as usize].mandatory {
            // The members of a class are used in order: this one is the next to use, or the
            // last used.
            let rank = u64::from(self.info[op as usize].rank);
            let used = self.layout.get(&self.o_bits, b);
            debug_assert!(used == rank || used == rank + 1);
            let count = if used > rank { rank } else { rank + 1 };
            self.layout.set(&mut self.o_bits, b, count);
            self.o_hash ^= self.info[op as usize].zobrist;
            return;
        }
        let (w, mask) = ((b / 64) as usize, 1u64 << (b % 64));
        self.m_bits[w] ^= mask;
        self.m_hash ^= self.info[op as usize].zobrist;
        if self.m_bits[w] & mask != 0 {
            // Set: the non-zero words may extend, and the all-ones prefix may grow.
            self.m_hi = self.m_hi.max(w + 1);
            while self.m_lo < self.m_hi && self.m_bits[self.m_lo] == u64::MAX {
                self.m_lo += 1;
            }
        } else {
            // Cleared: the all-ones prefix may shrink, and the non-zero words may end earlier.
            self.m_lo = self.m_lo.min(w);
            while self.m_hi > self.m_lo && self.m_bits[self.m_hi - 1] == 0 {
                self.m_hi -= 1;
            }
        }
        debug_assert!(self.m_bits[..self.m_lo].iter().all(|&x| x == u64::MAX));
        debug_assert!(self.m_bits[self.m_hi..].iter().all(|&x| x == 0));
    }

    /// Runs at most `steps_quota` steps, keeping the memo within `memo_bytes_max`.
    /// An available mandatory operation that never changes the state and is allowed now (a read
    /// of the current value, say) and may follow the current configuration, and the first
    /// completion in the mandatory list. Linearizing such an operation at once is never worse
    /// than later: moving it earlier changes nothing for the others, and everything that had to
    /// precede it already did. (A write of the current value does not qualify: later, it would
    /// change the state.)
    fn forced_candidate(&mut self) -> (Option<(u32, u32)>, u32) {
        let mut e = self.events[self.head_mandatory as usize].next;
        while e != NONE {
            let event = self.events[e as usize];
            if !event.is_call() {
                break;
            }
            // An invocation's look-ahead entry is `NONE` exactly when its operation is
            // read-only (it sets no value and does not append).
            if event.look != NONE {
                e = event.next;
                continue;
            }
            let op = event.op();
            debug_assert!(self.ops[op as usize].step.read_only());
            if self.model.step(self.state, &self.ops[op as usize]) == Some(self.state)
                && (self.restrict == NONE
                    || self.model.step(self.restrict, &self.ops[op as usize]) != Some(self.state))
            {
                let mut r = event.next;
                while r != NONE && self.events[r as usize].is_call() {
                    r = self.events[r as usize].next;
                }
                return (Some((e, op)), r);
            }
            e = event.next;
        }
        (None, e)
    }

    /// The first completion the look-ahead finds this configuration can never get past;
    /// `first_completion` is the first one in the mandatory list.
    fn doomed(&mut self, first_completion: u32) -> Option<u32> {
        let lists = Lists {
            events: &self.events,
            head_mandatory: self.head_mandatory,
            head_optional: self.head_optional,
        };
        self.reach.doomed(
            &mut self.model,
            &lists,
            (self.state, first_completion),
            self.appends,
        )
    }

    /// Linearizes `op` (its invocation is event `e`) next, leading to `next_state`, unless the
    /// resulting configuration was explored before or does not fit in `memo_bytes_max`.
    /// `forced_deadline` is the first completion when the operation is forced (see
    /// [`Search::forced_candidate`]), else `NONE`.
    fn push(
        &mut self,
        e: u32,
        op: u32,
        next_state: u32,
        forced_deadline: u32,
        memo_bytes_max: u64,
    ) -> Insert {
        let mandatory = self.info[op as usize].mandatory;
        let consumed = !self.reused(op);
        if consumed {
            self.flip(op);
        }
        let restrict = if mandatory { NONE } else { self.state };
        let group_hash = self.m_hash ^ state_hash(next_state, restrict);
        let hash = group_hash ^ self.o_hash;
        let m = &self.m_bits[self.m_lo..self.m_hi];
        let lo = self.m_lo as u32;
        let inserted = self.memo.insert(
            hash,
            group_hash,
            lo,
            m,
            (next_state, restrict),
            &self.o_bits,
            memo_bytes_max,
        );
        let Insert::New(entry) = inserted else {
            if consumed {
                self.flip(op);
            }
            return inserted;
        };
        let deadline = if forced_deadline != NONE {
            forced_deadline
        } else if mandatory {
            NONE
        } else {
            self.deadline
        };
        self.stack.push(Frame {
            op,
            state_before: self.state,
            restrict_before: self.restrict,
            entry,
            deadline,
            forced: forced_deadline != NONE,
        });
        self.restrict = restrict;
        self.state = next_state;
        if consumed {
            self.unlink(e);
            let after = self.info[op as usize].twin_after;
            if after != NONE {
                self.link_optional(e, self.info[after as usize].call_event);
            }
        }
        let r = self.info[op as usize].return_event;
        if r != NONE {
            self.unlink(r);
            self.mandatory_left -= 1;
        }
        self.deadline = NONE;
        self.cursor = self.events[self.head_mandatory as usize].next;
        self.fresh = true;
        inserted
    }

    /// Runs at most `steps_quota` steps, keeping the memo within `memo_bytes_max`.
    pub(super) fn run(&mut self, steps_quota: u64, memo_bytes_max: u64) -> Status {
        if self.status == Status::MemoryFull {
            self.status = Status::Running;
        }
        if self.status != Status::Running {
            return self.status;
        }
        for _ in 0..steps_quota {
            self.steps += 1;
            if self.mandatory_left == 0 {
                self.status = Status::Linearizable;
                return self.status;
            }
            if self.fresh {
                self.fresh = false;
                let (forced, r) = self.forced_candidate();
                if let Some(d) = self.doomed(r) {
                    // No extension gets past `d`: this configuration is stuck at its first
                    // completion `r` (at most `d`), as a full exploration would find.
                    if self.doomed_event_max == NONE || d > self.doomed_event_max {
                        self.doomed_event_max = d;
                    }
                    self.deadline = r;
                    self.cursor = NONE;
                    continue;
                }
                if let Some((e, op)) = forced {
                    let state = self.state;
                    match self.push(e, op, state, r, memo_bytes_max) {
                        Insert::New(_) => {}
                        // What follows the forced operation was explored: so was this.
                        Insert::Seen => {
                            self.deadline = r;
                            self.cursor = NONE;
                        }
                        Insert::Full => {
                            self.fresh = true;
                            self.status = Status::MemoryFull;
                            return self.status;
                        }
                    }
                    continue;
                }
            }
            let e = self.cursor;
            let call = if e != NONE {
                let event = self.events[e as usize];
                (event.is_call() && (self.deadline == NONE || e < self.deadline)).then_some(event)
            } else {
                None
            };
            if let Some(event) = call {
                self.cursor = event.next;
                let op = event.op();
                let twin = self.info[op as usize].twin_before;
                if twin != NONE && !self.linearized(twin) {
                    continue;
                }
                let Some(next_state) = self.model.step(self.state, &self.ops[op as usize]) else {
                    continue;
                };
                // After an optional operation, only what it changes the outcome of may follow:
                // otherwise it could as well be left out.
                if self.restrict != NONE
                    && self.model.step(self.restrict, &self.ops[op as usize]) == Some(next_state)
                {
                    continue;
                }
                if self.push(e, op, next_state, NONE, memo_bytes_max) == Insert::Full {
                    // Retry this very step once the budget allows.
                    self.cursor = e;
                    self.steps -= 1;
                    self.status = Status::MemoryFull;
                    return self.status;
                }
                continue;
            }
            if self.deadline == NONE {
                // The first completion: now the optional operations invoked before it.
                assert!(
                    e != NONE && !self.events[e as usize].is_call(),
                    "a completion is still listed"
                );
                self.deadline = e;
                self.cursor = self.events[self.head_optional as usize].next;
                continue;
            }
            // Stuck at the completion `deadline`: remember the furthest one (with the shortest
            // witness, which leaves out what it can of the concurrent operations), backtrack.
            let r = self.deadline;
            if self.stuck_event_max == NONE
                || r > self.stuck_event_max
                || (r == self.stuck_event_max && self.stack.len() < self.stuck_stack.len())
            {
                self.stuck_event_max = r;
                let keep = self.stuck_low_water.min(self.stuck_stack.len());
                self.stuck_stack.truncate(keep);
                self.stuck_stack
                    .extend(self.stack[keep..].iter().map(|f| f.op));
                self.stuck_low_water = self.stack.len();
                self.stuck_state = self.state;
            }
            let Some(&frame) = self.stack.last() else {
                self.status = Status::NotLinearizable;
                return self.status;
            };
            if !self.memo.mark_done(frame.entry, memo_bytes_max) {
                // Retry this very step once the budget allows.
                self.steps -= 1;
                self.status = Status::MemoryFull;
                return self.status;
            }
            self.stack.pop();
            self.stuck_low_water = self.stuck_low_water.min(self.stack.len());
            let r = self.info[frame.op as usize].return_event;
            if r != NONE {
                self.relink(r);
                self.mandatory_left += 1;
            }
            let c = self.info[frame.op as usize].call_event;
            if !self.reused(frame.op) {
                let after = self.info[frame.op as usize].twin_after;
                if after != NONE {
                    self.unlink(self.info[after as usize].call_event);
                }
                self.relink(c);
                self.flip(frame.op);
            }
            self.state = frame.state_before;
            self.restrict = frame.restrict_before;
            self.deadline = frame.deadline;
            // A forced operation was the only thing worth trying here.
            self.cursor = if frame.forced {
                NONE
            } else {
                self.events[c as usize].next
            };
        }
        self.status
    }

    /// After a relaxed search succeeded: whether its linearization uses every optional
    /// operation at most once once each use of an interchangeable operation is given its own
    /// member of the class (the earliest invoked to the earliest use, each invoked before the
    /// use). If so, it is a linearization of the real history.
    pub(super) fn witness_without_reuse(&self) -> bool {
        assert!(self.reuse_optional && self.status == Status::Linearizable);
        let mut members: BTreeMap<Step, Vec<u32>> = BTreeMap::new();
        for (i, op) in self.ops.iter().enumerate().filter(|(_, o)| !o.mandatory()) {
            members.entry(op.step).or_default().push(i as u32);
        }
        let mut used: BTreeMap<Step, usize> = BTreeMap::new();
        for frame in self
            .stack
            .iter()
            .filter(|f| !self.info[f.op as usize].mandatory)
        {
            let step = self.ops[frame.op as usize].step;
            let n = used.entry(step).or_insert(0);
            let Some(&member) = members.get(&step).and_then(|m| m.get(*n)) else {
                return false;
            };
            if self.info[member as usize].call_event >= frame.deadline {
                return false;
            }
            *n += 1;
        }
        true
    }
}
