//! The one-thread schedule of [`super::check_ops`]: keys in turn, a quantum of steps each.
//!
//! Keys are searched round-robin in key order: in each round, every live key's exact search
//! and then its relaxed search get one quantum ([`keys::quantum`], growing round by round).
//! The check stops at the first key that fails, so a cheap violation is found even when
//! another key is very expensive, and the result is still deterministic. The step budget is
//! counted over all keys; the memory budget over the memos alive at once — when it is reached,
//! the biggest memo is dropped and its key becomes undecided.

use std::collections::BTreeMap;

use super::keys::{self, KeyRun, Turn};
use super::KeyUnknown;
use super::{Budget, LinOp, LinReport, LinVerdict, Semantics, UnknownReason};

/// The keys of `ops` in key order, each with its operations that can constrain it under `sem`
/// ([`keys::constrains`]) and the count of all of them.
pub(super) fn key_runs(ops: &[LinOp], sem: &Semantics) -> Vec<KeyRun> {
    if let Some(first) = ops.first() {
        // One key (a single register's history): no map.
        if let Some(members) = one_key(ops, &first.key, sem) {
            return vec![KeyRun::new(first.key.clone(), ops.len(), members)];
        }
    }
    let mut by_key: BTreeMap<&super::Value, (usize, Vec<usize>)> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let (operations, members) = by_key.entry(&op.key).or_default();
        *operations += 1;
        if keys::constrains(op, sem) {
            members.push(i);
        }
    }
    by_key
        .into_iter()
        .map(|(key, (operations, members))| KeyRun::new(key.clone(), operations, members))
        .collect()
}

/// The operations of `ops` that can constrain their key, if all are on `key`.
fn one_key(ops: &[LinOp], key: &super::Value, sem: &Semantics) -> Option<Vec<usize>> {
    let mut members = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if !same_key(&op.key, key) {
            return None;
        }
        if keys::constrains(op, sem) {
            members.push(i);
        }
    }
    Some(members)
}

/// `a == b`, with the common cases (one register, integer keys) first.
#[inline]
fn same_key(a: &super::Value, b: &super::Value) -> bool {
    use super::Value::{Int, Nil};
    match (a, b) {
        (Nil, Nil) => true,
        (Int(x), Int(y)) => x == y,
        _ => a == b,
    }
}

/// An empty report of `keys` keys over `ops` operations.
pub(super) fn report(operations: usize, keys: usize) -> LinReport {
    LinReport {
        verdict: LinVerdict::Linearizable,
        operations,
        keys,
        steps: 0,
        configurations: 0,
        violation: None,
        unknown: Vec::new(),
    }
}

/// Checks the keys of `ops` one at a time, round-robin (see the module comment).
pub(super) fn sequential(
    ops: &[LinOp],
    sem: &Semantics,
    budget: &Budget,
    mut should_stop: Option<&mut dyn FnMut() -> bool>,
) -> LinReport {
    assert!(budget.quantum_steps > 0);
    let mut runs = key_runs(ops, sem);
    let mut report = report(ops.len(), runs.len());
    let mut live: Vec<usize> = (0..runs.len()).collect();
    // Memo bytes of each key as last seen, and their sum.
    let mut bytes: Vec<u64> = vec![0; runs.len()];
    let mut bytes_total: u64 = 0;
    // Rounds are bounded by the step budget: once the quantum stops growing, every round that
    // does not finish a key spends at least one quantum.
    let rounds_max =
        keys::ramp_rounds(budget) + budget.steps_max / budget.quantum_steps + runs.len() as u64 + 2;
    for round in 0..rounds_max {
        if live.is_empty() {
            break;
        }
        if should_stop.as_mut().is_some_and(|stop| stop()) {
            for &k in &live {
                give_up(&mut runs[k], UnknownReason::Stopped, &mut report);
            }
            live.clear();
            break;
        }
        let quantum = keys::quantum(budget, round as u32);
        for &k in &live {
            runs[k].start(ops, sem, k as u64);
            for relaxed in [false, true] {
                if !runs[k].has(relaxed) {
                    continue; // Decided, or given up to free memory.
                }
                if report.steps >= budget.steps_max {
                    give_up(&mut runs[k], UnknownReason::Steps, &mut report);
                    continue;
                }
                let quota = quantum.min(budget.steps_max - report.steps);
                let room = budget
                    .memory_bytes_max
                    .saturating_sub(bytes_total - bytes[k]);
                let (turn, steps, configurations) = runs[k].turn(relaxed, quota, room);
                report.steps += steps;
                report.configurations += configurations;
                match turn {
                    Turn::Running | Turn::Linearizable | Turn::RelaxedMemoryFull => {}
                    Turn::Violation => {
                        if budget.explain {
                            report.violation = Some(runs[k].violation(ops, sem, budget));
                        }
                        report.verdict = LinVerdict::NotLinearizable;
                        return report;
                    }
                    Turn::MemoryFull => {
                        let victim = biggest(&runs, &live, k);
                        give_up(&mut runs[victim], UnknownReason::Memory, &mut report);
                        bytes_total -= bytes[victim];
                        bytes[victim] = 0;
                    }
                }
                let now = runs[k].memo_bytes();
                bytes_total = bytes_total - bytes[k] + now;
                bytes[k] = now;
            }
        }
        live.retain(|&k| runs[k].live());
    }
    for &k in &live {
        give_up(&mut runs[k], UnknownReason::Steps, &mut report);
    }
    finish(report)
}

/// The live key with the biggest memo (the first in key order on ties), starting from `k`.
fn biggest(runs: &[KeyRun], live: &[usize], k: usize) -> usize {
    let mut victim = k;
    for &o in live {
        if !runs[o].has(false) {
            continue;
        }
        let (a, b) = (runs[o].memo_bytes(), runs[victim].memo_bytes());
        if a > b || (a == b && o < victim) {
            victim = o;
        }
    }
    victim
}

/// Gives up on a key: it is reported undecided (if it was not decided) and its memory freed.
pub(super) fn give_up(run: &mut KeyRun, reason: UnknownReason, report: &mut LinReport) {
    let live = run.live();
    let configurations = run.drop_searches();
    if live {
        report.configurations += configurations;
        report.unknown.push(KeyUnknown {
            key: run.key.clone(),
            reason,
        });
    }
}

/// The verdict of a report whose keys are all decided or given up.
pub(super) fn finish(mut report: LinReport) -> LinReport {
    report.unknown.sort_by(|a, b| a.key.cmp(&b.key));
    if !report.unknown.is_empty() {
        report.verdict = LinVerdict::Unknown;
    }
    report
}
