//! Snapshot tests of scenario errors: each case is a bad scenario text and the exact error it
//! renders (`file:line:col: message` and the hint), through one data-driven `check`.
//!
//! After a deliberate wording change, `DUMP=1 cargo test -p scenarios --test errors -- --nocapture`
//! prints every mismatch (wanted and got) instead of stopping at the first; review, then paste.

/// A valid scenario that cases edit, with `{}` standing for the lines a case adds.
const BASE: &str = r#"Scenario(
    name: "t",
    seed: 1,
    duration: "10s",
    nodes: 4,
    protocol: Gossip(mode: PushPull, fanout: 2, period: "100ms"),
    {}
)
"#;

/// `BASE` with `extra` in place of `{}`.
fn with(extra: &str) -> String {
    BASE.replace("{}", extra)
}

#[track_caller]
fn check(text: &str, expected: &str) {
    let got = match scenarios::parse(text, "t.ron", &protocols::builtin()) {
        Ok(s) => format!("ok: {}", s.name),
        Err(e) => e.to_string(),
    };
    if std::env::var_os("DUMP").is_some() && got != expected {
        eprintln!("MISMATCH\n  want: {expected:?}\n  got:  {got:?}");
        return;
    }
    assert_eq!(
        got, expected,
        "\n--- text ---\n{text}\n--- got ---\n{got}\n"
    );
}

#[test]
fn base_is_valid() {
    check(&with(""), "ok: t");
}

#[test]
fn syntax_errors() {
    check(
        "Scenario(\n    name: \"t\"\n    seed: 1,\n)",
        "t.ron:3:5: expected `,` or a closing bracket in the scenario\n  hint: items of a list or record are separated by commas",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Crash(1)],"),
        "t.ron:7:40: mismatched `]`: the `(` at 7:14 is still open\n  hint: close `(` with `)` first",
    );
    check(
        "Scenario(\n    name: \"t\",\n    seed: 1,\n",
        "t.ron:1:9: unclosed `(`\n  hint: the file ends before this `(` is closed: add `)` where it should end",
    );
    check(
        "Scenario(\n    name: \"t,\n    seed: 1,\n)",
        "t.ron:2:11: unterminated string\n  hint: close the string with `\"`",
    );
    check(
        &format!("{}Scenario()", with("")),
        "t.ron:9:1: unexpected text after the end of the scenario\n  hint: a file holds one `Scenario(...)`; remove what follows its closing `)`",
    );
    check(
        "Scenari(name: \"t\")",
        "t.ron:1:1: expected `Scenario(...)`, found `Scenari(...)`\n  hint: write `Scenario(...)`, or leave the name out: `(...)`",
    );
}

#[test]
fn unknown_and_missing_fields() {
    check(
        &with("nodez: 4,"),
        "t.ron:7:5: unknown field `nodez` in the scenario\n  hint: did you mean `nodes`? the fields here are `name`, `description`, `seed`, `duration`, `liveness`, `events_max`, `queued_max`, `nodes`, `topology`, `network`, `clocks`, `protocol`, `clients`, `storage`, `faults`, `nemesis`, `swarm`, `checks`, `expect`, `expect_reached`",
    );
    check(
        &with("network: (dorp: 0.1),"),
        "t.ron:7:15: unknown field `dorp` in `network`\n  hint: did you mean `drop`? the fields here are `latency`, `drop`, `duplicate`, `overrides`",
    );
    check(
        &with("").replace("Gossip(mode: PushPull, fanout: 2, period: \"100ms\")", "Forward(mode: PingPong, tokns_per_node: 1)"),
        "t.ron:6:39: unknown field `tokns_per_node` in `protocol`\n  hint: did you mean `tokens_per_node`? the fields here are `mode`, `tokens_per_node`, `starters`",
    );
    check(
        &with("").replace("    nodes: 4,\n", ""),
        "t.ron:1:1: missing field `nodes` in the scenario\n  hint: add `nodes: 5`",
    );
    check(
        &with("clients: (count: 2),"),
        "t.ron:7:14: missing field `workload` in `clients`\n  hint: add `workload: Broadcast(interval: \"200ms\", ops_per_client: 20)`",
    );
    check(
        &with("seed: 2,"),
        "t.ron:7:5: field `seed` appears twice in the scenario\n  hint: remove one of them",
    );
}

