//! Tests of the checker's rules on hand-made tiny histories, and a cross-check against a
//! brute-force enumeration of orders on thousands of random tiny histories.

use super::table::splitmix64;
use super::*;
use crate::{ClientId, NodeId, Operation, SimTime};

pub(super) fn int(n: i128) -> Value {
    Value::Int(n)
}

/// An operation on the single register, completed `ok` at `ret`.
pub(super) fn op(process: u64, call: u64, ret: u64, input: Input, output: Option<Value>) -> LinOp {
    LinOp {
        process,
        key: Value::Nil,
        call,
        ret: Some(ret),
        input,
        output,
        completion: Completion::Ok,
    }
}
pub(super) fn write(p: u64, call: u64, ret: u64, v: i128) -> LinOp {
    op(p, call, ret, Input::Write(int(v)), None)
}
pub(super) fn read(p: u64, call: u64, ret: u64, v: Value) -> LinOp {
    op(p, call, ret, Input::Read, Some(v))
}
fn cas(p: u64, call: u64, ret: u64, from: i128, to: i128) -> LinOp {
    op(
        p,
        call,
        ret,
        Input::Cas {
            expected: int(from),
            new: int(to),
        },
        None,
    )
}
pub(super) fn with(mut o: LinOp, completion: Completion) -> LinOp {
    o.completion = completion;
    o
}
fn on_key(mut o: LinOp, key: i128) -> LinOp {
    o.key = int(key);
    o
}

pub(super) fn check(ops: &[LinOp], sem: &Semantics) -> LinReport {
    check_ops(ops, sem, &Budget::default(), None)
}
pub(super) fn verdict(ops: &[LinOp], sem: &Semantics) -> LinVerdict {
    let report = check(ops, sem);
    if let Some(v) = &report.violation {
        assert_violation_is_explained(ops, sem, v);
    }
    report.verdict
}

pub(super) const LIN: LinVerdict = LinVerdict::Linearizable;
pub(super) const NOT: LinVerdict = LinVerdict::NotLinearizable;

#[test]
fn empty_history_is_linearizable() {
    assert_eq!(verdict(&[], &Semantics::dsim()), LIN);
}

