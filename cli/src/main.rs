//! The `dsim` command line. See `dsim --help` and README.md ("The CLI").

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "dsim",
    version,
    about = "Deterministic distributed-system simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario file and check it.
    Run(dsim::run::RunArgs),
    /// Run a scenario over many seeds and list the failing ones.
    Sweep(dsim::sweep::SweepArgs),
    /// Check scenario files without running them.
    Validate(dsim::validate::ValidateArgs),
    /// List protocols, fault kinds, checks and the shipped scenarios.
    List,
    /// Check histories for linearizability (Jepsen logs, EDN, dsim JSON Lines).
    Check(dsim::check::CheckArgs),
    /// Run one partition scenario once per protocol and compare availability and consistency.
    Cap(dsim::cap::CapArgs),
    /// Benchmarks: the engine workloads W1-W3, or the linearizability checker.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Engine workloads W1-W3 (scenarios/bench/*.ron).
    Engine(dsim::bench::BenchEngineArgs),
    /// The linearizability checker over history files or folders.
    Check(dsim::bench_check::BenchCheckArgs),
    /// Raft: time to elect a new leader after the leader crashes (the paper's Figure 16).
    RaftElection(dsim::bench_raft::BenchRaftArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                dsim::exit::BAD_INPUT
            } else {
                dsim::exit::PASS
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    dsim::runner::quiet_panics();
    let code = match cli.command {
        Command::Run(a) => dsim::run::main(a),
        Command::Sweep(a) => dsim::sweep::main(a),
        Command::Validate(a) => dsim::validate::validate(a),
        Command::List => dsim::validate::list(),
        Command::Check(a) => dsim::check::main(a),
        Command::Cap(a) => dsim::cap::main(a),
        Command::Bench(BenchCommand::Engine(a)) => dsim::bench::main(a),
        Command::Bench(BenchCommand::Check(a)) => dsim::bench_check::main(a),
        Command::Bench(BenchCommand::RaftElection(a)) => dsim::bench_raft::main(a),
    };
    std::process::exit(code);
}
