//! `dsim bench history OUT`: long key-value histories, as dsim's clients record them, for
//! measuring the linearizability checker at scale.
//!
//! `clients` simulated clients each issue one request at a time — a read, a write or a
//! compare-and-set of a random key, with a random latency and think time — against a store
//! that applies every request atomically at a random instant between its invocation and its
//! completion (its linearization point). A share of the requests time out: the client gives up
//! and records the outcome as unknown, and the request takes effect or not (half and half), at
//! an instant that may be after the client gave up. The history is therefore linearizable,
//! unless `--violation` replaces one read in the middle by a read of a value nobody wrote.
//! Everything is drawn from dsim's seeded streams: the same arguments give the same file.

use std::collections::BinaryHeap;
use std::io::Write;
use std::path::PathBuf;

use sim_core::{
    ClientId, History, NodeId, Operation, Outcome, Request, Response, SimRng, SimTime, StreamLabel,
};

use crate::exit;

/// Latencies and think times, in nanoseconds.
const LATENCY_MAX_NS: u64 = 2_000_000;
const THINK_MAX_NS: u64 = 500_000;

/// What to generate.
#[derive(clap::Args, Clone, Debug)]
pub struct HistorySpec {
    /// Operations in all.
    #[arg(long, default_value_t = 100_000)]
    pub ops: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 20)]
    pub clients: u32,
    /// Keys, chosen uniformly per request.
    #[arg(long, default_value_t = 100)]
    pub keys: u64,
    /// Distinct values written (few values make the search harder).
    #[arg(long, default_value_t = 5)]
    pub values: u64,
    /// Share of requests that time out (0 to 1).
    #[arg(long, default_value_t = 0.02)]
    pub timeouts: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replace one read in the middle by a read of a value nobody wrote.
    #[arg(long)]
    pub violation: bool,
}

/// Arguments of `dsim bench history`.
#[derive(clap::Args, Debug)]
pub struct BenchHistoryArgs {
    /// The file to write: `.jsonl` (dsim's JSON Lines) or `.edn` (Jepsen events).
    pub out: PathBuf,
    #[command(flatten)]
    pub spec: HistorySpec,
}

/// One request as generated: the operation, and when it takes effect (if it does).
struct Draft {
    op: Operation,
    effect: Option<u64>,
}

/// The requests of one client, from its own stream.
fn draw(spec: &HistorySpec, rng: &mut SimRng, client: u32, at: u64, id: u64) -> (Draft, u64) {
    let key = rng.below(spec.keys.max(1));
    let values = spec.values.max(1);
    let request = match rng.below(10) {
        0..=4 => Request::Get { key },
        5..=7 => Request::Put {
            key,
            value: rng.below(values),
        },
        _ => Request::Cas {
            key,
            expected: Some(rng.below(values)),
            new: rng.below(values),
        },
    };
    let latency = 1 + rng.below(LATENCY_MAX_NS);
    let timed_out = (rng.below(1_000_000) as f64) < spec.timeouts.clamp(0.0, 1.0) * 1e6;
    let effect = if !timed_out {
        Some(at + rng.below(latency + 1))
    } else if rng.below(2) == 0 {
        // It may take effect after the client gave up.
        Some(at + rng.below(2 * latency + 1))
    } else {
        None
    };
    let done = at + latency;
    let op = Operation {
        client: ClientId(client),
        request_id: id,
        node: NodeId(0),
        via: Vec::new(),
        request,
        invoke: SimTime(at),
        completion: Some((
            SimTime(done),
            if timed_out {
                Outcome::Unknown
            } else {
                Outcome::Fail
            },
        )),
    };
    (Draft { op, effect }, done + rng.below(THINK_MAX_NS + 1))
}

/// Generates the history `spec` describes (see the module comment).
pub fn generate(spec: &HistorySpec) -> History {
    let clients = spec.clients.max(1);
    let mut rngs: Vec<SimRng> = (0..clients)
        .map(|c| SimRng::new(spec.seed, StreamLabel::Client(c)))
        .collect();
    // Clients by their next invocation time (earliest first; ties by client).
    let mut next: BinaryHeap<std::cmp::Reverse<(u64, u32)>> =
        (0..clients).map(|c| std::cmp::Reverse((0, c))).collect();
    let mut drafts: Vec<Draft> = Vec::with_capacity(spec.ops);
    while drafts.len() < spec.ops {
        let std::cmp::Reverse((at, c)) = next.pop().expect("a client");
        let (draft, again) = draw(spec, &mut rngs[c as usize], c, at, drafts.len() as u64);
        drafts.push(draft);
        next.push(std::cmp::Reverse((again, c)));
    }
    apply_in_effect_order(&mut drafts);
    let mut ops: Vec<Operation> = drafts.into_iter().map(|d| d.op).collect();
    if spec.violation {
        let middle = ops.len() / 2;
        if let Some(op) = ops[middle..]
            .iter_mut()
            .find(|o| matches!(o.completion, Some((_, Outcome::Ok(Response::Value(_))))))
        {
            let t = op.completion.as_ref().expect("completed").0;
            op.completion = Some((t, Outcome::Ok(Response::Value(Some(u64::MAX)))));
        }
    }
    History { ops }
}

/// Applies the requests to a store in the order they take effect and records what each
/// completed request saw.
fn apply_in_effect_order(drafts: &mut [Draft]) {
    let mut order: Vec<(u64, usize)> = drafts
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.effect.map(|t| (t, i)))
        .collect();
    order.sort_unstable();
    let mut store: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for (_, i) in order {
        let op = &mut drafts[i].op;
        let response = match op.request {
            Request::Get { key } => Response::Value(store.get(&key).copied()),
            Request::Put { key, value } => {
                store.insert(key, value);
                Response::Ok
            }
            Request::Cas { key, expected, new } => {
                if store.get(&key).copied() == expected {
                    store.insert(key, new);
                    Response::Ok
                } else {
                    Response::Fail
                }
            }
            _ => unreachable!("only key-value requests are generated"),
        };
        if let Some((_, outcome)) = op.completion.as_mut() {
            if *outcome != Outcome::Unknown {
                // As dsim's clients record it: a definite failure is `Outcome::Fail`.
                *outcome = match response {
                    Response::Fail => Outcome::Fail,
                    r => Outcome::Ok(r),
                };
            }
        }
    }
}

/// Runs `dsim bench history`; returns the exit code.
pub fn main(args: BenchHistoryArgs) -> i32 {
    let history = generate(&args.spec);
    let written = std::fs::File::create(&args.out).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        if args.out.extension().is_some_and(|e| e == "edn") {
            crate::histfmt::write_edn(&history, &mut w)?;
        } else {
            crate::histfmt::write_jsonl(&history, &mut w)?;
        }
        w.flush()
    });
    match written {
        Ok(()) => exit::PASS,
        Err(e) => {
            eprintln!(
                "error: cannot write `{}`: {}",
                args.out.display(),
                e.to_string().to_lowercase()
            );
            exit::IO_ERROR
        }
    }
}
