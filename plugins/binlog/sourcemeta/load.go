package sourcemeta

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// RowCount is the number of rows the source counts for collection db.coll
// (inserted rows; deletes are not subtracted), after a flush of the
// collection: statistics count flushed segments only, so without it rows
// still in growing segments would read as none. 0 means it never held a
// row up to now.
func (g GRPC) RowCount(ctx context.Context, db, coll string) (int64, error) {
	if _, err := g.FlushTs(ctx, db, coll); err != nil {
		return 0, err
	}
	return g.RowEstimate(ctx, db, coll)
}

// RowEstimate is the row count of the source's statistics without a flush
// (rows in growing segments may not be counted yet): for estimates only.
func (g GRPC) RowEstimate(ctx context.Context, db, coll string) (int64, error) {
	resp, err := g.Svc.GetCollectionStatistics(ctx, &milvuspb.GetCollectionStatisticsRequest{DbName: db, CollectionName: coll})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return 0, err
	}
	for _, kv := range resp.GetStats() {
		if kv.GetKey() == "row_count" {
			return strconv.ParseInt(kv.GetValue(), 10, 64)
		}
	}
	return 0, fmt.Errorf("statistics of %s.%s have no row_count", db, coll)
}

// FlushTs flushes db.coll, waits until its segments are flushed, and
// returns the source timestamp the flush was given (0 when the source does
// not say): a timestamp of the source's own clock, taken now.
func (g GRPC) FlushTs(ctx context.Context, db, coll string) (uint64, error) {
	resp, err := g.Svc.Flush(ctx, &milvuspb.FlushRequest{DbName: db, CollectionNames: []string{coll}})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return 0, fmt.Errorf("flush %s.%s: %w", db, coll, err)
	}
	segs, ts := resp.GetCollSegIDs()[coll].GetData(), resp.GetCollFlushTs()[coll]
	for {
		st, err := g.Svc.GetFlushState(ctx, &milvuspb.GetFlushStateRequest{SegmentIDs: segs, FlushTs: ts, DbName: db, CollectionName: coll})
		if err := contract.StatusErr(st.GetStatus(), err); err != nil {
			return 0, fmt.Errorf("flush state of %s.%s: %w", db, coll, err)
		}
		if st.GetFlushed() {
			return ts, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Locate finds collection id among the source's databases: its database and
// name now, or found false when the source no longer has it.
func (g GRPC) Locate(ctx context.Context, id int64) (db, name string, found bool, err error) {
	dbs, err := g.ListDatabases(ctx)
	if err != nil {
		return "", "", false, err
	}
	for _, d := range dbs {
		colls, err := g.ShowCollections(ctx, d)
		if err != nil {
			if contract.NotFoundErr(err) {
				continue // dropped meanwhile
			}
			return "", "", false, err
		}
		if n, ok := colls[id]; ok {
			return d, n, true, nil
		}
	}
	return "", "", false, nil
}

// Load loads partitions parts of db.coll (nil: the whole collection) on the
// source and returns once they are loaded (or ctx ends).
func (g GRPC) Load(ctx context.Context, db, coll string, parts []string) error {
	var st *commonpb.Status
	var err error
	if parts == nil {
		st, err = g.Svc.LoadCollection(ctx, &milvuspb.LoadCollectionRequest{DbName: db, CollectionName: coll})
	} else {
		st, err = g.Svc.LoadPartitions(ctx, &milvuspb.LoadPartitionsRequest{DbName: db, CollectionName: coll, PartitionNames: parts})
	}
	if err := contract.StatusErr(st, err); err != nil {
		return err
	}
	for {
		resp, err := g.Svc.GetLoadState(ctx, &milvuspb.GetLoadStateRequest{DbName: db, CollectionName: coll, PartitionNames: parts})
		if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
			return err
		}
		if resp.GetState() == commonpb.LoadState_LoadStateLoaded {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Loading reports whether partitions parts of db.coll (nil: the whole
// collection) are loaded or being loaded on the source.
func (g GRPC) Loading(ctx context.Context, db, coll string, parts []string) (bool, error) {
	resp, err := g.Svc.GetLoadState(ctx, &milvuspb.GetLoadStateRequest{DbName: db, CollectionName: coll, PartitionNames: parts})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return false, err
	}
	st := resp.GetState()
	return st == commonpb.LoadState_LoadStateLoading || st == commonpb.LoadState_LoadStateLoaded, nil
}

// Release releases partitions parts of db.coll (nil: the whole collection)
// on the source.
func (g GRPC) Release(ctx context.Context, db, coll string, parts []string) error {
	var st *commonpb.Status
	var err error
	if parts == nil {
		st, err = g.Svc.ReleaseCollection(ctx, &milvuspb.ReleaseCollectionRequest{DbName: db, CollectionName: coll})
	} else {
		st, err = g.Svc.ReleasePartitions(ctx, &milvuspb.ReleasePartitionsRequest{DbName: db, CollectionName: coll, PartitionNames: parts})
	}
	return contract.StatusErr(st, err)
}
