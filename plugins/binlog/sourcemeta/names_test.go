package sourcemeta

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

type fakeLister struct {
	cols    map[string]map[int64]string
	calls   int
	err     error
	dropped map[int64]string // described as of an earlier time only (dropped since)
}

func (f *fakeLister) ListDatabases(ctx context.Context) ([]string, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var dbs []string
	for db := range f.cols {
		dbs = append(dbs, db)
	}
	return dbs, nil
}

func (f *fakeLister) DescribeID(_ context.Context, id int64, ts uint64) (Description, error) {
	for _, cols := range f.cols {
		if name, ok := cols[id]; ok {
			return Description{Found: true, Name: name}, nil
		}
	}
	if name, ok := f.dropped[id]; ok && ts != 0 {
		return Description{Found: true, Name: name}, nil
	}
	return Description{}, nil
}

func (f *fakeLister) DescribeAt(ctx context.Context, _ string, id int64, ts uint64) (Description, error) {
	return f.DescribeID(ctx, id, ts)
}

func (f *fakeLister) DescribeName(_ context.Context, db, name string) (int64, Description, error) {
	for id, n := range f.cols[db] {
		if n == name {
			return id, Description{Found: true, Name: n}, nil
		}
	}
	return 0, Description{}, nil
}

func (f *fakeLister) ShowCollections(ctx context.Context, db string) (map[int64]string, error) {
	return f.cols[db], nil
}

func TestSourceMetaResolvesAndRemembersDropped(t *testing.T) {
	l := &fakeLister{cols: map[string]map[int64]string{"default": {1: "a"}, "db2": {2: "b"}}}
	m := NewCatalog(l, nil)
	m.minInterval = 0
	ctx := context.Background()
	old := time.Now().Add(-time.Hour) // messages written long ago
	ref, ok, err := resolve3(m, ctx, 2, old)
	if err != nil || !ok || ref != (contract.CollectionRef{DB: "db2", Name: "b"}) {
		t.Fatalf("resolve(2) = %v %v %v", ref, ok, err)
	}
	calls := l.calls
	if _, ok, _ := resolve3(m, ctx, 1, old); !ok || l.calls != calls {
		t.Fatal("a cached ID must not ask the source again")
	}
	delete(l.cols["db2"], 2) // dropped on the source
	if ref, ok, _ := resolve3(m, ctx, 2, old); !ok || ref.Name != "b" {
		t.Fatal("a dropped collection must keep its names")
	}
	m.maxWait = 10 * time.Millisecond
	if _, ok, err := resolve3(m, ctx, 99, old); ok || err != nil {
		t.Fatalf("unknown ID: found=%v err=%v", ok, err)
	}
	l.err = errors.New("unreachable")
	if _, _, err := resolve3(m, ctx, 98, time.Now()); err == nil {
		t.Fatal("a source error must be returned, not taken as 'unknown'")
	}
	if !m.FirstWarning(98) || m.FirstWarning(98) {
		t.Fatal("firstWarning must be true once per ID")
	}
}

// TestSourceMetaWaitsForNewCollection: a CreateCollection is in the log before
// ShowCollections lists it; a fresh message's miss is retried, not taken as
// "dropped".
func TestSourceMetaWaitsForNewCollection(t *testing.T) {
	l := &lockedLister{fakeLister: fakeLister{cols: map[string]map[int64]string{"db": {}}}}
	m := NewCatalog(l, nil)
	m.minInterval = 10 * time.Millisecond
	go func() {
		time.Sleep(100 * time.Millisecond)
		l.mu.Lock()
		l.cols["db"][7] = "fresh"
		l.mu.Unlock()
	}()
	ref, ok, err := resolve3(m, context.Background(), 7, time.Now())
	if err != nil || !ok || ref.Name != "fresh" {
		t.Fatalf("a collection listed 100 ms after its message: %v %v %v", ref, ok, err)
	}
	// An ID the source never knew is settled after maxWait.
	m.maxWait = 50 * time.Millisecond
	start := time.Now()
	if _, ok, err := resolve3(m, context.Background(), 8, time.Now()); ok || err != nil {
		t.Fatalf("never-listed ID: %v %v", ok, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("settling an unknown ID took %s", d)
	}
	calls := l.calls
	if _, ok, _ := resolve3(m, context.Background(), 8, time.Now()); ok || l.calls != calls {
		t.Fatal("a settled unknown ID must not ask the source again")
	}
}

type lockedLister struct {
	mu sync.Mutex
	fakeLister
}

func (l *lockedLister) DescribeAt(ctx context.Context, _ string, id int64, ts uint64) (Description, error) {
	return l.DescribeID(ctx, id, ts)
}

func (l *lockedLister) DescribeID(ctx context.Context, id int64, ts uint64) (Description, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fakeLister.DescribeID(ctx, id, ts)
}

func (l *lockedLister) ListDatabases(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fakeLister.ListDatabases(ctx)
}

func (l *lockedLister) ShowCollections(ctx context.Context, db string) (map[int64]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]string{}
	for k, v := range l.cols[db] {
		out[k] = v
	}
	return out, nil
}