#[test]
fn unknown_variants() {
    check(
        &with("").replace(
            "Gossip(mode: PushPull, fanout: 2, period: \"100ms\")",
            "Zab(replicas: 3)",
        ),
        "t.ron:6:15: unknown protocol `Zab`\n  hint: known protocols: `Gossip`, `Forward`, `PrimaryBackup`, `Raft`, `Paxos`, `Leaderless`, `TwoPhaseCommit`",
    );
    check(
        &with("").replace(
            "Gossip(mode: PushPull, fanout: 2, period: \"100ms\")",
            "Paxos(replicas: 3)",
        ),
        "t.ron:6:21: unknown field `replicas` in `protocol`\n  hint: the fields here are `election_timeout_min`, `election_timeout_max`, `heartbeat`, `batch_max`, `bug`, `retransmit`",
    );
    check(
        &with("").replace("Gossip(", "Gosip("),
        "t.ron:6:15: unknown protocol `Gosip`\n  hint: did you mean `Gossip`? known protocols: `Gossip`, `Forward`, `PrimaryBackup`, `Raft`, `Paxos`, `Leaderless`, `TwoPhaseCommit`",
    );
    check(
        &with("topology: Mesh,"),
        "t.ron:7:15: unknown variant `Mesh` for `topology`\n  hint: expected one of `FullMesh`, `Ring`, `Star`, `Edges`",
    );
    check(
        &with("").replace("PushPull", "PushPul"),
        "t.ron:6:28: unknown variant `PushPul` for `protocol.mode`\n  hint: did you mean `PushPull`? expected one of `Push`, `Pull`, `PushPull`",
    );
}

#[test]
fn wrong_types_and_bad_values() {
    check(
        &with("").replace("nodes: 4", "nodes: \"4\""),
        "t.ron:5:12: expected an integer for `nodes`, found `\"4\"`",
    );
    check(
        &with("").replace("nodes: 4", "nodes: -4"),
        "t.ron:5:12: integer `-4` is out of range for `nodes`\n  hint: ids, counts and seeds are non-negative integers that fit their field",
    );
    check(
        &with("topology: Star(center: 1.5),"),
        "t.ron:7:28: expected an integer for `topology.center`, found `1.5`",
    );
    check(
        &with("").replace("nodes: 4,", "nodes 4,"),
        "t.ron:5:11: expected `:` after a field name in the scenario\n  hint: fields are written `name: value`",
    );
    check(
        &with("").replace("\"10s\"", "\"150\""),
        "t.ron:4:15: invalid duration `150` for `duration`\n  hint: `150` has no unit; write e.g. `150ms` (units: ns, us, ms, s, m, h)",
    );
    check(
        &with("").replace("\"100ms\"", "\"100 parsecs\""),
        "t.ron:6:57: invalid duration `100 parsecs` for `protocol.period`\n  hint: unknown unit ` parsecs` in `100 parsecs`; expected one of ns, us, ms, s, m, h",
    );
    check(
        &with("").replace("\"10s\"", "10"),
        "t.ron:4:15: expected a string for `duration`, found `10`\n  hint: durations are strings with a unit, such as `\"10ms\"` or `\"10s\"`",
    );
    check(
        &with("faults: [(at: \"1s\", fault: ClockJump(node: 1, by: \"-5x\"))],"),
        "t.ron:7:55: invalid duration `-5x` for `faults[0].fault.by`\n  hint: unknown unit `x` in `5x`; expected one of ns, us, ms, s, m, h",
    );
    check(
        &with("").replace("name: \"t\"", "name: \"my scenario\""),
        "t.ron:2:11: invalid scenario name `my scenario`\n  hint: a name is non-empty and has only letters, digits, `-`, `_` and `.` (it names reports and files)",
    );
    check(
        &with("liveness: \"0\","),
        "t.ron:7:15: `liveness` is `0`; it must be positive\n  hint: write e.g. `\"100ms\"`",
    );
    check(
        &with("").replace("\"10s\"", "\"9000h\""),
        "t.ron:4:15: duration `9000h` for `duration` is longer than the limit `8760h`\n  hint: durations are at most 365 days",
    );
}

#[test]
fn ids_out_of_range() {
    check(
        &with("faults: [(at: \"1s\", fault: Crash(7))],"),
        "t.ron:7:38: node `7` is out of range in `faults[0].fault.0`\n  hint: the scenario has `4` nodes: ids run from `0` to `3`",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Partition(Split([[0, 1], [2, 9]])))],"),
        "t.ron:7:61: node `9` is out of range in `faults[0].fault.0.0[1][1]`\n  hint: the scenario has `4` nodes: ids run from `0` to `3`",
    );
    check(
        &with("topology: Star(center: 4),"),
        "t.ron:7:28: node `4` is out of range in `topology.center`\n  hint: the scenario has `4` nodes: ids run from `0` to `3`",
    );
    check(
        &with(
            "clients: (count: 2, workload: Broadcast(interval: \"1s\", ops_per_client: 1)),\n    \
             faults: [(at: \"1s\", fault: Split([(nodes: [0, 1], clients: [0]), (nodes: [2, 3], clients: [2])]))],",
        ),
        "t.ron:8:96: client `2` is out of range in `faults[0].fault.0[1].clients[0]`\n  hint: the scenario has `2` clients: ids run from `0` to `1`",
    );
    check(
        &with("faults: [(at: \"1s\", fault: OneWay(from: [0], to: (clients: [0])))],"),
        "t.ron:7:65: client `0` is out of range in `faults[0].fault.to.clients[0]`\n  hint: the scenario has no clients (see `clients`)",
    );
}

