//! `dsim run --perfetto OUT.json`: the run in Chrome's trace-event JSON format, which the
//! Perfetto UI (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! - Process "nodes": one track (thread) per node. Its top-level slices are the node's states
//!   (`up`, `crashed`, `paused`); inside `up`, one slice per handler run (a message or
//!   request delivered, a timer, a recovery), and inside that one slice per message it sent.
//! - Process "clients": one track per client, one slice per operation from invocation to
//!   completion, named by what it did and how it ended.
//! - Process "faults": partitions as slices on tracks of their own (overlapping partitions
//!   on separate tracks), heals, link changes and the liveness phase as instants; crashes,
//!   restarts, pauses and clock jumps are instants on the node's track too.
//! - Messages as flow arrows (`s` at the send, `f` at the handler run the delivery started,
//!   bound to the enclosing slice); drops as instants where they happened.
//!
//! Timestamps are simulated time in microseconds (three decimals: nanoseconds). Handlers take
//! no simulated time; each is drawn a few nanoseconds wide, and handlers at one instant on one
//! node are laid one after another, so that slices nest and never overlap.

use std::collections::BTreeMap;

use scenarios::timeline::{End, Timeline};
use serde_json::{json, Value};
use sim_core::{Endpoint, NodeId};

const NODES: u32 = 1;
const CLIENTS: u32 = 2;
const FAULTS: u32 = 3;

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn slice(pid: u32, tid: u32, name: &str, cat: &str, from: u64, to: u64, args: Value) -> Value {
    json!({"ph": "X", "pid": pid, "tid": tid, "name": name, "cat": cat,
           "ts": us(from), "dur": us(to.saturating_sub(from)), "args": args})
}

fn instant(pid: u32, tid: u32, name: &str, cat: &str, at: u64) -> Value {
    json!({"ph": "i", "s": "t", "pid": pid, "tid": tid, "name": name, "cat": cat, "ts": us(at)})
}

fn meta(pid: u32, tid: Option<u32>, name: &str, sort: u32) -> Vec<Value> {
    match tid {
        None => vec![
            json!({"ph": "M", "pid": pid, "name": "process_name", "args": {"name": name}}),
            json!({"ph": "M", "pid": pid, "name": "process_sort_index", "args": {"sort_index": sort}}),
        ],
        Some(tid) => vec![
            json!({"ph": "M", "pid": pid, "tid": tid, "name": "thread_name", "args": {"name": name}}),
            json!({"ph": "M", "pid": pid, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": sort}}),
        ],
    }
}

/// Where each handler run and each send was placed: (start, end) in ns.
struct Placed {
    handler: Vec<Option<(u64, u64)>>,
    send: BTreeMap<u64, (u64, u64)>,
}

/// Something a node runs: a handler (an index into the timeline's handlers), or a send made
/// outside any handler (at its start), by message id.
#[derive(Clone, Copy)]
enum Run<'a> {
    Handler(usize),
    Send(u64, &'a str),
}

/// A send inside a handler run: message id, kind, destination.
type Send<'a> = (u64, &'a str, Endpoint);

/// Lays a node's runs on its track one after another from `cursor`, up to time `limit`.
struct Track<'a> {
    tl: &'a Timeline,
    tid: u32,
    runs: Vec<(u64, Run<'a>)>,
    next: usize,
    cursor: u64,
    sends_of: &'a [Vec<Send<'a>>],
}

impl Track<'_> {
    fn place_until(&mut self, limit: u64, placed: &mut Placed, out: &mut Vec<Value>) {
        while let Some(&(at, run)) = self.runs.get(self.next).filter(|r| r.0 <= limit) {
            self.next += 1;
            let start = at.max(self.cursor);
            match run {
                Run::Handler(h) => {
                    let sends = &self.sends_of[h];
                    let end = start + 2 * sends.len() as u64 + 2;
                    let what = &self.tl.handlers[h].what;
                    out.push(slice(
                        NODES,
                        self.tid,
                        what,
                        "handler",
                        start,
                        end,
                        json!({}),
                    ));
                    for (i, (id, kind, to)) in sends.iter().enumerate() {
                        let s = start + 2 * i as u64 + 1;
                        let name = format!("send {kind} → {to}");
                        out.push(slice(
                            NODES,
                            self.tid,
                            &name,
                            "send",
                            s,
                            s + 1,
                            json!({"message": id}),
                        ));
                        placed.send.insert(*id, (s, s + 1));
                    }
                    placed.handler[h] = Some((start, end));
                    self.cursor = end;
                }
                Run::Send(id, kind) => {
                    let name = format!("send {kind}");
                    out.push(slice(
                        NODES,
                        self.tid,
                        &name,
                        "send",
                        start,
                        start + 1,
                        json!({"message": id}),
                    ));
                    placed.send.insert(id, (start, start + 1));
                    self.cursor = start + 1;
                }
            }
        }
    }
}

