package apply

import (
	"strings"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// vecReq is an insert of ids whose column "v" holds the given vector field.
func vecReq(ids []int64, v *schemapb.VectorField, typ schemapb.DataType) *msgpb.InsertRequest {
	return &msgpb.InsertRequest{CollectionName: "c", NumRows: uint64(len(ids)), FieldsData: []*schemapb.FieldData{
		{FieldName: "id", Type: schemapb.DataType_Int64, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ids}}}}},
		{FieldName: "v", Type: typ, Field: &schemapb.FieldData_Vectors{Vectors: v}},
	}}
}

func floatVec(dim int64, data ...float32) *schemapb.VectorField {
	return &schemapb.VectorField{Dim: dim, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: data}}}
}

func binVec(dim int64, data ...byte) *schemapb.VectorField {
	return &schemapb.VectorField{Dim: dim, Data: &schemapb.VectorField_BinaryVector{BinaryVector: data}}
}

// badMerges are pairs of inserts (merged into one upsert) that a corrupt or
// hostile log could carry; each must be refused with a permanent error.
func badMerges() map[string][2]*msgpb.InsertRequest {
	fv := schemapb.DataType_FloatVector
	bv := schemapb.DataType_BinaryVector
	good := func() *msgpb.InsertRequest { return insertReq([]int64{1, 2}, []string{"a", "b"}, []float32{1, 2}) }
	cases := map[string][2]*msgpb.InsertRequest{
		"negative dim":         {vecReq([]int64{1}, floatVec(-1, 1), fv), vecReq([]int64{2}, floatVec(-1, 2), fv)},
		"zero dim":             {vecReq([]int64{1}, floatVec(0), fv), vecReq([]int64{2}, floatVec(0), fv)},
		"huge dim":             {vecReq([]int64{1}, floatVec(1<<40, 1), fv), vecReq([]int64{2}, floatVec(1<<40, 2), fv)},
		"dim min int64":        {vecReq([]int64{1}, floatVec(-1<<63, 1), fv), vecReq([]int64{2}, floatVec(-1<<63, 2), fv)},
		"data not dim-aligned": {vecReq([]int64{1}, floatVec(2, 1, 2, 3), fv), vecReq([]int64{2}, floatVec(2, 1, 2), fv)},
		"data too long":        {vecReq([]int64{1}, floatVec(1, 1, 2), fv), vecReq([]int64{2}, floatVec(1, 2), fv)},
		"dims differ":          {vecReq([]int64{1}, floatVec(1, 1), fv), vecReq([]int64{2}, floatVec(2, 1, 2), fv)},
		"binary dim not x8":    {vecReq([]int64{1}, binVec(12, 1, 2), bv), vecReq([]int64{2}, binVec(12, 3, 4), bv)},
		"binary negative dim":  {vecReq([]int64{1}, binVec(-8, 1), bv), vecReq([]int64{2}, binVec(-8, 2), bv)},
		"vector kinds differ":  {vecReq([]int64{1}, floatVec(8, 1, 2, 3, 4, 5, 6, 7, 8), fv), vecReq([]int64{2}, binVec(8, 1), fv)},
		"nil vector field":     {vecReq([]int64{1}, floatVec(1, 1), fv), vecReq([]int64{2}, nil, fv)},
		"vector without data":  {vecReq([]int64{1}, floatVec(1, 1), fv), vecReq([]int64{2}, &schemapb.VectorField{Dim: 1}, fv)},
	}
	// Scalar columns.
	short := good()
	short.FieldsData[1].GetScalars().GetStringData().Data = []string{"a"}
	cases["scalar column short"] = [2]*msgpb.InsertRequest{good(), short}
	long := good()
	long.FieldsData[1].GetScalars().GetStringData().Data = []string{"a", "b", "c"}
	cases["scalar column long"] = [2]*msgpb.InsertRequest{good(), long}
	kind := good()
	kind.FieldsData[1].Field = &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{7, 8}}}}}
	cases["scalar kinds differ"] = [2]*msgpb.InsertRequest{good(), kind}
	declared := good()
	declared.FieldsData[1].Type = schemapb.DataType_Int64
	cases["type and data disagree"] = [2]*msgpb.InsertRequest{declared, good()}
	typ := good()
	typ.FieldsData[1].Type = schemapb.DataType_String
	cases["types differ"] = [2]*msgpb.InsertRequest{good(), typ}
	empty := good()
	empty.FieldsData[1].Field = nil
	cases["column without data"] = [2]*msgpb.InsertRequest{good(), empty}
	nilCol := good()
	nilCol.FieldsData[1] = nil
	cases["nil column"] = [2]*msgpb.InsertRequest{good(), nilCol}
	fewer := good()
	fewer.FieldsData = fewer.FieldsData[:2]
	cases["column missing"] = [2]*msgpb.InsertRequest{good(), fewer}
	extra := good()
	extra.FieldsData = append(extra.FieldsData, proto.Clone(extra.FieldsData[1]).(*schemapb.FieldData))
	extra.FieldsData[3].FieldName = "t"
	cases["extra column"] = [2]*msgpb.InsertRequest{good(), extra}
	twice := good()
	twice.FieldsData = append(twice.FieldsData, proto.Clone(twice.FieldsData[1]).(*schemapb.FieldData))
	cases["column twice"] = [2]*msgpb.InsertRequest{twice, good()}
	rows := good()
	rows.NumRows = 1
	cases["row count below columns"] = [2]*msgpb.InsertRequest{good(), rows}
	return cases
}

// TestMergeInsertsRefusesBadColumns: inconsistent columns in merged inserts
// are a permanent error naming the column, never a panic and never a
// silently dropped or mixed-up column.
func TestMergeInsertsRefusesBadColumns(t *testing.T) {
	for name, pair := range badMerges() {
		t.Run(name, func(t *testing.T) {
			_, _, err := mergeInserts(pair[:], "id")
			if err == nil || !isPermanent(err) {
				t.Fatalf("merged: error %v, want a permanent one", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), "insert into c") {
				t.Errorf("error %q does not name the collection", err)
			}
		})
	}
}

// TestSingleInsertRefusesBadColumns: an insert that goes out unmerged (as
// the source wrote it) is checked the same way.
func TestSingleInsertRefusesBadColumns(t *testing.T) {
	cases := badMerges()
	for _, name := range []string{"negative dim", "zero dim", "huge dim", "dim min int64", "data not dim-aligned", "data too long",
		"binary dim not x8", "binary negative dim", "type and data disagree", "column twice"} {
		t.Run(name, func(t *testing.T) {
			pair := cases[name]
			if _, _, err := mergeInserts(pair[:1], "id"); err == nil || !isPermanent(err) {
				t.Fatalf("error %v, want a permanent one", err)
			}
		})
	}
}
