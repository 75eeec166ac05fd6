package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/plane"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

const lagMetric = "milvus_cdc_replication_lag_seconds"

// point is one sample: since the writers started, the task's lag metric
// (-1 = not set yet) and the worker's RSS (KiB, -1 unknown).
type point struct {
	at     time.Duration
	lag    float64
	rssKiB int64
}

// runResult is what the report needs.
type runResult struct {
	rows          int64
	writeSeconds  float64
	points        []point
	complete      bool
	completeAfter time.Duration // the writers stopped → the target showed every writer's last row
	targetCount   int64         // count(*) on the target once it settled
	workerHWM     int64         // the worker's peak RSS (KiB, -1 unknown)
}

// run sets up the task and the collection, writes for o.duration and waits
// for the target; everything it created is removed at the end.
func run(ctx context.Context, o *options, src, tgt client.Client) (r *runResult, err error) {
	coll := fmt.Sprintf("bench_sustained_%d", time.Now().Unix())
	pl, err := plane.Start(ctx, plane.Stack{Source: o.source, PulsarURL: o.pulsarURL, RedisAddr: o.redisAddr}, o.bin, coll+":")
	if err != nil {
		return nil, err
	}
	r = &runResult{workerHWM: -1}
	var id string
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if id != "" {
			_, derr := pl.CDC(cctx, "delete", map[string]any{"task_id": id})
			err = errors.Join(err, derr)
		}
		r.workerHWM = pl.Stop()
		for _, c := range []client.Client{src, tgt} {
			if ok, _ := c.HasCollection(cctx, coll); ok {
				err = errors.Join(err, c.DropCollection(cctx, coll))
			}
		}
	}()
	if id, err = pl.CreateTask(ctx, o.target); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "sustained: task %s; creating %s ...\n", id, coll)
	if err := prepare(ctx, o, src, tgt, coll); err != nil {
		return r, err
	}
	return r, measure(ctx, o, pl, src, tgt, coll, r)
}

func connect(ctx context.Context, o *options) (src, tgt client.Client, err error) {
	if src, err = workload.Connect(ctx, o.source); err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	if tgt, err = workload.Connect(ctx, o.target); err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("target: %w", err)
	}
	return src, tgt, nil
}

// prepare creates coll on the source with a FLAT index (nothing to build)
// and waits for its copy; the bench loads the copy on the target itself so
// reads can show rows, and leaves the source unloaded (its query node would
// otherwise take the machine's cores from the writers).
func prepare(ctx context.Context, o *options, src, tgt client.Client, coll string) error {
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, o.dim), int32(o.shards)); err != nil {
		return fmt.Errorf("create %s on the source: %w", coll, err)
	}
	idx, err := entity.NewIndexFlat(entity.L2)
	if err != nil {
		return err
	}
	if err := src.CreateIndex(ctx, coll, "vec", idx, false); err != nil {
		return fmt.Errorf("index %s on the source: %w", coll, err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if ds, err := tgt.DescribeIndex(ctx, coll, "vec"); err == nil && len(ds) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the copy of %s and its index did not reach the target within 3 minutes", coll)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	if err := tgt.LoadCollection(ctx, coll, false); err != nil {
		return fmt.Errorf("load the copy of %s on the target: %w", coll, err)
	}
	rng := rand.New(rand.NewSource(1))
	if _, err := src.Insert(ctx, coll, "", workload.Rows(-1, 1, o.dim, rng)...); err != nil {
		return fmt.Errorf("warm-up insert: %w", err)
	}
	_, err = waitVisible(ctx, tgt, coll, []int64{-1}, time.Minute)
	return err
}

// measure runs the writers and the sampler, then waits for the target.
func measure(ctx context.Context, o *options, pl *plane.Plane, src, tgt client.Client, coll string, r *runResult) error {
	start := time.Now()
	sctx, stopSampling := context.WithCancel(ctx)
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() { defer sampled.Done(); r.points = sample(sctx, o, start, taskProbe(pl)) }()
	defer func() { stopSampling(); sampled.Wait() }()

	fmt.Fprintf(os.Stderr, "sustained: %d writers, %d rows per insert, for %s ...\n", o.writers, o.batch, o.duration)
	last, rows, err := write(ctx, o, src, coll, start.Add(o.duration), 0, nil)
	stopped := time.Now()
	r.rows, r.writeSeconds = rows, stopped.Sub(start).Seconds()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "sustained: %d rows in %.0f s; waiting for the target ...\n", rows, r.writeSeconds)
	seen, err := waitVisible(ctx, tgt, coll, last, o.completeWait)
	if err != nil {
		return err
	}
	r.complete, r.completeAfter = true, seen.Sub(stopped)
	r.targetCount, err = settledCount(ctx, tgt, coll, rows+1, o.completeWait) // +1: the warm-up row
	return err
}
