#!/usr/bin/env bash
# Benchmarks of two revisions in one run, interleaved so that both see the same machine:
#   bench/compare_revisions.sh BASE [ROUNDS]
# builds the bench preset of BASE (a commit, in a temporary worktree under build/compare/) and of
# the working tree, then runs ROUNDS (default 3) rounds of: the in-process ingest benchmark and the
# drift micro-benchmarks of BASE, then of the working tree; then the load tests of each (discard
# baseline included, so each revision's ratio is against its own run). Prints per-benchmark medians
# of each side and new / base. Needs a quiet machine for figures worth reporting.
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev="${1:?usage: bench/compare_revisions.sh BASE [ROUNDS]}"
rounds="${2:-3}"
scripts/install-deps.sh
root=$PWD
out=$root/build/compare
base_dir=$out/base-src
mkdir -p "$out"
if [ ! -d "$base_dir" ]; then
  git worktree add --detach "$base_dir" "$base_rev" >/dev/null
else
  git -C "$base_dir" checkout -q --detach "$base_rev"
fi
targets=(modelmon modelmon_loadgen modelmon_drift_bench modelmon_ingest_bench)
for side in base new; do
  src=$root
  [ "$side" = base ] && src=$base_dir
  (cd "$src" && cmake --preset bench >/dev/null && cmake --build --preset bench --target "${targets[@]}" >/dev/null)
done
data=$out/bench-data
/usr/bin/python3 bench/drift_data.py "$data" >/dev/null
for round in $(seq "$rounds"); do
  for side in base new; do
    src=$root
    [ "$side" = base ] && src=$base_dir
    bin=$src/build/bench/bench
    "$bin/modelmon_ingest_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_format=json > "$out/ingest_${side}_${round}.json"
    "$bin/modelmon_drift_bench" --data "$data" --benchmark_filter='Composite|EvaluateAllTests' \
      --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_format=json > "$out/drift_${side}_${round}.json"
  done
done
for side in base new; do
  src=$root
  [ "$side" = base ] && src=$base_dir
  (cd "$src" && /usr/bin/python3 bench/load_test.py --modelmon build/bench/modelmon \
     --loadgen build/bench/bench/modelmon_loadgen --out "$out/load_$side" --no-memory --plot "" \
     > "$out/load_$side.txt" 2>&1) || echo "load test of $side failed; see $out/load_$side.txt"
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
unit = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1.0}
def medians(kind, side):
    per = {}
    for r in range(1, rounds + 1):
        for b in json.load(open('%s/%s_%s_%d.json' % (out, kind, side, r)))['benchmarks']:
            if b.get('aggregate_name') == 'median':
                per.setdefault(b['run_name'], []).append(b['cpu_time'] * unit[b['time_unit']])
    return {k: (statistics.median(v), min(v), max(v)) for k, v in per.items()}
print('%-44s %22s %22s %8s' % ('benchmark (CPU time, median of rounds)', 'base [min..max]',
                                'new [min..max]', 'new/base'))
for kind in ('ingest', 'drift'):
    base, new = medians(kind, 'base'), medians(kind, 'new')
    for name in sorted(set(base) & set(new)):
        b, n = base[name], new[name]
        print('%-44s %9.1f [%5.1f..%5.1f] %9.1f [%5.1f..%5.1f] %8.3f' % (
            name[:44], b[0] * 1e6, b[1] * 1e6, b[2] * 1e6, n[0] * 1e6, n[1] * 1e6, n[2] * 1e6,
            n[0] / b[0]))
print('(microseconds)')
for side in ('base', 'new'):
    print('\n== load tests, %s' % side)
    print(open('%s/load_%s.txt' % (out, side)).read())
PY
