package verify

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// fakeRow is a row of fakeSchema.
type fakeRow struct {
	id    int64
	title string
}

// fakeMilvus answers the queries of compareUnits the way Milvus 2.3.5 does:
// count(*) counts rows, a query returns each primary key once (the first
// row holding it, partitions in name order). Other calls are not expected
// (the embedded nil Client).
type fakeMilvus struct {
	client.Client
	parts map[string][]fakeRow
}

func (f *fakeMilvus) Query(_ context.Context, _ string, parts []string, expr string, out []string,
	_ ...client.SearchQueryOptionFunc) (client.ResultSet, error) {
	if len(parts) == 0 {
		parts = sortedKeys(f.parts)
	}
	var rows []fakeRow
	for _, p := range parts {
		rs, ok := f.parts[p]
		if !ok {
			return nil, fmt.Errorf("partition %q not found", p)
		}
		rows = append(rows, rs...)
	}
	if len(out) == 1 && out[0] == "count(*)" {
		return client.ResultSet{entity.NewColumnInt64("count(*)", []int64{int64(len(rows))})}, nil
	}
	// Key listings ask for every key; fetches for `id in [...]`.
	var in map[int64]bool
	if _, list, ok := strings.Cut(expr, " in ["); ok {
		in = map[int64]bool{}
		for _, lit := range strings.Split(strings.TrimSuffix(list, "]"), ",") {
			k, err := strconv.ParseInt(lit, 10, 64)
			if err != nil {
				return nil, err
			}
			in[k] = true
		}
	}
	seen := map[int64]bool{}
	var ids []int64
	var titles []string
	for _, r := range rows {
		if seen[r.id] || (in != nil && !in[r.id]) {
			continue
		}
		seen[r.id] = true
		ids, titles = append(ids, r.id), append(titles, r.title)
	}
	var rs client.ResultSet
	for _, f := range out {
		switch f {
		case "id":
			rs = append(rs, entity.NewColumnInt64("id", ids))
		case "title":
			rs = append(rs, entity.NewColumnVarChar("title", titles))
		default:
			return nil, fmt.Errorf("no field %q", f)
		}
	}
	return rs, nil
}

var fakeSchema = entity.NewSchema().WithName("c").
	WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
	WithField(entity.NewField().WithName("title").WithDataType(entity.FieldTypeVarChar).WithMaxLength(16))

// compareFake runs compareUnits on the two fakes and returns the
// differences ("kind|detail", sorted) and the notes.
func compareFake(t *testing.T, src, tgt map[string][]fakeRow, byPartition bool) (diffs, notes []string) {
	t.Helper()
	rep := &Report{}
	v := &verifier{opts: Options{KeysPerQuery: 1000, RowsPerFetch: 1000, Logf: t.Logf}, rep: rep}
	coll := &entity.Collection{Schema: fakeSchema}
	var parts []string
	if byPartition {
		for _, p := range sortedKeys(src) {
			if _, ok := tgt[p]; ok {
				parts = append(parts, p)
			}
		}
	}
	j := &rowJob{
		cd:  &collDiffs{rep: rep, db: "d", coll: "c", max: -1},
		sum: &CollectionSummary{}, sColl: coll, tColl: coll, parts: parts, byPartition: byPartition,
	}
	sq := collQuery{s: &side{name: "source"}, c: &fakeMilvus{parts: src}, db: "d", coll: "c"}
	tq := collQuery{s: &side{name: "target"}, c: &fakeMilvus{parts: tgt}, db: "d", coll: "c"}
	if err := v.compareUnits(context.Background(), j, sq, tq, fakeSchema.PKField()); err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Diffs {
		diffs = append(diffs, d.Kind+"|"+d.Detail)
	}
	sort.Strings(diffs)
	for _, n := range rep.Notes {
		notes = append(notes, n.Detail)
	}
	if rep.DiffCount != len(diffs) {
		t.Errorf("%d differences counted, %d listed", rep.DiffCount, len(diffs))
	}
	return diffs, notes
}

