//! `dsim sweep merge PART.json...`: the `--json` reports of a sharded sweep (one per
//! `--shard I/N`, from CI matrix jobs or the pods of a Kubernetes Indexed Job) added back up
//! into the report the whole sweep would have printed on one machine — runs, failures,
//! failing seeds with their reproduce commands, failures grouped by signature.
//!
//! Every part must come from the same sweep (scenario, file, seed range and shard count);
//! anything else is bad input (exit 2), as is a part that is not a sweep report or whose
//! counts do not add up. Shards missing from the set, or covered by two parts, are reported
//! and make the exit code 6 (`INCOMPLETE`), after the report of what was merged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scenarios::harness::sweep::seeds_of;

use crate::sweep_report::{groups, Shard, SweepOutcome};
use crate::{coverage_report, exit};

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The shard reports (`dsim sweep FILE --seeds A..B --shard I/N --json > part-I.json`).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Print one JSON object: the fields of `dsim sweep --json` (without timing) and `merge`.
    #[arg(long)]
    pub json: bool,
}

/// How the parts cover the sweep's shards.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    pub parts: usize,
    /// N of `--shard I/N` (1 for reports of whole sweeps).
    pub shard_count: u64,
    /// Shard indices no part covers.
    pub missing: Vec<u64>,
    /// Shard indices more than one part covers, with those parts.
    pub overlapping: Vec<(u64, Vec<String>)>,
}

impl Coverage {
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.overlapping.is_empty()
    }
}

/// A part that cannot be merged: its file and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartError {
    pub file: String,
    pub message: String,
    pub hint: String,
}

/// Reads one part.
pub fn read_part(path: &Path) -> Result<SweepOutcome, PartError> {
    let err = |message: String, hint: &str| PartError {
        file: path.display().to_string(),
        message,
        hint: hint.to_string(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(
            format!("cannot read it: {e}"),
            "give the files `dsim sweep ... --json` wrote",
        )
    })?;
    let outcome: SweepOutcome = serde_json::from_str(text.trim()).map_err(|e| {
        err(
            format!("not a sweep report: {e}"),
            "a part is the output of `dsim sweep FILE --seeds A..B --shard I/N --json` (of this dsim version: it has `seeds`, `shard` and `failures`)",
        )
    })?;
    check_part(&outcome).map_err(|m| {
        err(
            m,
            "a part must be a sweep's report as written; re-run its shard",
        )
    })?;
    Ok(outcome)
}

/// A part's counts agree with each other and with its shard.
fn check_part(o: &SweepOutcome) -> Result<(), String> {
    let shard = o.shard.unwrap_or(Shard { index: 0, count: 1 });
    if shard.count == 0 || shard.index >= shard.count || o.seeds.start >= o.seeds.end {
        return Err(format!(
            "shard `{}/{}` of seeds `{}..{}` is not a slice of a sweep",
            shard.index, shard.count, o.seeds.start, o.seeds.end
        ));
    }
    let mine = seeds_of(
        (o.seeds.start, o.seeds.end),
        Some((shard.index, shard.count)),
    );
    if o.runs != mine.len() as u64 {
        return Err(format!(
            "`runs` is `{}` but shard `{}/{}` of `{}..{}` has {} seeds",
            o.runs,
            shard.index,
            shard.count,
            o.seeds.start,
            o.seeds.end,
            mine.len()
        ));
    }
    if o.passed + o.failed + o.unknown != o.runs
        || o.failing_seeds.len() as u64 != o.failed
        || o.failures.len() as u64 != o.failed
        || o.unknown_seeds.len() as u64 != o.unknown
    {
        return Err("its counts do not add up (`passed + failed + unknown` against `runs`, or the seed lists against the counts)".to_string());
    }
    let listed = o
        .failing_seeds
        .iter()
        .chain(&o.unknown_seeds)
        .chain(&o.panicked_seeds)
        .chain(o.failures.iter().map(|f| &f.seed));
    if let Some(s) = listed.into_iter().find(|s| mine.binary_search(s).is_err()) {
        return Err(format!(
            "seed `{s}` is listed but is not in shard `{}/{}`",
            shard.index, shard.count
        ));
    }
    Ok(())
}

