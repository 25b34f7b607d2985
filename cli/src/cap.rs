//! The CAP report: `dsim run` prints it for every run with partitions, and `dsim cap` runs one
//! scenario once per protocol — same seed, same clients, same faults — and prints the reports
//! side by side, so that the trade-off each protocol made under the partition is measured, not
//! asserted. By default it compares every registered protocol that can run the scenario.
//!
//! Exit codes of `dsim cap`: 0 the runs completed (whatever they found: this is a report),
//! 2 bad input (file, unknown protocol, a protocol that does not serve the workload, a scenario
//! without partitions: nothing to compare), 4 a run panicked.

use std::path::PathBuf;

use scenarios::harness::cap::{eligible, protocol_for, run_one};
use scenarios::write;
use sim_core::check::cap::{CapReport, CapWindow, SideStats};
use sim_core::check::Verdict;

use crate::{exit, Env};

/// Arguments of `dsim cap`.
#[derive(clap::Args, Debug)]
pub struct CapArgs {
    /// Scenario file (RON) with a partition and key-value clients.
    pub file: PathBuf,
    /// Protocols to compare, comma-separated (the scenario's own parameters are used for the
    /// protocol it names, defaults for the others) [default: every registered protocol that
    /// serves the scenario's workload, supplies `linearizable` and has default parameters].
    #[arg(long, value_delimiter = ',')]
    pub protocols: Vec<String>,
    /// Overrides the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{:.1}%", 100.0 * v))
}

fn ms(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:.1}"))
}

fn side_json(s: &SideStats) -> serde_json::Value {
    serde_json::json!({
        "ops": s.ops,
        "succeeded": s.succeeded,
        "availability": s.availability(),
        "p50": s.latency_ms(0.5),
        "p99": s.latency_ms(0.99),
    })
}

/// The `cap` object of `dsim run --json` (also each window of `dsim cap --json`). The
/// partition is written as a scenario would write it.
pub fn report_json(r: &CapReport) -> serde_json::Value {
    let windows: Vec<serde_json::Value> = r
        .windows
        .iter()
        .map(|w| {
            serde_json::json!({
                "start_ns": w.start.0,
                "end_ns": w.end.0,
                "partition": write::partition(&w.partition),
                "majority_nodes": w.majority_nodes.iter().map(|n| n.0).collect::<Vec<_>>(),
                "majority": side_json(&w.majority),
                "minority": side_json(&w.minority),
                "crossed": side_json(&w.crossed),
                "unsided_clients": w.unsided_clients,
            })
        })
        .collect();
    serde_json::json!({
        "windows": windows,
        "majority": side_json(&r.majority),
        "minority": side_json(&r.minority),
        "crossed": side_json(&r.crossed),
    })
}

/// The most windows the text report lists one by one (a nemesis run may have dozens).
const WINDOWS_SHOWN_MAX: usize = 6;

/// One side's line of the text report.
fn side_line(name: &str, s: &SideStats) -> String {
    let count = format!("{} op{}", s.ops, plural(s.ops as usize));
    format!(
        "    {name:<8} {count:>10}, {:>6} succeeded, latency p50 {} ms, p99 {} ms\n",
        pct(s.availability()),
        ms(s.latency_ms(0.5)),
        ms(s.latency_ms(0.99))
    )
}

/// The sides of one summary (a window or the totals): majority, minority, and the crossed
/// operations when there are any.
fn sides_text(majority: &SideStats, minority: &SideStats, crossed: &SideStats) -> String {
    let mut out = side_line("majority", majority);
    out.push_str(&side_line("minority", minority));
    if crossed.ops > 0 {
        out.push_str(&side_line("crossed", crossed));
    }
    out
}