func checkDiffs(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: got\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestKeyInTwoPartitions: key 1 is in p1 and p2 on the source (an upsert
// into p2 keeps the row in p1), in p1 only on the target. A query over both
// partitions returns key 1 once on both sides; p2's key set shows it.
func TestKeyInTwoPartitions(t *testing.T) {
	src := map[string][]fakeRow{"_default": nil, "p1": {{1, "a"}, {2, "b"}}, "p2": {{1, "a"}}}
	tgt := map[string][]fakeRow{"_default": nil, "p1": {{1, "a"}, {2, "b"}}, "p2": nil}
	diffs, _ := compareFake(t, src, tgt, true)
	checkDiffs(t, "by partition", diffs, []string{
		`missing_row|partition "p2": pk 1 is missing on the target`,
		`row_count|partition "p2" row count: source 1, target 0`,
		`row_count|row count: source 3, target 2`,
	})
	// As a whole the key sets are equal; the count difference stays one.
	diffs, _ = compareFake(t, src, tgt, false)
	checkDiffs(t, "whole collection", diffs, []string{`row_count|row count: source 3, target 2`})
}

// TestValueInOtherPartition: key 1 has another title in p2 than in p1 on
// the source; the target's p2 holds p1's. Only a comparison by partition
// compares the row of p2.
func TestValueInOtherPartition(t *testing.T) {
	src := map[string][]fakeRow{"p1": {{1, "a"}}, "p2": {{1, "b"}, {3, "c"}}}
	tgt := map[string][]fakeRow{"p1": {{1, "a"}}, "p2": {{1, "a"}, {4, "d"}}}
	diffs, _ := compareFake(t, src, tgt, true)
	checkDiffs(t, "by partition", diffs, []string{
		`field_value|partition "p2": pk 1, field "title": source "b", target "a"`,
		`missing_row|partition "p2": pk 3 is missing on the target`,
		`extra_row|partition "p2": pk 4 exists only on the target`,
	})
}

// TestCountDifferenceOfDuplicateKeys: the source holds key 1 twice in one
// partition (an upsert that failed half-way), the target once, with the same
// values. That alone is a note (the target holds every key once); the same
// count gap with key 1 in another partition is a difference.
func TestCountDifferenceOfDuplicateKeys(t *testing.T) {
	src := map[string][]fakeRow{"_default": {{1, "a"}, {1, "a"}, {2, "b"}}}
	tgt := map[string][]fakeRow{"_default": {{1, "a"}, {2, "b"}}}
	diffs, notes := compareFake(t, src, tgt, true)
	checkDiffs(t, "by partition", diffs, nil)
	if len(notes) != 2 || !strings.HasPrefix(notes[0], "source: count(*) is 3 but 2 distinct primary keys") ||
		!strings.Contains(notes[1], "the source holds 1 rows beside another row of the same primary key") {
		t.Errorf("notes: %q", notes)
	}
	// Compared as a whole (a partition-key collection), the duplicate may sit
	// in another partition: a difference.
	diffs, _ = compareFake(t, src, tgt, false)
	checkDiffs(t, "whole collection", diffs, []string{`row_count|row count: source 3, target 2`})
	// Identical sides, duplicates included: no difference.
	if diffs, _ := compareFake(t, src, src, true); len(diffs) != 0 {
		t.Errorf("identical sides: %v", diffs)
	}
	// Key 1 also in p2 on the source only: the count gap is not explained.
	src2 := map[string][]fakeRow{"_default": {{1, "a"}, {2, "b"}}, "p2": {{1, "a"}}}
	tgt2 := map[string][]fakeRow{"_default": {{1, "a"}, {2, "b"}}, "p2": {}}
	diffs, _ = compareFake(t, src2, tgt2, true)
	if len(diffs) == 0 {
		t.Fatal("a key missing from p2 on the target gave no difference")
	}
	found := false
	for _, d := range diffs {
		found = found || strings.Contains(d, "row count: source 3, target 2")
	}
	if !found {
		t.Errorf("the collection's count difference is not reported: %v", diffs)
	}
}

func TestCountDiff(t *testing.T) {
	for _, c := range []struct {
		part string
		c    counts
		want string
	}{
		{"", counts{10, 10}, ""},
		{"", counts{12, 10}, "row count: source 12, target 10"},
		{"", counts{10, 12}, "row count: source 10, target 12"},
		{"p1", counts{1, 0}, `partition "p1" row count: source 1, target 0`},
	} {
		if got := countDiff(c.part, c.c); got != c.want {
			t.Errorf("countDiff(%q, %v) = %q, want %q", c.part, c.c, got, c.want)
		}
	}
}

func TestDiffAliases(t *testing.T) {
	if d := diffAliases([]string{"b", "a"}, []string{"a", "b"}); len(d) != 0 {
		t.Errorf("same aliases: %v", d)
	}
	if d := diffAliases(nil, nil); len(d) != 0 {
		t.Errorf("no aliases: %v", d)
	}
	got := diffAliases([]string{"a", "c", "b"}, []string{"b", "z", "d"})
	want := []string{
		`alias "a" is missing on the target`,
		`alias "c" is missing on the target`,
		`alias "d" exists only on the target`,
		`alias "z" exists only on the target`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDiffProperties(t *testing.T) {
	s := map[string]string{"collection.ttl.seconds": "60", "only.source": "1", "same": "x"}
	tg := map[string]string{
		"collection.ttl.seconds": "120", "only.target": "2", "same": "x",
		"milvus_cdc.source_collection_id": "4711", "milvus_cdc.replication": "r1",
	}
	got := diffProperties(s, tg)
	want := []string{
		`collection.ttl.seconds: source "60", target "120"`,
		`only.source: missing on the target (source "1")`,
		`only.target: only on the target ("2")`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	if d := diffProperties(map[string]string{"a": "1"}, map[string]string{"a": "1", "milvus_cdc.replication": "r"}); len(d) != 0 {
		t.Errorf("replicator tags reported: %v", d)
	}
}
