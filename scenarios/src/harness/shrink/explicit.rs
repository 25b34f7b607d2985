//! The first step of a shrink: the failing run made explicit. The nemesis's plan (drawn up
//! front from the seed) becomes a `faults:` schedule — each partition with its `until` — and
//! the operations the clients drew become a `Script`; the nemesis is dropped, only the
//! failing check is kept and expected to fail. Run at the same seed, the explicit scenario is
//! the same run (`scenarios/tests/script.rs`), and from then on every candidate is an edit of
//! plain data.

use sim_core::check::Verdict;
use sim_core::config::Workload;

use super::size::Size;
use super::ShrinkError;
use crate::harness::panic::catch;
use crate::harness::{run, RunOptions, RunReport};
use crate::schedule;
use crate::{Expect, Scenario};

/// The failing run, made explicit.
pub(super) struct Start {
    pub(super) explicit: Scenario,
    pub(super) check: String,
    pub(super) before: Size,
}

/// Runs `scn` at `seed`, picks the check to shrink for (`check`, or the first that fails) and
/// writes the run out explicitly.
pub(super) fn materialize(
    scn: &Scenario,
    seed: u64,
    check: Option<&str>,
) -> Result<Start, ShrinkError> {
    if let Some(name) = check {
        if scn.check(name).is_none() {
            return Err(ShrinkError::UnknownCheck {
                name: name.to_string(),
                running: scn.checks.iter().map(|c| c.name.to_string()).collect(),
            });
        }
    }
    let report = catch(|| {
        run(
            scn,
            RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
    })
    .map_err(|message| ShrinkError::Panicked { seed, message })?;
    let failed = report.failed_checks();
    let name = match check {
        Some(name) if failed.contains(&name) => name.to_string(),
        Some(name) => {
            let verdict = report.check(name).map_or(Verdict::Unknown, |c| c.verdict);
            return Err(ShrinkError::NotFailing {
                seed,
                check: Some((name.to_string(), verdict.name())),
                failed: failed.iter().map(|s| s.to_string()).collect(),
            });
        }
        None => match failed.first() {
            Some(name) => name.to_string(),
            None => {
                return Err(ShrinkError::NotFailing {
                    seed,
                    check: None,
                    failed: Vec::new(),
                })
            }
        },
    };
    let before = Size::of(scn, &report);
    let spec = scn.check(&name).expect("a check the scenario runs").clone();
    let mut explicit = scn.clone();
    explicit.name = format!("{}-shrunk", scn.name);
    explicit.description = format!("{} — shrunk at seed {seed}: `{name}` fails", scn.name);
    explicit.config.seed = seed;
    explicit.config.nemesis = None;
    explicit.config.faults =
        schedule::to_engine(&schedule::from_plan(&report.plan, scn.config.duration));
    if let Some(w) = script_of(scn, seed, &report) {
        explicit.config.clients.workload = w;
    }
    explicit.checks = vec![spec];
    explicit.expect = Expect::Violation(vec![name.clone()]);
    Ok(Start {
        explicit,
        check: name,
        before,
    })
}

/// The clients' drawn operations as a script (`None`: an open loop or no clients, kept as
/// they are).
fn script_of(scn: &Scenario, seed: u64, report: &RunReport) -> Option<Workload> {
    sim_core::script::materialize(
        seed,
        &scn.config.clients,
        scn.config.node_count,
        &report.history,
    )
}
