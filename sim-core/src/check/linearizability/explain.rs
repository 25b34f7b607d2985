//! Explaining a violation so that a person sees why.
//!
//! A failed search knows two things: the furthest completion it ever reached (the *blocking*
//! operation: everything that completed before it was linearized, but no linearization could
//! include it) and a witness linearization of everything before it (the *longest linearizable
//! prefix*). On top of that we look for the *smallest window*: the latest start time `t0`
//! such that the operations overlapping `[t0, completion of the blocking operation]` cannot be
//! linearized even from an arbitrary state. Operations that completed before `t0` are dropped
//! (their effect is summarized by "any state"); operations that started before `t0` become
//! optional (they may already have been applied before the window). Both only make the window
//! easier to linearize, so a window that still fails proves the violation on its own. Windows
//! are tried from the smallest outwards within a step budget; if none fails from an arbitrary
//! state, the window is the whole prefix, from the initial value.

use super::blocking::{history_up_to, settle, Prefix};
use super::model::{CompiledOp, Model, Step, ANY};
use super::search::{Search, Status};
use super::{Budget, LinOp, Value, Violation};

/// Rows of a text timeline beyond this are elided (the ones furthest from the blocking
/// operation).
const TIMELINE_ROWS_MAX: usize = 40;
/// Width of a text timeline's time axis, in characters.
const TIMELINE_WIDTH: usize = 50;
/// Window starts tried one by one before the window grows by doubling.
const WINDOW_LINEAR_STARTS: usize = 8;
/// Each window check may use at most this fraction (1 / n) of the explanation budget.
const WINDOW_CHECKS_MIN: u64 = 16;
/// Operations of the longest linearizable prefix quoted in the text.
const PREFIX_QUOTED_MAX: usize = 5;

/// Builds the violation of a key whose exact search failed.
pub(super) fn violation(
    ops: &[LinOp],
    key: &Value,
    key_operations: usize,
    search: &Search,
    budget: &Budget,
) -> Violation {
    assert_eq!(search.status(), Status::NotLinearizable);
    let (r, prefix) = settle(search, budget.explain_steps_max, budget.memory_bytes_max);
    build(
        ops,
        key,
        key_operations,
        &search.ops,
        &search.model,
        r as usize,
        prefix,
        budget,
    )
}

/// Builds the violation of a key whose relaxed search (optional operations may take effect more
/// than once) failed. Nothing gets past the relaxed search's upper bound in the real history
/// either, so everything that may precede it is searched again without reuse: that search
/// fails too, and its own blocking operation and witness are the real ones.
pub(super) fn violation_relaxed(
    ops: &[LinOp],
    key: &Value,
    key_operations: usize,
    relaxed: &Search,
    budget: &Budget,
) -> Violation {
    assert_eq!(relaxed.status(), Status::NotLinearizable);
    let (_, upper) = relaxed.blocking_bounds();
    let r = relaxed.by_completion()[upper];
    let (sub, _) = history_up_to(relaxed, r);
    let mut exact = Search::new(relaxed.model.clone(), sub, relaxed.initial(), 0x9e1a, false);
    match exact.run(budget.explain_steps_max, budget.memory_bytes_max) {
        Status::NotLinearizable => violation(ops, key, key_operations, &exact, budget),
        // Undecided (or, were the bound wrong, linearizable): the bound is what is known.
        _ => build(
            ops,
            key,
            key_operations,
            &relaxed.ops,
            &relaxed.model,
            r as usize,
            None,
            budget,
        ),
    }
}

