//! `dsim check`: linearizability of external (or exported) histories.
//!
//! Reads each file in one of four formats (detected automatically; see [`crate::histfmt`]),
//! chooses the model's conventions from the format unless told otherwise, runs the checker in
//! `sim_core::check::linearizability` with a wall-clock limit on top of its deterministic
//! budget, and prints a verdict per file — with the explanation of a violation in the terminal
//! and, with `--explain FILE`, as an HTML page with an SVG timeline.
//!
//! Exit codes: 0 every file linearizable, 1 some file not linearizable, 3 some file undecided
//! (budget) and none failed, 2 bad input (which wins over the others).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sim_core::check::linearizability::{
    check_ops, explain_text, Budget, LinOp, LinReport, LinVerdict, Semantics, Value,
};

use crate::exit;
use crate::histfmt::{self, Format, ParseError, ParsedHistory};

/// Which conventions give `fail` and `nil` their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Convention {
    /// A failed cas completed and observed another value; nil is absent (Porcupine's etcd).
    Etcd,
    /// A failed operation did not happen; a read of nil matches anything (Knossos).
    Knossos,
    /// A failed operation did not happen; nil is absent (dsim's clients).
    Dsim,
}

impl Convention {
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelArg {
    /// `kv` when the operations name keys, `register` otherwise.
    Auto,
    /// One register: the history must not name more than one key.
    Register,
    /// A map of independent registers, checked one key at a time.
    Kv,
}

/// Arguments of `dsim check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// History files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// The model: a single register, or a key-value map checked key by key.
    #[arg(long, value_enum, default_value = "auto")]
    pub model: ModelArg,
    /// Every key's initial value: `nil` (absent), an integer, or a string. Knossos's files
    /// start at 0 (`--initial 0`); etcd's start absent.
    #[arg(long, value_name = "VALUE")]
    pub initial: Option<String>,
    /// What `fail` and a read of nil mean [default: etcd for jepsen-log, knossos for edn, dsim
    /// for jsonl, kv and EDN written by dsim].
    #[arg(long, value_enum)]
    pub convention: Option<Convention>,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write an HTML page with a timeline of each violation to FILE.
    #[arg(long, value_name = "FILE")]
    pub explain: Option<PathBuf>,
    /// Give up on a file (verdict `unknown`) after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub time_limit: f64,
    /// Give up on a key (verdict `unknown`) when the search's memo would exceed this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub memory_limit: u64,
    /// Give up (verdict `unknown`) after this many search steps.
    #[arg(long, value_name = "N")]
    pub steps_max: Option<u64>,
}

/// How to read and interpret a history: the parts of [`CheckArgs`] that are not about output.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub format: Format,
    pub model: ModelArg,
    pub initial: Option<Value>,
    pub convention: Option<Convention>,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: Format::Auto,
            model: ModelArg::Auto,
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
    let history = histfmt::parse(text, opts.format)?;
    let keys = history.key_count();
    let keyed = history.ops.iter().any(|o| o.key != Value::Nil);
    if opts.model == ModelArg::Register && keyed && keys > 1 {
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

/// The outcome of one file.
pub struct FileOutcome {
    pub path: PathBuf,
    pub result: Result<(Prepared, LinReport, Duration), String>,
}

impl FileOutcome {
    pub fn exit_code(&self) -> i32 {
        match &self.result {
            Err(_) => exit::BAD_INPUT,
            Ok((_, r, _)) => match r.verdict {
                LinVerdict::Linearizable => exit::PASS,
                LinVerdict::NotLinearizable => exit::FAIL,
                LinVerdict::Unknown => exit::UNKNOWN,
            },
        }
    }
}

/// Reads, parses and checks one file. Errors are `file:line: message` (with a hint line).
pub fn check_file(
    path: &Path,
    opts: &ReadOptions,
    budget: &Budget,
    time_limit: Option<Duration>,
) -> FileOutcome {
    let result = match std::fs::read_to_string(path) {
        Err(e) => Err(format!(
            "{}: cannot read the file: {}",
            path.display(),
            e.to_string().to_lowercase()
        )),
        Ok(text) => match prepare(&text, opts) {
            Err(e) => Err(format!("{}:{e}", path.display())),
            Ok(p) => {
                let (report, elapsed) = run_check(&p, budget, time_limit);
                Ok((p, report, elapsed))
            }
        },
    };
    FileOutcome {
        path: path.to_path_buf(),
        result,
    }
}

/// The exit code of several files: bad input wins, then a violation, then undecided.
pub fn combined_exit_code(codes: impl IntoIterator<Item = i32>) -> i32 {
    let codes: Vec<i32> = codes.into_iter().collect();
    for code in [exit::BAD_INPUT, exit::FAIL, exit::UNKNOWN] {
        if codes.contains(&code) {
            return code;
        }
    }
    exit::PASS
}

/// Runs `dsim check`; returns the exit code.
pub fn main(args: CheckArgs) -> i32 {
    let opts = ReadOptions {
        format: args.format,
        model: args.model,
        initial: args.initial.as_deref().map(parse_initial),
        convention: args.convention,
    };
    let budget = budget(args.memory_limit, args.steps_max);
    let time_limit = (args.time_limit.is_finite() && args.time_limit > 0.0)
        .then(|| Duration::from_secs_f64(args.time_limit));
    let mut outcomes = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let outcome = check_file(path, &opts, &budget, time_limit);
        if args.json {
            println!("{}", json_line(&outcome));
        } else {
            print!("{}", text_report(&outcome));
        }
        if let Err(e) = &outcome.result {
            eprintln!("error: {e}");
        }
        outcomes.push(outcome);
    }
    if let Some(out) = &args.explain {
        let written = std::fs::File::create(out).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            crate::explain::write_html(&outcomes, &mut w)?;
            std::io::Write::flush(&mut w)
        });
        if let Err(e) = written {
            eprintln!(
                "error: cannot write `{}`: {}",
                out.display(),
                e.to_string().to_lowercase()
            );
            return exit::IO_ERROR;
        }
        if !args.json {
            println!("explanation written to {}", out.display());
        }
    }
    combined_exit_code(outcomes.iter().map(FileOutcome::exit_code))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The text report of one file.
