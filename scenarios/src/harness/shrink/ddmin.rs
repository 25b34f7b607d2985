//! Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing
//! Input", TSE 2002): the smallest subset of a list that still makes the run fail, found by
//! trying ever finer chunks and their complements.
//!
//! `build` turns a subset into a whole candidate scenario; the [`Evaluator`] runs each step's
//! candidates in one ordered list and keeps the first that fails, so every step is
//! deterministic. With budget to spare the result is 1-minimal: removing any one item makes
//! the failure go away (at this seed). [`ddmin_variants`] tries each subset in several forms
//! (the same faults at other seeds, `faults`) and keeps a subset when any of them fails.

use super::eval::Evaluator;
use crate::Scenario;

/// The smallest failing subset of `items` that `build` and the evaluator find; the evaluator's
/// best scenario is `build` of it.
pub(super) fn ddmin<T: Clone>(
    ev: &mut Evaluator<'_>,
    items: &[T],
    build: impl Fn(&[T]) -> Scenario,
) -> Vec<T> {
    ddmin_variants(ev, items, |keep| vec![build(keep)])
}

/// [`ddmin`] where `build` gives each subset as several candidates, tried one after the
/// other in the step's list (each subset's forms together, in `build`'s order): a subset is
/// kept when any of its forms fails, and the evaluator's best is that form.
pub(super) fn ddmin_variants<T: Clone>(
    ev: &mut Evaluator<'_>,
    items: &[T],
    build: impl Fn(&[T]) -> Vec<Scenario>,
) -> Vec<T> {
    let mut cur = items.to_vec();
    if cur.is_empty() || ev.exhausted() {
        return cur;
    }
    if ev.first(build(&[])).is_some() {
        return Vec::new();
    }
    let mut n = 2usize;
    while cur.len() >= 2 && !ev.exhausted() {
        let chunks = split(&cur, n);
        let mut sets: Vec<Vec<T>> = chunks.clone();
        if n > 2 {
            for i in 0..chunks.len() {
                let rest: Vec<T> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                sets.push(rest);
            }
        }
        let mut owner = Vec::new();
        let mut candidates = Vec::new();
        for (i, set) in sets.iter().enumerate() {
            let forms = build(set);
            owner.extend(std::iter::repeat_n(i, forms.len()));
            candidates.extend(forms);
        }
        match ev.first(candidates).map(|k| owner[k]) {
            Some(i) if i < chunks.len() => {
                cur = sets.swap_remove(i);
                n = 2;
            }
            Some(i) => {
                cur = sets.swap_remove(i);
                n = (n - 1).max(2);
            }
            None => {
                if n >= cur.len() {
                    break;
                }
                n = (2 * n).min(cur.len());
            }
        }
    }
    cur
}

/// `items` in `n` contiguous chunks of nearly equal length (the first ones one longer).
fn split<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let n = n.clamp(1, items.len().max(1));
    let (base, extra) = (items.len() / n, items.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        out.push(items[at..at + len].to_vec());
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn chunks_cover_the_list_in_order() {
        let v: Vec<u32> = (0..7).collect();
        assert_eq!(split(&v, 3), vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        assert_eq!(split(&v, 7).len(), 7);
        assert_eq!(split(&v, 9).len(), 7, "never more chunks than items");
    }
}
