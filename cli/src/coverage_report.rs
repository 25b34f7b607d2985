//! Coverage in the CLI's reports: the situations a run reached (`dsim run`), the coverage
//! table a sweep ends with (`dsim sweep`), and the same table added up from shard reports
//! (`dsim sweep merge`). The data comes from `scenarios::coverage`; this file prints it and
//! gives it its `--json` shape.

use serde::{Deserialize, Serialize};

use scenarios::coverage::{By, SweepCoverage};
use scenarios::harness::RunReport;
use sim_core::coverage::engine;
use sim_core::SimTime;

/// One situation over a sweep, as `--json` writes it (`coverage: [...]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRow {
    pub situation: String,
    /// Who marks it: `"protocol"` or `"engine"`.
    pub by: String,
    /// Whether the protocol lists it among its situations.
    pub declared: bool,
    /// How many seeds reached it.
    pub seeds: u64,
    /// The smallest seed that reached it, and the command that reproduces that run.
    pub first_seed: Option<u64>,
    pub reproduce: Option<String>,
}

/// The rows of a sweep's coverage; `reproduce` names a seed's command.
pub fn rows(
    coverage: &SweepCoverage,
    declared: &[&str],
    reproduce: impl Fn(u64) -> String,
) -> Vec<CoverageRow> {
    coverage
        .rows()
        .into_iter()
        .map(|r| CoverageRow {
            declared: declared.contains(&r.situation.as_str()),
            by: r.by.name().to_string(),
            seeds: r.seeds,
            first_seed: r.first_seed,
            reproduce: r.first_seed.map(&reproduce),
            situation: r.situation,
        })
        .collect()
}

/// The rows of several shards' reports added up: seeds summed, the smallest first seed kept
/// with its command, in the order one sweep lists them (declared, engine, others by name).
pub fn merge_rows(parts: &[&[CoverageRow]]) -> Vec<CoverageRow> {
    let mut out: Vec<CoverageRow> = Vec::new();
    for part in parts {
        for r in part.iter() {
            match out.iter_mut().find(|o| o.situation == r.situation) {
                None => out.push(r.clone()),
                Some(o) => {
                    o.seeds += r.seeds;
                    if r.first_seed.is_some()
                        && (o.first_seed.is_none() || r.first_seed < o.first_seed)
                    {
                        o.first_seed = r.first_seed;
                        o.reproduce = r.reproduce.clone();
                    }
                }
            }
        }
    }
    let declared: Vec<String> = parts
        .first()
        .map(|p| {
            p.iter()
                .filter(|r| r.declared)
                .map(|r| r.situation.clone())
                .collect()
        })
        .unwrap_or_default();
    let rank = |r: &CoverageRow| -> (usize, usize) {
        if let Some(i) = declared.iter().position(|d| *d == r.situation) {
            (0, i)
        } else if let Some(i) = engine::ALL.iter().position(|e| *e == r.situation) {
            (1, i)
        } else {
            (2, 0)
        }
    };
    out.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.situation.cmp(&b.situation))
    });
    out
}

/// The situations of `rows` no seed reached.
pub fn never_reached(rows: &[CoverageRow]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.seeds == 0)
        .map(|r| r.situation.clone())
        .collect()
}

/// The `required` situations no row shows reached.
pub fn missing(required: &[String], rows: &[CoverageRow]) -> Vec<String> {
    required
        .iter()
        .filter(|n| !rows.iter().any(|r| &r.situation == *n && r.seeds > 0))
        .cloned()
        .collect()
}

