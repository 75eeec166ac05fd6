package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// loadPoll is how often a Loading state is polled.
const loadPoll = 500 * time.Millisecond

// loadInfo is the load state of a collection on one side, and of each
// partition present on both sides (Milvus 2.3 says Loaded for a collection as
// soon as one of its partitions is loaded).
type loadInfo struct {
	coll  entity.LoadState
	parts map[string]entity.LoadState
}

func stateName(s entity.LoadState) string {
	switch s {
	case entity.LoadStateNotExist:
		return "NotExist"
	case entity.LoadStateNotLoad:
		return "NotLoad"
	case entity.LoadStateLoading:
		return "Loading"
	case entity.LoadStateLoaded:
		return "Loaded"
	}
	return fmt.Sprintf("LoadState(%d)", s)
}

// settledState returns the load state of coll (or of its partitions parts),
// waiting up to the load timeout while it is Loading; it stays Loading if it
// does not settle in time.
func (v *verifier) settledState(ctx context.Context, q collQuery, parts []string) (entity.LoadState, error) {
	deadline := time.Now().Add(v.opts.LoadTimeout)
	for {
		st, err := q.c.GetLoadState(ctx, q.coll, parts)
		if err != nil {
			return 0, q.s.errorf(err, "get load state of %s.%s %v", q.db, q.coll, parts)
		}
		if st != entity.LoadStateLoading || time.Now().After(deadline) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(loadPoll):
		}
	}
}

// loadInfoOf reads the settled load states of the collection and, when it
// has several partitions and is loaded, of each partition.
func (v *verifier) loadInfoOf(ctx context.Context, q collQuery, parts []string) (loadInfo, error) {
	li := loadInfo{parts: map[string]entity.LoadState{}}
	var err error
	if li.coll, err = v.settledState(ctx, q, nil); err != nil {
		return li, err
	}
	for _, p := range parts {
		st := li.coll
		if li.coll == entity.LoadStateLoaded && len(parts) > 1 {
			if st, err = v.settledState(ctx, q, []string{p}); err != nil {
				return li, err
			}
		}
		li.parts[p] = st
	}
	return li, nil
}

// compareLoadStates compares the load states of the collection and of its
// common partitions.
func (v *verifier) compareLoadStates(ctx context.Context, cd *collDiffs, p dbPair, name string, parts []string) (loadInfo, loadInfo, error) {
	var sl, tl loadInfo
	err := both(func() error {
		q, err := v.query(ctx, v.src, p.src, name)
		if err == nil {
			sl, err = v.loadInfoOf(ctx, q, parts)
		}
		return err
	}, func() error {
		q, err := v.query(ctx, v.tgt, p.tgt, name)
		if err == nil {
			tl, err = v.loadInfoOf(ctx, q, parts)
		}
		return err
	})
	if err != nil {
		return sl, tl, err
	}
	if sl.coll != tl.coll {
		cd.meta(KindLoadState, "load state: source %s, target %s", stateName(sl.coll), stateName(tl.coll))
		return sl, tl, nil
	}
	for _, part := range parts {
		if sl.parts[part] != tl.parts[part] {
			cd.meta(KindLoadState, "partition %q load state: source %s, target %s",
				part, stateName(sl.parts[part]), stateName(tl.parts[part]))
		}
	}
	return sl, tl, nil
}

