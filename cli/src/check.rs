//! `dsim check`: linearizability of external histories. (Being written.)

/// Arguments of `dsim check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// History files to check.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `dsim check`; returns the exit code.
pub fn main(args: CheckArgs) -> i32 {
    let _ = args;
    eprintln!("dsim check: not implemented yet");
    crate::exit::BAD_INPUT
}
