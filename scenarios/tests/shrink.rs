//! The shrinker on dsim's own bug scenarios: every `bug-*.ron` shrunk at its first failing
//! seed keeps failing the same check with at most a few faults, and the file it writes is a
//! valid scenario that fails again when run; shrinking is deterministic (the same file, byte
//! for byte, whatever the thread count) and stops within its budget with the best so far.

use scenarios::harness::shrink::{shrink, ShrinkOptions, Shrunk};
use scenarios::harness::sweep::{outcome_of, SeedOutcome};
use scenarios::harness::{run, RunOptions};
use scenarios::{Registry, Scenario};
use sim_core::check::Verdict;

/// Candidate runs each acceptance shrink may spend (the figures each one needs are in the
/// families' READMEs; the bugs whose failure needs several faults lined up with an election
/// need the most, as their smaller schedules fail only at a few of the other seeds tried).
const BUDGET: u64 = scenarios::harness::shrink::BUDGET_RUNS_DEFAULT;
/// Most faults a shrunk bug may keep.
const FAULTS_MAX: usize = 5;
/// The bugs whose failure needs several faults lined up with an election or a damaged disk:
/// their smaller schedules fail only at a few of the other seeds tried, so shrinking them to
/// five faults takes 6,000–16,000 runs of 10–60 s simulations (figures in the Raft and Paxos
/// READMEs) — minutes even in release. Here they get [`BUDGET_HARD`] runs and must shrink and
/// keep failing; `scripts/shrink-acceptance.sh` shrinks every bug with the default budget in a
/// release build and holds them all to [`FAULTS_MAX`].
const HARD: &[&str] = &[
    "raft/bug-commit-previous-term.ron",
    "raft/bug-forget-vote.ron",
    "raft/bug-truncate-at-corruption.ron",
    "paxos/bug-promise-without-persist.ron",
    "paxos/bug-forget-damaged-accepted.ron",
];
/// Candidate runs a [`HARD`] bug's shrink gets in this test.
const BUDGET_HARD: u64 = 250;

/// A shipped scenario, by its path under `scenarios/`.
fn shipped(registry: &Registry, path: &str) -> Scenario {
    registry
        .load(&scenarios::shipped_dir().join(path))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The first seed at which `scn` fails (its own seed first: it is expected to fail there).
fn first_failing_seed(scn: &Scenario) -> u64 {
    (0..200)
        .find(|&s| matches!(outcome_of(scn, s), SeedOutcome::Fail(_)))
        .expect("a bug scenario fails within 200 seeds")
}

fn shrunk(scn: &Scenario, registry: &Registry, seed: u64, budget: u64, jobs: usize) -> Shrunk {
    let opts = ShrinkOptions {
        budget_runs: budget,
        jobs,
        ..ShrinkOptions::new(seed, "test")
    };
    shrink(scn, registry, &opts, &|_| {}).unwrap_or_else(|e| panic!("{}: {e}", scn.name))
}

/// The shrunk text is a valid scenario that fails its check when run.
fn reruns_to_the_failure(text: &str, check: &str, registry: &Registry) {
    let back = registry
        .parse(text, "shrunk.ron")
        .unwrap_or_else(|e| panic!("the shrunk file does not load: {e}\n{text}"));
    assert!(back.config.nemesis.is_none(), "no nemesis:\n{text}");
    let r = run(&back, RunOptions::default());
    let c = r.check(check).expect("the shrunk file runs its check");
    assert_eq!(c.verdict, Verdict::Fail, "{text}");
    assert!(r.as_expected, "`expect` names the failure:\n{text}");
}

#[test]
fn every_bug_scenario_shrinks_to_a_few_faults_and_still_fails() {
    let registry = protocols::builtin();
    let bugs: Vec<_> = scenarios::shipped()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("bug-"))
        })
        .collect();
    assert!(bugs.len() >= 13, "found {} bug scenarios", bugs.len());
    let mut report = Vec::new();
    for path in bugs {
        let name = path
            .strip_prefix(scenarios::shipped_dir())
            .unwrap()
            .display()
            .to_string();
        let scn = registry.load(&path).unwrap_or_else(|e| panic!("{e}"));
        let seed = first_failing_seed(&scn);
        let first = {
            let r = run(
                &scn,
                RunOptions {
                    seed: Some(seed),
                    ..RunOptions::default()
                },
            );
            r.failed_checks()[0].to_string()
        };
        let hard = HARD.contains(&name.as_str());
        let budget = if hard { BUDGET_HARD } else { BUDGET };
        let s = shrunk(&scn, &registry, seed, budget, jobs());
        assert_eq!(s.check, first, "{name}: the first failing check is kept");
        assert!(s.runs <= budget, "{name}: {} runs", s.runs);
        reruns_to_the_failure(&s.text, &s.check, &registry);
        if hard {
            assert!(
                s.after.faults < s.before.faults,
                "{name} at seed {seed}: {} faults after {} runs ({} before)",
                s.after.faults,
                s.runs,
                s.before.faults
            );
        } else {
            assert!(
                s.after.faults <= FAULTS_MAX,
                "{name} at seed {seed}: {} faults after shrinking ({} before)",
                s.after.faults,
                s.before.faults
            );
        }
        report.push(format!(
            "{name} seed {seed} (shrunk at {}) `{}`: {} → {} ({} runs)",
            s.shrunk_seed, s.check, s.before, s.after, s.runs
        ));
    }
    println!("{}", report.join("\n"));
}