#[test]
fn concurrent_writes_may_take_effect_in_either_order() {
    for last in [1, 2] {
        let h = [
            write(0, 0, 10, 1),
            write(1, 1, 11, 2),
            read(2, 12, 13, int(last)),
        ];
        assert_eq!(verdict(&h, &Semantics::dsim()), LIN, "read {last}");
    }
    // But only a value that was written.
    let h = [
        write(0, 0, 10, 1),
        write(1, 1, 11, 2),
        read(2, 12, 13, int(3)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
}

#[test]
fn a_read_concurrent_with_a_write_sees_the_old_or_the_new_value() {
    for seen in [0, 1] {
        let h = [
            write(0, 0, 1, 0),
            write(0, 2, 10, 1),
            read(1, 3, 5, int(seen)),
        ];
        assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    }
    // Two reads by one client, concurrent with the write: they cannot go back in time.
    let h = [
        write(0, 0, 1, 0),
        write(0, 2, 10, 1),
        read(1, 3, 4, int(1)),
        read(1, 5, 6, int(0)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
}

#[test]
fn a_stale_read_is_caught() {
    let h = [write(0, 0, 1, 1), write(0, 2, 3, 2), read(1, 4, 5, int(1))];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    let report = check(&h, &Semantics::dsim());
    let v = report.violation.expect("a violation");
    assert_eq!(v.blocking, 2);
    assert_eq!(v.prefix, vec![0, 1]);
    assert_eq!(v.prefix_state, Some(int(2)));
    assert!(v.window_from_any_state);
    assert_eq!(
        v.window,
        vec![1, 2],
        "write 2 then read 1 fails from any state"
    );
}

#[test]
fn a_lost_write_is_caught() {
    // The register starts absent; an acknowledged write must be visible afterwards.
    let h = [write(0, 0, 1, 7), read(1, 2, 3, Value::Nil)];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    assert_eq!(verdict(&h, &Semantics::etcd()), NOT);
    // Under Knossos a read of nil carries no value, so nothing is lost.
    assert_eq!(verdict(&h, &Semantics::knossos()), LIN);
    let h = [write(0, 0, 1, 7), read(1, 2, 3, int(0))];
    assert_eq!(verdict(&h, &Semantics::knossos().with_initial(int(0))), NOT);
}

#[test]
fn the_initial_value_is_honoured() {
    let h = [read(0, 0, 1, int(0))];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    assert_eq!(verdict(&h, &Semantics::dsim().with_initial(int(0))), LIN);
    let h = [read(0, 0, 1, Value::Nil)];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    assert_eq!(verdict(&h, &Semantics::dsim().with_initial(int(0))), NOT);
}

#[test]
fn an_indeterminate_write_is_assumed_to_have_happened_when_a_read_needs_it() {
    let h = [
        with(write(0, 0, 1, 1), Completion::Unknown),
        read(1, 5, 6, int(1)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    // Even long after it timed out.
    let h = [
        write(2, 0, 1, 0),
        with(write(0, 2, 3, 1), Completion::Unknown),
        read(1, 50, 51, int(1)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    // Pending forever (never completed) works the same way.
    let mut pending = write(0, 2, 3, 1);
    pending.ret = None;
    pending.completion = Completion::Unknown;
    let h = [write(2, 0, 1, 0), pending, read(1, 50, 51, int(1))];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
}

#[test]
fn an_indeterminate_write_is_not_assumed_to_have_happened_when_it_must_not() {
    // It may never have happened.
    let h = [
        write(2, 0, 1, 0),
        with(write(0, 2, 3, 1), Completion::Unknown),
        read(1, 5, 6, int(0)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    // It cannot take effect before it was invoked.
    let h = [
        write(2, 0, 1, 0),
        read(1, 2, 3, int(1)),
        with(write(0, 4, 5, 1), Completion::Unknown),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    // It takes effect at most once: 1 was seen, then overwritten by 2, then seen again.
    let h = [
        write(2, 0, 1, 0),
        with(write(0, 2, 3, 1), Completion::Unknown),
        read(1, 4, 5, int(1)),
        write(2, 6, 7, 2),
        read(1, 8, 9, int(1)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    // A failed write definitely did not happen.
    let h = [
        write(2, 0, 1, 0),
        with(write(0, 2, 3, 1), Completion::Fail),
        read(1, 5, 6, int(1)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
}

#[test]
fn an_indeterminate_compare_and_set_only_applies_when_it_matches() {
    let h = [
        write(2, 0, 1, 0),
        with(cas(0, 2, 3, 0, 5), Completion::Unknown),
        read(1, 5, 6, int(5)),
    ];
    assert_eq!(verdict(&h, &Semantics::etcd()), LIN);
    let h = [
        write(2, 0, 1, 3),
        with(cas(0, 2, 3, 0, 5), Completion::Unknown),
        read(1, 5, 6, int(5)),
    ];
    assert_eq!(verdict(&h, &Semantics::etcd()), NOT);
}

#[test]
fn a_failed_compare_and_set_under_the_etcd_convention_observed_another_value() {
    // The register holds 1, so a compare-and-set from 1 cannot have failed.
    let h = [
        write(0, 0, 1, 1),
        with(cas(1, 2, 3, 1, 2), Completion::Fail),
    ];
    assert_eq!(verdict(&h, &Semantics::etcd()), NOT);
    // From 0 it can.
    let h = [
        write(0, 0, 1, 1),
        with(cas(1, 2, 3, 0, 2), Completion::Fail),
    ];
    assert_eq!(verdict(&h, &Semantics::etcd()), LIN);
    // Concurrent with a write that changes the value, it can fail before or after it.
    let h = [
        write(0, 0, 1, 1),
        write(0, 2, 9, 5),
        with(cas(1, 3, 4, 1, 2), Completion::Fail),
    ];
    assert_eq!(verdict(&h, &Semantics::etcd()), LIN);
    // A failed compare-and-set from absent, on an absent register, is a violation.
    let h = [with(
        op(
            1,
            0,
            1,
            Input::Cas {
                expected: Value::Nil,
                new: int(1),
            },
            None,
        ),
        Completion::Fail,
    )];
    assert_eq!(verdict(&h, &Semantics::etcd()), NOT);
}

#[test]
fn a_failed_compare_and_set_under_the_knossos_convention_did_not_happen() {
    // Knossos drops it: no constraint at all, even where etcd finds a violation.
    let h = [
        write(0, 0, 1, 1),
        with(cas(1, 2, 3, 1, 2), Completion::Fail),
    ];
    assert_eq!(verdict(&h, &Semantics::knossos()), LIN);
    // And its new value can never be observed.
    let h = [
        write(0, 0, 1, 1),
        with(cas(1, 2, 3, 1, 2), Completion::Fail),
        read(2, 4, 5, int(2)),
    ];
    assert_eq!(verdict(&h, &Semantics::knossos()), NOT);
    // A successful one requires the expected value.
    let h = [write(0, 0, 1, 1), cas(1, 2, 3, 1, 2), read(2, 4, 5, int(2))];
    assert_eq!(verdict(&h, &Semantics::knossos()), LIN);
    let h = [write(0, 0, 1, 3), cas(1, 2, 3, 1, 2)];
    assert_eq!(verdict(&h, &Semantics::knossos()), NOT);
}

#[test]
fn a_failed_read_constrains_nothing() {
    let h = [
        write(0, 0, 1, 1),
        with(read(1, 2, 3, int(9)), Completion::Fail),
    ];
    assert_eq!(verdict(&h, &Semantics::etcd()), LIN);
    assert_eq!(verdict(&h, &Semantics::knossos()), LIN);
}

#[test]
fn appends_concatenate_in_some_order() {
    let s = |x: &str| Value::Str(x.to_string());
    let app = |p, c, r, x: &str| op(p, c, r, Input::Append(s(x)), None);
    let sem = Semantics::dsim().with_initial(s(""));
    for seen in ["ab", "ba"] {
        let h = [app(0, 0, 5, "a"), app(1, 1, 6, "b"), read(2, 7, 8, s(seen))];
        assert_eq!(verdict(&h, &sem), LIN, "{seen}");
    }
    let h = [app(0, 0, 5, "a"), app(1, 1, 6, "b"), read(2, 7, 8, s("a"))];
    assert_eq!(verdict(&h, &sem), NOT);
    // Appending to an absent key starts from the empty string.
    let h = [app(0, 0, 1, "a"), read(2, 2, 3, s("a"))];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
}

#[test]
fn keys_are_checked_independently_and_the_failing_key_is_named() {
    let h = [
        on_key(write(0, 0, 1, 1), 1),
        on_key(write(1, 0, 1, 2), 2),
        on_key(read(0, 2, 3, int(1)), 1),
        on_key(read(1, 2, 3, int(1)), 2),
    ];
    let report = check(&h, &Semantics::dsim());
    assert_eq!(report.verdict, NOT);
    assert_eq!(report.keys, 2);
    let v = report.violation.expect("a violation");
    assert_eq!(v.key, int(2));
    assert_eq!(v.blocking, 3);
    // Each key alone would be linearizable on its own data.
    let h = [
        on_key(write(0, 0, 1, 1), 1),
        on_key(write(1, 0, 1, 2), 2),
        on_key(read(0, 2, 3, int(1)), 1),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
}

/// A key whose search is exponential: `n` concurrent indeterminate writes of distinct values
/// and, after them, reads that force an impossible order. Every value read is written by
/// someone, so no look-ahead rules a read out before the writes are ordered.
fn expensive_key(key: i128, n: u64) -> Vec<LinOp> {
    let mut h = Vec::new();
    for i in 0..n {
        h.push(on_key(
            with(write(i, i, 1000, i as i128 + 10), Completion::Unknown),
            key,
        ));
    }
    // Completed writes concurrent with everything, so no state is ever "pointless".
    for i in 0..n {
        h.push(on_key(write(100 + i, i, 1000 + i, 1000 + i as i128), key));
    }
    // 1000, then 1001, then 1000 again: only an order of the completed writes could give
    // that, and none does, since they all completed before the first read.
    for (i, v) in [1000, 1001, 1000].into_iter().enumerate() {
        let t = 2000 + 2 * i as u64;
        h.push(on_key(read(999, t, t + 1, int(v)), key));
    }
    h
}

#[test]
fn a_cheap_violation_is_found_while_another_key_is_expensive() {
    let mut h = expensive_key(0, 16);
    h.push(on_key(write(500, 0, 1, 1), 5));
    h.push(on_key(read(501, 2, 3, int(2)), 5));
    let budget = Budget {
        steps_max: 2_000_000,
        ..Budget::default()
    };
    let report = check_ops(&h, &Semantics::dsim(), &budget, None);
    assert_eq!(report.verdict, NOT);
    assert_eq!(report.violation.as_ref().expect("violation").key, int(5));
    // One round: the expensive key's exact and relaxed searches get a quantum each, then the
    // cheap key fails at once.
    assert!(
        report.steps <= 3 * budget.quantum_steps,
        "steps: {}",
        report.steps
    );
    // Deterministic: the same report again.
    assert_eq!(check_ops(&h, &Semantics::dsim(), &budget, None), report);
}

#[test]
fn the_step_budget_yields_unknown() {
    let h = expensive_key(0, 16);
    let budget = Budget {
        steps_max: 100_000,
        ..Budget::default()
    };
    let report = check_ops(&h, &Semantics::dsim(), &budget, None);
    assert_eq!(report.verdict, LinVerdict::Unknown);
    assert_eq!(
        report.unknown,
        vec![KeyUnknown {
            key: int(0),
            reason: UnknownReason::Steps
        }]
    );
    assert!(report.steps <= budget.steps_max);
    assert_eq!(check_ops(&h, &Semantics::dsim(), &budget, None), report);
}

#[test]
fn the_memory_budget_yields_unknown_and_spares_the_other_keys() {
    let mut h = expensive_key(0, 16);
    h.push(on_key(write(500, 0, 1, 1), 5));
    h.push(on_key(read(501, 2, 3, int(1)), 5));
    let budget = Budget {
        memory_bytes_max: 1 << 20,
        ..Budget::default()
    };
    let report = check_ops(&h, &Semantics::dsim(), &budget, None);
    assert_eq!(report.verdict, LinVerdict::Unknown);
    assert_eq!(
        report.unknown,
        vec![KeyUnknown {
            key: int(0),
            reason: UnknownReason::Memory
        }]
    );
}

#[test]
fn the_caller_can_stop_the_search() {
    let h = expensive_key(0, 16);
    let mut calls = 0;
    let mut stop = || {
        calls += 1;
        calls > 3
    };
    let report = check_ops(&h, &Semantics::dsim(), &Budget::default(), Some(&mut stop));
    assert_eq!(report.verdict, LinVerdict::Unknown);
    assert_eq!(report.unknown[0].reason, UnknownReason::Stopped);
}

#[test]
fn the_explanation_names_the_window_the_prefix_and_the_culprit() {
    // Knossos's rethink-fail-minimal: 0 is written; a read concurrent with a write of 4 returns 3.
    let h = [
        write(0, 0, 1, 0),
        read(1, 2, 4, int(3)),
        write(2, 3, 5, 4),
        read(3, 6, 7, int(4)),
    ];
    let sem = Semantics::knossos().with_initial(int(0));
    assert_eq!(verdict(&h, &sem), NOT);
    let report = check(&h, &sem);
    let v = report.violation.clone().expect("a violation");
    assert_eq!(v.blocking, 1);
    assert_eq!(v.prefix, vec![0]);
    assert!(v.window_from_any_state);
    assert_eq!(v.window, vec![0, 1, 2]);
    assert_eq!(
        v.window_optional,
        vec![2],
        "the write of 4 had not completed"
    );
    let text = explain_text(&h, &v);
    assert!(text.contains("#1 p1 read → 3"), "{text}");
    assert!(text.contains("✗ cannot be linearized"), "{text}");
    assert!(
        text.contains("longest linearizable prefix: 1 operation,"),
        "{text}"
    );
}

#[test]
fn check_history_reads_dsim_histories() {
    let put = |client: u32, invoke: u64, done: u64, value: u64| Operation {
        client: ClientId(client),
        request_id: 1,
        node: NodeId(0),
        via: Vec::new(),
        request: Request::Put { key: 7, value },
        invoke: SimTime(invoke),
        completion: Some((SimTime(done), Outcome::Ok(Response::Ok))),
    };
    let get = |client: u32, invoke: u64, done: u64, value: Option<u64>| Operation {
        client: ClientId(client),
        request_id: 2,
        node: NodeId(1),
        via: Vec::new(),
        request: Request::Get { key: 7 },
        invoke: SimTime(invoke),
        completion: Some((SimTime(done), Outcome::Ok(Response::Value(value)))),
    };
    let good = History {
        ops: vec![put(0, 0, 10, 1), get(1, 20, 30, Some(1))],
    };
    let opts = LinOptions {
        seed: Some(42),
        ..LinOptions::default()
    };
    let result = check_history(&good, &opts);
    assert_eq!(result.name, "linearizable");
    assert_eq!(result.verdict, Verdict::Pass);
    let bad = History {
        ops: vec![put(0, 0, 10, 1), get(1, 20, 30, None)],
    };
    let result = check_history(&bad, &opts);
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(result.detail.contains("key `7`"), "{}", result.detail);
    assert!(result.detail.contains("seed 42"), "{}", result.detail);
    // A timed-out put may have happened; a failed one did not.
    let mut timed_out = put(0, 0, 10, 1);
    timed_out.completion = Some((SimTime(10), Outcome::Unknown));
    let h = History {
        ops: vec![timed_out.clone(), get(1, 20, 30, Some(1))],
    };
    assert_eq!(check_history(&h, &opts).verdict, Verdict::Pass);
    let mut failed = timed_out;
    failed.completion = Some((SimTime(10), Outcome::Fail));
    let h = History {
        ops: vec![failed, get(1, 20, 30, Some(1))],
    };
    assert_eq!(check_history(&h, &opts).verdict, Verdict::Fail);
}

#[test]
fn check_history_reads_appends_and_lists() {
    let op =
        |client: u32, invoke: u64, done: u64, request: Request, response: Response| Operation {
            client: ClientId(client),
            request_id: 1,
            node: NodeId(0),
            via: Vec::new(),
            request,
            invoke: SimTime(invoke),
            completion: Some((SimTime(done), Outcome::Ok(response))),
        };
    let append = |c, t0, t1, v| {
        op(
            c,
            t0,
            t1,
            Request::Append { key: 3, value: v },
            Response::Ok,
        )
    };
    let read = |c, t0, t1, r| op(c, t0, t1, Request::Get { key: 3 }, r);
    let put = |c, t0, t1, v| op(c, t0, t1, Request::Put { key: 3, value: v }, Response::Ok);
    let opts = LinOptions::default();
    let verdict = |ops: Vec<Operation>| check_history(&History { ops }, &opts).verdict;
    // Appends in real-time order, read back whole: fine.
    assert_eq!(
        verdict(vec![
            put(0, 0, 5, 1),
            append(0, 10, 20, 2),
            append(1, 30, 40, 3),
            read(2, 50, 60, Response::List(vec![1, 2, 3])),
        ]),
        Verdict::Pass
    );
    // Concurrent appends may land in either order.
    assert_eq!(
        verdict(vec![
            append(0, 10, 40, 2),
            append(1, 10, 40, 3),
            read(2, 50, 60, Response::List(vec![3, 2])),
        ]),
        Verdict::Pass
    );
    // A read that misses an acknowledged append, or sees appends out of real-time order.
    assert_eq!(
        verdict(vec![
            append(0, 10, 20, 2),
            append(1, 30, 40, 3),
            read(2, 50, 60, Response::Value(Some(3))),
        ]),
        Verdict::Fail
    );
    assert_eq!(
        verdict(vec![
            append(0, 10, 20, 2),
            append(1, 30, 40, 3),
            read(2, 50, 60, Response::List(vec![3, 2])),
        ]),
        Verdict::Fail
    );
}

// ---- Cross-check against brute force -------------------------------------------------------

/// Checks that the window really cannot be linearized (from any of a few states, or from the
/// initial value) and that the prefix is a valid linearization of what completed before the
/// blocking operation.
fn assert_violation_is_explained(ops: &[LinOp], sem: &Semantics, v: &Violation) {
    let key_ops: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].key == v.key).collect();
    assert!(v.window.contains(&v.blocking));
    assert!(!v.window_optional.contains(&v.blocking));
    let window: Vec<(usize, bool)> = v
        .window
        .iter()
        .map(|&i| (i, v.window_optional.contains(&i)))
        .collect();
    let starts: Vec<Value> = if v.window_from_any_state {
        let mut s = vec![Value::Nil, Value::Str(String::new())];
        s.extend((-1..6).map(int));
        s
    } else {
        vec![sem.initial.clone()]
    };
    for start in starts {
        assert!(
            !brute_force(ops, &window, sem, &start),
            "window {:?} (optional {:?}) linearizable from {start}: {ops:#?} {sem:?}",
            v.window,
            v.window_optional
        );
    }
    // The prefix: valid in order, respecting real time, and covering what completed earlier.
    let b_ret = ops[v.blocking].ret.expect("blocking op completed");
    let mut state = sem.initial.clone();
    for (pos, &i) in v.prefix.iter().enumerate() {
        state = apply(&ops[i], sem, &state)
            .unwrap_or_else(|| panic!("prefix step {pos} (#{i}) invalid"));
        for &j in &v.prefix[pos + 1..] {
            assert!(
                !precedes(&ops[j], &ops[i]),
                "prefix breaks real time: #{j} before #{i}"
            );
        }
    }
    assert_eq!(v.prefix_state.as_ref(), Some(&state));
    for &i in &key_ops {
        let unconstrained = matches!(ops[i].input, Input::Read)
            && (ops[i].output.is_none()
                || (ops[i].output == Some(Value::Nil) && sem.nil_read == NilRead::Anything));
        if mandatory(&ops[i], sem) && !unconstrained && ops[i].ret.is_some_and(|t| t < b_ret) {
            assert!(
                v.prefix.contains(&i),
                "prefix misses #{i}, which completed before #{}",
                v.blocking
            );
        }
    }
}

/// Whether `a` completed before `b` was invoked (and so must be linearized first).
fn precedes(a: &LinOp, b: &LinOp) -> bool {
    a.completion != Completion::Unknown && a.ret.is_some_and(|t| t < b.call)
}

/// Whether the operation must be linearized (else it may be left out, or must be).
fn mandatory(op: &LinOp, sem: &Semantics) -> bool {
    match op.completion {
        Completion::Ok => true,
        Completion::Fail => {
            matches!(op.input, Input::Cas { .. }) && sem.fail == FailMeaning::ObservedOther
        }
        Completion::Unknown => false,
    }
}

/// Whether the operation can appear in a linearization at all.
fn included(op: &LinOp, sem: &Semantics) -> bool {
    op.completion != Completion::Fail || mandatory(op, sem)
}

/// The state after `op`, straight from the definitions (independent of `model.rs`).
fn apply(op: &LinOp, sem: &Semantics, state: &Value) -> Option<Value> {
    let failed = op.completion == Completion::Fail;
    match &op.input {
        Input::Read => match (&op.output, op.completion) {
            (Some(Value::Nil), Completion::Ok) if sem.nil_read == NilRead::Anything => {
                Some(state.clone())
            }
            (Some(v), Completion::Ok) => (v == state).then(|| state.clone()),
            _ => Some(state.clone()),
        },
        Input::Write(v) => Some(v.clone()),
        Input::Cas { expected, new } => {
            if failed {
                (expected != state).then(|| state.clone())
            } else if expected == state {
                Some(new.clone())
            } else if op.completion == Completion::Unknown {
                Some(state.clone())
            } else {
                None
            }
        }
        Input::Append(v) => match (state, v) {
            (Value::Nil, Value::Str(b)) => Some(Value::Str(b.clone())),
            (Value::Str(a), Value::Str(b)) => Some(Value::Str(format!("{a}{b}"))),
            _ => None,
        },
    }
}

/// Brute force: is there an order of some of `members` (each with a flag "optional: may be
/// left out and has no completion deadline") that respects real time and the model?
pub(super) fn brute_force(
    ops: &[LinOp],
    members: &[(usize, bool)],
    sem: &Semantics,
    start: &Value,
) -> bool {
    let members: Vec<(usize, bool)> = members
        .iter()
        .copied()
        .filter(|&(i, _)| included(&ops[i], sem))
        .map(|(i, optional)| (i, optional || !mandatory(&ops[i], sem)))
        .collect();
    let n = members.len();
    assert!(n <= 16);
    // Depth-first over (placed set, state) with an explicit stack of choices.
    let mut stack: Vec<(u32, Value)> = vec![(0, start.clone())];
    let mut seen: std::collections::BTreeSet<(u32, Value)> = std::collections::BTreeSet::new();
    while let Some((placed, state)) = stack.pop() {
        if !seen.insert((placed, state.clone())) {
            continue;
        }
        let done = (0..n).all(|k| placed & (1 << k) != 0 || members[k].1);
        if done {
            return true;
        }
        for k in 0..n {
            if placed & (1 << k) != 0 {
                continue;
            }
            let x = &ops[members[k].0];
            // Every mandatory unplaced operation that completed before x was invoked blocks it.
            let blocked = (0..n).any(|j| {
                j != k && placed & (1 << j) == 0 && !members[j].1 && precedes(&ops[members[j].0], x)
            });
            if blocked {
                continue;
            }
            if let Some(next) = apply(x, sem, &state) {
                stack.push((placed | (1 << k), next));
            }
        }
    }
    false
}

pub(super) struct Rng(pub(super) u64);
impl Rng {
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(1);
        splitmix64(self.0) % n
    }
}

fn random_history(rng: &mut Rng) -> Vec<LinOp> {
    let n = 1 + rng.below(7) as usize;
    random_history_of(rng, n, 12, 6)
}

/// `n` operations invoked in `0..span` lasting up to `length`; a third of them reads.
fn random_history_of(rng: &mut Rng, n: usize, span: u64, length: u64) -> Vec<LinOp> {
    let value = |rng: &mut Rng| int(rng.below(3) as i128);
    (0..n)
        .map(|p| {
            let call = rng.below(span);
            let ret = call + rng.below(length);
            let input = match rng.below(4) {
                0 | 1 => Input::Read,
                2 => Input::Write(value(rng)),
                _ => Input::Cas {
                    expected: if rng.below(4) == 0 {
                        Value::Nil
                    } else {
                        value(rng)
                    },
                    new: value(rng),
                },
            };
            let completion = match rng.below(6) {
                0 => Completion::Fail,
                1 => Completion::Unknown,
                _ => Completion::Ok,
            };
            let output = match (&input, rng.below(4)) {
                (Input::Read, 0) => Some(Value::Nil),
                (Input::Read, _) => Some(value(rng)),
                _ => None,
            };
            LinOp {
                process: p as u64,
                key: Value::Nil,
                call,
                ret: Some(ret),
                input,
                output,
                completion,
            }
        })
        .collect()
}

#[test]
fn agrees_with_brute_force_on_random_tiny_histories() {
    let mut rng = Rng(7);
    let (mut lin, mut not) = (0, 0);
    for case in 0..6000 {
        let h = random_history(&mut rng);
        let sem = match case % 4 {
            0 => Semantics::etcd(),
            1 => Semantics::knossos().with_initial(int(0)),
            2 => Semantics::dsim(),
            _ => Semantics::etcd().with_initial(int(1)),
        };
        let members: Vec<(usize, bool)> = (0..h.len()).map(|i| (i, false)).collect();
        let expected = brute_force(&h, &members, &sem, &sem.initial);
        let got = verdict(&h, &sem);
        assert_eq!(got == LIN, expected, "case {case}: {h:#?} under {sem:?}");
        if expected {
            lin += 1;
        } else {
            not += 1;
        }
    }
    // Both verdicts are well represented.
    assert!(lin > 1000 && not > 1000, "linearizable {lin}, not {not}");
}

#[test]
fn agrees_with_brute_force_on_random_larger_histories() {
    // More operations, more overlap and more indeterminate ones: this is where the search's
    // pruning rules (forced reads, optional operations only right before what they change,
    // interchangeable optional operations, dominance, the relaxed search) all come into play.
    let mut rng = Rng(1 << 40);
    let (mut lin, mut not) = (0, 0);
    for case in 0..1500 {
        let n = 8 + rng.below(7) as usize;
        let mut h = random_history_of(&mut rng, n, 20, 12);
        // Half of the failures become timeouts: many indeterminate operations.
        for op in h.iter_mut() {
            if op.completion == Completion::Fail && rng.below(2) == 0 {
                op.completion = Completion::Unknown;
            }
        }
        let sem = match case % 3 {
            0 => Semantics::etcd(),
            1 => Semantics::knossos().with_initial(int(0)),
            _ => Semantics::dsim(),
        };
        let members: Vec<(usize, bool)> = (0..h.len()).map(|i| (i, false)).collect();
        let expected = brute_force(&h, &members, &sem, &sem.initial);
        let got = verdict(&h, &sem);
        assert_eq!(got == LIN, expected, "case {case}: {h:#?} under {sem:?}");
        if expected {
            lin += 1;
        } else {
            not += 1;
        }
    }
    assert!(lin > 100 && not > 100, "linearizable {lin}, not {not}");
}

/// Puts the operations of `h` one after another (`gap` is added to some completions), so
/// that they can only take effect in that order.
pub(super) fn in_one_order(rng: &mut Rng, h: &mut [LinOp], gap: u64) {
    h.sort_by_key(|op| op.call);
    for (i, op) in h.iter_mut().enumerate() {
        op.call = 3 * i as u64;
        op.ret = Some(op.call + 1 + rng.below(gap + 1));
        if op.completion == Completion::Unknown && rng.below(3) > 0 {
            op.completion = Completion::Ok;
        }
    }
}

/// Whether `h` is linearizable under `sem`, by the checker and by the brute force alike
/// (`verdict` also checks that a violation's explanation holds).
pub(super) fn agrees_with_brute_force(h: &[LinOp], sem: &Semantics, case: usize) -> bool {
    let members: Vec<(usize, bool)> = (0..h.len()).map(|i| (i, false)).collect();
    let expected = brute_force(h, &members, sem, &sem.initial);
    assert_eq!(verdict(h, sem) == LIN, expected, "case {case}: {h:#?}");
    expected
}

#[test]
fn histories_in_one_order_agree_with_brute_force_and_are_explained() {
    // Operations one after another (one client): the checker replays them without a search
    // (keys::in_one_order); a violation is still explained by the search of the same operations.
    let mut rng = Rng(99);
    let (mut lin, mut not) = (0, 0);
    for case in 0..3000 {
        let n = 1 + rng.below(9) as usize;
        let mut h = random_history_of(&mut rng, n, 1, 1);
        in_one_order(&mut rng, &mut h, 1);
        let sem = match case % 3 {
            0 => Semantics::etcd(),
            1 => Semantics::knossos().with_initial(int(0)),
            _ => Semantics::dsim(),
        };
        if agrees_with_brute_force(&h, &sem, case) {
            lin += 1;
        } else {
            not += 1;
        }
        // A step budget too small for the replay leaves the key to the search, in turns.
        let tight = Budget {
            steps_max: 2,
            ..Budget::default()
        };
        let report = check_ops(&h, &sem, &tight, None);
        assert!(report.steps <= 2, "case {case}: {} steps", report.steps);
    }
    assert!(lin > 500 && not > 500, "linearizable {lin}, not {not}");
}
