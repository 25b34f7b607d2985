//! Sweeps: one scenario over many seeds, one simulation per worker thread at a time (each
//! simulation stays single-threaded), panics caught with their seed.
//!
//! Results do not depend on the number of workers or on scheduling: every seed's run is
//! independent, and results are reported in seed order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use sim_core::check::Verdict;

use super::panic::{catch, quiet_panics};
use super::{run, RunOptions};
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

/// The result of a sweep, in seed order.
#[derive(Clone, Debug)]
pub struct SweepResult {
    pub outcomes: Vec<(u64, SeedOutcome)>,
    /// Wall-clock seconds (for reports only; nothing in a run reads it).
    pub wall_s: f64,
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
    match catch(|| {
        run(
            scn,
            RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
    }) {
        Err(msg) => SeedOutcome::Panic(msg),
        Ok(r) => match r.verdict {
            Verdict::Pass => SeedOutcome::Pass,
            Verdict::Unknown => SeedOutcome::Unknown,
            Verdict::Fail => {
                SeedOutcome::Fail(r.failed_checks().into_iter().map(String::from).collect())
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
    let results: Mutex<Vec<Option<SeedOutcome>>> = Mutex::new(vec![None; seeds.len()]);
    quiet_panics();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(i) else { break };
                let outcome = outcome_of(scn, seed);
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

#[cfg(test)]
mod tests {
    use super::*;

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
