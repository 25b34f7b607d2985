//! `dsim run --perfetto`: the file is JSON in Chrome's trace-event format — every event has
//! its phase, process, thread and time; every track a name; slices on a track nest (never
//! overlap partly); every message flow has both ends, each inside a slice of its track — on
//! runs with crashes, pauses, partitions, drops and duplicates.

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

/// The trace events of `dsim run FILE --perfetto ... [extra]`.
fn export(file: &str, extra: &[&str]) -> Vec<Value> {
    let out = std::env::temp_dir().join(format!(
        "dsim-perfetto-{}-{}.json",
        std::process::id(),
        file.replace('/', "_")
    ));
    let mut args = vec!["run", file, "--perfetto", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = common::dsim_with(&args, &[]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&o)
    );
    let text = std::fs::read_to_string(&out).expect("the export was written");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(v["displayTimeUnit"].is_string());
    v["traceEvents"].as_array().expect("traceEvents").clone()
}

type Track = (u64, u64);
/// Slices per track, as (start, end) in ns.
type Slices = BTreeMap<Track, Vec<(u64, u64)>>;
/// Flow events by flow id.
type Flows = BTreeMap<u64, Vec<Value>>;

fn track(e: &Value) -> Track {
    (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap_or(0))
}

/// Checks the format and returns (slices per track as (start, end) in ns, flows by id).
fn validate(events: &[Value]) -> (Slices, Flows) {
    let mut named: Vec<Track> = Vec::new();
    let mut slices = Slices::new();
    let mut flows = Flows::new();
    let ns = |x: &Value| (x.as_f64().expect("a number") * 1000.0).round() as u64;
    for e in events {
        let ph = e["ph"].as_str().expect("every event has a phase");
        assert!(e["pid"].is_u64(), "{e}");
        match ph {
            "M" => {
                if e["name"] == "thread_name" {
                    assert!(e["args"]["name"].is_string(), "{e}");
                    named.push(track(e));
                }
            }
            "X" => {
                assert!(e["name"].is_string() && e["tid"].is_u64(), "{e}");
                let (ts, dur) = (ns(&e["ts"]), ns(&e["dur"]));
                slices.entry(track(e)).or_default().push((ts, ts + dur));
            }
            "i" => assert!(e["ts"].is_number() && e["s"] == "t", "{e}"),
            "s" | "f" => {
                assert_eq!(e["bp"], "e", "{e}");
                flows
                    .entry(e["id"].as_u64().expect("a flow id"))
                    .or_default()
                    .push(e.clone());
            }
            other => panic!("unexpected phase `{other}`: {e}"),
        }
    }
    for t in slices.keys() {
        assert!(named.contains(t), "track {t:?} has no thread_name");
    }
    (slices, flows)
}

/// Slices on one track either nest or are disjoint.
fn nest(track: Track, slices: &mut [(u64, u64)]) {
    slices.sort_by_key(|&(a, b)| (a, std::cmp::Reverse(b)));
    let mut open: Vec<(u64, u64)> = Vec::new();
    for &(a, b) in slices.iter() {
        while open.last().is_some_and(|&(_, e)| e <= a) {
            open.pop();
        }
        if let Some(&(pa, pb)) = open.last() {
            assert!(
                b <= pb,
                "track {track:?}: [{a}, {b}] overlaps [{pa}, {pb}] without nesting"
            );
        }
        open.push((a, b));
    }
}

fn check_file(file: &str, extra: &[&str]) -> (usize, usize) {
    let events = export(file, extra);
    let (mut slices, flows) = validate(&events);
    for (t, s) in slices.iter_mut() {
        nest(*t, s);
    }
    let inside = |e: &Value| {
        let ts = (e["ts"].as_f64().unwrap() * 1000.0).round() as u64;
        slices
            .get(&track(e))
            .is_some_and(|s| s.iter().any(|&(a, b)| a <= ts && ts <= b))
    };
    for (id, ends) in &flows {
        let phases: Vec<&str> = ends.iter().map(|e| e["ph"].as_str().unwrap()).collect();
        assert_eq!(phases, ["s", "f"], "flow {id} has one start and one end");
        assert!(
            ends[0]["ts"].as_f64() <= ends[1]["ts"].as_f64(),
            "flow {id} goes forward"
        );
        for e in ends {
            assert!(
                inside(e),
                "flow {id}'s end is inside no slice of its track: {e}"
            );
        }
    }
    let tracks = slices.len();
    (tracks, flows.len())
}

#[test]
fn a_raft_bug_exports_nested_slices_and_whole_flows() {
    let (tracks, flows) = check_file("scenarios/raft/bug-no-consistency-check.ron", &[]);
    assert!(tracks >= 6, "3 nodes and 3 clients have tracks: {tracks}");
    assert!(flows > 1000, "{flows} flows");
}

#[test]
fn crashes_pauses_duplicates_and_partitions_keep_the_format() {
    // 60 s of every fault kind, duplication included; a window of it on some nodes.
    let (_, flows) = check_file(
        "scenarios/raft/random-faults.ron",
        &["--from", "5s", "--to", "25s", "--nodes", "0,1,3"],
    );
    assert!(flows > 500, "{flows} flows");
    let events = export("scenarios/gossip/nemesis-chaos.ron", &[]);
    let names: Vec<&str> = events.iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(
        names.contains(&"crashed") || names.contains(&"paused"),
        "node states"
    );
    assert!(
        events.iter().any(|e| e["cat"] == "partition"),
        "a partition track"
    );
    assert!(
        events.iter().any(|e| e["cat"] == "drop"),
        "drops as instants"
    );
    check_file("scenarios/gossip/nemesis-chaos.ron", &[]);
}

#[test]
#[should_panic(expected = "overlaps")]
fn the_nesting_check_catches_slices_that_overlap_partly() {
    nest((1, 1), &mut [(0, 10), (2, 5), (4, 12)]);
}

#[test]
fn the_nesting_check_accepts_nested_and_touching_slices() {
    nest((1, 1), &mut [(0, 10), (2, 5), (5, 7), (10, 12)]);
}
