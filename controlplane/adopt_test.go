package controlplane

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// fakeCatalog is an in-memory target: databases of collections with
// properties, and aliases. Every drop is recorded, in order.
type fakeCatalog struct {
	dbs     map[string]map[string]*TargetCollection
	dropped []string // "alias db.a" / "collection db.c"
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{dbs: map[string]map[string]*TargetCollection{"default": {}}}
}

// add puts collection db.name tagged as replication repl's copy of source
// collection id from cluster ("" leaves a tag out; id 0: not a copy).
func (f *fakeCatalog) add(db, name string, id int64, repl, cluster string, aliases ...string) {
	props := map[string]string{"collection.ttl.seconds": "60"}
	for k, v := range map[string]string{contract.PropReplication: repl, contract.PropSourceCluster: cluster} {
		if v != "" {
			props[k] = v
		}
	}
	if id != 0 {
		props[contract.PropSourceCollectionID] = fmt.Sprint(id)
	}
	if f.dbs[db] == nil {
		f.dbs[db] = map[string]*TargetCollection{}
	}
	f.dbs[db][name] = &TargetCollection{Properties: props, Aliases: aliases}
}

func (f *fakeCatalog) ListDatabases(context.Context) ([]string, error) {
	return slices.Collect(maps.Keys(f.dbs)), nil
}

func (f *fakeCatalog) ListCollections(_ context.Context, db string) ([]string, error) {
	return slices.Collect(maps.Keys(f.dbs[db])), nil
}

func (f *fakeCatalog) DescribeCollection(_ context.Context, db, name string) (*TargetCollection, error) {
	c := f.dbs[db][name]
	if c == nil {
		return nil, nil
	}
	return &TargetCollection{Properties: maps.Clone(c.Properties), Aliases: slices.Clone(c.Aliases)}, nil
}

func (f *fakeCatalog) DropAlias(_ context.Context, db, alias string) error {
	f.dropped = append(f.dropped, "alias "+db+"."+alias)
	return nil
}

func (f *fakeCatalog) DropCollection(_ context.Context, db, name string) error {
	f.dropped = append(f.dropped, "collection "+db+"."+name)
	delete(f.dbs[db], name)
	return nil
}

// sourceWith answers sourceHas from the IDs given, counting the questions.
func sourceWith(asked *int, ids ...int64) func(context.Context, int64) (bool, error) {
	return func(_ context.Context, id int64) (bool, error) {
		*asked++
		return slices.Contains(ids, id), nil
	}
}

func selectAll(string, string) bool  { return true }
func selectNone(string, string) bool { return false }

func refs(names ...string) []contract.CollectionRef {
	var out []contract.CollectionRef
	for _, n := range names {
		db, name, _ := strings.Cut(n, ".")
		out = append(out, contract.CollectionRef{DB: db, Name: name})
	}
	return out
}

// TestAdoptPlan: the copies of this source cluster's earlier replications
// that the task selects are adopted (their replications listed once, sorted);
// those whose source collection is gone are stale; collections that are no
// copies, copies made before replication tags, and copies the task does
// not select (whoever holds them) are left alone.
func TestAdoptPlan(t *testing.T) {
	tgt := newFakeCatalog()
	tgt.add("default", "a", 1, "old", "C")
	tgt.add("default", "b", 2, "old", "C")
	tgt.add("default", "c", 3, "older", "C")
	tgt.add("default", "d", 1, "old", "C") // a second copy of one source collection: asked once
	tgt.add("default", "plain", 0, "", "")
	tgt.add("default", "pre", 4, "", "")
	tgt.add("other", "held", 5, "live", "C")
	tgt.add("other", "foreign", 6, "old", "D")
	selected := func(db, _ string) bool { return db == "default" }
	asked := 0
	a, err := planAdoption(context.Background(), tgt, "C", []LiveTask{{ID: "live"}}, sourceWith(&asked, 1, 3), selected, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Replications, []string{"old", "older"}) {
		t.Errorf("replications %v, want [old older]", a.Replications)
	}
	if !slices.Equal(a.Copies, refs("default.a", "default.c", "default.d")) {
		t.Errorf("copies %v", a.Copies)
	}
	if want := []StaleCopy{{CollectionRef: refs("default.b")[0], Replication: "old", SourceID: 2}}; !slices.Equal(a.Stale, want) {
		t.Errorf("stale %v, want %v", a.Stale, want)
	}
	if asked != 3 {
		t.Errorf("the source was asked %d times, want 3 (once per source collection)", asked)
	}
	if s := a.String(); !strings.Contains(s, "[old, older]") || !strings.Contains(s, "default.b") {
		t.Errorf("summary %q", s)
	}
}

