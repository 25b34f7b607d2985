//! The engine's configuration: everything a run needs besides the protocol and the seed.
//!
//! These are plain, already-validated Rust values. The `scenarios` crate parses RON files into
//! them (checking ranges and reporting errors with positions); tests and benchmarks build them
//! directly. The engine asserts, rather than re-validates, what validation promised.

use crate::{ClientId, NodeId, Service, SimDuration};

/// One whole run's configuration.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub node_count: u32,
    /// Length of the fault phase (the nemesis and the fault schedule act only within it).
    pub duration: SimDuration,
    /// When set, every fault heals at `duration` and the run continues this long: the liveness
    /// phase, on which the checks that need progress are judged.
    pub liveness: Option<SimDuration>,
    /// The run stops after this many events even if simulated time remains.
    pub events_max: u64,
    /// Most events queued at once (capped at [`crate::QUEUED_MAX`], the default): a handler
    /// that would queue more stops the run there, with [`crate::RunResult::hit_queued_max`]
    /// set — an event storm (every message answered with more than one) ends as a finding,
    /// not as the process running out of memory.
    pub queued_max: usize,
    pub topology: Topology,
    pub network: NetworkConfig,
    pub clocks: ClockConfig,
    pub clients: ClientConfig,
    /// Each node's disk: how long syncs and reads take. Zero-cost by default.
    pub storage: StorageConfig,
    pub faults: Vec<ScheduledFault>,
    pub nemesis: Option<NemesisConfig>,
}

impl SimConfig {
    /// A fault-free full mesh of `node_count` nodes with a constant 1 ms latency and no clients.
    pub fn basic(node_count: u32, duration: SimDuration) -> SimConfig {
        SimConfig {
            seed: 0,
            node_count,
            duration,
            liveness: None,
            events_max: u64::MAX,
            queued_max: crate::QUEUED_MAX,
            topology: Topology::FullMesh,
            network: NetworkConfig::default(),
            clocks: ClockConfig::default(),
            clients: ClientConfig::default(),
            storage: StorageConfig::default(),
            faults: Vec::new(),
            nemesis: None,
        }
    }

    /// Simulated time at which the run ends.
    pub fn end_time(&self) -> SimDuration {
        match self.liveness {
            Some(l) => self.duration + l,
            None => self.duration,
        }
    }

