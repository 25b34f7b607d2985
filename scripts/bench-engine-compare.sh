#!/usr/bin/env bash
# Engine workloads of two dsim binaries beside the minimal event loop (des_ref), interleaved
# so that all three see the same load: for each workload, the median deliveries per second of
# each binary over REPS repetitions and its ratio to des_ref's median in the same minutes.
# Use it to tell whether a change to the engine's hot path helps on this shared machine, where
# the ratios of one binary drift between runs of scripts/bench-compare.sh.
#
#   scripts/bench-engine-compare.sh OLD_DSIM NEW_DSIM [REPS] [WORKLOADS...]
#                                     (default 9 repetitions; w1 w2 w3-10k)
#
# Build the old one from an earlier commit, e.g.
#   git worktree add /tmp/dsim-old <commit> && (cd /tmp/dsim-old && cargo build --release -p cli)
# des_ref is built as scripts/bench-compare.sh builds it (in $PEER_TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 reps=${3:-9}
shift $(($# < 3 ? $# : 3))
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(w1 w2 w3-10k)
peer=../shared/bench/peer-bench
PEER_TARGET=${PEER_TARGET:-/tmp/dsim-peer-bench-target}
(cd "$peer" && CARGO_TARGET_DIR="$PEER_TARGET" cargo build --release --bin des_ref >/dev/null 2>&1)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# The median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# One run's deliveries per second: `rate BINARY WORKLOAD` (des_ref takes no subcommand).
rate() {
    case $1 in
        des_ref) "$PEER_TARGET"/release/des_ref "$2" ;;
        *) "$1" bench engine "$2" --reps 1 ;;
    esac | field msgs_per_s
}

printf '%-8s %14s %14s %14s %9s %9s\n' workload des_ref_msgs/s old_msgs/s new_msgs/s old/des new/des
for w in "${workloads[@]}"; do
    o=(); n=(); r=()
    for _ in $(seq "$reps"); do
        o+=("$(rate "$old" "$w")") n+=("$(rate "$new" "$w")") r+=("$(rate des_ref "$w")")
    done
    set -- "$(median "${r[@]}")" "$(median "${o[@]}")" "$(median "${n[@]}")"
    printf '%-8s %14.0f %14.0f %14.0f %9.2f %9.2f\n' "$w" "$1" "$2" "$3" \
        "$(echo "$2 / $1" | bc -l)" "$(echo "$3 / $1" | bc -l)"
done
