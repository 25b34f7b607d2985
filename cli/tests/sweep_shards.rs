//! A sharded sweep across processes: N `dsim sweep --shard env:JOB_COMPLETION_INDEX/N`
//! processes, each given its index in the environment as a Kubernetes Indexed Job gives it,
//! then `dsim sweep merge` over their reports — which must be exactly the sweep run in one
//! piece; and the merge's errors for missing, overlapping and foreign parts.

mod common;

use std::path::{Path, PathBuf};

use common::{dsim_with as dsim, json, stderr};

/// A scenario some of whose seeds fail, so that failures, details and groups are compared.
const BUGGY: &str = "scenarios/gossip/bug-ack-before-persist.ron";
const SEEDS: &str = "0..10";
const SHARDS: usize = 3;

/// The fields of a sweep report that do not depend on the machine or the timing.
const OUTCOME_FIELDS: [&str; 14] = [
    "scenario",
    "file",
    "seeds",
    "shard",
    "runs",
    "passed",
    "failed",
    "unknown",
    "failing_seeds",
    "panicked_seeds",
    "unknown_seeds",
    "failures",
    "groups",
    "expected",
];

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("dsim-shards-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs shard `i` of `SHARDS` with its index in `JOB_COMPLETION_INDEX`; returns its file.
fn shard(i: usize, dir: &Path) -> PathBuf {
    let index = i.to_string();
    let shard = format!("env:JOB_COMPLETION_INDEX/{SHARDS}");
    let out = dsim(
        &[
            "sweep", BUGGY, "--seeds", SEEDS, "--shard", &shard, "--json",
        ],
        &[("JOB_COMPLETION_INDEX", &index)],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "shard {i}: {}",
        stderr(&out)
    );
    let v = json(&out);
    assert_eq!(
        v["shard"]["index"], i as u64,
        "the index came from the environment"
    );
    assert_eq!(v["shard"]["count"], SHARDS as u64);
    let path = dir.join(format!("part-{i}.json"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn shards_in_separate_processes_merge_into_the_unsharded_sweep() {
    let whole = dsim(&["sweep", BUGGY, "--seeds", SEEDS, "--json"], &[]);
    let code = whole.status.code();
    let whole = json(&whole);
    assert!(
        whole["failed"].as_u64().unwrap() >= 1,
        "the sweep must have failures to compare: {whole}"
    );
    assert_eq!(code, Some(1));
    let d = dir();
    let parts: Vec<PathBuf> = (0..SHARDS).map(|i| shard(i, &d)).collect();
    let mut args = vec!["sweep", "merge", "--json"];
    let names: Vec<String> = parts.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let merged = dsim(&args, &[]);
    assert_eq!(
        merged.status.code(),
        code,
        "same exit code: {}",
        stderr(&merged)
    );
    let merged = json(&merged);
    for field in OUTCOME_FIELDS {
        assert_eq!(merged[field], whole[field], "field `{field}` differs");
    }
    assert_eq!(merged["merge"]["complete"], true);
    assert_eq!(merged["merge"]["parts"], SHARDS as u64);
    let group = &merged["groups"][0];
    assert!(
        group["signature"]
            .as_str()
            .unwrap()
            .starts_with("convergence: "),
        "{group}"
    );
    assert!(
        group["reproduce"].as_str().unwrap().contains("--seed"),
        "{group}"
    );

    // The text report names the failing seeds, their reproduce commands and the groups.
    let mut text_args = vec!["sweep", "merge"];
    text_args.extend(names.iter().map(String::as_str));
    let text = dsim(&text_args, &[]);
    let out = String::from_utf8_lossy(&text.stdout);
    let first = whole["failing_seeds"][0].as_u64().unwrap();
    assert!(
        out.contains(&format!("seed {first}: failed convergence")),
        "{out}"
    );
    assert!(out.contains("failures by signature"), "{out}");

    // A missing shard and an overlapping one: the report of what is there, exit code 6.
    let missing = dsim(&["sweep", "merge", "--json", &names[0], &names[2]], &[]);
    assert_eq!(missing.status.code(), Some(6), "{}", stderr(&missing));
    assert_eq!(
        json(&missing)["merge"]["missing_shards"],
        serde_json::json!([1])
    );
    assert!(
        stderr(&missing).contains("missing shards: 1 of 3"),
        "{}",
        stderr(&missing)
    );
    let twice = dsim(
        &["sweep", "merge", &names[0], &names[1], &names[2], &names[1]],
        &[],
    );
    assert_eq!(twice.status.code(), Some(6));
    assert!(
        stderr(&twice).contains("shard 1 of 3 is covered by 2 parts"),
        "{}",
        stderr(&twice)
    );

    // A part of another sweep, and a file that is no report: bad input.
    let other = dsim(
        &[
            "sweep", BUGGY, "--seeds", "0..12", "--shard", "1/3", "--json",
        ],
        &[],
    );
    let other_path = d.join("other.json");
    std::fs::write(&other_path, &other.stdout).unwrap();
    let foreign = dsim(
        &["sweep", "merge", &names[0], other_path.to_str().unwrap()],
        &[],
    );
    assert_eq!(foreign.status.code(), Some(2));
    assert!(
        stderr(&foreign).contains("another sweep"),
        "{}",
        stderr(&foreign)
    );
    let junk = d.join("junk.json");
    std::fs::write(&junk, "{\"runs\": 3}").unwrap();
    let bad = dsim(&["sweep", "merge", junk.to_str().unwrap()], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not a sweep report"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_shard_index_missing_from_the_environment_is_bad_usage() {
    let out = dsim(
        &[
            "sweep",
            BUGGY,
            "--seeds",
            SEEDS,
            "--shard",
            "env:DSIM_TEST_UNSET_INDEX/3",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`DSIM_TEST_UNSET_INDEX`"),
        "{}",
        stderr(&out)
    );
}
