//! Protocol-independent checkers: they read a run's history, observations and fault log,
//! never a protocol's internals.

pub mod cap;
pub mod convergence;
pub mod linearizability;
pub mod linearizable;
pub mod liveness;
pub mod memo;
pub mod storm;

pub use convergence::{Convergence, Disseminates};
pub use linearizable::Linearizable;
pub use liveness::{LeaderBased, Leadership, Liveness};
pub use memo::Memo;

use crate::{NodeId, SimTime};

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Pass,
    Fail,
    /// The checker could not decide (e.g. it ran out of its search budget).
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The result of one check on one run.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    pub name: String,
    pub verdict: Verdict,
    /// One line a person can read: what was measured or what went wrong.
    pub detail: String,
    /// Named figures for reports and `--json` (e.g. `time_to_converge_ms`).
    pub metrics: Vec<(String, f64)>,
    /// What a failure points at — the operations and the moments it is about — for the
    /// diagram to highlight and `--json` to list; empty when the check passed or has nothing
    /// to point at.
    pub evidence: Evidence,
}

/// The structured evidence of a check's verdict: which client operations and which moments
/// on which nodes the failure is about. The detail text says it in words; this says it in
/// indices and times, so that a picture can highlight it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Client operations, as indices into the run's history (`RunResult::history.ops`), in
    /// the order the check names them (linearizability: the smallest failing window).
    pub operations: Vec<usize>,
    /// Moments on nodes' timelines: a leader taking office, an entry applied, a decision
    /// learned — each with the node, the true time and a few words.
    pub moments: Vec<Moment>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty() && self.moments.is_empty()
    }
}

/// One moment a check's evidence points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moment {
    pub time: SimTime,
    pub node: NodeId,
    /// What happened, in a few words: `n2 became leader of term 5`.
    pub what: String,
}

impl Moment {
    pub fn new(time: SimTime, node: NodeId, what: impl Into<String>) -> Moment {
        Moment {
            time,
            node,
            what: what.into(),
        }
    }
}

impl CheckResult {
    pub fn new(name: &str, verdict: Verdict, detail: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            verdict,
            detail: detail.into(),
            metrics: Vec::new(),
            evidence: Evidence::default(),
        }
    }
    pub fn metric(mut self, key: &str, value: f64) -> CheckResult {
        self.metrics.push((key.to_string(), value));
        self
    }
    /// Adds client operations (indices into the run's history) to the evidence.
    pub fn operations(mut self, ops: impl IntoIterator<Item = usize>) -> CheckResult {
        self.evidence.operations.extend(ops);
        self
    }
    /// Adds a moment on `node`'s timeline to the evidence.
    pub fn moment(mut self, time: SimTime, node: NodeId, what: impl Into<String>) -> CheckResult {
        self.evidence.moments.push(Moment::new(time, node, what));
        self
    }
}
