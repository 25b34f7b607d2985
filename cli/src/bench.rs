//! `dsim bench engine`: the engine benchmark workloads W1–W3 of `../shared/bench/WORKLOADS.md`,
//! run from the shipped `scenarios/bench/*.ron` files.
//!
//! Wall time is measured inside the process and covers building the simulation and running it,
//! as peer-bench does; each workload prints one `RESULT key=value …` line in peer-bench's style
//! so the two can be compared side by side (see `scripts/bench-compare.sh`).

use std::time::Instant;

use scenarios::harness::{self, RunOptions};

use crate::{exit, Env};

/// The workloads and their scenario files.
pub const WORKLOADS: [(&str, &str); 5] = [
    ("w1", "bench/w1-ping-pong.ron"),
    ("w2", "bench/w2-hot-potato.ron"),
    ("w3-1k", "bench/w3-hot-potato-1k.ron"),
    ("w3-10k", "bench/w3-hot-potato-10k.ron"),
    ("w3-100k", "bench/w3-hot-potato-100k.ron"),
];

#[derive(clap::Args, Debug)]
pub struct BenchEngineArgs {
    /// Workloads to run (default: w1 w2 w3-1k w3-10k). One of: w1, w2, w3-1k, w3-10k, w3-100k.
    pub workloads: Vec<String>,
    /// Repetitions per workload; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub reps: u32,
    /// Also write every event's trace to /dev/null (measures the cost of `--trace`).
    #[arg(long)]
    pub with_trace: bool,
}

/// One measured repetition.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub wall_s: f64,
    pub deliveries: u64,
    pub sim_s: f64,
    pub trace_hash: u64,
}

/// Runs one benchmark scenario once; the wall time covers setup and run.
pub fn run_once(scn: &scenarios::Scenario, with_trace: bool) -> Sample {
    let start = Instant::now();
    let opts = RunOptions {
        trace: with_trace.then(|| Box::new(std::io::sink()) as Box<dyn std::io::Write>),
        ..RunOptions::default()
    };
    let r = harness::run(scn, opts);
    let wall_s = start.elapsed().as_secs_f64();
    let sample = Sample {
        wall_s,
        deliveries: r.stats.messages_delivered,
        sim_s: r.sim_time_ns as f64 / 1e9,
        trace_hash: r.trace_hash,
    };
    // Like peer-bench, leave teardown out of the measurement.
    std::mem::forget(r);
    sample
}

/// Peak resident set size of this process so far, in MiB (Linux), from `/proc/self/status`.
pub fn vmhwm_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn main(env: &Env, args: BenchEngineArgs) -> i32 {
    let names: Vec<String> = if args.workloads.is_empty() {
        ["w1", "w2", "w3-1k", "w3-10k"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.workloads.clone()
    };
    for name in &names {
        let Some((_, file)) = WORKLOADS.iter().find(|(n, _)| n == name) else {
            eprintln!("error: unknown workload `{name}`");
            eprintln!("  hint: one of w1, w2, w3-1k, w3-10k, w3-100k");
            return exit::BAD_INPUT;
        };
        let path = scenarios::shipped_dir().join(file);
        let scn = match env.load(&path) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let mut samples: Vec<Sample> = (0..args.reps.max(1))
            .map(|_| run_once(&scn, args.with_trace))
            .collect();
        assert!(
            samples
                .windows(2)
                .all(|w| w[0].trace_hash == w[1].trace_hash),
            "benchmark runs must be deterministic"
        );
        samples.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
        let med = samples[samples.len() / 2];
        println!(
            "RESULT sim=dsim workload={name} nodes={} reps={} wall_s={:.4} wall_min_s={:.4} wall_max_s={:.4} deliveries={} msgs_per_s={:.0} sim_s={:.4} sim_s_per_wall_s={:.2} vmhwm_mib={:.1} trace={} trace_hash={:016x}",
            scn.config.node_count,
            samples.len(),
            med.wall_s,
            samples[0].wall_s,
            samples[samples.len() - 1].wall_s,
            med.deliveries,
            med.deliveries as f64 / med.wall_s,
            med.sim_s,
            med.sim_s / med.wall_s,
            vmhwm_mib().unwrap_or(f64::NAN),
            if args.with_trace { "on" } else { "hash-only" },
            med.trace_hash
        );
    }
    exit::PASS
}
