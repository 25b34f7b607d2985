//! Helpers the protocol test files share (each file under `protocols/tests/` is its own crate and
//! includes this module with `mod common;`; not every file uses every helper).
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use scenarios::harness::{run as run_scenario, RunOptions, RunReport};
use scenarios::Scenario;
use sim_core::check::{CheckResult, Verdict};
use sim_core::{Outcome, Request, SimDuration};

pub fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

/// A shipped scenario: `scenarios/<family>/<name>`.
pub fn load_shipped(family: &str, name: &str) -> Scenario {
    let path = scenarios::shipped_dir().join(family).join(name);
    scenarios::load(&path, &protocols::builtin()).unwrap_or_else(|e| panic!("{e}"))
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

/// Runs the bug scenario `scn` from seed 0 until check `intended` fails (at most `max` seeds);
/// the failure must name its seed, and `fixed` (the same scenario without the bug) run at that
/// seed must satisfy `control`. Returns the seed.
pub fn first_catching_seed(
    scn: &Scenario,
    fixed: &Scenario,
    intended: &str,
    max: u64,
    control: impl Fn(&RunReport, &str),
) -> u64 {
    let name = &scn.name;
    for seed in 0..max {
        let report = run_seed(scn, seed);
        let c = check(&report, intended);
        if c.verdict != Verdict::Fail {
            continue;
        }
        assert!(
            c.detail.contains(&format!("reproduce with seed {seed}")),
            "{}",
            c.detail
        );
        control(
            &run_seed(fixed, seed),
            &format!("{name} without its bug, seed {seed}"),
        );
        println!("{name}: {intended} caught at seed {seed}: {}", c.detail);
        return seed;
    }
    panic!("{name}: `{intended}` caught nothing in seeds 0..{max}");
}

/// Every check of a key-value run passes and at least `min_checks` ran; a `fail` outcome is
/// only ever a cas whose expectation did not hold (never a refused request). Returns
/// (operations, ok, indeterminate).
pub fn assert_kv_pass(report: &RunReport, what: &str, min_checks: usize) -> (u64, u64, u64) {
    for c in &report.checks {
        assert_eq!(
            c.verdict,
            Verdict::Pass,
            "{what}: {} — {}",
            c.name,
            c.detail
        );
    }
    assert!(
        report.checks.len() >= min_checks,
        "{what}: only {} checks ran",
        report.checks.len()
    );
    let (mut ops, mut ok, mut unknown) = (0, 0, 0);
    for op in &report.history.ops {
        ops += 1;
        match op.completion {
            Some((_, Outcome::Ok(_))) => ok += 1,
            None | Some((_, Outcome::Unknown)) => unknown += 1,
            Some((_, Outcome::Fail)) => {
                assert!(
                    matches!(op.request, Request::Cas { .. }),
                    "{what}: {op:?} failed"
                );
            }
        }
    }
    (ops, ok, unknown)
}

/// A writer the test keeps a handle on: a run's trace, read back after the run.
#[derive(Clone, Default)]
pub struct Buf(pub Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
