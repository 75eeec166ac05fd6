package controlplane

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestCreateAdoptsLeftCopies: create takes over the copies a deleted task of
// the same source left on the target (stored with the task, so its stream
// adopts them), drops a copy whose source collection is gone, and refuses
// (409, naming the cluster) a target holding copies of another source.
func TestCreateAdoptsLeftCopies(t *testing.T) {
	m := stackManager(t, 10)
	ctx := context.Background()
	cat := newFakeCatalog()
	cat.add("default", "kept", 5, "old", m.sourceCluster())
	cat.add("default", "gone", 6, "old", m.sourceCluster())
	m.dialCatalog = func(context.Context, ConnectParam) (TargetCatalog, func() error, error) {
		return cat, func() error { return nil }, nil
	}
	m.sourceIDs = func(context.Context) (map[int64]bool, error) { return map[int64]bool{5: true}, nil }
	req := CreateRequest{TaskID: "adopt1", Target: ConnectParam{URI: "http://t:1"}, CollectionInfos: []CollectionInfo{{Name: "*"}}, DisableAutoStart: true}
	t.Cleanup(func() { _ = m.store.Delete(context.Background(), "adopt1") })
	if _, err := m.Create(ctx, req); err != nil {
		t.Fatal(err)
	}
	task, err := m.store.Get(ctx, "adopt1")
	if err != nil || !slices.Equal(task.Adopted, []string{"old"}) {
		t.Fatalf("stored task adopts %v (%v), want [old]", task.Adopted, err)
	}
	if !slices.Contains(cat.dropped, "collection default.gone") || slices.Contains(cat.dropped, "collection default.kept") {
		t.Fatalf("dropped %v: want the copy whose source is gone, not the other", cat.dropped)
	}
	y, err := m.rec.render.render(task, "r1")
	if err != nil || !strings.Contains(string(y), `adopt_replications: [ "old" ]`) {
		t.Fatalf("the stream does not adopt the copies (%v):\n%s", err, y)
	}

	other := newFakeCatalog()
	other.add("db1", "c", 7, "x", "by-dev@elsewhere:19530")
	m.dialCatalog = func(context.Context, ConnectParam) (TargetCatalog, func() error, error) {
		return other, func() error { return nil }, nil
	}
	_, err = m.Create(ctx, CreateRequest{TaskID: "adopt2", Target: ConnectParam{URI: "http://t2:1"}, CollectionInfos: []CollectionInfo{{Name: "*"}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusConflict || !strings.Contains(apiErr.Message, "elsewhere:19530") {
		t.Fatalf("create onto another source's copies: %v, want 409 naming the cluster", err)
	}
	if _, err := m.store.Get(ctx, "adopt2"); err == nil {
		t.Fatal("a refused create stored its task")
	}
}
