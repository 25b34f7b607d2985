//! `dsim bench check DIR...`: how fast the linearizability checker is on real histories.
//!
//! Each file is parsed once (not timed), checked once to warm up, then timed `--reps` times
//! two ways, alternately: as `dsim check` does it, with the explanation of a violation
//! (`median_ms`), and the decision alone (`decide_ms`), which is what a benchmark of a checker
//! that only answers yes or no (Porcupine's `CheckEvents`) measures. Figures are medians of
//! wall-clock times per check. A check shorter than [`SAMPLE_MIN`] is timed in batches that
//! last about that long, each sample being the batch's time divided by its checks, as Go's
//! `testing.B` loop does: a single microsecond-long check would otherwise mostly measure the
//! clock and caches left cold by the other kind of check. It prints one line per file, then
//! per path given on the command line the sums of the medians and the slowest files. When a folder has a `VERDICTS` file (`FILE
//! linearizable|not-linearizable` per line, as in `../shared/histories`), each verdict is
//! compared with it and a mismatch fails the benchmark. A file that cannot be read or parsed
//! (Porcupine's empty `etcd_095.log`, say) is reported and skipped; the others are still
//! measured. Exit codes: 0 all verdicts as expected, 1 a mismatch, 2 bad input (a folder that
//! cannot be listed, or any file that cannot be read; it wins over a mismatch).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sim_core::check::linearizability::{Budget, LinVerdict};

use crate::check::{budget, parse_initial, prepare, Convention, Model, Prepared, ReadOptions};
use crate::check_jobs::check_ops_jobs;
use crate::exit;
use crate::histfmt::Format;

/// Arguments of `dsim bench check`.
#[derive(clap::Args, Debug)]
pub struct BenchCheckArgs {
    /// History files, or folders of them (every file except VERDICTS, README, LICENSE, NOTICE).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Timed samples per file (of one check, or of a batch of short ones); the median is
    /// reported.
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
    /// Check each history's keys on N threads, as `dsim check --jobs N` does.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: u32,
}

/// One file's figures.
#[derive(Clone, Debug)]
pub struct FileFigures {
    pub path: PathBuf,
    pub operations: usize,
    pub verdict: LinVerdict,
    pub expected: Option<String>,
    /// The check with its explanation, as `dsim check` runs it.
    pub median: Duration,
    pub min: Duration,
    /// The decision alone.
    pub decide: Duration,
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

/// Reports a file that cannot be read or parsed (`error` is `LINE: message` or a sentence).
fn report_unreadable(file: &Path, error: &str, json: bool) {
    let error = if error.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{}:{error}", file.display())
    } else {
        format!("{}: {error}", file.display())
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "file": file.display().to_string(),
                "verdict": "bad-input",
                "error": error,
            })
        );
    } else {
        println!("{:<52} {:>5}  {:<17}", file.display(), "-", "bad-input");
    }
    eprintln!("error: {error}");
}

/// A timed sample lasts at least about this long: shorter checks run in batches.
const SAMPLE_MIN: Duration = Duration::from_micros(200);

