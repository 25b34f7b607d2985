//! `dsim sweep`: run one scenario over a range of seeds, one simulation per worker thread at a
//! time (each simulation stays single-threaded), and list the failing seeds with the command
//! that reproduces each.
//!
//! Results do not depend on the number of workers or on scheduling: every seed's run is
//! independent, and results are reported in seed order.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use sim_core::check::Verdict;

use crate::exit;
use crate::run::reproduce_command;
use crate::runner::{self, RunOptions};

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (RON).
    pub file: PathBuf,
    /// Seeds to run: `A..B` (B excluded), e.g. `0..1000`.
    #[arg(long, value_parser = parse_seeds)]
    pub seeds: (u64, u64),
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only the I-th of N interleaved slices of the seeds (0 ≤ I < N), e.g. `2/8`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u64, u64)>,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

pub fn parse_seeds(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected `A..B`, e.g. `0..100`, got `{s}`"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a seed (a non-negative integer)"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a seed (a non-negative integer)"))?;
    if a >= b {
        return Err(format!("the range `{s}` is empty: A must be less than B"));
    }
    Ok((a, b))
}

pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected `I/N`, e.g. `0/4`, got `{s}`"))?;
    let i: u64 = i
        .parse()
        .map_err(|_| format!("`{i}` is not a shard index"))?;
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{n}` is not a shard count"))?;
    if n == 0 || i >= n {
        return Err(format!("shard `{s}`: need 0 ≤ I < N"));
    }
    Ok((i, n))
}

/// The outcome of one seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Pass,
    Fail(Vec<String>),
    Unknown,
    Panic(String),
}

/// The result of a sweep, in seed order.
pub struct SweepResult {
    pub outcomes: Vec<(u64, SeedOutcome)>,
    pub wall_s: f64,
}

impl SweepResult {
    /// Seeds whose verdict is fail (a check failed or the simulation panicked).
    pub fn failing_seeds(&self) -> Vec<u64> {
        self.outcomes
            .iter()
            .filter(|(_, o)| matches!(o, SeedOutcome::Fail(_) | SeedOutcome::Panic(_)))
            .map(|(s, _)| *s)
            .collect()
    }
}

/// The seeds of `range` in shard `shard` (I/N: every N-th seed starting at the I-th).
pub fn seeds_of(range: (u64, u64), shard: Option<(u64, u64)>) -> Vec<u64> {
    let (i, n) = shard.unwrap_or((0, 1));
    (range.0..range.1)
        .filter(|s| (s - range.0) % n == i)
        .collect()
}

/// Runs every seed of `seeds` on `jobs` threads. `progress` is called after each seed.
pub fn sweep(
    scn: &scenarios::Scenario,
    seeds: &[u64],
    jobs: usize,
    progress: &(dyn Fn(&SeedOutcome) + Sync),
) -> SweepResult {
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<SeedOutcome>>> = Mutex::new(vec![None; seeds.len()]);
    runner::quiet_panics();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(i) else { break };
                let outcome = match runner::catch(|| {
                    runner::run_scenario(
                        scn,
                        RunOptions {
                            seed: Some(seed),
                            ..Default::default()
                        },
                    )
                }) {
                    Err(msg) => SeedOutcome::Panic(msg),
                    Ok(r) => match r.verdict {
                        Verdict::Pass => SeedOutcome::Pass,
                        Verdict::Unknown => SeedOutcome::Unknown,
                        Verdict::Fail => SeedOutcome::Fail(
                            r.checks
                                .iter()
                                .filter(|c| c.verdict == Verdict::Fail)
                                .map(|c| c.name.clone())
                                .collect(),
                        ),
                    },
                };
                progress(&outcome);
                results
                    .lock()
                    .expect("no worker panics while holding the lock")[i] = Some(outcome);
            });
        }
    });
    let outcomes = results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .zip(seeds)
        .map(|(o, &s)| (s, o.expect("every seed ran")))
        .collect();
    SweepResult {
        outcomes,
        wall_s: start.elapsed().as_secs_f64(),
    }
}

pub fn main(args: SweepArgs) -> i32 {
    let scn = match scenarios::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let seeds = seeds_of(args.seeds, args.shard);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(seeds.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} seeds  {msg}  {per_sec}  eta {eta}",
            )
            .expect("valid template"),
        );
        Some(b)
    } else {
        None
    };
    let failures = AtomicUsize::new(0);
    let result = sweep(&scn, &seeds, jobs, &|o| {
        if matches!(o, SeedOutcome::Fail(_) | SeedOutcome::Panic(_)) {
            failures.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(b) = &bar {
            b.set_message(format!("{} failed", failures.load(Ordering::Relaxed)));
            b.inc(1);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let failing = result.failing_seeds();
    let count = |f: fn(&SeedOutcome) -> bool| result.outcomes.iter().filter(|(_, o)| f(o)).count();
    let passed = count(|o| *o == SeedOutcome::Pass);
    let unknown = count(|o| *o == SeedOutcome::Unknown);
    let panicked: Vec<u64> = result
        .outcomes
        .iter()
        .filter(|(_, o)| matches!(o, SeedOutcome::Panic(_)))
        .map(|(s, _)| *s)
        .collect();
    if args.json {
        let v = serde_json::json!({
            "scenario": scn.name,
            "runs": result.outcomes.len(),
            "passed": passed,
            "failed": failing.len(),
            "unknown": unknown,
            "failing_seeds": failing,
            "panicked_seeds": panicked,
            "wall_s": result.wall_s,
            "seeds_per_s": result.outcomes.len() as f64 / result.wall_s.max(1e-9),
            "jobs": jobs,
            "expected": runner::expect_word(&scn.expect),
        });
        println!("{v}");
    } else {
        println!(
            "{}: {} runs, {} passed, {} failed, {} unknown in {:.2}s ({:.1} seeds/s, {} jobs)",
            scn.name,
            result.outcomes.len(),
            passed,
            failing.len(),
            unknown,
            result.wall_s,
            result.outcomes.len() as f64 / result.wall_s.max(1e-9),
            jobs
        );
        for (seed, o) in &result.outcomes {
            match o {
                SeedOutcome::Fail(checks) => {
                    println!(
                        "  seed {seed}: failed {}  — reproduce: {}",
                        checks.join(", "),
                        reproduce_command(&args.file, *seed)
                    )
                }
                SeedOutcome::Panic(m) => println!(
                    "  seed {seed}: panicked: {m}  — reproduce: {}",
                    reproduce_command(&args.file, *seed)
                ),
                _ => {}
            }
        }
    }
    if !failing.is_empty() {
        exit::FAIL
    } else if unknown > 0 {
        exit::UNKNOWN
    } else {
        exit::PASS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_and_shards() {
        assert_eq!(parse_seeds("0..5"), Ok((0, 5)));
        assert!(parse_seeds("5..5").is_err());
        assert!(parse_seeds("x..5").is_err());
        assert!(parse_seeds("7").is_err());
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("0/0").is_err());
        assert_eq!(seeds_of((10, 20), Some((1, 3))), vec![11, 14, 17]);
        // The shards of a range partition it.
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| seeds_of((10, 20), Some((i, 3))))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (10..20).collect::<Vec<_>>());
    }
}
