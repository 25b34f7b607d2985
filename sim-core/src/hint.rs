//! Branch hints for the hot paths, on the toolchains the workspace supports.

/// Marks the branch that calls it as rarely taken: a call to a `#[cold]` function is how LLVM
/// learns it before `std::hint::cold_path` (Rust 1.95; the workspace supports 1.85).
#[cold]
#[inline(never)]
pub(crate) fn cold_path() {}
