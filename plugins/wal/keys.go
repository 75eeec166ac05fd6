package wal

import (
	"strconv"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// MaxKeysPerExpr bounds the keys of one `pk in [...]` expression.
const MaxKeysPerExpr = 4096

// DeletePKs returns the primary keys of a delete: PrimaryKeys (field 12), or
// the legacy Int64PrimaryKeys when it is unset.
func DeletePKs(req *msgpb.DeleteRequest) (ints []int64, strs []string) {
	if ids := req.GetPrimaryKeys(); ids != nil {
		return ids.GetIntId().GetData(), ids.GetStrId().GetData()
	}
	return req.GetInt64PrimaryKeys(), nil
}

// PKValues returns the values of the column named pkName (int64 or VarChar).
func PKValues(fields []*schemapb.FieldData, pkName string) (ints []int64, strs []string, ok bool) {
	for _, f := range fields {
		if f.GetFieldName() == pkName {
			return f.GetScalars().GetLongData().GetData(), f.GetScalars().GetStringData().GetData(), true
		}
	}
	return nil, nil, false
}

// KeyExprs builds `pk in [...]` expressions of at most MaxKeysPerExpr
// keys each.
func KeyExprs(pk string, ints []int64, strs []string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, pk+" in ["+b.String()+"]")
			b.Reset()
		}
	}
	n := 0
	add := func(lit string) {
		if n > 0 && n%MaxKeysPerExpr == 0 {
			flush()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(lit)
		n++
	}
	for _, k := range ints {
		add(strconv.FormatInt(k, 10))
	}
	for _, k := range strs {
		add(QuoteString(k))
	}
	flush()
	return out
}

// QuoteString quotes a VarChar key for a Milvus boolean expression.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
