//! Swarm testing: a different kind of stress for every seed.
//!
//! Groce et al. ("Swarm Testing", ISSTA 2012) found that a test generator that leaves out a
//! random subset of its features in each run finds more distinct bugs than one that always
//! uses them all: a fault mix that always includes, say, message loss keeps the system in the
//! states loss leads to and away from the ones a long clean stretch under partitions leads to.
//! TigerBeetle's VOPR draws its fault probabilities per seed the same way.
//!
//! A [`SwarmConfig`] holds ranges; [`SwarmConfig::draw`] picks, from the seed's own stream
//! ([`StreamLabel::Swarm`]), which of the fault kinds are on and their rates and lengths (the
//! nemesis), the network's base loss, duplication and latency shape, and — with `mix` — the
//! key-value workload's weights. The result replaces those parts of the [`SimConfig`] before the
//! run is built, so everything downstream (the fault plan, the printed header, the trace
//! header) sees an ordinary configuration. A scenario without a swarm draws nothing.

use crate::config::{FaultKind, Latency, NemesisConfig, SimConfig, Workload};
use crate::detmath;
use crate::rng::{SimRng, StreamLabel};
use crate::SimDuration;

/// The ranges a swarm draws from (validated by the `scenarios` crate: every `min ≤ max`,
/// durations positive, probabilities in `[0, 1]`).
#[derive(Clone, Debug, PartialEq)]
pub struct SwarmConfig {
    /// The pool: each seed enables each kind with probability `keep` (at least one).
    pub kinds: Vec<FaultKind>,
    /// The probability that a seed keeps each kind of the pool (Groce et al. use ½; a pool
    /// whose bugs each need one kind, say crashes, is better served by keeping more).
    pub keep: f64,
    /// Drawn log-uniformly.
    pub interval_mean: (SimDuration, SimDuration),
    /// Drawn log-uniformly.
    pub duration_mean: (SimDuration, SimDuration),
    pub down_max: (u32, u32),
    pub clock_jump_max: (SimDuration, SimDuration),
    /// Loss probability while a `Loss` fault lasts.
    pub loss: (f64, f64),
    /// Duplication probability while a `Duplicate` fault lasts.
    pub duplicate: (f64, f64),
    /// The latency window of a `Reorder` fault (drawn log-uniformly).
    pub reorder_window: (SimDuration, SimDuration),
    /// How many messages one `Replay` fault sends again (drawn uniformly, last, and only when
    /// the seed drew `Replay`: a swarm without it draws as before).
    pub replay: (u32, u32),
    /// The network's base loss, when set (else the scenario's `network.drop`).
    pub drop: Option<(f64, f64)>,
    /// The network's base duplication, when set.
    pub network_duplicate: Option<(f64, f64)>,
    /// Latency shapes: one is picked per seed (empty: the scenario's).
    pub latencies: Vec<Latency>,
    /// Whether to draw the key-value workload's weights: each request kind of non-zero
    /// weight is left out with probability ¼ (one is always kept) and the others' weights
    /// are multiplied by 1 to 4.
    pub mix: bool,
    pub faults_max: u32,
}

/// A uniform draw from `[lo, hi]` of a probability, in steps of 0.001 (so that it prints as
/// a scenario would write it); `lo` itself when the range holds no step.
fn between(rng: &mut SimRng, (lo, hi): (f64, f64)) -> f64 {
    let (a, b) = ((lo * 1000.0).ceil() as u64, (hi * 1000.0).floor() as u64);
    if b <= a {
        return lo;
    }
    rng.range_inclusive(a, b) as f64 / 1000.0
}

/// Whether a seed keeps one kind: a coin at `keep = ½` (as swarms always drew), else a draw
/// in steps of 0.001.
fn keeps(rng: &mut SimRng, keep: f64) -> bool {
    if keep == 0.5 {
        return rng.below(2) == 1;
    }
    rng.below(1000) < (keep * 1000.0).round() as u64
}

