//! One key's searches and their turns: what the round-robin of [`super::check_ops`] and the
//! parallel [`super::KeyTask`]s share.
//!
//! Each key has an exact search and, while it has optional operations, a relaxed one (optional
//! operations may take effect more than once: it cannot prove linearizability, but it finds
//! violations in histories with many indeterminate operations far sooner). Both run in turns
//! of a few steps. A key's turns depend on nothing but the key and the round they run in,
//! which is what lets keys run on different threads and still give the one-thread result.

use super::model::{self, CompiledOp, Model};
use super::search::{Search, Status};
use super::{explain, Budget, Completion, FailMeaning, Input, LinOp, NilRead, Semantics};
use super::{Value, Violation};

/// Steps each search gets in the first round. The quantum doubles every round up to
/// [`Budget::quantum_steps`], so that a key that fails at once is found after little work on
/// the keys before it, while long searches still run in long turns.
const QUANTUM_FIRST: u64 = 1 << 10;

/// The steps each search may take in `round`.
pub(super) fn quantum(budget: &Budget, round: u32) -> u64 {
    (QUANTUM_FIRST << round.min(40)).clamp(1, budget.quantum_steps.max(1))
}

/// Rounds before the quantum reaches [`Budget::quantum_steps`].
pub(super) fn ramp_rounds(budget: &Budget) -> u64 {
    let mut rounds = 0;
    while quantum(budget, rounds) < budget.quantum_steps && rounds < 64 {
        rounds += 1;
    }
    u64::from(rounds)
}

/// Whether `op` can constrain its key's search under `sem`: exactly the operations
/// [`model::compile`] keeps. The others (reads that failed, timed out or read Knossos's `nil`;
/// writes and, unless a failed compare-and-set observed another value, compare-and-sets that
/// failed) are left out when the keys are gathered, with a test this cheap, so that a history
/// made mostly of them (Knossos's `mongodb-v0-ack-rollback-*`: 700 operations, 21 that count)
/// costs little more to prepare than the operations that count.
///
/// Always inlined: [`super::schedule`]'s one-key pass calls it on a cold path, where it would
/// otherwise stay a call.
#[inline(always)]
pub(super) fn constrains(op: &LinOp, sem: &Semantics) -> bool {
    match op.completion {
        Completion::Fail => {
            sem.fail == FailMeaning::ObservedOther && matches!(op.input, Input::Cas { .. })
        }
        Completion::Unknown => !matches!(op.input, Input::Read),
        Completion::Ok => match (&op.input, &op.output) {
            (Input::Read, None) => false,
            (Input::Read, Some(Value::Nil)) => sem.nil_read != NilRead::Anything,
            _ => true,
        },
    }
}

/// Whether compiled operations (sorted by invocation) can only take effect in the order given:
/// each must take effect (none is optional) and completes before the next is invoked (at the
/// same time counts as overlapping, as in the search's events). A history of one client per
/// key is like this.
fn in_one_order(ops: &[CompiledOp]) -> bool {
    let mut done = None;
    for op in ops {
        match (op.ret, done) {
            (None, _) => return false,
            (_, Some(before)) if before >= op.call => return false,
            (ret, _) => done = ret,
        }
    }
    true
}

/// How one turn of a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Turn {
    /// The key is not decided yet.
    Running,
    Linearizable,
    /// The key is not linearizable; the search that found it is kept for the explanation.
    Violation,
    /// The exact search needs more memory than it was given.
    MemoryFull,
    /// The relaxed search needed more memory than it was given and was dropped (it is only a
    /// shortcut); the key is not decided yet.
    RelaxedMemoryFull,
}

/// One key's searches in progress.
pub(super) struct KeyRun<'v> {
    pub(super) key: Value,
    /// Operations on this key, counting the ones that cannot constrain it.
    pub(super) operations: usize,
    /// Indices of this key's operations that can constrain it ([`constrains`]) in the checked
    /// slice.
    pub(super) members: Vec<usize>,
    /// Whether the searches were built.
    started: bool,
    /// The exact search: `None` before the key's first turn and once it is decided. Boxed, as
    /// the relaxed one: a `Search` is large, and a list of keys holding them inline made the
    /// allocator's large-request path (with its consolidation) a fifth of a small check.
    exact: Option<Box<Search<'v>>>,
    /// The relaxed search, while the key has optional operations and it is still useful.
    relaxed: Option<Box<Search<'v>>>,
    /// The relaxed search is to be built at its first turn (most keys are decided by the
    /// exact search's first turn, and never need it).
    relaxed_pending: bool,
    /// Which search found a violation, once one did.
    violating: Option<bool>,
    /// Seeds the memos' hashes.
    salt: u64,
    /// The key's compiled operations and initial state when they can only take effect in one
    /// order ([`in_one_order`]): no search is built, the first exact turn replays them.
    sequential: Option<Box<(Model<'v>, Vec<CompiledOp>, u32)>>,
    /// The replay found the violation: no search was built.
    replayed_violation: bool,
}

