//! Writing scenarios back in their own vocabulary: a whole [`Scenario`] as a RON file that
//! [`crate::parse`] reads back to the same configuration (what a shrunk or generated failure
//! is saved as), and each part — a fault, a latency, a workload — as the text a scenario file
//! would hold (what reports print instead of Rust `Debug` text).

use std::fmt::Write as _;

use sim_core::config::{
    ClientConfig, ClientScript, DiskModel, Fault, FaultKind, Group, Latency, LinkConfig,
    NemesisConfig, Partition, ScriptOp, ScriptedRequest, StorageConfig, Survive, TargetPolicy,
    Topology, Workload,
};
use sim_core::faults::{Action, Origin, Planned};
use sim_core::swarm::SwarmConfig;
use sim_core::SimDuration;

use crate::{schedule, Expect, Scenario, EVENTS_MAX_DEFAULT};

/// A duration as a scenario string: `"150ms"`, `"2m"`, `"14.18048ms"` — exact: in whole
/// units when it has them, else as seconds or milliseconds with a decimal fraction.
pub fn duration(d: SimDuration) -> String {
    let whole = d.to_string();
    let ns = d.0;
    if !whole.ends_with("ns") || ns < 1_000_000 {
        return format!("\"{whole}\"");
    }
    let (unit, name) = if ns >= 1_000_000_000 {
        (1_000_000_000u64, "s")
    } else {
        (1_000_000, "ms")
    };
    let digits = unit.ilog10() as usize;
    let frac = format!("{:0digits$}", ns % unit);
    format!("\"{}.{}{name}\"", ns / unit, frac.trim_end_matches('0'))
}

/// A string literal with `"`, `\` and control characters escaped.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float that reads back to the same value: `0.1`, `1.0`.
pub fn float(x: f64) -> String {
    format!("{x:?}")
}

pub fn topology(t: &Topology) -> String {
    match t {
        Topology::FullMesh => "FullMesh".into(),
        Topology::Ring => "Ring".into(),
        Topology::Star { center } => format!("Star(center: {})", center.0),
        Topology::Edges(edges) => {
            let e: Vec<String> = edges
                .iter()
                .map(|(a, b)| format!("({}, {})", a.0, b.0))
                .collect();
            format!("Edges([{}])", e.join(", "))
        }
    }
}

pub fn latency(l: &Latency) -> String {
    match l {
        Latency::Constant(d) => format!("Constant({})", duration(*d)),
        Latency::Uniform { min, max } => {
            format!("Uniform(min: {}, max: {})", duration(*min), duration(*max))
        }
        Latency::Normal { mean, stddev, min } => format!(
            "Normal(mean: {}, stddev: {}, min: {})",
            duration(*mean),
            duration(*stddev),
            duration(*min)
        ),
        Latency::Exponential { min, mean } => format!(
            "Exponential(mean: {}, min: {})",
            duration(*mean),
            duration(*min)
        ),
        Latency::Pareto { scale, shape, max } => format!(
            "Pareto(scale: {}, shape: {}, max: {})",
            duration(*scale),
            float(*shape),
            duration(*max)
        ),
    }
}

/// A link's fields, without parentheses: `latency: ..., drop: 0.1, duplicate: 0.0`.
pub fn link_fields(l: &LinkConfig) -> String {
    format!(
        "latency: {}, drop: {}, duplicate: {}",
        latency(&l.latency),
        float(l.drop),
        float(l.duplicate)
    )
}

/// The most ids one list shows in a report before the rest is summarized in a comment:
/// `[0, 1, 2, 3, 4, 5, 6, 7, /* and 992 more */]`.
pub const IDS_SHOWN_MAX: usize = 8;

/// A list of ids, `[0, 1]`; with a `limit`, longer lists end in a comment saying how many
/// more there are (still RON, for a person to read).
fn ids(all: impl ExactSizeIterator<Item = u32>, limit: Option<usize>) -> String {
    let n = all.len();
    let shown = limit.unwrap_or(n).min(n);
    let mut parts: Vec<String> = all.take(shown).map(|i| i.to_string()).collect();
    if shown < n {
        parts.push(format!("/* and {} more */", n - shown));
    }
    format!("[{}]", parts.join(", "))
}

