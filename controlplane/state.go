package controlplane

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// The state changes a request asks for: pause, resume and delete. Each
// ends or starts the task's run in the store's change (Store.SetState), and
// pause and delete answer only once no stream of the task can write.

// setState moves task id from state from ("": any) to state to, with reason;
// resume takes a Failed task as it takes a Paused one.
func (m *Manager) setState(ctx context.Context, id, from, to, reason string) error {
	if err := m.intact(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.store.SetState(ctx, id, func(t *Task) error {
		if t.State == to {
			return Errorf(http.StatusBadRequest, "task %s is already %s", id, strings.ToLower(to))
		}
		if from != "" && t.State != from && !(to == StateRunning && t.State == StateFailed) {
			return Errorf(http.StatusBadRequest, "task %s is %s, not %s", id, strings.ToLower(t.State), strings.ToLower(from))
		}
		t.State, t.Reason = to, reason
		return nil
	})
	if errors.Is(err, errNoTask) {
		return Errorf(http.StatusNotFound, "task %s not found", id)
	}
	if err != nil {
		return err
	}
	m.runner.Kick()
	return nil
}

// Pause stops the task's stream before it returns, so the target does not
// change after a successful pause. A worker that cannot be told now is left
// to the reconciler (the task is Paused in the store either way).
func (m *Manager) Pause(ctx context.Context, id string) error {
	if err := m.setState(ctx, id, StateRunning, StatePaused, "paused by request"); err != nil {
		return err
	}
	return m.stopWriters(ctx, id)
}

// Resume runs a Paused or Failed task again (a failure is forgotten only
// then, in the same change).
func (m *Manager) Resume(ctx context.Context, id string) error {
	return m.setState(ctx, id, StatePaused, StateRunning, "")
}

// Delete stops the task (Paused first, so no reconcile pass restarts it),
// waits until none of its streams can write any more, then forgets it.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := m.intact(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	err := m.store.SetState(ctx, id, func(t *Task) error {
		t.State, t.Reason = StatePaused, "being deleted"
		return nil
	})
	m.mu.Unlock()
	if errors.Is(err, errNoTask) {
		return Errorf(http.StatusNotFound, "task %s not found", id)
	}
	if err != nil {
		return err
	}
	if err := m.stopWriters(ctx, id); err != nil {
		return err
	}
	return m.store.Delete(ctx, id)
}

// stopWriters removes a task's streams and returns once none of them can
// write any more. The task's run was ended with its state change, so no
// stream of it can renew or take the lease, or write the checkpoint, status
// or failure, however it is cut off; a stream that still held the lease
// stops applying before it could expire, and every call it sent ends before
// that too (milvus_apply). So: remove what can be reached (it releases the
// lease at once), then wait until the lease is gone.
func (m *Manager) stopWriters(ctx context.Context, id string) error {
	if _, err := m.runner.RemoveEverywhere(ctx, id); err != nil {
		m.log.Warn("cannot remove a stream of the task now (the reconciler goes on trying); waiting for its lease", "task_id", id, "error", err)
	}
	return m.waitLeaseGone(ctx, id)
}

// waitLeaseGone returns once task id's lease is gone. The lease expires at
// most leaseTTL after its last renewal; leaseWait (2 x leaseTTL) covers a
// renewal that was in flight when the run ended.
func (m *Manager) waitLeaseGone(ctx context.Context, id string) error {
	deadline := time.Now().Add(m.leaseWait)
	warned := false
	for {
		held, err := m.store.LeaseHeld(ctx, id)
		if err != nil {
			return err
		}
		if !held {
			return nil
		}
		if time.Now().After(deadline) {
			return Errorf(http.StatusServiceUnavailable, "the lease of task %s is still held %s after its run ended: "+
				"a writer may still apply (is the task store's clock jumping?); try again", id, m.leaseWait)
		}
		if !warned {
			m.log.Warn("a stream of the task may still run: its run is ended, waiting until its lease is gone", "task_id", id, "at_most", m.leaseWait)
			warned = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
