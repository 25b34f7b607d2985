//! Protocol-independent checkers: they read a run's history, observations and fault log,
//! never a protocol's internals.

pub mod cap;
pub mod convergence;
pub mod linearizability;
pub mod linearizable;
pub mod liveness;

pub use convergence::{Convergence, Disseminates};
pub use linearizable::Linearizable;
pub use liveness::{LeaderBased, Leadership, Liveness};

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
}

impl CheckResult {
    pub fn new(name: &str, verdict: Verdict, detail: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            verdict,
            detail: detail.into(),
            metrics: Vec::new(),
        }
    }
    pub fn metric(mut self, key: &str, value: f64) -> CheckResult {
        self.metrics.push((key.to_string(), value));
        self
    }
}
