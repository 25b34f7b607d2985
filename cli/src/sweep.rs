//! `dsim sweep`: run one scenario over a range of seeds (the harness's `sweep`: one
//! simulation per worker thread at a time) and list the failing seeds with the command that
//! reproduces each, then the failures grouped by signature. `--shard I/N` runs one slice (the
//! index may come from the environment: `--shard env:JOB_COMPLETION_INDEX/8`), and
//! `dsim sweep merge` (`sweep_merge.rs`) adds the slices' `--json` reports back up.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use scenarios::harness::expect_word;
use scenarios::harness::sweep::{seeds_of, sweep};

use crate::sweep_report::{SeedRange, Shard, SweepJson, SweepOutcome};
use crate::{sweep_merge, Env};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    /// The scenario file (RON).
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Seeds to run: `A..B` (B excluded), e.g. `0..1000`.
    #[arg(long, value_parser = parse_seeds, required = true)]
    pub seeds: Option<(u64, u64)>,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only the I-th of N interleaved slices of the seeds (0 ≤ I < N), e.g. `2/8`. Either
    /// number may be read from the environment: `env:JOB_COMPLETION_INDEX/8` (a Kubernetes
    /// Indexed Job), `env:SHARD/env:SHARDS`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u64, u64)>,
    /// Print one JSON object instead of the text summary (what `dsim sweep merge` reads).
    #[arg(long)]
    pub json: bool,
    /// Then shrink the first failing seed of each check that failed (`dsim shrink` on each,
    /// with its default budget; files beside FILE).
    #[arg(long)]
    pub shrink: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum SweepCommand {
    /// Merge the `--json` reports of a sharded sweep into one, as if it had run on one
    /// machine; missing or overlapping shards are errors (exit code 6).
    Merge(sweep_merge::MergeArgs),
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
    parse_shard_with(s, |name| std::env::var(name).ok())
}

/// [`parse_shard`] with the environment given as a lookup (so that tests need not set it).
pub fn parse_shard_with(
    s: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(u64, u64), String> {
    let (i, n) = s.split_once('/').ok_or_else(|| {
        format!("expected `I/N`, e.g. `0/4` or `env:JOB_COMPLETION_INDEX/4`, got `{s}`")
    })?;
    let number = |part: &str, what: &str| -> Result<u64, String> {
        let Some(name) = part.strip_prefix("env:") else {
            return part
                .parse()
                .map_err(|_| format!("`{part}` is not a shard {what}"));
        };
        let value = var(name).ok_or_else(|| {
            format!("the environment variable `{name}` (the shard {what}) is not set")
        })?;
        value.trim().parse().map_err(|_| {
            format!("the environment variable `{name}` is `{value}`, not a shard {what}")
        })
    };
    let (i, n) = (number(i, "index")?, number(n, "count")?);
    if n == 0 || i >= n {
        return Err(format!("shard `{s}` is `{i}/{n}`: need 0 ≤ I < N"));
    }
    Ok((i, n))
}

pub fn main(env: &Env, args: SweepArgs) -> i32 {
    if let Some(SweepCommand::Merge(m)) = args.command {
        return sweep_merge::main(m);
    }
    let (Some(file), Some(range)) = (args.file, args.seeds) else {
        unreachable!("clap requires FILE and --seeds without a subcommand");
    };
    let scn = match env.load(&file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seeds = seeds_of(range, args.shard);
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
    let outcome = SweepOutcome::of(
        &scn.name,
        &file.display().to_string(),
        expect_word(&scn.expect),
        SeedRange {
            start: range.0,
            end: range.1,
        },
        args.shard.map(|(index, count)| Shard { index, count }),
        &result,
        |seed| env.reproduce(&file, seed),
    );
    let seeds_per_s = result.outcomes.len() as f64 / result.wall_s.max(1e-9);
    if args.json {
        let report = SweepJson {
            outcome,
            wall_s: result.wall_s,
            seeds_per_s,
            jobs,
        };
        if args.shrink {
            let shrunk =
                match crate::shrink::after_sweep(env, &file, &scn, &result, args.jobs, true) {
                    Ok(s) => s,
                    Err(code) => return code,
                };
            let mut v = serde_json::to_value(&report).expect("a report serializes");
            v["shrunk"] = shrunk.iter().map(|d| d.json(env)).collect();
            println!("{v}");
            return report.outcome.exit_code();
        }
        println!(
            "{}",
            serde_json::to_string(&report).expect("a report serializes")
        );
        return report.outcome.exit_code();
    }
    println!(
        "{}: {} runs, {} passed, {} failed, {} unknown in {:.2}s ({:.1} seeds/s, {} jobs)",
        outcome.scenario,
        outcome.runs,
        outcome.passed,
        outcome.failed,
        outcome.unknown,
        result.wall_s,
        seeds_per_s,
        jobs
    );
    outcome.print_failures();
    crate::coverage_report::print_table(&outcome.coverage, outcome.runs, &outcome.expect_reached);
    if args.shrink {
        match crate::shrink::after_sweep(env, &file, &scn, &result, args.jobs, false) {
            Ok(shrunk) => shrunk.iter().for_each(|d| d.print(env)),
            Err(code) => return code,
        }
    }
    outcome.exit_code()
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

    #[test]
    fn shard_numbers_from_the_environment() {
        let var = |name: &str| match name {
            "JOB_COMPLETION_INDEX" => Some("3".to_string()),
            "SHARDS" => Some("8\n".to_string()),
            "BAD" => Some("three".to_string()),
            _ => None,
        };
        let parse = |s: &str| parse_shard_with(s, var);
        assert_eq!(parse("env:JOB_COMPLETION_INDEX/8"), Ok((3, 8)));
        assert_eq!(parse("env:JOB_COMPLETION_INDEX/env:SHARDS"), Ok((3, 8)));
        assert_eq!(parse("2/env:SHARDS"), Ok((2, 8)));
        let unset = parse("env:NOPE/8").unwrap_err();
        assert!(
            unset.contains("`NOPE`") && unset.contains("not set"),
            "{unset}"
        );
        let bad = parse("env:BAD/8").unwrap_err();
        assert!(bad.contains("`three`"), "{bad}");
        let out = parse("env:JOB_COMPLETION_INDEX/3").unwrap_err();
        assert!(out.contains("`3/3`"), "{out}");
    }
}
