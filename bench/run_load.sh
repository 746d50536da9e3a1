#!/usr/bin/env bash
# Load tests of the daemon against its own discard endpoint (same server stack, same generator):
# batched and single-event ingest ratios, /metrics scrape cost, p99 at half load, RSS per windowed
# feature value, and docs/benchmarks-throughput.png. Builds the bench preset (Release). About 4
# minutes; options are passed to bench/load_test.py, e.g. --soak (adds the 10-minute RSS run),
# --runs 5, --duration 10, --plot "" (no plot), --no-memory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset bench >/dev/null
cmake --build --preset bench --target modelmon modelmon_loadgen >/dev/null
out=build/bench
/usr/bin/python3 bench/load_test.py --modelmon $out/modelmon --loadgen $out/bench/modelmon_loadgen \
  --out $out/load "$@"
