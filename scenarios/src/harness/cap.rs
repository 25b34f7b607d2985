//! Comparing protocols under one partition: the same scenario — same seed, clients and faults
//! — run once per protocol, each judged for linearizability, with its CAP report (availability
//! and latency per side of each partition window).

use sim_core::check::cap::CapReport;
use sim_core::check::{Linearizable, Verdict};
use sim_core::protocol::NoParams;

use super::panic::catch;
use super::{run, RunOptions};
use crate::registry::{CheckSpec, ProtocolSpec, Registry};
use crate::{Expect, Scenario};

/// One protocol's row.
#[derive(Clone, Debug)]
pub struct CapRow {
    /// The protocol's CLI name.
    pub protocol: String,
    /// The `linearizable` check's verdict on the whole run.
    pub linearizable: Verdict,
    /// Its first line.
    pub linearizable_detail: String,
    pub report: CapReport,
    pub ops: usize,
}

/// Why a comparison could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapError {
    /// No registered protocol has this name; the names it knows.
    UnknownProtocol(String, Vec<&'static str>),
    /// The protocol does not serve the scenario's workload (its service's name).
    WrongService(String, &'static str),
    /// The protocol has no default parameters to run another protocol's scenario with.
    NoDefaults(String),
    /// The protocol does not supply `linearizable`.
    NoLinearizable(String),
}

impl std::fmt::Display for CapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CapError::UnknownProtocol(n, known) => write!(
                f,
                "unknown protocol `{n}` in --protocols\n  hint: known protocols: {}",
                known.join(", ")
            ),
            CapError::WrongService(n, s) => write!(
                f,
                "protocol `{n}` does not serve the scenario's `{s}` workload\n  hint: dsim cap compares key-value protocols on a key-value workload"
            ),
            CapError::NoDefaults(n) => write!(
                f,
                "protocol `{n}` has no default parameters to run this scenario with\n  hint: name it in the scenario's `protocol:` field instead"
            ),
            CapError::NoLinearizable(n) => write!(
                f,
                "protocol `{n}` does not supply the `linearizable` check\n  hint: dsim cap compares linearizability and availability"
            ),
        }
    }
}

/// The protocol named `name` (scenario or CLI name) to run `scn` with: the scenario's own
/// parameters when it is the scenario's protocol, its defaults otherwise.
pub fn protocol_for(
    registry: &Registry,
    scn: &Scenario,
    name: &str,
) -> Result<ProtocolSpec, CapError> {
    let Some(info) = registry.find(name) else {
        let known = registry.protocols().map(|p| p.cli_name).collect();
        return Err(CapError::UnknownProtocol(name.to_string(), known));
    };
    if let Some(service) = scn.config.clients.workload.service() {
        if !info.services.contains(&service) {
            return Err(CapError::WrongService(name.to_string(), service.name()));
        }
    }
    if !info.check_names().contains(&"linearizable") {
        return Err(CapError::NoLinearizable(name.to_string()));
    }
    if info.name == scn.protocol.name() {
        return Ok(scn.protocol.clone());
    }
    registry
        .default_spec(name)
        .ok_or_else(|| CapError::NoDefaults(name.to_string()))
}

/// Every registered protocol that can run `scn` (in registration order): it serves the
/// scenario's workload, supplies `linearizable`, and is the scenario's protocol or has
/// default parameters.
pub fn eligible(registry: &Registry, scn: &Scenario) -> Vec<ProtocolSpec> {
    registry
        .protocols()
        .filter_map(|p| protocol_for(registry, scn, p.name).ok())
        .collect()
}

/// Runs `scn` with `protocol`, checking only linearizability, and reads its CAP report.
/// `Err` carries a simulation panic's message.
pub fn run_one(
    scn: &Scenario,
    protocol: ProtocolSpec,
    seed: Option<u64>,
) -> Result<CapRow, String> {
    let name = protocol.info().cli_name.to_string();
    let mut s = scn.clone();
    s.protocol = protocol;
    s.checks = vec![CheckSpec::new::<Linearizable>(NoParams {})];
    s.expect = Expect::Pass;
    let report = catch(|| {
        run(
            &s,
            RunOptions {
                seed,
                ..RunOptions::default()
            },
        )
    })?;
    let lin = &report.checks[0];
    Ok(CapRow {
        protocol: name,
        linearizable: lin.verdict,
        linearizable_detail: lin.detail.lines().next().unwrap_or("").to_string(),
        ops: report.history.len(),
        report: report.cap.unwrap_or_default(),
    })
}
