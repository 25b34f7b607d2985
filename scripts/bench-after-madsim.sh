#!/usr/bin/env bash
# Two dsim binaries in scripts/bench-compare.sh's order: every dsim run right after a madsim run
# of the same workload, des_ref right after dsim. The two binaries alternate which goes first.
# Prints each binary's median deliveries per second and its ratio to des_ref's median. Use it
# to tell whether a change makes dsim depend less on what ran before it (docs/performance.md,
# "Harness note": fresh huge pages on a machine that hands free memory back to its host).
#
#   scripts/bench-after-madsim.sh OLD_DSIM NEW_DSIM [REPS] [WORKLOAD]   (default 4, w3-10k)
#
# madsim's W3-10k run takes about 20 s, so 4 repetitions take about 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 reps=${3:-4} w=${4:-w3-10k}
peer=../shared/bench/peer-bench
PEER_TARGET=${PEER_TARGET:-/tmp/dsim-peer-bench-target}
(cd "$peer" && CARGO_TARGET_DIR="$PEER_TARGET" cargo build --release --bin des_ref --bin madsim_bench >/dev/null 2>&1)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

o=() n=() r=()
for i in $(seq "$reps"); do
    order=(old new)
    [ $((i % 2)) -eq 0 ] && order=(new old)
    for which in "${order[@]}"; do
        "$PEER_TARGET"/release/madsim_bench "$w" >/dev/null
        if [ "$which" = old ]; then
            o+=("$("$old" bench engine "$w" --reps 1 | field msgs_per_s)")
        else
            n+=("$("$new" bench engine "$w" --reps 1 | field msgs_per_s)")
        fi
        r+=("$("$PEER_TARGET"/release/des_ref "$w" | field msgs_per_s)")
    done
done
set -- "$(median "${r[@]}")" "$(median "${o[@]}")" "$(median "${n[@]}")"
printf '%-8s %14s %14s %14s %9s %9s\n' workload des_ref_msgs/s old_msgs/s new_msgs/s old/des new/des
printf '%-8s %14.0f %14.0f %14.0f %9.2f %9.2f\n' "$w" "$1" "$2" "$3" \
    "$(echo "$2 / $1" | bc -l)" "$(echo "$3 / $1" | bc -l)"
