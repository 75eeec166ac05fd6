package binlog

import (
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// collectionFilter selects collections by `db.collection` glob patterns
// (contract.Pattern). A pattern without a dot matches that collection name
// in every database; `*` alone matches everything, as does no pattern.
type collectionFilter struct {
	pats contract.Patterns
}

func newCollectionFilter(patterns []string) (*collectionFilter, error) {
	if len(patterns) == 0 {
		return &collectionFilter{pats: contract.Patterns{contract.AllCollections()}}, nil
	}
	pats, err := contract.ParsePatterns(patterns)
	if err != nil {
		return nil, err
	}
	return &collectionFilter{pats: pats}, nil
}

// matches reports whether collection coll of database db is selected.
func (f *collectionFilter) matches(db, coll string) bool { return f.pats.Matches(db, coll) }

// matchesDB reports whether any collection of database db can be selected
// (for database-level operations).
func (f *collectionFilter) matchesDB(db string) bool { return f.pats.MatchesDB(db) }
