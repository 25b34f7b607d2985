//! The last optional operation seen of each step, while [`super::search::Search::new`] links
//! interchangeable optional operations (same step) into classes.
//!
//! A key has few such classes (a Knossos `memstress3` or `mongodb` history has under ten), and
//! a tree of them — a node allocated, searched by comparisons of steps, freed — cost more than
//! the rest of the pass over those operations. The first [`FEW`] steps are kept in an array
//! searched from its start; any more go to a tree, so a key with thousands of classes is not
//! searched linearly.

use std::collections::BTreeMap;

use super::model::Step;

/// Steps kept in the array before the tree is used.
const FEW: usize = 8;

/// A map from steps to the last operation seen with each.
pub(super) struct LastTwin {
    few: [(Step, u32); FEW],
    len: usize,
    many: BTreeMap<Step, u32>,
}

impl LastTwin {
    pub(super) fn new() -> LastTwin {
        LastTwin {
            few: [(Step::Read(0), 0); FEW],
            len: 0,
            many: BTreeMap::new(),
        }
    }

    /// Records `op` as the last operation of `step`, and returns the one before it, if any
    /// (as [`BTreeMap::insert`] does).
    #[inline]
    pub(super) fn insert(&mut self, step: Step, op: u32) -> Option<u32> {
        if let Some(slot) = self.few[..self.len].iter_mut().find(|(s, _)| *s == step) {
            return Some(std::mem::replace(&mut slot.1, op));
        }
        if self.len < FEW {
            self.few[self.len] = (step, op);
            self.len += 1;
            return None;
        }
        self.many.insert(step, op)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Rng;
    use super::*;

    /// It answers every insertion as a tree does, with few and with many distinct steps.
    #[test]
    fn answers_as_a_tree() {
        let mut rng = Rng(0x7417);
        for case in 0..300 {
            let kinds = 1 + rng.below(40);
            let mut twins = LastTwin::new();
            let mut tree = BTreeMap::new();
            for op in 0..rng.below(200) as u32 {
                let v = rng.below(kinds) as u32;
                let step = match rng.below(4) {
                    0 => Step::Write(v),
                    1 => Step::Cas(v, v / 2),
                    2 => Step::Cas(v / 2, v),
                    _ => Step::Append(v),
                };
                assert_eq!(twins.insert(step, op), tree.insert(step, op), "case {case}");
            }
        }
    }
}
