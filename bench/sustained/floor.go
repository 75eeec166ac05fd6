package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// maxMerge batches (of -batch rows) at most go into one call of the floor's
// mirror: 15 × 1,000 128-d rows ≈ the 8 MiB milvus_apply merges into one
// upsert.
const maxMerge = 15

// runFloor is the same run without the pipeline: the source takes inserts at
// rate rows/s (the pipeline run's achieved rate), and every batch it
// acknowledges is written straight into a loaded target collection at once
// (o.floorMode: upsert, as milvus_apply writes, or insert), merged as the
// pipeline merges. What the target alone does with the source's load on the
// same machine: if it falls behind, no pipeline can keep up.
func runFloor(ctx context.Context, o *options, src, tgt client.Client, rate float64) (r *runResult, err error) {
	coll := fmt.Sprintf("bench_sustained_floor_%d", time.Now().Unix())
	r = &runResult{workerHWM: -1}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		for _, c := range []client.Client{src, tgt} {
			if ok, _ := c.HasCollection(cctx, coll); ok {
				err = errors.Join(err, c.DropCollection(cctx, coll))
			}
		}
	}()
	for _, side := range []struct {
		c    client.Client
		load bool
	}{{src, false}, {tgt, true}} {
		if err := createFlat(ctx, side.c, o, coll, side.load); err != nil {
			return r, err
		}
	}
	fmt.Fprintf(os.Stderr, "sustained floor: %.0f rows/s into the source, each batch %sed straight into the target, for %s ...\n", rate, o.floorMode, o.floorDuration)
	done := make(chan batchDone, 1<<16)
	var applied atomic.Int64 // the source acknowledgement of the newest batch the target took (unix ns)
	var mirrored sync.WaitGroup
	var mirrorErr error
	mirrored.Add(1)
	go func() { defer mirrored.Done(); mirrorErr = mirror(ctx, o, tgt, coll, done, &applied) }()

	start := time.Now()
	sctx, stopSampling := context.WithCancel(ctx)
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		r.points = sample(sctx, o, start, func(context.Context) (float64, int64) {
			if at := applied.Load(); at > 0 {
				return time.Since(time.Unix(0, at)).Seconds(), -1
			}
			return -1, -1
		})
	}()
	defer func() { stopSampling(); sampled.Wait() }()
	last, rows, err := write(ctx, o, src, coll, start.Add(o.floorDuration), rate, done)
	stopped := time.Now()
	close(done)
	mirrored.Wait()
	r.rows, r.writeSeconds = rows, stopped.Sub(start).Seconds()
	if err = errors.Join(err, mirrorErr); err != nil {
		return r, err
	}
	seen, err := waitVisible(ctx, tgt, coll, last, o.completeWait)
	if err != nil {
		return r, err
	}
	r.complete, r.completeAfter = true, seen.Sub(stopped)
	r.targetCount, err = settledCount(ctx, tgt, coll, rows, o.completeWait)
	return r, err
}

// mirror writes the acknowledged batches into the target in order, each
// call taking what has arrived (up to maxMerge batches), as milvus_apply
// takes what the input released.
func mirror(ctx context.Context, o *options, tgt client.Client, coll string, done <-chan batchDone, applied *atomic.Int64) error {
	for first := range done {
		group := []batchDone{first}
	more:
		for len(group) < maxMerge {
			select {
			case b, ok := <-done:
				if !ok {
					break more
				}
				group = append(group, b)
			default:
				break more
			}
		}
		var ids []int64
		var titles []string
		var vecs [][]float32
		for _, b := range group {
			ids = append(ids, b.ids...)
			for i, id := range b.ids {
				titles = append(titles, "row-"+strconv.FormatInt(id, 10))
				vecs = append(vecs, b.vec.Data()[i])
			}
		}
		cols := []entity.Column{entity.NewColumnInt64("id", ids), entity.NewColumnVarChar("title", titles), entity.NewColumnFloatVector("vec", o.dim, vecs)}
		var err error
		if o.floorMode == "insert" {
			_, err = tgt.Insert(ctx, coll, "", cols...)
		} else {
			_, err = tgt.Upsert(ctx, coll, "", cols...)
		}
		if err != nil {
			for range done { // let the writers finish
			}
			return fmt.Errorf("floor: %s %d rows into the target: %w", o.floorMode, len(ids), err)
		}
		applied.Store(group[len(group)-1].returned.UnixNano())
	}
	return nil
}

// createFlat creates coll with a FLAT index (nothing to build), loaded if load.
func createFlat(ctx context.Context, c client.Client, o *options, coll string, load bool) error {
	if err := c.CreateCollection(ctx, workload.VectorSchema(coll, o.dim), int32(o.shards)); err != nil {
		return fmt.Errorf("create %s: %w", coll, err)
	}
	idx, err := entity.NewIndexFlat(entity.L2)
	if err != nil {
		return err
	}
	if err := c.CreateIndex(ctx, coll, "vec", idx, false); err != nil {
		return fmt.Errorf("index %s: %w", coll, err)
	}
	if load {
		if err := c.LoadCollection(ctx, coll, false); err != nil {
			return fmt.Errorf("load %s: %w", coll, err)
		}
	}
	return nil
}
