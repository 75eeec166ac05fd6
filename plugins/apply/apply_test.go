package apply

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func insertReq(ids []int64, vals []string, vec []float32) *msgpb.InsertRequest {
	return &msgpb.InsertRequest{CollectionName: "c", NumRows: uint64(len(ids)), FieldsData: []*schemapb.FieldData{
		{FieldName: "id", Type: schemapb.DataType_Int64, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ids}}}}},
		{FieldName: "s", Type: schemapb.DataType_VarChar, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: vals}}}}},
		{FieldName: "v", Type: schemapb.DataType_FloatVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 1, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: vec}}}}},
	}}
}

// TestMergeInsertsKeepsLastOfEachKey: one upsert never carries a key twice;
// the newest row of a key wins, the others keep their order.
func TestMergeInsertsKeepsLastOfEachKey(t *testing.T) {
	a := insertReq([]int64{1, 2, 3}, []string{"a1", "a2", "a3"}, []float32{1, 2, 3})
	b := insertReq([]int64{2, 4}, []string{"b2", "b4"}, []float32{20, 40})
	fields, n, err := mergeInserts([]*msgpb.InsertRequest{a, b}, "id")
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("rows %d, want 4", n)
	}
	if got := fields[0].GetScalars().GetLongData().GetData(); !reflect.DeepEqual(got, []int64{1, 3, 2, 4}) {
		t.Errorf("ids %v", got)
	}
	if got := fields[1].GetScalars().GetStringData().GetData(); !reflect.DeepEqual(got, []string{"a1", "a3", "b2", "b4"}) {
		t.Errorf("strings %v", got)
	}
	if got := fields[2].GetVectors().GetFloatVector().GetData(); !reflect.DeepEqual(got, []float32{1, 3, 20, 40}) {
		t.Errorf("vectors %v", got)
	}
	// A single request without duplicates goes out as it came.
	one, n, _ := mergeInserts([]*msgpb.InsertRequest{a}, "id")
	if n != 3 || &one[0] != &a.FieldsData[0] {
		t.Error("a single insert was copied")
	}
	if _, _, err := mergeInserts([]*msgpb.InsertRequest{a}, "nope"); !isPermanent(err) {
		t.Errorf("missing pk column: %v", err)
	}
}

func walMsg(t *testing.T, op string, payload proto.Message, meta map[string]string) *service.Message {
	t.Helper()
	b, err := proto.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	m := service.NewMessage(b)
	m.MetaSetMut(contract.MetaOp, op)
	m.MetaSetMut(contract.MetaMsgType, "x")
	for k, v := range meta {
		m.MetaSetMut(k, v)
	}
	return m
}

