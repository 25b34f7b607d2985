//! The key-value workload on primary-backup, judged by the `linearizable` check on real runs:
//! the correct protocol is never caught over many seeds, each deliberate bug is caught (and the
//! correct protocol passes the very run that caught it), a violation's detail explains itself,
//! and an exported history gets the same verdict from `dsim check`.

use protocols::primary_backup::{Params, PrimaryBackup};
use scenarios::harness::{run as run_scenario, RunOptions, RunReport};
use scenarios::history::format as histfmt;
use scenarios::history::read::{budget, prepare, run_check, Convention, ReadOptions};
use scenarios::ProtocolSpec;
use scenarios::Scenario;
use sim_core::check::linearizability::LinVerdict;
use sim_core::check::{CheckResult, Verdict};
use sim_core::{NodeId, Outcome, Request, Response};

/// Seeds every correct scenario must pass.
const SEEDS_CORRECT: u64 = 50;
/// Each bug must be caught by some seed below this.
const SEEDS_BUG_MAX: u64 = 200;

fn load(name: &str) -> Scenario {
    let path = scenarios::shipped_dir().join("primary-backup").join(name);
    scenarios::load(&path, &protocols::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

fn run(scn: &Scenario, seed: u64) -> RunReport {
    run_scenario(
        scn,
        RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        },
    )
}

fn linearizable(report: &RunReport) -> &CheckResult {
    report
        .checks
        .iter()
        .find(|c| c.name == "linearizable")
        .expect("the scenario runs the linearizable check")
}

/// The scenario with its bug switched off.
fn without_bug(scn: &Scenario) -> Scenario {
    let mut fixed = scn.clone();
    match scn.protocol.params::<PrimaryBackup>() {
        Some(p) => {
            fixed.protocol = ProtocolSpec::new::<PrimaryBackup>(Params {
                bug: None,
                ..p.clone()
            })
        }
        None => panic!("not a primary-backup scenario: {:?}", scn.protocol),
    }
    fixed
}

#[test]
fn correct_scenarios_are_linearizable_over_many_seeds() {
    for name in ["basic.ron", "crash-restart.ron", "random-faults.ron"] {
        let scn = load(name);
        let (mut ops, mut ok, mut cas_ok, mut cas_failed, mut unknown) = (0, 0, 0, 0, 0);
        for seed in 0..SEEDS_CORRECT {
            let report = run(&scn, seed);
            let check = linearizable(&report);
            assert_eq!(
                check.verdict,
                Verdict::Pass,
                "{name} seed {seed}: {}",
                check.detail
            );
            assert!(report.as_expected, "{name} seed {seed}");
            for op in &report.history.ops {
                ops += 1;
                match (&op.request, &op.completion) {
                    (Request::Cas { .. }, Some((_, Outcome::Ok(_)))) => cas_ok += 1,
                    (Request::Cas { .. }, Some((_, Outcome::Fail))) => cas_failed += 1,
                    (_, None | Some((_, Outcome::Unknown))) => unknown += 1,
                    _ => {}
                }
                if let Some((_, Outcome::Ok(_))) = op.completion {
                    ok += 1;
                    // Backups redirect everything: every answer came from the primary, so
                    // every redirect was followed to it.
                    assert_eq!(op.node, NodeId(0), "{name} seed {seed}: {op:?}");
                }
            }
        }
        println!("{name}: {ops} operations, {ok} ok, cas {cas_ok} ok / {cas_failed} failed, {unknown} indeterminate");
        // The runs exercise what they claim to: both cas outcomes, and faults that leave
        // operations indeterminate.
        assert!(
            cas_ok > 0 && cas_failed > 0,
            "{name}: cas {cas_ok} ok, {cas_failed} failed"
        );
        assert!(ok > ops / 2, "{name}: only {ok} of {ops} operations ok");
        if name != "basic.ron" {
            assert!(unknown > 0, "{name}: no indeterminate operation");
        } else {
            assert_eq!(unknown, 0, "{name}: nothing fails, nothing times out");
        }
    }
}

/// Runs `name` from seed 0 until the check fails; checks the failure's detail and that the
/// correct protocol passes the same run. Returns the first failing seed.
fn first_catching_seed(name: &str) -> u64 {
    let scn = load(name);
    let fixed = without_bug(&scn);
    let mut caught = Vec::new();
    for seed in 0..SEEDS_BUG_MAX {
        let report = run(&scn, seed);
        let check = linearizable(&report);
        assert_ne!(
            check.verdict,
            Verdict::Unknown,
            "{name} seed {seed}: {}",
            check.detail
        );
        if check.verdict == Verdict::Fail {
            caught.push(seed);
            if caught.len() == 1 {
                let d = &check.detail;
                assert!(d.starts_with("not linearizable: key `"), "{d}");
                assert!(
                    d.contains("smallest window that cannot be linearized"),
                    "{d}"
                );
                assert!(
                    d.contains("✗ cannot be linearized"),
                    "the timeline marks the blocking operation: {d}"
                );
                assert!(d.contains(&format!("reproduce with seed {seed}")), "{d}");
                let control = run(&fixed, seed);
                assert_eq!(
                    linearizable(&control).verdict,
                    Verdict::Pass,
                    "{name} without its bug, seed {seed}: {}",
                    linearizable(&control).detail
                );
            }
        }
    }
    let shown = &caught[..caught.len().min(10)];
    println!(
        "{name}: caught by {} of {SEEDS_BUG_MAX} seeds, first {shown:?}",
        caught.len()
    );
    *caught
        .first()
        .unwrap_or_else(|| panic!("{name}: no seed in 0..{SEEDS_BUG_MAX} is caught"))
}

#[test]
fn stale_backup_reads_are_caught() {
    let seed = first_catching_seed("bug-stale-backup-reads.ron");
    println!("stale backup reads: first caught by seed {seed}");
}

#[test]
fn ack_before_sync_is_caught() {
    let seed = first_catching_seed("bug-ack-before-sync.ron");
    println!("ack before sync: first caught by seed {seed}");
}

#[test]
fn a_stale_read_is_explained_on_its_key() {
    // The shipped seed of the stale-read scenario fails; the detail names the key and shows the
    // window, and the read it blames returned a value (or nil) the key no longer held.
    let scn = load("bug-stale-backup-reads.ron");
    let report = run(&scn, scn.config.seed);
    let check = linearizable(&report);
    assert_eq!(check.verdict, Verdict::Fail);
    let first = check.detail.lines().next().unwrap();
    let key: u64 = first
        .split('`')
        .nth(1)
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no key in {first:?}"));
    assert!(key < 2, "the scenario has keys 0 and 1: {first}");
    let window = check
        .metrics
        .iter()
        .find(|(k, _)| k == "window_operations")
        .map(|(_, v)| *v)
        .expect("a window size");
    assert!(
        window >= 2.0,
        "a stale read needs a write and a read: {window}"
    );
    // The blamed operation is a read that some backup answered.
    let blamed = check.detail.lines().nth(1).unwrap();
    assert!(blamed.contains("read"), "{blamed}");
    let backup_reads = report
        .history
        .ops
        .iter()
        .filter(|o| matches!(o.request, Request::Get { .. }) && o.node != NodeId(0))
        .filter(|o| matches!(o.completion, Some((_, Outcome::Ok(Response::Value(_))))))
        .count();
    assert!(backup_reads > 0, "backups served reads");
}

/// `write_jsonl` then `dsim check`'s reading of it gives the in-run verdict.
fn assert_round_trip(report: &RunReport) {
    let mut out = Vec::new();
    histfmt::write_jsonl(&report.history, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let p = prepare(&text, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(
        p.convention,
        Convention::Dsim,
        "dsim's own JSONL is read as dsim's convention"
    );
    assert_eq!(p.history.ops.len(), report.history.ops.len());
    let (lin, _) = run_check(&p, &budget(2048, None), None);
    let in_run = linearizable(report).verdict;
    let expected = match in_run {
        Verdict::Pass => LinVerdict::Linearizable,
        Verdict::Fail => LinVerdict::NotLinearizable,
        Verdict::Unknown => LinVerdict::Unknown,
    };
    assert_eq!(
        lin.verdict,
        expected,
        "{}: {}",
        report.scenario,
        linearizable(report).detail
    );
    if let (Some(v), Verdict::Fail) = (&lin.violation, in_run) {
        let key = format!("key `{}`", v.key);
        assert!(
            linearizable(report).detail.contains(&key),
            "same key: {key}"
        );
    }
}

#[test]
fn exported_histories_get_the_same_verdict_from_dsim_check() {
    for name in [
        "basic.ron",
        "crash-restart.ron",
        "random-faults.ron",
        "bug-stale-backup-reads.ron",
        "bug-ack-before-sync.ron",
    ] {
        let scn = load(name);
        let report = run(&scn, scn.config.seed);
        assert!(report.as_expected, "{name}");
        assert_round_trip(&report);
    }
}
