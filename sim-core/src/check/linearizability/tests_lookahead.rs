//! Tests of the look-ahead (`reach.rs`) and of finding the exact blocking operation after it
//! (`blocking.rs`): histories a wrong prune would misjudge, and a cross-check against brute
//! force on random histories with appends.

use super::tests::{agrees_with_brute_force, in_one_order, int, op, read, verdict, with};
use super::tests::{write, Rng, LIN, NOT};
use super::*;

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}
fn append(p: u64, call: u64, ret: u64, x: &str) -> LinOp {
    op(p, call, ret, Input::Append(s(x)), None)
}
fn put(p: u64, call: u64, ret: u64, x: &str) -> LinOp {
    op(p, call, ret, Input::Write(s(x)), None)
}
fn kv() -> Semantics {
    Semantics::dsim().with_initial(s(""))
}

#[test]
fn a_read_may_extend_by_appends_a_value_a_concurrent_write_sets() {
    // `put "a"` then `append "b"`: "ab", although neither the state nor any write holds it.
    for (seen, expected) in [("ab", LIN), ("a", LIN), ("b", NOT), ("ba", NOT)] {
        let h = [
            put(0, 0, 10, "a"),
            append(1, 0, 10, "b"),
            read(2, 11, 12, s(seen)),
        ];
        assert_eq!(verdict(&h, &kv()), expected, "{seen}");
    }
}

