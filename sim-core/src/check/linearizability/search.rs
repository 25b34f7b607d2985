//! The Wing–Gong/Lowe search for one key, with an explicit stack and memoization.
//!
//! The history becomes a doubly linked list of events — each operation's invocation and, for a
//! mandatory operation, its completion — sorted by time (an invocation before a completion at
//! the same instant, so that touching operations count as concurrent). The search walks the list
//! from its head. At an invocation it tries to linearize that operation next: if the model
//! allows it and the resulting configuration (set of linearized operations, model state) has
//! not been explored before, it pushes a frame, unlinks the operation's two events and starts
//! again from the head. At a completion it is stuck — that operation should already have been
//! linearized — so it pops the last frame, relinks its events and tries the next invocation after
//! it. It succeeds when every mandatory operation is linearized (optional ones may be left out:
//! they never took effect) and fails when it is stuck with an empty stack.
//!
//! This is the algorithm Porcupine uses (Lowe's refinement of Wing & Gong with the memo of
//! configurations), without recursion: the search can stop after any number of steps and
//! resume later, which is how keys are interleaved and how budgets are enforced.
//!
//! For explanations it also keeps the furthest completion it was ever stuck at and the stack of
//! that moment: every completion before that point was linearized, so the stack is a witness of
//! the longest linearizable prefix, and the completion is the operation that breaks it.

use std::collections::BTreeMap;

use super::model::{CompiledOp, Model, Step};
use super::table::{splitmix64, Insert, MemoTable};

/// "No entry" in the event list.
const NONE: u32 = u32::MAX;
/// Operations per key beyond this are refused (event indices are `u32` with a sentinel).
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
}

/// The search over one key's compiled operations.
pub(super) struct Search {
    pub(super) model: Model,
    pub(super) ops: Vec<CompiledOp>,
    /// Zobrist key of each operation.
    zobrist: Vec<u64>,
    /// For an optional operation, the previous optional operation with the same step (or
    /// `NONE`). Two such operations are interchangeable once both are invoked, so the later
    /// one is only tried after the earlier one is linearized.
    twin_before: Vec<u32>,
    /// Event list: per event, the operation and whether it is an invocation. The list head
    /// is a sentinel at index `events`.
    event_op: Vec<u32>,
    event_is_call: Vec<bool>,
    next: Vec<u32>,
    prev: Vec<u32>,
    call_event: Vec<u32>,
    return_event: Vec<u32>,
    head: u32,
    /// The current configuration.
    bits: Vec<u64>,
    hash: u64,
    state: u32,
    mandatory_left: u32,
    stack: Vec<Frame>,
    cursor: u32,
    memo: MemoTable,
    pub(super) steps: u64,
    status: Status,
    /// The furthest completion event the search was stuck at, and the stack (operation
    /// indices into `ops`, in linearization order) at that moment.
    stuck_event_max: u32,
    stuck_stack: Vec<u32>,
    stuck_state: u32,
}

