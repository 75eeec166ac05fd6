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
	// byPartition: keys and values are compared one partition at a time
	// (see units).
	byPartition bool
	// counts is count(*) of each unit on both sides (set by compareCounts).
	counts map[string]counts
	whole  counts
	// dupExcess: rows the source holds beside another row of the same key
	// in the same unit, where the target holds each key once; countBad: a
	// unit whose count difference that does not explain.
	dupExcess int64
	countBad  bool
}

// counts is count(*) of one unit on the source and on the target.
type counts struct{ s, t int64 }

// compareRows compares row counts, primary key sets and every field value,
// partition by partition (see units). Milvus queries only loaded
// collections: what is not loaded is loaded for the comparison and released
// afterwards; what cannot be loaded (no index), or what the source has
// loaded and the target not (see makeQueryable), is skipped with a note.
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
		sRestore, sWhy, err = v.makeQueryable(ctx, sq, j.sColl, j.sLoad, nil)
		return err
	}, func() (err error) {
		tRestore, tWhy, err = v.makeQueryable(ctx, tq, j.tColl, j.tLoad, &j.sLoad)
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
	start := time.Now()
	if err := v.compareUnits(ctx, j, sq, tq, sp); err != nil {
		return err
	}
	j.sum.RowsChecked = true
	v.opts.Logf("verify: %s.%s: %d rows compared in %s", j.pair.src, j.name, j.sum.RowsCompared,
		time.Since(start).Round(time.Millisecond))
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

// mergeKeys reports the keys on one side only and returns the common keys;
// both lists are sorted. in starts each message (see unitLabel).
func mergeKeys[K key](cd *collDiffs, in string, s, t []K) []K {
	var common []K
	i, k := 0, 0
	for i < len(s) || k < len(t) {
		switch {
		case k == len(t) || (i < len(s) && s[i] < t[k]):
			cd.row(KindMissingRow, "%spk %s is missing on the target", in, literal(s[i]))
			i++
		case i == len(s) || t[k] < s[i]:
			cd.row(KindExtraRow, "%spk %s exists only on the target", in, literal(t[k]))
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
		return rowSet[K]{}, q.s.errorf(err, "rows of %s", q.where())
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
			return rowSet[K]{}, q.s.errorf(err, "field %q of %s", f, q.where())
		}
		r.vals[f] = vals
	}
	return r, nil
}

// compareChunk compares every field of the rows with keys chunk. A key
// missing from one answer was deleted while the run was going on. in starts
// each message (see unitLabel).
func compareChunk[K key](cd *collDiffs, in string, chunk []K, fields []string, s, t rowSet[K]) {
	for _, k := range chunk {
		si, sok := s.at[k]
		ti, tok := t.at[k]
		switch {
		case !sok && !tok:
			continue
		case !tok:
			cd.row(KindMissingRow, "%spk %s is missing on the target (deleted during the run)", in, literal(k))
			continue
		case !sok:
			cd.row(KindExtraRow, "%spk %s exists only on the target (deleted on the source during the run)", in, literal(k))
			continue
		}
		for _, f := range fields {
			a, b := s.vals[f][si], t.vals[f][ti]
			if !valuesEqual(a, b) {
				cd.row(KindFieldValue, "%spk %s, field %q: %s", in, literal(k), f, describeDiff(a, b))
			}
		}
	}
}
