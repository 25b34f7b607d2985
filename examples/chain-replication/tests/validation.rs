//! The parameters' validation and the failure model, through dsim's scenario parser with the
//! example's registry: each mistake is an error at its own `line:col`, with a hint.

use scenarios::ScenarioError;

/// A valid scenario; `{protocol}` and `{faults}` are filled in by each test.
const BASE: &str = r#"Scenario(
    name: "chain-validation",
    seed: 1,
    duration: "2s",
    nodes: 4,
    protocol: {protocol},
    clients: (count: 2, workload: KeyValue(keys: 2, interval: "20ms", ops_per_client: 10)),
    faults: [{faults}],
    checks: [Linearizable(), AckedOnEveryReplica()],
)"#;

const PROTOCOL: &str = r#"ChainReplication(chain_length: 3, heartbeat: "20ms", failure_timeout: "200ms", resend: "50ms")"#;

fn parse(protocol: &str, faults: &str) -> Result<scenarios::Scenario, ScenarioError> {
    let text = BASE
        .replace("{protocol}", protocol)
        .replace("{faults}", faults);
    chain_replication::registry().parse(&text, "chain.ron")
}

/// The error, which must point at `line` and at the column where `token` starts on it.
fn error_at(protocol: &str, faults: &str, line: usize, token: &str) -> ScenarioError {
    let e = parse(protocol, faults).expect_err("an invalid scenario");
    let text = BASE
        .replace("{protocol}", protocol)
        .replace("{faults}", faults);
    let row = text.lines().nth(line - 1).expect("the line");
    let col = row.find(token).expect("the token on the line") + 1;
    assert_eq!((e.line, e.col), (line, col), "{e}");
    assert!(e.hint.is_some(), "a hint: {e}");
    e
}

#[test]
fn the_base_scenario_is_valid() {
    let scn = parse(PROTOCOL, "").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scn.protocol.name(), "ChainReplication");
    assert_eq!(scn.checks.len(), 2);
}

#[test]
fn a_chain_longer_than_the_servers_points_at_chain_length() {
    let p = PROTOCOL.replace("chain_length: 3", "chain_length: 4");
    let e = error_at(&p, "", 6, "4,");
    assert!(
        e.message.contains("a chain of `4` servers needs `5` nodes"),
        "{e}"
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("lower `chain_length` to at most `3`, or raise `nodes` to `5`")
    );
}

#[test]
fn a_failure_timeout_of_few_heartbeats_points_at_it() {
    let p = PROTOCOL.replace("\"200ms\"", "\"50ms\"");
    let e = error_at(&p, "", 6, "\"50ms\", resend");
    assert!(
        e.message.contains("shorter than `3` heartbeats of `20ms`"),
        "{e}"
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("failure_timeout: \"60ms\""),
        "{e}"
    );
}

#[test]
fn a_fault_of_the_master_points_at_its_node() {
    let e = error_at(PROTOCOL, r#"(at: "1s", fault: Crash(0))"#, 8, "0))");
    assert!(e.message.contains("node `0` is the master"), "{e}");
}

#[test]
fn a_pause_of_the_master_points_at_its_node() {
    let faults = r#"(at: "1s", fault: Pause(node: 0, duration: "100ms"))"#;
    let e = error_at(PROTOCOL, faults, 8, "0, duration");
    assert!(e.message.contains("node `0` is the master"), "{e}");
}

#[test]
fn faults_outside_fail_stop_are_rejected() {
    for (fault, words) in [
        (
            r#"Pause(node: 2, duration: "100ms")"#,
            "a paused server looks crashed",
        ),
        (
            "Partition(Isolate(2))",
            "a partition makes live servers look crashed",
        ),
        (r#"ClockJump(node: 2, by: "50ms")"#, "a clock jump"),
    ] {
        let faults = format!(r#"(at: "1s", fault: {fault})"#);
        let e = error_at(PROTOCOL, &faults, 8, fault.split('(').next().unwrap());
        assert!(e.message.contains(words), "{fault}: {e}");
        assert!(e.message.contains("fail-stop"), "{fault}: {e}");
    }
}

#[test]
fn more_crashes_at_once_than_the_chain_tolerates_point_at_the_last() {
    let faults = r#"(at: "1s", fault: Crash(1)), (at: "1.2s", fault: Crash(2)), (at: "1.1s", fault: Crash(3))"#;
    let e = error_at(PROTOCOL, faults, 8, r#"Crash(2)"#);
    assert!(e.message.contains("leaves `3` servers down at once"), "{e}");
    // With a restart in between, the same crashes are fine.
    let spaced = r#"(at: "1s", fault: Crash(1)), (at: "1.1s", fault: Restart(1)), (at: "1.2s", fault: Crash(2)), (at: "1.3s", fault: Crash(3))"#;
    assert!(parse(PROTOCOL, spaced).is_ok());
}

#[test]
fn a_nemesis_that_crashes_points_at_its_kind() {
    let text = BASE
        .replace("{protocol}", PROTOCOL)
        .replace("{faults}", "")
        .replace(
            "    checks:",
            r#"    nemesis: (kinds: [Loss, Crash], interval_mean: "300ms", duration_mean: "100ms", down_max: 1, clock_jump_max: "0", loss: 0.2, duplicate: 0.0),
    checks:"#,
        );
    let e = chain_replication::registry()
        .parse(&text, "chain.ron")
        .expect_err("a crashing nemesis");
    let row = text.lines().nth(e.line - 1).unwrap();
    assert_eq!(&row[e.col - 1..e.col - 1 + "Crash".len()], "Crash", "{e}");
    assert!(e.message.contains("nemesis kind `crash`"), "{e}");
}

#[test]
fn an_unknown_parameter_is_an_error_that_names_it() {
    let p = PROTOCOL.replace("resend:", "resend_every:");
    let e = parse(&p, "").expect_err("an unknown field");
    assert_eq!(e.line, 6, "{e}");
    assert!(e.message.contains("resend_every"), "{e}");
}
