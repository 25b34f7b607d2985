//! The CLI contract, tested on the real binary: exit codes, `--json` fields, error messages
//! with `file:line:col`, determinism across processes, sweep output.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{json, repo, stderr};

fn dsim(args: &[&str]) -> Output {
    common::dsim_with(args, &[])
}

const GOSSIP: &str = "scenarios/gossip/partition-heal.ron";

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn run_json_has_the_documented_fields_and_is_deterministic_across_processes() {
    let a = dsim(&["run", GOSSIP, "--seed", "7", "--json"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    let v = json(&a);
    for field in [
        "seed",
        "trace_hash",
        "events",
        "sim_time_ns",
        "wall_s",
        "messages_sent",
        "messages_delivered",
        "messages_dropped",
        "verdict",
        "checks",
        "expected",
        "as_expected",
    ] {
        assert!(v.get(field).is_some(), "missing `{field}` in {v}");
    }
    assert_eq!(v["seed"], 7);
    let hash = v["trace_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["expected"], "pass");
    assert_eq!(v["as_expected"], true);
    let check = &v["checks"][0];
    assert!(
        check["name"].is_string() && check["verdict"].is_string() && check["detail"].is_string()
    );

    let again = json(&dsim(&["run", GOSSIP, "--seed", "7", "--json"]));
    assert_eq!(
        again["trace_hash"],
        hash.as_str(),
        "same seed, different hash"
    );
    let other = json(&dsim(&["run", GOSSIP, "--seed", "8", "--json"]));
    assert_ne!(
        other["trace_hash"],
        hash.as_str(),
        "seeds 7 and 8 gave the same hash"
    );
}

#[test]
fn run_text_prints_seed_first_and_the_reproduce_command() {
    let out = dsim(&["run", GOSSIP, "--seed", "11"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("seed: 11\n"), "{text}");
    assert!(text.contains("trace-hash: "));
    assert!(text.contains(&format!("reproduce: dsim run {GOSSIP} --seed 11")));
    assert!(text.contains("as expected"));
}

#[test]
fn check_determinism_reports_identical_runs() {
    let out = dsim(&["run", GOSSIP, "--check-determinism"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("determinism: ok"));
}

#[test]
fn a_bug_scenario_fails_its_check_as_expected_with_exit_1() {
    let out = dsim(&[
        "run",
        "scenarios/gossip/bug-ack-before-persist.ron",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["expected"], "violation");
    assert_eq!(v["as_expected"], true);
}

#[test]
fn a_syntax_error_exits_2_with_file_line_col() {
    let p = temp_file(
        "syntax.ron",
        "Scenario(\n    name: \"x\",\n    seed: 1,\n    duration: \"1s\"\n    nodes: 3,\n)\n",
    );
    let out = dsim(&["run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:", p.display())), "{err}");
    assert!(err.contains(":5:"), "names line 5: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unknown_field_exits_2_and_names_the_field() {
    let text = std::fs::read_to_string(repo().join(GOSSIP))
        .unwrap()
        .replacen("seed:", "colour: \"blue\",\n    seed:", 1);
    let p = temp_file("unknown.ron", &text);
    for cmd in ["run", "validate"] {
        let out = dsim(&[cmd, p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.contains("colour"), "{err}");
        let line = text.lines().position(|l| l.contains("colour")).unwrap() + 1;
        assert!(err.contains(&format!("unknown.ron:{line}:")), "{err}");
    }
}

#[test]
fn a_missing_file_and_bad_usage_exit_2() {
    assert_eq!(dsim(&["run", "no/such/file.ron"]).status.code(), Some(2));
    assert_eq!(dsim(&["run"]).status.code(), Some(2));
    assert_eq!(dsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        dsim(&["sweep", GOSSIP, "--seeds", "5..2"]).status.code(),
        Some(2)
    );
    assert_eq!(dsim(&["--help"]).status.code(), Some(0));
}

#[test]
fn validate_and_list_cover_the_shipped_scenarios() {
    let out = dsim(&["validate", GOSSIP, "scenarios/bench/w2-hot-potato.ron"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = dsim(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Gossip",
        "convergence",
        "partition",
        "gossip/partition-heal.ron",
        "bench/w1-ping-pong.ron",
    ] {
        assert!(text.contains(needle), "`dsim list` lacks {needle}: {text}");
    }
    assert!(!text.contains("INVALID"), "{text}");
}

#[test]
fn sweep_json_lists_failing_seeds_and_shards_split_the_range() {
    let out = dsim(&[
        "sweep",
        "scenarios/gossip/bug-ack-before-persist.ron",
        "--seeds",
        "0..6",
        "--jobs",
        "2",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["runs"], 6);
    assert!(v["failed"].as_u64().unwrap() >= 1);
    assert_eq!(
        v["failed"].as_u64().unwrap() as usize,
        v["failing_seeds"].as_array().unwrap().len()
    );
    assert!(v["wall_s"].is_number());
    let mut union = Vec::new();
    for shard in ["0/2", "1/2"] {
        let s = json(&dsim(&[
            "sweep",
            "scenarios/gossip/bug-ack-before-persist.ron",
            "--seeds",
            "0..6",
            "--shard",
            shard,
            "--json",
        ]));
        assert_eq!(s["runs"], 3);
        union.extend(
            s["failing_seeds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap()),
        );
    }
    union.sort_unstable();
    let all: Vec<u64> = v["failing_seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(union, all, "the shards' failures are the whole sweep's");
    let ok = dsim(&["sweep", GOSSIP, "--seeds", "0..4", "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(json(&ok)["failed"], 0);
}

#[test]
fn trace_and_history_files_are_written() {
    let dir = std::env::temp_dir().join(format!("dsim-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let history = dir.join("h.jsonl");
    let out = dsim(&[
        "run",
        GOSSIP,
        "--json",
        "--trace",
        trace.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let text = std::fs::read_to_string(&trace).unwrap();
    let sends = text
        .lines()
        .filter(|l| l.contains("\"ev\":\"send\""))
        .count() as u64;
    assert_eq!(sends, v["messages_sent"].as_u64().unwrap());
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    let h = std::fs::read_to_string(&history).unwrap();
    assert!(!h.is_empty());
    // Writing a trace file does not change the hash.
    let plain = json(&dsim(&["run", GOSSIP, "--json"]));
    assert_eq!(plain["trace_hash"], v["trace_hash"]);
    let bad = dsim(&["run", GOSSIP, "--trace", "/nonexistent-dir/t.jsonl"]);
    assert_eq!(bad.status.code(), Some(5));
}

const CAP: &str = "scenarios/cap/partition-compare.ron";

#[test]
fn cap_compares_protocols_on_one_partition() {
    let out = dsim(&["cap", CAP, "--protocols", "raft,primary-backup", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let name = row["protocol"].as_str().unwrap();
        // CP: linearizable, the majority side served, the minority side refused.
        assert_eq!(row["linearizable"], true, "{name}: {row}");
        let maj = row["availability"]["majority"].as_f64().unwrap();
        let min = row["availability"]["minority"].as_f64().unwrap();
        assert!(maj > 0.9, "{name}: majority availability {maj}");
        assert!(min < 0.05, "{name}: minority availability {min}");
        assert!(row["latency_ms"]["majority"]["p50"].as_f64().unwrap() > 0.0);
        assert!(
            row["latency_ms"]["minority"]["p50"].is_null(),
            "{name}: {row}"
        );
    }
    assert_eq!(rows[0]["protocol"], "raft");
    // The same partition report comes with `dsim run --json`.
    let run = json(&dsim(&["run", CAP, "--json"]));
    assert_eq!(
        run["cap"]["minority"]["availability"],
        rows[0]["availability"]["minority"]
    );
    assert_eq!(
        run["cap"]["windows"][0]["majority_nodes"],
        serde_json::json!([0, 1, 2])
    );
    // The default comparison, every registered protocol that can run the scenario: the CP
    // protocols refuse the minority side and stay linearizable; the leaderless store answers
    // on both sides and is not linearizable.
    let out = dsim(&["cap", CAP, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let rows = v["rows"].as_array().expect("rows");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["protocol"] == name)
            .unwrap_or_else(|| panic!("no row for {name}: {v}"))
            .clone()
    };
    let names: Vec<&str> = rows.iter().filter_map(|r| r["protocol"].as_str()).collect();
    assert_eq!(
        names,
        ["primary-backup", "raft", "paxos", "leaderless"],
        "every key-value protocol of the registry by default"
    );
    for cp in ["raft", "paxos"] {
        let r = row(cp);
        assert_eq!(r["linearizable"], true, "{r}");
        assert!(
            r["availability"]["minority"].as_f64().unwrap() < 0.05,
            "{r}"
        );
        assert!(r["availability"]["majority"].as_f64().unwrap() > 0.9, "{r}");
    }
    let leaderless = row("leaderless");
    assert_eq!(leaderless["linearizable"], false, "{leaderless}");
    for side in ["majority", "minority"] {
        let a = leaderless["availability"][side].as_f64().unwrap();
        assert!(a > 0.9, "leaderless {side} availability {a}");
    }
    // A run without partitions has no report.
    let plain = json(&dsim(&[
        "run",
        "scenarios/raft/initial-election.ron",
        "--json",
    ]));
    assert!(plain["cap"].is_null());
    // Bad input: an unknown protocol, a protocol that does not serve the workload.
    let out = dsim(&["cap", CAP, "--protocols", "raft,zab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown protocol `zab`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn registered_benchmarks_run_as_bench_subcommands() {
    let out = dsim(&["bench", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(help.contains("raft-election"), "{help}");
    let out = dsim(&[
        "bench",
        "raft-election",
        "--trials",
        "3",
        "--timeouts",
        "150-300",
        "--load",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("150-300 ms        3"), "{text}");
    let bad = dsim(&["bench", "raft-election", "--trials", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--trials must be at least 1"));
    let unknown = dsim(&["bench", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown benchmark `nope`"));
}
