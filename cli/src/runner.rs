//! Running one scenario: choose the protocol it names, build the simulation, run it, evaluate
//! its checks and compare the outcome with the scenario's `expect`.
//!
//! This is the one place that maps a `ProtocolSpec` to a concrete `Process` type, so the engine
//! stays generic (no dynamic dispatch per event) and the rest of the CLI stays protocol-blind.

use std::io::Write;

use protocols::ProtocolSpec;
use scenarios::{CheckSpec, Expect, Scenario};
use sim_core::check::cap::{cap_report, CapReport};
use sim_core::check::linearizability::{check_history, LinOptions};
use sim_core::check::{CheckResult, Verdict};
use sim_core::{History, Process, RunResult, SimConfig, Simulation, Stats};

/// What to do besides running.
#[derive(Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Writes the trace as JSON Lines here.
    pub trace: Option<Box<dyn Write>>,
    /// Records the running hash after every event (for `--check-determinism`).
    pub record_hashes: bool,
    /// Keeps the JSON text of this hashed event (0-based).
    pub capture_event: Option<u64>,
}

/// The outcome of one run, protocol-independent.
#[derive(Debug)]
pub struct RunReport {
    pub scenario: String,
    pub seed: u64,
    pub trace_hash: u64,
    pub stats: Stats,
    pub sim_time_ns: u64,
    pub hit_events_max: bool,
    pub checks: Vec<CheckResult>,
    pub verdict: Verdict,
    pub expected: Expect,
    pub as_expected: bool,
    pub history: History,
    pub running_hashes: Option<Vec<u64>>,
    pub captured: Vec<String>,
    pub faults_planned: usize,
    /// First error writing the trace file, if any (the run itself completed).
    pub trace_error: Option<String>,
    /// The CAP report, when the run had partitions.
    pub cap: Option<CapReport>,
}

/// The scenario's configuration with the seed override applied.
pub fn config_for(scn: &Scenario, seed: Option<u64>) -> SimConfig {
    let mut config = scn.config.clone();
    if let Some(s) = seed {
        config.seed = s;
    }
    config
}

/// Runs `scn` once. Panics inside the simulation propagate (callers catch them).
pub fn run_scenario(scn: &Scenario, opts: RunOptions) -> RunReport {
    let config = config_for(scn, opts.seed);
    match &scn.protocol {
        ProtocolSpec::Gossip(p) => {
            let p = p.clone();
            let sim = Simulation::new(config, move |id| protocols::gossip::Gossip::new(id, &p));
            finish(scn, sim, opts, |result, spec| match spec {
                CheckSpec::Convergence { within } => {
                    protocols::gossip::check_convergence(result, *within)
                }
                CheckSpec::Linearizable => linearizable(result),
                _ => not_available(spec),
            })
        }
        ProtocolSpec::Forward(p) => {
            let p = p.clone();
            let sim = Simulation::new(config, move |id| protocols::forward::Forward::new(id, &p));
            finish(scn, sim, opts, |_, spec| {
                CheckResult::new(
                    spec.name(),
                    Verdict::Unknown,
                    "not available for this protocol",
                )
            })
        }
        ProtocolSpec::PrimaryBackup(p) => {
            let p = p.clone();
            let sim = Simulation::new(config, move |id| {
                protocols::primary_backup::PrimaryBackup::new(id, &p)
            });
            finish(scn, sim, opts, |result, spec| match spec {
                CheckSpec::Linearizable => linearizable(result),
                _ => not_available(spec),
            })
        }
        ProtocolSpec::Raft(p) => {
            let p = p.clone();
            let sim = Simulation::new(config, move |id| protocols::raft::Raft::new(id, &p));
            finish(scn, sim, opts, |result, spec| match spec {
                CheckSpec::Linearizable => linearizable(result),
                CheckSpec::ElectionSafety => protocols::raft::check_election_safety(result),
                CheckSpec::StateMachineSafety => {
                    protocols::raft::check_state_machine_safety(result)
                }
                CheckSpec::LogMatching => protocols::raft::check_log_matching(result),
                CheckSpec::LeaderCompleteness => protocols::raft::check_leader_completeness(result),
                CheckSpec::Liveness {
                    within,
                    min_answered,
                } => protocols::raft::check_liveness(result, *within, *min_answered),
                _ => not_available(spec),
            })
        }
        ProtocolSpec::Leaderless(p) => {
            let p = p.clone();
            let n = p.n;
            let sim = Simulation::new(config, move |id| {
                protocols::leaderless::Leaderless::new(id, &p)
            });
            finish(scn, sim, opts, move |result, spec| match spec {
                CheckSpec::Linearizable => linearizable(result),
                CheckSpec::ReplicaConvergence { within } => {
                    protocols::leaderless::check_replica_convergence(result, n, *within)
                }
                CheckSpec::NoLostWrites => protocols::leaderless::check_no_lost_writes(result, n),
                _ => not_available(spec),
            })
        }
        ProtocolSpec::Paxos(p) => {
            let p = p.clone();
            let sim = Simulation::new(config, move |id| protocols::paxos::Paxos::new(id, &p));
            finish(scn, sim, opts, |result, spec| match spec {
                CheckSpec::Linearizable => linearizable(result),
                CheckSpec::Agreement => protocols::paxos::check_agreement(result),
                CheckSpec::Liveness {
                    within,
                    min_answered,
                } => protocols::paxos::check_liveness(result, *within, *min_answered),
                _ => not_available(spec),
            })
        }
        ProtocolSpec::TwoPhaseCommit(p) => {
            use protocols::two_phase_commit as tpc;
            let p = p.clone();
            let sim = Simulation::new(config, move |id| tpc::TwoPhaseCommit::new(id, &p));
            finish(scn, sim, opts, |result, spec| match spec {
                CheckSpec::Atomicity => tpc::check_atomicity(result),
                CheckSpec::Validity => tpc::check_validity(result),
                CheckSpec::Isolation => tpc::check_isolation(result),
                CheckSpec::Blocking { max } => tpc::check_blocking(result, *max),
                _ => not_available(spec),
            })
        }
    }
}

