#!/usr/bin/env bash
# The main job (`make demo`): bring up the local stack, start two pipelines —
# one prints every change of the source Milvus as milvus_binlog decodes it,
# one replicates the source to the target (pipelines/replicate.yaml) — write
# a workload to the source, and show with `milvus-cdc verify` that the target
# holds exactly the same rows. The stack stays up (`make down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=tests/stack/stack.sh

bash "$STACK" up
eval "$(bash "$STACK" env)"

coll="demo_$(date +%s)"
changes=$(mktemp)
repl=$(mktemp)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -f "$changes" "$repl"
}
trap cleanup EXIT

START_FROM=latest HTTP_ADDRESS=127.0.0.1:4196 bin/milvus-cdc run -c pipelines/wal-to-stdout.yaml >"$changes" 2>&1 &
pids+=($!)
START_FROM=latest CHECKPOINT_KEY="demo-$coll" bin/milvus-cdc run -c pipelines/replicate.yaml >"$repl" 2>&1 &
pids+=($!)
tail -f "$changes" --pid "${pids[0]}" &
pids+=($!)
sleep 4

echo "== writing to the source Milvus at $MILVUS_SOURCE_ADDR (collection $coll)"
bin/cdc-workload --addr "$MILVUS_SOURCE_ADDR" --collection "$coll" --rows "${DEMO_ROWS:-1000}"
sleep 3
echo "== the lines above are the source's WAL, decoded by milvus_binlog"
echo "== comparing source and target (milvus_apply replicated them to $MILVUS_TARGET_ADDR)"
bin/milvus-cdc verify --quiet --source "$MILVUS_SOURCE_ADDR" --target "$MILVUS_TARGET_ADDR" --collections "default.$coll"
if grep -q "level=error" "$repl"; then
  echo "== replication pipeline errors:"; grep "level=error" "$repl"
fi
