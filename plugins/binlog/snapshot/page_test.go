package snapshot

import (
	"context"
	"encoding/json"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// fakeSource holds int64 keys in storage order and answers the pager's
// expressions (`id > N` or the first-page one, optionally `(...) && id <= M`)
// as Milvus 2.3 does: under a limit, the first matches in storage order
// (not the smallest keys); count(*) counts every match.
type fakeSource struct {
	keys  []int64
	exprs []string
}

func (f *fakeSource) QueryPage(_ context.Context, _, _, _, expr string, fields []string, limit int, _ uint64) ([]*schemapb.FieldData, error) {
	f.exprs = append(f.exprs, expr)
	hi := int64(1<<63 - 1)
	if i := strings.LastIndex(expr, ") && id <= "); i >= 0 {
		n, err := strconv.ParseInt(expr[i+len(") && id <= "):], 10, 64)
		if err != nil {
			return nil, err
		}
		hi, expr = n, expr[1:i]
	}
	after, first := int64(-1<<63), true
	if rest, ok := strings.CutPrefix(expr, "id > "); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, err
		}
		after, first = n, false
	}
	var out []int64
	for _, k := range f.keys {
		if (first || k > after) && k <= hi && (limit <= 0 || len(out) < limit) {
			out = append(out, k)
		}
	}
	if slices.Equal(fields, []string{"count(*)"}) {
		return []*schemapb.FieldData{longs("count(*)", []int64{int64(len(out))})}, nil
	}
	return []*schemapb.FieldData{longs("id", out)}, nil
}

func longs(name string, d []int64) *schemapb.FieldData {
	return &schemapb.FieldData{FieldName: name, Type: schemapb.DataType_Int64,
		Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: d}}}}}
}

// TestPagerNeedsNoKeyOrder: keys stored out of order (a growing segment
// with upserted keys) are all read exactly once, in pages of at most
// pageCap limits, though every limited answer is in storage order.
func TestPagerNeedsNoKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	keys := rng.Perm(5000)
	src := &fakeSource{}
	for _, k := range keys {
		src.keys = append(src.keys, int64(k))
	}
	p := &Pager{Src: src, PK: &schemapb.FieldSchema{Name: "id", DataType: schemapb.DataType_Int64}, Limit: 100}
	seen := map[int64]int{}
	for !p.Done() {
		page, err := p.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if page.Rows > pageCap*100 {
			t.Fatalf("a page of %d rows, over %d", page.Rows, pageCap*100)
		}
		if page.Rows == 0 {
			continue
		}
		for _, k := range page.Fields[0].GetScalars().GetLongData().GetData() {
			seen[k]++
		}
	}
	if len(seen) != 5000 {
		t.Fatalf("%d of 5000 keys read", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("key %d read %d times", k, n)
		}
	}
}

func TestPagerReadsEveryKeyOnceAndResumes(t *testing.T) {
	src := &fakeSource{keys: []int64{-1 << 63, -5, 0, 1, 2, 3, 7, 1 << 40}}
	pk := &schemapb.FieldSchema{Name: "id", DataType: schemapb.DataType_Int64}
	p := &Pager{Src: src, PK: pk, Limit: 3}
	var got []int64
	for !p.Done() {
		page, err := p.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if page.Rows == 0 {
			continue
		}
		got = append(got, page.Fields[0].GetScalars().GetLongData().GetData()...)
		if string(page.Last) != string(p.After) {
			t.Fatalf("page last %s, pager after %s", page.Last, p.After)
		}
	}
	if !slices.Equal(got, src.keys) {
		t.Fatalf("keys %v, want %v", got, src.keys)
	}
	if !strings.Contains(src.exprs[0], "||") {
		t.Errorf("first page expression %q should take every key (MinInt64 included)", src.exprs[0])
	}
	// Resumed after key 2 (acknowledged): the rest only.
	r := &Pager{Src: src, PK: pk, Limit: 100, After: json.RawMessage("2")}
	page, err := r.Next(context.Background())
	if err != nil || !slices.Equal(page.Fields[0].GetScalars().GetLongData().GetData(), []int64{3, 7, 1 << 40}) {
		t.Fatalf("resumed page %v, %v", page.Fields, err)
	}
}

func TestAfterExpr(t *testing.T) {
	vc := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_VarChar}
	for _, c := range []struct {
		after json.RawMessage
		want  string
	}{{nil, `pk >= ""`}, {json.RawMessage(`"a\"b"`), `pk > "a\"b"`}} {
		if got, err := afterExpr(vc, c.after); err != nil || got != c.want {
			t.Errorf("afterExpr(%s) = %q, %v; want %q", c.after, got, err, c.want)
		}
	}
	if _, err := afterExpr(vc, json.RawMessage(`12`)); err == nil {
		t.Error("a number accepted as a VarChar key")
	}
	if _, err := afterExpr(&schemapb.FieldSchema{Name: "f", DataType: schemapb.DataType_Float}, nil); err == nil {
		t.Error("a Float key accepted")
	}
}
