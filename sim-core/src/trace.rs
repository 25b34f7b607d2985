//! The run's trace: a stable 64-bit hash over every event, and optionally a JSON Lines file.
//!
//! The engine describes each event once, as a `Record`, and hands it to `Tracer::record`.
//! `Record::words` is the only code that turns an event into hashed words; the trace hash,
//! the running hashes and the [`EventLog`] all take those same words, and the JSON line (only
//! when a writer is attached) is written from the same `Record` afterwards. Nothing else in the
//! crate can reach the hash, so whether a trace file is written cannot change it: by
//! construction, not because two copies of the words agree.
//!
//! How the words are folded (three lanes, and what that guarantees) is `trace_hash.rs`.
//!
//! The hash is always on and costs a few multiplications per event; it is what "same seed, same
//! run" is checked against. A run without `--trace` formats and allocates nothing for tracing.
//! Free-text annotations and lost-write counts are written to the file but never hashed.
//!
//! One JSON object per line, always with `t` (true time, ns) and `ev` (the kind); the remaining
//! fields per kind are listed in ARCHITECTURE.md ("Trace format").

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::io::Write;

use crate::faults::FaultRecord;
use crate::history::Outcome;
use crate::ids::{ClientId, Endpoint, NodeId, RequestId, TimerId};
use crate::time::SimTime;
use crate::trace_hash::{self, TraceHash};

/// A hasher whose output depends only on the sequence of values written, never on the platform
/// (`usize`/`isize` are widened to 64 bits) or on a per-process random key.
#[derive(Clone, Debug)]
pub struct StableHasher {
    state: u64,
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher {
            state: 0x243F_6A88_85A3_08D3,
        }
    }
}

impl StableHasher {
    #[inline]
    pub fn word(&mut self, w: u64) {
        self.state = trace_hash::step(self.state, w);
    }
    /// The final hash, with an avalanche step so that close states give unrelated hashes.
    pub fn digest(&self) -> u64 {
        trace_hash::avalanche(self.state)
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.digest()
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.word(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.word(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.word(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.word(i as u64);
    }
    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.word(i as i64 as u64);
    }
}

/// The hash of one value, for folding a message or an observation into the trace hash.
#[inline]
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    value.hash(&mut h);
    h.state
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// A partition cut the path when the message was sent or when it arrived.
    Partition,
    /// Lost by the link (its drop probability).
    Loss,
    /// The destination was crashed when the message arrived.
    NodeDown,
    /// The topology has no link between the two nodes.
    NoLink,
}

impl DropReason {
    pub const ALL: [DropReason; 4] = [
        DropReason::Partition,
        DropReason::Loss,
        DropReason::NodeDown,
        DropReason::NoLink,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Partition => "partition",
            DropReason::Loss => "loss",
            DropReason::NodeDown => "node-down",
            DropReason::NoLink => "no-link",
        }
    }
}

// Tags that start each event's words in the hash; never renumber (they define the hash).
mod tag {
    pub const SEND: u64 = 1;
    pub const DELIVER: u64 = 2;
    pub const DROP: u64 = 3;
    pub const DUPLICATE: u64 = 4;
    pub const TIMER: u64 = 5;
    pub const CRASH: u64 = 6;
    pub const RESTART: u64 = 7;
    pub const PAUSE: u64 = 8;
    pub const RESUME: u64 = 9;
    pub const CLOCK_JUMP: u64 = 10;
    pub const PARTITION: u64 = 11;
    pub const HEAL: u64 = 12;
    pub const LINK: u64 = 13;
    pub const INVOKE: u64 = 14;
    pub const COMPLETE: u64 = 15;
    pub const OBSERVE: u64 = 16;
    pub const SYNC: u64 = 17;
    pub const PHASE: u64 = 18;
    pub const RETRY: u64 = 19;
    pub const CLOG: u64 = 20;
    pub const STORAGE: u64 = 21;
    pub const REPLAY: u64 = 22;
}