/// A check validation lets through only for the protocols that supply it.
fn not_available(spec: &CheckSpec) -> CheckResult {
    CheckResult::new(
        spec.name(),
        Verdict::Unknown,
        "not available for this protocol",
    )
}

/// The `linearizable` check on a run's key-value history, under the default (deterministic)
/// search budget. On a violation the detail is the checker's explanation — the key, the
/// operation that cannot be linearized, the smallest failing window and a timeline — and the
/// seed.
pub fn linearizable<O>(result: &RunResult<O>) -> CheckResult {
    let opts = LinOptions {
        seed: Some(result.seed),
        ..LinOptions::default()
    };
    check_history(&result.history, &opts)
}

fn finish<P: Process>(
    scn: &Scenario,
    mut sim: Simulation<P>,
    opts: RunOptions,
    check: impl Fn(&RunResult<P::Observation>, &CheckSpec) -> CheckResult,
) -> RunReport {
    if let Some(w) = opts.trace {
        sim.trace_to(w);
    }
    if opts.record_hashes {
        sim.record_running_hashes();
    }
    if let Some(i) = opts.capture_event {
        sim.capture_event(i);
    }
    let faults_planned = sim.plan().len();
    let (result, io) = sim.run();
    let checks: Vec<CheckResult> = scn.checks.iter().map(|c| check(&result, c)).collect();
    let partitioned = result
        .fault_log
        .iter()
        .any(|(_, r)| matches!(r, sim_core::FaultRecord::Partition(..)));
    let cap = partitioned.then(|| {
        cap_report(
            &result.history,
            &result.fault_log,
            result.node_count,
            result.client_count,
            &scn.config.clients.target,
            result.end,
        )
    });
    let verdict = overall(&checks);
    let as_expected = matches_expect(&scn.expect, &checks);
    RunReport {
        scenario: scn.name.clone(),
        seed: result.seed,
        trace_hash: result.trace_hash,
        stats: result.stats,
        sim_time_ns: result.end.0,
        hit_events_max: result.hit_events_max,
        checks,
        verdict,
        expected: scn.expect.clone(),
        as_expected,
        history: result.history,
        running_hashes: result.running_hashes,
        captured: result.captured,
        faults_planned,
        trace_error: io.err().map(|e| e.to_string()),
        cap,
    }
}

