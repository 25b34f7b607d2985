//! What a sweep reports, as data: the outcome a shard writes with `dsim sweep --json` and
//! `dsim sweep merge` reads back, adds up and prints the same way.
//!
//! [`SweepOutcome`] is everything about a sweep that does not depend on the machine it ran
//! on — the scenario and seeds, counts, failing seeds with their first failure detail and
//! reproduce command, and failures grouped by signature — so that the merge of N shards is
//! comparable field for field with the same sweep run in one piece. Timing (`wall_s`,
//! `seeds_per_s`, `jobs`) sits beside it in [`SweepJson`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use scenarios::harness::sweep::{SeedOutcome, SweepResult};

use crate::coverage_report::{self, CoverageRow};

/// A half-open range of seeds, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRange {
    pub start: u64,
    pub end: u64,
}

/// One slice of a sweep: every `count`-th seed of the range from the `index`-th.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// One failing seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub seed: u64,
    /// Every check that failed, in the scenario's order (empty for a panic).
    pub checks: Vec<String>,
    /// The first failing check (`null` for a panic): what the signature is made of.
    pub check: Option<String>,
    /// That check's detail, or the panic's message.
    pub detail: String,
    pub signature: String,
    pub reproduce: String,
    /// What the scenario's swarm drew for this seed, as RON (`null` without a swarm).
    #[serde(default)]
    pub swarm: Option<String>,
}

/// Failures that share a signature: most likely one bug.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub signature: String,
    pub count: usize,
    /// The failing seeds, ascending.
    pub seeds: Vec<u64>,
    /// The command that reproduces the smallest of them.
    pub reproduce: String,
}

/// A sweep's result as it would read had it run on one machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepOutcome {
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub file: String,
    pub seeds: SeedRange,
    /// The shard this report covers; `null` for a whole sweep (and for a merge).
    pub shard: Option<Shard>,
    pub runs: u64,
    pub passed: u64,
    /// Seeds whose verdict is fail, panics included.
    pub failed: u64,
    pub unknown: u64,
    pub failing_seeds: Vec<u64>,
    pub panicked_seeds: Vec<u64>,
    pub unknown_seeds: Vec<u64>,
    /// One per failing seed, ascending.
    pub failures: Vec<Failure>,
    /// The failures grouped by signature, the largest group first.
    pub groups: Vec<Group>,
    /// The scenario's `expect`: `"pass"` or `"violation"`.
    pub expected: String,
    /// Each situation the protocol declares or a run reached or evaluated, with the seeds
    /// that reached it (see `coverage_report.rs`).
    #[serde(default)]
    pub coverage: Vec<CoverageRow>,
    /// The situations of `coverage` no seed reached: the scenario's holes.
    #[serde(default)]
    pub never_reached: Vec<String>,
    /// The scenario's `expect_reached`.
    #[serde(default)]
    pub expect_reached: Vec<String>,
    /// The situations of `expect_reached` no seed reached (exit code 8).
    #[serde(default)]
    pub expect_reached_missing: Vec<String>,
}

/// `dsim sweep --json`: the outcome and how long it took here.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepJson {
    #[serde(flatten)]
    pub outcome: SweepOutcome,
    pub wall_s: f64,
    pub seeds_per_s: f64,
    pub jobs: usize,
}

/// The failures grouped by signature: the largest group first, ties by smallest seed.
pub fn groups(failures: &[Failure]) -> Vec<Group> {
    let mut by: BTreeMap<&str, Vec<&Failure>> = BTreeMap::new();
    for f in failures {
        by.entry(f.signature.as_str()).or_default().push(f);
    }
    let mut groups: Vec<Group> = by
        .into_iter()
        .map(|(signature, mut fs)| {
            fs.sort_by_key(|f| f.seed);
            Group {
                signature: signature.to_string(),
                count: fs.len(),
                seeds: fs.iter().map(|f| f.seed).collect(),
                reproduce: fs[0].reproduce.clone(),
            }
        })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.seeds[0].cmp(&b.seeds[0])));
    groups
}

