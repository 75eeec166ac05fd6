package snapshot

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Loader loads on the source what the copy must query (Milvus 2.3 answers
// queries on loaded partitions only).
type Loader interface {
	// RowCount: 0 means the collection never held a row.
	RowCount(ctx context.Context, db, coll string) (int64, error)
	// Load returns once the partitions (nil: the whole collection) are loaded.
	Load(ctx context.Context, db, coll string, parts []string) error
	Release(ctx context.Context, db, coll string, parts []string) error
	// Loading reports whether the partitions (nil: the collection) are
	// loaded or being loaded.
	Loading(ctx context.Context, db, coll string, parts []string) (bool, error)
}

// wholeCollection in TempLoaded: the copy loaded the whole collection.
const wholeCollection = "*"

// defaultLoadPatience is how long the copy keeps trying to load a collection the
// source refuses to load though every vector field has an index (one
// without an index waits instead: WaitError). Then the task fails with the
// reason.
const defaultLoadPatience = 10 * time.Minute

// prepareRows makes the rows of collection c readable. It reports empty
// when the source never held a row of it (nothing to read, nothing to
// load). What it loads is recorded in the progress first (TempLoaded), so
// a restart releases it too.
func (r *Runner) prepareRows(ctx context.Context, c *contract.SnapshotCollection, cat *Catalog, parts []string) (empty bool, err error) {
	if len(c.TempLoaded) > 0 {
		return false, r.load(ctx, c, c.TempLoaded, false) // an earlier run loaded it: make sure it still is
	}
	loaded := make(map[string]bool, len(cat.Loaded))
	for _, p := range cat.Loaded {
		loaded[p] = true
	}
	var missing []string
	for _, p := range parts {
		if p != "" && !loaded[p] || p == "" && len(loaded) == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return false, nil
	}
	if r.afterPin != nil {
		// Created after the pin (a collection made right after the task,
		// typically not indexed yet): the stream replays it from its
		// creation, so nothing needs loading or reading.
		after, err := r.afterPin(ctx, c.ID, cat.Schema.GetPhysicalChannelNames(), cat.Schema.GetCreatedTimestamp())
		if err != nil {
			r.log.Warnf("Snapshot: cannot tell whether %s.%s was created after the stream's start (its rows are copied): %v", c.DB, c.Name, err)
		} else if after {
			r.log.Infof("Snapshot: %s.%s was created after the stream's start: its rows come with the stream", c.DB, c.Name)
			return true, nil
		}
	}
	n, err := r.rowCount(ctx, c)
	if err != nil || n == 0 {
		return n == 0 && err == nil, err
	}
	if missing := unindexed(cat.Schema.GetSchema(), cat.Indexes); len(missing) > 0 {
		// The source refuses to load it until indexed (loading stays
		// refused however long the copy tries): it waits, the rest goes on.
		return false, &WaitError{Reason: waitReason(missing)}
	}
	if len(loaded) == 0 || slices.Contains(missing, "") {
		missing = []string{wholeCollection}
	}
	if err := r.save(ctx, func(s *contract.SnapshotState) {
		if sc := s.Collection(c.ID); sc != nil {
			sc.TempLoaded = missing
		}
	}); err != nil {
		return false, err
	}
	c.TempLoaded = missing
	r.log.Infof("Snapshot: %s.%s is not loaded on the source (partitions %v); loading it for the copy, released after it", c.DB, c.Name, missing)
	return false, r.load(ctx, c, missing, true)
}

func (r *Runner) rowCount(ctx context.Context, c *contract.SnapshotCollection) (int64, error) {
	bo := backoff.New()
	for {
		n, err := r.src.RowCount(ctx, c.DB, c.Name)
		if err == nil {
			return n, nil
		}
		if contract.NotFoundErr(err) {
			if gerr := r.where(ctx, c); gerr != nil {
				return 0, gerr
			}
		}
		r.log.Warnf("Snapshot: cannot count the rows of %s.%s on the source, retrying: %v", c.DB, c.Name, err)
		if !bo.Wait(ctx) {
			return 0, ctx.Err()
		}
	}
}

// load loads what (TempLoaded's form) of collection c on the source. fresh:
// the collection was just seen not loaded, so a load in progress (or done)
// when the copy is about to load it is its owner's.
func (r *Runner) load(ctx context.Context, c *contract.SnapshotCollection, what []string, fresh bool) error {
	parts := what
	if slices.Contains(what, wholeCollection) {
		parts = nil
	}
	bo := backoff.New()
	var err error
	for giveUp, tried := time.Now().Add(r.loadPatience), false; ; tried = true {
		if tried || fresh {
			// Seen not loaded, or refused before: if it is loading now, its owner loads it
			// (typically right after creating its index). The copy waits
			// for that load and must not release it afterwards.
			if busy, lerr := r.src.Loading(ctx, c.DB, c.Name, parts); lerr == nil && busy {
				return r.ownersLoad(ctx, c, parts)
			}
		}
		if err = r.src.Load(ctx, c.DB, c.Name, parts); err == nil || ctx.Err() != nil {
			return err
		}
		if contract.NotFoundErr(err) {
			if gerr := r.where(ctx, c); gerr != nil {
				return gerr
			}
		}
		if time.Now().After(giveUp) {
			break
		}
		r.log.Warnf("Snapshot: loading %s.%s on the source for the copy failed (tried again until %s): %v", c.DB, c.Name, giveUp.Format(time.RFC3339), err)
		if !bo.Wait(ctx) {
			return ctx.Err()
		}
	}
	return &logreader.FatalError{Err: fmt.Errorf("snapshot of %s.%s: it is not loaded on the source and loading it for the copy failed: %w. "+
		"The copy reads rows with queries, which need a loaded collection (and so an index on every vector field): "+
		"index and load it on the source, then resume the task (or create the task with \"snapshot\": \"never\"); nothing was skipped", c.DB, c.Name, err)}
}

// ownersLoad waits for a load the collection's owner started and records
// that the copy loaded nothing (so releases nothing).
func (r *Runner) ownersLoad(ctx context.Context, c *contract.SnapshotCollection, parts []string) error {
	r.log.Infof("Snapshot: %s.%s is being loaded on the source by its owner; the copy waits for it and will not release it", c.DB, c.Name)
	if err := r.src.Load(ctx, c.DB, c.Name, parts); err != nil { // waits for the load in progress
		return err
	}
	c.TempLoaded = nil
	return r.save(ctx, func(s *contract.SnapshotState) {
		if sc := s.Collection(c.ID); sc != nil {
			sc.TempLoaded = nil
		}
	})
}

// releaseTemp releases what the copy loaded for collection c. A release
// that fails is only logged: the rows are copied, and the load state the
// target gets is the source's from before the copy.
func (r *Runner) releaseTemp(ctx context.Context, c *contract.SnapshotCollection) error {
	if len(c.TempLoaded) == 0 {
		return nil
	}
	parts := c.TempLoaded
	if slices.Contains(parts, wholeCollection) {
		parts = nil
	}
	if err := r.src.Release(ctx, c.DB, c.Name, parts); err != nil {
		r.log.Warnf("Snapshot: releasing %s.%s on the source after the copy failed (release it by hand): %v", c.DB, c.Name, err)
	}
	c.TempLoaded = nil
	return r.save(ctx, func(s *contract.SnapshotState) {
		if sc := s.Collection(c.ID); sc != nil {
			sc.TempLoaded = nil
		}
	})
}
