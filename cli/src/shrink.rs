//! `dsim shrink`: a failing seed reduced to a small explicit scenario that fails the same check
//! (the work is `scenarios::harness::shrink`); this file parses flags, shows the progress bar
//! (runs done, the pass at work, the best so far), writes the shrunk file — and by default
//! the diagram of its run — and prints before → after and the reproduce command. `dsim sweep
//! --shrink` calls [`shrink_one`] for the first failing seed of each failing check.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use scenarios::harness::shrink::{self, Progress, ShrinkOptions, Shrunk, Size};
use scenarios::Scenario;

use crate::{exit, Env};

#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// The scenario file (RON).
    pub file: PathBuf,
    /// The failing seed.
    #[arg(long)]
    pub seed: u64,
    /// The check that must keep failing (default: the first check that fails at the seed).
    #[arg(long, value_name = "NAME")]
    pub check: Option<String>,
    /// Where to write the shrunk scenario (default: beside FILE, `<name>.seed<N>.shrunk.ron`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Most candidate runs (each a full simulation); the best so far is kept when they run out.
    #[arg(long, value_name = "K", default_value_t = shrink::BUDGET_RUNS_DEFAULT)]
    pub budget_runs: u64,
    /// Candidates run as one batch (the first failing one wins); with the budget, it decides
    /// the result, which never depends on `--jobs`.
    #[arg(long, value_name = "B", default_value_t = shrink::BATCH_DEFAULT)]
    pub batch: usize,
    /// Other seeds the shrunk run may move to (N+1 to N+S) when fewer faults stop failing at
    /// N; 0 keeps the run at N. At most 65536.
    #[arg(long, value_name = "S", default_value_t = shrink::OTHER_SEEDS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(0..=shrink::OTHER_SEEDS_MAX))]
    pub other_seeds: u64,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Do not write the diagram of the shrunk run (default: `<out>.html`, beside the file).
    #[arg(long)]
    pub no_diagram: bool,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

pub fn main(env: &Env, args: ShrinkArgs) -> i32 {
    let scn = match env.load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let how = How {
        check: args.check.clone(),
        out: args.out.clone(),
        budget_runs: args.budget_runs,
        batch: args.batch,
        other_seeds: args.other_seeds,
        jobs: args.jobs,
        diagram: !args.no_diagram,
        quiet: args.json,
    };
    match shrink_one(env, &args.file, &scn, args.seed, &how) {
        Ok(done) => {
            if args.json {
                println!("{}", done.json(env));
            } else {
                done.print(env);
            }
            exit::PASS
        }
        Err(code) => code,
    }
}

/// How to shrink, besides the seed.
#[derive(Clone, Debug)]
pub struct How {
    pub check: Option<String>,
    pub out: Option<PathBuf>,
    pub budget_runs: u64,
    pub batch: usize,
    pub other_seeds: u64,
    pub jobs: Option<usize>,
    /// Write the diagram of the shrunk run beside it.
    pub diagram: bool,
    /// No progress bar and no "shrinking ..." line (for `--json`).
    pub quiet: bool,
}

/// A finished shrink, written out.
pub struct Done {
    pub file: PathBuf,
    pub shrunk: Shrunk,
    pub out: PathBuf,
    pub diagram: Option<PathBuf>,
    pub wall_s: f64,
    pub budget_runs: u64,
}

/// The default output path: `dir/<stem>.seed<N>.shrunk.ron` beside `file`.
pub fn default_out(file: &Path, seed: u64) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.seed{seed}.shrunk.ron"))
}

/// Shrinks `scn` (read from `file`) at `seed` and writes the result; an error has been
/// printed and is returned as the exit code.
pub fn shrink_one(
    env: &Env,
    file: &Path,
    scn: &Scenario,
    seed: u64,
    how: &How,
) -> Result<Done, i32> {
    let jobs = how
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = ShrinkOptions {
        check: how.check.clone(),
        budget_runs: how.budget_runs,
        batch: how.batch,
        other_seeds: how.other_seeds,
        jobs,
        ..ShrinkOptions::new(seed, file.display().to_string())
    };
    if !how.quiet {
        println!(
            "shrinking {} at seed {seed}{} (budget {} runs, batches of {}, {jobs} jobs)",
            file.display(),
            how.check
                .as_ref()
                .map_or(String::new(), |c| format!(" for `{c}`")),
            how.budget_runs,
            how.batch
        );
    }
    let bar = (!how.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(how.budget_runs);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}")
                .expect("valid template"),
        );
        b
    });
    let start = Instant::now();
    let progress = |p: &Progress| {
        if let Some(b) = &bar {
            b.set_position(p.runs);
            b.set_message(format!(
                "{}: best {} faults, {} ops, {}",
                p.pass,
                p.best.faults,
                p.best.operations,
                sim_core::SimDuration(p.best.sim_time_ns)
            ));
        }
    };
    let result = shrink::shrink(scn, &env.registry, &opts, &progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let shrunk = match result {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: cannot shrink {} at seed {seed}: {e}",
                file.display()
            );
            return Err(match e {
                shrink::ShrinkError::Panicked { .. } => {
                    eprintln!("  reproduce: {}", env.reproduce(file, seed));
                    exit::PANIC
                }
                _ => exit::BAD_INPUT,
            });
        }
    };
    let out = how.out.clone().unwrap_or_else(|| default_out(file, seed));
    if let Err(e) = std::fs::write(&out, &shrunk.text) {
        eprintln!("error: cannot write `{}`: {e}", out.display());
        return Err(exit::IO_ERROR);
    }
    let diagram = if how.diagram {
        let path = out.with_extension("html");
        match crate::diagram::write_for(&shrunk.scenario, None, &path, &Default::default()) {
            Ok(()) => Some(path),
            Err(e) => {
                eprintln!("error: cannot write the diagram `{}`: {e}", path.display());
                return Err(exit::IO_ERROR);
            }
        }
    } else {
        None
    };
    Ok(Done {
        file: file.to_path_buf(),
        shrunk,
        out,
        diagram,
        wall_s: start.elapsed().as_secs_f64(),
        budget_runs: how.budget_runs,
    })
}

