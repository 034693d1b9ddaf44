#!/usr/bin/env bash
# A simulation campaign: N seeds (default 100000) of the deterministic
# simulation (tests/tests/simulation.rs), in release mode, over THREADS
# threads (default: every core), going on past failures and listing them.
#
#   scripts/simulate.sh 100000            # seeds 0..100000
#   START=500000 scripts/simulate.sh 1000 # seeds 500000..501000
#
# A failing seed prints the command that replays it with its trace:
#   SIM_SEED=<seed> cargo test -p tests --test simulation -- seeds --nocapture
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
threads="${THREADS:-$(nproc)}"
SIM_SEEDS="$n" SIM_START="${START:-0}" SIM_THREADS="$threads" SIM_KEEP_GOING=1 \
    cargo test --release -p tests --test simulation -- seeds --nocapture
