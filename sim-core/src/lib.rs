//! dsim's engine: a deterministic, single-threaded discrete-event simulator of distributed
//! systems.
//!
//! One `Simulation` owns the world — nodes running a [`Process`], the network, clocks, storage,
//! clients, the fault plan — and runs its event loop from one root seed. Everything a run does
//! depends only on the configuration and the seed; the trace hash proves it. This crate knows
//! no particular protocol, no file format and no CLI: see ARCHITECTURE.md for the map.

pub mod check;
pub mod client;
pub mod clock;
pub mod config;
pub mod coverage;
pub mod detmath;
pub mod faults;
mod hint;
pub mod history;
pub mod ids;
pub mod kv;
pub mod network;
mod node_rng;
pub mod process;
pub mod protocol;
mod queue;
pub use queue::QUEUED_MAX;
pub mod rng;
pub mod script;
pub mod service;
pub mod sim;
pub mod spare;
pub mod storage;
pub mod swarm;
pub mod time;
mod timers;
pub mod trace;
mod trace_hash;
pub mod txn;
mod world;

pub use config::SimConfig;
pub use history::{History, Operation, Outcome};
pub use ids::{ClientId, Endpoint, NodeId, RequestId, TimerId};
pub use kv::KvStore;
pub use node_rng::NodeRng;
pub use process::{Context, Observed, Process};
pub use protocol::{Check, CheckInput, CheckKind, CheckList, FieldError, NoParams, Protocol};
pub use rng::{Probability, SimRng, StreamLabel};
pub use service::{Key, Request, Response, Service, Value};
pub use sim::{run, FaultRecord, NodeStatus, RunResult, Simulation, Stats};
pub use storage::Storage;
pub use time::{LocalTime, SimDuration, SimTime};
pub use trace::DropReason;
