//! The registry: the protocols (and the checks each supplies) that scenario files may name.
//!
//! Built once — `protocols::builtin()` for dsim's own, plus `.with::<MyProtocol>()` for a
//! user's — and then read by parsing (to resolve `protocol: Name(...)` and `checks: [...]` and
//! deserialize their parameters), by validation, by `dsim list` and `dsim cap`. Each entry is a
//! [`Protocol`] type turned into function values once, at registration, so that everything
//! downstream is protocol-blind while every run still builds a statically typed
//! `Simulation<P>` (see `harness`): the dynamic dispatch is per run, never per event.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ron::error::SpannedError;
use sim_core::protocol::{
    check_names, variant_name, Check, CheckContext, CheckInput, CheckKind, CheckList, FieldError,
};
use sim_core::{Protocol, RunResult, Service, SimConfig};

use crate::harness::{self, PreparedRun, RunOptions};
use crate::Scenario;

/// Type-erased parameters (a protocol's or a check's).
pub type Erased = Arc<dyn Any + Send + Sync>;
/// Writes erased parameters back as RON.
pub(crate) type WriteFn = fn(&dyn Any) -> String;
/// Compares two erased parameters of one type.
pub(crate) type EqFn = fn(&dyn Any, &dyn Any) -> bool;

/// What `dsim list` and error hints say about a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckInfo {
    /// `election-safety`: reports, `expect`, `--check`.
    pub name: &'static str,
    /// `ElectionSafety`: how a scenario lists it.
    pub variant: String,
    pub summary: &'static str,
    /// [`CheckKind::PREFIX_CLOSED`]: a safety property.
    pub prefix_closed: bool,
}

/// What `dsim list` and error hints say about a protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolInfo {
    pub name: &'static str,
    pub cli_name: &'static str,
    pub summary: &'static str,
    pub services: &'static [Service],
    /// The cluster sizes it runs on ([`Protocol::NODE_COUNT`]).
    pub node_count: std::ops::RangeInclusive<u32>,
    pub checks: Vec<CheckInfo>,
    /// The situations it marks for coverage ([`Protocol::SITUATIONS`]).
    pub situations: &'static [&'static str],
}

impl ProtocolInfo {
    /// The names of its checks, in its order.
    pub fn check_names(&self) -> Vec<&'static str> {
        self.checks.iter().map(|c| c.name).collect()
    }

    /// The check whose scenario spelling is `variant`.
    pub fn check_by_variant(&self, variant: &str) -> Option<usize> {
        self.checks.iter().position(|c| c.variant == variant)
    }
}

/// One registered protocol, its type erased (see [`Entry`]).
pub(crate) trait DynProtocol: Send + Sync {
    fn info(&self) -> &ProtocolInfo;
    fn parse_params(&self, text: &str) -> Result<Erased, SpannedError>;
    fn validate(&self, params: &dyn Any, config: &SimConfig) -> Result<(), FieldError>;
    fn default_params(&self) -> Option<Erased>;
    fn write_params(&self, params: &dyn Any) -> String;
    fn params_eq(&self, a: &dyn Any, b: &dyn Any) -> bool;
    fn parse_check(&self, check: usize, text: &str) -> Result<Erased, SpannedError>;
    fn validate_check(
        &self,
        check: usize,
        params: &dyn Any,
        cx: &CheckContext<'_>,
    ) -> Result<(), FieldError>;
    /// How check `check` writes and compares its parameters.
    fn check_fns(&self, check: usize) -> (WriteFn, EqFn);
    fn prepare<'s>(&self, scn: &'s Scenario, opts: RunOptions) -> Box<dyn PreparedRun + 's>;
}

/// The RON options every scenario (and every parameter record in it) is read with: optional
/// fields take a bare value or `Some(...)`, and a variant wrapping a record is written
/// `Lease(drift_ppm: 100)`, not `Lease((drift_ppm: 100))`.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_default_extension(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES)
}

fn parse<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    text: &str,
) -> Result<Erased, SpannedError> {
    let value: T = ron_options().from_str(text)?;
    Ok(Arc::new(value))
}

