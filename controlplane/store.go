package controlplane

import (
	"context"
	"errors"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Store is the task store as the manager, the reconciler and adoption use
// it: the tasks, their runs and leases, what their streams report, and what
// a create stores beside a task. RedisStore keeps it in Redis; the unit
// tests use an in-memory fake.
type Store interface {
	TaskStore
	RunStore
	ReportStore
	CreateStore
}

// errNoTask is returned for an unknown task id.
var errNoTask = errors.New("no such task")

// errStateChanged: a task's state changed under a reconcile pass.
var errStateChanged = errors.New("task state changed meanwhile")

// TaskStore keeps the tasks.
type TaskStore interface {
	// Put saves a new task, forgetting what an earlier task of its id
	// reported (failure, status).
	Put(ctx context.Context, t Task) error
	// Get loads a task; errNoTask when there is none.
	Get(ctx context.Context, id string) (Task, error)
	List(ctx context.Context) ([]Task, error)
	// Update changes a task atomically with fn (fn's error changes nothing
	// and is returned; errNoTask for a deleted task, never recreated).
	Update(ctx context.Context, id string, fn func(*Task) error) error
	// SetState is Update that also ends the task's run when fn leaves it
	// not Running, and forgets a reported failure when fn resumes it.
	SetState(ctx context.Context, id string, fn func(*Task) error) error
	// Delete removes a task with its secret, checkpoint, run and reports.
	Delete(ctx context.Context, id string) error
	TaskCount(ctx context.Context) (int, error)
	// TargetTasks loads the tasks whose target has the identity
	// (targetIdentity).
	TargetTasks(ctx context.Context, identity string) ([]Task, error)
}

// RunStore fences the writers: the store's identity, the reconciling
// leader, each task's current run and its writer's lease.
type RunStore interface {
	// StoreID is the store's identity; "" when it has none (its data is lost).
	StoreID(ctx context.Context) (string, error)
	// Lead reports whether control plane self reconciles now, taking or
	// renewing the leader key for ttl.
	Lead(ctx context.Context, self string, ttl time.Duration) (bool, error)
	// StartRun begins a new run of a Running task (errStateChanged when it
	// is not Running, atomically).
	StartRun(ctx context.Context, id string) (string, error)
	// Run is the task's current run ("" when none).
	Run(ctx context.Context, id string) (string, error)
	// LeaseHeld reports whether a writer holds the task's lease.
	LeaseHeld(ctx context.Context, id string) (bool, error)
}

// ReportStore is what a task's stream reported.
type ReportStore interface {
	// Failure is the reason of a permanent failure ("" when none).
	Failure(ctx context.Context, id string) (string, error)
	// Status is the stream's input and output status (nil: none yet).
	Status(ctx context.Context, id string) (*contract.InputStatus, *contract.OutputStatus, error)
	// Checkpoint is the stream's read positions (nil when none).
	Checkpoint(ctx context.Context, id string) (map[string]string, error)
	// SnapshotProgress is the snapshot state in the checkpoint (nil: none).
	SnapshotProgress(ctx context.Context, id string) (*contract.SnapshotState, error)
}

// CreateStore is what a create stores beside the task.
type CreateStore interface {
	// PutSecret stores credentials under key (sealed); empty ones remove it.
	PutSecret(ctx context.Context, key string, token, user, pass string) error
	// SameCredentials reports, in constant time, whether the credentials
	// under key are these.
	SameCredentials(ctx context.Context, key, token, user, pass string) (bool, error)
	// PutCheckpoint stores a task's first checkpoint.
	PutCheckpoint(ctx context.Context, id string, ckpt []byte) error
}

var _ Store = (*RedisStore)(nil)