    /// Checks what the engine relies on: every node and client id a field names is in range,
    /// every probability is in `[0, 1]`, latency distributions and workloads can be sampled.
    /// The error names the first bad field, e.g. `faults[2].fault: node n7 is out of range
    /// (node_count 5)`. [`crate::Simulation::new`] panics on an error: a configuration that
    /// fails here is a caller's bug (the `scenarios` crate reports file errors before this).
    pub fn check(&self) -> Result<(), String> {
        let n = self.node_count;
        let clients = self.clients.count;
        let node = |field: &str, id: NodeId| -> Result<(), String> {
            if id.0 < n {
                Ok(())
            } else {
                Err(format!(
                    "{field}: node {id} is out of range (node_count {n})"
                ))
            }
        };
        let group = |field: &str, g: &Group| -> Result<(), String> {
            for (i, &id) in g.nodes.iter().enumerate() {
                node(&format!("{field}.nodes[{i}]"), id)?;
            }
            for (i, &c) in g.clients.iter().enumerate() {
                if c.0 >= clients {
                    return Err(format!(
                        "{field}.clients[{i}]: client {c} is out of range (clients.count {clients})"
                    ));
                }
            }
            Ok(())
        };
        if n == 0 {
            return Err("node_count: a simulation needs at least one node".to_string());
        }
        match &self.topology {
            Topology::FullMesh | Topology::Ring => {}
            Topology::Star { center } => node("topology.center", *center)?,
            Topology::Edges(edges) => {
                for (i, &(a, b)) in edges.iter().enumerate() {
                    node(&format!("topology.edges[{i}]"), a)?;
                    node(&format!("topology.edges[{i}]"), b)?;
                }
            }
        }
        check_link("network.default", &self.network.default)?;
        for (i, o) in self.network.overrides.iter().enumerate() {
            let field = format!("network.overrides[{i}]");
            node(&format!("{field}.from"), o.from)?;
            node(&format!("{field}.to"), o.to)?;
            check_link(&format!("{field}.link"), &o.link)?;
        }
        if let TargetPolicy::Fixed(id) = self.clients.target {
            node("clients.target", id)?;
        }
        match self.clients.workload {
            Workload::KeyValue {
                keys,
                get,
                put,
                cas,
                append,
                ..
            } => {
                if keys == 0 {
                    return Err("clients.workload.keys: a key-value workload needs keys".into());
                }
                if u64::from(get) + u64::from(put) + u64::from(cas) + u64::from(append) == 0 {
                    return Err("clients.workload: the get/put/cas/append weights are all 0".into());
                }
            }
            Workload::Transactions {
                keys, keys_per_txn, ..
            } => {
                let most = keys.min(crate::txn::KEYS_PER_TXN_MAX);
                if keys_per_txn == 0 || keys_per_txn > most {
                    return Err(format!(
                        "clients.workload.keys_per_txn: {keys_per_txn} is not in 1..={most} (keys {keys})"
                    ));
                }
            }
            Workload::Script {
                clients: ref scripts,
                ..
            } => check_script(scripts, clients, n)?,
            Workload::None | Workload::Broadcast { .. } => {}
        }
        if let Some(rate) = self.clients.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(format!("clients.rate: {rate} is not a positive number"));
            }
        }
        check_disk("storage.default", &self.storage.default)?;
        for (i, (id, disk)) in self.storage.overrides.iter().enumerate() {
            let field = format!("storage.overrides[{i}]");
            node(&format!("{field}.node"), *id)?;
            check_disk(&field, disk)?;
        }
        for (i, f) in self.faults.iter().enumerate() {
            let field = format!("faults[{i}].fault");
            match &f.fault {
                Fault::Crash(id) | Fault::Restart(id) | Fault::Pause(id, _) => node(&field, *id)?,
                Fault::TornWrite { node: id, .. }
                | Fault::Corrupt { node: id, .. }
                | Fault::Misdirect { node: id, .. }
                | Fault::LoseSync(id) => node(&field, *id)?,
                Fault::Clog(id) | Fault::Unclog(id) => node(&field, *id)?,
                Fault::ClockJump(id, _) => node(&field, *id)?,
                Fault::Partition(p) => match p {
                    Partition::Split(groups) => {
                        for (g, grp) in groups.iter().enumerate() {
                            group(&format!("{field}.groups[{g}]"), grp)?;
                        }
                    }
                    Partition::Isolate(id) => node(&field, *id)?,
                    Partition::OneWay { from, to } => {
                        group(&format!("{field}.from"), from)?;
                        group(&format!("{field}.to"), to)?;
                    }
                    Partition::Bridge {
                        left,
                        right,
                        bridge,
                    } => {
                        group(&format!("{field}.left"), left)?;
                        group(&format!("{field}.right"), right)?;
                        node(&format!("{field}.bridge"), *bridge)?;
                    }
                },
                Fault::SetLink { from, to, link } => {
                    if let Some(id) = from {
                        node(&format!("{field}.from"), *id)?;
                    }
                    if let Some(id) = to {
                        node(&format!("{field}.to"), *id)?;
                    }
                    check_link(&format!("{field}.link"), link)?;
                }
                Fault::EndPartition(index) => {
                    let ends_a_partition =
                        *index < i && matches!(self.faults[*index].fault, Fault::Partition(_));
                    if !ends_a_partition {
                        return Err(format!(
                            "{field}: faults[{index}] is not an earlier partition"
                        ));
                    }
                }
                Fault::Replay { from, to, count } => {
                    for (end, id) in [("from", from), ("to", to)] {
                        if let Some(id) = id {
                            node(&format!("{field}.{end}"), *id)?;
                        }
                    }
                    check_replay_count(&format!("{field}.count"), *count)?;
                }
                Fault::Heal | Fault::ResetLinks => {}
            }
        }
        if let Some(nem) = &self.nemesis {
            if nem.kinds.contains(&FaultKind::Replay) {
                check_replay_count("nemesis.replay", nem.replay)?;
            }
            check_probability("nemesis.loss", nem.loss)?;
            check_probability("nemesis.duplicate", nem.duplicate)?;
        }
        Ok(())
    }
}

