//! `dsim check`: linearizability of external (or exported) histories.
//!
//! Reads each file in one of four formats (detected automatically; see `scenarios::history::format`),
//! chooses the model's conventions from the format unless told otherwise, runs the checker in
//! `sim_core::check::linearizability` with a wall-clock limit on top of its deterministic
//! budget, and prints a verdict per file — with the explanation of a violation in the terminal
//! and, with `--explain FILE`, as an HTML page with an SVG timeline.
//!
//! Exit codes: 0 every file linearizable, 1 some file not linearizable, 3 some file undecided
//! (budget) and none failed, 2 bad input (which wins over the others).

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser as _;

use scenarios::history::format::Format;
use sim_core::check::linearizability::{explain_text, LinOp, Value};

use crate::exit;

/// `--format`'s values.
pub fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    clap::builder::PossibleValuesParser::new(Format::ALL.map(Format::name))
        .map(|s| Format::from_name(&s).expect("a listed value"))
}

/// `--model`'s values.
pub fn model_parser() -> impl clap::builder::TypedValueParser<Value = Model> {
    clap::builder::PossibleValuesParser::new(Model::ALL.map(Model::name))
        .map(|s| Model::from_name(&s).expect("a listed value"))
}

/// `--convention`'s values.
pub fn convention_parser() -> impl clap::builder::TypedValueParser<Value = Convention> {
    clap::builder::PossibleValuesParser::new(Convention::ALL.map(Convention::name))
        .map(|s| Convention::from_name(&s).expect("a listed value"))
}

/// Arguments of `dsim check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// History files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format.
    #[arg(long, default_value = "auto", value_parser = format_parser())]
    pub format: Format,
    /// The model: a single register, or a key-value map checked key by key.
    #[arg(long, default_value = "auto", value_parser = model_parser())]
    pub model: Model,
    /// Every key's initial value: `nil` (absent), an integer, or a string. Knossos's files
    /// start at 0 (`--initial 0`); etcd's start absent.
    #[arg(long, value_name = "VALUE")]
    pub initial: Option<String>,
    /// What `fail` and a read of nil mean [default: etcd for jepsen-log, knossos for edn, dsim
    /// for jsonl, kv and EDN written by dsim].
    #[arg(long, value_parser = convention_parser())]
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
    /// Give up on a key (verdict `unknown`) when the search's memo would exceed this many MiB
    /// (keep it below the process's `--memory-max`, 2048 by default).
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub memory_limit: u64,
    /// Give up (verdict `unknown`) after this many search steps.
    #[arg(long, value_name = "N")]
    pub steps_max: Option<u64>,
    /// Check a history's keys on N threads. The verdict, the failing key and the explanation
    /// are the same as with one.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: u32,
}

pub use crate::check_file::{check_file, check_file_jobs, key_label, FileOutcome};
pub use scenarios::history::read::{
    budget, parse_initial, prepare, run_check, Convention, Model, Prepared, ReadOptions,
};

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
        let outcome = check_file_jobs(path, &opts, &budget, time_limit, args.jobs as usize);
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
            if let Some(note) = note(p) {
                s.push_str(&format!("  note: {note}\n"));
            }
            if let Some(v) = &r.violation {
                s.push_str(&format!(
                    "  why: {}\n",
                    crate::explain::why(&p.history.ops, v)
                ));
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

/// What a person should know about a history beyond its verdict: that it held no client
/// operation at all (only the nemesis's entries, say), which is linearizable trivially.
fn note(p: &Prepared) -> Option<String> {
    p.history.ops.is_empty().then(|| {
        format!(
            "the history holds no client operation, only {} of other processes (the nemesis): an empty history is trivially linearizable",
            plural(p.history.other_events, "event", "events")
        )
    })
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
            if let Some(note) = note(p) {
                obj.insert("note".into(), note.into());
            }
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
