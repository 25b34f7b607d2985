//! Simulated clients: network endpoints that issue the workload's requests and record the
//! history.
//!
//! Each client runs one request at a time. It picks a node by the target policy, records the
//! invocation, and waits for the reply or its timeout. A reply completes the operation (`ok`,
//! or `fail` for a definite refusal); a timeout records it as `unknown` — it may still take
//! effect — and a late reply to it is ignored. Each client draws from its own random stream.

use crate::config::{ClientConfig, TargetPolicy, Workload};
use crate::history::{History, Operation, Outcome};
use crate::rng::{SimRng, StreamLabel};
use crate::{ClientId, NodeId, Request, RequestId, Response, SimDuration, SimTime};

struct ClientState {
    rng: SimRng,
    next_request: RequestId,
    issued: u32,
    /// The outstanding request and its index in the history.
    outstanding: Option<(RequestId, usize)>,
    next_target: u32,
}

pub(crate) struct Clients {
    cfg: ClientConfig,
    node_count: u32,
    stop: SimTime,
    states: Vec<ClientState>,
    pub(crate) history: History,
}

/// What a client wants to send now.
pub(crate) struct Issue {
    pub(crate) node: NodeId,
    pub(crate) request_id: RequestId,
    pub(crate) request: Request,
    pub(crate) timeout: SimDuration,
}

impl Clients {
    pub(crate) fn new(seed: u64, cfg: &ClientConfig, node_count: u32, fault_phase_end: SimDuration) -> Clients {
        let count = if cfg.workload == Workload::None { 0 } else { cfg.count };
        let states = (0..count)
            .map(|i| ClientState {
                rng: SimRng::new(seed, StreamLabel::Client(i)),
                next_request: 1,
                issued: 0,
                outstanding: None,
                next_target: i % node_count.max(1),
            })
            .collect();
        Clients {
            cfg: cfg.clone(),
            node_count,
            stop: SimTime(cfg.stop.unwrap_or(fault_phase_end).0),
            states,
            history: History::default(),
        }
    }

    pub(crate) fn count(&self) -> u32 {
        self.states.len() as u32
    }

    /// When each client first acts: staggered over one interval so they do not move in step.
    pub(crate) fn first_ticks(&mut self) -> Vec<(ClientId, SimTime)> {
        let spread = match self.cfg.workload {
            Workload::Broadcast { interval, .. } => interval.0.max(1),
            Workload::None => 1,
        };
        self.states
            .iter_mut()
            .enumerate()
            .map(|(i, s)| (ClientId(i as u32), SimTime(s.rng.below(spread))))
            .collect()
    }

    /// The client's next request, if it should issue one now.
    pub(crate) fn tick(&mut self, c: ClientId, now: SimTime) -> Option<Issue> {
        let node_count = self.node_count;
        let s = &mut self.states[c.index()];
        if s.outstanding.is_some() || now >= self.stop {
            return None;
        }
        let request = match self.cfg.workload {
            Workload::None => return None,
            Workload::Broadcast { ops_per_client, .. } => {
                if s.issued >= ops_per_client {
                    return None;
                }
                // Unique across clients: client id in the high half.
                Request::Broadcast { value: (u64::from(c.0) + 1) << 32 | u64::from(s.issued + 1) }
            }
        };
        let node = match self.cfg.target {
            TargetPolicy::Random => NodeId(s.rng.below(u64::from(node_count)) as u32),
            TargetPolicy::Fixed(n) => n,
            TargetPolicy::RoundRobin => {
                let n = s.next_target;
                s.next_target = (n + 1) % node_count;
                NodeId(n)
            }
        };
        let request_id = s.next_request;
        s.next_request += 1;
        s.issued += 1;
        s.outstanding = Some((request_id, self.history.ops.len()));
        self.history.ops.push(Operation {
            client: c,
            request_id,
            node,
            request: request.clone(),
            invoke: now,
            completion: None,
        });
        Some(Issue { node, request_id, request, timeout: self.cfg.timeout })
    }

    /// A reply arrived. Returns the outcome recorded and when the client acts next, or `None`
    /// if the reply was stale (its request had timed out or was already answered).
    pub(crate) fn on_reply(&mut self, c: ClientId, request_id: RequestId, response: Response, now: SimTime) -> Option<(Outcome, SimTime)> {
        let s = &mut self.states[c.index()];
        let (id, index) = s.outstanding?;
        if id != request_id {
            return None;
        }
        s.outstanding = None;
        let outcome = match response {
            Response::Fail | Response::Redirect { .. } | Response::Unsupported => Outcome::Fail,
            r => Outcome::Ok(r),
        };
        self.history.ops[index].completion = Some((now, outcome.clone()));
        Some((outcome, now + self.pause()))
    }

    /// A request's timeout fired. Returns when the client acts next, or `None` if the request
    /// had already completed.
    pub(crate) fn on_timeout(&mut self, c: ClientId, request_id: RequestId, now: SimTime) -> Option<SimTime> {
        let s = &mut self.states[c.index()];
        let (id, index) = s.outstanding?;
        if id != request_id {
            return None;
        }
        s.outstanding = None;
        self.history.ops[index].completion = Some((now, Outcome::Unknown));
        Some(now + self.pause())
    }

    fn pause(&self) -> SimDuration {
        match self.cfg.workload {
            Workload::Broadcast { interval, .. } => interval,
            Workload::None => SimDuration::ZERO,
        }
    }
}