/// The node tracks: states, handler runs with their sends nested, in order.
fn nodes(tl: &Timeline, out: &mut Vec<Value>) -> Placed {
    let mut placed = Placed {
        handler: vec![None; tl.handlers.len()],
        send: BTreeMap::new(),
    };
    // Sends grouped by the handler run that made them; the others stand alone.
    let mut sends_of: Vec<Vec<Send<'_>>> = vec![Vec::new(); tl.handlers.len()];
    let mut alone: BTreeMap<NodeId, Vec<(u64, Run<'_>)>> = BTreeMap::new();
    for m in &tl.messages {
        let Endpoint::Node(n) = m.from else { continue };
        match m.by {
            Some(h) => sends_of[h].push((m.id, &m.kind, m.to)),
            None => alone
                .entry(n)
                .or_default()
                .push((m.sent, Run::Send(m.id, &m.kind))),
        }
    }
    for &node in &tl.shown_nodes {
        // Everything this node runs, in time order (trace order at equal times).
        let mut runs: Vec<(u64, Run<'_>)> = tl
            .handlers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.node == node && h.at >= tl.from && h.at <= tl.to)
            .map(|(i, h)| (h.at, Run::Handler(i)))
            .collect();
        runs.extend(alone.remove(&node).unwrap_or_default());
        runs.sort_by_key(|r| r.0);
        let mut track = Track {
            tl,
            tid: node.0 + 1,
            runs,
            next: 0,
            cursor: tl.from,
            sends_of: &sends_of,
        };
        let mut downs: Vec<_> = tl.downs.iter().filter(|d| d.node == node).collect();
        downs.sort_by_key(|d| d.from);
        let mut state_from = tl.from;
        for d in downs {
            track.place_until(d.from, &mut placed, out);
            let from = d.from.max(track.cursor);
            out.push(slice(
                NODES,
                track.tid,
                "up",
                "state",
                state_from,
                from,
                json!({}),
            ));
            let to = d.to.max(from);
            let what = if d.crashed { "crashed" } else { "paused" };
            out.push(slice(NODES, track.tid, what, "state", from, to, json!({})));
            state_from = to;
            track.cursor = track.cursor.max(to);
        }
        track.place_until(u64::MAX, &mut placed, out);
        let end = track.cursor.max(tl.to);
        out.push(slice(
            NODES,
            track.tid,
            "up",
            "state",
            state_from,
            end,
            json!({}),
        ));
    }
    placed
}

/// The client tracks: one slice per operation.
fn clients(tl: &Timeline, out: &mut Vec<Value>) {
    for op in &tl.operations {
        let tid = op.client.0 + 1;
        let end = op.complete.unwrap_or(tl.to).max(op.invoke);
        out.push(slice(
            CLIENTS,
            tid,
            &op.text,
            op.outcome.name(),
            op.invoke,
            end,
            json!({"operation": op.index, "node": op.node.to_string(), "outcome": op.outcome.name()}),
        ));
    }
}

/// The client-side end of a message at `at`: the operation slice that contains it, or a
/// slice of its own.
fn client_point(tl: &Timeline, c: sim_core::ClientId, at: u64, what: &str, out: &mut Vec<Value>) {
    let inside = tl
        .operations
        .iter()
        .any(|o| o.client == c && o.invoke <= at && at <= o.complete.unwrap_or(tl.to));
    if !inside {
        out.push(slice(
            CLIENTS,
            c.0 + 1,
            what,
            "message",
            at,
            at + 1,
            json!({}),
        ));
    }
}

/// Flows for delivered messages (both ends bound to enclosing slices) and drops as instants.
fn messages(tl: &Timeline, placed: &Placed, out: &mut Vec<Value>) {
    for m in &tl.messages {
        let tid = |e: Endpoint| match e {
            Endpoint::Node(n) => (NODES, n.0 + 1),
            Endpoint::Client(c) => (CLIENTS, c.0 + 1),
        };
        let (spid, stid) = tid(m.from);
        let start = match m.from {
            Endpoint::Node(_) => match placed.send.get(&m.id) {
                Some(&(s, _)) => s,
                None => continue,
            },
            Endpoint::Client(c) => {
                client_point(tl, c, m.sent, &format!("send {}", m.kind), out);
                m.sent
            }
        };
        match &m.end {
            End::Delivered(at) => {
                let (dpid, dtid) = tid(m.to);
                let end = match m.to {
                    Endpoint::Node(_) => match m.ran.and_then(|h| placed.handler[h]) {
                        Some((s, _)) => s + 1,
                        None => continue,
                    },
                    Endpoint::Client(c) => {
                        client_point(tl, c, *at, &format!("{} from {}", m.kind, m.from), out);
                        *at
                    }
                };
                let name = format!("{} {} → {}", m.kind, m.from, m.to);
                out.push(json!({"ph": "s", "id": m.id, "pid": spid, "tid": stid, "ts": us(start), "name": name, "cat": "message", "bp": "e"}));
                out.push(json!({"ph": "f", "id": m.id, "pid": dpid, "tid": dtid, "ts": us(end), "name": name, "cat": "message", "bp": "e"}));
            }
            End::Dropped(at, why) => {
                let (pid, tid) = if *at == m.sent {
                    (spid, stid)
                } else {
                    tid(m.to)
                };
                out.push(instant(
                    pid,
                    tid,
                    &format!("drop {} {} → {} ({why})", m.kind, m.from, m.to),
                    "drop",
                    *at,
                ));
            }
            End::InFlight => {}
        }
    }
}

/// Partitions on tracks of their own, global instants, node instants.
fn faults(tl: &Timeline, out: &mut Vec<Value>) {
    // Each partition on the first track free at its start.
    let mut free_at: Vec<u64> = Vec::new();
    for b in &tl.partitions {
        let lane = match free_at.iter().position(|&t| t <= b.from) {
            Some(i) => i,
            None => {
                free_at.push(0);
                free_at.len() - 1
            }
        };
        free_at[lane] = b.to;
        out.push(slice(
            FAULTS,
            lane as u32 + 2,
            &b.what,
            "partition",
            b.from,
            b.to,
            json!({}),
        ));
    }
    for (i, _) in free_at.iter().enumerate() {
        out.extend(meta(
            FAULTS,
            Some(i as u32 + 2),
            &format!("partitions {}", i + 1),
            i as u32 + 2,
        ));
    }
    out.extend(meta(FAULTS, Some(1), "events", 1));
    for i in &tl.instants {
        match i.lane {
            None => out.push(instant(FAULTS, 1, &i.what, "fault", i.at)),
            Some(Endpoint::Node(n)) => out.push(instant(NODES, n.0 + 1, &i.what, "fault", i.at)),
            Some(Endpoint::Client(c)) => {
                out.push(instant(CLIENTS, c.0 + 1, &i.what, "fault", i.at))
            }
        }
    }
    for d in &tl.downs {
        let what = if d.crashed { "crash" } else { "pause" };
        out.push(instant(NODES, d.node.0 + 1, what, "fault", d.from));
    }
}

/// The trace-event JSON of `tl`.
pub fn trace(tl: &Timeline) -> Value {
    let mut events: Vec<Value> = Vec::new();
    events.extend(meta(NODES, None, "nodes", 1));
    events.extend(meta(CLIENTS, None, "clients", 2));
    events.extend(meta(FAULTS, None, "faults", 3));
    for &n in &tl.shown_nodes {
        events.extend(meta(NODES, Some(n.0 + 1), &n.to_string(), n.0 + 1));
    }
    for c in 0..tl.clients {
        events.extend(meta(CLIENTS, Some(c + 1), &format!("c{c}"), c + 1));
    }
    let placed = nodes(tl, &mut events);
    clients(tl, &mut events);
    messages(tl, &placed, &mut events);
    faults(tl, &mut events);
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"scenario": tl.scenario, "seed": tl.seed, "trace_hash": format!("{:016x}", tl.trace_hash)},
    })
}
