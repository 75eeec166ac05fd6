package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Create checks the request, dials the target and pins the task's start
// positions, all without the manager's lock (a create aimed at an
// unreachable target holds up no other request), then stores the task with
// its first checkpoint before it answers.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (string, error) {
	if err := m.intact(ctx); err != nil {
		return "", err
	}
	id := req.TaskID
	if id == "" {
		id = newTaskID()
	}
	if req.Snapshot == "" {
		req.Snapshot = SnapshotInitial
	}
	if repeat, err := m.checkCreate(ctx, id, req); err != nil || repeat {
		return id, err
	}
	adoption, ckpt, err := m.prepare(ctx, id, req)
	if err != nil {
		return "", err
	}
	return m.admit(ctx, id, req, adoption, ckpt)
}

func newTaskID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// prepare does what a create needs beyond the store, without the lock: the
// target answers, the copies there the task takes over (adoption), and
// where it starts (its first checkpoint).
func (m *Manager) prepare(ctx context.Context, id string, req CreateRequest) (Adoption, []byte, error) {
	if err := m.dial(ctx, req.Target); err != nil {
		return Adoption{}, nil, m.unreachable(req.Target, err)
	}
	adoption, err := m.planCreateAdoption(ctx, req)
	if err != nil {
		return Adoption{}, nil, err
	}
	ckpt, err := m.firstCheckpoint(ctx, id, req.Snapshot)
	if err != nil {
		return Adoption{}, nil, err
	}
	return adoption, ckpt, nil
}

// firstCheckpoint pins where task id starts, with a pending snapshot unless
// snapshot is never.
func (m *Manager) firstCheckpoint(ctx context.Context, id, snapshot string) ([]byte, error) {
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ckpt, err := m.pin(pctx)
	cancel()
	if err != nil {
		return nil, Errorf(http.StatusServiceUnavailable, "cannot pin where task %s starts (the source's WAL in Pulsar): %v; nothing was created", id, err)
	}
	if snapshot == SnapshotNever {
		return ckpt, nil
	}
	// The worker copies what the source holds, then streams from the
	// positions just pinned.
	return withSnapshot(ckpt)
}

// admit stores the new task, its credentials and first checkpoint under the
// lock, checking again first: another create may have come in meanwhile.
func (m *Manager) admit(ctx context.Context, id string, req CreateRequest, adoption Adoption, ckpt []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if repeat, err := m.checkCreate(ctx, id, req); err != nil || repeat {
		return id, err
	}
	if err := m.store.PutSecret(ctx, contract.SecretKey(id), req.Target.Token, req.Target.Username, req.Target.Password); err != nil {
		return "", err
	}
	if err := m.store.PutCheckpoint(ctx, id, ckpt); err != nil {
		return "", err
	}
	if err := m.store.Put(ctx, newTask(id, req, adoption)); err != nil {
		return "", err
	}
	m.runner.Kick()
	return id, nil
}

// newTask is the task a create stores: Running, or Paused when it asked
// for disable_auto_start.
func newTask(id string, req CreateRequest, adoption Adoption) Task {
	t := Task{
		ID: id, Target: req.Target.Public(), CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections,
		State: StateRunning, CreatedAt: time.Now().UTC(), SnapshotMode: req.Snapshot,
		Adopted: adoption.Replications,
	}
	if req.DisableAutoStart {
		t.State, t.Reason = StatePaused, "created with disable_auto_start"
	}
	return t
}