// TestPlanBatchGroups: consecutive inserts of one collection and partition
// become one upsert (the Delete of a source upsert is dropped), a plain
// delete or DDL ends the group, names are mapped.
func TestPlanBatchGroups(t *testing.T) {
	conf := &applyConfig{dbMap: map[string]string{"src": "dst"}, collectionMap: map[string]contract.CollectionRef{}}
	meta := func(part string, extra ...string) map[string]string {
		m := map[string]string{contract.MetaDB: "src", contract.MetaCollection: "c", contract.MetaCollectionID: "7", contract.MetaPartition: part}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	del := &msgpb.DeleteRequest{PartitionID: -1, NumRows: 1, PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: []int64{1}}}}}
	batch := service.MessageBatch{
		walMsg(t, contract.OpInsert, insertReq([]int64{1}, []string{"x"}, []float32{1}), meta("_default")),
		walMsg(t, contract.OpInsert, insertReq([]int64{2}, []string{"y"}, []float32{2}), meta("_default", contract.MetaUpsert, "true")),
		walMsg(t, contract.OpDelete, &msgpb.DeleteRequest{PartitionID: 5, NumRows: 1}, meta("_default", contract.MetaUpsert, "true")),
		walMsg(t, contract.OpInsert, insertReq([]int64{3}, []string{"z"}, []float32{3}), meta("_default")),
		walMsg(t, contract.OpInsert, insertReq([]int64{4}, []string{"w"}, []float32{4}), meta("p1")),
		walMsg(t, contract.OpDelete, del, meta("")),
		walMsg(t, contract.OpDelete, del, meta("")),
		walMsg(t, contract.OpFlush, &msgpb.InsertRequest{}, meta("")),
	}
	steps, err := planBatch(batch, conf)
	if err != nil {
		t.Fatal(err)
	}
	var shape []string
	for _, s := range steps {
		shape = append(shape, s.op+"/"+s.partition)
	}
	want := []string{"insert/_default", "insert/p1", "delete/", "flush/"}
	if !reflect.DeepEqual(shape, want) {
		t.Fatalf("steps %v, want %v", shape, want)
	}
	if len(steps[0].inserts) != 3 || steps[0].rows != 3 || steps[2].rows != 2 {
		t.Errorf("grouping: %d inserts / %d rows, delete rows %d", len(steps[0].inserts), steps[0].rows, steps[2].rows)
	}
	if steps[0].target != (contract.CollectionRef{DB: "dst", Name: "c"}) {
		t.Errorf("mapped target %v", steps[0].target)
	}
	// Messages that are not from milvus_binlog (protobuf) are refused.
	bad := service.NewMessage([]byte("{}"))
	bad.MetaSetMut(contract.MetaOp, contract.OpInsert)
	if _, err := planBatch(service.MessageBatch{bad}, conf); !isPermanent(err) || !strings.Contains(err.Error(), "format: protobuf") {
		t.Errorf("json message: %v", err)
	}
	if _, err := planBatch(service.MessageBatch{service.NewMessage(nil)}, conf); !isPermanent(err) {
		t.Errorf("message without metadata: %v", err)
	}
}

func TestTargetSchemaAndDiff(t *testing.T) {
	src := &schemapb.CollectionSchema{Name: "s", EnableDynamicField: true, Fields: []*schemapb.FieldSchema{
		{FieldID: 0, Name: "RowID", DataType: schemapb.DataType_Int64},
		{FieldID: 1, Name: "Timestamp", DataType: schemapb.DataType_Int64},
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true, AutoID: true},
		{FieldID: 101, Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "4"}}},
		{FieldID: 102, Name: "$meta", DataType: schemapb.DataType_JSON, IsDynamic: true},
	}}
	got := targetSchema(src, "t")
	if got.GetName() != "t" || len(got.GetFields()) != 2 || got.GetFields()[0].GetAutoID() || !got.GetEnableDynamicField() {
		t.Fatalf("target schema %v", got)
	}
	if src.GetFields()[2].GetAutoID() != true {
		t.Fatal("the source schema was modified")
	}
	if d := schemaDiff(src, got); d != "" {
		t.Errorf("same schema reported different: %s", d)
	}
	other := targetSchema(src, "t")
	other.Fields[1].TypeParams = []*commonpb.KeyValuePair{{Key: "dim", Value: "8"}}
	if d := schemaDiff(src, other); !strings.Contains(d, `"v"`) {
		t.Errorf("dim change: %q", d)
	}
}