/// Checks per timed sample for a check that took `once`.
fn batch(once: Duration) -> u32 {
    let once = once.as_nanos().max(1);
    SAMPLE_MIN.as_nanos().div_ceil(once).clamp(1, 100_000) as u32
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The median and the minimum of `times`.
fn median_min(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort_unstable();
    (times[times.len() / 2], times[0])
}

/// Times the checks of one prepared history: `reps` samples with the explanation and `reps`
/// without, alternately, after one of each to warm up (and to size the batches). Returns the
/// verdict and the figures' times, per check.
fn measure(p: &Prepared, budget: &Budget, reps: usize, jobs: usize) -> (LinVerdict, [Duration; 3]) {
    let decide_only = Budget {
        explain: false,
        ..budget.clone()
    };
    let never = || false;
    let check = |b: &Budget| check_ops_jobs(&p.history.ops, &p.semantics, b, jobs, &never).verdict;
    let timed = |b: &Budget| {
        let start = Instant::now();
        let v = check(b);
        (v, start.elapsed())
    };
    let (verdict, once) = timed(budget);
    let (decided, once_decided) = timed(&decide_only);
    assert_eq!(
        decided, verdict,
        "the verdict does not need the explanation"
    );
    let batches = [(budget, batch(once)), (&decide_only, batch(once_decided))];
    let (mut explained, mut decided) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for _ in 0..reps {
        for ((b, n), times) in batches.iter().zip([&mut explained, &mut decided]) {
            let start = Instant::now();
            for _ in 0..*n {
                let v = check(b);
                assert_eq!(v, verdict, "the checker is deterministic");
            }
            times.push(start.elapsed() / *n);
        }
    }
    let (median, min) = median_min(explained);
    let (decide, _) = median_min(decided);
    (verdict, [median, min, decide])
}

fn print_file(f: &FileFigures, reps: usize, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "file": f.path.display().to_string(),
                "operations": f.operations,
                "verdict": f.verdict.name(),
                "expected": f.expected,
                "median_ms": ms(f.median),
                "min_ms": ms(f.min),
                "decide_ms": ms(f.decide),
                "reps": reps,
            })
        );
        return;
    }
    let expected = match (&f.expected, f.matches()) {
        (None, _) => "-".to_string(),
        (Some(_), Some(true)) => "ok".to_string(),
        (Some(e), _) => format!("MISMATCH (expected {e})"),
    };
    println!(
        "{:<52} {:>5}  {:<17} {:>10.3} {:>10.3} {:>10.3}  {expected}",
        f.path.display(),
        f.operations,
        f.verdict.name(),
        ms(f.median),
        ms(f.min),
        ms(f.decide)
    );
}

/// Prints the sums of one path's figures.
fn print_total(root: &Path, figures: &[FileFigures], unreadable: usize, json: bool) {
    let total: Duration = figures.iter().map(|f| f.median).sum();
    let decide: Duration = figures.iter().map(|f| f.decide).sum();
    let mut slowest: Vec<&FileFigures> = figures.iter().collect();
    slowest.sort_by(|a, b| b.median.cmp(&a.median).then(a.path.cmp(&b.path)));
    slowest.truncate(3);
    let mismatches = figures
        .iter()
        .filter(|f| f.matches() == Some(false))
        .count();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "path": root.display().to_string(),
                "files": figures.len(),
                "total_ms": ms(total),
                "decide_total_ms": ms(decide),
                "max_ms": slowest.first().map(|f| ms(f.median)),
                "mismatches": mismatches,
                "unreadable": unreadable,
            })
        );
        return;
    }
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
        "total {}: {} files, {:.3} ms (sum of medians; {:.3} ms to decide); slowest: {}; \
         verdict mismatches: {mismatches}; unreadable: {unreadable}",
        root.display(),
        figures.len(),
        ms(total),
        ms(decide),
        slow.join(", ")
    );
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
    let (mut grand_total, mut grand_files) = (Duration::ZERO, 0);
    if !args.json {
        println!(
            "{:<52} {:>5}  {:<17} {:>10} {:>10} {:>10}  expected",
            "file", "ops", "verdict", "median_ms", "min_ms", "decide_ms"
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
        let mut unreadable = 0;
        for file in files {
            let p = match std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read the file: {}", e.to_string().to_lowercase()))
                .and_then(|text| prepare(&text, &opts).map_err(|e| e.to_string()))
            {
                Ok(p) => p,
                Err(e) => {
                    // Reported, and the benchmark goes on with the other files.
                    unreadable += 1;
                    code = exit::BAD_INPUT;
                    report_unreadable(&file, &e, args.json);
                    continue;
                }
            };
            let (verdict, [median, min, decide]) = measure(&p, &budget, reps, args.jobs as usize);
            let f = FileFigures {
                expected: expected_verdict(&file, root),
                path: file,
                operations: p.history.ops.len(),
                verdict,
                median,
                min,
                decide,
            };
            if f.matches() == Some(false) && code != exit::BAD_INPUT {
                code = exit::FAIL;
            }
            print_file(&f, reps, args.json);
            figures.push(f);
        }
        grand_total += figures.iter().map(|f| f.median).sum::<Duration>();
        grand_files += figures.len();
        print_total(root, &figures, unreadable, args.json);
    }
    if !args.json && args.paths.len() > 1 {
        println!("total: {grand_files} files, {:.3} ms", ms(grand_total));
    }
    code
}
