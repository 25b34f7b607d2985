//! Replication without redundant sends, counted from the trace of fault-free runs (n = 3 and
//! 5): Raft sends each entry to each follower once, so a committed command costs `2(n − 1)`
//! node messages besides heartbeats (`n − 1` `AppendEntries` and as many replies per heartbeat
//! round); Multi-Paxos costs `3(n − 1)` per command (`Accept`, `Accepted`, `Decide`) besides
//! its `n − 1` heartbeats per round. The counts are exact: every node message sent after the
//! first leader settled is accounted for.

use std::collections::BTreeMap;

use scenarios::harness::{run as run_scenario, RunOptions};
use scenarios::Scenario;
use sim_core::check::Verdict;

mod common;
use common::Buf;

/// A fault-free cluster of `nodes` with one client writing and reading one key after another,
/// on a network that neither loses nor reorders (a constant 1 ms).
fn scenario(protocol: &str, nodes: u32) -> Scenario {
    let extra = if protocol == "Raft" {
        ", batch_max: 64"
    } else {
        ""
    };
    let text = format!(
        r#"Scenario(
    name: "steady-state", seed: 4, duration: "3s", nodes: {nodes},
    network: (latency: Constant("1ms")),
    protocol: {protocol}(election_timeout_min: "150ms", election_timeout_max: "300ms", heartbeat: "50ms"{extra}),
    clients: (count: 1, target: RoundRobin, timeout: "1s",
        workload: KeyValue(keys: 2, get: 1, put: 1, cas: 1, interval: "7ms", ops_per_client: 10000)),
)"#
    );
    scenarios::parse(&text, "steady-state.ron", &protocols::builtin())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Every trace event as JSON.
fn trace(scn: &Scenario) -> Vec<serde_json::Value> {
    let buf = Buf::default();
    let report = run_scenario(
        scn,
        RunOptions {
            trace: Some(Box::new(buf.clone())),
            ..RunOptions::default()
        },
    );
    assert!(report.checks.iter().all(|c| c.verdict == Verdict::Pass));
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn is_node(e: &serde_json::Value, field: &str) -> bool {
    e[field].as_str().is_some_and(|s| s.starts_with('n'))
}

/// Node-to-node messages sent from `from` on, by kind (the message's first word).
fn node_messages(events: &[serde_json::Value], from: u64) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in events {
        if e["ev"] == "send"
            && is_node(e, "from")
            && is_node(e, "to")
            && e["t"].as_u64().unwrap() >= from
        {
            let msg = e["msg"].as_str().unwrap();
            let kind = msg.split([' ', '{', '(']).next().unwrap().to_string();
            *out.entry(kind).or_insert(0) += 1;
        }
    }
    out
}

/// Timer events of `kind` (Debug prefix) that fired from `from` on.
fn timers(events: &[serde_json::Value], kind: &str, from: u64) -> u64 {
    events
        .iter()
        .filter(|e| {
            e["ev"] == "timer"
                && e["t"].as_u64().unwrap() >= from
                && e["timer"].as_str().unwrap().starts_with(kind)
        })
        .count() as u64
}

/// When the first leader took office, and the node.
fn first_leader(events: &[serde_json::Value]) -> (u64, String) {
    let e = events
        .iter()
        .find(|e| e["ev"] == "observe" && e["what"].as_str().unwrap().starts_with("BecameLeader"))
        .expect("a leader");
    (
        e["t"].as_u64().unwrap(),
        e["node"].as_str().unwrap().to_string(),
    )
}

#[test]
fn raft_sends_each_entry_to_each_follower_once() {
    for n in [3u64, 5] {
        let events = trace(&scenario("Raft", n as u32));
        let (elected, leader) = first_leader(&events);
        // From the election on (no other leader: no faults).
        let from = elected;
        let counts = node_messages(&events, from);
        // Every entry-carrying `AppendEntries` carries new entries only: each (follower,
        // index) once.
        let mut sent: BTreeMap<(String, u64), u64> = BTreeMap::new();
        let mut with_entries = 0;
        for e in &events {
            let msg = e["msg"].as_str().unwrap_or("");
            if e["ev"] == "send" && msg.starts_with("AppendEntries") && !msg.contains("entries: []")
            {
                with_entries += 1;
                let prev: u64 = msg
                    .split("prev_index: ")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                let count = msg.matches("Entry {").count() as u64;
                for i in prev + 1..=prev + count {
                    *sent
                        .entry((e["to"].as_str().unwrap().to_string(), i))
                        .or_insert(0) += 1;
                }
            }
        }
        assert!(
            sent.values().all(|&c| c == 1),
            "n = {n}: an entry sent twice"
        );
        let entries = sent.len() as u64 / (n - 1);
        assert!(entries > 100, "n = {n}: only {entries} entries");
        assert_eq!(
            with_entries,
            entries * (n - 1),
            "n = {n}: one entry per message"
        );
        // Heartbeat rounds of the leader.
        let rounds = events
            .iter()
            .filter(|e| {
                e["ev"] == "timer"
                    && e["node"] == leader.as_str()
                    && e["t"].as_u64().unwrap() >= from
                    && e["timer"].as_str().unwrap().starts_with("Heartbeat")
            })
            .count() as u64;
        let total: u64 = counts.values().sum();
        assert_eq!(
            counts.keys().collect::<Vec<_>>(),
            ["AppendEntries", "AppendReply"],
            "n = {n}: {counts:?}"
        );
        assert_eq!(
            total,
            2 * (n - 1) * (entries + rounds),
            "n = {n}: {counts:?}, {entries} entries, {rounds} heartbeat rounds"
        );
        println!(
            "raft n = {n}: {entries} entries, {rounds} heartbeat rounds, {total} messages: {} per command besides heartbeats",
            2 * (n - 1)
        );
    }
}

#[test]
fn paxos_sends_each_accept_once() {
    for n in [3u64, 5] {
        let events = trace(&scenario("Paxos", n as u32));
        let (elected, leader) = first_leader(&events);
        let counts = node_messages(&events, elected + 1);
        let commands = counts.get("Decide").copied().unwrap_or(0) / (n - 1);
        assert!(commands > 100, "n = {n}: only {commands} commands");
        let rounds = timers(&events, "Heartbeat", elected + 1);
        assert_eq!(
            rounds,
            timers(&events, "Heartbeat", 0),
            "only the leader beats"
        );
        assert!(events.iter().all(|e| e["ev"] != "timer"
            || !e["timer"].as_str().unwrap().starts_with("Heartbeat")
            || e["node"] == leader.as_str()));
        assert_eq!(
            counts.keys().collect::<Vec<_>>(),
            ["Accept", "Accepted", "Decide", "Heartbeat"],
            "n = {n}: {counts:?}"
        );
        for kind in ["Accept", "Accepted", "Decide"] {
            assert_eq!(counts[kind], commands * (n - 1), "n = {n}: {counts:?}");
        }
        assert_eq!(counts["Heartbeat"], rounds * (n - 1), "n = {n}: {counts:?}");
        println!(
            "paxos n = {n}: {commands} commands, {rounds} heartbeat rounds: {} messages per command besides heartbeats",
            3 * (n - 1)
        );
    }
}