pub fn text_report(o: &FileOutcome) -> String {
    let name = o.path.display();
    match &o.result {
        Err(_) => format!("{name}: bad input\n"),
        Ok((p, r, elapsed)) => {
            let mut s = format!(
                "{name}: {} ({}, {}, {:.2} ms; {} format, {} convention, {} search steps)\n",
                r.verdict.name(),
                plural(r.operations, "operation", "operations"),
                plural(r.keys, "key", "keys"),
                elapsed.as_secs_f64() * 1e3,
                p.history.format.name(),
                p.convention.name(),
                r.steps,
            );
            if let Some(v) = &r.violation {
                for line in explain_text(&p.history.ops, v).lines() {
                    s.push_str("  ");
                    s.push_str(line);
                    s.push('\n');
                }
            }
            for u in &r.unknown {
                s.push_str(&format!(
                    "  {} undecided: {}\n",
                    key_label(&u.key),
                    u.reason.name()
                ));
            }
            s
        }
    }
}

/// How a key is named to a person: `key `k``, or `the register` for single-register histories.
pub fn key_label(key: &Value) -> String {
    match key {
        Value::Nil => "the register".to_string(),
        k => format!("key `{k}`"),
    }
}

/// A checker value as JSON (`nil` is `null`; integers beyond 64 bits become strings).
pub fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil => serde_json::Value::Null,
        Value::Int(n) => {
            if let Ok(i) = i64::try_from(*n) {
                serde_json::Value::from(i)
            } else if let Ok(u) = u64::try_from(*n) {
                serde_json::Value::from(u)
            } else {
                serde_json::Value::from(n.to_string())
            }
        }
        Value::Str(s) => serde_json::Value::from(s.clone()),
    }
}

fn op_json(ops: &[LinOp], lines: &[usize], i: usize, optional: bool) -> serde_json::Value {
    let op = &ops[i];
    serde_json::json!({
        "index": i,
        "line": lines.get(i),
        "process": op.process,
        "f": op.input.name(),
        "op": op.describe(),
        "completion": op.completion.name(),
        "call": op.call,
        "ret": op.ret,
        "optional": optional,
    })
}

/// The JSON object of one file (one line of `--json` output).
pub fn json_line(o: &FileOutcome) -> serde_json::Value {
    let file = o.path.display().to_string();
    match &o.result {
        Err(e) => serde_json::json!({ "file": file, "verdict": "bad-input", "error": e }),
        Ok((p, r, elapsed)) => {
            let mut j = serde_json::json!({
                "file": file,
                "format": p.history.format.name(),
                "convention": p.convention.name(),
                "verdict": r.verdict.name(),
                "operations": r.operations,
                "keys": r.keys,
                "check_ms": elapsed.as_secs_f64() * 1e3,
                "steps": r.steps,
                "configurations": r.configurations,
            });
            let obj = j.as_object_mut().expect("an object");
            if let Some(v) = &r.violation {
                let (ops, lines) = (&p.history.ops, &p.history.lines);
                obj.insert("key".into(), value_json(&v.key));
                obj.insert("key_operations".into(), v.key_operations.into());
                obj.insert("blocking".into(), op_json(ops, lines, v.blocking, false));
                obj.insert(
                    "window".into(),
                    v.window
                        .iter()
                        .map(|&i| op_json(ops, lines, i, v.window_optional.contains(&i)))
                        .collect(),
                );
                obj.insert(
                    "window_from_any_state".into(),
                    v.window_from_any_state.into(),
                );
                obj.insert("prefix".into(), v.prefix.iter().copied().collect());
                obj.insert("prefix_length".into(), v.prefix.len().into());
                obj.insert(
                    "prefix_state".into(),
                    v.prefix_state
                        .as_ref()
                        .map_or(serde_json::Value::Null, value_json),
                );
                obj.insert("explanation".into(), explain_text(ops, v).into());
            }
            if !r.unknown.is_empty() {
                let unknown: Vec<serde_json::Value> = r
                    .unknown
                    .iter()
                    .map(|u| serde_json::json!({ "key": value_json(&u.key), "reason": u.reason.name() }))
                    .collect();
                obj.insert("unknown".into(), unknown.into());
            }
            j
        }
    }
}