#[test]
fn probabilities_and_latencies() {
    check(
        &with("network: (drop: 1.5),"),
        "t.ron:7:21: probability `1.5` for `network.drop` is outside `[0, 1]`\n  hint: a probability is a float from `0.0` (never) to `1.0` (always)",
    );
    check(
        &with("network: (overrides: [(from: 0, to: 1, duplicate: -0.1)]),"),
        "t.ron:7:55: probability `-0.1` for `network.overrides[0].duplicate` is outside `[0, 1]`\n  hint: a probability is a float from `0.0` (never) to `1.0` (always)",
    );
    check(
        &with("network: (latency: Uniform(min: \"10ms\", max: \"1ms\")),"),
        "t.ron:7:37: uniform latency `min` `10ms` is above `max` `1ms`\n  hint: `min` must not exceed `max`",
    );
    check(
        &with("network: (latency: Pareto(scale: \"1ms\", shape: 0.0, max: \"1s\")),"),
        "t.ron:7:52: pareto `shape` is `0`; it must be positive\n  hint: a shape around `1.5` gives a long tail; smaller is heavier",
    );
}

#[test]
fn fault_schedule() {
    check(
        &with("faults: [(at: \"1s\", fault: Heal), (at: \"12s\", fault: Heal)],"),
        "t.ron:7:44: fault at `12s` is outside the fault phase `0..10s`\n  hint: a fault's `at` must be less than `duration`; with `liveness`, every fault heals at `duration`",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Partition(Split([[0, 1], [2]])))],"),
        "t.ron:7:48: this split leaves out node(s) `3`\n  hint: every node must be in exactly one group (clients may be left out: they keep reaching every node)",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Split([[0, 1], [1, 2, 3]]))],"),
        "t.ron:7:48: node `1` is in two groups of this split (also at `faults[0].fault.0[0][1]`)\n  hint: every endpoint is in at most one group",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Split([[0, 1, 2, 3], []]))],"),
        "t.ron:7:53: the group `faults[0].fault.0[1]` is empty\n  hint: a group names at least one node or client",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Bridge(left: [0], right: [1, 3], bridge: 3))],"),
        "t.ron:7:73: bridge node `3` is also at `faults[0].fault.right[1]`\n  hint: the bridge is in neither side: it is the one node that talks to both",
    );
    check(
        &with("faults: [(at: \"1s\", fault: Crash(1)), (at: \"3s\", fault: Restart(2))],"),
        "t.ron:7:61: node `2` is restarted at `3s` but is not crashed then\n  hint: a `Restart` follows a `Crash` of the same node",
    );
    check(
        &with("faults: [(at: \"1s\", fault: SetLink(from: 0))],"),
        "t.ron:7:32: `SetLink` changes nothing\n  hint: give at least one of `latency`, `drop` and `duplicate`",
    );
}

#[test]
fn protocol_workload_checks_and_expectations() {
    check(
        &with("").replace("fanout: 2", "fanout: 4"),
        "t.ron:6:46: gossip `fanout` is `4`, outside `1..=3`\n  hint: a node contacts between `1` and `nodes - 1` peers per round (`nodes` is `4`)",
    );
    check(
        &with("clients: (count: 1, workload: Broadcast(interval: \"1s\", ops_per_client: 1)),")
            .replace("Gossip(mode: PushPull, fanout: 2, period: \"100ms\")", "Forward(mode: HotPotato, tokens_per_node: 1)"),
        "t.ron:7:35: workload `Broadcast` needs the `broadcast` service, which protocol `Forward` does not serve\n  hint: protocols that serve `broadcast`: `Gossip`",
    );
    check(
        &with("checks: [Convergence()],")
            .replace("Gossip(mode: PushPull, fanout: 2, period: \"100ms\")", "Forward(mode: HotPotato, tokens_per_node: 1)"),
        "t.ron:7:14: check `convergence` is not supplied by protocol `Forward`\n  hint: `Forward` supplies no checks",
    );
    check(
        &with("checks: [Convergence()], expect: Violation([\"linearizability\"]),"),
        "t.ron:7:49: `expect` names `linearizability`, which is not a check\n  hint: did you mean `linearizable`? checks: `convergence`, `linearizable`, `election-safety`, `state-machine-safety`, `log-matching`, `leader-completeness`, `commit-quorum`, `apply-order`, `liveness`, `agreement`, `replica-convergence`, `no-lost-writes`, `atomicity`, `validity`, `isolation`, `blocking`",
    );
    check(
        &with("checks: [Convergence()], expect: Violation([\"convergance\"]),"),
        "t.ron:7:49: `expect` names `convergance`, which is not a check\n  hint: did you mean `convergence`? checks: `convergence`, `linearizable`, `election-safety`, `state-machine-safety`, `log-matching`, `leader-completeness`, `commit-quorum`, `apply-order`, `liveness`, `agreement`, `replica-convergence`, `no-lost-writes`, `atomicity`, `validity`, `isolation`, `blocking`",
    );
    check(
        &with("expect: Violation([\"convergence\"]),"),
        "t.ron:7:24: `expect` names the check `convergence`, which this scenario does not run\n  hint: the scenario runs no checks: add it to `checks`",
    );
    check(
        &with("nemesis: (kinds: [Loss], interval_mean: \"1s\", duration_mean: \"1s\"),"),
        "t.ron:7:14: `Loss` is listed but `loss` is `0`\n  hint: give the drop probability while a loss fault lasts, e.g. `loss: 0.2`",
    );
}

