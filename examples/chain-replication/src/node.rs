//! The protocol as dsim sees it: [`Chain`], one node — the master or a server — as a
//! `sim_core::Process`, and its `sim_core::Protocol` registration (name, service, parameters,
//! validation, checks).

use sim_core::check::Linearizable;
use sim_core::protocol::{CheckList, FieldError, Protocol};
use sim_core::{ClientId, Context, NodeId, Process, Request, RequestId, Service, SimConfig};

use crate::master::Master;
use crate::msg::{Msg, Observation, Slot, Timer, MASTER};
use crate::server::Server;
use crate::{AckedOnEveryReplica, Params};

/// One node of a chain-replication cluster: node 0 is the master, the others servers.
pub enum Chain {
    Master(Master),
    Server(Box<Server>),
}

impl Process for Chain {
    type Msg = Msg;
    type Timer = Timer;
    type StoreKey = Slot;
    type StoreValue = u64;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        match self {
            Chain::Master(m) => m.start(ctx),
            Chain::Server(s) => s.start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (
                Chain::Master(m),
                Msg::Heartbeat {
                    incarnation,
                    epoch,
                    caught_up,
                },
            ) => m.on_heartbeat(ctx, from, (incarnation, epoch, caught_up)),
            (Chain::Server(s), Msg::Config(c)) if from == MASTER => s.on_config(ctx, c),
            (
                Chain::Server(s),
                Msg::Forward {
                    epoch,
                    first,
                    updates,
                    upto,
                    caught_up,
                },
            ) => s.on_forward(ctx, from, (epoch, first, updates), (upto, caught_up)),
            (Chain::Server(s), Msg::Snapshot(snapshot)) => s.on_snapshot(ctx, from, *snapshot),
            (
                Chain::Server(s),
                Msg::Ack {
                    epoch,
                    applied,
                    stable,
                    caught_up,
                },
            ) => s.on_ack(ctx, from, (epoch, applied, stable), caught_up),
            (_, msg) => ctx.annotate(|| format!("ignored {msg:?} from {from}: wrong role")),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match (self, timer) {
            (Chain::Master(m), Timer::Detect) => m.on_detect_timer(ctx),
            (Chain::Server(s), Timer::Heartbeat) => s.heartbeat(ctx),
            (Chain::Server(s), Timer::Resend) => s.on_resend_timer(ctx),
            (_, t) => panic!("{}: timer {t:?} of another role", ctx.id()),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        match self {
            Chain::Master(m) => m.on_client_request(ctx, client, request_id, request),
            Chain::Server(s) => s.on_client_request(ctx, client, request_id, request),
        }
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        match self {
            Chain::Master(_) => panic!("the master never fails (the failure model)"),
            Chain::Server(s) => s.recover(ctx),
        }
    }
}

impl Protocol for Chain {
    const NAME: &'static str = "ChainReplication";
    const CLI_NAME: &'static str = "chain";
    const SUMMARY: &'static str = "chain replication (van Renesse & Schneider, OSDI 2004): updates at the head, queries at the tail, a master (node 0) reconfigures";
    const SERVICES: &'static [Service] = &[Service::KeyValue];
    /// Node 0 is the master and the chain needs at least one server; the master heartbeats
    /// each server, so any larger size runs in linear cost.
    const NODE_COUNT: std::ops::RangeInclusive<u32> = 2..=u32::MAX;
    /// Marked by the master with `ctx.reached` (coverage: `dsim sweep`'s table).
    const SITUATIONS: &'static [&'static str] = &[
        crate::master::MEMBER_REMOVED,
        crate::master::MEMBER_RECRUITED,
        crate::master::CHAIN_LOST,
    ];
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Chain {
        if id == MASTER {
            Chain::Master(Master::new(params))
        } else {
            Chain::Server(Box::new(Server::new(id, params)))
        }
    }

    fn validate(params: &Params, config: &SimConfig) -> Result<(), FieldError> {
        params.check(config)
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Linearizable>();
        list.add::<AckedOnEveryReplica>();
    }
}
