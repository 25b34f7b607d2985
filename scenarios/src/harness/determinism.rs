//! The determinism check: run a scenario twice at one seed and, if the two runs differ, name
//! the first event where they do — in each of those two runs.

use super::{run, RunOptions, RunReport};
use crate::Scenario;

/// The index of the first event whose running hash differs between two runs (or where one run
/// has more events than the other); `None` when the sequences are identical.
pub fn first_divergence(a: &[u64], b: &[u64]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

/// Where two runs of one scenario and seed parted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The first event (0-based) that differs.
    pub index: usize,
    /// Events in each run.
    pub events: (usize, usize),
    /// That event in each run, described from its hashed words (`None` when that run had
    /// ended before it).
    pub first: Option<String>,
    pub second: Option<String>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |e: &Option<String>| {
            e.clone()
                .unwrap_or_else(|| "(no event: the run had ended)".to_string())
        };
        write!(
            f,
            "the runs diverge at event #{} (of {} and {} events)\n  run 1: {}\n  run 2: {}",
            self.index,
            self.events.0,
            self.events.1,
            show(&self.first),
            show(&self.second)
        )
    }
}

/// Runs `scn` at `seed` a second time beside `first` (a run made with `record_hashes`) and
/// compares them; `None` when identical. On a divergence, the events at the first differing
/// index are described from the two runs compared.
pub fn compare(scn: &Scenario, seed: u64, first: &RunReport) -> Option<Divergence> {
    let second = run(
        scn,
        RunOptions {
            seed: Some(seed),
            record_hashes: true,
            ..RunOptions::default()
        },
    );
    let a = first.running_hashes.as_deref().unwrap_or(&[]);
    let b = second.running_hashes.as_deref().unwrap_or(&[]);
    let index = first_divergence(a, b)?;
    Some(Divergence {
        index,
        events: (a.len(), b.len()),
        first: first.events.as_ref().and_then(|l| l.describe(index)),
        second: second.events.as_ref().and_then(|l| l.describe(index)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_difference() {
        assert_eq!(first_divergence(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(first_divergence(&[1, 2, 3], &[1, 9, 3]), Some(1));
        assert_eq!(first_divergence(&[1, 2], &[1, 2, 3]), Some(2));
        assert_eq!(first_divergence(&[], &[]), None);
    }
}
