//! The exact blocking completion of a failed search, and the longest linearizable prefix.
//!
//! An explanation names the first completion that no linearization gets past: everything that
//! completed before it can be linearized, but not together with it. A search that explored
//! every configuration knows it at once — the furthest completion it was stuck at. The
//! look-ahead ([`super::reach`]) cuts configurations short before they reach the completion
//! they would be stuck at, so a search only knows bounds: a completion it reached (everything
//! before it was linearized: a lower bound) and one that nothing got past (an upper bound).
//! Between the two, the answer is found by bisection: "can everything that completed up to
//! this completion be linearized (with what was still running as optional)?" holds up to the
//! blocking completion and fails from there on, and each question is a search of its own.

use super::model::{CompiledOp, Step};
use super::search::{Search, Status};
use super::Value;

/// A witness of the longest linearizable prefix: operations (indices into the compiled
/// operations) in linearization order, and the value after them (`None`: any state).
pub(super) struct Prefix {
    pub(super) ops: Vec<u32>,
    pub(super) state: Option<Value>,
}

/// The blocking operation of a failed exact search (index into its operations) and, when the
/// budget allowed finding it, a witness of everything that completed before it.
pub(super) fn settle(
    search: &Search,
    steps_max: u64,
    memory_bytes_max: u64,
) -> (u32, Option<Prefix>) {
    let order = search.by_completion();
    let (mut lo, mut hi) = search.blocking_bounds();
    let mut witness = Some(Prefix {
        ops: search.prefix().to_vec(),
        state: search.model.value(search.stuck_state()),
    });
    let mut steps_left = steps_max;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let quota = (steps_left / 2).max(1);
        let (outcome, steps) = linearize_up_to(search, order[mid], quota, memory_bytes_max);
        steps_left = steps_left.saturating_sub(steps);
        match outcome {
            Some(Some(prefix)) => {
                lo = mid + 1;
                witness = Some(prefix);
            }
            Some(None) => hi = mid,
            // Undecided: the upper bound still cannot be passed, but what comes before it is
            // not known to be linearizable.
            None => return (order[hi], None),
        }
    }
    (order[lo], witness)
}

/// The operations of `search` that may precede the completion of `op`, as a history of their
/// own: the ones that completed up to it are mandatory, the others invoked before it are
/// optional (reads among them constrain nothing and are left out). With the index in `search`
/// of each.
pub(super) fn history_up_to(search: &Search, op: u32) -> (Vec<CompiledOp>, Vec<u32>) {
    let mut sub = Vec::new();
    let mut index = Vec::new();
    for (j, mandatory) in search.before_completion_of(op) {
        let c = search.ops[j as usize];
        if mandatory {
            sub.push(c);
        } else if !matches!(c.step, Step::Read(_) | Step::CasFailed(_)) {
            sub.push(CompiledOp { ret: None, ..c });
        } else {
            continue;
        }
        index.push(j);
    }
    (sub, index)
}

/// Whether everything that may precede the completion of `op` can be linearized with it:
/// `Some(Some(witness))` if so, `Some(None)` if not, `None` if undecided within `steps_max`;
/// and the steps spent.
fn linearize_up_to(
    search: &Search,
    op: u32,
    steps_max: u64,
    memory_bytes_max: u64,
) -> (Option<Option<Prefix>>, u64) {
    let (sub, index) = history_up_to(search, op);
    let mut prefix = Search::new(search.model.clone(), sub, search.initial(), 0xb10c, false);
    let outcome = match prefix.run(steps_max, memory_bytes_max) {
        Status::Linearizable => Some(Some(Prefix {
            ops: prefix
                .linearization()
                .iter()
                .map(|&j| index[j as usize])
                .collect(),
            state: prefix.model.value(prefix.state()),
        })),
        Status::NotLinearizable => Some(None),
        Status::Running | Status::MemoryFull => None,
    };
    (outcome, prefix.steps)
}
