package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// dynamicField is the hidden JSON field of a collection with the dynamic
// field enabled. Milvus 2.3 does not list it in the schema, and a query
// returns it only when it is asked for by name (or with "*").
const dynamicField = "$meta"

// rowJob is the row comparison of one collection.
type rowJob struct {
	pair         dbPair
	name         string
	cd           *collDiffs
	sum          *CollectionSummary
	sColl, tColl *entity.Collection
	sLoad, tLoad loadInfo
	parts        []string // partitions on both sides
	// countsDiffer: count(*) differs; compareKeyed reports it once the keys
	// tell whether duplicate keys on the source explain it.
	countsDiffer bool
}

// compareRows compares row counts, primary key sets and every field value.
// Milvus queries only loaded collections: what is not loaded is loaded for
// the comparison and released afterwards; what cannot be loaded (no index)
// is skipped with a note.
func (v *verifier) compareRows(ctx context.Context, j *rowJob) error {
	sq, err := v.query(ctx, v.src, j.pair.src, j.name)
	if err != nil {
		return err
	}
	tq, err := v.query(ctx, v.tgt, j.pair.tgt, j.name)
	if err != nil {
		return err
	}
	sp, tp := j.sColl.Schema.PKField(), j.tColl.Schema.PKField()
	if sp == nil || tp == nil || sp.Name != tp.Name || sp.DataType != tp.DataType {
		j.cd.note("rows not compared: the primary keys differ (see the schema differences)")
		return nil
	}
	if sp.DataType != entity.FieldTypeInt64 && sp.DataType != entity.FieldTypeVarChar {
		j.cd.note("rows not compared: primary key type %s is not supported", sp.DataType.Name())
		return nil
	}

	var sRestore, tRestore func()
	var sWhy, tWhy string
	err = both(func() (err error) {
		sRestore, sWhy, err = v.makeQueryable(ctx, sq, j.sColl, j.sLoad)
		return err
	}, func() (err error) {
		tRestore, tWhy, err = v.makeQueryable(ctx, tq, j.tColl, j.tLoad)
		return err
	})
	for _, restore := range []func(){sRestore, tRestore} {
		if restore != nil {
			defer restore()
		}
	}
	if err != nil {
		return err
	}
	if sWhy != "" || tWhy != "" {
		var why []string
		if sWhy != "" {
			why = append(why, "source "+sWhy)
		}
		if tWhy != "" {
			why = append(why, "target "+tWhy)
		}
		j.cd.note("rows not compared: %s", strings.Join(why, "; "))
		v.statsNote(ctx, j.cd, sq, tq)
		return nil
	}

	// From here on every query sees at least what was written before now.
	sq, tq = sq.withGuarantee(ctx, v.opts.Logf), tq.withGuarantee(ctx, v.opts.Logf)
	if err := v.compareCounts(ctx, j, sq, tq); err != nil {
		return err
	}
	fields := comparableFields(j.sColl.Schema, j.tColl.Schema)
	if sp.DataType == entity.FieldTypeInt64 {
		return compareKeyed[int64](ctx, v, j, sq, tq, sp.Name, fields)
	}
	return compareKeyed[string](ctx, v, j, sq, tq, sp.Name, fields)
}

// compareCounts compares count(*) of the collection and, when it has several
// partitions, of each common partition (a row in the wrong partition shows
// there).
func (v *verifier) compareCounts(ctx context.Context, j *rowJob, sq, tq collQuery) error {
	countBoth := func(parts []string) (s, t int64, err error) {
		err = both(func() (err error) {
			s, err = sq.count(ctx, "", parts)
			return err
		}, func() (err error) {
			t, err = tq.count(ctx, "", parts)
			return err
		})
		return s, t, err
	}
	s, t, err := countBoth(nil)
	if err != nil {
		return err
	}
	j.sum.SourceRows, j.sum.TargetRows = s, t
	j.countsDiffer = s != t
	if len(j.parts) < 2 {
		return nil
	}
	for _, p := range j.parts {
		s, t, err := countBoth([]string{p})
		if err != nil {
			return err
		}
		if s != t {
			j.cd.meta(KindRowCount, "partition %q row count: source %d, target %d", p, s, t)
		}
	}
	return nil
}

// comparableFields are the source fields the target has with the same type
// (others are schema differences already), plus the dynamic field when both
// sides have it.
func comparableFields(s, t *entity.Schema) []string {
	tf := map[string]*entity.Field{}
	for _, f := range t.Fields {
		tf[f.Name] = f
	}
	var out []string
	for _, f := range s.Fields {
		if g, ok := tf[f.Name]; ok && g.DataType == f.DataType && g.ElementType == f.ElementType {
			out = append(out, f.Name)
		}
	}
	if s.EnableDynamicField && t.EnableDynamicField {
		out = append(out, dynamicField)
	}
	return out
}

