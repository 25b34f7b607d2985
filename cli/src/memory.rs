//! `--memory-max`: a ceiling on the memory of one `dsim` process, so that no input makes dsim
//! allocate without bound and end in the operating system's out-of-memory killer or an
//! allocator abort.
//!
//! A watchdog thread reads the process's resident set size (`VmRSS` in `/proc/self/status`)
//! every [`POLL`]; above the ceiling it prints what was running, how much it used and what to
//! change, and ends the process with [`exit::MEMORY_MAX`]. The engine loop never returns
//! errors and needs no hook: the watchdog sees every allocation, the simulation's, a checker's
//! or a parser's alike, without a counting allocator (the workspace forbids `unsafe`). Between
//! two polls a run may overshoot by what it allocates in [`POLL`] (tens of megabytes at most).
//! Where `/proc/self/status` cannot be read (not Linux) the ceiling is not enforced; `dsim`
//! says so once when the flag was given explicitly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::exit;

/// The default ceiling: 2 GiB, within a CI machine's memory.
pub const MEMORY_MAX_DEFAULT_MIB: u64 = 2048;
/// How often the watchdog reads the resident set size.
pub const POLL: Duration = Duration::from_millis(20);

/// The ceiling in bytes (0: none).
static LIMIT: AtomicU64 = AtomicU64::new(0);
static STARTED: OnceLock<()> = OnceLock::new();
/// What is running, for the message: the command and, for a run, its reproduce command.
static DOING: Mutex<String> = Mutex::new(String::new());

/// The process's resident set size in bytes, if the system tells it.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Sets the ceiling to `mib` MiB (0: none) and starts the watchdog once per process. Returns
/// false when the ceiling cannot be enforced here.
pub fn watch(mib: u64) -> bool {
    LIMIT.store(mib.saturating_mul(1 << 20), Ordering::Relaxed);
    if resident_bytes().is_none() {
        return false;
    }
    STARTED.get_or_init(|| {
        std::thread::Builder::new()
            .name("memory-max".into())
            .spawn(watchdog)
            .map(drop)
            .unwrap_or(())
    });
    true
}

/// Says what is running, for the message should the ceiling be reached.
pub fn doing(what: impl Into<String>) {
    if let Ok(mut d) = DOING.lock() {
        *d = what.into();
    }
}

fn watchdog() {
    loop {
        std::thread::sleep(POLL);
        let limit = LIMIT.load(Ordering::Relaxed);
        if limit == 0 {
            continue;
        }
        let Some(rss) = resident_bytes() else {
            return;
        };
        if rss > limit {
            let doing = DOING.lock().map(|d| d.clone()).unwrap_or_default();
            eprintln!("{}", message(rss, limit, &doing));
            std::process::exit(exit::MEMORY_MAX);
        }
    }
}

/// The words when the ceiling is reached.
pub fn message(rss: u64, limit: u64, doing: &str) -> String {
    let mib = |b: u64| b >> 20;
    let mut s = format!(
        "error: dsim used {} MiB of memory, more than --memory-max {} MiB, and was stopped",
        mib(rss),
        mib(limit)
    );
    if !doing.is_empty() {
        s.push_str(&format!("\n  while: {doing}"));
    }
    s.push_str("\n  hint: a scenario's memory grows with its nodes, clients, operations and events_max (a checker's with the history's concurrency); make it smaller, or raise the ceiling with --memory-max MIB (0: none)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_resident_size_and_words_the_stop() {
        if let Some(rss) = resident_bytes() {
            assert!(rss > 1 << 20, "{rss}");
        }
        let m = message(3 << 30, 2 << 30, "dsim run x.ron --seed 3");
        assert!(m.starts_with("error: dsim used 3072 MiB of memory, more than --memory-max 2048 MiB, and was stopped\n  while: dsim run x.ron --seed 3\n  hint:"), "{m}");
    }
}
