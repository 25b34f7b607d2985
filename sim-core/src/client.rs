//! Simulated clients: network endpoints that issue the workload's requests and record the
//! history.
//!
//! Each client has at most one request in flight. It picks a node by the target policy,
//! records the invocation, and waits for the reply or its timeout. A reply completes the
//! operation (`ok`, or `fail` for a definite refusal); a timeout resends the same request up to
//! `retries` times (same request id, each attempt with a fresh timeout) and then records it as
//! `unknown` — it may still take effect — and a late reply to it is ignored. Each client draws
//! from its own random stream, so adding a client does not change what the others do.
//!
//! # Closed and open loop
//!
//! Closed loop (the default): a client's next request follows the completion of the previous
//! one after the workload's `interval`. Open loop (`rate`): requests *arrive* at the client at
//! `rate` per second (exponential gaps), independent of how fast they are served; an arrival
//! while a request is in flight waits in the client's queue and is sent as soon as that request
//! completes or times out, so a slow or unavailable service faces the same offered load as a
//! fast one. The history records an operation's invocation when it is sent.
//!
//! # Workloads
//!
//! - `Broadcast`: fresh unique values, one after another.
//! - `KeyValue`: gets, puts, compare-and-sets and appends on keys `0..keys`, mixed by integer
//!   weights. Every value a client writes (a put's value, a cas's new value, an appended
//!   value) is unique across the run —
//!   `(client + 1) << 32 | n`, `n` counting the client's requests from 1 — so that a read names
//!   the one write it observed and histories stay checkable. A cas expects the value the client
//!   last saw for its key (through its own reads and successful writes; absent if it has seen
//!   none), so under concurrent writers some cas succeed and some fail.
//!
//! - `Transactions`: atomic multi-key increments, keys drawn by [`crate::txn::draw`].
//!
//! # Leader finding
//!
//! A node that cannot serve a request answers `Redirect { leader }`. The client then resends
//! the *same* request — same request id, so the service can recognise a retry — to `leader`,
//! or, when the node does not know one, to the next node after it in round-robin order. The
//! history records the node the request was last sent to. Only a redirect from that node is
//! followed (a redirect from a node the request was sent to earlier is stale and ignored).
//! After [`REDIRECTS_MAX`] redirects the client gives up and records the operation as
//! `unknown`, not `fail`: a redirect only says that the node which sent it did not take *that*
//! copy of the request, while a delayed or duplicated copy sent earlier may still reach a
//! leader and commit (seen with Raft under the nemesis). The timeout still runs from the first
//! send, so a request redirected back and forth ends `unknown` at the same time as any other.

use std::collections::BTreeMap;

use crate::config::{ClientConfig, ScriptedRequest, TargetPolicy, Workload};
use crate::history::{History, Operation, Outcome};
use crate::rng::{SimRng, StreamLabel};
use crate::script;
use crate::{ClientId, Key, NodeId, Request, RequestId, Response, SimDuration, SimTime, Value};

/// Most redirects one request follows; the next one ends it as `unknown` (indeterminate).
pub const REDIRECTS_MAX: u32 = 8;

/// The request a client is waiting on.
#[derive(Clone, Copy, Debug)]
struct Outstanding {
    request_id: RequestId,
    /// Index of the operation in the history.
    index: usize,
    /// Redirects followed so far.
    redirects: u32,
    /// Timeouts so far (the attempt in flight is `attempt + 1`).
    attempt: u32,
}

struct ClientState {
    rng: SimRng,
    next_request: RequestId,
    issued: u32,
    outstanding: Option<Outstanding>,
    next_target: u32,
    /// Open loop: requests arrived and not yet sent.
    backlog: u32,
    /// Open loop: requests arrived so far (at most `ops_per_client`).
    arrived: u32,
    /// Key-value: the value this client last saw for each key (a key it never saw, or last
    /// read as absent, has no entry). Bounded by the workload's key count.
    seen: BTreeMap<Key, Value>,
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
    /// Which attempt this is (0 for the first send), for the timeout event.
    pub(crate) attempt: u32,
}

