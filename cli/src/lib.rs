//! dsim's command line as a library: [`main_with`] runs the whole CLI — `run`, `sweep`,
//! `shrink`, `validate`, `list`, `check`, `cap`, `bench` — over a protocol registry, so a user's binary
//! gets all of it for their own protocols:
//!
//! ```text
//! fn main() {
//!     dsim::main_with(protocols::builtin().with::<chain::Chain>())
//! }
//! ```
//!
//! The commands parse flags and print; the work (running, checking, sweeping, comparing) is
//! the `scenarios` crate's harness and the `sim-core` checkers. The `dsim` binary
//! (`main.rs`) is `main_with(protocols::builtin())`.

pub mod bench;
pub mod bench_check;
pub mod bench_history;
pub mod bench_registered;
pub mod cap;
pub mod check;
pub mod check_file;
pub mod check_jobs;
pub mod coverage_report;
pub mod diagram;
pub mod exit;
pub mod explain;
pub mod memory;
pub use scenarios::history::format as histfmt;

pub mod perfetto;
pub mod run;
pub mod shrink;
pub mod sweep;
pub mod sweep_merge;
pub mod sweep_report;
pub mod validate;

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use scenarios::Registry;

/// What every command needs besides its arguments.
#[derive(Clone, Debug)]
pub struct Env {
    /// The protocols scenarios may name.
    pub registry: Registry,
    /// The program's name, for reproduce commands (`dsim`, or a user's binary).
    pub program: String,
}

impl Env {
    /// `registry`, with the program named after the running binary.
    pub fn new(registry: Registry) -> Env {
        let program = std::env::args_os()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "dsim".to_string());
        Env { registry, program }
    }

    /// Loads a scenario file, printing its error (exit code 2) when it cannot be used.
    pub fn load(&self, path: &std::path::Path) -> Result<scenarios::Scenario, i32> {
        self.registry.load(path).map_err(|e| {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        })
    }

    /// The command that reproduces a run of `file` at `seed`.
    pub fn reproduce(&self, file: &std::path::Path, seed: u64) -> String {
        scenarios::harness::reproduce_command(&self.program, file, seed)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "dsim",
    version,
    about = "Deterministic distributed-system simulator"
)]
struct Cli {
    /// The most memory (resident, in MiB) the process may use; above it dsim stops with exit
    /// code 7 and says what to change. 0: no ceiling.
    #[arg(long, global = true, value_name = "MIB", default_value_t = memory::MEMORY_MAX_DEFAULT_MIB)]
    memory_max: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario file and check it.
    Run(run::RunArgs),
    /// Run a scenario over many seeds and list the failing ones.
    Sweep(sweep::SweepArgs),
    /// Shrink a failing seed to a small explicit scenario that fails the same check.
    Shrink(shrink::ShrinkArgs),
    /// Check scenario files without running them.
    Validate(validate::ValidateArgs),
    /// List protocols, fault kinds, checks and the shipped scenarios.
    List,
    /// Check histories for linearizability (Jepsen logs, EDN, dsim JSON Lines).
    Check(check::CheckArgs),
    /// Run one partition scenario once per protocol and compare availability and consistency.
    Cap(cap::CapArgs),
    /// Benchmarks: the engine workloads W1-W3, the linearizability checker, and those the
    /// registered protocols bring (listed below).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Engine workloads W1-W3 (scenarios/bench/*.ron).
    Engine(bench::BenchEngineArgs),
    /// The linearizability checker over history files or folders.
    Check(bench_check::BenchCheckArgs),
    /// Write a long generated key-value history (linearizable unless told otherwise) for
    /// measuring the checker at scale.
    History(bench_history::BenchHistoryArgs),
    /// A benchmark a registered protocol brings (`dsim bench --help` lists them).
    #[command(external_subcommand)]
    Registered(Vec<OsString>),
}

/// Runs the command line in `args` (the program name first) over `env`; returns the exit code.
pub fn run_cli(env: &Env, args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let line = std::iter::once(env.program.clone())
        .chain(
            args.iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned()),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let matches = Cli::command()
        .bin_name(env.program.clone())
        .mut_subcommand("bench", |b| {
            b.after_help(bench_registered::listing(&env.registry))
        })
        .try_get_matches_from(args);
    let cli = match matches.and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::PASS
            };
            let _ = e.print();
            return code;
        }
    };
    scenarios::harness::panic::quiet_panics();
    if !memory::watch(cli.memory_max) && cli.memory_max != memory::MEMORY_MAX_DEFAULT_MIB {
        eprintln!("note: --memory-max is not enforced here (no /proc/self/status)");
    }
    memory::doing(line);
    match cli.command {
        Command::Run(a) => run::main(env, a),
        Command::Sweep(a) => sweep::main(env, a),
        Command::Shrink(a) => shrink::main(env, a),
        Command::Validate(a) => validate::validate(env, a),
        Command::List => validate::list(env),
        Command::Check(a) => check::main(a),
        Command::Cap(a) => cap::main(env, a),
        Command::Bench(BenchCommand::Engine(a)) => bench::main(env, a),
        Command::Bench(BenchCommand::Check(a)) => bench_check::main(a),
        Command::Bench(BenchCommand::History(a)) => bench_history::main(a),
        Command::Bench(BenchCommand::Registered(a)) => bench_registered::main(env, &a),
    }
}

/// The whole `dsim` command line over `registry`: parses the process's arguments, runs the
/// command and exits with its code.
pub fn main_with(registry: Registry) -> ! {
    let env = Env::new(registry);
    let code = run_cli(&env, std::env::args_os());
    std::process::exit(code)
}