// compareKeyed compares the key sets, then the rows with common keys, a
// chunk of keys at a time from both sides at once.
func compareKeyed[K key](ctx context.Context, v *verifier, j *rowJob, sq, tq collQuery, pk string, fields []string) error {
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
	for _, c := range []struct {
		name  string
		count int64
		keys  int
	}{{"source", j.sum.SourceRows, len(sKeys)}, {"target", j.sum.TargetRows, len(tKeys)}} {
		if c.count != int64(c.keys) {
			j.cd.note("%s: count(*) is %d but %d distinct primary keys were listed (duplicate keys, or writes during the run)",
				c.name, c.count, c.keys)
		}
	}
	common := mergeKeys(j.cd, sKeys, tKeys)
	if j.countsDiffer {
		reportCounts(j, len(sKeys), len(tKeys), len(common))
	}
	v.opts.Logf("verify: %s.%s: %d source keys, %d target keys, %d in common (%s); comparing values",
		j.pair.src, j.name, len(sKeys), len(tKeys), len(common), time.Since(start).Round(time.Millisecond))

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
		compareChunk(j.cd, chunk, fields, sRows, tRows)
		j.sum.RowsCompared += int64(len(chunk))
	}
	j.sum.RowsChecked = true
	v.opts.Logf("verify: %s.%s: %d rows compared in %s", j.pair.src, j.name, j.sum.RowsCompared,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// mergeKeys reports the keys on one side only and returns the common keys;
// both lists are sorted.
func mergeKeys[K key](cd *collDiffs, s, t []K) []K {
	var common []K
	i, k := 0, 0
	for i < len(s) || k < len(t) {
		switch {
		case k == len(t) || (i < len(s) && s[i] < t[k]):
			cd.row(KindMissingRow, "pk %s is missing on the target", literal(s[i]))
			i++
		case i == len(s) || t[k] < s[i]:
			cd.row(KindExtraRow, "pk %s exists only on the target", literal(t[k]))
			k++
		default:
			common = append(common, s[i])
			i++
			k++
		}
	}
	return common
}

// rowSet is one query result: the row of each key and each field's values.
type rowSet[K key] struct {
	at   map[K]int
	vals map[string][]any
}

func indexRows[K key](q collQuery, rs client.ResultSet, pk string, fields []string) (rowSet[K], error) {
	ks, err := keysOf[K](rs.GetColumn(pk))
	if err != nil {
		return rowSet[K]{}, q.s.errorf(err, "rows of %s.%s", q.db, q.coll)
	}
	r := rowSet[K]{at: make(map[K]int, len(ks)), vals: map[string][]any{}}
	for i, k := range ks {
		r.at[k] = i
	}
	for _, f := range fields {
		vals, err := columnValues(rs.GetColumn(f))
		if err == nil && len(vals) != len(ks) {
			err = fmt.Errorf("%d values for %d keys", len(vals), len(ks))
		}
		if err != nil {
			return rowSet[K]{}, q.s.errorf(err, "field %q of %s.%s", f, q.db, q.coll)
		}
		r.vals[f] = vals
	}
	return r, nil
}

// compareChunk compares every field of the rows with keys chunk. A key
// missing from one answer was deleted while the run was going on.
func compareChunk[K key](cd *collDiffs, chunk []K, fields []string, s, t rowSet[K]) {
	for _, k := range chunk {
		si, sok := s.at[k]
		ti, tok := t.at[k]
		switch {
		case !sok && !tok:
			continue
		case !tok:
			cd.row(KindMissingRow, "pk %s is missing on the target (deleted during the run)", literal(k))
			continue
		case !sok:
			cd.row(KindExtraRow, "pk %s exists only on the target (deleted on the source during the run)", literal(k))
			continue
		}
		for _, f := range fields {
			a, b := s.vals[f][si], t.vals[f][ti]
			if !valuesEqual(a, b) {
				cd.row(KindFieldValue, "pk %s, field %q: %s", literal(k), f, describeDiff(a, b))
			}
		}
	}
}

// reportCounts reports differing row counts, unless duplicate primary keys
// on the source explain them all: the same keys on both sides, none twice
// on the target. Milvus 2.3 can leave such rows when an upsert (an Insert
// and a Delete) fails half-way, e.g. while Pulsar is down: the new row is
// written beside the old one. The target holds each key once, which is all
// a copy keyed by primary key can do, so that is a note, not a difference.
func reportCounts(j *rowJob, sKeys, tKeys, common int) {
	s, t := j.sum.SourceRows, j.sum.TargetRows
	if s > int64(sKeys) && t == int64(tKeys) && sKeys == tKeys && common == sKeys {
		j.cd.note("the source holds %d rows whose primary key another row has too (count(*) %d, %d distinct keys; "+
			"left by an upsert that failed half-way); the target holds each key once (%d rows)", s-int64(sKeys), s, sKeys, t)
		return
	}
	j.cd.meta(KindRowCount, "row count: source %d, target %d", s, t)
}
