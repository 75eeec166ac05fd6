package controlplane

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Manager implements Service: tasks live in the Store, the reconciler runs
// them on workers. Its jobs, by file: creation and admission (create.go,
// create_check.go, adopt_create.go), state changes with their lease waits
// (state.go), health and stall detection (health.go), views (views.go).
type Manager struct {
	store    Store
	runner   taskRunner
	storeID  string // the task store's identity, as the runner labels streams
	log      *slog.Logger
	src      SourceConfig
	maxTasks int
	createDials
	health healthCheck
	// leaseWait bounds how long a pause or delete waits for the task's
	// lease once its run ended (stopWriters).
	leaseWait time.Duration
	mu        sync.Mutex // serializes changes of task state; never held across a dial
}

// taskRunner is what the manager asks of the reconciler.
type taskRunner interface {
	// Kick asks for a reconcile pass soon.
	Kick()
	// RemoveEverywhere deletes a task's streams from every reachable worker
	// and says on how many workers it could not.
	RemoveEverywhere(ctx context.Context, id string) (unreachable int, err error)
	// StoreID is the task store's identity the runner labels streams with.
	StoreID() string
	Logger() *slog.Logger
}

// createDials are what a create reaches beyond the task store; tests
// replace them with fakes.
type createDials struct {
	// dial checks that a target answers.
	dial func(ctx context.Context, p ConnectParam) error
	// pin returns a new task's first checkpoint (pinStart).
	pin func(ctx context.Context) ([]byte, error)
	// dialCatalog reads (and drops stale copies on) a new task's target;
	// sourceIDs lists the source's collection IDs (planCreateAdoption).
	dialCatalog func(ctx context.Context, p ConnectParam) (TargetCatalog, func() error, error)
	sourceIDs   func(ctx context.Context) (*SourceCollections, error)
}

// DefaultStallAfter is how much lag makes a Running task say it is not
// moving (stall_after).
const DefaultStallAfter = 5 * time.Minute

// DefaultMaxTasks is how many tasks a control plane runs unless max_tasks
// says otherwise (as the established CDC server does).
const DefaultMaxTasks = 100

// NewManager manages the tasks in store, run by rec, reading src; maxTasks
// <= 0 means DefaultMaxTasks. Stall detection is off until SetStallAfter.
func NewManager(store Store, rec taskRunner, src SourceConfig, maxTasks int) *Manager {
	if maxTasks <= 0 {
		maxTasks = DefaultMaxTasks
	}
	m := &Manager{store: store, runner: rec, storeID: rec.StoreID(), log: rec.Logger(), src: src, maxTasks: maxTasks,
		health: healthCheck{now: time.Now}, leaseWait: 2 * leaseTTL}
	m.dial = dialTarget
	m.pin = func(ctx context.Context) ([]byte, error) { return pinStart(ctx, src, m.log) }
	m.sourceIDs = m.readSourceIDs
	m.dialCatalog = m.quietCatalog(dialTargetCatalog)
	return m
}

// SetStallAfter makes a Running task lagging more than d, and not moving
// for as long, say so in its reason (0: off).
func (m *Manager) SetStallAfter(d time.Duration) { m.health.stallAfter = d }

// intact refuses every request while the task store has lost its data (its
// identity is gone or changed: flushed, restored from elsewhere): what it
// would answer says nothing about the streams still running on the workers,
// and a create or delete there could start a second writer or orphan one.
func (m *Manager) intact(ctx context.Context) error {
	id, err := m.store.StoreID(ctx)
	if err != nil {
		return err
	}
	if id != m.storeID {
		return Errorf(http.StatusServiceUnavailable, "the task store lost its data (its identity %q is gone or changed: Redis flushed, "+
			"restored from another store or evicted): no task is started, moved or removed, and the streams already running on the "+
			"workers go on. Restore the store from a backup, or restart the control plane to adopt the empty store (the running "+
			"streams are then left to the operator: remove them through the workers' streams API)", m.storeID)
	}
	return nil
}

var _ Service = (*Manager)(nil)