// resolve3 drops the gone flag for the older tests.
func resolve3(m *Catalog, ctx context.Context, id int64, at time.Time) (contract.CollectionRef, bool, error) {
	ref, found, _, err := m.Resolve(ctx, id, tsAt(at), true)
	return ref, found, err
}

func TestSourceMetaRemembersFromCheckpoint(t *testing.T) {
	l := &fakeLister{cols: map[string]map[int64]string{"default": {1: "live"}}}
	m := NewCatalog(l, nil)
	m.minInterval = 0
	m.Remember(map[int64]contract.CollectionRef{1: {DB: "default", Name: "live"}, 5: {DB: "db5", Name: "gone"}})
	old := time.Now().Add(-time.Hour)
	l.dropped = map[int64]string{5: "gone"}
	if ref, found, gone, err := m.Resolve(context.Background(), 5, tsAt(old), false); err != nil || !found || !gone || ref.DB != "db5" {
		t.Fatalf("remembered dropped collection: %v %v %v %v", ref, found, gone, err)
	}
	if _, found, gone, _ := m.Resolve(context.Background(), 1, tsAt(old), false); !found || gone {
		t.Fatal("a live collection must not be reported gone")
	}
}

// TestSourceMetaSlowListingIsNotADrop: a collection whose message looks old
// (the worker's clock ahead of the source's) and that the source lists only
// later (a slow coordinator) is waited for, not taken as dropped: only the
// source's answer by ID decides "dropped".
func TestSourceMetaSlowListingIsNotADrop(t *testing.T) {
	l := &lockedLister{fakeLister: fakeLister{cols: map[string]map[int64]string{"db": {}}}}
	m := NewCatalog(l, nil)
	m.minInterval = 10 * time.Millisecond
	go func() {
		time.Sleep(2500 * time.Millisecond)
		l.mu.Lock()
		l.cols["db"][7] = "slow"
		l.mu.Unlock()
	}()
	ref, found, gone, err := m.Resolve(context.Background(), 7, tsAt(time.Now().Add(-time.Minute)), true)
	if err != nil || !found || gone || ref != (contract.CollectionRef{DB: "db", Name: "slow"}) {
		t.Fatalf("a collection listed 2.5 s late: %v found=%v gone=%v %v", ref, found, gone, err)
	}
	// Dropped since its message: the source knows it as of the message only.
	l.mu.Lock()
	l.dropped = map[int64]string{8: "old"}
	l.mu.Unlock()
	start := time.Now()
	ref, found, gone, err = m.Resolve(context.Background(), 8, tsAt(time.Now()), true)
	if err != nil || found || !gone || ref.Name != "old" || time.Since(start) > time.Second {
		t.Fatalf("dropped since: %v found=%v gone=%v %v after %s", ref, found, gone, err, time.Since(start))
	}
}

// TestSourceMetaWriteOfUnknownIsGone: a write names a collection that was
// created (rows are only written to one); if the source does not have it
// now, it was dropped: settled at once, even where the source cannot say
// what it was (a dropped database).
func TestSourceMetaWriteOfUnknownIsGone(t *testing.T) {
	l := &fakeLister{cols: map[string]map[int64]string{"db": {}}}
	m := NewCatalog(l, nil)
	m.minInterval = 0
	start := time.Now()
	_, found, gone, err := m.Resolve(context.Background(), 9, tsAt(time.Now()), false)
	if err != nil || found || !gone || time.Since(start) > time.Second {
		t.Fatalf("write of an unknown collection: found=%v gone=%v %v after %s", found, gone, err, time.Since(start))
	}
}