/// A group of endpoints: `[0, 1]`, or `(nodes: [0], clients: [1])` when it names clients.
pub fn group(g: &Group) -> String {
    group_limited(g, None)
}

fn group_limited(g: &Group, limit: Option<usize>) -> String {
    let nodes = ids(g.nodes.iter().map(|n| n.0), limit);
    if g.clients.is_empty() {
        return nodes;
    }
    let clients = ids(g.clients.iter().map(|c| c.0), limit);
    format!("(nodes: {nodes}, clients: {clients})")
}

/// A partition as a scenario writes it: `Split([[0, 1], [2, 3, 4]])`.
pub fn partition(p: &Partition) -> String {
    partition_limited(p, None)
}

/// A partition for a report: as [`partition`], but each list of more than [`IDS_SHOWN_MAX`]
/// ids shortened (a split of a thousand nodes is not printed id by id).
pub fn partition_short(p: &Partition) -> String {
    partition_limited(p, Some(IDS_SHOWN_MAX))
}

fn partition_limited(p: &Partition, limit: Option<usize>) -> String {
    let group = |g: &Group| group_limited(g, limit);
    match p {
        Partition::Split(groups) => {
            let g: Vec<String> = groups.iter().map(group).collect();
            format!("Split([{}])", g.join(", "))
        }
        Partition::Isolate(n) => format!("Isolate({})", n.0),
        Partition::OneWay { from, to } => {
            format!("OneWay(from: {}, to: {})", group(from), group(to))
        }
        Partition::Bridge {
            left,
            right,
            bridge,
        } => format!(
            "Bridge(left: {}, right: {}, bridge: {})",
            group(left),
            group(right),
            bridge.0
        ),
    }
}

/// Node ids for a report: `n0 n1 n2`, or the first [`IDS_SHOWN_MAX`] and how many more.
pub fn node_list(nodes: &[sim_core::NodeId]) -> String {
    let shown: Vec<String> = nodes
        .iter()
        .take(IDS_SHOWN_MAX)
        .map(|n| format!("n{}", n.0))
        .collect();
    if nodes.len() > IDS_SHOWN_MAX {
        format!(
            "{} and {} more ({} nodes)",
            shown.join(" "),
            nodes.len() - IDS_SHOWN_MAX,
            nodes.len()
        )
    } else {
        shown.join(" ")
    }
}

/// A fault as the schedule writes it: `Crash(2)`, `Pause(node: 1, duration: "200ms")`.
pub fn fault(f: &Fault) -> String {
    fault_limited(f, None)
}

/// A fault for a report: as [`fault`], long lists of ids shortened ([`partition_short`]).
pub fn fault_short(f: &Fault) -> String {
    fault_limited(f, Some(IDS_SHOWN_MAX))
}

fn fault_limited(f: &Fault, limit: Option<usize>) -> String {
    match f {
        Fault::Partition(p) => partition_limited(p, limit),
        Fault::Heal => "Heal".into(),
        Fault::Crash(n) => format!("Crash({})", n.0),
        Fault::Restart(n) => format!("Restart({})", n.0),
        Fault::Clog(n) => format!("Clog({})", n.0),
        Fault::Unclog(n) => format!("Unclog({})", n.0),
        Fault::Replay { from, to, count } => {
            let mut parts = vec![format!("count: {count}")];
            if let Some(n) = from {
                parts.push(format!("from: {}", n.0));
            }
            if let Some(n) = to {
                parts.push(format!("to: {}", n.0));
            }
            format!("Replay({})", parts.join(", "))
        }
        Fault::Pause(n, d) => format!("Pause(node: {}, duration: {})", n.0, duration(*d)),
        Fault::ClockJump(n, by) => {
            let sign = if *by < 0 { "-" } else { "+" };
            let magnitude = duration(SimDuration(by.unsigned_abs()));
            let magnitude = magnitude.trim_matches('"');
            format!("ClockJump(node: {}, by: \"{sign}{magnitude}\")", n.0)
        }
        Fault::SetLink { from, to, link } => {
            let mut parts = Vec::new();
            if let Some(n) = from {
                parts.push(format!("from: {}", n.0));
            }
            if let Some(n) = to {
                parts.push(format!("to: {}", n.0));
            }
            parts.push(link_fields(link));
            format!("SetLink({})", parts.join(", "))
        }
        Fault::ResetLinks => "ResetLinks".into(),
        Fault::TornWrite {
            node,
            survive,
            pick,
            tear_last,
        } => {
            let survive = match survive {
                Survive::Prefix => "Prefix",
                Survive::Subset => "Subset",
            };
            format!(
                "TornWrite(node: {}, survive: {survive}, pick: {pick}, tear_last: {tear_last})",
                node.0
            )
        }
        Fault::Corrupt {
            node,
            nth_from_end,
            silent,
        } => format!(
            "Corrupt(node: {}, nth_from_end: {nth_from_end}, silent: {silent})",
            node.0
        ),
        Fault::Misdirect { node, pick } => format!("Misdirect(node: {}, pick: {pick})", node.0),
        Fault::LoseSync(n) => format!("LoseSync({})", n.0),
        Fault::EndPartition(i) => format!("end of the partition of `faults[{i}]`"),
    }
}

