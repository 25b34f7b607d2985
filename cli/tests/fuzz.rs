//! The fuzz harness (issue 13): structure-aware mutations of every shipped scenario and of the
//! shared Jepsen/Knossos/Porcupine histories, fed to every parser and to `dsim run` under a
//! small event and memory budget. It asserts no panic, no abort, bounded time and memory, and
//! an exit code in the documented set. Runs on the stable toolchain (proptest, no
//! `cargo fuzz`).
//!
//! CI runs a bounded number of cases (`DSIM_FUZZ_CASES`, default 256 for the parsers; an
//! eighth of that, at least 8, for runs of the binary) from a fixed seed (`DSIM_FUZZ_SEED`,
//! default 1), so that a red CI is reproducible and never depends on the minute it ran in. A
//! long local run explores new cases from a random seed:
//!
//! ```text
//! DSIM_FUZZ_CASES=100000 DSIM_FUZZ_SEED=random cargo test --release -p cli --test fuzz -- --nocapture
//! ```
//!
//! (`scripts/fuzz.sh` wraps it and prints the seed it drew). A failure prints the mutated
//! input and the seed; proptest shrinks it. Every input found this way goes into the
//! regression tests (`scenarios/tests/errors.rs`, `cli/tests/limits.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use scenarios::history::read::{prepare, run_check, ReadOptions};
use sim_core::check::linearizability::Budget;

mod common;
use common::repo;

fn cases() -> u32 {
    std::env::var("DSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The runners' seed: `DSIM_FUZZ_SEED` (a number, or `random` for one drawn from the OS and
/// printed), default 1.
fn seed() -> RngSeed {
    let seed = match std::env::var("DSIM_FUZZ_SEED").ok().as_deref() {
        None | Some("") => 1,
        Some("random") => {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(std::process::id())
        }
        Some(n) => n.parse().expect("DSIM_FUZZ_SEED: a number or `random`"),
    };
    eprintln!("fuzz seed: DSIM_FUZZ_SEED={seed}");
    RngSeed::Fixed(seed)
}

/// A runner of `cases` cases from [`seed`].
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: seed(),
        ..Config::default()
    })
}

static REGISTRY: LazyLock<scenarios::Registry> = LazyLock::new(protocols::builtin);

/// Every shipped scenario's text.
static SCENARIOS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    scenarios::shipped()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a shipped scenario");
            (p.display().to_string(), text)
        })
        .collect()
});

/// The shared histories (`$DSIM_HISTORIES` or `../shared/histories`), at most 200 KB each.
static HISTORIES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let root = std::env::var("DSIM_HISTORIES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("../shared/histories"));
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.metadata().is_ok_and(|m| m.len() < 200_000)
                && !p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with("VERDICTS") || n.ends_with(".md") || n == "NOTICE"
                })
            {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    out.push((p.display().to_string(), text));
                }
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "the shared histories are missing");
    out
});

/// Numbers at and past the limits of ids, counts, seeds and probabilities.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "64",
    "1000",
    "1001",
    "65536",
    "100000",
    "1000000",
    "10000000",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "-1",
    "0.5",
    "1.5",
    "-0.1",
    "1e309",
    "NaN",
];

/// Strings that replace a scenario string: durations at the limits and past them.
const DURATIONS: &[&str] = &[
    "\"0\"",
    "\"1ns\"",
    "\"10us\"",
    "\"1ms\"",
    "\"1s\"",
    "\"60s\"",
    "\"8760h\"",
    "\"8761h\"",
    "\"-5ms\"",
    "\"NaNs\"",
    "\"1.5ns\"",
    "\"\"",
];

/// Names a scenario may hold, to swap for one another.
const NAMES: &[&str] = &[
    "Raft",
    "Paxos",
    "Gossip",
    "PrimaryBackup",
    "Leaderless",
    "TwoPhaseCommit",
    "Forward",
    "Crash",
    "Restart",
    "Pause",
    "Partition",
    "Heal",
    "Split",
    "Isolate",
    "KeyValue",
    "Broadcast",
    "Transactions",
    "Bound",
    "Random",
    "Fixed",
    "Linearizable",
    "Liveness",
    "Convergence",
    "None",
    "Some",
    "nodes",
    "count",
    "faults",
    "nemesis",
    "kinds",
];

