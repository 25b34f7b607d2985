//! Validation: a deserialized `ScenarioFile` becomes a checked `Scenario`, or the first rule it
//! breaks becomes a `ScenarioError` pointing at the offending value.
//!
//! The engine asserts rather than re-checks what is promised here (sim-core's `config.rs`), so
//! every range and cross-field rule the engine relies on is enforced: ids in range,
//! probabilities in `[0, 1]`, fault times inside the fault phase, partitions well formed, a
//! workload the protocol serves, checks the protocol supplies. Rules are checked in the order
//! the fields appear in a file, so the first error is the one nearest the top — except the
//! protocol's and the checks' own rules (`Protocol::validate`, `CheckKind::validate`), which see
//! the whole configuration and so run last. Every limit has a name (`*_MAX`) and is documented
//! in `README.md`.

use sim_core::config::{
    ClientConfig, ClientScript, ClockConfig, DiskModel, Fault, FaultKind, Group, Latency,
    LinkConfig, LinkOverride, NemesisConfig, NetworkConfig, Partition, ScheduledFault, ScriptOp,
    ScriptedRequest, StorageConfig, Survive, TargetPolicy, Topology, Workload, REPLAY_REMEMBERED,
};
use sim_core::faults;
use sim_core::protocol::{CheckContext, FieldError};
use sim_core::{ClientId, Endpoint, NodeId, SimConfig, SimDuration};

use crate::diag::{list, suggest, Ctx};
use crate::locate::{field, index};
use crate::registry::{CheckSpec, ProtocolSpec};
use crate::resolve;
use crate::schedule::{self, Entry};
use crate::schema::{
    BridgeSpec, ClientScriptSpec, ClientsSpec, ExpectSpec, FaultAt, FaultSpec, GroupSpec, KindSpec,
    LatencySpec, NemesisSpec, NetworkSpec, OneWaySpec, OpSpec, PartitionRef, ScenarioFile,
    StorageSpec, SurviveSpec, TargetSpec, TopologySpec, WorkloadSpec,
};
use crate::{Expect, Scenario, ScenarioError, DURATION_MAX};

pub const NODE_COUNT_MAX: u32 = 1_000_000;
pub const CLIENT_COUNT_MAX: u32 = 100_000;
/// Most requests per second arriving at one open-loop client.
pub const CLIENT_RATE_MAX: f64 = 1_000_000.0;
/// Most resends of one timed-out request.
pub const CLIENT_RETRIES_MAX: u32 = 100;
pub const DRIFT_PPM_MAX: u32 = 100_000;
/// `events_max` when a scenario does not say.
pub const EVENTS_MAX_DEFAULT: u64 = 50_000_000;
/// Most keys a key-value workload may address.
pub const KV_KEYS_MAX: u32 = 1_000_000;
/// Largest weight of one request kind in a key-value workload's mix.
pub const KV_WEIGHT_MAX: u32 = 1_000_000;

type R<T> = Result<T, ScenarioError>;

mod swarm;

/// What later rules need to know about earlier fields.
struct V<'a, 't> {
    cx: &'a Ctx<'t>,
    node_count: u32,
    client_count: u32,
}

impl V<'_, '_> {
    /// The cluster size is one the protocol runs on ([`sim_core::Protocol::NODE_COUNT`]).
    fn protocol_nodes(&self, protocol: &ProtocolSpec) -> R<()> {
        let info = protocol.info();
        let range = &info.node_count;
        if range.contains(&self.node_count) {
            return Ok(());
        }
        let (lo, hi) = (*range.start(), (*range.end()).min(NODE_COUNT_MAX));
        let sizes = if hi == NODE_COUNT_MAX {
            format!("at least `{lo}` nodes")
        } else {
            format!("`{lo}` to `{hi}` nodes")
        };
        Err(self.cx.error(
            "nodes",
            format!(
                "protocol `{}` runs on {sizes}; the scenario has `{}`",
                info.name, self.node_count
            ),
            format!(
                "set `nodes` within `{lo}..={hi}` (the sizes the protocol declares it runs on in bounded time and memory: `dsim list` shows them)"
            ),
        ))
    }
}

/// A group's members with the path each was written at, for errors across groups.
type Members = Vec<(Endpoint, String)>;

pub fn validate(f: ScenarioFile, cx: &Ctx<'_>) -> R<Scenario> {
    check_name(cx, &f.name)?;
    let mut v = V {
        cx,
        node_count: 0,
        client_count: 0,
    };
    let duration = v.positive("duration", f.duration)?;
    let liveness = match f.liveness {
        Some(l) => Some(v.positive("liveness", l)?),
        None => None,
    };
    let end = duration + liveness.unwrap_or(SimDuration::ZERO);
    let events_max = f.events_max.unwrap_or(EVENTS_MAX_DEFAULT);
    if events_max == 0 {
        return Err(cx.error(
            "events_max",
            "`events_max` is `0`: the run would stop before it starts",
            format!(
                "leave it out for the default `{EVENTS_MAX_DEFAULT}`, or give a positive count"
            ),
        ));
    }
    let queued_max = match f.queued_max {
        None => sim_core::QUEUED_MAX,
        Some(q) if (1..=sim_core::QUEUED_MAX as u64).contains(&q) => q as usize,
        Some(q) => {
            return Err(cx.error(
                "queued_max",
                format!(
                    "`queued_max` is `{q}`: it must be between 1 and {}",
                    sim_core::QUEUED_MAX
                ),
                format!(
                    "leave it out for the default (the most the engine holds, {})",
                    sim_core::QUEUED_MAX
                ),
            ))
        }
    };
    if f.nodes == 0 || f.nodes > NODE_COUNT_MAX {
        let hint = if f.nodes == 0 {
            "a scenario runs at least one node".to_string()
        } else {
            format!("dsim simulates at most `{NODE_COUNT_MAX}` nodes in one run")
        };
        return Err(cx.error(
            "nodes",
            format!("`nodes` is `{}`, outside `1..={NODE_COUNT_MAX}`", f.nodes),
            hint,
        ));
    }
    v.node_count = f.nodes;
    let topology = v.topology(&f.topology)?;
    let network = v.network(&f.network)?;
    let clocks = v.clocks(&f.clocks)?;
    let protocol = resolve::protocol(cx)?;
    v.protocol_nodes(&protocol)?;
    let clients = v.clients(f.clients.as_ref(), &protocol, end)?;
    v.client_count = clients.count;
    let nemesis = match &f.nemesis {
        Some(n) => Some(v.nemesis(n, duration)?),
        None => None,
    };
    let swarm = match &f.swarm {
        Some(s) => Some(v.swarm_of(s, f.nemesis.is_some(), &clients, duration)?),
        None => None,
    };
    let crashes = |kinds: &[FaultKind]| {
        kinds
            .iter()
            .any(|k| k.takes_node_down() && *k != FaultKind::Pause)
    };
    let nemesis_crashes = nemesis.as_ref().is_some_and(|n| crashes(&n.kinds))
        || swarm.as_ref().is_some_and(|s| crashes(&s.kinds));
    let storage = v.storage(&f.storage)?;
    let faults = v.faults(&f.faults, duration, &network, nemesis_crashes)?;
    let config = SimConfig {
        seed: f.seed,
        node_count: f.nodes,
        duration,
        liveness,
        events_max,
        queued_max,
        topology,
        network,
        clocks,
        clients,
        storage,
        faults,
        nemesis,
    };
    protocol
        .entry
        .validate(protocol.params.as_ref(), &config)
        .map_err(|e| v.field_error("protocol", e))?;
    let checks = v.checks(f.checks.len(), &protocol, &config)?;
    let expect = v.expect(&f.expect, &checks)?;
    let expect_reached = crate::coverage::expect_reached(cx, &f.expect_reached, &protocol)?;
    Ok(Scenario {
        name: f.name,
        description: f.description,
        config,
        protocol,
        checks,
        expect,
        expect_reached,
        swarm,
    })
}