func TestStatusErrorClassification(t *testing.T) {
	if statusError("x", &commonpb.Status{}, nil) != nil {
		t.Error("success is an error")
	}
	transport := statusError("x", nil, errors.New("connection refused"))
	if transport == nil || isPermanent(transport) {
		t.Error("a transport error must be transient")
	}
	for _, st := range []*commonpb.Status{
		{ErrorCode: commonpb.ErrorCode_RateLimit, Reason: "slow down"},
		{ErrorCode: commonpb.ErrorCode_UnexpectedError, Reason: "proxy not healthy"},
	} {
		if err := statusError("x", st, nil); err == nil || isPermanent(err) {
			t.Errorf("%v must be transient", st)
		}
	}
	if err := statusError("x", &commonpb.Status{ErrorCode: commonpb.ErrorCode_IllegalArgument, Reason: "dim mismatch"}, nil); !isPermanent(err) {
		t.Error("an invalid argument must be permanent")
	}
	// Milvus 2.3+ codes decide, not the text: a "node" in an invalid
	// parameter's reason does not make it transient.
	for _, c := range []struct {
		st        *commonpb.Status
		transient bool
	}{
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_IllegalArgument, Code: 1100, Reason: "replica number 5 > query node count 1"}, false},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 903, Reason: "node lack"}, true},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 503, Reason: "channel not available"}, true},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 101, Reason: "collection not loaded"}, true},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 702, Reason: "at most one distinct index is allowed per field"}, false},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 800, Reason: "database not found"}, false},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_UnexpectedError, Code: 65535, Reason: "unexpected"}, true},
		{&commonpb.Status{ErrorCode: commonpb.ErrorCode_IllegalArgument, Code: 1100, Retriable: true}, true},
	} {
		if err := statusError("x", c.st, nil); err == nil || isPermanent(err) == c.transient {
			t.Errorf("%v: transient %v, want %v", c.st, !isPermanent(err), c.transient)
		}
	}
	if err := statusError("x", nil, status.Error(codes.Unavailable, "connection refused")); err == nil || isPermanent(err) {
		t.Error("gRPC Unavailable must be transient")
	}
	if err := statusError("x", nil, status.Error(codes.InvalidArgument, "bad request")); !isPermanent(err) {
		t.Error("gRPC InvalidArgument must be permanent")
	}
}

// TestPlanBatchReadsMeta: metadata is read with contract.ReadMeta: a
// malformed value is a permanent error naming the message, and DDL steps
// keep the parsed metadata.
func TestPlanBatchReadsMeta(t *testing.T) {
	conf := &applyConfig{collectionMap: map[string]contract.CollectionRef{}}
	ok := map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7"}
	bad := map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaTs: "soon"}
	batch := service.MessageBatch{
		walMsg(t, contract.OpInsert, insertReq([]int64{1}, []string{"x"}, []float32{1}), ok),
		walMsg(t, contract.OpInsert, insertReq([]int64{2}, []string{"y"}, []float32{2}), bad),
	}
	if _, err := planBatch(batch, conf); !isPermanent(err) || !strings.Contains(err.Error(), "message 1: "+contract.MetaTs) {
		t.Errorf("malformed milvus_ts: %v", err)
	}

	create := walMsg(t, contract.OpCreateCollection, &msgpb.CreateCollectionRequest{}, map[string]string{
		contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7",
		contract.MetaConsistency: "Strong", contract.MetaProperties: `{"collection.ttl.seconds":"60"}`,
	})
	flush := walMsg(t, contract.OpFlush, &msgpb.InsertRequest{}, map[string]string{contract.MetaDB: "default", contract.MetaCollection: "a,b"})
	steps, err := planBatch(service.MessageBatch{create, flush}, conf)
	if err != nil {
		t.Fatal(err)
	}
	if m := steps[0].meta; m.ConsistencyLevel != "Strong" || m.Properties["collection.ttl.seconds"] != "60" || m.CollectionID != 7 {
		t.Errorf("create_collection metadata %+v", m)
	}
	if got := steps[1].meta.Collections; !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("flush collections %v", got)
	}
	if s := steps[1].String(); s != "flush on default.a,b" {
		t.Errorf("flush step %q", s)
	}
}

// TestMergeInsertsRefusesCorruptCount: a row count beyond the key column is
// a permanent error, found before anything is allocated for it.
func TestMergeInsertsRefusesCorruptCount(t *testing.T) {
	r := insertReq([]int64{1, 2}, []string{"a", "b"}, []float32{1, 2})
	r.NumRows = 1 << 62
	if _, _, err := mergeInserts([]*msgpb.InsertRequest{r}, "id"); err == nil || !isPermanent(err) {
		t.Fatalf("error %v, want a permanent one", err)
	}
}
