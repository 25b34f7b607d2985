//! The open protocol API: what a protocol declares beside [`Process`] so that scenario files,
//! the run harness and the CLI can use it by name — dsim's own protocols and a user's alike.
//!
//! A protocol is a [`Process`] (the per-node state machine) plus a [`Protocol`] impl: the name a
//! scenario's `protocol:` field uses, the services its clients may speak, its parameters (a
//! serde record, `deny_unknown_fields`), a validation of those parameters against the rest of
//! the scenario that points at the offending field ([`FieldError`]), a constructor, and the
//! checks it supplies. A check is a type too ([`CheckKind`] + [`Check`]): its scenario name, its
//! own parameters and a function over the run's result. Shared checks — linearizability,
//! liveness after heal, convergence — are implemented once (in [`crate::check`]) for every
//! protocol that provides what they read, so a protocol lists them like its own.
//!
//! Nothing here knows a file format: the `scenarios` crate resolves names and parses parameters
//! (RON) through a registry built from these traits, and builds a statically typed
//! `Simulation<P>` per protocol, so no event pays for dynamic dispatch.

use std::fmt::Debug;
use std::ops::RangeInclusive;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::check::CheckResult;
use crate::{NodeId, Process, RunResult, Service, SimConfig};

/// A protocol that scenarios can name: dsim's own or a user's.
///
/// ```text
/// impl Protocol for Chain {
///     const NAME: &'static str = "ChainReplication";
///     const CLI_NAME: &'static str = "chain";
///     const SUMMARY: &'static str = "chain replication (van Renesse & Schneider, OSDI 2004)";
///     const SERVICES: &'static [Service] = &[Service::KeyValue];
///     type Params = Params;
///     fn new_node(id: NodeId, params: &Params) -> Chain { Chain::new(id, params) }
///     fn checks(list: &mut impl CheckList<Self>) {
///         list.add::<Linearizable>();
///         list.add::<AckedOnEveryReplica>();
///     }
/// }
/// ```
pub trait Protocol: Process {
    /// The name a scenario's `protocol:` field uses: `Chain` in `protocol: Chain(...)`.
    const NAME: &'static str;
    /// The lower-case name command-line options use (`dsim cap --protocols chain`).
    const CLI_NAME: &'static str;
    /// One line for `dsim list`.
    const SUMMARY: &'static str;
    /// The client services it serves (a workload must speak one of them).
    const SERVICES: &'static [Service];
    /// The cluster sizes it runs on, in bounded time and memory: a scenario with another
    /// `nodes` is rejected (pointing at `nodes`, naming this range). The default is every size
    /// the scenario format allows; a protocol whose nodes keep per-peer state, or whose leader
    /// sends to every other node on every heartbeat, costs the square of the cluster size and
    /// declares a ceiling (Raft: `1..=1000`), one that needs a coordinator and a participant
    /// a floor (two-phase commit: `2..=...`).
    const NODE_COUNT: RangeInclusive<u32> = 1..=u32::MAX;
    /// The situations the protocol marks with [`Context::reached`](crate::Context::reached)
    /// or [`Context::sometimes`](crate::Context::sometimes): the ones its correctness argument
    /// depends on. A sweep's coverage table names each one no seed reached, and a scenario's
    /// `expect_reached` may name any of them (or of [`crate::coverage::engine::ALL`]).
    const SITUATIONS: &'static [&'static str] = &[];
    /// The protocol's parameters, as the scenario writes them inside `NAME(...)`. Use
    /// `#[serde(deny_unknown_fields)]`, so that a misspelt parameter is an error.
    type Params: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Builds the process of node `id`: at the start of a run and after every restart (then
    /// [`Process::on_recover`] follows).
    fn new_node(id: NodeId, params: &Self::Params) -> Self;

    /// Checks `params` against the rest of the scenario (already valid on its own). An error
    /// names the offending field, relative to the parameters (`"heartbeat"`) or, through
    /// [`FieldError::in_scenario`], anywhere in the scenario (`"clocks.drift_ppm_max"`).
    fn validate(params: &Self::Params, config: &SimConfig) -> Result<(), FieldError> {
        let _ = (params, config);
        Ok(())
    }

    /// The checks a scenario running this protocol may list, in the order `dsim list` shows.
    fn checks(list: &mut impl CheckList<Self>);

    /// Parameters for running this protocol on another protocol's scenario (`dsim cap`), if
    /// it has sensible defaults.
    fn default_params() -> Option<Self::Params> {
        None
    }

    /// The few words a space-time diagram marks on the node's lane for an observation that
    /// matters to a reader — a leader elected, a term change, a commit index, a decision — or
    /// `None` for the rest (the default: no markers).
    fn marker(observation: &Self::Observation) -> Option<String> {
        let _ = observation;
        None
    }
}

