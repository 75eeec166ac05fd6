package wal

import (
	"fmt"
	"reflect"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// MaxVectorDim bounds a vector column's dimension. Milvus allows 32,768; a
// larger one comes from a corrupt or hostile message, and checking it keeps
// row × dimension products far from overflowing.
const MaxVectorDim = 1 << 16

// CheckColumns checks the columns of one insert of n rows before anything
// slices them: every column is present once, holds data of its declared
// type and exactly n rows (vectors: a valid dimension and n × dimension
// values). A message fails here with an error, never a panic later.
func CheckColumns(fields []*schemapb.FieldData, n uint64) error {
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		if f == nil {
			return fmt.Errorf("column %d is empty", i)
		}
		name := ColumnName(f)
		if seen[name] {
			return fmt.Errorf("column %s appears twice", name)
		}
		seen[name] = true
		rows, err := ColumnRows(f)
		if err != nil {
			return fmt.Errorf("column %s: %w", name, err)
		}
		if uint64(rows) != n {
			return fmt.Errorf("column %s holds %d rows, the message %d", name, rows, n)
		}
	}
	return nil
}

// ColumnName is a column's name, or field_<id> when it has none.
func ColumnName(f *schemapb.FieldData) string {
	if f.GetFieldName() != "" {
		return f.GetFieldName()
	}
	return fmt.Sprintf("field_%d", f.GetFieldId())
}

// ColumnRows returns how many rows a column holds, checking its data kind
// against its declared type and a vector's dimension against its data.
func ColumnRows(f *schemapb.FieldData) (int, error) {
	if s := f.GetScalars(); s != nil {
		if err := kindMatches(f.GetType(), s.GetData()); err != nil {
			return 0, err
		}
		return scalarLen(s)
	}
	v := f.GetVectors()
	if v == nil {
		return 0, fmt.Errorf("column of type %s has no data", f.GetType())
	}
	if err := kindMatches(f.GetType(), v.GetData()); err != nil {
		return 0, err
	}
	if sv, ok := v.GetData().(*schemapb.VectorField_SparseFloatVector); ok {
		// One row per entry; its Dim is the largest index, not a width.
		return len(sv.SparseFloatVector.GetContents()), nil
	}
	width, err := RowWidth(v)
	if err != nil {
		return 0, err
	}
	var values int
	switch d := v.GetData().(type) {
	case *schemapb.VectorField_FloatVector:
		values = len(d.FloatVector.GetData())
	case *schemapb.VectorField_BinaryVector:
		values = len(d.BinaryVector)
	case *schemapb.VectorField_Float16Vector:
		values = len(d.Float16Vector)
	case *schemapb.VectorField_Bfloat16Vector:
		values = len(d.Bfloat16Vector)
	}
	if values%width != 0 {
		return 0, fmt.Errorf("%d vector values are not a whole number of rows of %d", values, width)
	}
	return values / width, nil
}

// RowWidth is how many values (float32 or bytes) one row of a dense vector
// column takes, after checking its dimension.
func RowWidth(v *schemapb.VectorField) (int, error) {
	dim := v.GetDim()
	if dim <= 0 || dim > MaxVectorDim {
		return 0, fmt.Errorf("vector dimension %d", dim)
	}
	switch d := v.GetData().(type) {
	case *schemapb.VectorField_FloatVector:
		if d.FloatVector == nil {
			break
		}
		return int(dim), nil
	case *schemapb.VectorField_BinaryVector:
		if dim%8 != 0 {
			return 0, fmt.Errorf("binary vector dimension %d is not a multiple of 8", dim)
		}
		return int(dim / 8), nil
	case *schemapb.VectorField_Float16Vector, *schemapb.VectorField_Bfloat16Vector:
		return int(dim * 2), nil
	}
	return 0, fmt.Errorf("vector column without data or of an unsupported kind")
}

// scalarLen is the number of values of a scalar column.
func scalarLen(s *schemapb.ScalarField) (int, error) {
	switch {
	case s.GetBoolData() != nil:
		return len(s.GetBoolData().GetData()), nil
	case s.GetIntData() != nil:
		return len(s.GetIntData().GetData()), nil
	case s.GetLongData() != nil:
		return len(s.GetLongData().GetData()), nil
	case s.GetFloatData() != nil:
		return len(s.GetFloatData().GetData()), nil
	case s.GetDoubleData() != nil:
		return len(s.GetDoubleData().GetData()), nil
	case s.GetStringData() != nil:
		return len(s.GetStringData().GetData()), nil
	case s.GetJsonData() != nil:
		return len(s.GetJsonData().GetData()), nil
	case s.GetArrayData() != nil:
		a := s.GetArrayData()
		for i, e := range a.GetData() {
			if e == nil {
				return 0, fmt.Errorf("array row %d is empty", i)
			}
			if e.GetData() != nil && !kindOf(a.GetElementType(), e.GetData()) {
				return 0, fmt.Errorf("array row %d holds %s, not %s elements", i, kindName(e.GetData()), a.GetElementType())
			}
		}
		return len(a.GetData()), nil
	}
	return 0, fmt.Errorf("empty or unsupported scalar column")
}

