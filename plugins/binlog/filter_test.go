package binlog

import "testing"

func TestCollectionFilter(t *testing.T) {
	f, err := newCollectionFilter([]string{"default.products", "analytics.*", "logs"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		db, coll string
		want     bool
	}{
		{"default", "products", true},
		{"default", "other", false},
		{"analytics", "anything", true},
		{"db9", "logs", true},
		{"db9", "logs2", false},
	}
	for _, c := range cases {
		if got := f.matches(c.db, c.coll); got != c.want {
			t.Errorf("matches(%q, %q) = %v", c.db, c.coll, got)
		}
	}
	if !f.matchesDB("analytics") || !f.matchesDB("anydb") /* "logs" matches in every db */ {
		t.Error("matchesDB")
	}
	all, _ := newCollectionFilter(nil)
	if !all.matches("x", "y") {
		t.Error("default filter must match everything")
	}
	for _, bad := range []string{"", "db.", ".coll", "db.[", " ", "a.b.c"} {
		if _, err := newCollectionFilter([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}
