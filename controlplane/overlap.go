package controlplane

import (
	"path"
	"strings"
)

// patternSet indexes db.collection patterns (collectionPatterns) so that
// whether another pattern can name a common collection is a few map
// lookups: a create names up to maxCollectionNames collections, and the
// pairwise comparison of two such tasks was quadratic.
type patternSet struct {
	all    bool            // "*.*"
	dbs    map[string]bool // "db.*"
	colls  map[string]bool // "*.c"
	exact  map[string]bool // "db.c"
	byDB   map[string]bool // the databases of exact
	byColl map[string]bool // the collections of exact
	globs  [][2]string     // anything else with glob characters (never from a valid create)
	size   int             // patterns indexed
}

func splitPattern(p string) [2]string {
	db, coll, _ := strings.Cut(p, ".")
	return [2]string{db, coll}
}

// isGlob reports whether s holds path.Match syntax other than a lone "*".
func isGlob(s string) bool { return s != "*" && strings.ContainsAny(s, `*?[\`) }

func newPatternSet(patterns []string) *patternSet {
	s := &patternSet{dbs: map[string]bool{}, colls: map[string]bool{}, exact: map[string]bool{},
		byDB: map[string]bool{}, byColl: map[string]bool{}, size: len(patterns)}
	for _, p := range patterns {
		x := splitPattern(p)
		switch {
		case isGlob(x[0]) || isGlob(x[1]):
			s.globs = append(s.globs, x)
		case x[0] == "*" && x[1] == "*":
			s.all = true
		case x[0] == "*":
			s.colls[x[1]] = true
		case x[1] == "*":
			s.dbs[x[0]] = true
		default:
			s.exact[x[0]+"."+x[1]] = true
			s.byDB[x[0]], s.byColl[x[1]] = true, true
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
	x := splitPattern(p)
	for _, g := range s.globs {
		if globsMeet(x[0], g[0]) && globsMeet(x[1], g[1]) {
			return true
		}
	}
	if isGlob(x[0]) || isGlob(x[1]) {
		// Only a stored task older than today's validation can hold one:
		// compare it with every pattern.
		return s.meetsGlob(x)
	}
	// Whatever "db.c" s holds, "*.*" meets it; "db.*" meets every pattern of
	// db and every "*.c"; "*.c" meets every pattern of c and every "db.*".
	db, coll := x[0], x[1]
	switch {
	case s.all || (db == "*" && coll == "*"):
		return true // s is not empty, and "*.*" meets every pattern
	case db == "*":
		return s.colls[coll] || s.byColl[coll] || len(s.dbs) > 0
	case coll == "*":
		return s.dbs[db] || s.byDB[db] || len(s.colls) > 0
	}
	return s.exact[db+"."+coll] || s.dbs[db] || s.colls[coll]
}

// meetsGlob compares a glob pattern with every non-glob pattern of s.
func (s *patternSet) meetsGlob(x [2]string) bool {
	meet := func(db, coll string) bool { return globsMeet(x[0], db) && globsMeet(x[1], coll) }
	if s.all && meet("*", "*") {
		return true
	}
	for db := range s.dbs {
		if meet(db, "*") {
			return true
		}
	}
	for coll := range s.colls {
		if meet("*", coll) {
			return true
		}
	}
	for e := range s.exact {
		if y := splitPattern(e); meet(y[0], y[1]) {
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

// globsMeet is true when one pattern matches the other or either is "*".
func globsMeet(a, b string) bool {
	if a == "*" || b == "*" || a == b {
		return true
	}
	ma, _ := path.Match(a, b)
	mb, _ := path.Match(b, a)
	return ma || mb
}
