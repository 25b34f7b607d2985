//! `dsim bench replication-messages`: node-to-node messages per client operation, for Raft
//! and Multi-Paxos, as the number of busy clients grows — the cost of replication under load.
//!
//! Each row is one fault-free run: three nodes, a one-way latency uniform in 1-10 ms (so
//! messages reorder), `--clients` clients each sending a request (reads, writes and
//! compare-and-sets on 20 keys) 5 ms after its previous one completes, for `--seconds` of
//! simulated time. A leader that sends each entry to each follower once costs a near-constant
//! number of messages per operation whatever the load (Raft `2(n − 1)` per command plus
//! heartbeats, Multi-Paxos `3(n − 1)`); one that resends what is in flight costs more the
//! more operations are in flight at once. Operations counted are those completed `ok` or
//! `fail`; messages are those between nodes (client requests, redirects and replies apart).
//!
//! Exit codes: 0 done, 2 bad input.

use scenarios::bench::{Bench, BenchArgs, BenchOption};
use scenarios::exit;
use sim_core::config::{ClientConfig, Latency, TargetPolicy, Workload};
use sim_core::{run, Outcome, Process, SimConfig, SimDuration};

use crate::paxos::{self, Paxos};
use crate::raft::{self, Raft};

/// `dsim bench replication-messages`.
pub const BENCH: Bench = Bench {
    name: "replication-messages",
    about: "Raft and Multi-Paxos: node messages per client operation as the clients grow",
    options: &[
        BenchOption {
            name: "clients",
            help: "client counts, comma-separated",
            default: "1,10,50,200",
        },
        BenchOption {
            name: "seconds",
            help: "simulated seconds per run",
            default: "10",
        },
        BenchOption {
            name: "seed",
            help: "seed of every run",
            default: "1",
        },
    ],
    run: main,
};

/// One run's count.
struct Row {
    ops: u64,
    messages: u64,
    hit_events_max: bool,
}

fn config(clients: u32, seconds: u64, seed: u64) -> SimConfig {
    let mut c = SimConfig::basic(3, SimDuration::from_secs(seconds));
    c.seed = seed;
    c.events_max = 50_000_000;
    c.network.default.latency = Latency::Uniform {
        min: SimDuration::from_millis(1),
        max: SimDuration::from_millis(10),
    };
    c.clients = ClientConfig {
        count: clients,
        target: TargetPolicy::Random,
        timeout: SimDuration::from_millis(500),
        workload: Workload::KeyValue {
            keys: 20,
            get: 2,
            put: 2,
            cas: 1,
            append: 0,
            interval: SimDuration::from_millis(5),
            ops_per_client: 1_000_000,
        },
        ..ClientConfig::default()
    };
    c
}

fn measure<P: Process>(
    config: SimConfig,
    factory: impl FnMut(sim_core::NodeId) -> P + 'static,
) -> Row {
    let r = run(config, factory);
    let ops = r
        .history
        .ops
        .iter()
        .filter(|op| matches!(op.completion, Some((_, Outcome::Ok(_) | Outcome::Fail))))
        .count() as u64;
    Row {
        ops,
        messages: r.stats.node_messages(),
        hit_events_max: r.hit_events_max,
    }
}

fn main(args: &BenchArgs) -> i32 {
    let parsed = (|| -> Result<(Vec<u32>, u64, u64), String> {
        let clients = args
            .get("clients")
            .split(',')
            .map(|c| {
                c.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| (1..=10_000).contains(&n))
                    .ok_or_else(|| format!("--clients `{c}` is not a count in 1..=10000"))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        let seconds = args.number("seconds")?;
        if !(1..=3600).contains(&seconds) {
            return Err(format!("--seconds `{seconds}` is not in 1..=3600"));
        }
        Ok((clients, seconds, args.number("seed")?))
    })();
    let (clients, seconds, seed) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    println!("3 nodes, latency 1-10 ms, clients every 5 ms, 20 keys, {seconds} s, seed {seed}");
    println!(
        "{:>12} {:>8} {:>10} {:>12} {:>14}",
        "protocol", "clients", "ops", "messages", "messages/op"
    );
    for &c in &clients {
        let rows = [
            ("raft", {
                let p = raft::Params::default();
                measure(config(c, seconds, seed), move |id| Raft::new(id, &p))
            }),
            ("multi-paxos", {
                let p = paxos::Params::default();
                measure(config(c, seconds, seed), move |id| Paxos::new(id, &p))
            }),
        ];
        for (name, row) in rows {
            let per_op = row.messages as f64 / row.ops.max(1) as f64;
            let mark = if row.hit_events_max {
                "  (stopped at events_max)"
            } else {
                ""
            };
            println!(
                "{name:>12} {c:>8} {:>10} {:>12} {per_op:>14.2}{mark}",
                row.ops, row.messages
            );
        }
    }
    exit::PASS
}
