//! Checking keys on several threads with the one-thread result.
//!
//! [`check_ops`](super::check_ops) searches keys round-robin and reports the first key that
//! fails in that order. A key's turns depend only on the key and the round, so each key can run
//! alone on any thread, recording its turns; replaying the records in round-robin order then
//! gives exactly what one thread would have reported — the same failing key, the same
//! explanation, the same step count. A key stops early once a failure earlier in round-robin
//! order is known, since one thread would have stopped before its next turn.
//!
//! Budgets are where threads could differ: one thread counts steps over all keys and frees the
//! biggest memo when memory runs out. So each key runs with an equal share of the memory budget,
//! and when any key runs out of its share, or the replay shows that one thread would have run
//! out of steps or memory, [`Parallel::finish`] runs the check on one thread instead. The
//! result is always the one-thread result; threads only make it sooner.
//!
//! This module starts no threads: the caller runs [`Parallel::work`] on as many as it likes.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::keys::{self, KeyRun, Turn};
use super::schedule::{self, finish, give_up, key_runs};
use super::{Budget, LinOp, LinReport, LinVerdict, Semantics, UnknownReason};

/// One turn of a key, as run alone.
#[derive(Clone, Copy, Debug)]
struct Record {
    round: u32,
    steps: u64,
    configurations: u64,
    turn: Turn,
}

/// How a key's lone run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    NotRun,
    Decided,
    /// A failure earlier in round-robin order made the rest useless.
    Cancelled,
    /// Stopped by the caller.
    Stopped,
    /// Ran out of its memory share or of the step budget: the check runs on one thread.
    Budget,
}

struct Task<'a> {
    run: KeyRun<'a>,
    records: Vec<Record>,
    peak_bytes: u64,
    end: End,
}

/// A check whose keys run on several threads (see the module comment).
pub struct Parallel<'a> {
    ops: &'a [LinOp],
    sem: &'a Semantics,
    budget: &'a Budget,
    jobs: u64,
    tasks: Vec<Mutex<Task<'a>>>,
    next: AtomicUsize,
    /// The earliest failing turn known, in round-robin order ([`order`]), or `u64::MAX`.
    first_failure: AtomicU64,
    /// Some key ran out of budget: stop everything, [`Parallel::finish`] starts over.
    over_budget: AtomicBool,
}

/// A turn's position in round-robin order: round, then key, then exact before relaxed.
fn order(round: u32, key: usize, relaxed: bool) -> u64 {
    (u64::from(round.min((1 << 23) - 1)) << 40)
        | ((key as u64 & ((1 << 39) - 1)) << 1)
        | u64::from(relaxed)
}