/// A record written back as RON on one line, without its type name: `(a: 1, b: "2s")`.
fn write<T: serde::Serialize>(value: &T) -> String {
    // Optional values bare (`within: "3s"`, not `within: Some("3s")`), as a scenario writes
    // them: scenarios are read with implicit `Some`.
    let config = ron::ser::PrettyConfig::new()
        .compact_structs(true)
        .compact_arrays(true)
        .compact_maps(true)
        .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
    match ron::ser::to_string_pretty(value, config) {
        // The serializer states the extension in a header the scenario does not need.
        Ok(s) => match s.strip_prefix("#![enable(") {
            Some(rest) => rest
                .split_once('\n')
                .map_or(s.clone(), |(_, r)| r.to_string()),
            None => s,
        },
        Err(e) => format!("(/* cannot write: {e} */)"),
    }
}

fn cast<T: 'static>(value: &dyn Any) -> &T {
    value
        .downcast_ref::<T>()
        .expect("parameters of the registered type (a registry bug otherwise)")
}

/// One check of protocol `P`, as function values.
pub(crate) struct CheckImpl<P: Protocol> {
    pub(crate) info: CheckInfo,
    pub(crate) parse: fn(&str) -> Result<Erased, SpannedError>,
    pub(crate) validate: fn(&dyn Any, &CheckContext<'_>) -> Result<(), FieldError>,
    pub(crate) run: fn(&dyn Any, &CheckInput<'_, P>) -> sim_core::check::CheckResult,
    pub(crate) write: WriteFn,
    pub(crate) eq: EqFn,
}

struct Collect<P: Protocol>(Vec<CheckImpl<P>>);

impl<P: Protocol> CheckList<P> for Collect<P> {
    fn add<C: Check<P>>(&mut self) {
        assert!(
            self.0.iter().all(|c| c.info.name != C::NAME),
            "protocol `{}` lists the check `{}` twice",
            P::NAME,
            C::NAME
        );
        self.0.push(CheckImpl {
            info: CheckInfo {
                name: C::NAME,
                variant: variant_name(C::NAME),
                summary: C::SUMMARY,
                prefix_closed: C::PREFIX_CLOSED,
            },
            parse: parse::<C::Params>,
            validate: |p, cx| C::validate(cast::<C::Params>(p), cx),
            run: |p, input| C::run(cast::<C::Params>(p), input),
            write: |p| write(cast::<C::Params>(p)),
            eq: |a, b| cast::<C::Params>(a) == cast::<C::Params>(b),
        });
    }
}

/// Protocol `P` behind [`DynProtocol`].
pub(crate) struct Entry<P: Protocol> {
    info: ProtocolInfo,
    pub(crate) checks: Vec<CheckImpl<P>>,
}

impl<P: Protocol> Entry<P> {
    pub(crate) fn new() -> Entry<P> {
        let mut checks = Collect::<P>(Vec::new());
        P::checks(&mut checks);
        let checks = checks.0;
        Entry {
            info: ProtocolInfo {
                name: P::NAME,
                cli_name: P::CLI_NAME,
                summary: P::SUMMARY,
                services: P::SERVICES,
                node_count: P::NODE_COUNT,
                checks: checks.iter().map(|c| c.info.clone()).collect(),
                situations: P::SITUATIONS,
            },
            checks,
        }
    }

    /// Runs every check of `scn` on `result`.
    pub(crate) fn run_checks(
        &self,
        scn: &Scenario,
        params: &P::Params,
        result: &RunResult<P::Observation>,
    ) -> Vec<sim_core::check::CheckResult> {
        let input = CheckInput {
            result,
            params,
            config: &scn.config,
            memo: sim_core::check::Memo::new(),
        };
        scn.checks
            .iter()
            .map(
                |spec| match self.checks.iter().find(|c| c.info.name == spec.name) {
                    Some(c) => (c.run)(spec.params.as_ref(), &input),
                    None => sim_core::check::CheckResult::new(
                        spec.name,
                        sim_core::check::Verdict::Unknown,
                        format!("not available for protocol `{}`", P::NAME),
                    ),
                },
            )
            .collect()
    }
}

impl<P: Protocol> DynProtocol for Entry<P> {
    fn info(&self) -> &ProtocolInfo {
        &self.info
    }
    fn parse_params(&self, text: &str) -> Result<Erased, SpannedError> {
        parse::<P::Params>(text)
    }
    fn validate(&self, params: &dyn Any, config: &SimConfig) -> Result<(), FieldError> {
        P::validate(cast::<P::Params>(params), config)
    }
    fn default_params(&self) -> Option<Erased> {
        P::default_params().map(|p| Arc::new(p) as Erased)
    }
    fn write_params(&self, params: &dyn Any) -> String {
        write(cast::<P::Params>(params))
    }
    fn params_eq(&self, a: &dyn Any, b: &dyn Any) -> bool {
        cast::<P::Params>(a) == cast::<P::Params>(b)
    }
    fn parse_check(&self, check: usize, text: &str) -> Result<Erased, SpannedError> {
        (self.checks[check].parse)(text)
    }
    fn validate_check(
        &self,
        check: usize,
        params: &dyn Any,
        cx: &CheckContext<'_>,
    ) -> Result<(), FieldError> {
        (self.checks[check].validate)(params, cx)
    }
    fn check_fns(&self, check: usize) -> (WriteFn, EqFn) {
        (self.checks[check].write, self.checks[check].eq)
    }
    fn prepare<'s>(&self, scn: &'s Scenario, opts: RunOptions) -> Box<dyn PreparedRun + 's> {
        harness::prepare_typed::<P>(scn, opts, |scn, params, result| {
            Entry::<P>::new().run_checks(scn, params, result)
        })
    }
}

