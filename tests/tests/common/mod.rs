//! Helpers the protocol test files share (each file under `tests/tests/` is its own crate and
//! includes this module with `mod common;`; not every file uses every helper).
#![allow(dead_code)]

use dsim::runner::{run_scenario, RunOptions, RunReport};
use scenarios::Scenario;
use sim_core::check::CheckResult;
use sim_core::SimDuration;

pub fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

/// A shipped scenario: `scenarios/<family>/<name>`.
pub fn load_shipped(family: &str, name: &str) -> Scenario {
    let path = scenarios::shipped_dir().join(family).join(name);
    scenarios::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `scn` at `seed`.
pub fn run_seed(scn: &Scenario, seed: u64) -> RunReport {
    run_scenario(
        scn,
        RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        },
    )
}

/// The result of the check named `name`; panics if the run did not have it.
pub fn check<'a>(report: &'a RunReport, name: &str) -> &'a CheckResult {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{}: no check `{name}`", report.scenario))
}