/// `BASE` running the primary-backup protocol, with `extra` in place of `{}`.
fn kv(extra: &str) -> String {
    with(extra).replace(
        "Gossip(mode: PushPull, fanout: 2, period: \"100ms\")",
        "PrimaryBackup(replication_delay: \"50ms\")",
    )
}

const KV_CLIENTS: &str = "clients: (count: 2, workload: KeyValue(keys: 3, get: 2, put: 2, cas: 1, interval: \"20ms\", ops_per_client: 5)),";

#[test]
fn key_value_workload_and_linearizable() {
    check(
        &kv(&format!(
            "{KV_CLIENTS} checks: [Linearizable()], expect: Violation([\"linearizable\"]),"
        )),
        "ok: t",
    );
    // The weights default to `1` each.
    check(
        &kv("clients: (count: 1, workload: KeyValue(keys: 1, interval: \"0\", ops_per_client: 1)), checks: [Linearizable()],"),
        "ok: t",
    );
    check(
        &with(KV_CLIENTS),
        "t.ron:7:35: workload `KeyValue` needs the `key-value` service, which protocol `Gossip` does not serve\n  hint: protocols that serve `key-value`: `PrimaryBackup`, `Raft`, `Paxos`, `Leaderless`",
    );
    check(
        &kv("clients: (count: 1, workload: Broadcast(interval: \"1s\", ops_per_client: 1)),"),
        "t.ron:7:35: workload `Broadcast` needs the `broadcast` service, which protocol `PrimaryBackup` does not serve\n  hint: protocols that serve `broadcast`: `Gossip`",
    );
    check(
        &kv("checks: [Linearizable()],"),
        "t.ron:7:14: check `linearizable` needs a key-value workload, but the scenario has no clients\n  hint: it checks the clients' history of gets, puts and cas: add e.g. `clients: (count: 3, workload: KeyValue(keys: 3, interval: \"20ms\", ops_per_client: 50))`",
    );
    check(
        &with("checks: [Convergence(), Linearizable()],"),
        "t.ron:7:29: check `linearizable` is not supplied by protocol `Gossip`\n  hint: `Gossip` supplies `convergence`",
    );
    check(
        &kv(&format!("{KV_CLIENTS} checks: [Convergence()],")),
        "t.ron:7:125: check `convergence` is not supplied by protocol `PrimaryBackup`\n  hint: `PrimaryBackup` supplies `linearizable`",
    );
    check(
        &kv(&format!(
            "{KV_CLIENTS} checks: [Linearizable(), Linearizable()],"
        )),
        "t.ron:7:141: check `linearizable` appears twice in `checks`",
    );
    check(
        &kv(&KV_CLIENTS.replace("keys: 3", "keys: 0")),
        "t.ron:7:50: `keys` is `0`, outside `1..=1000000`\n  hint: the clients address keys `0..keys`; a few keys make for contention",
    );
    check(
        &kv(&KV_CLIENTS.replace("cas: 1", "cas: 2000000")),
        "t.ron:7:74: weight `cas` is `2000000`, above the limit `1000000`\n  hint: weights are relative: `get: 2, put: 2, cas: 1` reads 40% of the time",
    );
    check(
        &kv(&KV_CLIENTS.replace("get: 2, put: 2, cas: 1", "get: 0, put: 0, cas: 0")),
        "t.ron:7:35: the weights `get`, `put`, `cas` and `append` are all `0`: the clients would do nothing\n  hint: give at least one kind of request a positive weight (`get`, `put` and `cas` default to `1`, `append` to `0`)",
    );
    check(
        &kv(&KV_CLIENTS.replace("count: 2,", "count: 2, rate: 0.0,")),
        "t.ron:7:31: `clients.rate` is `0`, outside `(0, 1000000]`\n  hint: requests per second arriving at each client (open loop); leave it out for a closed loop",
    );
    check(
        &kv(&KV_CLIENTS.replace("count: 2,", "count: 2, retries: 1000,")),
        "t.ron:7:34: `clients.retries` is `1000`, above the limit `100`\n  hint: resends of a timed-out request before it counts as unknown; a few are plenty",
    );
    check(
        &kv(&KV_CLIENTS.replace("ops_per_client: 5", "ops_per_client: 0")),
        "t.ron:7:111: `ops_per_client` is `0`: the clients would do nothing\n  hint: give each client at least one operation",
    );
    check(
        &kv(&KV_CLIENTS.replace("keys: 3", "kyes: 3")),
        "t.ron:7:44: unknown field `kyes` in `clients.workload`\n  hint: did you mean `keys`? the fields here are `keys`, `get`, `put`, `cas`, `append`, `interval`, `ops_per_client`",
    );
    check(
        &kv(&KV_CLIENTS.replace("keys: 3, ", "")),
        "t.ron:7:35: missing field `keys` in `clients.workload`\n  hint: add `keys: ...` (scenarios/README.md lists every field)",
    );
    check(
        &kv("").replace("\"50ms\"", "\"0\""),
        "t.ron:6:48: `protocol.replication_delay` is `0`; it must be positive\n  hint: write e.g. `\"100ms\"`",
    );
    check(
        &kv("").replace("\"50ms\"", "\"50ms\", bug: StaleReads"),
        "t.ron:6:61: unknown variant `StaleReads` for `protocol.bug`\n  hint: expected one of `StaleBackupReads`, `AckBeforeSync`",
    );
    check(
        &kv("").replace("replication_delay", "delay"),
        "t.ron:6:29: unknown field `delay` in `protocol`\n  hint: the fields here are `replication_delay`, `bug`",
    );
    check(
        &kv("checks: [Linearizable],"),
        "t.ron:7:26: expected `(` after `Linearizable`\n  hint: a check is written with parentheses, even without parameters: `Linearizable()`",
    );
}

