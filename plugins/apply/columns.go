package apply

import (
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// rowRef is one row of one insert request.
type rowRef struct{ req, row int }

// mergeInserts combines the rows of consecutive inserts into one column set
// for a single upsert. Rows with the same primary key keep the last one:
// one upsert call must not carry a key twice (Milvus would store both).
func mergeInserts(reqs []*msgpb.InsertRequest, pkName string) ([]*schemapb.FieldData, int, error) {
	if len(reqs) == 0 {
		return nil, 0, nil
	}
	var all []rowRef
	keys := make([]func(int) (any, error), len(reqs))
	for i, r := range reqs {
		ints, strs, ok := wal.PKValues(r.GetFieldsData(), pkName)
		if !ok {
			return nil, 0, permanentf("insert into %s carries no primary key column %q", r.GetCollectionName(), pkName)
		}
		// NumRows comes from the message: check it against the key column
		// before allocating for it.
		if n := max(len(ints), len(strs)); r.GetNumRows() > uint64(n) {
			return nil, 0, permanentf("insert into %s of %d rows carries %d primary keys", r.GetCollectionName(), r.GetNumRows(), n)
		}
		keys[i] = func(row int) (any, error) {
			switch { // a key column is int64 or VarChar
			case row < len(ints):
				return ints[row], nil
			case row < len(strs):
				return strs[row], nil
			}
			return nil, fmt.Errorf("column has %d values, row %d asked", max(len(ints), len(strs)), row)
		}
		for row := 0; row < int(r.GetNumRows()); row++ {
			all = append(all, rowRef{i, row})
		}
	}
	seen := make(map[any]bool, len(all))
	keep := make([]bool, len(all))
	dups := false
	for i := len(all) - 1; i >= 0; i-- {
		k, err := keys[all[i].req](all[i].row)
		if err != nil {
			return nil, 0, permanentf("primary key of row %d: %v", all[i].row, err)
		}
		if seen[k] {
			dups = true
			continue
		}
		seen[k], keep[i] = true, true
	}
	if len(reqs) == 1 && !dups {
		return reqs[0].GetFieldsData(), len(all), nil // as the source wrote it
	}
	var rows []rowRef
	for i, r := range all {
		if keep[i] {
			rows = append(rows, r)
		}
	}
	out := make([]*schemapb.FieldData, 0, len(reqs[0].GetFieldsData()))
	for _, f := range reqs[0].GetFieldsData() {
		merged, err := takeRows(reqs, f, rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, merged)
	}
	return out, len(rows), nil
}

func fieldByName(fs []*schemapb.FieldData, name string) *schemapb.FieldData {
	for _, f := range fs {
		if f.GetFieldName() == name {
			return f
		}
	}
	return nil
}

// takeRows builds one column from the given rows of the requests.
func takeRows(reqs []*msgpb.InsertRequest, like *schemapb.FieldData, rows []rowRef) (*schemapb.FieldData, error) {
	out := &schemapb.FieldData{Type: like.GetType(), FieldName: like.GetFieldName(), FieldId: like.GetFieldId(), IsDynamic: like.GetIsDynamic()}
	cols := make([]*schemapb.FieldData, len(reqs))
	for i, r := range reqs {
		if cols[i] = fieldByName(r.GetFieldsData(), like.GetFieldName()); cols[i] == nil {
			return nil, permanentf("insert into %s lacks column %q that an earlier insert had", r.GetCollectionName(), like.GetFieldName())
		}
	}
	if like.GetScalars() != nil {
		s := &schemapb.ScalarField{}
		out.Field = &schemapb.FieldData_Scalars{Scalars: s}
		for _, r := range rows {
			if err := appendScalar(s, cols[r.req].GetScalars(), r.row); err != nil {
				return nil, fmt.Errorf("column %s: %w", like.GetFieldName(), err)
			}
		}
		return out, nil
	}
	v := like.GetVectors()
	if v == nil {
		return nil, permanentf("column %s has neither scalars nor vectors", like.GetFieldName())
	}
	dim := int(v.GetDim())
	vf := &schemapb.VectorField{Dim: v.GetDim()}
	out.Field = &schemapb.FieldData_Vectors{Vectors: vf}
	switch {
	case v.GetFloatVector() != nil:
		var data []float32
		for _, r := range rows {
			src := cols[r.req].GetVectors().GetFloatVector().GetData()
			if (r.row+1)*dim > len(src) {
				return nil, permanentf("column %s: float vector data too short", like.GetFieldName())
			}
			data = append(data, src[r.row*dim:(r.row+1)*dim]...)
		}
		vf.Data = &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: data}}
	case v.GetBinaryVector() != nil:
		w := dim / 8
		var data []byte
		for _, r := range rows {
			src := cols[r.req].GetVectors().GetBinaryVector()
			if (r.row+1)*w > len(src) {
				return nil, permanentf("column %s: binary vector data too short", like.GetFieldName())
			}
			data = append(data, src[r.row*w:(r.row+1)*w]...)
		}
		vf.Data = &schemapb.VectorField_BinaryVector{BinaryVector: data}
	default:
		return nil, permanentf("column %s: unsupported vector type", like.GetFieldName())
	}
	return out, nil
}

