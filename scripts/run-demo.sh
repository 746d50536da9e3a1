#!/usr/bin/env bash
# Builds modelmon, starts it on the default config (config/modelmon.yaml, port 8080) and sends demo
# traffic whose distribution shifts after 60 s. Ctrl-C stops both.
#   Watch: curl -s localhost:8080/metrics | grep modelmon_drift_detected
#          curl -s localhost:8080/v1/models/credit_risk
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

bin=build/release/modelmon
demo=""
daemon=""
"$bin" --config config/modelmon.yaml &
daemon=$!
trap 'kill $demo $daemon 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
for _ in $(seq 50); do
  curl -fs localhost:8080/readyz >/dev/null 2>&1 && break
  sleep 0.2
done
"$bin" demo --port 8080 --drift-after "${DRIFT_AFTER:-60}" &
demo=$!
cat <<'MSG'

modelmon is running on http://localhost:8080 with demo traffic (drift starts after 60 s).
  curl -s localhost:8080/metrics | grep -E 'modelmon_(events_total|drift_detected|dataset_drift)'
  curl -s localhost:8080/v1/models/credit_risk
Press Ctrl-C to stop.
MSG
wait $daemon
