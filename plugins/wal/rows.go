package wal

import (
	"encoding/json"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// RowsFromFields turns column-based FieldsData into one map per row. The
// dynamic field (`$meta`) is expanded into the row's keys.
func RowsFromFields(fields []*schemapb.FieldData, n int) ([]map[string]any, error) {
	// The row count comes from the message: check it against the columns
	// before allocating for it (a corrupt count must not exhaust memory).
	if n < 0 || (n > 0 && len(fields) == 0) {
		return nil, fmt.Errorf("%d rows in %d columns", n, len(fields))
	}
	if err := CheckColumns(fields, uint64(n)); err != nil {
		return nil, err
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{}
	}
	for _, f := range fields {
		name := ColumnName(f)
		dynamic := f.GetIsDynamic() || name == "$meta"
		for i := 0; i < n; i++ {
			v, err := fieldValue(f, i)
			if err != nil {
				return nil, fmt.Errorf("field %s row %d: %w", name, i, err)
			}
			if dynamic {
				if raw, ok := v.(json.RawMessage); ok {
					var extra map[string]any
					if err := json.Unmarshal(raw, &extra); err == nil {
						for k, x := range extra {
							if _, taken := rows[i][k]; !taken {
								rows[i][k] = x
							}
						}
						continue
					}
				}
			}
			rows[i][name] = v
		}
	}
	return rows, nil
}

// fieldValue returns row i of a column as a JSON-friendly value.
func fieldValue(f *schemapb.FieldData, i int) (any, error) {
	if s := f.GetScalars(); s != nil {
		return scalarValue(s, i)
	}
	if v := f.GetVectors(); v != nil {
		w, err := RowWidth(v)
		if err != nil {
			return nil, err
		}
		switch d := v.GetData().(type) {
		case *schemapb.VectorField_FloatVector:
			data := d.FloatVector.GetData()
			if i >= len(data)/w { // division: no product to overflow
				return nil, fmt.Errorf("float vector data too short")
			}
			return data[i*w : (i+1)*w], nil
		case *schemapb.VectorField_BinaryVector:
			if i >= len(d.BinaryVector)/w {
				return nil, fmt.Errorf("binary vector data too short")
			}
			// As an array of bytes (not []byte, which JSON would render as base64).
			out := make([]int, w)
			for j, b := range d.BinaryVector[i*w : (i+1)*w] {
				out[j] = int(b)
			}
			return out, nil
		}
		return nil, fmt.Errorf("unsupported vector type")
	}
	return nil, fmt.Errorf("column of type %s has no data", f.GetType())
}

func scalarValue(s *schemapb.ScalarField, i int) (any, error) {
	switch {
	case s.GetBoolData() != nil:
		return at(s.GetBoolData().GetData(), i)
	case s.GetIntData() != nil:
		return at(s.GetIntData().GetData(), i)
	case s.GetLongData() != nil:
		return at(s.GetLongData().GetData(), i)
	case s.GetFloatData() != nil:
		return at(s.GetFloatData().GetData(), i)
	case s.GetDoubleData() != nil:
		return at(s.GetDoubleData().GetData(), i)
	case s.GetStringData() != nil:
		return at(s.GetStringData().GetData(), i)
	case s.GetJsonData() != nil:
		v, err := at(s.GetJsonData().GetData(), i)
		if err != nil {
			return nil, err
		}
		b := v.([]byte)
		if !json.Valid(b) {
			return string(b), nil
		}
		return json.RawMessage(b), nil
	case s.GetArrayData() != nil:
		v, err := at(s.GetArrayData().GetData(), i)
		if err != nil {
			return nil, err
		}
		return arrayValues(v.(*schemapb.ScalarField))
	}
	return nil, fmt.Errorf("empty scalar column")
}

// at returns d[i], or an error when the column is shorter than the row count.
func at[T any](d []T, i int) (any, error) {
	if i >= len(d) {
		return nil, fmt.Errorf("column has %d values, row %d asked", len(d), i)
	}
	return d[i], nil
}

func arrayValues(s *schemapb.ScalarField) (any, error) {
	switch {
	case s.GetBoolData() != nil:
		return s.GetBoolData().GetData(), nil
	case s.GetIntData() != nil:
		return s.GetIntData().GetData(), nil
	case s.GetLongData() != nil:
		return s.GetLongData().GetData(), nil
	case s.GetFloatData() != nil:
		return s.GetFloatData().GetData(), nil
	case s.GetDoubleData() != nil:
		return s.GetDoubleData().GetData(), nil
	case s.GetStringData() != nil:
		return s.GetStringData().GetData(), nil
	}
	return []any{}, nil
}
