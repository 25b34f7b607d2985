//! The storage against a reference model: the straightforward design with two images (the
//! visible one written at once, the disk written when a sync completes), driven through the
//! same random writes, syncs, crashes, torn writes and corruptions. Every observable — what
//! the node reads, what a restart would read, what is damaged, what each call returns, the
//! reads metered — must agree at every step.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Read, Storage, Torn};
use crate::config::Survive;
use crate::rng::{SimRng, StreamLabel};
use crate::time::SimTime;

/// A write, as the storage applies it to an image (the meaning of a write is shared; what the
/// model checks is when and to which image it is applied).
type Op = super::Op<u32, u32>;

/// The reference: a visible image and a disk image, each written in full.
#[derive(Default)]
struct Model {
    disk: BTreeMap<u32, u32>,
    disk_bad: BTreeSet<u32>,
    seen: BTreeMap<u32, u32>,
    seen_bad: BTreeSet<u32>,
    inflight: VecDeque<(SimTime, Vec<Op>, Vec<u32>)>,
    pending: Vec<Op>,
}

impl Model {
    fn write(&mut self, op: Op) {
        op.clone().apply(&mut self.seen, &mut self.seen_bad);
        self.pending.push(op);
    }

    fn sync_until(&mut self, now: SimTime, done: SimTime, damage: Vec<u32>) -> usize {
        let ops = std::mem::take(&mut self.pending);
        let n = ops.len();
        self.inflight.push_back((done, ops, damage));
        if done <= now && self.inflight.len() == 1 {
            self.settle(now);
        }
        n
    }

    fn settle(&mut self, now: SimTime) {
        while self.inflight.front().is_some_and(|b| b.0 <= now) {
            let (_, ops, damage) = self.inflight.pop_front().expect("front");
            for op in ops {
                op.apply(&mut self.disk, &mut self.disk_bad);
            }
            self.disk_bad.extend(damage);
        }
    }

    /// The writes not durable at `now`, oldest first, taken away.
    fn unlanded(&mut self, now: SimTime) -> Vec<Op> {
        self.settle(now);
        let mut ops: Vec<Op> = self.inflight.drain(..).flat_map(|b| b.1).collect();
        ops.append(&mut self.pending);
        ops
    }

    fn crash_torn(&mut self, now: SimTime, survive: Survive, pick: u64, tear: bool) -> Torn<u32> {
        let ops = self.unlanded(now);
        let total = ops.len();
        let keep = super::survivors(survive, pick, total);
        let (mut torn, mut kept) = (None, 0);
        for (op, keep) in ops.into_iter().zip(keep) {
            if !keep {
                continue;
            }
            kept += 1;
            match op {
                Op::Put(k, _) => torn = tearable(&k).then_some(k),
                Op::Remove(k) if torn == Some(k) => torn = None,
                Op::RemoveFrom(k) if torn.is_some_and(|t| t >= k) => torn = None,
                Op::Remove(_) | Op::RemoveFrom(_) => {}
            }
            op.apply(&mut self.disk, &mut self.disk_bad);
        }
        let torn = if tear { torn } else { None };
        self.disk_bad.extend(torn);
        Torn {
            kept,
            lost: total - kept,
            torn,
        }
    }

    fn reload(&mut self) {
        self.seen = self.disk.clone();
        self.seen_bad = self.disk_bad.clone();
    }
}

fn tearable(k: &u32) -> bool {
    !k.is_multiple_of(3)
}

const KEYS: u32 = 12;

