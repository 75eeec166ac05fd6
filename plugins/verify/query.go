package verify

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// maxQueryWindow is Milvus 2.3's cap on offset+limit of one query.
const maxQueryWindow = 16384

// key is a primary key value.
type key interface{ int64 | string }

// literal writes k as a literal of a Milvus boolean expression. strconv.Quote's
// escapes (\" \\ \t \u00e9 ...) are the ones the 2.3 expression parser reads.
func literal[K key](k K) string {
	switch v := any(k).(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return strconv.Quote(v)
	}
	return ""
}

// keyRange is the keys lo <= k < hi; a nil bound is open.
type keyRange[K key] struct{ lo, hi *K }

func (r keyRange[K]) expr(field string) string {
	var parts []string
	if r.lo != nil {
		parts = append(parts, fmt.Sprintf("%s >= %s", field, literal(*r.lo)))
	}
	if r.hi != nil {
		parts = append(parts, fmt.Sprintf("%s < %s", field, literal(*r.hi)))
	}
	if len(parts) > 0 {
		return strings.Join(parts, " && ")
	}
	var zero K
	if _, ok := any(zero).(int64); ok {
		// Every key. The literal -9223372036854775808 does not parse in
		// Milvus 2.3 (it negates 9223372036854775808, which overflows), so
		// MinInt64 itself is matched by the `<`.
		return fmt.Sprintf("%s >= -9223372036854775807 || %s < -9223372036854775807", field, field)
	}
	return fmt.Sprintf(`%s >= ""`, field)
}

// consistency makes a query see every write acknowledged before it (Strong),
// or before q.guarantee when set. Both are equally strict, but in 2.3 each
// Strong query waits for the next time tick (~200 ms), while a query with a
// fixed timestamp waits only until the first one is served.
func (q collQuery) consistency() []client.SearchQueryOptionFunc {
	if q.guarantee == 0 {
		return []client.SearchQueryOptionFunc{client.WithSearchQueryConsistencyLevel(entity.ClStrong)}
	}
	return []client.SearchQueryOptionFunc{
		client.WithSearchQueryConsistencyLevel(entity.ClCustomized),
		client.WithGuaranteeTimestamp(q.guarantee),
	}
}

// withGuarantee returns q with its guarantee timestamp set to the server's
// current timestamp, or unchanged (Strong) if the server cannot allocate one.
func (q collQuery) withGuarantee(ctx context.Context, logf func(string, ...any)) collQuery {
	gc, ok := q.c.(*client.GrpcClient)
	if !ok || gc.Service == nil {
		return q
	}
	resp, err := gc.Service.AllocTimestamp(ctx, &milvuspb.AllocTimestampRequest{})
	if err == nil && contract.StatusOK(resp.GetStatus()) && resp.GetTimestamp() != 0 {
		q.guarantee = resp.GetTimestamp()
		return q
	}
	logf("verify: %s %s: no timestamp from AllocTimestamp (%v %s), querying with Strong consistency",
		q.s.name, q.s.addr, err, resp.GetStatus().GetReason())
	return q
}

// count runs count(*) on expr ("" = all rows) in partitions (nil = all).
func (q collQuery) count(ctx context.Context, expr string, partitions []string) (int64, error) {
	rs, err := q.c.Query(ctx, q.coll, partitions, expr, []string{"count(*)"}, q.consistency()...)
	if err != nil {
		return 0, q.s.errorf(err, "count rows of %s.%s %v where %q", q.db, q.coll, partitions, expr)
	}
	col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || col.Len() != 1 {
		return 0, q.s.errorf(fmt.Errorf("unexpected result %v", rs), "count rows of %s.%s", q.db, q.coll)
	}
	return col.Data()[0], nil
}

// queryKeys returns the keys matching expr in q's partitions (limit 0 = all
// of them).
func queryKeys[K key](ctx context.Context, q collQuery, field, expr string, limit int64) ([]K, error) {
	opts := q.consistency()
	if limit > 0 {
		opts = append(opts, client.WithLimit(limit))
	}
	rs, err := q.c.Query(ctx, q.coll, q.parts, expr, []string{field}, opts...)
	if err != nil {
		return nil, q.s.errorf(err, "query keys of %s where %q", q.where(), expr)
	}
	ks, err := keysOf[K](rs.GetColumn(field))
	if err != nil {
		return nil, q.s.errorf(err, "query keys of %s", q.where())
	}
	return ks, nil
}

// keysOf returns the values of a primary key column.
func keysOf[K key](col entity.Column) ([]K, error) {
	var data any
	switch c := col.(type) {
	case *entity.ColumnInt64:
		data = c.Data()
	case *entity.ColumnVarChar:
		data = c.Data()
	case *entity.ColumnString:
		data = c.Data()
	case nil:
		return nil, fmt.Errorf("primary key column missing from the result")
	}
	ks, ok := data.([]K)
	if !ok {
		return nil, fmt.Errorf("primary key column %q has type %T", col.Name(), col)
	}
	return ks, nil
}

