//! Shrinking a failing run: from a seed that fails a check to the smallest explicit scenario
//! that still fails it — a few faults and operations instead of a nemesis's hundreds.
//!
//! 1. **Materialize** (`explicit`): run the scenario at the seed, pick the check (the first
//!    that fails, or the one asked for), and write the run out explicitly — the nemesis's plan
//!    as a `faults:` schedule, the clients' drawn operations as a `Script`, only that check,
//!    `expect: Violation([check])`. It is the same run.
//! 2. **Reduce**, in rounds until a round changes nothing: an earlier end (`shape`), fewer
//!    faults by delta debugging (`faults`; where it stalls, each smaller schedule is also
//!    tried at a few other seeds, and the shrunk file keeps the seed it fails at), fewer
//!    clients, keys and operations (`clients`), simpler faults, fewer nodes, clients without
//!    operations removed.
//!
//! Every candidate is a whole scenario, written as a file and read back through the registry
//! before it runs — an invalid one is never run, and the result is exactly the text written
//! — and a full deterministic run at its seed; it is kept when the same check still fails.
//! Candidates run in fixed-size batches on worker threads and the first failing one in list
//! order wins (`eval`), so the result is the same file, byte for byte, whatever the thread
//! count; the run budget caps the work and the best so far is returned when it runs out.
//!
//! This is what `dsim shrink` and `dsim sweep --shrink` call; a user's test reaches it the
//! same way with its own registry (`docs/your-own-protocol.md`).

mod clients;
mod ddmin;
mod eval;
mod explicit;
mod faults;
mod shape;
mod size;

use std::fmt;

pub use eval::Progress;
pub use size::Size;

use crate::registry::Registry;
use crate::{write, Scenario};

/// How to shrink.
#[derive(Clone, Debug)]
pub struct ShrinkOptions {
    /// The failing seed.
    pub seed: u64,
    /// The check that must keep failing; `None`: the first check that fails at the seed.
    pub check: Option<String>,
    /// Most candidate runs (each a full simulation); the best so far is returned after.
    pub budget_runs: u64,
    /// Candidates run as one batch (the first failing one in the batch wins). Part of what
    /// determines the result, unlike `jobs`.
    pub batch: usize,
    /// Other seeds the shrunk run may move to (`seed + 1` to `seed + other_seeds`): when
    /// delta debugging over the faults stalls at one seed, each smaller schedule is also
    /// tried at the first 8 of these, then (while more than a few faults are left) at the
    /// first 64, 512, ... (see `faults::remove`), and the shrunk file carries the seed it
    /// fails at. 0 keeps the failing seed; more than [`OTHER_SEEDS_MAX`] counts as that many.
    pub other_seeds: u64,
    /// Worker threads; the result does not depend on it.
    pub jobs: usize,
    /// Where the scenario came from (a file path), named in the shrunk file's comments.
    pub origin: String,
}

impl ShrinkOptions {
    /// Shrinking `origin` at `seed` with the default budget (20 000 runs), batches of 8, up
    /// to 512 other seeds, and one worker per core.
    pub fn new(seed: u64, origin: impl Into<String>) -> ShrinkOptions {
        ShrinkOptions {
            seed,
            check: None,
            budget_runs: BUDGET_RUNS_DEFAULT,
            batch: BATCH_DEFAULT,
            other_seeds: OTHER_SEEDS_DEFAULT,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            origin: origin.into(),
        }
    }
}

/// Candidate runs a shrink may spend unless told otherwise.
pub const BUDGET_RUNS_DEFAULT: u64 = 20_000;
/// Other seeds a shrink may move the run to unless told otherwise.
pub const OTHER_SEEDS_DEFAULT: u64 = 512;
/// The most other seeds a shrink considers: each costs at least one run of every candidate
/// tried at it, so more could never be used within a budget, and the list is kept in memory.
pub const OTHER_SEEDS_MAX: u64 = 1 << 16;
/// Candidates per batch unless told otherwise.
pub const BATCH_DEFAULT: usize = 8;

/// A shrunk failure.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The check that fails, before and after.
    pub check: String,
    /// The failing seed shrunk from.
    pub seed: u64,
    /// The seed the shrunk scenario runs at (its `seed:`): the failing seed, or one of the
    /// other seeds its smaller fault schedule fails at (`ShrinkOptions::other_seeds`).
    pub shrunk_seed: u64,
    /// The original run's size (its faults counted as planned actions).
    pub before: Size,
    /// The shrunk run's size.
    pub after: Size,
    /// Candidate runs charged.
    pub runs: u64,
    /// True when the budget ran out before a round changed nothing.
    pub budget_exhausted: bool,
    /// The shrunk scenario, as read back from `text`.
    pub scenario: Scenario,
    /// The shrunk scenario file: commented RON that reproduces the failure.
    pub text: String,
}

