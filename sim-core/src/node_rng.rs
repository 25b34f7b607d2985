//! The nodes' random streams, laid out for the event loop: the words each node has buffered in
//! one vector, how many it has drawn in its dense record beside its liveness (`NodeHot`, which
//! `World` keeps and reads for every delivery), and one ChaCha generator shared by all of them
//! to refill a buffer.
//!
//! Each node's stream is exactly `SimRng::new(seed, StreamLabel::Node(i))`: the same `ChaCha8`
//! key and stream number, the same words in the same order, so no run changes. What changes is
//! where its state lives. A `SimRng` (`rand_chacha`'s generator) keeps its read position, key
//! and counter in a different cache line from the word it returns, so at 10,000 nodes every draw
//! cost two cache misses. Here a draw reads the count of words drawn from the node's dense
//! record, whose line the event loop has just read for the node's status, and one word from the
//! node's 256-byte buffer (four ChaCha blocks, as `rand_chacha` buffers them): one line that is
//! not already in the cache. Every 32 draws the shared generator is positioned at the node's
//! stream and word (`set_stream`, `set_word_pos`) and copies the next four blocks into the
//! buffer. A draw is one call behind a three-word handle ([`NodeRng`]), so that a handler that
//! draws stays small enough for the compiler to inline into the event loop.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::rng::StreamLabel;

/// 64-bit words a node buffers: four ChaCha blocks.
const WORDS: u64 = 32;

/// What the event loop reads of a node on every delivery, kept dense (16 bytes a node, four to
/// a cache line) in `World::hot`: its liveness, and how far it has drawn its random stream, which
/// the handler it is about to run most often draws from next. A pause's end is kept apart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NodeHot {
    /// 64-bit words drawn from the node's stream so far.
    pub(crate) drawn: u64,
    pub(crate) live: Live,
}

impl NodeHot {
    pub(crate) const UP: NodeHot = NodeHot {
        drawn: 0,
        live: Live::Up,
    };
}

/// A node's status without a pause's end (`NodeStatus` in `world.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Live {
    Up,
    Crashed,
    Paused,
}

/// One node's buffered words, little-endian, on cache-line boundaries.
#[repr(align(64))]
#[derive(Clone)]
struct Buffer([u8; 8 * WORDS as usize]);

/// Every node's buffer and the generator that refills them.
pub(crate) struct NodeStreams {
    buffers: Vec<Buffer>,
    /// Keyed by the run's seed; positioned anew at each refill. Its own buffer is always used up
    /// after a refill, so moving it to another stream never computes a block it would discard.
    refiller: ChaCha8Rng,
}

