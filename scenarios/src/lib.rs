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
pub mod coverage;
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
    /// Situations a run must reach (for `dsim sweep`: some seed must reach), from
    /// `expect_reached`; see [`coverage`].
    pub expect_reached: Vec<String>,
    /// Swarm testing: the ranges each seed's nemesis, network and client mix are drawn from
    /// (see [`sim_core::swarm`]); [`harness::config_for`] applies the draw.
    pub swarm: Option<sim_core::swarm::SwarmConfig>,
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
    let file = path.display().to_string();
    let text = read_text(path, SCENARIO_BYTES_MAX).map_err(|e| e.into_error(&file))?;
    parse(&text, &file, registry)
}

/// The largest scenario file dsim reads: 4 MiB. Scenarios are a few kilobytes; the limit keeps
/// a mistaken path (a log, a binary) from being read whole.
pub const SCENARIO_BYTES_MAX: u64 = 4 << 20;

/// Why a text file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(String),
    /// The file is larger than the limit (its size, the limit).
    TooLarge(u64, u64),
    /// The file is not UTF-8: the first bad byte, and its line and column (counted in the
    /// valid text before it).
    NotUtf8 { byte: u8, line: usize, col: usize },
}

impl ReadError {
    /// The error as a `ScenarioError` about `file`.
    pub fn into_error(self, file: &str) -> ScenarioError {
        let (line, col, message, hint) = match self {
            ReadError::Io(e) => (0, 0, format!("cannot read the file: {e}"), None),
            ReadError::TooLarge(size, max) => (
                0,
                0,
                format!("the file is {size} bytes, more than the {max} bytes dsim reads"),
                Some("is this the file you meant? scenarios and histories are text files of a few kilobytes to megabytes".into()),
            ),
            ReadError::NotUtf8 { byte, line, col } => (
                line,
                col,
                format!("the file is not valid UTF-8: byte `0x{byte:02x}` here"),
                Some("the file must be UTF-8 text; re-save it as UTF-8 (or remove the stray byte)".into()),
            ),
        };
        ScenarioError {
            file: file.to_string(),
            line,
            col,
            message,
            hint,
        }
    }
}

/// Reads a UTF-8 text file of at most `bytes_max` bytes, without its byte-order mark.
pub fn read_text(path: &Path, bytes_max: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    f.take(bytes_max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > bytes_max {
        let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(ReadError::TooLarge(size, bytes_max));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or("");
        let line = valid.matches('\n').count() + 1;
        let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ReadError::NotUtf8 {
            byte: bytes[at],
            line,
            col,
        }
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Parses and validates scenario text; `file` names it in errors, `registry` resolves its
/// protocol and checks.
pub fn parse(text: &str, file: &str, registry: &Registry) -> Result<Scenario, ScenarioError> {
    // A byte-order mark some editors write is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
