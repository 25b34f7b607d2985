//! Scenarios: what a run is and how to run it — dsim's library API above the engine.
//!
//! - The RON scenario format: serde schema, validation into a checked [`Scenario`], and errors
//!   that name `file:line:col`, what was expected and a hint.
//! - The [`Registry`] of protocols a scenario may name (`protocols::builtin()` plus a user's
//!   own, each a `sim_core::Protocol`), which resolves `protocol:` and `checks:` and parses
//!   their parameters.
//! - The run [`harness`]: run, check, compare with `expect`, sweep seeds, check determinism,
//!   compare protocols under a partition.
//!
//! A file goes through four steps, each its own module:
//! 1. `locate` scans the text (comments, strings, brackets) into an outline of field paths and
//!    positions, reporting unclosed brackets and unterminated strings itself;
//! 2. ron deserializes it into the `schema` types (unknown fields and variants, missing fields
//!    and wrong types are ron's errors, reworded by `diag` around the field path);
//! 3. `resolve` looks up the protocol and each check by name in the registry and parses their
//!    own parameters, errors placed in the file like the rest;
//! 4. `validate` checks ranges and cross-field rules (the protocol's and checks' own rules
//!    among them) and builds the engine's `SimConfig`, pointing each error at the offending
//!    value through the outline.
//!
//! The format is documented, field by field, in `scenarios/README.md`. Parsing never panics.

pub mod bench;
mod diag;
pub mod exit;
pub mod harness;
pub mod history;
mod locate;
pub mod registry;
mod resolve;
pub mod schedule;
mod schema;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod timeline;
mod validate;
pub mod write;

use std::path::{Path, PathBuf};

use sim_core::SimConfig;

pub use harness::{run, RunOptions, RunReport};
pub use registry::{CheckInfo, CheckSpec, ProtocolInfo, ProtocolSpec, Registry};
pub use sim_core::protocol::rules::DURATION_MAX;
pub use validate::{
    CLIENT_COUNT_MAX, DRIFT_PPM_MAX, EVENTS_MAX_DEFAULT, KV_KEYS_MAX, KV_WEIGHT_MAX, NODE_COUNT_MAX,
};

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The engine configuration; `config.seed` is the scenario's seed (the CLI may override it).
    pub config: SimConfig,
    /// The protocol (a registered one) with its parameters.
    pub protocol: ProtocolSpec,
    /// The checks to run, each one the protocol supplies, with its parameters.
    pub checks: Vec<CheckSpec>,
    pub expect: Expect,
}

impl Scenario {
    /// The scenario's check named `name`, if it runs it.
    pub fn check(&self, name: &str) -> Option<&CheckSpec> {
        self.checks.iter().find(|c| c.name == name)
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

/// Reads and validates a scenario file; `registry` resolves its protocol and checks.
pub fn load(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.display().to_string(),
        line: 0,
        col: 0,
        message: format!("cannot read the file: {e}"),
        hint: None,
    })?;
    parse(&text, &path.display().to_string(), registry)
}

/// Parses and validates scenario text; `file` names it in errors, `registry` resolves its
/// protocol and checks.
pub fn parse(text: &str, file: &str, registry: &Registry) -> Result<Scenario, ScenarioError> {
    let outline = locate::Outline::new(text).map_err(|e| diag::from_syntax(file, e))?;
    let cx = diag::Ctx {
        file,
        outline,
        registry,
    };
    let raw: schema::ScenarioFile = registry::ron_options()
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
    ron_files_in(&shipped_dir())
}

/// The scenario files of a folder: `dir/*.ron` and `dir/<family>/*.ron` (not deeper, and not
/// under `src/`), sorted. A folder that cannot be read has none.
pub fn ron_files_in(dir: &Path) -> Vec<PathBuf> {
    let is_ron = |p: &PathBuf| p.is_file() && p.extension().is_some_and(|e| e == "ron");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if is_ron(&path) {
            out.push(path);
        } else if path.is_dir() && entry.file_name() != "src" {
            let files = std::fs::read_dir(&path).into_iter().flatten().flatten();
            out.extend(files.map(|f| f.path()).filter(is_ron));
        }
    }
    out.sort();
    out
}
