#!/usr/bin/env bash
# Every benchmark in one run: modelmon against scipy / scikit-learn on the same data, then the daemon
# under load:
#   1. one evaluation of every drift test over a 10k reference and a 10k window, for one feature and
#      for the 15 numerical + 5 categorical composite;
#   2. performance windows: per-event update cost (exact, ROC AUC included) for windows of 1e3, 1e4
#      and 1e5 pairs, against scikit-learn recomputing the window;
#   3. the ingest path in process (Service::Handle without sockets): a batch of 1000 events with 20
#      features, the parser alone on it, one event per request, an evaluation round;
#   4. load tests (bench/run_load.sh): ingest against the discard endpoint, /metrics scrape cost,
#      p99 at half load, RSS per windowed value, docs/benchmarks-throughput.png.
# Prints tables of medians and ratios. Release build with the bench preset; about 6 minutes.
# Arguments go to bench/load_test.py (e.g. --soak for the 10-minute RSS run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset bench >/dev/null
cmake --build --preset bench --target modelmon_drift_bench modelmon_perf_bench \
  modelmon_ingest_bench >/dev/null
out=build/bench
data=$out/bench-data
/usr/bin/python3 bench/drift_data.py "$data"
common=(--data "$data" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
        --benchmark_format=json)
$out/bench/modelmon_drift_bench "${common[@]}" > $out/drift_bench.json
$out/bench/modelmon_perf_bench "${common[@]}" > $out/perf_bench.json
/usr/bin/python3 bench/scipy_drift_baseline.py "$data" > $out/scipy_baseline.json
/usr/bin/python3 bench/sklearn_perf_baseline.py "$data" > $out/sklearn_baseline.json
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
unit = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1.0}
med = {}
for f in ('drift_bench.json', 'perf_bench.json'):
    for b in json.load(open('%s/%s' % (out, f)))['benchmarks']:
        if b.get('aggregate_name') == 'median':
            med[b['run_name']] = b['real_time'] * unit[b['time_unit']]
scipy = json.load(open(out + '/scipy_baseline.json'))
sk = json.load(open(out + '/sklearn_baseline.json'))
print('Drift: one evaluation, 10k reference vs 10k window')
print('%-58s %13s %13s %9s' % ('tests', 'modelmon (s)', 'scipy (s)', 'speed-up'))
for label, bm, key in [('numerical: ks, psi, wasserstein, jensen_shannon',
                        'BM_NumericalEvaluateAllTests', 'numerical_all_tests'),
                       ('categorical (20 categories): chi2, psi, jensen_shannon',
                        'BM_CategoricalEvaluateAllTests', 'categorical_all_tests')]:
    print('%-58s %13.3e %13.3e %8.0fx' % (label, med[bm], scipy[key], scipy[key] / med[bm]))
bm, key = 'BM_Composite15Numerical5Categorical', 'composite_15_numerical_5_categorical'
ratio = scipy[key] / med[bm]
print('%-58s %13.3e %13.3e %8.0fx  (target >= 100x: %s)' % (
    'composite: 15 x (ks, psi, wasserstein) + 5 x (chi2, psi)', med[bm], scipy[key], ratio,
    'met' if ratio >= 100 else 'NOT met'))
print('numerical per-event slide (remove + add), 10k window: %.0f ns' %
      (med['BM_NumericalSlide'] * 1e9))
print()
print('Performance windows: modelmon per-event update vs scikit-learn recomputing the window')
print('%-16s %8s %15s %15s %15s %9s' % ('task', 'window', 'update (ns)', 'compute (us)',
                                         'sklearn (us)', 'speed-up'))
for w in (1000, 10000, 100000):
    upd = med['BM_ClassificationSlide/%d' % w]
    comp = med['BM_ClassificationCompute/%d' % w]
    base = sk['classification_%d' % w]
    print('%-16s %8d %15.0f %15.2f %15.1f %8.0fx' % ('classification', w, upd * 1e9, comp * 1e6,
                                                     base * 1e6, base / (upd + comp)))
for w in (1000, 10000, 100000):
    upd = med['BM_RegressionSlide/%d' % w]
    base = sk['regression_%d' % w]
    print('%-16s %8d %15.0f %15s %15.1f %8.0fx' % ('regression', w, upd * 1e9, '-', base * 1e6,
                                                   base / upd))
print('(speed-up: sklearn recompute / (modelmon update + compute) per event)')
PY
echo
# 3. The ingest path in process, without sockets.
$out/bench/modelmon_ingest_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json > $out/ingest_bench.json
/usr/bin/python3 - "$out" <<'PY'
import json, sys
unit = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1.0}
rows = {b['run_name']: b for b in json.load(open(sys.argv[1] + '/ingest_bench.json'))['benchmarks']
        if b.get('aggregate_name') == 'median'}
print('Ingest path in process (median CPU time; 1000 events x 20 features, about 360 KB per batch)')
for name, label in [('BM_IngestBatch/10000/1', 'batch, events with ids (join store)'),
                    ('BM_IngestBatch/10000/0', 'batch, events without ids'),
                    ('BM_ParseBatch', 'parser alone on the batch without ids'),
                    ('BM_IngestSingle', 'one event per request'),
                    ('BM_EvaluateAfterWindow', 'evaluation round after a whole new window')]:
    b = rows[name]
    t = b['cpu_time'] * unit[b['time_unit']]
    rate = ' %8.0f MB/s' % (b['bytes_per_second'] / 1e6) if 'bytes_per_second' in b else ''
    print('%-46s %10.1f us%s' % (label, t * 1e6, rate))
print()
PY

# 4. Load tests of the daemon (bench/run_load.sh; options such as --soak are passed through).
bench/run_load.sh "$@"