/// How many delivered node-to-node messages the engine remembers for [`Fault::Replay`] (the
/// most recent ones, in one ring shared by every link): the replay fault's memory is bounded
/// whatever the run's length. Nothing is remembered unless the run can replay.
pub const REPLAY_REMEMBERED: usize = 1024;

/// A replay re-delivers between 1 and [`REPLAY_REMEMBERED`] messages.
fn check_replay_count(field: &str, count: u32) -> Result<(), String> {
    if count == 0 || count as usize > REPLAY_REMEMBERED {
        return Err(format!(
            "{field}: {count} is not in 1..={REPLAY_REMEMBERED} (the messages remembered)"
        ));
    }
    Ok(())
}

/// A script names a list per client, node ids in range, and one service; each transaction's
/// keys are distinct and at most [`crate::txn::KEYS_PER_TXN_MAX`].
fn check_script(scripts: &[ClientScript], clients: u32, nodes: u32) -> Result<(), String> {
    if scripts.len() != clients as usize {
        return Err(format!(
            "clients.workload.clients: {} scripts for {clients} clients",
            scripts.len()
        ));
    }
    let mut service = None;
    for (c, script) in scripts.iter().enumerate() {
        for (i, op) in script.ops.iter().enumerate() {
            let field = format!("clients.workload.clients[{c}].ops[{i}]");
            if let Some(n) = op.node {
                if n.0 >= nodes {
                    return Err(format!(
                        "{field}: node {n} is out of range (node_count {nodes})"
                    ));
                }
            }
            if *service.get_or_insert(op.op.service()) != op.op.service() {
                return Err(format!("{field}: a script uses one service"));
            }
            if let ScriptedRequest::Txn(keys) = &op.op {
                let distinct = keys.windows(2).all(|w| w[0] < w[1]);
                if keys.is_empty()
                    || !distinct
                    || keys.len() > crate::txn::KEYS_PER_TXN_MAX as usize
                {
                    return Err(format!(
                        "{field}: a transaction names 1..={} distinct keys in increasing order",
                        crate::txn::KEYS_PER_TXN_MAX
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_probability(field: &str, p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("{field}: probability {p} is outside [0, 1]"))
    }
}

fn check_link(field: &str, link: &LinkConfig) -> Result<(), String> {
    check_probability(&format!("{field}.drop"), link.drop)?;
    check_probability(&format!("{field}.duplicate"), link.duplicate)?;
    check_latency(&format!("{field}.latency"), &link.latency)
}

fn check_disk(field: &str, disk: &DiskModel) -> Result<(), String> {
    check_latency(&format!("{field}.sync"), &disk.sync)?;
    check_latency(&format!("{field}.read"), &disk.read)
}

fn check_latency(field: &str, l: &Latency) -> Result<(), String> {
    match *l {
        Latency::Uniform { min, max } if min > max => {
            Err(format!("{field}: uniform min {min} is above max {max}"))
        }
        Latency::Pareto { shape, .. } if !(shape.is_finite() && shape > 0.0) => Err(format!(
            "{field}: pareto shape {shape} is not a positive number"
        )),
        _ => Ok(()),
    }
}

/// Which nodes are linked. Clients reach every node (subject to partitions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Every node linked to every other; implicit, no edges stored.
    FullMesh,
    /// Node i linked to i±1 (mod n).
    Ring,
    /// Every node linked to `center` only.
    Star { center: NodeId },
    /// Exactly these undirected edges.
    Edges(Vec<(NodeId, NodeId)>),
}

/// A latency distribution. All parameters are durations; samples are clamped to ≥ 0.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    Constant(SimDuration),
    /// Uniform over `[min, max]` (integer nanoseconds).
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    /// Normal with this mean and standard deviation, truncated at `min` (a floor, default 0).
    Normal {
        mean: SimDuration,
        stddev: SimDuration,
        min: SimDuration,
    },
    /// `min` plus an exponential with mean `mean`.
    Exponential {
        min: SimDuration,
        mean: SimDuration,
    },
    /// Pareto (long tail): `scale / U^(1/shape)`, capped at `max`.
    Pareto {
        scale: SimDuration,
        shape: f64,
        max: SimDuration,
    },
}

/// How one directed link behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    pub latency: Latency,
    /// Probability that a message is lost.
    pub drop: f64,
    /// Probability that a delivered message is delivered twice (the copy with its own latency).
    pub duplicate: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::Constant(SimDuration::from_millis(1)),
            drop: 0.0,
            duplicate: 0.0,
        }
    }
}

