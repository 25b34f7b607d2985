//! Running candidates: each one written as a scenario file, read back through the registry
//! (so an invalid one is never run, and what runs is exactly what would be written), run at
//! its own seed, and judged by whether the target check still fails.
//!
//! Candidates come in an ordered list; they are run in fixed-size batches on worker threads
//! (each simulation single-threaded) and the *first* failing one in list order wins, so the
//! outcome never depends on the number of threads or on which run finishes first. Every
//! candidate of a batch is charged to the run budget, whether it ran or was skipped because
//! an earlier one in the batch had already failed — so the budget, too, is spent the same way
//! on any machine.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sim_core::check::Verdict;

use super::size::Size;
use crate::harness::panic::catch;
use crate::harness::{run, RunOptions};
use crate::registry::Registry;
use crate::{write, Scenario};

/// Where a shrink is: what [`super::shrink`]'s progress callback sees.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Candidate runs charged so far (see the module comment).
    pub runs: u64,
    pub budget: u64,
    /// The pass at work: `faults`, `clients`, `time`, ...
    pub pass: &'static str,
    /// The smallest failing scenario so far.
    pub best: Size,
}

pub(super) struct Evaluator<'a> {
    registry: &'a Registry,
    pub(super) target: String,
    pub(super) budget: u64,
    pub(super) runs: u64,
    batch: usize,
    jobs: usize,
    /// The smallest failing scenario so far, as read back from `best_text`.
    pub(super) best: Scenario,
    pub(super) best_text: String,
    pub(super) best_size: Size,
    pub(super) pass: &'static str,
    /// Seeds the fault pass may move the run to besides its own (see `faults::remove`).
    pub(super) other_seeds: Vec<u64>,
    /// Texts already run (or found invalid): never run twice.
    tried: BTreeSet<String>,
    progress: &'a (dyn Fn(&Progress) + Sync),
}

impl<'a> Evaluator<'a> {
    pub(super) fn new(
        registry: &'a Registry,
        target: &str,
        best: Scenario,
        best_size: Size,
        limits: (u64, usize, usize),
        progress: &'a (dyn Fn(&Progress) + Sync),
    ) -> Evaluator<'a> {
        let (budget, batch, jobs) = limits;
        let best_text = write::scenario(&best, &[]);
        Evaluator {
            registry,
            target: target.to_string(),
            budget,
            runs: 0,
            batch: batch.max(1),
            jobs: jobs.max(1),
            best,
            best_text,
            best_size,
            pass: "materialize",
            other_seeds: Vec::new(),
            tried: BTreeSet::new(),
            progress,
        }
    }

    /// The best's seed, then the first `k` other seeds (each once, in their order).
    pub(super) fn seeds_to_try(&self, k: usize) -> Vec<u64> {
        let own = self.best.config.seed;
        let others = &self.other_seeds[..k.min(self.other_seeds.len())];
        std::iter::once(own)
            .chain(others.iter().copied().filter(|&s| s != own))
            .collect()
    }

    pub(super) fn exhausted(&self) -> bool {
        self.runs >= self.budget
    }

    pub(super) fn report(&self) {
        (self.progress)(&Progress {
            runs: self.runs,
            budget: self.budget,
            pass: self.pass,
            best: self.best_size.clone(),
        });
    }

    /// Reads a candidate back from its written form; `None` if it is not a valid scenario.
    fn realize(&self, c: &Scenario) -> Option<(String, Scenario)> {
        let text = write::scenario(c, &[]);
        let back = crate::parse(&text, "<shrink candidate>", self.registry).ok()?;
        Some((text, back))
    }

    /// Whether `s` fails the target check (a panic or an undecided check is not the failure
    /// being shrunk), and the size of its run.
    pub(super) fn fails(&self, s: &Scenario) -> Option<Size> {
        let target = self.target.as_str();
        catch(|| {
            let r = run(s, RunOptions::default());
            let failed = r.check(target).is_some_and(|c| c.verdict == Verdict::Fail);
            failed.then(|| Size::of(s, &r))
        })
        .ok()
        .flatten()
    }

    /// Tries `candidates` in order and accepts the first that still fails the target check
    /// (it becomes the best so far); returns its index. Invalid candidates, and ones already
    /// tried, are passed over without a run. `None` when none fails or the budget ran out.
    pub(super) fn first(&mut self, candidates: Vec<Scenario>) -> Option<usize> {
        let mut queue: Vec<(usize, String, Scenario)> = Vec::new();
        let mut queued: BTreeSet<&str> = BTreeSet::new();
        let realized: Vec<Option<(String, Scenario)>> =
            candidates.iter().map(|c| self.realize(c)).collect();
        for (i, r) in realized.iter().enumerate() {
            if let Some((text, s)) = r {
                let fresh = text != &self.best_text && !self.tried.contains(text);
                if fresh && queued.insert(text) {
                    queue.push((i, text.clone(), s.clone()));
                }
            }
        }
        for chunk in queue.chunks(self.batch) {
            let room = self.budget.saturating_sub(self.runs) as usize;
            if room == 0 {
                return None;
            }
            let chunk = &chunk[..chunk.len().min(room)];
            self.runs += chunk.len() as u64;
            self.tried.extend(chunk.iter().map(|(_, t, _)| t.clone()));
            let found = self.batch_first(chunk);
            if let Some((k, size)) = found {
                let (i, text, s) = &chunk[k];
                self.best = s.clone();
                self.best_text = text.clone();
                self.best_size = size;
                self.report();
                return Some(*i);
            }
            self.report();
        }
        None
    }

    /// Runs a batch on the worker threads; the lowest position that fails, with its size.
    fn batch_first(&self, chunk: &[(usize, String, Scenario)]) -> Option<(usize, Size)> {
        let next = AtomicUsize::new(0);
        let lowest = AtomicUsize::new(usize::MAX);
        let results: Mutex<Vec<Option<Size>>> = Mutex::new(vec![None; chunk.len()]);
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.min(chunk.len()) {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= chunk.len() {
                        break;
                    }
                    // A later candidate cannot win once an earlier one failed.
                    if k > lowest.load(Ordering::Relaxed) {
                        continue;
                    }
                    if let Some(size) = self.fails(&chunk[k].2) {
                        lowest.fetch_min(k, Ordering::Relaxed);
                        results.lock().expect("no panic holds the lock")[k] = Some(size);
                    }
                });
            }
        });
        let results = results.into_inner().expect("workers finished");
        results
            .into_iter()
            .enumerate()
            .find_map(|(k, s)| s.map(|s| (k, s)))
    }
}
