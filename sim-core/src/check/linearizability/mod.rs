//! Linearizability checking: dsim's main consistency verdict.
//!
//! A history — operations with a process, an invocation time, a completion time, an input, an
//! output and a completion kind (`ok`, `fail`, or `unknown`) — is linearizable when every
//! operation can be given one instant between its invocation and its completion such that the
//! operations, applied one at a time in that order, behave like a single register per key.
//! Operations that timed out (`unknown`) may take effect at any point after their invocation,
//! or never.
//!
//! How it is checked:
//! - *P-compositionality*: keys are independent, so each key is checked on its own
//!   ([`model`] holds the per-key specification: read, write, compare-and-set, append).
//! - *Search*: the Wing–Gong/Lowe depth-first search with memoization of (linearized set,
//!   state) — Porcupine's approach — over an explicit stack ([`search`]).
//! - *Interleaving*: keys are searched round-robin in key order, a fixed number of steps at a
//!   time, and the check stops at the first key that fails. A cheap violation is therefore found
//!   even when another key is very expensive, and the result is still deterministic.
//! - *Budget*: a step limit and a memory limit (deterministic), plus an optional caller-supplied
//!   "should stop" callback (the CLI uses it for wall-clock limits). Running out yields
//!   [`LinVerdict::Unknown`] instead of hanging or exhausting memory.
//! - *Explanation*: for a violation, the key, the operation that cannot be linearized, the
//!   longest linearizable prefix, the smallest window of operations that cannot be linearized
//!   from any state, and a text timeline ([`explain`]).
//!
//! What a `fail` and a read of `nil` mean is not universal. [`Semantics`] chooses it:
//! [`Semantics::etcd`] (a failed compare-and-set completed and observed another value; `nil`
//! is the absent register), [`Semantics::knossos`] (`fail` did not happen; a read of `nil`
//! matches anything), or [`Semantics::dsim`] (`fail` did not happen; `nil` is absent), which
//! is what dsim's own clients record. This module is pure: no I/O and no clock.

mod blocking;
mod explain;
mod keys;
mod model;
mod order;
mod parallel;
mod reach;
mod schedule;
mod search;
mod table;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lookahead;
mod twins;

use std::fmt;

use crate::check::{CheckResult, Verdict};
use crate::{History, Outcome, Request, Response};

pub use explain::{explain_text, timeline_rows, TimelineRow};
pub use parallel::Parallel;

/// A value held by a register or seen by an operation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// Nothing: the absent register, or a read that returned `nil`.
    Nil,
    Int(i128),
    Str(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// What an operation asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Read,
    Write(Value),
    /// Set the register to `new` if it holds `expected` (`Nil`: if it is absent).
    Cas {
        expected: Value,
        new: Value,
    },
    /// Concatenate a string to the register's string (absent counts as empty).
    Append(Value),
}

impl Input {
    pub fn name(&self) -> &'static str {
        match self {
            Input::Read => "read",
            Input::Write(_) => "write",
            Input::Cas { .. } => "cas",
            Input::Append(_) => "append",
        }
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Completion {
    /// Completed and took effect.
    Ok,
    /// Completed with a definite failure; [`Semantics`] decides what that means.
    Fail,
    /// Indeterminate (timed out, crashed, or still pending at the end): it may have taken
    /// effect at any point after its invocation, or never.
    Unknown,
}

impl Completion {
    pub fn name(self) -> &'static str {
        match self {
            Completion::Ok => "ok",
            Completion::Fail => "fail",
            Completion::Unknown => "unknown",
        }
    }
}

/// One operation of a history, as the checker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinOp {
    /// The process (client) that issued it; only used in explanations.
    pub process: u64,
    /// The key it addressed (`Nil` for single-register histories).
    pub key: Value,
    /// Invocation time (any monotonic unit: nanoseconds, or event numbers).
    pub call: u64,
    /// Completion time; `None` if it never completed. Unused for `Unknown` operations except
    /// in explanations.
    pub ret: Option<u64>,
    pub input: Input,
    /// What a read returned (`Some(Nil)` for `nil`); `None` when unknown or not a read.
    pub output: Option<Value>,
    pub completion: Completion,
}

impl LinOp {
    /// A short description: `read → 3`, `write 4`, `cas 1→2 failed`, `append "x" ?`.
    pub fn describe(&self) -> String {
        let mut s = match &self.input {
            Input::Read => match &self.output {
                Some(v) if self.completion == Completion::Ok => format!("read → {v}"),
                _ => "read".to_string(),
            },
            Input::Write(v) => format!("write {v}"),
            Input::Cas { expected, new } => format!("cas {expected}→{new}"),
            Input::Append(v) => format!("append {v}"),
        };
        match self.completion {
            Completion::Ok => {}
            Completion::Fail => s.push_str(" failed"),
            Completion::Unknown => s.push_str(" ?"),
        }
        s
    }
}

/// What a `fail` completion means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailMeaning {
    /// The operation did not take effect (Knossos; dsim's clients).
    DidNotHappen,
    /// A failed compare-and-set completed and observed a value other than the expected one
    /// (etcd). Failed reads and writes are still treated as not having happened.
    ObservedOther,
}

