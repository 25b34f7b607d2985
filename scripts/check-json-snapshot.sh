#!/usr/bin/env bash
# Snapshot `dsim check --json` on every shared history (and Porcupine's, from a checkout), with
# the wall-clock field `check_ms` removed, so that a checker change can be shown to keep every
# verdict, step count, configuration count and explanation byte for byte:
#
#   scripts/check-json-snapshot.sh DSIM OUT_DIR [PORCUPINE_TEST_DATA]
#   diff -r before/ after/
#
# Knossos's files are checked twice: as they are and with `--initial 0` (how Knossos runs them).
set -uo pipefail
cd "$(dirname "$0")/.."
dsim=$1 out=$2 extra=${3:-}
mkdir -p "$out"
files=$(find ../shared/histories ${extra:+"$extra"} -type f \
    \( -name '*.edn' -o -name '*.log' -o -name '*.txt' -o -name '*.jsonl' \) | sort)
for f in $files; do
    name=$(echo "$f" | tr '/' '_' | sed 's/^[._]*//')
    "$dsim" check --json "$f" 2>&1 | sed -E 's/"check_ms":[0-9.e+-]+,?//g' > "$out/$name.json"
    case $f in *knossos*)
        "$dsim" check --json --initial 0 "$f" 2>&1 | sed -E 's/"check_ms":[0-9.e+-]+,?//g' \
            > "$out/$name.init0.json" ;;
    esac
done
echo "$(ls "$out" | wc -l) snapshots in $out"
