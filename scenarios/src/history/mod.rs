//! Histories outside a run: the file formats `dsim check` reads (Jepsen logs, EDN, Porcupine's
//! kv lines, dsim's JSON Lines) and writes (a run's history exported with `--history`), and
//! the reading of a file into a checkable history with its conventions.

pub mod format;
pub mod read;
