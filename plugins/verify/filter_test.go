package verify

import "testing"

func TestFilter(t *testing.T) {
	type check struct {
		db, coll string
		want     bool
	}
	cases := []struct {
		name        string
		dbs, colls  []string
		selectsAll  bool
		databases   map[string]bool
		collections []check
	}{
		{
			name: "nothing filtered", selectsAll: true,
			databases:   map[string]bool{"default": true, "x": true},
			collections: []check{{"x", "c", true}},
		},
		{
			name: "databases", dbs: []string{"db1", "vfy_*"},
			databases:   map[string]bool{"db1": true, "vfy_abc": true, "db2": false},
			collections: []check{{"db1", "any", true}, {"db2", "any", false}},
		},
		{
			name: "db.coll globs", colls: []string{"db1.vec*", "orders"},
			databases: map[string]bool{"db1": true, "db2": true},
			collections: []check{
				{"db1", "vectors", true}, {"db1", "other", false},
				{"db2", "orders", true}, {"db2", "vectors", false}, {"db1", "orders", true},
			},
		},
		{
			name: "db glob in collection pattern restricts databases", colls: []string{"a*.c?"},
			databases:   map[string]bool{"abc": true, "b": false},
			collections: []check{{"abc", "c1", true}, {"abc", "c12", false}, {"b", "c1", false}},
		},
		{
			name: "databases and collections together", dbs: []string{"db1"}, colls: []string{"*.c"},
			databases:   map[string]bool{"db1": true, "db2": false},
			collections: []check{{"db1", "c", true}, {"db2", "c", false}, {"db1", "d", false}},
		},
	}
	for _, c := range cases {
		f, err := newFilter(c.dbs, c.colls)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if f.selectsAll() != c.selectsAll {
			t.Errorf("%s: selectsAll = %v", c.name, f.selectsAll())
		}
		for db, want := range c.databases {
			if got := f.database(db); got != want {
				t.Errorf("%s: database(%q) = %v, want %v", c.name, db, got, want)
			}
		}
		for _, k := range c.collections {
			if got := f.collection(k.db, k.coll); got != k.want {
				t.Errorf("%s: collection(%q, %q) = %v, want %v", c.name, k.db, k.coll, got, k.want)
			}
		}
	}
}

// TestFilterSkipsBlanks: blank entries (a flag's trailing comma) filter
// nothing.
func TestFilterSkipsBlanks(t *testing.T) {
	f, err := newFilter([]string{" ", ""}, []string{"", " "})
	if err != nil || !f.selectsAll() || !f.collection("any", "c") {
		t.Fatalf("blank entries: %+v %v", f, err)
	}
}

func TestFilterBadPatterns(t *testing.T) {
	for _, c := range []struct{ dbs, colls []string }{
		{dbs: []string{"db["}},
		{colls: []string{"db.c["}},
		{colls: []string{".c"}},
		{colls: []string{"db."}},
		{colls: []string{"a.b.c"}},
		{dbs: []string{"a.b"}},
	} {
		if _, err := newFilter(c.dbs, c.colls); err == nil {
			t.Errorf("newFilter(%v, %v): no error", c.dbs, c.colls)
		}
	}
}

func TestDatabaseMapping(t *testing.T) {
	o := Options{DatabaseMapping: map[string]string{"a": "b"}}
	if o.targetDB("a") != "b" || o.targetDB("c") != "c" {
		t.Errorf("targetDB wrong")
	}
}
