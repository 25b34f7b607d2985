//! `dsim bench history`: the generated histories are what their description says — dsim's
//! clients' format, linearizable by construction (every request applied at an instant inside
//! its interval, timed-out ones applied or not), the same for the same seed — and the checker
//! decides them: a violation planted in a long history over many keys with timeouts is found.

use dsim::bench_history::{generate, HistorySpec};
use sim_core::check::linearizability::{check_history, LinOptions};
use sim_core::check::Verdict;
use sim_core::Outcome;

fn spec(ops: usize, clients: u32, keys: u64) -> HistorySpec {
    HistorySpec {
        ops,
        clients,
        keys,
        values: 5,
        timeouts: 0.05,
        seed: 7,
        violation: false,
    }
}

#[test]
fn generated_histories_are_linearizable_and_reproducible() {
    for (ops, clients, keys) in [(20_000, 5, 1), (20_000, 50, 20), (5_000, 100, 3)] {
        let s = spec(ops, clients, keys);
        let h = generate(&s);
        assert_eq!(h.ops.len(), ops);
        let unknown = h
            .ops
            .iter()
            .filter(|o| matches!(o.completion, Some((_, Outcome::Unknown))))
            .count();
        assert!(
            unknown > ops / 40 && unknown < ops / 10,
            "{unknown} timeouts"
        );
        let result = check_history(&h, &LinOptions::default());
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "{ops} {clients} {keys}: {}",
            result.detail
        );
        assert_eq!(generate(&s), h, "the same seed, the same history");
    }
}

#[test]
fn a_planted_violation_is_found_in_a_long_history() {
    let s = HistorySpec {
        violation: true,
        ..spec(50_000, 20, 100)
    };
    let result = check_history(&generate(&s), &LinOptions::default());
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result.detail.contains("read → 18446744073709551615"),
        "{}",
        result.detail
    );
}
