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

// floorResult is the target alone, written by the bench the way the
// pipeline writes it (upserts) and read the same way: the lag a perfect,
// zero-cost pipeline would still show, i.e. the target's own share.
type floorResult struct {
	single     []time.Duration // upsert returned → visible
	singleSent []time.Duration // upsert sent → visible: the floor the goals use
	steady     steadyResult
	// loaded: the steady floor again, with the source taking the same
	// inserts meanwhile (the pipeline's run loads both Milvus so).
	loaded steadyResult
}

// runFloor measures the target alone on a fresh, indexed and loaded
// collection: o.probes single upserts, then o.steadyRate rows/s of upserts
// for o.steadySeconds (skipped with -floor-steady=false).
func runFloor(ctx context.Context, o *options, src, tgt client.Client, coll string) (floorResult, error) {
	var r floorResult
	if err := createLoaded(ctx, tgt, o, coll); err != nil {
		return r, fmt.Errorf("target: %w", err)
	}
	upsert := func(cols []entity.Column) error {
		_, err := tgt.Upsert(ctx, coll, "", cols...)
		return err
	}
	fmt.Fprintf(os.Stderr, "phase 1: target alone, %d single upserts ...\n", o.probes)
	var err error
	if r.single, r.singleSent, err = probeSelf(ctx, o, tgt, coll, sourceProbeID, upsert); err != nil {
		return r, fmt.Errorf("target alone: %w", err)
	}
	if o.floorSteady {
		fmt.Fprintf(os.Stderr, "phase 1: target alone, %d rows/s of upserts for %d s ...\n", o.steadyRate, o.steadySeconds)
		rng := rand.New(rand.NewSource(4))
		if r.steady, err = runSteady(ctx, o, upsert, tgt, coll, rng); err != nil {
			return r, fmt.Errorf("target alone: %w", err)
		}
		if o.floorLoaded {
			if r.loaded, err = runLoadedFloor(ctx, o, src, tgt, coll+"_loaded"); err != nil {
				return r, fmt.Errorf("target with the source loaded: %w", err)
			}
		}
	}
	return r, nil
}

// runLoadedFloor is the steady floor on a fresh target collection while the
// source takes the same schedule of inserts into a collection of its own.
func runLoadedFloor(ctx context.Context, o *options, src, tgt client.Client, coll string) (steadyResult, error) {
	var r steadyResult
	if err := createLoaded(ctx, tgt, o, coll); err != nil {
		return r, fmt.Errorf("target: %w", err)
	}
	defer func() { _ = dropOn(context.WithoutCancel(ctx), tgt, "target", coll) }()
	if err := createLoaded(ctx, src, o, coll); err != nil {
		return r, fmt.Errorf("source: %w", err)
	}
	defer func() { _ = dropOn(context.WithoutCancel(ctx), src, "source", coll) }()
	fmt.Fprintf(os.Stderr, "phase 1: target at %d rows/s of upserts while the source takes as many inserts, %d s ...\n", o.steadyRate, o.steadySeconds)
	return steadyBesideSource(ctx, o, writer{c: src, coll: coll, insert: true}, writer{c: tgt, coll: coll}, tgt, steadyFirstID)
}

// steadyBesideSource runs o.steadyRate rows/s through write, measured on
// tgt, while load takes the same schedule of inserts (keys from loadFirst):
// the target's floor when both Milvus work on the machine's cores at once,
// as they do while a pipeline replicates.
func steadyBesideSource(ctx context.Context, o *options, load, write writer, tgt client.Client, loadFirst int64) (steadyResult, error) {
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	loadErr := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewSource(5))
		loadErr <- runScheduleFrom(lctx, o, load.write(lctx), rng, loadFirst)
	}()
	r, err := runSteady(ctx, o, write.write(ctx), tgt, write.coll, rand.New(rand.NewSource(4)))
	stop()
	if lerr := <-loadErr; lerr != nil && lctx.Err() == nil {
		return r, fmt.Errorf("source load: %w", lerr)
	}
	return r, err
}

// probeSelf writes o.probes single rows (ids from first on) through write
// and measures, on the same Milvus, when each becomes visible: how long the
// Milvus itself needs from a returned write (and from the write's call) to
// a visible row.
func probeSelf(ctx context.Context, o *options, c client.Client, coll string, first int64, write func([]entity.Column) error) (returned, sent []time.Duration, err error) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < o.probes; i++ {
		id := first + int64(i)
		if err := jitter(ctx, rng); err != nil {
			return returned, sent, err
		}
		rows := workload.Rows(id, 1, o.dim, rng)
		called := time.Now()
		if err := write(rows); err != nil {
			return returned, sent, fmt.Errorf("probe row %d into %s: %w", id, coll, err)
		}
		t0 := time.Now()
		seen, err := waitVisible(ctx, c, o, coll, id)
		if err != nil {
			return returned, sent, fmt.Errorf("probe: %w", err)
		}
		returned = append(returned, seen.answered.Sub(t0))
		sent = append(sent, seen.answered.Sub(called))
	}
	return returned, sent, nil
}

// tickJitter: a random pause before each single write, so that samples
// taken back to back do not lock onto one phase of Milvus's 200 ms time-tick
// cycle (a write just after a tick waits almost a whole cycle, one just
// before it almost none; sequential samples would otherwise all land at the
// same point of the cycle and show one value).
const tickJitter = 200 * time.Millisecond

func jitter(ctx context.Context, rng *rand.Rand) error {
	return sleepCtx(ctx, time.Duration(rng.Int63n(int64(tickJitter))))
}
