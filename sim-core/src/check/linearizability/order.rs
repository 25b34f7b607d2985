//! Sorting by time, as the search's preparation needs it: operations by invocation and
//! completions by time.
//!
//! Histories read from event logs (Jepsen's, Knossos's) number their events, so their times
//! are dense integers: a counting sort puts them in order in a few passes, where comparison
//! sorting was a tenth of a small check. Other times (dsim's nanoseconds) are sorted by
//! comparison. Both sorts are stable: items with the same time keep their order.

/// Times spread over at most this many slots per item (plus a few) are counted.
const SPREAD_PER_ITEM: u64 = 4;

/// Sorts `items` by `time`, stably.
pub(super) fn sort_by_time<T: Copy>(items: &mut Vec<T>, time: impl Fn(&T) -> u64) {
    if items.len() < 2 || items.is_sorted_by_key(&time) {
        return;
    }
    let (lo, hi) = items.iter().fold((u64::MAX, 0), |(lo, hi), x| {
        (lo.min(time(x)), hi.max(time(x)))
    });
    let span = hi - lo;
    if span > SPREAD_PER_ITEM * items.len() as u64 + 64 {
        if !insertion_sort(items, &time) {
            items.sort_by_key(time);
        }
        return;
    }
    // Counts per time, then where each time's run starts, then the items placed in order.
    let mut start = vec![0u32; span as usize + 2];
    for x in items.iter() {
        start[(time(x) - lo) as usize + 1] += 1;
    }
    for t in 1..start.len() {
        start[t] += start[t - 1];
    }
    let mut sorted = Vec::with_capacity(items.len());
    // Every slot is written below before it is read: fill with the first item.
    sorted.resize(items.len(), items[0]);
    for x in items.iter() {
        let slot = &mut start[(time(x) - lo) as usize];
        sorted[*slot as usize] = *x;
        *slot += 1;
    }
    *items = sorted;
}

/// Moves per item an insertion sort may make before it gives up.
const MOVES_PER_ITEM: usize = 4;

/// Sorts `items` by `time` by insertion, stably, if that takes at most [`MOVES_PER_ITEM`]
/// moves per item; otherwise stops early and returns `false`, with `items` permuted so that a
/// stable sort still gives the stable order (a sorted prefix of them in their first order,
/// the rest as they were). One key's completions in invocation order are nearly sorted —
/// each is out of place by about the key's concurrency — where the standard library's sort
/// costs its full price (a fifth of building a Porcupine kv key's search).
fn insertion_sort<T: Copy>(items: &mut [T], time: &impl Fn(&T) -> u64) -> bool {
    let mut moves_left = MOVES_PER_ITEM * items.len();
    for i in 1..items.len() {
        let x = items[i];
        let t = time(&x);
        let mut j = i;
        while j > 0 && time(&items[j - 1]) > t {
            if moves_left == 0 {
                // Undo this item's shifts: the items before it sorted, the rest as they were.
                items.copy_within(j + 1..=i, j);
                items[i] = x;
                return false;
            }
            moves_left -= 1;
            items[j] = items[j - 1];
            j -= 1;
        }
        items[j] = x;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::table::splitmix64;
    use super::*;

    /// The same order as the standard library's stable sort, for dense and sparse times, with
    /// ties, sorted and reversed inputs.
    #[test]
    fn sorts_as_a_stable_sort_does() {
        for case in 0..2000u64 {
            let n = (splitmix64(case) % 60) as usize;
            let spread = [1, 3, 10, 1000, u64::MAX / 2][(case % 5) as usize];
            let base = splitmix64(case ^ 0xbeef) % 1_000_000;
            let mut items: Vec<(u64, usize)> = (0..n)
                .map(|i| (base + splitmix64(case * 1000 + i as u64) % spread, i))
                .collect();
            match case % 7 {
                0 => items.sort(),
                1 => items.sort_by(|a, b| b.cmp(a)),
                _ => {}
            }
            let mut want = items.clone();
            want.sort_by_key(|x| x.0);
            sort_by_time(&mut items, |x| x.0);
            assert_eq!(items, want, "case {case}");
        }
    }
}
