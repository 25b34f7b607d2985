//! The run harness: run a scenario, judge it, compare with its `expect` — once, into a
//! [`RunReport`] that reports print from and never recompute.
//!
//! - [`prepare`] builds the statically typed `Simulation<P>` for the scenario's protocol (the
//!   fault plan is drawn then, so a caller can print it before the run starts); [`run`] does
//!   both steps.
//! - [`sweep`] runs many seeds on worker threads (one single-threaded simulation per worker),
//!   catching panics with their seed; [`determinism`] runs a scenario twice and names the
//!   first event where the two runs differ; [`cap`] runs one scenario under several
//!   protocols and reads each one's CAP report.
//!
//! This is the whole of what `dsim run`, `dsim sweep` and `dsim cap` do besides printing; the
//! CLI, the integration tests and a user's own tests call the same functions.

pub mod cap;
pub mod determinism;
pub mod panic;
pub mod shrink;
mod spare;
pub mod sweep;

use std::io::Write;

use sim_core::check::cap::{cap_report, CapReport};
use sim_core::check::{CheckResult, Linearizable, Moment, Verdict};
use sim_core::faults::Planned;
use sim_core::protocol::CheckKind;
use sim_core::{
    FaultRecord, History, Process, Protocol, RunResult, Service, SimConfig, SimTime, Simulation,
    Stats,
};

use crate::{Expect, Scenario};

/// What to do besides running.
#[derive(Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Writes the trace as JSON Lines here.
    pub trace: Option<Box<dyn Write>>,
    /// Records the running hash after every event (for locating a divergence).
    pub record_hashes: bool,
    /// Keeps the JSON text of this hashed event (0-based).
    pub capture_event: Option<u64>,
    /// When the run had partitions and a key-value history but the scenario does not run
    /// `linearizable`, check linearizability anyway for the CAP report's consistency line.
    pub cap_consistency: bool,
    /// Keep the protocol's markers of its observations (`Protocol::marker`) in
    /// [`RunReport::markers`], for a diagram.
    pub markers: bool,
}

/// The outcome of one run: everything reports print, computed once.
#[derive(Debug)]
pub struct RunReport {
    pub scenario: String,
    /// The protocol's scenario name.
    pub protocol: &'static str,
    pub seed: u64,
    pub trace_hash: u64,
    pub stats: Stats,
    pub sim_time_ns: u64,
    pub hit_events_max: bool,
    /// The run stopped on a full event queue (an event storm; the `event-storm` check failed).
    pub hit_queued_max: bool,
    pub checks: Vec<CheckResult>,
    pub verdict: Verdict,
    pub expected: Expect,
    pub as_expected: bool,
    pub history: History,
    pub running_hashes: Option<Vec<u64>>,
    /// Every event's hashed words, recorded with the running hashes.
    pub events: Option<sim_core::trace::EventLog>,
    pub captured: Vec<String>,
    /// The fault plan that was applied (schedule and nemesis), in time order.
    pub plan: Vec<Planned>,
    /// First error writing the trace file, if any (the run itself completed).
    pub trace_error: Option<String>,
    /// The CAP report, when the run had partitions.
    pub cap: Option<CapReport>,
    /// Linearizability of the whole history, for the CAP report: the `linearizable` check's
    /// result when the scenario ran it, else (with [`RunOptions::cap_consistency`]) computed
    /// once for a partitioned key-value run.
    pub consistency: Option<CheckResult>,
    /// The situations the run reached or evaluated (see [`crate::coverage`]).
    pub coverage: sim_core::coverage::Coverage,
    /// The situations the protocol declares ([`Protocol::SITUATIONS`]).
    pub situations: &'static [&'static str],
    /// The scenario's `expect_reached` situations this run did not reach.
    pub not_reached: Vec<String>,
    /// Every fault-related change of the world, in time order.
    pub fault_log: Vec<(SimTime, FaultRecord)>,
    /// The protocol's markers of the observations that matter, with [`RunOptions::markers`].
    pub markers: Vec<Moment>,
    pub node_count: u32,
    pub client_count: u32,
}

impl RunReport {
    /// The result of check `name`, if the scenario ran it.
    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Names of the checks that failed.
    pub fn failed_checks(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// A run built and ready: its fault plan is drawn.
pub trait PreparedRun {
    /// The fault plan the run will apply, in time order.
    fn plan(&self) -> &[Planned];
    /// Runs to the end, checks, and reports. Panics inside the simulation propagate (see
    /// [`panic::catch`]).
    fn run(self: Box<Self>) -> RunReport;
}

/// The scenario's configuration with the seed override applied.
pub fn config_for(scn: &Scenario, seed: Option<u64>) -> SimConfig {
    let mut config = scn.config.clone();
    if let Some(s) = seed {
        config.seed = s;
    }
    if let Some(swarm) = &scn.swarm {
        swarm.draw(&mut config);
    }
    config
}

/// Builds the run of `scn` (its protocol's `Simulation<P>`) without starting it.
pub fn prepare(scn: &Scenario, opts: RunOptions) -> Box<dyn PreparedRun + '_> {
    scn.protocol.entry.prepare(scn, opts)
}

/// Runs `scn` once. Panics inside the simulation propagate (callers catch them).
pub fn run(scn: &Scenario, opts: RunOptions) -> RunReport {
    prepare(scn, opts).run()
}

/// Runs `scn` at `seed`.
pub fn run_seed(scn: &Scenario, seed: u64) -> RunReport {
    run(
        scn,
        RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        },
    )
}