// TestAdoptConflicts: a selected copy held by a live task, made from another
// source cluster, or not tagged with its cluster is a 409 naming the task,
// the cluster or the reason, and the collection; nothing is adopted.
func TestAdoptConflicts(t *testing.T) {
	for name, tc := range map[string]struct {
		repl, cluster string
		live          []LiveTask
		want          []string
	}{
		"live task":          {"t1", "C", []LiveTask{{ID: "t1", Selects: selectNone}}, []string{"held by task t1", "default.a"}},
		"adopted by a task":  {"old", "C", []LiveTask{{ID: "t2", Adopted: []string{"old"}}}, []string{"held by task t2", "adopted replication old", "default.a"}},
		"adopted, selected":  {"old", "C", []LiveTask{{ID: "t2", Adopted: []string{"old"}, Selects: selectAll}}, []string{"held by task t2"}},
		"another cluster":    {"old", "D", nil, []string{"source cluster D", "default.a"}},
		"no cluster tag":     {"old", "", nil, []string{"cannot be told", "default.a"}},
		"live, other source": {"t1", "D", []LiveTask{{ID: "t1"}}, []string{"held by task t1"}},
	} {
		t.Run(name, func(t *testing.T) {
			tgt := newFakeCatalog()
			tgt.add("default", "a", 1, tc.repl, tc.cluster)
			tgt.add("default", "b", 2, "old", "C")
			asked := 0
			a, err := planAdoption(context.Background(), tgt, "C", tc.live, sourceWith(&asked, 1, 2), selectAll, nil)
			var cf *AdoptionConflict
			if !errors.As(err, &cf) {
				t.Fatalf("error %v (adoption %+v), want an AdoptionConflict", err, a)
			}
			if cf.API().Code != http.StatusConflict {
				t.Errorf("answered %d, want 409", cf.API().Code)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if len(a.Replications) != 0 {
				t.Errorf("adopted %v despite the conflict", a.Replications)
			}
		})
	}
}

// TestAdoptBesideLiveAdopter: a copy of a replication a live task adopted
// but does not select is not held by it: the new task adopts it.
func TestAdoptBesideLiveAdopter(t *testing.T) {
	tgt := newFakeCatalog()
	tgt.add("db1", "a", 1, "old", "C")
	tgt.add("db2", "b", 2, "old", "C")
	live := []LiveTask{{ID: "t2", Adopted: []string{"old"}, Selects: func(db, _ string) bool { return db == "db1" }}}
	asked := 0
	a, err := planAdoption(context.Background(), tgt, "C", live, sourceWith(&asked, 1, 2), func(db, _ string) bool { return db == "db2" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Replications, []string{"old"}) || !slices.Equal(a.Copies, refs("db2.b")) {
		t.Errorf("adoption %+v, want old's copy db2.b", a)
	}
}

// TestAdoptConflictCountsMore: every conflicting copy is counted.
func TestAdoptConflictCountsMore(t *testing.T) {
	tgt := newFakeCatalog()
	tgt.add("default", "a", 1, "t1", "C")
	tgt.add("default", "b", 2, "t1", "C")
	tgt.add("default", "c", 3, "x", "D")
	asked := 0
	_, err := planAdoption(context.Background(), tgt, "C", []LiveTask{{ID: "t1"}}, sourceWith(&asked), selectAll, nil)
	var cf *AdoptionConflict
	if !errors.As(err, &cf) || cf.More != 2 || cf.Collection != refs("default.a")[0] || !strings.Contains(err.Error(), "2 more") {
		t.Fatalf("error %v, want the conflict of default.a and 2 more", err)
	}
	if asked != 0 {
		t.Errorf("the source was asked %d times for an answer that is a conflict", asked)
	}
}

// TestAdoptErrors: a failure of the target or the source is an error with
// its context, not a conflict.
func TestAdoptErrors(t *testing.T) {
	tgt := newFakeCatalog()
	tgt.add("default", "a", 1, "old", "C")
	boom := errors.New("unavailable")
	_, err := planAdoption(context.Background(), tgt, "C", nil, func(context.Context, int64) (bool, error) { return false, boom }, selectAll, nil)
	var cf *AdoptionConflict
	if !errors.Is(err, boom) || errors.As(err, &cf) || !strings.Contains(err.Error(), "default.a") {
		t.Errorf("error %v, want the source's failure naming default.a", err)
	}
}

// TestAdoptDropStale: a stale copy is dropped, its aliases first; one whose
// tags changed since the plan (another task took it, or it was replaced) or
// that is gone is left alone.
func TestAdoptDropStale(t *testing.T) {
	tgt := newFakeCatalog()
	tgt.add("default", "a", 2, "old", "C", "al1", "al2")
	tgt.add("default", "b", 3, "old", "C")
	tgt.add("default", "c", 4, "old", "C")
	asked := 0
	a, err := planAdoption(context.Background(), tgt, "C", nil, sourceWith(&asked), selectAll, nil)
	if err != nil || len(a.Stale) != 3 {
		t.Fatalf("plan %+v, %v: want 3 stale copies", a, err)
	}
	tgt.add("default", "b", 3, "t9", "C") // taken by task t9 meanwhile
	delete(tgt.dbs["default"], "c")       // dropped meanwhile
	dropped, err := DropStale(context.Background(), tgt, "C", a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, refs("default.a")) {
		t.Errorf("dropped %v, want [default.a]", dropped)
	}
	if want := []string{"alias default.al1", "alias default.al2", "collection default.a"}; !slices.Equal(tgt.dropped, want) {
		t.Errorf("calls %v, want %v", tgt.dropped, want)
	}
}
