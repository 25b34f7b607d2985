#!/usr/bin/env bash
# dsim's linearizability checker beside Porcupine, measured in the same run: Porcupine's own
# go-test benchmarks (its 102 etcd logs and 6 kv histories, checked with its etcd and
# partitioned kv models) and, through a harness of ours, Knossos's 69 cas-register histories;
# dsim's `bench check` on the same files, round after round, so both see the same load.
# Prints per family the sums, their ratio, the slowest file and the smallest ratio.
#
#   scripts/bench-checker-porcupine.sh [ROUNDS]       (default 3)
#
# Needs Go (Debian's golang-go) and python3. Porcupine's source comes from PORCUPINE_SRC (a
# checkout, a bare repository or a URL; default: the search tool's mirror if present, else
# GitHub); it is cloned into a temporary folder (BENCH_WORK) and never copied into this
# repository. Nothing here runs in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
mirror=/work/.mirror/anishathalye+porcupine/repo
default_src=https://github.com/anishathalye/porcupine
[ -d "$mirror" ] && default_src=$mirror
src=${PORCUPINE_SRC:-$default_src}
# dsim reports the median of ~200 µs samples, Go the mean over a second of iterations: under
# load, time slices lost to other processes count against Porcupine only (docs/linearizability.md).
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v l="$load" 'BEGIN { exit !(l > 1.5) }'; then
    echo "warning: load average $load: other processes inflate Porcupine's mean more than dsim's median; measure on a quiet machine" >&2
fi

work=${BENCH_WORK:-$(mktemp -d /tmp/dsim-porcupine.XXXXXX)}
knossos=../shared/histories/knossos/cas-register
command -v go >/dev/null || { echo "error: go is missing (apt-get install golang-go)" >&2; exit 1; }
[ -d "$knossos" ] || { echo "error: $knossos is missing" >&2; exit 1; }

rm -rf "$work/porcupine"
git clone -q "$src" "$work/porcupine"
commit=$(git -C "$work/porcupine" rev-parse --short HEAD)
cp scripts/porcupine/knossos_bench_test.go "$work/porcupine/"
(cd "$work/porcupine" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go test -c -o "$work/porcupine.test" .)
python3 scripts/porcupine/knossos_to_ops.py "$knossos" "$work/knossos-ops"
# The verdicts Porcupine's benchmarks assert, as VERDICTS files for dsim to compare with.
python3 - "$work/porcupine" <<'PY'
import re, sys
root = sys.argv[1]
test = open(root + '/porcupine_test.go').read()
with open(root + '/test_data/jepsen/VERDICTS', 'w') as f:
    for n, ok in re.findall(r'benchJepsen\(b, (\d+), (true|false)\)', test):
        f.write('etcd_%03d.log %s\n' % (int(n), 'linearizable' if ok == 'true' else 'not-linearizable'))
with open(root + '/test_data/kv/VERDICTS', 'w') as f:
    for name, ok in re.findall(r'benchKv\(b, "([^"]+)", (true|false), true\)', test):
        f.write('%s.txt %s\n' % (name, 'linearizable' if ok == 'true' else 'not-linearizable'))
PY
cargo build --release -p cli >/dev/null 2>&1
dsim=./target/release/dsim

echo "Porcupine $commit ($(go version | cut -d' ' -f3), GOMAXPROCS=${GOMAXPROCS:-$(nproc)}), dsim $(git rev-parse --short HEAD) (one thread), $rounds rounds, $(date -u +%Y-%m-%dT%H:%MZ)"
rm -f "$work"/porcupine-*.txt "$work"/dsim-*.json
for r in $(seq "$rounds"); do
    (cd "$work/porcupine" && DSIM_KNOSSOS_OPS="$work/knossos-ops" "$work/porcupine.test" \
        -test.run '^$' -test.bench 'EtcdJepsen|Kv[0-9]+Clients?(Ok|Bad)$|DsimKnossos' \
        -test.benchtime "${BENCHTIME:-200ms}") > "$work/porcupine-$r.txt"
    # Exit code 2: Porcupine's etcd_095.log is empty (reported and skipped).
    "$dsim" bench check "$work/porcupine/test_data/jepsen" "$work/porcupine/test_data/kv" \
        --reps "${REPS:-11}" --json > "$work/dsim-porcupine-$r.json" 2>/dev/null || [ $? -eq 2 ]
    "$dsim" bench check "$knossos" --initial 0 --reps "${REPS:-11}" --json \
        > "$work/dsim-knossos-$r.json"
done
python3 scripts/porcupine/compare.py "$work"
echo "per-file figures: $work/per-file.tsv"