/// One event as the trace sees it: the hash folds its `words`, the trace file
/// shows it as one JSON line. Payloads are hashed when the record is built (see
/// `Record::send`); their `Debug` text is only formatted when a file is written.
#[derive(Clone, Copy)]
pub(crate) enum Record<'a> {
    /// A message enters the network (or is refused by it: a `Drop` with the same id follows).
    Send {
        from: Endpoint,
        to: Endpoint,
        id: u64,
        hash: u64,
        msg: &'a dyn Debug,
    },
    /// A message reaches its destination; `msg` is named (its kind) in the trace file only,
    /// never hashed or formatted without a file.
    Deliver {
        from: Endpoint,
        to: Endpoint,
        id: u64,
        msg: &'a dyn Debug,
    },
    Drop {
        from: Endpoint,
        to: Endpoint,
        id: u64,
        reason: DropReason,
    },
    /// The network queued an extra copy of the message sent next, with this id.
    Duplicate {
        id: u64,
    },
    /// A replay fault sent the delivered message `of` again, as message `id`.
    Replay {
        from: Endpoint,
        to: Endpoint,
        id: u64,
        of: u64,
    },
    Timer {
        node: NodeId,
        id: TimerId,
        hash: u64,
        timer: &'a dyn Debug,
    },
    /// A client sends a request: its first attempt (`retry: false`) or a resend after a
    /// timeout.
    Invoke {
        client: ClientId,
        node: NodeId,
        req: RequestId,
        hash: u64,
        op: &'a dyn Debug,
        retry: bool,
    },
    Complete {
        client: ClientId,
        req: RequestId,
        outcome: &'a Outcome,
    },
    Observe {
        node: NodeId,
        hash: u64,
        what: &'a dyn Debug,
    },
    Sync {
        node: NodeId,
        writes: usize,
    },
    Fault(&'a FaultRecord),
    /// Writes lost at a crash (not hashed).
    LostWrites {
        node: NodeId,
        writes: usize,
    },
    /// A protocol's annotation (not hashed).
    Note {
        node: NodeId,
        text: &'a str,
    },
    /// A coverage situation reached (not hashed): `node` is `None` for the engine's own.
    Reached {
        node: Option<NodeId>,
        name: &'static str,
    },
}

/// What [`Record::emit_words`] hands an event's words to: a fixed-size array per event kind,
/// so that the hashing path folds them without a loop over a runtime length.
pub(crate) trait WordSink {
    fn take<const N: usize>(&mut self, words: [u64; N]);
}

/// An event's hashed words (after its time): a kind tag, then at most four words.
#[cfg(test)]
pub(crate) struct Words {
    w: [u64; 5],
    len: usize,
}

#[cfg(test)]
impl Words {
    fn of<const N: usize>(words: [u64; N]) -> Words {
        let mut w = [0; 5];
        w[..N].copy_from_slice(&words);
        Words { w, len: N }
    }

    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[u64] {
        &self.w[..self.len]
    }
}

impl<'a> Record<'a> {
    /// A message `id` sent from `from` to `to`; its payload is hashed here. Always inline, so
    /// that the record is never laid out in memory: [`Tracer::record`] folds its fields from
    /// registers (out of line, a protocol's large message cost about 30 instructions a send
    /// to build the record, return it and match it again).
    #[inline(always)]
    pub(crate) fn send<M: Hash + Debug>(from: Endpoint, to: Endpoint, id: u64, msg: &'a M) -> Self {
        Record::Send {
            from,
            to,
            id,
            hash: stable_hash(msg),
            msg,
        }
    }

    #[inline]
    pub(crate) fn timer<T: Hash + Debug>(node: NodeId, id: TimerId, timer: &'a T) -> Self {
        Record::Timer {
            node,
            id,
            hash: stable_hash(timer),
            timer,
        }
    }

    #[inline]
    pub(crate) fn invoke<R: Hash + Debug>(
        client: ClientId,
        node: NodeId,
        req: RequestId,
        op: &'a R,
        retry: bool,
    ) -> Self {
        Record::Invoke {
            client,
            node,
            req,
            hash: stable_hash(op),
            op,
            retry,
        }
    }

    #[inline]
    pub(crate) fn observe<O: Hash + Debug>(node: NodeId, what: &'a O) -> Self {
        Record::Observe {
            node,
            hash: stable_hash(what),
            what,
        }
    }