/// Merges parts read from `files` (same order). Errors when they are not parts of one sweep.
pub fn merge(parts: &[(String, SweepOutcome)]) -> Result<(SweepOutcome, Coverage), PartError> {
    let (first_file, first) = &parts[0];
    let count_of = |o: &SweepOutcome| o.shard.map_or(1, |s| s.count);
    for (file, p) in &parts[1..] {
        let differs = if p.scenario != first.scenario {
            Some(format!(
                "scenario `{}`, not `{}`",
                p.scenario, first.scenario
            ))
        } else if p.file != first.file {
            Some(format!("file `{}`, not `{}`", p.file, first.file))
        } else if p.seeds != first.seeds {
            Some(format!(
                "seeds `{}..{}`, not `{}..{}`",
                p.seeds.start, p.seeds.end, first.seeds.start, first.seeds.end
            ))
        } else if count_of(p) != count_of(first) {
            Some(format!("{} shards, not {}", count_of(p), count_of(first)))
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(PartError {
                file: file.clone(),
                message: format!("a part of another sweep than `{first_file}`: {what}"),
                hint: "merge the parts of one sweep: same scenario file, `--seeds` and shard count"
                    .to_string(),
            });
        }
    }
    let shard_count = count_of(first);
    let mut by_index: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, (_, p)) in parts.iter().enumerate() {
        by_index
            .entry(p.shard.map_or(0, |s| s.index))
            .or_default()
            .push(i);
    }
    let coverage = Coverage {
        parts: parts.len(),
        shard_count,
        missing: (0..shard_count)
            .filter(|i| !by_index.contains_key(i))
            .collect(),
        overlapping: by_index
            .iter()
            .filter(|(_, ps)| ps.len() > 1)
            .map(|(&i, ps)| (i, ps.iter().map(|&p| parts[p].0.clone()).collect()))
            .collect(),
    };
    // One part per shard index (the first given): the sum is then never double-counted.
    let used: Vec<&SweepOutcome> = by_index.values().map(|ps| &parts[ps[0]].1).collect();
    let sorted = |f: &dyn Fn(&SweepOutcome) -> &Vec<u64>| {
        let mut v: Vec<u64> = used.iter().flat_map(|p| f(p).iter().copied()).collect();
        v.sort_unstable();
        v
    };
    let mut failures: Vec<_> = used
        .iter()
        .flat_map(|p| p.failures.iter().cloned())
        .collect();
    failures.sort_by_key(|f| f.seed);
    let merged = SweepOutcome {
        scenario: first.scenario.clone(),
        file: first.file.clone(),
        seeds: first.seeds,
        shard: None,
        runs: used.iter().map(|p| p.runs).sum(),
        passed: used.iter().map(|p| p.passed).sum(),
        failed: used.iter().map(|p| p.failed).sum(),
        unknown: used.iter().map(|p| p.unknown).sum(),
        failing_seeds: sorted(&|p| &p.failing_seeds),
        panicked_seeds: sorted(&|p| &p.panicked_seeds),
        unknown_seeds: sorted(&|p| &p.unknown_seeds),
        groups: groups(&failures),
        failures,
        expected: first.expected.clone(),
        never_reached: Vec::new(),
        expect_reached_missing: Vec::new(),
        expect_reached: first.expect_reached.clone(),
        coverage: coverage_report::merge_rows(
            &used
                .iter()
                .map(|p| p.coverage.as_slice())
                .collect::<Vec<_>>(),
        ),
    };
    let merged = SweepOutcome {
        never_reached: coverage_report::never_reached(&merged.coverage),
        expect_reached_missing: coverage_report::missing(&merged.expect_reached, &merged.coverage),
        ..merged
    };
    Ok((merged, coverage))
}

fn print_error(e: &PartError) {
    eprintln!("error: {}: {}", e.file, e.message);
    eprintln!("  hint: {}", e.hint);
}

