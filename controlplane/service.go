package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Manager implements Service: tasks live in the Store, the Reconciler runs
// them on workers.
type Manager struct {
	store *Store
	rec   *Reconciler
	// dial checks that a target answers; pin returns a new task's first
	// checkpoint (pinStart). Both replaceable in tests.
	dial func(ctx context.Context, p ConnectParam) error
	pin  func(ctx context.Context) ([]byte, error)
	// dialCatalog reads (and drops stale copies on) a new task's target;
	// sourceIDs lists the source's collection IDs (planCreateAdoption).
	dialCatalog func(ctx context.Context, p ConnectParam) (TargetCatalog, func() error, error)
	sourceIDs   func(ctx context.Context) (*SourceCollections, error)
	src         SourceConfig
	maxTasks    int
	// stallAfter: a Running task lagging more shows it in its reason.
	stallAfter time.Duration
	mu         sync.Mutex // serializes changes of task state; never held across a dial
}

// DefaultStallAfter is how much lag makes a Running task say it is not
// moving (stall_after).
const DefaultStallAfter = 5 * time.Minute

// DefaultMaxTasks is how many tasks a control plane runs unless max_tasks
// says otherwise (as the established CDC server does).
const DefaultMaxTasks = 100

// maxDial bounds the dial of create's target check, whatever connect_timeout
// the request asks for.
const maxDial = 60 * time.Second

// NewManager manages the tasks in store, run by rec, reading src; maxTasks
// <= 0 means DefaultMaxTasks.
func NewManager(store *Store, rec *Reconciler, src SourceConfig, maxTasks int) *Manager {
	if maxTasks <= 0 {
		maxTasks = DefaultMaxTasks
	}
	m := &Manager{store: store, rec: rec, dial: dialTarget, maxTasks: maxTasks, src: src,
		pin: func(ctx context.Context) ([]byte, error) { return pinStart(ctx, src, rec.log) }}
	m.sourceIDs = m.readSourceIDs
	m.dialCatalog = m.quietCatalog(dialTargetCatalog)
	return m
}

