#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14) in build/fuzz and runs each one on a working copy
# of its seed corpus. Usage: scripts/fuzz.sh [--ci] [target...]
#   --ci     30 seconds per target (default: 10 minutes per target)
#   target   event_parser, config, service, http_framing or snapshot (default: all)
# Exits non-zero when any target reports a crash, leak, timeout, out-of-memory or sanitizer error;
# the reproducer is left in build/fuzz/artifacts/ and the full output in build/fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
if [ "${1:-}" = "--ci" ]; then
  seconds=30
  shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(event_parser config service http_framing snapshot); fi

scripts/install-deps.sh
build=build/fuzz
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$build" -j 2 --target "${targets[@]/%/_fuzzer}"

mkdir -p "$build/artifacts" "$build/logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=()
for target in "${targets[@]}"; do
  case "$target" in
    config) args=(-dict=fuzz/yaml.dict) ;;
    http_framing) args=(-dict=fuzz/http.dict) ;;
    snapshot) args=() ;;  # Binary input: no dictionary.
    *) args=(-dict=fuzz/json.dict) ;;
  esac
  target_seconds=$seconds
  # The snapshot target starts a service per input: a shorter CI slot keeps the stage short.
  if [ "$target" = snapshot ] && [ "$seconds" -le 30 ]; then target_seconds=20; fi
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  cp fuzz/corpus/"$target"/* "$corpus"/
  log="$build/logs/$target.log"
  echo "== $target: ${target_seconds}s on $(find "$corpus" -type f | wc -l) inputs (log: $log)"
  status=0
  "$build/${target}_fuzzer" "$corpus" "${args[@]}" -max_total_time="$target_seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" >"$log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -n 2 || true
  grep -E '^stat::' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "!! $target: libFuzzer exited with $status; reproducer:"
    grep -E 'Test unit written to|^==[0-9]+==ERROR|^SUMMARY|invariant violated|runtime error' "$log" || true
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in ${failed[*]} (see $build/artifacts and $build/logs)"
  exit 1
fi
echo "fuzz: no findings in ${targets[*]}"
