package sourcemeta

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Description is what DescribeCollection tells about one source collection.
type Description struct {
	Found   bool   // false: the source has no such collection (at the asked time)
	Name    string // its name (the schema's; DescribeCollection by ID gives no database)
	Level   string // consistency level
	Props   map[string]string
	Aliases []string
	// PartitionKey: Milvus makes and loads the partitions itself.
	PartitionKey bool
	// Channels are the collection's physical DML channels (topic names).
	Channels []string
}

// GRPC implements Lister, CatalogSource and RowSource with the raw Milvus
// gRPC service.
type GRPC struct {
	Svc milvuspb.MilvusServiceClient
}

func (g GRPC) ListDatabases(ctx context.Context) ([]string, error) {
	resp, err := g.Svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetDbNames(), nil
}

func (g GRPC) ShowCollections(ctx context.Context, db string) (map[int64]string, error) {
	resp, err := g.Svc.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	names, ids := resp.GetCollectionNames(), resp.GetCollectionIds()
	if len(names) != len(ids) {
		return nil, fmt.Errorf("source answered %d collection names but %d ids", len(names), len(ids))
	}
	out := make(map[int64]string, len(ids))
	for i, id := range ids {
		out[id] = names[i]
	}
	return out, nil
}

// DescribeID describes collection id as of hybrid timestamp ts (0: now). The
// source answers for a collection dropped after ts too (with its name at
// ts), which tells "dropped since" from "never created yet".
func (g GRPC) DescribeID(ctx context.Context, id int64, ts uint64) (Description, error) {
	return g.DescribeAt(ctx, "", id, ts)
}

// DescribeAt is DescribeID in database db: as of a past ts the source finds a
// collection that was dropped since only in its own database.
func (g GRPC) DescribeAt(ctx context.Context, db string, id int64, ts uint64) (Description, error) {
	return describe(g.Svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionID: id, TimeStamp: ts}))
}

// DescribeName describes the collection (or alias) name of database db now.
func (g GRPC) DescribeName(ctx context.Context, db, name string) (int64, Description, error) {
	resp, err := g.Svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: name})
	d, err := describe(resp, err)
	return resp.GetCollectionID(), d, err
}

func describe(resp *milvuspb.DescribeCollectionResponse, err error) (Description, error) {
	if err != nil {
		return Description{}, err
	}
	if st := resp.GetStatus(); st.GetErrorCode() != commonpb.ErrorCode_Success || st.GetCode() != 0 {
		if contract.NotFound(st) {
			return Description{}, nil
		}
		return Description{}, contract.StatusErr(st, nil)
	}
	props := map[string]string{}
	for _, kv := range resp.GetProperties() {
		props[kv.GetKey()] = kv.GetValue()
	}
	d := Description{Found: true, Name: resp.GetSchema().GetName(), Level: resp.GetConsistencyLevel().String(),
		Props: props, Aliases: resp.GetAliases(), Channels: resp.GetPhysicalChannelNames()}
	for _, f := range resp.GetSchema().GetFields() {
		d.PartitionKey = d.PartitionKey || f.GetIsPartitionKey()
	}
	return d, nil
}

// LoadedPartitions lists the partitions of a collection that are loaded
// (none when the collection is not loaded).
func (g GRPC) LoadedPartitions(ctx context.Context, db, coll string) ([]string, error) {
	resp, err := g.Svc.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{DbName: db, CollectionName: coll, Type: milvuspb.ShowType_InMemory})
	if err == nil && contract.NotLoaded(resp.GetStatus()) {
		return nil, nil
	}
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetPartitionNames(), nil
}

// DescribeFull is the source's whole answer for collection db.coll.
func (g GRPC) DescribeFull(ctx context.Context, db, coll string) (*milvuspb.DescribeCollectionResponse, error) {
	resp, err := g.Svc.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: coll})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp, nil
}

// Indexes lists the indexes of collection db.coll (none is not an error).
func (g GRPC) Indexes(ctx context.Context, db, coll string) ([]*milvuspb.IndexDescription, error) {
	resp, err := g.Svc.DescribeIndex(ctx, &milvuspb.DescribeIndexRequest{DbName: db, CollectionName: coll})
	if err == nil && (resp.GetStatus().GetErrorCode() == commonpb.ErrorCode_IndexNotExist || resp.GetStatus().GetCode() == 700) {
		return nil, nil
	}
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetIndexDescriptions(), nil
}