impl NodeStreams {
    /// The streams of nodes `0..node_count` of the run seeded with `seed`, none drawn yet.
    pub(crate) fn new(seed: u64, node_count: u32) -> NodeStreams {
        NodeStreams {
            buffers: vec![Buffer([0; 8 * WORDS as usize]); node_count as usize],
            refiller: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Node `node`'s stream; `hot` holds every node's count of words drawn.
    #[inline(always)]
    pub(crate) fn stream<'a>(&'a mut self, hot: &'a mut [NodeHot], node: u32) -> NodeRng<'a> {
        NodeRng {
            hot,
            streams: self,
            node,
        }
    }

    /// The next word of node `node`'s stream.
    #[inline(always)]
    fn next(&mut self, hot: &mut [NodeHot], node: u32) -> u64 {
        let i = node as usize;
        let drawn = &mut hot[i].drawn;
        let n = *drawn;
        *drawn = n + 1;
        let k = (n % WORDS) as usize;
        if k == 0 {
            self.refill(node, n);
        }
        let bytes = &self.buffers[i].0[8 * k..8 * k + 8];
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }

    /// Fills node `node`'s buffer with words `n..n + 32` of its stream (`n` a multiple of 32).
    #[inline(never)]
    fn refill(&mut self, node: u32, n: u64) {
        let r = &mut self.refiller;
        r.set_stream(StreamLabel::Node(node).stream_id());
        // In 32-bit words: a multiple of 64, so the generator computes exactly these four
        // blocks, and the copy leaves its own buffer used up.
        r.set_word_pos(u128::from(n) * 2);
        r.fill_bytes(&mut self.buffers[node as usize].0);
    }
}

/// The body of [`NodeRng::next_u64`], out of line.
#[inline(never)]
fn next_word(streams: &mut NodeStreams, hot: &mut [NodeHot], node: u32) -> u64 {
    streams.next(hot, node)
}

/// The body of [`NodeRng::below`], out of line.
#[inline(never)]
fn below_word(streams: &mut NodeStreams, hot: &mut [NodeHot], node: u32, n: u64) -> u64 {
    assert!(n > 0, "below(0)");
    let product = u128::from(streams.next(hot, node)) * u128::from(n);
    crate::rng::lemire(n, product, || streams.next(hot, node))
}

/// A node's random stream, as a handler reaches it through
/// [`Context::rng`](crate::Context::rng): the same draws as [`SimRng`](crate::SimRng) (`below`,
/// `range_inclusive`, `chance`, `unit_open`, `index`, `exponential`), from the node's own
/// stream, continued across restarts.
///
/// The handle itself is three words and each draw one call, so that a handler that draws stays
/// small enough to be inlined into the event loop.
pub struct NodeRng<'a> {
    hot: &'a mut [NodeHot],
    streams: &'a mut NodeStreams,
    node: u32,
}

impl NodeRng<'_> {
    /// The stream's next 64 random bits.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        next_word(self.streams, self.hot, self.node)
    }

    /// A uniform integer in `0..n`, as [`SimRng::below`](crate::SimRng::below) draws it. `n`
    /// must be > 0.
    #[inline(always)]
    pub fn below(&mut self, n: u64) -> u64 {
        below_word(self.streams, self.hot, self.node, n)
    }
}

crate::rng::derived_draws!(NodeRng<'_>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;

    #[test]
    fn each_node_draws_its_simrng_stream() {
        // Interleaved draws of several nodes, across many refills: every word equals the
        // node's own `SimRng`'s, so a run draws exactly what it drew before this layout.
        let nodes = 5u32;
        let mut streams = NodeStreams::new(42, nodes);
        let mut hot = vec![NodeHot::UP; nodes as usize];
        let mut reference: Vec<SimRng> = (0..nodes)
            .map(|i| SimRng::new(42, StreamLabel::Node(i)))
            .collect();
        let mut pick = SimRng::new(1, StreamLabel::Custom(9));
        for _ in 0..5_000 {
            let i = pick.below(u64::from(nodes)) as usize;
            let got = streams.stream(&mut hot, i as u32).next_u64();
            assert_eq!(
                got,
                reference[i].next_u64(),
                "node {i}, word {}",
                hot[i].drawn
            );
        }
        assert!(hot.iter().all(|h| h.drawn > 2 * WORDS), "{hot:?}");
    }

    #[test]
    fn derived_draws_match_simrng() {
        let mut streams = NodeStreams::new(7, 2);
        let mut hot = vec![NodeHot::UP; 2];
        let mut reference = SimRng::new(7, StreamLabel::Node(1));
        let mut node = streams.stream(&mut hot, 1);
        for i in 1..200u64 {
            assert_eq!(node.below(i), reference.below(i));
            assert_eq!(
                node.range_inclusive(i, 3 * i),
                reference.range_inclusive(i, 3 * i)
            );
            assert_eq!(node.index(i as usize), reference.index(i as usize));
            assert_eq!(node.unit_open(), reference.unit_open());
            let p = crate::rng::Probability::new(i as f64 / 200.0);
            assert_eq!(node.chance(p), reference.chance(p));
            let mean = crate::SimDuration(i * 1_000);
            assert_eq!(node.exponential(mean), reference.exponential(mean));
        }
        // Just above 2^63 about half the first draws are rejected: the out-of-line second draw.
        let n = (1u64 << 63) + 1;
        for _ in 0..200 {
            assert_eq!(node.below(n), reference.below(n));
        }
        assert_eq!(
            node.next_u64(),
            reference.next_u64(),
            "in step after the rejections"
        );
    }
}
