//! Validation of `swarm: (...)`: every range is `(min, max)` with `min ≤ max` and the rules of
//! the nemesis field it stands for; the fastest rate it may draw stays within `faults_max`.

use sim_core::config::{ClientConfig, FaultKind, NemesisConfig, Workload};
use sim_core::faults;
use sim_core::swarm::SwarmConfig;
use sim_core::SimDuration;

use super::{R, V};
use crate::locate::{field, index};
use crate::schema::SwarmSpec;

impl V<'_, '_> {
    /// `swarm`, which draws the nemesis (so the scenario has none of its own) and, with
    /// `mix`, a key-value workload's weights.
    pub(super) fn swarm_of(
        &self,
        s: &SwarmSpec,
        has_nemesis: bool,
        clients: &ClientConfig,
        duration: SimDuration,
    ) -> R<SwarmConfig> {
        if has_nemesis {
            return Err(self.err(
                "swarm",
                "a scenario with a `swarm` has no `nemesis`: the swarm draws one for every seed",
                "leave `nemesis` out, or `swarm` for a fixed nemesis".to_string(),
            ));
        }
        if s.mix && !matches!(clients.workload, Workload::KeyValue { .. }) {
            return Err(self.err(
                "swarm.mix",
                "`mix` draws a key-value workload's weights, and this scenario has none",
                "leave `mix` out, or give `clients` a `KeyValue` workload".to_string(),
            ));
        }
        self.swarm(s, duration)
    }

    /// A `(min, max)` range at `path`, each end checked by `one`.
    fn range<T: PartialOrd + Copy + std::fmt::Display>(
        &self,
        path: &str,
        (lo, hi): (T, T),
        one: impl Fn(&str, T) -> R<T>,
        quote: bool,
    ) -> R<(T, T)> {
        let lo = one(&field(path, "0"), lo)?;
        let hi = one(&field(path, "1"), hi)?;
        if lo > hi {
            let q = |x: T| {
                if quote {
                    format!("\"{x}\"")
                } else {
                    x.to_string()
                }
            };
            return Err(self.err(
                path,
                format!(
                    "the range `({}, {})` for `{path}` has its minimum above its maximum",
                    q(lo),
                    q(hi)
                ),
                "a range is written `(min, max)`".to_string(),
            ));
        }
        Ok((lo, hi))
    }

