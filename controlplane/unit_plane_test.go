package controlplane

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// unitStoreID is the identity of the fake store of a unitPlane.
const unitStoreID = "unitstore"

// unitPlane is a control plane without a stack: the real Manager and
// Reconciler over a fakeStore and fakeWorkers, with fake target, source and
// Pulsar dials.
type unitPlane struct {
	m       *Manager
	rec     *Reconciler
	store   *fakeStore
	workers *fakeWorkers
	logs    *syncBuffer
}

func newUnitPlane(t *testing.T, workers ...string) *unitPlane {
	t.Helper()
	store := newFakeStore(unitStoreID)
	ws := newFakeWorkers(store, workers...)
	r, err := newRenderer(SourceConfig{Address: "source:19530", PulsarURL: "pulsar://pulsar:6650", ClusterPrefix: "by-dev", DMLChannels: 2},
		TLSFiles{}, unitStoreID, "unit:")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	rec := newReconciler(store, ws, r, unitStoreID, time.Hour, slog.New(slog.NewTextHandler(logs, nil)))
	m := NewManager(store, rec, SourceConfig{Address: "source:19530", ClusterPrefix: "by-dev"}, 0)
	m.dial = func(context.Context, ConnectParam) error { return nil }
	m.dialCatalog = func(context.Context, ConnectParam) (TargetCatalog, func() error, error) {
		return newFakeCatalog(), func() error { return nil }, nil
	}
	m.sourceIDs = func(context.Context) (*SourceCollections, error) { return &SourceCollections{}, nil }
	m.pin = func(context.Context) ([]byte, error) {
		return contract.EncodeCheckpoint(contract.CheckpointState{Positions: map[string][]byte{"by-dev-rootcoord-dml_0": []byte("p")}})
	}
	return &unitPlane{m: m, rec: rec, store: store, workers: ws, logs: logs}
}

// create makes a task of id copying collection coll to target uri, Running
// unless paused.
func (p *unitPlane) create(t *testing.T, id, uri, coll string, paused bool) {
	t.Helper()
	req := CreateRequest{TaskID: id, Target: ConnectParam{URI: uri, Token: "root:secret"}, CollectionInfos: []CollectionInfo{{Name: coll}},
		DisableAutoStart: paused}
	if got, err := p.m.Create(context.Background(), req); err != nil || got != id {
		t.Fatalf("create %s: %q %v", id, got, err)
	}
}

// pass runs one reconcile pass, which must not fail.
func (p *unitPlane) pass(t *testing.T) {
	t.Helper()
	if err := p.rec.Pass(context.Background()); err != nil {
		t.Fatalf("reconcile pass: %v", err)
	}
}

// task is the stored task id, which must exist.
func (p *unitPlane) task(t *testing.T, id string) Task {
	t.Helper()
	task, ok := p.store.task(id)
	if !ok {
		t.Fatalf("task %s is not stored", id)
	}
	return task
}

// runningOn fails unless exactly one stream of task id runs, on worker, and
// belongs to the task's current run; it returns that run.
func (p *unitPlane) runningOn(t *testing.T, id, worker string) string {
	t.Helper()
	on, labels := p.workers.where(id)
	if len(on) != 1 || on[0] != worker {
		t.Fatalf("task %s runs on %v, want only %s", id, on, worker)
	}
	run, _ := p.store.Run(context.Background(), id)
	if want := contract.RunLabel(unitStoreID, run); run == "" || labels[0] != want {
		t.Fatalf("the stream of task %s is labelled %q, want the current run's %q", id, labels[0], want)
	}
	if got := p.task(t, id).Worker; got != worker {
		t.Fatalf("task %s records worker %q, runs on %s", id, got, worker)
	}
	return run
}

// notRunning fails if a stream of task id runs anywhere.
func (p *unitPlane) notRunning(t *testing.T, id string) {
	t.Helper()
	if on, _ := p.workers.where(id); len(on) != 0 {
		t.Fatalf("task %s still runs on %v", id, on)
	}
}

// wantAPICode fails unless err is an *APIError of code whose message holds
// want.
func wantAPICode(t *testing.T, what string, err error, code int, want string) {
	t.Helper()
	ae, ok := err.(*APIError)
	if !ok || ae.Code != code || !strings.Contains(ae.Message, want) {
		t.Fatalf("%s: %v, want a %d saying %q", what, err, code, want)
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
