package snapshot

import (
	"slices"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// keyAndFields returns the primary key field and the fields a page reads:
// every user field, the dynamic field `$meta` included.
func keyAndFields(cat *Catalog) (*schemapb.FieldSchema, []string) {
	var pk *schemapb.FieldSchema
	var fields []string
	for _, f := range cat.Schema.GetSchema().GetFields() {
		if f.GetFieldID() < 100 {
			continue // RowID, Timestamp
		}
		if f.GetIsPrimaryKey() {
			pk = f
		}
		fields = append(fields, f.GetName())
	}
	// DescribeCollection of 2.3 lists no dynamic field; its values are read
	// as `$meta`.
	if cat.Schema.GetSchema().GetEnableDynamicField() && !slices.Contains(fields, "$meta") {
		fields = append(fields, "$meta")
	}
	return pk, fields
}
