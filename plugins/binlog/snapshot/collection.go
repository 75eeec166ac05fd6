package snapshot

import (
	"context"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// catalog reads the collection's catalog, retrying while the source cannot
// answer; nil when the source no longer has it (recorded as gone: the
// stream carries its drop).
func (r *Runner) catalog(ctx context.Context, c *contract.SnapshotCollection) (*Catalog, error) {
	bo := backoff.New()
	for {
		cat, err := ReadCatalog(ctx, r.src, *c, r.tsOf(c))
		if err == nil {
			return cat, nil
		}
		if contract.NotFoundErr(err) {
			if gerr := r.where(ctx, c); gerr != nil {
				return nil, gerr
			}
		}
		r.log.Warnf("Snapshot: cannot read the catalog of %s.%s from the source, retrying: %v", c.DB, c.Name, err)
		if !bo.Wait(ctx) {
			return nil, ctx.Err()
		}
	}
}

// where finds collection c on the source by its ID after a "not found": a
// collection renamed since it was planned is copied under its name now
// (recorded in the progress), errGone when it was dropped. Names alone
// decide nothing: a "not found" can be about something else, and another
// collection may have taken the name.
func (r *Runner) where(ctx context.Context, c *contract.SnapshotCollection) error {
	db, name, found, err := r.src.Locate(ctx, c.ID)
	switch {
	case err != nil:
		return nil // not known now: the caller retries
	case !found:
		return errGone
	case db == c.DB && name == c.Name:
		return nil
	}
	r.log.Infof("Snapshot: %s.%s is now %s.%s on the source; copied under that name", c.DB, c.Name, db, name)
	c.DB, c.Name = db, name
	return r.save(ctx, func(s *contract.SnapshotState) {
		if sc := s.Collection(c.ID); sc != nil {
			sc.DB, sc.Name = db, name
		}
	})
}

// gone records that collection c was dropped before it was copied in full.
func (r *Runner) gone(ctx context.Context, c *contract.SnapshotCollection) error {
	r.log.Infof("Snapshot: %s.%s is gone from the source (dropped meanwhile); the stream carries its drop", c.DB, c.Name)
	return r.save(ctx, func(s *contract.SnapshotState) {
		if sc := s.Collection(c.ID); sc != nil {
			sc.Done, sc.Gone, sc.Waiting = true, "dropped on the source during the copy", ""
		}
	})
}
