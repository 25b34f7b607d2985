//! The transaction service: the `Transactions` workload's requests and the helpers that a
//! protocol serving it (two-phase commit) shares with its checks.
//!
//! A transaction is `Request::Txn { keys }`: "atomically increment each of these distinct keys
//! by one" — a read-modify-write per key, an absent key counting as `0`. A committed
//! transaction is answered `Response::Committed` with each key's new value, in key order; an
//! aborted one `Response::Fail`. Because every committed transaction adds exactly one to each
//! of its keys, a history is easy to check without a model search: under serializable
//! execution a key's committed increments see the values `0, 1, 2, …` in turn, each exactly
//! once, and the key ends at the number of committed transactions that touched it.
//!
//! Keys are drawn by [`draw`], from the client's own random stream, distinct within a
//! transaction and sorted (the order in which they are drawn carries no meaning).

use crate::{Key, Request, SimRng};

/// Most keys one transaction may name: a named limit that scenario validation enforces.
pub const KEYS_PER_TXN_MAX: u32 = 64;

/// A transaction over `keys_per_txn` distinct keys drawn uniformly from `0..keys`, in key
/// order. Requires `1 <= keys_per_txn <= min(keys, KEYS_PER_TXN_MAX)`.
pub fn draw(rng: &mut SimRng, keys: u32, keys_per_txn: u32) -> Request {
    assert!(
        keys_per_txn >= 1 && keys_per_txn <= keys && keys_per_txn <= KEYS_PER_TXN_MAX,
        "transaction of {keys_per_txn} keys out of {keys}"
    );
    let mut out: Vec<Key> = Vec::with_capacity(keys_per_txn as usize);
    // Floyd's algorithm: exactly `keys_per_txn` draws, distinct keys, no rejection loop.
    let n = u64::from(keys);
    for j in (n - u64::from(keys_per_txn))..n {
        let t = rng.below(j + 1);
        if out.contains(&t) {
            out.push(j);
        } else {
            out.push(t);
        }
    }
    out.sort_unstable();
    Request::Txn { keys: out }
}

/// The shard (participant index, from 0) that holds `key` among `shards` shards: a fixed,
/// portable hash (splitmix64's finalizer), never std's hasher, so every build and machine
/// places a key on the same shard.
pub fn shard_of(key: Key, shards: u32) -> u32 {
    assert!(shards > 0, "no shards");
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % u64::from(shards)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StreamLabel;

    #[test]
    fn keys_are_distinct_sorted_and_cover_the_range() {
        let mut rng = SimRng::new(3, StreamLabel::Client(0));
        let mut seen = [0u32; 8];
        for _ in 0..4000 {
            let Request::Txn { keys } = draw(&mut rng, 8, 3) else {
                panic!("not a transaction");
            };
            assert_eq!(keys.len(), 3);
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
            for k in keys {
                seen[k as usize] += 1;
            }
        }
        // 12000 keys over 8: 1500 each expected.
        for s in seen {
            assert!(s.abs_diff(1500) < 200, "{seen:?}");
        }
        let Request::Txn { keys } = draw(&mut rng, 5, 5) else {
            panic!()
        };
        assert_eq!(keys, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn shards_are_fixed_and_spread() {
        // Pinned values: a change of the hash would move every shipped scenario's keys.
        assert_eq!(
            (0..8).map(|k| shard_of(k, 3)).collect::<Vec<_>>(),
            vec![1, 2, 1, 0, 1, 2, 2, 0]
        );
        let mut count = [0u32; 4];
        for k in 0..4000 {
            count[shard_of(k, 4) as usize] += 1;
        }
        for c in count {
            assert!(c.abs_diff(1000) < 150, "{count:?}");
        }
    }
}
