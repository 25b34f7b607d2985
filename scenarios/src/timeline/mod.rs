//! A run as a timeline: what a space-time diagram and a Perfetto trace draw, built once from
//! what the run recorded — the trace's events (messages, drops, duplicates, timers), the fault
//! log, the client history, the protocol's markers and the checks' evidence.
//!
//! One lane per node and per client ([`Lane`], in that order). Messages go from one lane to
//! another between their send and their delivery (or drop, with its reason); crashes and
//! pauses are spans on a node's lane; restarts, clock jumps and link changes are instants;
//! partitions are bands naming their groups; client operations are bars from invocation to
//! completion with their outcome; the failing checks' evidence names operations (by history
//! index) and moments. Times are true simulated nanoseconds.
//!
//! [`Timeline::build`] reads the trace as the JSON Lines `dsim run --trace` writes (so it
//! needs nothing from the engine beyond that file's format, and skips lines it does not
//! know); [`Timeline::window`] keeps a time range and a set of nodes for big runs.

mod faults;
mod ops;
mod trace;

use sim_core::check::Verdict;
use sim_core::{ClientId, Endpoint, NodeId};

use crate::harness::RunReport;

pub use ops::describe;

/// A node's or a client's row.
pub type Lane = Endpoint;

/// Every lane of a run: nodes first, then clients.
pub fn lanes(nodes: u32, clients: u32) -> Vec<Lane> {
    (0..nodes)
        .map(|n| Endpoint::Node(NodeId(n)))
        .chain((0..clients).map(|c| Endpoint::Client(ClientId(c))))
        .collect()
}

/// How a message ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Delivered(u64),
    /// Dropped at this time, for this reason (`partition`, `loss`, `node-down`, `no-link`).
    Dropped(u64, String),
    /// Still in the network when the run stopped.
    InFlight,
}

/// One message (or an extra copy the network made of one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: u64,
    pub from: Lane,
    pub to: Lane,
    pub sent: u64,
    pub end: End,
    /// Its kind: the variant name (`AppendEntries`), or the request or response kind.
    pub kind: String,
    /// Its text as the trace has it (shortened).
    pub text: String,
    /// An extra copy made by the network (duplication).
    pub copy: bool,
    /// The handler run (an index into [`Timeline::handlers`]) that sent it; `None` for a
    /// client's request or a node's start.
    pub by: Option<usize>,
    /// The handler run its delivery started (an index into [`Timeline::handlers`]).
    pub ran: Option<usize>,
}

/// A node running a handler: a message or request delivered, a timer, a recovery. The
/// trace's handlers come first, in the order they ran; the recoveries after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handler {
    pub at: u64,
    pub node: NodeId,
    pub what: String,
}

/// A span during which a node was down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Down {
    pub node: NodeId,
    pub crashed: bool,
    pub from: u64,
    pub to: u64,
}

/// Something that happened at one instant: on a lane, or everywhere (`lane: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instant {
    pub at: u64,
    pub lane: Option<Lane>,
    pub what: String,
}

/// A partition while it lasted, with its groups (lanes on each side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub from: u64,
    pub to: u64,
    /// As the scenario writes it: `Split([[0, 1], [2, 3, 4]])`.
    pub what: String,
    pub groups: Vec<Vec<Lane>>,
}

/// How a client operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpOutcome {
    Ok,
    Fail,
    Unknown,
}

impl OpOutcome {
    pub fn name(self) -> &'static str {
        match self {
            OpOutcome::Ok => "ok",
            OpOutcome::Fail => "fail",
            OpOutcome::Unknown => "unknown",
        }
    }
}

/// One client operation, from invocation to completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Its index in the run's history.
    pub index: usize,
    pub client: ClientId,
    /// The node it was (last) sent to.
    pub node: NodeId,
    pub invoke: u64,
    /// `None`: still pending when the run stopped.
    pub complete: Option<u64>,
    pub outcome: OpOutcome,
    /// `put k1 = 4294967297 → ok`.
    pub text: String,
}

/// A protocol's marker on a node's lane: `leader t3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub at: u64,
    pub node: NodeId,
    pub what: String,
}

/// A check's result with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckMark {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
    /// History indices of the operations the evidence names.
    pub operations: Vec<usize>,
    pub moments: Vec<Mark>,
}

/// A whole run, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub scenario: String,
    pub seed: u64,
    pub trace_hash: u64,
    pub nodes: u32,
    pub clients: u32,
    /// The time range drawn (the whole run unless windowed).
    pub from: u64,
    pub to: u64,
    pub messages: Vec<Message>,
    pub timers: Vec<Handler>,
    pub handlers: Vec<Handler>,
    pub downs: Vec<Down>,
    pub instants: Vec<Instant>,
    pub partitions: Vec<Band>,
    pub operations: Vec<Op>,
    pub marks: Vec<Mark>,
    pub checks: Vec<CheckMark>,
    /// The node lanes kept by [`Timeline::window`] (all, unless windowed).
    pub shown_nodes: Vec<NodeId>,
}