/// The violation at the completion of `main[r]`, which no linearization of what completed
/// before it can include.
#[allow(clippy::too_many_arguments)]
fn build(
    ops: &[LinOp],
    key: &Value,
    key_operations: usize,
    main: &[CompiledOp],
    model: &Model,
    r: usize,
    prefix: Option<Prefix>,
    budget: &Budget,
) -> Violation {
    let r_ret = main[r].ret.expect("the blocking operation completed");
    // The prefix: operations invoked before the blocking completion; the ones whose completion
    // comes before it (in the search's event order) must be linearized.
    let in_prefix = |j: usize| main[j].ret.is_some_and(|t| (t, j) <= (r_ret, r));
    let prefix_len = main.partition_point(|c| c.call <= r_ret);
    assert!(r < prefix_len);

    // The window starting at the `k`-th latest invocation time: operations that completed before
    // it are dropped, the ones running at that time become optional.
    let mut starts: Vec<u64> = main[..=r].iter().map(|c| c.call).collect();
    starts.dedup();
    starts.reverse();
    let window_at = |k: usize| -> Vec<CompiledOp> {
        let t0 = starts[k];
        let mut members: Vec<CompiledOp> = Vec::new();
        for (j, c) in main[..prefix_len].iter().enumerate() {
            if c.ret.is_some_and(|t| t < t0) {
                continue;
            }
            if c.call < t0 || !in_prefix(j) {
                if !matches!(c.step, Step::Read(_) | Step::CasFailed(_)) {
                    members.push(CompiledOp { ret: None, ..*c });
                }
            } else {
                members.push(*c);
            }
        }
        members
    };
    // Windows grow one start at a time, then by doubling, until one cannot be linearized (the
    // boundary is then bisected) or one cannot be decided within its share of the budget
    // (larger ones would be harder still).
    let mut steps_left = budget.explain_steps_max;
    let mut check = |k: usize| -> Option<bool> {
        let quota = (steps_left / 4)
            .min(budget.explain_steps_max / WINDOW_CHECKS_MIN)
            .max(1);
        let (verdict, steps) = window_fails(model, window_at(k), quota, budget.memory_bytes_max);
        steps_left = steps_left.saturating_sub(steps);
        verdict
    };
    let mut window: Option<(Vec<CompiledOp>, bool)> = None;
    let (mut passed, mut failed) = (None::<usize>, None::<usize>);
    let mut k = 0;
    while k < starts.len() {
        match check(k) {
            Some(true) => {
                failed = Some(k);
                break;
            }
            Some(false) => passed = Some(k),
            None => break,
        }
        k = if k < WINDOW_LINEAR_STARTS {
            k + 1
        } else {
            2 * k + 1
        };
    }
    if let Some(mut hi) = failed {
        let mut lo = passed.map_or(0, |p| p + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if check(mid) == Some(true) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        window = Some((window_at(hi), true));
    }
    let (window_ops, from_any) = window.unwrap_or_else(|| {
        let whole: Vec<CompiledOp> = main[..prefix_len]
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if in_prefix(j) {
                    *c
                } else {
                    CompiledOp { ret: None, ..*c }
                }
            })
            .collect();
        (whole, false)
    });
    let mut window: Vec<usize> = window_ops.iter().map(|c| c.index).collect();
    window.sort_by_key(|&i| (ops[i].call, i));
    let mut window_optional: Vec<usize> = window_ops
        .iter()
        .filter(|c| c.ret.is_none())
        .map(|c| c.index)
        .collect();
    window_optional.sort_by_key(|&i| (ops[i].call, i));
    let (prefix, prefix_state) = match prefix {
        Some(p) => (
            p.ops.iter().map(|&j| main[j as usize].index).collect(),
            p.state,
        ),
        None => (Vec::new(), None),
    };
    Violation {
        key: key.clone(),
        key_operations,
        blocking: main[r].index,
        window,
        window_optional,
        window_from_any_state: from_any,
        prefix,
        prefix_state,
    }
}

/// Whether the window `members` cannot be linearized from any state (`None`: undecided within
/// `steps_max`), and the steps spent. The relaxed search (optional operations may take effect more than once)
/// goes first: it is sound for a violation and far cheaper when many operations are optional.
fn window_fails(
    model: &Model,
    members: Vec<CompiledOp>,
    steps_max: u64,
    memory_bytes_max: u64,
) -> (Option<bool>, u64) {
    let has_optional = members.iter().any(|c| !c.mandatory());
    let mut steps = 0;
    if has_optional {
        let mut relaxed = Search::new(model.clone(), members.clone(), ANY, 0x5eed, true);
        let status = relaxed.run(steps_max / 2, memory_bytes_max);
        steps += relaxed.steps;
        match status {
            Status::NotLinearizable => return (Some(true), steps),
            Status::Linearizable if relaxed.witness_without_reuse() => return (Some(false), steps),
            _ => {}
        }
    }
    let mut exact = Search::new(model.clone(), members, ANY, 0x5eed, false);
    let verdict = match exact.run(steps_max.saturating_sub(steps), memory_bytes_max) {
        Status::NotLinearizable => Some(true),
        Status::Linearizable => Some(false),
        Status::Running | Status::MemoryFull => None,
    };
    (verdict, steps + exact.steps)
}

/// One row of a timeline: an operation of the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineRow {
    /// Index of the operation in the checked slice.
    pub index: usize,
    pub process: u64,
    /// `write 4`, `read → 3`, …
    pub label: String,
    pub call: u64,
    /// Completion time, if it completed (`None`: open to the end).
    pub ret: Option<u64>,
    /// May or may not have taken effect (indeterminate, or started before the window).
    pub optional: bool,
    /// The operation that cannot be linearized.
    pub blocking: bool,
    /// Position in the longest linearizable prefix, if it is part of it.
    pub prefix_position: Option<usize>,
}