/// `d` rounded to a readable unit: whole milliseconds from 10 ms up, whole microseconds
/// below, kept within `[lo, hi]`.
fn readable(d: u64, (lo, hi): (SimDuration, SimDuration)) -> SimDuration {
    let unit = if d >= 10_000_000 { 1_000_000 } else { 1_000 };
    let r = (d + unit / 2) / unit * unit;
    SimDuration(r.clamp(lo.0, hi.0))
}

/// A log-uniform draw from `[lo, hi]` (both positive): as likely to be within a factor of
/// two of `lo` as of `hi`, so that ranges spanning orders of magnitude reach both ends.
fn log_between(rng: &mut SimRng, (lo, hi): (SimDuration, SimDuration)) -> SimDuration {
    if hi.0 <= lo.0 || lo.0 == 0 {
        let d = rng.range_inclusive(lo.0, hi.0.max(lo.0));
        return readable(d, (lo, hi.max(lo)));
    }
    let (a, b) = (detmath::ln(lo.0 as f64), detmath::ln(hi.0 as f64));
    let u = rng.below(1 << 53) as f64 / (1u64 << 53) as f64;
    let x = detmath::exp(a + (b - a) * u) as u64;
    readable(x, (lo, hi))
}

impl SwarmConfig {
    /// Replaces the nemesis, the network's default link and (with `mix`) the workload's
    /// weights of `config` by this seed's draw. Draws in a fixed order from the seed's own
    /// stream, so the same seed always draws the same configuration.
    pub fn draw(&self, config: &mut SimConfig) {
        let mut rng = SimRng::new(config.seed, StreamLabel::Swarm);
        let mut kinds: Vec<FaultKind> = self
            .kinds
            .iter()
            .copied()
            .filter(|_| keeps(&mut rng, self.keep))
            .collect();
        if kinds.is_empty() && !self.kinds.is_empty() {
            kinds.push(self.kinds[rng.index(self.kinds.len())]);
        }
        let interval_mean = log_between(&mut rng, self.interval_mean);
        let duration_mean = log_between(&mut rng, self.duration_mean);
        let down_max = rng.range_inclusive(
            u64::from(self.down_max.0),
            u64::from(self.down_max.1.max(self.down_max.0)),
        ) as u32;
        let clock_jump_max = log_between(&mut rng, self.clock_jump_max);
        let loss = between(&mut rng, self.loss);
        let duplicate = between(&mut rng, self.duplicate);
        let reorder_window = log_between(&mut rng, self.reorder_window);
        config.nemesis = Some(NemesisConfig {
            kinds,
            interval_mean,
            duration_mean,
            down_max,
            clock_jump_max,
            loss,
            duplicate,
            reorder_window,
            replay: 0,
            silent: false,
            faults_max: self.faults_max,
        });
        let link = &mut config.network.default;
        if let Some(r) = self.drop {
            link.drop = between(&mut rng, r);
        }
        if let Some(r) = self.network_duplicate {
            link.duplicate = between(&mut rng, r);
        }
        if !self.latencies.is_empty() {
            link.latency = self.latencies[rng.index(self.latencies.len())].clone();
        }
        if self.mix {
            if let Workload::KeyValue {
                get,
                put,
                cas,
                append,
                ..
            } = &mut config.clients.workload
            {
                let mut weights = [get, put, cas, append];
                let keep = rng.index(weights.iter().filter(|w| ***w > 0).count().max(1));
                let mut k = 0;
                for w in weights.iter_mut() {
                    if **w == 0 {
                        continue;
                    }
                    let left_out = k != keep && rng.below(4) == 0;
                    let factor = rng.range_inclusive(1, 4) as u32;
                    **w = if left_out {
                        0
                    } else {
                        w.saturating_mul(factor)
                    };
                    k += 1;
                }
            }
        }
        // Last, and only when drawn: a swarm without `Replay` draws what it drew before.
        if let Some(n) = config
            .nemesis
            .as_mut()
            .filter(|n| n.kinds.contains(&FaultKind::Replay))
        {
            let (lo, hi) = self.replay;
            n.replay = rng.range_inclusive(u64::from(lo), u64::from(hi.max(lo))) as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swarm() -> SwarmConfig {
        SwarmConfig {
            kinds: FaultKind::ALL.to_vec(),
            keep: 0.5,
            interval_mean: (SimDuration::from_millis(50), SimDuration::from_secs(5)),
            duration_mean: (SimDuration::from_millis(100), SimDuration::from_secs(2)),
            down_max: (1, 2),
            clock_jump_max: (SimDuration::from_millis(1), SimDuration::from_millis(500)),
            loss: (0.05, 0.5),
            duplicate: (0.0, 0.2),
            reorder_window: (SimDuration::from_millis(50), SimDuration::from_secs(1)),
            replay: (1, 64),
            drop: Some((0.0, 0.05)),
            network_duplicate: None,
            latencies: vec![
                Latency::Constant(SimDuration::from_millis(1)),
                Latency::Exponential {
                    min: SimDuration::ZERO,
                    mean: SimDuration::from_millis(20),
                },
            ],
            mix: true,
            faults_max: 1000,
        }
    }

    fn drawn(seed: u64) -> SimConfig {
        let mut c = SimConfig::basic(5, SimDuration::from_secs(10));
        c.seed = seed;
        c.clients.workload = Workload::KeyValue {
            keys: 3,
            get: 1,
            put: 1,
            cas: 1,
            append: 0,
            interval: SimDuration::from_millis(10),
            ops_per_client: 10,
        };
        swarm().draw(&mut c);
        c
    }

    #[test]
    fn keep_is_the_share_of_kinds_a_seed_keeps() {
        let kept = |keep: f64| {
            let mut s = swarm();
            s.keep = keep;
            (0..400u64)
                .map(|seed| {
                    let mut c = SimConfig::basic(5, SimDuration::from_secs(10));
                    c.seed = seed;
                    s.draw(&mut c);
                    c.nemesis.expect("drawn").kinds.len()
                })
                .sum::<usize>() as f64
                / (400 * s.kinds.len()) as f64
        };
        assert_eq!(kept(1.0), 1.0);
        let (half, most) = (kept(0.5), kept(0.75));
        assert!((0.45..0.56).contains(&half), "{half}");
        assert!((0.70..0.80).contains(&most), "{most}");
    }

    #[test]
    fn seeds_differ_in_kind_and_each_draw_is_in_range_and_repeatable() {
        let s = swarm();
        let mut kind_sets = std::collections::BTreeSet::new();
        let mut latencies = std::collections::BTreeSet::new();
        let mut mixes = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let c = drawn(seed);
            let again = drawn(seed);
            let n = c.nemesis.clone().expect("drawn");
            assert_eq!(Some(&n), again.nemesis.as_ref());
            assert!(!n.kinds.is_empty());
            assert!(n.kinds.iter().all(|k| s.kinds.contains(k)));
            assert!((s.interval_mean.0..=s.interval_mean.1).contains(&n.interval_mean));
            assert!((s.duration_mean.0..=s.duration_mean.1).contains(&n.duration_mean));
            assert!((1..=2).contains(&n.down_max));
            assert!((0.05..=0.5).contains(&n.loss));
            let replays = n.kinds.contains(&FaultKind::Replay);
            assert!(if replays {
                (1..=64).contains(&n.replay)
            } else {
                n.replay == 0
            });
            assert!((0.0..=0.05).contains(&c.network.default.drop));
            kind_sets.insert(format!("{:?}", n.kinds));
            latencies.insert(format!("{:?}", c.network.default.latency));
            if let Workload::KeyValue {
                get,
                put,
                cas,
                append,
                ..
            } = c.clients.workload
            {
                assert!(get + put + cas > 0 && append == 0, "a kind is always kept");
                mixes.insert((get > 0, put > 0, cas > 0));
            }
        }
        assert!(
            kind_sets.len() > 30,
            "only {} distinct fault mixes",
            kind_sets.len()
        );
        assert_eq!(latencies.len(), 2);
        assert!(mixes.len() >= 4, "{mixes:?}");
        // Log-uniform: both ends of a 100× range are reached.
        let intervals: Vec<u64> = (0..200)
            .map(|s| drawn(s).nemesis.unwrap().interval_mean.0)
            .collect();
        assert!(intervals.iter().any(|&i| i < 150_000_000));
        assert!(intervals.iter().any(|&i| i > 1_500_000_000));
    }
}