/// A per-link override: messages from `from` to `to` use `link` instead of the default.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkOverride {
    pub from: NodeId,
    pub to: NodeId,
    pub link: LinkConfig,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkConfig {
    /// Every link between nodes, and between clients and nodes, unless overridden.
    pub default: LinkConfig,
    pub overrides: Vec<LinkOverride>,
}

/// Bounds within which each node's clock offset and drift are drawn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClockConfig {
    /// Each node's offset is uniform in `[-offset_max, +offset_max]`.
    pub offset_max: SimDuration,
    /// Each node's drift is uniform in `[-drift_ppm_max, +drift_ppm_max]` parts per million.
    pub drift_ppm_max: u32,
}

/// Which node a client sends a request to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TargetPolicy {
    /// A uniformly random node for each request.
    #[default]
    Random,
    /// Always this node.
    Fixed(NodeId),
    /// Client i starts at node i mod n and moves to the next node after each request.
    RoundRobin,
    /// Client i always sends to node i mod n (a Jepsen-style binding of clients to nodes;
    /// redirects are still followed). Clients in a partition group then stay with nodes on
    /// their side when the groups are laid out that way.
    Bound,
}

/// What the clients do.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Workload {
    /// No clients.
    #[default]
    None,
    /// Each client broadcasts fresh unique values: one at a time, waiting `interval` between
    /// the completion of one request and the next, at most `ops_per_client` of them.
    Broadcast {
        interval: SimDuration,
        ops_per_client: u32,
    },
    /// Each client reads, writes, compare-and-sets and appends to keys `0..keys`: one request
    /// at a time, waiting `interval` between the completion of one request and the next (or
    /// arriving at the clients' open-loop `rate`), at most `ops_per_client` of them. Each
    /// request is a get, a put, a cas or an append with probability proportional to the
    /// weights `get`, `put`, `cas` and `append` (their sum is positive).
    KeyValue {
        keys: u32,
        get: u32,
        put: u32,
        cas: u32,
        append: u32,
        interval: SimDuration,
        ops_per_client: u32,
    },
    /// Each client runs transactions that atomically increment `keys_per_txn` distinct keys
    /// drawn from `0..keys` (see [`crate::txn`]): one at a time, waiting `interval` between
    /// the completion of one and the next, at most `ops_per_client` of them.
    Transactions {
        keys: u32,
        keys_per_txn: u32,
        interval: SimDuration,
        ops_per_client: u32,
    },
    /// Each client runs its own explicit list of operations instead of drawing them: client
    /// `i` first acts at `clients[i].start` and then issues `clients[i].ops` in order, one at
    /// a time, `interval` after each completion (see [`crate::script`]). A shrunk failure's
    /// clients are written this way, so that removing one operation leaves the others as
    /// they were.
    Script {
        interval: SimDuration,
        clients: Vec<ClientScript>,
    },
}

/// One client's explicit operations (see [`Workload::Script`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientScript {
    /// When the client first acts.
    pub start: SimDuration,
    pub ops: Vec<ScriptOp>,
}

/// One scripted operation: what to ask and, optionally, which node to ask (otherwise the
/// clients' target policy chooses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOp {
    pub op: ScriptedRequest,
    pub node: Option<NodeId>,
    /// Not sent before this time: a client free earlier waits (a shrunk run keeps each
    /// operation where it was when an earlier one is removed).
    pub at: Option<SimDuration>,
}

/// A scripted request. Written values are not named: each is fresh when the request is sent
/// (unique across the run, as in the drawn workloads), and a cas expects what its client
/// last saw of the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptedRequest {
    Broadcast,
    Get(crate::Key),
    Put(crate::Key),
    Cas(crate::Key),
    Append(crate::Key),
    /// Increment these distinct keys atomically.
    Txn(Vec<crate::Key>),
}

