package sourcemeta

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

type fakeParts struct {
	parts   map[string][]string         // "db.coll" → partitions
	loaded  map[string][]string         // "db.coll" → loaded partitions
	props   map[int64]map[string]string // collection ID → properties
	aliases map[int64][]string
	calls   int
}

func (f *fakeParts) DescribeID(_ context.Context, id int64, _ uint64) (Description, error) {
	return Description{Found: true, Level: "Bounded", Props: f.props[id], Aliases: f.aliases[id]}, nil
}

func (f *fakeParts) LoadedPartitions(_ context.Context, db, coll string) ([]string, error) {
	return f.loaded[db+"."+coll], nil
}

func (f *fakeParts) Partitions(_ context.Context, db, coll string) ([]string, error) {
	f.calls++
	p, ok := f.parts[db+"."+coll]
	if !ok {
		return nil, errors.New("milvus error: collection not found")
	}
	return p, nil
}

func TestCatalogWatchFindsEmptyPartitions(t *testing.T) {
	src := &fakeParts{parts: map[string][]string{"db1.c": {"_default", "p1", "p2"}}}
	now := time.Unix(1000, 0)
	w := NewCatalogWatch(src, nil, 3*time.Second)
	w.now = func() time.Time { return now }
	if w.Due() {
		t.Fatal("due with nothing to watch")
	}
	w.Observe(&wal.Event{Op: contract.OpCreateCollection, DbName: "db1", CollectionName: "c", CollectionID: 7})
	w.Observe(&wal.Event{Op: contract.OpInsert, DbName: "db1", CollectionName: "c", CollectionID: 7, PartitionName: "p1"})
	if !w.Due() {
		t.Fatal("not due after a collection appeared")
	}
	evs, err := w.Check(context.Background(), "ch", 42, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].PartitionName != "p2" || evs[0].Op != contract.OpCreatePartition ||
		evs[0].CollectionID != 7 || evs[0].DbName != "db1" || evs[0].Ts != 42 || evs[0].Channel != "ch" || string(evs[0].Position) != "\x01" {
		t.Fatalf("events %+v, want one create_partition p2 of db1.c at ts 42", evs)
	}
	if w.Due() {
		t.Fatal("due again before the interval passed")
	}
	now = now.Add(3 * time.Second)
	if evs, _ := w.Check(context.Background(), "ch", 43, nil); len(evs) != 0 {
		t.Fatalf("p2 emitted twice: %+v", evs)
	}
	// Dropped, then made again: emitted again.
	w.Observe(&wal.Event{Op: contract.OpDropPartition, CollectionID: 7, PartitionName: "p2"})
	if evs, _ := w.Check(context.Background(), "ch", 44, nil); len(evs) != 1 || evs[0].PartitionName != "p2" {
		t.Fatalf("re-created p2 not emitted: %+v", evs)
	}
	// A collection the source no longer lists is not an error; a dropped one is no longer asked.
	delete(src.parts, "db1.c")
	if _, err := w.Check(context.Background(), "ch", 45, nil); err != nil {
		t.Fatalf("not-found reported as an error: %v", err)
	}
	w.Observe(&wal.Event{Op: contract.OpDropCollection, CollectionID: 7})
	calls := src.calls
	now = now.Add(time.Minute)
	if w.Due() {
		t.Fatal("due with every collection dropped")
	}
	if _, _ = w.Check(context.Background(), "ch", 46, nil); src.calls != calls {
		t.Fatal("a dropped collection was listed")
	}
}

func TestCatalogWatchIgnoresHistory(t *testing.T) {
	w := NewCatalogWatch(&fakeParts{}, nil, time.Second)
	w.Observe(&wal.Event{Op: contract.OpCreateCollection, DbName: "d", CollectionName: "gone", CollectionID: 3, SourceGone: true})
	w.Observe(&wal.Event{Op: contract.OpCreateIndex, DbName: "d", CollectionName: "c", CollectionID: 4})
	if w.Due() {
		t.Fatal("watching a collection the source dropped, or one seen only through an index")
	}
}

func TestCatalogWatchFindsChangedProperties(t *testing.T) {
	src := &fakeParts{parts: map[string][]string{"d.c": {"_default"}}, props: map[int64]map[string]string{}}
	now := time.Unix(1000, 0)
	w := NewCatalogWatch(src, nil, time.Second)
	w.now = func() time.Time { return now }
	w.Observe(&wal.Event{Op: contract.OpCreateCollection, DbName: "d", CollectionName: "c", CollectionID: 9,
		Properties: map[string]string{"collection.ttl.seconds": "60"}})
	src.props[9] = map[string]string{"collection.ttl.seconds": "60"}
	if evs, err := w.Check(context.Background(), "ch", 5, nil); err != nil || len(evs) != 0 {
		t.Fatalf("unchanged properties gave %+v, %v", evs, err)
	}
	src.props[9] = map[string]string{"collection.ttl.seconds": "3600"}
	now = now.Add(time.Second)
	evs, err := w.Check(context.Background(), "ch", 6, []byte{2})
	if err != nil || len(evs) != 1 || evs[0].Op != contract.OpAlterCollection || evs[0].Properties["collection.ttl.seconds"] != "3600" || evs[0].Ts != 6 {
		t.Fatalf("events %+v, %v; want one alter_collection with the new TTL at ts 6", evs, err)
	}
	now = now.Add(time.Second)
	if evs, _ := w.Check(context.Background(), "ch", 7, nil); len(evs) != 0 {
		t.Fatalf("the same change emitted twice: %+v", evs)
	}
}

// A hybrid timestamp of t (physical milliseconds << 18).
func tsAt(t time.Time) uint64 { return uint64(t.UnixMilli()) << 18 }

