#!/usr/bin/env bash
# Builds modelmon and runs every test (unit, scipy/sklearn agreement, end-to-end against the real
# binary and promtool). Usage: scripts/test.sh [--asan] [extra ctest args]
#   --asan   build and test with AddressSanitizer + UndefinedBehaviorSanitizer (preset asan-ubsan)
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
if [ "${1:-}" = "--asan" ]; then
  preset=asan-ubsan
  shift
fi

scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)" "$@"