impl ScriptedRequest {
    pub fn service(&self) -> Service {
        match self {
            ScriptedRequest::Broadcast => Service::Broadcast,
            ScriptedRequest::Get(_)
            | ScriptedRequest::Put(_)
            | ScriptedRequest::Cas(_)
            | ScriptedRequest::Append(_) => Service::KeyValue,
            ScriptedRequest::Txn(_) => Service::Transaction,
        }
    }
}

impl Workload {
    pub fn service(&self) -> Option<Service> {
        match self {
            Workload::None => None,
            Workload::Broadcast { .. } => Some(Service::Broadcast),
            Workload::KeyValue { .. } => Some(Service::KeyValue),
            Workload::Transactions { .. } => Some(Service::Transaction),
            Workload::Script { clients, .. } => clients
                .iter()
                .flat_map(|c| c.ops.first())
                .map(|o| o.op.service())
                .next(),
        }
    }

    /// The pause between the completion of one request and the client's next one.
    pub fn interval(&self) -> SimDuration {
        match self {
            Workload::None => SimDuration::ZERO,
            Workload::Broadcast { interval, .. } | Workload::KeyValue { interval, .. } => *interval,
            Workload::Transactions { interval, .. } | Workload::Script { interval, .. } => {
                *interval
            }
        }
    }

    /// The most requests one client issues (for a script: the longest client's).
    pub fn ops_per_client(&self) -> u32 {
        match self {
            Workload::None => 0,
            Workload::Broadcast { ops_per_client, .. }
            | Workload::KeyValue { ops_per_client, .. } => *ops_per_client,
            Workload::Transactions { ops_per_client, .. } => *ops_per_client,
            Workload::Script { clients, .. } => clients
                .iter()
                .map(|c| c.ops.len() as u32)
                .max()
                .unwrap_or(0),
        }
    }

    /// The most requests client `c` issues.
    pub fn ops_of(&self, c: ClientId) -> u32 {
        match self {
            Workload::Script { clients, .. } => {
                clients.get(c.index()).map_or(0, |s| s.ops.len() as u32)
            }
            w => w.ops_per_client(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientConfig {
    pub count: u32,
    pub target: TargetPolicy,
    pub workload: Workload,
    /// A request with no reply after this long is resent (see `retries`) or recorded as
    /// unknown (indeterminate).
    pub timeout: SimDuration,
    /// Clients issue no new request after this time (default: the end of the fault phase).
    pub stop: Option<SimDuration>,
    /// Open loop: each client's requests arrive at this many per second (exponential gaps),
    /// whether or not the previous one has completed; a client still waiting on a reply queues
    /// the arrival and sends it as soon as the reply (or its timeout) comes. `None`: closed
    /// loop, the next request `interval` after the previous completes.
    pub rate: Option<f64>,
    /// After a timeout, send the same request (same request id, so the service can recognise
    /// it) again this many times — to the next node, or the same node for `Bound` and `Fixed`
    /// targets — each with a fresh timeout, before recording it as unknown.
    pub retries: u32,
}

/// A set of endpoints named in a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub nodes: Vec<NodeId>,
    pub clients: Vec<ClientId>,
}

/// The shape of a network partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partition {
    /// No messages between different groups. Every node must be in exactly one group;
    /// clients not named in any group keep reaching every node.
    Split(Vec<Group>),
    /// One node cut off from every other endpoint, both ways.
    Isolate(NodeId),
    /// Messages from `from` to `to` are lost; the reverse direction still works.
    OneWay { from: Group, to: Group },
    /// `left` and `right` cannot talk to each other, but `bridge` (in neither) talks to both.
    Bridge {
        left: Group,
        right: Group,
        bridge: NodeId,
    },
}

/// One fault action.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Add a partition (partitions accumulate until healed).
    Partition(Partition),
    /// Remove every partition.
    Heal,
    Crash(NodeId),
    Restart(NodeId),
    /// Freeze the node for this long; its timers and messages wait until it resumes.
    Pause(NodeId, SimDuration),
    /// Step the node's clock by this many nanoseconds (negative = backwards).
    ClockJump(NodeId, i64),
    /// Change one directed link's behaviour (`None` = every link): latency and/or loss.
    SetLink {
        from: Option<NodeId>,
        to: Option<NodeId>,
        link: LinkConfig,
    },
    /// Restore every link to the scenario's network configuration.
    ResetLinks,
    /// Remove exactly the partition that the earlier schedule entry `faults[index]` added,
    /// leaving any other in place (a scenario file writes it as `until:` on that entry; the
    /// nemesis ends its own partitions the same way).
    EndPartition(usize),
    /// Clog every link to and from the node: messages on them are neither delivered nor
    /// dropped but held, and released in a burst when the node is unclogged (FoundationDB's
    /// swizzle-clogging clogs a set of nodes one by one and unclogs them in another order).
    Clog(NodeId),
    /// Release a clogged node's links: each held message is sent on with its drawn latency.
    Unclog(NodeId),
    /// Deliver again up to `count` node-to-node messages picked at random among the last
    /// [`REPLAY_REMEMBERED`] delivered (those from `from` to `to`, `None` = any node), each
    /// after a fresh latency of its link: a message from the past arrives a second time
    /// (TigerBeetle's packet simulator replays packets).
    Replay {
        from: Option<NodeId>,
        to: Option<NodeId>,
        count: u32,
    },
    /// A crash that tears the node's unsynced (and in-flight) writes: a prefix of them, or a
    /// random subset, survives (`pick` chooses which, see [`Survive`]); with `tear_last`, the
    /// last surviving write of a damageable record is torn (reads back as damaged).
    TornWrite {
        node: NodeId,
        survive: Survive,
        pick: u64,
        tear_last: bool,
    },
    /// Damages one synced record on the node's disk (a bit flip or a latent sector error): the
    /// `nth_from_end`-th damageable record counted from the last in key order (wrapping round
    /// when the node holds fewer), within the fault atlas. It reads back as detectably damaged
    /// through the checksummed API, or, when `silent`, as a wrong value the checksum passes
    /// (where the protocol says how its records garble, else detectably). The node sees it
    /// when it next reads its disk: after its next restart.
    Corrupt {
        node: NodeId,
        nth_from_end: u32,
        silent: bool,
    },
    /// The node's next synced write of a damageable record lands on another of its records
    /// (`pick` chooses which): both read back as damaged.
    Misdirect {
        node: NodeId,
        pick: u32,
    },
    /// The node's next sync reports success but persists none of the damageable records it
    /// covers: after the node's next crash they read back as damaged (their keys survive).
    LoseSync(NodeId),
}

/// Which of a crashing node's unsynced writes survive a torn write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Survive {
    /// The first `pick mod (writes + 1)` writes, in the order they were made.
    Prefix,
    /// Each write independently, on a coin drawn from a stream seeded by `pick`.
    Subset,
}