impl<'a> Parallel<'a> {
    /// Prepares the check of `ops` under `sem` within `budget`, for `jobs` threads.
    pub fn new(
        ops: &'a [LinOp],
        sem: &'a Semantics,
        budget: &'a Budget,
        jobs: usize,
    ) -> Parallel<'a> {
        assert!(budget.quantum_steps > 0);
        let tasks = key_runs(ops, sem)
            .into_iter()
            .map(|run| {
                Mutex::new(Task {
                    run,
                    records: Vec::new(),
                    peak_bytes: 0,
                    end: End::NotRun,
                })
            })
            .collect();
        Parallel {
            ops,
            sem,
            budget,
            jobs: jobs.max(1) as u64,
            tasks,
            next: AtomicUsize::new(0),
            first_failure: AtomicU64::new(u64::MAX),
            over_budget: AtomicBool::new(false),
        }
    }

    /// The number of keys: more threads than this have nothing to do.
    pub fn keys(&self) -> usize {
        self.tasks.len()
    }

    /// Checks keys until none is left; call it on each of the threads. `should_stop` is asked
    /// once a round, as by [`check_ops`](super::check_ops).
    pub fn work(&self, should_stop: &(dyn Fn() -> bool + Sync)) {
        loop {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(task) = self.tasks.get(k) else {
                return;
            };
            let mut task = task.lock().expect("a key's task is not poisoned");
            task.end = self.run_alone(k, &mut task, should_stop);
        }
    }

    /// Runs key `k` alone, recording its turns.
    fn run_alone(
        &self,
        k: usize,
        task: &mut Task<'a>,
        should_stop: &(dyn Fn() -> bool + Sync),
    ) -> End {
        let share = self.budget.memory_bytes_max / self.jobs;
        let mut steps = 0u64;
        task.run.start(self.ops, self.sem, k as u64);
        for round in 0u32.. {
            if self.over_budget.load(Ordering::Relaxed) {
                return End::Budget;
            }
            if should_stop() {
                return End::Stopped;
            }
            let quantum = keys::quantum(self.budget, round);
            for relaxed in [false, true] {
                if !task.run.has(relaxed) {
                    continue;
                }
                if order(round, k, relaxed) > self.first_failure.load(Ordering::Relaxed) {
                    return End::Cancelled;
                }
                let (turn, taken, configurations) = task.run.turn(relaxed, quantum, share);
                steps += taken;
                task.peak_bytes = task.peak_bytes.max(task.run.memo_bytes());
                task.records.push(Record {
                    round,
                    steps: taken,
                    configurations,
                    turn,
                });
                match turn {
                    Turn::Running => {}
                    Turn::Linearizable => return End::Decided,
                    Turn::Violation => {
                        self.first_failure
                            .fetch_min(order(round, k, relaxed), Ordering::Relaxed);
                        return End::Decided;
                    }
                    // With its share of memory a search may run out where one thread would not.
                    Turn::MemoryFull | Turn::RelaxedMemoryFull => {
                        self.over_budget.store(true, Ordering::Relaxed);
                        return End::Budget;
                    }
                }
                if steps >= self.budget.steps_max {
                    self.over_budget.store(true, Ordering::Relaxed);
                    return End::Budget;
                }
            }
        }
        unreachable!("a key's run ends within its step budget")
    }

    /// The report, once every [`Parallel::work`] has returned: what
    /// [`check_ops`](super::check_ops) gives on one thread.
    pub fn finish(self, should_stop: Option<&mut dyn FnMut() -> bool>) -> LinReport {
        let mut tasks: Vec<Task> = self
            .tasks
            .into_iter()
            .map(|t| t.into_inner().expect("a key's task is not poisoned"))
            .collect();
        let peaks: u64 = tasks.iter().map(|t| t.peak_bytes).sum();
        let over = tasks.iter().any(|t| t.end == End::Budget);
        if over || peaks > self.budget.memory_bytes_max {
            drop(tasks);
            return schedule::sequential(self.ops, self.sem, self.budget, should_stop);
        }
        match replay(self.ops, self.sem, self.budget, &mut tasks) {
            Some(report) => report,
            None => {
                drop(tasks);
                schedule::sequential(self.ops, self.sem, self.budget, should_stop)
            }
        }
    }
}

/// The one-thread report from the keys' records, or `None` if one thread would have run out of
/// steps before the end (see [`schedule::sequential`]).
fn replay(
    ops: &[LinOp],
    sem: &Semantics,
    budget: &Budget,
    tasks: &mut [Task],
) -> Option<LinReport> {
    let mut report = schedule::report(ops.len(), tasks.len());
    let mut at = vec![0usize; tasks.len()];
    let mut live: Vec<usize> = (0..tasks.len()).collect();
    for round in 0u32.. {
        if live.is_empty() {
            break;
        }
        for &k in &live {
            let task = &mut tasks[k];
            while let Some(r) = task.records.get(at[k]).filter(|r| r.round == round) {
                if report.steps >= budget.steps_max || report.steps + r.steps > budget.steps_max {
                    return None;
                }
                at[k] += 1;
                report.steps += r.steps;
                report.configurations += r.configurations;
                if r.turn == Turn::Violation {
                    if budget.explain {
                        report.violation = Some(task.run.violation(ops, sem, budget));
                    }
                    report.verdict = LinVerdict::NotLinearizable;
                    return Some(report);
                }
            }
        }
        live.retain(|&k| {
            let task = &mut tasks[k];
            let decided = at[k] > 0 && task.records[at[k] - 1].turn == Turn::Linearizable;
            let more = at[k] < task.records.len();
            !decided && more
        });
        // Keys with no turns left and no decision were stopped by the caller.
    }
    for task in tasks.iter_mut() {
        if task.end == End::Stopped || task.end == End::NotRun {
            give_up(&mut task.run, UnknownReason::Stopped, &mut report);
        }
    }
    Some(finish(report))
}
