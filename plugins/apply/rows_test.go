package apply

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// copyMilvus is a target holding this replication's copy "default.c" of
// source collection 7, with partitions _default and p1; it records deletes.
type copyMilvus struct {
	milvuspb.UnimplementedMilvusServiceServer
	mu      sync.Mutex
	deletes []*milvuspb.DeleteRequest
}

func (*copyMilvus) Connect(context.Context, *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{Status: &commonpb.Status{}, ServerInfo: &commonpb.ServerInfo{}}, nil
}

func (*copyMilvus) DescribeCollection(context.Context, *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	return &milvuspb.DescribeCollectionResponse{Status: &commonpb.Status{},
		Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
			{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		}},
		Properties: []*commonpb.KeyValuePair{{Key: ownerProperty, Value: "7"}},
	}, nil
}

func (*copyMilvus) ShowPartitions(context.Context, *milvuspb.ShowPartitionsRequest) (*milvuspb.ShowPartitionsResponse, error) {
	return &milvuspb.ShowPartitionsResponse{Status: &commonpb.Status{}, PartitionNames: []string{"_default", "p1"}}, nil
}

func (m *copyMilvus) Delete(_ context.Context, r *milvuspb.DeleteRequest) (*milvuspb.MutationResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes = append(m.deletes, r)
	return &milvuspb.MutationResult{Status: &commonpb.Status{}}, nil
}

// TestDeleteKeepsItsPartition: a delete scoped to a partition is applied in
// that partition only; scoped to one the target lacks (it never got rows
// there) it deletes nothing, and never the key in other partitions, where
// the source may keep it.
func TestDeleteKeepsItsPartition(t *testing.T) {
	fake := &copyMilvus{}
	w := writerFor(t, fake)
	del := func(part string, pid int64) *service.Message {
		req := &msgpb.DeleteRequest{CollectionName: "c", CollectionID: 7, PartitionName: part, PartitionID: pid, NumRows: 1,
			PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: []int64{5}}}}, Timestamps: []uint64{1}}
		return walMsg(t, contract.OpDelete, req, map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c",
			contract.MetaCollectionID: "7", contract.MetaPartition: part})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range []*service.Message{del("p1", 11), del("p2", 12), del("", -1)} {
		if err := w.WriteBatch(ctx, service.MessageBatch{m}); err != nil {
			t.Fatal(err)
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	var parts []string
	for _, d := range fake.deletes {
		parts = append(parts, d.GetPartitionName())
	}
	if len(parts) != 2 || parts[0] != "p1" || parts[1] != "" {
		t.Fatalf("deletes went to partitions %q, want [p1, (all)]: the p2 delete must delete nothing", parts)
	}
}