    /// Hands the words this event folds into the trace hash (and the event log) to `sink`, as
    /// one fixed-size array; returns `false`, handing nothing, for the kinds that are not
    /// hashed. The only place an event becomes words: the tags and their order define the
    /// hash, so never renumber or reorder them.
    #[inline(always)]
    pub(crate) fn emit_words(&self, sink: &mut impl WordSink) -> bool {
        let ep = endpoint_word;
        let node = |n: &NodeId| u64::from(n.0);
        match self {
            Record::Send {
                from, to, id, hash, ..
            } => sink.take([tag::SEND, ep(*from), ep(*to), *id, *hash]),
            Record::Deliver { from, to, id, .. } => {
                sink.take([tag::DELIVER, ep(*from), ep(*to), *id])
            }
            Record::Drop {
                from,
                to,
                id,
                reason,
            } => sink.take([tag::DROP, ep(*from), ep(*to), *id, *reason as u64]),
            Record::Duplicate { id } => sink.take([tag::DUPLICATE, *id]),
            Record::Replay { from, to, id, of } => {
                sink.take([tag::REPLAY, ep(*from), ep(*to), *id, *of])
            }
            Record::Timer {
                node: n, id, hash, ..
            } => sink.take([tag::TIMER, node(n), id.0, *hash]),
            Record::Invoke {
                client,
                node: n,
                req,
                hash,
                retry,
                ..
            } => sink.take([
                if *retry { tag::RETRY } else { tag::INVOKE },
                u64::from(client.0),
                node(n),
                *req,
                *hash,
            ]),
            Record::Complete {
                client,
                req,
                outcome,
            } => sink.take([
                tag::COMPLETE,
                u64::from(client.0),
                *req,
                outcome_code(outcome),
                stable_hash(*outcome),
            ]),
            Record::Observe { node: n, hash, .. } => sink.take([tag::OBSERVE, node(n), *hash]),
            Record::Sync { node: n, writes } => sink.take([tag::SYNC, node(n), *writes as u64]),
            Record::Fault(f) => {
                let (code, a, b) = match f {
                    FaultRecord::Crash(n) => (tag::CRASH, node(n), 0),
                    FaultRecord::Restart(n) => (tag::RESTART, node(n), 0),
                    FaultRecord::Pause(n, until) => (tag::PAUSE, node(n), until.0),
                    FaultRecord::Resume(n) => (tag::RESUME, node(n), 0),
                    FaultRecord::ClockJump(n, d) => (tag::CLOCK_JUMP, node(n), *d as u64),
                    FaultRecord::Partition(id, _) => (tag::PARTITION, *id, 0),
                    FaultRecord::RemoveCut(id) => (tag::HEAL, *id, 0),
                    FaultRecord::Heal => (tag::HEAL, 0, 0),
                    FaultRecord::SetLink => (tag::LINK, 1, 0),
                    FaultRecord::ResetLinks => (tag::LINK, 0, 0),
                    FaultRecord::LivenessStart => (tag::PHASE, 1, 0),
                    FaultRecord::Clog(n) => (tag::CLOG, node(n), 1),
                    FaultRecord::Unclog(n) => (tag::CLOG, node(n), 0),
                    FaultRecord::Replay {
                        count, replayed, ..
                    } => (tag::REPLAY, u64::from(*count), u64::from(*replayed)),
                    FaultRecord::Storage(n, f) => {
                        let (what, detail) = f.code();
                        return {
                            sink.take([tag::STORAGE, node(n), what, detail]);
                            true
                        };
                    }
                };
                sink.take([code, a, b])
            }
            Record::LostWrites { .. } | Record::Note { .. } | Record::Reached { .. } => {
                return false
            }
        }
        true
    }

    /// Whether this event is folded into the hash (notes and lost writes are not).
    fn is_hashed(&self) -> bool {
        struct Ignore;
        impl WordSink for Ignore {
            fn take<const N: usize>(&mut self, _: [u64; N]) {}
        }
        self.emit_words(&mut Ignore)
    }

    /// This event's hashed words, or `None` for the kinds that are not hashed (from
    /// [`Record::emit_words`]).
    #[cfg(test)]
    pub(crate) fn words(&self) -> Option<Words> {
        struct Collect(Option<Words>);
        impl WordSink for Collect {
            fn take<const N: usize>(&mut self, words: [u64; N]) {
                self.0 = Some(Words::of(words));
            }
        }
        let mut c = Collect(None);
        self.emit_words(&mut c);
        c.0
    }

    /// The `ev` name of the JSON line.
    fn kind(&self) -> &'static str {
        match self {
            Record::Send { .. } => "send",
            Record::Deliver { .. } => "deliver",
            Record::Drop { .. } => "drop",
            Record::Duplicate { .. } => "duplicate",
            Record::Replay { .. } => "replay",
            Record::Timer { .. } => "timer",
            Record::Invoke { retry: false, .. } => "invoke",
            Record::Invoke { retry: true, .. } => "retry",
            Record::Complete { .. } => "complete",
            Record::Observe { .. } => "observe",
            Record::Sync { .. } => "sync",
            Record::Fault(_) => "fault",
            Record::LostWrites { .. } => "lost-writes",
            Record::Note { .. } => "note",
            Record::Reached { .. } => "reached",
        }
    }

    /// Appends the JSON fields after `"t":…,"ev":"…"` (listed in ARCHITECTURE.md).
    fn json_fields(&self, l: &mut String) {
        use json::*;
        match self {
            Record::Send {
                from, to, id, msg, ..
            } => {
                field_endpoint(l, "from", *from);
                field_endpoint(l, "to", *to);
                field_num(l, "id", id);
                field_debug(l, "msg", msg);
            }
            Record::Deliver { from, to, id, msg } => {
                field_endpoint(l, "from", *from);
                field_endpoint(l, "to", *to);
                field_num(l, "id", id);
                field_kind(l, "kind", msg);
            }
            Record::Drop {
                from,
                to,
                id,
                reason,
            } => {
                field_endpoint(l, "from", *from);
                field_endpoint(l, "to", *to);
                field_num(l, "id", id);
                field_str(l, "reason", reason.name());
            }
            Record::Duplicate { id } => field_num(l, "id", id),
            Record::Replay { from, to, id, of } => {
                field_endpoint(l, "from", *from);
                field_endpoint(l, "to", *to);
                field_num(l, "id", id);
                field_num(l, "of", of);
            }
            Record::Timer {
                node, id, timer, ..
            } => {
                field_node(l, "node", *node);
                field_num(l, "id", id.0);
                field_debug(l, "timer", timer);
            }
            Record::Invoke {
                client,
                node,
                req,
                op,
                ..
            } => {
                field_endpoint(l, "client", Endpoint::Client(*client));
                field_node(l, "node", *node);
                field_num(l, "req", req);
                field_debug(l, "op", op);
            }
            Record::Complete {
                client,
                req,
                outcome,
            } => {
                field_endpoint(l, "client", Endpoint::Client(*client));
                field_num(l, "req", req);
                field_debug(l, "outcome", outcome);
            }
            Record::Observe { node, what, .. } => {
                field_node(l, "node", *node);
                field_debug(l, "what", what);
            }
            Record::Sync { node, writes } | Record::LostWrites { node, writes } => {
                field_node(l, "node", *node);
                field_num(l, "writes", writes);
            }
            Record::Fault(FaultRecord::Storage(n, f)) => field_str(l, "what", &f.describe(*n)),
            Record::Fault(FaultRecord::Replay {
                count,
                remembered,
                replayed,
            }) => field_str(
                l,
                "what",
                &FaultRecord::describe_replay(*count, *remembered, *replayed),
            ),
            Record::Fault(f) => field_debug(l, "what", f),
            Record::Note { node, text } => {
                field_node(l, "node", *node);
                field_str(l, "text", text);
            }
            Record::Reached { node, name } => {
                if let Some(n) = node {
                    field_node(l, "node", *n);
                }
                field_str(l, "situation", name);
            }
        }
    }
}

