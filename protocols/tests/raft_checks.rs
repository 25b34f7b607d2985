//! Raft's lab-style scenarios (`scenarios/raft/`): each passes every check over a few seeds,
//! and the properties a check cannot express are asserted here from the run's history and
//! trace — no agreement without a majority, fast backtracking's round trips, and the message
//! economy of an idle cluster.

use scenarios::harness::{run as run_scenario, RunOptions, RunReport};
use scenarios::Scenario;
use sim_core::check::Verdict;
use sim_core::{Outcome, SimTime};

mod common;
use common::Buf;

/// Seeds of each lab scenario checked here (a debug build; `dsim sweep` covers 0..1000 in
/// release, all passing).
const SEEDS: u64 = 4;

fn load(name: &str) -> Scenario {
    let path = scenarios::shipped_dir().join("raft").join(name);
    scenarios::load(&path, &protocols::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

/// One traced event: time (ns), kind, and its JSON.
struct Ev {
    t: u64,
    ev: String,
    json: serde_json::Value,
}

impl Ev {
    fn str(&self, field: &str) -> &str {
        self.json[field].as_str().unwrap_or("")
    }
    /// A message from one node to another.
    fn node_to_node(&self) -> bool {
        self.ev == "send" && self.str("from").starts_with('n') && self.str("to").starts_with('n')
    }
}

fn run_traced(scn: &Scenario, seed: u64) -> (RunReport, Vec<Ev>) {
    let buf = Buf::default();
    let report = run_scenario(
        scn,
        RunOptions {
            seed: Some(seed),
            trace: Some(Box::new(buf.clone())),
            ..RunOptions::default()
        },
    );
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let events = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|json| {
            Some(Ev {
                t: json["t"].as_u64()?,
                ev: json["ev"].as_str()?.to_string(),
                json,
            })
        })
        .collect();
    (report, events)
}

fn assert_passes(report: &RunReport, what: &str) {
    for c in &report.checks {
        assert_eq!(
            c.verdict,
            Verdict::Pass,
            "{what}: {} — {}",
            c.name,
            c.detail
        );
    }
    assert!(report.as_expected, "{what}");
}

#[test]
fn lab_scenarios_pass_every_check_over_seeds() {
    for name in [
        "many-elections.ron",
        "no-majority.ron",
        "concurrent-clients.ron",
        "backtracking.ron",
        "figure-8.ron",
        "figure-8-unreliable.ron",
        "churn-unreliable.ron",
        "steady-state-messages.ron",
    ] {
        let scn = load(name);
        assert_eq!(scn.expect, scenarios::Expect::Pass, "{name}");
        for seed in 0..SEEDS {
            let report = run_scenario(
                &scn,
                RunOptions {
                    seed: Some(seed),
                    ..RunOptions::default()
                },
            );
            assert_passes(&report, &format!("{name} seed {seed}"));
            assert!(
                report.checks.iter().any(|c| c.name == "liveness"),
                "{name}: runs liveness"
            );
        }
    }
}

#[test]
fn many_elections_has_many_terms() {
    let scn = load("many-elections.ron");
    assert_eq!(scn.config.node_count, 7);
    let (report, _) = run_traced(&scn, scn.config.seed);
    let terms = report
        .checks
        .iter()
        .find(|c| c.name == "election-safety")
        .unwrap();
    let n: u64 = terms.detail.split(' ').next().unwrap().parse().unwrap();
    assert!(n >= 10, "only {n} terms had a leader: {}", terms.detail);
}

#[test]
fn without_a_majority_nothing_commits_and_requests_stay_indeterminate() {
    // Nodes 0, 1 and 2 of five are down from 1 s to 2.9 s.
    let scn = load("no-majority.ron");
    let (down, up) = (SimTime(1_050_000_000), SimTime(2_900_000_000));
    let timeout = scn.config.clients.timeout;
    for seed in 0..SEEDS * 2 {
        let (report, events) = run_traced(&scn, seed);
        assert_passes(&report, &format!("no-majority seed {seed}"));
        let mut in_window = 0;
        for op in &report.history.ops {
            if let Some((t, Outcome::Ok(_))) = &op.completion {
                assert!(
                    *t < down || *t >= up,
                    "seed {seed}: {op:?} completed ok without a majority"
                );
            }
            if op.invoke >= down && op.invoke + timeout < up {
                in_window += 1;
                assert!(
                    matches!(op.completion, Some((_, Outcome::Unknown))),
                    "seed {seed}: {op:?} was not left indeterminate"
                );
            }
        }
        assert!(
            in_window > 10,
            "seed {seed}: {in_window} requests in the window"
        );
        // The two survivors cannot elect a leader either.
        let elected = events.iter().any(|e| {
            e.ev == "observe"
                && e.t >= down.0
                && e.t < up.0
                && e.str("what").starts_with("BecameLeader")
        });
        assert!(
            !elected,
            "seed {seed}: a leader was elected without a majority"
        );
        // And the service resumes: some request invoked after the restarts completes ok.
        assert!(
            report
                .history
                .ops
                .iter()
                .any(|op| op.invoke >= up && op.is_ok()),
            "seed {seed}: nothing ok after the restarts"
        );
    }
}

#[test]
fn backtracking_repairs_a_long_divergent_tail_in_few_round_trips() {
    let scn = load("backtracking.ron");
    let heal = SimTime(2_600_000_000);
    let (report, events) = run_traced(&scn, scn.config.seed);
    assert_passes(&report, "backtracking");
    let index_of = |what: &str, key: &str| -> u64 {
        what.split(key)
            .nth(1)
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut last_before = 0; // Node 0's log length at the heal.
    let mut truncated_from = None;
    let mut refusals = 0;
    let mut hints = std::collections::BTreeSet::new();
    for e in &events {
        if e.ev == "observe" && e.str("node") == "n0" {
            let what = e.str("what");
            if e.t < heal.0 && what.starts_with("Appended") {
                last_before = index_of(what, "index: ");
            }
            if e.t >= heal.0 && what.starts_with("Truncated") && truncated_from.is_none() {
                truncated_from = Some(index_of(what, "from: "));
            }
        }
        if e.t >= heal.0 && e.node_to_node() && e.str("from") == "n0" {
            let msg = e.str("msg");
            if msg.starts_with("AppendReply") && msg.contains("success: false") {
                refusals += 1;
                hints.insert(msg.split("conflict_term").nth(1).unwrap().to_string());
            }
        }
    }
    let from = truncated_from.expect("node 0's divergent tail was not truncated");
    let divergent = last_before + 1 - from;
    println!(
        "node 0: {divergent} divergent entries (from index {from}) dropped after {refusals} refusals with {} distinct hints",
        hints.len()
    );
    assert!(divergent >= 50, "only {divergent} divergent entries");
    // One hint per term to skip (the log end, then term 1), each refusal possibly repeated by
    // the pipelined heartbeats sent before it arrived.
    assert!(hints.len() <= 3, "{hints:?}");
    assert!(
        refusals * 5 <= divergent,
        "{refusals} refusals for {divergent} entries"
    );
}

#[test]
fn an_idle_three_node_cluster_is_economical() {
    let scn = load("steady-state-messages.ron");
    assert_eq!(scn.config.node_count, 3);
    let (idle_from, end) = (2_000_000_000u64, scn.config.duration.0);
    for seed in 0..SEEDS * 5 {
        let (report, events) = run_traced(&scn, seed);
        assert_passes(&report, &format!("steady-state seed {seed}"));
        let elected = events
            .iter()
            .find(|e| e.ev == "observe" && e.str("what").starts_with("BecameLeader"))
            .map(|e| e.t)
            .expect("a leader");
        let to_elect = events
            .iter()
            .filter(|e| e.node_to_node() && e.t <= elected)
            .count();
        assert!(
            to_elect <= 30,
            "seed {seed}: {to_elect} messages to elect a leader"
        );
        let idle = events
            .iter()
            .filter(|e| e.node_to_node() && e.t >= idle_from && e.t < end)
            .count() as f64;
        let per_second = idle / ((end - idle_from) as f64 / 1e9);
        assert!(
            per_second <= 60.0,
            "seed {seed}: {per_second} messages per idle second"
        );
        if seed == 0 {
            println!("seed 0: leader after {to_elect} messages, then {per_second} messages/s");
        }
    }
}
