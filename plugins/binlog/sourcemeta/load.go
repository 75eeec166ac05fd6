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
// (inserted rows of every segment; deletes are not subtracted): 0 means it
// never held a row.
func (g GRPC) RowCount(ctx context.Context, db, coll string) (int64, error) {
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