/// The text report `dsim run` prints after the checks: the totals over every window when
/// there are several, then the windows with operations (at most [`WINDOWS_SHOWN_MAX`]), each
/// with its partition as the scenario writes it, then the consistency verdict. Windows without
/// operations are counted, not listed.
pub fn report_text(r: &CapReport, consistency: Option<(Verdict, &str)>) -> String {
    let mut out = String::from(
        "CAP report (operations invoked during partitions, on the side of the node they were sent to, or of the client's group; succeeded = answered ok or fail, not timed out):\n",
    );
    let sided: Vec<&CapWindow> = r
        .windows
        .iter()
        .filter(|w| !w.majority_nodes.is_empty() && w.ops() > 0)
        .collect();
    let no_majority = r
        .windows
        .iter()
        .filter(|w| w.majority_nodes.is_empty())
        .count();
    let empty = r.windows.len() - sided.len();
    if sided.len() > 1 {
        out.push_str(&format!(
            "  all {} windows{}:\n",
            r.windows.len(),
            if empty > 0 {
                format!(" ({empty} without operations or sides)")
            } else {
                String::new()
            }
        ));
        out.push_str(&sides_text(&r.majority, &r.minority, &r.crossed));
    } else if sided.is_empty() {
        let why = if no_majority == r.windows.len() {
            "no side holds a majority of the nodes (an even split, or a one-way or bridge cut): nothing to compare"
        } else {
            "no operation was invoked during a partition with a majority side"
        };
        out.push_str(&format!(
            "  {} window{}: {why}\n",
            r.windows.len(),
            plural(r.windows.len()),
        ));
    }
    for w in sided.iter().take(WINDOWS_SHOWN_MAX) {
        out.push_str(&format!(
            "  {} .. {}  {} (majority side: {}){}:\n",
            secs(w.start),
            secs(w.end),
            write::partition_short(&w.partition),
            write::node_list(&w.majority_nodes),
            if w.unsided_clients > 0 {
                format!(
                    "; {} client{} sent to both sides",
                    w.unsided_clients,
                    plural(w.unsided_clients as usize)
                )
            } else {
                String::new()
            }
        ));
        out.push_str(&sides_text(&w.majority, &w.minority, &w.crossed));
    }
    if sided.len() > WINDOWS_SHOWN_MAX {
        out.push_str(&format!(
            "  … and {} more windows with operations (`--json` lists every window)\n",
            sided.len() - WINDOWS_SHOWN_MAX
        ));
    }
    match consistency {
        Some((v, detail)) => out.push_str(&format!(
            "  consistency: {} — {}\n",
            match v {
                Verdict::Pass => "linearizable",
                Verdict::Fail => "NOT linearizable",
                Verdict::Unknown => "unknown",
            },
            detail.lines().next().unwrap_or("")
        )),
        None => out.push_str("  consistency: not checked (no key-value history)\n"),
    }
    out
}

