//! Storage semantics through a probe protocol: a sync that takes time holds the node's
//! messages until it completes and is lost if the node crashes first; reads take time; each
//! storage fault (torn write, corruption, misdirected write, lying sync) does exactly what
//! `scenarios/README.md` says, within the fault atlas, and is recorded in the fault log and
//! the trace.

use sim_core::config::{DiskModel, Fault, Latency, ScheduledFault, StorageConfig, Survive};
use sim_core::faults::StorageFault;
use sim_core::storage::Read;
use sim_core::{run, Context, FaultRecord, NodeId, Process, RunResult, SimConfig, SimDuration};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn at(t: u64, fault: Fault) -> ScheduledFault {
    ScheduledFault { at: ms(t), fault }
}

/// What a disk probe reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Seen {
    /// Message `id` arrived.
    Got(u32),
    /// After a restart: every record, `true` when intact.
    Disk(Vec<(u32, bool)>),
}

/// Each node writes keys `0..writes` at start, syncing after the first `synced` of them, then
/// sends message 1 to the next node; at `later` it writes one more key, syncs and sends
/// message 3. A restarted node reports its disk and sends message 2.
#[derive(Clone)]
struct DiskProbe {
    writes: u32,
    synced: u32,
    /// Write one more key (`writes`) and sync at this local time, if set.
    later: Option<SimDuration>,
}

impl Process for DiskProbe {
    type Msg = u32;
    type Timer = ();
    type StoreKey = u32;
    type StoreValue = u32;
    type Observation = Seen;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        for k in 0..self.writes {
            ctx.storage().put(k, k * 10);
            if k + 1 == self.synced {
                ctx.sync();
            }
        }
        let next = NodeId((ctx.id().0 + 1) % ctx.node_count());
        ctx.send(next, 1);
        if let Some(t) = self.later {
            ctx.set_timer(t, ());
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, msg: u32) {
        ctx.observe(Seen::Got(msg));
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
        ctx.storage().put(self.writes, self.writes * 10);
        ctx.sync();
        let next = NodeId((ctx.id().0 + 1) % ctx.node_count());
        ctx.send(next, 3);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let disk = ctx
            .storage()
            .scan()
            .into_iter()
            .map(|(k, r)| (k, matches!(r, Read::Intact(v) if v == k * 10)))
            .collect();
        ctx.observe(Seen::Disk(disk));
        let next = NodeId((ctx.id().0 + 1) % ctx.node_count());
        ctx.send(next, 2);
    }

    fn damaged_copies_max(node_count: u32) -> u32 {
        (node_count - 1) / 2
    }
}

fn disks(sync: Latency, read: Latency) -> StorageConfig {
    StorageConfig {
        default: DiskModel {
            sync,
            read,
            per_byte: SimDuration::ZERO,
        },
        overrides: Vec::new(),
    }
}

fn config(nodes: u32, faults: Vec<ScheduledFault>) -> SimConfig {
    let mut c = SimConfig::basic(nodes, ms(100));
    c.faults = faults;
    c
}

fn probe(writes: u32, synced: u32) -> impl FnMut(NodeId) -> DiskProbe {
    move |_| DiskProbe {
        writes,
        synced,
        later: None,
    }
}

/// When node `n` got message `id` (ns), if it did.
fn got(r: &RunResult<Seen>, n: u32, id: u32) -> Option<u64> {
    r.observations
        .iter()
        .find(|o| o.node == NodeId(n) && o.value == Seen::Got(id))
        .map(|o| o.time.0)
}

/// What node `n` found on its disk after its last restart.
fn disk(r: &RunResult<Seen>, n: u32) -> Vec<(u32, bool)> {
    r.observations
        .iter()
        .rev()
        .find_map(|o| match &o.value {
            Seen::Disk(d) if o.node == NodeId(n) => Some(d.clone()),
            _ => None,
        })
        .expect("a restart")
}