impl<'v> KeyRun<'v> {
    /// The run of `key`, which has `operations` operations, `members` of which can constrain it.
    pub(super) fn new(key: Value, operations: usize, members: Vec<usize>) -> KeyRun<'v> {
        KeyRun {
            key,
            operations,
            members,
            started: false,
            exact: None,
            relaxed: None,
            relaxed_pending: false,
            violating: None,
            salt: 0,
            sequential: None,
            replayed_violation: false,
        }
    }

    /// Builds the key's searches (at its first turn, so that keys decided at once free their
    /// memory before the next ones are built). `salt` seeds its memo's hashes.
    pub(super) fn start(&mut self, ops: &'v [LinOp], sem: &'v Semantics, salt: u64) {
        if self.started {
            return;
        }
        let (model, compiled, initial) = self.compile(ops, sem);
        self.salt = salt;
        if in_one_order(&compiled) {
            self.sequential = Some(Box::new((model, compiled, initial)));
            self.started = true;
            return;
        }
        self.relaxed_pending = compiled.iter().any(|c| !c.mandatory());
        self.exact = Some(Box::new(Search::new(model, compiled, initial, salt, false)));
        self.started = true;
    }

    /// The key's model, compiled operations and initial state.
    fn compile(&self, ops: &'v [LinOp], sem: &'v Semantics) -> (Model<'v>, Vec<CompiledOp>, u32) {
        let mut model = Model::with_capacity(self.members.len());
        let initial = model.intern(&sem.initial);
        let compiled = model::compile(&mut model, ops, &self.members, sem);
        (model, compiled, initial)
    }

    /// Not decided yet.
    pub(super) fn live(&self) -> bool {
        !self.started || self.exact.is_some() || self.sequential.is_some()
    }

    /// Whether the exact (or relaxed) search still runs.
    pub(super) fn has(&self, relaxed: bool) -> bool {
        if relaxed {
            self.exact.is_some() && (self.relaxed.is_some() || self.relaxed_pending)
        } else {
            self.exact.is_some() || self.sequential.is_some()
        }
    }

    pub(super) fn memo_bytes(&self) -> u64 {
        self.exact.as_ref().map_or(0, |s| s.memo_bytes())
            + self.relaxed.as_ref().map_or(0, |s| s.memo_bytes())
    }

    /// Configurations remembered by both searches.
    pub(super) fn memo_len(&self) -> u64 {
        (self.exact.as_ref().map_or(0, |s| s.memo_len())
            + self.relaxed.as_ref().map_or(0, |s| s.memo_len())) as u64
    }

    /// Runs one turn of the exact (or relaxed) search — at most `quota` steps, with `room`
    /// bytes for the memos of both of the key's searches — and returns how it ended, the steps
    /// taken and the configurations to count now (those of searches this turn finished with).
    pub(super) fn turn(&mut self, relaxed: bool, quota: u64, room: u64) -> (Turn, u64, u64) {
        assert!(self.has(relaxed) && self.violating.is_none());
        if let Some(sequential) = self.sequential.take() {
            let (model, ops, initial) = *sequential;
            if (ops.len() as u64) < quota {
                return self.replay(model, ops, initial);
            }
            // Not within this turn's steps: search, as for any key.
            self.exact = Some(Box::new(Search::new(model, ops, initial, self.salt, false)));
        }
        if relaxed && self.relaxed_pending {
            self.relaxed_pending = false;
            let exact = self.exact.as_ref().expect("checked above");
            let (model, ops) = (exact.model.clone(), exact.ops.clone());
            self.relaxed = Some(Box::new(Search::new(
                model,
                ops,
                exact.initial(),
                self.salt,
                true,
            )));
        }
        let (search, sibling) = if relaxed {
            (self.relaxed.as_mut(), self.exact.as_ref())
        } else {
            (self.exact.as_mut(), self.relaxed.as_ref())
        };
        let search = search.expect("checked above");
        let memory = room.saturating_sub(sibling.map_or(0, |s| s.memo_bytes()));
        let before = search.steps;
        let status = search.run(quota, memory);
        let steps = search.steps - before;
        let (turn, configurations) = match (status, relaxed) {
            (Status::Running, _) => (Turn::Running, 0),
            (Status::Linearizable, false) => {
                let n = self.memo_len();
                self.exact = None;
                self.relaxed = None;
                (Turn::Linearizable, n)
            }
            (Status::Linearizable, true) => {
                let witness = search.witness_without_reuse();
                // Without a witness it says nothing about the real history.
                let n = if witness { self.memo_len() } else { 0 };
                self.relaxed = None;
                if witness {
                    // Its linearization holds for the real history too.
                    self.exact = None;
                    (Turn::Linearizable, n)
                } else {
                    (Turn::Running, n)
                }
            }
            (Status::NotLinearizable, _) => {
                self.violating = Some(relaxed);
                (Turn::Violation, self.memo_len())
            }
            (Status::MemoryFull, true) => {
                // The relaxed search is only a shortcut: let the exact one have the room.
                let n = search.memo_len() as u64;
                self.relaxed = None;
                (Turn::RelaxedMemoryFull, n)
            }
            (Status::MemoryFull, false) => (Turn::MemoryFull, 0),
        };
        (turn, steps, configurations)
    }

    /// The first exact turn of a key whose operations take effect in one order: applies them
    /// in that order, a step each (and one to see that none is left), remembering nothing.
    fn replay(
        &mut self,
        mut model: Model<'v>,
        ops: Vec<CompiledOp>,
        initial: u32,
    ) -> (Turn, u64, u64) {
        let mut state = initial;
        for (i, op) in ops.iter().enumerate() {
            match model.step(state, op) {
                Some(next) => state = next,
                None => {
                    // The explanation comes from a search of these operations.
                    self.replayed_violation = true;
                    self.violating = Some(false);
                    return (Turn::Violation, i as u64 + 1, 0);
                }
            }
        }
        (Turn::Linearizable, ops.len() as u64 + 1, 0)
    }

    /// The violation, once a turn returned [`Turn::Violation`].
    pub(super) fn violation(&self, ops: &[LinOp], sem: &Semantics, budget: &Budget) -> Violation {
        if self.replayed_violation {
            // Replayed in one order: the search of the same operations (compiled afresh: a
            // replay's appends intern values) fails as well, and its state once failed is what
            // explains the violation, as for any key.
            let (model, compiled, initial) = self.compile(ops, sem);
            let mut search = Search::new(model, compiled, initial, self.salt, false);
            let status = search.run(u64::MAX, u64::MAX);
            assert_eq!(status, Status::NotLinearizable, "a replay failed");
            return explain::violation(ops, &self.key, self.operations, &search, budget);
        }
        let relaxed = self.violating.expect("a search found a violation");
        if relaxed {
            let search = self.relaxed.as_ref().expect("violating search");
            explain::violation_relaxed(ops, &self.key, self.operations, search, budget)
        } else {
            let search = self.exact.as_ref().expect("violating search");
            explain::violation(ops, &self.key, self.operations, search, budget)
        }
    }

    /// Drops the searches (the key is given up); returns the configurations they held.
    pub(super) fn drop_searches(&mut self) -> u64 {
        let n = self.memo_len();
        self.started = true;
        self.exact = None;
        self.relaxed = None;
        self.relaxed_pending = false;
        self.sequential = None;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cheap filter keeps exactly what compiling keeps, for every kind of operation under
    /// every convention.
    #[test]
    fn constrains_is_what_compile_keeps() {
        let int = Value::Int;
        let inputs = [
            Input::Read,
            Input::Write(int(1)),
            Input::Cas {
                expected: int(1),
                new: int(2),
            },
            Input::Append(Value::Str("x".into())),
        ];
        let outputs = [None, Some(Value::Nil), Some(int(3))];
        let completions = [Completion::Ok, Completion::Fail, Completion::Unknown];
        let (mut kept, mut dropped) = (0, 0);
        for sem in [Semantics::etcd(), Semantics::knossos(), Semantics::dsim()] {
            for input in &inputs {
                for output in &outputs {
                    for &completion in &completions {
                        let op = LinOp {
                            process: 0,
                            key: Value::Nil,
                            call: 0,
                            ret: Some(1),
                            input: input.clone(),
                            output: output.clone(),
                            completion,
                        };
                        let mut model = Model::with_capacity(1);
                        let compiled =
                            model::compile(&mut model, std::slice::from_ref(&op), &[0], &sem);
                        assert_eq!(constrains(&op, &sem), compiled.len() == 1, "{op:?} {sem:?}");
                        if compiled.is_empty() {
                            dropped += 1;
                        } else {
                            kept += 1;
                        }
                    }
                }
            }
        }
        assert!(kept > 0 && dropped > 0);
    }

    /// Operations left out before the search still count as the key's operations in the
    /// explanation, and the verdict and window are those of the operations that count.
    #[test]
    fn left_out_operations_still_count_in_the_explanation() {
        let op = |call: u64, input: Input, output: Option<Value>, completion| LinOp {
            process: call,
            key: Value::Int(7),
            call,
            ret: Some(call + 1),
            input,
            output,
            completion,
        };
        let ops = vec![
            op(0, Input::Write(Value::Int(1)), None, Completion::Ok),
            op(2, Input::Read, None, Completion::Fail),
            op(4, Input::Write(Value::Int(2)), None, Completion::Fail),
            op(6, Input::Read, Some(Value::Int(2)), Completion::Ok),
            op(8, Input::Read, None, Completion::Unknown),
        ];
        let report = super::super::check_ops(&ops, &Semantics::dsim(), &Budget::default(), None);
        assert_eq!(report.verdict, super::super::LinVerdict::NotLinearizable);
        let v = report.violation.expect("explained");
        assert_eq!(v.key_operations, 5);
        assert_eq!(v.blocking, 3);
        assert_eq!(v.window, vec![0, 3]);
    }
}
