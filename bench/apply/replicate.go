package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
)

// stopGrace is how long a pipeline may take to exit after SIGTERM.
const stopGrace = time.Minute

// replResult is phase 2. The "at" figures are seconds since the second
// pipeline process was started.
type replResult struct {
	checkpointAt  float64     // first process: start → start positions stored in Redis
	ddlSeconds    float64     // live: source create+index+load returned → copy loaded on the target
	sourceSeconds float64     // writing the rows into the source (not part of the rate)
	firstAt       float64     // count(*) on the target first > 0 ...
	firstCount    int64       // ... and what it showed then
	allAt         float64     // count(*) on the target = rows: the measured time
	mem           memSnapshot // the second process when all rows were visible
	spans         []span      // first process's life; the catch-up
}

// runReplication measures a catch-up of rows. The pipeline runs live while
// the source gets a new collection (index, load), so the copy on the target
// is created and loaded through the pipeline before the clock runs; then the
// pipeline stops, the source gets the dataset, and the pipeline starts again
// from its checkpoint: the clock runs from that process start until the
// target shows every row. The second process keeps running for the lag phase.
func runReplication(ctx context.Context, o *options, src, tgt client.Client, p *pipeline, n names, d *dataset) (replResult, error) {
	var r replResult
	fmt.Fprintln(os.Stderr, "phase 2: pipeline start (live), creating the collection through it ...")
	if err := p.start(); err != nil {
		return r, err
	}
	at, err := waitCheckpoint(ctx, o, n.checkpointKey, p, 2*time.Minute)
	if err != nil {
		return r, err
	}
	r.checkpointAt = at.Seconds()
	if err := createLoaded(ctx, src, o, n.repl); err != nil {
		return r, fmt.Errorf("source: %w", err)
	}
	begin := time.Now()
	if err := waitTargetLoaded(ctx, tgt, n.repl, p, 3*time.Minute); err != nil {
		return r, err
	}
	r.ddlSeconds = time.Since(begin).Seconds()
	first := p.started
	if err := p.stop(stopGrace); err != nil {
		return r, err
	}
	r.spans = append(r.spans, span{"pipeline #1 (live: the collection's create, index, load)", first, time.Now()})

	fmt.Fprintf(os.Stderr, "phase 2: writing %d rows into the source's %s while the pipeline is stopped ...\n", d.rows, n.repl)
	begin = time.Now()
	for i, cols := range d.batches {
		if _, err := src.Insert(ctx, n.repl, "", cols...); err != nil {
			return r, fmt.Errorf("insert batch %d into source %s: %w", i, n.repl, err)
		}
	}
	r.sourceSeconds = time.Since(begin).Seconds()

	fmt.Fprintln(os.Stderr, "phase 2: pipeline start from the checkpoint; timing until the target shows every row ...")
	if err := p.start(); err != nil {
		return r, err
	}
	if err := watchCatchUp(ctx, o, tgt, p, n.repl, int64(d.rows), &r); err != nil {
		return r, err
	}
	r.mem = p.memory()
	r.spans = append(r.spans, span{"catch-up", p.started, time.Now()})
	return r, nil
}

// dropReplicated drops coll on the source and waits (up to a minute) for
// the pipeline to drop its copy, so the lag phase does not share the two
// Milvus with the 100,000s of rows of phase 2. A copy still there is
// dropped directly.
func dropReplicated(ctx context.Context, src, tgt client.Client, coll string) error {
	if err := dropOn(ctx, src, "source", coll); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if ok, err := tgt.HasCollection(ctx, coll); err == nil && !ok {
			return nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "the pipeline did not drop %s on the target within a minute; dropping it directly\n", coll)
	return dropOn(ctx, tgt, "target", coll)
}

// watchCatchUp polls count(*) on the target every 20 ms and notes when the
// first rows and when all rows are visible.
func watchCatchUp(ctx context.Context, o *options, tgt client.Client, p *pipeline, coll string, want int64, r *replResult) error {
	deadline := p.started.Add(o.replicateTimeout)
	var last int64
	var lastErr error
	for {
		n, err := countRows(ctx, tgt, coll)
		now := time.Since(p.started).Seconds()
		if err != nil {
			lastErr = err
		} else {
			last = n
			if n > 0 && r.firstAt == 0 {
				r.firstAt, r.firstCount = now, n
			}
			if n >= want {
				r.allAt = now
				return nil
			}
		}
		if err := p.failed(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("target %s: %d of %d rows after %s (last error: %v)", coll, last, want, o.replicateTimeout, lastErr)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}