/// A disk model's fields, without parentheses: `sync: ..., read: ..., per_byte: "0"`.
pub fn disk_fields(d: &DiskModel) -> String {
    format!(
        "sync: {}, read: {}, per_byte: {}",
        latency(&d.sync),
        latency(&d.read),
        duration(d.per_byte)
    )
}

/// Every node's disk, as the `storage` field writes it; `None` for free disks everywhere.
pub fn storage(s: &StorageConfig) -> Option<String> {
    if s.is_free() {
        return None;
    }
    let mut out = disk_fields(&s.default);
    if !s.overrides.is_empty() {
        let o: Vec<String> = s
            .overrides
            .iter()
            .map(|(n, d)| format!("(node: {}, {})", n.0, disk_fields(d)))
            .collect();
        let _ = write!(out, ", overrides: [{}]", o.join(", "));
    }
    Some(format!("({out})"))
}

/// A planned action of a run, for reports: `Crash(2)`, `end of partition #3`, with its origin.
pub fn planned(p: &Planned) -> String {
    let what = match &p.action {
        Action::Apply(f, _) => fault_short(f),
        Action::RemoveCut(id) => format!("end of the partition (cut #{id})"),
    };
    let origin = match p.origin {
        Origin::Schedule => "schedule",
        Origin::Nemesis => "nemesis",
    };
    format!("{what} ({origin})")
}

pub fn target(t: &TargetPolicy) -> String {
    match t {
        TargetPolicy::Random => "Random".into(),
        TargetPolicy::Fixed(n) => format!("Fixed({})", n.0),
        TargetPolicy::RoundRobin => "RoundRobin".into(),
        TargetPolicy::Bound => "Bound".into(),
    }
}

pub fn workload(w: &Workload) -> String {
    match w {
        Workload::None => "None".into(),
        Workload::Broadcast {
            interval,
            ops_per_client,
        } => format!(
            "Broadcast(interval: {}, ops_per_client: {ops_per_client})",
            duration(*interval)
        ),
        Workload::KeyValue {
            keys,
            get,
            put,
            cas,
            append,
            interval,
            ops_per_client,
        } => format!(
            "KeyValue(keys: {keys}, get: {get}, put: {put}, cas: {cas}, append: {append}, interval: {}, ops_per_client: {ops_per_client})",
            duration(*interval)
        ),
        Workload::Transactions {
            keys,
            keys_per_txn,
            interval,
            ops_per_client,
        } => format!(
            "Transactions(keys: {keys}, keys_per_txn: {keys_per_txn}, interval: {}, ops_per_client: {ops_per_client})",
            duration(*interval)
        ),
        Workload::Script { interval, clients } => {
            let c: Vec<String> = clients.iter().map(client_script).collect();
            format!(
                "Script(interval: {}, clients: [{}])",
                duration(*interval),
                c.join(", ")
            )
        }
    }
}

