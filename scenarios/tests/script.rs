//! The explicit forms a shrunk failure is written in: a `Script` workload (each client's
//! operations listed) and a partition's `until` (exactly that partition ends). Parsed,
//! rejected with `file:line:col` and a hint, written back, and — materialized from a drawn
//! workload and a nemesis plan — run to the very same history.

use scenarios::harness::{run_seed, RunReport};
use scenarios::schedule::{self, Entry};
use sim_core::config::{Fault, Partition, ScriptedRequest, Workload};
use sim_core::{ClientId, NodeId, SimDuration};

const BASE: &str = r#"Scenario(
    name: "t",
    seed: 1,
    duration: "2s",
    nodes: 3,
    network: (latency: Uniform(min: "1ms", max: "10ms")),
    protocol: Raft(election_timeout_min: "150ms", election_timeout_max: "300ms", heartbeat: "50ms", batch_max: 64),
    {}
    checks: [Linearizable()],
)
"#;

fn parse(extra: &str) -> Result<scenarios::Scenario, String> {
    let text = BASE.replace("{}", extra);
    scenarios::parse(&text, "t.ron", &protocols::builtin()).map_err(|e| e.to_string())
}

const SCRIPT: &str = r#"clients: (count: 2, target: Random, timeout: "300ms", workload: Script(interval: "10ms", clients: [
        (start: "5ms", ops: [Put(key: 1, node: 2), Get(key: 1), Cas(key: 1, node: 0, at: "1.5s")]),
        (ops: [Append(key: 0)]),
    ])),
    faults: [(at: "500ms", fault: Isolate(0), until: "900ms"), (at: "600ms", fault: Crash(1)), (at: "700ms", fault: Restart(1))],"#;

#[test]
fn a_script_and_an_until_parse_into_the_engine_form() {
    let s = parse(SCRIPT).unwrap_or_else(|e| panic!("{e}"));
    let Workload::Script { interval, clients } = &s.config.clients.workload else {
        panic!("not a script: {:?}", s.config.clients.workload)
    };
    assert_eq!(*interval, SimDuration::from_millis(10));
    assert_eq!(clients[0].start, SimDuration::from_millis(5));
    assert_eq!(clients[1].start, SimDuration::ZERO, "start defaults to 0");
    assert_eq!(clients[0].ops[0].op, ScriptedRequest::Put(1));
    assert_eq!(clients[0].ops[0].node, Some(NodeId(2)));
    assert_eq!(clients[0].ops[1].node, None);
    assert_eq!(s.config.clients.workload.ops_of(ClientId(1)), 1);
    // The partition's end is an engine entry of its own, after the file's entries.
    assert_eq!(s.config.faults.len(), 4);
    assert_eq!(s.config.faults[3].fault, Fault::EndPartition(0));
    assert_eq!(s.config.faults[3].at, SimDuration::from_millis(900));
    // Written back and read again: the same configuration.
    let text = scenarios::write::scenario(&s, &["round trip"]);
    assert!(text.contains("until: \"900ms\""), "{text}");
    assert!(text.contains("// client 0: 3 operations"), "{text}");
    let back = protocols::builtin()
        .parse(&text, "back.ron")
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(format!("{:?}", back.config), format!("{:?}", s.config));
    // It runs: client 0's three operations and client 1's one, the first put at node 2.
    let r = run_seed(&s, 1);
    assert_eq!(r.history.len(), 4);
    let mine: Vec<_> = r
        .history
        .ops
        .iter()
        .filter(|o| o.client == ClientId(0))
        .collect();
    assert_eq!(mine[0].invoke.0, 5_000_000);
    let put_done = mine[0].completion.as_ref().expect("the put ended").0;
    assert_eq!(
        mine[1].invoke.0,
        put_done.0 + 10_000_000,
        "the get follows the put's completion by the interval"
    );
    assert_eq!(
        mine[2].invoke.0, 1_500_000_000,
        "the cas waits for its `at`"
    );
}

