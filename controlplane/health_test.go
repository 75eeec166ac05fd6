package controlplane

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestHealthJudge: lag is measured from now to the newest applied source
// change; a Running task lagging over stall_after whose applied time has not
// moved for as long says "not moving" in its reason. Not when it moves
// (catching up), is paused, copies its snapshot, lags less, or stall
// detection is off.
func TestHealthJudge(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	h := healthCheck{stallAfter: 5 * time.Minute, now: func() time.Time { return now }}
	status := func(applied, moved time.Duration) *contract.InputStatus {
		return &contract.InputStatus{AppliedUntil: contract.HybridTs(now.Add(-applied)), MovedAt: now.Add(-moved)}
	}
	for _, c := range []struct {
		name     string
		state    string
		snapshot string
		in       *contract.InputStatus
		stall    time.Duration
		stuck    bool
	}{
		{"stuck", StateRunning, "", status(10*time.Minute, 6*time.Minute), 5 * time.Minute, true},
		{"stuck after its snapshot", StateRunning, contract.SnapshotDone, status(10*time.Minute, 6*time.Minute), 5 * time.Minute, true},
		{"catching up", StateRunning, "", status(10*time.Minute, time.Second), 5 * time.Minute, false},
		{"small lag", StateRunning, "", status(time.Minute, 6*time.Minute), 5 * time.Minute, false},
		{"paused", StatePaused, "", status(10*time.Minute, 6*time.Minute), 5 * time.Minute, false},
		{"copying its snapshot", StateRunning, contract.SnapshotCopying, status(10*time.Minute, 6*time.Minute), 5 * time.Minute, false},
		{"snapshot pending", StateRunning, contract.SnapshotPending, status(10*time.Minute, 6*time.Minute), 5 * time.Minute, false},
		{"detection off", StateRunning, "", status(10*time.Minute, 6*time.Minute), 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.stallAfter = c.stall
			task := Task{State: c.state, Reason: "before"}
			if c.snapshot != "" {
				task.Snapshot = &SnapshotView{State: c.snapshot}
			}
			h.judge(&task, c.in, nil)
			if task.LagSeconds == nil || *task.LagSeconds != now.Sub(contract.PhysicalTime(c.in.AppliedUntil)).Seconds() {
				t.Fatalf("lag %v, want the time since the applied change", task.LagSeconds)
			}
			if stuck := strings.HasPrefix(task.Reason, "not moving: nothing applied for 360 s"); stuck != c.stuck {
				t.Fatalf("reason %q, stuck %v, want %v", task.Reason, stuck, c.stuck)
			}
			if !c.stuck && task.Reason != "before" {
				t.Fatalf("the reason changed to %q", task.Reason)
			}
		})
	}
}

// TestHealthNothingReported: a stream that reported nothing, or no applied
// change yet, shows no lag; what its output reported is shown as is.
func TestHealthNothingReported(t *testing.T) {
	h := healthCheck{stallAfter: time.Minute, now: time.Now}
	task := Task{State: StateRunning}
	h.judge(&task, &contract.InputStatus{MovedAt: time.Now().Add(-time.Hour)}, nil)
	h.judge(&task, nil, nil)
	if task.LagSeconds != nil || task.AppliedUntil != "" || task.Reason != "" {
		t.Fatalf("health without reports: %+v", task)
	}
	h.judge(&task, nil, &contract.OutputStatus{RowsApplied: map[string]int64{"insert": 7}, LastError: "target busy"})
	if task.RowsApplied["insert"] != 7 || task.LastError != "target busy" {
		t.Fatalf("output status not shown: %+v", task)
	}
}

// TestHealthShownByGetAndList: get and list show what the stream reported;
// a task whose applied time stops moving turns "not moving" once it has
// been still for stall_after, and the view is never stored.
func TestHealthShownByGetAndList(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	now := time.Now().Truncate(time.Millisecond) // what a hybrid timestamp holds
	p.m.SetStallAfter(time.Minute)
	p.m.health.now = func() time.Time { return now }
	applied := contract.HybridTs(now.Add(-2 * time.Minute))
	p.store.with("t1", func(k *fakeKeys) {
		k.in = &contract.InputStatus{AppliedUntil: applied, MovedAt: now.Add(-10 * time.Second)}
		k.out = &contract.OutputStatus{RowsApplied: map[string]int64{"insert": 3}}
		k.ckpt = nil // no snapshot progress: not copying
	})
	task, err := p.m.Get(ctx, "t1")
	if err != nil || task.LagSeconds == nil || *task.LagSeconds != 120 || task.RowsApplied["insert"] != 3 || task.Reason != "" {
		t.Fatalf("get of a task catching up: %+v %v", task, err)
	}
	now = now.Add(2 * time.Minute) // the applied time has not moved since
	tasks, err := p.m.List(ctx)
	if err != nil || len(tasks) != 1 || !strings.Contains(tasks[0].Reason, "not moving: nothing applied for 130 s") ||
		*tasks[0].LagSeconds != 240 {
		t.Fatalf("list of a stuck task: %+v %v", tasks, err)
	}
	if stored := p.task(t, "t1"); stored.Reason != "" || stored.LagSeconds != nil || stored.RowsApplied != nil {
		t.Fatalf("the health view was stored: %+v", stored)
	}
}