/// A rule a protocol's (or a check's) parameters break, located by its field path.
///
/// Paths use the scenario's own notation: `name` for a field, `[i]` for a list element, `.i`
/// for a positional value (`reads.0`). The `scenarios` crate turns the path into
/// `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field, relative to the parameters validated (`""`: the parameters as a whole),
    /// unless `in_scenario`.
    pub path: String,
    /// Whether `path` starts at the scenario's root (`clocks.drift_ppm_max`).
    pub in_scenario: bool,
    /// Lowercase, with values in backticks.
    pub message: String,
    pub hint: Option<String>,
}

impl FieldError {
    /// An error at `path` inside the parameters being validated.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            in_scenario: false,
            message: message.into(),
            hint: None,
        }
    }

    /// An error at `path` from the scenario's root (another part of the scenario conflicts
    /// with the parameters).
    pub fn in_scenario(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            in_scenario: true,
            ..FieldError::new(path, message)
        }
    }

    /// Adds a hint: what to write instead.
    pub fn hint(mut self, hint: impl Into<String>) -> FieldError {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "`{}`: {}", self.path, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldError {}

/// Validation rules every protocol and check shares, worded alike everywhere.
///
/// `prefix` is the path of the value being validated as the scenario writes it (`protocol`,
/// `checks[2]`); it appears in the message, while the error's path stays relative to it.
pub mod rules {
    use super::FieldError;
    use crate::SimDuration;

    /// The longest duration a scenario may state: 365 days. Sums of a few stay far from
    /// overflow.
    pub const DURATION_MAX: SimDuration = SimDuration::from_secs(365 * 24 * 3600);

    /// `prefix.field`, or `field` alone when `prefix` is empty.
    pub fn shown(prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        }
    }

    /// A duration no longer than [`DURATION_MAX`].
    pub fn duration(prefix: &str, field: &str, d: SimDuration) -> Result<(), FieldError> {
        if d > DURATION_MAX {
            let path = shown(prefix, field);
            return Err(FieldError::new(
                field,
                format!("duration `{d}` for `{path}` is longer than the limit `{DURATION_MAX}`"),
            )
            .hint("durations are at most 365 days"));
        }
        Ok(())
    }

    /// A duration above zero and no longer than [`DURATION_MAX`].
    pub fn positive(prefix: &str, field: &str, d: SimDuration) -> Result<(), FieldError> {
        duration(prefix, field, d)?;
        if d == SimDuration::ZERO {
            let path = shown(prefix, field);
            return Err(
                FieldError::new(field, format!("`{path}` is `0`; it must be positive"))
                    .hint("write e.g. `\"100ms\"`"),
            );
        }
        Ok(())
    }

    /// A probability in `[0, 1]`.
    pub fn probability(prefix: &str, field: &str, p: f64) -> Result<(), FieldError> {
        if !(0.0..=1.0).contains(&p) {
            let path = shown(prefix, field);
            return Err(FieldError::new(
                field,
                format!("probability `{p}` for `{path}` is outside `[0, 1]`"),
            )
            .hint("a probability is a float from `0.0` (never) to `1.0` (always)"));
        }
        Ok(())
    }
}

/// What a check's validation may consult: the scenario and the protocol it runs on.
#[derive(Clone, Copy, Debug)]
pub struct CheckContext<'a> {
    /// The check's entry as the scenario writes it (`checks[2]`), for messages.
    pub path: &'a str,
    pub config: &'a SimConfig,
    /// The protocol's [`Protocol::NAME`].
    pub protocol: &'static str,
    /// The protocol's [`Protocol::SERVICES`].
    pub services: &'static [Service],
}

