package binlog

import (
	"fmt"
	"path"
	"strings"
)

// collectionFilter selects collections by `db.collection` glob patterns.
// A pattern without a dot matches that collection name in every database;
// `*` alone matches everything.
type collectionFilter struct {
	pats []collectionPattern
}

type collectionPattern struct{ db, coll string }

func newCollectionFilter(patterns []string) (*collectionFilter, error) {
	f := &collectionFilter{}
	if len(patterns) == 0 {
		patterns = []string{"*.*"}
	}
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("empty collection pattern")
		}
		db, coll, ok := strings.Cut(p, ".")
		if !ok {
			db, coll = "*", p
		}
		if db == "" || coll == "" {
			return nil, fmt.Errorf("collection pattern %q: want `db.collection`", p)
		}
		for _, part := range []string{db, coll} {
			if _, err := path.Match(part, ""); err != nil {
				return nil, fmt.Errorf("collection pattern %q: %w", p, err)
			}
		}
		f.pats = append(f.pats, collectionPattern{db: db, coll: coll})
	}
	return f, nil
}

// matches reports whether collection coll of database db is selected.
func (f *collectionFilter) matches(db, coll string) bool {
	for _, p := range f.pats {
		if globMatch(p.db, db) && globMatch(p.coll, coll) {
			return true
		}
	}
	return false
}

// matchesDB reports whether any collection of database db can be selected
// (for database-level operations).
func (f *collectionFilter) matchesDB(db string) bool {
	for _, p := range f.pats {
		if globMatch(p.db, db) {
			return true
		}
	}
	return false
}

func globMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}
