package snapshot

import (
	"context"
	"errors"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// memState is a stored snapshot state, as the checkpointer keeps it.
type memState struct {
	st     *contract.SnapshotState
	writes int
}

func (m *memState) save(_ context.Context, fn func(*contract.SnapshotState)) error {
	if m.st == nil {
		m.st = &contract.SnapshotState{}
	}
	fn(m.st)
	m.writes++
	return nil
}

func (m *memState) get() *contract.SnapshotState {
	if m.st == nil {
		return nil
	}
	return m.st.Clone()
}

// TestPhasesWalk: pending → copying → catching_up → done, each written
// once, done only once the stream passed the copy's timestamp.
func TestPhasesWalk(t *testing.T) {
	ctx := context.Background()
	m := &memState{st: Request()}
	if !Unplanned(m.get()) {
		t.Fatal("a requested snapshot is not unplanned")
	}
	p := NewPhases(m.save, m.get, service.MockResources().Logger())
	plan := []contract.SnapshotCollection{{ID: 1, DB: "d", Name: "a"}, {ID: 2, DB: "d", Name: "b"}}
	if err := p.Plan(ctx, plan, 100); err != nil || Unplanned(m.get()) || m.st.State != contract.SnapshotPending || m.st.GuaranteeTs != 100 {
		t.Fatalf("plan: %+v %v", m.st, err)
	}
	if err := p.Begin(ctx); err != nil || m.st.State != contract.SnapshotCopying {
		t.Fatalf("begin: %+v %v", m.st, err)
	}
	if err := p.Copied(ctx); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("copied with nothing done: %v", err)
	}
	m.st.Collections[0].Done = true
	m.st.Collections[1].Waiting = "no index"
	if err := p.Copied(ctx); err != nil || m.st.State != contract.SnapshotCatchingUp || m.st.EndTs != 100 {
		t.Fatalf("copied: %+v %v", m.st, err)
	}
	p.CaughtUp(ctx, func(ts uint64) bool { return ts < 100 })
	if m.st.State != contract.SnapshotCatchingUp {
		t.Fatal("done before the stream passed the copy's end")
	}
	// A restart in catching_up goes on watching for the same end.
	q := NewPhases(m.save, m.get, service.MockResources().Logger())
	q.CaughtUp(ctx, func(ts uint64) bool { return ts == 100 })
	if m.st.State != contract.SnapshotDone {
		t.Fatalf("not done past the end: %+v", m.st)
	}
	writes := m.writes
	q.CaughtUp(ctx, func(uint64) bool { return true })
	if m.writes != writes {
		t.Fatal("wrote again once done")
	}
}

// TestPhasesWaitingCollections: a waiting collection found readable is
// planned at its own timestamp (a deferred copy); one found dropped is
// done and gone.
func TestPhasesWaitingCollections(t *testing.T) {
	ctx := context.Background()
	m := &memState{st: &contract.SnapshotState{State: contract.SnapshotDone, Collections: []contract.SnapshotCollection{
		{ID: 1, DB: "d", Name: "a", Waiting: "no index", CatalogDone: true},
		{ID: 2, DB: "d", Name: "b", Waiting: "no index"},
	}}}
	p := NewPhases(m.save, m.get, service.MockResources().Logger())
	if err := p.Readable(ctx, map[int64]contract.CollectionRef{1: {DB: "d", Name: "a2"}}, 700); err != nil {
		t.Fatal(err)
	}
	if err := p.Gone(ctx, []int64{2}); err != nil {
		t.Fatal(err)
	}
	a, b := m.st.Collection(1), m.st.Collection(2)
	if a.Waiting != "" || a.GuaranteeTs != 700 || a.CatalogDone || a.Name != "a2" || len(m.st.Deferred()) != 1 {
		t.Fatalf("readable: %+v", a)
	}
	if !b.Done || b.Gone == "" || b.Waiting != "" {
		t.Fatalf("gone: %+v", b)
	}
	if err := p.DeferredCopied(); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("deferred copy not done yet: %v", err)
	}
	a.Done = true
	if err := p.DeferredCopied(); err != nil {
		t.Fatal(err)
	}
}
