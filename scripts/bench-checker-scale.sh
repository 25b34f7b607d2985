#!/usr/bin/env bash
# The linearizability checker on long histories: generated key-value histories (`dsim bench
# history`: clients against a store that applies each request inside its interval, 2% of the
# requests timing out) of 10k, 100k and 1M operations, over 100 keys and over one key, with 5,
# 20 and 100 concurrent clients. Each is checked by `dsim check` in a process of its own;
# prints a Markdown table of operations, check time (parsing excluded), time per 1k
# operations, and the process's peak RSS (parsing included).
#
#   scripts/bench-checker-scale.sh [OPS...]        (default: 10000 100000 1000000)
#
# Histories are written to a temporary folder (BENCH_WORK) and deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
work=${BENCH_WORK:-$(mktemp -d /tmp/dsim-scale.XXXXXX)}
cargo build --release -p cli >/dev/null 2>&1
dsim=./target/release/dsim
echo "dsim $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), timeouts 2%, 5 values, seed 1"
echo
echo "| keys | clients | operations | verdict | check ms | ms per 1k ops | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for keys in 100 1; do
    for clients in 5 20 100; do
        for ops in "${sizes[@]}"; do
            h="$work/h-$keys-$clients-$ops.jsonl"
            "$dsim" bench history "$h" --ops "$ops" --clients "$clients" --keys "$keys" \
                --timeouts 0.02 --seed 1
            out=$( { /usr/bin/time -f "rss_kb=%M" "$dsim" check "$h" --json \
                --time-limit "${TIME_LIMIT:-60}" 2>&1 >&3; } 3>&1 ) || true
            json=$(echo "$out" | grep '^{')
            rss=$(echo "$out" | sed -n 's/.*rss_kb=\([0-9]*\).*/\1/p')
            python3 - "$keys" "$clients" "$ops" "$rss" "$json" <<'PY'
import json, sys
keys, clients, ops, rss, line = sys.argv[1:]
d = json.loads(line)
why = '' if d['verdict'] != 'unknown' else ' (%s)' % d['unknown'][0]['reason']
print('| %s | %s | %s | %s%s | %.0f | %.2f | %.0f |' % (
    keys, clients, ops, d['verdict'], why, d['check_ms'],
    d['check_ms'] / (int(ops) / 1000), int(rss) / 1024))
PY
            rm -f "$h"
        done
    done
done