/// `BASE` running Raft, with `extra` in place of `{}` and `params` as its parameters.
fn raft(params: &str, extra: &str) -> String {
    with(extra).replace(
        "Gossip(mode: PushPull, fanout: 2, period: \"100ms\")",
        &format!("Raft({params})"),
    )
}

const RAFT_OK: &str =
    "election_timeout_min: \"150ms\", election_timeout_max: \"300ms\", heartbeat: \"50ms\", batch_max: 64";

#[test]
fn lease_reads_need_their_clock_bound() {
    check(
        &raft(
            &format!("{RAFT_OK}, snapshot_threshold: 10, bug: ForgetVote"),
            "",
        ),
        "t.ron:6:15: raft `snapshot_threshold` cannot be combined with a `bug`\n  hint: a bug scenario keeps whole logs (the checks replay them): leave `snapshot_threshold` out",
    );
    let lease = format!("{RAFT_OK}, reads: Lease(drift_ppm: 100)");
    check(&raft(&lease, "clocks: (drift_ppm_max: 100),"), "ok: t");
    check(
        &raft(&lease, "clocks: (drift_ppm_max: 300),"),
        "t.ron:7:29: `clocks.drift_ppm_max` is `300`, above the lease's bound `drift_ppm: 100`\n  hint: a lease is only safe if every clock keeps within its drift bound: raise `drift_ppm` or lower the drift",
    );
    check(
        &raft(
            &lease,
            "nemesis: (kinds: [Crash, ClockJump], interval_mean: \"1s\", duration_mean: \"1s\", clock_jump_max: \"50ms\"),",
        ),
        "t.ron:7:30: the nemesis jumps clocks, which breaks the lease's clock bound\n  hint: lease reads need clocks that only drift; use `reads: ReadIndex` to test clock jumps",
    );
    check(
        &raft(&lease, "faults: [(at: \"1s\", fault: ClockJump(node: 1, by: \"-50ms\"))],"),
        "t.ron:7:32: a clock jump breaks the lease's clock bound\n  hint: lease reads need clocks that only drift; use `reads: ReadIndex` to test clock jumps",
    );
    check(
        &raft(&format!("{RAFT_OK}, reads: Lease(drift_ppm: 200000)"), ""),
        "t.ron:6:123: raft lease `drift_ppm` is `200000`: a drift bound of 10% or more leaves no useful lease\n  hint: the bound is in parts per million: real clocks drift by tens to hundreds",
    );
}

#[test]
fn raft_parameters_and_checks() {
    check(
        &raft(
            RAFT_OK,
            &format!("{KV_CLIENTS} checks: [Linearizable(), ElectionSafety(), StateMachineSafety()], expect: Violation([\"election-safety\"]),"),
        ),
        "ok: t",
    );
    check(
        &raft(&RAFT_OK.replace("\"150ms\"", "\"0\""), ""),
        "t.ron:6:42: `protocol.election_timeout_min` is `0`; it must be positive\n  hint: write e.g. `\"100ms\"`",
    );
    check(
        &raft(&RAFT_OK.replace("\"300ms\"", "\"100ms\""), ""),
        "t.ron:6:73: raft `election_timeout_max` (`100ms`) is below `election_timeout_min` (`150ms`)\n  hint: each election timeout is drawn uniformly from `[min, max]`",
    );
    check(
        &raft(&RAFT_OK.replace("\"50ms\"", "\"150ms\""), ""),
        "t.ron:6:93: raft `heartbeat` (`150ms`) is not below `election_timeout_min` (`150ms`)\n  hint: nodes would suspect a live leader between two heartbeats: make `heartbeat` a fraction of the election timeout, e.g. a tenth",
    );
    check(
        &raft(&RAFT_OK.replace("batch_max: 64", "batch_max: 0"), ""),
        "t.ron:6:112: raft `batch_max` is `0`: no entry would ever be replicated\n  hint: write e.g. `batch_max: 64`",
    );
    check(
        &raft(&format!("{RAFT_OK}, bug: Figure8"), ""),
        "t.ron:6:121: unknown variant `Figure8` for `protocol.bug`\n  hint: expected one of `CommitPreviousTermByCount`, `VoteWithoutLogCheck`, `ForgetVote`, `NoConsistencyCheck`, `TruncateAtCorruption`",
    );
    check(
        &with("checks: [ElectionSafety()],"),
        "t.ron:7:14: check `election-safety` is not supplied by protocol `Gossip`\n  hint: `Gossip` supplies `convergence`",
    );
}

