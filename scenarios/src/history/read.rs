//! Reading a history to check: parse it (see [`super::format`]), choose the model's
//! conventions from its format unless told otherwise, and run the linearizability checker
//! with a wall-clock limit on top of its deterministic budget.

use std::time::{Duration, Instant};

use sim_core::check::linearizability::{check_ops, Budget, LinReport, Semantics, Value};

use super::format::{self, Format, ParseError, ParsedHistory};

/// Which conventions give `fail` and `nil` their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// A failed cas completed and observed another value; nil is absent (Porcupine's etcd).
    Etcd,
    /// A failed operation did not happen; a read of nil matches anything (Knossos).
    Knossos,
    /// A failed operation did not happen; nil is absent (dsim's clients).
    Dsim,
}

impl Convention {
    pub const ALL: [Convention; 3] = [Convention::Etcd, Convention::Knossos, Convention::Dsim];

    /// The convention named `name`.
    pub fn from_name(name: &str) -> Option<Convention> {
        Convention::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Convention::Etcd => "etcd",
            Convention::Knossos => "knossos",
            Convention::Dsim => "dsim",
        }
    }
    pub fn semantics(self) -> Semantics {
        match self {
            Convention::Etcd => Semantics::etcd(),
            Convention::Knossos => Semantics::knossos(),
            Convention::Dsim => Semantics::dsim(),
        }
    }
}

/// The model a history is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// `kv` when the operations name keys, `register` otherwise.
    Auto,
    /// One register: the history must not name more than one key.
    Register,
    /// A map of independent registers, checked one key at a time.
    Kv,
}

impl Model {
    pub const ALL: [Model; 3] = [Model::Auto, Model::Register, Model::Kv];

    pub fn name(self) -> &'static str {
        match self {
            Model::Auto => "auto",
            Model::Register => "register",
            Model::Kv => "kv",
        }
    }

    /// The model named `name`.
    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How to read and interpret a history: the parts of [`CheckArgs`] that are not about output.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub format: Format,
    pub model: Model,
    pub initial: Option<Value>,
    pub convention: Option<Convention>,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: Format::Auto,
            model: Model::Auto,
            initial: None,
            convention: None,
        }
    }
}

/// A history ready to check.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub history: ParsedHistory,
    pub convention: Convention,
    pub semantics: Semantics,
}

/// Parses `--initial`: `nil`, an integer, a quoted string, or else the text as a string.
pub fn parse_initial(s: &str) -> Value {
    let t = s.trim();
    if t == "nil" || t == "null" {
        Value::Nil
    } else if let Ok(n) = t.parse::<i128>() {
        Value::Int(n)
    } else if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        Value::Str(t[1..t.len() - 1].to_string())
    } else {
        Value::Str(t.to_string())
    }
}

/// Parses a history and chooses its semantics.
pub fn prepare(text: &str, opts: &ReadOptions) -> Result<Prepared, ParseError> {
    let history = format::parse(text, opts.format)?;
    let keys = history.key_count();
    let keyed = history.ops.iter().any(|o| o.key != Value::Nil);
    if opts.model == Model::Register && keyed && keys > 1 {
        let line = history.lines.first().copied().unwrap_or(1);
        return Err(ParseError {
            line,
            message: format!("expected a single register, found operations on {keys} keys"),
            hint: Some("use `--model kv` to check each key as its own register".into()),
        });
    }
    let convention = opts.convention.unwrap_or(match history.format {
        Format::JepsenLog => Convention::Etcd,
        Format::Edn if !history.written_by_dsim => Convention::Knossos,
        _ => Convention::Dsim,
    });
    let mut semantics = convention.semantics();
    // Porcupine's kv model: every key starts as the empty string.
    if history.format == Format::Kv {
        semantics.initial = Value::Str(String::new());
    }
    if let Some(initial) = &opts.initial {
        semantics.initial = initial.clone();
    }
    Ok(Prepared {
        history,
        convention,
        semantics,
    })
}

/// The checker's budget from the command line.
pub fn budget(memory_limit_mib: u64, steps_max: Option<u64>) -> Budget {
    let mut b = Budget {
        memory_bytes_max: memory_limit_mib.saturating_mul(1 << 20),
        ..Budget::default()
    };
    if let Some(s) = steps_max {
        b.steps_max = s;
    }
    b
}

/// Checks a prepared history, giving up after `time_limit`.
pub fn run_check(
    p: &Prepared,
    budget: &Budget,
    time_limit: Option<Duration>,
) -> (LinReport, Duration) {
    let start = Instant::now();
    let deadline = time_limit.map(|d| start + d);
    let mut stop = || deadline.is_some_and(|d| Instant::now() >= d);
    let report = check_ops(&p.history.ops, &p.semantics, budget, Some(&mut stop));
    (report, start.elapsed())
}