impl Timeline {
    /// The timeline of the run `report`, whose trace (JSON Lines) is `trace`.
    pub fn build(report: &RunReport, trace: &str) -> Timeline {
        let mut t = trace::read(trace);
        let (downs, instants, partitions) = faults::read(report);
        // A restart runs the node's recovery handler.
        t.handlers.extend(
            instants
                .iter()
                .filter(|i| i.what == faults::RESTART)
                .filter_map(|i| match i.lane {
                    Some(Endpoint::Node(node)) => Some(Handler {
                        at: i.at,
                        node,
                        what: "recover".into(),
                    }),
                    _ => None,
                }),
        );
        Timeline {
            scenario: report.scenario.clone(),
            seed: report.seed,
            trace_hash: report.trace_hash,
            nodes: report.node_count,
            clients: report.client_count,
            from: 0,
            to: report.sim_time_ns,
            messages: t.messages,
            timers: t.timers,
            handlers: t.handlers,
            downs,
            instants,
            partitions,
            operations: ops::read(&report.history, report.sim_time_ns),
            marks: report
                .markers
                .iter()
                .map(|m| Mark {
                    at: m.time.0,
                    node: m.node,
                    what: m.what.clone(),
                })
                .collect(),
            checks: report
                .checks
                .iter()
                .map(|c| CheckMark {
                    name: c.name.clone(),
                    verdict: c.verdict,
                    detail: c.detail.clone(),
                    operations: c.evidence.operations.clone(),
                    moments: c
                        .evidence
                        .moments
                        .iter()
                        .map(|m| Mark {
                            at: m.time.0,
                            node: m.node,
                            what: m.what.clone(),
                        })
                        .collect(),
                })
                .collect(),
            shown_nodes: (0..report.node_count).map(NodeId).collect(),
        }
    }

    /// Every lane drawn: the shown nodes, then every client.
    pub fn lanes(&self) -> Vec<Lane> {
        self.shown_nodes
            .iter()
            .map(|&n| Endpoint::Node(n))
            .chain((0..self.clients).map(|c| Endpoint::Client(ClientId(c))))
            .collect()
    }

    /// Whether `lane` is drawn.
    pub fn shows(&self, lane: Lane) -> bool {
        match lane {
            Endpoint::Node(n) => self.shown_nodes.contains(&n),
            Endpoint::Client(c) => c.0 < self.clients,
        }
    }

    /// Only what happens between `from` and `to` (ns) on the nodes `nodes` (all if `None`)
    /// and the clients: messages between two shown lanes that overlap the range, spans
    /// clipped to it.
    pub fn window(mut self, from: u64, to: u64, nodes: Option<&[NodeId]>) -> Timeline {
        let (from, to) = (from.min(self.to), to.min(self.to).max(from));
        if let Some(ns) = nodes {
            self.shown_nodes.retain(|n| ns.contains(n));
        }
        let overlaps = |a: u64, b: u64| a <= to && b >= from;
        let shown = self.clone();
        let on = |l: &Lane| shown.shows(*l);
        self.messages.retain(|m| {
            let end = match m.end {
                End::Delivered(t) | End::Dropped(t, _) => t,
                End::InFlight => self.to,
            };
            on(&m.from) && on(&m.to) && overlaps(m.sent, end)
        });
        let node_on = |n: &NodeId| shown.shows(Endpoint::Node(*n));
        self.timers
            .retain(|h| node_on(&h.node) && overlaps(h.at, h.at));
        // Handlers stay (messages point into them by index); a window's users skip the
        // ones outside it.
        self.downs
            .retain(|d| node_on(&d.node) && overlaps(d.from, d.to));
        self.instants
            .retain(|i| i.lane.is_none_or(|l| on(&l)) && overlaps(i.at, i.at));
        self.partitions.retain(|b| overlaps(b.from, b.to));
        self.operations
            .retain(|o| overlaps(o.invoke, o.complete.unwrap_or(self.to)));
        self.marks
            .retain(|m| node_on(&m.node) && overlaps(m.at, m.at));
        self.from = from;
        self.to = to;
        self
    }

    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &CheckMark> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }
}

/// A writer that keeps what is written in memory, shared with its reader.
#[derive(Clone, Default)]
pub struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Buffer {
    /// What was written, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().expect("no writer panicked");
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("no writer panicked")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `scn` (at `seed`, or its own) with its trace kept in memory and the protocol's
/// markers on, and returns the report with its timeline. Panics in the simulation propagate.
pub fn record(scn: &crate::Scenario, seed: Option<u64>) -> (RunReport, Timeline) {
    let buffer = Buffer::default();
    let report = crate::harness::run(
        scn,
        crate::harness::RunOptions {
            seed,
            trace: Some(Box::new(buffer.clone())),
            markers: true,
            ..crate::harness::RunOptions::default()
        },
    );
    let timeline = Timeline::build(&report, &buffer.text());
    (report, timeline)
}
