#!/usr/bin/env bash
# Mutation testing of the protocols with hand-written mutations (scripts/mutants.txt): each
# mutation is applied to the source, dsim is built (profile `mutants`: release speed,
# incremental), and the family's scenarios are swept — by default only with the protocols' own
# invariant asserts switched off (Raft's and Paxos's `assert_invariants`, Raft's refusal to
# truncate a committed entry, 2PC's `ASSERT_INVARIANTS`), since a mutation that only an assert
# catches is one the checks are blind to (and a user's protocol has no such asserts);
# `MODES="on off"` runs with them too. Per mutation and mode the table says which scenario
# caught it first, by which check (`panic`: an assert or an index out of bounds fired), at
# which seed, and how many of the seeds swept failed. The source is restored after each one.
#
#   scripts/mutants.sh [SEEDS] [FAMILY]     # default 0..300, every family in mutants.txt
#   MODES="on off" JOBS=2 scripts/mutants.sh 0..300 raft
#   MUTANTS=my-list.txt scripts/mutants.sh          # another list, same format
#
# A family's scenarios are swept in the order listed below, seeds in growing chunks
# (0..20, 20..100, then the rest): the first chunk with a failing seed stops the mutation,
# so a killed one costs a few seconds and a survivor the whole range of every scenario.
# Not part of CI: a survivor costs a build and a full sweep of each scenario.
set -uo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-0..300}"
ONLY="${2:-}"
MODES="${MODES:-off}"
JOBS="${JOBS:-2}"
MUTANTS="${MUTANTS:-scripts/mutants.txt}"
DSIM=target/mutants/dsim

# The scenarios a family is swept over: its random mix and its swarm, plus the targeted ones
# whose schedule reaches a path the mixes rarely do (see each family's README).
scenarios_of() {
  case "$1" in
    raft) echo random-faults.ron swarm.ron figure-8-unreliable.ron crash-during-elections.ron \
      stale-append-reply.ron read-index-new-leader.ron ;;
    paxos) echo random-faults.ron swarm.ron dueling-proposers.ron stale-accepted.ron ;;
    two-phase-commit) echo random-faults.ron swarm.ron ;;
    *) echo random-faults.ron swarm.ron ;;
  esac
}

if ! git diff --quiet -- protocols/src; then
  echo "error: protocols/src has uncommitted changes; commit or stash them (the script restores protocols/src from git)" >&2
  exit 2
fi
restore() { git checkout -- protocols/src; }
trap restore EXIT

# apply FILE OLD NEW: replace the one occurrence of OLD (`\n` = newline) in FILE.
apply() {
  python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2].replace('\\n', '\n'), sys.argv[3].replace('\\n', '\n')
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: the mutation's text occurs {text.count(old)} times")
open(path, 'w').write(text.replace(old, new))
PY
}

# The protocols' own invariant asserts switched off: Raft's and Paxos's `assert_invariants`
# (which a bug variant skips too), Raft's refusal to truncate a committed entry, and 2PC's.
asserts_off() {
  for f in protocols/src/raft/node.rs protocols/src/paxos/node.rs; do
    apply "$f" 'pub(super) fn assert_invariants(&self) {\n        if self.params.bug.is_some() {' \
               'pub(super) fn assert_invariants(&self) {\n        if true || self.params.bug.is_some() {'
  done
  apply protocols/src/raft/log.rs 'assert!(index >= 1);\n        if self.params.bug.is_none() {' \
                                  'assert!(index >= 1);\n        if false && self.params.bug.is_none() {'
  apply protocols/src/two_phase_commit/node.rs 'const ASSERT_INVARIANTS: bool = true;' \
                                               'const ASSERT_INVARIANTS: bool = false;'
}

# sweep FILE A..B: "check first-seed failing" or "- - 0"; "error - -" when the sweep failed.
sweep() {
  "$DSIM" sweep "$1" --seeds "$2" --jobs "$JOBS" --json 2>/dev/null | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except ValueError:
    print("error - -"); sys.exit()
f = v["failures"]
print(f[0]["check"] or "panic", f[0]["seed"], len(f)) if f else print("- - 0")'
}

# chunks A..B: the growing seed ranges swept in turn.
chunks() {
  python3 -c '
import sys
a, b = map(int, sys.argv[1].split(".."))
cuts = [a] + [c for c in (a + 20, a + 100) if a < c < b] + [b]
print(" ".join(f"{x}..{y}" for x, y in zip(cuts, cuts[1:])))' "$1"
}

# hunt FAMILY: the first scenario and chunk with a failing seed, or a survivor's sweep.
hunt() {
  local swept=""
  for sc in $(scenarios_of "$1"); do
    local runs=0
    for range in $(chunks "$SEEDS"); do
      read -r check seed failing <<<"$(sweep "scenarios/$1/$sc" "$range")"
      runs=$((runs + ${range#*..} - ${range%..*}))
      if [ "$check" = error ]; then
        echo "| error in $sc $range | |"; return
      fi
      if [ "$failing" != 0 ]; then
        echo "| **caught**: \`$check\`, $sc seed $seed ($failing of seeds $range failed) | ${swept}$sc ${SEEDS%..*}..${range#*..} |"
        return
      fi
    done
    swept="${swept}$sc $SEEDS, "
  done
  echo "| survived | ${swept%, } |"
}

python3 -c '
import sys
for l in open(sys.argv[1]):
    if l.strip() and not l.startswith("#"):
        print("\x1f".join(p.strip() for p in l.rstrip("\n").split(" ;; ")))' "$MUTANTS" |
while IFS=$'\x1f' read -r fam file what old new; do
  [ -n "$ONLY" ] && [ "$fam" != "$ONLY" ] && continue
  if [ "$fam" != "${last:-}" ]; then
    printf '\n%s (seeds %s)\n\n| mutation | asserts | verdict | swept |\n|---|---|---|---|\n' "$fam" "$SEEDS"
    last=$fam
  fi
  case "$what" in
    *"(equivalent:"*) echo "| $what | - | not run | |"; continue ;;
  esac
  for mode in $MODES; do
    restore
    apply "$file" "$old" "$new" || { echo "| $what | $mode | not applied | |"; continue; }
    [ "$mode" = off ] && asserts_off
    if ! cargo build -q --profile mutants -p cli 2>/dev/null; then
      echo "| $what | $mode | does not build | |"; continue
    fi
    echo "| $what | $mode $(hunt "$fam")"
  done
done
restore
