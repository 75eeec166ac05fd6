package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// RunnerSource is everything the copy reads from the source.
type RunnerSource interface {
	Source
	CatalogSource
	Loader
	// Locate finds a collection by ID: its database and name now, or
	// found false once the source no longer has it.
	Locate(ctx context.Context, id int64) (db, name string, found bool, err error)
}

// errGone: the collection being copied was dropped on the source; its drop
// is in the stream.
var errGone = errors.New("dropped on the source during the copy")

// Progress stores a change of the snapshot's progress (with the positions,
// in one write: checkpoint.Checkpointer.UpdateSnapshot).
type Progress func(ctx context.Context, fn func(*contract.SnapshotState)) error

// Item is what the copy hands the pipeline: events to deliver as one batch,
// and what to record once the output acknowledged them.
type Item struct {
	Events []*wal.Event
	// Ack is called with the output's result: nil records the progress; an
	// error (a batch the output refused) ends the copy with it, and the
	// next run goes on from the last acknowledged key.
	Ack func(ctx context.Context, ackErr error) error
}

// Runner copies the planned collections, at most `parallel` at a time:
// per collection the catalog first (acknowledged before any row), then every
// partition page by page in primary-key order, then aliases and the load
// state. Progress moves only over what the output acknowledged, so a
// restart goes on from there (a page copied twice is an idempotent upsert).
type Runner struct {
	src  RunnerSource
	save Progress
	log  *service.Logger
	seen func(id int64, ref contract.CollectionRef) // a copied collection is streamed from now on

	copyPlan   // what to copy, at what timestamp, how fast
	loadPolicy // collections that are not loaded
	handoff    // the channels Next reads
	rows       progress
}

// copyPlan is what the runner copies and how (fixed at NewRunner).
type copyPlan struct {
	plan     []contract.SnapshotCollection // as loaded (cursors to resume from)
	ts       uint64
	pageRows int
	parallel int
}

// loadPolicy is how the runner treats a collection that is not loaded on
// the source (load.go).
type loadPolicy struct {
	// loadPatience: how long a refused load is retried (defaultLoadPatience).
	loadPatience time.Duration
	afterPin     AfterPin
}

// handoff is how the copy reaches Next: the items it produces, its first
// error, and done once Run returned.
type handoff struct {
	items chan *Item
	errs  chan error
	done  chan struct{}
}

// NewRunner copies plan (a copy of the stored progress) reading at
// guarantee timestamp ts.
func NewRunner(src RunnerSource, save Progress, plan []contract.SnapshotCollection, ts uint64, pageRows, parallel int,
	seen func(int64, contract.CollectionRef), log *service.Logger) *Runner {
	return &Runner{
		src: src, save: save, log: log, seen: seen,
		copyPlan:   copyPlan{plan: plan, ts: ts, pageRows: max(1, min(pageRows, 16384)), parallel: max(1, parallel)},
		loadPolicy: loadPolicy{loadPatience: defaultLoadPatience},
		handoff:    handoff{items: make(chan *Item), errs: make(chan error, 1), done: make(chan struct{})},
	}
}

// AfterPin reports whether collection id was created after the positions
// the stream starts from (its whole history is in the stream then).
type AfterPin func(ctx context.Context, id int64, channels []string, createdTs uint64) (bool, error)

// SetAfterPin gives the runner the check it makes before it loads a
// collection that is not loaded (none: every such collection is loaded).
func (r *Runner) SetAfterPin(f AfterPin) { r.afterPin = f }

// Run copies until every collection is done or ctx ends; Next hands out
// what it produces.
func (r *Runner) Run(ctx context.Context) {
	defer close(r.done)
	sem := make(chan struct{}, r.parallel)
	var wg sync.WaitGroup
	stopLog := r.logProgress(ctx)
	defer stopLog()
	for i := range r.plan {
		c := r.plan[i]
		if c.Done {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := r.copyCollection(ctx, c); err != nil && ctx.Err() == nil {
				select {
				case r.errs <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
}

// Next returns the next item; io.EOF once everything is copied and
// acknowledged.
func (r *Runner) Next(ctx context.Context) (*Item, error) {
	select {
	case it := <-r.items:
		return it, nil
	case err := <-r.errs:
		return nil, err
	case <-r.done:
		select {
		case err := <-r.errs:
			return nil, err
		default:
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hand gives the pipeline events and waits until they are acknowledged
// (then onAck has run) or ctx ends.
func (r *Runner) hand(ctx context.Context, evs []*wal.Event, onAck func(ctx context.Context) error) error {
	acked, err := r.send(ctx, evs)
	if err != nil {
		return err
	}
	select {
	case err := <-acked:
		if err != nil {
			return err
		}
		return onAck(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send gives the pipeline events once it takes them; the returned channel
// yields the output's result (nil: acknowledged).
func (r *Runner) send(ctx context.Context, evs []*wal.Event) (<-chan error, error) {
	acked := make(chan error, 1)
	it := &Item{Events: evs, Ack: func(ctx context.Context, ackErr error) error {
		if ackErr != nil {
			ackErr = fmt.Errorf("the output refused a snapshot batch: %w", ackErr)
		}
		acked <- ackErr
		return nil
	}}
	select {
	case r.items <- it:
		return acked, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
