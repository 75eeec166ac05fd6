package controlplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// stackManager is a manager on the stack's Redis with a fake dial and pin
// and a reconciler that nothing runs.
func stackManager(t *testing.T, maxTasks int) *Manager {
	t.Helper()
	s := stackStore(t)
	id, err := s.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewReconciler(s, id, SourceConfig{ClusterPrefix: "by-dev", DMLChannels: 1}, TLSFiles{}, []string{"http://127.0.0.1:1"}, "", time.Hour,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(s, rec, SourceConfig{}, maxTasks)
	m.dial = func(context.Context, ConnectParam) error { return nil }
	m.dialCatalog = func(context.Context, ConnectParam) (TargetCatalog, func() error, error) {
		return newFakeCatalog(), func() error { return nil }, nil
	}
	m.sourceIDs = func(context.Context) (*SourceCollections, error) { return &SourceCollections{}, nil }
	m.pin = func(context.Context) ([]byte, error) {
		return contract.EncodeCheckpoint(contract.CheckpointState{Positions: map[string][]byte{"by-dev-rootcoord-dml_0": []byte("p")}})
	}
	return m
}

// redisOf is the Redis store of a stackManager.
func redisOf(m *Manager) *RedisStore { return m.store.(*RedisStore) }

func createReq(uri, coll string) CreateRequest {
	return CreateRequest{Target: ConnectParam{URI: uri}, CollectionInfos: []CollectionInfo{{Name: coll}}, DisableAutoStart: true}
}

// TestCreateBlocksNobody: a create whose target dial hangs holds up no
// pause, resume or other create; the task it makes stores its pinned start
// checkpoint before create answers.
func TestCreateBlocksNobody(t *testing.T) {
	m := stackManager(t, 0)
	ctx := context.Background()
	id, err := m.Create(ctx, createReq("http://a:1", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	pos, err := m.Position(ctx, id)
	if err != nil || pos["by-dev-rootcoord-dml_0"] != contract.EncodePosition([]byte("p")) {
		t.Fatalf("the pinned start is not stored before create answered: %v %v", pos, err)
	}
	release := make(chan struct{})
	m.dial = func(ctx context.Context, p ConnectParam) error {
		if strings.Contains(p.URI, "slow") {
			<-release
		}
		return nil
	}
	slow := make(chan error, 1)
	go func() { _, err := m.Create(ctx, createReq("http://slow:1", "c2")); slow <- err }()
	time.Sleep(50 * time.Millisecond) // the slow create is dialing
	done := make(chan error, 1)
	go func() {
		if err := m.Resume(ctx, id); err != nil {
			done <- err
			return
		}
		_, err := m.Create(ctx, createReq("http://b:1", "c3"))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("resume and create waited for another create's target dial")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
}

// TestMaxTasks: creates beyond max_tasks are refused with a 400 that says so.
func TestMaxTasks(t *testing.T) {
	m := stackManager(t, 2)
	ctx := context.Background()
	for i, c := range []string{"a", "b"} {
		if _, err := m.Create(ctx, createReq("http://t:1", c)); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	_, err := m.Create(ctx, createReq("http://t:1", "c"))
	if ae, ok := err.(*APIError); !ok || ae.Code != http.StatusBadRequest || !strings.Contains(ae.Message, "max_tasks") {
		t.Fatalf("third create: %v, want a 400 naming max_tasks", err)
	}
}

// TestStoreLossRefusesRequests: once the store has lost its data (its
// identity is gone), every request is a 503 saying so, never an empty list.
func TestStoreLossRefusesRequests(t *testing.T) {
	m := stackManager(t, 0)
	ctx := context.Background()
	if _, err := m.List(ctx); err != nil {
		t.Fatal(err)
	}
	if err := redisOf(m).rdb.Del(ctx, redisOf(m).key(contract.KeyStoreID)).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := m.List(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "lost its data") {
		t.Fatalf("list after the store lost its identity: %v, want a 503 saying so", err)
	}
	if err := m.Pause(ctx, "any"); !errors.As(err, &ae) || ae.Code != http.StatusServiceUnavailable {
		t.Fatalf("pause after the store lost its identity: %v, want a 503", err)
	}
}
