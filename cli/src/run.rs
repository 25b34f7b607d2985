//! `dsim run`: run one scenario, print the seed and parameters first, then a summary (or one
//! JSON object), and exit with the verdict's code.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use scenarios::harness::{self, determinism, panic, RunOptions, RunReport};
use scenarios::{write, Scenario};
use sim_core::check::Verdict;
use sim_core::faults::Planned;
use sim_core::DropReason;

use crate::{exit, Env};

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (RON).
    pub file: PathBuf,
    /// Run with this seed instead of the scenario's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write every event as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Write the client history to FILE (JSON Lines, or Jepsen EDN if FILE ends in `.edn`).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,
    /// Run twice and report the first event where the two runs diverge.
    #[arg(long)]
    pub check_determinism: bool,
    /// Write the run's space-time diagram to OUT (one self-contained HTML file).
    #[arg(long, value_name = "OUT.html")]
    pub diagram: Option<PathBuf>,
    /// Write the run as Chrome trace-event JSON (for ui.perfetto.dev) to OUT.
    #[arg(long, value_name = "OUT.json")]
    pub perfetto: Option<PathBuf>,
    /// Draw (and export) only from this simulated time, e.g. `1.5s`.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub from: Option<u64>,
    /// Draw (and export) only up to this simulated time, e.g. `3s`.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub to: Option<u64>,
    /// Draw (and export) only these nodes' lanes, e.g. `0,1,2` (every client's lane stays).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub nodes: Option<Vec<u32>>,
}

/// A simulated time for `--from`/`--to`: a duration such as `1.5s` or `200ms`, in ns.
fn parse_time(s: &str) -> Result<u64, String> {
    sim_core::time::parse_duration(s)
        .map(|d| d.0)
        .map_err(|e| format!("{} (e.g. `1.5s`, `200ms`)", e.0))
}

/// A trace writer that also keeps what it writes, for the diagram and the Perfetto export.
struct Tee(Option<Box<dyn Write>>, scenarios::timeline::Buffer);

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.write_all(buf)?;
        if let Some(w) = &mut self.0 {
            w.write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

pub fn main(env: &Env, args: RunArgs) -> i32 {
    let scn = match env.load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = args.seed.unwrap_or(scn.config.seed);
    let trace: Option<Box<dyn Write>> = match &args.trace {
        None => None,
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                eprintln!("error: cannot create trace file `{}`: {e}", p.display());
                return exit::IO_ERROR;
            }
        },
    };
    let pictures = args.diagram.is_some() || args.perfetto.is_some();
    let kept = scenarios::timeline::Buffer::default();
    let trace: Option<Box<dyn Write>> = if pictures {
        Some(Box::new(Tee(trace, kept.clone())))
    } else {
        trace
    };
    panic::quiet_panics();
    let start = Instant::now();
    let report = match panic::catch(|| {
        let prepared = harness::prepare(
            &scn,
            RunOptions {
                seed: Some(seed),
                trace,
                record_hashes: args.check_determinism,
                cap_consistency: true,
                markers: pictures,
                ..RunOptions::default()
            },
        );
        if !args.json {
            print_header(&args, &scn, seed, prepared.plan());
        }
        prepared.run()
    }) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("error: the simulation panicked: {msg}");
            eprintln!("  seed: {seed}");
            eprintln!("  reproduce: {}", env.reproduce(&args.file, seed));
            return exit::PANIC;
        }
    };
    let wall_s = start.elapsed().as_secs_f64();
    let divergence = if args.check_determinism {
        match panic::catch(|| determinism::compare(&scn, seed, &report)) {
            Ok(d) => Some(d),
            Err(msg) => {
                eprintln!("error: the second run panicked: {msg}");
                eprintln!("  reproduce: {}", env.reproduce(&args.file, seed));
                return exit::PANIC;
            }
        }
    } else {
        None
    };
    if let Some(e) = &report.trace_error {
        eprintln!("error: writing the trace failed: {e}");
        return exit::IO_ERROR;
    }
    if pictures {
        if let Err(code) = write_pictures(&args, &report, &kept.text()) {
            return code;
        }
    }
    if let Some(path) = &args.history {
        if let Err(e) = write_history(path, &report.history) {
            eprintln!("error: cannot write history `{}`: {e}", path.display());
            return exit::IO_ERROR;
        }
    }
    if args.json {
        let mut v = report_json(&report, wall_s);
        if let Some(d) = &divergence {
            v["determinism"] = serde_json::json!({
                "deterministic": d.is_none(),
                "divergence": d.as_ref().map(|d| d.to_string()),
            });
        }
        v["reproduce"] = serde_json::json!(env.reproduce(&args.file, seed));
        crate::coverage_report::run_json(&report, &mut v);
        v["swarm"] = serde_json::json!(harness::sweep::swarm_drawn(&scn, seed));
        println!("{v}");
    } else {
        print_summary(&report, wall_s);
        if let Some(d) = &divergence {
            match d {
                None => println!(
                    "determinism: ok (two runs, {} events each, identical hashes)",
                    report.running_hashes.as_ref().map_or(0, |h| h.len())
                ),
                Some(d) => println!("determinism: FAILED — {d}"),
            }
        }
        println!("reproduce: {}", env.reproduce(&args.file, seed));
    }
    if matches!(divergence, Some(Some(_))) {
        return exit::FAIL;
    }
    if report.verdict != Verdict::Fail && !report.not_reached.is_empty() {
        return exit::NOT_REACHED;
    }
    verdict_code(report.verdict)
}

