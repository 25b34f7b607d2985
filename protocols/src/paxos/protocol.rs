//! Multi-Paxos's registration: what a scenario names (`protocol: Paxos(...)`), the validation
//! of its parameters (field-located errors), and the checks it supplies.

use sim_core::check::{Linearizable, Liveness};
use sim_core::protocol::{CheckList, FieldError, Protocol};
use sim_core::{NodeId, Service, SimConfig};

use crate::kit;

use super::checks::Agreement;
use super::node::Paxos;
use super::params::Params;
use super::types::Observation;

impl Protocol for Paxos {
    const NAME: &'static str = "Paxos";
    const CLI_NAME: &'static str = "paxos";
    const SUMMARY: &'static str = "Multi-Paxos (stable leader, phase 1 once for all open slots, no-op gap filling, catch-up) replicating a key-value store";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    /// The leader sends every phase-2 message and decision to every node and each acceptor's
    /// `Accepted` is observed per slot: cost grows with the square of the cluster. A thousand
    /// nodes run 60 s of random faults in about 25 s and 1.1 GB.
    const NODE_COUNT: std::ops::RangeInclusive<u32> = 1..=1000;
    const SITUATIONS: &'static [&'static str] = super::situations::ALL;
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Paxos {
        Paxos::new(id, params)
    }

    fn validate(p: &Params, _: &SimConfig) -> Result<(), FieldError> {
        kit::timing::validate(
            "paxos",
            p.election_timeout_min,
            p.election_timeout_max,
            p.heartbeat,
        )?;
        if p.batch_max == 0 {
            return Err(FieldError::new(
                "batch_max",
                "paxos `batch_max` is `0`: a lagging node could never catch up",
            )
            .hint("leave it out for the default `64`, or give a positive count"));
        }
        if p.retransmit == Some(sim_core::SimDuration::ZERO) {
            return Err(FieldError::new(
                "retransmit",
                "paxos `retransmit` is `0`: every heartbeat would resend every `Accept`",
            )
            .hint("leave it out for two heartbeats, or give a duration longer than a round trip"));
        }
        p.validate().map_err(|e| FieldError::new("", e))
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<Agreement>();
        list.add::<Liveness>();
    }

    fn default_params() -> Option<Params> {
        Some(Params::default())
    }

    fn marker(o: &Observation) -> Option<String> {
        match o {
            Observation::BecameLeader { ballot } => Some(format!("leader {ballot}")),
            Observation::SteppedDown { ballot, seen } => {
                Some(format!("steps down ({ballot} < {seen})"))
            }
            Observation::Filled { slot, noop, .. } => Some(format!(
                "{} slot {slot}",
                if *noop { "no-op in" } else { "re-proposes" }
            )),
            Observation::Recovered { promised, .. } => Some(format!("recovered ({promised})")),
            _ => None,
        }
    }
}
