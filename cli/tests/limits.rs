//! Issue 13 on the real binary: inputs that made dsim allocate without bound, hang or lie now
//! end quickly with a clear error and a documented exit code, and the memory ceiling stops a
//! process that grows past it (exit code 7).

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

mod common;
use common::{dsim_with, repo, stderr};

fn dsim(args: &[&str]) -> Output {
    dsim_with(args, &[])
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `scenarios/raft/random-faults.ron` with `from` replaced by `to`.
fn raft_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(repo().join("scenarios/raft/random-faults.ron")).unwrap();
    assert!(text.contains(from), "{from}");
    text.replace(from, to).into_bytes()
}

/// Runs `dsim validate FILE` and returns its exit code and error text, asserting it answered
/// quickly (each of these once took seconds to minutes, or gigabytes).
fn validate(name: &str, bytes: &[u8]) -> (i32, String) {
    let path = temp_file(name, bytes);
    let start = Instant::now();
    let out = dsim(&["validate", path.to_str().unwrap()]);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{name} took {:?}",
        start.elapsed()
    );
    (out.status.code().unwrap_or(-1), stderr(&out))
}

#[test]
fn small_inputs_that_were_unbounded_are_rejected_with_file_line_col() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // 64 KB of nested parentheses took 2.1 GB; 100k levels never answered.
        (
            "nested.ron",
            "(".repeat(100_000).into_bytes(),
            ":1:65: brackets nest deeper than 64 levels here",
        ),
        // A fault every 10 µs for a minute: 7 million faults planned before the run.
        (
            "rate.ron",
            raft_with("interval_mean: \"1s\"", "interval_mean: \"10us\""),
            "the nemesis would plan about `6000000` faults",
        ),
        // 100,000-node Raft aborted on a failed multi-gigabyte allocation.
        (
            "raft100k.ron",
            raft_with("nodes: 5,", "nodes: 100000,"),
            "protocol `Raft` runs on `1` to `1000` nodes; the scenario has `100000`",
        ),
        (
            "latin1.ron",
            b"Scenario(\n  name: \"caf\xe9\",\n)".to_vec(),
            "latin1.ron:2:13: the file is not valid UTF-8: byte `0xe9` here",
        ),
        ("empty.ron", Vec::new(), "empty.ron:1:1: the file is empty"),
    ];
    for (name, bytes, want) in cases {
        let (code, err) = validate(name, &bytes);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
    }
    // A README is not a scenario, and says so instead of leaking a RON message.
    let out = dsim(&["validate", "README.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("README.md:1:1: this is not a scenario file: it starts with `# dsim"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_process_over_its_memory_ceiling_stops_with_exit_code_7() {
    // Any run is above 1 MiB of resident memory; the ten-thousand-node benchmark runs long
    // enough for the watchdog to look.
    let out = dsim(&[
        "run",
        "scenarios/bench/w3-hot-potato-10k.ron",
        "--memory-max",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("more than --memory-max 1 MiB, and was stopped"),
        "{err}"
    );
    assert!(
        err.contains("while: dsim run scenarios/bench/w3-hot-potato-10k.ron --memory-max 1"),
        "{err}"
    );
    // The default ceiling leaves an ordinary run alone; 0 means none.
    let out = dsim(&["run", "scenarios/gossip/partition-heal.ron"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = dsim(&[
        "run",
        "scenarios/gossip/partition-heal.ron",
        "--memory-max",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn cap_without_a_partition_has_nothing_to_compare() {
    let out = dsim(&["cap", "scenarios/raft/initial-election.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the scenario has no partition: there is nothing to compare"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_cap_report_of_a_random_nemesis_counts_operations_by_side() {
    let out = dsim(&["run", "scenarios/raft/random-faults.ron", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cap = &j["cap"];
    let ops = |side: &str| cap[side]["ops"].as_u64().unwrap_or(0);
    assert!(ops("majority") > 50, "{cap}");
    assert!(ops("minority") > 5, "{cap}");
    assert!(cap["crossed"]["ops"].is_u64(), "{cap}");
    // The partition is written as the scenario would write it, not as Rust Debug text.
    let p = cap["windows"][0]["partition"].as_str().unwrap();
    assert!(p.starts_with("Split([["), "{p}");
}

#[test]
fn trace_files_open_with_a_header_and_name_each_delivery() {
    let dir = std::env::temp_dir().join(format!("dsim-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let out = dsim(&[
        "run",
        "scenarios/raft/leader-partition.ron",
        "--seed",
        "3",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["ev"], "header");
    assert_eq!(header["scenario"], "raft-leader-partition");
    assert_eq!(header["seed"], 3);
    assert_eq!(header["dsim"], env!("CARGO_PKG_VERSION"));
    let params = header["parameters"].as_str().unwrap();
    assert!(
        params.contains("seed: 3,") && params.contains("protocol: Raft("),
        "{params}"
    );
    let kinds: Vec<String> = lines
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["ev"] == "deliver")
        .map(|v| v["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!kinds.is_empty());
    assert!(kinds.iter().all(|k| !k.is_empty()), "{kinds:?}");
    for k in ["AppendEntries", "RequestVote", "Get"] {
        assert!(
            kinds.iter().any(|x| x.contains(k)),
            "no {k} delivered: {:?}",
            &kinds[..10]
        );
    }
}