/// Fail if any check failed; unknown if none failed but one could not decide; else pass.
pub fn overall(checks: &[CheckResult]) -> Verdict {
    if checks.iter().any(|c| c.verdict == Verdict::Fail) {
        Verdict::Fail
    } else if checks.iter().any(|c| c.verdict == Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Pass
    }
}

/// `Pass`: every check passed. `Violation(names)`: each named check failed and no other did.
pub fn matches_expect(expect: &Expect, checks: &[CheckResult]) -> bool {
    match expect {
        Expect::Pass => checks.iter().all(|c| c.verdict == Verdict::Pass),
        Expect::Violation(names) => checks.iter().all(|c| {
            let named = names.iter().any(|n| n == &c.name);
            if named {
                c.verdict == Verdict::Fail
            } else {
                c.verdict != Verdict::Fail
            }
        }),
    }
}

/// The words of `expect` used in reports: `"pass"` or `"violation"`.
pub fn expect_word(e: &Expect) -> &'static str {
    match e {
        Expect::Pass => "pass",
        Expect::Violation(_) => "violation",
    }
}

/// Runs `f`, turning a panic into `Err(message)`. The panic message is not printed by the
/// default hook (see [`quiet_panics`]), the caller reports it with the seed.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = IN_CATCH.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_CATCH.with(|c| c.set(was));
    result.map_err(|payload| {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic payload".to_string()
        };
        match LAST_PANIC_LOCATION.with(|l| l.borrow_mut().take()) {
            Some(loc) => format!("{msg} (at {loc})"),
            None => msg,
        }
    })
}

thread_local! {
    static IN_CATCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs a panic hook that records where a panic inside [`catch`] happened instead of
/// printing it, so that the CLI can report a simulation panic once, with its seed and a
/// reproduce command. Outside `catch` a panic is printed; a closed stdout (`dsim list | head`)
/// ends the process quietly with exit code 0.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        // `dsim list | head`: stdout closed early is not an error worth a report.
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied());
        if text.is_some_and(|t| t.contains("Broken pipe")) {
            std::process::exit(0);
        }
        let loc = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        if IN_CATCH.with(|c| c.get()) {
            LAST_PANIC_LOCATION.with(|l| *l.borrow_mut() = loc);
        } else {
            // A panic outside a simulation is a bug in dsim itself: say so, loudly.
            eprintln!(
                "error: dsim panicked: {} (at {})",
                text.unwrap_or("unknown panic payload"),
                loc.unwrap_or_default()
            );
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_turns_a_panic_into_its_message_and_location() {
        quiet_panics();
        let r: Result<(), String> = catch(|| panic!("boom {}", 7));
        let e = r.unwrap_err();
        assert!(e.contains("boom 7"), "{e}");
        assert!(e.contains("runner.rs"), "{e}");
        assert_eq!(catch(|| 5), Ok(5));
    }

    #[test]
    fn expectations_match_verdicts() {
        let c = |name: &str, v: Verdict| CheckResult::new(name, v, "");
        let pass = [c("a", Verdict::Pass), c("b", Verdict::Pass)];
        let one_fails = [c("a", Verdict::Fail), c("b", Verdict::Pass)];
        assert!(matches_expect(&Expect::Pass, &pass));
        assert!(!matches_expect(&Expect::Pass, &one_fails));
        assert!(matches_expect(
            &Expect::Violation(vec!["a".into()]),
            &one_fails
        ));
        assert!(!matches_expect(
            &Expect::Violation(vec!["b".into()]),
            &one_fails
        ));
        assert!(!matches_expect(&Expect::Violation(vec!["a".into()]), &pass));
        assert_eq!(overall(&one_fails), Verdict::Fail);
        assert_eq!(
            overall(&[c("a", Verdict::Unknown), c("b", Verdict::Pass)]),
            Verdict::Unknown
        );
        assert_eq!(overall(&[]), Verdict::Pass);
    }
}
