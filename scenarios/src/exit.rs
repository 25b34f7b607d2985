//! dsim's exit codes: an interface that scripts and CI depend on. Never renumber. The CLI
//! (`cli/src/exit.rs`) and the benchmarks protocols bring (see [`crate::bench`]) use these.

/// Every check passed (for `dsim check`: the history is linearizable).
pub const PASS: i32 = 0;
/// A check failed (for `dsim check`: not linearizable).
pub const FAIL: i32 = 1;
/// Bad input: an invalid scenario or history file, or wrong usage.
pub const BAD_INPUT: i32 = 2;
/// Inconclusive: no check failed but one could not decide (e.g. a search budget ran out).
pub const UNKNOWN: i32 = 3;
/// The simulation panicked (a bug in a protocol or in dsim); the seed and a reproduce command
/// are printed.
pub const PANIC: i32 = 4;
/// An output file (trace, history, report) could not be written.
pub const IO_ERROR: i32 = 5;
/// `dsim sweep merge`: the shard reports do not make up the whole sweep — a shard is missing
/// or two reports cover the same one. The report of what was merged is still printed.
pub const INCOMPLETE: i32 = 6;
/// The process went over its memory ceiling (`--memory-max`) and was stopped; what was running
/// and what to change are printed.
pub const MEMORY_MAX: i32 = 7;
/// A situation the scenario's `expect_reached` requires was not reached: by this seed's run
/// (`dsim run`), or by any seed of the sweep (`dsim sweep`, `dsim sweep merge`). No check
/// failed (a failed check exits with [`FAIL`] instead).
pub const NOT_REACHED: i32 = 8;