impl Fault {
    /// Whether the fault takes its node down (a crash of some kind).
    pub fn crashes(&self) -> Option<NodeId> {
        match *self {
            Fault::Crash(n) | Fault::TornWrite { node: n, .. } => Some(n),
            _ => None,
        }
    }
}

/// A fault at a fixed time.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFault {
    pub at: SimDuration,
    pub fault: Fault,
}

/// The kinds of fault the nemesis may inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    Partition,
    Crash,
    Pause,
    ClockJump,
    Loss,
    Duplicate,
    /// Swizzle-clog: clog a random set of nodes one by one, unclog them in another order.
    Clog,
    /// Heavy reordering: every link's latency becomes uniform over `[0, reorder_window]`.
    Reorder,
    /// Already-delivered messages delivered again: `replay` of the recently delivered ones.
    Replay,
    /// A crash that tears the unsynced writes, then a restart.
    TornWrite,
    /// A crash, a damaged synced record while the node is down, then a restart.
    Corrupt,
    /// A write that lands on another record, then a crash and a restart.
    Misdirect,
    /// A sync that lies, then a crash and a restart.
    LoseSync,
}

impl FaultKind {
    pub const ALL: [FaultKind; 13] = [
        FaultKind::Partition,
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::ClockJump,
        FaultKind::Loss,
        FaultKind::Duplicate,
        FaultKind::Clog,
        FaultKind::Reorder,
        FaultKind::Replay,
        FaultKind::TornWrite,
        FaultKind::Corrupt,
        FaultKind::Misdirect,
        FaultKind::LoseSync,
    ];
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Crash => "crash",
            FaultKind::Pause => "pause",
            FaultKind::ClockJump => "clock_jump",
            FaultKind::Loss => "loss",
            FaultKind::Duplicate => "duplicate",
            FaultKind::Clog => "clog",
            FaultKind::Reorder => "reorder",
            FaultKind::Replay => "replay",
            FaultKind::TornWrite => "torn_write",
            FaultKind::Corrupt => "corrupt",
            FaultKind::Misdirect => "misdirect",
            FaultKind::LoseSync => "lose_sync",
        }
    }

    /// Whether the kind takes a node down for a while (and so counts against `down_max`).
    pub fn takes_node_down(self) -> bool {
        !matches!(
            self,
            FaultKind::Partition
                | FaultKind::ClockJump
                | FaultKind::Loss
                | FaultKind::Duplicate
                | FaultKind::Clog
                | FaultKind::Reorder
                | FaultKind::Replay
        )
    }

    /// Whether the kind damages storage.
    pub fn is_storage(self) -> bool {
        matches!(
            self,
            FaultKind::TornWrite | FaultKind::Corrupt | FaultKind::Misdirect | FaultKind::LoseSync
        )
    }
}

