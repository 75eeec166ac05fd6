package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
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
	src      RunnerSource
	save     Progress
	plan     []contract.SnapshotCollection // as loaded (cursors to resume from)
	ts       uint64
	pageRows int
	parallel int
	log      *service.Logger
	seen     func(id int64, ref contract.CollectionRef) // a copied collection is streamed from now on
	// loadPatience: how long a refused load is retried (defaultLoadPatience).
	loadPatience time.Duration
	afterPin     AfterPin

	items chan *Item
	errs  chan error
	done  chan struct{}
	rows  progress
}

// NewRunner copies plan (a copy of the stored progress) reading at
// guarantee timestamp ts.
func NewRunner(src RunnerSource, save Progress, plan []contract.SnapshotCollection, ts uint64, pageRows, parallel int,
	seen func(int64, contract.CollectionRef), log *service.Logger) *Runner {
	return &Runner{src: src, save: save, plan: plan, ts: ts, pageRows: max(1, min(pageRows, 16384)), parallel: max(1, parallel),
		seen: seen, log: log, loadPatience: defaultLoadPatience, items: make(chan *Item), errs: make(chan error, 1), done: make(chan struct{})}
}

// pagesInFlight is how many pages of one partition may await the output's
// acknowledgement at once: the next page is rendered and decoded while one
// is written.
const pagesInFlight = 4

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

func (r *Runner) copyCollection(ctx context.Context, c contract.SnapshotCollection) error {
	err := r.copyOne(ctx, &c)
	if errors.Is(err, errGone) {
		return r.gone(ctx, &c)
	}
	if w := asWait(err); w != nil {
		return r.wait(ctx, &c, w.Reason)
	}
	return err
}

// tsOf is the timestamp collection c is read at: its own (a copy made
// after it waited) or the snapshot's.
func (r *Runner) tsOf(c *contract.SnapshotCollection) uint64 {
	if c.GuaranteeTs != 0 {
		return c.GuaranteeTs
	}
	return r.ts
}

func (r *Runner) copyOne(ctx context.Context, c *contract.SnapshotCollection) error {
	cat, err := r.catalog(ctx, c)
	if err != nil {
		return err
	}
	r.rows.begin(ctx, r.src, c)
	defer r.rows.end(c.ID)
	ref := contract.CollectionRef{DB: c.DB, Name: c.Name}
	parts := cat.Partitions
	if cat.PartitionKey {
		parts = []string{""}
	}
	if !c.CatalogDone {
		if err := r.hand(ctx, cat.Before, func(ctx context.Context) error {
			r.seen(c.ID, ref)
			return r.save(ctx, func(s *contract.SnapshotState) {
				sc := s.Collection(c.ID)
				if sc == nil {
					return
				}
				sc.CatalogDone = true
				if sc.Parts == nil {
					sc.Parts = map[string]*contract.PartCursor{}
				}
				for _, p := range parts {
					if sc.Parts[p] == nil {
						sc.Parts[p] = &contract.PartCursor{}
					}
				}
			})
		}); err != nil {
			return err
		}
	} else {
		r.seen(c.ID, ref)
	}
	pk, fields := keyAndFields(cat)
	if pk == nil {
		return &logreader.FatalError{Err: fmt.Errorf("snapshot of %s.%s: the source schema has no primary key", c.DB, c.Name)}
	}
	empty, err := r.prepareRows(ctx, c, cat, parts)
	if err != nil {
		return err
	}
	if empty {
		parts = nil // the source never held a row: nothing to page through
	}
	var pagers []*Pager
	for _, p := range parts {
		var after []byte
		if cur := c.Parts[p]; cur != nil {
			if cur.Done {
				continue
			}
			after = cur.LastPK
		}
		pagers = append(pagers, &Pager{Src: r.src, DB: c.DB, Coll: c.Name, Partition: p, PK: pk, Fields: fields, Limit: r.pageRows, Guarantee: r.tsOf(c), After: after})
	}
	if err := r.copyPartitions(ctx, *c, pagers); err != nil {
		return err
	}
	if err := r.releaseTemp(ctx, c); err != nil {
		return err
	}
	finish := func(ctx context.Context) error {
		return r.save(ctx, func(s *contract.SnapshotState) {
			if sc := s.Collection(c.ID); sc != nil {
				sc.Done, sc.Waiting = true, ""
			}
		})
	}
	if len(cat.After) == 0 {
		return finish(ctx)
	}
	return r.hand(ctx, cat.After, finish)
}