/// The protocols a scenario may name, and the benchmarks they bring. Cheap to clone
/// (entries are shared).
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Arc<dyn DynProtocol>>,
    benches: Vec<crate::bench::Bench>,
    scenario_dirs: Vec<std::path::PathBuf>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| e.info().name))
            .finish()
    }
}

impl Registry {
    /// A registry with no protocols (see `protocols::builtin()` for dsim's own).
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds protocol `P`. Panics if its name (or CLI name) is taken or is not an identifier:
    /// a registry is built by code, so that is a programming error, not bad input.
    pub fn with<P: Protocol>(mut self) -> Registry {
        assert!(
            is_identifier(P::NAME),
            "protocol name `{}` is not an identifier (letters, digits, `_`)",
            P::NAME
        );
        for e in &self.entries {
            let i = e.info();
            assert!(
                i.name != P::NAME && i.cli_name != P::CLI_NAME,
                "protocol `{}` (`{}`) is registered twice",
                P::NAME,
                P::CLI_NAME
            );
        }
        for name in check_names::<P>() {
            assert!(
                !name.is_empty()
                    && name.split('-').all(|w| !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "check name `{name}` of protocol `{}` is not lowercase words joined by `-`",
                P::NAME
            );
        }
        self.entries.push(Arc::new(Entry::<P>::new()));
        self
    }

    /// Adds a benchmark the CLI runs as `dsim bench <name>`. Panics if the name is taken.
    pub fn with_bench(mut self, bench: crate::bench::Bench) -> Registry {
        assert!(
            self.benches.iter().all(|b| b.name != bench.name),
            "benchmark `{}` is registered twice",
            bench.name
        );
        self.benches.push(bench);
        self
    }

    /// Adds a folder of scenario files (`DIR/*.ron` and `DIR/<family>/*.ron`) that `dsim list`
    /// shows beside dsim's shipped ones — a user's binary names its own scenarios here.
    pub fn with_scenarios(mut self, dir: impl Into<std::path::PathBuf>) -> Registry {
        self.scenario_dirs.push(dir.into());
        self
    }

    /// The folders added with [`Registry::with_scenarios`], in registration order.
    pub fn scenario_dirs(&self) -> &[std::path::PathBuf] {
        &self.scenario_dirs
    }

    /// The benchmarks protocols brought, in registration order.
    pub fn benches(&self) -> &[crate::bench::Bench] {
        &self.benches
    }

    /// Every protocol, in registration order.
    pub fn protocols(&self) -> impl Iterator<Item = &ProtocolInfo> {
        self.entries.iter().map(|e| e.info())
    }

    /// The names a scenario's `protocol:` may use, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.protocols().map(|p| p.name).collect()
    }

    pub(crate) fn entry(&self, name: &str) -> Option<&Arc<dyn DynProtocol>> {
        self.entries.iter().find(|e| e.info().name == name)
    }

    /// The protocol whose scenario name or CLI name is `name` (any case).
    pub fn find(&self, name: &str) -> Option<&ProtocolInfo> {
        self.find_entry(name).map(|e| e.info())
    }

    fn find_entry(&self, name: &str) -> Option<&Arc<dyn DynProtocol>> {
        self.entries.iter().find(|e| {
            let i = e.info();
            i.name.eq_ignore_ascii_case(name) || i.cli_name.eq_ignore_ascii_case(name)
        })
    }

