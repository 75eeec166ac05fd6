package workload

import (
	"fmt"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// TypesSchema is a collection with every Milvus 2.3 scalar type, arrays, a
// JSON field, a float vector, a VarChar primary key and the dynamic field.
func TypesSchema(name string) *entity.Schema {
	f := entity.NewField
	return entity.NewSchema().WithName(name).WithDescription("every field type").WithDynamicFieldEnabled(true).
		WithField(f().WithName("pk").WithDataType(entity.FieldTypeVarChar).WithMaxLength(64).WithIsPrimaryKey(true)).
		WithField(f().WithName("f_bool").WithDataType(entity.FieldTypeBool)).
		WithField(f().WithName("f_int8").WithDataType(entity.FieldTypeInt8)).
		WithField(f().WithName("f_int16").WithDataType(entity.FieldTypeInt16)).
		WithField(f().WithName("f_int32").WithDataType(entity.FieldTypeInt32)).
		WithField(f().WithName("f_int64").WithDataType(entity.FieldTypeInt64)).
		WithField(f().WithName("f_float").WithDataType(entity.FieldTypeFloat)).
		WithField(f().WithName("f_double").WithDataType(entity.FieldTypeDouble)).
		WithField(f().WithName("f_varchar").WithDataType(entity.FieldTypeVarChar).WithMaxLength(256)).
		WithField(f().WithName("f_json").WithDataType(entity.FieldTypeJSON)).
		WithField(f().WithName("f_array_int").WithDataType(entity.FieldTypeArray).WithElementType(entity.FieldTypeInt64).WithMaxCapacity(8)).
		WithField(f().WithName("f_array_str").WithDataType(entity.FieldTypeArray).WithElementType(entity.FieldTypeVarChar).WithMaxCapacity(4).WithMaxLength(32)).
		WithField(f().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(4))
}

// TypesRows builds rows first..first+n-1 for TypesSchema. Every value is a
// function of the row number (see TypesRow), so readers can check them.
// The dynamic keys "color" and "score" go into `$meta`.
func TypesRows(first, n int) []entity.Column {
	var (
		pks, varchars, colors [][]byte
		bools                 []bool
		i8                    []int8
		i16                   []int16
		i32                   []int32
		i64, scores           []int64
		f32                   []float32
		f64                   []float64
		jsons                 [][]byte
		arrInt                [][]int64
		arrStr                [][][]byte
		vecs                  [][]float32
	)
	for i := first; i < first+n; i++ {
		pks = append(pks, []byte(fmt.Sprintf("k%d", i)))
		bools = append(bools, i%2 == 0)
		i8 = append(i8, int8(i%100))
		i16 = append(i16, int16(i*3))
		i32 = append(i32, int32(i*1000))
		i64 = append(i64, int64(i)*1_000_000_007)
		f32 = append(f32, float32(i)+0.5)
		f64 = append(f64, float64(i)+0.25)
		varchars = append(varchars, []byte(fmt.Sprintf("text %d ünïcode", i)))
		jsons = append(jsons, []byte(fmt.Sprintf(`{"n":%d,"tags":["t%d"],"nested":{"ok":true}}`, i, i)))
		arrInt = append(arrInt, []int64{int64(i), int64(i + 1)})
		arrStr = append(arrStr, [][]byte{[]byte(fmt.Sprintf("a%d", i))})
		vecs = append(vecs, []float32{float32(i), float32(i) + 0.5, -float32(i), 0.25})
		colors = append(colors, []byte(fmt.Sprintf("c%d", i)))
		scores = append(scores, int64(i*10))
	}
	str := func(b [][]byte) []string {
		out := make([]string, len(b))
		for i := range b {
			out[i] = string(b[i])
		}
		return out
	}
	return []entity.Column{
		entity.NewColumnVarChar("pk", str(pks)),
		entity.NewColumnBool("f_bool", bools),
		entity.NewColumnInt8("f_int8", i8),
		entity.NewColumnInt16("f_int16", i16),
		entity.NewColumnInt32("f_int32", i32),
		entity.NewColumnInt64("f_int64", i64),
		entity.NewColumnFloat("f_float", f32),
		entity.NewColumnDouble("f_double", f64),
		entity.NewColumnVarChar("f_varchar", str(varchars)),
		entity.NewColumnJSONBytes("f_json", jsons),
		entity.NewColumnInt64Array("f_array_int", arrInt),
		entity.NewColumnVarCharArray("f_array_str", arrStr),
		entity.NewColumnFloatVector("vec", 4, vecs),
		entity.NewColumnVarChar("color", str(colors)),
		entity.NewColumnInt64("score", scores),
	}
}

// TypesRow is row i of TypesRows as the JSON format renders it (numbers as
// float64 after decoding, `$meta` keys at top level).
func TypesRow(i int) map[string]any {
	return map[string]any{
		"pk": fmt.Sprintf("k%d", i), "f_bool": i%2 == 0, "f_int8": float64(i % 100), "f_int16": float64(i * 3),
		"f_int32": float64(i * 1000), "f_int64": float64(int64(i) * 1_000_000_007), "f_float": float64(i) + 0.5,
		"f_double": float64(i) + 0.25, "f_varchar": fmt.Sprintf("text %d ünïcode", i),
		"f_json":      map[string]any{"n": float64(i), "tags": []any{fmt.Sprintf("t%d", i)}, "nested": map[string]any{"ok": true}},
		"f_array_int": []any{float64(i), float64(i + 1)}, "f_array_str": []any{fmt.Sprintf("a%d", i)},
		"vec":   []any{float64(i), float64(i) + 0.5, -float64(i), 0.25},
		"color": fmt.Sprintf("c%d", i), "score": float64(i * 10),
	}
}

// BinarySchema is a collection with an Int64 primary key and a binary vector
// of 16 bits.
func BinarySchema(name string) *entity.Schema {
	return entity.NewSchema().WithName(name).WithDescription("binary vectors").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("bvec").WithDataType(entity.FieldTypeBinaryVector).WithDim(16))
}

// BinaryRows builds rows first..first+n-1 for BinarySchema: bvec = [i, 255-i].
func BinaryRows(first, n int) []entity.Column {
	ids := make([]int64, n)
	vecs := make([][]byte, n)
	for k := 0; k < n; k++ {
		i := first + k
		ids[k] = int64(i)
		vecs[k] = []byte{byte(i), byte(255 - i)}
	}
	return []entity.Column{entity.NewColumnInt64("id", ids), entity.NewColumnBinaryVector("bvec", 16, vecs)}
}

// AutoIDSchema is a collection whose Int64 primary key Milvus generates, with
// an Int64 partition key: the copy must keep the generated keys and the
// partition-key partitions.
func AutoIDSchema(name string) *entity.Schema {
	return entity.NewSchema().WithName(name).WithDescription("auto ids, partition key").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true).WithIsAutoID(true)).
		WithField(entity.NewField().WithName("tenant").WithDataType(entity.FieldTypeInt64).WithIsPartitionKey(true)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(8))
}

// AutoIDRows builds n rows for AutoIDSchema (no key column).
func AutoIDRows(n int) []entity.Column {
	tenants := make([]int64, n)
	vecs := make([][]float32, n)
	for i := range tenants {
		tenants[i] = int64(i % 7)
		vecs[i] = []float32{float32(i), 1, 2, 3, 4, 5, 6, float32(-i)}
	}
	return []entity.Column{entity.NewColumnInt64("tenant", tenants), entity.NewColumnFloatVector("vec", 8, vecs)}
}
