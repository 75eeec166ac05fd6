package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/apply"
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

// newDataset builds o.rows rows in calls of batch rows. The rows are the
// same for every batch size (one seed, drawn in key order).
func newDataset(o *options, batch int) *dataset {
	rng := rand.New(rand.NewSource(1))
	d := &dataset{rows: o.rows}
	for first := 0; first < o.rows; first += batch {
		n := min(batch, o.rows-first)
		cols := workload.Rows(int64(first), n, o.dim, rng)
		for _, t := range cols[1].(*entity.ColumnVarChar).Data() {
			d.bytes += int64(len(t))
		}
		d.bytes += int64(n) * int64(8+4*o.dim)
		d.batches = append(d.batches, cols)
	}
	return d
}

// directRun is the target alone at one batch size.
type directRun struct {
	batch          int
	calls          int
	seconds        float64 // first upsert sent → last upsert returned
	visibleSeconds float64 // first upsert sent → count(*) showed every row
}

// directResult is phase 1: the target alone, written with the SDK at each
// batch size; the fastest is the physical limit.
type directResult struct {
	runs []directRun
	best directRun
}

// directBatches are the batch sizes of phase 1: -batch, and the largest
// upsert milvus_apply sends (it merges consecutive inserts up to
// apply.MaxUpsertBytes), and one between.
func directBatches(o *options, d *dataset) []int {
	perRow := max(d.bytes/int64(d.rows), 1)
	largest := max(int(int64(apply.MaxUpsertBytes)/perRow)*9/10, 1) // room for the request's own framing
	out := []int{o.batch}
	for _, b := range []int{(o.batch + largest) / 2, largest} {
		if b > out[len(out)-1] && b <= o.rows {
			out = append(out, b)
		}
	}
	return out
}

// runDirect upserts the dataset straight into fresh, indexed and loaded
// collections of the target (loaded like the replicated copy will be, so the
// target's query nodes consume the same stream in both phases), once per
// batch size; each collection is dropped after its run.
func runDirect(ctx context.Context, o *options, tgt client.Client, coll string, d *dataset) (directResult, error) {
	var r directResult
	for _, batch := range directBatches(o, d) {
		ds := d
		if batch != o.batch {
			ds = newDataset(o, batch)
		}
		name := fmt.Sprintf("%s_b%d", coll, batch)
		run, err := runDirectOnce(ctx, o, tgt, name, ds, batch)
		if err != nil {
			return r, err
		}
		if err := dropOn(ctx, tgt, "target", name); err != nil { // free the target's memory
			return r, err
		}
		r.runs = append(r.runs, run)
		if r.best.seconds == 0 || run.seconds < r.best.seconds {
			r.best = run
		}
	}
	return r, nil
}

func runDirectOnce(ctx context.Context, o *options, tgt client.Client, coll string, d *dataset, batch int) (directRun, error) {
	r := directRun{batch: batch, calls: len(d.batches)}
	if err := createLoaded(ctx, tgt, o, coll); err != nil {
		return r, fmt.Errorf("target: %w", err)
	}
	fmt.Fprintf(os.Stderr, "phase 1: upserting %d rows into the target's %s (%d per call) ...\n", d.rows, coll, batch)
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
