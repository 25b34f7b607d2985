//! `dsim shrink`, `dsim sweep --shrink` and the evidence in `dsim run --json`, on the real
//! binary: exit codes, `--json` fields, the written file (valid, failing, the same in two
//! processes with different thread counts) and its diagram.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{json, repo, stderr};

fn dsim(args: &[&str]) -> Output {
    common::dsim_with(args, &[])
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-shrink-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const BUG: &str = "scenarios/raft/bug-no-consistency-check.ron";

#[test]
fn shrink_writes_a_failing_file_its_diagram_and_the_json_fields() {
    let dir = temp_dir("json");
    let out = dir.join("shrunk.ron");
    let o = dsim(&[
        "shrink",
        BUG,
        "--seed",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    for f in [
        "scenario",
        "seed",
        "shrunk_seed",
        "check",
        "before",
        "after",
        "runs",
        "budget_runs",
        "budget_exhausted",
        "out",
        "diagram",
        "reproduce",
        "wall_s",
    ] {
        assert!(v.get(f).is_some(), "missing `{f}` in {v}");
    }
    for f in [
        "faults",
        "client_operations",
        "events",
        "sim_time_ns",
        "nodes",
        "clients",
    ] {
        assert!(
            v["before"].get(f).is_some() && v["after"].get(f).is_some(),
            "{f}: {v}"
        );
    }
    assert_eq!(v["check"], "state-machine-safety");
    assert!(v["after"]["faults"].as_u64().unwrap() <= 5, "{v}");
    assert!(
        v["after"]["events"].as_u64() < v["before"]["events"].as_u64(),
        "{v}"
    );
    assert_eq!(v["reproduce"], format!("dsim run {}", out.display()));
    let text = std::fs::read_to_string(&out).unwrap();
    let runs_at = format!("    seed: {},\n", v["shrunk_seed"]);
    assert!(
        text.contains(&runs_at),
        "the file runs at `shrunk_seed`:\n{text}"
    );
    assert!(
        text.starts_with("// Shrunk from `scenarios/raft/bug-no-consistency-check.ron` at seed 0"),
        "{text}"
    );
    assert!(
        text.contains("expect: Violation([\"state-machine-safety\"])"),
        "{text}"
    );
    assert!(!text.contains("nemesis:"), "{text}");
    // The file reproduces the failure: exit code 1, as expected.
    let r = dsim(&["run", out.to_str().unwrap(), "--json"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert_eq!(json(&r)["as_expected"], true);
    let html = std::fs::read_to_string(v["diagram"].as_str().unwrap()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("state-machine-safety"));
}

#[test]
fn the_shrunk_file_is_the_same_in_two_processes_with_different_thread_counts() {
    let dir = temp_dir("determinism");
    let (a, b) = (dir.join("a.ron"), dir.join("b.ron"));
    let bug = "scenarios/paxos/bug-no-adopt-accepted.ron";
    for (path, jobs) in [(&a, "1"), (&b, "2")] {
        let o = dsim(&[
            "shrink",
            bug,
            "--seed",
            "0",
            "--budget-runs",
            "200",
            "--jobs",
            jobs,
            "--no-diagram",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(a == b, "the two shrunk files differ");
    assert!(
        !dir.join("a.html").exists(),
        "--no-diagram writes no diagram"
    );
}

#[test]
fn shrink_refuses_what_it_cannot_shrink_with_exit_code_2() {
    let o = dsim(&[
        "shrink",
        BUG,
        "--seed",
        "0",
        "--check",
        "agreement",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("does not run the check `agreement`"),
        "{}",
        stderr(&o)
    );
    let o = dsim(&[
        "shrink",
        "scenarios/raft/initial-election.ron",
        "--seed",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no check fails at seed 0"),
        "{}",
        stderr(&o)
    );
    let o = dsim(&["shrink", BUG]);
    assert_eq!(o.status.code(), Some(2), "--seed is required");
    // An absurd number of other seeds is refused, not allocated (it aborted before).
    let o = dsim(&[
        "shrink",
        BUG,
        "--seed",
        "0",
        "--other-seeds",
        "100000000000",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not in 0..=65536"), "{}", stderr(&o));
}

#[test]
fn sweep_shrink_shrinks_the_first_failing_seed_of_each_check() {
    let dir = temp_dir("sweep");
    let file = dir.join("bug.ron");
    std::fs::copy(
        repo().join("scenarios/primary-backup/bug-stale-backup-reads.ron"),
        &file,
    )
    .unwrap();
    let o = dsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--seeds",
        "3..6",
        "--shrink",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    let shrunk = v["shrunk"].as_array().expect("a `shrunk` list");
    assert_eq!(shrunk.len(), 1, "one failing check: {v}");
    assert_eq!(shrunk[0]["seed"], 3);
    assert_eq!(shrunk[0]["check"], "linearizable");
    let out = shrunk[0]["out"].as_str().unwrap();
    assert!(out.ends_with("bug.seed3.linearizable.shrunk.ron"), "{out}");
    assert_eq!(dsim(&["run", out]).status.code(), Some(1));
}

#[test]
fn run_json_gives_each_check_its_evidence() {
    let o = dsim(&[
        "run",
        "scenarios/primary-backup/bug-stale-backup-reads.ron",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let c = &v["checks"][0];
    assert_eq!(c["name"], "linearizable");
    let ops = c["evidence"]["operations"].as_array().expect("operations");
    assert!(!ops.is_empty(), "the smallest failing window: {c}");
    assert!(c["evidence"]["moments"].is_array());
    let o = dsim(&["run", "scenarios/raft/bug-forget-vote.ron", "--json"]);
    let v = json(&o);
    let es = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "election-safety")
        .unwrap();
    let moments = es["evidence"]["moments"].as_array().unwrap();
    assert_eq!(moments.len(), 2, "the two leaders of one term: {es}");
    for m in moments {
        assert!(
            m["t_ns"].is_u64() && m["node"].is_u64() && m["what"].is_string(),
            "{m}"
        );
    }
}