/// Maps an operation outcome to the word that names it in the hash.
fn outcome_code(o: &Outcome) -> u64 {
    match o {
        Outcome::Ok(_) => 1,
        Outcome::Fail => 2,
        Outcome::Unknown => 3,
    }
}

/// Writes the trace: hashes every event and, when a writer is attached, one JSON line each.
pub struct Tracer {
    hash: TraceHash,
    /// Whether any of `out`, `running`, `log` is set: one test on the hashing path instead of
    /// three, the rest of the work out of line in [`Tracer::record_extras`].
    extras: bool,
    out: Option<Box<dyn Write>>,
    /// When set, the running hash after each event (used to find where two runs diverge).
    running: Option<Vec<u64>>,
    /// When set, every event's hashed words (to say what the diverging events were).
    log: Option<EventLog>,
    /// When set, the JSON lines of the hashed event with this index are kept (see `capture`).
    capture: Option<(u64, Vec<String>)>,
    count: u64,
    io_error: Option<std::io::Error>,
}

impl Tracer {
    pub fn new() -> Tracer {
        Tracer {
            hash: TraceHash::default(),
            extras: false,
            out: None,
            running: None,
            log: None,
            capture: None,
            count: 0,
            io_error: None,
        }
    }

    pub fn set_writer(&mut self, w: Box<dyn Write>) {
        self.out = Some(w);
        self.extras = true;
    }

    /// Keeps the running hash after every event and every event's words (for divergence
    /// reports); taken back with [`Tracer::take_log`].
    pub(crate) fn keep_log(&mut self) {
        self.running = Some(Vec::new());
        self.log = Some(EventLog::default());
        self.extras = true;
    }

    /// The running hashes and the event log kept since [`Tracer::keep_log`].
    pub(crate) fn take_log(&mut self) -> (Option<Vec<u64>>, Option<EventLog>) {
        (self.running.take(), self.log.take())
    }

    /// Keeps the JSON text of the `index`-th hashed event (0-based), to show where two runs
    /// diverged. Formatting is switched on for the whole run, output goes nowhere else.
    pub fn capture(&mut self, index: u64) {
        self.capture = Some((index, Vec::new()));
        if self.out.is_none() {
            self.set_writer(Box::new(std::io::sink()));
        }
    }

    /// The lines kept by [`Tracer::capture`].
    pub fn captured(&self) -> Vec<String> {
        self.capture
            .as_ref()
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }

    /// Whether JSON output is on (handlers use it to skip formatting annotations).
    #[inline]
    pub fn is_writing(&self) -> bool {
        self.out.is_some()
    }

    pub fn digest(&self) -> u64 {
        self.hash.digest()
    }