/// What a timeout means for the client.
pub(crate) enum Timeout {
    /// The request was sent again (a retry): send this, with a new timeout.
    Resend(Issue),
    /// The operation ended as unknown; the client acts next at this time (if it has more to
    /// do).
    GaveUp(Option<SimTime>),
    /// Stale: the request completed already, or this is an earlier attempt's timeout.
    Ignored,
}

/// What a reply means for the client.
pub(crate) enum Reply {
    /// The operation completed with this outcome; the client acts next at this time (if it
    /// has more to do: an open-loop client without queued arrivals waits for the next one).
    Complete(Outcome, Option<SimTime>),
    /// Redirected: send the same request again, to `node`.
    Resend {
        node: NodeId,
        request_id: RequestId,
        request: Request,
    },
    /// Stale: its request timed out or completed already, or a redirect from a node the
    /// request is no longer at.
    Ignored,
}

impl Clients {
    pub(crate) fn new(
        seed: u64,
        cfg: &ClientConfig,
        node_count: u32,
        fault_phase_end: SimDuration,
    ) -> Clients {
        let count = if cfg.workload == Workload::None {
            0
        } else {
            cfg.count
        };
        if let Workload::KeyValue {
            keys,
            get,
            put,
            cas,
            append,
            ..
        } = cfg.workload
        {
            assert!(keys > 0, "key-value workload without keys");
            assert!(
                u64::from(get) + u64::from(put) + u64::from(cas) + u64::from(append) > 0,
                "key-value workload with an empty mix"
            );
        }
        if let Some(rate) = cfg.rate {
            assert!(
                rate.is_finite() && rate > 0.0,
                "open-loop rate {rate} is not positive"
            );
        }
        let states = (0..count)
            .map(|i| ClientState {
                rng: SimRng::new(seed, StreamLabel::Client(i)),
                next_request: 1,
                issued: 0,
                outstanding: None,
                next_target: i % node_count.max(1),
                backlog: 0,
                arrived: 0,
                seen: BTreeMap::new(),
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

    /// Whether requests arrive on their own (open loop) rather than after completions.
    pub(crate) fn open_loop(&self) -> bool {
        self.cfg.rate.is_some()
    }

    /// Mean gap between two arrivals at one open-loop client.
    fn arrival_gap(&self) -> SimDuration {
        let rate = self.cfg.rate.unwrap_or(1.0);
        SimDuration(((1e9 / rate) as u64).max(1))
    }

    /// When each client first acts: closed loop, staggered over one interval so they do not
    /// move in step; open loop, its first arrival.
    pub(crate) fn first_ticks(&mut self) -> Vec<(ClientId, SimTime)> {
        let gap = self.arrival_gap();
        let open = self.open_loop();
        let cfg = &self.cfg;
        self.states
            .iter_mut()
            .enumerate()
            .map(|(i, s)| {
                let c = ClientId(i as u32);
                let at = if open {
                    SimTime(s.rng.exponential(gap).0)
                } else {
                    let first = SimTime(script::first_tick(cfg, c, &mut s.rng).0);
                    first.max(script::not_before(cfg, c, 0))
                };
                (c, at)
            })
            .collect()
    }

    /// Open loop: a request arrives at client `c`. Returns the request to send now (if the
    /// client is free) and when the next one arrives (if any will).
    pub(crate) fn arrive(&mut self, c: ClientId, now: SimTime) -> (Option<Issue>, Option<SimTime>) {
        let ops = self.cfg.workload.ops_of(c);
        let gap = self.arrival_gap();
        let stop = self.stop;
        let s = &mut self.states[c.index()];
        if now >= stop || s.arrived >= ops {
            return (None, None);
        }
        s.arrived += 1;
        s.backlog += 1;
        let next = now + s.rng.exponential(gap);
        let next = (s.arrived < ops && next < stop).then_some(next);
        (self.tick(c, now), next)
    }

    /// The client's next request, if it should issue one now.
    pub(crate) fn tick(&mut self, c: ClientId, now: SimTime) -> Option<Issue> {
        let node_count = self.node_count;
        let open = self.open_loop();
        let s = &mut self.states[c.index()];
        if s.outstanding.is_some()
            || now >= self.stop
            || s.issued >= self.cfg.workload.ops_of(c)
            || (open && s.backlog == 0)
        {
            return None;
        }
        let (op, node) = script::next_op(
            &self.cfg,
            node_count,
            c,
            s.issued,
            &mut s.rng,
            &mut s.next_target,
        )?;
        if open {
            s.backlog -= 1;
        }
        // Unique across clients: client id in the high half, the request count in the low.
        let fresh = (u64::from(c.0) + 1) << 32 | u64::from(s.issued + 1);
        let request = match op {
            ScriptedRequest::Broadcast => Request::Broadcast { value: fresh },
            ScriptedRequest::Get(key) => Request::Get { key },
            ScriptedRequest::Put(key) => Request::Put { key, value: fresh },
            ScriptedRequest::Cas(key) => Request::Cas {
                key,
                expected: s.seen.get(&key).copied(),
                new: fresh,
            },
            ScriptedRequest::Append(key) => Request::Append { key, value: fresh },
            ScriptedRequest::Txn(keys) => Request::Txn { keys },
        };
        let request_id = s.next_request;
        s.next_request += 1;
        s.issued += 1;
        s.outstanding = Some(Outstanding {
            request_id,
            index: self.history.ops.len(),
            redirects: 0,
            attempt: 0,
        });
        self.history.ops.push(Operation {
            client: c,
            request_id,
            node,
            via: Vec::new(),
            request: request.clone(),
            invoke: now,
            completion: None,
        });
        Some(Issue {
            node,
            request_id,
            request,
            timeout: self.cfg.timeout,
            attempt: 0,
        })
    }

    /// When client `c` acts next after finishing an operation at `now`: closed loop, after the
    /// workload's interval; open loop, at once if arrivals are queued, else at the next arrival
    /// (already scheduled).
    fn next_after(&self, c: ClientId, now: SimTime) -> Option<SimTime> {
        if self.open_loop() {
            (self.states[c.index()].backlog > 0).then_some(now)
        } else {
            let next = now + self.cfg.workload.interval();
            let issued = self.states[c.index()].issued;
            Some(next.max(script::not_before(&self.cfg, c, issued)))
        }
    }

    /// A reply from node `from` arrived: the operation completes, or is resent after a
    /// redirect, or the reply is stale.
    pub(crate) fn on_reply(
        &mut self,
        c: ClientId,
        from: NodeId,
        request_id: RequestId,
        response: Response,
        now: SimTime,
    ) -> Reply {
        let node_count = self.node_count;
        let s = &mut self.states[c.index()];
        let Some(out) = s.outstanding else {
            return Reply::Ignored;
        };
        if out.request_id != request_id {
            return Reply::Ignored;
        }
        let op = &mut self.history.ops[out.index];
        let outcome = match response {
            Response::Redirect { leader } => {
                if from != op.node {
                    return Reply::Ignored;
                }
                if out.redirects < REDIRECTS_MAX {
                    let node = match leader {
                        Some(n) => {
                            assert!(
                                n.0 < node_count,
                                "{from} redirected {c} to {n}, which does not exist"
                            );
                            n
                        }
                        None => NodeId((from.0 + 1) % node_count),
                    };
                    s.outstanding = Some(Outstanding {
                        redirects: out.redirects + 1,
                        ..out
                    });
                    op.move_to(node);
                    return Reply::Resend {
                        node,
                        request_id,
                        request: op.request.clone(),
                    };
                }
                Outcome::Unknown
            }
            Response::Fail | Response::Unsupported => Outcome::Fail,
            r => Outcome::Ok(r),
        };
        if let Outcome::Ok(r) = &outcome {
            match (&op.request, r) {
                (Request::Get { key }, Response::Value(Some(v))) => {
                    s.seen.insert(*key, *v);
                }
                (Request::Get { key }, Response::Value(None)) => {
                    s.seen.remove(key);
                }
                (Request::Put { key, value: v }, _) | (Request::Cas { key, new: v, .. }, _) => {
                    s.seen.insert(*key, *v);
                }
                // A list is no register value a cas could expect.
                (Request::Get { key }, Response::List(_)) | (Request::Append { key, .. }, _) => {
                    s.seen.remove(key);
                }
                _ => {}
            }
        }
        s.outstanding = None;
        op.completion = Some((now, outcome.clone()));
        Reply::Complete(outcome, self.next_after(c, now))
    }

    /// The timeout of attempt `attempt` of a request fired: resend it (a retry), or give the
    /// operation up as unknown, or ignore a stale timeout.
    pub(crate) fn on_timeout(
        &mut self,
        c: ClientId,
        request_id: RequestId,
        attempt: u32,
        now: SimTime,
    ) -> Timeout {
        let node_count = self.node_count;
        let s = &mut self.states[c.index()];
        let Some(out) = s.outstanding else {
            return Timeout::Ignored;
        };
        if out.request_id != request_id || out.attempt != attempt {
            return Timeout::Ignored;
        }
        let op = &mut self.history.ops[out.index];
        if attempt < self.cfg.retries {
            // The same request again: where a fixed binding says, else to the next node.
            let node = match self.cfg.target {
                TargetPolicy::Fixed(n) => n,
                TargetPolicy::Bound => NodeId(c.0 % node_count),
                TargetPolicy::Random | TargetPolicy::RoundRobin => {
                    NodeId((op.node.0 + 1) % node_count)
                }
            };
            op.move_to(node);
            s.outstanding = Some(Outstanding {
                attempt: attempt + 1,
                ..out
            });
            return Timeout::Resend(Issue {
                node,
                request_id,
                request: op.request.clone(),
                timeout: self.cfg.timeout,
                attempt: attempt + 1,
            });
        }
        s.outstanding = None;
        op.completion = Some((now, Outcome::Unknown));
        Timeout::GaveUp(self.next_after(c, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(keys: u32, (get, put, cas): (u32, u32, u32), ops_per_client: u32) -> Workload {
        Workload::KeyValue {
            keys,
            get,
            put,
            cas,
            append: 0,
            interval: SimDuration::from_millis(10),
            ops_per_client,
        }
    }

    fn clients(count: u32, node_count: u32, target: TargetPolicy, workload: Workload) -> Clients {
        let cfg = ClientConfig {
            count,
            target,
            workload,
            timeout: SimDuration::from_secs(1),
            stop: None,
            rate: None,
            retries: 0,
        };
        Clients::new(7, &cfg, node_count, SimDuration::from_secs(3600))
    }

    /// Issues the client's next request and answers it `ok` the way a register would.
    fn round_trip(cs: &mut Clients, c: ClientId, now: SimTime) -> Option<Request> {
        let issue = cs.tick(c, now)?;
        let response = match issue.request {
            Request::Get { .. } => Response::Value(None),
            _ => Response::Ok,
        };
        match cs.on_reply(c, issue.node, issue.request_id, response, now) {
            Reply::Complete(Outcome::Ok(_), _) => {}
            _ => panic!("an ok reply completes the operation"),
        }
        Some(issue.request)
    }

    #[test]
    fn key_value_mix_follows_the_weights() {
        let ops = 20_000;
        let mut cs = clients(1, 3, TargetPolicy::Random, kv(5, (2, 2, 1), ops));
        let (mut counts, mut keys) = ([0u32; 3], [0u32; 5]);
        let mut t = 0;
        while let Some(r) = round_trip(&mut cs, ClientId(0), SimTime(t)) {
            t += 1;
            let (kind, key) = match r {
                Request::Get { key } => (0, key),
                Request::Put { key, .. } => (1, key),
                Request::Cas { key, .. } => (2, key),
                other => panic!("not a key-value request: {other:?}"),
            };
            counts[kind] += 1;
            keys[key as usize] += 1;
        }
        assert_eq!(
            counts.iter().sum::<u32>(),
            ops,
            "stops after ops_per_client"
        );
        // Expected 8000 / 8000 / 4000: allow ±3% of the total (about 8 standard deviations).
        for (got, want) in counts.iter().zip([8000, 8000, 4000]) {
            assert!(
                got.abs_diff(want) < 600,
                "mix {counts:?}, wanted about 2:2:1"
            );
        }
        for k in keys {
            assert!(k.abs_diff(ops / 5) < 600, "keys {keys:?}, wanted uniform");
        }
        // A zero weight is never drawn.
        let mut cs = clients(1, 3, TargetPolicy::Random, kv(2, (1, 0, 1), 500));
        while let Some(r) = round_trip(&mut cs, ClientId(0), SimTime(0)) {
            assert!(!matches!(r, Request::Put { .. }));
        }
    }

    #[test]
    fn written_values_are_unique_across_clients() {
        let mut cs = clients(4, 3, TargetPolicy::Random, kv(2, (0, 1, 1), 300));
        let mut written = Vec::new();
        for round in 0..300 {
            for c in 0..4 {
                match round_trip(&mut cs, ClientId(c), SimTime(round)).expect("a request") {
                    Request::Put { value, .. } => written.push(value),
                    Request::Cas { new, .. } => written.push(new),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert!(
            cs.tick(ClientId(0), SimTime(1000)).is_none(),
            "ops_per_client reached"
        );
        let n = written.len();
        written.sort_unstable();
        written.dedup();
        assert_eq!(written.len(), n, "a value was written twice");
        assert_eq!(n, 1200);
    }

    #[test]
    fn cas_expects_the_value_last_seen() {
        // One key: every cas names what this client last read or wrote there.
        let mut cs = clients(1, 1, TargetPolicy::Fixed(NodeId(0)), kv(1, (1, 1, 1), 400));
        let c = ClientId(0);
        let mut last: Option<Value> = None;
        let (mut some, mut none) = (0, 0);
        for t in 0..400 {
            let issue = cs.tick(c, SimTime(t)).expect("a request");
            let response = match issue.request {
                Request::Get { .. } => {
                    // Reads alternate between a value another client wrote and absent.
                    let v = (t % 2 == 0).then_some(1_000_000 + t);
                    last = v;
                    Response::Value(v)
                }
                Request::Put { value, .. } => {
                    last = Some(value);
                    Response::Ok
                }
                Request::Cas { expected, new, .. } => {
                    assert_eq!(expected, last, "cas at t={t}");
                    if expected.is_some() {
                        some += 1;
                    } else {
                        none += 1;
                    }
                    // A failed cas teaches the client nothing.
                    if t % 3 == 0 {
                        Response::Fail
                    } else {
                        last = Some(new);
                        Response::Ok
                    }
                }
                other => panic!("unexpected {other:?}"),
            };
            assert!(matches!(
                cs.on_reply(c, issue.node, issue.request_id, response, SimTime(t)),
                Reply::Complete(..)
            ));
        }
        assert!(
            some > 20 && none > 5,
            "cas expectations: {some} values, {none} absent"
        );
    }

    #[test]
    fn redirects_are_followed_with_the_same_request() {
        let mut cs = clients(1, 4, TargetPolicy::Fixed(NodeId(1)), kv(3, (1, 1, 1), 10));
        let c = ClientId(0);
        let issue = cs.tick(c, SimTime(0)).expect("a request");
        assert_eq!(issue.node, NodeId(1));
        let id = issue.request_id;
        // A named leader: resend the same request there.
        match cs.on_reply(
            c,
            NodeId(1),
            id,
            Response::Redirect {
                leader: Some(NodeId(3)),
            },
            SimTime(5),
        ) {
            Reply::Resend {
                node,
                request_id,
                request,
            } => {
                assert_eq!((node, request_id), (NodeId(3), id));
                assert_eq!(request, issue.request);
            }
            _ => panic!("a redirect resends"),
        }
        assert_eq!(
            cs.history.ops[0].node,
            NodeId(3),
            "the history names the last node"
        );
        // A stale redirect from node 1 (a duplicate) is ignored: the request is at node 3 now.
        assert!(matches!(
            cs.on_reply(
                c,
                NodeId(1),
                id,
                Response::Redirect {
                    leader: Some(NodeId(2))
                },
                SimTime(6)
            ),
            Reply::Ignored
        ));
        // No leader known: the next node in round-robin order (3 → 0).
        match cs.on_reply(
            c,
            NodeId(3),
            id,
            Response::Redirect { leader: None },
            SimTime(7),
        ) {
            Reply::Resend { node, .. } => assert_eq!(node, NodeId(0)),
            _ => panic!("a redirect resends"),
        }
        assert!(cs.history.ops[0].completion.is_none());
        assert!(
            cs.tick(c, SimTime(8)).is_none(),
            "one outstanding request at a time"
        );
        // The answer completes the operation, whichever node it comes from.
        match cs.on_reply(c, NodeId(0), id, Response::Ok, SimTime(9)) {
            Reply::Complete(Outcome::Ok(Response::Ok), next) => {
                assert_eq!(next, Some(SimTime(9) + SimDuration::from_millis(10)))
            }
            _ => panic!("an answer completes"),
        }
        assert_eq!(
            cs.history.ops[0].completion,
            Some((SimTime(9), Outcome::Ok(Response::Ok)))
        );
        assert_eq!(cs.history.ops[0].node, NodeId(0));
        // A late reply to a completed request is ignored.
        assert!(matches!(
            cs.on_reply(c, NodeId(0), id, Response::Ok, SimTime(10)),
            Reply::Ignored
        ));
    }

    #[test]
    fn too_many_redirects_leave_the_operation_indeterminate() {
        let mut cs = clients(1, 2, TargetPolicy::Fixed(NodeId(0)), kv(1, (1, 0, 0), 2));
        let c = ClientId(0);
        let issue = cs.tick(c, SimTime(0)).expect("a request");
        let mut at = NodeId(0);
        for i in 0..REDIRECTS_MAX {
            let other = NodeId(1 - at.0);
            match cs.on_reply(
                c,
                at,
                issue.request_id,
                Response::Redirect {
                    leader: Some(other),
                },
                SimTime(u64::from(i)),
            ) {
                Reply::Resend { node, .. } => assert_eq!(node, other),
                _ => panic!("redirect {i} is followed"),
            }
            at = other;
        }
        match cs.on_reply(
            c,
            at,
            issue.request_id,
            Response::Redirect { leader: None },
            SimTime(100),
        ) {
            Reply::Complete(Outcome::Unknown, _) => {}
            _ => panic!("the redirect past the limit gives up on the operation"),
        }
        assert_eq!(
            cs.history.ops[0].completion,
            Some((SimTime(100), Outcome::Unknown))
        );
        // A timeout of a request that redirects still records it as unknown.
        let issue = cs.tick(c, SimTime(200)).expect("a second request");
        assert!(matches!(
            cs.on_reply(
                c,
                issue.node,
                issue.request_id,
                Response::Redirect {
                    leader: Some(NodeId(1))
                },
                SimTime(201)
            ),
            Reply::Resend { .. }
        ));
        assert!(matches!(
            cs.on_timeout(c, issue.request_id, 0, SimTime(300)),
            Timeout::GaveUp(Some(t)) if t == SimTime(300) + SimDuration::from_millis(10)
        ));
        assert_eq!(
            cs.history.ops[1].completion,
            Some((SimTime(300), Outcome::Unknown))
        );
        assert!(matches!(
            cs.on_reply(c, NodeId(1), issue.request_id, Response::Ok, SimTime(301)),
            Reply::Ignored
        ));
    }

    #[test]
    fn retries_resend_the_same_request_then_give_up() {
        let cfg = ClientConfig {
            count: 1,
            target: TargetPolicy::RoundRobin,
            workload: kv(1, (0, 1, 0), 3),
            timeout: SimDuration::from_millis(100),
            stop: None,
            rate: None,
            retries: 2,
        };
        let mut cs = Clients::new(7, &cfg, 3, SimDuration::from_secs(3600));
        let c = ClientId(0);
        let issue = cs.tick(c, SimTime(0)).expect("a request");
        assert_eq!(issue.node, NodeId(0));
        for attempt in 0..2 {
            // A stale timeout (an earlier attempt's) does nothing.
            if attempt > 0 {
                assert!(matches!(
                    cs.on_timeout(c, issue.request_id, attempt - 1, SimTime(1)),
                    Timeout::Ignored
                ));
            }
            match cs.on_timeout(c, issue.request_id, attempt, SimTime(100)) {
                Timeout::Resend(again) => {
                    assert_eq!(again.request_id, issue.request_id);
                    assert_eq!(again.request, issue.request);
                    assert_eq!(again.attempt, attempt + 1);
                    assert_eq!(again.node, NodeId(attempt + 1), "the next node");
                }
                _ => panic!("attempt {attempt} is retried"),
            }
        }
        assert!(cs.history.ops[0].completion.is_none());
        assert!(matches!(
            cs.on_timeout(c, issue.request_id, 2, SimTime(300)),
            Timeout::GaveUp(Some(_))
        ));
        assert_eq!(
            cs.history.ops[0].completion,
            Some((SimTime(300), Outcome::Unknown))
        );
        assert_eq!(cs.history.ops.len(), 1, "a retry is the same operation");
    }

    #[test]
    fn open_loop_arrivals_queue_behind_a_slow_request() {
        let cfg = ClientConfig {
            count: 1,
            target: TargetPolicy::Bound,
            workload: kv(2, (1, 1, 0), 50),
            timeout: SimDuration::from_secs(1),
            stop: None,
            rate: Some(100.0),
            retries: 0,
        };
        let mut cs = Clients::new(3, &cfg, 3, SimDuration::from_secs(3600));
        assert!(cs.open_loop());
        let c = ClientId(0);
        let first = cs.first_ticks()[0].1;
        // Nothing is sent before an arrival.
        assert!(cs.tick(c, SimTime(0)).is_none());
        let (issue, mut next) = cs.arrive(c, first);
        let issue = issue.expect("a free client sends at once");
        assert_eq!(issue.node, NodeId(0), "client 0 is bound to node 0");
        // Three more arrive while the first is in flight: queued, nothing sent.
        let mut gaps = Vec::new();
        let mut t = first;
        for _ in 0..3 {
            let at = next.expect("more arrivals");
            gaps.push(at.0 - t.0);
            t = at;
            let (sent, n) = cs.arrive(c, at);
            assert!(sent.is_none(), "busy: the arrival waits");
            next = n;
        }
        assert!(gaps.iter().all(|g| *g > 0));
        // The reply frees the client: the next queued request goes at once.
        match cs.on_reply(c, issue.node, issue.request_id, Response::Ok, t) {
            Reply::Complete(_, Some(at)) => assert_eq!(at, t),
            _ => panic!("queued arrivals are sent at once"),
        }
        let mut sent = 1;
        while let Some(i) = cs.tick(c, t) {
            sent += 1;
            let r = match i.request {
                Request::Get { .. } => Response::Value(None),
                _ => Response::Ok,
            };
            match cs.on_reply(c, i.node, i.request_id, r, t) {
                Reply::Complete(_, next) => {
                    if sent == 4 {
                        assert_eq!(next, None, "queue empty: wait for the next arrival");
                    }
                }
                _ => panic!("completes"),
            }
        }
        assert_eq!(sent, 4, "each arrival is sent once");
        // The arrival rate: 46 more gaps average about 10 ms.
        let mut total = 0;
        let mut count = 0;
        while let Some(at) = next {
            total += at.0 - t.0;
            count += 1;
            t = at;
            let (i, n) = cs.arrive(c, at);
            if let Some(i) = i {
                cs.on_reply(c, i.node, i.request_id, Response::Ok, at);
            }
            next = n;
        }
        assert_eq!(count + 4, 50, "stops after ops_per_client arrivals");
        let mean_ms = total as f64 / count as f64 / 1e6;
        assert!((5.0..20.0).contains(&mean_ms), "mean gap {mean_ms} ms");
    }

    #[test]
    fn appends_are_drawn_by_weight_and_forget_the_register() {
        let mut w = kv(1, (1, 0, 1), 400);
        if let Workload::KeyValue { append, .. } = &mut w {
            *append = 2;
        }
        let mut cs = clients(1, 1, TargetPolicy::Fixed(NodeId(0)), w);
        let c = ClientId(0);
        let mut appends = 0;
        let mut after_append = false;
        for t in 0..400 {
            let issue = cs.tick(c, SimTime(t)).expect("a request");
            let response = match issue.request {
                Request::Append { .. } => {
                    appends += 1;
                    after_append = true;
                    Response::Ok
                }
                Request::Cas { expected, .. } => {
                    if after_append {
                        assert_eq!(expected, None, "a list is no value to expect");
                    }
                    Response::Fail
                }
                Request::Get { .. } => {
                    after_append = false;
                    Response::Value(Some(1))
                }
                other => panic!("unexpected {other:?}"),
            };
            cs.on_reply(c, issue.node, issue.request_id, response, SimTime(t));
        }
        assert!((150..250).contains(&appends), "{appends} appends of 400");
    }
}
