//! Checking one history file: read it, parse it, check it — the outcome `dsim check` prints
//! (`check.rs`) and draws (`explain.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use scenarios::history::read::{prepare, Prepared, ReadOptions};
use sim_core::check::linearizability::{Budget, LinReport, LinVerdict, Value};

use crate::check_jobs::run_check_jobs;
use crate::exit;

/// The largest history file `dsim check` reads: 256 MiB (a million Jepsen operations take
/// about 100 MB).
pub const HISTORY_BYTES_MAX: u64 = 256 << 20;

/// A read error as `file:line: message` (the line only, as history errors give it).
fn e_line(e: &scenarios::ScenarioError) -> String {
    if e.line > 0 {
        format!("{}:{}: {}", e.file, e.line, e.message)
    } else {
        format!("{}: {}", e.file, e.message)
    }
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
    check_file_jobs(path, opts, budget, time_limit, 1)
}

/// [`check_file`], with the keys checked on `jobs` threads (the same outcome).
pub fn check_file_jobs(
    path: &Path,
    opts: &ReadOptions,
    budget: &Budget,
    time_limit: Option<Duration>,
    jobs: usize,
) -> FileOutcome {
    let result = match scenarios::read_text(path, HISTORY_BYTES_MAX) {
        Err(e) => {
            let e = e.into_error(&path.display().to_string());
            Err(match &e.hint {
                Some(h) => format!("{}\n  hint: {h}", e_line(&e)),
                None => e_line(&e),
            })
        }
        Ok(text) => match prepare(&text, opts) {
            Err(e) => Err(format!("{}:{e}", path.display())),
            Ok(p) => {
                let (report, elapsed) = run_check_jobs(&p, budget, time_limit, jobs);
                Ok((p, report, elapsed))
            }
        },
    };
    FileOutcome {
        path: path.to_path_buf(),
        result,
    }
}

/// How a key is named to a person: `key `k``, or `the register` for single-register histories.
pub fn key_label(key: &Value) -> String {
    match key {
        Value::Nil => "the register".to_string(),
        k => format!("key `{k}`"),
    }
}