    /// Number of hashed events so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Records one event at true time `t`: folds its words into the hash, then, only when
    /// something more than the hash is kept (running hashes, the event log, a trace file),
    /// does the rest out of line.
    #[inline(always)]
    pub(crate) fn record(&mut self, t: SimTime, r: Record<'_>) {
        // By value, so that a record's fields stay in registers on the hashing path and are
        // only laid out in memory when a writer needs them.
        struct Fold<'t> {
            hash: &'t mut TraceHash,
            count: &'t mut u64,
            t: SimTime,
        }
        impl WordSink for Fold<'_> {
            #[inline(always)]
            fn take<const N: usize>(&mut self, words: [u64; N]) {
                self.hash.event(self.t.0, words);
                *self.count += 1;
            }
        }
        r.emit_words(&mut Fold {
            hash: &mut self.hash,
            count: &mut self.count,
            t,
        });
        if self.extras {
            // By value: the record is laid out in memory only on this path.
            self.record_extras(t, r);
        }
    }

    /// What [`Tracer::record`] does besides hashing: the running hash and the event's words
    /// (when kept) and its JSON line (when a writer is attached). Kept out of line so that
    /// the hashing path stays small.
    #[cold]
    #[inline(never)]
    fn record_extras(&mut self, t: SimTime, r: Record<'_>) {
        struct Keep<'t> {
            log: &'t mut Option<EventLog>,
            t: SimTime,
        }
        impl WordSink for Keep<'_> {
            fn take<const N: usize>(&mut self, words: [u64; N]) {
                if let Some(log) = self.log {
                    log.push(self.t, &words);
                }
            }
        }
        if r.emit_words(&mut Keep {
            log: &mut self.log,
            t,
        }) {
            if let Some(running) = &mut self.running {
                running.push(self.hash.digest());
            }
        }
        if self.out.is_some() {
            self.write(t, &r);
        }
    }

    /// Writes one event's JSON line (only called with a writer attached).
    fn write(&mut self, t: SimTime, r: &Record<'_>) {
        if let Some(out) = &mut self.out {
            let mut line = String::with_capacity(96);
            line.push_str("{\"t\":");
            line.push_str(&t.0.to_string());
            line.push_str(",\"ev\":\"");
            line.push_str(r.kind());
            line.push('"');
            r.json_fields(&mut line);
            line.push_str("}\n");
            if let Some((index, lines)) = &mut self.capture {
                // Lines that are not hashed (notes, lost-writes) belong to no event index.
                if self.count == *index + 1 && r.is_hashed() {
                    lines.push(line.trim_end().to_string());
                }
            }
            if let Err(e) = out.write_all(line.as_bytes()) {
                self.io_error.get_or_insert(e);
            }
        }
    }

    /// Flushes the writer; returns the first I/O error of the run, if any.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        match self.io_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Default for Tracer {
    fn default() -> Self {
        Tracer::new()
    }
}

/// The hashed words of every event of a run, in order: what a determinism check compares and
/// describes. An event is its true time followed by its words (a kind tag first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventLog {
    words: Vec<u64>,
    /// Where each event's words end in `words`.
    ends: Vec<usize>,
}

impl EventLog {
    fn push(&mut self, t: SimTime, words: &[u64]) {
        self.words.push(t.0);
        self.words.extend_from_slice(words);
        self.ends.push(self.words.len());
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Event `i`: its time and words.
    pub fn event(&self, i: usize) -> Option<(SimTime, &[u64])> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let w = &self.words[start..end];
        Some((SimTime(w[0]), &w[1..]))
    }

    /// Event `i` in words a person reads: `at 0.001000000s: send n0 -> c2, message #14, payload hash 9f…`.
    pub fn describe(&self, i: usize) -> Option<String> {
        let (t, w) = self.event(i)?;
        Some(format!("at {t}: {}", describe_words(w)))
    }
}

/// An endpoint word back as `n3` or `c1`.
fn endpoint_name(w: u64) -> String {
    if w >> 32 == 1 {
        format!("c{}", w & 0xFFFF_FFFF)
    } else {
        format!("n{w}")
    }
}

/// One event's hashed words (after the time) as text.
fn describe_words(w: &[u64]) -> String {
    let at = |i: usize| w.get(i).copied().unwrap_or(0);
    let e = |i: usize| endpoint_name(at(i));
    let hash = |i: usize| format!("{:016x}", at(i));
    match at(0) {
        tag::SEND => format!(
            "send {} -> {}, message #{}, payload hash {}",
            e(1),
            e(2),
            at(3),
            hash(4)
        ),
        tag::DELIVER => format!("deliver {} -> {}, message #{}", e(1), e(2), at(3)),
        tag::DROP => {
            let reason = DropReason::ALL
                .get(at(4) as usize)
                .map_or("?", |r| r.name());
            format!("drop {} -> {}, message #{} ({reason})", e(1), e(2), at(3))
        }
        tag::DUPLICATE => format!("duplicate: extra copy #{}", at(1)),
        tag::TIMER => format!(
            "timer #{} fires on n{}, timer hash {}",
            at(2),
            at(1),
            hash(3)
        ),
        tag::CRASH => format!("crash n{}", at(1)),
        tag::RESTART => format!("restart n{}", at(1)),
        tag::PAUSE => format!("pause n{} until {}", at(1), SimTime(at(2))),
        tag::RESUME => format!("resume n{}", at(1)),
        tag::CLOCK_JUMP => format!("clock jump on n{} by {}ns", at(1), at(2) as i64),
        tag::PARTITION => format!("partition (cut #{})", at(1)),
        tag::HEAL if at(1) == 0 => "heal every partition".to_string(),
        tag::HEAL => format!("heal cut #{}", at(1)),
        tag::LINK if at(1) == 0 => "reset links".to_string(),
        tag::LINK => "link change".to_string(),
        tag::INVOKE => format!(
            "c{} invokes request #{} at n{}, op hash {}",
            at(1),
            at(3),
            at(2),
            hash(4)
        ),
        tag::RETRY => format!(
            "c{} resends request #{} to n{}, op hash {}",
            at(1),
            at(3),
            at(2),
            hash(4)
        ),
        tag::COMPLETE => format!(
            "c{} completes request #{} (outcome {}, hash {})",
            at(1),
            at(2),
            at(3),
            hash(4)
        ),
        tag::OBSERVE => format!("n{} observes (hash {})", at(1), hash(2)),
        tag::SYNC => format!("n{} syncs {} writes", at(1), at(2)),
        tag::PHASE => "liveness phase starts".to_string(),
        tag::STORAGE => {
            let what = match at(2) {
                1 => "torn write",
                2 => "corrupted record",
                3 => "misdirect armed",
                4 => "misdirected write",
                5 => "lose-sync armed",
                6 => "lying sync",
                _ => "storage fault skipped",
            };
            format!("{what} on n{} ({})", at(1), at(3))
        }
        other => format!("event of kind {other}: {w:?}"),
    }
}