/// One scripted operation: `Put(key: 1)`, `Get(key: 1, node: 2)`, `Txn(keys: [0, 3])`.
pub fn script_op(o: &ScriptOp) -> String {
    let (name, mut fields) = match &o.op {
        ScriptedRequest::Broadcast => ("Broadcast", Vec::new()),
        ScriptedRequest::Get(k) => ("Get", vec![format!("key: {k}")]),
        ScriptedRequest::Put(k) => ("Put", vec![format!("key: {k}")]),
        ScriptedRequest::Cas(k) => ("Cas", vec![format!("key: {k}")]),
        ScriptedRequest::Append(k) => ("Append", vec![format!("key: {k}")]),
        ScriptedRequest::Txn(keys) => {
            let k: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            ("Txn", vec![format!("keys: [{}]", k.join(", "))])
        }
    };
    if let Some(n) = o.node {
        fields.push(format!("node: {}", n.0));
    }
    if let Some(at) = o.at {
        fields.push(format!("at: {}", duration(at)));
    }
    format!("{name}({})", fields.join(", "))
}

/// `start: "3ms", ` when a client script starts after time zero.
fn start(c: &ClientScript) -> String {
    if c.start == SimDuration::ZERO {
        String::new()
    } else {
        format!("start: {}, ", duration(c.start))
    }
}

/// One client's script on one line: `(start: "3ms", ops: [Put(key: 1), Get(key: 1)])`.
pub fn client_script(c: &ClientScript) -> String {
    let ops: Vec<String> = c.ops.iter().map(script_op).collect();
    format!("({}ops: [{}])", start(c), ops.join(", "))
}

/// The clients record of a script, one client per line (a few operations per line), each
/// with a comment naming it.
fn script_clients(c: &ClientConfig, interval: SimDuration, scripts: &[ClientScript]) -> String {
    const OPS_PER_LINE: usize = 4;
    let mut s = format!(
        "(\n        count: {}, target: {}, timeout: {}",
        c.count,
        target(&c.target),
        duration(c.timeout)
    );
    if let Some(stop) = c.stop {
        let _ = write!(s, ", stop: {}", duration(stop));
    }
    if c.retries > 0 {
        let _ = write!(s, ", retries: {}", c.retries);
    }
    let _ = write!(
        s,
        ",\n        workload: Script(interval: {}, clients: [\n",
        duration(interval)
    );
    for (i, script) in scripts.iter().enumerate() {
        let n = script.ops.len();
        let _ = writeln!(
            s,
            "            // client {i}: {n} operation{}",
            if n == 1 { "" } else { "s" }
        );
        let _ = write!(s, "            ({}ops: [", start(script));
        for (j, op) in script.ops.iter().enumerate() {
            if j > 0 {
                s.push_str(if j % OPS_PER_LINE == 0 {
                    ",\n                "
                } else {
                    ", "
                });
            }
            s.push_str(&script_op(op));
        }
        s.push_str("]),\n");
    }
    s.push_str("        ]),\n    )");
    s
}

/// The clients' fields: `count: 3, target: Random, ...` (`None` without clients).
pub fn clients(c: &ClientConfig) -> Option<String> {
    if c.count == 0 || c.workload == Workload::None {
        return None;
    }
    let mut s = format!(
        "count: {}, target: {}, timeout: {}, workload: {}",
        c.count,
        target(&c.target),
        duration(c.timeout),
        workload(&c.workload)
    );
    if let Some(stop) = c.stop {
        let _ = write!(s, ", stop: {}", duration(stop));
    }
    if let Some(rate) = c.rate {
        let _ = write!(s, ", rate: {}", float(rate));
    }
    if c.retries > 0 {
        let _ = write!(s, ", retries: {}", c.retries);
    }
    Some(s)
}

fn kind(k: FaultKind) -> &'static str {
    match k {
        FaultKind::Partition => "Partition",
        FaultKind::Crash => "Crash",
        FaultKind::Pause => "Pause",
        FaultKind::ClockJump => "ClockJump",
        FaultKind::Loss => "Loss",
        FaultKind::Duplicate => "Duplicate",
        FaultKind::Clog => "Clog",
        FaultKind::Reorder => "Reorder",
        FaultKind::Replay => "Replay",
        FaultKind::TornWrite => "TornWrite",
        FaultKind::Corrupt => "Corrupt",
        FaultKind::Misdirect => "Misdirect",
        FaultKind::LoseSync => "LoseSync",
    }
}

