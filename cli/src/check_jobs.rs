//! `--jobs N`: a history's keys checked on N threads.
//!
//! The checker's [`Parallel`] does the bookkeeping that makes the result the one-thread result
//! — the same verdict, the same failing key, the same explanation — and this module only
//! starts the threads (the simulation crates start none). One job is the one-thread check
//! itself.

use std::time::{Duration, Instant};

use scenarios::history::read::{run_check, Prepared};
use sim_core::check::linearizability::{check_ops, Budget, LinOp, LinReport, Parallel, Semantics};

/// Checks `ops` under `sem` on `jobs` threads, as [`check_ops`] does on one; `should_stop` is
/// asked once a round on every thread.
pub fn check_ops_jobs(
    ops: &[LinOp],
    sem: &Semantics,
    budget: &Budget,
    jobs: usize,
    should_stop: &(dyn Fn() -> bool + Sync),
) -> LinReport {
    if jobs <= 1 {
        return check_ops(ops, sem, budget, Some(&mut || should_stop()));
    }
    let parallel = Parallel::new(ops, sem, budget, jobs);
    let threads = jobs.min(parallel.keys());
    if threads <= 1 {
        return check_ops(ops, sem, budget, Some(&mut || should_stop()));
    }
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| parallel.work(should_stop));
        }
    });
    parallel.finish(Some(&mut || should_stop()))
}

/// Checks a prepared history on `jobs` threads, giving up after `time_limit`.
pub fn run_check_jobs(
    p: &Prepared,
    budget: &Budget,
    time_limit: Option<Duration>,
    jobs: usize,
) -> (LinReport, Duration) {
    if jobs <= 1 {
        return run_check(p, budget, time_limit);
    }
    let start = Instant::now();
    let deadline = time_limit.map(|d| start + d);
    let stop = || deadline.is_some_and(|d| Instant::now() >= d);
    let report = check_ops_jobs(&p.history.ops, &p.semantics, budget, jobs, &stop);
    (report, start.elapsed())
}