#[test]
fn shrinking_gives_the_same_file_whatever_the_thread_count() {
    let registry = protocols::builtin();
    let scn = shipped(&registry, "paxos/bug-no-adopt-accepted.ron");
    let one = shrunk(&scn, &registry, 0, 300, 1);
    let three = shrunk(&scn, &registry, 0, 300, 3);
    let again = shrunk(&scn, &registry, 0, 300, 3);
    assert_eq!(one.text, three.text);
    assert_eq!(three.text, again.text);
    assert_eq!(one.runs, three.runs);
    assert!(one.after.faults < one.before.faults);
}

#[test]
fn a_small_budget_stops_with_the_best_so_far() {
    let registry = protocols::builtin();
    let scn = shipped(&registry, "raft/bug-vote-without-log-check.ron");
    let s = shrunk(&scn, &registry, 0, 12, 2);
    assert!(s.budget_exhausted);
    assert!(s.runs <= 12, "{} runs", s.runs);
    assert!(s.after.sim_time_ns < s.before.sim_time_ns, "{}", s.after);
    reruns_to_the_failure(&s.text, &s.check, &registry);
}

#[test]
fn any_number_of_other_seeds_is_bounded_by_the_budget() {
    // The library takes any count and considers at most `OTHER_SEEDS_MAX` (a list of
    // u64::MAX seeds aborted the process before).
    let registry = protocols::builtin();
    let scn = shipped(&registry, "paxos/bug-no-adopt-accepted.ron");
    let opts = ShrinkOptions {
        budget_runs: 40,
        other_seeds: u64::MAX,
        ..ShrinkOptions::new(0, "test")
    };
    let s = shrink(&scn, &registry, &opts, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.runs <= 40, "{} runs", s.runs);
    reruns_to_the_failure(&s.text, &s.check, &registry);
}

#[test]
fn a_seed_that_does_not_fail_or_an_unknown_check_is_an_error() {
    use scenarios::harness::shrink::ShrinkError;
    let registry = protocols::builtin();
    let scn = shipped(&registry, "raft/initial-election.ron");
    let opts = ShrinkOptions::new(0, "test");
    match shrink(&scn, &registry, &opts, &|_| {}) {
        Err(ShrinkError::NotFailing { seed: 0, .. }) => {}
        other => panic!("expected NotFailing, got {other:?}"),
    }
    let opts = ShrinkOptions {
        check: Some("agreement".into()),
        ..ShrinkOptions::new(0, "test")
    };
    match shrink(&scn, &registry, &opts, &|_| {}) {
        Err(ShrinkError::UnknownCheck { name, .. }) => assert_eq!(name, "agreement"),
        other => panic!("expected UnknownCheck, got {other:?}"),
    }
}

#[test]
fn a_shrink_may_move_to_another_seed_and_the_file_says_which() {
    let registry = protocols::builtin();
    let scn = shipped(&registry, "paxos/bug-no-adopt-accepted.ron");
    let seed = first_failing_seed(&scn);
    let opts = |other_seeds| ShrinkOptions {
        budget_runs: BUDGET,
        other_seeds,
        ..ShrinkOptions::new(seed, "test")
    };
    let kept = shrink(&scn, &registry, &opts(0), &|_| {}).unwrap();
    let moved = shrink(&scn, &registry, &opts(512), &|_| {}).unwrap();
    assert_eq!(
        kept.shrunk_seed, seed,
        "no other seeds: the failing seed stays"
    );
    assert_ne!(
        moved.shrunk_seed, seed,
        "this failure shrinks further elsewhere"
    );
    assert!(
        moved.after.faults < kept.after.faults,
        "other seeds find a smaller schedule: {} against {}",
        moved.after,
        kept.after
    );
    for s in [&kept, &moved] {
        assert_eq!(s.scenario.config.seed, s.shrunk_seed);
        assert!(s.text.contains(&format!("    seed: {},\n", s.shrunk_seed)));
        reruns_to_the_failure(&s.text, &s.check, &registry);
    }
}
