# milvus-cdc-benthos. The two commands for a fresh machine:
#   make demo   bring up the local stack and show the source's changes live
#   make test   run every test (unit + real stack)
SHELL := /bin/bash
GO ?= go
BIN := bin
STACK := tests/stack/stack.sh
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION) -X main.dateBuilt=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: all build demo test unit vet lint docs up down status clean bench bench-input bench-apply bench-resume bench-snapshot fault

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/milvus-cdc ./cmd/milvus-cdc
	$(GO) build -o $(BIN)/cdc-workload ./cmd/cdc-workload

demo: build
	bash tests/demo.sh

test: build
	bash tests/run.sh

unit:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

lint: build
	@for f in pipelines/*.yaml; do $(BIN)/milvus-cdc lint $$f || exit 1; echo "lint ok: $$f"; done

# The plugin reference pages docs/*.md, rendered from the config specs;
# a test in plugins/all fails when they are out of date.
docs:
	$(GO) run ./cmd/milvus-cdc docs docs

# The fault suite alone, on the running stack (`make up` first): kill -9 of a
# worker and of the control plane, Redis restarted, Pulsar and the target
# stopped, pause/resume cycles, each under load; prints the README's table
# and writes it to bin/fault-report.md. FAULT_ONLY=worker,pulsar picks scenarios.
fault: build
	set -o pipefail; eval "$$(bash $(STACK) env)"; MILVUS_CDC_STACK=1 FAULT_REPORT=$(CURDIR)/$(BIN)/fault-report.md \
	  $(GO) test -count=1 -timeout 30m -v -run '^(TestFaults|TestStartGap)$$' ./tests/fault/ | grep -v '^\s*\[stack\]'

# Both benchmarks on the running stack, one after the other.
bench: bench-input bench-apply bench-resume bench-snapshot

# milvus_binlog input vs. a bare Pulsar reader (issue 4);
# flags via BENCH_FLAGS, e.g. make bench-input BENCH_FLAGS="-rows 50000".
bench-input: build
	$(GO) run ./bench/input $(BENCH_FLAGS)

# Replication rate and lag of the milvus_binlog → milvus_apply pipeline vs. the
# target alone (issue 5); runs bin/milvus-cdc as the pipeline. Flags via
# BENCH_APPLY_FLAGS, e.g. make bench-apply BENCH_APPLY_FLAGS="-rows 10000 -single 20 -steady-seconds 5".
bench-apply: build
	$(GO) run ./bench/apply -bin $(BIN)/milvus-cdc $(BENCH_APPLY_FLAGS)

up:
	bash $(STACK) up

down:
	bash $(STACK) down

status:
	bash $(STACK) status

clean:
	rm -rf $(BIN)

# The initial snapshot of 1,000,000 existing rows through the pipeline vs.
# direct upserts into the target (issue 16). Flags via BENCH_SNAPSHOT_FLAGS,
# e.g. make bench-snapshot BENCH_SNAPSHOT_FLAGS="-rows 100000".
bench-snapshot: build
	set -o pipefail; eval "$$(bash $(STACK) env)"; $(GO) run ./bench/snapshot -bin $(BIN)/milvus-cdc $(BENCH_SNAPSHOT_FLAGS) | tee $(BIN)/bench-snapshot.md

# How long a paused task's 500-row backlog takes to reach the target after
# resume, through the control plane and a worker (issue 6).
bench-resume: build
	$(GO) run ./bench/resume -bin $(BIN)/milvus-cdc $(BENCH_RESUME_FLAGS)
