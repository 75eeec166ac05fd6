package milvus

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
	for _, bad := range []string{"", "db.", ".coll", "db.[", " "} {
		if _, err := newCollectionFilter([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	in := map[string][]byte{"by-dev-rootcoord-dml_0": {1, 2, 3}, "by-dev-replicate-msg": {9}}
	b, err := encodeCheckpoint(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || string(out["by-dev-rootcoord-dml_0"]) != string([]byte{1, 2, 3}) {
		t.Fatalf("round trip: %v", out)
	}
	for _, bad := range []string{"", "{", `{"version":2,"channels":{}}`, `{"version":1,"channels":{"a":"%%%"}}`} {
		if _, err := decodeCheckpoint([]byte(bad)); err == nil {
			t.Errorf("checkpoint %q accepted", bad)
		}
	}
}