impl SweepOutcome {
    /// The outcome of a sweep of `file` that ran `result`; `reproduce` names a seed's command.
    pub fn of(
        scenario: &str,
        file: &str,
        expected: &str,
        seeds: SeedRange,
        shard: Option<Shard>,
        result: &SweepResult,
        reproduce: impl Fn(u64) -> String,
    ) -> SweepOutcome {
        let coverage =
            coverage_report::rows(&result.coverage, result.coverage.declared(), &reproduce);
        let where_ = |f: fn(&SeedOutcome) -> bool| result.seeds_where(f);
        let failures: Vec<Failure> = result
            .failures
            .iter()
            .map(|f| {
                let checks = match result.outcomes.iter().find(|(s, _)| *s == f.seed) {
                    Some((_, SeedOutcome::Fail(names))) => names.clone(),
                    _ => Vec::new(),
                };
                Failure {
                    seed: f.seed,
                    checks,
                    check: f.check.clone(),
                    detail: f.detail.clone(),
                    signature: f.signature(),
                    reproduce: reproduce(f.seed),
                    swarm: f.swarm.clone(),
                }
            })
            .collect();
        let failing_seeds = result.failing_seeds();
        SweepOutcome {
            scenario: scenario.to_string(),
            file: file.to_string(),
            seeds,
            shard,
            runs: result.outcomes.len() as u64,
            passed: where_(|o| *o == SeedOutcome::Pass).len() as u64,
            failed: failing_seeds.len() as u64,
            unknown: where_(|o| *o == SeedOutcome::Unknown).len() as u64,
            failing_seeds,
            panicked_seeds: where_(|o| matches!(o, SeedOutcome::Panic(_))),
            unknown_seeds: where_(|o| *o == SeedOutcome::Unknown),
            groups: groups(&failures),
            failures,
            expected: expected.to_string(),
            never_reached: coverage_report::never_reached(&coverage),
            expect_reached_missing: result.not_reached.clone(),
            expect_reached: result.expect_reached.clone(),
            coverage,
        }
    }

    /// The exit code this outcome calls for: a failure, else an inconclusive run, else pass.
    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 {
            crate::exit::FAIL
        } else if !self.expect_reached_missing.is_empty() {
            crate::exit::NOT_REACHED
        } else if self.unknown > 0 {
            crate::exit::UNKNOWN
        } else {
            crate::exit::PASS
        }
    }

    /// The text report after its first line: each failing seed with its reproduce command,
    /// then the failures by signature.
    pub fn print_failures(&self) {
        // The first few failures one by one; a sweep with hundreds of failing seeds is read
        // through the groups below (`--json` lists every failure).
        const SHOWN_MAX: usize = 5;
        for f in self.failures.iter().take(SHOWN_MAX) {
            if f.check.is_some() {
                println!(
                    "  seed {}: failed {}  — reproduce: {}",
                    f.seed,
                    f.checks.join(", "),
                    f.reproduce
                );
            } else {
                println!(
                    "  seed {}: panicked: {}  — reproduce: {}",
                    f.seed, f.detail, f.reproduce
                );
            }
        }
        if self.failures.len() > SHOWN_MAX {
            println!(
                "  … and {} more failing seeds (`--json` lists every one)",
                self.failures.len() - SHOWN_MAX
            );
        }
        if self.groups.is_empty() {
            return;
        }
        println!("failures by signature ({} distinct):", self.groups.len());
        for g in &self.groups {
            let seeds: Vec<String> = g.seeds.iter().take(8).map(u64::to_string).collect();
            let more = if g.seeds.len() > 8 { ", …" } else { "" };
            println!(
                "  {}× {}\n      seeds {}{more} — first: {}",
                g.count,
                g.signature,
                seeds.join(", "),
                g.reproduce
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(seed: u64, signature: &str) -> Failure {
        Failure {
            seed,
            checks: vec!["c".into()],
            check: Some("c".into()),
            detail: String::new(),
            signature: signature.into(),
            reproduce: format!("dsim run f.ron --seed {seed}"),
            swarm: None,
        }
    }

    #[test]
    fn groups_are_largest_first_then_by_first_seed() {
        let g = groups(&[
            failure(9, "b"),
            failure(3, "a"),
            failure(5, "c"),
            failure(1, "b"),
        ]);
        let order: Vec<(&str, usize, Vec<u64>)> = g
            .iter()
            .map(|g| (g.signature.as_str(), g.count, g.seeds.clone()))
            .collect();
        assert_eq!(
            order,
            vec![("b", 2, vec![1, 9]), ("a", 1, vec![3]), ("c", 1, vec![5])]
        );
        assert_eq!(g[0].reproduce, "dsim run f.ron --seed 1");
    }
}
