package contract

import (
	"regexp"
	"strings"
	"testing"
)

// TestParsePattern: `db.collection` and `collection` (every database),
// spaces around trimmed; an empty part, a second dot or a bad glob refused.
func TestParsePattern(t *testing.T) {
	for in, want := range map[string]Pattern{
		"default.products": {DB: "default", Collection: "products"},
		"logs":             {DB: AnyName, Collection: "logs"},
		" analytics.* ":    {DB: "analytics", Collection: AnyName},
		"*":                AllCollections(),
		"*.*":              AllCollections(),
		"a*.c?":            {DB: "a*", Collection: "c?"},
		"db.[ab]x":         {DB: "db", Collection: "[ab]x"},
	} {
		got, err := ParsePattern(in)
		if err != nil || got != want {
			t.Errorf("ParsePattern(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", " ", "db.", ".coll", ".", "a.b.c", "db.[", "[.c", "db.c\\"} {
		if p, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) accepted: %+v", bad, p)
		}
	}
	if _, err := ParsePatterns([]string{"default.*", ""}); err == nil {
		t.Error("a blank entry of a list accepted")
	}
}

func TestParseDatabasePattern(t *testing.T) {
	if p, err := ParseDatabasePattern(" vfy_* "); err != nil || p != (Pattern{DB: "vfy_*", Collection: AnyName}) {
		t.Errorf("vfy_*: %+v %v", p, err)
	}
	for _, bad := range []string{"", "db[", "a.b"} {
		if _, err := ParseDatabasePattern(bad); err == nil {
			t.Errorf("database pattern %q accepted", bad)
		}
	}
}

// TestPatternsMatch: what milvus_binlog and verify select.
func TestPatternsMatch(t *testing.T) {
	ps, err := ParsePatterns([]string{"default.products", "analytics.*", "logs", "a*.c?"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		db, coll string
		want     bool
	}{
		{"default", "products", true},
		{"default", "other", false},
		{"analytics", "anything", true},
		{"db9", "logs", true},
		{"db9", "logs2", false},
		{"abc", "c1", true},
		{"abc", "c12", false},
		{"b", "c1", false},
	} {
		if got := ps.Matches(c.db, c.coll); got != c.want {
			t.Errorf("Matches(%q, %q) = %v", c.db, c.coll, got)
		}
	}
	if !ps.MatchesDB("analytics") || !ps.MatchesDB("anydb") /* "logs" is in every database */ {
		t.Error("MatchesDB")
	}
	only, _ := ParsePatterns([]string{"db1.*"})
	if only.MatchesDB("db2") || (Patterns{}).Matches("x", "y") {
		t.Error("a pattern of db1 selects db2, or no patterns select something")
	}
	if !(Patterns{AllCollections()}).Matches("x", "y") {
		t.Error("*.* does not select everything")
	}
	if got := strings.Join(ps.Strings(), ","); got != "default.products,analytics.*,*.logs,a*.c?" {
		t.Errorf("Strings: %s", got)
	}
}

// TestPatternMeets: what the control plane's overlap check asks of two
// patterns of tasks on one target.
func TestPatternMeets(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"*.*", "db2.c", true},
		{"default.a", "db2.a", false},
		{"default.a", "default.a", true},
		{"db1.*", "*.c", true},
		{"db1.*", "db2.*", false},
		{"*.c", "*.d", false},
		{"db.n?", "db.n1", true},
		{"db.n?", "db.m1", false},
	} {
		a, b := SplitPattern(c.a), SplitPattern(c.b)
		if a.Meets(b) != c.want || b.Meets(a) != c.want {
			t.Errorf("%s meets %s: %v, want %v both ways", c.a, c.b, a.Meets(b), c.want)
		}
	}
	for in, want := range map[string]bool{"*.*": false, "db.c": false, "db.*": false, "db.c?": true, "d[b].c": true, "x\\y.c": true} {
		if got := SplitPattern(in).IsGlob(); got != want {
			t.Errorf("IsGlob(%s) = %v", in, got)
		}
	}
}

// FuzzParsePattern: ParsePattern accepts exactly the trimmed inputs of
// PatternShape (the lint rules' regular expression) whose parts are valid
// globs; what it accepts reads back from its String, is what SplitPattern
// reads, meets itself, and matches only in databases it matches.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"default.products", "logs", " a.* ", "*", "a.b.c", "db.[", ".c", "", "x.y\\", "[]a].b"} {
		f.Add(s, "default", "products")
	}
	shape := regexp.MustCompile(PatternShape)
	f.Fuzz(func(t *testing.T, s, db, coll string) {
		p, err := ParsePattern(s)
		trimmed := strings.TrimSpace(s)
		if shapeOK := shape.MatchString(trimmed); err == nil && !shapeOK {
			t.Fatalf("%q accepted, but the lint's shape refuses it", s)
		} else if err != nil && shapeOK && SplitPattern(trimmed).validGlobs() == nil {
			t.Fatalf("%q refused (%v), though the lint's shape takes it and its globs are valid", s, err)
		}
		if err != nil {
			return
		}
		if again, err := ParsePattern(p.String()); err != nil || again != p {
			t.Fatalf("%q: String %q reads back as %+v, %v", s, p.String(), again, err)
		}
		if SplitPattern(s) != p || !p.Meets(p) {
			t.Fatalf("%q: SplitPattern %+v, parsed %+v, meets itself %v", s, SplitPattern(s), p, p.Meets(p))
		}
		if p.Matches(db, coll) && !p.MatchesDB(db) {
			t.Fatalf("%q selects %s.%s but not database %s", s, db, coll, db)
		}
		if !p.IsGlob() && p.DB != AnyName && p.Collection != AnyName && !p.Matches(p.DB, p.Collection) {
			t.Fatalf("%q does not select the collection it names", s)
		}
	})
}
