//! Pinned trace hashes: every shipped scenario at its own seed, and the scenarios of up to 64
//! nodes outside `bench/` at seeds 0..20 too, must give the trace hash recorded in
//! `tests/golden/trace-hashes.txt`.
//!
//! A change that alters a run on purpose regenerates the file in the same commit and says why:
//!
//! ```text
//! DSIM_BLESS=1 cargo test -p tests --test trace_hashes
//! ```
//!
//! A change that alters a hash by accident is a bug: the engine or a protocol no longer does
//! what it did, and the test names every scenario and seed that changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use scenarios::harness::run_seed;
use scenarios::Scenario;

/// Seeds pinned besides each scenario's own, for the scenarios [`all_seeds`] selects.
const SEEDS: std::ops::Range<u64> = 0..20;
/// Scenarios of more nodes than this are pinned at their own seed only (they take long).
const NODES_ALL_SEEDS_MAX: u32 = 64;

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/trace-hashes.txt")
}

/// `scenarios/<family>/<file>.ron`, as the golden file names it.
fn shown(path: &Path) -> String {
    let root = scenarios::shipped_dir();
    let base = root.parent().unwrap_or(&root);
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn all_seeds(path: &Path, scn: &Scenario) -> bool {
    scn.config.node_count <= NODES_ALL_SEEDS_MAX
        && !path.starts_with(scenarios::shipped_dir().join("bench"))
}

/// Every pinned run: (file as shown, seed).
fn runs() -> Vec<(PathBuf, String, Scenario, u64)> {
    let registry = protocols::builtin();
    let mut out = Vec::new();
    for path in scenarios::shipped() {
        let scn = registry.load(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = shown(&path);
        let mut seeds = vec![scn.config.seed];
        if all_seeds(&path, &scn) {
            seeds.extend(SEEDS.filter(|s| *s != scn.config.seed));
        }
        for seed in seeds {
            out.push((path.clone(), name.clone(), scn.clone(), seed));
        }
    }
    out
}

/// The hash of every run, on all cores (each run stays single-threaded).
fn hashes(runs: &[(PathBuf, String, Scenario, u64)]) -> BTreeMap<(String, u64), String> {
    let next = AtomicUsize::new(0);
    let out = Mutex::new(BTreeMap::new());
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, name, scn, seed)) = runs.get(i) else {
                    break;
                };
                let hash = format!("{:016x}", run_seed(scn, *seed).trace_hash);
                out.lock()
                    .expect("no panics holding the lock")
                    .insert((name.clone(), *seed), hash);
            });
        }
    });
    out.into_inner().expect("workers finished")
}

fn read_golden() -> BTreeMap<(String, u64), String> {
    let text = std::fs::read_to_string(golden_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "golden line `{l}`: expected `file seed hash`");
            let seed = f[1].parse().unwrap_or_else(|_| panic!("golden line `{l}`"));
            ((f[0].to_string(), seed), f[2].to_string())
        })
        .collect()
}

fn write_golden(hashes: &BTreeMap<(String, u64), String>) {
    let mut text = String::from(
        "# Trace hash of every shipped scenario at its own seed (and, for scenarios of up to 64\n\
         # nodes outside bench/, at seeds 0..20): file, seed, hash.\n\
         # Regenerate on purpose only: DSIM_BLESS=1 cargo test -p tests --test trace_hashes\n",
    );
    for ((file, seed), hash) in hashes {
        text.push_str(&format!("{file} {seed} {hash}\n"));
    }
    std::fs::write(golden_path(), text).expect("write the golden file");
}

#[test]
fn shipped_scenarios_keep_their_pinned_trace_hashes() {
    let runs = runs();
    let got = hashes(&runs);
    if std::env::var_os("DSIM_BLESS").is_some() {
        write_golden(&got);
        println!("wrote {} hashes to {}", got.len(), golden_path().display());
        return;
    }
    let want = read_golden();
    assert!(
        !want.is_empty(),
        "{} is missing: generate it with `DSIM_BLESS=1 cargo test -p tests --test trace_hashes`",
        golden_path().display()
    );
    let mut problems = Vec::new();
    for (key, hash) in &got {
        match want.get(key) {
            Some(w) if w == hash => {}
            Some(w) => problems.push(format!("{} seed {}: {w} -> {hash}", key.0, key.1)),
            None => problems.push(format!(
                "{} seed {}: not pinned (new: {hash})",
                key.0, key.1
            )),
        }
    }
    for key in want.keys().filter(|k| !got.contains_key(*k)) {
        problems.push(format!(
            "{} seed {}: pinned but no longer run",
            key.0, key.1
        ));
    }
    assert!(
        problems.is_empty(),
        "{} of {} pinned runs changed:\n{}\nif this change alters runs on purpose, regenerate with \
         `DSIM_BLESS=1 cargo test -p tests --test trace_hashes` and say why in the commit",
        problems.len(),
        got.len(),
        problems.join("\n")
    );
}
