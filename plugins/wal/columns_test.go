package wal

import (
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func vectorColumn(typ schemapb.DataType, v *schemapb.VectorField) *schemapb.FieldData {
	return &schemapb.FieldData{FieldName: "v", Type: typ, Field: &schemapb.FieldData_Vectors{Vectors: v}}
}

// TestRowsFromFieldsRefusesBadVectors: a vector column whose dimension or
// data cannot be cut into the message's rows is an error, not rows of the
// wrong width (a binary dimension of 12 used to render 1 byte a row) nor a
// panic.
func TestRowsFromFieldsRefusesBadVectors(t *testing.T) {
	bin := schemapb.DataType_BinaryVector
	flt := schemapb.DataType_FloatVector
	for name, c := range map[string]*schemapb.FieldData{
		"binary dim not x8": vectorColumn(bin, &schemapb.VectorField{Dim: 12, Data: &schemapb.VectorField_BinaryVector{BinaryVector: []byte{1, 2}}}),
		"negative dim":      vectorColumn(flt, &schemapb.VectorField{Dim: -1, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: []float32{1, 2}}}}),
		"huge dim":          vectorColumn(flt, &schemapb.VectorField{Dim: 1 << 62, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: []float32{1, 2}}}}),
		"extra values":      vectorColumn(flt, &schemapb.VectorField{Dim: 1, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: []float32{1, 2, 3}}}}),
		"type mismatch":     vectorColumn(flt, &schemapb.VectorField{Dim: 8, Data: &schemapb.VectorField_BinaryVector{BinaryVector: []byte{1, 2}}}),
	} {
		if rows, err := RowsFromFields([]*schemapb.FieldData{c}, 2); err == nil {
			t.Errorf("%s: rows %v, want an error", name, rows)
		}
	}
	good := vectorColumn(bin, &schemapb.VectorField{Dim: 16, Data: &schemapb.VectorField_BinaryVector{BinaryVector: []byte{1, 2, 3, 4}}})
	if rows, err := RowsFromFields([]*schemapb.FieldData{good}, 2); err != nil || len(rows) != 2 {
		t.Errorf("binary dim 16: %v %v", rows, err)
	}
}
