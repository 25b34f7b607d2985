#!/usr/bin/env bash
# Issue 10's acceptance run: every shipped bug-*.ron, shrunk at its first failing seed with the
# default budget, must keep failing the same check with at most 5 faults, and the shrunk file
# must fail again with `dsim run`. The hard bugs take 6,000-16,000 candidate runs each (minutes
# in release), which is why this is a script and CI's `scenarios/tests/shrink.rs` gives them a
# small budget instead. Usage: scripts/shrink-acceptance.sh [JOBS] [GLOB]
# (default: all cores, every scenarios/*/bug-*.ron; e.g. GLOB='scenarios/leaderless/bug-*.ron')
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-$(nproc)}"
glob="${2:-scenarios/*/bug-*.ron}"
faults_max=5
cargo build --release -q -p cli
dsim=target/release/dsim
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
fail=0
printf '%-48s %6s %8s %-22s %14s %7s\n' bug seed "shrunk" check faults runs
for f in $glob; do
    [ -e "$f" ] || { echo "$f: no such file"; fail=1; continue; }
    # A bug scenario's sweep fails (exit 1): that is the point.
    first=$({ "$dsim" sweep "$f" --seeds 0..200 --jobs "$jobs" --json 2>/dev/null || true; } |
        python3 -c 'import json,sys; s=json.load(sys.stdin)["failing_seeds"]; print(s[0] if s else "")')
    if [ -z "$first" ]; then
        echo "$f: no failing seed in 0..200"; fail=1; continue
    fi
    name=$(echo "$f" | tr / _)
    "$dsim" shrink "$f" --seed "$first" --jobs "$jobs" --json --out "$out/$name" \
        >"$out/$name.json" 2>/dev/null || true
    read -r seed check before after runs < <(python3 -c '
import json,sys
j=json.load(open(sys.argv[1]))
print(j["shrunk_seed"], j["check"], j["before"]["faults"], j["after"]["faults"], j["runs"])' "$out/$name.json")
    printf '%-48s %6s %8s %-22s %6s → %-5s %7s\n' "$f" "$first" "$seed" "$check" "$before" "$after" "$runs"
    if [ "$after" -gt "$faults_max" ]; then
        echo "  FAIL: $after faults after shrinking (at most $faults_max)"; fail=1
    fi
    # The shrunk file must fail (exit 1) its check, as its `expect` says.
    run_json=$("$dsim" run "$out/$name" --json 2>/dev/null || true)
    if ! python3 -c '
import json,sys
j=json.loads(sys.argv[2])
failed=[c["name"] for c in j["checks"] if c["verdict"]=="fail"]
sys.exit(0 if j["as_expected"] and sys.argv[1] in failed else 1)' "$check" "$run_json"; then
        echo "  FAIL: the shrunk file does not fail \`$check\` as it expects"; fail=1
    fi
done
exit $fail