/// Bytes and fragments that break structure.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "//",
    "/*",
    "*/",
    "\n",
    "\u{0}",
    "\u{feff}",
    "é",
    "#![enable(implicit_some)]",
    "Some(",
    "[[[[[[[[",
    "((((((((",
    "r#\"",
];

/// One mutation of a text: which kind, where (a fraction of the candidates), what with.
#[derive(Clone, Debug)]
enum Mutation {
    Number(f64, usize),
    Duration(f64, usize),
    Name(f64, usize),
    Insert(f64, usize),
    DeleteLine(f64),
    DuplicateLine(f64),
    Truncate(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        3 => (at.clone(), 0..NUMBERS.len()).prop_map(|(a, i)| Mutation::Number(a, i)),
        3 => (at.clone(), 0..DURATIONS.len()).prop_map(|(a, i)| Mutation::Duration(a, i)),
        2 => (at.clone(), 0..NAMES.len()).prop_map(|(a, i)| Mutation::Name(a, i)),
        2 => (at.clone(), 0..FRAGMENTS.len()).prop_map(|(a, i)| Mutation::Insert(a, i)),
        1 => at.clone().prop_map(Mutation::DeleteLine),
        1 => at.clone().prop_map(Mutation::DuplicateLine),
        1 => at.prop_map(Mutation::Truncate),
    ]
}

/// Byte ranges of the runs of characters `is_part` accepts that start where `starts` does.
fn spans(
    text: &str,
    starts: impl Fn(char) -> bool,
    is_part: impl Fn(char) -> bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if starts(c) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = it.peek() {
                if !is_part(d) {
                    break;
                }
                end = j + d.len_utf8();
                it.next();
            }
            out.push((i, end));
        }
    }
    out
}

fn pick<T: Copy>(items: &[T], at: f64) -> Option<T> {
    (!items.is_empty()).then(|| items[((at * items.len() as f64) as usize).min(items.len() - 1)])
}

/// `text` with `m` applied.
fn apply(text: &str, m: &Mutation) -> String {
    let replace = |span: Option<(usize, usize)>, with: &str| match span {
        Some((a, b)) => format!("{}{with}{}", &text[..a], &text[b..]),
        None => text.to_string(),
    };
    let lines: Vec<&str> = text.lines().collect();
    match *m {
        Mutation::Number(at, i) => replace(
            pick(
                &spans(
                    text,
                    |c| c.is_ascii_digit(),
                    |c| c.is_ascii_digit() || c == '.' || c == '_',
                ),
                at,
            ),
            NUMBERS[i],
        ),
        Mutation::Duration(at, i) => {
            let strings: Vec<(usize, usize)> = text
                .match_indices('"')
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
                .chunks(2)
                .filter(|p| p.len() == 2)
                .map(|p| (p[0], p[1] + 1))
                .collect();
            replace(pick(&strings, at), DURATIONS[i])
        }
        Mutation::Name(at, i) => replace(
            pick(
                &spans(
                    text,
                    |c| c.is_ascii_alphabetic(),
                    |c| c.is_ascii_alphanumeric() || c == '_',
                ),
                at,
            ),
            NAMES[i],
        ),
        Mutation::Insert(at, i) => {
            let mut k = (at * text.len() as f64) as usize;
            while !text.is_char_boundary(k) {
                k -= 1;
            }
            format!("{}{}{}", &text[..k], FRAGMENTS[i], &text[k..])
        }
        Mutation::DeleteLine(at) | Mutation::DuplicateLine(at) => {
            let Some(k) = pick(&(0..lines.len()).collect::<Vec<_>>(), at) else {
                return text.to_string();
            };
            let mut out: Vec<&str> = lines.clone();
            if matches!(m, Mutation::DeleteLine(_)) {
                out.remove(k);
            } else {
                out.insert(k, lines[k]);
            }
            out.join("\n")
        }
        Mutation::Truncate(at) => {
            let mut k = (at * text.len() as f64) as usize;
            while !text.is_char_boundary(k) {
                k -= 1;
            }
            text[..k].to_string()
        }
    }
}

fn mutated(seeds: &'static [(String, String)]) -> impl Strategy<Value = (usize, String)> {
    (0..seeds.len(), proptest::collection::vec(mutation(), 1..4)).prop_map(move |(i, ms)| {
        let text = ms.iter().fold(seeds[i].1.clone(), |t, m| apply(&t, m));
        (i, text)
    })
}