/// Asserts that `s` and `m` agree on everything a node, the engine or a test can see.
fn agree(s: &Storage<u32, u32>, m: &Model, down: bool, step: &str) {
    assert_eq!(s.durable(), m.disk, "{step}: disk");
    assert_eq!(s.damaged(), &m.disk_bad, "{step}: damaged keys");
    let intact: Vec<u32> = m
        .disk
        .keys()
        .filter(|k| !m.disk_bad.contains(k))
        .copied()
        .collect();
    assert_eq!(s.durable_intact_keys(|_| true), intact, "{step}");
    for k in 0..KEYS {
        assert_eq!(
            s.durable_value(&k),
            m.disk.get(&k),
            "{step}: disk value of {k}"
        );
        let damaged = m.disk_bad.contains(&k) || m.inflight.iter().any(|b| b.2.contains(&k));
        assert_eq!(s.is_damaged(&k), damaged, "{step}: is_damaged({k})");
    }
    if down {
        return; // A crashed node reads nothing until its restart.
    }
    assert_eq!(s.len(), m.seen.len(), "{step}");
    assert_eq!(s.unsynced_count(), m.pending.len(), "{step}");
    let puts: Vec<u32> = m
        .pending
        .iter()
        .filter_map(|op| match op {
            Op::Put(k, _) => Some(*k),
            _ => None,
        })
        .collect();
    assert_eq!(
        s.pending_puts().copied().collect::<Vec<_>>(),
        puts,
        "{step}"
    );
    let scan: Vec<(u32, Read<u32>)> = m
        .seen
        .iter()
        .map(|(&k, &v)| {
            (
                k,
                if m.seen_bad.contains(&k) {
                    Read::Damaged
                } else {
                    Read::Intact(v)
                },
            )
        })
        .collect();
    assert_eq!(s.scan(), scan, "{step}: scan");
    for k in 0..KEYS {
        let seen = m.seen.get(&k).filter(|_| !m.seen_bad.contains(&k));
        assert_eq!(s.get(&k), seen, "{step}: get({k})");
    }
    let range: Vec<(u32, u32)> = s.range(3..9).map(|(k, v)| (*k, *v)).collect();
    let want: Vec<(u32, u32)> = m
        .seen
        .range(3..9)
        .filter(|(k, _)| !m.seen_bad.contains(k))
        .map(|(k, v)| (*k, *v))
        .collect();
    assert_eq!(range, want, "{step}: range");
    // scan + KEYS gets + the range's records: the reads are metered as before.
    let reads = m.seen.len() + KEYS as usize + m.seen.range(3..9).count();
    assert_eq!(s.take_reads(), reads as u64, "{step}: reads");
    assert_eq!(
        s.pending_bytes(),
        m.pending
            .iter()
            .map(|op| match op {
                Op::Put(_, v) => u64::from(*v % 100),
                _ => 0,
            })
            .sum::<u64>(),
        "{step}: unsynced bytes"
    );
}

/// Damage the engine may do while a node is up or down: corrupt (detectably or silently) a
/// disk record.
fn corrupt(s: &mut Storage<u32, u32>, m: &mut Model, rng: &mut SimRng) {
    let k = rng.below(u64::from(KEYS)) as u32;
    if rng.below(2) == 0 {
        s.damage(&k);
        if m.disk.contains_key(&k) {
            m.disk_bad.insert(k);
        }
    } else {
        let v = 1000 + rng.below(1000) as u32;
        s.garble(&k, v);
        if let Some(d) = m.disk.get_mut(&k) {
            *d = v;
        }
    }
}

fn run_one(seed: u64) {
    let mut rng = SimRng::new(seed, StreamLabel::Custom(0x5707));
    let mut s: Storage<u32, u32> = Storage::default();
    s.meter_reads(|v| u64::from(*v % 100));
    let mut m = Model::default();
    let mut now = SimTime(0);
    for i in 0..300 {
        let k = rng.below(u64::from(KEYS)) as u32;
        let step = format!("seed {seed} step {i}");
        let mut down = false;
        match rng.below(14) {
            0..=4 => {
                let v = rng.below(1000) as u32;
                s.put(k, v);
                m.write(Op::Put(k, v));
            }
            5 => {
                s.remove(&k);
                m.write(Op::Remove(k));
            }
            6 => {
                s.remove_from(&k);
                m.write(Op::RemoveFrom(k));
            }
            7 | 8 => {
                let done = SimTime(now.0 + rng.below(3));
                let mut damage: Vec<u32> = s
                    .pending_puts()
                    .copied()
                    .filter(|_| rng.below(4) == 0)
                    .collect();
                if rng.below(4) == 0 {
                    damage.push(k);
                }
                let n = s.sync_until(now, done, damage.clone());
                assert_eq!(n, m.sync_until(now, done, damage), "{step}: sync");
            }
            9 => {
                now = SimTime(now.0 + 1);
                s.settle(now);
                m.settle(now);
            }
            10 => corrupt(&mut s, &mut m, &mut rng),
            11 | 12 => {
                let lost = s.go_down(now);
                assert_eq!(lost, m.unlanded(now).len(), "{step}: lost writes");
                down = true;
            }
            _ => {
                let survive = if rng.below(2) == 0 {
                    Survive::Prefix
                } else {
                    Survive::Subset
                };
                let (pick, tear) = (rng.next_u64(), rng.below(2) == 0);
                let torn = s.crash_torn(now, survive, pick, tear, tearable);
                assert_eq!(torn, m.crash_torn(now, survive, pick, tear), "{step}: torn");
                down = true;
            }
        }
        agree(&s, &m, down, &step);
        if down {
            while rng.below(2) == 0 {
                corrupt(&mut s, &mut m, &mut rng);
                agree(&s, &m, true, &step);
            }
            s.reload();
            m.reload();
            agree(&s, &m, false, &format!("{step}, restarted"));
        }
    }
}

#[test]
fn the_undo_log_agrees_with_two_images_on_random_histories() {
    for seed in 0..200 {
        run_one(seed);
    }
}