/// What a successful read of `nil` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NilRead {
    /// The register was absent (etcd; dsim).
    Absent,
    /// The read's value was not recorded: it matches anything (Knossos).
    Anything,
}

/// The model's reading of failures, `nil` and the initial state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Semantics {
    /// Each key's value before any operation (`Nil`: absent).
    pub initial: Value,
    pub fail: FailMeaning,
    pub nil_read: NilRead,
}

impl Semantics {
    /// etcd's convention (Porcupine's etcd model): starts absent, a failed compare-and-set
    /// observed another value, `nil` is absent.
    pub fn etcd() -> Semantics {
        Semantics {
            initial: Value::Nil,
            fail: FailMeaning::ObservedOther,
            nil_read: NilRead::Absent,
        }
    }
    /// Knossos's `cas-register`: `fail` did not happen, a read of `nil` matches anything. Starts
    /// absent; Knossos's own files need [`Semantics::with_initial`]`(Value::Int(0))`.
    pub fn knossos() -> Semantics {
        Semantics {
            initial: Value::Nil,
            fail: FailMeaning::DidNotHappen,
            nil_read: NilRead::Anything,
        }
    }
    /// What dsim's clients record: `fail` did not happen, `nil` is absent, keys start absent.
    pub fn dsim() -> Semantics {
        Semantics {
            initial: Value::Nil,
            fail: FailMeaning::DidNotHappen,
            nil_read: NilRead::Absent,
        }
    }
    pub fn with_initial(mut self, initial: Value) -> Semantics {
        self.initial = initial;
        self
    }
}

/// Limits on one check. The step and memory limits are deterministic: the same history and
/// budget always give the same result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Search steps over all keys.
    pub steps_max: u64,
    /// Bytes of memo tables alive at once, over all keys.
    pub memory_bytes_max: u64,
    /// Steps one key runs before the next key's turn.
    pub quantum_steps: u64,
    /// Search steps spent looking for the smallest window once a violation is found.
    pub explain_steps_max: u64,
    /// Whether a violation is explained ([`LinReport::violation`]); without, a check stops at
    /// the verdict (what a benchmark against a checker that only decides measures).
    pub explain: bool,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            steps_max: 500_000_000,
            memory_bytes_max: 2 << 30,
            quantum_steps: 1 << 16,
            explain_steps_max: 20_000_000,
            explain: true,
        }
    }
}

/// The checker's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinVerdict {
    Linearizable,
    NotLinearizable,
    /// A key's search ran out of budget (or was stopped) before deciding.
    Unknown,
}

impl LinVerdict {
    pub fn name(self) -> &'static str {
        match self {
            LinVerdict::Linearizable => "linearizable",
            LinVerdict::NotLinearizable => "not-linearizable",
            LinVerdict::Unknown => "unknown",
        }
    }
}

/// Why a key was left undecided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownReason {
    Steps,
    Memory,
    Stopped,
}

impl UnknownReason {
    pub fn name(self) -> &'static str {
        match self {
            UnknownReason::Steps => "step budget exhausted",
            UnknownReason::Memory => "memory budget exhausted",
            UnknownReason::Stopped => "stopped by the caller",
        }
    }
}

/// A key that was not decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUnknown {
    pub key: Value,
    pub reason: UnknownReason,
}

/// Where and why a history is not linearizable. Operations are indices into the checked slice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: Value,
    /// Operations on this key.
    pub key_operations: usize,
    /// The completed operation that no linearization of the history up to its completion can
    /// include.
    pub blocking: usize,
    /// The smallest window of operations that cannot be linearized, in invocation order.
    pub window: Vec<usize>,
    /// Window operations that were treated as optional (indeterminate, or started before the
    /// window and possibly already applied).
    pub window_optional: Vec<usize>,
    /// True when the window cannot be linearized from *any* state; false when it is the whole
    /// prefix, checked from the initial value.
    pub window_from_any_state: bool,
    /// The longest linearizable prefix: a linearization of every operation that completed
    /// before `blocking` did, in linearization order.
    pub prefix: Vec<usize>,
    /// The register's value after `prefix` (`None` if unknown).
    pub prefix_state: Option<Value>,
}

/// The full result of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinReport {
    pub verdict: LinVerdict,
    /// Operations given to the checker.
    pub operations: usize,
    pub keys: usize,
    /// Search steps taken (not counting the explanation).
    pub steps: u64,
    /// Configurations remembered, summed over keys.
    pub configurations: u64,
    /// Why the history is not linearizable (`None` when it is, or when
    /// [`Budget::explain`] is off).
    pub violation: Option<Violation>,
    pub unknown: Vec<KeyUnknown>,
}

/// Options of [`check_history`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinOptions {
    pub budget: Budget,
    /// The run's seed, quoted in the explanation of a failure.
    pub seed: Option<u64>,
}

