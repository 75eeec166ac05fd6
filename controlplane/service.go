package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"path"
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
	// dial checks that a target answers; replaceable in tests.
	dial func(ctx context.Context, p ConnectParam) error
	mu   sync.Mutex // serializes changes of task state
}

func NewManager(store *Store, rec *Reconciler) *Manager {
	return &Manager{store: store, rec: rec, dial: dialTarget}
}

// dialTarget connects to a target Milvus within its connect_timeout.
func dialTarget(ctx context.Context, p ConnectParam) error {
	timeout := time.Duration(p.ConnectTimeout) * time.Second
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	addr, tls := p.Address()
	cfg := client.Config{Address: addr, EnableTLSAuth: tls, Username: p.Username, Password: p.Password}
	if p.Token != "" {
		if c := contract.ParseToken(p.Token); c.APIKey != "" {
			cfg.APIKey = c.APIKey
		} else {
			cfg.Username, cfg.Password = c.Username, c.Password
		}
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := client.NewClient(dctx, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

func newTaskID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *Manager) Create(ctx context.Context, req CreateRequest) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := req.TaskID
	if id == "" {
		id = newTaskID()
	} else if old, err := m.store.Get(ctx, id); err == nil {
		if sameSpec(old, req) {
			return id, nil // an idempotent repeat of the same create
		}
		return "", Errorf(http.StatusConflict, "task %s already exists with another configuration", id)
	} else if !errors.Is(err, errNoTask) {
		return "", err
	}
	tasks, err := m.store.List(ctx)
	if err != nil {
		return "", err
	}
	addr, _ := req.Target.Address()
	candidate := Task{CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections}
	for _, t := range tasks {
		if a, _ := t.Target.Address(); a == addr && overlaps(collectionPatterns(t), collectionPatterns(candidate)) {
			return "", Errorf(http.StatusConflict, "task %s already copies some of these collections to %s", t.ID, addr)
		}
	}
	if err := m.dial(ctx, req.Target); err != nil {
		return "", Errorf(http.StatusBadRequest, "the target Milvus at %s does not answer within %ds: %v", addr, req.Target.ConnectTimeout, err)
	}
	if err := m.store.PutSecret(ctx, contract.SecretKey(id), req.Target.Token, req.Target.Username, req.Target.Password); err != nil {
		return "", err
	}
	t := Task{
		ID: id, Target: req.Target.Public(), CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections,
		State: StateRunning, CreatedAt: time.Now().UTC(),
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

func sameSpec(t Task, req CreateRequest) bool {
	a := collectionPatterns(t)
	b := collectionPatterns(Task{CollectionInfos: req.CollectionInfos, DBCollections: req.DBCollections})
	ta, _ := t.Target.Address()
	ra, _ := req.Target.Address()
	return ta == ra && strings.Join(a, ",") == strings.Join(b, ",")
}

// overlaps reports whether two sets of db.collection patterns can name a
// common collection.
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			xd, xc, _ := strings.Cut(x, ".")
			yd, yc, _ := strings.Cut(y, ".")
			if globsMeet(xd, yd) && globsMeet(xc, yc) {
				return true
			}
		}
	}
	return false
}

// globsMeet is true when one pattern matches the other or either is "*".
func globsMeet(a, b string) bool {
	if a == "*" || b == "*" || a == b {
		return true
	}
	ma, _ := path.Match(a, b)
	mb, _ := path.Match(b, a)
	return ma || mb
}

func (m *Manager) List(ctx context.Context) ([]Task, error) { return m.store.List(ctx) }

func (m *Manager) Get(ctx context.Context, id string) (Task, error) {
	t, err := m.store.Get(ctx, id)
	if errors.Is(err, errNoTask) {
		return Task{}, Errorf(http.StatusNotFound, "task %s not found", id)
	}
	return t, err
}

func (m *Manager) setState(ctx context.Context, id, from, to, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.store.Update(ctx, id, func(t *Task) error {
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
	if err := m.rec.RemoveEverywhere(ctx, id); err != nil {
		m.rec.log.Warn("paused task's stream not stopped yet; the reconciler retries", "task_id", id, "error", err)
	}
	return nil
}

func (m *Manager) Resume(ctx context.Context, id string) error {
	if err := m.store.ClearFailure(ctx, id); err != nil {
		return err
	}
	return m.setState(ctx, id, StatePaused, StateRunning, "")
}

func (m *Manager) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.Get(ctx, id); err != nil {
		return err
	}
	if err := m.rec.RemoveEverywhere(ctx, id); err != nil {
		return Errorf(http.StatusServiceUnavailable, "cannot stop the stream of task %s: %v", id, err)
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
