#!/usr/bin/env bash
# Start the services as separate processes on a local PostgreSQL and NATS JetStream.
# Stop with Ctrl-C. Logs go to ./kim-cluster-logs/.
set -euo pipefail
: "${KIM_EVENT_STORE:=postgresql://127.0.0.1:5432/test}"
: "${KIM_BUS:=nats://127.0.0.1:4222}"
: "${KIM_KEY_FILE:=$PWD/kim-cluster-keys/kek.json}"  # the key-encryption key (ADR 0006)
export KIM_EVENT_STORE KIM_BUS KIM_KEY_FILE
KIM="${KIM:-kim}"
[ -f "$KIM_KEY_FILE" ] || "$KIM" keys init --file "$KIM_KEY_FILE"
mkdir -p kim-cluster-logs
"$KIM" demo
pids=()
port=8001
for service in tenancy coordination case_management audit gateway; do
  "$KIM" serve --service "$service" --port "$port" >"kim-cluster-logs/$service.log" 2>&1 &
  pids+=($!)
  echo "$service: http://127.0.0.1:$port (log kim-cluster-logs/$service.log)"
  port=$((port + 1))
done
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
wait
