//! The `dsim` command line: dsim's CLI over the protocols it ships. See `dsim --help` and
//! README.md ("The CLI"); a user's binary does the same with its own registry.

fn main() {
    dsim::main_with(protocols::builtin())
}