/// How a prepared run judges its result: the scenario's checks, as the registry entry of `P`
/// runs them. Handed in by the registry, so that the harness needs nothing of it.
pub(crate) type RunChecks<P> = fn(
    &Scenario,
    &<P as Protocol>::Params,
    &RunResult<<P as Process>::Observation>,
) -> Vec<CheckResult>;

struct Prepared<'s, P: Protocol> {
    scn: &'s Scenario,
    checks: RunChecks<P>,
    sim: Simulation<P>,
    cap_consistency: bool,
    markers: bool,
}

pub(crate) fn prepare_typed<P: Protocol>(
    scn: &Scenario,
    opts: RunOptions,
    checks: RunChecks<P>,
) -> Box<dyn PreparedRun + '_> {
    let params: P::Params = scn
        .protocol
        .params::<P>()
        .expect("a scenario's parameters are its protocol's")
        .clone();
    let config = config_for(scn, opts.seed);
    let header = opts.trace.is_some().then(|| trace_header(scn, &config));
    let mut sim = Simulation::new(config, move |id| P::new_node(id, &params));
    sim.reuse_buffers(spare::observations(), spare::operations());
    if let Some(mut w) = opts.trace {
        // A write error here shows again, and is reported, when the trace is written.
        let _ = writeln!(w, "{}", header.unwrap_or_default());
        sim.trace_to(w);
    }
    if opts.record_hashes {
        sim.record_running_hashes();
    }
    if let Some(i) = opts.capture_event {
        sim.capture_event(i);
    }
    Box::new(Prepared {
        scn,
        checks,
        sim,
        cap_consistency: opts.cap_consistency,
        markers: opts.markers,
    })
}

impl<P: Protocol> PreparedRun for Prepared<'_, P> {
    fn plan(&self) -> &[Planned] {
        self.sim.plan()
    }

    fn run(self: Box<Self>) -> RunReport {
        let Prepared {
            scn,
            checks: run_checks,
            sim,
            cap_consistency,
            markers,
        } = *self;
        let (mut result, io) = sim.run();
        let params = scn
            .protocol
            .params::<P>()
            .expect("a scenario's parameters are its protocol's");
        let mut checks = run_checks(scn, params, &result);
        checks.extend(sim_core::check::storm::event_storm(&result));
        let partitioned = result
            .fault_log
            .iter()
            .any(|(_, r)| matches!(r, FaultRecord::Partition(..)));
        let cap = partitioned.then(|| {
            cap_report(
                &result.history,
                &result.fault_log,
                result.node_count,
                result.client_count,
                result.end,
            )
        });
        let consistency = match checks.iter().find(|c| c.name == Linearizable::NAME) {
            Some(c) => Some(c.clone()),
            None if cap.is_some()
                && cap_consistency
                && result
                    .history
                    .ops
                    .iter()
                    .any(|o| o.request.service() == Service::KeyValue) =>
            {
                Some(sim_core::check::linearizable::linearizable(&result))
            }
            None => None,
        };
        let verdict = overall(&checks);
        let as_expected = matches_expect(&scn.expect, &checks);
        let coverage = std::mem::take(&mut result.coverage);
        let not_reached = crate::coverage::missing_in_run(&scn.expect_reached, &coverage);
        let markers = if markers {
            result
                .observations
                .iter()
                .filter_map(|o| P::marker(&o.value).map(|m| Moment::new(o.time, o.node, m)))
                .collect()
        } else {
            Vec::new()
        };
        let report = RunReport {
            scenario: scn.name.clone(),
            protocol: P::NAME,
            seed: result.seed,
            trace_hash: result.trace_hash,
            stats: result.stats,
            sim_time_ns: result.end.0,
            hit_events_max: result.hit_events_max,
            hit_queued_max: result.hit_queued_max,
            checks,
            verdict,
            expected: scn.expect.clone(),
            as_expected,
            history: std::mem::take(&mut result.history),
            running_hashes: result.running_hashes.take(),
            events: result.event_log.take(),
            captured: std::mem::take(&mut result.captured),
            plan: std::mem::take(&mut result.plan),
            trace_error: io.err().map(|e| e.to_string()),
            cap,
            consistency,
            coverage,
            situations: P::SITUATIONS,
            not_reached,
            fault_log: std::mem::take(&mut result.fault_log),
            markers,
            node_count: result.node_count,
            client_count: result.client_count,
        };
        spare::return_observations(result.observations);
        report
    }
}

/// The first line of a trace file: what ran — the scenario's name, the seed, dsim's version,
/// the protocol, and the whole scenario as the RON that reproduces it (seed included).
fn trace_header(scn: &Scenario, config: &SimConfig) -> serde_json::Value {
    let mut at_seed = scn.clone();
    at_seed.config.seed = config.seed;
    serde_json::json!({
        "t": 0,
        "ev": "header",
        "scenario": scn.name,
        "seed": config.seed,
        "dsim": env!("CARGO_PKG_VERSION"),
        "protocol": scn.protocol.to_ron(),
        "parameters": crate::write::scenario(&at_seed, &[]),
    })
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

/// The command line that reproduces a run of `file` at `seed` with `program` (`dsim`, or a
/// user's binary built on dsim's CLI).
pub fn reproduce_command(program: &str, file: &std::path::Path, seed: u64) -> String {
    format!("{program} run {} --seed {seed}", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;

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
