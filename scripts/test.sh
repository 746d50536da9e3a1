#!/usr/bin/env bash
# Builds modelmon and runs every test (unit, scipy/sklearn agreement, end-to-end against the real
# binary and promtool). Usage: scripts/test.sh [--asan] [extra ctest args]
#   --asan   build and test with AddressSanitizer + UndefinedBehaviorSanitizer (preset asan-ubsan)
#   --soak [SECONDS]  instead of the suite: the slow-client storm (tests/e2e/storm_test.py storm)
#            and a soak of SECONDS (default 600) of steady ingest and scrapes with RSS checked flat
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
if [ "${1:-}" = "--asan" ]; then
  preset=asan-ubsan
  shift
fi
if [ "${1:-}" = "--soak" ]; then
  duration="${2:-600}"
  scripts/install-deps.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target modelmon
  /usr/bin/python3 tests/e2e/storm_test.py --binary build/release/modelmon storm
  exec /usr/bin/python3 tests/e2e/storm_test.py --binary build/release/modelmon soak \
    --duration "$duration"
fi

scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)" "$@"