/// Hash words naming an endpoint: nodes as their id, clients offset into another range.
#[inline]
fn endpoint_word(e: Endpoint) -> u64 {
    match e {
        Endpoint::Node(n) => u64::from(n.0),
        Endpoint::Client(c) => (1u64 << 32) | u64::from(c.0),
    }
}

/// JSON helpers for the trace writer.
mod json {
    use super::*;

    pub fn field_str(line: &mut String, key: &str, value: &str) {
        line.push_str(",\"");
        line.push_str(key);
        line.push_str("\":\"");
        escape_into(line, value);
        line.push('"');
    }

    pub fn field_num(line: &mut String, key: &str, value: impl std::fmt::Display) {
        use std::fmt::Write as _;
        let _ = write!(line, ",\"{key}\":{value}");
    }

    pub fn field_debug(line: &mut String, key: &str, value: &impl Debug) {
        field_str(line, key, &format!("{value:?}"));
    }

    /// The kind of a message: its `Debug` text up to the first character that is not part of
    /// a name (`AppendEntries { .. }` → `AppendEntries`, `Get { key: 1 }` → `Get`).
    pub fn field_kind(line: &mut String, key: &str, value: &impl Debug) {
        let text = format!("{value:?}");
        let end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(text.len());
        field_str(
            line,
            key,
            text.get(..end).filter(|k| !k.is_empty()).unwrap_or(&text),
        );
    }

    pub fn field_endpoint(line: &mut String, key: &str, e: Endpoint) {
        field_str(line, key, &e.to_string());
    }

    pub fn field_node(line: &mut String, key: &str, n: NodeId) {
        field_str(line, key, &n.to_string());
    }

