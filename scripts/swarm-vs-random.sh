#!/usr/bin/env bash
# Seeds-to-catch of every shipped bug variant under the family's swarm.ron and its fixed-mix
# random-faults.ron (gossip: nemesis-chaos.ron): each bug is switched on in both scenarios
# (`bug: X` added to the protocol's parameters), both are swept over the same seeds, and the
# table gives the first failing seed and how many seeds failed. Not part of CI (a few minutes).
#
#   scripts/swarm-vs-random.sh [SEEDS]      # default 0..300; JOBS=1 halves the memory
#   FAMILIES="raft paxos" scripts/swarm-vs-random.sh 0..100   # only these families
#
# Needs a release build: cargo build --release -p cli
set -uo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-0..300}"
DSIM=target/release/dsim
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

bugs() { # family -> bug variants
  case "$1" in
    raft) echo CommitPreviousTermByCount ForgetVote NoConsistencyCheck VoteWithoutLogCheck ;;
    paxos) echo NoAdoptAccepted PromiseWithoutPersist ;;
    two-phase-commit) echo CommitWithoutAllVotes ForgetPreparedOnRestart KeepAbortedLocks ;;
    leaderless) echo AckBeforeQuorum NoReplicaSync NoSyncBeforeAck ;;
    primary-backup) echo AckBeforeSync StaleBackupReads ;;
    gossip) echo AckBeforePersist ;;
  esac
}

# with_bug FILE BUG OUT: FILE with `bug: BUG` added to its protocol's parameters.
with_bug() {
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
src, bug, out = sys.argv[1:]
t = open(src).read()
# A bug variant keeps whole logs (Raft refuses snapshots with a bug): drop the threshold.
t = re.sub(r', snapshot_threshold: \d+', '', t)
t, n = re.subn(r'(\n    protocol: \w+\()(.*)\),\n', lambda m: f'{m.group(1)}{m.group(2)}, bug: {bug}),\n', t, count=1)
assert n == 1, src
open(out, 'w').write(t)
PY
}

# caught FILE: "first-seed failing-count" over $SEEDS
caught() {
  "$DSIM" sweep "$1" --seeds "$SEEDS" --jobs "${JOBS:-2}" --json | python3 -c '
import json, sys
v = json.load(sys.stdin)
s = v["failing_seeds"]
first = min(s) if s else "-"
print(first, str(len(s)) + "/" + str(v["runs"]))'
}

printf '| family | bug | random-faults: first failing seed | failing seeds | swarm: first failing seed | failing seeds |\n|---|---|---|---|---|---|\n'
for fam in ${FAMILIES:-raft paxos two-phase-commit leaderless primary-backup gossip}; do
  fixed=scenarios/$fam/random-faults.ron
  [ "$fam" = gossip ] && fixed=scenarios/gossip/nemesis-chaos.ron
  for bug in $(bugs "$fam"); do
    with_bug "$fixed" "$bug" "$TMP/fixed.ron"
    with_bug "scenarios/$fam/swarm.ron" "$bug" "$TMP/swarm.ron"
    read -r f1 n1 < <(caught "$TMP/fixed.ron" || true)
    read -r f2 n2 < <(caught "$TMP/swarm.ron" || true)
    printf '| %s | %s | %s | %s | %s | %s |\n' "$fam" "$bug" "$f1" "$n1" "$f2" "$n2"
  done
done