/// A random fault injector, drawn from the seed before the run starts.
#[derive(Clone, Debug, PartialEq)]
pub struct NemesisConfig {
    pub kinds: Vec<FaultKind>,
    /// Mean time between the starts of two faults (exponentially distributed).
    pub interval_mean: SimDuration,
    /// Mean length of one fault (exponentially distributed).
    pub duration_mean: SimDuration,
    /// At most this many nodes crashed or paused at once.
    pub down_max: u32,
    /// Clock jumps are uniform in `[-clock_jump_max, +clock_jump_max]`.
    pub clock_jump_max: SimDuration,
    /// Loss probability while a `loss` fault lasts.
    pub loss: f64,
    /// Duplicate probability while a `duplicate` fault lasts.
    pub duplicate: f64,
    /// `corrupt` faults are silent (a wrong value the checksum passes) rather than detectable.
    pub silent: bool,
    /// While a `reorder` fault lasts every link's latency is uniform over `[0, reorder_window]`.
    pub reorder_window: SimDuration,
    /// How many already-delivered messages one `replay` fault delivers again.
    pub replay: u32,
    /// The most faults the nemesis plans in one run: it stops drawing there (see
    /// [`crate::faults::plan`]), so that no rate, however absurd, makes the plan unbounded.
    pub faults_max: u32,
}

impl NemesisConfig {
    /// `faults_max` when a scenario does not say: ten thousand faults, a fault every 6 ms
    /// over a minute.
    pub const FAULTS_MAX_DEFAULT: u32 = 10_000;
    /// The largest `faults_max` a scenario may ask for.
    pub const FAULTS_MAX_LIMIT: u32 = 1_000_000;
}

/// A node's disk: how long its syncs and reads take.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskModel {
    /// Time a sync takes, from its start (or the end of the sync before it) to durability.
    pub sync: Latency,
    /// Time to read one record back (charged when a process reads its storage).
    pub read: Latency,
    /// Time per byte written or read (a record's size is the length of its `Debug` text).
    pub per_byte: SimDuration,
}

impl Default for DiskModel {
    /// A free disk: syncs and reads take no time.
    fn default() -> Self {
        DiskModel {
            sync: Latency::Constant(SimDuration::ZERO),
            read: Latency::Constant(SimDuration::ZERO),
            per_byte: SimDuration::ZERO,
        }
    }
}

impl DiskModel {
    /// Whether every operation of this disk takes no time.
    pub fn is_free(&self) -> bool {
        *self == DiskModel::default()
    }
}

/// Every node's disk: a default and per-node exceptions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageConfig {
    pub default: DiskModel,
    pub overrides: Vec<(NodeId, DiskModel)>,
}

impl StorageConfig {
    /// The disk of `node`.
    pub fn disk(&self, node: NodeId) -> &DiskModel {
        self.overrides
            .iter()
            .rev()
            .find(|(n, _)| *n == node)
            .map_or(&self.default, |(_, d)| d)
    }

    /// Whether every node's disk is free (the engine then keeps no disk state at all).
    pub fn is_free(&self) -> bool {
        self.default.is_free() && self.overrides.iter().all(|(_, d)| d.is_free())
    }
}
