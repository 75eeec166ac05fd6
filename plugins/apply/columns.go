package apply

import (
	"fmt"
	"reflect"

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
	if err := checkInserts(reqs); err != nil {
		return nil, 0, err
	}
	var all []rowRef
	keys := make([]func(int) (any, error), len(reqs))
	for i, r := range reqs {
		ints, strs, ok := wal.PKValues(r.GetFieldsData(), pkName)
		if !ok {
			return nil, 0, permanentf("insert into %s carries no primary key column %q", r.GetCollectionName(), pkName)
		}
		if n := len(ints) + len(strs); r.GetNumRows() != uint64(n) {
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

// checkInserts checks the columns of inserts to be merged into one call:
// each insert's columns hold its row count (valid vector dimensions, data
// of the declared type), and all have the same columns. NumRows is checked
// against the columns before anything is allocated for it.
func checkInserts(reqs []*msgpb.InsertRequest) error {
	for i, r := range reqs {
		if err := wal.CheckColumns(r.GetFieldsData(), r.GetNumRows()); err != nil {
			return permanentf("insert into %s of %d rows: %v", r.GetCollectionName(), r.GetNumRows(), err)
		}
		if i == 0 {
			continue
		}
		if err := wal.SameColumns(reqs[0].GetFieldsData(), r.GetFieldsData()); err != nil {
			return permanentf("insert into %s merged with the one before: %v", r.GetCollectionName(), err)
		}
	}
	return nil
}

func fieldByName(fs []*schemapb.FieldData, name string) *schemapb.FieldData {
	for _, f := range fs {
		if wal.ColumnName(f) == name {
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
		if cols[i] = fieldByName(r.GetFieldsData(), wal.ColumnName(like)); cols[i] == nil {
			return nil, permanentf("insert into %s lacks column %q that an earlier insert had", r.GetCollectionName(), like.GetFieldName())
		}
	}
	if like.GetScalars() != nil {
		s := &schemapb.ScalarField{}
		out.Field = &schemapb.FieldData_Scalars{Scalars: s}
		for _, r := range rows {
			if err := appendScalar(s, cols[r.req].GetScalars(), r.row); err != nil {
				return nil, permanentf("column %s: %v", like.GetFieldName(), err)
			}
		}
		return out, nil
	}
	v := like.GetVectors()
	if v == nil {
		return nil, permanentf("column %s has neither scalars nor vectors", like.GetFieldName())
	}
	width, err := wal.RowWidth(v)
	if err != nil {
		return nil, permanentf("column %s: %v", like.GetFieldName(), err)
	}
	vf := &schemapb.VectorField{Dim: v.GetDim()}
	out.Field = &schemapb.FieldData_Vectors{Vectors: vf}
	vec := func(i int) *schemapb.VectorField { return cols[i].GetVectors() }
	switch v.GetData().(type) {
	case *schemapb.VectorField_FloatVector:
		data, err := takeVectors(rows, width, func(i int) []float32 { return vec(i).GetFloatVector().GetData() })
		vf.Data = &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: data}}
		return out, vectorErr(like, err)
	case *schemapb.VectorField_BinaryVector:
		data, err := takeVectors(rows, width, func(i int) []byte { return vec(i).GetBinaryVector() })
		vf.Data = &schemapb.VectorField_BinaryVector{BinaryVector: data}
		return out, vectorErr(like, err)
	case *schemapb.VectorField_Float16Vector:
		data, err := takeVectors(rows, width, func(i int) []byte { return vec(i).GetFloat16Vector() })
		vf.Data = &schemapb.VectorField_Float16Vector{Float16Vector: data}
		return out, vectorErr(like, err)
	case *schemapb.VectorField_Bfloat16Vector:
		data, err := takeVectors(rows, width, func(i int) []byte { return vec(i).GetBfloat16Vector() })
		vf.Data = &schemapb.VectorField_Bfloat16Vector{Bfloat16Vector: data}
		return out, vectorErr(like, err)
	}
	return nil, permanentf("column %s: unsupported vector type", like.GetFieldName())
}

// takeVectors concatenates the given rows, width values each, of the
// requests' columns (src returns request i's values).
func takeVectors[T any](rows []rowRef, width int, src func(req int) []T) ([]T, error) {
	out := make([]T, 0, len(rows)*width)
	for _, r := range rows {
		s := src(r.req)
		if r.row >= len(s)/width { // division: no product to overflow
			return nil, fmt.Errorf("vector data of %d values has no row %d of %d", len(s), r.row, width)
		}
		out = append(out, s[r.row*width:(r.row+1)*width]...)
	}
	return out, nil
}

func vectorErr(like *schemapb.FieldData, err error) error {
	if err != nil {
		return permanentf("column %s: %v", like.GetFieldName(), err)
	}
	return nil
}

// appendScalar appends row i of src to dst (same type).
func appendScalar(dst, src *schemapb.ScalarField, i int) error {
	if dst.GetData() != nil && reflect.TypeOf(dst.GetData()) != reflect.TypeOf(src.GetData()) {
		// Else the column would be replaced by one of src's kind.
		return fmt.Errorf("values of another kind than the rows before")
	}
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
		if dst.GetArrayData().GetElementType() != a.GetElementType() {
			return fmt.Errorf("array elements of type %s after %s", a.GetElementType(), dst.GetArrayData().GetElementType())
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