    fn swarm(&self, s: &SwarmSpec, duration: SimDuration) -> R<SwarmConfig> {
        let kinds = self.kinds(
            "swarm.kinds",
            &s.kinds,
            "the swarm has no fault kinds to draw from",
            "list some of `Partition`, `Crash`, `Pause`, `ClockJump`, `Loss`, `Duplicate`, `Clog`, `Reorder`, `Replay`",
        )?;
        let positive = |p: &str, d| self.positive(p, d);
        let prob = |p: &str, x| self.prob(p, x);
        let keep = self.prob("swarm.keep", s.keep)?;
        if keep == 0.0 {
            return Err(self.err(
                "swarm.keep",
                "`keep` is `0`: no seed would keep a fault kind",
                "the probability that a seed keeps each kind, e.g. `keep: 0.75` (default `0.5`)"
                    .to_string(),
            ));
        }
        let interval_mean = self.range("swarm.interval_mean", s.interval_mean, positive, true)?;
        let duration_mean = self.range("swarm.duration_mean", s.duration_mean, positive, true)?;
        let has = |k| kinds.contains(&k);
        let down = |p: &str, n: u32| {
            if n == 0 || n > self.node_count {
                return Err(self.err(
                    p,
                    format!("`{p}` is `{n}`, outside `1..={}`", self.node_count),
                    "at most `down_max` nodes are crashed or paused at once".to_string(),
                ));
            }
            Ok(n)
        };
        let down_max = self.range("swarm.down_max", s.down_max, down, false)?;
        let needed = |what: &str, example: &str| {
            self.err(
                "swarm",
                format!(
                    "`{what}` is in `swarm.kinds` but the swarm has no `{}` range",
                    needed_field(what)
                ),
                format!("add e.g. `{example}`"),
            )
        };
        let clock_jump_max = match s.clock_jump_max {
            Some(r) => self.range("swarm.clock_jump_max", r, positive, true)?,
            None if has(FaultKind::ClockJump) => {
                return Err(needed("ClockJump", "clock_jump_max: (\"10ms\", \"500ms\")"))
            }
            None => (SimDuration::ZERO, SimDuration::ZERO),
        };
        let loss = match s.loss {
            Some(r) => self.range("swarm.loss", r, prob, false)?,
            None if has(FaultKind::Loss) => return Err(needed("Loss", "loss: (0.05, 0.5)")),
            None => (0.0, 0.0),
        };
        let duplicate = match s.duplicate {
            Some(r) => self.range("swarm.duplicate", r, prob, false)?,
            None if has(FaultKind::Duplicate) => {
                return Err(needed("Duplicate", "duplicate: (0.01, 0.2)"))
            }
            None => (0.0, 0.0),
        };
        let reorder_window = match s.reorder_window {
            Some(r) => self.range("swarm.reorder_window", r, positive, true)?,
            None if has(FaultKind::Reorder) => {
                return Err(needed("Reorder", "reorder_window: (\"50ms\", \"1s\")"))
            }
            None => (SimDuration::ZERO, SimDuration::ZERO),
        };
        let replay = match s.replay {
            Some(r) => self.range("swarm.replay", r, |p, c| self.replay_count(p, c), false)?,
            None if has(FaultKind::Replay) => return Err(needed("Replay", "replay: (1, 50)")),
            None => (0, 0),
        };
        let drop = match s.drop {
            Some(r) => Some(self.range("swarm.drop", r, prob, false)?),
            None => None,
        };
        let network_duplicate = match s.network_duplicate {
            Some(r) => Some(self.range("swarm.network_duplicate", r, prob, false)?),
            None => None,
        };
        let mut latencies = Vec::with_capacity(s.latencies.len());
        for (j, l) in s.latencies.iter().enumerate() {
            latencies.push(self.latency(&index("swarm.latencies", j), l)?);
        }
        let faults_max = s.faults_max.unwrap_or(NemesisConfig::FAULTS_MAX_DEFAULT);
        if faults_max == 0 || faults_max > NemesisConfig::FAULTS_MAX_LIMIT {
            return Err(self.err(
                "swarm.faults_max",
                format!(
                    "`faults_max` is `{faults_max}`, outside `1..={}`",
                    NemesisConfig::FAULTS_MAX_LIMIT
                ),
                format!("leave it out for `{}`", NemesisConfig::FAULTS_MAX_DEFAULT),
            ));
        }
        // The fastest nemesis the swarm may draw: every kind on, the shortest interval.
        let fastest = NemesisConfig {
            kinds: kinds.clone(),
            interval_mean: interval_mean.0,
            duration_mean: duration_mean.0,
            down_max: down_max.1,
            clock_jump_max: clock_jump_max.1,
            loss: loss.1,
            duplicate: duplicate.1,
            reorder_window: reorder_window.1,
            replay: replay.1,
            silent: false,
            faults_max,
        };
        let (planned, ids) = faults::nemesis_expected(&fastest, duration, self.node_count);
        if planned > u64::from(faults_max) || ids > faults::PLAN_NODE_IDS_MAX {
            return Err(self.err(
                "swarm.interval_mean",
                format!(
                    "at the shortest `interval_mean`, `\"{}\"`, the swarm's nemesis would plan about `{planned}` faults ({ids} partition node ids) over the `{duration}` fault phase, more than `faults_max` (`{faults_max}`) or the plan's `{}` node ids",
                    interval_mean.0,
                    faults::PLAN_NODE_IDS_MAX
                ),
                "raise the range's minimum, shorten `duration`, or raise `swarm.faults_max`"
                    .to_string(),
            ));
        }
        Ok(SwarmConfig {
            kinds,
            keep,
            interval_mean,
            duration_mean,
            down_max,
            clock_jump_max,
            loss,
            duplicate,
            reorder_window,
            replay,
            drop,
            network_duplicate,
            latencies,
            mix: s.mix,
            faults_max,
        })
    }
}

/// The range a fault kind needs.
fn needed_field(kind: &str) -> &'static str {
    match kind {
        "ClockJump" => "clock_jump_max",
        "Loss" => "loss",
        "Reorder" => "reorder_window",
        "Replay" => "replay",
        _ => "duplicate",
    }
}
