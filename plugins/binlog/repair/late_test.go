package repair

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// fakeRows is a source holding rows by partition (int64 key "id", one
// VarChar "title").
type fakeRows struct {
	parts map[string]map[int64]string
	err   error
}

func (f fakeRows) Describe(context.Context, string, string) (*schemapb.CollectionSchema, error) {
	return &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{
		{FieldID: 0, Name: "RowID"}, {FieldID: 100, Name: "id", IsPrimaryKey: true, DataType: schemapb.DataType_Int64},
		{FieldID: 101, Name: "title", DataType: schemapb.DataType_VarChar},
	}}, f.err
}

func (f fakeRows) Partitions(context.Context, string, string) ([]string, error) {
	var out []string
	for p := range f.parts {
		out = append(out, p)
	}
	return out, nil
}

func (f fakeRows) Query(_ context.Context, _, _, partition, expr string, fields []string, _ uint64) ([]*schemapb.FieldData, error) {
	if len(fields) != 2 || fields[0] != "id" || fields[1] != "title" {
		return nil, errors.New("unexpected fields")
	}
	var ids []int64
	var titles []string
	for k, v := range f.parts[partition] {
		if contains := expr != "" && (expr == "id in [1,2,3]"); contains && k <= 3 {
			ids, titles = append(ids, k), append(titles, v)
		}
	}
	return []*schemapb.FieldData{
		{FieldName: "id", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ids}}}}},
		{FieldName: "title", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: titles}}}}},
	}, nil
}

// TestRepairLateUsesSourceRows: a late delete of keys 1,2,3 whose keys 1
// and 2 were written again on the source becomes an insert of the source's
// rows (in their partition) and a delete of key 3 only.
func TestRepairLateUsesSourceRows(t *testing.T) {
	payload, _ := proto.Marshal(&msgpb.DeleteRequest{PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: []int64{1, 2, 3}}}}})
	old := &wal.Event{Op: contract.OpDelete, Ts: 50, DbName: "default", CollectionName: "c", CollectionID: 7, Payload: payload, Position: []byte("p")}
	src := fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}, "p1": {2: "two"}}}
	evs, err := late(context.Background(), sourcemeta.NewShapes(src), old, 60)
	if err != nil {
		t.Fatal(err)
	}
	inserted := map[int64]string{}
	var deleted []int64
	for _, e := range evs {
		if e.Ts != 50 || string(e.Position) != "p" || !e.Derived {
			t.Errorf("derived event has ts %d position %q, want the late one's", e.Ts, e.Position)
		}
		switch e.Op {
		case contract.OpInsert:
			var req msgpb.InsertRequest
			if err := proto.Unmarshal(e.Payload, &req); err != nil {
				t.Fatal(err)
			}
			if int(req.GetNumRows()) != len(req.GetTimestamps()) || req.GetPartitionName() != e.PartitionName {
				t.Errorf("insert: %d rows, %d timestamps, partition %q/%q", req.GetNumRows(), len(req.GetTimestamps()), req.GetPartitionName(), e.PartitionName)
			}
			ids := req.GetFieldsData()[0].GetScalars().GetLongData().GetData()
			for i, id := range ids {
				inserted[id] = e.PartitionName + ":" + req.GetFieldsData()[1].GetScalars().GetStringData().GetData()[i]
			}
		case contract.OpDelete:
			var req msgpb.DeleteRequest
			if err := proto.Unmarshal(e.Payload, &req); err != nil {
				t.Fatal(err)
			}
			if req.GetPartitionID() != -1 {
				t.Errorf("derived delete restricted to partition %d", req.GetPartitionID())
			}
			deleted = append(deleted, req.GetPrimaryKeys().GetIntId().GetData()...)
		}
	}
	if inserted[1] != "_default:one" || inserted[2] != "p1:two" || len(inserted) != 2 {
		t.Errorf("inserted %v, want 1 in _default and 2 in p1", inserted)
	}
	if len(deleted) != 1 || deleted[0] != 3 {
		t.Errorf("deleted %v, want [3]", deleted)
	}
}

// TestRepairLateKeepsEventOnError: a source that cannot answer leaves the
// late event as it is (and says why).
func TestRepairLateKeepsEventOnError(t *testing.T) {
	old := &wal.Event{Op: contract.OpDelete, Ts: 50, CollectionName: "c"}
	evs, err := late(context.Background(), sourcemeta.NewShapes(fakeRows{err: errors.New("down")}), old, 60)
	if err == nil || len(evs) != 1 || evs[0] != old {
		t.Fatalf("got %d events, err %v; want the late event back and an error", len(evs), err)
	}
}
