//! Coverage over scenarios: which situations a run or a sweep reached, against what the
//! protocol declares ([`Protocol::SITUATIONS`](sim_core::Protocol::SITUATIONS)), what the
//! engine marks ([`engine::ALL`]) and what the scenario requires (`expect_reached`).
//!
//! A run's [`Coverage`] comes from the engine (see `sim_core::coverage`); a sweep adds the
//! seeds up into a [`SweepCoverage`] — per situation, how many seeds reached it and the first
//! one — whose rows name the holes: situations declared or evaluated that no seed reached.

use std::collections::BTreeMap;

use sim_core::coverage::{engine, Coverage};

use crate::diag::{list, suggest, Ctx};
use crate::locate::index;
use crate::registry::ProtocolSpec;
use crate::ScenarioError;

/// Who marks a situation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum By {
    /// The protocol, with `ctx.reached` / `ctx.sometimes`.
    Protocol,
    /// The engine (fault-level situations, [`engine::ALL`]).
    Engine,
}

impl By {
    /// Who marks `situation`.
    pub fn of(situation: &str) -> By {
        if engine::ALL.contains(&situation) {
            By::Engine
        } else {
            By::Protocol
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            By::Protocol => "protocol",
            By::Engine => "engine",
        }
    }
}

/// One situation over a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub situation: String,
    pub by: By,
    /// Seeds that reached it at least once.
    pub seeds: u64,
    /// The smallest seed that reached it.
    pub first_seed: Option<u64>,
}

/// A sweep's coverage: every situation the protocol declares, the engine evaluated or a run
/// reached, with the seeds that reached it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepCoverage {
    /// The protocol's declared situations, in its order (listed first).
    declared: Vec<&'static str>,
    rows: BTreeMap<String, (u64, Option<u64>)>,
}

impl SweepCoverage {
    /// An empty sweep of a protocol declaring `declared`.
    pub fn new(declared: &[&'static str]) -> SweepCoverage {
        let mut c = SweepCoverage {
            declared: declared.to_vec(),
            rows: BTreeMap::new(),
        };
        for d in declared {
            c.rows.insert(d.to_string(), (0, None));
        }
        c
    }

    /// The protocol's declared situations.
    pub fn declared(&self) -> &[&'static str] {
        &self.declared
    }

    /// Adds one seed's run.
    pub fn add(&mut self, seed: u64, run: &Coverage) {
        for (name, hit) in run.iter() {
            let row = self.rows.entry(name.to_string()).or_insert((0, None));
            if hit.count > 0 {
                row.0 += 1;
                row.1 = Some(row.1.map_or(seed, |s: u64| s.min(seed)));
            }
        }
    }

    /// Every situation: the protocol's declared ones in its order, then the engine's in
    /// [`engine::ALL`]'s order, then any other by name.
    pub fn rows(&self) -> Vec<Row> {
        let rank = |name: &str| -> (usize, usize) {
            if let Some(i) = self.declared.iter().position(|d| *d == name) {
                (0, i)
            } else if let Some(i) = engine::ALL.iter().position(|d| *d == name) {
                (1, i)
            } else {
                (2, 0)
            }
        };
        let mut rows: Vec<Row> = self
            .rows
            .iter()
            .map(|(name, &(seeds, first_seed))| Row {
                situation: name.clone(),
                by: By::of(name),
                seeds,
                first_seed,
            })
            .collect();
        rows.sort_by(|a, b| {
            rank(&a.situation)
                .cmp(&rank(&b.situation))
                .then_with(|| a.situation.cmp(&b.situation))
        });
        rows
    }

    /// The situations no seed reached, in [`SweepCoverage::rows`] order.
    pub fn never_reached(&self) -> Vec<String> {
        self.rows()
            .into_iter()
            .filter(|r| r.seeds == 0)
            .map(|r| r.situation)
            .collect()
    }

    /// The required situations no seed reached.
    pub fn missing(&self, required: &[String]) -> Vec<String> {
        required
            .iter()
            .filter(|r| self.rows.get(*r).is_none_or(|&(seeds, _)| seeds == 0))
            .cloned()
            .collect()
    }
}

/// The required situations `run` did not reach.
pub fn missing_in_run(required: &[String], run: &Coverage) -> Vec<String> {
    required
        .iter()
        .filter(|r| !run.is_reached(r))
        .cloned()
        .collect()
}

/// Every situation a scenario of `protocol` may require: the protocol's, then the engine's.
pub fn known(protocol: &ProtocolSpec) -> Vec<&'static str> {
    let declared = protocol.info().situations;
    let mut all = declared.to_vec();
    all.extend(
        engine::ALL
            .iter()
            .copied()
            .filter(|e| !declared.contains(e)),
    );
    all
}

/// `expect_reached: [...]`: each name a situation the protocol or the engine marks, once.
pub(crate) fn expect_reached(
    cx: &Ctx<'_>,
    names: &[String],
    protocol: &ProtocolSpec,
) -> Result<Vec<String>, ScenarioError> {
    let known = known(protocol);
    for (j, name) in names.iter().enumerate() {
        let path = index("expect_reached", j);
        if names[..j].contains(name) {
            return Err(cx.error(
                &path,
                format!("`{name}` appears twice in `expect_reached`"),
                "name each situation once".to_string(),
            ));
        }
        if !known.contains(&name.as_str()) {
            let hint = match suggest(name, &known) {
                Some(s) => format!("did you mean `{s}`? known situations: {}", list(&known)),
                None => format!("known situations: {}", list(&known)),
            };
            return Err(cx.error(
                &path,
                format!(
                    "`{name}` is not a situation `{}` or the engine marks",
                    protocol.info().name
                ),
                hint,
            ));
        }
    }
    Ok(names.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{NodeId, SimTime};

    #[test]
    fn a_sweep_counts_seeds_and_names_the_holes() {
        let mut s = SweepCoverage::new(&["b declared", "a declared"]);
        let mut run = Coverage::default();
        run.reach("a declared", SimTime(1), Some(NodeId(0)));
        run.reach("a declared", SimTime(2), Some(NodeId(0)));
        run.evaluate(engine::LEADER_CRASHED);
        s.add(7, &run);
        s.add(3, &run);
        let mut other = Coverage::default();
        other.reach(engine::LEADER_CRASHED, SimTime(5), None);
        s.add(9, &other);
        let rows = s.rows();
        let names: Vec<&str> = rows.iter().map(|r| r.situation.as_str()).collect();
        assert_eq!(names, ["b declared", "a declared", engine::LEADER_CRASHED]);
        assert_eq!((rows[1].seeds, rows[1].first_seed), (2, Some(3)));
        assert_eq!(
            (rows[2].seeds, rows[2].first_seed, rows[2].by),
            (1, Some(9), By::Engine)
        );
        assert_eq!(s.never_reached(), ["b declared"]);
        let required = vec!["b declared".to_string(), "a declared".to_string()];
        assert_eq!(s.missing(&required), ["b declared"]);
        assert_eq!(missing_in_run(&required, &other), required);
    }
}
