//! `dsim check --jobs N`: keys checked on N threads give exactly the one-thread report — the
//! same verdict, the same failing key (the first in round-robin order, not the first thread to
//! finish), the same explanation and step count — on the shared real histories, when several
//! keys fail and the first one only after a long search, and when a budget runs out (where the
//! threads hand over to one).

use std::path::{Path, PathBuf};

use dsim::check::{main, CheckArgs, Model};
use dsim::check_jobs::check_ops_jobs;
use dsim::exit;
use dsim::histfmt::Format;
use scenarios::history::read::{prepare, ReadOptions};
use sim_core::check::linearizability::{
    check_ops, Budget, Completion, Input, LinOp, LinReport, LinVerdict, Semantics, UnknownReason,
    Value,
};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/histories")
}

fn never() -> bool {
    false
}

/// The one-thread report, and the same with 2, 3 and 8 threads.
fn assert_same_with_jobs(ops: &[LinOp], sem: &Semantics, budget: &Budget, what: &str) -> LinReport {
    let one = check_ops(ops, sem, budget, None);
    for jobs in [2, 3, 8] {
        let many = check_ops_jobs(ops, sem, budget, jobs, &never);
        assert_eq!(many, one, "{what} with {jobs} jobs");
    }
    one
}

fn op(key: i128, process: u64, call: u64, ret: u64, input: Input, output: Option<Value>) -> LinOp {
    LinOp {
        process,
        key: Value::Int(key),
        call,
        ret: Some(ret),
        input,
        output,
        completion: Completion::Ok,
    }
}

/// A key that fails only after a long search: `n` concurrent writes, then reads of 0, 1 and 0
/// (each written by someone, but in no order of the writes).
fn slow_failure(key: i128, n: u64) -> Vec<LinOp> {
    let mut h: Vec<LinOp> = (0..n)
        .map(|i| {
            op(
                key,
                i,
                i,
                1000 + i,
                Input::Write(Value::Int(i as i128)),
                None,
            )
        })
        .collect();
    for (i, v) in [0, 1, 0].into_iter().enumerate() {
        let t = 2000 + 2 * i as u64;
        h.push(op(key, 100, t, t + 1, Input::Read, Some(Value::Int(v))));
    }
    h
}

/// A key that fails at once: a read of a value nobody wrote.
fn quick_failure(key: i128) -> Vec<LinOp> {
    vec![
        op(key, 0, 0, 1, Input::Write(Value::Int(1)), None),
        op(key, 1, 2, 3, Input::Read, Some(Value::Int(2))),
    ]
}

#[test]
fn every_shared_history_gets_the_one_thread_report() {
    let root = shared();
    let mut files = 0;
    for (dir, initial) in [
        ("porcupine/etcd", None),
        ("porcupine/kv", None),
        ("knossos/cas-register/good", Some(Value::Int(0))),
        ("knossos/cas-register/bad", Some(Value::Int(0))),
    ] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("the shared histories")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "VERDICTS"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable");
            let opts = ReadOptions {
                initial: initial.clone(),
                ..ReadOptions::default()
            };
            let p = prepare(&text, &opts).expect("parses");
            assert_same_with_jobs(
                &p.history.ops,
                &p.semantics,
                &Budget::default(),
                &path.display().to_string(),
            );
            files += 1;
        }
    }
    assert!(files >= 120, "{files} files");
}

#[test]
fn the_failing_key_is_the_first_in_round_robin_order_not_the_first_thread_to_finish() {
    // Key 0 fails after a long search, keys 1 and 2 at once: one thread reports key 1 (in the
    // first round, before key 2), however the threads are scheduled.
    let mut ops = slow_failure(0, 14);
    ops.extend(quick_failure(1));
    ops.extend(quick_failure(2));
    let report = assert_same_with_jobs(&ops, &Semantics::dsim(), &Budget::default(), "three keys");
    assert_eq!(report.verdict, LinVerdict::NotLinearizable);
    assert_eq!(report.violation.expect("a violation").key, Value::Int(1));
    // Alone, the slow key does fail: it is not chosen because it comes later, not because it
    // passes.
    let alone = check_ops(
        &slow_failure(0, 14),
        &Semantics::dsim(),
        &Budget::default(),
        None,
    );
    assert_eq!(alone.verdict, LinVerdict::NotLinearizable);
    // Porcupine's kv histories with violations: several keys fail.
    let text =
        std::fs::read_to_string(shared().join("porcupine/kv/c10-bad.txt")).expect("readable");
    let p = prepare(&text, &ReadOptions::default()).expect("parses");
    assert_same_with_jobs(&p.history.ops, &p.semantics, &Budget::default(), "c10-bad");
}

#[test]
fn when_a_budget_runs_out_the_threads_hand_over_to_one() {
    let mut ops = slow_failure(0, 14);
    ops.extend(slow_failure(1, 12));
    ops.extend(quick_failure(2));
    let sem = Semantics::dsim();
    // Steps: one thread runs out before reaching key 2's failure.
    let steps = Budget {
        steps_max: 1_500,
        ..Budget::default()
    };
    let report = assert_same_with_jobs(&ops, &sem, &steps, "small step budget");
    assert_eq!(report.verdict, LinVerdict::Unknown);
    // Memory: one thread frees the biggest memo; each thread's share is smaller still.
    let memory = Budget {
        memory_bytes_max: 200_000,
        ..Budget::default()
    };
    let report = assert_same_with_jobs(&slow_failure(0, 16), &sem, &memory, "small memory");
    assert_eq!(report.verdict, LinVerdict::Unknown);
    assert_eq!(report.unknown[0].reason, UnknownReason::Memory);
    // Two keys competing for memory: one thread gives up the one with the biggest memo.
    let mut two = slow_failure(0, 10);
    two.extend(slow_failure(1, 10));
    let report = assert_same_with_jobs(&two, &sem, &memory, "two keys, small memory");
    assert_eq!(report.verdict, LinVerdict::Unknown, "{report:?}");
}

#[test]
fn the_jobs_flag_gives_the_same_exit_code_and_refuses_zero() {
    let dir = std::env::temp_dir().join(format!("dsim-check-jobs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("c10-bad.txt");
    std::fs::copy(shared().join("porcupine/kv/c10-bad.txt"), &path).expect("copy");
    let args = |jobs| CheckArgs {
        files: vec![path.clone()],
        format: Format::Auto,
        model: Model::Auto,
        initial: None,
        convention: None,
        json: true,
        explain: None,
        time_limit: 60.0,
        memory_limit: 2048,
        steps_max: None,
        jobs,
    };
    assert_eq!(main(args(1)), exit::FAIL);
    assert_eq!(main(args(4)), exit::FAIL);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(["check", "--jobs", "0"])
        .arg(&path)
        .output()
        .expect("dsim runs");
    assert_eq!(out.status.code(), Some(2));
}
