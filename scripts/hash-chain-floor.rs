//! The floor the trace hash puts under W1: one W1 event (a delivery and the send it causes)
//! folds 11 words (time, kind, endpoints, id; time, kind, endpoints, id, payload hash), each a
//! dependent rotate, xor and multiply. Until 2026-12-07 they went through one chain (11
//! dependent steps a delivery, about 55 cycles); `sim-core/src/trace_hash.rs` now spreads an
//! event's words over three lanes by position, so the longest chain is four steps. Prints the
//! time per event of both; compare with `des_ref w1`'s (../shared/bench/peer-bench) in the same
//! minute:
//!
//!   rustc -O scripts/hash-chain-floor.rs -o /tmp/hash-chain-floor && /tmp/hash-chain-floor
use std::hint::black_box;
use std::time::Instant;

const K: u64 = 0x9E37_79B9_7F4A_7C15; // sim-core/src/trace_hash.rs

fn step(s: u64, w: u64) -> u64 {
    (s.rotate_left(23) ^ w).wrapping_mul(K)
}

/// Before: all 11 words into one state.
fn one_chain(words: &[u64; 11], events: u64) -> u64 {
    let mut s: u64 = 0x243F_6A88_85A3_08D3;
    for event in 0..events {
        for &w in words {
            s = step(s, w ^ event);
        }
    }
    s
}

/// Now: a deliver's five words and a send's six, each event's position `p` into lane `p % 3`.
fn three_lanes(words: &[u64; 11], events: u64) -> u64 {
    let mut l = [1u64, 2, 3];
    for event in 0..events {
        for (p, &w) in words[..5].iter().enumerate() {
            l[p % 3] = step(l[p % 3], w ^ event);
        }
        for (p, &w) in words[5..].iter().enumerate() {
            l[p % 3] = step(l[p % 3], w ^ event);
        }
    }
    step(step(l[0], l[1]), l[2])
}

fn main() {
    let words: [u64; 11] = black_box(std::array::from_fn(|i| i as u64 * 7 + 1));
    let mut best = [f64::MAX; 2];
    for _ in 0..7 {
        for (i, fold) in [one_chain, three_lanes].iter().enumerate() {
            let start = Instant::now();
            black_box(fold(&words, black_box(1_000_000)));
            best[i] = best[i].min(start.elapsed().as_secs_f64());
        }
    }
    for (name, b) in [("one chain (before)", best[0]), ("three lanes (now)", best[1])] {
        println!(
            "RESULT hash of 11 words per event, {name}: {:.1} ns/event, {:.1} M events/s at most",
            b * 1e3,
            1.0 / b
        );
    }
}