fn check_name(cx: &Ctx<'_>, name: &str) -> R<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    if name.is_empty() || !name.chars().all(ok) {
        return Err(cx.error(
            "name",
            format!("invalid scenario name `{name}`"),
            "a name is non-empty and has only letters, digits, `-`, `_` and `.` (it names reports and files)"
                .to_string(),
        ));
    }
    Ok(())
}

impl V<'_, '_> {
    fn err(
        &self,
        path: &str,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> ScenarioError {
        self.cx.error(path, message, hint)
    }

    /// A duration within `DURATION_MAX`.
    fn dur(&self, path: &str, d: SimDuration) -> R<SimDuration> {
        if d > DURATION_MAX {
            return Err(self.err(
                path,
                format!("duration `{d}` for `{path}` is longer than the limit `{DURATION_MAX}`"),
                "durations are at most 365 days".to_string(),
            ));
        }
        Ok(d)
    }

    /// A duration within `DURATION_MAX` and above zero.
    fn positive(&self, path: &str, d: SimDuration) -> R<SimDuration> {
        let d = self.dur(path, d)?;
        if d == SimDuration::ZERO {
            return Err(self.err(
                path,
                format!("`{path}` is `0`; it must be positive"),
                "write e.g. `\"100ms\"`".to_string(),
            ));
        }
        Ok(d)
    }

    fn prob(&self, path: &str, p: f64) -> R<f64> {
        if !(0.0..=1.0).contains(&p) {
            return Err(self.err(
                path,
                format!("probability `{p}` for `{path}` is outside `[0, 1]`"),
                "a probability is a float from `0.0` (never) to `1.0` (always)".to_string(),
            ));
        }
        Ok(p)
    }

    fn node(&self, path: &str, id: u32) -> R<NodeId> {
        if id >= self.node_count {
            let hint = match self.node_count {
                1 => "the scenario has `1` node: the only id is `0`".to_string(),
                n => format!(
                    "the scenario has `{n}` nodes: ids run from `0` to `{}`",
                    n - 1
                ),
            };
            return Err(self.err(
                path,
                format!("node `{id}` is out of range in `{path}`"),
                hint,
            ));
        }
        Ok(NodeId(id))
    }

    fn client(&self, path: &str, id: u32) -> R<ClientId> {
        if id >= self.client_count {
            let hint = match self.client_count {
                0 => "the scenario has no clients (see `clients`)".to_string(),
                1 => "the scenario has `1` client: the only id is `0`".to_string(),
                n => format!(
                    "the scenario has `{n}` clients: ids run from `0` to `{}`",
                    n - 1
                ),
            };
            return Err(self.err(
                path,
                format!("client `{id}` is out of range in `{path}`"),
                hint,
            ));
        }
        Ok(ClientId(id))
    }

    fn topology(&self, t: &TopologySpec) -> R<Topology> {
        Ok(match t {
            TopologySpec::FullMesh => Topology::FullMesh,
            TopologySpec::Ring => Topology::Ring,
            TopologySpec::Star { center } => Topology::Star {
                center: self.node("topology.center", *center)?,
            },
            TopologySpec::Edges(edges) => {
                let mut out: Vec<(NodeId, NodeId)> = Vec::with_capacity(edges.len());
                for (j, &(a, b)) in edges.iter().enumerate() {
                    let p = index("topology.0", j);
                    let a = self.node(&field(&p, "0"), a)?;
                    let b = self.node(&field(&p, "1"), b)?;
                    if a == b {
                        return Err(self.err(
                            &p,
                            format!("edge `({}, {})` links node `{}` to itself", a.0, b.0, a.0),
                            "edges join two different nodes".to_string(),
                        ));
                    }
                    if out
                        .iter()
                        .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
                    {
                        return Err(self.err(
                            &p,
                            format!("edge `({}, {})` appears twice in `topology`", a.0, b.0),
                            "edges are undirected: `(0, 1)` and `(1, 0)` are the same edge"
                                .to_string(),
                        ));
                    }
                    out.push((a, b));
                }
                Topology::Edges(out)
            }
        })
    }

    fn latency(&self, path: &str, l: &LatencySpec) -> R<Latency> {
        let f = |name: &str| field(path, name);
        Ok(match l {
            LatencySpec::Constant(d) => Latency::Constant(self.dur(&f("0"), *d)?),
            LatencySpec::Uniform { min, max } => {
                let (min, max) = (self.dur(&f("min"), *min)?, self.dur(&f("max"), *max)?);
                if min > max {
                    return Err(self.err(
                        &f("min"),
                        format!("uniform latency `min` `{min}` is above `max` `{max}`"),
                        "`min` must not exceed `max`".to_string(),
                    ));
                }
                Latency::Uniform { min, max }
            }
            LatencySpec::Normal { mean, stddev, min } => Latency::Normal {
                mean: self.dur(&f("mean"), *mean)?,
                stddev: self.dur(&f("stddev"), *stddev)?,
                min: self.dur(&f("min"), *min)?,
            },
            LatencySpec::Exponential { mean, min } => Latency::Exponential {
                mean: self.positive(&f("mean"), *mean)?,
                min: self.dur(&f("min"), *min)?,
            },
            LatencySpec::Pareto { scale, shape, max } => {
                let scale = self.positive(&f("scale"), *scale)?;
                if !(shape.is_finite() && *shape > 0.0) {
                    return Err(self.err(
                        &f("shape"),
                        format!("pareto `shape` is `{shape}`; it must be positive"),
                        "a shape around `1.5` gives a long tail; smaller is heavier".to_string(),
                    ));
                }
                let max = self.dur(&f("max"), *max)?;
                if max < scale {
                    return Err(self.err(
                        &f("max"),
                        format!("pareto `max` `{max}` is below `scale` `{scale}`"),
                        "every sample is at least `scale`, so `max` must be at least `scale`"
                            .to_string(),
                    ));
                }
                Latency::Pareto {
                    scale,
                    shape: *shape,
                    max,
                }
            }
        })
    }

    fn network(&self, n: &NetworkSpec) -> R<NetworkConfig> {
        let default = LinkConfig {
            latency: self.latency("network.latency", &n.latency)?,
            drop: self.prob("network.drop", n.drop)?,
            duplicate: self.prob("network.duplicate", n.duplicate)?,
        };
        let mut overrides: Vec<LinkOverride> = Vec::new();
        // Which override set each directed link, for "overridden twice" errors.
        let mut set_by: Vec<usize> = Vec::new();
        for (j, o) in n.overrides.iter().enumerate() {
            let p = index("network.overrides", j);
            let from = self.node(&field(&p, "from"), o.from)?;
            let to = self.node(&field(&p, "to"), o.to)?;
            if from == to {
                return Err(self.err(
                    &field(&p, "to"),
                    format!("override links node `{}` to itself", from.0),
                    "an override is for the link between two different nodes".to_string(),
                ));
            }
            let link = LinkConfig {
                latency: match &o.latency {
                    Some(l) => self.latency(&field(&p, "latency"), l)?,
                    None => default.latency.clone(),
                },
                drop: match o.drop {
                    Some(d) => self.prob(&field(&p, "drop"), d)?,
                    None => default.drop,
                },
                duplicate: match o.duplicate {
                    Some(d) => self.prob(&field(&p, "duplicate"), d)?,
                    None => default.duplicate,
                },
            };
            let mut links = vec![(from, to)];
            if o.both_ways {
                links.push((to, from));
            }
            for (a, b) in links {
                if let Some(k) = overrides.iter().position(|x| (x.from, x.to) == (a, b)) {
                    return Err(self.err(
                        &p,
                        format!("the link `{} -> {}` is overridden twice", a.0, b.0),
                        format!(
                            "`network.overrides[{}]` already sets it",
                            set_by.get(k).copied().unwrap_or(0)
                        ),
                    ));
                }
                overrides.push(LinkOverride {
                    from: a,
                    to: b,
                    link: link.clone(),
                });
                set_by.push(j);
            }
        }
        Ok(NetworkConfig { default, overrides })
    }

    fn clocks(&self, c: &crate::schema::ClocksSpec) -> R<ClockConfig> {
        let offset_max = self.dur("clocks.offset_max", c.offset_max)?;
        if c.drift_ppm_max > DRIFT_PPM_MAX {
            return Err(self.err(
                "clocks.drift_ppm_max",
                format!(
                    "`drift_ppm_max` is `{}`, above the limit `{DRIFT_PPM_MAX}`",
                    c.drift_ppm_max
                ),
                "drift is in parts per million: `100` is a typical crystal, `100000` is 10%"
                    .to_string(),
            ));
        }
        Ok(ClockConfig {
            offset_max,
            drift_ppm_max: c.drift_ppm_max,
        })
    }

    fn clients(
        &self,
        c: Option<&ClientsSpec>,
        protocol: &ProtocolSpec,
        end: SimDuration,
    ) -> R<ClientConfig> {
        let Some(c) = c else {
            return Ok(ClientConfig::default());
        };
        if c.count == 0 || c.count > CLIENT_COUNT_MAX {
            return Err(self.err(
                "clients.count",
                format!(
                    "`clients.count` is `{}`, outside `1..={CLIENT_COUNT_MAX}`",
                    c.count
                ),
                "for a scenario without clients, leave `clients` out".to_string(),
            ));
        }
        let target = match c.target {
            TargetSpec::Random => TargetPolicy::Random,
            TargetSpec::RoundRobin => TargetPolicy::RoundRobin,
            TargetSpec::Bound => TargetPolicy::Bound,
            TargetSpec::Fixed(n) => TargetPolicy::Fixed(self.node("clients.target.0", n)?),
        };
        let timeout = self.positive("clients.timeout", c.timeout)?;
        let workload = match &c.workload {
            WorkloadSpec::Broadcast {
                interval,
                ops_per_client,
            } => {
                let interval = self.dur("clients.workload.interval", *interval)?;
                if *ops_per_client == 0 {
                    return Err(self.err(
                        "clients.workload.ops_per_client",
                        "`ops_per_client` is `0`: the clients would do nothing",
                        "give each client at least one operation".to_string(),
                    ));
                }
                Workload::Broadcast {
                    interval,
                    ops_per_client: *ops_per_client,
                }
            }
            WorkloadSpec::KeyValue {
                keys,
                get,
                put,
                cas,
                append,
                interval,
                ops_per_client,
            } => {
                if *keys == 0 || *keys > KV_KEYS_MAX {
                    return Err(self.err(
                        "clients.workload.keys",
                        format!("`keys` is `{keys}`, outside `1..={KV_KEYS_MAX}`"),
                        "the clients address keys `0..keys`; a few keys make for contention"
                            .to_string(),
                    ));
                }
                for (name, w) in [("get", get), ("put", put), ("cas", cas), ("append", append)] {
                    if *w > KV_WEIGHT_MAX {
                        return Err(self.err(
                            &format!("clients.workload.{name}"),
                            format!("weight `{name}` is `{w}`, above the limit `{KV_WEIGHT_MAX}`"),
                            "weights are relative: `get: 2, put: 2, cas: 1` reads 40% of the time"
                                .to_string(),
                        ));
                    }
                }
                if *get == 0 && *put == 0 && *cas == 0 && *append == 0 {
                    return Err(self.err(
                        "clients.workload",
                        "the weights `get`, `put`, `cas` and `append` are all `0`: the clients would do nothing",
                        "give at least one kind of request a positive weight (`get`, `put` and `cas` default to `1`, `append` to `0`)"
                            .to_string(),
                    ));
                }
                let interval = self.dur("clients.workload.interval", *interval)?;
                if *ops_per_client == 0 {
                    return Err(self.err(
                        "clients.workload.ops_per_client",
                        "`ops_per_client` is `0`: the clients would do nothing",
                        "give each client at least one operation".to_string(),
                    ));
                }
                Workload::KeyValue {
                    keys: *keys,
                    get: *get,
                    put: *put,
                    cas: *cas,
                    append: *append,
                    interval,
                    ops_per_client: *ops_per_client,
                }
            }
            WorkloadSpec::Transactions {
                keys,
                keys_per_txn,
                interval,
                ops_per_client,
            } => {
                if *keys == 0 || *keys > KV_KEYS_MAX {
                    return Err(self.err(
                        "clients.workload.keys",
                        format!("`keys` is `{keys}`, outside `1..={KV_KEYS_MAX}`"),
                        "the clients address keys `0..keys`; a few keys make for contention"
                            .to_string(),
                    ));
                }
                let per_max = (*keys).min(sim_core::txn::KEYS_PER_TXN_MAX);
                if *keys_per_txn == 0 || *keys_per_txn > per_max {
                    return Err(self.err(
                        "clients.workload.keys_per_txn",
                        format!("`keys_per_txn` is `{keys_per_txn}`, outside `1..={per_max}`"),
                        format!(
                            "a transaction names distinct keys among `keys` (`{keys}`), at most `{}`",
                            sim_core::txn::KEYS_PER_TXN_MAX
                        ),
                    ));
                }
                let interval = self.dur("clients.workload.interval", *interval)?;
                if *ops_per_client == 0 {
                    return Err(self.err(
                        "clients.workload.ops_per_client",
                        "`ops_per_client` is `0`: the clients would do nothing",
                        "give each client at least one operation".to_string(),
                    ));
                }
                Workload::Transactions {
                    keys: *keys,
                    keys_per_txn: *keys_per_txn,
                    interval,
                    ops_per_client: *ops_per_client,
                }
            }
            WorkloadSpec::Script { interval, clients } => {
                let interval = self.dur("clients.workload.interval", *interval)?;
                self.script(c, clients, interval)?
            }
        };
        let info = protocol.info();
        if let Some(service) = workload.service() {
            if !info.services.contains(&service) {
                let serving: Vec<&str> = self
                    .cx
                    .registry
                    .protocols()
                    .filter(|p| p.services.contains(&service))
                    .map(|p| p.name)
                    .collect();
                let hint = if serving.is_empty() {
                    format!("no protocol serves `{}` yet", service.name())
                } else {
                    format!(
                        "protocols that serve `{}`: {}",
                        service.name(),
                        list(&serving)
                    )
                };
                let name = match &c.workload {
                    WorkloadSpec::Broadcast { .. } => "Broadcast",
                    WorkloadSpec::KeyValue { .. } => "KeyValue",
                    WorkloadSpec::Transactions { .. } => "Transactions",
                    WorkloadSpec::Script { .. } => "Script",
                };
                return Err(self.err(
                    "clients.workload",
                    format!(
                        "workload `{name}` needs the `{}` service, which protocol `{}` does not serve",
                        service.name(),
                        info.name
                    ),
                    hint,
                ));
            }
        }
        let stop = match c.stop {
            Some(s) => {
                let s = self.dur("clients.stop", s)?;
                if s > end {
                    return Err(self.err(
                        "clients.stop",
                        format!("`clients.stop` is `{s}`, after the end of the run at `{end}`"),
                        "the run ends at `duration` plus `liveness`".to_string(),
                    ));
                }
                Some(s)
            }
            None => None,
        };
        if let Some(rate) = c.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= CLIENT_RATE_MAX) {
                return Err(self.err(
                    "clients.rate",
                    format!("`clients.rate` is `{rate}`, outside `(0, {CLIENT_RATE_MAX}]`"),
                    "requests per second arriving at each client (open loop); leave it out for a closed loop".to_string(),
                ));
            }
        }
        if c.retries > CLIENT_RETRIES_MAX {
            return Err(self.err(
                "clients.retries",
                format!(
                    "`clients.retries` is `{}`, above the limit `{CLIENT_RETRIES_MAX}`",
                    c.retries
                ),
                "resends of a timed-out request before it counts as unknown; a few are plenty"
                    .to_string(),
            ));
        }
        Ok(ClientConfig {
            count: c.count,
            target,
            workload,
            timeout,
            stop,
            rate: c.rate,
            retries: c.retries,
        })
    }

    /// A `Script` workload: one list per client, node ids in range, one service, distinct
    /// keys per transaction, a closed loop.
    fn script(
        &self,
        c: &ClientsSpec,
        clients: &[ClientScriptSpec],
        interval: SimDuration,
    ) -> R<Workload> {
        let path = "clients.workload.clients";
        if clients.len() != c.count as usize {
            return Err(self.err(
                path,
                format!(
                    "the script has `{}` clients but `clients.count` is `{}`",
                    clients.len(),
                    c.count
                ),
                "write one `(start: ..., ops: [...])` per client, in client order".to_string(),
            ));
        }
        if c.rate.is_some() {
            return Err(self.err(
                "clients.rate",
                "a `Script` runs in a closed loop, without `rate`",
                "each scripted operation follows the previous one's completion after `interval`; remove `rate`"
                    .to_string(),
            ));
        }
        let mut service = None;
        let mut scripts = Vec::with_capacity(clients.len());
        for (i, cs) in clients.iter().enumerate() {
            let cp = index(path, i);
            let start = self.dur(&field(&cp, "start"), cs.start)?;
            let mut ops = Vec::with_capacity(cs.ops.len());
            for (j, op) in cs.ops.iter().enumerate() {
                let op = self.script_op(&index(&field(&cp, "ops"), j), op)?;
                let first = *service.get_or_insert((op.op.service(), (i, j)));
                if first.0 != op.op.service() {
                    return Err(self.err(
                        &index(&field(&cp, "ops"), j),
                        format!(
                            "this operation uses the `{}` service, but `clients[{}].ops[{}]` uses `{}`",
                            op.op.service().name(),
                            first.1 .0,
                            first.1 .1,
                            first.0.name()
                        ),
                        "a script speaks one service: key-value operations, transactions, or broadcasts"
                            .to_string(),
                    ));
                }
                ops.push(op);
            }
            scripts.push(ClientScript { start, ops });
        }
        if service.is_none() {
            return Err(self.err(
                path,
                "the script has no operations",
                "give a client at least one operation, or leave `clients` out".to_string(),
            ));
        }
        Ok(Workload::Script {
            interval,
            clients: scripts,
        })
    }

    fn script_op(&self, p: &str, op: &OpSpec) -> R<ScriptOp> {
        let (op, node, at) = match op {
            OpSpec::Get { key, node, at } => (ScriptedRequest::Get(*key), node, at),
            OpSpec::Put { key, node, at } => (ScriptedRequest::Put(*key), node, at),
            OpSpec::Cas { key, node, at } => (ScriptedRequest::Cas(*key), node, at),
            OpSpec::Append { key, node, at } => (ScriptedRequest::Append(*key), node, at),
            OpSpec::Broadcast { node, at } => (ScriptedRequest::Broadcast, node, at),
            OpSpec::Txn { keys, node, at } => {
                let kp = field(p, "keys");
                let most = sim_core::txn::KEYS_PER_TXN_MAX as usize;
                if keys.is_empty() || keys.len() > most {
                    return Err(self.err(
                        &kp,
                        format!(
                            "a transaction names `{}` keys, outside `1..={most}`",
                            keys.len()
                        ),
                        "list the distinct keys it increments, e.g. `Txn(keys: [1, 4])`"
                            .to_string(),
                    ));
                }
                let mut sorted = keys.clone();
                sorted.sort_unstable();
                if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                    let j = keys.iter().rposition(|k| *k == w[0]).unwrap_or(0);
                    return Err(self.err(
                        &index(&kp, j),
                        format!("key `{}` appears twice in this transaction", w[0]),
                        "a transaction increments distinct keys".to_string(),
                    ));
                }
                (ScriptedRequest::Txn(sorted), node, at)
            }
        };
        let node = match node {
            Some(n) => Some(self.node(&field(p, "node"), *n)?),
            None => None,
        };
        let at = match at {
            Some(t) => Some(self.dur(&field(p, "at"), *t)?),
            None => None,
        };
        Ok(ScriptOp { op, node, at })
    }

    /// A group's members, each checked, with the path it was written at.
    fn group(&self, path: &str, g: &GroupSpec) -> R<(Group, Members)> {
        let mut group = Group {
            nodes: Vec::new(),
            clients: Vec::new(),
        };
        let mut members: Members = Vec::new();
        let (nodes, clients, nodes_path, clients_path) = match g {
            GroupSpec::Nodes(n) => (n.as_slice(), &[][..], path.to_string(), String::new()),
            GroupSpec::Record(r) => (
                r.nodes.as_slice(),
                r.clients.as_slice(),
                field(path, "nodes"),
                field(path, "clients"),
            ),
        };
        for (j, &id) in nodes.iter().enumerate() {
            let p = index(&nodes_path, j);
            let n = self.node(&p, id)?;
            if group.nodes.contains(&n) {
                return Err(self.err(
                    &p,
                    format!("node `{id}` appears twice in the group `{path}`"),
                    None,
                ));
            }
            group.nodes.push(n);
            members.push((Endpoint::Node(n), p));
        }
        for (j, &id) in clients.iter().enumerate() {
            let p = index(&clients_path, j);
            let c = self.client(&p, id)?;
            if group.clients.contains(&c) {
                return Err(self.err(
                    &p,
                    format!("client `{id}` appears twice in the group `{path}`"),
                    None,
                ));
            }
            group.clients.push(c);
            members.push((Endpoint::Client(c), p));
        }
        if members.is_empty() {
            return Err(self.err(
                path,
                format!("the group `{path}` is empty"),
                "a group names at least one node or client".to_string(),
            ));
        }
        Ok((group, members))
    }

    /// Fails when an endpoint of `b` is also in `a`.
    fn disjoint(&self, a: &Members, b: &Members, what: &str, hint: &str) -> R<()> {
        for (e, p) in b {
            if let Some((_, q)) = a.iter().find(|(x, _)| x == e) {
                return Err(self.err(
                    p,
                    format!(
                        "{} `{}` is {what} (also at `{q}`)",
                        endpoint_kind(*e),
                        id(*e)
                    ),
                    hint.to_string(),
                ));
            }
        }
        Ok(())
    }

    fn partition(&self, base: &str, shape: PartitionRef<'_>) -> R<Partition> {
        Ok(match shape {
            PartitionRef::Split(groups) => {
                let gp = field(base, "0");
                if groups.len() < 2 {
                    return Err(self.err(
                        &gp,
                        format!(
                            "a split needs at least two groups, found `{}`",
                            groups.len()
                        ),
                        "to cut one node off from the rest, use `Isolate(node)`".to_string(),
                    ));
                }
                let mut all: Members = Vec::new();
                let mut out = Vec::with_capacity(groups.len());
                let mut covered = vec![false; self.node_count as usize];
                for (j, g) in groups.iter().enumerate() {
                    let (group, members) = self.group(&index(&gp, j), g)?;
                    self.disjoint(
                        &all,
                        &members,
                        "in two groups of this split",
                        "every endpoint is in at most one group",
                    )?;
                    for n in &group.nodes {
                        if let Some(c) = covered.get_mut(n.index()) {
                            *c = true;
                        }
                    }
                    all.extend(members);
                    out.push(group);
                }
                let missing: Vec<String> = covered
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !**c)
                    .map(|(n, _)| format!("`{n}`"))
                    .collect();
                if !missing.is_empty() {
                    let shown = if missing.len() > 8 {
                        format!("{} and {} more", missing[..8].join(", "), missing.len() - 8)
                    } else {
                        missing.join(", ")
                    };
                    return Err(self.err(
                        &gp,
                        format!("this split leaves out node(s) {shown}"),
                        "every node must be in exactly one group (clients may be left out: they keep reaching every node)"
                            .to_string(),
                    ));
                }
                Partition::Split(out)
            }
            PartitionRef::Isolate(n) => Partition::Isolate(self.node(&field(base, "0"), n)?),
            PartitionRef::OneWay(OneWaySpec { from, to }) => {
                let (from, a) = self.group(&field(base, "from"), from)?;
                let (to, b) = self.group(&field(base, "to"), to)?;
                self.disjoint(
                    &a,
                    &b,
                    "on both sides of this one-way cut",
                    "`from` and `to` must not share an endpoint",
                )?;
                Partition::OneWay { from, to }
            }
            PartitionRef::Bridge(BridgeSpec {
                left,
                right,
                bridge,
            }) => {
                let (left, a) = self.group(&field(base, "left"), left)?;
                let (right, b) = self.group(&field(base, "right"), right)?;
                self.disjoint(
                    &a,
                    &b,
                    "on both sides of this bridge",
                    "`left` and `right` must not share an endpoint",
                )?;
                let bp = field(base, "bridge");
                let bridge = self.node(&bp, *bridge)?;
                if let Some((_, q)) = a
                    .iter()
                    .chain(&b)
                    .find(|(e, _)| *e == Endpoint::Node(bridge))
                {
                    return Err(self.err(
                        &bp,
                        format!("bridge node `{}` is also at `{q}`", bridge.0),
                        "the bridge is in neither side: it is the one node that talks to both"
                            .to_string(),
                    ));
                }
                Partition::Bridge {
                    left,
                    right,
                    bridge,
                }
            }
        })
    }

    fn faults(
        &self,
        faults: &[FaultAt],
        duration: SimDuration,
        network: &NetworkConfig,
        nemesis_crashes: bool,
    ) -> R<Vec<ScheduledFault>> {
        let mut out: Vec<Entry> = Vec::with_capacity(faults.len());
        for (i, f) in faults.iter().enumerate() {
            let p = index("faults", i);
            let at = self.dur(&field(&p, "at"), f.at)?;
            if at >= duration {
                return Err(self.err(
                    &field(&p, "at"),
                    format!("fault at `{at}` is outside the fault phase `0..{duration}`"),
                    "a fault's `at` must be less than `duration`; with `liveness`, every fault heals at `duration`"
                        .to_string(),
                ));
            }
            let fp = field(&p, "fault");
            let part = |base: &str, shape| -> R<Fault> {
                Ok(Fault::Partition(self.partition(base, shape)?))
            };
            let fault = match &f.fault {
                FaultSpec::Partition(shape) => part(&field(&fp, "0"), shape.as_ref())?,
                FaultSpec::Split(groups) => part(&fp, PartitionRef::Split(groups))?,
                FaultSpec::Isolate(n) => part(&fp, PartitionRef::Isolate(*n))?,
                FaultSpec::OneWay(o) => part(&fp, PartitionRef::OneWay(o))?,
                FaultSpec::Bridge(b) => part(&fp, PartitionRef::Bridge(b))?,
                FaultSpec::Heal => Fault::Heal,
                FaultSpec::ResetLinks => Fault::ResetLinks,
                FaultSpec::Crash(n) => Fault::Crash(self.node(&field(&fp, "0"), *n)?),
                FaultSpec::TornWrite {
                    node,
                    survive,
                    pick,
                    tear_last,
                } => Fault::TornWrite {
                    node: self.node(&field(&fp, "node"), *node)?,
                    survive: match survive {
                        SurviveSpec::Prefix => Survive::Prefix,
                        SurviveSpec::Subset => Survive::Subset,
                    },
                    pick: *pick,
                    tear_last: *tear_last,
                },
                FaultSpec::Corrupt {
                    node,
                    nth_from_end,
                    silent,
                } => Fault::Corrupt {
                    node: self.node(&field(&fp, "node"), *node)?,
                    nth_from_end: *nth_from_end,
                    silent: *silent,
                },
                FaultSpec::Misdirect { node, pick } => Fault::Misdirect {
                    node: self.node(&field(&fp, "node"), *node)?,
                    pick: *pick,
                },
                FaultSpec::LoseSync(n) => Fault::LoseSync(self.node(&field(&fp, "0"), *n)?),
                FaultSpec::Restart(n) => Fault::Restart(self.node(&field(&fp, "0"), *n)?),
                FaultSpec::Clog(n) => Fault::Clog(self.node(&field(&fp, "0"), *n)?),
                FaultSpec::Unclog(n) => Fault::Unclog(self.node(&field(&fp, "0"), *n)?),
                FaultSpec::Replay { count, from, to } => Fault::Replay {
                    from: from
                        .map(|n| self.node(&field(&fp, "from"), n))
                        .transpose()?,
                    to: to.map(|n| self.node(&field(&fp, "to"), n)).transpose()?,
                    count: self.replay_count(&field(&fp, "count"), *count)?,
                },
                FaultSpec::Pause { node, duration } => Fault::Pause(
                    self.node(&field(&fp, "node"), *node)?,
                    self.positive(&field(&fp, "duration"), *duration)?,
                ),
                FaultSpec::ClockJump { node, by } => {
                    let node = self.node(&field(&fp, "node"), *node)?;
                    self.dur(&field(&fp, "by"), SimDuration(by.0.unsigned_abs()))?;
                    Fault::ClockJump(node, by.0)
                }
                FaultSpec::SetLink {
                    from,
                    to,
                    latency,
                    drop,
                    duplicate,
                } => {
                    let from = match from {
                        Some(n) => Some(self.node(&field(&fp, "from"), *n)?),
                        None => None,
                    };
                    let to = match to {
                        Some(n) => Some(self.node(&field(&fp, "to"), *n)?),
                        None => None,
                    };
                    if from.is_some() && from == to {
                        return Err(self.err(
                            &field(&fp, "to"),
                            "`SetLink` links a node to itself".to_string(),
                            "`from` and `to` are different nodes, or `None` for every node"
                                .to_string(),
                        ));
                    }
                    if latency.is_none() && drop.is_none() && duplicate.is_none() {
                        return Err(self.err(
                            &fp,
                            "`SetLink` changes nothing",
                            "give at least one of `latency`, `drop` and `duplicate`".to_string(),
                        ));
                    }
                    let base = match (from, to) {
                        (Some(a), Some(b)) => network
                            .overrides
                            .iter()
                            .find(|o| (o.from, o.to) == (a, b))
                            .map_or(&network.default, |o| &o.link),
                        _ => &network.default,
                    };
                    let link = LinkConfig {
                        latency: match latency {
                            Some(l) => self.latency(&field(&fp, "latency"), l)?,
                            None => base.latency.clone(),
                        },
                        drop: match drop {
                            Some(d) => self.prob(&field(&fp, "drop"), *d)?,
                            None => base.drop,
                        },
                        duplicate: match duplicate {
                            Some(d) => self.prob(&field(&fp, "duplicate"), *d)?,
                            None => base.duplicate,
                        },
                    };
                    Fault::SetLink { from, to, link }
                }
            };
            let until = match f.until {
                None => None,
                Some(u) => Some(self.until(&p, at, &fault, u)?),
            };
            out.push(Entry { at, fault, until });
        }
        let out = schedule::to_engine(&out);
        if !nemesis_crashes {
            self.crashes_consistent(&out)?;
        }
        Ok(out)
    }

    /// A partition's `until`: after its `at`, within the duration limit (it may fall in the
    /// liveness phase or after the end of the run).
    fn until(&self, p: &str, at: SimDuration, fault: &Fault, until: SimDuration) -> R<SimDuration> {
        let up = field(p, "until");
        if !matches!(fault, Fault::Partition(_)) {
            return Err(self.err(
                &up,
                "`until` ends a partition, and this fault is not one",
                "a crash ends with a `Restart` entry, a pause lasts its `duration`, link changes end with `ResetLinks`"
                    .to_string(),
            ));
        }
        let until = self.dur(&up, until)?;
        if until <= at {
            return Err(self.err(
                &up,
                format!("the partition ends at `{until}`, not after it starts at `{at}`"),
                "`until` is the time the partition is removed: later than `at`".to_string(),
            ));
        }
        Ok(until)
    }

    /// `Crash` only a running node and `Restart` only a crashed one, in time order (file order
    /// at equal times, as the engine applies them).
    fn crashes_consistent(&self, faults: &[ScheduledFault]) -> R<()> {
        let mut order: Vec<usize> = (0..faults.len()).collect();
        order.sort_by_key(|&i| faults[i].at);
        let mut crashed_at: Vec<Option<SimDuration>> = vec![None; self.node_count as usize];
        for i in order {
            let f = &faults[i];
            let p = field(&index("faults", i), "fault");
            match f.fault {
                Fault::Crash(n) | Fault::TornWrite { node: n, .. } => {
                    if let Some(Some(t)) = crashed_at.get(n.index()) {
                        return Err(self.err(
                            &p,
                            format!(
                                "node `{}` is crashed at `{}` but is already down since `{t}`",
                                n.0, f.at
                            ),
                            "restart it first, or remove one of the crashes".to_string(),
                        ));
                    }
                    if let Some(c) = crashed_at.get_mut(n.index()) {
                        *c = Some(f.at);
                    }
                }
                Fault::Restart(n) => {
                    if let Some(None) = crashed_at.get(n.index()) {
                        return Err(self.err(
                            &p,
                            format!(
                                "node `{}` is restarted at `{}` but is not crashed then",
                                n.0, f.at
                            ),
                            "a `Restart` follows a `Crash` of the same node".to_string(),
                        ));
                    }
                    if let Some(c) = crashed_at.get_mut(n.index()) {
                        *c = None;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn nemesis(&self, n: &NemesisSpec, duration: SimDuration) -> R<NemesisConfig> {
        let cfg = self.nemesis_fields(n)?;
        self.nemesis_rate(&cfg, duration)?;
        Ok(cfg)
    }

    /// The nemesis's plan is bounded: at its mean rate it plans at most `faults_max` faults,
    /// and its partitions list at most `PLAN_NODE_IDS_MAX` node ids, over the fault phase.
    fn nemesis_rate(&self, cfg: &NemesisConfig, duration: SimDuration) -> R<()> {
        let (faults, ids) = faults::nemesis_expected(cfg, duration, self.node_count);
        let interval = cfg.interval_mean;
        // The shortest interval at which the mean stays within a bound of `max` per phase.
        let least = |max: u64, per_fault: u64| {
            SimDuration(
                duration
                    .0
                    .saturating_mul(per_fault)
                    .div_ceil(max.max(1))
                    .max(interval.0 + 1),
            )
        };
        if faults > u64::from(cfg.faults_max) {
            return Err(self.err(
                "nemesis.interval_mean",
                format!(
                    "at `interval_mean: \"{interval}\"` the nemesis would plan about `{faults}` faults over the `{duration}` fault phase, more than `faults_max` (`{}`)",
                    cfg.faults_max
                ),
                format!(
                    "raise `nemesis.interval_mean` to at least `\"{}\"`, shorten `duration`, or raise `nemesis.faults_max` (at most `{}`)",
                    least(u64::from(cfg.faults_max), 1),
                    NemesisConfig::FAULTS_MAX_LIMIT
                ),
            ));
        }
        if ids > faults::PLAN_NODE_IDS_MAX {
            let per_fault = u64::from(self.node_count) / cfg.kinds.len() as u64;
            return Err(self.err(
                "nemesis.interval_mean",
                format!(
                    "at `interval_mean: \"{interval}\"` the nemesis's partitions, each listing all `{}` nodes, would hold about `{ids}` node ids, more than the plan's `{}`",
                    self.node_count,
                    faults::PLAN_NODE_IDS_MAX
                ),
                format!(
                    "raise `nemesis.interval_mean` to at least `\"{}\"`, or leave `Partition` out of `nemesis.kinds`",
                    least(faults::PLAN_NODE_IDS_MAX, per_fault.max(1))
                ),
            ));
        }
        Ok(())
    }

    /// The fault kinds listed at `path` (`nemesis.kinds`, `swarm.kinds`): some, each once.
    fn kinds(&self, path: &str, listed: &[KindSpec], empty: &str, hint: &str) -> R<Vec<FaultKind>> {
        if listed.is_empty() {
            return Err(self.err(path, empty, hint.to_string()));
        }
        let mut kinds: Vec<FaultKind> = Vec::with_capacity(listed.len());
        for (j, k) in listed.iter().enumerate() {
            let kind = kind(*k);
            if kinds.contains(&kind) {
                return Err(self.err(
                    &index(path, j),
                    format!("`{k:?}` appears twice in `{path}`"),
                    None,
                ));
            }
            kinds.push(kind);
        }
        Ok(kinds)
    }

    fn nemesis_fields(&self, n: &NemesisSpec) -> R<NemesisConfig> {
        let kinds = self.kinds(
            "nemesis.kinds",
            &n.kinds,
            "the nemesis has no fault kinds",
            "list some of `Partition`, `Crash`, `Pause`, `ClockJump`, `Loss`, `Duplicate`, `Clog`, `Reorder`, `TornWrite`, `Corrupt`, `Misdirect`, `LoseSync`, or leave `nemesis` out",
        )?;
        let interval_mean = self.positive("nemesis.interval_mean", n.interval_mean)?;
        let duration_mean = self.positive("nemesis.duration_mean", n.duration_mean)?;
        let has = |k| kinds.contains(&k);
        if kinds.iter().any(|k| k.takes_node_down())
            && (n.down_max == 0 || n.down_max > self.node_count)
        {
            return Err(self.err(
                "nemesis.down_max",
                format!(
                    "`down_max` is `{}`, outside `1..={}`",
                    n.down_max, self.node_count
                ),
                "at most `down_max` nodes are crashed or paused at once (a storage fault crashes its node)".to_string(),
            ));
        }
        let clock_jump_max = self.dur("nemesis.clock_jump_max", n.clock_jump_max)?;
        if has(FaultKind::ClockJump) && clock_jump_max == SimDuration::ZERO {
            return Err(self.err(
                "nemesis.clock_jump_max",
                "`ClockJump` is listed but `clock_jump_max` is `0`",
                "give the largest step, e.g. `clock_jump_max: \"100ms\"`".to_string(),
            ));
        }
        let loss = self.prob("nemesis.loss", n.loss)?;
        if has(FaultKind::Loss) && loss == 0.0 {
            return Err(self.err(
                "nemesis.loss",
                "`Loss` is listed but `loss` is `0`",
                "give the drop probability while a loss fault lasts, e.g. `loss: 0.2`".to_string(),
            ));
        }
        let duplicate = self.prob("nemesis.duplicate", n.duplicate)?;
        if has(FaultKind::Duplicate) && duplicate == 0.0 {
            return Err(self.err(
                "nemesis.duplicate",
                "`Duplicate` is listed but `duplicate` is `0`",
                "give the duplicate probability while the fault lasts, e.g. `duplicate: 0.1`"
                    .to_string(),
            ));
        }
        let reorder_window = self.dur("nemesis.reorder_window", n.reorder_window)?;
        if has(FaultKind::Reorder) && reorder_window == SimDuration::ZERO {
            return Err(self.err(
                "nemesis.reorder_window",
                "`Reorder` is listed but `reorder_window` is `0`",
                "give the latency window while the fault lasts, e.g. `reorder_window: \"500ms\"`"
                    .to_string(),
            ));
        }
        let replay = if has(FaultKind::Replay) {
            self.replay_count("nemesis.replay", n.replay)?
        } else {
            n.replay
        };
        if has(FaultKind::Clog) && self.node_count < 2 {
            return Err(self.err(
                "nemesis.kinds",
                "`Clog` needs at least two nodes: it clogs some and not others",
                "leave `Clog` out of `nemesis.kinds`".to_string(),
            ));
        }
        let faults_max = n.faults_max.unwrap_or(NemesisConfig::FAULTS_MAX_DEFAULT);
        if faults_max == 0 || faults_max > NemesisConfig::FAULTS_MAX_LIMIT {
            return Err(self.err(
                "nemesis.faults_max",
                format!(
                    "`faults_max` is `{faults_max}`, outside `1..={}`",
                    NemesisConfig::FAULTS_MAX_LIMIT
                ),
                format!(
                    "the most faults the nemesis plans in one run; leave it out for `{}`",
                    NemesisConfig::FAULTS_MAX_DEFAULT
                ),
            ));
        }
        Ok(NemesisConfig {
            reorder_window,
            replay,
            kinds,
            interval_mean,
            duration_mean,
            down_max: n.down_max,
            clock_jump_max,
            loss,
            duplicate,
            silent: n.silent,
            faults_max,
        })
    }

    /// How many delivered messages a replay sends again: `1..=REPLAY_REMEMBERED`.
    pub(crate) fn replay_count(&self, path: &str, count: u32) -> R<u32> {
        if count == 0 || count as usize > REPLAY_REMEMBERED {
            return Err(self.err(
                path,
                format!("a replay of `{count}` messages, outside `1..={REPLAY_REMEMBERED}`"),
                format!(
                    "how many already-delivered messages to send again, e.g. `20`; the engine remembers the last {REPLAY_REMEMBERED} delivered"
                ),
            ));
        }
        Ok(count)
    }

    /// Every node's disk: the default model and per-node overrides (unset fields default).
    fn storage(&self, s: &StorageSpec) -> R<StorageConfig> {
        let zero = || Latency::Constant(SimDuration::ZERO);
        let default = DiskModel {
            sync: match &s.sync {
                Some(l) => self.latency("storage.sync", l)?,
                None => zero(),
            },
            read: match &s.read {
                Some(l) => self.latency("storage.read", l)?,
                None => zero(),
            },
            per_byte: self.dur("storage.per_byte", s.per_byte)?,
        };
        let mut overrides: Vec<(NodeId, DiskModel)> = Vec::new();
        for (j, o) in s.overrides.iter().enumerate() {
            let p = index("storage.overrides", j);
            let node = self.node(&field(&p, "node"), o.node)?;
            if overrides.iter().any(|(n, _)| *n == node) {
                return Err(self.err(
                    &field(&p, "node"),
                    format!("node `{}`'s disk is overridden twice", node.0),
                    "merge the two overrides into one".to_string(),
                ));
            }
            let disk = DiskModel {
                sync: match &o.sync {
                    Some(l) => self.latency(&field(&p, "sync"), l)?,
                    None => default.sync.clone(),
                },
                read: match &o.read {
                    Some(l) => self.latency(&field(&p, "read"), l)?,
                    None => default.read.clone(),
                },
                per_byte: match o.per_byte {
                    Some(d) => self.dur(&field(&p, "per_byte"), d)?,
                    None => default.per_byte,
                },
            };
            overrides.push((node, disk));
        }
        Ok(StorageConfig { default, overrides })
    }

    /// Each entry of `checks`: resolved through the protocol, its parameters validated.
    fn checks(
        &self,
        count: usize,
        protocol: &ProtocolSpec,
        config: &SimConfig,
    ) -> R<Vec<CheckSpec>> {
        let info = protocol.info();
        let mut out: Vec<CheckSpec> = Vec::with_capacity(count);
        for j in 0..count {
            let p = index("checks", j);
            let spec = resolve::check(self.cx, protocol, j)?;
            let k = info
                .checks
                .iter()
                .position(|c| c.name == spec.name)
                .expect("resolved among the protocol's checks");
            let cx = CheckContext {
                path: &p,
                config,
                protocol: info.name,
                services: info.services,
            };
            protocol
                .entry
                .validate_check(k, spec.params.as_ref(), &cx)
                .map_err(|e| self.field_error(&p, e))?;
            if out.iter().any(|o| o.name == spec.name) {
                return Err(self.err(
                    &p,
                    format!("check `{}` appears twice in `checks`", spec.name),
                    None,
                ));
            }
            out.push(spec);
        }
        Ok(out)
    }

    /// A protocol's or check's rule violation, at `prefix.path` (or `path` from the root).
    fn field_error(&self, prefix: &str, e: FieldError) -> ScenarioError {
        let path = if e.in_scenario {
            e.path
        } else if e.path.is_empty() {
            prefix.to_string()
        } else if e.path.starts_with('[') {
            format!("{prefix}{}", e.path)
        } else {
            field(prefix, &e.path)
        };
        self.err(&path, e.message, e.hint)
    }

    fn expect(&self, e: &ExpectSpec, checks: &[CheckSpec]) -> R<Expect> {
        let names = match e {
            ExpectSpec::Pass => return Ok(Expect::Pass),
            ExpectSpec::Violation(names) => names,
        };
        if names.is_empty() {
            return Err(self.err(
                "expect",
                "`Violation([])` names no check",
                "name the checks expected to fail, e.g. `Violation([\"convergence\"])`, or write `Pass`".to_string(),
            ));
        }
        let running: Vec<&str> = checks.iter().map(|c| c.name).collect();
        for (j, name) in names.iter().enumerate() {
            let p = index("expect.0", j);
            if names[..j].contains(name) {
                return Err(self.err(&p, format!("`{name}` appears twice in `expect`"), None));
            }
            if !running.contains(&name.as_str()) {
                let known = self.cx.registry.check_names();
                let known = known.as_slice();
                let hint = match (suggest(name, known), running.is_empty()) {
                    (Some(s), _) if s != name => {
                        format!("did you mean `{s}`? checks: {}", list(known))
                    }
                    (_, true) => "the scenario runs no checks: add it to `checks`".to_string(),
                    (_, false) => format!("the scenario runs {}", list(&running)),
                };
                let message = if known.contains(&name.as_str()) {
                    format!("`expect` names the check `{name}`, which this scenario does not run")
                } else {
                    format!("`expect` names `{name}`, which is not a check")
                };
                return Err(self.err(&p, message, hint));
            }
        }
        Ok(Expect::Violation(names.clone()))
    }
}

/// The fault kind a scenario's kind names.
fn kind(k: KindSpec) -> FaultKind {
    match k {
        KindSpec::Partition => FaultKind::Partition,
        KindSpec::Crash => FaultKind::Crash,
        KindSpec::Pause => FaultKind::Pause,
        KindSpec::ClockJump => FaultKind::ClockJump,
        KindSpec::Loss => FaultKind::Loss,
        KindSpec::Duplicate => FaultKind::Duplicate,
        KindSpec::Clog => FaultKind::Clog,
        KindSpec::Reorder => FaultKind::Reorder,
        KindSpec::Replay => FaultKind::Replay,
        KindSpec::TornWrite => FaultKind::TornWrite,
        KindSpec::Corrupt => FaultKind::Corrupt,
        KindSpec::Misdirect => FaultKind::Misdirect,
        KindSpec::LoseSync => FaultKind::LoseSync,
    }
}

fn endpoint_kind(e: Endpoint) -> &'static str {
    match e {
        Endpoint::Node(_) => "node",
        Endpoint::Client(_) => "client",
    }
}

fn id(e: Endpoint) -> u32 {
    match e {
        Endpoint::Node(n) => n.0,
        Endpoint::Client(c) => c.0,
    }
}
