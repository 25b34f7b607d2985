//! Node-local clocks: offset, drift and jumps over the true simulated timeline.
//!
//! A node's clock reads `local(t) = t + offset + t · drift_ppm / 10⁶` (integer arithmetic,
//! floor). A clock jump (an NTP step, a fault) adds to the offset. Timers are set in local time:
//! the engine converts a local deadline to the first true instant at which the local clock has
//! reached it, so a fast clock fires timers early, a slow one late, and a forward jump fires the
//! pending ones at once.

use crate::{LocalTime, SimTime};

const PPM: i128 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub offset_ns: i64,
    pub drift_ppm: i32,
}

impl Clock {
    pub const PERFECT: Clock = Clock {
        offset_ns: 0,
        drift_ppm: 0,
    };

    /// The local reading at true time `t`.
    #[inline]
    pub fn local(&self, t: SimTime) -> LocalTime {
        if self.drift_ppm == 0 {
            // Past i64::MAX ns (292 years) the reading saturates rather than wraps.
            let t = i64::try_from(t.0).unwrap_or(i64::MAX);
            return LocalTime(t.saturating_add(self.offset_ns));
        }
        if let Some(v) = self.local_i64(t) {
            return LocalTime(v);
        }
        let t = i128::from(t.0);
        let v = t + i128::from(self.offset_ns) + (t * i128::from(self.drift_ppm)).div_euclid(PPM);
        LocalTime(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    /// [`Clock::local`] in 64-bit arithmetic (a multiply and a division by a constant), or
    /// `None` where an intermediate value would leave `i64`: then the 128-bit formula, which
    /// gives the same floor everywhere the two are defined, decides.
    #[inline]
    fn local_i64(&self, t: SimTime) -> Option<i64> {
        let t = i64::try_from(t.0).ok()?;
        let drift = t
            .checked_mul(i64::from(self.drift_ppm))?
            .div_euclid(PPM as i64);
        t.checked_add(self.offset_ns)?.checked_add(drift)
    }

    /// The first true instant `>= not_before` at which the local clock reads at least `deadline`.
    #[inline]
    pub fn when_local_reaches(&self, deadline: LocalTime, not_before: SimTime) -> SimTime {
        match self.first_reaching_i64(deadline) {
            Some(t) => SimTime(t.max(not_before.0)),
            None => self.when_local_reaches_general(deadline, not_before),
        }
    }

    /// The first true instant at all at which the local clock reads at least `deadline`, in
    /// closed form and 64-bit arithmetic, or `None` where that is not certain to equal the
    /// general search (an intermediate value or the answer near `i64`'s ends, a clock that
    /// does not advance): the common case of every timer. With `T = deadline − offset` and
    /// `r = 10⁶ + drift`, `t + ⌊t·drift/10⁶⌋ = ⌊t·r/10⁶⌋ ≥ T` holds exactly when
    /// `t ≥ ⌈T·10⁶/r⌉`; writing `T = a·r + b` keeps the products small.
    #[inline]
    fn first_reaching_i64(&self, deadline: LocalTime) -> Option<u64> {
        // Far from i64's ends, `local` neither saturates nor clamps near the answer.
        const LIMIT: i64 = 1 << 61;
        let target = deadline.0.checked_sub(self.offset_ns)?;
        if !(-LIMIT..LIMIT).contains(&target) || !(-LIMIT..LIMIT).contains(&deadline.0) {
            return None;
        }
        if self.drift_ppm == 0 {
            return Some(target.max(0) as u64);
        }
        let rate = PPM as i64 + i64::from(self.drift_ppm);
        if !(1..=2 * PPM as i64).contains(&rate) {
            return None;
        }
        let (a, b) = (target.div_euclid(rate), target.rem_euclid(rate));
        // b·10⁶ < 2·10¹² always fits; a·10⁶ (about T·10⁶/r) may not for a slow clock.
        let whole = a.checked_mul(PPM as i64)?;
        let part = (b * PPM as i64 + rate - 1) / rate;
        let t = whole.checked_add(part)?;
        (t < LIMIT).then_some(t.max(0) as u64)
    }

    /// [`Clock::when_local_reaches`] for any clock and deadline: a binary search for the
    /// first instant from `not_before` on whose reading reaches `deadline` (`local` never
    /// decreases, since a drift is above −10⁶ ppm), at most 64 readings however far the
    /// deadline or however saturated the clock. A deadline the clock never reads (only a
    /// delay of centuries, or a clock that hardly advances) gives the end of time.
    fn when_local_reaches_general(&self, deadline: LocalTime, not_before: SimTime) -> SimTime {
        if self.local(not_before) >= deadline {
            return not_before;
        }
        if self.local(SimTime(u64::MAX)) < deadline {
            return SimTime(u64::MAX);
        }
        // local(lo) < deadline <= local(hi).
        let (mut lo, mut hi) = (not_before.0, u64::MAX);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.local(SimTime(mid)) >= deadline {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        SimTime(hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_and_offset() {
        let c = Clock {
            offset_ns: 5_000,
            drift_ppm: 100,
        };
        // After 1 s a +100 ppm clock has gained 100 µs.
        assert_eq!(
            c.local(SimTime(1_000_000_000)).0,
            1_000_000_000 + 5_000 + 100_000
        );
        let slow = Clock {
            offset_ns: 0,
            drift_ppm: -500,
        };
        assert_eq!(
            slow.local(SimTime(2_000_000_000)).0,
            2_000_000_000 - 1_000_000
        );
    }

    /// The clock formula in 128-bit arithmetic, clamped: what `local` must equal everywhere.
    fn local_wide(c: &Clock, t: SimTime) -> i64 {
        let t = i128::from(t.0);
        let v = t + i128::from(c.offset_ns) + (t * i128::from(c.drift_ppm)).div_euclid(PPM);
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    #[test]
    fn the_64_bit_path_agrees_with_the_128_bit_formula() {
        let mut rng = crate::rng::SimRng::new(5, crate::rng::StreamLabel::Custom(3));
        let edges = [
            0u64,
            1,
            999_999,
            1_000_001,
            i64::MAX as u64 - 1,
            i64::MAX as u64,
            u64::MAX,
        ];
        for i in 0..20_000 {
            let t = if i < edges.len() * 8 {
                edges[i % edges.len()]
            } else {
                rng.next_u64() >> rng.below(64)
            };
            let c = Clock {
                offset_ns: match i % 4 {
                    0 => i64::MAX - rng.below(1_000) as i64,
                    1 => i64::MIN + rng.below(1_000) as i64,
                    _ => rng.below(2_000_000_001) as i64 - 1_000_000_000,
                },
                drift_ppm: rng.below(1_999_999) as i32 - 999_999,
            };
            assert_eq!(
                c.local(SimTime(t)).0,
                local_wide(&c, SimTime(t)),
                "{c:?} at {t}"
            );
            if t < 1 << 62 {
                let deadline = LocalTime(local_wide(&c, SimTime(t)));
                let at = c.when_local_reaches(deadline, SimTime::ZERO);
                assert!(local_wide(&c, at) >= deadline.0, "{c:?} {deadline:?}");
                assert!(at.0 == 0 || local_wide(&c, SimTime(at.0 - 1)) < deadline.0);
            }
        }
    }

    /// The closed form against the general search, over random clocks, deadlines and
    /// starting instants, many near the edges (no drift, the slowest and fastest clocks,
    /// deadlines and offsets near `i64`'s ends and near the fast path's limits).
    #[test]
    fn the_closed_form_agrees_with_the_general_search() {
        let mut rng = crate::rng::SimRng::new(11, crate::rng::StreamLabel::Custom(4));
        let mut fast = 0;
        for i in 0..200_000u64 {
            let drift_ppm = match i % 5 {
                0 => 0,
                1 => [-999_999, 999_999, -1, 1, 1_000_000][rng.below(5) as usize],
                2 => rng.below(1_001) as i32 - 500,
                _ => rng.below(1_999_999) as i32 - 999_999,
            };
            let offset_ns = match i % 7 {
                0 => i64::MAX - rng.below(1_000) as i64,
                1 => i64::MIN + rng.below(1_000) as i64,
                2 => (1 << 61) - 500 + rng.below(1_000) as i64,
                _ => rng.below(2_000_000_001) as i64 - 1_000_000_000,
            };
            let c = Clock {
                offset_ns,
                drift_ppm,
            };
            let near = |rng: &mut crate::rng::SimRng, v: i64| {
                v.wrapping_add(rng.below(2_001) as i64 - 1_000)
            };
            let deadline = LocalTime(match i % 6 {
                0 => near(&mut rng, i64::MAX),
                1 => near(&mut rng, i64::MIN),
                2 => near(&mut rng, 1 << 61),
                3 => near(&mut rng, offset_ns),
                _ => offset_ns.wrapping_add((rng.next_u64() >> rng.below(64)) as i64),
            });
            let not_before = SimTime(match i % 4 {
                0 => 0,
                1 => rng.next_u64() >> rng.below(64),
                _ => rng.below(1 << 40),
            });
            if c.local(SimTime(u64::MAX)) < deadline {
                // Never reached: both answer the end of time.
                assert_eq!(
                    c.when_local_reaches(deadline, not_before),
                    SimTime(u64::MAX)
                );
                continue;
            }
            if c.first_reaching_i64(deadline).is_some() {
                fast += 1;
            }
            assert_eq!(
                c.when_local_reaches(deadline, not_before),
                c.when_local_reaches_general(deadline, not_before),
                "{c:?} {deadline:?} {not_before:?}"
            );
        }
        assert!(fast > 50_000, "the fast path was taken only {fast} times");
    }

    #[test]
    fn inverse_is_the_first_instant() {
        for c in [
            Clock::PERFECT,
            Clock {
                offset_ns: -7_777,
                drift_ppm: 250,
            },
            Clock {
                offset_ns: 123_456,
                drift_ppm: -999,
            },
        ] {
            // The last two are where the reading saturates at i64::MAX: the search once
            // stepped through that stretch a nanosecond at a time.
            for target in [
                0i64,
                1,
                999_999,
                1_000_000_007,
                77_000_000_000,
                i64::MAX - 3,
                i64::MAX,
            ] {
                let t = c.when_local_reaches(LocalTime(target), SimTime::ZERO);
                assert!(c.local(t).0 >= target);
                if t.0 > 0 {
                    assert!(c.local(SimTime(t.0 - 1)).0 < target, "{c:?} {target}");
                }
            }
        }
    }
}
