//! The example's command line: dsim's whole CLI over the example's registry — in-process
//! through `dsim::run_cli` (exit codes), and as the `chain-replication` binary for what the
//! CLI prints (`--json`, `list`, error messages), since `run_cli` prints to the process's
//! own stdout and stderr.

mod common;

use std::ffi::OsString;
use std::process::{Command, Output};

use dsim::exit;

/// The CLI over `registry`, named like the binary.
fn run_cli(registry: scenarios::Registry, args: &[&str]) -> i32 {
    let env = dsim::Env {
        registry,
        program: "chain-replication".to_string(),
    };
    let argv = std::iter::once("chain-replication").chain(args.iter().copied());
    dsim::run_cli(&env, argv.map(OsString::from))
}

fn cli(args: &[&str]) -> i32 {
    run_cli(chain_replication::registry(), args)
}

fn file(name: &str) -> String {
    common::path(name).display().to_string()
}

fn binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chain-replication"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {text}"))
}

#[test]
fn run_cli_exit_codes() {
    assert_eq!(cli(&["run", &file("basic")]), exit::PASS);
    assert_eq!(
        cli(&["run", &file("crash-head"), "--check-determinism"]),
        exit::PASS
    );
    // A bug scenario fails its checks as it expects to: the verdict is still a failure.
    assert_eq!(cli(&["run", &file("bug-ack-at-head")]), exit::FAIL);
    assert_eq!(
        cli(&["validate", &file("basic"), &file("crash-tail")]),
        exit::PASS
    );
    assert_eq!(cli(&["run", &file("no-such-scenario")]), exit::BAD_INPUT);
    assert_eq!(
        cli(&["run"]),
        exit::BAD_INPUT,
        "a missing argument is a usage error"
    );
}

#[test]
fn the_registry_is_what_makes_the_protocol_known() {
    // dsim's own protocols stay available beside the example's ...
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let primary_backup = repo.join("scenarios/primary-backup/basic.ron");
    assert_eq!(cli(&["run", primary_backup.to_str().unwrap()]), exit::PASS);
    // ... and dsim's registry alone does not know `ChainReplication`.
    assert_eq!(
        run_cli(protocols::builtin(), &["validate", &file("basic")]),
        exit::BAD_INPUT
    );
}

#[test]
fn run_json_reports_the_protocol_its_checks_and_the_reproduce_command() {
    let out = binary(&["run", &file("basic"), "--json"]);
    assert_eq!(out.status.code(), Some(exit::PASS));
    let v = json(&out);
    assert_eq!(v["protocol"], "ChainReplication");
    assert_eq!(v["scenario"], "chain-basic");
    assert_eq!(v["seed"], 1);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["as_expected"], true);
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["linearizable", "acked-on-every-replica"]);
    assert_eq!(v["checks"][1]["metrics"]["replicas_checked"], 3.0);
    let reproduce = v["reproduce"].as_str().unwrap();
    assert!(
        reproduce.starts_with("chain-replication run ") && reproduce.ends_with("--seed 1"),
        "{reproduce}"
    );
    // The same run in another process has the same trace hash; another seed has another.
    let again = json(&binary(&["run", &file("basic"), "--json"]));
    assert_eq!(again["trace_hash"], v["trace_hash"]);
    let other = json(&binary(&["run", &file("basic"), "--json", "--seed", "9"]));
    assert_eq!(other["seed"], 9);
    assert_ne!(other["trace_hash"], v["trace_hash"]);
}

#[test]
fn run_json_of_a_bug_scenario_is_a_failure_as_expected() {
    let out = binary(&[
        "run",
        &file("bug-ack-at-head"),
        "--json",
        "--check-determinism",
    ]);
    assert_eq!(out.status.code(), Some(exit::FAIL));
    let v = json(&out);
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["expected"], "violation");
    assert_eq!(v["as_expected"], true);
    assert_eq!(v["determinism"]["deterministic"], true);
    for c in v["checks"].as_array().unwrap() {
        assert_eq!(c["verdict"], "fail", "{c}");
    }
}

#[test]
fn list_and_validate_speak_of_the_example() {
    let list = binary(&["list"]);
    assert_eq!(list.status.code(), Some(exit::PASS));
    let text = String::from_utf8_lossy(&list.stdout);
    for word in ["ChainReplication", "acked-on-every-replica", "Raft"] {
        assert!(text.contains(word), "`{word}` not in `list`:\n{text}");
    }
    // The example's own scenario folder (`Registry::with_scenarios`) is listed with each
    // file's description, after dsim's shipped ones.
    let own = text
        .find("scenarios in examples/chain-replication/scenarios:")
        .unwrap_or_else(|| panic!("the example's folder is not in `list`:\n{text}"));
    assert!(own > text.find("shipped scenarios:").unwrap(), "{text}");
    assert!(
        text[own..].contains("examples/chain-replication/scenarios/crash-head.ron")
            && text[own..].contains("the head crashes: its successor becomes the head"),
        "{text}"
    );
    let bad = std::env::temp_dir().join(format!("chain-bad-{}.ron", std::process::id()));
    let text = std::fs::read_to_string(common::path("basic")).unwrap();
    std::fs::write(&bad, text.replace("chain_length: 3", "chain_length: 7")).unwrap();
    let out = binary(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(exit::BAD_INPUT));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:14:46:", bad.display())), "{err}");
    assert!(
        err.contains("a chain of `7` servers needs `8` nodes"),
        "{err}"
    );
    assert!(
        err.contains("hint: lower `chain_length` to at most `3`"),
        "{err}"
    );
}
