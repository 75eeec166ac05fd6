package verify

import (
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// filter selects source databases and collections. Either list empty
// filters nothing on its own.
type filter struct {
	databases   contract.Patterns // `<db glob>.*`
	collections contract.Patterns
}

// newFilter parses every pattern once; blank entries (a trailing comma of
// a flag) are skipped.
func newFilter(databases, collections []string) (filter, error) {
	var f filter
	for _, p := range nonBlank(databases) {
		dp, err := contract.ParseDatabasePattern(p)
		if err != nil {
			return filter{}, err
		}
		f.databases = append(f.databases, dp)
	}
	var err error
	if f.collections, err = contract.ParsePatterns(nonBlank(collections)); err != nil {
		return filter{}, err
	}
	return f, nil
}

func nonBlank(list []string) []string {
	var out []string
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// selectsAll reports whether nothing is filtered: only then is a database on
// the target that no source database maps to a difference.
func (f filter) selectsAll() bool {
	return len(f.databases) == 0 && len(f.collections) == 0
}

// database reports whether source database db is selected.
func (f filter) database(db string) bool {
	if len(f.databases) > 0 && !f.databases.MatchesDB(db) {
		return false
	}
	return len(f.collections) == 0 || f.collections.MatchesDB(db)
}

// collection reports whether collection coll of source database db is
// selected.
func (f filter) collection(db, coll string) bool {
	if !f.database(db) {
		return false
	}
	return len(f.collections) == 0 || f.collections.Matches(db, coll)
}