#[test]
fn until_removes_exactly_its_own_partition() {
    // Two overlapping cuts: the first one's `until` leaves the second in place.
    let s = parse(
        r#"clients: (count: 1, workload: Script(interval: "1ms", clients: [(ops: [Get(key: 0)])])),
    faults: [(at: "100ms", fault: Isolate(0), until: "300ms"), (at: "200ms", fault: Isolate(1))],"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = run_seed(&s, 1);
    let applied: Vec<String> = r.plan.iter().map(scenarios::write::planned).collect();
    assert_eq!(
        applied,
        vec![
            "Isolate(0) (schedule)",
            "Isolate(1) (schedule)",
            "end of the partition (cut #1) (schedule)"
        ]
    );
}

#[test]
fn bad_scripts_and_untils_say_where() {
    let cases: &[(&str, &str)] = &[
        (
            r#"clients: (count: 3, workload: Script(interval: "1ms", clients: [(ops: [Get(key: 0)])])),"#,
            "t.ron:8:68: the script has `1` clients but `clients.count` is `3`\n  hint: write one `(start: ..., ops: [...])` per client, in client order",
        ),
        (
            r#"clients: (count: 1, workload: Script(interval: "1ms", clients: [(ops: [Get(key: 0, node: 7)])])),"#,
            "t.ron:8:94: node `7` is out of range in `clients.workload.clients[0].ops[0].node`\n  hint: the scenario has `3` nodes: ids run from `0` to `2`",
        ),
        (
            r#"clients: (count: 1, workload: Script(interval: "1ms", clients: [(ops: [Get(key: 0), Txn(keys: [1, 2])])])),"#,
            "t.ron:8:89: this operation uses the `transaction` service, but `clients[0].ops[0]` uses `key-value`\n  hint: a script speaks one service: key-value operations, transactions, or broadcasts",
        ),
        (
            r#"clients: (count: 1, workload: Script(interval: "1ms", clients: [(ops: [])])),"#,
            "t.ron:8:68: the script has no operations\n  hint: give a client at least one operation, or leave `clients` out",
        ),
        (
            r#"clients: (count: 1, rate: 5.0, workload: Script(interval: "1ms", clients: [(ops: [Get(key: 0)])])),"#,
            "t.ron:8:31: a `Script` runs in a closed loop, without `rate`\n  hint: each scripted operation follows the previous one's completion after `interval`; remove `rate`",
        ),
        (
            r#"clients: (count: 1, workload: Script(interval: "1ms", clients: [(ops: [Git(key: 0)])])),"#,
            "t.ron:8:76: unknown variant `Git` for `clients.workload.clients[0].ops[0]`\n  hint: did you mean `Get`? expected one of `Get`, `Put`, `Cas`, `Append`, `Txn`, `Broadcast`",
        ),
        (
            r#"faults: [(at: "1s", fault: Crash(0), until: "2s")],"#,
            "t.ron:8:49: `until` ends a partition, and this fault is not one\n  hint: a crash ends with a `Restart` entry, a pause lasts its `duration`, link changes end with `ResetLinks`",
        ),
        (
            r#"faults: [(at: "1s", fault: Isolate(0), until: "1s")],"#,
            "t.ron:8:51: the partition ends at `1s`, not after it starts at `1s`\n  hint: `until` is the time the partition is removed: later than `at`",
        ),
    ];
    let mut wrong = Vec::new();
    for (extra, want) in cases {
        let got = match parse(extra) {
            Ok(_) => "ok".to_string(),
            Err(e) => e,
        };
        if got != *want {
            wrong.push(format!("{extra}\n  want: {want:?}\n  got:  {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn same_run(a: &RunReport, b: &RunReport) {
    assert_eq!(
        a.history, b.history,
        "the same operations, answers and times"
    );
    assert_eq!(a.stats.messages_sent, b.stats.messages_sent);
    assert_eq!(a.stats.events, b.stats.events);
}

#[test]
fn a_drawn_workload_and_a_nemesis_materialize_to_the_same_run() {
    let registry = protocols::builtin();
    for file in [
        "raft/bug-forget-vote.ron",
        "two-phase-commit/random-faults.ron",
    ] {
        let s = registry
            .load(&scenarios::shipped_dir().join(file))
            .unwrap_or_else(|e| panic!("{e}"));
        let seed = s.config.seed;
        let original = run_seed(&s, seed);
        let mut explicit = s.clone();
        explicit.config.clients.workload = sim_core::script::materialize(
            seed,
            &s.config.clients,
            s.config.node_count,
            &original.history,
        )
        .expect("a closed loop");
        explicit.config.nemesis = None;
        let entries: Vec<Entry> = schedule::from_plan(&original.plan, s.config.duration);
        assert!(entries
            .iter()
            .any(|e| matches!(e.fault, Fault::Partition(Partition::Split(_)))));
        explicit.config.faults = schedule::to_engine(&entries);
        // Through the file format, as the shrinker writes it.
        let text = scenarios::write::scenario(&explicit, &[]);
        let back = registry
            .parse(&text, "explicit.ron")
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        same_run(&original, &run_seed(&back, seed));
    }
}