// listKeys returns every primary key in q's partitions, sorted (a query
// returns a key once, even if several rows hold it). A query
// without a limit may return any number of rows in 2.3, but one answer must
// fit the proxy's output size limit, so a key range holding more than
// maxPerQuery rows is split in two (see splitPoint). Paging with offset/limit
// is no way out: 2.3 caps offset+limit at 16384, and `pk > last` with a limit
// is not ordered by key across segments, so it can skip keys.
func listKeys[K key](ctx context.Context, q collQuery, field string, maxPerQuery int) ([]K, error) {
	var out []K
	todo := []keyRange[K]{{}}
	for len(todo) > 0 {
		r := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		expr := r.expr(field)
		n, err := q.count(ctx, expr, q.parts)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		var mid *K
		if n > int64(maxPerQuery) {
			if mid, err = splitPoint(ctx, q, field, r, maxPerQuery); err != nil {
				return nil, err
			}
		}
		if mid == nil {
			ks, err := queryKeys[K](ctx, q, field, expr, 0)
			if err != nil {
				return nil, err
			}
			out = append(out, ks...)
			continue
		}
		todo = append(todo, keyRange[K]{lo: r.lo, hi: mid}, keyRange[K]{lo: mid, hi: r.hi})
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// splitPoint returns where to split range r, or nil if it cannot be split.
// Int64 ranges are halved by value, which takes at most 64 halvings however
// the keys are spread. VarChar ranges are split at the median of a sample of
// their keys, so both halves hold keys and splitting progresses; as 2.3
// returns a limited query in segment order, not key order, keys inserted in
// ascending order make the sample the range's smallest keys, and the split
// lopsided (slower, still correct).
func splitPoint[K key](ctx context.Context, q collQuery, field string, r keyRange[K], maxPerQuery int) (*K, error) {
	if ir, ok := any(r).(keyRange[int64]); ok {
		m, ok := midpoint(ir)
		if !ok {
			return nil, nil
		}
		k := any(m).(K)
		return &k, nil
	}
	sample, err := queryKeys[K](ctx, q, field, r.expr(field), int64(min(maxPerQuery, maxQueryWindow)))
	if err != nil {
		return nil, err
	}
	sort.Slice(sample, func(i, j int) bool { return sample[i] < sample[j] })
	mid := sample[len(sample)/2:]
	if len(mid) == 0 || mid[0] == sample[0] {
		return nil, nil
	}
	return &mid[0], nil
}

// midpoint is the middle of an int64 range (open bounds are the int64
// limits); false when the range holds fewer than two values.
func midpoint(r keyRange[int64]) (int64, bool) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if r.lo != nil {
		lo = *r.lo
	}
	if r.hi != nil {
		hi = *r.hi
	}
	if hi <= lo {
		return 0, false
	}
	// Unsigned arithmetic: hi-lo may exceed MaxInt64.
	d := uint64(hi) - uint64(lo)
	m := int64(uint64(lo) + d/2)
	return m, m > lo
}

// fetchBudget bounds the estimated size of one fetch answer, well below the
// gRPC message and query output limits of Milvus 2.3.
const fetchBudget = 16 << 20

// rowsPerFetch is how many rows of schema s fit the fetch budget (at least
// one, at most limit), estimated from the declared sizes: vector dims,
// VarChar max_length, array max_capacity; JSON has no declared size and
// counts 1 KiB.
func rowsPerFetch(s *entity.Schema, limit int) int {
	size := 64 // the key and per-row overhead
	for _, f := range s.Fields {
		dim, _ := strconv.Atoi(f.TypeParams[entity.TypeParamDim])
		maxLen, _ := strconv.Atoi(f.TypeParams[entity.TypeParamMaxLength])
		capacity, _ := strconv.Atoi(f.TypeParams[entity.TypeParamMaxCapacity])
		switch f.DataType {
		case entity.FieldTypeFloatVector:
			size += 4 * dim
		case entity.FieldTypeFloat16Vector, entity.FieldTypeBFloat16Vector:
			size += 2 * dim
		case entity.FieldTypeBinaryVector:
			size += dim / 8
		case entity.FieldTypeVarChar:
			size += maxLen
		case entity.FieldTypeArray:
			size += capacity * max(maxLen, 8)
		case entity.FieldTypeJSON:
			size += 1024
		default:
			size += 8
		}
	}
	if s.EnableDynamicField {
		size += 1024
	}
	return max(1, min(limit, fetchBudget/size))
}

// fetchRows queries the rows with keys ks in q's partitions, with the given
// output fields.
func fetchRows[K key](ctx context.Context, q collQuery, field string, ks []K, output []string) (client.ResultSet, error) {
	lits := make([]string, len(ks))
	for i, k := range ks {
		lits[i] = literal(k)
	}
	expr := fmt.Sprintf("%s in [%s]", field, strings.Join(lits, ","))
	rs, err := q.c.Query(ctx, q.coll, q.parts, expr, output, q.consistency()...)
	if err != nil {
		return nil, q.s.errorf(err, "fetch %d rows of %s", len(ks), q.where())
	}
	return rs, nil
}
