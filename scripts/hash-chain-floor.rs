//! The floor the trace hash puts under W1: one W1 event (a delivery and the send it causes)
//! folds 11 words into `StableHasher`, each a dependent rotate, xor and multiply, so no
//! amount of other work removed makes an event cheaper than this chain. Prints its time per
//! event; compare with `des_ref w1`'s (../shared/bench/peer-bench) in the same minute:
//!
//!   rustc -O scripts/hash-chain-floor.rs -o /tmp/hash-chain-floor && /tmp/hash-chain-floor
use std::hint::black_box;
use std::time::Instant;

const K: u64 = 0x9E37_79B9_7F4A_7C15; // sim-core/src/trace.rs

fn main() {
    let words: Vec<u64> = (0..11u64).map(|i| black_box(i * 7 + 1)).collect();
    let mut best = f64::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        let mut s: u64 = 0x243F_6A88_85A3_08D3;
        for event in 0..1_000_000u64 {
            for &w in &words {
                s = (s.rotate_left(23) ^ (w ^ event)).wrapping_mul(K);
            }
        }
        black_box(s);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "RESULT hash chain, 11 words per event: {:.1} ns/event, {:.1} M events/s at most",
        best * 1e3,
        1.0 / best
    );
}