/// Checks `ops` (any order) for linearizability under `sem`, one key at a time, round-robin
/// (see [`schedule`]). `should_stop` is asked once a round; when it says so, the keys not
/// decided yet are reported undecided.
pub fn check_ops(
    ops: &[LinOp],
    sem: &Semantics,
    budget: &Budget,
    should_stop: Option<&mut dyn FnMut() -> bool>,
) -> LinReport {
    schedule::sequential(ops, sem, budget, should_stop)
}

/// The key-value operations of a dsim history, in the checker's terms. Other requests
/// (broadcast, transactions) are left out. Times are simulated nanoseconds; the process is the client id.
///
/// A history without appends maps values to integers. With appends, every value becomes the
/// string of its digits followed by a space, so that a key's list is the concatenation of its
/// values' strings: `Put 5` writes `"5 "`, `Append 7` appends `"7 "`, a read of the list
/// `[5, 7]` returned `"5 7 "` — the register-with-append model then checks lists exactly.
pub fn ops_from_history(history: &History) -> Vec<LinOp> {
    let lists = history
        .ops
        .iter()
        .any(|op| matches!(op.request, Request::Append { .. }));
    let val = |v: u64| {
        if lists {
            Value::Str(format!("{v} "))
        } else {
            Value::Int(i128::from(v))
        }
    };
    let mut out = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
        let (key, input) = match &op.request {
            Request::Get { key } => (*key, Input::Read),
            Request::Put { key, value } => (*key, Input::Write(val(*value))),
            Request::Cas { key, expected, new } => (
                *key,
                Input::Cas {
                    expected: expected.map_or(Value::Nil, val),
                    new: val(*new),
                },
            ),
            Request::Append { key, value } => (*key, Input::Append(val(*value))),
            Request::Broadcast { .. } | Request::ReadSet | Request::Txn { .. } => continue,
        };
        let (ret, completion, output) = match &op.completion {
            None => (None, Completion::Unknown, None),
            Some((t, Outcome::Unknown)) => (Some(t.0), Completion::Unknown, None),
            Some((t, Outcome::Fail)) => (Some(t.0), Completion::Fail, None),
            Some((t, Outcome::Ok(response))) => match response {
                Response::Value(v) => (Some(t.0), Completion::Ok, Some(v.map_or(Value::Nil, val))),
                Response::List(vs) => (
                    Some(t.0),
                    Completion::Ok,
                    Some(Value::Str(vs.iter().map(|v| format!("{v} ")).collect())),
                ),
                Response::Ok => (Some(t.0), Completion::Ok, None),
                Response::Fail | Response::Redirect { .. } | Response::Unsupported => {
                    (Some(t.0), Completion::Fail, None)
                }
                // Not an answer to a key-value request: we cannot tell what happened.
                Response::Set(_) | Response::Committed(_) => (Some(t.0), Completion::Unknown, None),
            },
        };
        out.push(LinOp {
            process: u64::from(op.client.0),
            key: Value::Int(i128::from(key)),
            call: op.invoke.0,
            ret,
            input,
            output,
            completion,
        });
    }
    out
}

/// The `linearizable` check of a run: dsim's key-value history under [`Semantics::dsim`].
/// On a violation, `detail` holds the explanation (key, window, prefix, timeline) and the seed.
pub fn check_history(history: &History, opts: &LinOptions) -> CheckResult {
    let ops = ops_from_history(history);
    let report = check_ops(&ops, &Semantics::dsim(), &opts.budget, None);
    let verdict = match report.verdict {
        LinVerdict::Linearizable => Verdict::Pass,
        LinVerdict::NotLinearizable => Verdict::Fail,
        LinVerdict::Unknown => Verdict::Unknown,
    };
    let detail = match (&report.violation, report.verdict) {
        (Some(v), _) => {
            let mut text = explain_text(&ops, v);
            if let Some(seed) = opts.seed {
                text.push_str(&format!("reproduce with seed {seed}\n"));
            }
            text
        }
        (None, LinVerdict::Unknown) => {
            let keys: Vec<String> = report
                .unknown
                .iter()
                .map(|u| format!("`{}` ({})", u.key, u.reason.name()))
                .collect();
            format!(
                "undecided: {} of {} keys were not decided: {}",
                report.unknown.len(),
                report.keys,
                keys.join(", ")
            )
        }
        _ => format!(
            "linearizable: {} operations on {} keys ({} search steps)",
            report.operations, report.keys, report.steps
        ),
    };
    let mut result = CheckResult::new("linearizable", verdict, detail)
        .metric("operations", report.operations as f64)
        .metric("keys", report.keys as f64)
        .metric("search_steps", report.steps as f64);
    if let Some(v) = &report.violation {
        result = result
            .metric("window_operations", v.window.len() as f64)
            .operations(history_indices(history, &v.window));
    }
    result
}

/// The history indices of operations given as indices into [`ops_from_history`]'s output
/// (which leaves out the operations that are not key-value requests).
fn history_indices(history: &History, checked: &[usize]) -> Vec<usize> {
    let kv: Vec<usize> = history
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.request.service() == crate::Service::KeyValue)
        .map(|(i, _)| i)
        .collect();
    checked.iter().filter_map(|&i| kv.get(i).copied()).collect()
}
