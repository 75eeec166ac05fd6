package milvus

import (
	"context"
	"errors"
	"testing"
)

type fakeLister struct {
	cols  map[string]map[int64]string
	calls int
	err   error
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

func (f *fakeLister) ShowCollections(ctx context.Context, db string) (map[int64]string, error) {
	return f.cols[db], nil
}

func TestSourceMetaResolvesAndRemembersDropped(t *testing.T) {
	l := &fakeLister{cols: map[string]map[int64]string{"default": {1: "a"}, "db2": {2: "b"}}}
	m := newSourceMeta(l)
	m.minInterval = 0
	ctx := context.Background()
	ref, ok, err := m.resolve(ctx, 2)
	if err != nil || !ok || ref != (collectionRef{DB: "db2", Name: "b"}) {
		t.Fatalf("resolve(2) = %v %v %v", ref, ok, err)
	}
	calls := l.calls
	if _, ok, _ := m.resolve(ctx, 1); !ok || l.calls != calls {
		t.Fatal("a cached ID must not ask the source again")
	}
	delete(l.cols["db2"], 2) // dropped on the source
	if ref, ok, _ := m.resolve(ctx, 2); !ok || ref.Name != "b" {
		t.Fatal("a dropped collection must keep its names")
	}
	if _, ok, err := m.resolve(ctx, 99); ok || err != nil {
		t.Fatalf("unknown ID: found=%v err=%v", ok, err)
	}
	l.err = errors.New("unreachable")
	if _, _, err := m.resolve(ctx, 98); err == nil {
		t.Fatal("a source error must be returned, not taken as 'unknown'")
	}
	if !m.firstWarning(98) || m.firstWarning(98) {
		t.Fatal("firstWarning must be true once per ID")
	}
}
