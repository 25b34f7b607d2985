//! Benchmarks a protocol brings to the command line: `dsim bench <name> [--option value ...]`.
//!
//! A [`Bench`] names its options (each with a default and a help line) and a function that
//! runs it from their values and returns an exit code ([`crate::exit`]). The registry carries
//! them ([`crate::Registry::with_bench`]); the CLI turns the declaration into a subcommand with
//! `--help`, so a protocol's crate needs no argument parser of its own.

use std::fmt;

/// One `--name value` option of a benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchOption {
    pub name: &'static str,
    pub help: &'static str,
    pub default: &'static str,
}

/// A benchmark the CLI runs as `dsim bench <name>`.
#[derive(Clone, Copy)]
pub struct Bench {
    /// The subcommand: lowercase words joined by `-` (`leader-election`).
    pub name: &'static str,
    /// One line for `dsim bench --help`.
    pub about: &'static str,
    pub options: &'static [BenchOption],
    /// Runs the benchmark (printing its report) and returns the exit code.
    pub run: fn(&BenchArgs) -> i32,
}

impl fmt::Debug for Bench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bench")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish()
    }
}

/// The option values a benchmark runs with (every option has one: given, or its default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BenchArgs {
    values: Vec<(&'static str, String)>,
}

impl BenchArgs {
    /// Every option of `bench` at its default, then `given` (name, value) pairs on top.
    pub fn new<'a>(bench: &Bench, given: impl IntoIterator<Item = (&'a str, String)>) -> BenchArgs {
        let mut values: Vec<(&'static str, String)> = bench
            .options
            .iter()
            .map(|o| (o.name, o.default.to_string()))
            .collect();
        for (name, value) in given {
            if let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) {
                slot.1 = value;
            }
        }
        BenchArgs { values }
    }

    /// The value of option `name`; panics on a name the benchmark did not declare (a bug in
    /// the benchmark).
    pub fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the benchmark reads an undeclared option `--{name}`"))
    }

    /// The value of option `name` as a number; `Err` is the message for a bad value.
    pub fn number(&self, name: &str) -> Result<u64, String> {
        let v = self.get(name);
        v.trim()
            .parse()
            .map_err(|_| format!("--{name} `{v}` is not a non-negative integer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[BenchOption] = &[
        BenchOption {
            name: "trials",
            help: "trials",
            default: "10",
        },
        BenchOption {
            name: "seed",
            help: "seed",
            default: "0",
        },
    ];

    fn bench() -> Bench {
        Bench {
            name: "b",
            about: "a test",
            options: OPTIONS,
            run: |a| a.number("trials").map_or(2, |n| n as i32),
        }
    }

    #[test]
    fn defaults_then_given_values() {
        let b = bench();
        let a = BenchArgs::new(&b, [("seed", "7".to_string())]);
        assert_eq!(a.get("trials"), "10");
        assert_eq!(a.number("seed"), Ok(7));
        assert_eq!((b.run)(&a), 10);
        let bad = BenchArgs::new(&b, [("trials", "x".to_string())]);
        assert!(bad.number("trials").unwrap_err().contains("`x`"));
    }
}