#[test]
fn storage_errors() {
    check(
        &with("storage: (sync: Constant(\"1ms\"), overrides: [(node: 1), (node: 1, read: Constant(\"1ms\"))]),"),
        "t.ron:7:68: node `1`'s disk is overridden twice\n  hint: merge the two overrides into one",
    );
    check(&with("storage: (sync: Uniform(min: \"3ms\", max: \"1ms\")),"), "t.ron:7:34: uniform latency `min` `3ms` is above `max` `1ms`\n  hint: `min` must not exceed `max`");
    check(&with("storage: (fsync: Constant(\"1ms\")),"), "t.ron:7:15: unknown field `fsync` in `storage`\n  hint: did you mean `sync`? the fields here are `sync`, `read`, `per_byte`, `overrides`");
    check(&with("faults: [(at: \"1s\", fault: Corrupt(node: 9))],"), "t.ron:7:46: node `9` is out of range in `faults[0].fault.node`\n  hint: the scenario has `4` nodes: ids run from `0` to `3`");
}

/// Issue 13: inputs a new user or a fuzzer produced, each with an error that says what is
/// wrong where it is wrong.
#[test]
fn edge_cases_of_the_text() {
    // A byte-order mark is not part of the text.
    check(&format!("\u{feff}{}", with("")), "ok: t");
    check("", "t.ron:1:1: the file is empty\n  hint: a scenario file holds one `Scenario( ... )`: see scenarios/README.md");
    check("  // only a comment\n/* and another */\n", "t.ron:1:1: the file holds only comments\n  hint: a scenario file holds one `Scenario( ... )`: see scenarios/README.md");
    check(
        "# dsim — a deterministic distributed-system simulator\n\nSome text /* with a comment",
        "t.ron:1:1: this is not a scenario file: it starts with `# dsim — a deterministic distributed-sys…`\n  hint: a scenario file holds one `Scenario( ... )` written in RON: see scenarios/README.md",
    );
    check(
        "{\"name\": \"t\"}",
        "t.ron:1:1: this is not a scenario file: it starts with `{\"name\": \"t\"}`\n  hint: a scenario file holds one `Scenario( ... )` written in RON: see scenarios/README.md",
    );
    check(
        &with("\0faults: [],"),
        "t.ron:7:5: unexpected control character `U+0000` (NUL)\n  hint: a scenario file is text: remove it (an editor may show it as nothing at all)",
    );
    // Found by the fuzz harness: a NUL inside a string was echoed invisibly.
    check(
        &with("").replace("\"10s\"", "\"1\0s\""),
        "t.ron:4:15: invalid duration `1\\u{0}s` for `duration`\n  hint: unknown unit `\\u{0}s` in `1\\u{0}s`; expected one of ns, us, ms, s, m, h",
    );
    check(
        &with("").replace("\"10s\"", "\"-10s\""),
        "t.ron:4:15: invalid duration `-10s` for `duration`\n  hint: `-10s` is negative: a duration cannot be negative",
    );
    check(
        &with("").replace("\"100ms\"", "\"NaNs\""),
        "t.ron:6:57: invalid duration `NaNs` for `protocol.period`\n  hint: `NaNs` does not start with a number; write e.g. `150ms` (units: ns, us, ms, s, m, h)",
    );
    // A quote missing on line 2 makes every later quote pair wrongly; the error points where
    // the pairing went wrong, not where the quotes ran out.
    check(
        &with("").replace("name: \"t\"", "name: \"t"),
        "t.ron:2:11: unterminated string: the string opened here runs past the end of line 2\n  hint: close it with `\"` on line 2; every quote after it pairs with the wrong partner, up to the unpaired one at 6:63",
    );
    check(
        &with("").replace("nodes: 4", "nodes: 10000000"),
        "t.ron:5:12: `nodes` is `10000000`, outside `1..=1000000`\n  hint: dsim simulates at most `1000000` nodes in one run",
    );
}

