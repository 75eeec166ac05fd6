package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// WaitError: the collection's rows cannot be read yet (Reason says why);
// the copy goes on with the others and copies it once they can.
type WaitError struct{ Reason string }

func (e *WaitError) Error() string { return e.Reason }

// isVector: Milvus numbers its vector types from 100 (binary, float,
// float16, bfloat16, sparse); each needs an index before a load.
func isVector(t schemapb.DataType) bool { return t >= 100 && t < 200 }

// unindexed lists the vector fields of schema without an index among indexes.
func unindexed(schema *schemapb.CollectionSchema, indexes []*milvuspb.IndexDescription) []string {
	var have []string
	for _, ix := range indexes {
		have = append(have, ix.GetFieldName())
	}
	var missing []string
	for _, f := range schema.GetFields() {
		if isVector(f.GetDataType()) && !slices.Contains(have, f.GetName()) {
			missing = append(missing, f.GetName())
		}
	}
	return missing
}

// waitReason says why the rows cannot be read with these vector fields
// lacking an index.
func waitReason(missing []string) string {
	return fmt.Sprintf("no index on vector field %s: its rows cannot be read (Milvus 2.3 loads, and so queries, only indexed collections) "+
		"until one is created on the source; they are copied then, everything else goes on meanwhile", strings.Join(missing, ", "))
}

// Unreadable says why the rows of collection db.coll cannot be read now
// ("" when they can: it is loaded, or every vector field has an index).
func Unreadable(ctx context.Context, src CatalogSource, db, coll string) (string, error) {
	loaded, err := src.LoadedPartitions(ctx, db, coll)
	if err != nil {
		return "", fmt.Errorf("list loaded partitions of %s.%s: %w", db, coll, err)
	}
	if len(loaded) > 0 {
		return "", nil
	}
	desc, err := src.DescribeFull(ctx, db, coll)
	if err != nil {
		return "", fmt.Errorf("describe %s.%s: %w", db, coll, err)
	}
	indexes, err := src.Indexes(ctx, db, coll)
	if err != nil {
		return "", fmt.Errorf("list indexes of %s.%s: %w", db, coll, err)
	}
	if missing := unindexed(desc.GetSchema(), indexes); len(missing) > 0 {
		return waitReason(missing), nil
	}
	return "", nil
}

// wait records that collection c waits (reason), instead of being copied now.
func (r *Runner) wait(ctx context.Context, c *contract.SnapshotCollection, reason string) error {
	r.log.Warnf("Snapshot: %s.%s waits: %s", c.DB, c.Name, reason)
	return r.save(ctx, func(s *contract.SnapshotState) {
		if sc := s.Collection(c.ID); sc != nil {
			sc.Waiting = reason
		}
	})
}

// asWait returns the WaitError in err (nil if none).
func asWait(err error) *WaitError {
	var w *WaitError
	if errors.As(err, &w) {
		return w
	}
	return nil
}
