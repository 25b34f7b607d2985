//! The one-thread schedule of [`super::check_ops`]: keys in turn, a quantum of steps each.
//!
//! Keys are searched round-robin in key order: in each round, every live key's exact search
//! and then its relaxed search get one quantum ([`keys::quantum`], growing round by round).
//! The check stops at the first key that fails, so a cheap violation is found even when
//! another key is very expensive, and the result is still deterministic. The step budget is
//! counted over all keys; the memory budget over the memos alive at once — when it is reached,
//! the biggest memo is dropped and its key becomes undecided.

use std::hash::{Hash, Hasher};

use super::table::splitmix64;

use super::keys::{self, KeyRun, Turn};
use super::KeyUnknown;
use super::{Budget, LinOp, LinReport, LinVerdict, Semantics, UnknownReason};

/// The keys of `ops` in key order, each with its operations that can constrain it under `sem`
/// ([`keys::constrains`]) and the count of all of them.
pub(super) fn key_runs<'a>(ops: &'a [LinOp], sem: &Semantics) -> Vec<KeyRun<'a>> {
    if let Some(first) = ops.first() {
        // One key (a single register's history): no map.
        if let Some(members) = one_key(ops, &first.key, sem) {
            return vec![KeyRun::new(first.key.clone(), ops.len(), members)];
        }
    }
    // Keys are found through a small open-addressing table (one hash of each operation's key
    // rather than a tree's several comparisons of strings), then put in key order: nothing
    // depends on the table's order. A first pass counts each key's members and notes each
    // operation's group; a second fills member lists allocated at their exact size (growing
    // them one push at a time was a tenth of gathering the keys).
    let mut groups: Vec<KeyGroup> = Vec::new();
    let mut slots: Vec<u32> = vec![EMPTY; 16];
    let mut group_of: Vec<u32> = Vec::with_capacity(ops.len());
    for op in ops {
        let hash = key_hash(&op.key);
        let g = match find_slot(&slots, &groups, hash, &op.key) {
            Ok(g) => g,
            Err(at) => {
                slots[at] = groups.len() as u32;
                groups.push(KeyGroup {
                    key: &op.key,
                    hash,
                    operations: 0,
                    count: 0,
                    members: Vec::new(),
                });
                if groups.len() * 2 > slots.len() {
                    slots = vec![EMPTY; slots.len() * 2];
                    for (g, group) in groups.iter().enumerate() {
                        let Err(at) = find_slot(&slots, &groups, group.hash, group.key) else {
                            unreachable!("keys are distinct")
                        };
                        slots[at] = g as u32;
                    }
                }
                groups.len() - 1
            }
        };
        let group = &mut groups[g];
        group.operations += 1;
        if keys::constrains(op, sem) {
            group.count += 1;
            group_of.push(g as u32);
        } else {
            group_of.push(EMPTY);
        }
    }
    for group in &mut groups {
        group.members = Vec::with_capacity(group.count);
    }
    for (i, &g) in group_of.iter().enumerate() {
        if g != EMPTY {
            groups[g as usize].members.push(i);
        }
    }
    groups.sort_unstable_by(|a, b| a.key.cmp(b.key));
    groups
        .into_iter()
        .map(|g| KeyRun::new(g.key.clone(), g.operations, g.members))
        .collect()
}

/// One key's operations while they are gathered.
struct KeyGroup<'a> {
    key: &'a super::Value,
    hash: u64,
    operations: usize,
    /// Operations that can constrain the key (the members' count, while they are counted).
    count: usize,
    members: Vec<usize>,
}

/// An empty slot of the key table.
const EMPTY: u32 = u32::MAX;