/// Issue 13: nesting is bounded, and memory stays linear in the text however deep it nests.
#[test]
fn deep_nesting_is_rejected_at_the_bracket_that_crosses_the_limit() {
    let deep = format!("Scenario(name: {}", "[".repeat(100_000));
    check(
        &deep,
        "t.ron:1:79: brackets nest deeper than 64 levels here\n  hint: a scenario nests about six levels deep; look for a run of opening brackets (the outermost still open is at 1:9)",
    );
    // 64 levels are within the limit: ron reads them and rejects the value by its type.
    let ok_depth = with(&format!("faults: {}{},", "[".repeat(62), "]".repeat(62)));
    let got = scenarios::parse(&ok_depth, "t.ron", &protocols::builtin()).unwrap_err();
    assert!(!got.message.contains("nest deeper"), "{got}");
}

/// Issue 13: each protocol declares the cluster sizes it runs on; validation names them.
#[test]
fn cluster_sizes_a_protocol_does_not_run_on() {
    check(
        &raft(RAFT_OK, KV_CLIENTS).replace("nodes: 4", "nodes: 100000"),
        "t.ron:5:12: protocol `Raft` runs on `1` to `1000` nodes; the scenario has `100000`\n  hint: set `nodes` within `1..=1000` (the sizes the protocol declares it runs on in bounded time and memory: `dsim list` shows them)",
    );
    check(
        "Scenario(name: \"t\", seed: 1, duration: \"1s\", nodes: 1, protocol: TwoPhaseCommit())",
        "t.ron:1:53: protocol `TwoPhaseCommit` runs on at least `2` nodes; the scenario has `1`\n  hint: set `nodes` within `2..=1000000` (the sizes the protocol declares it runs on in bounded time and memory: `dsim list` shows them)",
    );
}

/// Issue 13: a nemesis at an absurd rate is rejected before it plans millions of faults, at
/// the field to change.
#[test]
fn nemesis_rates_that_would_plan_without_bound() {
    let nemesis = |interval: &str, extra: &str| {
        with(&format!(
            "nemesis: (kinds: [Crash, Partition], interval_mean: \"{interval}\", duration_mean: \"1s\"{extra}),"
        ))
    };
    check(&nemesis("1ms", ""), "ok: t");
    check(
        &nemesis("1ns", ""),
        "t.ron:7:57: at `interval_mean: \"1ns\"` the nemesis would plan about `10000000000` faults over the `10s` fault phase, more than `faults_max` (`10000`)\n  hint: raise `nemesis.interval_mean` to at least `\"1ms\"`, shorten `duration`, or raise `nemesis.faults_max` (at most `1000000`)",
    );
    check(&nemesis("10us", ", faults_max: 1_000_000"), "ok: t");
    check(
        &nemesis("1ms", ", faults_max: 0"),
        "t.ron:7:97: `faults_max` is `0`, outside `1..=1000000`\n  hint: the most faults the nemesis plans in one run; leave it out for `10000`",
    );
    check(
        &nemesis("10ms", "").replace("nodes: 4", "nodes: 100000"),
        "t.ron:7:57: at `interval_mean: \"10ms\"` the nemesis's partitions, each listing all `100000` nodes, would hold about `50000000` node ids, more than the plan's `10000000`\n  hint: raise `nemesis.interval_mean` to at least `\"50ms\"`, or leave `Partition` out of `nemesis.kinds`",
    );
}

