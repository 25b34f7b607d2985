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
        items.sort_by_key(time);
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