/// Writes `--diagram` and `--perfetto` from the run's report and its trace.
fn write_pictures(args: &RunArgs, report: &RunReport, trace: &str) -> Result<(), i32> {
    let window = crate::diagram::Window {
        from: args.from,
        to: args.to,
        nodes: args
            .nodes
            .as_ref()
            .map(|ns| ns.iter().map(|&n| sim_core::NodeId(n)).collect()),
    };
    let tl = window.apply(scenarios::timeline::Timeline::build(report, trace));
    let outputs = [
        (&args.diagram, "diagram"),
        (&args.perfetto, "Perfetto trace"),
    ];
    for (path, what) in outputs {
        let Some(path) = path else { continue };
        let text = if what == "diagram" {
            crate::diagram::html(&tl)
        } else {
            crate::perfetto::trace(&tl).to_string()
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write the {what} `{}`: {e}", path.display());
            return Err(exit::IO_ERROR);
        }
        if !args.json {
            eprintln!("{what}: {}", path.display());
        }
    }
    Ok(())
}

/// Exit code of a verdict.
pub fn verdict_code(v: Verdict) -> i32 {
    match v {
        Verdict::Pass => exit::PASS,
        Verdict::Fail => exit::FAIL,
        Verdict::Unknown => exit::UNKNOWN,
    }
}

fn write_history(path: &std::path::Path, h: &sim_core::History) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    if path.extension().is_some_and(|e| e == "edn") {
        crate::histfmt::write_edn(h, &mut w)?;
    } else {
        crate::histfmt::write_jsonl(h, &mut w)?;
    }
    w.flush()
}

/// The seed, the scenario's parameters in its own vocabulary (each line the RON a scenario
/// file would hold), and the fault plan: printed before the run starts.
fn print_header(args: &RunArgs, scn: &Scenario, seed: u64, plan: &[Planned]) {
    // With a swarm, the nemesis, network and workload are this seed's draw.
    let drawn = harness::config_for(scn, Some(seed));
    let c = &drawn;
    println!("seed: {seed}");
    if let Some(sw) = &scn.swarm {
        println!("swarm drew: ({})", write::swarm_drawn(sw, c));
    }
    println!("scenario: {} — {}", scn.name, scn.description);
    println!("file: {}", args.file.display());
    let mut run = format!(
        "nodes: {}, topology: {}, duration: {}",
        c.node_count,
        write::topology(&c.topology),
        write::duration(c.duration)
    );
    if let Some(l) = c.liveness {
        run.push_str(&format!(", liveness: {}", write::duration(l)));
    }
    run.push_str(&format!(", events_max: {}", c.events_max));
    println!("{run}");
    println!("protocol: {}", scn.protocol);
    println!("network: ({})", write::link_fields(&c.network.default));
    if !c.network.overrides.is_empty() {
        println!("  and {} link overrides", c.network.overrides.len());
    }
    if c.clocks.offset_max.0 != 0 || c.clocks.drift_ppm_max != 0 {
        println!(
            "clocks: (offset_max: {}, drift_ppm_max: {})",
            write::duration(c.clocks.offset_max),
            c.clocks.drift_ppm_max
        );
    }
    if let Some(cl) = write::clients(&c.clients) {
        println!("clients: ({cl})");
    }
    if let Some(st) = write::storage(&c.storage) {
        println!("storage: {st}");
    }
    if let Some(n) = &c.nemesis {
        println!("nemesis: ({})", write::nemesis(n));
    }
    print_plan(c, plan);
    let checks: Vec<String> = scn.checks.iter().map(|c| c.to_ron()).collect();
    println!("checks: [{}]", checks.join(", "));
    let _ = std::io::stdout().flush();
}

/// The fault plan: how many faults, where from, the first few as the schedule writes them, and
/// whether the nemesis stopped at `faults_max`.
fn print_plan(c: &sim_core::SimConfig, plan: &[Planned]) {
    let drawn = plan
        .iter()
        .filter(|p| p.origin == sim_core::faults::Origin::Nemesis)
        .count();
    println!(
        "faults: {} planned actions ({} scheduled{})",
        plan.len(),
        c.faults.len(),
        if c.nemesis.is_some() {
            format!(", {drawn} drawn by the nemesis")
        } else {
            String::new()
        }
    );
    const SHOWN_MAX: usize = 12;
    for p in plan.iter().take(SHOWN_MAX) {
        println!("  at {}: {}", p.at, write::planned(p));
    }
    if plan.len() > SHOWN_MAX {
        println!("  … and {} more", plan.len() - SHOWN_MAX);
    }
    if let Some(n) = &c.nemesis {
        let starts = plan
            .iter()
            .filter(|p| p.origin == sim_core::faults::Origin::Nemesis && p.starts_fault())
            .count();
        if starts >= n.faults_max as usize {
            println!(
                "  note: the nemesis stopped at faults_max ({}): the rest of the fault phase has no nemesis faults",
                n.faults_max
            );
        }
    }
}