// dialTarget connects to a target Milvus within its connect_timeout.
func dialTarget(ctx context.Context, p ConnectParam) error {
	cfg, timeout := milvusConfig(p)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := client.NewClient(dctx, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// intact refuses every request while the task store has lost its data (its
// identity is gone or changed: flushed, restored from elsewhere): what it
// would answer says nothing about the streams still running on the workers,
// and a create or delete there could start a second writer or orphan one.
func (m *Manager) intact(ctx context.Context) error {
	id, err := m.store.StoreID(ctx)
	if err != nil {
		return err
	}
	if id != m.rec.storeID {
		return Errorf(http.StatusServiceUnavailable, "the task store lost its data (its identity %q is gone or changed: Redis flushed, "+
			"restored from another store or evicted): no task is started, moved or removed, and the streams already running on the "+
			"workers go on. Restore the store from a backup, or restart the control plane to adopt the empty store (the running "+
			"streams are then left to the operator: remove them through the workers' streams API)", m.rec.storeID)
	}
	return nil
}

func newTaskID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

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
	if err := m.dial(ctx, req.Target); err != nil {
		return "", m.unreachable(req.Target, err)
	}
	adoption, err := m.planCreateAdoption(ctx, req)
	if err != nil {
		return "", err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ckpt, err := m.pin(pctx)
	cancel()
	if err != nil {
		return "", Errorf(http.StatusServiceUnavailable, "cannot pin where task %s starts (the source's WAL in Pulsar): %v; nothing was created", id, err)
	}
	if req.Snapshot != SnapshotNever {
		// The worker copies what the source holds, then streams from the
		// positions just pinned.
		if ckpt, err = withSnapshot(ckpt); err != nil {
			return "", err
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	// Again under the lock: another create may have come in meanwhile.
	if repeat, err := m.checkCreate(ctx, id, req); err != nil || repeat {
		return id, err
	}
	if err := m.store.PutSecret(ctx, contract.SecretKey(id), req.Target.Token, req.Target.Username, req.Target.Password); err != nil {
		return "", err
	}
	if err := m.store.PutCheckpoint(ctx, id, ckpt); err != nil {
		return "", err
	}
	t := Task{
		ID: id, Target: req.Target.Public(), CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections,
		State: StateRunning, CreatedAt: time.Now().UTC(), SnapshotMode: req.Snapshot,
		Adopted: adoption.Replications,
	}
	if req.DisableAutoStart {
		t.State, t.Reason = StatePaused, "created with disable_auto_start"
	}
	if err := m.store.Put(ctx, t); err != nil {
		return "", err
	}
	m.rec.Kick()
	return id, nil
}

// withSnapshot adds a pending snapshot to a first checkpoint.
func withSnapshot(ckpt []byte) ([]byte, error) {
	st, err := contract.DecodeCheckpoint(ckpt)
	if err != nil {
		return nil, err
	}
	st.Snapshot = &contract.SnapshotState{State: contract.SnapshotPending}
	return contract.EncodeCheckpoint(st)
}

// withProgress fills in the snapshot progress of t from its checkpoint.
func (m *Manager) withProgress(ctx context.Context, t *Task) error {
	switch t.SnapshotMode {
	case "":
		return nil
	case SnapshotNever:
		t.Snapshot = &SnapshotView{State: contract.SnapshotNever}
		return nil
	}
	st, err := m.store.SnapshotProgress(ctx, t.ID)
	if err != nil || st == nil {
		return err
	}
	total, done, rows := st.Progress()
	t.Snapshot = &SnapshotView{State: st.State, CollectionsTotal: total, CollectionsDone: done, RowsCopied: rows, Waiting: st.Waiting()}
	return nil
}

// withHealth fills in what the task's stream reported: lag (measured from
// now, so a task that hangs shows a growing lag), rows applied, last error;
// a Running task lagging over stall_after says so in its reason.
func (m *Manager) withHealth(ctx context.Context, t *Task) error {
	in, out, err := m.store.Status(ctx, t.ID)
	if err != nil {
		return err
	}
	if in != nil && in.AppliedUntil != 0 {
		at := contract.PhysicalTime(in.AppliedUntil)
		lag := max(time.Since(at).Seconds(), 0)
		t.LagSeconds, t.AppliedUntil = &lag, at.Format(time.RFC3339Nano)
		// Stuck, not catching up: the lag is over the limit and it has not
		// moved for as long (a frozen worker stops reporting altogether).
		still := time.Since(in.MovedAt)
		if m.stallAfter > 0 && t.State == StateRunning && lag > m.stallAfter.Seconds() && still > m.stallAfter &&
			(t.Snapshot == nil || !snapshotCopying(t.Snapshot.State)) {
			t.Reason = fmt.Sprintf("not moving: nothing applied for %.0f s (newest applied source change at %s, lag %.0f s); see the worker's log",
				still.Seconds(), t.AppliedUntil, lag)
		}
	}
	if out != nil {
		t.RowsApplied, t.LastError = out.RowsApplied, out.LastError
	}
	return nil
}

func snapshotCopying(state string) bool {
	return state == contract.SnapshotPending || state == contract.SnapshotCopying
}

func (m *Manager) List(ctx context.Context) ([]Task, error) {
	if err := m.intact(ctx); err != nil {
		return nil, err
	}
	tasks, err := m.store.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range tasks {
		if err := m.withProgress(ctx, &tasks[i]); err != nil {
			return nil, err
		}
		if err := m.withHealth(ctx, &tasks[i]); err != nil {
			return nil, err
		}
	}
	return tasks, nil
}

func (m *Manager) Get(ctx context.Context, id string) (Task, error) {
	if err := m.intact(ctx); err != nil {
		return Task{}, err
	}
	t, err := m.store.Get(ctx, id)
	if errors.Is(err, errNoTask) {
		return Task{}, Errorf(http.StatusNotFound, "task %s not found", id)
	}
	if err != nil {
		return Task{}, err
	}
	if err := m.withProgress(ctx, &t); err != nil {
		return Task{}, err
	}
	return t, m.withHealth(ctx, &t)
}

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
	m.rec.Kick()
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

// stopWriters removes a task's streams and returns once none of them can
// write any more. The task's run was ended with its state change, so no
// stream of it can renew or take the lease, or write the checkpoint, status
// or failure, however it is cut off; a stream that still held the lease
// stops applying before it could expire, and every call it sent ends before
// that too (milvus_apply). So: remove what can be reached (it releases the
// lease at once), then wait until the lease is gone.
func (m *Manager) stopWriters(ctx context.Context, id string) error {
	if _, err := m.rec.RemoveEverywhere(ctx, id); err != nil {
		m.rec.log.Warn("cannot remove a stream of the task now (the reconciler goes on trying); waiting for its lease", "task_id", id, "error", err)
	}
	// The lease expires at most leaseTTL after its last renewal; the margin
	// covers a renewal that was in flight when the run ended.
	deadline := time.Now().Add(2 * leaseTTL)
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
				"a writer may still apply (is the task store's clock jumping?); try again", id, 2*leaseTTL)
		}
		if !warned {
			m.rec.log.Warn("a stream of the task may still run: its run is ended, waiting until its lease is gone", "task_id", id, "at_most", 2*leaseTTL)
			warned = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
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

func (m *Manager) Position(ctx context.Context, id string) (map[string]string, error) {
	if _, err := m.Get(ctx, id); err != nil {
		return nil, err
	}
	pos, err := m.store.Checkpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if pos == nil {
		pos = map[string]string{}
	}
	return pos, nil
}

var _ Service = (*Manager)(nil)
