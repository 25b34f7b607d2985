//! The serde types of the RON scenario format: exactly what a file may say, before validation.
//!
//! Every struct denies unknown fields, so a misspelt field is an error that lists the expected
//! ones. Field order here is the order in which errors list them and in which `README.md`
//! documents them. These types only describe shape; ranges and cross-field rules live in
//! `validate.rs`, which turns a `ScenarioFile` into a checked `Scenario`.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use sim_core::time::parse_duration;
use sim_core::SimDuration;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: SimDuration,
    #[serde(default)]
    pub liveness: Option<SimDuration>,
    #[serde(default)]
    pub events_max: Option<u64>,
    #[serde(default)]
    pub queued_max: Option<u64>,
    pub nodes: u32,
    #[serde(default)]
    pub topology: TopologySpec,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub clocks: ClocksSpec,
    /// `Name(...)`: resolved through the registry (see `resolve.rs`), so read as opaque here.
    #[serde(rename = "protocol")]
    pub _protocol: IgnoredAny,
    #[serde(default, deserialize_with = "optional_record")]
    pub clients: Option<ClientsSpec>,
    #[serde(default)]
    pub storage: StorageSpec,
    #[serde(default)]
    pub faults: Vec<FaultAt>,
    #[serde(default, deserialize_with = "optional_record")]
    pub nemesis: Option<NemesisSpec>,
    /// Ranges a per-seed nemesis, network and client mix are drawn from (swarm testing).
    #[serde(default, deserialize_with = "optional_record")]
    pub swarm: Option<SwarmSpec>,
    /// Each `Name(...)` is resolved through the registry, like `protocol`.
    #[serde(default)]
    pub checks: Vec<IgnoredAny>,
    #[serde(default)]
    pub expect: ExpectSpec,
    /// Situations (coverage) that must be reached: see `coverage.rs`.
    #[serde(default)]
    pub expect_reached: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TopologySpec {
    #[default]
    FullMesh,
    Ring,
    Star {
        center: u32,
    },
    Edges(Vec<(u32, u32)>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Network")]
pub struct NetworkSpec {
    #[serde(default = "default_latency")]
    pub latency: LatencySpec,
    #[serde(default)]
    pub drop: f64,
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub overrides: Vec<OverrideSpec>,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: default_latency(),
            drop: 0.0,
            duplicate: 0.0,
            overrides: Vec::new(),
        }
    }
}

