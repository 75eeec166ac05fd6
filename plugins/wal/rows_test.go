package wal

import (
	"encoding/json"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func TestRowsFromFields(t *testing.T) {
	fields := []*schemapb.FieldData{
		{FieldName: "id", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: []string{"a", "b"}}}}}},
		{FieldName: "tags", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_ArrayData{ArrayData: &schemapb.ArrayArray{Data: []*schemapb.ScalarField{
			{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{1, 2}}}},
			{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{}}}},
		}}}}}},
		{FieldName: "$meta", IsDynamic: true, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: [][]byte{[]byte(`{"color":"red"}`), []byte(`{}`)}}}}}},
		{FieldName: "vec", Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 2, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: []float32{1, 2, 3, 4}}}}}},
		{FieldName: "bin", Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 8, Data: &schemapb.VectorField_BinaryVector{BinaryVector: []byte{0xf0, 0x0f}}}}},
	}
	rows, err := RowsFromFields(fields, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rows)
	want := `[{"bin":[240],"color":"red","id":"a","tags":[1,2],"vec":[1,2]},{"bin":[15],"id":"b","tags":[],"vec":[3,4]}]`
	if string(b) != want {
		t.Fatalf("rows:\n got %s\nwant %s", b, want)
	}
	// A column shorter than the row count is an error, not a panic.
	if _, err := RowsFromFields(fields, 3); err == nil {
		t.Fatal("short column accepted")
	}
}

// TestRowsFromFieldsRefusesCorruptCounts: a row count that the columns do
// not hold is an error before anything is allocated for it (a corrupt
// NumRows must neither panic nor exhaust memory), as is a vector dimension
// that would overflow.
func TestRowsFromFieldsRefusesCorruptCounts(t *testing.T) {
	ids := &schemapb.FieldData{FieldName: "id", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{
		Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{1, 2}}}}}}
	vec := &schemapb.FieldData{FieldName: "v", Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{
		Dim: 1 << 62, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: []float32{1, 2}}}}}}
	for name, tc := range map[string]struct {
		fields []*schemapb.FieldData
		n      int
	}{
		"huge count":       {[]*schemapb.FieldData{ids}, 1 << 40},
		"negative count":   {[]*schemapb.FieldData{ids}, -5},
		"rows, no columns": {nil, 3},
		"overflowing dim":  {[]*schemapb.FieldData{vec}, 1},
		"column too short": {[]*schemapb.FieldData{ids}, 3},
	} {
		if rows, err := RowsFromFields(tc.fields, tc.n); err == nil {
			t.Errorf("%s: %d rows, no error", name, len(rows))
		}
	}
	if rows, err := RowsFromFields([]*schemapb.FieldData{ids}, 2); err != nil || len(rows) != 2 {
		t.Fatalf("valid columns: %v %v", rows, err)
	}
}