/// The nemesis's fields: `kinds: [Partition, Crash], interval_mean: "2s", ...`.
pub fn nemesis(n: &NemesisConfig) -> String {
    let kinds: Vec<&str> = n.kinds.iter().map(|k| kind(*k)).collect();
    let mut s = format!(
        "kinds: [{}], interval_mean: {}, duration_mean: {}, down_max: {}, clock_jump_max: {}, loss: {}, duplicate: {}",
        kinds.join(", "),
        duration(n.interval_mean),
        duration(n.duration_mean),
        n.down_max,
        duration(n.clock_jump_max),
        float(n.loss),
        float(n.duplicate)
    );
    if n.silent {
        s.push_str(", silent: true");
    }
    if n.reorder_window != SimDuration::ZERO {
        let _ = write!(s, ", reorder_window: {}", duration(n.reorder_window));
    }
    if n.replay != 0 {
        let _ = write!(s, ", replay: {}", n.replay);
    }
    if n.faults_max != NemesisConfig::FAULTS_MAX_DEFAULT {
        let _ = write!(s, ", faults_max: {}", n.faults_max);
    }
    s
}

/// A swarm's ranges, as `swarm: (...)` holds them.
pub fn swarm(s: &SwarmConfig) -> String {
    let kinds: Vec<&str> = s.kinds.iter().map(|k| kind(*k)).collect();
    let d = |(a, b): (SimDuration, SimDuration)| format!("({}, {})", duration(a), duration(b));
    let p = |(a, b): (f64, f64)| format!("({}, {})", float(a), float(b));
    let mut out = format!(
        "kinds: [{}], interval_mean: {}, duration_mean: {}",
        kinds.join(", "),
        d(s.interval_mean),
        d(s.duration_mean)
    );
    if s.keep != 0.5 {
        let _ = write!(out, ", keep: {}", float(s.keep));
    }
    if s.down_max != (1, 1) {
        let _ = write!(out, ", down_max: ({}, {})", s.down_max.0, s.down_max.1);
    }
    if s.clock_jump_max.1 != SimDuration::ZERO {
        let _ = write!(out, ", clock_jump_max: {}", d(s.clock_jump_max));
    }
    if s.loss != (0.0, 0.0) {
        let _ = write!(out, ", loss: {}", p(s.loss));
    }
    if s.duplicate != (0.0, 0.0) {
        let _ = write!(out, ", duplicate: {}", p(s.duplicate));
    }
    if s.reorder_window.1 != SimDuration::ZERO {
        let _ = write!(out, ", reorder_window: {}", d(s.reorder_window));
    }
    if s.replay.1 != 0 {
        let _ = write!(out, ", replay: ({}, {})", s.replay.0, s.replay.1);
    }
    if let Some(r) = s.drop {
        let _ = write!(out, ", drop: {}", p(r));
    }
    if let Some(r) = s.network_duplicate {
        let _ = write!(out, ", network_duplicate: {}", p(r));
    }
    if !s.latencies.is_empty() {
        let l: Vec<String> = s.latencies.iter().map(latency).collect();
        let _ = write!(out, ", latencies: [{}]", l.join(", "));
    }
    if s.mix {
        out.push_str(", mix: true");
    }
    if s.faults_max != NemesisConfig::FAULTS_MAX_DEFAULT {
        let _ = write!(out, ", faults_max: {}", s.faults_max);
    }
    out
}

/// What a swarm drew for one seed, in the scenario's vocabulary: the nemesis (only the fields
/// its drawn kinds use), the network's default link and, with `mix`, the workload.
pub fn swarm_drawn(s: &SwarmConfig, c: &sim_core::SimConfig) -> String {
    let mut out = String::new();
    if let Some(n) = &c.nemesis {
        let kinds: Vec<&str> = n.kinds.iter().map(|k| kind(*k)).collect();
        let _ = write!(
            out,
            "nemesis: (kinds: [{}], interval_mean: {}, duration_mean: {}",
            kinds.join(", "),
            duration(n.interval_mean),
            duration(n.duration_mean)
        );
        let has = |k| n.kinds.contains(&k);
        if has(FaultKind::Crash) || has(FaultKind::Pause) {
            let _ = write!(out, ", down_max: {}", n.down_max);
        }
        if has(FaultKind::ClockJump) {
            let _ = write!(out, ", clock_jump_max: {}", duration(n.clock_jump_max));
        }
        if has(FaultKind::Loss) {
            let _ = write!(out, ", loss: {}", float(n.loss));
        }
        if has(FaultKind::Duplicate) {
            let _ = write!(out, ", duplicate: {}", float(n.duplicate));
        }
        if has(FaultKind::Reorder) {
            let _ = write!(out, ", reorder_window: {}", duration(n.reorder_window));
        }
        if has(FaultKind::Replay) {
            let _ = write!(out, ", replay: {}", n.replay);
        }
        out.push(')');
    }
    let _ = write!(out, ", network: ({})", link_fields(&c.network.default));
    if s.mix {
        let _ = write!(out, ", workload: {}", workload(&c.clients.workload));
    }
    out
}

