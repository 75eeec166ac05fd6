package verify

import (
	"fmt"
	"path"
	"strings"
)

// filter selects source databases and collections by path.Match globs.
type filter struct {
	databases   []string
	collections []collPattern
}

// collPattern is one "db.collection" glob; db is "*" when the pattern has no
// dot (the collection in any database).
type collPattern struct{ db, coll string }

// newFilter checks every pattern once, so matching can ignore errors.
func newFilter(databases, collections []string) (filter, error) {
	var f filter
	for _, p := range databases {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return filter{}, fmt.Errorf("database pattern %q: %w", p, err)
		}
		f.databases = append(f.databases, p)
	}
	for _, p := range collections {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		cp := collPattern{db: "*", coll: p}
		if db, coll, ok := strings.Cut(p, "."); ok {
			cp = collPattern{db: db, coll: coll}
		}
		if cp.db == "" || cp.coll == "" || strings.Contains(cp.coll, ".") {
			return filter{}, fmt.Errorf("collection pattern %q: want `coll` or `db.coll`", p)
		}
		for _, part := range []string{cp.db, cp.coll} {
			if _, err := path.Match(part, ""); err != nil {
				return filter{}, fmt.Errorf("collection pattern %q: %w", p, err)
			}
		}
		f.collections = append(f.collections, cp)
	}
	return f, nil
}

// selectsAll reports whether nothing is filtered: only then is a database on
// the target that no source database maps to a difference.
func (f filter) selectsAll() bool {
	return len(f.databases) == 0 && len(f.collections) == 0
}

// database reports whether source database db is selected.
func (f filter) database(db string) bool {
	if len(f.databases) > 0 && !matchAny(f.databases, db) {
		return false
	}
	if len(f.collections) == 0 {
		return true
	}
	for _, cp := range f.collections {
		if match(cp.db, db) {
			return true
		}
	}
	return false
}

// collection reports whether collection coll of source database db is
// selected.
func (f filter) collection(db, coll string) bool {
	if !f.database(db) {
		return false
	}
	if len(f.collections) == 0 {
		return true
	}
	for _, cp := range f.collections {
		if match(cp.db, db) && match(cp.coll, coll) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if match(p, name) {
			return true
		}
	}
	return false
}

// match is path.Match with the pattern already validated by newFilter.
func match(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}