fn size_json(s: &Size) -> serde_json::Value {
    serde_json::json!({
        "faults": s.faults,
        "client_operations": s.operations,
        "events": s.events,
        "sim_time_ns": s.sim_time_ns,
        "nodes": s.nodes,
        "clients": s.clients,
    })
}

impl Done {
    /// The reproduce command of the shrunk file.
    pub fn reproduce(&self, env: &Env) -> String {
        format!("{} run {}", env.program, self.out.display())
    }

    /// The `--json` object (fields documented in README).
    pub fn json(&self, env: &Env) -> serde_json::Value {
        let s = &self.shrunk;
        serde_json::json!({
            "scenario": self.file.display().to_string(),
            "seed": s.seed,
            "shrunk_seed": s.shrunk_seed,
            "check": s.check,
            "before": size_json(&s.before),
            "after": size_json(&s.after),
            "runs": s.runs,
            "budget_runs": self.budget_runs,
            "budget_exhausted": s.budget_exhausted,
            "out": self.out.display().to_string(),
            "diagram": self.diagram.as_ref().map(|p| p.display().to_string()),
            "reproduce": self.reproduce(env),
            "wall_s": self.wall_s,
        })
    }

    /// Before → after, where the file went, and how to reproduce it.
    pub fn print(&self, env: &Env) {
        let (b, a) = (&self.shrunk.before, &self.shrunk.after);
        println!("check `{}` fails before and after", self.shrunk.check);
        let (from, to) = (self.shrunk.seed, self.shrunk.shrunk_seed);
        if from != to {
            println!("seed {from} before, {to} after (where the fewer faults fail)");
        }
        println!("{:<20} {:>14} {:>14}", "", "before", "after");
        let row = |what: &str, x: String, y: String| println!("{what:<20} {x:>14} {y:>14}");
        row("faults", b.faults.to_string(), a.faults.to_string());
        row(
            "client operations",
            b.operations.to_string(),
            a.operations.to_string(),
        );
        row("events", b.events.to_string(), a.events.to_string());
        row(
            "simulated time",
            sim_core::SimDuration(b.sim_time_ns).to_string(),
            sim_core::SimDuration(a.sim_time_ns).to_string(),
        );
        row("nodes", b.nodes.to_string(), a.nodes.to_string());
        row("clients", b.clients.to_string(), a.clients.to_string());
        println!(
            "runs: {} of {}{} in {:.1}s",
            self.shrunk.runs,
            self.budget_runs,
            if self.shrunk.budget_exhausted {
                " (budget exhausted: the best so far)"
            } else {
                ""
            },
            self.wall_s
        );
        println!("wrote: {}", self.out.display());
        if let Some(d) = &self.diagram {
            println!("diagram: {}", d.display());
        }
        println!("reproduce: {}", self.reproduce(env));
    }
}

/// `dsim sweep --shrink`: the first failing seed of each distinct failing check, shrunk for
/// that check, in the order the checks first failed.
pub fn after_sweep(
    env: &Env,
    file: &Path,
    scn: &Scenario,
    result: &scenarios::harness::sweep::SweepResult,
    jobs: Option<usize>,
    quiet: bool,
) -> Result<Vec<Done>, i32> {
    use scenarios::harness::sweep::SeedOutcome;
    let mut firsts: Vec<(String, u64)> = Vec::new();
    for (seed, o) in &result.outcomes {
        if let SeedOutcome::Fail(checks) = o {
            for c in checks {
                if !firsts.iter().any(|(name, _)| name == c) {
                    firsts.push((c.clone(), *seed));
                }
            }
        }
    }
    let mut done = Vec::new();
    for (check, seed) in firsts {
        let stem = file
            .file_stem()
            .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
        let how = How {
            check: Some(check.clone()),
            out: Some(file.with_file_name(format!("{stem}.seed{seed}.{check}.shrunk.ron"))),
            budget_runs: shrink::BUDGET_RUNS_DEFAULT,
            batch: shrink::BATCH_DEFAULT,
            other_seeds: shrink::OTHER_SEEDS_DEFAULT,
            jobs,
            diagram: true,
            quiet,
        };
        done.push(shrink_one(env, file, scn, seed, &how)?);
    }
    Ok(done)
}
