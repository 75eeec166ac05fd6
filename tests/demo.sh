#!/usr/bin/env bash
# The main job (`make demo`): bring up the local stack, start the
# milvus_binlog pipeline that prints every change of the source Milvus, write
# a small workload to the source and show the decoded changes as they arrive.
# The stack stays up afterwards (`make down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=tests/stack/stack.sh

bash "$STACK" up
eval "$(bash "$STACK" env)"

out=$(mktemp)
bin/milvus-cdc run -c pipelines/wal-to-stdout.yaml >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
tail -f "$out" --pid "$pid" &
sleep 3

echo "== writing to the source Milvus at $MILVUS_SOURCE_ADDR"
bin/cdc-workload --addr "$MILVUS_SOURCE_ADDR" --rows "${DEMO_ROWS:-1000}" --drop
sleep 3
echo "== done: the lines above are the source's WAL, decoded by milvus_binlog"
