package controlplane

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// maxTasksPerTarget bounds the tasks of one target (targetIdentity): a
// create reads every task of its target to check that none copies the same
// collections.
const maxTasksPerTarget = 50

// checkCreate refuses a create that conflicts with the stored tasks; repeat
// is true when task id exists with the same request (an idempotent repeat).
// It reads the task of that id, the task count, and only the tasks of the
// request's target (taskindex.go).
func (m *Manager) checkCreate(ctx context.Context, id string, req CreateRequest) (repeat bool, err error) {
	if old, err := m.store.Get(ctx, id); err == nil {
		return m.checkRepeat(ctx, old, req)
	} else if !errors.Is(err, errNoTask) {
		return false, err
	}
	n, err := m.store.TaskCount(ctx)
	if err != nil {
		return false, err
	}
	if n >= m.maxTasks {
		return false, Errorf(http.StatusBadRequest, "this control plane runs at most %d tasks (max_tasks) and has %d: delete one first", m.maxTasks, n)
	}
	target := targetIdentity(req.Target)
	tasks, err := m.store.TargetTasks(ctx, target)
	if err != nil {
		return false, err
	}
	addr, _ := req.Target.Address()
	// One side indexed: linear in the names of all the tasks compared.
	candidate := newPatternSet(collectionPatterns(Task{CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections}))
	for _, t := range tasks {
		for _, p := range collectionPatterns(t) {
			if candidate.meets(p) {
				return false, Errorf(http.StatusConflict, "task %s already copies some of these collections to %s", t.ID, quoteShort(addr))
			}
		}
	}
	if len(tasks) >= maxTasksPerTarget {
		return false, Errorf(http.StatusBadRequest, "a target Milvus takes at most %d tasks and %s has %d: delete one, or select more collections in one task",
			maxTasksPerTarget, quoteShort(addr), len(tasks))
	}
	return false, nil
}

// checkRepeat answers a create of the existing task old: a repeat of the
// same request (credentials included) is idempotent; any other is a 409.
// Credentials are compared in constant time and never echoed.
func (m *Manager) checkRepeat(ctx context.Context, old Task, req CreateRequest) (repeat bool, err error) {
	conflict := Errorf(http.StatusConflict, "task %s already exists with other settings (target, credentials, collections, snapshot "+
		"or connect_timeout): delete it first to change them, or repeat the create with the same request", old.ID)
	if !sameSpec(old, req) {
		return false, conflict
	}
	t := req.Target
	same, err := m.store.SameCredentials(ctx, contract.SecretKey(old.ID), t.Token, t.Username, t.Password)
	if err != nil {
		m.log.Warn("create: cannot compare a repeated create's credentials with the task's", "task_id", old.ID, "error", err)
		return false, Errorf(http.StatusServiceUnavailable, "task %s already exists and its stored credentials cannot be compared "+
			"with these (see the server log)", old.ID)
	}
	if !same {
		return false, conflict
	}
	return true, nil
}

// sameSpec reports whether req asks for what task t is, credentials aside:
// the same target (targetIdentity), TLS, connect_timeout and user, the same
// collections and snapshot. disable_auto_start is not compared: it only
// chose the state the task started in.
func sameSpec(t Task, req CreateRequest) bool {
	a := collectionPatterns(t)
	b := collectionPatterns(Task{CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections})
	old, p := t.Target, req.Target
	return targetIdentity(old) == targetIdentity(p) && old.EnableTLS == p.EnableTLS && old.ConnectTimeout == p.ConnectTimeout &&
		old.Username == p.Username && slices.Equal(a, b) && (t.SnapshotMode == "" || t.SnapshotMode == req.Snapshot)
}

// unreachable is create's answer for a target it cannot connect to: a fixed
// message naming the uri as given and the timeout. The dial's own error
// (resolved addresses, TLS and gRPC details) is only logged: the answer
// must not make the control plane a probe of what it can reach.
func (m *Manager) unreachable(p ConnectParam, err error) *APIError {
	addr, _ := p.Address()
	timeout := dialTimeout(p)
	m.log.Warn("create: cannot connect to the target Milvus", "target", addr, "timeout", timeout, "error", err)
	return Errorf(http.StatusBadRequest, "cannot connect to the target Milvus at %s within %s: check the address, port, TLS and token",
		quoteShort(addr), timeout)
}

// quietCatalog wraps a target catalog dial so that its error is
// unreachable's fixed message (the adoption check dials the target again).
func (m *Manager) quietCatalog(dial func(context.Context, ConnectParam) (TargetCatalog, func() error, error)) func(context.Context, ConnectParam) (TargetCatalog, func() error, error) {
	return func(ctx context.Context, p ConnectParam) (TargetCatalog, func() error, error) {
		cat, closeFn, err := dial(ctx, p)
		if err != nil {
			return nil, nil, errors.New(m.unreachable(p, err).Message)
		}
		return cat, closeFn, nil
	}
}