impl Search {
    /// Prepares the search of `ops` (sorted by invocation) from `initial`.
    pub(super) fn new(model: Model, ops: Vec<CompiledOp>, initial: u32, salt: u64) -> Search {
        assert!(
            ops.len() <= OPERATIONS_MAX,
            "too many operations on one key"
        );
        assert!(ops
            .windows(2)
            .all(|w| (w[0].call, w[0].index) <= (w[1].call, w[1].index)));
        let op_count = ops.len();
        // Events: (time, 0 for invocation / 1 for completion, op).
        let mut events: Vec<(u64, u8, u32)> = Vec::with_capacity(op_count * 2);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.call, 0, i as u32));
            if let Some(ret) = op.ret {
                assert!(ret >= op.call);
                events.push((ret, 1, i as u32));
            }
        }
        events.sort_unstable();
        let event_count = events.len();
        let head = event_count as u32;
        let mut call_event = vec![NONE; op_count];
        let mut return_event = vec![NONE; op_count];
        let mut event_op = Vec::with_capacity(event_count);
        let mut event_is_call = Vec::with_capacity(event_count);
        for (e, &(_, kind, op)) in events.iter().enumerate() {
            event_op.push(op);
            event_is_call.push(kind == 0);
            if kind == 0 {
                call_event[op as usize] = e as u32;
            } else {
                return_event[op as usize] = e as u32;
            }
        }
        // next/prev over events 0..event_count plus the sentinel head.
        let mut next = vec![NONE; event_count + 1];
        let mut prev = vec![NONE; event_count + 1];
        let mut last = head;
        for e in 0..event_count as u32 {
            next[last as usize] = e;
            prev[e as usize] = last;
            last = e;
        }
        let mandatory_left = ops.iter().filter(|o| o.mandatory()).count() as u32;
        let words = op_count.div_ceil(64).max(1);
        let zobrist = (0..op_count as u64)
            .map(|i| splitmix64(salt ^ splitmix64(i)))
            .collect();
        let mut twin_before = vec![NONE; op_count];
        let mut last_optional: BTreeMap<Step, u32> = BTreeMap::new();
        for (i, op) in ops.iter().enumerate().filter(|(_, o)| !o.mandatory()) {
            if let Some(last) = last_optional.insert(op.step, i as u32) {
                twin_before[i] = last;
            }
        }
        Search {
            model,
            ops,
            zobrist,
            twin_before,
            event_op,
            event_is_call,
            cursor: next[head as usize],
            next,
            prev,
            call_event,
            return_event,
            head,
            bits: vec![0; words],
            hash: 0,
            state: initial,
            mandatory_left,
            stack: Vec::with_capacity(op_count),
            memo: MemoTable::new(words),
            steps: 0,
            status: Status::Running,
            stuck_event_max: NONE,
            stuck_stack: Vec::new(),
            stuck_state: initial,
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

    /// The operation (index into `ops`) whose completion the search could never get past,
    /// once the search has failed.
    pub(super) fn blocking_op(&self) -> Option<u32> {
        if self.stuck_event_max == NONE {
            None
        } else {
            Some(self.event_op[self.stuck_event_max as usize])
        }
    }

    /// The longest linearizable prefix found: operation indices into `ops`, in linearization
    /// order.
    pub(super) fn prefix(&self) -> &[u32] {
        &self.stuck_stack
    }

    /// The model state after [`Search::prefix`].
    pub(super) fn stuck_state(&self) -> u32 {
        self.stuck_state
    }

    fn unlink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        if n != NONE {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        if n != NONE {
            self.prev[n as usize] = e;
        }
    }

    fn linearized(&self, op: u32) -> bool {
        self.bits[(op / 64) as usize] & (1u64 << (op % 64)) != 0
    }

    fn flip(&mut self, op: u32) {
        self.bits[(op / 64) as usize] ^= 1u64 << (op % 64);
        self.hash ^= self.zobrist[op as usize];
    }

    /// Runs at most `steps_quota` steps, keeping the memo within `memo_bytes_max`.
    pub(super) fn run(&mut self, steps_quota: u64, memo_bytes_max: u64) -> Status {
        if self.status == Status::MemoryFull {
            self.status = Status::Running;
        }
        if self.status != Status::Running {
            return self.status;
        }
        let mut steps_left = steps_quota;
        while steps_left > 0 {
            steps_left -= 1;
            self.steps += 1;
            if self.mandatory_left == 0 {
                self.status = Status::Linearizable;
                return self.status;
            }
            let e = self.cursor;
            // Some completion is still in the list, and the cursor never passes one.
            assert_ne!(e, NONE);
            let op = self.event_op[e as usize];
            if self.event_is_call[e as usize] {
                let twin = self.twin_before[op as usize];
                if twin != NONE && !self.linearized(twin) {
                    self.cursor = self.next[e as usize];
                    continue;
                }
                if let Some(next_state) = self.model.step(self.state, &self.ops[op as usize]) {
                    self.flip(op);
                    let hash = self.hash ^ splitmix64(u64::from(next_state));
                    match self
                        .memo
                        .insert(hash, &self.bits, next_state, memo_bytes_max)
                    {
                        Insert::New => {
                            self.stack.push(Frame {
                                op,
                                state_before: self.state,
                            });
                            self.state = next_state;
                            self.unlink(e);
                            let r = self.return_event[op as usize];
                            if r != NONE {
                                self.unlink(r);
                                self.mandatory_left -= 1;
                            }
                            self.cursor = self.next[self.head as usize];
                            continue;
                        }
                        Insert::Seen => self.flip(op),
                        Insert::Full => {
                            self.flip(op);
                            // Retry this very step after the budget is raised.
                            self.steps -= 1;
                            self.status = Status::MemoryFull;
                            return self.status;
                        }
                    }
                }
                self.cursor = self.next[e as usize];
            } else {
                // Stuck at a completion: remember the furthest one (with the shortest witness,
                // which leaves out what it can of the concurrent operations), then backtrack.
                if self.stuck_event_max == NONE
                    || e > self.stuck_event_max
                    || (e == self.stuck_event_max && self.stack.len() < self.stuck_stack.len())
                {
                    self.stuck_event_max = e;
                    self.stuck_stack.clear();
                    self.stuck_stack.extend(self.stack.iter().map(|f| f.op));
                    self.stuck_state = self.state;
                }
                let Some(frame) = self.stack.pop() else {
                    self.status = Status::NotLinearizable;
                    return self.status;
                };
                let r = self.return_event[frame.op as usize];
                if r != NONE {
                    self.relink(r);
                    self.mandatory_left += 1;
                }
                let c = self.call_event[frame.op as usize];
                self.relink(c);
                self.flip(frame.op);
                self.state = frame.state_before;
                self.cursor = self.next[c as usize];
            }
        }
        self.status
    }
}