fn print_summary(r: &RunReport, wall_s: f64) {
    let s = &r.stats;
    println!("---");
    println!(
        "simulated: {}  events: {}{}  wall: {:.3}s  ({:.2}M events/s)",
        sim_core::SimTime(r.sim_time_ns),
        s.events,
        if r.hit_events_max {
            " (stopped at events_max)"
        } else if r.hit_queued_max {
            " (stopped: the event queue filled, see event-storm)"
        } else {
            ""
        },
        wall_s,
        s.events as f64 / wall_s.max(1e-9) / 1e6
    );
    let reasons: Vec<String> = DropReason::ALL
        .iter()
        .map(|d| format!("{} {}", d.name(), s.dropped_by(*d)))
        .collect();
    println!(
        "messages: sent {}, delivered {}, dropped {} ({}), duplicated {}, in flight at end {}",
        s.messages_sent,
        s.messages_delivered,
        s.messages_dropped(),
        reasons.join(", "),
        s.duplicated,
        s.in_flight_at_end
    );
    if !r.history.is_empty() {
        let unknown = r
            .history
            .ops
            .iter()
            .filter(|o| o.is_indeterminate())
            .count();
        let failed = r
            .history
            .ops
            .iter()
            .filter(|o| matches!(o.completion, Some((_, sim_core::Outcome::Fail))))
            .count();
        println!(
            "client operations: {} ({} ok, {} failed, {} unknown)",
            r.history.len(),
            r.history.ok_count(),
            failed,
            unknown
        );
    }
    for c in &r.checks {
        println!("check {}: {} — {}", c.name, c.verdict.name(), c.detail);
    }
    if let Some(cap) = &r.cap {
        let consistency = r
            .consistency
            .as_ref()
            .map(|c| (c.verdict, c.detail.as_str()));
        print!("{}", crate::cap::report_text(cap, consistency));
    }
    crate::coverage_report::print_run(r);
    println!(
        "verdict: {} (expected: {}) — {}",
        r.verdict.name(),
        harness::expect_word(&r.expected),
        if r.as_expected {
            "as expected"
        } else {
            "NOT as expected"
        }
    );
    println!("trace-hash: {:016x}", r.trace_hash);
}

/// The `--json` object of one run. Field names are a stable interface (see README).
pub fn report_json(r: &RunReport, wall_s: f64) -> serde_json::Value {
    let s = &r.stats;
    let mut dropped = serde_json::Map::new();
    for d in DropReason::ALL {
        dropped.insert(d.name().to_string(), serde_json::json!(s.dropped_by(d)));
    }
    let checks: Vec<serde_json::Value> = r
        .checks
        .iter()
        .map(|c| {
            let metrics: serde_json::Map<String, serde_json::Value> =
                c.metrics.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
            let moments: Vec<serde_json::Value> = c
                .evidence
                .moments
                .iter()
                .map(|m| serde_json::json!({"t_ns": m.time.0, "node": m.node.0, "what": m.what}))
                .collect();
            let evidence = serde_json::json!({"operations": c.evidence.operations, "moments": moments});
            serde_json::json!({ "name": c.name, "verdict": c.verdict.name(), "detail": c.detail, "metrics": metrics, "evidence": evidence })
        })
        .collect();
    serde_json::json!({
        "scenario": r.scenario,
        "protocol": r.protocol,
        "seed": r.seed,
        "trace_hash": format!("{:016x}", r.trace_hash),
        "events": s.events,
        "sim_time_ns": r.sim_time_ns,
        "wall_s": wall_s,
        "events_per_s": s.events as f64 / wall_s.max(1e-9),
        "hit_events_max": r.hit_events_max,
        "hit_queued_max": r.hit_queued_max,
        "messages_sent": s.messages_sent,
        "messages_delivered": s.messages_delivered,
        "messages_dropped": s.messages_dropped(),
        "dropped_by_reason": dropped,
        "messages_duplicated": s.duplicated,
        "in_flight_at_end": s.in_flight_at_end,
        "client_operations": r.history.len(),
        "faults_planned": r.plan.len(),
        "verdict": r.verdict.name(),
        "checks": checks,
        "expected": harness::expect_word(&r.expected),
        "as_expected": r.as_expected,
        "cap": r.cap.as_ref().map(crate::cap::report_json),
    })
}