// copyPartitions copies the partitions, `parallel` at a time; the first
// error stops the others.
func (r *Runner) copyPartitions(ctx context.Context, c contract.SnapshotCollection, pagers []*Pager) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, r.parallel)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for _, p := range pagers {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := r.copyPartition(ctx, c, p); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// copyPartition hands out the pages of one partition in key order and moves
// the partition's cursor as each is acknowledged; the next page is read
// while the previous one is applied.
func (r *Runner) copyPartition(ctx context.Context, c contract.SnapshotCollection, p *Pager) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan Page, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(pages)
		readErr <- r.readPages(ctx, c, p, pages)
	}()
	part := p.Partition
	// Up to pagesInFlight pages travel at once (the output applies them in
	// order); the cursor moves over each once it and every page before it
	// are acknowledged.
	type inFlight struct {
		acked <-chan error
		last  json.RawMessage
		n     int64
	}
	var window []inFlight
	settle := func() error {
		f := window[0]
		window = window[1:]
		select {
		case err := <-f.acked:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		r.rows.add(c.ID, f.n)
		return r.save(ctx, func(s *contract.SnapshotState) {
			if cur := cursor(s, c.ID, part); cur != nil {
				cur.LastPK, cur.Rows = f.last, cur.Rows+f.n
			}
		})
	}
	for page := range pages {
		ev, err := wal.InsertEvent(page.DB, page.Coll, c.ID, part, r.tsOf(&c), page.Fields, page.Rows)
		if err != nil {
			return &logreader.FatalError{Err: fmt.Errorf("snapshot of %s.%s: %w", page.DB, page.Coll, err)}
		}
		ev.Snapshot = true
		acked, err := r.send(ctx, []*wal.Event{ev})
		if err != nil {
			return err
		}
		window = append(window, inFlight{acked: acked, last: page.Last, n: int64(page.Rows)})
		if len(window) >= pagesInFlight {
			if err := settle(); err != nil {
				return err
			}
		}
	}
	for len(window) > 0 {
		if err := settle(); err != nil {
			return err
		}
	}
	if err := <-readErr; err != nil {
		return err
	}
	return r.save(ctx, func(s *contract.SnapshotState) {
		if cur := cursor(s, c.ID, part); cur != nil {
			cur.Done = true
		}
	})
}

// readPages reads the partition's pages into out until an empty page (nil)
// or a permanent error; a source that cannot answer is retried.
func (r *Runner) readPages(ctx context.Context, c contract.SnapshotCollection, p *Pager, out chan<- Page) error {
	bo := backoff.New()
	for {
		page, err := p.Next(ctx)
		if err != nil {
			if errors.Is(err, sourcemeta.ErrNotLoaded) {
				return &logreader.FatalError{Err: fmt.Errorf("snapshot of %s.%s: %w. The copy reads rows with queries: load the collection on the source "+
					"(or create the task with \"snapshot\": \"never\"), then resume; nothing was skipped", c.DB, c.Name, err)}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if contract.NotFoundErr(err) {
				// Renamed (read on under the new name) or dropped (errGone)?
				cc := c
				cc.DB, cc.Name = p.DB, p.Coll
				if gerr := r.where(ctx, &cc); gerr != nil {
					return gerr
				}
				p.DB, p.Coll = cc.DB, cc.Name
			}
			r.log.Warnf("Snapshot: %v; retrying", err)
			if !bo.Wait(ctx) {
				return ctx.Err()
			}
			continue
		}
		bo = backoff.New()
		if page.Rows == 0 {
			return nil
		}
		page.DB, page.Coll = p.DB, p.Coll
		select {
		case out <- page:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// cursor is the progress of partition part of collection id (nil if none).
func cursor(s *contract.SnapshotState, id int64, part string) *contract.PartCursor {
	if sc := s.Collection(id); sc != nil {
		return sc.Parts[part]
	}
	return nil
}