// makeQueryable loads what is not loaded of the collection on one side, so
// it can be queried, and returns how to restore the previous state. why is
// set (and nothing loaded) when it cannot be made queryable.
//
// src is the source's load state when q is the target (nil for the source):
// what the source has loaded and the target not is not loaded temporarily.
// The replication loads it on the target (it may be doing so right now,
// e.g. at the end of a snapshot's copy); a load of what is loaded already
// is a no-op in Milvus, so the release after the comparison would undo the
// replication's load for good. That difference is a load_state difference
// already: the rows are compared by a run after the target has loaded it.
func (v *verifier) makeQueryable(ctx context.Context, q collQuery, coll *entity.Collection, li loadInfo, src *loadInfo) (restore func(), why string, err error) {
	noop := func() {}
	var notLoaded []string
	for p, st := range li.parts {
		if st != entity.LoadStateLoaded {
			notLoaded = append(notLoaded, p)
		}
	}
	switch {
	case li.coll == entity.LoadStateLoading:
		return noop, fmt.Sprintf("still loading after %s", v.opts.LoadTimeout), nil
	case li.coll == entity.LoadStateLoaded && len(notLoaded) == 0:
		return noop, "", nil
	}
	if src != nil {
		const skip = "not loaded while the source is (a load state difference; loading it temporarily could undo the replication's own load of it)"
		if li.coll != entity.LoadStateLoaded && src.coll == entity.LoadStateLoaded {
			return noop, skip, nil
		}
		for _, p := range notLoaded {
			if src.parts[p] == entity.LoadStateLoaded {
				return noop, fmt.Sprintf("partition %q %s", p, skip), nil
			}
		}
	}
	// Loading needs an index on every vector field.
	idx, err := describeIndexes(ctx, q.c, q.coll)
	if err != nil {
		return noop, "", q.s.errorf(err, "describe indexes of %s.%s", q.db, q.coll)
	}
	indexed := map[string]bool{}
	for _, d := range idx {
		indexed[d.GetFieldName()] = true
	}
	for _, f := range coll.Schema.Fields {
		if isVector(f.DataType) && !indexed[f.Name] {
			return noop, fmt.Sprintf("not loaded and cannot be loaded: no index on vector field %q", f.Name), nil
		}
	}
	lctx, cancel := context.WithTimeout(ctx, v.opts.LoadTimeout)
	defer cancel()
	if li.coll != entity.LoadStateLoaded {
		v.opts.Logf("verify: loading %s %s.%s temporarily", q.s.name, q.db, q.coll)
		restore = v.restorer(q, func(rctx context.Context) error { return q.c.ReleaseCollection(rctx, q.coll) })
		err = q.c.LoadCollection(lctx, q.coll, false)
	} else {
		v.opts.Logf("verify: loading partitions %v of %s %s.%s temporarily", notLoaded, q.s.name, q.db, q.coll)
		restore = v.restorer(q, func(rctx context.Context) error { return q.c.ReleasePartitions(rctx, q.coll, notLoaded) })
		err = q.c.LoadPartitions(lctx, q.coll, notLoaded, false)
	}
	if err != nil {
		// The load may go on in Milvus after a timeout: release anyway.
		restore()
		return noop, fmt.Sprintf("not loaded and loading failed: %v", err), nil
	}
	return restore, "", nil
}

// restorer wraps a release so it runs even after ctx is cancelled (an
// interrupted run must not leave a collection loaded), and logs a failure.
func (v *verifier) restorer(q collQuery, release func(context.Context) error) func() {
	return func() {
		rctx, cancel := context.WithTimeout(context.Background(), v.opts.LoadTimeout)
		defer cancel()
		if err := release(rctx); err != nil {
			v.opts.Logf("verify: WARNING: could not release %s %s.%s after loading it for the comparison: %v",
				q.s.name, q.db, q.coll, err)
		}
	}
}

func isVector(t entity.FieldType) bool {
	switch t {
	case entity.FieldTypeFloatVector, entity.FieldTypeBinaryVector, entity.FieldTypeFloat16Vector,
		entity.FieldTypeBFloat16Vector, entity.FieldTypeSparseVector:
		return true
	}
	return false
}

// statsNote notes the row_count statistics of both sides when rows cannot be
// queried; Milvus counts only flushed rows there, so it is no difference.
func (v *verifier) statsNote(ctx context.Context, cd *collDiffs, sq, tq collQuery) {
	get := func(q collQuery) string {
		st, err := q.c.GetCollectionStatistics(ctx, q.coll)
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		return st["row_count"]
	}
	cd.note("row_count statistics (flushed rows only): source %s, target %s", get(sq), get(tq))
}

// collQuery is one collection on one side, with the client of its database.
type collQuery struct {
	s         *side
	c         client.Client
	db, coll  string
	guarantee uint64   // guarantee timestamp of its queries; 0 = Strong
	parts     []string // partitions its key and row queries read; nil = all
}

// in returns q reading partition part only ("" = every partition).
func (q collQuery) in(part string) collQuery {
	q.parts = nil
	if part != "" {
		q.parts = []string{part}
	}
	return q
}

// where names what q reads, for messages.
func (q collQuery) where() string {
	if len(q.parts) == 0 {
		return q.db + "." + q.coll
	}
	return fmt.Sprintf("%s.%s partition %q", q.db, q.coll, strings.Join(q.parts, ","))
}

func (v *verifier) query(ctx context.Context, s *side, db, coll string) (collQuery, error) {
	c, err := s.client(ctx, db)
	if err != nil {
		return collQuery{}, err
	}
	return collQuery{s: s, c: c, db: db, coll: coll}, nil
}
