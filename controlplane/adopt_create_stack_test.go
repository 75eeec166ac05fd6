package controlplane

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
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
	m.sourceIDs = func(context.Context) (*SourceCollections, error) {
		return &SourceCollections{IDs: map[int64]bool{5: true}, Names: map[contract.CollectionRef]bool{{DB: "db1", Name: "c"}: true}}, nil
	}
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
	y, err := m.runner.(*Reconciler).render.render(task, "r1")
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

	// A copy of this source made by another control plane's task: refused
	// (whether it still runs cannot be told); another cluster's copy at a
	// name the source does not have is left alone.
	cluster, _ := contract.SplitCopyOrigin(m.sourceCluster())
	other.add("db1", "c", 7, "x", contract.CopyOrigin(cluster, "otherstore"))
	other.add("db2", "unrelated", 8, "y", "by-dev@elsewhere:19530")
	_, err = m.Create(ctx, CreateRequest{TaskID: "adopt2", Target: ConnectParam{URI: "http://t2:1"}, CollectionInfos: []CollectionInfo{{Name: "*"}}})
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusConflict || !strings.Contains(apiErr.Message, "otherstore") {
		t.Fatalf("create onto another control plane's copies: %v, want 409 naming its store", err)
	}
	delete(other.dbs["db1"], "c")
	t.Cleanup(func() { _ = m.store.Delete(context.Background(), "adopt2") })
	if _, err := m.Create(ctx, CreateRequest{TaskID: "adopt2", Target: ConnectParam{URI: "http://t2:1"}, CollectionInfos: []CollectionInfo{{Name: "*"}}, DisableAutoStart: true}); err != nil {
		t.Fatalf("a copy the task would not write to refused the create: %v", err)
	}
	if len(other.dropped) != 0 {
		t.Fatalf("dropped %v on a target whose copies are not ours", other.dropped)
	}
}
