package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// fillStats describes the fill phase, printed as context under the table.
type fillStats struct {
	collection string
	seconds    float64
}

// runParent fills the collection, runs both readers and prints the table.
func runParent(o *options) error {
	if o.rows <= 0 || o.dim <= 0 || o.batch <= 0 || o.shards <= 0 {
		return fmt.Errorf("-rows, -dim, -batch and -shards must be positive")
	}
	// Ctrl-C ends the fill with an error, so the collection is still dropped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, fs, err := prepare(ctx, o)
	if p != nil && !o.keep {
		defer dropCollection(o, p.Collection)
	}
	if err != nil {
		return err
	}
	planPath, err := writePlan(p)
	if err != nil {
		return err
	}
	if o.keep {
		// With the collection kept, a reader can be rerun by hand:
		// <binary> -role bare|input -plan <file> -rows N
		fmt.Fprintf(os.Stderr, "positions file kept: %s\n", planPath)
	} else {
		defer os.Remove(planPath)
	}

	// Just written data may still sit in the broker's and bookie's caches or
	// only partly in the OS page cache; whichever reader went first would pay
	// for that. An untimed drain first gives both measured readers the same
	// conditions.
	if o.warmup {
		fmt.Fprintln(os.Stderr, "warm-up: one untimed drain with the bare reader ...")
		w, err := spawn(o, roleBare, planPath)
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		fmt.Fprintf(os.Stderr, "warm-up: %d messages in %.2f s (not reported)\n", w.Messages, w.Seconds)
	}
	// One after the other, so they do not compete for the two cores of a
	// small machine and each child's peak RSS is its own.
	fmt.Fprintln(os.Stderr, "reading with the bare pulsar reader ...")
	bare, err := spawn(o, roleBare, planPath)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "reading with the milvus_binlog input ...")
	input, err := spawn(o, roleInput, planPath)
	if err != nil {
		return err
	}
	printReport(os.Stdout, o, fs, bare, input)
	appendRows(o, bare, input)
	return nil
}

// prepare records the topic positions, creates and fills the collection, and
// records the positions again. The plan is returned as soon as the collection
// exists, so the caller can drop it even when the fill fails.
func prepare(ctx context.Context, o *options) (*plan, fillStats, error) {
	pc, err := newPulsarClient(o.pulsarURL)
	if err != nil {
		return nil, fillStats{}, err
	}
	defer pc.Close()
	mc, err := workload.Connect(ctx, o.source)
	if err != nil {
		return nil, fillStats{}, err
	}
	defer mc.Close()

	p := &plan{Collection: fmt.Sprintf("bench_%d", time.Now().Unix()), Rows: o.rows}
	// Before the collection exists, so the input also reads its creation.
	if p.Start, err = lastPositions(pc); err != nil {
		return nil, fillStats{}, fmt.Errorf("positions before the fill: %w", err)
	}
	if err := mc.CreateCollection(ctx, benchSchema(p.Collection, o.dim), int32(o.shards)); err != nil {
		return nil, fillStats{}, fmt.Errorf("create collection %s: %w", p.Collection, err)
	}
	fmt.Fprintf(os.Stderr, "filling %s with %d rows of %d-d vectors (%d per insert, %d shards) ...\n",
		p.Collection, o.rows, o.dim, o.batch, o.shards)
	begin := time.Now()
	if err := fill(ctx, mc, p.Collection, o); err != nil {
		return p, fillStats{}, err
	}
	fs := fillStats{collection: p.Collection, seconds: time.Since(begin).Seconds()}
	// An insert returns after the proxy produced its messages to Pulsar, so
	// the last ids now cover every row.
	if p.End, err = lastPositions(pc); err != nil {
		return p, fs, fmt.Errorf("positions after the fill: %w", err)
	}
	return p, fs, nil
}

func dropCollection(o *options, coll string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mc, err := workload.Connect(ctx, o.source)
	if err != nil {
		fmt.Fprintf(os.Stderr, "drop %s: %v\n", coll, err)
		return
	}
	defer mc.Close()
	if err := mc.DropCollection(ctx, coll); err != nil {
		fmt.Fprintf(os.Stderr, "drop %s: %v\n", coll, err)
	}
}
