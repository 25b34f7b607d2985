//! `dsim bench check DIR...`: how fast the linearizability checker is on real histories.
//!
//! Each file is parsed once (not timed), checked once to warm up, then checked `--reps` times;
//! the figure is the median wall-clock time of the check. It prints one line per file, then per
//! path given on the command line the sum of the medians and the slowest files. When a folder
//! has a `VERDICTS` file (`FILE linearizable|not-linearizable` per line, as in
//! `../shared/histories`), each verdict is compared with it and a mismatch fails the benchmark.
//! Exit codes: 0 all verdicts as expected, 1 a mismatch, 2 bad input.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sim_core::check::linearizability::{check_ops, LinVerdict};

use crate::check::{budget, parse_initial, prepare, Convention, Model, ReadOptions};
use crate::exit;
use crate::histfmt::Format;

/// Arguments of `dsim bench check`.
#[derive(clap::Args, Debug)]
pub struct BenchCheckArgs {
    /// History files, or folders of them (every file except VERDICTS, README, LICENSE, NOTICE).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Timed checks per file; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Print one JSON object per file and per path instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The files' format.
    #[arg(long, default_value = "auto", value_parser = crate::check::format_parser())]
    pub format: Format,
    /// Every key's initial value (`--initial 0` for Knossos's files).
    #[arg(long, value_name = "VALUE")]
    pub initial: Option<String>,
    /// What `fail` and a read of nil mean (default: by format, as in `dsim check`).
    #[arg(long, value_parser = crate::check::convention_parser())]
    pub convention: Option<Convention>,
}

/// One file's figures.
#[derive(Clone, Debug)]
pub struct FileFigures {
    pub path: PathBuf,
    pub operations: usize,
    pub verdict: LinVerdict,
    pub expected: Option<String>,
    pub median: Duration,
    pub min: Duration,
}

impl FileFigures {
    pub fn matches(&self) -> Option<bool> {
        self.expected.as_ref().map(|e| e == self.verdict.name())
    }
}

fn is_history_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let upper = name.to_uppercase();
    !(name.starts_with('.')
        || upper == "VERDICTS"
        || upper.starts_with("README")
        || upper.starts_with("LICENSE")
        || upper.starts_with("NOTICE"))
}

/// The history files under `path` (itself if it is a file), sorted.
pub fn collect_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            if p.is_dir() {
                dirs.push(p);
            } else if is_history_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The verdict a `VERDICTS` file in one of `file`'s folders (up to `root`) expects.
pub fn expected_verdict(file: &Path, root: &Path) -> Option<String> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        let verdicts = d.join("VERDICTS");
        if let Ok(text) = std::fs::read_to_string(&verdicts) {
            let rel = file
                .strip_prefix(d)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            return text.lines().find_map(|l| {
                let mut it = l.split_whitespace();
                (it.next() == Some(rel.as_str())).then(|| it.next().unwrap_or("").to_string())
            });
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    None
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `dsim bench check`; returns the exit code.
pub fn main(args: BenchCheckArgs) -> i32 {
    let opts = ReadOptions {
        format: args.format,
        model: Model::Auto,
        initial: args.initial.as_deref().map(parse_initial),
        convention: args.convention,
    };
    let budget = budget(2048, None);
    let reps = args.reps.max(1);
    let mut code = exit::PASS;
    let mut grand_total = Duration::ZERO;
    let mut grand_files = 0;
    if !args.json {
        println!(
            "{:<52} {:>5}  {:<17} {:>10} {:>10}  expected",
            "file", "ops", "verdict", "median_ms", "min_ms"
        );
    }
    for root in &args.paths {
        let files = match collect_files(root) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "error: cannot read `{}`: {}",
                    root.display(),
                    e.to_string().to_lowercase()
                );
                return exit::BAD_INPUT;
            }
        };
        let mut figures: Vec<FileFigures> = Vec::with_capacity(files.len());
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!(
                        "error: cannot read `{}`: {}",
                        file.display(),
                        e.to_string().to_lowercase()
                    );
                    return exit::BAD_INPUT;
                }
            };
            let p = match prepare(&text, &opts) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {}:{e}", file.display());
                    return exit::BAD_INPUT;
                }
            };
            let mut verdict = check_ops(&p.history.ops, &p.semantics, &budget, None).verdict;
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                let start = Instant::now();
                let report = check_ops(&p.history.ops, &p.semantics, &budget, None);
                times.push(start.elapsed());
                assert_eq!(report.verdict, verdict, "the checker is deterministic");
                verdict = report.verdict;
            }
            times.sort_unstable();
            let f = FileFigures {
                expected: expected_verdict(&file, root),
                path: file,
                operations: p.history.ops.len(),
                verdict,
                median: times[times.len() / 2],
                min: times[0],
            };
            if f.matches() == Some(false) {
                code = exit::FAIL;
            }
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "file": f.path.display().to_string(),
                        "operations": f.operations,
                        "verdict": f.verdict.name(),
                        "expected": f.expected,
                        "median_ms": ms(f.median),
                        "min_ms": ms(f.min),
                        "reps": reps,
                    })
                );
            } else {
                let expected = match (&f.expected, f.matches()) {
                    (None, _) => "-".to_string(),
                    (Some(_), Some(true)) => "ok".to_string(),
                    (Some(e), _) => format!("MISMATCH (expected {e})"),
                };
                println!(
                    "{:<52} {:>5}  {:<17} {:>10.3} {:>10.3}  {expected}",
                    f.path.display(),
                    f.operations,
                    f.verdict.name(),
                    ms(f.median),
                    ms(f.min)
                );
            }
            figures.push(f);
        }
        let total: Duration = figures.iter().map(|f| f.median).sum();
        grand_total += total;
        grand_files += figures.len();
        let mut slowest: Vec<&FileFigures> = figures.iter().collect();
        slowest.sort_by(|a, b| b.median.cmp(&a.median).then(a.path.cmp(&b.path)));
        slowest.truncate(3);
        let mismatches = figures
            .iter()
            .filter(|f| f.matches() == Some(false))
            .count();
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "path": root.display().to_string(),
                    "files": figures.len(),
                    "total_ms": ms(total),
                    "max_ms": slowest.first().map(|f| ms(f.median)),
                    "mismatches": mismatches,
                })
            );
        } else {
            let slow: Vec<String> = slowest
                .iter()
                .map(|f| {
                    format!(
                        "{} {:.3} ms",
                        f.path.file_name().unwrap_or_default().to_string_lossy(),
                        ms(f.median)
                    )
                })
                .collect();
            println!(
                "total {}: {} files, {:.3} ms (sum of medians); slowest: {}; verdict mismatches: {mismatches}",
                root.display(),
                figures.len(),
                ms(total),
                slow.join(", ")
            );
        }
    }
    if !args.json && args.paths.len() > 1 {
        println!("total: {grand_files} files, {:.3} ms", ms(grand_total));
    }
    code
}
