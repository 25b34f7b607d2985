//! Swarm scenarios on the real binary: the seed's draw is printed right after the seed, in
//! the scenario's vocabulary, carried by `--json` (`swarm`), differs between seeds, and each
//! failure of a sweep carries its seed's draw.

mod common;

use common::{json, repo, stderr};

fn dsim(args: &[&str]) -> std::process::Output {
    common::dsim_with(args, &[])
}

const SWARM: &str = "scenarios/paxos/swarm.ron";

#[test]
fn run_prints_the_draw_after_the_seed_and_json_carries_it() {
    let out = dsim(&["run", SWARM, "--seed", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("seed: 4"));
    let drew = lines.next().unwrap();
    assert!(
        drew.starts_with("swarm drew: (nemesis: (kinds: ["),
        "{drew}"
    );
    assert!(drew.contains("network: (latency: "), "{drew}");
    assert!(drew.contains("workload: KeyValue("), "{drew}");
    let v = json(&dsim(&["run", SWARM, "--seed", "4", "--json"]));
    assert_eq!(
        format!("swarm drew: ({})", v["swarm"].as_str().unwrap()),
        drew
    );
    let other = json(&dsim(&["run", SWARM, "--seed", "5", "--json"]));
    assert_ne!(
        other["swarm"], v["swarm"],
        "seeds draw different configurations"
    );
    // A scenario without a swarm has none.
    let plain = json(&dsim(&["run", "scenarios/paxos/basic.ron", "--json"]));
    assert!(plain["swarm"].is_null());
}

#[test]
fn a_failing_seed_of_a_swarm_sweep_carries_its_draw() {
    let text = std::fs::read_to_string(repo().join(SWARM)).unwrap();
    let text = text.replacen("batch_max: 32)", "batch_max: 32, bug: NoAdoptAccepted)", 1);
    assert!(
        text.contains("NoAdoptAccepted"),
        "the protocol line changed"
    );
    let dir = std::env::temp_dir().join(format!("dsim-swarm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bug.ron");
    std::fs::write(&path, text).unwrap();
    let out = dsim(&[
        "sweep",
        path.to_str().unwrap(),
        "--seeds",
        "0..40",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    let f = &v["failures"][0];
    let seed = f["seed"].as_u64().unwrap().to_string();
    let run = json(&dsim(&[
        "run",
        path.to_str().unwrap(),
        "--seed",
        &seed,
        "--json",
    ]));
    assert_eq!(f["swarm"], run["swarm"]);
    assert!(f["swarm"]
        .as_str()
        .unwrap()
        .starts_with("nemesis: (kinds: ["));
}