/// A list of situation names as the scenario would write them: `"a", "b"`.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| scenarios::write::string(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The coverage table a sweep ends with: each situation, the seeds that reached it and the
/// first (with its reproduce command); then the ones never reached and the required ones
/// missing.
pub fn print_table(rows: &[CoverageRow], runs: u64, required: &[String]) {
    if rows.is_empty() {
        println!("coverage: the protocol marks no situations and the engine reached none");
        return;
    }
    let width = rows
        .iter()
        .map(|r| r.situation.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    println!(
        "coverage ({} situations over {runs} seeds; {} never reached):",
        rows.len(),
        rows.iter().filter(|r| r.seeds == 0).count()
    );
    for r in rows {
        let first = match (&r.first_seed, &r.reproduce) {
            (Some(s), Some(cmd)) => format!("first seed {s}: {cmd}"),
            _ => "never reached".to_string(),
        };
        println!(
            "  {:>6} seeds  {:<width$}  {:<8}  {first}",
            r.seeds, r.situation, r.by
        );
    }
    let never = never_reached(rows);
    if !never.is_empty() {
        println!("never reached: [{}]", quoted(&never));
    }
    let missing = missing(required, rows);
    if !missing.is_empty() {
        println!(
            "expect_reached: NOT reached by any seed: [{}] (exit code {})",
            quoted(&missing),
            crate::exit::NOT_REACHED
        );
    }
}

/// `dsim run`'s lines on coverage: what the run reached (with when and where first), what it
/// could have reached but did not, and the required situations it missed.
pub fn print_run(r: &RunReport) {
    let reached: Vec<_> = r.coverage.reached().collect();
    if reached.is_empty() {
        println!("reached: no situation");
    } else {
        println!("reached ({} situations):", reached.len());
        for (name, hit) in &reached {
            let first = match hit.first {
                Some((t, Some(n))) => format!("first at {t} on {n}"),
                Some((t, None)) => format!("first at {t}"),
                None => String::new(),
            };
            println!("  {name} ×{} — {first}", hit.count);
        }
    }
    let not = not_reached(r);
    if !not.is_empty() {
        println!("not reached: [{}]", quoted(&not));
    }
    if !r.not_reached.is_empty() {
        println!(
            "expect_reached: NOT reached by this run: [{}] (exit code {})",
            quoted(&r.not_reached),
            crate::exit::NOT_REACHED
        );
    }
}

/// The situations the protocol declares or the run evaluated, that the run did not reach.
fn not_reached(r: &RunReport) -> Vec<String> {
    let mut out: Vec<String> = r
        .situations
        .iter()
        .filter(|s| !r.coverage.is_reached(s))
        .map(|s| s.to_string())
        .collect();
    for (name, hit) in r.coverage.iter() {
        if hit.count == 0 && !r.situations.contains(&name) {
            out.push(name.to_string());
        }
    }
    out
}

/// `dsim run --json`'s coverage fields: `reached`, `not_reached`, `expect_reached_missing`.
pub fn run_json(r: &RunReport, v: &mut serde_json::Value) {
    let reached: Vec<serde_json::Value> = r
        .coverage
        .reached()
        .map(|(name, hit)| {
            let (t, node) = hit.first.unwrap_or((SimTime::ZERO, None));
            serde_json::json!({
                "situation": name,
                "by": By::of(name).name(),
                "count": hit.count,
                "first_ns": t.0,
                "node": node.map(|n| n.0),
            })
        })
        .collect();
    v["reached"] = serde_json::json!(reached);
    v["not_reached"] = serde_json::json!(not_reached(r));
    v["expect_reached_missing"] = serde_json::json!(r.not_reached);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, declared: bool, seeds: u64, first: Option<u64>) -> CoverageRow {
        CoverageRow {
            situation: name.into(),
            by: By::of(name).name().into(),
            declared,
            seeds,
            first_seed: first,
            reproduce: first.map(|s| format!("dsim run f.ron --seed {s}")),
        }
    }

    #[test]
    fn shards_add_up_to_one_sweep() {
        let a = [
            row("z declared", true, 1, Some(4)),
            row("a declared", true, 0, None),
            row(engine::LEADER_CRASHED, false, 2, Some(6)),
        ];
        let b = [
            row("z declared", true, 2, Some(1)),
            row("a declared", true, 0, None),
            row("undeclared", false, 1, Some(3)),
            row(engine::LEADER_PAUSED, false, 0, None),
        ];
        let m = merge_rows(&[&a, &b]);
        let names: Vec<&str> = m.iter().map(|r| r.situation.as_str()).collect();
        assert_eq!(
            names,
            [
                "z declared",
                "a declared",
                engine::LEADER_CRASHED,
                engine::LEADER_PAUSED,
                "undeclared"
            ]
        );
        assert_eq!((m[0].seeds, m[0].first_seed), (3, Some(1)));
        assert_eq!(m[0].reproduce.as_deref(), Some("dsim run f.ron --seed 1"));
        assert_eq!(never_reached(&m), ["a declared", engine::LEADER_PAUSED]);
        let req = vec!["a declared".to_string(), "z declared".to_string()];
        assert_eq!(missing(&req, &m), ["a declared"]);
    }
}