/// A time for a report, to the millisecond: `1.250s`.
fn secs(t: sim_core::SimTime) -> String {
    format!("{:.3}s", t.0 as f64 / 1e9)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether a run of `scn` can partition the network: a scheduled partition, or a nemesis that
/// draws them.
fn partitions(scn: &scenarios::Scenario) -> bool {
    let c = &scn.config;
    c.faults
        .iter()
        .any(|f| matches!(f.fault, sim_core::config::Fault::Partition(_)))
        || c.nemesis
            .as_ref()
            .is_some_and(|n| n.kinds.contains(&sim_core::config::FaultKind::Partition))
}

pub fn main(env: &Env, args: CapArgs) -> i32 {
    let scn = match env.load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if !partitions(&scn) {
        eprintln!(
            "error: {}: the scenario has no partition: there is nothing to compare",
            args.file.display()
        );
        eprintln!("  hint: `dsim cap` compares what each protocol did on each side of a partition; add a `Partition(...)` fault or list `Partition` in the nemesis's `kinds` (scenarios/cap/partition-compare.ron is an example)");
        return exit::BAD_INPUT;
    }
    let mut specs = Vec::new();
    if args.protocols.is_empty() {
        specs = eligible(&env.registry, &scn);
    }
    for name in &args.protocols {
        match protocol_for(&env.registry, &scn, name) {
            Ok(spec) => specs.push(spec),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let mut rows = Vec::new();
    for spec in specs {
        match run_one(&scn, spec, args.seed) {
            Ok(r) => rows.push(r),
            Err(msg) => {
                eprintln!("error: the simulation panicked: {msg}");
                return exit::PANIC;
            }
        }
    }
    let seed = args.seed.unwrap_or(scn.config.seed);
    if args.json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "protocol": r.protocol,
                    "linearizable": r.linearizable == Verdict::Pass,
                    "linearizable_verdict": r.linearizable.name(),
                    "operations": r.ops,
                    "availability": {
                        "majority": r.report.majority.availability(),
                        "minority": r.report.minority.availability(),
                    },
                    "latency_ms": {
                        "majority": { "p50": r.report.majority.latency_ms(0.5), "p99": r.report.majority.latency_ms(0.99) },
                        "minority": { "p50": r.report.minority.latency_ms(0.5), "p99": r.report.minority.latency_ms(0.99) },
                    },
                    "windows": report_json(&r.report)["windows"],
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "scenario": scn.name, "seed": seed, "rows": rows })
        );
        return exit::PASS;
    }
    println!("scenario: {} — {}", scn.name, scn.description);
    println!("seed: {seed}; the same clients and faults for every protocol");
    println!(
        "{:<16} {:>13}  {:>10} {:>10}  {:>10} {:>10}  {:>10} {:>10}",
        "protocol",
        "linearizable",
        "maj avail",
        "min avail",
        "maj p50",
        "maj p99",
        "min p50",
        "min p99"
    );
    for r in &rows {
        let (a, b) = (&r.report.majority, &r.report.minority);
        println!(
            "{:<16} {:>13}  {:>10} {:>10}  {:>10} {:>10}  {:>10} {:>10}",
            r.protocol,
            match r.linearizable {
                Verdict::Pass => "yes",
                Verdict::Fail => "NO",
                Verdict::Unknown => "unknown",
            },
            pct(a.availability()),
            pct(b.availability()),
            ms(a.latency_ms(0.5)),
            ms(a.latency_ms(0.99)),
            ms(b.latency_ms(0.5)),
            ms(b.latency_ms(0.99)),
        );
    }
    println!("(availability: share of the operations invoked during partitions that got an answer, ok or fail; latency in ms)");
    for r in &rows {
        if r.linearizable == Verdict::Fail {
            println!("{}: {}", r.protocol, r.linearizable_detail);
        }
    }
    exit::PASS
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::check::cap::CapWindow;
    use sim_core::config::Partition;
    use sim_core::{NodeId, SimTime};

    fn window(majority_ops: u64, minority_ops: u64) -> CapWindow {
        CapWindow {
            start: SimTime(1_000_000_000),
            end: SimTime(2_000_000_000),
            partition: Partition::Isolate(NodeId(2)),
            majority_nodes: vec![NodeId(0), NodeId(1)],
            majority: SideStats {
                ops: majority_ops,
                succeeded: majority_ops,
                latencies_ns: vec![5_000_000; majority_ops as usize],
            },
            minority: SideStats {
                ops: minority_ops,
                succeeded: 0,
                latencies_ns: Vec::new(),
            },
            crossed: SideStats::default(),
            unsided_clients: 0,
        }
    }

    #[test]
    fn text_lists_windows_with_sided_operations_and_counts_the_rest() {
        let r = CapReport {
            windows: vec![window(4, 2), window(0, 0), window(0, 0)],
            ..CapReport::default()
        };
        let text = report_text(&r, Some((Verdict::Fail, "not linearizable: key `0`\nmore")));
        assert!(text.contains("majority side: n0 n1"), "{text}");
        assert!(
            text.contains("    majority      4 ops, 100.0% succeeded, latency p50 5.0 ms"),
            "{text}"
        );
        assert!(
            text.contains("    minority      2 ops,   0.0% succeeded, latency p50 - ms"),
            "{text}"
        );
        // No advice, no line about the empty windows when one window has operations.
        assert!(!text.contains("place them"), "{text}");
        assert!(!text.contains("windows"), "{text}");
        assert!(text.contains("Isolate(2) (majority side: n0 n1)"), "{text}");
        // Several windows with operations: the totals first, then each window.
        let many = CapReport {
            windows: (0..9).map(|_| window(1, 1)).collect(),
            majority: window(9, 0).majority,
            minority: window(0, 9).minority,
            crossed: SideStats::default(),
        };
        let listed = report_text(&many, None);
        assert!(
            listed.contains("  all 9 windows:\n    majority      9 ops, 100.0% succeeded"),
            "{listed}"
        );
        assert!(listed.contains("  1.000s .. 2.000s  Isolate(2) (majority side: n0 n1):\n    majority       1 op, 100.0% succeeded"), "{listed}");
        assert!(
            listed.contains("… and 3 more windows with operations"),
            "{listed}"
        );
        assert!(
            text.contains("consistency: NOT linearizable — not linearizable: key `0`\n"),
            "{text}"
        );
        let j = report_json(&r);
        assert_eq!(j["windows"].as_array().unwrap().len(), 3);
        assert_eq!(j["windows"][0]["minority"]["availability"], 0.0);
    }
}
