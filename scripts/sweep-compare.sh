#!/usr/bin/env bash
# Protocol sweeps of two dsim binaries side by side, interleaved so that both see the same
# load: for each family's random-faults scenario, seeds per second per core of each binary
# (median of REPS runs with one worker thread) and the ratio new/old.
#
#   scripts/sweep-compare.sh OLD_DSIM NEW_DSIM [SEEDS] [REPS]     (default 0..200, 3)
#
# Build the old one from an earlier commit, e.g.
#   git worktree add /tmp/dsim-old <commit> && (cd /tmp/dsim-old && cargo build --release -p cli)
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 seeds=${3:-0..200} reps=${4:-3}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { "$1" sweep "scenarios/$2/random-faults.ron" --seeds "$seeds" --jobs 1 --json | sed -n 's/.*"seeds_per_s":\([0-9.e+-]*\).*/\1/p'; }
printf '%-18s %12s %12s %8s\n' family old_seeds/s new_seeds/s new/old
for f in raft paxos two-phase-commit leaderless; do
    o=(); n=()
    for _ in $(seq "$reps"); do
        o+=("$(rate "$old" "$f")")
        n+=("$(rate "$new" "$f")")
    done
    om=$(printf '%s\n' "${o[@]}" | median)
    nm=$(printf '%s\n' "${n[@]}" | median)
    printf '%-18s %12.1f %12.1f %8.2f\n' "$f" "$om" "$nm" "$(echo "$nm / $om" | bc -l)"
done
