//! Coverage on the real binary: `dsim run` lists what it reached, `dsim sweep` ends with the
//! coverage table and carries it in `--json`, a shard merge adds it up to the whole sweep's,
//! and `expect_reached` fails a run or sweep that misses a required situation (exit code 8).

mod common;

use common::{json, repo, stderr};

fn dsim(args: &[&str]) -> std::process::Output {
    common::dsim_with(args, &[])
}

const FOLLOWER_DOWN: &str = "scenarios/raft/follower-down.ron";

/// `follower-down.ron` with `expect_reached` set to `names`, in a temporary file.
fn requiring(names: &[&str]) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join(FOLLOWER_DOWN)).unwrap();
    let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let text = text.replace(
        "    expect: Pass,\n",
        &format!(
            "    expect: Pass,\n    expect_reached: [{}],\n",
            list.join(", ")
        ),
    );
    let dir = std::env::temp_dir().join(format!("dsim-coverage-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("req-{}.ron", names.len()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn run_lists_reached_situations_in_text_and_json() {
    let out = dsim(&["run", FOLLOWER_DOWN]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text.contains("reached ("), "{text}");
    assert!(
        text.contains("  node restarted from storage ×2 — first at 2.000000000s on n3"),
        "{text}"
    );
    let v = json(&dsim(&["run", FOLLOWER_DOWN, "--json"]));
    let reached = v["reached"].as_array().unwrap();
    let restart = reached
        .iter()
        .find(|r| r["situation"] == "node restarted from storage")
        .expect("listed");
    assert_eq!(restart["by"], "engine");
    assert_eq!(restart["count"], 2);
    assert_eq!(restart["first_ns"], 2_000_000_000u64);
    assert_eq!(restart["node"], 3);
    // The protocol's situations that this run did not reach are named.
    let not: Vec<&str> = v["not_reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        not.contains(&"snapshot installed from the leader"),
        "{not:?}"
    );
    assert_eq!(v["expect_reached_missing"], serde_json::json!([]));
}

#[test]
fn sweep_ends_with_the_coverage_table_and_shards_merge_to_it() {
    let whole = dsim(&["sweep", FOLLOWER_DOWN, "--seeds", "0..4", "--json"]);
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    let w = json(&whole);
    let rows = w["coverage"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["situation"] == name).cloned();
    let restarted = row("node restarted from storage").expect("a row");
    assert_eq!(restarted["seeds"], 4);
    assert_eq!(restarted["first_seed"], 0);
    assert_eq!(
        restarted["reproduce"],
        format!("dsim run {FOLLOWER_DOWN} --seed 0")
    );
    let snapshot = row("snapshot installed from the leader").expect("declared: listed");
    assert_eq!(
        (snapshot["seeds"].as_u64(), snapshot["declared"].as_bool()),
        (Some(0), Some(true))
    );
    assert!(w["never_reached"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("snapshot installed from the leader")));
    // The text ends with the table.
    let text = dsim(&["sweep", FOLLOWER_DOWN, "--seeds", "0..4"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("coverage ("), "{text}");
    assert!(text.contains("never reached: ["), "{text}");
    // Two shards merge to the same table.
    let dir = std::env::temp_dir().join(format!("dsim-coverage-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut parts = Vec::new();
    for shard in ["0/2", "1/2"] {
        let out = dsim(&[
            "sweep",
            FOLLOWER_DOWN,
            "--seeds",
            "0..4",
            "--shard",
            shard,
            "--json",
        ]);
        let p = dir.join(format!("part-{}.json", &shard[..1]));
        std::fs::write(&p, &out.stdout).unwrap();
        parts.push(p.display().to_string());
    }
    let mut args = vec!["sweep", "merge", "--json"];
    args.extend(parts.iter().map(String::as_str));
    let merged = json(&dsim(&args));
    assert_eq!(merged["coverage"], w["coverage"]);
    assert_eq!(merged["never_reached"], w["never_reached"]);
}

#[test]
fn expect_reached_fails_a_run_and_a_sweep_that_miss_it_with_exit_8() {
    let ok = requiring(&["node restarted from storage"]);
    let out = dsim(&["sweep", ok.to_str().unwrap(), "--seeds", "0..2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let missing = requiring(&[
        "node restarted from storage",
        "snapshot installed from the leader",
    ]);
    let path = missing.to_str().unwrap();
    let run = dsim(&["run", path]);
    assert_eq!(run.status.code(), Some(8), "{}", stderr(&run));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains(
            "expect_reached: NOT reached by this run: [\"snapshot installed from the leader\"]"
        ),
        "{text}"
    );
    let sweep = dsim(&["sweep", path, "--seeds", "0..2", "--json"]);
    assert_eq!(sweep.status.code(), Some(8), "{}", stderr(&sweep));
    let v = json(&sweep);
    assert_eq!(
        v["expect_reached_missing"],
        serde_json::json!(["snapshot installed from the leader"])
    );
    assert_eq!(v["failed"], 0);
}
