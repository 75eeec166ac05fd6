package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Copying a collection's partitions: each read page by page in key order,
// pages handed out while the next is read, the cursor moved over what the
// output acknowledged.

// pagesInFlight is how many pages of one partition may await the output's
// acknowledgement at once: the next page is rendered and decoded while one
// is written.
const pagesInFlight = 4

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
	if err := r.sendPages(ctx, c, part, pages); err != nil {
		return err
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

// inFlight is a page handed out and not yet settled.
type inFlight struct {
	acked <-chan error
	last  json.RawMessage
	n     int64
}

// sendPages hands out the pages of partition part as they come. Up to
// pagesInFlight pages travel at once (the output applies them in order);
// the cursor moves over each once it and every page before it are
// acknowledged.
func (r *Runner) sendPages(ctx context.Context, c contract.SnapshotCollection, part string, pages <-chan Page) error {
	var window []inFlight
	settle := func() error {
		f := window[0]
		window = window[1:]
		return r.settle(ctx, c.ID, part, f)
	}
	for page := range pages {
		f, err := r.sendPage(ctx, c, part, page)
		if err != nil {
			return err
		}
		window = append(window, f)
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
	return nil
}

// sendPage gives the pipeline one page of partition part as an insert.
func (r *Runner) sendPage(ctx context.Context, c contract.SnapshotCollection, part string, page Page) (inFlight, error) {
	ev, err := wal.InsertEvent(page.DB, page.Coll, c.ID, part, r.tsOf(&c), page.Fields, page.Rows)
	if err != nil {
		return inFlight{}, &logreader.FatalError{Err: fmt.Errorf("snapshot of %s.%s: %w", page.DB, page.Coll, err)}
	}
	ev.Snapshot = true
	acked, err := r.send(ctx, []*wal.Event{ev})
	if err != nil {
		return inFlight{}, err
	}
	return inFlight{acked: acked, last: page.Last, n: int64(page.Rows)}, nil
}

// settle waits for page f's acknowledgement, then moves the cursor of
// partition part of collection id over it.
func (r *Runner) settle(ctx context.Context, id int64, part string, f inFlight) error {
	select {
	case err := <-f.acked:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	r.rows.add(id, f.n)
	return r.save(ctx, func(s *contract.SnapshotState) {
		if cur := cursor(s, id, part); cur != nil {
			cur.LastPK, cur.Rows = f.last, cur.Rows+f.n
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
