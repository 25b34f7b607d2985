//! How big a failing run is: what a shrink reports before and after, and what its progress
//! bar shows.

use std::fmt;

use sim_core::config::Workload;

use crate::harness::RunReport;
use crate::{schedule, Scenario};

/// The size of a scenario's run at its seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// Entries of the explicit fault schedule (a partition with its `until` is one; for a
    /// run with a nemesis, of the schedule its plan is written as).
    pub faults: usize,
    /// Client operations the run issued.
    pub operations: usize,
    /// Events the run processed.
    pub events: u64,
    /// Simulated time the run lasted.
    pub sim_time_ns: u64,
    pub nodes: u32,
    /// Clients with at least one operation.
    pub clients: u32,
}

impl Size {
    /// The size of `s`'s run `r`.
    pub fn of(s: &Scenario, r: &RunReport) -> Size {
        let faults = if s.config.nemesis.is_some() {
            schedule::from_plan(&r.plan, s.config.duration).len()
        } else {
            schedule::from_engine(&s.config.faults).len()
        };
        let clients = match &s.config.clients.workload {
            Workload::Script { clients, .. } => {
                clients.iter().filter(|c| !c.ops.is_empty()).count() as u32
            }
            Workload::None => 0,
            _ => s.config.clients.count,
        };
        Size {
            faults,
            operations: r.history.len(),
            events: r.stats.events,
            sim_time_ns: r.sim_time_ns,
            nodes: s.config.node_count,
            clients,
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n =
            |count: u64, one: &str| format!("{count} {one}{}", if count == 1 { "" } else { "s" });
        write!(
            f,
            "{}, {}, {}, {} simulated",
            n(self.faults as u64, "fault"),
            n(self.operations as u64, "client operation"),
            n(self.events, "event"),
            sim_core::SimDuration(self.sim_time_ns)
        )
    }
}
