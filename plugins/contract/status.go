package contract

import "time"

// InputStatus is what milvus_binlog reports about its progress (under
// InputStatusKey in its status cache).
type InputStatus struct {
	// AppliedUntil is a source hybrid timestamp: every change up to it that
	// the input read is acknowledged by the output (0: none yet). It moves
	// with the source's time ticks while nothing is pending, so the time
	// since it is the replication lag, and it grows when the task hangs.
	AppliedUntil uint64 `json:"applied_until_ts"`
	// MovedAt is when AppliedUntil last moved: a task whose lag is large
	// but moves is catching up, one whose MovedAt is old is stuck.
	MovedAt   time.Time `json:"moved_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OutputStatus is what milvus_apply reports (under OutputStatusKey).
type OutputStatus struct {
	// RowsApplied counts, by milvus_op, the rows (inserts, deletes) and
	// the operations (everything else) this output applied since it started.
	RowsApplied  map[string]int64 `json:"rows_applied"`
	BytesApplied int64            `json:"bytes_applied"`
	Retries      int64            `json:"retries"`
	Errors       int64            `json:"errors"`
	LastError    string           `json:"last_error,omitempty"`
	LastErrorAt  time.Time        `json:"last_error_at,omitzero"`
	UpdatedAt    time.Time        `json:"updated_at"`
}
