package wal

import (
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeInsertEnvelope(t *testing.T) {
	req := &msgpb.InsertRequest{
		Base:           &commonpb.MsgBase{MsgType: commonpb.MsgType_Insert, Timestamp: 0},
		ShardName:      "by-dev-rootcoord-dml_3_447v0",
		CollectionName: "items",
		PartitionName:  "_default",
		CollectionID:   447,
		PartitionID:    448,
		Timestamps:     []uint64{900, 900, 900},
		NumRows:        3,
		FieldsData: []*schemapb.FieldData{{
			FieldName: "id", FieldId: 100, Type: schemapb.DataType_Int64,
			Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{1, 2, 3}}}}},
		}},
	}
	ev, err := Decode(mustMarshal(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Op != contract.OpInsert || ev.CollectionID != 447 || ev.PartitionID != 448 || ev.Rows != 3 {
		t.Fatalf("envelope: %+v", ev)
	}
	// An upsert's insert carries 0 in Base.Timestamp: the row timestamps order it.
	if ev.Ts != 900 || ev.BaseTs != 0 {
		t.Fatalf("ts = %d, base = %d; want 900, 0", ev.Ts, ev.BaseTs)
	}
	if ev.CollectionName != "items" || ev.PartitionName != "_default" || ev.ShardName != req.ShardName {
		t.Fatalf("names: %+v", ev)
	}
}

func TestDecodeDeleteAndReplicateFlag(t *testing.T) {
	req := &msgpb.DeleteRequest{
		Base:         &commonpb.MsgBase{MsgType: commonpb.MsgType_Delete, Timestamp: 77, ReplicateInfo: &commonpb.ReplicateInfo{IsReplicate: true}},
		CollectionID: 9, PartitionID: -1, NumRows: 2, Timestamps: []uint64{77, 77},
		PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_StrId{StrId: &schemapb.StringArray{Data: []string{"a", "b"}}}},
	}
	ev, err := Decode(mustMarshal(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Op != contract.OpDelete || ev.Rows != 2 || ev.Ts != 77 || !ev.IsReplicate || ev.PartitionID != -1 {
		t.Fatalf("envelope: %+v", ev)
	}
	keys := deleteKeys(req)
	if len(keys) != 2 || keys[0] != "a" {
		t.Fatalf("keys: %v", keys)
	}
}

func TestDecodeReplicateChannelRequests(t *testing.T) {
	cases := []struct {
		msg  proto.Message
		op   string
		db   string
		coll []string
	}{
		{&milvuspb.FlushRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_Flush, Timestamp: 5}, DbName: "default", CollectionNames: []string{"a", "b"}}, contract.OpFlush, "default", []string{"a", "b"}},
		{&milvuspb.CreateIndexRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_CreateIndex, Timestamp: 5}, DbName: "db1", CollectionName: "c", FieldName: "vec", IndexName: "ix"}, contract.OpCreateIndex, "db1", []string{"c"}},
		{&milvuspb.LoadCollectionRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_LoadCollection, Timestamp: 5}, DbName: "db1", CollectionName: "c"}, contract.OpLoadCollection, "db1", []string{"c"}},
		{&milvuspb.CreateDatabaseRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_CreateDatabase, Timestamp: 5}, DbName: "db2"}, contract.OpCreateDatabase, "db2", nil},
	}
	for _, c := range cases {
		ev, err := Decode(mustMarshal(t, c.msg))
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		if ev.Op != c.op || ev.DbName != c.db || ev.Ts != 5 {
			t.Fatalf("%s: %+v", c.op, ev)
		}
		got := ev.Names()
		if len(got) != len(c.coll) {
			t.Fatalf("%s: collections %v, want %v", c.op, got, c.coll)
		}
		for i := range got {
			if got[i] != c.coll[i] {
				t.Fatalf("%s: collections %v, want %v", c.op, got, c.coll)
			}
		}
		if c.op == contract.OpCreateIndex && (ev.IndexName != "ix" || ev.FieldName != "vec") {
			t.Fatalf("index names: %+v", ev)
		}
	}
}

func TestDecodeTimeTick(t *testing.T) {
	ev, err := Decode(mustMarshal(t, &msgpb.TimeTickMsg{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_TimeTick, Timestamp: 123}}))
	if err != nil || ev.Op != contract.OpTimeTick || ev.Ts != 123 {
		t.Fatalf("tick: %+v %v", ev, err)
	}
}

func TestDecodeBadInput(t *testing.T) {
	good := mustMarshal(t, &msgpb.InsertRequest{
		Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_Insert}, CollectionID: 1, Timestamps: []uint64{1, 2}, NumRows: 2,
	})
	bad := [][]byte{
		nil,
		{},
		{0xff},
		{0x0a, 0x05, 0x08}, // base claims 5 bytes, has 1
		mustMarshal(t, &commonpb.MsgBase{MsgType: commonpb.MsgType_Search}), // no header field 1 as bytes
		mustMarshal(t, &msgpb.InsertRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_Search}}),
	}
	for i := 1; i < len(good); i++ {
		bad = append(bad, good[:i])
	}
	for i, b := range bad {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("case %d panicked: %v", i, r)
				}
			}()
			if _, err := Decode(b); err == nil && i < 6 {
				t.Fatalf("case %d (%x): no error", i, b)
			}
		}()
	}
}
