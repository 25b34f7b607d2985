//! Placement on the ring: a key's fixed portable position, its preference list (the `n`
//! consecutive nodes from there) and its fallbacks (the nodes after them).

use sim_core::{Key, NodeId};

/// A key's ring position among `node_count` nodes: a fixed 64-bit mix (splitmix64's finalizer),
/// the same on every platform and build.
pub fn key_position(key: Key, node_count: u32) -> u32 {
    let mut z = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % u64::from(node_count.max(1))) as u32
}

/// The ring from `key`'s position: the first `n` nodes are its preference list, the rest its
/// fallbacks in order.
pub fn ring_from(key: Key, node_count: u32) -> Vec<NodeId> {
    let start = key_position(key, node_count);
    (0..node_count)
        .map(|i| NodeId((start + i) % node_count))
        .collect()
}

/// `key`'s preference list: `n` consecutive nodes on the ring.
pub fn preference_list(key: Key, n: u32, node_count: u32) -> Vec<NodeId> {
    let mut ring = ring_from(key, node_count);
    ring.truncate(n.min(node_count) as usize);
    ring
}

/// Whether `node` is in `key`'s preference list, without building it (replicas ask this of
/// every key they hold at every anti-entropy round).
pub fn in_preference_list(key: Key, n: u32, node_count: u32, node: NodeId) -> bool {
    if node.0 >= node_count {
        return false;
    }
    let start = key_position(key, node_count);
    (node.0 + node_count - start) % node_count < n.min(node_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_agrees_with_the_preference_list() {
        for node_count in 0..7 {
            for n in 0..5 {
                for key in 0..40 {
                    let list = preference_list(key, n, node_count);
                    for node in (0..8).map(NodeId) {
                        assert_eq!(
                            in_preference_list(key, n, node_count, node),
                            list.contains(&node),
                            "key {key}, n {n}, {node_count} nodes, n{}",
                            node.0
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn placement_is_fixed_and_consecutive() {
        // Pinned: a change of the hash would silently move every shipped scenario's keys.
        let positions: Vec<u32> = (0..6).map(|k| key_position(k, 5)).collect();
        assert_eq!(positions, vec![0, 0, 0, 3, 3, 3]);
        let positions: Vec<u32> = (0..6).map(|k| key_position(k, 3)).collect();
        assert_eq!(positions, vec![1, 2, 1, 0, 1, 2]);
        for key in 0..20 {
            let pl = preference_list(key, 3, 5);
            assert_eq!(pl.len(), 3);
            for w in pl.windows(2) {
                assert_eq!((w[0].0 + 1) % 5, w[1].0);
            }
            assert_eq!(ring_from(key, 5).len(), 5);
        }
        assert_eq!(
            preference_list(7, 5, 3).len(),
            3,
            "capped at the node count"
        );
    }
}
