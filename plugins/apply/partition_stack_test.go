package apply

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestStackUpsertIntoDefaultKeepsOtherPartitions: on the stack's target
// (Milvus 2.3), a key held in partition p1 of this replication's copy
// survives the apply of a source upsert of the same key into _default: the
// source's upsert deleted the key in _default only.
func TestStackUpsertIntoDefaultKeepsOtherPartitions(t *testing.T) {
	addr := os.Getenv("MILVUS_TARGET_ADDR")
	if os.Getenv("MILVUS_CDC_STACK") != "1" || addr == "" {
		t.Skip("needs the stack's target Milvus: run `make test`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.NewGrpcClient(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	api := c.(*client.GrpcClient).Service
	name := fmt.Sprintf("apply_upsert_part_%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = c.DropCollection(context.Background(), name) })
	must := func(what string, st *commonpb.Status, err error) {
		t.Helper()
		if err := statusError(what, st, err); err != nil {
			t.Fatal(err)
		}
	}
	schema, _ := proto.Marshal(&schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{FieldID: 101, Name: "s", DataType: schemapb.DataType_VarChar, TypeParams: []*commonpb.KeyValuePair{{Key: "max_length", Value: "16"}}},
		{FieldID: 102, Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "1"}}},
	}})
	st, err := api.CreateCollection(ctx, &milvuspb.CreateCollectionRequest{CollectionName: name, Schema: schema, ShardsNum: 1,
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong, Properties: []*commonpb.KeyValuePair{{Key: ownerProperty, Value: "7"}}})
	must("create", st, err)
	st, err = api.CreatePartition(ctx, &milvuspb.CreatePartitionRequest{CollectionName: name, PartitionName: "p1"})
	must("create partition", st, err)
	in := insertReq([]int64{5}, []string{"p1"}, []float32{1})
	res, err := api.Insert(ctx, &milvuspb.InsertRequest{CollectionName: name, PartitionName: "p1", FieldsData: in.FieldsData, NumRows: 1})
	must("insert into p1", res.GetStatus(), err)
	idx, err := entity.NewIndexFlat(entity.L2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, name, "v", idx, false); err != nil {
		t.Fatal(err)
	}
	if err := c.LoadCollection(ctx, name, false); err != nil {
		t.Fatal(err)
	}

	// The source upsert of key 5 into _default, as milvus_binlog hands it out.
	w := newWriter(t, fmt.Sprintf("address: %s\nconnect_timeout: 10s\n", addr))
	if err := w.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(context.Background()) }()
	meta := map[string]string{contract.MetaDB: "default", contract.MetaCollection: name, contract.MetaCollectionID: "7",
		contract.MetaPartition: "_default", contract.MetaUpsert: "true"}
	ins := insertReq([]int64{5}, []string{"default"}, []float32{2})
	ins.CollectionName, ins.PartitionName = name, "_default"
	del := &msgpb.DeleteRequest{CollectionName: name, CollectionID: 7, PartitionName: "_default", PartitionID: 1, NumRows: 1,
		PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: []int64{5}}}}}
	if err := w.WriteBatch(ctx, service.MessageBatch{walMsg(t, contract.OpInsert, ins, meta), walMsg(t, contract.OpDelete, del, meta)}); err != nil {
		t.Fatal(err)
	}

	// Per partition: a query over all of them returns one row per key.
	for part, want := range map[string]string{"_default": "default", "p1": "p1"} {
		rows, err := c.Query(ctx, name, []string{part}, "id == 5", []string{"s"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if col := rows.GetColumn("s"); col != nil {
			for i := 0; i < col.Len(); i++ {
				s, _ := col.GetAsString(i)
				got = append(got, s)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("key 5 in partition %s of the target: %q, want [%s] (the source's upsert into _default left p1's row alone)", part, got, want)
		}
	}
}
