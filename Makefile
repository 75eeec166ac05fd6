# milvus-cdc-benthos. The two commands for a fresh machine:
#   make demo   bring up the local stack and show the source's changes live
#   make test   run every test (unit + real stack)
SHELL := /bin/bash
GO ?= go
BIN := bin
STACK := tests/stack/stack.sh
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION) -X main.dateBuilt=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: all build demo test unit vet lint docs up down status clean bench bench-input bench-apply bench-resume bench-snapshot bench-sustained fault

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

# Every benchmark on the running stack, one after the other, then ONE markdown
# table of every figure, its goal and met/missed (also bin/bench-table.md).
# Each bench appends its rows to $(BENCH_RESULTS_FILE) (bench/result, exported
# as BENCH_RESULTS; a bench run alone appends only when BENCH_RESULTS is set).
# A failing bench does not stop the others: "bench-X failed" is printed, the
# table gets a missed "bench run" row for it, and make exits 1 after the table.
BENCH_RESULTS_FILE := $(abspath $(BIN)/bench-results.jsonl)
BENCHES := input apply resume snapshot sustained

bench: build
	rm -f $(BENCH_RESULTS_FILE)
	@failed=""; \
	for b in $(BENCHES); do \
	  echo "=== bench-$$b"; \
	  BENCH_RESULTS=$(BENCH_RESULTS_FILE) $(MAKE) --no-print-directory bench-$$b || { echo "bench-$$b failed" >&2; failed="$$failed $$b"; }; \
	done; \
	set -o pipefail; $(GO) run ./bench/table -f $(BENCH_RESULTS_FILE) -failed "$$failed" | tee $(BIN)/bench-table.md || exit 1; \
	if [ -n "$$failed" ]; then echo "failed:$$failed" >&2; exit 1; fi

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

# bench/sustained (see bench/README.md), run on bin/milvus-cdc. Flags via
# BENCH_SUSTAINED_FLAGS.
bench-sustained: build
	eval "$$(bash $(STACK) env)"; $(GO) run ./bench/sustained -bin $(BIN)/milvus-cdc $(BENCH_SUSTAINED_FLAGS)
