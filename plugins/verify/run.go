package verify

import (
	"context"
	"errors"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// verifier holds the state of one Run.
type verifier struct {
	opts     Options
	filter   filter
	src, tgt *side
	rep      *Report
}

// dbPair is a source database and its target database.
type dbPair struct{ src, tgt string }

// Run compares source and target as opts says: databases, collections,
// schemas and properties, aliases, partitions, indexes, load state, row
// counts, and per partition the primary key sets and every field value.
// `milvus-cdc verify` runs it; the stack tests reuse it to check that a
// replication is complete and exact. Differences go into the report; the
// error is only for a failure to talk to either side (or bad options), in
// which case there is no report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	f, err := newFilter(o.Databases, o.Collections)
	if err != nil {
		return nil, err
	}
	v := &verifier{
		opts:   o,
		filter: f,
		src:    newSide("source", o.SourceAddr, o.SourceToken, o.ConnectTimeout),
		tgt:    newSide("target", o.TargetAddr, o.TargetToken, o.ConnectTimeout),
		rep: &Report{
			Source: o.SourceAddr, Target: o.TargetAddr,
			Diffs: []Diff{}, Notes: []Note{}, Collections: []CollectionSummary{},
		},
	}
	if err := v.run(ctx); err != nil {
		return nil, errors.Join(err, v.src.close(), v.tgt.close())
	}
	// A failure to close a connection does not change what was compared.
	_ = errors.Join(v.src.close(), v.tgt.close())
	v.rep.Duration = time.Since(start)
	return v.rep, nil
}

func (v *verifier) run(ctx context.Context) error {
	pairs, err := v.compareDatabases(ctx)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		if err := v.compareDatabase(ctx, p); err != nil {
			return err
		}
		v.rep.DatabasesCompared++
	}
	return nil
}

// compareDatabase compares the collection sets of one database pair, then
// each collection present on both sides.
func (v *verifier) compareDatabase(ctx context.Context, p dbPair) error {
	names, err := v.compareCollectionSets(ctx, p)
	if err != nil {
		return err
	}
	for _, name := range names {
		v.opts.Logf("verify: comparing %s.%s", p.src, name)
		if err := v.compareCollection(ctx, p, name); err != nil {
			return err
		}
		v.rep.CollectionsCompared++
	}
	return nil
}

// compareCollection compares everything about one collection present on
// both sides.
func (v *verifier) compareCollection(ctx context.Context, p dbPair, name string) error {
	sc, err := v.src.client(ctx, p.src)
	if err != nil {
		return err
	}
	tc, err := v.tgt.client(ctx, p.tgt)
	if err != nil {
		return err
	}
	cd := &collDiffs{rep: v.rep, db: p.src, coll: name, max: v.opts.MaxDiffs}
	sum := CollectionSummary{DB: p.src, TargetDB: p.tgt, Collection: name, SourceRows: -1, TargetRows: -1}

	var sColl, tColl *entity.Collection
	err = both(func() (err error) {
		if sColl, err = sc.DescribeCollection(ctx, name); err != nil {
			return v.src.errorf(err, "describe collection %s.%s", p.src, name)
		}
		return nil
	}, func() (err error) {
		if tColl, err = tc.DescribeCollection(ctx, name); err != nil {
			return v.tgt.errorf(err, "describe collection %s.%s", p.tgt, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	compareSchema(cd, sColl, tColl)
	if err := v.compareAliases(ctx, cd, p, name); err != nil {
		return err
	}

	parts, err := v.comparePartitions(ctx, cd, p, name)
	if err != nil {
		return err
	}
	if err := v.compareIndexes(ctx, cd, p, name); err != nil {
		return err
	}
	byPartition := !hasPartitionKey(sColl.Schema) && !hasPartitionKey(tColl.Schema)
	if !byPartition {
		// Milvus places the rows of a partition-key collection itself and
		// refuses queries or loads naming its partitions: compare the
		// partition names (done above), then the collection as a whole.
		parts = nil
	}
	sLoad, tLoad, err := v.compareLoadStates(ctx, cd, p, name, parts)
	if err != nil {
		return err
	}

	job := &rowJob{
		pair: p, name: name, cd: cd, sum: &sum,
		sColl: sColl, tColl: tColl, sLoad: sLoad, tLoad: tLoad, parts: parts, byPartition: byPartition,
	}
	if err := v.compareRows(ctx, job); err != nil {
		return err
	}
	if unlisted := cd.total - cd.listed - cd.metaN; unlisted > 0 {
		cd.note("%d more row/field difference(s) not listed (max diffs %d)", unlisted, cd.max)
	}
	sum.Diffs = cd.total
	v.rep.RowsCompared += sum.RowsCompared
	v.rep.Collections = append(v.rep.Collections, sum)
	return nil
}

func hasPartitionKey(s *entity.Schema) bool {
	for _, f := range s.Fields {
		if f.IsPartitionKey {
			return true
		}
	}
	return false
}
