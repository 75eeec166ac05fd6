package contract

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// PatternShape is what a `db.collection` pattern looks like once surrounding
// spaces are trimmed: `collection` or `db.collection`, neither part empty and
// no second dot (Milvus names hold none). ParsePattern checks it, and the
// plugins' lint rules match it as it is (Bloblang `re_match`), so the rule is
// written once. It uses `[.]` rather than `\.` so that it needs no escaping
// inside a quoted Bloblang string.
const PatternShape = `^[^.]+([.][^.]+)?$`

// AnyName is the glob matching every database or collection name.
const AnyName = "*"

// Pattern selects collections by database and collection name, each a
// path.Match glob ("*", "vec_*", "c?", "[ab]*"). A pattern written without
// a dot (`products`) names that collection in every database: its DB is
// AnyName.
type Pattern struct {
	DB, Collection string
}

// AllCollections is `*.*`: every collection of every database.
func AllCollections() Pattern { return Pattern{DB: AnyName, Collection: AnyName} }

// SplitPattern reads s as a pattern without checking it, for patterns that
// were stored before they were checked: a part that is not a valid glob
// matches nothing. Use ParsePattern for input.
func SplitPattern(s string) Pattern {
	s = strings.TrimSpace(s)
	db, coll, ok := strings.Cut(s, ".")
	if !ok {
		return Pattern{DB: AnyName, Collection: s}
	}
	return Pattern{DB: db, Collection: coll}
}

// ParsePattern reads a `db.collection` (or `collection`) pattern: its shape
// must match PatternShape and both parts must be valid path.Match globs.
func ParsePattern(s string) (Pattern, error) {
	trimmed := strings.TrimSpace(s)
	ok, err := regexp.MatchString(PatternShape, trimmed)
	if err != nil {
		return Pattern{}, fmt.Errorf("collection pattern shape: %w", err)
	}
	if !ok {
		return Pattern{}, fmt.Errorf("collection pattern %q: want `collection` or `db.collection` (globs allowed)", s)
	}
	p := SplitPattern(trimmed)
	if err := p.validGlobs(); err != nil {
		return Pattern{}, fmt.Errorf("collection pattern %q: %w", s, err)
	}
	return p, nil
}

// ParseDatabasePattern reads a glob over database names as the pattern
// `<glob>.*` (every collection of the databases it matches).
func ParseDatabasePattern(s string) (Pattern, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" || strings.Contains(trimmed, ".") {
		return Pattern{}, fmt.Errorf("database pattern %q: want a database name or glob, without a dot", s)
	}
	p := Pattern{DB: trimmed, Collection: AnyName}
	if err := p.validGlobs(); err != nil {
		return Pattern{}, fmt.Errorf("database pattern %q: %w", s, err)
	}
	return p, nil
}

// validGlobs checks both parts once, so matching can ignore path.Match's
// error afterwards.
func (p Pattern) validGlobs() error {
	for _, part := range []string{p.DB, p.Collection} {
		if _, err := path.Match(part, ""); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
	}
	return nil
}

// String is the pattern as `db.collection`.
func (p Pattern) String() string { return p.DB + "." + p.Collection }

// Matches reports whether collection coll of database db is selected.
func (p Pattern) Matches(db, coll string) bool {
	return globMatch(p.DB, db) && globMatch(p.Collection, coll)
}

// MatchesDB reports whether some collection of database db can be selected
// (for database-level operations).
func (p Pattern) MatchesDB(db string) bool { return globMatch(p.DB, db) }

// IsGlob reports whether either part holds path.Match syntax other than a
// lone "*" (the wildcards a control-plane task is made of are plain names
// and "*").
func (p Pattern) IsGlob() bool { return isGlob(p.DB) || isGlob(p.Collection) }

// Meets reports whether p and q can name a common collection: in each part
// one matches the other or either is "*". It may answer true for two globs
// that share no name (`a*` and `*b` in one part): where it decides whether
// two tasks may both write a collection, a false overlap only refuses.
func (p Pattern) Meets(q Pattern) bool {
	return globsMeet(p.DB, q.DB) && globsMeet(p.Collection, q.Collection)
}

func isGlob(s string) bool { return s != AnyName && strings.ContainsAny(s, `*?[\`) }

func globsMeet(a, b string) bool {
	if a == AnyName || b == AnyName || a == b {
		return true
	}
	return globMatch(a, b) || globMatch(b, a)
}

// globMatch is path.Match; a pattern that is not a valid glob matches
// nothing (ParsePattern refuses those).
func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// Patterns is a selection of collections: those any of its patterns
// selects. Empty, it selects nothing; callers that read "no patterns" as
// "everything" say so themselves.
type Patterns []Pattern

// ParsePatterns reads every pattern of list (see ParsePattern).
func ParsePatterns(list []string) (Patterns, error) {
	out := make(Patterns, 0, len(list))
	for _, s := range list {
		p, err := ParsePattern(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Matches reports whether a pattern selects collection coll of database db.
func (ps Patterns) Matches(db, coll string) bool {
	for _, p := range ps {
		if p.Matches(db, coll) {
			return true
		}
	}
	return false
}

// MatchesDB reports whether a pattern can select a collection of db.
func (ps Patterns) MatchesDB(db string) bool {
	for _, p := range ps {
		if p.MatchesDB(db) {
			return true
		}
	}
	return false
}

// Strings renders every pattern as `db.collection`.
func (ps Patterns) Strings() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