/// Why a run could not be shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShrinkError {
    /// `--check` names a check the scenario does not run.
    UnknownCheck { name: String, running: Vec<String> },
    /// The seed does not fail (the check asked for, with its verdict, or any check).
    NotFailing {
        seed: u64,
        check: Option<(String, &'static str)>,
        failed: Vec<String>,
    },
    /// The original run panicked: there is nothing to shrink towards but the panic.
    Panicked { seed: u64, message: String },
    /// The explicit form of the run did not fail the check (a bug in dsim: say so).
    NotReproduced { check: String },
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkError::UnknownCheck { name, running } => write!(
                f,
                "the scenario does not run the check `{name}` (it runs {})",
                running
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ShrinkError::NotFailing {
                seed,
                check: Some((name, verdict)),
                failed,
            } => {
                write!(f, "check `{name}` does not fail at seed {seed} (it is `{verdict}`)")?;
                if !failed.is_empty() {
                    write!(f, "; failing there: {}", failed.join(", "))?;
                }
                Ok(())
            }
            ShrinkError::NotFailing { seed, .. } => {
                write!(f, "no check fails at seed {seed}: there is nothing to shrink")
            }
            ShrinkError::Panicked { seed, message } => {
                write!(f, "the run at seed {seed} panicked: {message}")
            }
            ShrinkError::NotReproduced { check } => write!(
                f,
                "the run written out explicitly no longer fails `{check}` (a dsim bug: please report it with the scenario and seed)"
            ),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// Rounds of passes at most; a round that changes nothing ends the shrink earlier.
const ROUNDS_MAX: usize = 6;

/// Shrinks `scn`'s failing run at `opts.seed` (see the module comment); `progress` is called
/// after every batch of candidates.
pub fn shrink(
    scn: &Scenario,
    registry: &Registry,
    opts: &ShrinkOptions,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Shrunk, ShrinkError> {
    super::panic::quiet_panics();
    let start = explicit::materialize(scn, opts.seed, opts.check.as_deref())?;
    let check = start.check.clone();
    let limits = (opts.budget_runs, opts.batch, opts.jobs);
    // The explicit form, read back as every candidate is, must fail as the original did.
    let text = write::scenario(&start.explicit, &[]);
    let explicit =
        crate::parse(&text, "<explicit>", registry).map_err(|_| ShrinkError::NotReproduced {
            check: check.clone(),
        })?;
    let probe = eval::Evaluator::new(
        registry,
        &check,
        explicit.clone(),
        Size::default(),
        limits,
        progress,
    );
    let Some(size) = probe.fails(&explicit) else {
        return Err(ShrinkError::NotReproduced { check });
    };
    let mut ev = eval::Evaluator::new(registry, &check, explicit, size, limits, progress);
    ev.other_seeds = (1..=opts.other_seeds.min(OTHER_SEEDS_MAX))
        .map(|k| opts.seed.wrapping_add(k))
        .collect();
    ev.report();
    for _ in 0..ROUNDS_MAX {
        let before = ev.best_text.clone();
        shape::earlier_end(&mut ev);
        faults::remove(&mut ev);
        clients::reduce(&mut ev);
        faults::simplify(&mut ev);
        shape::fewer_nodes(&mut ev);
        clients::compact(&mut ev);
        if ev.exhausted() || ev.best_text == before {
            break;
        }
    }
    shape::round_times(&mut ev);
    let after = ev.best_size.clone();
    let shrunk_seed = ev.best.config.seed;
    let moved = if shrunk_seed == opts.seed {
        String::new()
    } else {
        format!(" (at seed {shrunk_seed}, where its fewer faults fail)")
    };
    let header = [
        format!(
            "Shrunk from `{}` at seed {} by dsim: the check `{check}` still fails{moved}.",
            opts.origin, opts.seed
        ),
        format!("before: {}", start.before),
        format!("after:  {after} ({} candidate runs)", ev.runs),
        "The faults it needs are the schedule below (no nemesis); each client's operations are"
            .into(),
        "listed in its `Script`. Running this file reproduces the failure: `expect` names it."
            .into(),
    ];
    let lines: Vec<&str> = header.iter().map(String::as_str).collect();
    let text = write::scenario(&ev.best, &lines);
    let scenario = crate::parse(&text, "<shrunk>", registry)
        .expect("the shrunk scenario reads back: every candidate did");
    Ok(Shrunk {
        check,
        seed: opts.seed,
        shrunk_seed,
        before: start.before,
        after,
        runs: ev.runs,
        budget_exhausted: ev.exhausted(),
        scenario,
        text,
    })
}
