//! Sweeps: one scenario over many seeds, one simulation per worker thread at a time (each
//! simulation stays single-threaded), panics caught with their seed.
//!
//! Results do not depend on the number of workers or on scheduling: every seed's run is
//! independent, and results are reported in seed order. Each failure keeps its first failing
//! check's detail, and failures are grouped by [`signature`] (the failing check and that
//! detail's first line with its numbers blanked), so that a sweep with many failing seeds
//! reads as a few distinct bugs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use sim_core::check::Verdict;

use sim_core::coverage::Coverage;

use super::panic::{catch, quiet_panics};
use super::{run, RunOptions};
use crate::coverage::SweepCoverage;
use crate::Scenario;

/// The outcome of one seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Pass,
    /// These checks failed.
    Fail(Vec<String>),
    Unknown,
    /// The simulation panicked: the message and where.
    Panic(String),
}

impl SeedOutcome {
    /// A check failed or the simulation panicked.
    pub fn is_failure(&self) -> bool {
        matches!(self, SeedOutcome::Fail(_) | SeedOutcome::Panic(_))
    }
}

/// What went wrong at one failing seed: its first failing check (`None` for a panic) and
/// that check's detail (or the panic's message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedFailure {
    pub seed: u64,
    pub check: Option<String>,
    pub detail: String,
    /// What the scenario's swarm drew for this seed, as RON (see [`swarm_drawn`]).
    pub swarm: Option<String>,
}

/// What `scn`'s swarm (if any) draws at `seed`, in the scenario's vocabulary.
pub fn swarm_drawn(scn: &Scenario, seed: u64) -> Option<String> {
    let swarm = scn.swarm.as_ref()?;
    let config = super::config_for(scn, Some(seed));
    Some(crate::write::swarm_drawn(swarm, &config))
}

impl SeedFailure {
    /// The failure's [`signature`].
    pub fn signature(&self) -> String {
        signature(self.check.as_deref(), &self.detail)
    }
}

/// What groups failures into one bug: the failing check (or `panic`) and the first line of
/// its detail with every run of digits replaced by `N` — so that the same violation at other
/// times, nodes, keys or seeds reads the same. E.g. `election-safety: two leaders in term N:
/// nN and nN`.
pub fn signature(check: Option<&str>, detail: &str) -> String {
    let line = detail.lines().next().unwrap_or("");
    let mut blanked = String::with_capacity(line.len());
    let mut in_number = false;
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                blanked.push('N');
            }
            in_number = true;
        } else {
            blanked.push(c);
            in_number = false;
        }
    }
    format!("{}: {}", check.unwrap_or("panic"), blanked.trim())
}

/// The result of a sweep, in seed order.
#[derive(Clone, Debug)]
pub struct SweepResult {
    pub outcomes: Vec<(u64, SeedOutcome)>,
    /// One entry per failing seed (a failed check or a panic), in seed order.
    pub failures: Vec<SeedFailure>,
    /// Wall-clock seconds (for reports only; nothing in a run reads it).
    pub wall_s: f64,
    /// The situations reached, by how many seeds (a seed that panicked reached none).
    pub coverage: SweepCoverage,
    /// The scenario's `expect_reached`, and those of them that no seed reached.
    pub expect_reached: Vec<String>,
    pub not_reached: Vec<String>,
}

impl SweepResult {
    /// Seeds whose verdict is fail (a check failed or the simulation panicked).
    pub fn failing_seeds(&self) -> Vec<u64> {
        self.seeds_where(SeedOutcome::is_failure)
    }

    /// Seeds whose outcome satisfies `f`.
    pub fn seeds_where(&self, f: impl Fn(&SeedOutcome) -> bool) -> Vec<u64> {
        self.outcomes
            .iter()
            .filter(|(_, o)| f(o))
            .map(|(s, _)| *s)
            .collect()
    }
}

/// The seeds of `range` (`A..B`) in shard `shard` (`I/N`: every N-th seed from the I-th).
pub fn seeds_of(range: (u64, u64), shard: Option<(u64, u64)>) -> Vec<u64> {
    let (i, n) = shard.unwrap_or((0, 1));
    (range.0..range.1)
        .filter(|s| (s - range.0) % n == i)
        .collect()
}