#[test]
fn expect_reached_names_known_situations_once() {
    check(
        &with(
            r#"expect_reached: ["value carried across a healed partition", "node restarted from storage"],"#,
        ),
        "ok: t",
    );
    check(
        &with(r#"expect_reached: ["stale run ignord"],"#),
        "t.ron:7:22: `stale run ignord` is not a situation `Gossip` or the engine marks\n  hint: did you mean `stale run ignored`? known situations: `value carried across a healed partition`, `stale run ignored`, `values recovered from storage`, `leader crashed`, `leader paused`, `leader partitioned`, `clock jump on the leader`, `clock jump under a lease`, `message held for a paused node`, `message to a crashed node`, `unsynced writes lost in a crash`, `node restarted from storage`, `duplicate message delivered`, `clogged message released`, `message replayed`",
    );
    check(
        &with(r#"expect_reached: ["stale run ignored", "stale run ignored"],"#),
        "t.ron:7:43: `stale run ignored` appears twice in `expect_reached`\n  hint: name each situation once",
    );
    check(
        &with(r#"expect_reached: "stale run ignored","#),
        "t.ron:7:21: expected a list `[...]` for `expect_reached`, found `\"stale run ignored\"`",
    );
}

#[test]
fn swarm_ranges_are_checked_where_written() {
    let swarm = |fields: &str| {
        with(&format!(
            "swarm: (kinds: [Crash, Loss], interval_mean: (\"100ms\", \"1s\"), duration_mean: (\"50ms\", \"500ms\"){fields}),"
        ))
    };
    check(&swarm(", loss: (0.1, 0.5)"), "ok: t");
    check(
        &swarm(""),
        "t.ron:7:12: `Loss` is in `swarm.kinds` but the swarm has no `loss` range\n  hint: add e.g. `loss: (0.05, 0.5)`",
    );
    check(
        &swarm(", loss: (0.5, 0.1)"),
        "t.ron:7:107: the range `(0.5, 0.1)` for `swarm.loss` has its minimum above its maximum\n  hint: a range is written `(min, max)`",
    );
    check(
        &swarm(", loss: (0.1, 1.5)"),
        "t.ron:7:113: probability `1.5` for `swarm.loss.1` is outside `[0, 1]`\n  hint: a probability is a float from `0.0` (never) to `1.0` (always)",
    );
    check(
        &with("swarm: (kinds: [Crash], interval_mean: (\"1s\", \"100ms\"), duration_mean: (\"50ms\", \"500ms\")),"),
        "t.ron:7:44: the range `(\"1s\", \"100ms\")` for `swarm.interval_mean` has its minimum above its maximum\n  hint: a range is written `(min, max)`",
    );
    check(
        &with("swarm: (kinds: [Crash], interval_mean: (\"1ns\", \"100ms\"), duration_mean: (\"50ms\", \"500ms\")),"),
        "t.ron:7:44: at the shortest `interval_mean`, `\"1ns\"`, the swarm's nemesis would plan about `10000000000` faults (0 partition node ids) over the `10s` fault phase, more than `faults_max` (`10000`) or the plan's `10000000` node ids\n  hint: raise the range's minimum, shorten `duration`, or raise `swarm.faults_max`",
    );
    check(
        &with("nemesis: (kinds: [Crash], interval_mean: \"1s\", duration_mean: \"1s\"),\n    swarm: (kinds: [Crash], interval_mean: (\"1s\", \"2s\"), duration_mean: (\"50ms\", \"500ms\")),"),
        "t.ron:8:12: a scenario with a `swarm` has no `nemesis`: the swarm draws one for every seed\n  hint: leave `nemesis` out, or `swarm` for a fixed nemesis",
    );
    check(
        &with("swarm: (kinds: [Crash], interval_mean: (\"1s\", \"2s\"), duration_mean: (\"50ms\", \"500ms\"), mix: true),"),
        "t.ron:7:97: `mix` draws a key-value workload's weights, and this scenario has none\n  hint: leave `mix` out, or give `clients` a `KeyValue` workload",
    );
}

#[test]
fn clogs_and_reordering_name_their_fields() {
    check(
        &with(r#"faults: [(at: "1s", fault: Clog(2)), (at: "2s", fault: Unclog(2))],"#),
        "ok: t",
    );
    check(&with(r#"faults: [(at: "1s", fault: Clog(9))],"#), "t.ron:7:37: node `9` is out of range in `faults[0].fault.0`\n  hint: the scenario has `4` nodes: ids run from `0` to `3`");
    check(
        &with(r#"nemesis: (kinds: [Reorder], interval_mean: "1s", duration_mean: "1s"),"#),
        "t.ron:7:14: `Reorder` is listed but `reorder_window` is `0`\n  hint: give the latency window while the fault lasts, e.g. `reorder_window: \"500ms\"`",
    );
}

#[test]
fn replays_name_their_fields() {
    check(
        &with(
            r#"faults: [(at: "1s", fault: Replay(count: 20)), (at: "2s", fault: Replay(count: 5, from: 1, to: 2))],"#,
        ),
        "ok: t",
    );
    check(
        &with(r#"faults: [(at: "1s", fault: Replay(count: 0))],"#),
        "t.ron:7:46: a replay of `0` messages, outside `1..=1024`\n  hint: how many already-delivered messages to send again, e.g. `20`; the engine remembers the last 1024 delivered",
    );
    check(
        &with(r#"faults: [(at: "1s", fault: Replay(count: 3, to: 7))],"#),
        "t.ron:7:53: node `7` is out of range in `faults[0].fault.to`\n  hint: the scenario has `4` nodes: ids run from `0` to `3`",
    );
    check(
        &with(r#"nemesis: (kinds: [Replay], interval_mean: "1s", duration_mean: "1s"),"#),
        "t.ron:7:14: a replay of `0` messages, outside `1..=1024`\n  hint: how many already-delivered messages to send again, e.g. `20`; the engine remembers the last 1024 delivered",
    );
    check(
        &with(r#"swarm: (kinds: [Replay], interval_mean: ("1s", "2s"), duration_mean: ("50ms", "500ms")),"#),
        "t.ron:7:12: `Replay` is in `swarm.kinds` but the swarm has no `replay` range\n  hint: add e.g. `replay: (1, 50)`",
    );
}

#[test]
fn a_swarm_keeps_some_kinds() {
    check(
        &with(r#"swarm: (kinds: [Crash], keep: 0.0, interval_mean: ("1s", "2s"), duration_mean: ("50ms", "500ms")),"#),
        "t.ron:7:35: `keep` is `0`: no seed would keep a fault kind\n  hint: the probability that a seed keeps each kind, e.g. `keep: 0.75` (default `0.5`)",
    );
}
