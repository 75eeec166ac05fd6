package snapshot

import (
	"context"
	"errors"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Copying one collection: its catalog, its rows partition by partition
// (copy_partition.go), then its aliases and load state.

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
	parts := cat.Partitions
	if cat.PartitionKey {
		parts = []string{""}
	}
	if err := r.handCatalog(ctx, c, cat, parts); err != nil {
		return err
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
	pagers := r.pagers(c, parts, pk, fields)
	if err := r.copyPartitions(ctx, *c, pagers); err != nil {
		return err
	}
	if err := r.releaseTemp(ctx, c); err != nil {
		return err
	}
	return r.handAfter(ctx, c, cat)
}

// handCatalog hands out the events that go before collection c's rows,
// unless an earlier run had them acknowledged; either way the collection is
// streamed from then on. Once acknowledged, the progress records the
// catalog as done, with a cursor for each of parts.
func (r *Runner) handCatalog(ctx context.Context, c *contract.SnapshotCollection, cat *Catalog, parts []string) error {
	ref := contract.CollectionRef{DB: c.DB, Name: c.Name}
	if c.CatalogDone {
		r.seen(c.ID, ref)
		return nil
	}
	return r.hand(ctx, cat.Before, func(ctx context.Context) error {
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
	})
}

// pagers pages through the partitions of collection c not copied yet, each
// from its cursor.
func (r *Runner) pagers(c *contract.SnapshotCollection, parts []string, pk *schemapb.FieldSchema, fields []string) []*Pager {
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
	return pagers
}

// handAfter hands out the events that go after collection c's rows (if
// any) and, once they are acknowledged, records the collection as done.
func (r *Runner) handAfter(ctx context.Context, c *contract.SnapshotCollection, cat *Catalog) error {
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
