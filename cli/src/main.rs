//! The `dsim` command line. See `dsim --help` and README.md.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "dsim", version, about = "Deterministic distributed-system simulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check histories for linearizability (Jepsen logs, EDN, dsim JSON Lines).
    Check(dsim::check::CheckArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { dsim::exit::BAD_INPUT } else { dsim::exit::PASS };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cli.command {
        Command::Check(a) => dsim::check::main(a),
    };
    std::process::exit(code);
}
