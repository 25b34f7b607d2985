#!/usr/bin/env bash
# Runs dsim's engine workloads W1-W3 beside peer-bench (the minimal event loop des_ref, and
# madsim) on this machine, interleaved so that both see the same load, and prints the medians
# and the ratios (of the medians, and of the best runs). Absolute figures drift between
# machines and minutes; the ratios are what the README reports. For a figure that does not
# depend on the load, count instructions instead (repeatable to the last digit):
#   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/dsim bench engine w2 --reps 1
#
#   scripts/bench-compare.sh [REPS]          (default 5; needs ../shared/bench/peer-bench)
#
# peer-bench is built out of tree (its folder is read-only) in $PEER_TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
peer=../shared/bench/peer-bench
PEER_TARGET=${PEER_TARGET:-/tmp/dsim-peer-bench-target}
[ -d "$peer" ] || { echo "error: $peer is missing" >&2; exit 1; }

cargo build --release -p cli >/dev/null 2>&1
(cd "$peer" && CARGO_TARGET_DIR="$PEER_TARGET" cargo build --release --bin des_ref --bin madsim_bench >/dev/null 2>&1)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

best() { sort -g | tail -1; }

# Each repetition runs dsim, the minimal loop and madsim back to back, so that all three see
# the same load. On a shared machine the load varies by the second: the median ratio is the
# typical one, the best-of ratio (fastest run of each side) the one least disturbed by it.
printf '%-8s %14s %14s %14s %10s %10s %10s %12s\n' workload dsim_msgs/s des_ref_msgs/s madsim_msgs/s dsim/des dsim/des_best dsim/madsim dsim_rss_MiB
for w in w1 w2 w3-1k w3-10k; do
    d=(); r=(); m=(); rss=()
    for _ in $(seq "$reps"); do
        line=$(./target/release/dsim bench engine "$w" --reps 1)
        d+=("$(echo "$line" | field msgs_per_s)")
        rss+=("$(echo "$line" | field vmhwm_mib)")
        r+=("$("$PEER_TARGET"/release/des_ref "$w" | field msgs_per_s)")
        m+=("$("$PEER_TARGET"/release/madsim_bench "$w" | field msgs_per_s)")
    done
    dm=$(printf '%s\n' "${d[@]}" | median)
    rm=$(printf '%s\n' "${r[@]}" | median)
    mm=$(printf '%s\n' "${m[@]}" | median)
    db=$(printf '%s\n' "${d[@]}" | best)
    rb=$(printf '%s\n' "${r[@]}" | best)
    rs=$(printf '%s\n' "${rss[@]}" | median)
    printf '%-8s %14.0f %14.0f %14.0f %10.2f %10.2f %10.1f %12s\n' "$w" "$dm" "$rm" "$mm" \
        "$(echo "$dm / $rm" | bc -l)" "$(echo "$db / $rb" | bc -l)" "$(echo "$dm / $mm" | bc -l)" "$rs"
done
# W3 at 100,000 nodes: peak RSS of a separate process (the 1 GiB target).
/usr/bin/time -v ./target/release/dsim bench engine w3-100k --reps 1 2>/tmp/dsim-w3-100k.time
grep 'Maximum resident' /tmp/dsim-w3-100k.time
