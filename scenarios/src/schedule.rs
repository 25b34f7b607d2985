//! The fault schedule in both of its shapes: as a scenario file writes it — each entry with its
//! time, its fault and, for a partition, when exactly that partition ends (`until`) — and as
//! the engine runs it, where a partition's end is an entry of its own
//! (`Fault::EndPartition(i)`, which removes the cut that entry `i` added and no other).
//!
//! [`from_plan`] writes a run's applied fault plan — the nemesis's faults included — as
//! such entries (what a shrink starts from). [`to_engine`] is the one layout validation
//! produces and [`from_engine`] its inverse, used to write a configuration back as a file: the file's entries in file order, then one
//! `EndPartition` per `until`, ordered by time (then by the entry they end). The engine applies
//! entries at equal times in list order, so a partition's end applies after every file entry
//! at the same instant.

use sim_core::config::{Fault, ScheduledFault};
use sim_core::faults::{Action, Planned};
use sim_core::SimDuration;

/// One entry of a scenario file's `faults:` list.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub at: SimDuration,
    pub fault: Fault,
    /// For a partition: when exactly this partition is removed.
    pub until: Option<SimDuration>,
}

/// The engine's schedule of `entries` (see the module comment for the layout).
pub fn to_engine(entries: &[Entry]) -> Vec<ScheduledFault> {
    let mut out: Vec<ScheduledFault> = entries
        .iter()
        .map(|e| ScheduledFault {
            at: e.at,
            fault: e.fault.clone(),
        })
        .collect();
    let mut ends: Vec<(SimDuration, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.until.map(|u| (u, i)))
        .collect();
    ends.sort_unstable();
    out.extend(ends.into_iter().map(|(at, i)| ScheduledFault {
        at,
        fault: Fault::EndPartition(i),
    }));
    out
}

/// The file entries of an engine schedule: each `EndPartition(i)` becomes the `until` of the
/// entry it ends (the earliest, if several end one partition).
pub fn from_engine(faults: &[ScheduledFault]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(faults.len());
    let mut entry_of: Vec<Option<usize>> = Vec::with_capacity(faults.len());
    for f in faults {
        if matches!(f.fault, Fault::EndPartition(_)) {
            entry_of.push(None);
        } else {
            entry_of.push(Some(entries.len()));
            entries.push(Entry {
                at: f.at,
                fault: f.fault.clone(),
                until: None,
            });
        }
    }
    for f in faults {
        if let Fault::EndPartition(i) = f.fault {
            if let Some(Some(e)) = entry_of.get(i) {
                let until = &mut entries[*e].until;
                *until = Some(until.map_or(f.at, |u| u.min(f.at)));
            }
        }
    }
    entries
}

/// The applied plan as schedule entries: every applied fault in plan order, each cut's
/// removal as its partition's `until`. Actions at or after the end of the fault phase are
/// left out (a restart or a link reset there changes nothing the liveness phase does not
/// already do), and so is a partition removed the instant it was added.
pub fn from_plan(plan: &[Planned], duration: SimDuration) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut by_cut: Vec<(u64, usize)> = Vec::new();
    for p in plan {
        let at = SimDuration(p.at.0);
        match &p.action {
            Action::Apply(f, cut) => {
                if at >= duration {
                    continue;
                }
                if matches!(f, Fault::Partition(_)) {
                    by_cut.push((*cut, out.len()));
                }
                out.push(Entry {
                    at,
                    fault: f.clone(),
                    until: None,
                });
            }
            Action::RemoveCut(cut) => {
                if let Some(&(_, i)) = by_cut.iter().find(|(c, _)| c == cut) {
                    out[i].until = Some(at);
                }
            }
        }
    }
    out.retain(|e| e.until != Some(e.at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::Partition;
    use sim_core::NodeId;

    #[test]
    fn ends_follow_the_entries_and_fold_back() {
        let ms = SimDuration::from_millis;
        let cut = |n| Fault::Partition(Partition::Isolate(NodeId(n)));
        let entries = vec![
            Entry {
                at: ms(10),
                fault: cut(0),
                until: Some(ms(50)),
            },
            Entry {
                at: ms(20),
                fault: Fault::Crash(NodeId(1)),
                until: None,
            },
            Entry {
                at: ms(30),
                fault: cut(2),
                until: Some(ms(40)),
            },
        ];
        let engine = to_engine(&entries);
        let tail: Vec<_> = engine[3..]
            .iter()
            .map(|f| (f.at, f.fault.clone()))
            .collect();
        assert_eq!(
            tail,
            vec![
                (ms(40), Fault::EndPartition(2)),
                (ms(50), Fault::EndPartition(0))
            ]
        );
        assert_eq!(from_engine(&engine), entries);
    }
}
