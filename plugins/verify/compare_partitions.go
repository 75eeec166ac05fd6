package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// units are what the key sets and values are compared by: each partition
// present on both sides, or "" (the whole collection) for a collection with
// a partition key field.
//
// One partition at a time, because Milvus 2.3.5 lets one primary key live in
// several partitions of a collection: Insert and Upsert are partition-scoped
// (an upsert into p2 keeps the key's row in p1), and a query over several
// partitions returns such a key once. Whole-collection key sets of a source
// with key 1 in p1 and p2 and a target with key 1 in p1 only are equal; the
// key sets of p2 are not.
//
// A partition-key collection is compared as a whole: Milvus places its rows
// in its many partitions itself and refuses queries naming them. A key held
// twice there still shows as a count difference (count(*) counts rows, not
// keys).
func (j *rowJob) units() []string {
	if !j.byPartition {
		return []string{""}
	}
	return j.parts
}

// unitLabel starts a message about unit part: `partition "p": ` when the
// collection is compared by partition and has several, else nothing.
func (j *rowJob) unitLabel(part string) string {
	if part == "" || len(j.parts) < 2 {
		return ""
	}
	return fmt.Sprintf("partition %q: ", part)
}

// compareUnits compares the row counts, then the key sets and values of each
// unit. pk is the primary key field (Int64 or VarChar) of both sides.
func (v *verifier) compareUnits(ctx context.Context, j *rowJob, sq, tq collQuery, pk *entity.Field) error {
	if err := v.compareCounts(ctx, j, sq, tq); err != nil {
		return err
	}
	fields := comparableFields(j.sColl.Schema, j.tColl.Schema)
	for _, part := range j.units() {
		var err error
		if pk.DataType == entity.FieldTypeInt64 {
			err = compareKeyed[int64](ctx, v, j, sq.in(part), tq.in(part), part, pk.Name, fields)
		} else {
			err = compareKeyed[string](ctx, v, j, sq.in(part), tq.in(part), part, pk.Name, fields)
		}
		if err != nil {
			return err
		}
	}
	if w := j.whole; w.s != w.t {
		if !j.countBad && w.s-w.t == j.dupExcess {
			j.cd.note("row count: source %d, target %d: the source holds %d rows beside another row of the same primary key in the same partition "+
				"(an upsert that failed half-way, or a key inserted twice); the target holds every key once, with the same values", w.s, w.t, j.dupExcess)
		} else {
			j.cd.meta(KindRowCount, "%s", countDiff("", w))
		}
	}
	return nil
}

// unitCounts judges the count difference of one unit once its key sets are
// known. It is explained only when the key sets are equal, the target holds
// each key once and the source's excess is exactly its rows sharing a key
// within the unit; a key in another partition never explains it (the units
// are partitions; a whole-collection unit never explains a gap).
func (j *rowJob) unitCounts(part string, c counts, sKeys, tKeys, common int) {
	if c.s == c.t {
		return
	}
	// A whole-collection unit (a partition-key collection) lists a key held
	// in two of its partitions once: nothing explains its gap.
	if part != "" && sKeys == tKeys && common == sKeys && c.t == int64(tKeys) && c.s > c.t {
		j.dupExcess += c.s - c.t
		return
	}
	j.countBad = true
	if part != "" && len(j.parts) >= 2 {
		j.cd.meta(KindRowCount, "%s", countDiff(part, c))
	}
}

// compareCounts takes count(*) of the collection and of each unit; the
// differences are judged once the units' keys are known (unitCounts). A
// key in two partitions counts in both: each partition's keys and rows are
// compared on their own.
func (v *verifier) compareCounts(ctx context.Context, j *rowJob, sq, tq collQuery) error {
	countBoth := func(parts []string) (c counts, err error) {
		err = both(func() (err error) {
			c.s, err = sq.count(ctx, "", parts)
			return err
		}, func() (err error) {
			c.t, err = tq.count(ctx, "", parts)
			return err
		})
		return c, err
	}
	whole, err := countBoth(nil)
	if err != nil {
		return err
	}
	j.sum.SourceRows, j.sum.TargetRows = whole.s, whole.t
	j.counts, j.whole = map[string]counts{}, whole
	for _, part := range j.units() {
		if part == "" {
			j.counts[part] = whole
			continue
		}
		c, err := countBoth([]string{part})
		if err != nil {
			return err
		}
		j.counts[part] = c
	}
	return nil
}

// countDiff describes a count difference of partition part ("" = the
// collection); "" when the counts are equal.
func countDiff(part string, c counts) string {
	switch {
	case c.s == c.t:
		return ""
	case part == "":
		return fmt.Sprintf("row count: source %d, target %d", c.s, c.t)
	}
	return fmt.Sprintf("partition %q row count: source %d, target %d", part, c.s, c.t)
}

// compareKeyed compares the key sets of unit part (see units), then the
// rows with common keys, a chunk of keys at a time from both sides at once.
// Only the keys of one unit are held at a time.
func compareKeyed[K key](ctx context.Context, v *verifier, j *rowJob, sq, tq collQuery, part, pk string, fields []string) error {
	start := time.Now()
	var sKeys, tKeys []K
	err := both(func() (err error) {
		sKeys, err = listKeys[K](ctx, sq, pk, v.opts.KeysPerQuery)
		return err
	}, func() (err error) {
		tKeys, err = listKeys[K](ctx, tq, pk, v.opts.KeysPerQuery)
		return err
	})
	if err != nil {
		return err
	}
	in := j.unitLabel(part)
	c := j.counts[part]
	for _, n := range keyCountNotes(c, len(sKeys), len(tKeys)) {
		j.cd.note("%s%s", in, n)
	}
	common := mergeKeys(j.cd, in, sKeys, tKeys)
	j.unitCounts(part, c, len(sKeys), len(tKeys), len(common))
	v.opts.Logf("verify: %s: %d source keys, %d target keys, %d in common (%s); comparing values",
		sq.where(), len(sKeys), len(tKeys), len(common), time.Since(start).Round(time.Millisecond))

	per := rowsPerFetch(j.sColl.Schema, v.opts.RowsPerFetch)
	for lo := 0; lo < len(common); lo += per {
		chunk := common[lo:min(lo+per, len(common))]
		var sRows, tRows rowSet[K]
		err := both(func() error {
			rs, err := fetchRows(ctx, sq, pk, chunk, fields)
			if err == nil {
				sRows, err = indexRows[K](sq, rs, pk, fields)
			}
			return err
		}, func() error {
			rs, err := fetchRows(ctx, tq, pk, chunk, fields)
			if err == nil {
				tRows, err = indexRows[K](tq, rs, pk, fields)
			}
			return err
		})
		if err != nil {
			return err
		}
		compareChunk(j.cd, in, chunk, fields, sRows, tRows)
		j.sum.RowsCompared += int64(len(chunk))
	}
	return nil
}

// keyCountNotes notes a side whose count(*) is not its number of distinct
// keys (rows sharing a key, or writes during the run). They are facts, not
// explanations: the counts and the key sets are compared on their own.
func keyCountNotes(c counts, sKeys, tKeys int) []string {
	var out []string
	for _, s := range []struct {
		name  string
		count int64
		keys  int
	}{{"source", c.s, sKeys}, {"target", c.t, tKeys}} {
		if s.count != int64(s.keys) {
			out = append(out, fmt.Sprintf("%s: count(*) is %d but %d distinct primary keys were listed "+
				"(rows sharing a primary key, or writes during the run)", s.name, s.count, s.keys))
		}
	}
	return out
}
