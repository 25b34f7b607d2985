#!/usr/bin/env bash
# A long local run of the fuzz harness (cli/tests/fuzz.rs): structure-aware mutations of every
# shipped scenario and of ../shared/histories, through every parser and `dsim run` under a
# small event budget and a 512 MiB memory ceiling. CI runs 256 cases; this runs many more.
#   scripts/fuzz.sh [CASES]     (default 100000; the runs of the binary are an eighth of it)
# from a random seed, printed as DSIM_FUZZ_SEED=N: set it to repeat a run.
set -euo pipefail
cd "$(dirname "$0")/.."
DSIM_FUZZ_SEED="${DSIM_FUZZ_SEED:-random}" DSIM_FUZZ_CASES="${1:-100000}" cargo test --release -p cli --test fuzz -- --nocapture