    pub fn escape_into(out: &mut String, s: &str) {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    use std::fmt::Write as _;
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_hash_is_pinned() {
        // The hash defines "the same run": pin it so an accidental change is noticed.
        let h = stable_hash(&(1u64, "abc", vec![1u32, 2, 3], Some(7i64)));
        assert_eq!(h, stable_hash(&(1u64, "abc", vec![1u32, 2, 3], Some(7i64))));
        assert_ne!(h, stable_hash(&(1u64, "abd", vec![1u32, 2, 3], Some(7i64))));
        assert_eq!(h, PINNED);
    }
    const PINNED: u64 = 14_277_081_064_724_438_285;

    #[test]
    fn order_matters() {
        let mut a = StableHasher::default();
        a.word(1);
        a.word(2);
        let mut b = StableHasher::default();
        b.word(2);
        b.word(1);
        assert_ne!(a.digest(), b.digest());
    }

    /// Every kind of record: the same digest with and without a writer, the event log holds
    /// exactly the hashed words, and the JSON lines keep their pinned shape.
    #[test]
    fn one_record_feeds_hash_log_and_file() {
        use crate::config::Partition;
        let (n1, c2) = (Endpoint::Node(NodeId(1)), Endpoint::Client(ClientId(2)));
        let f1 = FaultRecord::Pause(NodeId(1), SimTime(9));
        let f2 = FaultRecord::Partition(4, Partition::Isolate(NodeId(0)));
        let f3 = FaultRecord::Replay {
            count: 5,
            remembered: 40,
            replayed: 5,
        };
        let ok = Outcome::Ok(crate::Response::Ok);
        let records = [
            Record::send(n1, c2, 7, &(3u64, "op")),
            Record::Deliver {
                from: c2,
                to: n1,
                id: 8,
                msg: &Some(3u64),
            },
            Record::Drop {
                from: n1,
                to: c2,
                id: 9,
                reason: DropReason::NodeDown,
            },
            Record::Duplicate { id: 10 },
            Record::timer(NodeId(0), TimerId(5), &"election"),
            Record::invoke(ClientId(2), NodeId(1), 11, &"get", false),
            Record::invoke(ClientId(2), NodeId(0), 11, &"get", true),
            Record::Complete {
                client: ClientId(2),
                req: 11,
                outcome: &ok,
            },
            Record::observe(NodeId(1), &"leader"),
            Record::Sync {
                node: NodeId(1),
                writes: 2,
            },
            Record::Fault(&f1),
            Record::Fault(&f2),
            Record::LostWrites {
                node: NodeId(1),
                writes: 3,
            },
            Record::Note {
                node: NodeId(0),
                text: "a \"note\"",
            },
            Record::Replay {
                from: n1,
                to: Endpoint::Node(NodeId(0)),
                id: 14,
                of: 7,
            },
            Record::Fault(&f3),
        ];
        let file = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut plain = Tracer::new();
        let mut writing = Tracer::new();
        writing.set_writer(Box::new(Shared(file.clone())));
        writing.log = Some(EventLog::default());
        for (i, r) in records.iter().enumerate() {
            plain.record(SimTime(i as u64), *r);
            writing.record(SimTime(i as u64), *r);
        }
        assert_eq!(plain.digest(), writing.digest());
        assert_eq!(plain.count(), 14, "lost-writes and notes are not hashed");
        let log = writing.log.take().expect("kept");
        let mut hashed = 0;
        for (i, r) in records.iter().enumerate() {
            if let Some(w) = r.words() {
                assert_eq!(log.event(hashed), Some((SimTime(i as u64), w.as_slice())));
                hashed += 1;
            }
        }
        assert_eq!(log.len(), hashed);
        let text = String::from_utf8(file.borrow().clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"t":0,"ev":"send","from":"n1","to":"c2","id":7,"msg":"(3, \"op\")"}"#,
                r#"{"t":1,"ev":"deliver","from":"c2","to":"n1","id":8,"kind":"Some"}"#,
                r#"{"t":2,"ev":"drop","from":"n1","to":"c2","id":9,"reason":"node-down"}"#,
                r#"{"t":3,"ev":"duplicate","id":10}"#,
                r#"{"t":4,"ev":"timer","node":"n0","id":5,"timer":"\"election\""}"#,
                r#"{"t":5,"ev":"invoke","client":"c2","node":"n1","req":11,"op":"\"get\""}"#,
                r#"{"t":6,"ev":"retry","client":"c2","node":"n0","req":11,"op":"\"get\""}"#,
                r#"{"t":7,"ev":"complete","client":"c2","req":11,"outcome":"Ok(Ok)"}"#,
                r#"{"t":8,"ev":"observe","node":"n1","what":"\"leader\""}"#,
                r#"{"t":9,"ev":"sync","node":"n1","writes":2}"#,
                r#"{"t":10,"ev":"fault","what":"Pause(n1, 0.000000009s)"}"#,
                r#"{"t":11,"ev":"fault","what":"Partition(4, Isolate(n0))"}"#,
                r#"{"t":12,"ev":"lost-writes","node":"n1","writes":3}"#,
                r#"{"t":13,"ev":"note","node":"n0","text":"a \"note\""}"#,
                r#"{"t":14,"ev":"replay","from":"n1","to":"n0","id":14,"of":7}"#,
                r#"{"t":15,"ev":"fault","what":"Replay(count: 5): sent again 5 of 40 remembered messages"}"#,
            ]
        );
    }

    /// Every hashed field of every kind of record reaches the trace hash: changing any one of
    /// them (or the event's time) in the middle of a run changes the digest. Pairs of (record,
    /// the same record with one field changed).
    #[test]
    fn changing_any_one_recorded_field_changes_the_hash() {
        let (n1, n2, c2) = (
            Endpoint::Node(NodeId(1)),
            Endpoint::Node(NodeId(2)),
            Endpoint::Client(ClientId(2)),
        );
        let (ok, ok2, fail) = (
            Outcome::Ok(crate::Response::Ok),
            Outcome::Ok(crate::Response::Value(None)),
            Outcome::Fail,
        );
        let faults = [
            FaultRecord::Crash(NodeId(1)),
            FaultRecord::Crash(NodeId(2)),
            FaultRecord::Restart(NodeId(1)),
            FaultRecord::Pause(NodeId(1), SimTime(9)),
            FaultRecord::Pause(NodeId(1), SimTime(10)),
            FaultRecord::ClockJump(NodeId(1), -5),
            FaultRecord::ClockJump(NodeId(1), 5),
            FaultRecord::RemoveCut(3),
            FaultRecord::RemoveCut(4),
        ];
        let [crash1, crash2, restart1, pause9, pause10, jump_back, jump_fwd, cut3, cut4] =
            faults.each_ref();
        let send = |from, to, id, msg: &'static u64| Record::send(from, to, id, msg);
        let deliver = |from, to, id| Record::Deliver {
            from,
            to,
            id,
            msg: &(),
        };
        let dropped = |from, to, id, reason| Record::Drop {
            from,
            to,
            id,
            reason,
        };
        let replay = |from, to, id, of| Record::Replay { from, to, id, of };
        let invoke = |client, node, req, op: &'static &str, retry| {
            Record::invoke(ClientId(client), NodeId(node), req, op, retry)
        };
        let complete = |client, req, outcome| Record::Complete {
            client: ClientId(client),
            req,
            outcome,
        };
        let sync = |node, writes| Record::Sync {
            node: NodeId(node),
            writes,
        };
        let pairs: Vec<(Record<'_>, Record<'_>)> = vec![
            (send(n1, n2, 7, &3), send(n2, n2, 7, &3)),
            (send(n1, n2, 7, &3), send(n1, c2, 7, &3)),
            (send(n1, n2, 7, &3), send(n1, n2, 8, &3)),
            (send(n1, n2, 7, &3), send(n1, n2, 7, &4)),
            (deliver(n1, n2, 7), deliver(c2, n2, 7)),
            (deliver(n1, n2, 7), deliver(n1, n1, 7)),
            (deliver(n1, n2, 7), deliver(n1, n2, 1 << 40)),
            (send(n1, n2, 7, &3), deliver(n1, n2, 7)),
            (
                dropped(n1, n2, 7, DropReason::Loss),
                dropped(n2, n2, 7, DropReason::Loss),
            ),
            (
                dropped(n1, n2, 7, DropReason::Loss),
                dropped(n1, c2, 7, DropReason::Loss),
            ),
            (
                dropped(n1, n2, 7, DropReason::Loss),
                dropped(n1, n2, 6, DropReason::Loss),
            ),
            (
                dropped(n1, n2, 7, DropReason::Loss),
                dropped(n1, n2, 7, DropReason::Partition),
            ),
            (Record::Duplicate { id: 1 }, Record::Duplicate { id: 2 }),
            (replay(n1, n2, 7, 3), replay(n2, n2, 7, 3)),
            (replay(n1, n2, 7, 3), replay(n1, n1, 7, 3)),
            (replay(n1, n2, 7, 3), replay(n1, n2, 8, 3)),
            (replay(n1, n2, 7, 3), replay(n1, n2, 7, 4)),
            (
                Record::timer(NodeId(0), TimerId(5), &"election"),
                Record::timer(NodeId(1), TimerId(5), &"election"),
            ),
            (
                Record::timer(NodeId(0), TimerId(5), &"election"),
                Record::timer(NodeId(0), TimerId(6), &"election"),
            ),
            (
                Record::timer(NodeId(0), TimerId(5), &"election"),
                Record::timer(NodeId(0), TimerId(5), &"heartbeat"),
            ),
            (
                invoke(2, 1, 11, &"get", false),
                invoke(3, 1, 11, &"get", false),
            ),
            (
                invoke(2, 1, 11, &"get", false),
                invoke(2, 0, 11, &"get", false),
            ),
            (
                invoke(2, 1, 11, &"get", false),
                invoke(2, 1, 12, &"get", false),
            ),
            (
                invoke(2, 1, 11, &"get", false),
                invoke(2, 1, 11, &"put", false),
            ),
            (
                invoke(2, 1, 11, &"get", false),
                invoke(2, 1, 11, &"get", true),
            ),
            (complete(2, 11, &ok), complete(3, 11, &ok)),
            (complete(2, 11, &ok), complete(2, 12, &ok)),
            (complete(2, 11, &ok), complete(2, 11, &ok2)),
            (complete(2, 11, &ok), complete(2, 11, &fail)),
            (
                Record::observe(NodeId(1), &"leader"),
                Record::observe(NodeId(2), &"leader"),
            ),
            (
                Record::observe(NodeId(1), &"leader"),
                Record::observe(NodeId(1), &"follower"),
            ),
            (sync(1, 2), sync(2, 2)),
            (sync(1, 2), sync(1, 3)),
            (Record::Fault(crash1), Record::Fault(crash2)),
            (Record::Fault(crash1), Record::Fault(restart1)),
            (Record::Fault(pause9), Record::Fault(pause10)),
            (Record::Fault(jump_back), Record::Fault(jump_fwd)),
            (Record::Fault(cut3), Record::Fault(cut4)),
        ];
        // A run around the changed event: events before and after it, at the same times.
        let digest = |r: Record<'_>, t: u64| {
            let mut tracer = Tracer::new();
            for i in 0..4u64 {
                tracer.record(SimTime(i), deliver(n1, n2, i));
                tracer.record(SimTime(i), send(n2, n1, i + 1, &3));
            }
            tracer.record(SimTime(t), r);
            for i in 4..8u64 {
                tracer.record(SimTime(i), send(n2, n1, i + 1, &3));
            }
            tracer.digest()
        };
        for (i, (a, b)) in pairs.iter().enumerate() {
            assert_ne!(digest(*a, 5), digest(*b, 5), "pair {i}: a changed field");
            assert_ne!(digest(*a, 5), digest(*a, 6), "pair {i}: a changed time");
            assert_eq!(digest(*a, 5), digest(*a, 5));
        }
    }

    #[test]
    fn json_escaping() {
        let mut s = String::new();
        json::escape_into(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, "a\\\"b\\\\c\\nd\\u0001");
    }
}