// appendScalar appends row i of src to dst (same type).
func appendScalar(dst, src *schemapb.ScalarField, i int) error {
	switch {
	case src.GetBoolData() != nil:
		return appendAt(func() *[]bool {
			if dst.GetBoolData() == nil {
				dst.Data = &schemapb.ScalarField_BoolData{BoolData: &schemapb.BoolArray{}}
			}
			return &dst.GetBoolData().Data
		}, src.GetBoolData().GetData(), i)
	case src.GetIntData() != nil:
		return appendAt(func() *[]int32 {
			if dst.GetIntData() == nil {
				dst.Data = &schemapb.ScalarField_IntData{IntData: &schemapb.IntArray{}}
			}
			return &dst.GetIntData().Data
		}, src.GetIntData().GetData(), i)
	case src.GetLongData() != nil:
		return appendAt(func() *[]int64 {
			if dst.GetLongData() == nil {
				dst.Data = &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{}}
			}
			return &dst.GetLongData().Data
		}, src.GetLongData().GetData(), i)
	case src.GetFloatData() != nil:
		return appendAt(func() *[]float32 {
			if dst.GetFloatData() == nil {
				dst.Data = &schemapb.ScalarField_FloatData{FloatData: &schemapb.FloatArray{}}
			}
			return &dst.GetFloatData().Data
		}, src.GetFloatData().GetData(), i)
	case src.GetDoubleData() != nil:
		return appendAt(func() *[]float64 {
			if dst.GetDoubleData() == nil {
				dst.Data = &schemapb.ScalarField_DoubleData{DoubleData: &schemapb.DoubleArray{}}
			}
			return &dst.GetDoubleData().Data
		}, src.GetDoubleData().GetData(), i)
	case src.GetStringData() != nil:
		return appendAt(func() *[]string {
			if dst.GetStringData() == nil {
				dst.Data = &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{}}
			}
			return &dst.GetStringData().Data
		}, src.GetStringData().GetData(), i)
	case src.GetJsonData() != nil:
		return appendAt(func() *[][]byte {
			if dst.GetJsonData() == nil {
				dst.Data = &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{}}
			}
			return &dst.GetJsonData().Data
		}, src.GetJsonData().GetData(), i)
	case src.GetArrayData() != nil:
		a := src.GetArrayData()
		if dst.GetArrayData() == nil {
			dst.Data = &schemapb.ScalarField_ArrayData{ArrayData: &schemapb.ArrayArray{ElementType: a.GetElementType()}}
		}
		return appendAt(func() *[]*schemapb.ScalarField { return &dst.GetArrayData().Data }, a.GetData(), i)
	}
	return fmt.Errorf("empty or unsupported scalar column")
}

// appendAt appends src[i] to the slice that get returns (creating it).
func appendAt[T any](get func() *[]T, src []T, i int) error {
	if i >= len(src) {
		return fmt.Errorf("column has %d values, row %d asked", len(src), i)
	}
	d := get()
	*d = append(*d, src[i])
	return nil
}
