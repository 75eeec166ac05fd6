#!/usr/bin/env bash
# The main job (`make demo`): bring up the local stack, a worker
# (`milvus-cdc streams`) and the control plane (`milvus-cdc server` on :8444),
# create a CDC task with the same curl users send to the established server,
# write a workload to the source Milvus, show its changes as milvus_binlog
# decodes them, and show with `milvus-cdc verify` that they arrived on the
# target. The stack stays up afterwards (`make down` stops it); the collection (on
# both sides: dropped on the source, the task drops its copy), the task,
# server and worker are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=tests/stack/stack.sh

bash "$STACK" up
eval "$(bash "$STACK" env)"
export REDIS_URL="redis://$REDIS_ADDR" CDC_REDIS_PREFIX="demo-$(date +%s):"
coll="demo_$(date +%s)"
logs=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap cleanup EXIT

WORKER_ADDRESS=127.0.0.1:4195 LOG_LEVEL=WARN bin/milvus-cdc streams -o config/worker.yaml -r config/worker-resources.yaml >"$logs/worker.log" 2>&1 &
pids+=($!)
bin/milvus-cdc server -c config/server.yaml --listen 127.0.0.1:8444 --workers http://127.0.0.1:4195 >"$logs/server.log" 2>&1 &
pids+=($!)
START_FROM=latest HTTP_ADDRESS=127.0.0.1:4196 bin/milvus-cdc run -c pipelines/wal-to-stdout.yaml >"$logs/changes.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:8444/healthz >/dev/null && break; sleep 0.5; done

echo "== creating a CDC task (target: the Milvus at $MILVUS_TARGET_ADDR)"
resp=$(curl -s -X POST http://localhost:8444/cdc -H "Content-Type: application/json" -d '{
  "request_type": "create",
  "request_data": {
    "milvus_connect_param": {"uri": "http://'"$MILVUS_TARGET_ADDR"'", "token": "root:Milvus", "connect_timeout": 10},
    "collection_infos": [{"name": "*"}]
  }
}')
echo "$resp"
task=$(echo "$resp" | sed -n 's/.*"task_id":"\([^"]*\)".*/\1/p')
[ -n "$task" ] || { echo "create failed"; cat "$logs/server.log"; exit 1; }
curl -s -X POST http://localhost:8444/cdc -H "Content-Type: application/json" -d '{"request_type": "list"}'; echo
sleep 4

echo "== writing to the source Milvus at $MILVUS_SOURCE_ADDR (collection $coll)"
tail -f "$logs/changes.log" --pid "${pids[2]}" &
pids+=($!)
bin/cdc-workload --addr "$MILVUS_SOURCE_ADDR" --collection "$coll" --rows "${DEMO_ROWS:-1000}"
sleep 4
echo "== the lines above are the source's WAL as milvus_binlog decodes it"
echo "== comparing source and target: the task's stream copied the changes"
bin/milvus-cdc verify --quiet --source "$MILVUS_SOURCE_ADDR" --target "$MILVUS_TARGET_ADDR" --collections "default.$coll"
echo "== the task's health (get: lag_seconds, applied_until, rows_applied, snapshot) and the control plane's metrics"
sleep 3   # the stream reports every 2 s
curl -s -X POST http://localhost:8444/cdc -H "Content-Type: application/json" -d '{"request_type": "get", "request_data": {"task_id": "'"$task"'"}}'; echo
curl -s http://localhost:8444/metrics | grep -E '^milvus_cdc_(tasks|replication_lag_seconds|rows_applied)' || true
curl -s -X POST http://localhost:8444/cdc -H "Content-Type: application/json" -d '{"request_type": "position", "request_data": {"task_id": "'"$task"'"}}' | cut -c1-200; echo
echo "== dropping the demo collection on the source: the task drops its copy on the target"
bin/cdc-workload --addr "$MILVUS_SOURCE_ADDR" --collection "$coll" --cleanup "$MILVUS_TARGET_ADDR"
sleep 1
curl -s -X POST http://localhost:8444/cdc -H "Content-Type: application/json" -d '{"request_type": "delete", "request_data": {"task_id": "'"$task"'"}}'; echo
