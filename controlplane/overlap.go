package controlplane

import (
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// patternSet indexes db.collection patterns (collectionPatterns) so that
// whether another pattern can name a common collection is a few map
// lookups: a create names up to maxCollectionNames collections, and the
// pairwise comparison of two such tasks was quadratic.
type patternSet struct {
	all    bool               // "*.*"
	dbs    map[string]bool    // "db.*"
	colls  map[string]bool    // "*.c"
	exact  map[string]bool    // "db.c"
	byDB   map[string]bool    // the databases of exact
	byColl map[string]bool    // the collections of exact
	globs  []contract.Pattern // anything else with glob characters (never from a valid create)
	size   int                // patterns indexed
}

func newPatternSet(patterns []string) *patternSet {
	s := &patternSet{dbs: map[string]bool{}, colls: map[string]bool{}, exact: map[string]bool{},
		byDB: map[string]bool{}, byColl: map[string]bool{}, size: len(patterns)}
	for _, p := range patterns {
		x := contract.SplitPattern(p)
		switch {
		case x.IsGlob():
			s.globs = append(s.globs, x)
		case x == contract.AllCollections():
			s.all = true
		case x.DB == contract.AnyName:
			s.colls[x.Collection] = true
		case x.Collection == contract.AnyName:
			s.dbs[x.DB] = true
		default:
			s.exact[x.String()] = true
			s.byDB[x.DB], s.byColl[x.Collection] = true, true
		}
	}
	return s
}

// meets reports whether pattern p can name a collection a pattern of s
// names.
func (s *patternSet) meets(p string) bool {
	if s.size == 0 {
		return false
	}
	x := contract.SplitPattern(p)
	for _, g := range s.globs {
		if x.Meets(g) {
			return true
		}
	}
	if x.IsGlob() {
		// Only a stored task older than today's validation can hold one:
		// compare it with every pattern.
		return s.meetsGlob(x)
	}
	// Whatever "db.c" s holds, "*.*" meets it; "db.*" meets every pattern of
	// db and every "*.c"; "*.c" meets every pattern of c and every "db.*".
	db, coll := x.DB, x.Collection
	switch {
	case s.all || x == contract.AllCollections():
		return true // s is not empty, and "*.*" meets every pattern
	case db == contract.AnyName:
		return s.colls[coll] || s.byColl[coll] || len(s.dbs) > 0
	case coll == contract.AnyName:
		return s.dbs[db] || s.byDB[db] || len(s.colls) > 0
	}
	return s.exact[x.String()] || s.dbs[db] || s.colls[coll]
}

// meetsGlob compares a glob pattern with every non-glob pattern of s.
func (s *patternSet) meetsGlob(x contract.Pattern) bool {
	meet := func(db, coll string) bool { return x.Meets(contract.Pattern{DB: db, Collection: coll}) }
	if s.all && meet(contract.AnyName, contract.AnyName) {
		return true
	}
	for db := range s.dbs {
		if meet(db, contract.AnyName) {
			return true
		}
	}
	for coll := range s.colls {
		if meet(contract.AnyName, coll) {
			return true
		}
	}
	for e := range s.exact {
		if x.Meets(contract.SplitPattern(e)) {
			return true
		}
	}
	return false
}

// overlaps reports whether two sets of db.collection patterns can name a
// common collection, in time linear in their sizes: the shorter is indexed,
// the longer looked up in it.
func overlaps(a, b []string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	set := newPatternSet(b)
	for _, p := range a {
		if set.meets(p) {
			return true
		}
	}
	return false
}