// dataKinds is the oneof wrapper each declared type's data comes in.
var dataKinds = map[schemapb.DataType]reflect.Type{
	schemapb.DataType_Bool:              reflect.TypeOf(&schemapb.ScalarField_BoolData{}),
	schemapb.DataType_Int8:              reflect.TypeOf(&schemapb.ScalarField_IntData{}),
	schemapb.DataType_Int16:             reflect.TypeOf(&schemapb.ScalarField_IntData{}),
	schemapb.DataType_Int32:             reflect.TypeOf(&schemapb.ScalarField_IntData{}),
	schemapb.DataType_Int64:             reflect.TypeOf(&schemapb.ScalarField_LongData{}),
	schemapb.DataType_Float:             reflect.TypeOf(&schemapb.ScalarField_FloatData{}),
	schemapb.DataType_Double:            reflect.TypeOf(&schemapb.ScalarField_DoubleData{}),
	schemapb.DataType_String:            reflect.TypeOf(&schemapb.ScalarField_StringData{}),
	schemapb.DataType_VarChar:           reflect.TypeOf(&schemapb.ScalarField_StringData{}),
	schemapb.DataType_Array:             reflect.TypeOf(&schemapb.ScalarField_ArrayData{}),
	schemapb.DataType_JSON:              reflect.TypeOf(&schemapb.ScalarField_JsonData{}),
	schemapb.DataType_BinaryVector:      reflect.TypeOf(&schemapb.VectorField_BinaryVector{}),
	schemapb.DataType_FloatVector:       reflect.TypeOf(&schemapb.VectorField_FloatVector{}),
	schemapb.DataType_Float16Vector:     reflect.TypeOf(&schemapb.VectorField_Float16Vector{}),
	schemapb.DataType_BFloat16Vector:    reflect.TypeOf(&schemapb.VectorField_Bfloat16Vector{}),
	schemapb.DataType_SparseFloatVector: reflect.TypeOf(&schemapb.VectorField_SparseFloatVector{}),
}

// kindOf reports whether data (a oneof wrapper) is what type t holds; an
// undeclared type (None) takes any kind.
func kindOf(t schemapb.DataType, data any) bool {
	want, ok := dataKinds[t]
	return t == schemapb.DataType_None || (ok && reflect.TypeOf(data) == want)
}

func kindMatches(t schemapb.DataType, data any) error {
	if v := reflect.ValueOf(data); data == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return fmt.Errorf("column of type %s has no data", t)
	}
	if !kindOf(t, data) {
		return fmt.Errorf("column of type %s holds %s", t, kindName(data))
	}
	return nil
}

// kindName names a oneof wrapper's kind, e.g. "LongData".
func kindName(data any) string {
	if data == nil {
		return "nothing"
	}
	t := reflect.TypeOf(data)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t.NumField() > 0 {
		return t.Field(0).Name
	}
	return t.Name()
}

// SameColumns checks that columns b are columns a (same names, types, data
// kinds and vector dimensions, in any order): two inserts merged into one
// call must agree, or rows would be mixed up or a column dropped.
func SameColumns(a, b []*schemapb.FieldData) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d columns, an earlier insert has %d", len(b), len(a))
	}
	byName := make(map[string]*schemapb.FieldData, len(b))
	for _, f := range b {
		byName[ColumnName(f)] = f
	}
	for _, x := range a {
		name := ColumnName(x)
		y := byName[name]
		switch {
		case y == nil:
			return fmt.Errorf("no column %s, which an earlier insert has", name)
		case x.GetType() != y.GetType():
			return fmt.Errorf("column %s is of type %s, in an earlier insert %s", name, y.GetType(), x.GetType())
		case x.GetIsDynamic() != y.GetIsDynamic():
			return fmt.Errorf("column %s is dynamic in one insert only", name)
		case x.GetScalars() != nil:
			if kx, ky := kindName(x.GetScalars().GetData()), kindName(y.GetScalars().GetData()); y.GetScalars() == nil || kx != ky {
				return fmt.Errorf("column %s holds %s, in an earlier insert %s", name, ky, kx)
			}
			if x.GetScalars().GetArrayData().GetElementType() != y.GetScalars().GetArrayData().GetElementType() {
				return fmt.Errorf("column %s: array elements of another type than in an earlier insert", name)
			}
		default:
			vx, vy := x.GetVectors(), y.GetVectors()
			if kx, ky := kindName(vx.GetData()), kindName(vy.GetData()); vy == nil || kx != ky {
				return fmt.Errorf("column %s holds %s, in an earlier insert %s", name, ky, kx)
			}
			if vx.GetDim() != vy.GetDim() {
				return fmt.Errorf("column %s: vector dimension %d, in an earlier insert %d", name, vy.GetDim(), vx.GetDim())
			}
		}
	}
	return nil
}
