// Package controlplane is the `milvus-cdc server`: the /cdc HTTP API users
// call (create, list, get, pause, resume, delete, position), tasks kept in
// Redis, and a reconciler that runs each task as one Benthos stream on a
// worker (`milvus-cdc streams`) through the streams REST API.
package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Task states.
const (
	StateRunning = "Running"
	StatePaused  = "Paused"
	StateFailed  = "Failed"
)

// ConnectParam is the target Milvus of a task, as clients send it: the
// current `uri`/`token` form and the deprecated host/port/username/password/
// enable_tls form are both accepted.
type ConnectParam struct {
	URI            string `json:"uri,omitempty"`
	Token          string `json:"token,omitempty"`
	Host           string `json:"host,omitempty"`
	Port           int    `json:"port,omitempty"`
	Username       string `json:"username,omitempty"`
	Password       string `json:"password,omitempty"`
	EnableTLS      bool   `json:"enable_tls,omitempty"`
	ConnectTimeout int    `json:"connect_timeout,omitempty"` // seconds
}

// Public is the param as responses show it: never a token or password.
func (c ConnectParam) Public() ConnectParam {
	c.Token, c.Password = "", ""
	return c
}

// Address is the target as host:port plus whether TLS is on.
func (c ConnectParam) Address() (addr string, tls bool) {
	if c.URI != "" {
		return c.URI, c.EnableTLS
	}
	return fmt.Sprintf("%s:%d", c.Host, c.Port), c.EnableTLS
}

// CollectionInfo names a collection ("*" = all).
type CollectionInfo struct {
	Name string `json:"name"`
}

// Task is one CDC task: what to copy where, and its state.
type Task struct {
	ID              string                      `json:"task_id"`
	Target          ConnectParam                `json:"milvus_connect_param"`
	CollectionInfos []CollectionInfo            `json:"collection_infos,omitempty"`
	DBCollections   map[string][]CollectionInfo `json:"db_collections,omitempty"`
	State           string                      `json:"state"`
	Reason          string                      `json:"reason,omitempty"`
	Worker          string                      `json:"worker,omitempty"`
	CreatedAt       time.Time                   `json:"created_at"`
	// SnapshotMode is the create's "snapshot" (empty for tasks stored before
	// it existed: they made none).
	SnapshotMode string `json:"snapshot_mode,omitempty"`
	// Adopted: the earlier tasks (replications) whose copies on the target
	// this task took over at create (their snapshot re-copies them).
	Adopted []string `json:"adopted_replications,omitempty"`
	// Snapshot is the copy's progress, read from the checkpoint for get and
	// list; never stored with the task.
	Snapshot *SnapshotView `json:"snapshot,omitempty"`
	// Health, read from what the stream reports, never stored.
	LagSeconds   *float64         `json:"lag_seconds,omitempty"`
	AppliedUntil string           `json:"applied_until,omitempty"`
	RowsApplied  map[string]int64 `json:"rows_applied,omitempty"`
	LastError    string           `json:"last_error,omitempty"`
}

// Snapshot modes of a create.
const (
	SnapshotInitial = "initial" // copy what the source holds, then stream (the default)
	SnapshotNever   = "never"   // stream the changes made from the create on
)

// SnapshotView is a task's snapshot progress as get and list show it.
type SnapshotView struct {
	State            string `json:"state"`
	CollectionsTotal int    `json:"collections_total"`
	CollectionsDone  int    `json:"collections_done"`
	RowsCopied       int64  `json:"rows_copied"`
	// Waiting: collections whose existing rows cannot be read yet (no index
	// on Milvus 2.3), with why; each is copied once it can be, the rest of
	// the task runs meanwhile.
	Waiting []contract.SnapshotWait `json:"waiting,omitempty"`
}

// CreateRequest is the request_data of a create.
type CreateRequest struct {
	TaskID           string                      `json:"task_id,omitempty"`
	Target           ConnectParam                `json:"milvus_connect_param"`
	CollectionInfos  []CollectionInfo            `json:"collection_infos,omitempty"`
	DBCollections    map[string][]CollectionInfo `json:"db_collections,omitempty"`
	DisableAutoStart bool                        `json:"disable_auto_start,omitempty"`
	// Snapshot: "initial" (empty: the default) or "never".
	Snapshot string `json:"snapshot,omitempty"`
}

// Service is what the HTTP layer asks of the task manager.
type Service interface {
	Create(ctx context.Context, req CreateRequest) (taskID string, err error)
	List(ctx context.Context) ([]Task, error)
	Get(ctx context.Context, id string) (Task, error)
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	Delete(ctx context.Context, id string) error
	// Position returns the task's read position per channel (base64 Pulsar
	// message IDs, as the checkpoint stores them).
	Position(ctx context.Context, id string) (map[string]string, error)
}

// APIError is an error with the HTTP status the API answers it with; the
// body is {"code": Code, "message": Message}.
type APIError struct {
	Code    int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// Errorf builds an APIError.
func Errorf(code int, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// stored is t as the store keeps it: public target, no view fields.
func (t Task) stored() Task {
	t.Target, t.Snapshot = t.Target.Public(), nil
	t.LagSeconds, t.AppliedUntil, t.RowsApplied, t.LastError = nil, "", nil, ""
	return t
}
