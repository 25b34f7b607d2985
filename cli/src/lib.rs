//! The library behind the `dsim` binary: running scenarios (choosing the protocol a scenario
//! names), sweeping seeds, checking histories, and writing reports. The binary (`main.rs`) only
//! parses arguments and calls in here, so integration tests drive the same code.

pub mod bench;
pub mod bench_check;
pub mod bench_raft;
pub mod cap;
pub mod check;
pub mod determinism;
pub mod exit;
pub mod explain;
pub mod histfmt;
pub mod run;
pub mod runner;
pub mod sweep;
pub mod validate;
