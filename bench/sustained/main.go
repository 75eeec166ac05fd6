// Command sustained holds a task to the source's top insert rate for
// minutes (issue 27): a worker and a control plane from the milvus-cdc
// binary, a task created with the documentation's POST /cdc, writers
// inserting 128-d rows into the source as fast as it takes them. It samples
// the task's lag metric (the worker's milvus_cdc_replication_lag_seconds)
// and the worker's RSS throughout, and after the writers stop it times how
// long the target takes to show every row. It prints a table (and appends
// it to $BENCH_RESULTS); nothing asserts on timings.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	bin                       string
	source, target            string
	pulsarURL, redisAddr      string
	duration, warmup          time.Duration
	floorDuration             time.Duration
	writers, batch, dim       int
	shards                    int
	sampleEvery, completeWait time.Duration
	pointsFile                string // every sample as CSV, "" = none
	floorMode                 string // upsert, insert or none
}

func main() {
	o := &options{}
	flag.StringVar(&o.bin, "bin", "bin/milvus-cdc", "milvus-cdc binary (worker and control plane)")
	flag.StringVar(&o.source, "source", envOr("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"), "source Milvus")
	flag.StringVar(&o.target, "target", envOr("MILVUS_TARGET_ADDR", "127.0.0.1:19540"), "target Milvus")
	flag.StringVar(&o.pulsarURL, "pulsar", envOr("PULSAR_URL", "pulsar://127.0.0.1:6650"), "Pulsar of the source's WAL")
	flag.StringVar(&o.redisAddr, "redis", envOr("REDIS_ADDR", "127.0.0.1:6379"), "Redis (task store)")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the writers insert")
	flag.DurationVar(&o.warmup, "flat-from", time.Minute, "the lag's p99 is held flat from this point of the run to its end (minute 2 on)")
	flag.IntVar(&o.writers, "writers", 2, "concurrent inserters (together: the source's top rate)")
	flag.IntVar(&o.batch, "batch", 1000, "rows per insert")
	flag.IntVar(&o.dim, "dim", 128, "dimension of the float vectors")
	flag.IntVar(&o.shards, "shards", 2, "shards of the collection")
	flag.DurationVar(&o.sampleEvery, "sample", 250*time.Millisecond, "how often the lag metric and the worker's RSS are read")
	flag.DurationVar(&o.completeWait, "complete-timeout", 15*time.Minute, "give up waiting for the target to show every row after this long")
	flag.StringVar(&o.floorMode, "floor", "upsert", "then the same run without the pipeline, the source's rows written straight into the target: upsert (as milvus_apply writes), insert, or none")
	flag.DurationVar(&o.floorDuration, "floor-duration", 3*time.Minute, "how long the floor's writers insert (its lag slope shows within minutes; the stack's disk takes ~5.5 KB per row written)")
	flag.StringVar(&o.pointsFile, "points", "", "write every sample (seconds since the writers started, lag metric s, worker RSS KiB) as CSV to this file")
	flag.Parse()
	if o.floorMode != "upsert" && o.floorMode != "insert" && o.floorMode != "none" {
		fmt.Fprintln(os.Stderr, "bench/sustained: -floor must be upsert, insert or none")
		os.Exit(2)
	}
	if o.writers <= 0 || o.batch <= 0 || o.dim <= 0 || o.shards <= 0 || o.duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench/sustained: -writers, -batch, -dim, -shards and -duration must be positive")
		os.Exit(2)
	}
	if err := checkDisk(o, envOr("STACK_DIR", ".stack"), 12000); err != nil {
		fmt.Fprintln(os.Stderr, "bench/sustained:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	task, floor, err := runAll(ctx, o)
	if task != nil {
		report(os.Stdout, o, task, floor)
		if werr := writePoints(o.pointsFile, task.points); werr != nil {
			fmt.Fprintln(os.Stderr, "bench/sustained: warning:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/sustained:", err)
		stop()
		os.Exit(1)
	}
}

// runAll runs the task, then (unless -floor none) the floor at the rate the
// source took in the task's run.
func runAll(ctx context.Context, o *options) (task, floor *runResult, err error) {
	src, tgt, err := connect(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	defer tgt.Close()
	if task, err = run(ctx, o, src, tgt); err != nil || o.floorMode == "none" || task.writeSeconds <= 0 {
		return task, nil, err
	}
	floor, err = runFloor(ctx, o, src, tgt, float64(task.rows)/task.writeSeconds)
	return task, floor, err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
