#!/usr/bin/env bash
# Mutation testing of the protocols with hand-written mutations (scripts/mutants.txt): each
# mutation is applied to the source, dsim is built, and the family's random-faults.ron and
# swarm.ron are swept — once with the protocols' own invariant asserts (`assert_invariants`
# of Raft and Paxos) and once without them, since a mutation that only an assert catches is
# one the checks are blind to (and a user's protocol has no such asserts). The table says per
# mutation and mode whether a seed failed, by which check (`panic` when an assert fired), the
# first failing seed and how many failed. The source is restored after each mutation.
#
#   scripts/mutants.sh [SEEDS] [FAMILY]     # default 0..300, every family in mutants.txt
#
# Not part of CI: every mutation is two builds and four sweeps.
set -uo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-0..300}"
ONLY="${2:-}"
DSIM=target/debug/dsim

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
# and Raft's refusal to truncate a committed entry (the asserts a bug variant skips too).
asserts_off() {
  for f in protocols/src/raft/node.rs protocols/src/paxos/node.rs; do
    apply "$f" 'pub(super) fn assert_invariants(&self) {\n        if self.params.bug.is_some() {' \
               'pub(super) fn assert_invariants(&self) {\n        if true || self.params.bug.is_some() {'
  done
  apply protocols/src/raft/log.rs 'assert!(index >= 1);\n        if self.params.bug.is_none() {' \
                                  'assert!(index >= 1);\n        if false && self.params.bug.is_none() {'
}

# sweep FILE: "check first-seed failing/runs", or "- - 0/runs" when no seed failed.
sweep() {
  "$DSIM" sweep "$1" --seeds "$SEEDS" --jobs 2 --json 2>/dev/null | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except ValueError:
    print("error - -"); sys.exit()
f = v["failures"]
if not f:
    print("-", "-", "0/" + str(v["runs"]))
else:
    print(f[0]["check"] or "panic", f[0]["seed"], str(len(f)) + "/" + str(v["runs"]))'
}

printf '| family | mutation | asserts | random-faults: check, first seed, failing | swarm: check, first seed, failing |\n|---|---|---|---|---|\n'
python3 -c '
import sys
for l in open("scripts/mutants.txt"):
    if l.strip() and not l.startswith("#"):
        print("\x1f".join(p.strip() for p in l.rstrip("\n").split(" ;; ")))' |
while IFS=$'\x1f' read -r fam file what old new; do
  [ -n "$ONLY" ] && [ "$fam" != "$ONLY" ] && continue
  for mode in on off; do
    restore
    apply "$file" "$old" "$new" || { echo "| $fam | $what | $mode | not applied | |"; continue; }
    [ "$mode" = off ] && asserts_off
    if ! cargo build -q -p cli 2>/dev/null; then
      echo "| $fam | $what | $mode | does not build | |"; continue
    fi
    fixed=scenarios/$fam/random-faults.ron
    r=$(sweep "$fixed"); s=$(sweep "scenarios/$fam/swarm.ron")
    echo "| $fam | $what | $mode | $r | $s |"
  done
done
restore
