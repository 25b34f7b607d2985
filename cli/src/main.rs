//! The `dsim` command line: dsim's CLI over the protocols it ships. See `dsim --help` and
//! README.md ("The CLI"); a user's binary does the same with its own registry.

mod alloc;

/// mimalloc instead of the system allocator (why, and why through its C API: `alloc.rs`).
#[global_allocator]
static ALLOCATOR: alloc::Mimalloc = alloc::Mimalloc;

fn main() {
    dsim::main_with(protocols::builtin())
}
