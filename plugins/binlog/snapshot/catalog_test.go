package snapshot

import (
	"context"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

type fakeCatalog struct {
	desc    *milvuspb.DescribeCollectionResponse
	parts   []string
	loaded  []string
	indexes []*milvuspb.IndexDescription
}

func (f *fakeCatalog) DescribeFull(context.Context, string, string) (*milvuspb.DescribeCollectionResponse, error) {
	return f.desc, nil
}
func (f *fakeCatalog) Partitions(context.Context, string, string) ([]string, error) {
	return f.parts, nil
}
func (f *fakeCatalog) LoadedPartitions(context.Context, string, string) ([]string, error) {
	return f.loaded, nil
}
func (f *fakeCatalog) Indexes(context.Context, string, string) ([]*milvuspb.IndexDescription, error) {
	return f.indexes, nil
}

func TestReadCatalogCopiesEverything(t *testing.T) {
	src := &fakeCatalog{
		desc: &milvuspb.DescribeCollectionResponse{
			Schema:              &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}}},
			VirtualChannelNames: []string{"v0", "v1"}, Aliases: []string{"b", "a"}, ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
			Properties: []*commonpb.KeyValuePair{{Key: "collection.ttl.seconds", Value: "60"}},
		},
		parts: []string{"_default", "p1", "empty"}, loaded: []string{"p1"},
		indexes: []*milvuspb.IndexDescription{{IndexName: "vec_idx", FieldName: "vec", Params: []*commonpb.KeyValuePair{{Key: "index_type", Value: "FLAT"}}}},
	}
	cat, err := ReadCatalog(context.Background(), src, contract.SnapshotCollection{ID: 7, DB: "d", Name: "c"}, 99)
	if err != nil {
		t.Fatal(err)
	}
	var before, after []string
	for _, e := range cat.Before {
		before = append(before, e.Op+":"+e.PartitionName)
		if !e.Snapshot || e.Ts != 99 {
			t.Errorf("%s: snapshot %v ts %d", e.Op, e.Snapshot, e.Ts)
		}
	}
	for _, e := range cat.After {
		before := e.Op + ":" + e.Alias
		for _, p := range e.Partitions {
			before += p
		}
		after = append(after, before)
	}
	want := []string{"create_database:", "create_collection:", "create_partition:p1", "create_partition:empty", "create_index:"}
	if len(before) != len(want) {
		t.Fatalf("before the rows: %v, want %v", before, want)
	}
	for i := range want {
		if before[i] != want[i] {
			t.Fatalf("before the rows: %v, want %v", before, want)
		}
	}
	if len(after) != 3 || after[0] != "create_alias:a" || after[1] != "create_alias:b" || after[2] != "load_partitions:p1" {
		t.Fatalf("after the rows: %v", after)
	}
	create := cat.Before[1]
	var req msgpb.CreateCollectionRequest
	if err := proto.Unmarshal(create.Payload, &req); err != nil || req.GetCollectionID() != 7 || len(req.GetVirtualChannelNames()) != 2 {
		t.Fatalf("create_collection payload %+v, %v", &req, err)
	}
	if create.ConsistencyLevel != "Strong" || create.Properties["collection.ttl.seconds"] != "60" {
		t.Errorf("create_collection level %q properties %v", create.ConsistencyLevel, create.Properties)
	}
	var ix milvuspb.CreateIndexRequest
	if err := proto.Unmarshal(cat.Before[4].Payload, &ix); err != nil || ix.GetIndexName() != "vec_idx" || len(ix.GetExtraParams()) != 1 {
		t.Fatalf("create_index payload %+v, %v", &ix, err)
	}
}
