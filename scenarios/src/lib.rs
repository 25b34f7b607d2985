//! The RON scenario format: serde schema, validation into a checked [`Scenario`], and errors
//! that name `file:line:col`, what was expected and a hint.
//!
//! A file goes through three steps, each its own module:
//! 1. `locate` scans the text (comments, strings, brackets) into an outline of field paths and
//!    positions, reporting unclosed brackets and unterminated strings itself;
//! 2. ron deserializes it into the `schema` types (unknown fields and variants, missing fields
//!    and wrong types are ron's errors, reworded by `diag` around the field path);
//! 3. `validate` checks ranges and cross-field rules and builds the engine's `SimConfig`,
//!    pointing each error at the offending value through the outline.
//!
//! The format is documented, field by field, in `scenarios/README.md`. Parsing never panics.

mod diag;
mod locate;
mod schema;
mod validate;

use std::path::{Path, PathBuf};

use protocols::ProtocolSpec;
use sim_core::{SimConfig, SimDuration};

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The engine configuration; `config.seed` is the scenario's seed (the CLI may override it).
    pub config: SimConfig,
    pub protocol: ProtocolSpec,
    pub checks: Vec<CheckSpec>,
    pub expect: Expect,
}

/// A check the scenario asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckSpec {
    /// After the last fault heals, every live node holds every acknowledged broadcast value,
    /// within `within` if given.
    Convergence { within: Option<SimDuration> },
    /// The clients' key-value history is linearizable (needs a key-value workload).
    Linearizable,
    /// Raft: at most one leader per term.
    ElectionSafety,
    /// Raft: no two nodes apply different entries at the same log index.
    StateMachineSafety,
    /// Raft: two logs holding an entry with the same index and term agree up to it.
    LogMatching,
    /// Raft: every entry committed in a term is in the log of every later term's leader.
    LeaderCompleteness,
    /// Raft, Paxos: after the last heal (or the liveness phase's start) a leader is in office
    /// at the deadline `within` later, and at least `min_answered` (default all) of the client
    /// operations invoked from then on and not pending at the end complete.
    Liveness {
        within: SimDuration,
        min_answered: f64,
    },
    /// Paxos: at most one value is chosen per slot (a majority of acceptors accepting it in
    /// one ballot), and every node applies the chosen value.
    Agreement,
    /// Leaderless: once faults have healed and puts stopped, every live replica of each key
    /// holds the same version within `within`.
    ReplicaConvergence { within: SimDuration },
    /// Leaderless: every acknowledged put is held, or superseded by a higher version, at the
    /// end.
    NoLostWrites,
    /// Two-phase commit: every participant that learns a transaction's outcome learns the
    /// coordinator's decision and applies all of its part.
    Atomicity,
    /// Two-phase commit: a transaction commits only if every participant voted yes.
    Validity,
    /// Two-phase commit: no lost update — each key's committed increments apply serially.
    Isolation,
    /// Two-phase commit: how long participants stayed prepared (blocked); fails only above
    /// `max`, if given.
    Blocking { max: Option<SimDuration> },
}

impl CheckSpec {
    pub fn name(&self) -> &'static str {
        match self {
            CheckSpec::Convergence { .. } => "convergence",
            CheckSpec::Linearizable => "linearizable",
            CheckSpec::ElectionSafety => "election-safety",
            CheckSpec::StateMachineSafety => "state-machine-safety",
            CheckSpec::LogMatching => "log-matching",
            CheckSpec::LeaderCompleteness => "leader-completeness",
            CheckSpec::Liveness { .. } => "liveness",
            CheckSpec::Agreement => "agreement",
            CheckSpec::ReplicaConvergence { .. } => "replica-convergence",
            CheckSpec::NoLostWrites => "no-lost-writes",
            CheckSpec::Atomicity => "atomicity",
            CheckSpec::Validity => "validity",
            CheckSpec::Isolation => "isolation",
            CheckSpec::Blocking { .. } => "blocking",
        }
    }
}

/// What the scenario's author expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every check passes.
    Pass,
    /// These checks fail (the scenario demonstrates a bug); the others pass.
    Violation(Vec<String>),
}

/// A scenario file that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; 0 when the error has no position (e.g. the file could not be read).
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )?;
        } else {
            write!(f, "{}: {}", self.file, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.display().to_string(),
        line: 0,
        col: 0,
        message: format!("cannot read the file: {e}"),
        hint: None,
    })?;
    parse(&text, &path.display().to_string())
}

pub use validate::{
    CLIENT_COUNT_MAX, DRIFT_PPM_MAX, DURATION_MAX, EVENTS_MAX_DEFAULT, FORWARD_TOKENS_MAX,
    KV_KEYS_MAX, KV_WEIGHT_MAX, NODE_COUNT_MAX,
};

/// Every check a scenario may name (in `checks` and in `expect: Violation([...])`), whichever
/// protocol supplies it.
pub fn check_names() -> &'static [&'static str] {
    &[
        "convergence",
        "linearizable",
        "election-safety",
        "state-machine-safety",
        "log-matching",
        "leader-completeness",
        "liveness",
        "agreement",
        "replica-convergence",
        "no-lost-writes",
        "atomicity",
        "validity",
        "isolation",
        "blocking",
    ]
}

/// The RON options every scenario is read with: optional fields take a bare value or
/// `Some(...)`, and a variant wrapping a record is written `Gossip(fanout: 2)`, not
/// `Gossip((fanout: 2))`.
fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_default_extension(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let outline = locate::Outline::new(text).map_err(|e| diag::from_syntax(file, e))?;
    let cx = diag::Ctx { file, outline };
    let raw: schema::ScenarioFile = ron_options()
        .from_str(text)
        .map_err(|e| diag::from_ron(&cx, &e))?;
    validate::validate(raw, &cx)
}

/// The folder holding the shipped scenario files (`scenarios/` in the repository).
pub fn shipped_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every shipped scenario file (`scenarios/<family>/*.ron`), sorted.
pub fn shipped() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(families) = std::fs::read_dir(shipped_dir()) {
        for fam in families.flatten() {
            if fam.path().is_dir() && fam.file_name() != "src" {
                if let Ok(files) = std::fs::read_dir(fam.path()) {
                    out.extend(
                        files
                            .flatten()
                            .map(|f| f.path())
                            .filter(|p| p.extension().is_some_and(|e| e == "ron")),
                    );
                }
            }
        }
    }
    out.sort();
    out
}