/// A check's identity and parameters, independent of the protocol it runs on.
pub trait CheckKind: 'static {
    /// The name in reports, `expect: Violation([...])` and `--check`: lowercase words joined
    /// by `-` (`election-safety`). A scenario lists the check by the same words in
    /// UpperCamelCase (`ElectionSafety()`): see [`variant_name`].
    const NAME: &'static str;
    /// One line for `dsim list`.
    const SUMMARY: &'static str;
    /// The check's parameters inside `Variant(...)`; [`NoParams`] for none.
    type Params: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Whether a failure seen in a run cut short is a failure of the whole run — a safety
    /// property (two leaders in a term, a non-linearizable history). The shrinker then tries
    /// ending a failing run early. A check judged on how a run ends (convergence after the
    /// heal, liveness) leaves it `false`: a run cut short would fail it for the wrong reason.
    const PREFIX_CLOSED: bool = false;

    /// Checks the parameters against the scenario; paths are relative to the check's entry.
    fn validate(params: &Self::Params, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        let _ = (params, cx);
        Ok(())
    }
}

/// A check that can judge a run of protocol `P`.
pub trait Check<P: Protocol>: CheckKind {
    /// Judges one finished run. The result's name is [`CheckKind::NAME`].
    fn run(params: &Self::Params, input: &CheckInput<'_, P>) -> CheckResult;
}

/// What a check reads: the run's result, the protocol's parameters and the scenario — and
/// the [`Memo`](crate::check::Memo) the run's checks share, for work several of them would
/// repeat.
pub struct CheckInput<'a, P: Protocol> {
    pub result: &'a RunResult<P::Observation>,
    pub params: &'a P::Params,
    pub config: &'a SimConfig,
    pub memo: crate::check::Memo,
}

/// Where a protocol lists its checks (see [`Protocol::checks`]); the registry implements it.
pub trait CheckList<P: Protocol> {
    /// Adds check `C`.
    fn add<C: Check<P>>(&mut self);
}

/// The parameters of a check that takes none: written `Name()` in a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// The scenario spelling of a check name: `election-safety` → `ElectionSafety`.
pub fn variant_name(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// The names of the checks `P` supplies, in its order.
pub fn check_names<P: Protocol>() -> Vec<&'static str> {
    struct Names(Vec<&'static str>);
    impl<P: Protocol> CheckList<P> for Names {
        fn add<C: Check<P>>(&mut self) {
            self.0.push(C::NAME);
        }
    }
    let mut names = Names(Vec::new());
    P::checks(&mut names);
    names.0
}

/// Declares a check without parameters whose verdict is a function of the run's result:
///
/// ```text
/// sim_core::check_from_fn!(
///     /// Every acknowledged write is on every replica.
///     pub AckedOnEveryReplica, "acked-on-every-replica", "every acknowledged write is on every replica",
///     Chain, check_acked_on_every_replica
/// );
/// ```
///
/// expands to a unit struct implementing [`CheckKind`] (with [`NoParams`]) and
/// [`Check<Chain>`](Check), whose `run` calls `check_acked_on_every_replica(input.result)`.
///
/// Written `check_from_fn!(safety: ...)`, the check is a safety property
/// ([`CheckKind::PREFIX_CLOSED`]).
#[macro_export]
macro_rules! check_from_fn {
    (@impl $closed:literal, $(#[$meta:meta])* $vis:vis $ty:ident, $name:literal, $summary:literal, $protocol:ty, $f:path) => {
        $(#[$meta])*
        $vis struct $ty;

        impl $crate::protocol::CheckKind for $ty {
            const NAME: &'static str = $name;
            const SUMMARY: &'static str = $summary;
            type Params = $crate::protocol::NoParams;
            const PREFIX_CLOSED: bool = $closed;
        }

        impl $crate::protocol::Check<$protocol> for $ty {
            fn run(
                _: &$crate::protocol::NoParams,
                input: &$crate::protocol::CheckInput<'_, $protocol>,
            ) -> $crate::check::CheckResult {
                $f(input.result)
            }
        }
    };
    (safety: $($rest:tt)*) => {
        $crate::check_from_fn!(@impl true, $($rest)*);
    };
    ($($rest:tt)*) => {
        $crate::check_from_fn!(@impl false, $($rest)*);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_camel_case_the_words() {
        assert_eq!(variant_name("election-safety"), "ElectionSafety");
        assert_eq!(variant_name("linearizable"), "Linearizable");
        assert_eq!(variant_name("no-lost-writes"), "NoLostWrites");
    }

    #[test]
    fn field_errors_say_where() {
        let e = FieldError::new("heartbeat", "too long").hint("shorter");
        assert!(!e.in_scenario);
        assert_eq!(e.to_string(), "`heartbeat`: too long (hint: shorter)");
        let s = FieldError::in_scenario("clocks.drift_ppm_max", "too much");
        assert!(s.in_scenario);
        assert_eq!(s.hint, None);
    }
}