/// The window's operations as timeline rows, in invocation order.
pub fn timeline_rows(ops: &[LinOp], v: &Violation) -> Vec<TimelineRow> {
    v.window
        .iter()
        .map(|&i| {
            let op = &ops[i];
            TimelineRow {
                index: i,
                process: op.process,
                label: op.describe(),
                call: op.call,
                ret: if op.completion == super::Completion::Unknown {
                    None
                } else {
                    op.ret
                },
                optional: v.window_optional.contains(&i),
                blocking: i == v.blocking,
                prefix_position: v.prefix.iter().position(|&p| p == i),
            }
        })
        .collect()
}

fn key_name(key: &Value) -> String {
    match key {
        Value::Nil => "the register".to_string(),
        k => format!("key `{k}`"),
    }
}

fn operations(n: usize) -> String {
    format!("{n} operation{}", if n == 1 { "" } else { "s" })
}

fn op_name(ops: &[LinOp], i: usize) -> String {
    format!("#{i} p{} {}", ops[i].process, ops[i].describe())
}

/// The explanation of a violation as text: what fails, the longest linearizable prefix, and a
/// timeline of the smallest window.
pub fn explain_text(ops: &[LinOp], v: &Violation) -> String {
    let mut s = String::new();
    let b = &ops[v.blocking];
    s.push_str(&format!(
        "not linearizable: {} ({} on it)\n",
        key_name(&v.key),
        operations(v.key_operations)
    ));
    s.push_str(&format!(
        "  {} (invoked at {}, completed at {}) cannot be linearized together with the operations that completed before it\n",
        op_name(ops, v.blocking),
        b.call,
        b.ret.map_or("-".to_string(), |t| t.to_string()),
    ));
    match &v.prefix_state {
        None => s.push_str(
            "  longest linearizable prefix: not determined within the explanation budget\n",
        ),
        Some(state) => {
            s.push_str(&format!(
                "  longest linearizable prefix: {}, leaving the value {state}",
                operations(v.prefix.len())
            ));
            if v.prefix.is_empty() {
                s.push('\n');
            } else {
                let tail = v.prefix.len().saturating_sub(PREFIX_QUOTED_MAX);
                let quoted: Vec<String> =
                    v.prefix[tail..].iter().map(|&i| op_name(ops, i)).collect();
                let ellipsis = if tail > 0 { "… " } else { "" };
                s.push_str(&format!("; it ends {ellipsis}{}\n", quoted.join(", ")));
            }
        }
    }
    let from = if v.window_from_any_state {
        "from any state"
    } else {
        "from the initial value"
    };
    s.push_str(&format!(
        "  smallest window that cannot be linearized {from}: {}\n",
        operations(v.window.len())
    ));
    s.push_str(&timeline_text(&timeline_rows(ops, v)));
    s
}

/// A text timeline: one row per operation, time flowing right on an ordinal scale.
fn timeline_text(rows: &[TimelineRow]) -> String {
    let mut s = String::new();
    let skipped = rows.len().saturating_sub(TIMELINE_ROWS_MAX);
    let rows = &rows[skipped..];
    let mut times: Vec<u64> = rows
        .iter()
        .flat_map(|r| [Some(r.call), r.ret])
        .flatten()
        .collect();
    times.sort_unstable();
    times.dedup();
    let column = |t: u64| -> usize {
        let rank = times.partition_point(|&x| x < t);
        if times.len() <= 1 {
            0
        } else {
            rank * (TIMELINE_WIDTH - 1) / (times.len() - 1)
        }
    };
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("#{} p{} {}", r.index, r.process, r.label))
        .collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    if skipped > 0 {
        s.push_str(&format!("    … {skipped} earlier operations not shown\n"));
    }
    for (r, name) in rows.iter().zip(&names) {
        let start = column(r.call);
        let (end, open) = match r.ret {
            Some(t) => (column(t).max(start), false),
            None => (TIMELINE_WIDTH - 1, true),
        };
        let mut bar = String::new();
        bar.push_str(&" ".repeat(start));
        let fill = if r.optional { '-' } else { '=' };
        for c in start..=end {
            let ch = if c == start {
                '|'
            } else if c == end {
                if open {
                    '>'
                } else {
                    '|'
                }
            } else {
                fill
            };
            bar.push(ch);
        }
        bar.push_str(&" ".repeat(TIMELINE_WIDTH - 1 - end));
        let mark = if r.blocking {
            "  ✗ cannot be linearized"
        } else if r.optional {
            "  (may or may not have taken effect)"
        } else {
            ""
        };
        let pad = name_width - name.chars().count();
        s.push_str(&format!("    {name}{}  {bar}{mark}\n", " ".repeat(pad)));
    }
    s
}
