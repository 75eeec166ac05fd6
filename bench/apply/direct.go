package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// dataset is the rows of the rate phases, built before anything is timed so
// that both phases write exactly the same data and row generation costs
// nothing in the measurement.
type dataset struct {
	batches [][]entity.Column
	rows    int
	bytes   int64 // field payload: 8 (id) + title + 4*dim per row
}

func newDataset(o *options) *dataset {
	rng := rand.New(rand.NewSource(1))
	d := &dataset{rows: o.rows}
	for first := 0; first < o.rows; first += o.batch {
		n := min(o.batch, o.rows-first)
		cols := workload.Rows(int64(first), n, o.dim, rng)
		for _, t := range cols[1].(*entity.ColumnVarChar).Data() {
			d.bytes += int64(len(t))
		}
		d.bytes += int64(n) * int64(8+4*o.dim)
		d.batches = append(d.batches, cols)
	}
	return d
}

// directResult is phase 1: the target alone, written with the SDK.
type directResult struct {
	seconds        float64 // first upsert sent → last upsert returned
	visibleSeconds float64 // first upsert sent → count(*) showed every row
}

// runDirect upserts the dataset straight into a fresh, indexed and loaded
// collection of the target (loaded like the replicated copy will be, so the
// target's query nodes consume the same stream in both phases).
func runDirect(ctx context.Context, o *options, tgt client.Client, coll string, d *dataset) (directResult, error) {
	var r directResult
	if err := createLoaded(ctx, tgt, o, coll); err != nil {
		return r, fmt.Errorf("target: %w", err)
	}
	fmt.Fprintf(os.Stderr, "phase 1: upserting %d rows into the target's %s (%d per call) ...\n", d.rows, coll, o.batch)
	begin := time.Now()
	for i, cols := range d.batches {
		if _, err := tgt.Upsert(ctx, coll, "", cols...); err != nil {
			return r, fmt.Errorf("upsert batch %d into target %s: %w", i, coll, err)
		}
	}
	r.seconds = time.Since(begin).Seconds()
	if err := waitCount(ctx, tgt, coll, int64(d.rows), 5*time.Minute, nil); err != nil {
		return r, err
	}
	r.visibleSeconds = time.Since(begin).Seconds()
	return r, nil
}

// waitCount polls count(*) until coll holds want rows.
func waitCount(ctx context.Context, c client.Client, coll string, want int64, timeout time.Duration, p *pipeline) error {
	deadline := time.Now().Add(timeout)
	var last int64
	for {
		n, err := countRows(ctx, c, coll)
		if err == nil {
			if n >= want {
				return nil
			}
			last = n
		}
		if p != nil {
			if perr := p.failed(); perr != nil {
				return perr
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s holds %d of %d rows after %s (last error: %v)", coll, last, want, timeout, err)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}
