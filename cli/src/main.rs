//! The `dsim` command line: dsim's CLI over the protocols it ships. See `dsim --help` and
//! README.md ("The CLI"); a user's binary does the same with its own registry.

/// mimalloc instead of the system allocator: checkers and protocols allocate and free many
/// small objects per run, and glibc's `malloc`/`free` took 10–20% of a sweep's instructions
/// (docs/performance.md). The allocator never changes a run: nothing depends on addresses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    dsim::main_with(protocols::builtin())
}
