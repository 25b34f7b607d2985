//! Simulated time: integer nanoseconds, never floating point.
//!
//! `SimTime` is an instant on the simulation's true (global) timeline, counted from the start of a
//! run; `SimDuration` is a span between two instants. Both are plain `u64` nanosecond counts so
//! that arithmetic is exact and identical on every machine. Node-local clock readings (which
//! drift and jump) are `LocalTime`, kept apart by type so the two are never confused.

use std::fmt;

/// An instant on the true simulated timeline, in nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

/// A span of simulated time in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub u64);

/// A reading of one node's local clock, in nanoseconds. It may run fast or slow against
/// `SimTime` (drift), start offset from it, and jump (a clock fault); it can be negative.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct LocalTime(pub i64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// `self + d`, saturating at the end of time instead of overflowing.
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.checked_add(d.0).expect("simulated time overflow"))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    pub const fn from_micros(n: u64) -> Self {
        SimDuration(n * 1_000)
    }
    pub const fn from_millis(n: u64) -> Self {
        SimDuration(n * 1_000_000)
    }
    pub const fn from_secs(n: u64) -> Self {
        SimDuration(n * 1_000_000_000)
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds as a float, for reports only (never for simulation arithmetic).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl std::ops::Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.checked_add(o.0).expect("duration overflow"))
    }
}

/// An error from [`parse_duration`]: says what was wrong with the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationParseError(pub String);

impl fmt::Display for DurationParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a duration such as `"150ms"`, `"2s"`, `"1.5s"`, `"250us"`, `"10m"` or `"0"`.
///
/// Decimal fractions are parsed exactly (no floating point): `"1.5ms"` is 1,500,000 ns. A
/// fraction finer than a nanosecond is an error rather than being rounded silently.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationParseError> {
    let t = text.trim();
    if t == "0" {
        return Ok(SimDuration::ZERO);
    }
    if t.starts_with('-') {
        return Err(DurationParseError(format!(
            "`{t}` is negative: a duration cannot be negative"
        )));
    }
    if !t.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(DurationParseError(format!(
            "`{t}` does not start with a number; write e.g. `150ms` (units: ns, us, ms, s, m, h)"
        )));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| {
            DurationParseError(format!(
                "`{t}` has no unit; write e.g. `150ms` (units: ns, us, ms, s, m, h)"
            ))
        })?;
    let (number, unit) = t.split_at(split);
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            DurationParseError(format!(
                "unknown unit `{unit}` in `{t}`; expected one of ns, us, ms, s, m, h"
            ))
        })?;
    if number.is_empty() {
        return Err(DurationParseError(format!(
            "`{t}` has no number before the unit"
        )));
    }
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty()
        || frac_part.contains('.')
        || (number.contains('.') && frac_part.is_empty())
    {
        return Err(DurationParseError(format!(
            "`{number}` is not a number in `{t}`"
        )));
    }
    let overflow = || DurationParseError(format!("`{t}` is too long a duration"));
    let whole: u64 = int_part.parse().map_err(|_| overflow())?;
    let mut nanos = whole.checked_mul(scale).ok_or_else(overflow)?;
    let mut place = scale;
    for digit in frac_part.bytes() {
        if !place.is_multiple_of(10) {
            return Err(DurationParseError(format!(
                "`{t}` is finer than a nanosecond"
            )));
        }
        place /= 10;
        nanos = nanos
            .checked_add(u64::from(digit - b'0') * place)
            .ok_or_else(overflow)?;
    }
    Ok(SimDuration(nanos))
}

/// Formats a duration with the largest unit that keeps it exact: `150ms`, `2s`, `1500us`.
pub fn format_duration(d: SimDuration) -> String {
    let n = d.0;
    if n == 0 {
        return "0".to_string();
    }
    for (unit, scale) in [
        ("h", 3_600_000_000_000u64),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ] {
        if n.is_multiple_of(scale) {
            return format!("{}{unit}", n / scale);
        }
    }
    format!("{n}ns")
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(*self))
    }
}

// Debug prints the readable form too: durations and instants appear in traces and reports.
impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always seconds with nanosecond precision: sortable and unambiguous in logs.
        write!(
            f,
            "{}.{:09}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

/// Serde support: durations are written as strings such as `"150ms"` in scenario files.
impl<'de> serde::Deserialize<'de> for SimDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"150ms\" or \"2s\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SimDuration, E> {
                parse_duration(s).map_err(|e| E::custom(e.0))
            }
        }
        d.deserialize_str(V)
    }
}

impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions_exactly() {
        assert_eq!(
            parse_duration("150ms").unwrap(),
            SimDuration::from_millis(150)
        );
        assert_eq!(parse_duration("2s").unwrap(), SimDuration::from_secs(2));
        assert_eq!(parse_duration("1.5ms").unwrap(), SimDuration(1_500_000));
        assert_eq!(parse_duration("250us").unwrap(), SimDuration(250_000));
        assert_eq!(parse_duration("3ns").unwrap(), SimDuration(3));
        assert_eq!(parse_duration("2m").unwrap(), SimDuration::from_secs(120));
        assert_eq!(parse_duration("0").unwrap(), SimDuration::ZERO);
    }

    #[test]
    fn rejects_bad_durations_with_a_reason() {
        assert!(parse_duration("150").unwrap_err().0.contains("no unit"));
        assert!(parse_duration("-5ms")
            .unwrap_err()
            .0
            .contains("cannot be negative"));
        assert!(parse_duration("NaNs")
            .unwrap_err()
            .0
            .contains("does not start with a number"));
        assert!(parse_duration("infs")
            .unwrap_err()
            .0
            .contains("does not start with a number"));
        assert!(parse_duration("5 parsecs")
            .unwrap_err()
            .0
            .contains("unknown unit"));
        assert!(parse_duration("1.5ns").unwrap_err().0.contains("finer"));
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1..5s").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
    }

    #[test]
    fn format_round_trips() {
        for d in ["150ms", "2s", "1500us", "7ns", "3m", "1h"] {
            assert_eq!(format_duration(parse_duration(d).unwrap()), d);
        }
    }
}