pub fn expect(e: &Expect) -> String {
    match e {
        Expect::Pass => "Pass".into(),
        Expect::Violation(names) => {
            let n: Vec<String> = names.iter().map(|s| string(s)).collect();
            format!("Violation([{}])", n.join(", "))
        }
    }
}

/// The whole scenario as a RON file that parses back to the same configuration, protocol,
/// checks and expectation; `comment` lines (if any) head the file.
pub fn scenario(s: &Scenario, comment: &[&str]) -> String {
    let c = &s.config;
    let mut out = String::new();
    for line in comment {
        let _ = writeln!(out, "// {line}");
    }
    out.push_str("Scenario(\n");
    let mut field = |name: &str, value: String| {
        let _ = writeln!(out, "    {name}: {value},");
    };
    field("name", string(&s.name));
    if !s.description.is_empty() {
        field("description", string(&s.description));
    }
    field("seed", c.seed.to_string());
    field("duration", duration(c.duration));
    if let Some(l) = c.liveness {
        field("liveness", duration(l));
    }
    if c.events_max != EVENTS_MAX_DEFAULT {
        field("events_max", c.events_max.to_string());
    }
    if c.queued_max != sim_core::QUEUED_MAX {
        field("queued_max", c.queued_max.to_string());
    }
    field("nodes", c.node_count.to_string());
    if c.topology != Topology::FullMesh {
        field("topology", topology(&c.topology));
    }
    let mut network = link_fields(&c.network.default);
    if !c.network.overrides.is_empty() {
        let o: Vec<String> = c
            .network
            .overrides
            .iter()
            .map(|o| {
                format!(
                    "(from: {}, to: {}, {})",
                    o.from.0,
                    o.to.0,
                    link_fields(&o.link)
                )
            })
            .collect();
        let _ = write!(network, ", overrides: [{}]", o.join(", "));
    }
    field("network", format!("({network})"));
    if c.clocks.offset_max != SimDuration::ZERO || c.clocks.drift_ppm_max != 0 {
        field(
            "clocks",
            format!(
                "(offset_max: {}, drift_ppm_max: {})",
                duration(c.clocks.offset_max),
                c.clocks.drift_ppm_max
            ),
        );
    }
    field("protocol", s.protocol.to_ron());
    match &c.clients.workload {
        Workload::Script {
            interval,
            clients: scripts,
        } if c.clients.count > 0 => {
            field("clients", script_clients(&c.clients, *interval, scripts));
        }
        _ => {
            if let Some(cl) = clients(&c.clients) {
                field("clients", format!("({cl})"));
            }
        }
    }
    if let Some(st) = storage(&c.storage) {
        field("storage", st);
    }
    if !c.faults.is_empty() {
        let mut f = String::from("[\n");
        for e in schedule::from_engine(&c.faults) {
            let until = e
                .until
                .map_or(String::new(), |u| format!(", until: {}", duration(u)));
            let _ = writeln!(
                f,
                "        (at: {}, fault: {}{until}),",
                duration(e.at),
                fault(&e.fault)
            );
        }
        f.push_str("    ]");
        field("faults", f);
    }
    if let Some(n) = &c.nemesis {
        field("nemesis", format!("({})", nemesis(n)));
    }
    if let Some(sw) = &s.swarm {
        field("swarm", format!("({})", swarm(sw)));
    }
    if !s.checks.is_empty() {
        let ch: Vec<String> = s.checks.iter().map(|c| c.to_ron()).collect();
        field("checks", format!("[{}]", ch.join(", ")));
    }
    field("expect", expect(&s.expect));
    if !s.expect_reached.is_empty() {
        let names: Vec<String> = s.expect_reached.iter().map(|n| string(n)).collect();
        field("expect_reached", format!("[{}]", names.join(", ")));
    }
    out.push_str(")\n");
    out
}