#[test]
fn a_read_may_see_an_indeterminate_write_invoked_before_it_completed() {
    let h = [
        with(write(0, 5, 6, 7), Completion::Unknown),
        read(1, 0, 10, int(7)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    let h = [
        with(write(0, 11, 12, 7), Completion::Unknown),
        read(1, 0, 10, int(7)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
}

#[test]
fn a_compare_and_set_may_expect_what_a_concurrent_write_sets() {
    let cas = |p, c, r, from: i128, to: i128| {
        op(
            p,
            c,
            r,
            Input::Cas {
                expected: int(from),
                new: int(to),
            },
            None,
        )
    };
    let h = [
        write(0, 0, 10, 3),
        cas(1, 1, 9, 3, 4),
        read(2, 11, 12, int(4)),
    ];
    assert_eq!(verdict(&h, &Semantics::dsim()), LIN);
    // The write comes after the compare-and-set completed: it expected a value nobody set.
    let h = [write(0, 10, 11, 3), cas(1, 1, 9, 3, 4)];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    // A compare-and-set `a → a` sets nothing new: it does not make `a` reachable.
    let h = [cas(0, 0, 10, 5, 5), read(1, 1, 9, int(5))];
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
}

#[test]
fn a_later_read_counts_everything_invoked_before_its_own_completion() {
    // The second read needs `append "b"`, invoked after the first completion: looking ahead
    // from the start, only what was invoked before that read's completion may precede it.
    let h = [
        append(0, 0, 2, "a"),
        read(1, 1, 3, s("a")),
        append(2, 4, 5, "b"),
        read(3, 6, 7, s("ab")),
    ];
    assert_eq!(verdict(&h, &kv()), LIN);
    let h = [
        append(0, 0, 2, "a"),
        read(1, 1, 3, s("a")),
        put(2, 4, 5, "x"),
        append(3, 5, 6, "y"),
        read(4, 7, 8, s("xy")),
    ];
    assert_eq!(verdict(&h, &kv()), LIN);
    // Swap the last two: `append "y"` now comes after the read of "xy".
    let h = [
        append(0, 0, 2, "a"),
        read(1, 1, 3, s("a")),
        put(2, 4, 5, "x"),
        read(4, 7, 8, s("xy")),
        append(3, 9, 10, "y"),
    ];
    assert_eq!(verdict(&h, &kv()), NOT);
}

#[test]
fn the_blocking_operation_is_the_first_that_cannot_be_passed_even_when_seen_from_afar() {
    // From the very start the look-ahead sees that nothing writes 3, so the search stops at
    // the first completion; the explanation must still name the read of 3, after four
    // operations that are fine.
    let h = [
        write(0, 0, 1, 1),
        read(1, 2, 3, int(1)),
        write(2, 4, 5, 2),
        read(3, 6, 7, int(2)),
        read(4, 8, 9, int(3)),
    ];
    let report = check_ops(&h, &Semantics::dsim(), &Budget::default(), None);
    let v = report.violation.expect("a violation");
    assert_eq!(v.blocking, 4);
    assert_eq!(v.prefix, vec![0, 1, 2, 3]);
    assert_eq!(v.prefix_state, Some(int(2)));
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
    // With appends the look-ahead goes four reads deep: once "x" is written it sees that
    // nothing can make "q", two reads before the search gets there.
    let h = [
        put(0, 0, 1, "x"),
        read(1, 2, 3, s("x")),
        append(2, 4, 5, "y"),
        read(3, 6, 7, s("xy")),
        read(4, 8, 9, s("q")),
    ];
    let report = check_ops(&h, &kv(), &Budget::default(), None);
    let v = report.violation.expect("a violation");
    assert_eq!(v.blocking, 4);
    assert_eq!(v.prefix, vec![0, 1, 2, 3]);
    assert_eq!(v.prefix_state, Some(s("xy")));
    assert_eq!(verdict(&h, &kv()), NOT);
    // The same with an indeterminate write, which also runs the relaxed search.
    let mut h = h.to_vec();
    h.insert(0, with(write(9, 0, 1, 5), Completion::Unknown));
    let report = check_ops(&h, &Semantics::dsim(), &Budget::default(), None);
    assert_eq!(report.violation.expect("a violation").blocking, 5);
    assert_eq!(verdict(&h, &Semantics::dsim()), NOT);
}

/// `n` operations on one key with appends, writes and reads of short strings over `a` and
/// `b`, so that read values often are, and often are not, prefixes of each other.
fn random_append_history(rng: &mut Rng, n: usize) -> Vec<LinOp> {
    let word = |rng: &mut Rng| -> String {
        (0..rng.below(4))
            .map(|_| if rng.below(2) == 0 { 'a' } else { 'b' })
            .collect()
    };
    (0..n)
        .map(|p| {
            let call = rng.below(20);
            let ret = call + rng.below(10);
            let (input, output) = match rng.below(5) {
                0 | 1 => (Input::Read, Some(s(&word(rng)))),
                2 => (Input::Write(s(&word(rng))), None),
                _ => (
                    Input::Append(s(if rng.below(2) == 0 { "a" } else { "b" })),
                    None,
                ),
            };
            let completion = match rng.below(8) {
                0 => Completion::Unknown,
                1 => Completion::Fail,
                _ => Completion::Ok,
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
fn agrees_with_brute_force_on_random_histories_with_appends() {
    let mut rng = Rng(99);
    let (mut lin, mut not) = (0, 0);
    for case in 0..3000 {
        let n = 2 + rng.below(11) as usize;
        let h = random_append_history(&mut rng, n);
        let sem = if case % 2 == 0 {
            kv()
        } else {
            Semantics::dsim()
        };
        if agrees_with_brute_force(&h, &sem, case) {
            lin += 1;
        } else {
            not += 1;
        }
    }
    assert!(lin > 300 && not > 300, "linearizable {lin}, not {not}");
}

#[test]
fn appends_in_one_order_agree_with_brute_force() {
    // One operation after another: replayed without a search (keys::in_one_order), appends
    // included; a violation is explained by a search of the same operations compiled afresh.
    let mut rng = Rng(4242);
    let (mut lin, mut not) = (0, 0);
    for case in 0..2000 {
        let n = 1 + rng.below(8) as usize;
        let mut h = random_append_history(&mut rng, n);
        in_one_order(&mut rng, &mut h, 0);
        let sem = [kv(), Semantics::dsim()][case % 2].clone();
        if agrees_with_brute_force(&h, &sem, case) {
            lin += 1;
        } else {
            not += 1;
        }
    }
    assert!(lin > 200 && not > 200, "linearizable {lin}, not {not}");
}

/// The forced-candidate walk skips an invocation whose look-ahead entry is not `NONE` as not
/// read-only: the two must agree for every kind of step (values and equal or differing
/// compare-and-set operands included), and a completion's entry is never a value.
#[test]
fn an_invocations_look_ahead_entry_is_none_exactly_when_read_only() {
    use super::model::{CompiledOp, Step};
    let mut steps = Vec::new();
    for a in [0u32, 2, 7] {
        steps.extend([
            Step::Read(a),
            Step::Write(a),
            Step::CasFailed(a),
            Step::Append(a),
        ]);
        for b in [0u32, 2, 7] {
            steps.push(Step::Cas(a, b));
        }
    }
    for step in steps {
        let op = CompiledOp {
            step,
            index: 0,
            call: 1,
            ret: Some(2),
        };
        let entry = super::reach::event_value(&op, true);
        assert_eq!(entry == u32::MAX, step.read_only(), "{step:?}");
        let completion = super::reach::event_value(&op, false);
        assert!(
            completion == u32::MAX || completion >= super::reach::NEEDS,
            "{step:?}"
        );
    }
}

/// An event keeps its operation's index and whether it is the invocation side by side, for
/// every index a search allows (the largest included) and every look-ahead entry, and starts
/// unlinked; the sentinel has no links.
#[test]
fn an_event_keeps_its_operation_and_kind() {
    use super::reach::{Event, APPENDS, NEEDS};
    let max = super::search::OPERATIONS_MAX as u32;
    let mut rng = super::tests::Rng(0xe7e7);
    let mut ops = vec![0, 1, 2, max - 1, max, (1 << 30) - 1];
    ops.extend((0..200).map(|_| rng.below(u64::from(max) + 1) as u32));
    for op in ops {
        for call in [false, true] {
            for look in [0, 5, NEEDS, NEEDS + 9, APPENDS, u32::MAX] {
                let e = Event::new(op, call, look);
                assert_eq!((e.op(), e.is_call(), e.look), (op, call, look));
                assert_eq!((e.next, e.prev), (u32::MAX, u32::MAX));
            }
        }
    }
    assert_eq!((Event::EMPTY.next, Event::EMPTY.prev), (u32::MAX, u32::MAX));
}
