package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// healthCheck judges a task by what its stream reported.
type healthCheck struct {
	// stallAfter: a Running task lagging more, and not moving for as long,
	// shows it in its reason; 0: off.
	stallAfter time.Duration
	now        func() time.Time // nil: time.Now
}

// withHealth fills in what the task's stream reported: lag (measured from
// now, so a task that hangs shows a growing lag), rows applied, last error;
// a Running task lagging over stall_after says so in its reason.
func (m *Manager) withHealth(ctx context.Context, t *Task) error {
	in, out, err := m.store.Status(ctx, t.ID)
	if err != nil {
		return err
	}
	m.health.judge(t, in, out)
	return nil
}

// judge fills in t's health from its stream's input and output status
// (either nil: not reported).
func (h healthCheck) judge(t *Task, in *contract.InputStatus, out *contract.OutputStatus) {
	now := time.Now
	if h.now != nil {
		now = h.now
	}
	if in != nil && in.AppliedUntil != 0 {
		at := contract.PhysicalTime(in.AppliedUntil)
		lag := max(now().Sub(at).Seconds(), 0)
		t.LagSeconds, t.AppliedUntil = &lag, at.Format(time.RFC3339Nano)
		// Stuck, not catching up: the lag is over the limit and it has not
		// moved for as long (a frozen worker stops reporting altogether).
		still := now().Sub(in.MovedAt)
		if h.stallAfter > 0 && t.State == StateRunning && lag > h.stallAfter.Seconds() && still > h.stallAfter &&
			(t.Snapshot == nil || !snapshotCopying(t.Snapshot.State)) {
			t.Reason = fmt.Sprintf("not moving: nothing applied for %.0f s (newest applied source change at %s, lag %.0f s); see the worker's log",
				still.Seconds(), t.AppliedUntil, lag)
		}
	}
	if out != nil {
		t.RowsApplied, t.LastError = out.RowsApplied, out.LastError
	}
}
