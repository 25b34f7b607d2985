//! Property tests through dsim's public strategies: random clusters (3 or 5 nodes, a jittery
//! lossy network, skewed clocks) under random crash/restart schedules within the failure
//! model. The correct protocol passes both checks; the broken variant fails, and proptest
//! shrinks its fault schedule to the few faults that matter.

use chain_replication::{AckedOnEveryReplica, Bug, Chain, Params};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use scenarios::testing::{self, FaultBounds, FaultChoice, FAULTS};
use scenarios::{CheckSpec, ProtocolSpec, Scenario};
use sim_core::check::Linearizable;
use sim_core::config::{ClientConfig, Fault, ScheduledFault, TargetPolicy, Workload};
use sim_core::{NoParams, NodeId, SimConfig, SimDuration};

/// The binary that reproduces a failure (`cargo run -p chain-replication -- run FILE`).
const PROGRAM: &str = "chain-replication";

/// How long a restarted server counts as down: it must rejoin and receive the state before
/// the next crash may leave it as the only holder of the data (t + 1 servers hold it only
/// once the joiner has caught up).
const REJOIN_MS: u64 = 1_000;

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

/// Four closed-loop clients on three keys, reads first; one retry after a timeout.
fn clients() -> ClientConfig {
    ClientConfig {
        count: 4,
        target: TargetPolicy::Random,
        workload: Workload::KeyValue {
            keys: 3,
            get: 3,
            put: 2,
            cas: 1,
            append: 0,
            interval: ms(20),
            ops_per_client: 60,
        },
        timeout: ms(300),
        stop: None,
        rate: None,
        retries: 1,
    }
}

/// A server in a schedule being cut to the failure model.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    Up,
    Down,
    /// Restarted at this time (ms): rejoining the chain.
    Restarted(u64),
}

/// The drawn schedule cut to the failure model: crashes and restarts of servers only (the
/// master, node 0, never fails), and a crash only while fewer than `chain_length - 1` other
/// servers are down or rejoining.
fn fail_stop(faults: Vec<ScheduledFault>, nodes: u32) -> Vec<ScheduledFault> {
    let tolerated = nodes as usize - 2;
    let mut servers = vec![Server::Up; nodes as usize];
    let mut out = Vec::new();
    for f in faults {
        let at = f.at.as_nanos() / 1_000_000;
        let unavailable = |s: &Server| match *s {
            Server::Up => false,
            Server::Down => true,
            Server::Restarted(t) => at < t + REJOIN_MS,
        };
        let down = servers.iter().filter(|s| unavailable(s)).count();
        match f.fault {
            Fault::Crash(n)
                if n != NodeId(0) && servers[n.index()] != Server::Down && down < tolerated =>
            {
                servers[n.index()] = Server::Down;
                out.push(f);
            }
            Fault::Restart(n) if servers[n.index()] == Server::Down => {
                servers[n.index()] = Server::Restarted(at);
                out.push(f);
            }
            _ => {}
        }
    }
    out
}

/// Crashes and restarts of the servers only: node 0, the master, is spared.
const FAIL_STOP: FaultBounds = FaultBounds {
    kinds: &FaultChoice::CRASH_RESTART,
    spare: 1,
    ..FAULTS
};

/// dsim's random cluster (3 or 5 nodes) under crashes and restarts of servers, the schedule
/// cut to the failure model.
fn cluster() -> impl Strategy<Value = SimConfig> {
    testing::cluster(FAIL_STOP, SimDuration::from_secs(1), clients()).prop_map(|mut c| {
        c.faults = fail_stop(std::mem::take(&mut c.faults), c.node_count);
        c
    })
}

/// The property's scenario: every server in the chain, both checks, expected to pass.
fn scenario(config: SimConfig, bug: Option<Bug>) -> Scenario {
    let params = Params::new(config.node_count - 1, bug);
    let checks = vec![
        CheckSpec::new::<Linearizable>(NoParams {}),
        CheckSpec::new::<AckedOnEveryReplica>(NoParams {}),
    ];
    let name = match bug {
        None => "chain-property".to_string(),
        Some(b) => format!("chain-property-{b:?}"),
    };
    let scn = testing::scenario(&name, config, ProtocolSpec::new::<Chain>(params), checks);
    // The file a failure is saved as must load: the failure model holds.
    if let Err(e) = testing::validate(&scn, &chain_replication::registry()) {
        panic!("a generated scenario breaks the failure model: {e}");
    }
    scn
}

proptest! {
    #![proptest_config(Config {
        cases: 48,
        rng_seed: RngSeed::Fixed(2004),
        failure_persistence: None,
        ..Config::default()
    })]

    /// Chain replication is linearizable and keeps every acknowledged write on every
    /// replica, under any crash schedule its failure model allows.
    #[test]
    fn correct_chain_replication_passes(config in cluster()) {
        testing::check(&scenario(config, None), PROGRAM)?;
    }
}

/// Most faults the shrunk failing schedule of the broken variant may keep.
const SHRUNK_FAULTS_MAX: usize = 3;

/// The same property on `ServeBeforeCaughtUp` fails: proptest finds a failing cluster and
/// shrinks its fault schedule to a few faults, and the saved scenario reproduces the failure
/// (same check, same trace hash).
#[test]
fn the_broken_variant_fails_and_shrinks_to_a_few_faults() {
    let bug = Bug::ServeBeforeCaughtUp;
    let config = Config {
        cases: 64,
        rng_seed: RngSeed::Fixed(2004),
        failure_persistence: None,
        max_shrink_iters: 150,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&cluster(), |config| {
        testing::check(&scenario(config, Some(bug)), PROGRAM).map(|_| ())
    });
    let (message, shrunk) = match result {
        Err(TestError::Fail(reason, shrunk)) => (reason.message().to_string(), shrunk),
        Err(TestError::Abort(why)) => panic!("the property aborted: {why}"),
        Ok(()) => panic!("the broken variant `{bug:?}` passed every case"),
    };
    println!("shrunk failing case of `{bug:?}`:\n{message}");
    let n = shrunk.faults.len();
    assert!(
        n <= SHRUNK_FAULTS_MAX,
        "shrunk to {n} faults, more than {SHRUNK_FAULTS_MAX}"
    );
    assert!(n >= 1, "the bug needs a server to rejoin, hence a crash");
    assert!(message.contains("check `linearizable`: fail"), "{message}");
    assert!(message.contains(&format!("faults ({n}):")), "{message}");
    assert!(
        message.contains("reproduce: chain-replication run "),
        "{message}"
    );
    reproduces(&message, bug);
}

/// The scenario `testing::check` saved for the smallest failure fails again when loaded
/// from its file, with the trace hash the message printed.
fn reproduces(message: &str, bug: Bug) {
    let path = testing::failures_dir().join(format!("chain-property-{bug:?}.ron"));
    let scn = chain_replication::registry()
        .load(&path)
        .unwrap_or_else(|e| panic!("the saved failure does not load: {e}"));
    let report = scenarios::run(&scn, scenarios::RunOptions::default());
    assert_eq!(report.failed_checks(), ["linearizable"]);
    let hash = format!("trace-hash: {:016x}", report.trace_hash);
    assert!(message.contains(&hash), "{hash} not in:\n{message}");
}
