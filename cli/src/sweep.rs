//! `dsim sweep`: run one scenario over a range of seeds (the harness's `sweep`: one
//! simulation per worker thread at a time) and list the failing seeds with the command that
//! reproduces each.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use scenarios::harness::expect_word;
use scenarios::harness::sweep::{seeds_of, sweep, SeedOutcome};

use crate::{exit, Env};

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

pub fn main(env: &Env, args: SweepArgs) -> i32 {
    let scn = match env.load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
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
        if o.is_failure() {
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
            "expected": expect_word(&scn.expect),
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
        print!("{}", failures_text(env, &args.file, &result.outcomes));
    }
    if !failing.is_empty() {
        exit::FAIL
    } else if unknown > 0 {
        exit::UNKNOWN
    } else {
        exit::PASS
    }
}

/// The most failing seeds the text lists per failing check (`--json` lists them all).
const SEEDS_SHOWN_MAX: usize = 5;

/// The failures of a sweep, grouped by the check that failed (a seed that failed two checks
/// is under both) and then the panics: each group's count, its first seeds with their
/// reproduce commands, and how many more there are.
fn failures_text(env: &Env, file: &std::path::Path, outcomes: &[(u64, SeedOutcome)]) -> String {
    let mut groups: Vec<(&str, Vec<u64>)> = Vec::new();
    let mut panics: Vec<(u64, &str)> = Vec::new();
    for (seed, o) in outcomes {
        match o {
            SeedOutcome::Fail(checks) => {
                for c in checks {
                    match groups.iter_mut().find(|(n, _)| n == c) {
                        Some((_, seeds)) => seeds.push(*seed),
                        None => groups.push((c, vec![*seed])),
                    }
                }
            }
            SeedOutcome::Panic(m) => panics.push((*seed, m)),
            _ => {}
        }
    }
    let mut out = String::new();
    let count = |n: usize| format!("{n} seed{}", if n == 1 { "" } else { "s" });
    for (name, seeds) in &groups {
        out.push_str(&format!(
            "  check {name} failed on {}:\n",
            count(seeds.len())
        ));
        for seed in seeds.iter().take(SEEDS_SHOWN_MAX) {
            out.push_str(&format!(
                "    seed {seed} — reproduce: {}\n",
                env.reproduce(file, *seed)
            ));
        }
        if seeds.len() > SEEDS_SHOWN_MAX {
            out.push_str(&format!(
                "    … and {} more (`--json` lists every failing seed)\n",
                seeds.len() - SEEDS_SHOWN_MAX
            ));
        }
    }
    if !panics.is_empty() {
        out.push_str(&format!("  panicked on {}:\n", count(panics.len())));
        for (seed, m) in panics.iter().take(SEEDS_SHOWN_MAX) {
            out.push_str(&format!(
                "    seed {seed}: {m} — reproduce: {}\n",
                env.reproduce(file, *seed)
            ));
        }
        if panics.len() > SEEDS_SHOWN_MAX {
            out.push_str(&format!(
                "    … and {} more (`--json` lists every panicked seed)\n",
                panics.len() - SEEDS_SHOWN_MAX
            ));
        }
    }
    out
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
    }
}