#[test]
fn mutated_scenarios_parse_or_fail_with_a_position_quickly() {
    let mut runner = runner(cases());
    runner
        .run(&mutated(&SCENARIOS), |(i, text)| {
            let start = Instant::now();
            let got = std::panic::catch_unwind(|| scenarios::parse(&text, "f.ron", &REGISTRY));
            prop_assert!(
                got.is_ok(),
                "parsing panicked on a mutation of {}",
                SCENARIOS[i].0
            );
            if let Ok(Err(e)) = got {
                prop_assert!(e.line >= 1 && e.col >= 1, "no position: {e}");
                prop_assert!(!e.message.contains('\0'), "an invisible character in: {e}");
            }
            prop_assert!(
                start.elapsed() < Duration::from_secs(5),
                "took {:?}",
                start.elapsed()
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_histories_parse_and_check_or_fail_with_a_line_quickly() {
    let mut runner = runner(cases());
    let budget = Budget {
        steps_max: 2_000_000,
        memory_bytes_max: 64 << 20,
        ..Budget::default()
    };
    runner
        .run(&mutated(&HISTORIES), |(i, text)| {
            let start = Instant::now();
            let got = std::panic::catch_unwind(|| match prepare(&text, &ReadOptions::default()) {
                Ok(p) => {
                    run_check(&p, &budget, Some(Duration::from_secs(5)));
                    None
                }
                Err(e) => Some(e.line),
            });
            prop_assert!(
                got.is_ok(),
                "reading panicked on a mutation of {}",
                HISTORIES[i].0
            );
            if let Ok(Some(line)) = got {
                prop_assert!(line >= 1, "an error without a line");
            }
            prop_assert!(
                start.elapsed() < Duration::from_secs(10),
                "took {:?}",
                start.elapsed()
            );
            Ok(())
        })
        .unwrap();
}

/// Exit codes a run may end with (README): pass, fail, bad input, unknown, over the memory
/// ceiling, a situation of `expect_reached` not reached (a mutation that moves a fault may
/// well miss it). A panic (4), a signal (an abort) or a timeout is a finding.
const RUN_EXITS: &[i32] = &[0, 1, 2, 3, 7, 8];

/// Runs `dsim run FILE --memory-max 512`, killing it after `limit`; its exit code.
fn run_bounded(file: &Path, limit: Duration) -> Result<i32, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(["run", file.to_str().unwrap(), "--memory-max", "512"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            if let Some(mut s) = child.stderr.take() {
                use std::io::Read;
                let _ = s.read_to_string(&mut err);
            }
            return status
                .code()
                .ok_or_else(|| format!("killed by a signal: {err}"));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn mutated_scenarios_that_validate_run_within_their_budgets() {
    let mut runner = runner((cases() / 8).max(8));
    let dir = std::env::temp_dir().join(format!("dsim-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("case.ron");
    let ran = std::sync::atomic::AtomicU32::new(0);
    let rejected = std::sync::atomic::AtomicU32::new(0);
    let bump =
        |c: &std::sync::atomic::AtomicU32| c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    runner
        .run(&mutated(&SCENARIOS), |(i, text)| {
            let Ok(mut scn) = scenarios::parse(&text, "f.ron", &REGISTRY) else {
                bump(&rejected);
                return Ok(());
            };
            // A small event budget: a run may be long only because the scenario asks for it.
            scn.config.events_max = scn.config.events_max.min(200_000);
            std::fs::write(&file, scenarios::write::scenario(&scn, &["fuzz case"])).unwrap();
            bump(&ran);
            match run_bounded(&file, Duration::from_secs(60)) {
                Ok(code) => prop_assert!(
                    RUN_EXITS.contains(&code),
                    "exit code {code} on a mutation of {}:\n{}",
                    SCENARIOS[i].0,
                    std::fs::read_to_string(&file).unwrap_or_default()
                ),
                Err(e) => prop_assert!(
                    false,
                    "{e} on a mutation of {}:\n{}",
                    SCENARIOS[i].0,
                    std::fs::read_to_string(&file).unwrap_or_default()
                ),
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz runs: {ran:?} ran, {rejected:?} rejected by validation");
}