pub fn main(args: MergeArgs) -> i32 {
    let mut parts = Vec::with_capacity(args.parts.len());
    for path in &args.parts {
        match read_part(path) {
            Ok(p) => parts.push((path.display().to_string(), p)),
            Err(e) => {
                print_error(&e);
                return exit::BAD_INPUT;
            }
        }
    }
    let (merged, coverage) = match merge(&parts) {
        Ok(m) => m,
        Err(e) => {
            print_error(&e);
            return exit::BAD_INPUT;
        }
    };
    if args.json {
        let mut v = serde_json::to_value(&merged).expect("a report serializes");
        v["merge"] = serde_json::json!({
            "parts": coverage.parts,
            "shard_count": coverage.shard_count,
            "missing_shards": coverage.missing,
            "overlapping_shards": coverage
                .overlapping
                .iter()
                .map(|(i, files)| serde_json::json!({"index": i, "parts": files}))
                .collect::<Vec<_>>(),
            "complete": coverage.complete(),
        });
        println!("{v}");
    } else {
        println!(
            "{}: {} parts of {} shards over seeds {}..{} — {} runs, {} passed, {} failed, {} unknown",
            merged.scenario,
            coverage.parts,
            coverage.shard_count,
            merged.seeds.start,
            merged.seeds.end,
            merged.runs,
            merged.passed,
            merged.failed,
            merged.unknown
        );
        merged.print_failures();
        coverage_report::print_table(&merged.coverage, merged.runs, &merged.expect_reached);
    }
    if coverage.complete() {
        return merged.exit_code();
    }
    if !coverage.missing.is_empty() {
        let list: Vec<String> = coverage.missing.iter().map(u64::to_string).collect();
        eprintln!(
            "error: missing shards: {} of {} (no part covers them; their seeds did not run)",
            list.join(", "),
            coverage.shard_count
        );
    }
    for (i, files) in &coverage.overlapping {
        eprintln!(
            "error: shard {i} of {} is covered by {} parts: {} (the first one was merged)",
            coverage.shard_count,
            files.len(),
            files.join(", ")
        );
    }
    eprintln!(
        "  hint: give exactly one part per shard index `0..{}`",
        coverage.shard_count
    );
    exit::INCOMPLETE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep_report::{Failure, SeedRange};

    /// A part of a sweep of seeds 0..10 in `n` shards, failing at the seeds in `failing`.
    fn part(index: u64, n: u64, failing: &[u64]) -> SweepOutcome {
        let mine = seeds_of((0, 10), Some((index, n)));
        let failing: Vec<u64> = failing
            .iter()
            .copied()
            .filter(|s| mine.contains(s))
            .collect();
        let failures: Vec<Failure> = failing
            .iter()
            .map(|&seed| Failure {
                seed,
                checks: vec!["agreement".into()],
                check: Some("agreement".into()),
                detail: format!("slot {seed} decided twice"),
                signature: "agreement: slot N decided twice".into(),
                reproduce: format!("dsim run x.ron --seed {seed}"),
                swarm: None,
            })
            .collect();
        SweepOutcome {
            scenario: "x".into(),
            file: "x.ron".into(),
            seeds: SeedRange { start: 0, end: 10 },
            shard: Some(Shard { index, count: n }),
            runs: mine.len() as u64,
            passed: (mine.len() - failing.len()) as u64,
            failed: failing.len() as u64,
            unknown: 0,
            failing_seeds: failing.clone(),
            panicked_seeds: vec![],
            unknown_seeds: vec![],
            groups: groups(&failures),
            failures,
            expected: "pass".into(),
            coverage: vec![],
            never_reached: vec![],
            expect_reached: vec![],
            expect_reached_missing: vec![],
        }
    }

    fn named(parts: Vec<SweepOutcome>) -> Vec<(String, SweepOutcome)> {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("part-{i}.json"), p))
            .collect()
    }

    #[test]
    fn three_shards_merge_into_the_whole_sweep() {
        let failing = [2, 4, 7];
        let parts: Vec<_> = (0..3).map(|i| part(i, 3, &failing)).collect();
        for p in &parts {
            check_part(p).unwrap();
        }
        let (m, c) = merge(&named(parts)).unwrap();
        assert!(c.complete(), "{c:?}");
        assert_eq!((m.runs, m.passed, m.failed), (10, 7, 3));
        assert_eq!(m.failing_seeds, vec![2, 4, 7]);
        assert_eq!(
            m.failures.iter().map(|f| f.seed).collect::<Vec<_>>(),
            vec![2, 4, 7]
        );
        assert_eq!(m.groups.len(), 1);
        assert_eq!(m.groups[0].seeds, vec![2, 4, 7]);
        assert_eq!(m.groups[0].reproduce, "dsim run x.ron --seed 2");
        assert_eq!(m.exit_code(), exit::FAIL);
    }

    #[test]
    fn missing_and_overlapping_shards_are_found() {
        let parts = vec![part(0, 4, &[]), part(2, 4, &[]), part(2, 4, &[])];
        let (m, c) = merge(&named(parts)).unwrap();
        assert_eq!(c.missing, vec![1, 3]);
        assert_eq!(
            c.overlapping,
            vec![(
                2,
                vec!["part-1.json".to_string(), "part-2.json".to_string()]
            )]
        );
        assert!(!c.complete());
        assert_eq!(m.runs, 3 + 2, "shard 2 is counted once");
    }

    #[test]
    fn parts_of_other_sweeps_and_bad_counts_are_refused() {
        let mut other = part(1, 2, &[]);
        other.seeds = SeedRange { start: 0, end: 20 };
        let e = merge(&named(vec![part(0, 2, &[]), other])).unwrap_err();
        assert!(e.message.contains("seeds `0..20`"), "{e:?}");
        let e = merge(&named(vec![part(0, 2, &[]), part(1, 3, &[])])).unwrap_err();
        assert!(e.message.contains("3 shards, not 2"), "{e:?}");
        let mut short = part(0, 2, &[]);
        short.runs -= 1;
        assert!(check_part(&short).unwrap_err().contains("`runs`"));
        let mut stray = part(0, 2, &[3]);
        stray.failing_seeds = vec![3];
        stray.failed = 1;
        stray.passed -= 1;
        stray.failures = part(1, 2, &[3]).failures;
        assert!(check_part(&stray).unwrap_err().contains("seed `3`"));
    }
}