/// The group of `key` (`Ok`) or the empty slot where it goes (`Err`), by linear probing.
fn find_slot(
    slots: &[u32],
    groups: &[KeyGroup<'_>],
    hash: u64,
    key: &super::Value,
) -> Result<usize, usize> {
    let mask = slots.len() - 1;
    let mut at = hash as usize & mask;
    loop {
        let g = slots[at];
        if g == EMPTY {
            return Err(at);
        }
        let group = &groups[g as usize];
        if group.hash == hash && same_key(group.key, key) {
            return Ok(g as usize);
        }
        at = (at + 1) & mask;
    }
}

/// A deterministic hash of a key.
fn key_hash(key: &super::Value) -> u64 {
    let mut h = KeyHasher::default();
    key.hash(&mut h);
    // The table indexes by the low bits: spread the high ones into them.
    splitmix64(h.finish())
}

/// A small deterministic hasher for keys (FxHash's multiply-rotate): no random state, and a
/// few instructions for the short strings and integers keys are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

impl KeyHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// The operations of `ops` that can constrain their key, if all are on `key`.
///
/// This pass is the whole set-up of a one-key history made mostly of operations that cannot
/// constrain it (Knossos's `mongodb-v0-ack-rollback-*`: 703 operations, 21 that count, a third
/// of its check). It is specialised for the key's kind and for what a `fail` means, and takes
/// the operations in blocks of [`BLOCK`], unrolled: an operation that
/// failed costs a test of its key and one of its completion (under
/// [`super::FailMeaning::ObservedOther`] every operation goes through [`keys::constrains`]).
fn one_key(ops: &[LinOp], key: &super::Value, sem: &Semantics) -> Option<Vec<usize>> {
    use super::{FailMeaning, Value};
    let observed = sem.fail == FailMeaning::ObservedOther;
    match (key, observed) {
        (Value::Nil, false) => one_key_by::<false>(ops, sem, |k| matches!(k, Value::Nil)),
        (Value::Nil, true) => one_key_by::<true>(ops, sem, |k| matches!(k, Value::Nil)),
        (Value::Int(x), false) => {
            one_key_by::<false>(ops, sem, |k| matches!(k, Value::Int(y) if y == x))
        }
        (Value::Int(x), true) => {
            one_key_by::<true>(ops, sem, |k| matches!(k, Value::Int(y) if y == x))
        }
        (_, false) => one_key_by::<false>(ops, sem, |k| same_key(k, key)),
        (_, true) => one_key_by::<true>(ops, sem, |k| same_key(k, key)),
    }
}

/// Operations per block of [`one_key`].
const BLOCK: usize = 16;

/// [`one_key`] for keys that `is_key` accepts; `OBSERVED`: a `fail` may constrain the key
/// ([`super::FailMeaning::ObservedOther`]), so every operation is a candidate.
#[inline(always)]
fn one_key_by<const OBSERVED: bool>(
    ops: &[LinOp],
    sem: &Semantics,
    is_key: impl Fn(&super::Value) -> bool,
) -> Option<Vec<usize>> {
    // Sized for every operation: growing it one push at a time reallocated it several times.
    let mut members = Vec::with_capacity(ops.len());
    let mut blocks = ops.chunks_exact(BLOCK);
    let mut base = 0;
    for block in &mut blocks {
        let block: &[LinOp; BLOCK] = block.try_into().expect("a whole block");
        // Unrolled by hand (the compiler keeps the loop): an operation that failed costs a test
        // of its key and one of its completion, with no loop counter.
        macro_rules! visit {
            ($($j:literal)*) => {$(
                let op = &block[$j];
                if !is_key(&op.key) {
                    return None;
                }
                if OBSERVED || op.completion != super::Completion::Fail {
                    // Out of line: the failed operation's test is then one comparison.
                    crate::hint::cold_path();
                    if keys::constrains(op, sem) {
                        members.push(base + $j);
                    }
                }
            )*};
        }
        visit!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
        base += BLOCK;
    }
    for (j, op) in blocks.remainder().iter().enumerate() {
        if !is_key(&op.key) {
            return None;
        }
        if keys::constrains(op, sem) {
            members.push(base + j);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::tests::Rng;
    use super::super::{Completion, Input, LinOp, Value};
    use super::*;

    /// The hashed grouping gives what a tree keyed by the keys gives: keys in key order, each
    /// with its operation count and its constraining operations in history order, on keys of
    /// every kind (absent, integers, strings that share prefixes, one key or many).
    #[test]
    fn key_runs_match_a_tree_of_keys() {
        let mut rng = Rng(0x6b65);
        // Enough keys for the table to grow several times.
        let mut keys = vec![
            Value::Nil,
            Value::Int(-3),
            Value::Int(0),
            Value::Int(1 << 70),
            Value::Str(String::new()),
            Value::Str("k".into()),
            Value::Str("k1".into()),
            Value::Str("key-with-more-than-eight-bytes".into()),
        ];
        keys.extend((0..60).map(|i| Value::Int(i * 1000)));
        keys.extend((0..60).map(|i| Value::Str(format!("key{i}"))));
        for case in 0..400 {
            let n = rng.below(300) as usize;
            // Often a single key (of any kind: the one-key path is specialised by kind).
            let spread = match rng.below(3) {
                0 => 1,
                _ => 1 + rng.below(keys.len() as u64),
            };
            let first = rng.below(keys.len() as u64 - spread + 1);
            let ops: Vec<LinOp> = (0..n)
                .map(|i| LinOp {
                    process: i as u64,
                    key: keys[(first + rng.below(spread)) as usize].clone(),
                    call: i as u64,
                    ret: Some(i as u64 + 1),
                    input: match rng.below(3) {
                        0 => Input::Read,
                        1 => Input::Write(Value::Int(1)),
                        _ => Input::Cas {
                            expected: Value::Int(1),
                            new: Value::Int(2),
                        },
                    },
                    output: (rng.below(2) == 0).then_some(Value::Int(1)),
                    completion: match rng.below(3) {
                        0 => Completion::Ok,
                        1 => Completion::Fail,
                        _ => Completion::Unknown,
                    },
                })
                .collect();
            for sem in [Semantics::etcd(), Semantics::knossos(), Semantics::dsim()] {
                let mut reference: BTreeMap<&Value, (usize, Vec<usize>)> = BTreeMap::new();
                for (i, op) in ops.iter().enumerate() {
                    let (count, members) = reference.entry(&op.key).or_default();
                    *count += 1;
                    if keys::constrains(op, &sem) {
                        members.push(i);
                    }
                }
                let got: Vec<(Value, usize, Vec<usize>)> = key_runs(&ops, &sem)
                    .into_iter()
                    .map(|r| (r.key, r.operations, r.members))
                    .collect();
                let want: Vec<(Value, usize, Vec<usize>)> = reference
                    .into_iter()
                    .map(|(k, (c, m))| (k.clone(), c, m))
                    .collect();
                assert_eq!(got, want, "case {case}");
            }
        }
    }
}
