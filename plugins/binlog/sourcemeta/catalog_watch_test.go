package sourcemeta

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

type fakeParts struct {
	parts map[string][]string         // "db.coll" → partitions
	props map[int64]map[string]string // collection ID → properties
	calls int
}

func (f *fakeParts) DescribeCollection(_ context.Context, id int64) (string, map[string]string, bool, error) {
	return "Bounded", f.props[id], true, nil
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
	w := NewCatalogWatch(src, 3*time.Second)
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
	w := NewCatalogWatch(&fakeParts{}, time.Second)
	w.Observe(&wal.Event{Op: contract.OpCreateCollection, DbName: "d", CollectionName: "gone", CollectionID: 3, SourceGone: true})
	w.Observe(&wal.Event{Op: contract.OpCreateIndex, DbName: "d", CollectionName: "c", CollectionID: 4})
	if w.Due() {
		t.Fatal("watching a collection the source dropped, or one seen only through an index")
	}
}

func TestCatalogWatchFindsChangedProperties(t *testing.T) {
	src := &fakeParts{parts: map[string][]string{"d.c": {"_default"}}, props: map[int64]map[string]string{}}
	now := time.Unix(1000, 0)
	w := NewCatalogWatch(src, time.Second)
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