func TestCatalogWatchFollowsAliasesLoadsAndRenames(t *testing.T) {
	src := &fakeParts{parts: map[string][]string{"d.c": {"_default", "p1"}, "e.c2": {"_default", "p1"}},
		loaded: map[string][]string{}, aliases: map[int64][]string{9: {"a1"}}}
	lister := &fakeLister{cols: map[string]map[int64]string{"d": {9: "c"}}}
	cat := NewCatalog(lister, nil)
	now := time.Now()
	w := NewCatalogWatch(src, cat, time.Second)
	w.now = func() time.Time { return now }
	cat.now = w.now
	w.Observe(&wal.Event{Op: contract.OpInsert, DbName: "d", CollectionName: "c", CollectionID: 9, PartitionName: "p1"})
	ops := func(evs []*wal.Event) (s []string) {
		for _, e := range evs {
			s = append(s, e.Op+":"+e.Alias+strings.Join(e.Partitions, ","))
		}
		return s
	}
	evs, err := w.Check(context.Background(), "ch", tsAt(now), nil)
	if got := ops(evs); err != nil || !slices.Equal(got, []string{"create_alias:a1"}) {
		t.Fatalf("first check: %v %v; want the alias only (an unloaded collection needs no release)", got, err)
	}
	// Loaded p1 only; alias a1 moved away, a2 made.
	src.loaded["d.c"] = []string{"p1"}
	src.aliases[9] = []string{"a2"}
	now = now.Add(time.Second)
	evs, _ = w.Check(context.Background(), "ch", tsAt(now), nil)
	if got := ops(evs); !slices.Equal(got, []string{"create_alias:a2", "drop_alias:a1", "load_partitions:p1"}) {
		t.Fatalf("second check: %v", got)
	}
	// Renamed across databases: the events follow under the new names.
	lister.cols = map[string]map[int64]string{"d": {}, "e": {9: "c2"}}
	src.loaded["e.c2"] = nil
	now = now.Add(time.Second)
	evs, _ = w.Check(context.Background(), "ch", tsAt(now), nil)
	if len(evs) < 1 || evs[0].Op != contract.OpRenameCollection || evs[0].DbName != "e" || evs[0].CollectionName != "c2" ||
		evs[0].RenamedFrom == nil || *evs[0].RenamedFrom != (contract.CollectionRef{DB: "d", Name: "c"}) {
		t.Fatalf("rename: %+v", evs)
	}
	if got := ops(evs[1:]); !slices.Equal(got, []string{"release_partitions:p1"}) || evs[1].DbName != "e" {
		t.Fatalf("after the rename: %v", got)
	}
	if r := cat.TakeRenames(); len(r) != 1 || r[0].ID != 9 {
		t.Fatalf("the shared listing's renames: %+v", r)
	}
	// Replaying history (ticks an hour old): loads are not copied.
	src.loaded["e.c2"] = []string{"_default", "p1"}
	now = now.Add(time.Second)
	if evs, _ := w.Check(context.Background(), "ch", tsAt(now.Add(-time.Hour)), nil); len(evs) != 0 {
		t.Fatalf("loads copied while replaying history: %v", ops(evs))
	}
}

// TestCatalogWatchSeeded: a collection streamed before this run is watched
// without a new write: what changed while no reader ran reaches the target.
func TestCatalogWatchSeeded(t *testing.T) {
	src := &fakeParts{parts: map[string][]string{"d.c": {"_default", "p9"}}, aliases: map[int64][]string{4: {"al"}},
		props: map[int64]map[string]string{4: {"collection.ttl.seconds": "5"}}}
	w := NewCatalogWatch(src, nil, time.Second)
	w.Seed(4, contract.CollectionRef{DB: "d", Name: "c"})
	if !w.Due() {
		t.Fatal("a seeded collection is not watched")
	}
	evs, err := w.Check(context.Background(), "ch", tsAt(time.Now()), nil)
	var ops []string
	for _, e := range evs {
		ops = append(ops, e.Op)
	}
	if err != nil || !slices.Equal(ops, []string{contract.OpCreatePartition, contract.OpAlterCollection, contract.OpCreateAlias}) {
		t.Fatalf("first check of a seeded collection: %v %v", ops, err)
	}
}

// TestCatalogWatchDropsAliasesBeforeRename: an alias dropped and the
// collection renamed within one check go out alias drop first (Milvus
// refuses to move a collection with aliases to another database).
func TestCatalogWatchDropsAliasesBeforeRename(t *testing.T) {
	src := &fakeParts{parts: map[string][]string{"d.c": {"_default"}, "e.c": {"_default"}}, aliases: map[int64][]string{9: {"x"}}}
	lister := &fakeLister{cols: map[string]map[int64]string{"d": {9: "c"}}}
	cat := NewCatalog(lister, nil)
	w := NewCatalogWatch(src, cat, 0)
	w.Observe(&wal.Event{Op: contract.OpInsert, DbName: "d", CollectionName: "c", CollectionID: 9})
	if _, err := w.Check(context.Background(), "ch", tsAt(time.Now()), nil); err != nil {
		t.Fatal(err)
	}
	src.aliases[9] = nil
	lister.cols = map[string]map[int64]string{"e": {9: "c"}}
	evs, err := w.Check(context.Background(), "ch", tsAt(time.Now()), nil)
	var ops []string
	for _, e := range evs {
		ops = append(ops, e.Op)
	}
	if err != nil || !slices.Equal(ops, []string{contract.OpDropAlias, contract.OpRenameCollection}) {
		t.Fatalf("events %v (%v), want drop_alias then rename_collection", ops, err)
	}
}
