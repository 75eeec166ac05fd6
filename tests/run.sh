#!/usr/bin/env bash
# The test command (`make test`, and CI's .ci/run): vet, lint the pipelines,
# bring up the real stack once, run every Go test against it, stop the stack
# again if this run started it. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=tests/stack/stack.sh

echo "== go vet"
go vet ./...
echo "== lint pipelines"
for f in pipelines/*.yaml; do bin/milvus-cdc lint "$f"; echo "lint ok: $f"; done
# Each fuzz target runs for a short, bounded time (seed corpora in the repo:
# plugins/wal/testdata/wal, controlplane/testdata/fuzz).
echo "== fuzz (${FUZZTIME:=10s} each)"
go test -run '^$' -fuzz '^FuzzDecodeWAL$' -fuzztime "$FUZZTIME" ./plugins/wal/
go test -run '^$' -fuzz '^FuzzMergeColumns$' -fuzztime "$FUZZTIME" ./plugins/apply/
go test -run '^$' -fuzz '^FuzzDecodeRequest$' -fuzztime "$FUZZTIME" ./controlplane/
go test -run '^$' -fuzz '^FuzzParsePattern$' -fuzztime "$FUZZTIME" ./plugins/contract/

started=0
if ! bash "$STACK" status >/dev/null 2>&1; then
  started=1
fi
cleanup() {
  if [ "$started" = 1 ] && [ "${KEEP_STACK:-0}" != 1 ]; then
    echo "== stopping the stack this run started"
    bash "$STACK" down || true
  fi
}
trap cleanup EXIT
echo "== stack up"
bash "$STACK" up
eval "$(bash "$STACK" env)"
export MILVUS_CDC_STACK=1

echo "== go test"
# The fault suite stops parts of the stack (Pulsar, Redis, the target Milvus):
# it runs alone, after every other package.
go test -count=1 -timeout 40m $(go list ./... | grep -v '/tests/fault$')
echo "== fault suite (tests/fault)"
FAULT_REPORT="${FAULT_REPORT:-$PWD/bin/fault-report.md}" go test -count=1 -timeout 30m -v -run '^(TestFaults|TestStartGap)$' ./tests/fault/ |
  grep -v '^\s*\[stack\]'
echo "fault table: ${FAULT_REPORT:-bin/fault-report.md}"