fn storage_faults(r: &RunResult<Seen>) -> Vec<(u32, StorageFault)> {
    r.fault_log
        .iter()
        .filter_map(|(_, f)| match f {
            FaultRecord::Storage(n, s) => Some((n.0, s.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_message_after_a_sync_leaves_when_the_sync_completes() {
    let mut c = config(2, vec![]);
    c.storage = disks(
        Latency::Constant(ms(5)),
        Latency::Constant(SimDuration::ZERO),
    );
    let r = run(c.clone(), |id| DiskProbe {
        writes: if id == NodeId(0) { 1 } else { 0 },
        synced: 1,
        later: None,
    });
    // n0 synced (5 ms) before sending; n1 wrote nothing and sends at once. Latency: 1 ms.
    assert_eq!(got(&r, 1, 1), Some(ms(6).0));
    // n1's message reaches n0 at 1 ms, but what n0 observes waits for its own sync: an
    // observation is a fact for the checks once what came before it is durable.
    assert_eq!(got(&r, 0, 1), Some(ms(5).0));
    // Free disks: both at 1 ms.
    c.storage = StorageConfig::default();
    let r = run(c, probe(1, 1));
    assert_eq!(
        (got(&r, 1, 1), got(&r, 0, 1)),
        (Some(ms(1).0), Some(ms(1).0))
    );
}

#[test]
fn syncs_queue_on_one_disk_and_a_crash_before_completion_loses_writes_and_messages() {
    let faults = vec![
        at(7, Fault::Crash(NodeId(0))),
        at(20, Fault::Restart(NodeId(0))),
    ];
    let mut c = config(2, faults);
    c.storage = disks(
        Latency::Constant(ms(5)),
        Latency::Constant(SimDuration::ZERO),
    );
    let r = run(c, |id| DiskProbe {
        writes: if id == NodeId(0) { 2 } else { 0 },
        synced: 1,
        later: (id == NodeId(0)).then_some(SimDuration::ZERO),
    });
    // Only n0 writes (n1's disk stays idle, so what it observes is not held). At start n0 syncs key 0 (done at 5 ms), writes key 1 and sends message 1, which waits
    // for that sync. Its timer at 0 writes key 2 and syncs keys 1 and 2 after the first sync
    // (done at 10 ms), then sends message 3. The crash at 7 ms keeps key 0 only, and message 3,
    // which waited for the second sync, never leaves.
    assert_eq!(disk(&r, 0), vec![(0, true)]);
    assert_eq!(got(&r, 1, 1), Some(ms(6).0));
    assert_eq!(
        got(&r, 1, 3),
        None,
        "the message waited for the sync and died with it"
    );
    assert_eq!(
        got(&r, 1, 2),
        Some(ms(21).0),
        "after the restart it sends at once"
    );
}

/// Node 0 of two writes and syncs 4 records, crashes at 10 ms and restarts at 20 ms on disks
/// with free syncs, `read` per record read and `per_byte`.
fn restart_reading(read: SimDuration, per_byte: SimDuration) -> RunResult<Seen> {
    let faults = vec![
        at(10, Fault::Crash(NodeId(0))),
        at(20, Fault::Restart(NodeId(0))),
    ];
    let mut c = config(2, faults);
    c.storage = disks(
        Latency::Constant(SimDuration::ZERO),
        Latency::Constant(read),
    );
    c.storage.default.per_byte = per_byte;
    run(c, probe(4, 4))
}

#[test]
fn reads_take_time_before_the_node_sends() {
    let r = restart_reading(ms(2), SimDuration::ZERO);
    // The restarted node reads its 4 records (2 ms each) before its message leaves.
    assert_eq!(got(&r, 1, 2), Some(ms(20 + 8 + 1).0));
}

#[test]
fn reads_are_charged_per_byte_too() {
    let r = restart_reading(SimDuration::ZERO, ms(1));
    // The restarted node's scan reads records 0, 10, 20 and 30: 7 bytes of `Debug` text at
    // 1 ms each before its message leaves.
    assert_eq!(got(&r, 1, 2), Some(ms(20 + 7 + 1).0));
}

#[test]
fn a_torn_write_keeps_a_prefix_and_tears_the_last_kept() {
    let torn = Fault::TornWrite {
        node: NodeId(0),
        survive: Survive::Prefix,
        pick: 3,
        tear_last: true,
    };
    let faults = vec![at(10, torn), at(20, Fault::Restart(NodeId(0)))];
    // Key 0 synced, keys 1..6 not: the first 3 of those survive, the third torn.
    let r = run(config(3, faults), probe(6, 1));
    assert_eq!(
        disk(&r, 0),
        vec![(0, true), (1, true), (2, true), (3, false)]
    );
    assert_eq!(
        storage_faults(&r),
        vec![(
            0,
            StorageFault::Torn {
                kept: 3,
                lost: 2,
                torn: Some("3".into())
            }
        )]
    );
    // The crash is logged as one, for every check that reads crashes.
    assert!(r
        .fault_log
        .iter()
        .any(|(_, f)| *f == FaultRecord::Crash(NodeId(0))));
}

#[test]
fn a_corruption_damages_one_synced_record_within_the_atlas() {
    // Three nodes: the atlas lets one node hold a damaged copy of a key. Both corruptions
    // aim at the last key; the second, on another node, must take the one before it.
    let corrupt = |n| Fault::Corrupt {
        node: NodeId(n),
        nth_from_end: 0,
        silent: false,
    };
    let faults = vec![
        at(10, Fault::Crash(NodeId(0))),
        at(10, corrupt(0)),
        at(10, Fault::Crash(NodeId(1))),
        at(10, corrupt(1)),
        at(20, Fault::Restart(NodeId(0))),
        at(20, Fault::Restart(NodeId(1))),
    ];
    let r = run(config(3, faults), probe(4, 4));
    assert_eq!(
        disk(&r, 0),
        vec![(0, true), (1, true), (2, true), (3, false)]
    );
    assert_eq!(
        disk(&r, 1),
        vec![(0, true), (1, true), (2, false), (3, true)]
    );
    let f = storage_faults(&r);
    assert_eq!(
        f,
        vec![
            (
                0,
                StorageFault::Corrupted {
                    key: "3".into(),
                    silent: false
                }
            ),
            (
                1,
                StorageFault::Corrupted {
                    key: "2".into(),
                    silent: false
                }
            ),
        ]
    );
}

#[test]
fn the_atlas_skips_a_corruption_with_nothing_left_to_damage() {
    // One key per node: once node 0's copy is damaged, node 1's may not be.
    let corrupt = |n| Fault::Corrupt {
        node: NodeId(n),
        nth_from_end: 0,
        silent: false,
    };
    let faults = vec![
        at(10, corrupt(0)),
        at(11, corrupt(1)),
        at(12, Fault::Crash(NodeId(1))),
        at(20, Fault::Restart(NodeId(1))),
    ];
    let r = run(config(3, faults), probe(1, 1));
    assert_eq!(disk(&r, 1), vec![(0, true)]);
    assert_eq!(storage_faults(&r)[1], (1, StorageFault::Skipped("corrupt")));
}

#[test]
fn a_protocol_that_claims_no_tolerance_is_never_damaged() {
    struct Fragile(DiskProbe);
    impl Process for Fragile {
        type Msg = u32;
        type Timer = ();
        type StoreKey = u32;
        type StoreValue = u32;
        type Observation = Seen;
        fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
            for k in 0..self.0.writes {
                ctx.storage().put(k, k);
            }
            ctx.sync();
        }
        fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: u32) {}
        fn on_timer(&mut self, _: &mut Context<'_, Self>, _: ()) {}
    }
    let faults = vec![at(
        10,
        Fault::Corrupt {
            node: NodeId(0),
            nth_from_end: 0,
            silent: false,
        },
    )];
    let r = run(config(3, faults), |_| {
        Fragile(DiskProbe {
            writes: 3,
            synced: 3,
            later: None,
        })
    });
    assert_eq!(
        r.fault_log[0].1,
        FaultRecord::Storage(NodeId(0), StorageFault::Skipped("corrupt"))
    );
}

#[test]
fn a_misdirected_write_damages_its_own_record_and_the_one_it_lands_on() {
    let faults = vec![
        at(
            1,
            Fault::Misdirect {
                node: NodeId(0),
                pick: 1,
            },
        ),
        at(10, Fault::Crash(NodeId(0))),
        at(20, Fault::Restart(NodeId(0))),
    ];
    // Keys 0..3 synced at start; key 3 written and synced at 5 ms: misdirected onto key 1
    // (the second of the other synced keys).
    let r = run(config(3, faults), |_| DiskProbe {
        writes: 3,
        synced: 3,
        later: Some(ms(5)),
    });
    assert_eq!(
        disk(&r, 0),
        vec![(0, true), (1, false), (2, true), (3, false)]
    );
    assert_eq!(
        storage_faults(&r)[1],
        (
            0,
            StorageFault::Misdirected {
                intended: "3".into(),
                victim: Some("1".into())
            }
        )
    );
}

#[test]
fn a_lying_sync_loses_its_writes_at_the_next_crash_but_keeps_their_keys() {
    let faults = vec![
        at(1, Fault::LoseSync(NodeId(0))),
        at(10, Fault::Crash(NodeId(0))),
        at(20, Fault::Restart(NodeId(0))),
    ];
    let r = run(config(3, faults), |_| DiskProbe {
        writes: 3,
        synced: 3,
        later: Some(ms(5)),
    });
    assert_eq!(
        disk(&r, 0),
        vec![(0, true), (1, true), (2, true), (3, false)]
    );
    assert_eq!(
        storage_faults(&r)[1],
        (0, StorageFault::SyncLied { lost: 1 })
    );
    // The node was told the sync succeeded: nothing it sent waited for anything else.
    assert!(got(&r, 1, 1).is_some());
}

#[test]
fn storage_faults_are_traced_and_hashed() {
    let faults = |pick| {
        vec![
            at(10, Fault::Crash(NodeId(0))),
            at(
                10,
                Fault::Corrupt {
                    node: NodeId(0),
                    nth_from_end: pick,
                    silent: false,
                },
            ),
            at(20, Fault::Restart(NodeId(0))),
        ]
    };
    let a = run(config(3, faults(0)), probe(4, 4));
    let b = run(config(3, faults(1)), probe(4, 4));
    let c = run(config(3, faults(0)), probe(4, 4));
    assert_eq!(a.trace_hash, c.trace_hash);
    assert_ne!(
        a.trace_hash, b.trace_hash,
        "which record was damaged shows in the hash"
    );
    let mut sim = sim_core::Simulation::new(config(3, faults(0)), probe(4, 4));
    let file = std::env::temp_dir().join(format!("dsim-storage-{}.jsonl", std::process::id()));
    sim.trace_to(Box::new(std::fs::File::create(&file).unwrap()));
    let _ = sim.run();
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        text.lines().any(|l| l.contains(r#""ev":"fault""#)
            && l.contains(r#""what":"Corrupt(node: 0): damaged 3""#)),
        "{text}"
    );
}