/// What one seed's run says about the sweep.
pub fn outcome_of(scn: &Scenario, seed: u64) -> SeedOutcome {
    judge(scn, seed).0
}

/// One seed's outcome and, when it failed, what went wrong.
pub fn judge(scn: &Scenario, seed: u64) -> (SeedOutcome, Option<SeedFailure>) {
    let (outcome, failure, _) = judge_covered(scn, seed);
    (outcome, failure)
}

/// [`judge`], with the situations the run reached (none if it panicked).
pub fn judge_covered(scn: &Scenario, seed: u64) -> (SeedOutcome, Option<SeedFailure>, Coverage) {
    match catch(|| {
        run(
            scn,
            RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
    }) {
        Err(msg) => {
            let failure = SeedFailure {
                seed,
                check: None,
                detail: msg.clone(),
                swarm: swarm_drawn(scn, seed),
            };
            (SeedOutcome::Panic(msg), Some(failure), Coverage::default())
        }
        Ok(mut r) => match r.verdict {
            Verdict::Pass | Verdict::Unknown => {
                super::spare::return_operations(std::mem::take(&mut r.history.ops));
                let outcome = if r.verdict == Verdict::Pass {
                    SeedOutcome::Pass
                } else {
                    SeedOutcome::Unknown
                };
                (outcome, None, r.coverage)
            }
            Verdict::Fail => {
                let first = r
                    .checks
                    .iter()
                    .find(|c| c.verdict == Verdict::Fail)
                    .expect("a failed verdict has a failed check");
                let failure = SeedFailure {
                    seed,
                    check: Some(first.name.clone()),
                    detail: first.detail.clone(),
                    swarm: swarm_drawn(scn, seed),
                };
                let names = r.failed_checks().into_iter().map(String::from).collect();
                (SeedOutcome::Fail(names), Some(failure), r.coverage)
            }
        },
    }
}

/// Runs every seed of `seeds` on `jobs` threads. `progress` is called after each seed.
pub fn sweep(
    scn: &Scenario,
    seeds: &[u64],
    jobs: usize,
    progress: &(dyn Fn(&SeedOutcome) + Sync),
) -> SweepResult {
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    type Judged = (SeedOutcome, Option<SeedFailure>, Coverage);
    let results: Mutex<Vec<Option<Judged>>> = Mutex::new(vec![None; seeds.len()]);
    quiet_panics();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(i) else { break };
                let judged = judge_covered(scn, seed);
                progress(&judged.0);
                results
                    .lock()
                    .expect("no worker panics while holding the lock")[i] = Some(judged);
            });
        }
    });
    let mut outcomes = Vec::with_capacity(seeds.len());
    let mut failures = Vec::new();
    let mut coverage = SweepCoverage::new(scn.protocol.info().situations);
    for (judged, &seed) in results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .zip(seeds)
    {
        let (outcome, failure, covered) = judged.expect("every seed ran");
        outcomes.push((seed, outcome));
        failures.extend(failure);
        coverage.add(seed, &covered);
    }
    let not_reached = coverage.missing(&scn.expect_reached);
    SweepResult {
        outcomes,
        failures,
        wall_s: start.elapsed().as_secs_f64(),
        coverage,
        expect_reached: scn.expect_reached.clone(),
        not_reached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_blank_numbers_and_keep_the_first_line() {
        let a = signature(
            Some("election-safety"),
            "two leaders in term 7: n1 and n4\nsecond line",
        );
        let b = signature(Some("election-safety"), "two leaders in term 12: n0 and n3");
        assert_eq!(a, "election-safety: two leaders in term N: nN and nN");
        assert_eq!(a, b, "the same violation elsewhere is the same bug");
        assert_ne!(
            a,
            signature(Some("log-matching"), "two leaders in term 7: n1 and n4")
        );
        assert_eq!(
            signature(None, "index out of bounds: 3 >= 3"),
            "panic: index out of bounds: N >= N"
        );
    }

    #[test]
    fn shards_partition_a_range() {
        assert_eq!(seeds_of((10, 20), Some((1, 3))), vec![11, 14, 17]);
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| seeds_of((10, 20), Some((i, 3))))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (10..20).collect::<Vec<_>>());
    }
}
