package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// jsonText is the value of a JSON field or of the dynamic field `$meta`; it
// is compared semantically, not byte for byte.
type jsonText []byte

// columnValues turns a result column into one comparable value per row:
// bool, int64 (every integer width), float32, float64, string, jsonText,
// []float32 (float vector), []byte (binary and 16-bit float vectors), or a
// slice of those element types (arrays).
func columnValues(col entity.Column) ([]any, error) {
	switch c := col.(type) {
	case *entity.ColumnBool:
		return anys(c.Data()), nil
	case *entity.ColumnInt8:
		return ints(c.Data()), nil
	case *entity.ColumnInt16:
		return ints(c.Data()), nil
	case *entity.ColumnInt32:
		return ints(c.Data()), nil
	case *entity.ColumnInt64:
		return anys(c.Data()), nil
	case *entity.ColumnFloat:
		return anys(c.Data()), nil
	case *entity.ColumnDouble:
		return anys(c.Data()), nil
	case *entity.ColumnVarChar:
		return anys(c.Data()), nil
	case *entity.ColumnString:
		return anys(c.Data()), nil
	case *entity.ColumnJSONBytes:
		out := make([]any, c.Len())
		for i, b := range c.Data() {
			out[i] = jsonText(b)
		}
		return out, nil
	case *entity.ColumnFloatVector:
		return anys(c.Data()), nil
	case *entity.ColumnBinaryVector:
		return anys(c.Data()), nil
	case *entity.ColumnFloat16Vector:
		return anys(c.Data()), nil
	case *entity.ColumnBFloat16Vector:
		return anys(c.Data()), nil
	case *entity.ColumnBoolArray:
		return anys(c.Data()), nil
	case *entity.ColumnInt8Array:
		return intArrays(c.Data()), nil
	case *entity.ColumnInt16Array:
		return intArrays(c.Data()), nil
	case *entity.ColumnInt32Array:
		return intArrays(c.Data()), nil
	case *entity.ColumnInt64Array:
		return anys(c.Data()), nil
	case *entity.ColumnFloatArray:
		return anys(c.Data()), nil
	case *entity.ColumnDoubleArray:
		return anys(c.Data()), nil
	case *entity.ColumnVarCharArray:
		out := make([]any, c.Len())
		for i, row := range c.Data() {
			strs := make([]string, len(row))
			for j, b := range row {
				strs[j] = string(b)
			}
			out[i] = strs
		}
		return out, nil
	case nil:
		return nil, errors.New("column missing from the result")
	}
	// Any other type (e.g. sparse vectors, not in 2.3): the SDK's own values,
	// compared with reflect.DeepEqual.
	out := make([]any, col.Len())
	for i := range out {
		v, err := col.Get(i)
		if err != nil {
			return nil, fmt.Errorf("column %q row %d: %w", col.Name(), i, err)
		}
		out[i] = v
	}
	return out, nil
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func ints[T int8 | int16 | int32](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

func intArrays[T int8 | int16 | int32](rows [][]T) []any {
	out := make([]any, len(rows))
	for i, row := range rows {
		r := make([]int64, len(row))
		for j, x := range row {
			r[j] = int64(x)
		}
		out[i] = r
	}
	return out
}

// valuesEqual compares two values from columnValues: floats and float
// vectors bit for bit (any NaN equals any NaN; -0 and +0 differ), JSON
// semantically, everything else exactly.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && sameFloat32(x, y)
	case float64:
		y, ok := b.(float64)
		return ok && sameFloat64(x, y)
	case []float32:
		y, ok := b.([]float32)
		return ok && firstFloatDiff(x, y, sameFloat32) < 0
	case []float64:
		y, ok := b.([]float64)
		return ok && firstFloatDiff(x, y, sameFloat64) < 0
	case jsonText:
		y, ok := b.(jsonText)
		return ok && jsonEqual(x, y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return reflect.DeepEqual(a, b)
}

func sameFloat32(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (math.IsNaN(float64(a)) && math.IsNaN(float64(b)))
}

func sameFloat64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// firstFloatDiff returns the index of the first element that differs (the
// shorter length when one is a prefix of the other), or -1.
func firstFloatDiff[F float32 | float64](a, b []F, same func(F, F) bool) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if !same(a[i], b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// jsonEqual compares two JSON documents by value: key order, spacing and
// number spelling (1, 1.0, 1e0) do not matter. Empty input is null. If
// either side is not valid JSON, the bytes must be equal.
func jsonEqual(a, b []byte) bool {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return jsonValueEqual(va, vb)
}

func decodeJSON(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers exact: int64 keys beyond 2^53 must not collapse
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func jsonValueEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonValueEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonValueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numbersEqual(x, y)
	}
	return a == b // string, bool or nil
}

// numbersEqual compares JSON numbers as exact rationals.
func numbersEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	ra, okA := new(big.Rat).SetString(string(a))
	rb, okB := new(big.Rat).SetString(string(b))
	return okA && okB && ra.Cmp(rb) == 0
}