fn default_latency() -> LatencySpec {
    LatencySpec::Constant(SimDuration::from_millis(1))
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LatencySpec {
    Constant(SimDuration),
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    Normal {
        mean: SimDuration,
        stddev: SimDuration,
        #[serde(default)]
        min: SimDuration,
    },
    Exponential {
        mean: SimDuration,
        #[serde(default)]
        min: SimDuration,
    },
    Pareto {
        scale: SimDuration,
        shape: f64,
        max: SimDuration,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Override")]
pub struct OverrideSpec {
    pub from: u32,
    pub to: u32,
    #[serde(default)]
    pub latency: Option<LatencySpec>,
    #[serde(default)]
    pub drop: Option<f64>,
    #[serde(default)]
    pub duplicate: Option<f64>,
    #[serde(default)]
    pub both_ways: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "Clocks")]
pub struct ClocksSpec {
    #[serde(default)]
    pub offset_max: SimDuration,
    #[serde(default)]
    pub drift_ppm_max: u32,
}

/// `storage: (sync: ..., read: ..., per_byte: ..., overrides: [...])`: every node's disk.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "Storage")]
pub struct StorageSpec {
    #[serde(default)]
    pub sync: Option<LatencySpec>,
    #[serde(default)]
    pub read: Option<LatencySpec>,
    #[serde(default)]
    pub per_byte: SimDuration,
    #[serde(default)]
    pub overrides: Vec<DiskOverrideSpec>,
}

/// `(node: 2, sync: ..., read: ..., per_byte: ...)`: one node's disk; unset fields as the default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "DiskOverride")]
pub struct DiskOverrideSpec {
    pub node: u32,
    #[serde(default)]
    pub sync: Option<LatencySpec>,
    #[serde(default)]
    pub read: Option<LatencySpec>,
    #[serde(default)]
    pub per_byte: Option<SimDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Clients")]
pub struct ClientsSpec {
    pub count: u32,
    #[serde(default)]
    pub target: TargetSpec,
    #[serde(default = "default_timeout")]
    pub timeout: SimDuration,
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub stop: Option<SimDuration>,
    /// Open loop: requests per second arriving at each client.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Resends of a timed-out request before it is recorded as unknown.
    #[serde(default)]
    pub retries: u32,
}

fn default_timeout() -> SimDuration {
    SimDuration::from_secs(1)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TargetSpec {
    #[default]
    Random,
    Fixed(u32),
    RoundRobin,
    Bound,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum WorkloadSpec {
    Broadcast {
        interval: SimDuration,
        ops_per_client: u32,
    },
    KeyValue {
        keys: u32,
        #[serde(default = "default_weight")]
        get: u32,
        #[serde(default = "default_weight")]
        put: u32,
        #[serde(default = "default_weight")]
        cas: u32,
        #[serde(default)]
        append: u32,
        interval: SimDuration,
        ops_per_client: u32,
    },
    Transactions {
        keys: u32,
        #[serde(default = "default_keys_per_txn")]
        keys_per_txn: u32,
        interval: SimDuration,
        ops_per_client: u32,
    },
    /// Explicit operations, one list per client.
    Script {
        interval: SimDuration,
        clients: Vec<ClientScriptSpec>,
    },
}

/// One client's script: `(start: "5ms", ops: [Put(key: 1), Get(key: 1, node: 2)])`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Client")]
pub struct ClientScriptSpec {
    #[serde(default)]
    pub start: SimDuration,
    pub ops: Vec<OpSpec>,
}

/// One scripted operation; `node` (optional) is the node it is sent to, `at` (optional) the
/// earliest time it is sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum OpSpec {
    Get {
        key: u64,
        #[serde(default)]
        node: Option<u32>,
        #[serde(default)]
        at: Option<SimDuration>,
    },
    Put {
        key: u64,
        #[serde(default)]
        node: Option<u32>,
        #[serde(default)]
        at: Option<SimDuration>,
    },
    Cas {
        key: u64,
        #[serde(default)]
        node: Option<u32>,
        #[serde(default)]
        at: Option<SimDuration>,
    },
    Append {
        key: u64,
        #[serde(default)]
        node: Option<u32>,
        #[serde(default)]
        at: Option<SimDuration>,
    },
    Txn {
        keys: Vec<u64>,
        #[serde(default)]
        node: Option<u32>,
        #[serde(default)]
        at: Option<SimDuration>,
    },
    Broadcast {
        #[serde(default)]
        node: Option<u32>,
        #[serde(default)]
        at: Option<SimDuration>,
    },
}

/// A transaction workload's keys per transaction when the file does not say.
fn default_keys_per_txn() -> u32 {
    2
}

/// A key-value workload's weight of each request kind when the file does not say: an even mix.
fn default_weight() -> u32 {
    1
}

/// `(at: "2s", fault: ...)`, and for a partition optionally `until: "3s"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Fault")]
pub struct FaultAt {
    pub at: SimDuration,
    pub fault: FaultSpec,
    /// A partition's end: exactly this partition is removed then.
    #[serde(default)]
    pub until: Option<SimDuration>,
}

/// A scheduled fault. The partition shapes may be written bare or wrapped in `Partition(...)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    Partition(PartitionSpec),
    Split(Vec<GroupSpec>),
    Isolate(u32),
    OneWay(OneWaySpec),
    Bridge(BridgeSpec),
    Heal,
    Crash(u32),
    Restart(u32),
    Pause {
        node: u32,
        duration: SimDuration,
    },
    ClockJump {
        node: u32,
        by: SignedDuration,
    },
    SetLink {
        #[serde(default)]
        from: Option<u32>,
        #[serde(default)]
        to: Option<u32>,
        #[serde(default)]
        latency: Option<LatencySpec>,
        #[serde(default)]
        drop: Option<f64>,
        #[serde(default)]
        duplicate: Option<f64>,
    },
    ResetLinks,
    Clog(u32),
    Unclog(u32),
    Replay {
        count: u32,
        #[serde(default)]
        from: Option<u32>,
        #[serde(default)]
        to: Option<u32>,
    },
    TornWrite {
        node: u32,
        #[serde(default)]
        survive: SurviveSpec,
        #[serde(default)]
        pick: u64,
        #[serde(default = "yes")]
        tear_last: bool,
    },
    Corrupt {
        node: u32,
        #[serde(default)]
        nth_from_end: u32,
        #[serde(default)]
        silent: bool,
    },
    Misdirect {
        node: u32,
        #[serde(default)]
        pick: u32,
    },
    LoseSync(u32),
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SurviveSpec {
    #[default]
    Prefix,
    Subset,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PartitionSpec {
    Split(Vec<GroupSpec>),
    Isolate(u32),
    OneWay(OneWaySpec),
    Bridge(BridgeSpec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "OneWay")]
pub struct OneWaySpec {
    pub from: GroupSpec,
    pub to: GroupSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Bridge")]
pub struct BridgeSpec {
    pub left: GroupSpec,
    pub right: GroupSpec,
    pub bridge: u32,
}

/// A partition's shape, whichever way the file wrote it (bare or inside `Partition(...)`).
pub enum PartitionRef<'a> {
    Split(&'a [GroupSpec]),
    Isolate(u32),
    OneWay(&'a OneWaySpec),
    Bridge(&'a BridgeSpec),
}

impl PartitionSpec {
    pub fn as_ref(&self) -> PartitionRef<'_> {
        match self {
            PartitionSpec::Split(g) => PartitionRef::Split(g),
            PartitionSpec::Isolate(n) => PartitionRef::Isolate(*n),
            PartitionSpec::OneWay(o) => PartitionRef::OneWay(o),
            PartitionSpec::Bridge(b) => PartitionRef::Bridge(b),
        }
    }
}

/// A set of endpoints: `[0, 1, 2]` (nodes only) or `(nodes: [0, 1], clients: [0])`.
#[derive(Debug)]
pub enum GroupSpec {
    Nodes(Vec<u32>),
    Record(GroupRecord),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Group")]
pub struct GroupRecord {
    #[serde(default)]
    pub nodes: Vec<u32>,
    #[serde(default)]
    pub clients: Vec<u32>,
}

impl<'de> Deserialize<'de> for GroupSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GroupSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a group: a list of node ids such as `[0, 1]`, or `(nodes: [0, 1], clients: [0])`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<GroupSpec, A::Error> {
                Vec::<u32>::deserialize(SeqAccessDeserializer::new(seq)).map(GroupSpec::Nodes)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<GroupSpec, A::Error> {
                GroupRecord::deserialize(MapAccessDeserializer::new(map)).map(GroupSpec::Record)
            }
        }
        d.deserialize_any(V)
    }
}

/// An optional record: `(a: 1)`, `Some((a: 1))` or `None`.
///
/// ron's `unwrap_variant_newtypes` extension (on, so that `Lease(drift_ppm: 100)` works) also makes
/// ron read `Some(` as a variant whose record has no parentheses of its own, which rejects the
/// natural `Some((a: 1))`. Reading the record through `deserialize_any` accepts every spelling.
fn optional_record<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Record<T>>::deserialize(d)?.map(|r| r.0))
}

struct Record<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Record<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Record<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a record `( field: value, ... )`")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Record<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Record)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A duration with a sign, for clock jumps: `"-50ms"`, `"+2s"`, `"50ms"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedDuration(pub i64);

impl<'de> Deserialize<'de> for SignedDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SignedDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a signed duration string such as \"-50ms\" or \"+2s\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SignedDuration, E> {
                let t = s.trim();
                let (negative, magnitude) = match t.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, t.strip_prefix('+').unwrap_or(t)),
                };
                // The same messages as `parse_duration`'s, so errors render alike.
                let d = parse_duration(magnitude).map_err(|e| E::custom(e.0))?;
                let n = i64::try_from(d.as_nanos()).map_err(|_| {
                    E::custom(format!("`{}` is too long a duration", magnitude.trim()))
                })?;
                Ok(SignedDuration(if negative { -n } else { n }))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Nemesis")]
pub struct NemesisSpec {
    pub kinds: Vec<KindSpec>,
    pub interval_mean: SimDuration,
    pub duration_mean: SimDuration,
    #[serde(default = "default_down_max")]
    pub down_max: u32,
    #[serde(default)]
    pub clock_jump_max: SimDuration,
    #[serde(default)]
    pub loss: f64,
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub silent: bool,
    #[serde(default)]
    pub reorder_window: SimDuration,
    #[serde(default)]
    pub replay: u32,
    #[serde(default)]
    pub faults_max: Option<u32>,
}

fn default_down_max() -> u32 {
    1
}

/// `swarm: (kinds: [...], interval_mean: ("100ms", "2s"), ...)`: each range is `(min, max)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Swarm")]
pub struct SwarmSpec {
    pub kinds: Vec<KindSpec>,
    #[serde(default = "half")]
    pub keep: f64,
    pub interval_mean: (SimDuration, SimDuration),
    pub duration_mean: (SimDuration, SimDuration),
    #[serde(default = "default_down_max_range")]
    pub down_max: (u32, u32),
    #[serde(default)]
    pub clock_jump_max: Option<(SimDuration, SimDuration)>,
    #[serde(default)]
    pub loss: Option<(f64, f64)>,
    #[serde(default)]
    pub duplicate: Option<(f64, f64)>,
    #[serde(default)]
    pub reorder_window: Option<(SimDuration, SimDuration)>,
    #[serde(default)]
    pub replay: Option<(u32, u32)>,
    /// The network's base loss and duplication, and its latency shapes (one per seed).
    #[serde(default)]
    pub drop: Option<(f64, f64)>,
    #[serde(default)]
    pub network_duplicate: Option<(f64, f64)>,
    #[serde(default)]
    pub latencies: Vec<LatencySpec>,
    #[serde(default)]
    pub mix: bool,
    #[serde(default)]
    pub faults_max: Option<u32>,
}

fn default_down_max_range() -> (u32, u32) {
    (1, 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum KindSpec {
    Partition,
    Crash,
    Pause,
    ClockJump,
    Loss,
    Duplicate,
    Clog,
    Reorder,
    Replay,
    TornWrite,
    Corrupt,
    Misdirect,
    LoseSync,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ExpectSpec {
    #[default]
    Pass,
    Violation(Vec<String>),
}

fn half() -> f64 {
    0.5
}