    /// Protocol `name` (scenario or CLI name) with its default parameters, if it has them.
    pub fn default_spec(&self, name: &str) -> Option<ProtocolSpec> {
        let entry = self.find_entry(name)?;
        let params = entry.default_params()?;
        Some(ProtocolSpec {
            entry: Arc::clone(entry),
            params,
        })
    }

    /// Every check name some registered protocol supplies, first appearance first.
    pub fn check_names(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in self.protocols() {
            for c in &p.checks {
                if !out.contains(&c.name) {
                    out.push(c.name);
                }
            }
        }
        out
    }

    /// Reads and validates a scenario file (see [`crate::load`]).
    pub fn load(&self, path: &std::path::Path) -> Result<Scenario, crate::ScenarioError> {
        crate::load(path, self)
    }

    /// Parses and validates scenario text (see [`crate::parse`]).
    pub fn parse(&self, text: &str, file: &str) -> Result<Scenario, crate::ScenarioError> {
        crate::parse(text, file, self)
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// A scenario's protocol with its parameters: which registered protocol, and its `Params`.
#[derive(Clone)]
pub struct ProtocolSpec {
    pub(crate) entry: Arc<dyn DynProtocol>,
    pub(crate) params: Erased,
}

impl ProtocolSpec {
    /// Protocol `P` with `params` (needs no registry).
    pub fn new<P: Protocol>(params: P::Params) -> ProtocolSpec {
        ProtocolSpec {
            entry: Arc::new(Entry::<P>::new()),
            params: Arc::new(params),
        }
    }

    /// The protocol's scenario name.
    pub fn name(&self) -> &'static str {
        self.entry.info().name
    }

    pub fn info(&self) -> &ProtocolInfo {
        self.entry.info()
    }

    /// The parameters, if this is protocol `P`.
    pub fn params<P: Protocol>(&self) -> Option<&P::Params> {
        if self.name() != P::NAME {
            return None;
        }
        self.params.downcast_ref::<P::Params>()
    }

    /// The parameters as the scenario writes them: `Chain(length: 3, ...)`.
    pub fn to_ron(&self) -> String {
        format!(
            "{}{}",
            self.name(),
            self.entry.write_params(self.params.as_ref())
        )
    }
}

impl fmt::Debug for ProtocolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ron())
    }
}

impl fmt::Display for ProtocolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ron())
    }
}

impl PartialEq for ProtocolSpec {
    fn eq(&self, other: &ProtocolSpec) -> bool {
        self.name() == other.name()
            && self
                .entry
                .params_eq(self.params.as_ref(), other.params.as_ref())
    }
}

/// A check the scenario asks for, with its parameters.
#[derive(Clone)]
pub struct CheckSpec {
    /// `election-safety`.
    pub name: &'static str,
    pub(crate) params: Erased,
    /// Writes the parameters back as RON (`(within: "2s")`).
    pub(crate) write: WriteFn,
    pub(crate) eq: EqFn,
    /// [`CheckKind::PREFIX_CLOSED`]: a failure in a run cut short is a failure.
    pub prefix_closed: bool,
}

impl CheckSpec {
    /// Check `C` with `params` (needs no registry; the protocol must supply it to run it).
    pub fn new<C: CheckKind>(params: C::Params) -> CheckSpec {
        CheckSpec {
            name: C::NAME,
            params: Arc::new(params),
            write: |p| write(cast::<C::Params>(p)),
            eq: |a, b| cast::<C::Params>(a) == cast::<C::Params>(b),
            prefix_closed: C::PREFIX_CLOSED,
        }
    }

    /// The parameters, if this is check `C`.
    pub fn params<C: CheckKind>(&self) -> Option<&C::Params> {
        if self.name != C::NAME {
            return None;
        }
        self.params.downcast_ref::<C::Params>()
    }

    /// As the scenario writes it: `Liveness(within: "2s")`.
    pub fn to_ron(&self) -> String {
        format!(
            "{}{}",
            variant_name(self.name),
            (self.write)(self.params.as_ref())
        )
    }
}

impl fmt::Debug for CheckSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ron())
    }
}

impl PartialEq for CheckSpec {
    fn eq(&self, other: &CheckSpec) -> bool {
        self.name == other.name && (self.eq)(self.params.as_ref(), other.params.as_ref())
    }
}
